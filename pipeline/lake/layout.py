"""The Parquet lake's files: monthly partitions of few large groups, written atomically.

`LAKE/TABLE/fetched_month=YYYY-MM/<group>.parquet`: a run writes each batch as one group
(one file per table and month it touches), rows in a fixed order, names from content, so
the same runs write the same bytes. Which groups are live is the manifest's word
(`manifest`), never a folder listing. Why: docs/lake.md, "Files".
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable, Mapping

import polars as pl

from pipeline.errors import LakeError
from pipeline.lake.storage import Location
from pipeline.vocab import TABLE_MODELS, TABLES

PARTITION = "fetched_month"  # the folder key: the UTC month of fetched_at, YYYY-MM
DATE_COLUMN = "fetched_date"  # in every file: the UTC day of fetched_at
LAYOUT = "monthly"
BATCH_PREFIX = "batch-"  # a group a run wrote
MERGED_PREFIX = "merged-"  # a group compaction wrote
# How the manifest names a group's files (`data_file`), as patterns: `data_file(month,
# group_name(…))` in the monthly layout; a snapshot id or a batch's name in an older per-day
# one (the folder was the row's `fetched_date`). A name of another shape (`..`, another
# table's folder) is no file the lake wrote: the manifest is damaged (`manifest._read`).
GROUP = rf"(?:{BATCH_PREFIX}|{MERGED_PREFIX})[0-9a-f]{{20}}"
MONTHLY_DATA_FILE = rf"{PARTITION}=[0-9]{{4}}-[0-9]{{2}}/{GROUP}"
DATA_FILE = rf"^(?:{MONTHLY_DATA_FILE}|(?:{BATCH_PREFIX})?[0-9a-f]{{20}})$"
# A group's three files together; docs/lake.md says why this size.
TARGET_FILE_BYTES = 128 * 2**20
# DuckDB's own row-group size: its scans are parallel per row group.
ROW_GROUP_ROWS = 122_880
# The version of the tables' columns a group's files hold, recorded per snapshot in the
# manifest. 1: the text form's columns; 2: the HTML/JSON facts added (listings.document_id …,
# snapshots.site_document_count, search_seconds); 3: listings.document_ref (the id as the
# page's link prints it: numeric or a uuid), snapshots.layout and page_type. Every file a
# reader opens must hold the current version: older groups are rewritten once by
# `compact.upgrade` (docs/lake.md), new columns appended at the end of each table.
SCHEMA_VERSION = 3
# What each version added, for the messages that name an upgrade.
SCHEMA_ADDITIONS = {
    2: "the HTML and JSON forms' columns (listings.document_id …, snapshots.search_seconds …)",
    3: "listings.document_ref, snapshots.layout and snapshots.page_type",
}

# Within a file rows follow fetch time, then these (a total order: same rows, same bytes).
_ORDER = {
    "listings": ["snapshot_id", "position"],
    "rejects": ["snapshot_id", "byte_start", "byte_end"],
    "snapshots": ["snapshot_id"],
}
_AT = "__fetched_at"  # a snapshot's fetch time joined onto every table's rows while sorting


def additions_since(version: int) -> str:
    """What a file of `version` lacks, in words: the additions of every later version."""
    return "; ".join(words for added, words in sorted(SCHEMA_ADDITIONS.items()) if added > version)


def retired_note(option: str | None) -> str | None:
    """The note to print when a script still passes the retired `--layout`, else None."""
    if option is None:
        return None
    return (
        f"--layout {option} is retired and ignored: every lake now has one layout, few large "
        "monthly files (see docs/lake.md)"
    )


def file_schema(table: str) -> pl.Schema:
    """The columns of a table's files: its pandera model's, then `fetched_date`.

    pandera is imported here, not with the module: readers of the lake (`listings sql`)
    start without it (it is slow to import).
    """
    from pipeline import schemas

    model = getattr(schemas, TABLE_MODELS[table])
    return pl.Schema({**schemas.polars_schema(model), DATE_COLUMN: pl.Date})


def group_name(prefix: str, snapshot_ids: Iterable[str]) -> str:
    """A group's name, from the snapshots it holds: same snapshots, same name."""
    digest = hashlib.sha256("\n".join(sorted(snapshot_ids)).encode())
    return prefix + digest.hexdigest()[:20]


def data_file(month: str, name: str) -> str:
    """How the manifest names a group's files: their path under a table's folder, no suffix."""
    return f"{PARTITION}={month}/{name}"


def day(fetched_at: pl.Expr) -> pl.Expr:
    """The UTC day a snapshot was fetched on: its rows' `fetched_date`."""
    return fetched_at.dt.date()


def month(fetched_at: pl.Expr) -> pl.Expr:
    """The UTC month (`YYYY-MM`) a snapshot was fetched in: the folder its rows go to."""
    return fetched_at.dt.strftime("%Y-%m")


def data_file_of(month_: pl.Expr, name: str) -> pl.Expr:
    """`data_file` as an expression: the group `name` in the month's folder."""
    return pl.format("{}={}/{}", pl.lit(PARTITION), month_, pl.lit(name))


