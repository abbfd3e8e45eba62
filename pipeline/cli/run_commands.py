"""`listings normalise`, `run` and `serve`: the run's commands, with and without Prefect.

Argument parsing and printing only; the work is in `pipeline.run` (the run protocol) and
`flows` (`run`, `serve`: Prefect is imported only by their handlers). `main.build_parser`
adds each command; the statuses are `exit_codes.ExitCode`'s.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.cli import options
from pipeline.cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from pipeline.ingest.metadata import ReadOptions
    from pipeline.run.summary import RunSummary

Subparsers = argparse._SubParsersAction


def add_normalise(commands: Subparsers) -> None:
    """`listings normalise PATH… --out LAKE`: the run, without Prefect."""
    norm = commands.add_parser(
        "normalise",
        help="parse snapshot files into the Parquet lake",
        description=(
            "Read snapshot files (or folders of them: *.txt, *.html, *.json, optionally .gz), "
            "parse every listing by the site's rendering rules, validate, and write "
            "LAKE/{listings,snapshots,rejects}/fetched_month=YYYY-MM/<group>.parquet: one "
            "group of files per batch, months with many small groups merged at the end of "
            "the run (docs/lake.md). Only new or changed files are processed; reruns never "
            "duplicate rows. Unreadable files and bad fragments become rows in rejects; the "
            "run goes on. A lake in the older per-day layout is converted first, once."
        ),
    )
    norm.add_argument(
        "paths",
        nargs="+",
        type=options.source,
        metavar="PATH",
        help="files or folders, local or fsspec URLs (s3://bucket/raw/)",
    )
    norm.add_argument(
        "--out",
        required=True,
        type=options.lake_location,
        metavar="LAKE_DIR",
        help="lake to write: a folder, or an fsspec URL such as s3://bucket/lake (credentials "
        "and endpoint from the environment, e.g. AWS_ENDPOINT_URL)",
    )
    norm.add_argument(
        "--fetched-at",
        type=options.timestamp,
        metavar="ISO8601",
        help="fetch time for files whose sidecar (<file>.meta.json) and name give none "
        "(without it, the file's mtime is used and recorded as approximate; without an "
        "offset it is UTC, as a sidecar's is, with a warning there); as theirs, a "
        "time more than a day after the run's start or before 2000 is not believed: a "
        "warning, and the next source is used (docs/input-format.md section 4)",
    )
    norm.add_argument(
        "--site",
        metavar="NAME",
        help="site name for files without a sidecar URL (a host name: WENKU.IT. is wenku.it)",
    )
    options.add_site_tz(norm)
    options.add_max_page(norm)
    norm.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="also (re)build this DuckDB warehouse file over the lake (when the run changed "
        "the lake, or the file does not exist yet)",
    )
    norm.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="also write the HTML report after the warehouse (needs --db; not the --db "
        "itself, another DuckDB database or a file inside a lake)",
    )
    options.add_storage_version(norm)
    norm.add_argument(
        "--full-refresh",
        action="store_true",
        help="forget which files the lake already holds and rebuild it from every input "
        "(by default only new or changed files are processed)",
    )
    norm.add_argument(
        "--no-follow-links",
        dest="follow_links",
        action="store_false",
        help="do not walk into symlinked folders (by default they are, each folder once; a "
        "link not followed is named in the summary's skipped line)",
    )
    options.add_batch_mb(norm, "files are processed in batches of about this many MB")
    options.add_layout(norm)
    options.add_workers(norm)

    norm.set_defaults(handler=_normalise)


def add_run(commands: Subparsers) -> None:
    """`listings run`: the main job as a Prefect flow (what `make run` runs)."""
    run = commands.add_parser(
        "run",
        help="run the normalise flow (Prefect): lake, warehouse and report in one go",
        description=(
            "Run the main job as a Prefect flow: normalise every new snapshot file into the "
            "lake, then rebuild the warehouse and the HTML report, and publish the run's "
            "artifacts. Without PREFECT_API_URL it runs on Prefect's temporary local server "
            f"(no setup; its start-up takes some seconds). Defaults to the committed samples in "
            f"{config.DEFAULT_RAW}."
        ),
    )
    options.add_paths(run)
    options.add_lake(run)
    options.add_db(run, "warehouse file to rebuild")
    run.add_argument("--full-refresh", action="store_true", help="rebuild from every input")
    options.add_storage_version(run)
    options.add_target_path(run)
    options.add_report(run, "HTML report to write")
    options.add_site_tz(run)
    options.add_max_page(run)
    options.add_batch_mb(run, "batch size in MB of input; each batch is one task")
    options.add_layout(run)
    run.add_argument(
        "--dask-address",
        default=config.dask_address(),
        metavar="tcp://HOST:PORT",
        help=f"run batches on this Dask cluster (default: ${config.DASK_ADDRESS_ENV}, else local "
        "threads)",
    )
    run.set_defaults(handler=_run)


def add_serve(commands: Subparsers) -> None:
    """`listings serve --cron …`: the flow on a schedule."""
    serve = commands.add_parser(
        "serve",
        help="run the normalise flow (Prefect) on a cron schedule",
        description=(
            "Serve the normalise flow on a cron schedule with Prefect. Without "
            "PREFECT_API_URL a local `prefect server start` is started on 127.0.0.1 (state "
            "under PREFECT_HOME, default ./.prefect; its UI at http://127.0.0.1:PORT) and "
            "stopped on Ctrl-C; with it, the flow is served against that server. Each run "
            "prints one line when it ends: what it found, what it added, where it wrote. "
            "The local server has no authentication: any user of this machine can reach it "
            "and run, change or delete its flows; on a shared machine set PREFECT_API_URL to "
            "a server that checks who calls it. Teams with a work pool: see prefect.yaml."
        ),
    )
    serve.add_argument("--cron", required=True, type=options.cron, help='e.g. "0 * * * *" (hourly)')
    options.add_paths(serve)
    options.add_lake(serve)
    options.add_db(serve, "warehouse file to rebuild after each run")
    options.add_report(serve, "HTML report to write after each run")
    serve.add_argument(
        "--port",
        type=options.positive_int,
        default=config.SERVE_PORT,
        help="port of the local Prefect server and its UI, when PREFECT_API_URL is not set "
        "(default: %(default)s, Prefect's own; stable, so a bookmark keeps working)",
    )
    serve.set_defaults(handler=_serve)


def _normalise(args: argparse.Namespace) -> ExitCode:
    from pipeline.ingest import walk  # the standard library only: starts at once

    # The input's folders are walked by a child process from now on, while this one imports
    # the run's modules (`walk.prestart`); a walk the run did not take is stopped.
    folders = [os.fspath(path) for path in args.paths if isinstance(path, Path) and path.is_dir()]
    walk.prestart(folders, follow_links=args.follow_links)
    try:
        return _normalise_walking(args)
    finally:
        walk.drop_early()


def _normalise_walking(args: argparse.Namespace) -> ExitCode:
    from pipeline.lake.layout import retired_note
    from pipeline.run import progress

    if args.report is not None and args.db is None:
        print(
            "listings normalise: --report needs --db (the report reads the warehouse)",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    if args.storage_version is not None and args.db is None:
        print(
            "listings normalise: --storage-version needs --db (it is the warehouse's format)",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    _check_outputs(args.out, "--out", args.db, args.report)
    from pipeline.ingest import metadata
    from pipeline.run.run import Run, RunConfig

    settings = RunConfig.of(
        args.paths,
        args.out,
        read_options=metadata.ReadOptions(
            fetched_at=args.fetched_at,
            site=args.site,
            time_zones=tuple(args.site_tz),
            max_page_bytes=int(args.max_page_mb * 2**20),
            run_started_at=metadata.run_start(),
        ),
        batch_bytes=args.batch_mb * 2**20,
        workers=args.workers,
        full_refresh=args.full_refresh,
        db=args.db,
        report=args.report,
        follow_links=args.follow_links,
    )
    with progress.BatchProgress() as bar, options.storage_version_set(args.storage_version):
        if note := retired_note(args.layout):
            bar.say(f"listings normalise: note: {note}")
        summary = Run(
            settings,
            on_progress=bar.update,
            on_message=bar.say,
            # With --db, each warehouse table, model and test as it finishes, as the flow
            # logs them: the build is never silent (stderr keeps stdout for the summary).
            on_event=lambda event: print(event.render(), file=sys.stderr, flush=True),
            on_stage=bar.stage,
        ).run()
    print(summary.render())
    return _status(args.command, summary)


def _check_outputs(lake: str, option: str, db: Path | None, report: Path | None) -> None:
    """Refuse, before anything is written, outputs a run could only fail on or destroy: a
    lake that is a file, a warehouse that is a folder or not DuckDB, a report that is a
    folder, the warehouse, another DuckDB database or inside a lake (this run's included)
    (`errors.OutputPathError`)."""
    options.refuse_file_as_lake(lake, option)
    if db is not None:
        from pipeline.warehouse import database

        database.check_warehouse_path(db)
    options.refuse_output(report, "--report", db=db, lakes=[lake])


def _run(args: argparse.Namespace) -> ExitCode:
    from pipeline.ingest import walk  # the standard library only: starts at once

    folders = [os.fspath(path) for path in args.paths if isinstance(path, Path) and path.is_dir()]
    walk.prestart(folders, follow_links=True)  # as `normalise` does (`walk.prestart`)
    try:
        return _run_walking(args, folders)
    finally:
        walk.drop_early()


def _run_walking(args: argparse.Namespace, folders: list[str]) -> ExitCode:
    report = options.report_path(args.report, args.db)
    _check_outputs(args.lake, "--lake", args.db, report)
    from pipeline.ingest import metadata, walk

    read_options = metadata.ReadOptions(
        time_zones=tuple(args.site_tz),
        max_page_bytes=int(args.max_page_mb * 2**20),
        run_started_at=metadata.run_start(),
    )
    with (
        options.storage_version_set(args.storage_version),
        options.target_path_set(args.target_path),
    ):
        summary = None if args.full_refresh else _unchanged(args, report, read_options)
        if summary is None:
            # The check's walk is spent: the flow's plan takes a new one, begun now so it
            # runs while Prefect starts instead of after it.
            walk.prestart(folders, follow_links=True)
            # Prefect is imported only here and in `serve`: the rest of the CLI never pays
            # for it.
            from flows.normalise import with_dask

            summary = with_dask(args.dask_address)(
                paths=args.paths,
                lake_dir=args.lake,
                db=args.db,
                batch_bytes=args.batch_mb * 2**20,
                full_refresh=args.full_refresh,
                report_path=report,
                options=read_options,
                layout=args.layout,
            )
    print(summary.render())
    return _status(args.command, summary)


def _unchanged(
    args: argparse.Namespace, report: Path, read_options: ReadOptions
) -> RunSummary | None:
    """`listings run`'s summary when it has nothing to do (`Run.unchanged`), found without
    Prefect, whose start-up is most of such a run's time; None when the flow must run."""
    from pipeline.lake.layout import retired_note
    from pipeline.run import progress
    from pipeline.run.run import Run, RunConfig

    settings = RunConfig.of(
        args.paths, args.lake, read_options=read_options, db=args.db, report=report
    )
    with progress.BatchProgress() as bar:
        summary = Run(settings, on_message=bar.say).unchanged()
        if summary is not None and (note := retired_note(args.layout)):
            bar.say(f"listings run: note: {note}")
    return summary


def _serve(args: argparse.Namespace) -> ExitCode:
    from flows.serve import serve

    report = options.report_path(args.report, args.db)
    _check_outputs(args.lake, "--lake", args.db, report)
    serve(args.cron, args.paths, args.lake, args.db, report, port=args.port)
    return ExitCode.OK


def _status(command: str, summary: RunSummary) -> ExitCode:
    """OK, or ALL_REJECTED with a hint when files were read but only rejects came out."""
    if summary.files_read and not summary.listings and summary.rejects:
        print(
            f"listings {command}: the {summary.files_read} files read gave no listing, only "
            f"rejects: were they search-result pages of a moredoc/DocHub site? The reasons are "
            "above and in the rejects table.",
            file=sys.stderr,
        )
        return ExitCode.ALL_REJECTED
    return ExitCode.OK
