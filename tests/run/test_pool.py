"""Batches on worker processes: the same lake as in-process, failures surface, order holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.ingest import metadata, sources
from pipeline.lake import manifest
from pipeline.lake.storage import Location
from pipeline.run import normalise, pool, run
from tests.conftest import lake_files, raising


def _pid_and_value(value: int) -> tuple[int, int]:
    return os.getpid(), value * value


def _fail_on_three(value: int) -> int:
    if value == 3:
        raise ValueError("three is not allowed")
    return value


def test_jobs_run_on_spawned_workers_and_every_result_comes_back() -> None:
    results = list(pool.run(_pid_and_value, [(n,) for n in range(6)], workers=2))
    assert sorted(value for _, value in results) == [0, 1, 4, 9, 16, 25]
    assert os.getpid() not in {pid for pid, _ in results}


def _slow_first(value: int) -> int:
    if value == 0:
        time.sleep(1.0)  # the first job finishes last, whatever the machine's speed
    return value


def test_results_come_back_in_job_order_whichever_finishes_first() -> None:
    """The run commits batches in this order: which of two copies of a snapshot is kept must
    not depend on which worker was faster."""
    assert list(pool.run(_slow_first, [(n,) for n in range(5)], workers=2)) == [0, 1, 2, 3, 4]


def test_a_failing_job_raises_in_the_caller() -> None:
    with pytest.raises(ValueError, match="three is not allowed"):
        list(pool.run(_fail_on_three, [(n,) for n in range(6)], workers=2))


def test_the_polars_thread_share_is_set_for_the_workers_only() -> None:
    before = os.environ.get(pool.POLARS_THREADS_ENV)
    list(pool.run(_pid_and_value, [(1,), (2,)], workers=2))
    assert os.environ.get(pool.POLARS_THREADS_ENV) == before


def test_workers_write_the_lake_a_single_process_writes(
    raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six files, batches of one file: the pool runs (input > POOL_FROM_BATCHES batches)."""
    pooled: list[int] = []
    real_run = pool.run

    def spy(work, jobs, workers):  # type: ignore[no-untyped-def]
        pooled.append(workers)
        return real_run(work, jobs, workers)

    monkeypatch.setattr(pool, "run", spy)
    batch_bytes = min(os.path.getsize(p) for p in sources.discover([raw_copy]))
    one = run.normalise_paths(
        [raw_copy], tmp_path / "one", metadata.ReadOptions(), batch_bytes=1, workers=1
    )
    two = run.normalise_paths(
        [raw_copy], tmp_path / "two", metadata.ReadOptions(), batch_bytes=batch_bytes, workers=2
    )
    assert pooled == [2]  # the single-process run never asked for workers
    assert len(two.batches) == 6  # 6 files, each over half a batch: one per batch
    assert [b.batch for b in two.batches] == [1, 2, 3, 4, 5, 6]  # reported in order
    assert two.lake_rows == one.lake_rows == {"snapshots": 6, "listings": 53, "rejects": 0}
    assert lake_files(tmp_path / "two") == lake_files(tmp_path / "one")


def test_overlapped_batches_commit_in_order_and_a_failure_commits_only_what_came_before(
    raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-ahead and write-behind threads: batch order holds; a failed parse loses only the
    batches in flight, and the next run removes their uncommitted files."""
    out = tmp_path / "lake"
    real = normalise.normalise_batch
    calls: list[int] = []

    def third_fails(snapshots_read):  # type: ignore[no-untyped-def]
        calls.append(snapshots_read.height)
        if len(calls) == 3:
            raise RuntimeError("parser bug on batch 3")
        return real(snapshots_read)

    monkeypatch.setattr(normalise, "normalise_batch", third_fails)
    with pytest.raises(RuntimeError, match="parser bug on batch 3"):
        run.normalise_paths([raw_copy], out, metadata.ReadOptions(), batch_bytes=1)
    committed = manifest.load(Location.of(out))
    assert committed.height == 1  # batch 1; batch 2 was being written when 3 failed
    assert len(lake_files(out)) == 2 * 3  # batch 2's files exist, uncommitted
    monkeypatch.undo()

    again = run.normalise_paths([raw_copy], out, metadata.ReadOptions(), batch_bytes=1)
    assert (again.files_read, again.files_removed) == (5, 3)  # all but batch 1's file
    assert [b.batch for b in again.batches] == [1, 2, 3, 4, 5]
    assert again.lake_rows == {"snapshots": 6, "listings": 53, "rejects": 0}


def test_a_failed_commit_leaves_no_reader_or_writer_thread_behind(
    raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overlapped batches' threads stop when the run stops, not whenever the garbage
    collector gets to them (which once hung a later test inside another thread's start)."""
    monkeypatch.setattr(run, "commit", raising(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        run.normalise_paths([raw_copy], tmp_path / "lake", metadata.ReadOptions(), batch_bytes=1)
    alive = [t.name for t in threading.enumerate() if t.name.startswith(("read_", "write_"))]
    assert alive == []


def _record_pid_and_sleep(folder: str) -> None:
    """A job that outlasts any test: it says where it runs, then waits."""
    Path(folder, str(os.getpid())).touch()
    time.sleep(120)


def _start_slow_pool(folder: Path) -> tuple[subprocess.Popen[bytes], set[int]]:
    """A parent running `pool.run` over jobs that never finish, once both workers started.

    SIGINT is set to its default in the child: a shell starting a background job ignores
    it, and Python then keeps ignoring it.
    """
    script = (
        "from pipeline.run import pool\n"
        "from tests.run.test_pool import _record_pid_and_sleep\n"
        f"list(pool.run(_record_pid_and_sleep, [({str(folder)!r},)] * 4, workers=2))\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=Path(__file__).parents[2],
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while len(list(folder.iterdir())) < 2:
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.05)
    return parent, {int(p.name) for p in folder.iterdir()}


def _gone(pids: set[int], within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.05)
    return False


def test_an_interrupted_parent_ends_now_and_takes_its_workers_with_it(tmp_path: Path) -> None:
    """Ctrl-C stops a pooled run at once: it does not wait for the batches in flight, whose
    files are uncommitted anyway."""
    parent, workers = _start_slow_pool(tmp_path)
    parent.send_signal(signal.SIGINT)
    assert parent.wait(timeout=10) != 0
    assert _gone(workers, within_s=5)


def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    """A killed parent cannot stop its workers: each notices its parent is gone and exits
    (within `pool.PARENT_CHECK_S`), instead of finishing its batch or waiting for ever."""
    parent, workers = _start_slow_pool(tmp_path)
    parent.kill()
    parent.wait(timeout=10)
    assert _gone(workers, within_s=5)
