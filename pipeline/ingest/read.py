"""Snapshot files → one row per snapshot: metadata, and the decoded text.

This is the I/O edge. It loops over *files* (never over listings), because reading,
decompressing and hashing are per file by nature; everything after it is vectorised, and
so is what `read_batch` can do for a whole batch at once (UTF-8 validation, URL facts).
`read_one` is the plain per-file definition of a row; `read_batch` must give the same rows.

Metadata comes, in the order SNAPSHOT_FORMAT.md §4 gives, from a sidecar
`<file>.meta.json`, the file name, explicit options, and last the file's mtime (recorded as
an approximate source). A file that cannot be read as text is still a snapshot: it gets a
row here with `read_error` set, and the caller turns that into a reject.

Byte offsets elsewhere refer to the decoded text re-encoded as UTF-8 with CRLF as LF; for
the usual UTF-8 LF file without BOM, that is the file's own bytes.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import fsspec
import polars as pl

from pipeline.ingest import walk as walking
from pipeline.ingest.walk import SIDECAR_SUFFIX

# A local file (a Path, or a plain path string), or an fsspec URL: s3://bucket/raw/page.txt
Source = Path | str
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


def _is_local(source: Source) -> bool:
    """A Path, or a plain path string (what `discover` returns for local folders)."""
    return isinstance(source, Path) or "://" not in source


def _remote(source: Source) -> tuple[fsspec.AbstractFileSystem, str] | None:
    if _is_local(source):
        return None
    fs, path = fsspec.core.url_to_fs(source)
    return fs, path


class Scan:
    """Snapshot files under the given files and folders (local or fsspec URLs), with their
    sizes in bytes and modification times in ns: what `manifest.new_files` compares.

    One pass: a local folder is listed and its snapshot files stat-ed as it goes
    (`pipeline.scan.walk`), and an object store's listing already carries both facts, so
    no file is stat-ed twice. Missing paths raise FileNotFoundError at once. With
    `in_child`, local folders are walked by a child process (`pipeline.scan.start`) while
    the caller goes on, until `result`.
    """

    def __init__(self, paths: Iterable[Source], *, in_child: bool = False) -> None:
        self._found: dict[str, tuple[int, int]] = {}
        folders: list[str] = []
        for source in map(as_source, paths):
            remote = _remote(source)
            if remote is not None:
                fs, root = remote
                if fs.isdir(root):
                    for path, info in fs.find(root, detail=True).items():
                        if walking.is_snapshot_name(path.rsplit("/", 1)[-1]):
                            self._found[fs.unstrip_protocol(path)] = _size_mtime(info)
                elif fs.isfile(root):
                    self._found[str(source)] = stat(source)
                else:
                    raise FileNotFoundError(f"{source}: no such file or folder")
            elif source.is_dir():
                folders.append(os.fspath(source))
            elif source.is_file():
                info = os.stat(source)
                self._found[os.fspath(source)] = (info.st_size, info.st_mtime_ns)
            else:
                raise FileNotFoundError(f"{source}: no such file or folder")
        self._child = walking.start(folders) if in_child and folders else None
        if self._child is None:
            for folder in folders:
                walking.walk(folder, self._found)

    def result(self) -> tuple[list[Source], list[int], list[int]]:
        """(paths sorted, their sizes, their mtimes in ns)."""
        if self._child is not None:
            self._found.update(self._child.result())
            self._child = None
        found = self._found
        ordered = sorted(found)  # all plain strings: no key function over 100 000s of paths
        return ordered, [found[f][0] for f in ordered], [found[f][1] for f in ordered]

    def cancel(self) -> None:
        """Stop a child walk that is no longer wanted (the run failed before `result`)."""
        if self._child is not None:
            self._child.cancel()


def scan(paths: Iterable[Source]) -> tuple[list[Source], list[int], list[int]]:
    """`Scan(paths).result()`: the snapshot files, sorted, with sizes and mtimes."""
    return Scan(paths).result()


def discover(paths: Iterable[Source]) -> list[Source]:
    """Snapshot files under the given files and folders (local or fsspec URLs), sorted."""
    return scan(paths)[0]


def stat(source: Source) -> tuple[int, int]:
    """(size in bytes, modification time in ns) of a local file or a remote object."""
    remote = _remote(source)
    if remote is None:
        info = os.stat(source)
        return info.st_size, info.st_mtime_ns
    fs, path = remote
    return _size_mtime(fs.info(path))


def _size_mtime(details: dict) -> tuple[int, int]:
    """(size, mtime in ns) from an fsspec info dict: stores name the time differently."""
    modified = details.get("LastModified") or details.get("mtime") or details.get("created")
    if isinstance(modified, datetime):
        mtime_ns = int(modified.timestamp() * 1e9)
    else:
        mtime_ns = int(float(modified or 0) * 1e9)
    return int(details["size"]), mtime_ns


def read_bytes(source: Source) -> bytes:
    remote = _remote(source)
    if remote is None:
        return _read_local(os.fspath(source))[0]
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


# What Path.exists() takes for "no such file": a sidecar opened directly treats them the same.
_MISSING_ERRNOS = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)
_O_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0)
_SIDECAR_BYTES = 4095  # read in one go up to this size


def _read_fd(fd: int, expected: int) -> bytes:
    """All bytes of an open file, in one read when it holds at most `expected` bytes.

    A regular file's read returns fewer bytes than asked only at its end, so asking for one more
    than expected and getting less is the whole file; otherwise read on until EOF.
    """
    data = os.read(fd, expected + 1)
    if len(data) <= expected:
        return data
    chunks = [data]
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _read_local(path: str) -> tuple[bytes, int]:
    """(bytes, mtime in ns) of a local file with one open: os-level calls on a str path.

    Path objects and buffered file objects cost more than reading a 5 KB page itself
    (~9 µs of ~13 µs per file); this is read_bytes + stat without them.
    """
    fd = os.open(path, _O_READ)
    try:
        info = os.fstat(fd)
        return _read_fd(fd, info.st_size), info.st_mtime_ns
    finally:
        os.close(fd)


def _read_local_sidecar(path: str) -> bytes | None:
    """A local sidecar's bytes, or None when there is none: one open, no exists() first."""
    try:
        fd = os.open(path, _O_READ)
    except OSError as error:
        if error.errno in _MISSING_ERRNOS:
            return None
        raise
    try:
        return _read_fd(fd, _SIDECAR_BYTES)  # no fstat: a sidecar is ~100 bytes
    finally:
        os.close(fd)


