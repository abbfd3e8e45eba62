"""read → parse → validate → write, for one batch of snapshot files.

Each step is a plain function over polars frames so the Prefect flow, the CLI, the tests
and the benchmarks call the same code. `normalise_batch` is the whole pure middle: it
turns the frame `read.read_batch` returns into the three lake tables, routing every
piece of input that is not a valid listing or the footer into `rejects` with a reason.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass

import polars as pl

from pipeline import config
from pipeline.ingest import read
from pipeline.lake import compact, layout, manifest
from pipeline.parse.text import parse_pages
from pipeline.run import pool
from pipeline.run.summary import BatchReport, RunSummary

_UNPARSED_FORMS = {
    "html": "HTML snapshot: only the text form is parsed so far",
    "json": "JSON snapshot: only the text form is parsed so far",
}


# A run takes worker processes (`workers` > 1) only when its input exceeds this many
# batches: below it, spawning them (~0.6 s of imports each) costs more than they save.
POOL_FROM_BATCHES = 2


@dataclass
class BatchTables:
    """The three lake tables for one batch, already validated."""

    snapshots: pl.DataFrame
    listings: pl.DataFrame
    rejects: pl.DataFrame

    def as_dict(self) -> dict[str, pl.DataFrame]:
        return {"snapshots": self.snapshots, "listings": self.listings, "rejects": self.rejects}


def _read_rejects(snapshots: pl.DataFrame) -> pl.DataFrame:
    """Unreadable files, and forms this parser does not read yet, as whole-file rejects."""
    unparsed = pl.col("form").replace_strict(_UNPARSED_FORMS, default=None)
    return snapshots.filter(pl.col("read_error").is_not_null() | unparsed.is_not_null()).select(
        "snapshot_id",
        pl.lit(None, pl.Int32).alias("position"),
        pl.lit(0, pl.Int64).alias("byte_start"),
        pl.when(pl.col("text").is_null())
        .then(pl.col("byte_count"))
        .otherwise(pl.col("text").str.len_bytes().cast(pl.Int64))
        .alias("byte_end"),
        pl.coalesce("fragment", "text").alias("fragment"),
        pl.lit("read").alias("stage"),
        pl.coalesce("read_error", unparsed).alias("reason"),
    )


def _listing_rejects(listings: pl.DataFrame, stage: str, reason: str) -> pl.DataFrame:
    return listings.select(
        "snapshot_id",
        "position",
        "byte_start",
        "byte_end",
        "fragment",
        pl.lit(stage).alias("stage"),
        pl.col(reason).alias("reason"),
    )


def normalise_batch(snapshots_read: pl.DataFrame) -> BatchTables:
    """The pure middle of the pipeline: read frame → validated snapshots, listings, rejects."""
    # pandera takes ~0.7 s to import: a run with nothing new never needs it.
    from pipeline import schemas

    text_pages = snapshots_read.filter(
        (pl.col("form") == "text") & pl.col("text").is_not_null()
    ).select("snapshot_id", "site", "fetched_at", "text")
    parsed, footers, footer_rejects = parse_pages(text_pages)

    bad_parse = parsed.filter(pl.col("parse_error").is_not_null())
    candidates = parsed.filter(pl.col("parse_error").is_null())
    listing_rows = schemas.conform(candidates, schemas.Listing)
    valid, failed = schemas.split_valid(listing_rows, schemas.Listing)
    failed = failed.join(
        candidates.select("snapshot_id", "position", "fragment"),
        on=["snapshot_id", "position"],
        how="left",
    )
    rejects = pl.concat(
        [
            _read_rejects(snapshots_read),
            _listing_rejects(bad_parse, "parse", "parse_error"),
            footer_rejects.select(
                "snapshot_id",
                pl.lit(None, pl.Int32).alias("position"),
                "byte_start",
                "byte_end",
                "fragment",
                pl.lit("parse").alias("stage"),
                "reason",
            ),
            _listing_rejects(failed, "validate", "reason"),
        ],
        how="vertical_relaxed",
    )
    # A page with no listing, no footer and nothing else is blank: say so, don't skip it.
    blank = (
        text_pages.join(valid, on="snapshot_id", how="anti")
        .join(rejects, on="snapshot_id", how="anti")
        .join(footers.filter(pl.col("total_results").is_not_null()), on="snapshot_id", how="anti")
        .select(
            "snapshot_id",
            pl.lit(None, pl.Int32).alias("position"),
            pl.lit(0, pl.Int64).alias("byte_start"),
            pl.lit(0, pl.Int64).alias("byte_end"),
            pl.lit("").alias("fragment"),
            pl.lit("parse").alias("stage"),
            pl.lit("blank page: no listings and no footer").alias("reason"),
        )
    )
    rejects = (
        pl.concat([rejects, blank], how="vertical_relaxed")
        .join(snapshots_read.select("snapshot_id", "source_path"), on="snapshot_id", how="left")
        .pipe(schemas.conform, schemas.Reject)
        .sort("snapshot_id", "byte_start", "byte_end")
    )
    snapshots = (
        snapshots_read.join(footers, on="snapshot_id", how="left")
        .join(valid.group_by("snapshot_id").len("listing_count"), on="snapshot_id", how="left")
        .join(rejects.group_by("snapshot_id").len("reject_count"), on="snapshot_id", how="left")
        .with_columns(pl.col("listing_count", "reject_count").fill_null(0))
        .pipe(schemas.conform, schemas.Snapshot)
        .sort("snapshot_id")
    )
    # Derived from our own reading: a failure is a bug.
    schemas.validate(snapshots, schemas.Snapshot)
    schemas.validate(rejects, schemas.Reject)
    return BatchTables(
        snapshots=snapshots,
        listings=valid.sort("snapshot_id", "position"),
        rejects=rejects,
    )


@dataclass
class BatchResult:
    """A written batch: its report, and the manifest rows that commit it."""

    report: BatchReport
    manifest_rows: pl.DataFrame


def write_batch(
    batch: int,
    snapshots_read: pl.DataFrame,
    tables: BatchTables,
    lake_dir: layout.LakeDir,
) -> BatchResult:
    """Write a normalised batch's lake files as a new group; the caller commits it."""
    started = time.perf_counter()
    name = layout.write_batch(lake_dir, tables.as_dict())
    report = BatchReport.of(batch, snapshots_read, tables.as_dict())
    report.seconds = time.perf_counter() - started
    return BatchResult(report, manifest.rows_for(snapshots_read, tables.snapshots, name))


