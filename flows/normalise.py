"""The main job as a Prefect flow: the run protocol (`pipeline.run.run.Run`), step by step.

`FlowRun` overrides the run's seams with tasks: one task per batch of files on the flow's
task runner, retried on I/O errors only, and every run publishes a table and a markdown
artifact. `make run` and `listings run` run it (`python -m flows.normalise` is the latter).
Why: docs/architecture.md, "The flows".
"""

# No `from __future__ import annotations` here: Prefect validates flow parameters with
# pydantic from the real annotations, and a served run cannot resolve string ones.
import logging
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.states import State
from prefect.tasks import exponential_backoff

from pipeline import config
from pipeline.ingest.metadata import ReadOptions, run_start
from pipeline.lake.layout import retired_note
from pipeline.run import execute, normalise, plan, progress
from pipeline.run.plan import Plan
from pipeline.run.run import Run, RunConfig
from pipeline.run.summary import RunSummary
from pipeline.warehouse import database
from pipeline.warehouse.results import Event, OnEvent


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

plan_task = task(plan.plan, name="find new snapshots", **_IO_RETRIES)
# One task per batch of files (bounded by bytes), never one per file: it reads, parses,
# validates and writes. Only I/O errors retry it; parsing is deterministic, bad data comes
# out as rejects, and an exception from the parser is a bug that a retry would not fix.
batch_task = task(normalise.process_batch, name="normalise batch", **_IO_RETRIES)
# The warehouse build also runs the SQL models' data tests: a failing test is not an I/O
# error, so it fails the run without retrying.
warehouse_task = task(database.build, name="build warehouse", **_IO_RETRIES)


@task(name="write report", cache_policy=NO_CACHE)
def report_task(db: Path, out: Path) -> Path:
    from pipeline.report import page as report  # altair is heavy: only when a report is written

    return report.write(db, out)


def _build_progress(logger: logging.Logger | logging.LoggerAdapter) -> OnEvent:
    """Each loaded table, built model and data test as it finishes: a line in the run's log
    (the Prefect UI) and on stderr (`make run`), so a long build is never silent."""

    def on_event(event: Event) -> None:
        line = event.render()
        logger.info(line)
        print(line, file=sys.stderr, flush=True)

    return on_event


class FlowRun(Run):
    """The run protocol with each step as a Prefect task."""

    def plan(self) -> Plan:
        settings = self.config
        return plan_task(
            settings.paths,
            settings.lake,
            settings.read_options,
            full_refresh=settings.full_refresh,
            on_message=self.on_message,
        )

    def execute(self, planned: Plan) -> Iterator[normalise.BatchResult]:
        settings = self.config
        batches = execute.numbered_batches(
            planned.todo, planned.sizes, settings.batch_bytes, settings.workers
        )
        futures = [
            batch_task.submit(number, files, settings.lake, settings.read_options)
            for number, files in batches
        ]
        # Commit each batch as it lands: a crash loses at most the batches in flight.
        for future in as_completed(futures):
            yield future.result()

    def build_warehouse(self, db: Path) -> None:
        warehouse_task(self.config.lake, db, on_event=self.on_event)

    def write_report(self, db: Path, out: Path) -> Path:
        return report_task(db, out)


@flow(name="normalise-snapshots")
def normalise_flow(
    paths: list[str | Path] | None = None,
    lake_dir: str | Path = config.DEFAULT_LAKE,
    db: Path = config.DEFAULT_DB,
    options: ReadOptions | None = None,
    batch_bytes: int = config.DEFAULT_BATCH_BYTES,
    full_refresh: bool = False,
    report_path: Path | None = config.DEFAULT_REPORT,
    layout: str | None = None,
) -> RunSummary:
    """Normalise every new snapshot under `paths`, rebuild the warehouse and the HTML report,
    and publish the run's artifacts. `layout` is retired and ignored (docs/lake.md)."""
    logger = get_run_logger()
    if note := retired_note(layout):
        logger.warning(note)
    read_options = options or ReadOptions()
    if read_options.run_started_at is None:  # fetch times are judged against this run's start
        read_options = replace(read_options, run_started_at=run_start())
    settings = RunConfig.of(
        paths or [config.DEFAULT_RAW],
        lake_dir,
        read_options=read_options,
        batch_bytes=batch_bytes,
        full_refresh=full_refresh,
        db=db,
        report=report_path,
    )
    with progress.BatchProgress() as bar:
        run = FlowRun(
            settings,
            on_progress=bar.update,
            on_message=logger.warning,
            on_event=_build_progress(logger),
            on_stage=bar.stage,
        )
        summary = run.run()
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
    if config.served():  # `listings serve`: one line per run on its output
        print(summary.one_line(), flush=True)
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


if __name__ == "__main__":
    # `python -m flows.normalise [ARGS]` is `listings run [ARGS]`: the command line lives in
    # the CLI (flows hold no argparse), run by name as `python -m pipeline.cli` runs it, so
    # no flow imports the layer above it.
    import runpy

    sys.argv[1:1] = ["run"]
    runpy.run_module("pipeline.cli", run_name="__main__", alter_sys=True)
