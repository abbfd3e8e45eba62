"""The main job: normalise new snapshot files into the lake, then rebuild the warehouse.

The flow sequences `pipeline` calls as tasks and adds what orchestration is for: batches
run concurrently (one task per batch of files, never one per file), a batch retries on I/O
errors with backoff but never for parsing (bad data is a reject, not an exception), and
every run publishes a table and a markdown artifact.

Run it with `make run` or `python -m flows.normalise [PATH ...]`. Without PREFECT_API_URL it
runs on Prefect's temporary local server (no setup, ~15-25 s of start-up).
"""

# No `from __future__ import annotations` here: Prefect validates flow parameters with
# pydantic from the real annotations, and a served run cannot resolve string ones.
import argparse
import logging
import os
import sys
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.states import State
from prefect.tasks import exponential_backoff

from pipeline import config
from pipeline.cli import options as cli_options
from pipeline.ingest import read
from pipeline.lake import manifest
from pipeline.run import normalise, progress
from pipeline.run.summary import RunSummary
from pipeline.warehouse import database, models

DASK_ADDRESS_ENV = "LISTINGS_DASK_ADDRESS"


def _is_io_error(task: object, task_run: object, state: State) -> bool:
    """Retry only what a retry can fix: I/O errors, not bugs or bad data."""
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


_IO_RETRIES = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=1),
    "retry_condition_fn": _is_io_error,
    # No task caching: the lake's manifest already decides what is new, on file identity.
    "cache_policy": NO_CACHE,
}

plan_task = task(normalise.plan, name="find new snapshots", **_IO_RETRIES)
# One task per batch of files (bounded by bytes), never one per file: it reads, parses,
# validates and writes. Only I/O errors retry it; parsing is deterministic, bad data comes
# out as rejects, and an exception from the parser is a bug that a retry would not fix.
batch_task = task(normalise.process_batch, name="normalise batch", **_IO_RETRIES)
# The warehouse build also runs the SQL models' data tests: a failing test is not an I/O
# error, so it fails the run without retrying.
warehouse_task = task(database.build, name="build warehouse", **_IO_RETRIES)


def _build_progress(logger: logging.Logger | logging.LoggerAdapter) -> models.OnEvent:
    """Each loaded table, built model and data test as it finishes: a line in the run's log
    (the Prefect UI) and on stderr (`make run`), so a long build is never silent."""

    def on_event(event: models.Event) -> None:
        line = event.render()
        logger.info(line)
        print(line, file=sys.stderr, flush=True)

    return on_event


@task(name="write report", cache_policy=NO_CACHE)
def report_task(db: Path, out: Path) -> Path:
    from pipeline.warehouse import (
        report,  # altair is heavy: load it only when a report is written
    )

    return report.write(db, out)


@flow(name="normalise-snapshots")
def normalise_flow(
    paths: list[str | Path] | None = None,
    lake_dir: str | Path = config.DEFAULT_LAKE,
    db: Path = config.DEFAULT_DB,
    options: read.ReadOptions | None = None,
    batch_bytes: int = config.DEFAULT_BATCH_BYTES,
    full_refresh: bool = False,
    report_path: Path | None = config.DEFAULT_REPORT,
    layout: str | None = None,
) -> RunSummary:
    """Normalise every new snapshot under `paths`, rebuild the warehouse and the HTML report,
    and publish the run's artifacts. `layout` is retired and ignored (docs/lake.md)."""
    logger = get_run_logger()
    if note := cli_options.layout_retired(layout):
        logger.warning(note)
    options = options or read.ReadOptions()
    with manifest.locked(lake_dir, on_wait=logger.warning):
        summary, todo, sizes = plan_task(
            paths or [config.DEFAULT_RAW],
            lake_dir,
            options,
            full_refresh=full_refresh,
            on_message=logger.warning,
        )
        futures = [
            batch_task.submit(number, batch, lake_dir, options)
            for number, batch in enumerate(read.batches(todo, batch_bytes, sizes), start=1)
        ]
        with progress.BatchProgress() as bar:
            bar.update(0, len(todo))
            # Commit each batch as it lands: a crash loses at most the batches in flight.
            for future in as_completed(futures):
                result = future.result()
                normalise.commit(lake_dir, summary, result)
                bar.update(summary.files_read, len(todo))
        summary.batches.sort(key=lambda report: report.batch)
        normalise.finish(lake_dir, summary)
    # Nothing new: the warehouse and the report already describe this lake.
    if summary.snapshots or summary.full_refresh or not db.exists():
        warehouse_task(lake_dir, db, on_event=_build_progress(logger))
        if report_path is not None:
            summary.report = str(report_task(db, report_path))
    elif report_path is not None and report_path.exists():
        summary.report = str(report_path)
    summary.warehouse = str(db)
    create_table_artifact(
        table=summary.batch_rows(),
        key="normalise-batches",
        description="One row per batch: files, bytes, listings, rejects, seconds.",
    )
    create_markdown_artifact(
        markdown=summary.markdown(), key="normalise-summary", description="Normalise run"
    )
    logger.info(
        "%s new snapshots, %s listings, %s rejects",
        summary.snapshots,
        summary.listings,
        summary.rejects,
    )
    return summary


def with_dask(address: str | None):
    """The flow on a Dask cluster's task runner when an address is given, else as is."""
    if not address:
        return normalise_flow
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:  # pragma: no cover - a dependency of the project
        raise SystemExit("--dask-address needs prefect-dask: make run installs it") from None
    return normalise_flow.with_options(task_runner=DaskTaskRunner(address=address))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flows.normalise",
        description="Run the normalise flow (Prefect) over snapshot files: only files not yet "
        f"in the lake are processed. Defaults to the committed samples in {config.DEFAULT_RAW}.",
    )
    cli_options.add_paths(parser)
    cli_options.add_lake(parser)
    cli_options.add_db(parser, "warehouse file to rebuild")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild from every input")
    parser.add_argument(
        "--report", type=Path, default=config.DEFAULT_REPORT, help="HTML report to write"
    )
    cli_options.add_batch_mb(parser, "batch size in MB of input; each batch is one task")
    cli_options.add_layout(parser)
    parser.add_argument(
        "--dask-address",
        default=os.environ.get(DASK_ADDRESS_ENV),
        metavar="tcp://HOST:PORT",
        help=f"run batches on this Dask cluster (default: ${DASK_ADDRESS_ENV}, else local threads)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    summary = with_dask(args.dask_address)(
        paths=args.paths,
        lake_dir=args.lake,
        db=args.db,
        batch_bytes=args.batch_mb * 2**20,
        full_refresh=args.full_refresh,
        report_path=args.report,
        layout=args.layout,
    )
    print(summary.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
