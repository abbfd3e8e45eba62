"""Snapshot files → one row per snapshot: metadata, and the decoded text.

This is the I/O edge. It loops over *files* (never over listings), because reading,
decompressing and decoding are per file by nature; everything after it is vectorised.

Metadata comes, in the order SNAPSHOT_FORMAT.md §4 gives, from a sidecar
`<file>.meta.json`, the file name, explicit options, and last the file's mtime (recorded as
an approximate source). A file that cannot be read as text is still a snapshot: it gets a
row here with `read_error` set, and the caller turns that into a reject.

Byte offsets elsewhere refer to the decoded text re-encoded as UTF-8 with CRLF as LF; for
the usual UTF-8 LF file without BOM, that is the file's own bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import fsspec
import polars as pl

SIDECAR_SUFFIX = ".meta.json"
Source = Path | str  # a local file, or an fsspec URL such as s3://bucket/raw/page.txt
# What a folder walk picks up; a file named explicitly is always read.
SNAPSHOT_SUFFIXES = (".txt", ".html", ".htm", ".json")
FETCHED_AT_SOURCES = ("sidecar", "filename", "option", "mtime")
FORMS = ("text", "html", "json", "unreadable")
# `…_20261126T081900Z.txt`, `…-2026-11-26T08-19-00.txt`: a UTC timestamp in the name.
_FILENAME_TIME = re.compile(
    r"(?<![0-9])(\d{4})-?(\d{2})-?(\d{2})[T_](\d{2})[-:]?(\d{2})[-:]?(\d{2})Z?(?![0-9])"
)
# Decoded text with more control characters than this share is binary, not a page.
MAX_CONTROL_SHARE = 0.01
FRAGMENT_PREVIEW_BYTES = 512
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])

SNAPSHOT_READ_SCHEMA = {
    "snapshot_id": pl.String,
    "source_path": pl.String,
    "byte_count": pl.Int64,
    "mtime_ns": pl.Int64,
    "content_sha256": pl.String,
    "fetched_at": pl.Datetime("us", "UTC"),
    "fetched_at_source": pl.String,
    "url": pl.String,
    "site": pl.String,
    "query": pl.String,
    "page": pl.Int32,
    "form": pl.String,
    "read_error": pl.String,
    "metadata_warning": pl.String,
    "text": pl.String,
    "fragment": pl.String,
    "read_seconds": pl.Float64,
}


class MetadataError(ValueError):
    """Metadata given explicitly (an option) is unusable: the caller's mistake, not data."""


@dataclass(frozen=True)
class ReadOptions:
    """What the caller knows about snapshots that carry no sidecar."""

    fetched_at: datetime | None = None
    site: str | None = None


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 time as aware UTC; a time without zone is taken as UTC."""
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def as_source(text: str | Path) -> Source:
    """A command-line argument as a source: an fsspec URL stays a string, else a Path."""
    return text if isinstance(text, str) and "://" in text else Path(text)


def _remote(source: Source) -> tuple[fsspec.AbstractFileSystem, str] | None:
    if isinstance(source, Path):
        return None
    fs, path = fsspec.core.url_to_fs(source)
    return fs, path


def _is_snapshot_name(name: str) -> bool:
    return (
        not name.startswith(".")
        and not name.endswith(SIDECAR_SUFFIX)
        and name.removesuffix(".gz").endswith(SNAPSHOT_SUFFIXES)
    )


def discover(paths: Iterable[Source]) -> list[Source]:
    """Snapshot files under the given files and folders (local or fsspec URLs), sorted."""
    found: set[Source] = set()
    for source in map(as_source, paths):
        remote = _remote(source)
        if remote is not None:
            fs, root = remote
            if fs.isdir(root):
                found.update(
                    fs.unstrip_protocol(p)
                    for p in fs.find(root)
                    if _is_snapshot_name(p.rsplit("/", 1)[-1])
                )
            elif fs.isfile(root):
                found.add(source)
            else:
                raise FileNotFoundError(f"{source}: no such file or folder")
        elif source.is_dir():
            # os.walk lists files apart from folders (scandir): no stat per file, ~5x faster
            # than rglob + is_file on a folder of 10 000 pages.
            found.update(
                Path(folder, name)
                for folder, _, names in os.walk(source)
                for name in names
                if _is_snapshot_name(name)
            )
        elif source.is_file():
            found.add(source)
        else:
            raise FileNotFoundError(f"{source}: no such file or folder")
    return sorted(found, key=str)


def stat(source: Source) -> tuple[int, int]:
    """(size in bytes, modification time in ns) of a local file or a remote object."""
    remote = _remote(source)
    if remote is None:
        info = Path(source).stat()
        return info.st_size, info.st_mtime_ns
    fs, path = remote
    details = fs.info(path)
    modified = details.get("LastModified") or details.get("mtime") or details.get("created")
    if isinstance(modified, datetime):
        mtime_ns = int(modified.timestamp() * 1e9)
    else:
        mtime_ns = int(float(modified or 0) * 1e9)
    return int(details["size"]), mtime_ns


def read_bytes(source: Source) -> bytes:
    remote = _remote(source)
    if remote is None:
        return Path(source).read_bytes()
    fs, path = remote
    return bytes(fs.cat_file(path))


def _exists(source: Source) -> bool:
    remote = _remote(source)
    return Path(source).exists() if remote is None else bool(remote[0].exists(remote[1]))


def _name(source: Source) -> str:
    return source.name if isinstance(source, Path) else source.rsplit("/", 1)[-1]


def decode(raw: bytes) -> tuple[str | None, str | None]:
    """Bytes → (text, None), or (None, why not). Gzip, BOM, GB18030 and CRLF are handled."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            return None, f"corrupt gzip: {error}"
    if not raw:
        return None, "empty file (0 bytes)"
    if b"\x00" in raw:
        return None, "binary content: NUL bytes, not a text page"
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None, "undecodable: neither UTF-8 nor GB18030"
    controls = len(raw) - len(raw.translate(None, _CONTROL_BYTES))
    if controls > MAX_CONTROL_SHARE * len(raw):
        return None, f"binary content: {controls} control bytes in {len(raw)}"
    return text.replace("\r\n", "\n"), None


