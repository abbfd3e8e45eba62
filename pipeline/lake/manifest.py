"""The lake's manifest: which snapshots the lake holds, and in which group of files.

`LAKE/_manifest/manifest.parquet` has one row per snapshot file ever committed, naming the
group that holds its rows (`data_file`, e.g. `fetched_month=2026-11/batch-3f9c…`: the
files are `LAKE/TABLE/<data_file>.parquet`; see docs/lake.md). It is the lake's truth:
readers take their file lists from it (`committed_files`), and files it does not name are
leftovers that the next run deletes.

A run compares its input with these rows to find what is new (`pipeline.run.plan`).

Every change — a batch written, a compaction — is committed *after* its data files are in
place, as a small part file of its own (`_manifest/part-*.parquet`), so a commit costs its
own rows, not the whole manifest's. Once more than `PARTS_KEPT` have piled up, a run merges
them into `manifest.parquet` at its end (rewriting a 100 000-row manifest after every small
run would be a tenth of its time); a crash during the merge leaves rows in both places,
which `load` de-duplicates (a later commit wins). Writers hold the lake's lock
(`pipeline.lake.lock`).
"""

from __future__ import annotations

import io
import time
import uuid

import polars as pl

from pipeline.errors import NotALakeError, OldLayoutError
from pipeline.lake import layout
from pipeline.lake.storage import LakeLike, Location
from pipeline.vocab import TABLES

DIRNAME = "_manifest"
SCHEMA = {
    "content_sha256": pl.String,
    "source_path": pl.String,
    "byte_count": pl.Int64,
    "mtime_ns": pl.Int64,
    "snapshot_id": pl.String,
    "fetched_date": pl.String,
    "listing_count": pl.Int64,
    "reject_count": pl.Int64,
    "data_file": pl.String,
    "schema_version": pl.Int32,  # layout.SCHEMA_VERSION of the group's files
}


def path(lake: Location) -> str:
    return lake.path(DIRNAME, "manifest.parquet")


PART_PREFIX = "part-"
PARTS_KEPT = 16  # parts a run leaves unmerged: each costs readers one small file read
KEY = ["snapshot_id", "source_path"]


def _parts(where: Location) -> list[str]:
    """Committed batches not merged into manifest.parquet yet, oldest first."""
    return where.glob(where.path(DIRNAME, f"{PART_PREFIX}*.parquet"))


def _read(where: Location, file: str) -> pl.DataFrame:
    frame = pl.read_parquet(io.BytesIO(where.read_bytes(file)))
    if "data_file" not in frame.columns:  # written before the batch layout existed
        frame = frame.with_columns(pl.col("snapshot_id").alias("data_file"))
    if "schema_version" not in frame.columns:  # written before versions were recorded
        frame = frame.with_columns(pl.lit(1, pl.Int32).alias("schema_version"))
    return frame.select(list(SCHEMA)).cast(SCHEMA)  # type: ignore[arg-type]


def load(lake: Location) -> pl.DataFrame:
    """The committed rows (merged manifest and parts), or an empty manifest for a new lake.

    In no particular order: `merge_parts` sorts what it writes. Parts hold a few rows each,
    so they are applied as an update of the merged manifest's rows (a later commit wins)
    rather than by de-duplicating the whole manifest.
    """
    base = [path(lake)] if lake.exists(path(lake)) else []
    parts = _parts(lake)
    if not base and not parts:
        return pl.DataFrame(schema=SCHEMA)
    committed = _read(lake, base[0]) if base else pl.DataFrame(schema=SCHEMA)
    if not parts:
        return committed
    updates = pl.concat([_read(lake, part) for part in parts]).unique(
        KEY, keep="last", maintain_order=True
    )
    return pl.concat([committed.join(updates, on=KEY, how="anti"), updates])


def require_lake(lake: LakeLike) -> Location:
    """The lake's location; `NotALakeError` if it has no manifest folder (a typo, or
    nothing normalised there yet), for commands that read a lake rather than create one."""
    where = Location.of(lake)
    if not where.exists(where.path(DIRNAME)):
        raise NotALakeError(
            f"{where.url} is not a lake: it has no {DIRNAME}/ folder (write one with "
            f"`listings normalise PATH --out {where.url}`)"
        )
    return where


def committed_files(lake: LakeLike) -> dict[str, list[str]]:
    """Every table's committed data files, as URIs DuckDB and polars open (see docs/lake.md).

    Readers bound to this list never see a crashed run's files or a compaction's leftovers,
    and never list a folder. Raises `NotALakeError` where there is no lake, and
    `OldLayoutError` for a lake still in a pre-monthly layout.
    """
    where = require_lake(lake)
    committed = load(where)
    if layout_of(committed) not in (None, layout.LAYOUT):
        raise OldLayoutError(
            f"{where.url} is in the old per-day layout: convert it once with "
            f"`listings compact --lake {where.url}` (or any `listings normalise` into it)"
        )
    outdated = committed.filter(pl.col("schema_version") < layout.SCHEMA_VERSION)
    if not outdated.is_empty():
        raise OldLayoutError(
            f"{where.url} holds {outdated['data_file'].n_unique()} groups of files written "
            "by an older version of listings (without the columns the HTML and JSON forms "
            f"added): upgrade it once with `listings compact --lake {where.url}` (or any "
            "`listings normalise` into it)"
        )
    groups = sorted(committed["data_file"].unique().to_list())
    return {
        table: [where.uri(where.path(table, f"{group}.parquet")) for group in groups]
        for table in TABLES
    }


