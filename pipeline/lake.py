"""The Parquet lake: one file per snapshot per table, written atomically and idempotently.

Layout: `LAKE/{listings,snapshots,rejects}/fetched_date=YYYY-MM-DD/<snapshot_id>.parquet`.
A snapshot's id is a hash of its bytes and fetch time, so rerunning a file rewrites the
same three paths with the same bytes: reruns never duplicate rows. Each file is written to
a temporary name and renamed into place, so a reader or a crash never sees half a file;
the snapshots file is written last and is the snapshot's commit marker (the warehouse only
shows listings and rejects whose snapshot row exists).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import polars as pl

TABLES = ("listings", "rejects", "snapshots")  # snapshots last: it commits the snapshot
PARTITION = "fetched_date"
_TMP_SUFFIX = ".tmp"


def partition_dir(lake: Path, table: str, fetched_date: str) -> Path:
    return lake / table / f"{PARTITION}={fetched_date}"


def write_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write Parquet to a temporary sibling, then rename over the target (atomic on POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{_TMP_SUFFIX}")
    try:
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_snapshots(lake: Path, tables: dict[str, pl.DataFrame]) -> list[Path]:
    """Write every snapshot of a batch: three files each, empty tables included.

    Empty files are written on purpose: if a rerun finds no rejects where an earlier run
    found some, the empty file replaces the stale one instead of leaving it behind.
    """
    snapshots = tables["snapshots"]
    dates = snapshots.select(
        "snapshot_id", pl.col("fetched_at").dt.strftime("%Y-%m-%d").alias(PARTITION)
    )
    written: list[Path] = []
    groups = {
        name: {
            key[0]: part
            for key, part in tables[name].partition_by("snapshot_id", as_dict=True).items()
        }
        for name in TABLES
    }
    for snapshot_id, fetched_date in dates.iter_rows():
        for name in TABLES:
            frame = groups[name].get(snapshot_id, tables[name].head(0))
            path = partition_dir(lake, name, fetched_date) / f"{snapshot_id}.parquet"
            write_atomic(frame, path)
            written.append(path)
    return written


def table_glob(lake: Path, table: str) -> str:
    """The glob that reads a table (polars and DuckDB both take it)."""
    return str(lake.resolve() / table / f"{PARTITION}=*" / "*.parquet")


def has_files(lake: Path, table: str) -> bool:
    return any((lake / table).glob(f"{PARTITION}=*/*.parquet"))


def row_counts(lake: Path) -> dict[str, int]:
    """Rows per table in the whole lake (reads Parquet metadata only)."""
    counts = {}
    for name in ("snapshots", "listings", "rejects"):
        counts[name] = (
            pl.scan_parquet(table_glob(lake, name)).select(pl.len()).collect().item()
            if has_files(lake, name)
            else 0
        )
    return counts