def process_batch(
    batch: int,
    files: list[read.Source],
    lake_dir: layout.LakeDir,
    options: read.ReadOptions,
) -> BatchResult:
    """One batch end to end: read the files, normalise them, write their lake files."""
    started = time.perf_counter()
    snapshots_read = read.read_batch(files, options)
    tables = normalise_batch(snapshots_read)
    result = write_batch(batch, snapshots_read, tables, lake_dir)
    result.report.seconds = time.perf_counter() - started
    return result


def overlapped(
    batches: Iterable[tuple[int, list[read.Source]]],
    lake_dir: layout.LakeDir,
    options: read.ReadOptions,
) -> Iterator[BatchResult]:
    """`process_batch` over many batches in one process, with its three steps overlapped.

    Reading batch n+1 (a Python loop over files, holding the GIL) and writing batch n-1
    (polars' Parquet writer, which releases it) run on two threads while batch n is
    parsed, so both cores stay busy without worker processes: on 1 M listings, 7.0 s
    against 9.2 s one step after another. Results come in batch order, each once its files
    are written; at most three batches are in memory. If a batch fails, the exception is
    raised after the write in progress ends; that batch is not yielded, so it is not
    committed (its files are removed by the next run's clean-up). A caller that stops early
    must close the generator (`contextlib.closing`): that stops its threads.
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
            result = write_batch(number, snapshots_read, tables, lake_dir)
            result.report.seconds = time.perf_counter() - started  # read start to written
            return result

        ahead = read_next()
        writing: Future[BatchResult] | None = None
        while ahead is not None:
            number, started, reading = ahead
            snapshots_read = reading.result()
            ahead = read_next()
            tables = normalise_batch(snapshots_read)
            del reading  # the future holds the frame too
            # The write only reports on the read frame: let the page text go now.
            snapshots_read = snapshots_read.drop("text")
            if writing is not None:
                yield writing.result()
            writing = writer.submit(write, number, started, snapshots_read, tables)
        if writing is not None:
            yield writing.result()


def plan(
    paths: Sequence[read.Source],
    lake_dir: layout.LakeDir,
    options: read.ReadOptions,
    *,
    full_refresh: bool = False,
    on_message: Callable[[str], None] | None = None,
) -> tuple[RunSummary, list[read.Source], list[int]]:
    """The run's summary so far, the files to process (new or changed ones only) and their
    sizes in bytes (for `read.batches`).

    Before anything is written, the lake is tidied: data files the manifest does not name
    (a crashed run's group, a compaction's leftovers) are deleted, and a lake in an older
    layout is converted (`compact.convert`, announced through `on_message`). A full refresh
    forgets the manifest first, so every file is processed again and every old file goes.
    The caller holds the lake's lock.
    """
    # Local folders are walked by a child process meanwhile (see `pipeline.scan`).
    scanning = read.Scan(paths, in_child=True)
    try:
        committed = manifest.load(lake_dir)
        if full_refresh:
            manifest.reset(lake_dir)
            committed = committed.clear()
        summary = RunSummary(lake_dir=str(lake_dir), full_refresh=full_refresh)
        summary.files_removed = layout.prune(lake_dir, keep=manifest.data_paths(committed))
        if manifest.layout_of(committed) not in (None, layout.LAYOUT):
            summary.conversion = compact.convert(lake_dir, on_message=on_message).render()
            committed = manifest.load(lake_dir)
        # A run with new files validates them next: importing pandera (~0.8 s) now runs
        # while the child walks the input, instead of after it.
        importlib.import_module("pipeline.schemas")
        files, sizes, mtimes = scanning.result()
    except BaseException:
        scanning.cancel()
        raise
    summary.files_found = len(files)
    todo, todo_sizes = manifest.new_files(files, sizes, mtimes, committed, options)
    summary.files_skipped = len(files) - len(todo)
    return summary, todo, todo_sizes


def commit(lake_dir: layout.LakeDir, summary: RunSummary, result: BatchResult) -> None:
    """Record a written batch in the manifest (after its data) and in the summary."""
    manifest.commit(lake_dir, result.manifest_rows)
    summary.batches.append(result.report)
    months = result.manifest_rows.select(layout.month_of(pl.col("data_file")).unique())
    summary.months_written.update(months.to_series().to_list())


def finish(lake_dir: layout.LakeDir, summary: RunSummary) -> RunSummary:
    """Merge the small groups of the months this run wrote into, if they have piled up
    (`compact.AUTO_SMALL_GROUPS`), merge the manifest's parts if they have piled up
    (`manifest.PARTS_KEPT`), count rows and files."""
    committed: pl.DataFrame | None = manifest.load(lake_dir)
    if summary.months_written:
        merged = compact.compact(
            lake_dir,
            months=summary.months_written,
            more_than=compact.AUTO_SMALL_GROUPS,
            committed=committed,
        )
        if merged:
            summary.compaction = merged.render()
            committed = None  # it committed: read the manifest again
    committed = manifest.merge_parts(lake_dir, more_than=manifest.PARTS_KEPT, committed=committed)
    summary.lake_rows = manifest.row_counts(committed)
    summary.files_per_table = committed["data_file"].n_unique()
    return summary


def normalise_paths(
    paths: Sequence[read.Source],
    lake_dir: layout.LakeDir,
    options: read.ReadOptions,
    *,
    batch_bytes: int = config.DEFAULT_BATCH_BYTES,
    full_refresh: bool = False,
    workers: int = 1,
    on_batch: Callable[[int, int], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> RunSummary:
    """Normalise every new or changed snapshot under `paths` into the lake, batch by batch.

    With `workers` > 1, batches run on that many processes (`pipeline.pool`), each batch
    `batch_bytes / workers` so that memory stays about one `batch_bytes` batch's worth
    however many workers there are; a run of at most POOL_FROM_BATCHES batches stays in
    this process and pays no start-up. The lake is locked for the run; `on_batch(files_done,
    files_total)` reports progress and `on_wait(message)` says when the run waits for
    another run's lock, or converts an older lake.
    """
    with manifest.locked(lake_dir, on_wait=on_wait):
        summary, todo, sizes = plan(
            paths, lake_dir, options, full_refresh=full_refresh, on_message=on_wait
        )
        if on_batch:
            on_batch(0, len(todo))
        # Spawning a worker costs ~1 s of imports: worth it from a few batches of input on.
        pooled = workers > 1 and sum(sizes) > POOL_FROM_BATCHES * batch_bytes
        per_batch = batch_bytes // workers if pooled else batch_bytes
        batches = enumerate(read.batches(todo, max(per_batch, 1), sizes), start=1)
        if pooled:
            jobs = ((number, files, lake_dir, options) for number, files in batches)
            results = pool.run(process_batch, jobs, workers)
        else:
            results = overlapped(batches, lake_dir, options)
        # Close the generator here even when a commit fails: left to the garbage collector,
        # its thread pools would shut down at an arbitrary moment (seen: inside another
        # thread's start-up, holding a lock the shutdown needs, which hangs the process).
        with closing(results):
            for result in results:
                commit(lake_dir, summary, result)
                if on_batch:
                    on_batch(summary.files_read, len(todo))
        summary.batches.sort(key=lambda report: report.batch)
        return finish(lake_dir, summary)
