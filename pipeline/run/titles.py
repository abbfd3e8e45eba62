"""Titles from the catalogue, applied to the lake (docs/input-format.md §1.1).

`resolve_titles` splits the text-form listings a run has just written at the exact titles
the whole lake has seen; `resolve_lake` (`listings resolve-titles`) re-splits every group.
Only listings files change, each rewritten atomically; the caller holds the lake's lock.
The catalogue is a cache, `LAKE/_catalogue/catalogue.parquet`, updated from the rows
committed since it was written (`current_catalogue`). Why: docs/lake.md, "The title catalogue".
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import polars as pl

from pipeline.lake import compact, layout, lock, manifest
from pipeline.lake.storage import LakeLike, Location
from pipeline.parse import catalogue

# The kept catalogue: LAKE/_catalogue/catalogue.parquet.
DIRNAME = "_catalogue"
FILENAME = "catalogue.parquet"
# Its key-value metadata: what it was built from.
HISTORY_KEY = "listings:history"  # the lake's history token at the time
WATERMARK_KEY = "listings:committed_ns"  # the largest committed_ns it covers ('' for none)
RULES_KEY = "listings:rules"  # `rules()`: which listings make which entries


@dataclass
class Resolution:
    """What a resolution did."""

    titles: int = 0  # catalogue entries (title × document)
    listings_split: int = 0  # listings whose title now comes from the catalogue
    files_rewritten: int = 0
    seconds: float = 0.0
    catalogue: str = ""  # how the catalogue was had: kept and updated, or rebuilt (and why)

    def render(self) -> str:
        """One line; it ends with the seconds, as `… (…, 1.2 s)` (benchmarks read them)."""
        how = f"catalogue {self.catalogue}, " if self.catalogue else ""
        return (
            f"{self.listings_split:,} text-form listings titled from a catalogue of "
            f"{self.titles:,} exact titles ({self.files_rewritten} files rewritten, "
            f"{how}{self.seconds:.1f} s)"
        )


def path(lake: Location) -> str:
    """Where the lake keeps its catalogue."""
    return lake.path(DIRNAME, FILENAME)


def rules() -> str:
    """A digest of what makes a catalogue entry (the exact sources, the longest title, the
    columns): a catalogue kept under other rules is rebuilt, not updated."""
    facts = (catalogue.EXACT_SOURCES, catalogue.MAX_TITLE_CHARS, list(catalogue.COLUMNS.items()))
    text = repr(facts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Kept:
    """The catalogue file as written: its rows, and what they were built from."""

    rows: pl.DataFrame
    history: str
    watermark: int | None  # the largest committed_ns of the manifest rows it covers
    rules: str


def read_kept(lake: Location) -> Kept | None:
    """The kept catalogue, or None if there is none or it is not one (unreadable, other
    columns, out of order): a cache, so never an error."""
    where = path(lake)
    try:
        if not lake.exists(where):
            return None
        data = lake.read_bytes(where)
        meta = pl.read_parquet_metadata(io.BytesIO(data))
        rows = pl.read_parquet(io.BytesIO(data))
    except (OSError, pl.exceptions.PolarsError):
        return None
    if rows.schema != pl.Schema(catalogue.COLUMNS) or not rows["title"].is_sorted():
        return None
    mark = meta.get(WATERMARK_KEY, "")
    return Kept(
        rows=rows,
        history=meta.get(HISTORY_KEY, ""),
        watermark=int(mark) if mark.isdigit() else None,
        rules=meta.get(RULES_KEY, ""),
    )


def write_kept(lake: Location, rows: pl.DataFrame, history: str, watermark: int | None) -> None:
    """Keep `rows` as the lake's catalogue, built from history `history` up to `watermark`:
    rows and metadata in one file, written atomically. The caller holds the lake's lock, so
    temporary files of a write that died before are deleted first."""
    for stale in lake.glob(lake.path(DIRNAME, ".*.tmp")):
        lake.remove(stale)
    buffer = io.BytesIO()
    rows.write_parquet(
        buffer,
        compression="lz4",  # read whole by the next run: fast both ways over small
        statistics=False,  # nothing ever filters it
        row_group_size=layout.ROW_GROUP_ROWS,
        metadata={
            HISTORY_KEY: history,
            WATERMARK_KEY: "" if watermark is None else str(watermark),
            RULES_KEY: rules(),
        },
    )
    lake.write_atomic(path(lake), buffer.getvalue())


def lake_catalogue(lake: Location, committed: pl.DataFrame) -> pl.DataFrame:
    """The catalogue of every listing the manifest has committed, read from them all."""
    return _catalogue_of(lake, committed["data_file"].unique().sort().to_list())


def watermark(committed: pl.DataFrame) -> int | None:
    """The largest commit time of the manifest's rows; None if none was recorded."""
    latest = committed["committed_ns"].max()
    return None if latest is None else int(latest)  # type: ignore[arg-type]


