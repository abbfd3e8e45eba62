"""The Parquet lake: Hive-partitioned files per table, written atomically and idempotently.

Two layouts, chosen per lake (`LAYOUTS`); both are read by the same glob,
`LAKE/{listings,snapshots,rejects}/fetched_date=YYYY-MM-DD/*.parquet`:

- `snapshot` (the default, issue 2's contract): one file per snapshot per table,
  `<snapshot_id>.parquet`. A snapshot's id is a hash of its bytes and fetch time, so
  rerunning a file rewrites the same three paths with the same bytes: reruns never
  duplicate rows. One small file per snapshot is easy to reason about but slow at scale:
  creating three files per page is most of a large run's time.
- `batch`: one file per table, date and batch, `batch-<hash of its snapshot ids>.parquet`.
  Tens of times faster to write and far fewer files to read. A rerun cannot rewrite such a
  file in place (the next batch holds other snapshots), so duplicates are ruled out by the
  manifest instead: it names the file that holds each snapshot, and before a run writes
  anything, files it does not name (left by a crash before their commit) are deleted.

Each file is written to a temporary name and renamed into place, so a reader or a crash
never sees half a file; the snapshots file is written last and is the commit marker (the
warehouse only shows listings and rejects whose snapshot row exists).
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipeline.storage import Location

if TYPE_CHECKING:
    import pyarrow as pa

TABLES = ("listings", "rejects", "snapshots")  # snapshots last: it commits the snapshot
PARTITION = "fetched_date"
LakeDir = str | Path | Location  # a local folder or any fsspec URL
LAYOUTS = ("snapshot", "batch")
DEFAULT_LAYOUT = "snapshot"
BATCH_PREFIX = "batch-"


def file_path(lake: Location, table: str, fetched_date: str, snapshot_id: str) -> str:
    return lake.path(table, f"{PARTITION}={fetched_date}", f"{snapshot_id}.parquet")


def encode(table: pa.Table) -> bytes:
    """Parquet bytes for one small table (the snapshot layout: one page's rows).

    pyarrow, snappy, no dictionaries: files hold one page each, so per-file encoder set-up
    dominates (measured: pyarrow 0.31 ms a file, polars 0.39 ms; zstd 0.81 ms). Encoding
    into memory and writing the bytes once also skips pyarrow's per-file filesystem set-up.
    Only this layout uses pyarrow, hence the import here.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, compression="snappy", use_dictionary=False)
    return buffer.getvalue().to_pybytes()


def encode_frame(frame: pl.DataFrame) -> bytes:
    """Parquet bytes for a frame of any size, by polars' own writer (no pyarrow needed).

    Snappy with statistics, so readers can skip row groups; ~25 % faster than pyarrow on
    a batch of 60 000 listings (0.07 s against 0.09 s).
    """
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="snappy")
    return buffer.getvalue()


def write_parquet(lake: LakeDir, frame: pl.DataFrame, path: str) -> None:
    """Write one Parquet file atomically (see `storage.Location.write_atomic`)."""
    Location.of(lake).write_atomic(path, encode_frame(frame))


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


def batch_file_name(snapshot_ids: pl.Series) -> str:
    """A batch file's name (without `.parquet`), from the snapshots it holds.

    Derived from content, not a counter: rebuilding the same input in the same batches
    writes the same names with the same bytes, as the snapshot layout does.
    """
    digest = hashlib.sha256("\n".join(snapshot_ids.sort().to_list()).encode())
    return BATCH_PREFIX + digest.hexdigest()[:20]


def write_batch(lake_dir: LakeDir, tables: dict[str, pl.DataFrame]) -> str:
    """Write a batch as one file per table and date; return the files' shared name.

    Every date of the batch gets all three tables, empty ones included, as in the snapshot
    layout: a reader globbing `rejects/**/*.parquet` finds files (with the schema) even
    when nothing was rejected. Snapshots go last.
    """
    lake = Location.of(lake_dir)
    name = batch_file_name(tables["snapshots"]["snapshot_id"])
    dated = tables["snapshots"].select(
        "snapshot_id", pl.col("fetched_at").dt.strftime("%Y-%m-%d").alias(PARTITION)
    )
    dates = dated[PARTITION].unique(maintain_order=True).to_list()
    for table in TABLES:
        # Keep the tables' own order (sorted upstream): same input, same bytes.
        frame = tables[table].join(dated, on="snapshot_id", how="left", maintain_order="left")
        parts = frame.partition_by(PARTITION, as_dict=True, include_key=False)
        empty = frame.clear().drop(PARTITION)
        for fetched_date in dates:
            part = parts.get((fetched_date,), empty)
            path = lake.path(table, f"{PARTITION}={fetched_date}", f"{name}.parquet")
            lake.write_atomic(path, encode_frame(part))
    return name


def data_name(path: str) -> str:
    """The name a data file is known by in the manifest: its file name without `.parquet`."""
    return path.rsplit("/", 1)[-1].removesuffix(".parquet")


def table_files(lake_dir: LakeDir, table: str) -> list[str]:
    lake = Location.of(lake_dir)
    if lake.is_local:  # os.walk lists names without a stat each: fast on 100 000s of files
        top = lake.path(table)
        return sorted(
            f"{folder}/{name}"
            for folder, _, names in os.walk(top)
            if os.path.dirname(folder) == top
            and os.path.basename(folder).startswith(f"{PARTITION}=")
            for name in names
            if name.endswith(".parquet") and not name.startswith(".")
        )
    return lake.glob(lake.path(table, f"{PARTITION}=*", "*.parquet"))


def prune(lake_dir: LakeDir, keep: set[str], *, keep_snapshot_files: bool = False) -> int:
    """Delete data files whose name is not in `keep`; how many.

    `keep` holds manifest names (`data_name`): snapshot ids for the snapshot layout, batch
    names for the batch layout. With `keep_snapshot_files`, only batch files are candidates
    (a snapshot-layout run rewrites its own files in place and prunes them at the end).
    """
    lake = Location.of(lake_dir)
    stale = [
        f
        for name in TABLES
        for f in table_files(lake, name)
        if data_name(f) not in keep
        and not (keep_snapshot_files and not data_name(f).startswith(BATCH_PREFIX))
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