def _form(source: Source, text: str) -> str:
    name = _name(source).lower().removesuffix(".gz")
    head = text.lstrip()[:1]
    if name.endswith((".html", ".htm")) or head == "<":
        return "html"
    if name.endswith(".json") or head in ("{", "["):
        return "json"
    return "text"


def _sidecar(source: Source) -> tuple[dict[str, object], str | None]:
    sidecar = as_source(f"{source}{SIDECAR_SUFFIX}")
    if not _exists(sidecar):
        return {}, None
    try:
        meta = json.loads(read_bytes(sidecar).decode("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        if "fetched_at" in meta:
            meta["fetched_at"] = parse_timestamp(str(meta["fetched_at"]))
        return meta, None
    except (ValueError, UnicodeDecodeError) as error:
        return {}, f"sidecar {_name(sidecar)} ignored: {error}"


def _fetched_at(
    source: Source, meta: dict[str, object], options: ReadOptions, mtime_ns: int
) -> tuple[datetime, str]:
    if isinstance(meta.get("fetched_at"), datetime):
        return meta["fetched_at"], "sidecar"  # type: ignore[return-value]
    match = _FILENAME_TIME.search(_name(source))
    if match:
        try:
            return datetime(*map(int, match.groups()), tzinfo=UTC), "filename"
        except ValueError:
            pass  # digits that only look like a time: fall through
    if options.fetched_at is not None:
        return options.fetched_at.astimezone(UTC), "option"
    return datetime.fromtimestamp(mtime_ns // 10**9, tz=UTC), "mtime"


def _url_facts(url: str | None, site_option: str | None) -> dict[str, object]:
    if not url:
        return {"url": None, "site": site_option, "query": None, "page": None}
    parts = urlsplit(url)
    params = parse_qs(parts.query)
    page = params.get("page", ["1"])[0]  # the site's default page is the first
    return {
        "url": url,
        "site": parts.hostname or site_option,
        "query": params.get("wd", [None])[0],
        "page": int(page) if page.isdigit() and int(page) >= 1 else None,
    }


def content_hash(raw: bytes) -> str:
    """A file's identity for incremental runs: changed bytes are a new snapshot file."""
    return hashlib.sha256(raw).hexdigest()


def snapshot_id(raw: bytes, fetched_at: datetime) -> str:
    """Same bytes at the same time keep their id across runs; another time is another snapshot."""
    return _hashes(raw, fetched_at)[1]


def _hashes(raw: bytes, fetched_at: datetime) -> tuple[str, str]:
    """(content_hash, snapshot_id) from one pass over the bytes: the id continues the hash."""
    digest = hashlib.sha256(raw)
    content = digest.hexdigest()
    digest.update(b"\n" + fetched_at.isoformat().encode())
    return content, digest.hexdigest()[:20]


def identify(source: Source, options: ReadOptions, mtime_ns: int) -> str:
    """The snapshot id a file would get, without decoding it (for incremental runs)."""
    meta, _ = _sidecar(source)
    fetched_at, _ = _fetched_at(source, meta, options, mtime_ns)
    return snapshot_id(read_bytes(source), fetched_at)


def read_one(path: Source, options: ReadOptions) -> dict[str, object]:
    """One file → one snapshot row (text null and read_error set when it is not readable)."""
    started = time.perf_counter()
    _, mtime_ns = stat(path)
    raw = read_bytes(path)
    meta, sidecar_error = _sidecar(path)
    fetched_at, source = _fetched_at(path, meta, options, mtime_ns)
    text, error = decode(raw)
    content, snapshot = _hashes(raw, fetched_at)
    url = meta.get("url")
    row: dict[str, object] = {
        "snapshot_id": snapshot,
        "source_path": str(path),
        "byte_count": len(raw),
        "mtime_ns": mtime_ns,
        "content_sha256": content,
        "fetched_at": fetched_at,
        "fetched_at_source": source,
        **_url_facts(url if isinstance(url, str) else None, options.site),
        "form": "unreadable" if text is None else _form(path, text),
        "read_error": error,
        "metadata_warning": sidecar_error,
        "text": text,
        "fragment": None,
    }
    if text is None:
        row["fragment"] = raw[:FRAGMENT_PREVIEW_BYTES].decode("utf-8", "backslashreplace")
    row["read_seconds"] = time.perf_counter() - started
    return row


def read_batch(paths: Iterable[Source], options: ReadOptions) -> pl.DataFrame:
    """Read files into one frame of snapshots (see SNAPSHOT_READ_SCHEMA)."""
    return pl.DataFrame(
        [read_one(path, options) for path in paths], schema=SNAPSHOT_READ_SCHEMA
    )


def batches(paths: list[Source], max_bytes: int) -> Iterator[list[Source]]:
    """Group files into batches of at most `max_bytes` on disk (at least one file each)."""
    batch: list[Source] = []
    size = 0
    for path in paths:
        length, _ = stat(path)
        if batch and size + length > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += length
    if batch:
        yield batch