def _sidecar_bytes(source: Source) -> bytes | None:
    if _is_local(source):
        return _read_local_sidecar(f"{source}{SIDECAR_SUFFIX}")
    sidecar = as_source(f"{source}{SIDECAR_SUFFIX}")
    return read_bytes(sidecar) if _exists(sidecar) else None


def _parse_sidecar(data: bytes | None, source: Source) -> tuple[dict[str, object], str | None]:
    """Sidecar bytes → (metadata, None), or ({}, why it was ignored): all of it or nothing."""
    if data is None:
        return {}, None
    try:
        meta = json.loads(data.decode("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        if "fetched_at" in meta:
            meta["fetched_at"] = parse_timestamp(str(meta["fetched_at"]))
        return meta, None
    except (ValueError, UnicodeDecodeError) as error:
        return {}, f"sidecar {_name(source)}{SIDECAR_SUFFIX} ignored: {error}"


def _sidecar(source: Source) -> tuple[dict[str, object], str | None]:
    return _parse_sidecar(_sidecar_bytes(source), source)


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
    """One file → one snapshot row (text null and read_error set when it is not readable).

    The reference `read_batch` is tested against; read_batch builds the same rows faster.
    """
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


_INT32_MAX = 2**31 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
# The characters str.isspace() (so str.lstrip()) takes as whitespace, as a regex class:
# `_form` looks at the first character after them (test_read checks the list).
_PY_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_FIRST_VISIBLE = "^[" + "".join(f"\\x{{{ord(c):X}}}" for c in _PY_SPACE) + "]*(.)"
# URLs that urlsplit takes apart exactly like this: a valid scheme, `//`, an ASCII host
# (letters, digits, dots, hyphens) with an optional numeric port, no tab/CR/LF (urlsplit
# deletes those). Anything else goes through `_url_facts` itself.
_PLAIN_URL = (
    r"^[A-Za-z][A-Za-z0-9+.\-]*://(?<host>[A-Za-z0-9.\-]*)(?::[0-9]*)?"
    r"(?:/[^?#\t\n\r]*)?(?:\?(?<query>[^#\t\n\r]*))?(?:#[^\t\n\r]*)?$"
)
# parse_qs unquotes names too: a name with an escape might decode to `wd` or `page`.
_ESCAPED_NAME = r"(?:^|&)[^&=]*%[^&=]*="


def _screen(raw: bytes) -> tuple[bytes | None, bytes | None, str | None]:
    """`decode` up to the UTF-8 attempt: (bytes, UTF-8 candidate, error so far).

    The candidate is the BOM-less, CRLF→LF body whose UTF-8 validity polars checks for the
    whole batch at once. Control bytes are ASCII, never inside a UTF-8 or GB18030
    multi-byte character, so their count does not depend on the encoding; the error it
    gives stands only if the bytes decode at all (as in `decode`).
    """
    data = raw
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            return None, None, f"corrupt gzip: {error}"
    if not data:
        return None, None, "empty file (0 bytes)"
    if b"\x00" in data:
        return None, None, "binary content: NUL bytes, not a text page"
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    error = None
    if controls > MAX_CONTROL_SHARE * len(data):
        error = f"binary content: {controls} control bytes in {len(data)}"
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    if b"\r" in body:
        # Only ASCII bytes change, so validity and the decoded text are as after decoding.
        body = body.replace(b"\r\n", b"\n")
    return data, body, error


def _utf8(values: pl.Series) -> pl.Series:
    """Binary → String, null where not valid UTF-8.

    polars validates a whole column in one pass but rejects the column for one bad value;
    halving finds the few bad ones (GB18030 pages) at the cost of a few more passes.
    """
    try:
        return values.cast(pl.String)
    except pl.exceptions.ComputeError:
        if len(values) == 1:
            return pl.Series(values.name, [None], dtype=pl.String)
        half = len(values) // 2
        return _utf8(values.slice(0, half)).append(_utf8(values.slice(half)))


def _fragment(raw: bytes) -> str:
    return raw[:FRAGMENT_PREVIEW_BYTES].decode("utf-8", "backslashreplace")


# What `_Rows.add` records per file, in order: frame columns, then the bytes for `frame`.
_ROW_COLUMNS = (
    "snapshot_id", "source_path", "byte_count", "mtime_ns", "content_sha256", "fetched_at",
    "fetched_at_source", "url", "read_error", "metadata_warning", "fragment", "read_seconds",
)  # fmt: skip


class _Rows:
    """One batch's per-file facts: a tuple per file, turned into columns once (zip)."""

    def __init__(self) -> None:
        self.rows: list[tuple[object, ...]] = []

    def add(self, path: Source, options: ReadOptions) -> None:
        """Read one file and its sidecar: the part that is per file by nature."""
        started = time.perf_counter()
        name = str(path)
        if _is_local(path):
            raw, mtime_ns = _read_local(name)
            sidecar = _read_local_sidecar(name + SIDECAR_SUFFIX)
        else:
            _, mtime_ns = stat(path)
            raw = read_bytes(path)
            sidecar = _sidecar_bytes(path)
        meta, sidecar_error = _parse_sidecar(sidecar, path)
        fetched_at, source = _fetched_at(path, meta, options, mtime_ns)
        content, snapshot = _hashes(raw, fetched_at)
        data, body, error = _screen(raw)
        url = meta.get("url")
        micros = (fetched_at - _EPOCH) // _MICROSECOND
        self.rows.append((
            snapshot, name, len(raw), mtime_ns, content, micros, source,
            url if isinstance(url, str) and url else None, error, sidecar_error,
            None if error is None else _fragment(raw), time.perf_counter() - started,
            raw, data, body,
        ))  # fmt: skip

    def frame(self, options: ReadOptions) -> pl.DataFrame:
        """The batch's frame: text, form and URL facts computed column-wise."""
        fields = len(_ROW_COLUMNS) + 3
        *columns, raws, datas, bodies = map(
            list, zip(*self.rows, strict=True) if self.rows else [()] * fields
        )
        named = dict(zip(_ROW_COLUMNS, columns, strict=True))
        errors, fragments = named["read_error"], named["fragment"]
        binary = pl.Series("text", bodies, dtype=pl.Binary)
        text = _utf8(binary)
        rescued: dict[int, str] = {}
        for i in (text.is_null() & binary.is_not_null()).arg_true().to_list():
            try:
                decoded = datas[i].decode("gb18030")
            except UnicodeDecodeError:
                errors[i] = "undecodable: neither UTF-8 nor GB18030"
                fragments[i] = _fragment(raws[i])
                continue
            rescued[i] = decoded.replace("\r\n", "\n")  # still nulled by a control error
        if rescued:
            text = text.scatter(list(rescued), list(rescued.values()))
        # Aware datetimes cost polars ~1 µs each to take in; microseconds since 1970 do not.
        schema = {column: SNAPSHOT_READ_SCHEMA[column] for column in _ROW_COLUMNS}
        frame = pl.DataFrame(named, schema={**schema, "fetched_at": pl.Int64}).with_columns(
            text, pl.col("fetched_at").cast(schema["fetched_at"])
        )
        # `_form`: suffixes hold no separator, so the path's end is the name's end.
        stem = pl.col("source_path").str.to_lowercase().str.strip_suffix(".gz")
        head = pl.col("text").str.extract(_FIRST_VISIBLE, 1)
        frame = frame.with_columns(
            text=pl.when(pl.col("read_error").is_null()).then(pl.col("text")),
        ).with_columns(
            form=pl.when(pl.col("text").is_null())
            .then(pl.lit("unreadable"))
            .when(stem.str.ends_with(".html") | stem.str.ends_with(".htm") | (head == "<"))
            .then(pl.lit("html"))
            .when(stem.str.ends_with(".json") | head.is_in(["{", "["]))
            .then(pl.lit("json"))
            .otherwise(pl.lit("text"))
        )
        return pl.concat(
            [frame, _url_facts_frame(frame["url"], options.site)],
            how="horizontal",
        )


def _url_facts_frame(urls: pl.Series, site_option: str | None) -> pl.DataFrame:
    """`_url_facts` for a column of URLs (site, query, page): plain URLs in polars.

    parse_qs keeps the first non-blank value of a name, so `(?:^|&)wd=([^&]+)` finds it.
    Only distinct `wd` values are unquoted (in Python: the pages of a query share it); a
    page is read here only when it is ASCII without escapes and of at most nine digits.
    Every other non-null URL goes through `_url_facts` itself.
    """
    page = pl.col("page_raw")
    digits = page.str.contains(r"^[0-9]{1,9}$")
    not_a_number = (
        page.str.contains(r"^[\x00-\x7F]*$")
        & ~page.str.contains("%", literal=True)
        & ~page.str.contains(r"^[0-9]*$")
    )
    # The site's default page is the first.
    number = (
        pl.when(page.is_null())
        .then(pl.lit(1, pl.Int64))
        .when(digits)
        .then(page.cast(pl.Int64, strict=False))
    )
    parts = (
        pl.DataFrame([urls.rename("url")])
        .select(pl.col("url").str.extract_groups(_PLAIN_URL).alias("parts"))
        .unnest("parts")
        .with_columns(pl.col("query").fill_null(""))
        .with_columns(
            query=pl.col("query").str.extract(r"(?:^|&)wd=([^&]+)", 1),
            page_raw=pl.col("query").str.extract(r"(?:^|&)page=([^&]+)", 1),
            escaped_name=pl.col("query").str.contains(_ESCAPED_NAME),
        )
        .select(
            plain=pl.col("host").is_not_null()
            & ~pl.col("escaped_name")
            & (page.is_null() | digits | not_a_number),
            site=pl.when(pl.col("host") != "")
            .then(pl.col("host").str.to_lowercase())
            .otherwise(pl.lit(site_option, pl.String)),
            query=pl.col("query"),
            page=pl.when(pl.col("host").is_not_null()).then(number),
        )
        .with_columns(page=pl.when(pl.col("page") >= 1).then(pl.col("page")).cast(pl.Int32))
    )
    query = parts["query"]
    escaped = query.filter(query.str.contains("[%+]")).unique().to_list()
    if escaped:
        query = query.replace(escaped, [unquote(value.replace("+", " ")) for value in escaped])
    site, page_number = parts["site"], parts["page"]
    others = (~parts["plain"] & urls.is_not_null()).arg_true().to_list()
    if others:
        facts = [_url_facts(urls[i], site_option) for i in others]
        site = site.scatter(others, [fact["site"] for fact in facts])
        query = query.scatter(others, [fact["query"] for fact in facts])
        # A page number beyond Int32 is no page: null, where a frame of read_one rows would
        # fail the whole batch over one sidecar.
        pages = [fact["page"] for fact in facts]
        page_number = page_number.scatter(
            others, [None if page is None or page > _INT32_MAX else page for page in pages]
        )
    return pl.DataFrame([site, query, page_number])


def read_batch(paths: Iterable[Source], options: ReadOptions) -> pl.DataFrame:
    """Read files into one frame of snapshots (see SNAPSHOT_READ_SCHEMA).

    Same rows as `read_one` per file, built another way because per-file Python was most of
    the cost: the loop here only reads bytes (os-level calls for local files), parses the
    small sidecar, hashes and screens the bytes; UTF-8 validation and the text column,
    the URL's site/query/page and the form are then computed over the whole batch in
    polars, with `read_one`'s own code for the rare rows outside the fast shapes (GB18030
    pages, URLs that are not plain `scheme://host/path?query`).
    """
    rows = _Rows()
    for path in paths:
        rows.add(path, options)
    looped = time.perf_counter()
    frame = rows.frame(options)
    # Each file's own reading and hashing time, plus an even share of the batch-wide work.
    shared = (time.perf_counter() - looped) / max(len(rows.rows), 1)
    return frame.with_columns(pl.col("read_seconds") + shared).select(list(SNAPSHOT_READ_SCHEMA))


def batches(
    paths: list[Source], max_bytes: int, sizes: list[int] | None = None
) -> Iterator[list[Source]]:
    """Group files into batches of at most `max_bytes` on disk (at least one file each).

    `sizes` (bytes per path, when the caller has them) saves a stat per file.
    """
    batch: list[Source] = []
    size = 0
    lengths = sizes if sizes is not None else (stat(path)[0] for path in paths)
    for path, length in zip(paths, lengths, strict=True):
        if batch and size + length > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += length
    if batch:
        yield batch
