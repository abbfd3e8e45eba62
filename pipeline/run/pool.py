"""Batches on several processes, at most one batch per worker in flight.

Reading files and assembling frames is Python-bound (the GIL), so threads do not overlap
it; worker processes do. Workers are *spawned*, not forked: forking a process whose polars
thread pool is already running can deadlock. Each worker's polars gets an equal share of
the cores (`POLARS_MAX_THREADS`), so workers do not fight over them. Results come back in
completion order; the caller commits each as it lands, so a crash loses at most the
batches in flight. Memory is bounded by `workers` batches, never by the input.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

POLARS_THREADS_ENV = "POLARS_MAX_THREADS"


def default_workers() -> int:
    """One worker per core the process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


@contextmanager
def _child_env(name: str, value: str) -> Iterator[None]:
    """Set an environment variable for processes spawned inside the block only.

    Polars reads its thread count once, at import: this process's is already fixed, the
    spawned workers read the value set here.
    """
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def run(
    work: Callable[..., R],
    jobs: Iterable[tuple[object, ...]],
    workers: int,
) -> Iterator[R]:
    """`work(*job)` for every job, on `workers` spawned processes; results as they finish.

    Jobs are drawn lazily, one more each time one finishes, so at most `workers` are held
    at once. The first failure is raised after the pool is shut down (pending jobs are
    cancelled); results already yielded stay yielded.
    """
    threads = str(max(default_workers() // workers, 1))
    with (
        _child_env(POLARS_THREADS_ENV, threads),  # workers are spawned on demand: keep it set
        ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool,
    ):
        pending: set[Future[R]] = set()
        todo = iter(jobs)
        try:
            for job in todo:
                pending.add(pool.submit(work, *job))
                if len(pending) >= workers:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    job = next(todo, None)
                    if job is not None:
                        pending.add(pool.submit(work, *job))
                    yield result
        finally:
            for future in pending:
                future.cancel()
