"""Batches on several processes, at most one batch per worker in flight.

`run` hands batches to spawned worker processes (polars' threads shared out through
`POLARS_MAX_THREADS`) and yields results in completion order, for the caller to commit as
they land. Workers never outlive the run: stopped early, it terminates them, and each
watches its parent. Why: docs/architecture.md, "A run".
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

from pipeline import config

T = TypeVar("T")
R = TypeVar("R")

POLARS_THREADS_ENV = "POLARS_MAX_THREADS"
# How often a worker checks that its parent is alive: an orphan lives at most this long.
PARENT_CHECK_S = 0.5
# How often a waiting parent wakes to notice Ctrl-C (see `result`).
SIGNAL_CHECK_S = 0.2


def default_workers() -> int:
    """One worker per core the process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def result(future: Future[R]) -> R:
    """`future.result()`, but Ctrl-C still interrupts the wait.

    Polars starts its thread pool at import, and the kernel may deliver SIGINT to any of
    those threads. Python then only records the signal; a main thread blocked on a lock
    without a timeout never wakes to raise `KeyboardInterrupt`, so the run would ignore
    Ctrl-C. Waking every `SIGNAL_CHECK_S` lets it notice.
    """
    while not wait([future], timeout=SIGNAL_CHECK_S).done:
        pass
    return future.result()


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: a daemon thread that ends the worker once `parent` has died.

    A killed parent leaves its workers to init (their parent id changes); without this they
    would finish their batch, or block on the job queue, for ever. Polling works the same on
    every platform, unlike Linux's parent-death signal, which follows the *thread* that
    started the worker.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop every worker now: cancel what has not started, kill what has.

    `ProcessPoolExecutor` can only wait for running jobs (Python 3.14 adds
    `terminate_workers`); its process table is the one way to end them before then.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)


def run(
    work: Callable[..., R],
    jobs: Iterable[tuple[object, ...]],
    workers: int,
) -> Iterator[R]:
    """`work(*job)` for every job, on `workers` spawned processes; results in job order.

    Jobs are drawn lazily, one more each time one finishes, so at most `workers` run at
    once; a result that finishes before an earlier job's waits for it, so the caller sees
    the same order whatever the timing (the run commits batches in that order, and the
    first of two copies of a snapshot is the one it keeps). The first failure (or an
    interrupt, or the caller closing the generator) terminates the workers, then
    propagates; results already yielded stay yielded.
    """
    threads = str(max(default_workers() // workers, 1))
    with (
        # workers are spawned on demand: keep it set (polars reads it once, at import: this
        # process's count is fixed already, the spawned workers read the value set here)
        config.environment_set(POLARS_THREADS_ENV, threads),
        ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        ) as pool,
    ):
        pending: dict[Future[R], int] = {}
        ready: dict[int, R] = {}
        todo = enumerate(jobs)
        following = 0  # the job whose result is yielded next
        finished = False
        try:
            for index, job in todo:
                pending[pool.submit(work, *job)] = index
                if len(pending) >= workers:
                    break
            while pending:
                # Timed, so Ctrl-C is noticed (see `result`).
                done, _ = wait(set(pending), SIGNAL_CHECK_S, return_when=FIRST_COMPLETED)
                for future in done:
                    ready[pending.pop(future)] = future.result()
                    nxt = next(todo, None)
                    if nxt is not None:
                        pending[pool.submit(work, *nxt[1])] = nxt[0]
                while following in ready:
                    yield ready.pop(following)
                    following += 1
            finished = True
        finally:
            if not finished:
                _terminate(pool)
