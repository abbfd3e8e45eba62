"""The lake's manifest: which snapshot files are already in it, for incremental runs.

One small Parquet file, `LAKE/_manifest/manifest.parquet`, one row per snapshot file ever
committed, naming the lake file that holds its rows (`data_file`: the snapshot id in the
snapshot layout, a batch name in the batch layout; see `lake`).
A run skips a file whose (path, size, mtime) matches a row without reading it,
or whose snapshot id (a hash of its bytes and fetch time) matches one after reading it;
only new or changed files are parsed.

Each batch is committed *after* its data files are in place, as a small part file of its
own (`_manifest/part-*.parquet`), so a commit costs the batch's rows, not the whole
manifest's: rewriting a 100 000-row manifest after every batch was the run's only cost
growing with the lake. At the end of a run the parts are merged into `manifest.parquet`.
A crash between data and commit only means that batch is parsed again next time, never
that a file is skipped without its data; a crash during the merge leaves rows in both
places, which `load` de-duplicates.

Runs on one lake are serialised by an exclusive lock on `LAKE/_manifest/.lock`: the second
run waits (and says so), then finds the first run's files already committed.
"""

from __future__ import annotations

import fcntl
import io
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from pipeline import lake, read
from pipeline.storage import Location

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
}


class LayoutError(ValueError):
    """A run asked for a layout other than the one the lake already has."""


class LakeBusyError(RuntimeError):
    """Another run holds the lake's lock and the caller chose not to wait (long enough)."""


def path(lake_dir: lake.LakeDir) -> str:
    return Location.of(lake_dir).path(DIRNAME, "manifest.parquet")


PART_PREFIX = "part-"
KEY = ["snapshot_id", "source_path"]


def _parts(where: Location) -> list[str]:
    """Committed batches not merged into manifest.parquet yet, oldest first."""
    return where.glob(where.path(DIRNAME, f"{PART_PREFIX}*.parquet"))


def _read(where: Location, file: str) -> pl.DataFrame:
    frame = pl.read_parquet(io.BytesIO(where.read_bytes(file)))
    if "data_file" not in frame.columns:  # written before the batch layout existed
        frame = frame.with_columns(pl.col("snapshot_id").alias("data_file"))
    return frame.select(list(SCHEMA)).cast(SCHEMA)  # type: ignore[arg-type]


def load(lake_dir: lake.LakeDir) -> pl.DataFrame:
    """The committed rows (merged manifest and parts), or an empty manifest for a new lake."""
    where = Location.of(lake_dir)
    files = [path(where)] if where.exists(path(where)) else []
    files += _parts(where)
    if not files:
        return pl.DataFrame(schema=SCHEMA)
    frames = [_read(where, file) for file in files]
    if len(frames) == 1:
        return frames[0]
    return (
        pl.concat(frames)
        .unique(KEY, keep="last", maintain_order=True)  # a later commit wins
        .sort(KEY)
    )


def layout_of(committed: pl.DataFrame) -> str | None:
    """The lake's layout as its manifest shows it; None for a lake with nothing committed."""
    if committed.is_empty():
        return None
    in_batches = committed["data_file"].str.starts_with(lake.BATCH_PREFIX)
    return "batch" if bool(in_batches.any()) else "snapshot"


def resolve_layout(committed: pl.DataFrame, requested: str | None, *, full_refresh: bool) -> str:
    """The layout a run writes: the one asked for, else the lake's own, else the default.

    Changing a lake's layout rewrites all of it, so it takes a full refresh: mixing
    layouts in one incremental run could hold a snapshot in two files.
    """
    current = layout_of(committed)
    if requested is not None and requested not in lake.LAYOUTS:
        raise LayoutError(f"unknown layout {requested!r}: choose one of {', '.join(lake.LAYOUTS)}")
    if requested and current and requested != current and not full_refresh:
        raise LayoutError(
            f"the lake uses the {current} layout; writing {requested} files into it needs "
            "--full-refresh (which rewrites the whole lake in the new layout)"
        )
    return requested or current or lake.DEFAULT_LAYOUT


def new_files(
    files: list[read.Source], manifest: pl.DataFrame, options: read.ReadOptions
) -> tuple[list[read.Source], list[int]]:
    """The files whose snapshot is not in the manifest yet, and their sizes in bytes.

    The sizes come from the stat this needs anyway, so batching the files stats none again
    (one network round trip per file on an object store).

    A snapshot is its bytes at its fetch time (`read.snapshot_id`): a byte-identical copy
    with the same fetch time is the same snapshot, the same bytes fetched later another.
    Stat first: a file at the same path with the same size and mtime is taken as unchanged
    without reading it (as git's index does), which keeps a no-change rerun cheap. Only
    the rest are read and identified.
    """
    if not files:
        return [], []
    stats = [read.stat(f) for f in files]
    seen = pl.DataFrame(
        {
            "source_path": [str(f) for f in files],
            "byte_count": [size for size, _ in stats],
            "mtime_ns": [mtime for _, mtime in stats],
        },
        schema={k: SCHEMA[k] for k in ("source_path", "byte_count", "mtime_ns")},
    ).with_row_index("i")
    candidates = seen.join(
        manifest.select("source_path", "byte_count", "mtime_ns"),
        on=["source_path", "byte_count", "mtime_ns"],
        how="anti",
    )["i"].to_list()
    known = set(manifest["snapshot_id"].to_list())
    if known:  # else a new lake: nothing to compare with, so no file needs reading here
        candidates = [
            i for i in candidates if read.identify(files[i], options, stats[i][1]) not in known
        ]
    todo = sorted(candidates)
    return [files[i] for i in todo], [stats[i][0] for i in todo]


