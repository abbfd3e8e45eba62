"""The Parquet lake: one file per snapshot per table, written atomically and idempotently.

Layout: `LAKE/{listings,snapshots,rejects}/fetched_date=YYYY-MM-DD/<snapshot_id>.parquet`.
A snapshot's id is a hash of its bytes and fetch time, so rerunning a file rewrites the
same three paths with the same bytes: reruns never duplicate rows. Each file is written to
a temporary name and renamed into place, so a reader or a crash never sees half a file;
the snapshots file is written last and is the snapshot's commit marker (the warehouse only
shows listings and rejects whose snapshot row exists).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.storage import Location

TABLES = ("listings", "rejects", "snapshots")  # snapshots last: it commits the snapshot
PARTITION = "fetched_date"
LakeDir = str | Path | Location  # a local folder or any fsspec URL


def file_path(lake: Location, table: str, fetched_date: str, snapshot_id: str) -> str:
    return lake.path(table, f"{PARTITION}={fetched_date}", f"{snapshot_id}.parquet")


def encode(table: pa.Table) -> bytes:
    """Parquet bytes for one small table.

    Snappy without dictionaries: files hold one page each, so per-file encoder set-up
    costs more than it saves (measured: 0.36 ms a file against 0.81 ms for zstd). Encoding
    into memory and writing the bytes once also skips pyarrow's per-file filesystem set-up.
    """
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, compression="snappy", use_dictionary=False)
    return buffer.getvalue().to_pybytes()


def write_parquet(lake: LakeDir, table: pa.Table, path: str) -> None:
    """Write one Parquet file atomically (see `storage.Location.write_atomic`)."""
    Location.of(lake).write_atomic(path, encode(table))


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


def write_snapshots(lake_dir: LakeDir, tables: dict[str, pl.DataFrame]) -> list[str]:
    """Write every snapshot of a batch: three files each, empty tables included.

    Empty files are written on purpose: if a rerun finds no rejects where an earlier run
    found some, the empty file replaces the stale one instead of leaving it behind.
    """
    lake = Location.of(lake_dir)
    dates = tables["snapshots"].select(
        "snapshot_id", pl.col("fetched_at").dt.strftime("%Y-%m-%d").alias(PARTITION)
    )
    sliced = {name: _slices(tables[name]) for name in TABLES}
    written: list[str] = []
    for snapshot_id, fetched_date in dates.iter_rows():
        for name in TABLES:
            arrow, spans = sliced[name]
            offset, length = spans.get(snapshot_id, (0, 0))
            path = file_path(lake, name, fetched_date, snapshot_id)
            lake.write_atomic(path, encode(arrow.slice(offset, length)))
            written.append(path)
    return written


def table_files(lake_dir: LakeDir, table: str) -> list[str]:
    lake = Location.of(lake_dir)
    return lake.glob(lake.path(table, f"{PARTITION}=*", "*.parquet"))


def prune(lake_dir: LakeDir, keep: set[str]) -> int:
    """Delete the files of snapshots not in `keep` (stale after a full refresh); how many."""
    lake = Location.of(lake_dir)
    stale = [
        f
        for name in TABLES
        for f in table_files(lake, name)
        if f.rsplit("/", 1)[-1].removesuffix(".parquet") not in keep
    ]
    for file in stale:
        lake.remove(file)
    if lake.is_local:  # object stores have no empty folders to tidy
        for name in TABLES:
            for folder in Path(lake.path(name)).glob(f"{PARTITION}=*"):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
    return len(stale)


def table_glob(lake_dir: LakeDir, table: str) -> str:
    """The glob that reads a table (DuckDB takes it; remote ones need the fs registered)."""
    lake = Location.of(lake_dir)
    return lake.uri(lake.path(table, f"{PARTITION}=*", "*.parquet"))


def has_files(lake_dir: LakeDir, table: str) -> bool:
    return bool(table_files(lake_dir, table))
