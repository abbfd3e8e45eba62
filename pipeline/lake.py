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
import pyarrow as pa
import pyarrow.parquet as pq

TABLES = ("listings", "rejects", "snapshots")  # snapshots last: it commits the snapshot
PARTITION = "fetched_date"
_TMP_SUFFIX = ".tmp"


def partition_dir(lake: Path, table: str, fetched_date: str) -> Path:
    return lake / table / f"{PARTITION}={fetched_date}"


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write Parquet to a temporary sibling, then rename over the target (atomic on POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{_TMP_SUFFIX}")
    try:
        # Snappy without dictionaries: files hold one page each, so per-file encoder set-up
        # costs more than it saves (measured: 0.36 ms a file against 0.81 ms for zstd).
        # Encoding into memory and writing the bytes once skips pyarrow's per-file
        # filesystem set-up, which costs more than the encoding for a file this small.
        buffer = pa.BufferOutputStream()
        pq.write_table(table, buffer, compression="snappy", use_dictionary=False)
        tmp.write_bytes(buffer.getvalue().to_pybytes())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _slices(frame: pl.DataFrame) -> tuple[pa.Table, dict[str, tuple[int, int]]]:
    """The frame as one Arrow table sorted by snapshot, and each snapshot's (offset, length).

    Writing zero-copy slices of one table is ~2.5x faster than a polars write per part,
    and a page of ten listings makes files small enough that per-file cost dominates.
    """
    ordered = frame.sort("snapshot_id", maintain_order=True)
    counts = ordered.group_by("snapshot_id", maintain_order=True).len()
    offsets = counts.with_columns((pl.col("len").cum_sum() - pl.col("len")).alias("offset"))
    return ordered.to_arrow(), {
        sid: (offset, length) for sid, length, offset in offsets.iter_rows()
    }


def write_snapshots(lake: Path, tables: dict[str, pl.DataFrame]) -> list[Path]:
    """Write every snapshot of a batch: three files each, empty tables included.

    Empty files are written on purpose: if a rerun finds no rejects where an earlier run
    found some, the empty file replaces the stale one instead of leaving it behind.
    """
    dates = tables["snapshots"].select(
        "snapshot_id", pl.col("fetched_at").dt.strftime("%Y-%m-%d").alias(PARTITION)
    )
    sliced = {name: _slices(tables[name]) for name in TABLES}
    written: list[Path] = []
    for snapshot_id, fetched_date in dates.iter_rows():
        for name in TABLES:
            arrow, spans = sliced[name]
            offset, length = spans.get(snapshot_id, (0, 0))
            path = partition_dir(lake, name, fetched_date) / f"{snapshot_id}.parquet"
            write_atomic(arrow.slice(offset, length), path)
            written.append(path)
    return written


def prune(lake: Path, keep: set[Path]) -> int:
    """Delete table files not in `keep` (stale after a full refresh); returns how many."""
    removed = 0
    for name in TABLES:
        for file in (lake / name).glob(f"{PARTITION}=*/*.parquet"):
            if file not in keep:
                file.unlink()
                removed += 1
        for folder in (lake / name).glob(f"{PARTITION}=*"):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    return removed


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