def rows_for(
    snapshots_read: pl.DataFrame, snapshots: pl.DataFrame, data_file: str | None = None
) -> pl.DataFrame:
    """Manifest rows for a batch that has just been written (read frame + snapshots table).

    `data_file` is the batch file's name; None means one file per snapshot.
    """
    name = pl.col("snapshot_id") if data_file is None else pl.lit(data_file)
    return snapshots_read.select("snapshot_id", "mtime_ns", name.alias("data_file")).join(
        snapshots.select(
            "snapshot_id",
            "content_sha256",
            "source_path",
            "byte_count",
            pl.col("fetched_at").dt.strftime("%Y-%m-%d").alias("fetched_date"),
            "listing_count",
            "reject_count",
        ),
        on="snapshot_id",
    )


def row_counts(lake_dir: lake.LakeDir) -> dict[str, int]:
    """Rows per lake table, from the manifest: no need to open thousands of files.

    The manifest records each committed snapshot's listing and reject counts; a snapshot
    seen under two file names is counted once, as the lake holds it once.
    """
    committed = load(lake_dir).unique("snapshot_id")
    return {
        "snapshots": committed.height,
        "listings": int(committed["listing_count"].sum()),
        "rejects": int(committed["reject_count"].sum()),
    }


def commit(lake_dir: lake.LakeDir, rows: pl.DataFrame) -> None:
    """Add a batch's rows (after its data files are written), as one atomic part file.

    Part names sort in commit order (nanosecond clock first), so `load` lets a later
    commit win; the random tail keeps two writers from ever sharing a name.
    """
    where = Location.of(lake_dir)
    frame = rows.select(list(SCHEMA)).cast(SCHEMA).sort(KEY)  # type: ignore[arg-type]
    name = f"{PART_PREFIX}{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
    lake.write_parquet(where, frame, where.path(DIRNAME, name))


def compact(lake_dir: lake.LakeDir) -> None:
    """Merge the part files into manifest.parquet (written atomically), then drop them."""
    where = Location.of(lake_dir)
    parts = _parts(where)
    if not parts:
        return
    lake.write_parquet(where, load(where), path(where))
    for part in parts:
        where.remove(part)


def reset(lake_dir: lake.LakeDir) -> None:
    """Forget every committed file (a full refresh rebuilds the lake)."""
    where = Location.of(lake_dir)
    for file in [path(where), *_parts(where)]:
        where.remove(file)


@contextmanager
def locked(
    lake_dir: lake.LakeDir,
    *,
    timeout_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the lake's exclusive lock; wait for it (forever by default) if another run has it.

    Local lakes use an OS file lock, released even if the process dies. Object stores have
    no such lock: there a lease object is taken instead (see `_leased`).
    """
    where = Location.of(lake_dir)
    if not where.is_local:
        with _leased(where, timeout_s=timeout_s, on_wait=on_wait):
            yield
        return
    lock_file = Path(where.path(DIRNAME, ".lock"))
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            if on_wait:
                on_wait(f"lake {lake_dir} is locked by {holder}: waiting for it to finish")
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise LakeBusyError(
                            f"lake {lake_dir} is locked by {holder}; gave up after {timeout_s} s"
                        ) from None
                    time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


LEASE_SECONDS = 3600.0


@contextmanager
def _leased(
    where: Location,
    *,
    timeout_s: float | None,
    on_wait: Callable[[str], None] | None,
) -> Iterator[None]:
    """Best-effort lock on an object store: a lease object naming its holder and expiry.

    Wait while another run's unexpired lease exists; write ours, read it back to confirm
    it is ours (the last writer wins the race), delete it when done. A crashed run's lease
    expires after LEASE_SECONDS.
    """
    lease = where.path(DIRNAME, "lease")
    me = f"pid {os.getpid()}@{socket.gethostname()}/{uuid.uuid4().hex[:8]}"
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    told = False
    while True:
        holder, expires = _read_lease(where, lease)
        if holder is None or expires < time.time():
            where.write_atomic(lease, f"{me}\n{time.time() + LEASE_SECONDS}".encode())
            if _read_lease(where, lease)[0] == me:
                break
            continue
        if on_wait and not told:
            on_wait(f"lake {where.url} is leased by {holder}: waiting for it to finish")
            told = True
        if deadline is not None and time.monotonic() > deadline:
            raise LakeBusyError(f"lake {where.url} is leased by {holder}; gave up")
        time.sleep(1.0)
    try:
        yield
    finally:
        where.remove(lease)


def _read_lease(where: Location, lease: str) -> tuple[str | None, float]:
    if not where.exists(lease):
        return None, 0.0
    holder, _, expires = where.read_bytes(lease).decode().partition("\n")
    return holder, float(expires or 0)
