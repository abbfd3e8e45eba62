"""What a run has to do: tidy the lake, then find the snapshot files it does not hold yet.

`plan` skips a file whose (path, size, mtime) matches a manifest row without reading it, or
whose snapshot id matches one after reading it (`new_files`); only new or changed files are
parsed. Why, and why a sidecar's stat is not compared: docs/architecture.md, "A run", and
docs/input-format.md §4.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from pipeline.ingest import read, sources
from pipeline.ingest.metadata import ReadOptions
from pipeline.ingest.read import Identity
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
    follow_links: bool = True,
) -> Plan:
    """Tidy the lake, then list the files to process (new or changed ones only).

    Before anything is written, data files the manifest does not name (a crashed run's
    group, a compaction's leftovers) are deleted, and a lake in an older layout is
    converted, or one an older version wrote upgraded (`compact.convert`, announced through
    `on_message`). A full refresh begins its staging (`manifest.reset`: its commits go to
    `_manifest/refresh/`) and plans as if the lake were empty, so every file is processed
    again; the old files stay, for readers and for a crash, until the run switches the
    manifest to the refresh's rows, and go then (`pipeline.run.run`; docs/lake.md,
    "Crashes"). The caller holds the lake's lock. What the folder walk passed over (hidden
    entries, unreadable folders, …; symlinked folders are followed unless `follow_links` is
    false) goes to the summary's `skipped`.
    """
    # Local folders are walked by a child process meanwhile (see `pipeline.ingest.walk`).
    scanning = sources.Scan(paths, in_child=True, follow_links=follow_links)
    try:
        committed = manifest.load(lake)
        if full_refresh:
            manifest.reset(lake)
            committed = committed.clear()
        summary = RunSummary(lake_dir=lake.url, full_refresh=full_refresh)
        summary.files_removed = manifest.prune(lake, keep=manifest.data_paths(committed))
        outdated = committed["schema_version"] < layout.SCHEMA_VERSION
        if manifest.layout_of(committed) not in (None, layout.LAYOUT) or outdated.any():
            summary.conversion = compact.convert(lake, on_message=on_message).render()
            committed = manifest.load(lake)
        # A run with new files validates them next: importing pandera now runs while the
        # child walks the input, instead of after it.
        importlib.import_module("pipeline.schemas")
        found, files = scanning.files()
    except BaseException:
        scanning.cancel()
        raise
    summary.files_found = len(found)
    summary.skipped = scanning.skipped
    todo, todo_sizes = new_files(found, files, committed, options, lake=lake)
    summary.files_skipped = len(found) - len(todo)
    return Plan(summary, todo, todo_sizes)


def new_files(
    paths: list[str],
    files: pl.DataFrame,
    committed: pl.DataFrame,
    options: ReadOptions,
    *,
    lake: Location,
) -> tuple[list[Source], list[int]]:
    """The files whose snapshot is not in the manifest yet, sorted, and their sizes in bytes.

    `paths` and `files` are what `sources.Scan.files` found: a row of `files` per path,
    with the file's own size and mtime (ns); the sizes of the new ones are handed on so
    batching stats none again (a request per file on an object store).

    A snapshot is its bytes at its fetch time from its URL (`metadata.snapshot_id`): a
    byte-identical copy with the same fetch time and sidecar URL is the same snapshot, the
    same bytes fetched later or for another query another. Stat first: a file at the same
    path with the same size and mtime is taken as unchanged without reading it (as git's
    index does). Only the rest are read and identified. A lake written before the URL
    counted holds the id without it (`Identity.legacy_id`): a file matching one of those is
    known only if the lake's snapshot has the file's URL, so an old lake neither gets a
    page twice nor keeps a page of another query hidden behind one it merged it with.
    """
    columns = ["source_path", "byte_count", "mtime_ns"]
    changed = files.with_row_index("i").join(committed.select(columns), on=columns, how="anti")
    candidates = dict(zip(changed["i"], changed["mtime_ns"], strict=True))
    if not committed.is_empty():  # else a new lake: no file needs reading to compare it
        identities = {i: _identify(paths[i], options, mtime) for i, mtime in candidates.items()}
        ids = {
            name
            for ident in identities.values()
            if ident is not None
            for name in (ident.snapshot_id, ident.legacy_id)
        }
        held = committed.filter(pl.col("snapshot_id").is_in(sorted(ids)))["snapshot_id"]
        known = set(held.to_list())  # of the ids read, those the lake holds
        legacy = {
            ident.legacy_id
            for ident in identities.values()
            if ident is not None and ident.snapshot_id not in known and ident.legacy_id in known
        }
        urls = _urls(lake, legacy) if legacy else {}
        candidates = {i: m for i, m in candidates.items() if not _known(identities[i], known, urls)}
    todo = sorted(candidates, key=paths.__getitem__)
    sizes = files["byte_count"].gather(todo).to_list() if todo else []
    return [paths[i] for i in todo], sizes


def _known(ident: Identity | None, known: set[str], urls: dict[str, str | None]) -> bool:
    if ident is None:
        return False
    if ident.snapshot_id in known:
        return True
    return ident.legacy_id in urls and urls[ident.legacy_id] == ident.url


def _urls(lake: Location, snapshot_ids: set[str]) -> dict[str, str | None]:
    """The URL each of these committed snapshots was read with (few: see `new_files`)."""
    rows = (
        manifest.scan(lake, "snapshots")
        .filter(pl.col("snapshot_id").is_in(sorted(snapshot_ids)))
        .select("snapshot_id", "url")
        .collect()
    )
    return dict(rows.iter_rows())


def _identify(source: Source, options: ReadOptions, mtime_ns: int) -> Identity | None:
    """A changed file's identity; None (so: new) when it cannot be read (`read.identify`
    names an unreadable file by its reject; this is for errors beyond that)."""
    try:
        return read.identify(source, options, mtime_ns)
    except OSError:
        return None