def layout_of(committed: pl.DataFrame) -> str | None:
    """The lake's layout as its manifest shows it; None for a lake with nothing committed.

    `layout.LAYOUT` names groups by their month folder (`fetched_month=…/name`); older lakes
    named a per-day file by snapshot id (`snapshot`) or batch (`batch`), under
    `fetched_date=YYYY-MM-DD/` folders.
    """
    if committed.is_empty():
        return None
    names = committed["data_file"]
    if bool(names.str.starts_with(f"{layout.PARTITION}=").all()):
        return layout.LAYOUT
    return "batch" if bool(names.str.starts_with(layout.BATCH_PREFIX).any()) else "snapshot"


def data_paths(committed: pl.DataFrame) -> set[str]:
    """Every data file the manifest names, relative to the lake, in whichever layout."""
    if committed.is_empty():
        return set()
    monthly = pl.col("data_file").str.starts_with(f"{layout.PARTITION}=")
    stem = (
        pl.when(monthly)
        .then(pl.col("data_file"))
        .otherwise(pl.format("fetched_date={}/{}", "fetched_date", "data_file"))
    )
    stems = committed.select(stem.unique())["data_file"].to_list()
    return {f"{table}/{s}.parquet" for table in layout.TABLES for s in stems}


def rows_for(snapshots_read: pl.DataFrame, snapshots: pl.DataFrame, name: str) -> pl.DataFrame:
    """Manifest rows for a group that has just been written (read frame + snapshots table).

    One row per file read, so a second file holding a snapshot already in the group (a
    copy, or the same file by another path) is recorded too and skipped by the next run.
    `name` is the group's; each snapshot's `data_file` adds the folder of its month.
    """
    at = pl.col("fetched_at")
    return snapshots_read.select(
        "snapshot_id", "content_sha256", "source_path", "byte_count", "mtime_ns"
    ).join(
        snapshots.select(
            "snapshot_id",
            layout.day(at).cast(pl.String).alias("fetched_date"),
            "listing_count",
            "reject_count",
            layout.data_file_of(layout.month(at), name).alias("data_file"),
            pl.lit(layout.SCHEMA_VERSION, pl.Int32).alias("schema_version"),
        ),
        on="snapshot_id",
    )


def row_counts(committed: pl.DataFrame) -> dict[str, int]:
    """Rows per lake table, from the manifest (`load`): no need to open any data file.

    The manifest records each committed snapshot's listing and reject counts; a snapshot
    seen under two file names is counted once, as the lake holds it once.
    """
    committed = committed.unique("snapshot_id")
    return {
        "snapshots": committed.height,
        "listings": int(committed["listing_count"].sum()),
        "rejects": int(committed["reject_count"].sum()),
    }


def commit(lake: Location, rows: pl.DataFrame) -> None:
    """Add a batch's rows (after its data files are written), as one atomic part file.

    Part names sort in commit order (nanosecond clock first), so `load` lets a later
    commit win; the random tail keeps two writers from ever sharing a name.
    """
    frame = rows.select(list(SCHEMA)).cast(SCHEMA).sort(KEY)  # type: ignore[arg-type]
    name = f"{PART_PREFIX}{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
    layout.write_parquet(lake, frame, lake.path(DIRNAME, name))


def merge_parts(
    lake: Location, *, more_than: int = 0, committed: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Merge the part files into manifest.parquet (written atomically, sorted), then drop
    them, once there are more than `more_than`; return the committed rows (`load`'s, or
    `committed` if the caller has just loaded them)."""
    parts = _parts(lake)
    committed = load(lake) if committed is None else committed
    if len(parts) <= more_than:
        return committed
    committed = committed.sort(KEY)
    layout.write_parquet(lake, committed, path(lake))
    for part in parts:
        lake.remove(part)
    return committed


def replace(lake: Location, rows: pl.DataFrame) -> None:
    """Make `rows` the whole manifest in one atomic write (a layout conversion's commit).

    Parts must be merged first: they load after manifest.parquet, so a leftover part's
    older rows would win over the new ones.
    """
    if _parts(lake):
        raise RuntimeError("manifest.replace with unmerged parts: call merge_parts first")
    frame = rows.select(list(SCHEMA)).cast(SCHEMA).sort(KEY)  # type: ignore[arg-type]
    layout.write_parquet(lake, frame, path(lake))


def reset(lake: Location) -> None:
    """Forget every committed file (a full refresh rebuilds the lake)."""
    for file in [path(lake), *_parts(lake)]:
        lake.remove(file)


def scan(lake: LakeLike, table: str) -> pl.LazyFrame:
    """A table as the manifest committed it, for notebooks: `scan("data/lake", "listings")`.

    Unlike a glob, it never shows a crashed run's files or a compaction's leftovers.
    """
    files = committed_files(lake)[table]
    if not files:
        return pl.LazyFrame(schema={**layout.file_schema(table), layout.PARTITION: pl.String})
    return pl.scan_parquet(files, hive_partitioning=True)
