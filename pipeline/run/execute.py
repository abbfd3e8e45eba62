"""How a run's batches are executed: overlapped threads in this process, or worker processes.

Both yield each batch's `BatchResult` once its files are written, for the run to commit;
neither commits anything itself, so a crash loses at most the batches in flight.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import polars as pl

from pipeline.ingest import read, sources
from pipeline.ingest.metadata import ReadOptions
from pipeline.ingest.sources import Source
from pipeline.lake.storage import Location
from pipeline.run import normalise, pool
from pipeline.run.normalise import BatchResult, BatchTables

# A run takes worker processes (`workers` > 1) only when its input exceeds this many
# batches: below it, spawning them (each imports the pipeline afresh) costs more than they
# save.
POOL_FROM_BATCHES = 2


def pooled(sizes: list[int], batch_bytes: int, workers: int) -> bool:
    """Whether input of these sizes is worth worker processes."""
    return workers > 1 and sum(sizes) > POOL_FROM_BATCHES * batch_bytes


def numbered_batches(
    todo: list[Source], sizes: list[int], batch_bytes: int, workers: int
) -> Iterator[tuple[int, list[Source]]]:
    """The files in numbered batches (from 1). With worker processes each batch is
    `batch_bytes / workers`, so memory stays about one `batch_bytes` batch's worth however
    many workers there are."""
    per_batch = batch_bytes // workers if pooled(sizes, batch_bytes, workers) else batch_bytes
    return enumerate(sources.batches(todo, max(per_batch, 1), sizes), start=1)


def execute(
    todo: list[Source],
    sizes: list[int],
    lake: Location,
    options: ReadOptions,
    *,
    batch_bytes: int,
    workers: int = 1,
) -> Iterator[BatchResult]:
    """Every batch of `todo`, on `workers` processes (`pool`) or overlapped in this one.

    A caller that stops early must close the generator (`contextlib.closing`): that stops
    its threads or its pool.
    """
    batches = numbered_batches(todo, sizes, batch_bytes, workers)
    if pooled(sizes, batch_bytes, workers):
        jobs = ((number, files, lake, options) for number, files in batches)
        return pool.run(normalise.process_batch, jobs, workers)
    return overlapped(batches, lake, options)


def overlapped(
    batches: Iterable[tuple[int, list[Source]]],
    lake: Location,
    options: ReadOptions,
) -> Iterator[BatchResult]:
    """`process_batch` over many batches in one process, with its three steps overlapped.

    Reading batch n+1 (a Python loop over files, holding the GIL) and writing batch n-1
    (polars' Parquet writer, which releases it) run on two threads while batch n is
    parsed, so both cores stay busy without worker processes, which is faster than running
    the steps one after another (figures in benchmarks/RESULTS.md, "Measurements behind
    design choices"). Results come in batch order, each once its files are written; at
    most three batches are in memory. If a batch fails, the exception is raised after the
    write in progress ends; that batch is not yielded, so it is not committed (its files
    are removed by the next run's clean-up). A caller that stops early must close the
    generator (`contextlib.closing`): that stops its threads.
    """
    todo = iter(batches)
    with (
        ThreadPoolExecutor(1, thread_name_prefix="read") as reader,
        ThreadPoolExecutor(1, thread_name_prefix="write") as writer,
    ):

        def read_next() -> tuple[int, float, Future[pl.DataFrame]] | None:
            job = next(todo, None)
            if job is None:
                return None
            number, files = job
            return number, time.perf_counter(), reader.submit(read.read_batch, files, options)

        def write(
            number: int, started: float, snapshots_read: pl.DataFrame, tables: BatchTables
        ) -> BatchResult:
            return normalise.write_batch(number, snapshots_read, tables, lake, started=started)

        ahead = read_next()
        writing: Future[BatchResult] | None = None
        while ahead is not None:
            number, started, reading = ahead
            snapshots_read = pool.result(reading)
            ahead = read_next()
            tables = normalise.normalise_batch(snapshots_read)
            del reading  # the future holds the frame too
            # The write only reports on the read frame: let the page text go now.
            snapshots_read = snapshots_read.drop("text")
            if writing is not None:
                yield pool.result(writing)
            writing = writer.submit(write, number, started, snapshots_read, tables)
        if writing is not None:
            yield pool.result(writing)
