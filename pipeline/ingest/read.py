"""Snapshot files → one row per snapshot (`vocab.READ_FRAME`): metadata, and the text.

This is the I/O edge. It loops over *files* (never over listings), because reading,
decompressing and hashing are per file by nature; everything after it is vectorised, and
so is what `read_batch` can do for a whole batch at once (UTF-8 validation, URL facts,
form). `reference.read_one` is the plain per-file definition of a row; `read_batch` must
give the same rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import polars as pl

from pipeline.ingest import decode, metadata, sources
from pipeline.ingest.metadata import ReadOptions
from pipeline.ingest.sources import Source
from pipeline.ingest.walk import SIDECAR_SUFFIX
from pipeline.vocab import READ_FRAME

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


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
        try:
            if sources.is_local(path):
                raw, mtime_ns = sources.read_local(name)
            else:
                _, mtime_ns = sources.stat(path)
                raw = sources.read_bytes(path)
        except OSError as error:  # a FIFO, no permission, EIO, deleted since it was found
            self._unreadable(path, options, error, started)
            return
        try:
            if sources.is_local(path):
                sidecar = sources.read_local_sidecar(name + SIDECAR_SUFFIX)
            else:
                sidecar = sources.sidecar_bytes(path)
            unread_sidecar = None
        except OSError as error:
            sidecar = None
            unread_sidecar = (
                f"sidecar {sources.file_name(path)}{SIDECAR_SUFFIX} not read: "
                f"{error.strerror or error}"
            )
        meta, sidecar_error = metadata.parse_sidecar(sidecar, path)
        sidecar_error = sidecar_error or unread_sidecar
        fetched_at, source = metadata.fetch_time(path, meta, options, mtime_ns)
        content, snapshot = metadata.hashes(raw, fetched_at)
        data, body, error = decode.screen(raw, options.max_page_bytes)
        url = meta.get("url")
        micros = (fetched_at - _EPOCH) // _MICROSECOND
        self.rows.append((
            snapshot, name, len(raw), mtime_ns, content, micros, source,
            url if isinstance(url, str) and url else None, error, sidecar_error,
            None if error is None else decode.preview(raw), time.perf_counter() - started,
            raw, data, body,
        ))  # fmt: skip

    def _unreadable(
        self, path: Source, options: ReadOptions, error: OSError, started: float
    ) -> None:
        """A file that cannot be read at all: a row with its reason, and the run goes on.

        Its id hashes the path, not the (absent) bytes, so two such files stay two
        snapshots; its size and mtime are the file system's where it still answers, so the
        next run skips it unless it changes.
        """
        name = str(path)
        try:
            size, mtime_ns = sources.stat(path)
        except OSError:
            size, mtime_ns = 0, 0
        fetched_at, source = metadata.fetch_time(path, {}, options, mtime_ns)
        content, _ = metadata.hashes(b"", fetched_at)
        _, snapshot = metadata.hashes(f"unreadable file {name}".encode(), fetched_at)
        reason = f"cannot read the file: {error.strerror or error}"
        micros = (fetched_at - _EPOCH) // _MICROSECOND
        self.rows.append((
            snapshot, name, size, mtime_ns, content, micros, source, None, reason, None, "",
            time.perf_counter() - started, b"", None, None,
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
        text = decode.utf8(binary)
        rescued: dict[int, str] = {}
        for i in (text.is_null() & binary.is_not_null()).arg_true().to_list():
            try:
                decoded = datas[i].decode("gb18030")
            except UnicodeDecodeError:
                errors[i] = decode.UNDECODABLE
                fragments[i] = decode.preview(raws[i])
                continue
            rescued[i] = decoded.replace("\r\n", "\n")  # still nulled by a control error
        if rescued:
            text = text.scatter(list(rescued), list(rescued.values()))
        # Aware datetimes are slow for polars to take in one by one; epoch microseconds are not.
        schema = {column: READ_FRAME[column] for column in _ROW_COLUMNS}
        frame = pl.DataFrame(named, schema={**schema, "fetched_at": pl.Int64}).with_columns(
            text, pl.col("fetched_at").cast(schema["fetched_at"])
        )
        frame = frame.with_columns(
            text=pl.when(pl.col("read_error").is_null()).then(pl.col("text")),
        ).with_columns(form=decode.form(pl.col("source_path"), pl.col("text")))
        return pl.concat(
            [frame, metadata.url_facts_frame(frame["url"], options.site)],
            how="horizontal",
        ).with_columns(time_zone=options.time_zone_of(pl.col("site")))


def read_batch(paths: Iterable[Source], options: ReadOptions) -> pl.DataFrame:
    """Read files into one frame of snapshots (see READ_FRAME).

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
    return frame.with_columns(pl.col("read_seconds") + shared).select(list(READ_FRAME))


def identify(source: Source, options: ReadOptions, mtime_ns: int) -> str:
    """The snapshot id a file would get, without decoding it (for incremental runs)."""
    meta, _ = metadata.sidecar(source)
    fetched_at, _ = metadata.fetch_time(source, meta, options, mtime_ns)
    return metadata.snapshot_id(sources.read_bytes(source), fetched_at)
