"""Compaction: fold a month's small groups of files into large ones; convert older lakes.

A run merges the small groups of each month it wrote into once there are more than
`AUTO_SMALL_GROUPS` (`compact`); `listings compact` merges every month's on demand
(`compact_lake`), and `convert`/`upgrade` rewrite an older layout or schema version. Each
merge is a manifest commit: new files first, then the commit, then the old files go.
Why: docs/lake.md, "Compaction" and "Older lakes".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import polars as pl

from pipeline.errors import LakeError
from pipeline.lake import layout, lock, manifest
from pipeline.lake.storage import LakeLike, Location
from pipeline.vocab import TABLES

# A group is small while its three files together are under half the target size.
SMALL_BYTES = layout.TARGET_FILE_BYTES // 2
# A run merges a month's small groups once there are more than this many: "a few" small
# files cost readers little, and merging on every run would rewrite the month every run.
AUTO_SMALL_GROUPS = 4


@dataclass
class Compaction:
    """What a compaction (or a conversion) did."""

    months: list[str] = field(default_factory=list)  # months whose groups were merged
    groups_merged: int = 0  # input groups
    groups_written: int = 0  # merged groups written in their place
    converted_from: str | None = None  # the old layout, when the lake was converted
    groups_upgraded: int = 0  # groups rewritten with the current version's columns
    upgraded_from: int | None = None  # the oldest schema version among them
    seconds: float = 0.0

    def __bool__(self) -> bool:
        return self.groups_merged > 0 or self.converted_from is not None or self.groups_upgraded > 0

    def render(self) -> str:
        if self.groups_upgraded:
            return (
                f"upgraded {self.groups_upgraded} groups of files written by an older version "
                f"to the current columns (version {layout.SCHEMA_VERSION}, adding "
                f"{layout.additions_since(self.upgraded_from or 0)}; {self.seconds:.1f} s)"
            )
        if self.converted_from is not None:
            return (
                f"converted from the per-day {self.converted_from} layout to monthly files: "
                f"{self.groups_written} groups in {len(self.months)} months "
                f"({self.seconds:.1f} s)"
            )
        return (
            f"merged {self.groups_merged} small groups into {self.groups_written} in "
            f"{len(self.months)} month(s): {', '.join(self.months)} ({self.seconds:.1f} s)"
        )


def groups(
    lake: Location, committed: pl.DataFrame, months: Iterable[str] | None = None
) -> pl.DataFrame:
    """One row per committed monthly group (of `months`, default all): its month, bytes on
    disk (one stat per file: a request each on an object store, hence the filter), first
    fetch date."""
    per_group = (
        committed.group_by("data_file")
        .agg(pl.col("fetched_date").min().alias("first_date"))
        .with_columns(layout.month_of(pl.col("data_file")).alias("month"))
        .sort("month", "first_date", "data_file")
    )
    if months is not None:
        per_group = per_group.filter(pl.col("month").is_in(sorted(months)))
    return _with_bytes(lake, per_group)


def _with_bytes(lake: Location, stems: pl.DataFrame) -> pl.DataFrame:
    """`stems` with `bytes`: the size of each `data_file`'s three files together."""
    names = stems["data_file"].to_list()
    sizes = lake.sizes([layout.file_path(lake, t, n) for n in names for t in TABLES])
    totals = [sum(sizes[layout.file_path(lake, t, n)] for t in TABLES) for n in names]
    return stems.with_columns(pl.Series("bytes", totals, pl.Int64))


def pack(sized: pl.DataFrame, target_bytes: int) -> list[list[str]]:
    """Consecutive groups (in fetch order) packed into bins of at most `target_bytes`.

    A group larger than the target is a bin of its own.
    """
    bins: list[list[str]] = []
    current: list[str] = []
    total = 0
    for name, size in sized.select("data_file", "bytes").iter_rows():
        if current and total + size > target_bytes:
            bins.append(current)
            current, total = [], 0
        current.append(name)
        total += size
    if current:
        bins.append(current)
    return bins


