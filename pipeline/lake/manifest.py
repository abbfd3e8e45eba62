"""The lake's manifest: which snapshots the lake holds, and in which group of files.

`LAKE/_manifest/manifest.parquet` has one row per snapshot file ever committed, naming the
group that holds its rows (`data_file`, e.g. `fetched_month=2026-11/batch-3f9c…`: the
files are `LAKE/TABLE/<data_file>.parquet`; see docs/lake.md). It is the lake's truth:
readers take their file lists from it (`committed_files`), and files it does not name are
leftovers that the next run deletes.

A run skips a file whose (path, size, mtime) matches a row without reading it, or whose
snapshot id (a hash of its bytes and fetch time) matches one after reading it; only new or
changed files are parsed.

Every change — a batch written, a compaction — is committed *after* its data files are in
place, as a small part file of its own (`_manifest/part-*.parquet`), so a commit costs its
own rows, not the whole manifest's. Once more than `PARTS_KEPT` have piled up, a run merges
them into `manifest.parquet` at its end (rewriting a 100 000-row manifest after every small
run would be a tenth of its time); a crash during the merge leaves rows in both places,
which `load` de-duplicates (a later commit wins).

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

from pipeline.ingest import read
from pipeline.lake import layout
from pipeline.lake.storage import Location

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


class LakeBusyError(RuntimeError):
    """Another run holds the lake's lock and the caller chose not to wait (long enough)."""


def path(lake_dir: layout.LakeDir) -> str:
    return Location.of(lake_dir).path(DIRNAME, "manifest.parquet")


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
    return frame.select(list(SCHEMA)).cast(SCHEMA)  # type: ignore[arg-type]


def load(lake_dir: layout.LakeDir) -> pl.DataFrame:
    """The committed rows (merged manifest and parts), or an empty manifest for a new lake.

    In no particular order: `merge_parts` sorts what it writes. Parts hold a few rows each,
    so they are applied as an update of the merged manifest's rows (a later commit wins)
    rather than by de-duplicating the whole manifest.
    """
    where = Location.of(lake_dir)
    base = [path(where)] if where.exists(path(where)) else []
    parts = _parts(where)
    if not base and not parts:
        return pl.DataFrame(schema=SCHEMA)
    committed = _read(where, base[0]) if base else pl.DataFrame(schema=SCHEMA)
    if not parts:
        return committed
    updates = pl.concat([_read(where, part) for part in parts]).unique(
        KEY, keep="last", maintain_order=True
    )
    return pl.concat([committed.join(updates, on=KEY, how="anti"), updates])


def require_lake(lake_dir: layout.LakeDir) -> Location:
    """The lake's location; `layout.NotALakeError` if it has no manifest folder (a typo, or
    nothing normalised there yet), for commands that read a lake rather than create one."""
    where = Location.of(lake_dir)
    if not where.exists(where.path(DIRNAME)):
        raise layout.NotALakeError(
            f"{where.url} is not a lake: it has no {DIRNAME}/ folder (write one with "
            f"`listings normalise PATH --out {where.url}`)"
        )
    return where


