"""What a run has to do: tidy the lake, then find the snapshot files it does not hold yet.

A run skips a file whose (path, size, mtime) matches a manifest row without reading it, or
whose snapshot id (a hash of its bytes and fetch time) matches one after reading it; only
new or changed files are parsed. That keeps a rerun with nothing new cheap, and a rerun
never duplicates rows.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from pipeline.ingest import read, sources
from pipeline.ingest.metadata import ReadOptions
from pipeline.ingest.sources import Source
from pipeline.lake import compact, layout, manifest
from pipeline.lake.storage import Location
from pipeline.run.summary import RunSummary


@dataclass
class Plan:
    """The run's summary so far, and the files to process with their sizes in bytes."""

    summary: RunSummary
    todo: list[Source]
    sizes: list[int]


def plan(
    paths: Sequence[Source],
    lake: Location,
    options: ReadOptions,
    *,
    full_refresh: bool = False,
    on_message: Callable[[str], None] | None = None,
) -> Plan:
    """Tidy the lake, then list the files to process (new or changed ones only).

    Before anything is written, data files the manifest does not name (a crashed run's
    group, a compaction's leftovers) are deleted, and a lake in an older layout is
    converted, or one an older version wrote upgraded (`compact.convert`, announced through
    `on_message`). A full refresh forgets
    the manifest first, so every file is processed again and every old file goes. The
    caller holds the lake's lock.
    """
    # Local folders are walked by a child process meanwhile (see `pipeline.ingest.walk`).
    scanning = sources.Scan(paths, in_child=True)
    try:
        committed = manifest.load(lake)
        if full_refresh:
            manifest.reset(lake)
            committed = committed.clear()
        summary = RunSummary(lake_dir=lake.url, full_refresh=full_refresh)
        summary.files_removed = layout.prune(lake, keep=manifest.data_paths(committed))
        outdated = committed["schema_version"] < layout.SCHEMA_VERSION
        if manifest.layout_of(committed) not in (None, layout.LAYOUT) or outdated.any():
            summary.conversion = compact.convert(lake, on_message=on_message).render()
            committed = manifest.load(lake)
        # A run with new files validates them next: importing pandera now runs while the
        # child walks the input, instead of after it.
        importlib.import_module("pipeline.schemas")
        found, sizes, mtimes = scanning.result()
    except BaseException:
        scanning.cancel()
        raise
    summary.files_found = len(found)
    todo, todo_sizes = new_files(found, sizes, mtimes, committed, options)
    summary.files_skipped = len(found) - len(todo)
    return Plan(summary, todo, todo_sizes)


def new_files(
    found: list[Source],
    sizes: list[int],
    mtimes: list[int],
    committed: pl.DataFrame,
    options: ReadOptions,
) -> tuple[list[Source], list[int]]:
    """The files whose snapshot is not in the manifest yet, and their sizes in bytes.

    `sizes` and `mtimes` (ns) are the files' own, from `sources.scan`; the sizes of the new
    ones are handed on so batching stats none again (a request per file on an object store).

    A snapshot is its bytes at its fetch time (`metadata.snapshot_id`): a byte-identical
    copy with the same fetch time is the same snapshot, the same bytes fetched later
    another. Stat first: a file at the same path with the same size and mtime is taken as
    unchanged without reading it (as git's index does). Only the rest are read and
    identified.
    """
    if not found:
        return [], []
    columns = ("source_path", "byte_count", "mtime_ns")
    seen = pl.DataFrame(
        {"source_path": [str(f) for f in found], "byte_count": sizes, "mtime_ns": mtimes},
        schema={name: manifest.SCHEMA[name] for name in columns},
    ).with_row_index("i")
    candidates = seen.join(committed.select(columns), on=list(columns), how="anti")["i"].to_list()
    known = set(committed["snapshot_id"].to_list())
    if known:  # else a new lake: nothing to compare with, so no file needs reading here
        candidates = [i for i in candidates if _identify(found[i], options, mtimes[i]) not in known]
    todo = sorted(candidates)
    return [found[i] for i in todo], [sizes[i] for i in todo]


def _identify(source: Source, options: ReadOptions, mtime_ns: int) -> str | None:
    """A changed file's snapshot id; None (so: new) when it cannot be read, which the
    batch reader then records as a reject with the reason."""
    try:
        return read.identify(source, options, mtime_ns)
    except OSError:
        return None