def _by_month(sized: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    parts = sized.partition_by("month", as_dict=True, maintain_order=True)
    return [(month, frame) for (month,), frame in parts.items()]


def merge(
    lake: Location,
    committed: pl.DataFrame,
    month: str,
    sources: list[list[str]],
) -> pl.DataFrame:
    """Write the rows of `sources` (each a group's three files, per table) as one new group.

    Returns the manifest rows of the merged snapshots, pointed at the new group; the caller
    commits them and then deletes the sources. `sources[i]` lists a group's files in
    `TABLES` order, so monthly groups and older per-day files merge alike.
    """
    frames = {
        table: layout.read_files(lake, table, [files[i] for files in sources])
        for i, table in enumerate(TABLES)
    }
    frames = {table: _conform(table, frame) for table, frame in frames.items()}
    snapshot_ids = frames["snapshots"]["snapshot_id"].to_list()
    name = layout.group_name(layout.MERGED_PREFIX, snapshot_ids)
    written = layout.write_group(lake, frames, name)
    if written != [month]:  # sources are packed within one month
        raise LakeError(f"merging into {month} found rows of {', '.join(written)}")
    target = layout.data_file(month, name)
    return committed.filter(pl.col("snapshot_id").is_in(snapshot_ids)).with_columns(
        pl.lit(target).alias("data_file"),
        pl.lit(layout.SCHEMA_VERSION, pl.Int32).alias("schema_version"),
    )


# Columns a later version added that an older file's rows already imply: filled from the
# conformed row where the file lacks them (any other added column is null). Version 3's
# document_ref is the id as the link prints it, which for files before it (numeric ids
# only, no uuids) is document_id as text.
_DERIVED = {"listings": {"document_ref": pl.col("document_id").cast(pl.String)}}


def _conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of a file from any version of the lake, as this version's files hold them.

    A column this version added is filled from the row where `_DERIVED` says how, else with
    nulls; a column it does not know is an error (dropping it would lose data). A file
    that already holds every column is only cast: conforming twice changes nothing.
    """
    schema = layout.file_schema(table)
    unknown = [name for name in frame.columns if name not in schema]
    if unknown:
        raise LakeError(
            f"{table} files hold columns this version does not know: {', '.join(unknown)}"
        )
    conformed = frame.select(
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
    )
    derived = [
        expression.cast(schema[name]).alias(name)
        for name, expression in _DERIVED.get(table, {}).items()
        if name not in frame.columns
    ]
    return conformed.with_columns(derived) if derived else conformed


def compact(
    lake: Location,
    *,
    months: Iterable[str] | None = None,
    more_than: int = 1,
    target_bytes: int = layout.TARGET_FILE_BYTES,
    committed: pl.DataFrame | None = None,
) -> Compaction:
    """Merge the small groups of each month (of `months`, default all) holding more than
    `more_than` of them. `committed` is the manifest, if the caller has just loaded it.
    The caller holds the lake's lock."""
    started = time.perf_counter()
    committed = manifest.load(lake) if committed is None else committed
    done = Compaction()
    if committed.is_empty():
        return done
    sized = groups(lake, committed, months).filter(pl.col("bytes") < min(SMALL_BYTES, target_bytes))
    for month, in_month in _by_month(sized):
        if in_month.height <= more_than:
            continue
        # A group alone in its bin gains nothing from a rewrite.
        for names in (b for b in pack(in_month, target_bytes) if len(b) > 1):
            sources = [[layout.file_path(lake, t, n) for t in TABLES] for n in names]
            rows = merge(lake, committed, month, sources)
            manifest.commit(lake, rows)
            for files in sources:
                for file in files:
                    lake.remove(file)
            done.groups_merged += len(names)
            done.groups_written += 1
            if month not in done.months:
                done.months.append(month)
    done.seconds = time.perf_counter() - started
    return done


def convert(
    lake: Location,
    *,
    target_bytes: int = layout.TARGET_FILE_BYTES,
    on_message: Callable[[str], None] | None = None,
) -> Compaction:
    """Rewrite a lake in an older per-day layout as monthly groups; one commit for all.

    The old files are read month by month (a month's files packed into outputs of at most
    `target_bytes`), so memory stays about one output's worth. The new manifest is written
    in one atomic write only after every new file is in place, so the lake is never half
    converted: before that write it is the old lake (the new files are orphans), after it
    the new one (the old files are). The caller holds the lake's lock.
    """
    started = time.perf_counter()
    committed = manifest.merge_parts(lake)
    old = manifest.layout_of(committed)
    if old is None:
        return Compaction()
    if old == layout.LAYOUT:
        return upgrade(lake, committed, on_message=on_message)
    stems = (
        committed.group_by("data_file", "fetched_date")
        .agg()
        .with_columns(
            pl.format("fetched_date={}/{}", "fetched_date", "data_file").alias("stem"),
            pl.col("fetched_date").str.slice(0, 7).alias("month"),
        )
        .sort("month", "fetched_date", "data_file")
    )
    if on_message:
        on_message(
            f"converting lake {lake.url} from the per-day {old} layout ({stems.height:,} files "
            "per table) to monthly files: once, then it is done"
        )
    sized = _with_bytes(lake, stems.select(pl.col("stem").alias("data_file"), "month"))
    # Old names are per day, and may repeat across days (a batch spanning dates): a source
    # is a (date, name) stem here, and its manifest rows are matched by both.
    converted = Compaction(converted_from=old)
    new_rows = []
    for month, in_month in _by_month(sized):
        for stems_in_bin in pack(in_month, target_bytes):
            sources = [[layout.file_path(lake, t, s) for t in TABLES] for s in stems_in_bin]
            new_rows.append(merge(lake, committed, month, sources))
            converted.groups_written += 1
        converted.months.append(month)
        converted.groups_merged += in_month.height
    moved = pl.concat(new_rows)
    untouched = committed.join(moved.select("snapshot_id"), on="snapshot_id", how="anti")
    converted_rows = pl.concat([moved, untouched])
    manifest.replace(lake, converted_rows)
    manifest.prune(lake, keep=manifest.data_paths(converted_rows))
    converted.seconds = time.perf_counter() - started
    return converted


def upgrade(
    lake: Location,
    committed: pl.DataFrame,
    *,
    on_message: Callable[[str], None] | None = None,
) -> Compaction:
    """Rewrite the groups an older version wrote with this version's columns (new ones null,
    or derived from the row: `_DERIVED`).

    Each group's files are rewritten in place, each atomically, and the manifest records
    the new version in one write at the end: a crash in between leaves files that already
    hold the new columns under rows that say otherwise, and the next run rewrites them
    again (conforming a file twice changes nothing). `committed` is the merged manifest
    (`manifest.merge_parts`). The caller holds the lake's lock.
    """
    started = time.perf_counter()
    outdated = committed.filter(pl.col("schema_version") < layout.SCHEMA_VERSION)
    names = sorted(outdated["data_file"].unique().to_list())
    if not names:
        return Compaction()
    oldest = outdated["schema_version"].min()
    if on_message:
        on_message(
            f"upgrading lake {lake.url}: {len(names):,} groups written by an older version "
            f"gain {layout.additions_since(oldest)} (document_ref from document_id, the "
            "other new columns null for their rows): once"
        )
    for name in names:
        for table in TABLES:
            path = layout.file_path(lake, table, name)
            frame = _conform(table, layout.read_files(lake, table, [path]))
            layout.write_parquet(lake, frame, path)
    manifest.replace(
        lake,
        committed.with_columns(pl.lit(layout.SCHEMA_VERSION, pl.Int32).alias("schema_version")),
    )
    return Compaction(
        groups_upgraded=len(names), upgraded_from=oldest, seconds=time.perf_counter() - started
    )


@dataclass
class LakeCompaction:
    """What `listings compact` did to a lake."""

    lake_dir: str
    files_before: int  # per table
    files_after: int
    leftovers_removed: int
    conversion: Compaction
    compaction: Compaction

    def render(self) -> str:
        lines = [f"lake:      {self.lake_dir}"]
        if self.leftovers_removed:
            lines.append(f"removed:   {self.leftovers_removed} leftover files of crashed runs")
        if self.conversion:
            lines.append(f"converted: {self.conversion.render()}")
        lines.append(
            f"compacted: {self.compaction.render()}"
            if self.compaction
            else "compacted: nothing to merge (no month holds two small groups)"
        )
        lines.append(f"files:     {self.files_before} → {self.files_after} per table")
        return "\n".join(lines)


def compact_lake(
    where: LakeLike, *, on_message: Callable[[str], None] | None = None
) -> LakeCompaction:
    """`listings compact`: under the lake's lock, delete leftovers, convert an older lake,
    and merge every month holding two or more small groups."""
    lake = manifest.require_lake(where)
    with lock.locked(lake, on_wait=on_message):
        committed = manifest.load(lake)
        before = len(manifest.data_paths(committed)) // len(TABLES)
        removed = manifest.prune(lake, keep=manifest.data_paths(committed))
        conversion = convert(lake, on_message=on_message)
        merged = compact(lake, more_than=1)
        after = len(manifest.data_paths(manifest.merge_parts(lake))) // len(TABLES)
    return LakeCompaction(lake.url, before, after, removed, conversion, merged)