def committed_files(lake_dir: layout.LakeDir) -> dict[str, list[str]]:
    """Every table's committed data files, as URIs DuckDB and polars open (see docs/lake.md).

    Readers bound to this list never see a crashed run's files or a compaction's leftovers,
    and never list a folder. Raises `layout.NotALakeError` where there is no lake, and
    `layout.OldLayoutError` for a lake still in a pre-monthly layout.
    """
    where = require_lake(lake_dir)
    committed = load(where)
    if layout_of(committed) not in (None, layout.LAYOUT):
        raise layout.OldLayoutError(
            f"{where.url} is in the old per-day layout: convert it once with "
            f"`listings compact --lake {where.url}` (or any `listings normalise` into it)"
        )
    groups = sorted(committed["data_file"].unique().to_list())
    return {
        table: [where.uri(where.path(table, f"{group}.parquet")) for group in groups]
        for table in layout.TABLES
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


def new_files(
    files: list[read.Source],
    sizes: list[int],
    mtimes: list[int],
    manifest: pl.DataFrame,
    options: read.ReadOptions,
) -> tuple[list[read.Source], list[int]]:
    """The files whose snapshot is not in the manifest yet, and their sizes in bytes.

    `sizes` and `mtimes` (ns) are the files' own, from `read.scan`; the sizes of the new
    ones are handed on so batching stats none again (a request per file on an object store).

    A snapshot is its bytes at its fetch time (`read.snapshot_id`): a byte-identical copy
    with the same fetch time is the same snapshot, the same bytes fetched later another.
    Stat first: a file at the same path with the same size and mtime is taken as unchanged
    without reading it (as git's index does), which keeps a no-change rerun cheap. Only
    the rest are read and identified.
    """
    if not files:
        return [], []
    seen = pl.DataFrame(
        {"source_path": [str(f) for f in files], "byte_count": sizes, "mtime_ns": mtimes},
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
            i for i in candidates if read.identify(files[i], options, mtimes[i]) not in known
        ]
    todo = sorted(candidates)
    return [files[i] for i in todo], [sizes[i] for i in todo]


def rows_for(snapshots_read: pl.DataFrame, snapshots: pl.DataFrame, name: str) -> pl.DataFrame:
    """Manifest rows for a group that has just been written (read frame + snapshots table).

    `name` is the group's; each snapshot's `data_file` adds the folder of its month.
    """
    return snapshots_read.select("snapshot_id", "mtime_ns").join(
        snapshots.select(
            "snapshot_id",
            "content_sha256",
            "source_path",
            "byte_count",
            pl.col("fetched_at").dt.strftime("%Y-%m-%d").alias("fetched_date"),
            "listing_count",
            "reject_count",
            pl.format(
                "{}={}/{}",
                pl.lit(layout.PARTITION),
                pl.col("fetched_at").dt.strftime("%Y-%m"),
                pl.lit(name),
            ).alias("data_file"),
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


def commit(lake_dir: layout.LakeDir, rows: pl.DataFrame) -> None:
    """Add a batch's rows (after its data files are written), as one atomic part file.

    Part names sort in commit order (nanosecond clock first), so `load` lets a later
    commit win; the random tail keeps two writers from ever sharing a name.
    """
    where = Location.of(lake_dir)
    frame = rows.select(list(SCHEMA)).cast(SCHEMA).sort(KEY)  # type: ignore[arg-type]
    name = f"{PART_PREFIX}{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
    layout.write_parquet(where, frame, where.path(DIRNAME, name))


def merge_parts(
    lake_dir: layout.LakeDir, *, more_than: int = 0, committed: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Merge the part files into manifest.parquet (written atomically, sorted), then drop
    them, once there are more than `more_than`; return the committed rows (`load`'s, or
    `committed` if the caller has just loaded them)."""
    where = Location.of(lake_dir)
    parts = _parts(where)
    committed = load(where) if committed is None else committed
    if len(parts) <= more_than:
        return committed
    committed = committed.sort(KEY)
    layout.write_parquet(where, committed, path(where))
    for part in parts:
        where.remove(part)
    return committed


def replace(lake_dir: layout.LakeDir, rows: pl.DataFrame) -> None:
    """Make `rows` the whole manifest in one atomic write (a layout conversion's commit).

    Parts must be merged first: they load after manifest.parquet, so a leftover part's
    older rows would win over the new ones.
    """
    where = Location.of(lake_dir)
    if _parts(where):
        raise RuntimeError("manifest.replace with unmerged parts: call merge_parts first")
    frame = rows.select(list(SCHEMA)).cast(SCHEMA).sort(KEY)  # type: ignore[arg-type]
    layout.write_parquet(where, frame, path(where))


def reset(lake_dir: layout.LakeDir) -> None:
    """Forget every committed file (a full refresh rebuilds the lake)."""
    where = Location.of(lake_dir)
    for file in [path(where), *_parts(where)]:
        where.remove(file)


@contextmanager
def locked(
    lake_dir: layout.LakeDir,
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
