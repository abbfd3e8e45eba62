"""Titles from the catalogue, applied to the lake (docs/input-format.md §1.1).

A run splits the text-form listings it has just written at the titles the whole lake has
seen exactly (its own new HTML/JSON pages included); `listings resolve-titles` does the
same for every group, so titles learned later reach older snapshots too. Only listings
files change, and only their title, description and title_source: each changed file is
rewritten in place, atomically, so a crash leaves every file either before or after, and
the next resolution finishes the job. The caller holds the lake's lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl

from pipeline.lake import compact, layout, lock, manifest
from pipeline.lake.storage import LakeLike, Location
from pipeline.parse import catalogue


@dataclass
class Resolution:
    """What a resolution did."""

    titles: int = 0  # catalogue entries (title × document)
    listings_split: int = 0  # listings whose title now comes from the catalogue
    files_rewritten: int = 0
    seconds: float = 0.0

    def render(self) -> str:
        return (
            f"{self.listings_split:,} text-form listings titled from a catalogue of "
            f"{self.titles:,} exact titles ({self.files_rewritten} files rewritten, "
            f"{self.seconds:.1f} s)"
        )


def lake_catalogue(lake: Location, committed: pl.DataFrame) -> pl.DataFrame:
    """The catalogue of every listing the manifest has committed."""
    groups = committed["data_file"].unique().sort().to_list()
    if not groups:
        return pl.DataFrame(schema=catalogue.COLUMNS)
    paths = [layout.file_path(lake, "listings", g) for g in groups]
    # Local files: read only the columns the catalogue needs (a fraction of the bytes).
    listings = (
        pl.scan_parquet(paths, hive_partitioning=False)
        if lake.is_local
        else layout.read_files(lake, "listings", paths).lazy()
    )
    return catalogue.build(listings)


# Listings resolved together: the catalogue's titles are sorted once per resolution and each
# chunk of groups is one vectorised search, instead of one search (and one sort) per group;
# the chunk bounds the memory a whole-lake resolution holds at once.
RESOLVE_CHUNK_ROWS = 1_000_000


def resolve_titles(
    lake: Location, groups: Iterable[str] | None = None, *, rewrites_history: bool = True
) -> Resolution:
    """Split the unknown titles of `groups` (data_file names; default every group) at the
    lake's catalogue titles, rewriting the listings files that change.

    `rewrites_history=False` only for groups no reader has seen yet (a run's own, before it
    returns); otherwise the lake's history token changes first (`manifest.rewrite_history`).
    """
    started = time.perf_counter()
    if rewrites_history:
        manifest.rewrite_history(lake)
    committed = manifest.load(lake)
    titles = lake_catalogue(lake, committed)
    targets = sorted(set(committed["data_file"]) if groups is None else set(groups))
    done = Resolution(titles=titles.height)
    sorted_titles = catalogue.sorted_titles(titles)
    chunk: list[tuple[str, pl.DataFrame]] = []
    rows = 0
    for group in targets:
        path = layout.file_path(lake, "listings", group)
        chunk.append((group, layout.read_files(lake, "listings", [path])))
        rows += chunk[-1][1].height
        if rows >= RESOLVE_CHUNK_ROWS:
            _resolve_chunk(lake, chunk, titles, sorted_titles, done)
            chunk, rows = [], 0
    if chunk:
        _resolve_chunk(lake, chunk, titles, sorted_titles, done)
    done.seconds = time.perf_counter() - started
    return done


def _resolve_chunk(
    lake: Location,
    chunk: list[tuple[str, pl.DataFrame]],
    titles: pl.DataFrame,
    sorted_titles: pl.Series,
    done: Resolution,
) -> None:
    """Resolve a chunk of groups' listings in one pass; rewrite the files that change."""
    tagged = [frame.with_columns(pl.lit(i, pl.UInt32).alias("_group")) for i, (_, frame) in
              enumerate(chunk)]  # fmt: skip
    after_all = catalogue.resolve(
        pl.concat(tagged, how="diagonal_relaxed"), titles, sorted_titles
    )
    by_group = after_all.partition_by("_group", as_dict=True, include_key=False)
    for i, (group, before) in enumerate(chunk):
        after = by_group.get((i,), before.clear()).select(before.columns).cast(before.schema)
        done.listings_split += int((after["title_source"] == "catalogue").sum())
        if not after.equals(before):
            layout.write_parquet(lake, after, layout.file_path(lake, "listings", group))
            done.files_rewritten += 1


def resolve_lake(where: LakeLike, *, on_message: Callable[[str], None] | None = None) -> Resolution:
    """`listings resolve-titles`: under the lake's lock, rebuild the catalogue from every
    committed listing and re-split every group's unknown titles with it (an older lake is
    converted or upgraded first, as by any run)."""
    lake = manifest.require_lake(where)
    with lock.locked(lake, on_wait=on_message):
        compact.convert(lake, on_message=on_message)
        return resolve_titles(lake)
