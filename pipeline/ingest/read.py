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
from typing import NamedTuple

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
        where = str(path)  # what to open: a name with non-UTF-8 bytes keeps them
        local = sources.is_local(path)
        try:
            if local:
                raw, mtime_ns = sources.read_local(where)
            else:
                _, mtime_ns = sources.stat(path)
                raw = sources.read_bytes(path)
        except OSError as error:  # a FIFO, no permission, EIO, deleted since it was found
            self._unreadable(path, options, error, started)
            return
        if local:
            try:
                sidecar = sources.read_local_sidecar(where + SIDECAR_SUFFIX)
            except OSError as error:
                meta, sidecar_error = {}, metadata.sidecar_not_read(path, error)
            else:
                meta, sidecar_error = metadata.parse_sidecar(sidecar, path)
        else:
            meta, sidecar_error = metadata.sidecar(path)
        fetched_at, source, time_warning = metadata.fetch_time(path, meta, options, mtime_ns)
        warning = "; ".join(filter(None, [sidecar_error, time_warning])) or None
        url = metadata.sidecar_url(meta)
        content, snapshot = metadata.hashes(raw, fetched_at, url)
        data, body, error = decode.screen(raw, options.max_page_bytes)
        micros = (fetched_at - _EPOCH) // _MICROSECOND
        self.rows.append((
            snapshot, sources.as_text(where), len(raw), mtime_ns, content, micros, source, url,
            error, warning, None if error is None else decode.preview(raw),
            time.perf_counter() - started, raw, data, body,
        ))  # fmt: skip

    def _unreadable(
        self, path: Source, options: ReadOptions, error: OSError, started: float
    ) -> None:
        """A file that cannot be read at all: a row with its reason, and the run goes on.

        Its id hashes the path, not the (absent) bytes, so two such files stay two
        snapshots; its size and mtime are the file system's where it still answers (the
        link's own for a broken link), so the next run skips it unless it changes.
        """
        name = sources.as_text(str(path))
        try:
            size, mtime_ns = sources.stat(path)
        except OSError:
            size, mtime_ns = 0, 0
        fetched_at, source, _ = metadata.fetch_time(path, {}, options, mtime_ns)
        content, snapshot = unreadable_ids(name, fetched_at)
        reason = sources.as_text(f"cannot read the file: {error.strerror or error}")
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
        warnings = named["metadata_warning"]
        binary = pl.Series("text", bodies, dtype=pl.Binary)
        text = decode.utf8(binary)
        rescued: dict[int, str] = {}
        for i in (text.is_null() & binary.is_not_null()).arg_true().to_list():
            decoded, failed, warning = decode.salvage(datas[i], bodies[i])
            if decoded is None:
                errors[i] = failed
                fragments[i] = decode.preview(raws[i])
                continue
            rescued[i] = decoded  # still nulled by a control error
            if warning is not None and errors[i] is None:
                warnings[i] = "; ".join(filter(None, [warnings[i], warning]))
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


def unreadable_ids(name: str, fetched_at: datetime) -> tuple[str, str]:
    """(content_hash, snapshot_id) of a file that cannot be read: no bytes, and an id from
    its path (as text) and fetch time, so each such file is its own snapshot."""
    content, _ = metadata.hashes(b"", fetched_at)
    _, snapshot = metadata.hashes(f"unreadable file {name}".encode(), fetched_at)
    return content, snapshot


class Identity(NamedTuple):
    """What a file's snapshot is known by (`identify`)."""

    snapshot_id: str
    legacy_id: str  # the id before the URL counted (the same where there is no URL)
    url: str | None  # the sidecar's URL, which `legacy_id` leaves out


def identify(source: Source, options: ReadOptions, mtime_ns: int) -> Identity:
    """The snapshot a file would give, without decoding it (for incremental runs).

    A lake written before the URL counted (docs/input-format.md §4) holds `legacy_id`
    instead. A file that cannot be read is known by the id its reject has, so it is not
    recorded again each run.
    """
    try:
        raw = sources.read_bytes(source)
    except OSError:
        fetched_at = metadata.fetch_time(source, {}, options, mtime_ns).at
        snapshot = unreadable_ids(sources.as_text(str(source)), fetched_at)[1]
        return Identity(snapshot, snapshot, None)
    meta, _ = metadata.sidecar(source)
    fetched_at = metadata.fetch_time(source, meta, options, mtime_ns).at
    url = metadata.sidecar_url(meta)
    _, snapshot, legacy = metadata.identities(raw, fetched_at, url)
    return Identity(snapshot, legacy, url)