def month_of(data_file_: pl.Expr) -> pl.Expr:
    """The month (`YYYY-MM`) of a manifest `data_file` name, from its folder."""
    return data_file_.str.extract(rf"^{PARTITION}=([^/]+)/")


def file_path(lake: Location, table: str, data_file_: str) -> str:
    return lake.path(table, f"{data_file_}.parquet")


def dates(snapshots: pl.DataFrame) -> pl.DataFrame:
    """Each snapshot's fetch time, UTC day and month: what places its rows in the lake."""
    at = pl.col("fetched_at")
    return snapshots.select(
        "snapshot_id",
        at.alias(_AT),
        day(at).alias(DATE_COLUMN),
        month(at).alias(PARTITION),
    )


def arrange(table: str, frame: pl.DataFrame, dated: pl.DataFrame) -> pl.DataFrame:
    """A table's rows as its files hold them: `fetched_date` added, sorted by fetch time.

    `dated` (from `dates`) must cover every snapshot in `frame`; the month stays as a
    column for the caller to split on.
    """
    joined = frame.drop(DATE_COLUMN, strict=False).join(
        dated, on="snapshot_id", how="left", maintain_order="left"
    )
    order = [_AT, *_ORDER[table]]
    return joined.sort(order, maintain_order=True).select(*file_schema(table).names(), PARTITION)


def encode(frame: pl.DataFrame) -> bytes:
    """Parquet bytes by polars' writer: snappy, statistics on, DuckDB-sized row groups."""
    buffer = io.BytesIO()
    frame.write_parquet(
        buffer, compression="snappy", statistics=True, row_group_size=ROW_GROUP_ROWS
    )
    return buffer.getvalue()


def write_parquet(lake: Location, frame: pl.DataFrame, path: str) -> None:
    """Write one Parquet file atomically (see `storage.Location.write_atomic`)."""
    lake.write_atomic(path, encode(frame))


def write_group(lake: Location, tables: Mapping[str, pl.DataFrame], name: str) -> list[str]:
    """Write one group: a file per table and month of its snapshots; return the months.

    Every month gets all three tables, empty ones included, so a glob over any table finds
    files with the schema even where nothing was rejected. Snapshots go last: until its
    snapshot rows exist a group shows nothing to readers that join on them.
    """
    dated = dates(tables["snapshots"])
    months = sorted(dated[PARTITION].unique().to_list())
    for table in TABLES:
        frame = arrange(table, tables[table], dated)
        parts = frame.partition_by(PARTITION, as_dict=True, include_key=False)
        empty = frame.clear().drop(PARTITION)
        for month in months:
            part = parts.get((month,), empty)
            lake.write_atomic(file_path(lake, table, data_file(month, name)), encode(part))
    return months


def batch_name(snapshots: pl.DataFrame, generation: str = "") -> str:
    """A run's group name, from its snapshots and the files they were read from.

    The files count too: a copy of a page (same bytes, same fetch time) read in a later
    batch must not get the name, and so overwrite the files, of the group already holding
    its snapshot. So does the lake's `generation` (a full refresh's: see
    `storage.Location`), so a refresh never overwrites a group the manifest still names.
    """
    pairs = snapshots.select(pl.format("{}\t{}", "snapshot_id", "source_path")).to_series()
    salt = [f"generation\t{generation}"] if generation else []
    return group_name(BATCH_PREFIX, [*salt, *pairs.to_list()])


def write_batch(lake: Location, tables: Mapping[str, pl.DataFrame]) -> str:
    """Write a normalised batch as a new group; return its name."""
    name = batch_name(tables["snapshots"], lake.generation)
    write_group(lake, tables, name)
    return name


def read_files(lake: Location, table: str, paths: list[str]) -> pl.DataFrame:
    """The rows of some of a table's files, in the order given, as the table's file schema.

    A missing or damaged file is a `LakeError` naming `listings verify`, not a traceback.
    """
    if not paths:
        return pl.DataFrame(schema=file_schema(table))
    try:
        if lake.is_local:
            return pl.read_parquet(paths, hive_partitioning=False)
        return pl.concat([pl.read_parquet(io.BytesIO(lake.read_bytes(p))) for p in paths])
    except (OSError, pl.exceptions.PolarsError) as error:
        raise damaged(lake, table, error) from None


def damaged(lake: Location, table: str, error: Exception) -> LakeError:
    """The error for a committed `table` file that could not be read: which lake, the first
    line of why, and the command that names the file."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    return LakeError(
        f"{lake.url}: a committed {table} file is missing or damaged ({first}): "
        f"`listings verify {lake.url}` names it"
    )


def table_files(lake: Location, table: str) -> list[str]:
    """Every data file under a table's folder, in any layout, committed or not.

    For tidying up only (`manifest.prune`): readers take the manifest's list. Temporary files of a
    write that died are included: nothing else writes while the caller holds the lock.
    """
    top = lake.path(table)
    if lake.is_local:  # os.walk lists names without a stat each: fast on many files
        return sorted(
            f"{folder}/{name}"
            for folder, _, names in os.walk(top)
            for name in names
            if name.endswith(".parquet") or (name.startswith(".") and name.endswith(".tmp"))
        )
    return [p for p in lake.find(top) if p.endswith(".parquet")]