def current_catalogue(
    lake: Location,
    committed: pl.DataFrame,
    *,
    groups: Iterable[str] = (),
    rebuild: str | None = None,
) -> tuple[pl.DataFrame, str]:
    """The lake's catalogue, `lake_catalogue(lake, committed)` row for row, and how it was
    had: the kept one updated with the rows committed since it (and those of `groups`,
    whatever their commit times), or rebuilt from the whole lake when the kept one cannot
    be used, or when `rebuild` says why to. The result is kept for the next call. The caller
    holds the lake's lock; `committed` is the manifest (`manifest.load`)."""
    history = manifest.history(lake)
    latest = watermark(committed)
    kept = None if rebuild else read_kept(lake)
    why = rebuild or _unusable(lake, kept, history, latest)
    if why or kept is None or kept.watermark is None:
        rows = lake_catalogue(lake, committed)
        write_kept(lake, rows, history, latest)
        return rows, f"rebuilt from the whole lake: {why}"
    new = committed.filter(
        (pl.col("committed_ns") > kept.watermark) | pl.col("data_file").is_in(list(groups))
    )
    files = new["data_file"].unique().sort().to_list()
    rows = catalogue.merge(kept.rows, _catalogue_of(lake, files, new["snapshot_id"]))
    if files or latest != kept.watermark:
        write_kept(lake, rows, history, latest)
    return rows, f"updated from {len(files)} new files: +{rows.height - kept.rows.height:,} entries"


def _unusable(lake: Location, kept: Kept | None, history: str, latest: int | None) -> str | None:
    """Why the kept catalogue cannot be updated (None: it can)."""
    if kept is None:
        return "it was unreadable" if lake.exists(path(lake)) else "none kept yet"
    if kept.rules != rules():
        return "kept under other rules"
    if kept.history != history:
        return "the lake's history changed"
    if kept.watermark is None or latest is None or kept.watermark > latest:
        return "commit times unknown"
    return None


def _catalogue_of(
    lake: Location, groups: list[str], snapshot_ids: pl.Series | None = None
) -> pl.DataFrame:
    """The catalogue of the listings files of `groups` (data_file names), only their rows
    of `snapshot_ids` if given."""
    if not groups:
        return pl.DataFrame(schema=catalogue.COLUMNS)
    paths = [layout.file_path(lake, "listings", g) for g in groups]
    columns = list(catalogue.SOURCE_COLUMNS)
    keep = pl.lit(True)
    if snapshot_ids is not None:
        columns.append("snapshot_id")
        keep = pl.col("snapshot_id").is_in(snapshot_ids.implode())
    try:
        frames = read_listings(lake, paths, columns)
        parts = [catalogue.build(frame.filter(keep)) for frame in frames]
    except (OSError, ValueError, pl.exceptions.PolarsError) as error:
        raise layout.damaged(lake, "listings", error) from None
    return parts[0] if len(parts) == 1 else catalogue.union(parts)


# Listings files one lazy scan reads on a local lake: a catalogue built from many (a first
# run's, a rebuild's) holds one scan's rows at a time, not the whole lake's.
SCAN_FILES = 16


