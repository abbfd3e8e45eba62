"""Snapshot files → the read frame (`vocab.READ_FRAME`): one row per file, its metadata and text.

`read_batch` reads a batch in three steps, each owned by one module: (1) `sources` reads
the bytes, size and mtime and the sidecar's bytes, (2) `metadata` gives fetch time, URL,
site, query, page and ids, (3) `decode` gives text and form. `reference.read_one` is the
plain per-file definition of a row, which `read_batch` must match. `identify` is steps 1
and 2 for one file, for the run's plan.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

import polars as pl

from pipeline.ingest import decode, metadata, sources
from pipeline.ingest.metadata import ReadOptions
from pipeline.ingest.sources import Source
from pipeline.vocab import READ_FRAME


def read_batch(paths: Iterable[Source], options: ReadOptions) -> pl.DataFrame:
    """Read files into one frame of snapshots (see READ_FRAME): the rows `reference.read_one`
    gives, file by file where the work is per file, column-wise where it is not."""
    started = time.perf_counter()
    files = sources.read_files(paths)  # (1) bytes, size, mtime; the sidecar's bytes
    facts = metadata.snapshot_facts(files, options)  # (2) fetch time, URL, site, query, page, ids
    pages = decode.decode_pages(files, options.max_page_bytes)  # (3) text, form, read errors
    return _read_frame(files.frame, facts, pages, started)


def _read_frame(
    files: pl.DataFrame, facts: pl.DataFrame, pages: pl.DataFrame, started: float
) -> pl.DataFrame:
    """The three steps' columns side by side: the text's warning after the metadata's, and
    `read_seconds` each file's own time in the three steps plus an even share of the
    batch-wide work."""
    own = files["read_seconds"] + facts["read_seconds"] + pages["read_seconds"]
    shared = (time.perf_counter() - started - own.sum()) / max(len(own), 1)
    warning, text_warning = pl.col("metadata_warning"), pl.col("text_warning")
    steps = [step.drop("read_seconds") for step in (files, facts, pages)]
    return (
        pl.concat(steps, how="horizontal")
        .with_columns(
            own + shared,
            metadata_warning=pl.when(text_warning.is_null())
            .then(warning)
            .otherwise(pl.concat_str(warning, text_warning, separator="; ", ignore_nulls=True)),
        )
        .select(list(READ_FRAME))
    )


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
        snapshot = metadata.unreadable_ids(sources.as_text(str(source)), fetched_at)[1]
        return Identity(snapshot, snapshot, None)
    meta, _ = metadata.sidecar(source)
    fetched_at = metadata.fetch_time(source, meta, options, mtime_ns).at
    url = metadata.sidecar_url(meta)
    _, snapshot, legacy = metadata.identities(raw, fetched_at, url)
    return Identity(snapshot, legacy, url)
