"""The plain per-file reader: the definition `read.read_batch` must match, row for row.

`read_one` takes a file through the same three steps (bytes, metadata, text) in plain
Python, one file at a time: the tests' oracle, so a fast path that drifts from the
definition fails a test instead of changing the data.
"""

from __future__ import annotations

import time

from pipeline.ingest import decode as decoding
from pipeline.ingest import metadata, sources
from pipeline.ingest.metadata import ReadOptions
from pipeline.ingest.sources import Source


def decode(raw: bytes, limit: int = decoding.MAX_PAGE_BYTES) -> tuple[str | None, str | None]:
    """Bytes → (text, None), or (None, why not). Gzip, BOM, GB18030 and CRLF are handled;
    a page over `limit` bytes (decompressed) is not read."""
    text, error, _ = decode_page(raw, limit)
    return text, error


def decode_page(
    raw: bytes, limit: int = decoding.MAX_PAGE_BYTES
) -> tuple[str | None, str | None, str | None]:
    """`decode`, and the warning of a UTF-8 page read with invalid bytes marked."""
    if raw[:2] == b"\x1f\x8b":
        data, failed = decoding.gunzip(raw, limit)
        if data is None:
            return None, failed, None
        raw = data
    elif len(raw) > limit:
        return None, decoding.too_large(limit, compressed=False), None
    if not raw:
        return None, decoding.EMPTY, None
    if b"\x00" in raw:
        return None, decoding.UTF16 if decoding.is_utf16(raw) else decoding.NUL_BYTES, None
    warning = None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        body = raw.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
        marked, invalid, valid = decoding.with_invalid_bytes(body)
        few = invalid <= decoding.MAX_INVALID_SHARE * len(body)
        try:
            if few and invalid < valid:
                raise UnicodeDecodeError("utf-8", body, 0, 1, "mostly UTF-8")
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            if not few:
                return None, decoding.UNDECODABLE, None
            text, warning = marked, decoding.invalid_utf8(marked)
    controls = len(raw) - len(raw.translate(None, decoding.CONTROL_BYTES))
    if controls > decoding.MAX_CONTROL_SHARE * len(raw):
        return None, decoding.control_bytes(controls, len(raw)), None
    return decoding.lf_line_ends(text), None, warning


def _form(source: Source, text: str) -> str:
    named = decoding.form_of_name(sources.file_name(source))
    return named if named is not None else decoding.sniffed_form(text)


def read_one(path: Source, options: ReadOptions) -> dict[str, object]:
    """One file → one snapshot row (text null and read_error set when it is not readable).

    The oracle `read.read_batch` is tested against.
    """
    started = time.perf_counter()
    _, mtime_ns = sources.stat(path)
    raw = sources.read_bytes(path)
    meta, sidecar_error = metadata.sidecar(path)
    fetched_at, source, time_warning = metadata.fetch_time(path, meta, options, mtime_ns)
    url = metadata.sidecar_url(meta)
    content, snapshot = metadata.hashes(raw, fetched_at, url)
    text, error, warning = decode_page(raw, options.max_page_bytes)
    row: dict[str, object] = {
        "snapshot_id": snapshot,
        "source_path": sources.as_text(str(path)),
        "byte_count": len(raw),
        "mtime_ns": mtime_ns,
        "content_sha256": content,
        "fetched_at": fetched_at,
        "fetched_at_source": source,
        **metadata.url_facts(url, options.site),
        "form": "unreadable" if text is None else _form(path, text),
        "read_error": error,
        "metadata_warning": "; ".join(filter(None, [sidecar_error, time_warning, warning])) or None,
        "text": text,
        "fragment": None,
    }
    row["time_zone"] = options.time_zone(row["site"])  # type: ignore[arg-type]
    if text is None:
        row["fragment"] = decoding.preview(raw)
    row["read_seconds"] = time.perf_counter() - started
    return row