def read_listings(lake: Location, paths: list[str], columns: list[str]) -> Iterator[pl.LazyFrame]:
    """`columns` of the listings files at `paths`, reading nothing else: lazy scans of
    `SCAN_FILES` files at a time on a local lake; on an object store one file at a time (the
    byte ranges of those columns), so a rebuild holds one file's listings at once."""
    if lake.is_local:
        for start in range(0, len(paths), SCAN_FILES):
            chunk = paths[start : start + SCAN_FILES]
            yield pl.scan_parquet(chunk, hive_partitioning=False).select(columns)
        return
    import pyarrow.parquet as pq  # object stores only

    for file in paths:
        frame = pl.from_arrow(pq.read_table(file, columns=columns, filesystem=lake.fs))
        assert isinstance(frame, pl.DataFrame)
        yield frame.lazy()


# Listings resolved together: each chunk of groups is one vectorised resolution, instead of
# one per group; the chunk bounds the memory a whole-lake resolution holds at once.
RESOLVE_CHUNK_ROWS = 200_000
# What a resolution changes, and what it reads to do so.
RESOLVED = ["title", "description", "title_source"]
RESOLVED_FROM = [*RESOLVED, "heading", "site", "pages", "size_bytes_min", "size_bytes_max"]


def resolve_titles(
    lake: Location,
    groups: Iterable[str] | None = None,
    *,
    rewrites_history: bool = True,
    committed: pl.DataFrame | None = None,
) -> Resolution:
    """Split the unknown titles of `groups` (data_file names; default every group) at the
    lake's catalogue titles, rewriting the listings files that change.

    The catalogue is the kept one updated with what was committed since (the groups' own
    rows included: a run's new exact titles split its own listings too); with every group
    (`listings resolve-titles`) it is rebuilt from the whole lake.

    `rewrites_history=False` only for groups no reader has seen yet (a run's own, before it
    returns); otherwise the lake's history token changes first (`manifest.rewrite_history`).
    `committed`: the manifest, if the caller has it loaded.
    """
    started = time.perf_counter()
    if rewrites_history:
        manifest.rewrite_history(lake)
    if committed is None:
        committed = manifest.load(lake)
    targets = sorted(set(committed["data_file"]) if groups is None else set(groups))
    titles, how = current_catalogue(
        lake,
        committed,
        groups=targets,
        rebuild="every group re-titled" if groups is None else None,
    )
    done = Resolution(titles=titles.height, catalogue=how)
    table = catalogue.lookup(titles)  # once for every chunk
    chunk: list[tuple[str, pl.DataFrame]] = []
    rows = 0
    for group in targets:
        path_ = layout.file_path(lake, "listings", group)
        chunk.append((group, layout.read_files(lake, "listings", [path_])))
        rows += chunk[-1][1].height
        if rows >= RESOLVE_CHUNK_ROWS:
            _resolve_chunk(lake, chunk, table, done)
            chunk, rows = [], 0
    if chunk:
        _resolve_chunk(lake, chunk, table, done)
    done.seconds = time.perf_counter() - started
    return done


def _resolve_chunk(
    lake: Location,
    chunk: list[tuple[str, pl.DataFrame]],
    table: catalogue.Lookup,
    done: Resolution,
) -> None:
    """Resolve a chunk of groups' listings in one pass; rewrite the files that change.

    Only the columns the resolution reads go through it (`RESOLVED_FROM`); each file's
    three title columns are then replaced by its slice of the result (the resolution keeps
    the rows' order), so a chunk's other columns are never copied."""
    narrow = pl.concat([frame.select(RESOLVED_FROM) for _, frame in chunk], how="vertical_relaxed")
    resolved = catalogue.resolve(narrow, table).select(RESOLVED)
    start = 0
    for group, before in chunk:
        part = resolved.slice(start, before.height).cast(before.select(RESOLVED).schema)
        start += before.height
        done.listings_split += int((part["title_source"] == "catalogue").sum())
        if not part.equals(before.select(RESOLVED)):
            after = before.with_columns(part)
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
