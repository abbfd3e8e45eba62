"""`listings`: normalise snapshots and query the result, without Prefect's start-up cost.

Argument parsing and printing only: one small function adds each subcommand, one handles
it, and the work is in the stages (`pipeline.run`, `pipeline.lake`, `pipeline.warehouse`).
A wrong argument exits 2 with a message (argparse); a problem with the user's files, lake,
query or SQL project (any `errors.ListingsError`) exits 1 with its message, never a
traceback. Bad *data* is not an error: it becomes rows in `rejects` and the run exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.cli import analyst, lake_commands, options, sql
from pipeline.errors import ListingsError
from pipeline.terminal import escaped_lines

if TYPE_CHECKING:
    from pipeline.ingest.metadata import ReadOptions
    from pipeline.run.summary import RunSummary

Subparsers = argparse._SubParsersAction
DASK_ADDRESS_ENV = "LISTINGS_DASK_ADDRESS"

# Commands import what only they need (normalise: pandera and rich; sql and build: duckdb),
# so each command, and `listings --help`, starts without paying for the others.

EPILOG = """\
examples:
  listings normalise data/raw --out data/lake
  listings normalise page.txt --out /tmp/lake --fetched-at 2026-11-20T09:30:00Z --site wenku.it
  listings sql "select title, size_bytes, uploaded_at_min from listings limit 5"
  listings sql "select reason, count(*) from rejects group by 1" --lake /tmp/lake

tables: snapshots (one row per page file), listings (one row per listing), rejects
(every fragment that is not a listing or the footer, with the reason).

exit status: 0 done; 1 a problem with your files, lake, query or SQL project (the message
says which); 2 a wrong argument; 3 normalise/run read files but every one was rejected (no
listing came out; the rejects table says why), or verify found problems; 130 interrupted;
141 the reader of stdout went away.
"""
# `normalise`/`run` read files and every one ended as rejects: the run worked, but a script
# scheduling it should notice that nothing usable came out (wrong folder, wrong site).
ALL_REJECTED_STATUS = 3


def _timestamp(value: str) -> datetime:
    from pipeline.ingest import metadata

    try:
        return metadata.parse_timestamp(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {value!r} (e.g. 2026-11-20T09:30:00Z)"
        ) from None


class _Version(argparse.Action):
    """`--version`: this package's version and the engines' it runs on.

    Read from the installed packages' metadata when asked, so neither building the parser
    nor `--version` imports them.
    """

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings,
            dest=argparse.SUPPRESS,
            default=argparse.SUPPRESS,
            nargs=0,
            help="print the version of listings and of the libraries it runs on, then exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib import metadata as installed

        def version(name: str) -> str | None:
            try:
                return installed.version(name)
            except installed.PackageNotFoundError:
                return None

        engines = ", ".join(
            f"{name} {found}" for name in ENGINES if (found := version(name)) is not None
        )
        python = ".".join(map(str, sys.version_info[:3]))
        print(f"listings {version('listings')} (python {python}, {engines})")
        parser.exit()


ENGINES = ("polars", "pyarrow", "pandera", "duckdb", "prefect")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="listings",
        description=(
            "Turn saved moredoc/DocHub search-result pages (snapshots) into typed, validated "
            "Parquet tables, and query them with DuckDB."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_normalise(commands)
    sql.add_command(commands)
    _add_run(commands)
    _add_serve(commands)
    _add_compact(commands)
    _add_resolve_titles(commands)
    analyst.add_commands(commands)
    lake_commands.add_commands(commands)
    return parser


def _add_normalise(commands: Subparsers) -> None:
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
        type=_timestamp,
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


def _add_run(commands: Subparsers) -> None:
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
    options.add_report(run, "HTML report to write")
    options.add_site_tz(run)
    options.add_max_page(run)
    options.add_batch_mb(run, "batch size in MB of input; each batch is one task")
    options.add_layout(run)
    run.add_argument(
        "--dask-address",
        default=os.environ.get(DASK_ADDRESS_ENV),
        metavar="tcp://HOST:PORT",
        help=f"run batches on this Dask cluster (default: ${DASK_ADDRESS_ENV}, else local threads)",
    )
    run.set_defaults(handler=_run)


def _add_serve(commands: Subparsers) -> None:
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


def _add_compact(commands: Subparsers) -> None:
    """`listings compact --lake DIR`: merge small files, convert an older lake."""
    compact_ = commands.add_parser(
        "compact",
        help="merge the lake's small files into large ones; convert an older lake",
        description=(
            "Merge every month's small groups of files into files of up to 128 MiB, sorted "
            "by fetch time (a run does this by itself for the months it wrote once they hold "
            "more than a few small groups). A lake in the older per-day layout is converted "
            "first. Each merge is committed in the manifest before the old files go, so a "
            "crash never loses or doubles a row; the next run deletes what was left behind."
        ),
    )
    options.add_lake(compact_)
    compact_.set_defaults(handler=_compact)


def _add_resolve_titles(commands: Subparsers) -> None:
    """`listings resolve-titles --lake DIR`: re-split old text-form titles by the catalogue."""
    resolve = commands.add_parser(
        "resolve-titles",
        help="title old text-form listings from every exact title the lake has seen",
        description=(
            "Rebuild the catalogue of exact titles (a title on its own line, a repeated one, "
            "the HTML and API JSON forms') from every listing in the lake, and split each "
            "text-form listing whose title/description boundary is unknown where its heading "
            "starts with a catalogue title of the same document (same page count, size "
            "intervals that meet): title_source becomes 'catalogue'. A run does this by itself "
            "for the snapshots it adds; run this after adding HTML or JSON snapshots so older "
            "text snapshots learn their titles too. Without such evidence nothing is split."
        ),
    )
    options.add_lake(resolve)
    resolve.set_defaults(handler=_resolve_titles)


def _normalise(args: argparse.Namespace) -> int:
    from pipeline.ingest import walk  # the standard library only: starts at once

    # The input's folders are walked by a child process from now on, while this one imports
    # the run's modules (`walk.prestart`); a walk the run did not take is stopped.
    folders = [os.fspath(path) for path in args.paths if isinstance(path, Path) and path.is_dir()]
    walk.prestart(folders, follow_links=args.follow_links)
    try:
        return _normalise_walking(args)
    finally:
        walk.drop_early()


def _normalise_walking(args: argparse.Namespace) -> int:
    from pipeline.lake.layout import retired_note
    from pipeline.run import progress

    if args.report is not None and args.db is None:
        print(
            "listings normalise: --report needs --db (the report reads the warehouse)",
            file=sys.stderr,
        )
        return 2
    if args.storage_version is not None and args.db is None:
        print(
            "listings normalise: --storage-version needs --db (it is the warehouse's format)",
            file=sys.stderr,
        )
        return 2
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


def _run(args: argparse.Namespace) -> int:
    from pipeline.ingest import walk  # the standard library only: starts at once

    folders = [os.fspath(path) for path in args.paths if isinstance(path, Path) and path.is_dir()]
    walk.prestart(folders, follow_links=True)  # as `normalise` does (`walk.prestart`)
    try:
        return _run_walking(args, folders)
    finally:
        walk.drop_early()


def _run_walking(args: argparse.Namespace, folders: list[str]) -> int:
    report = options.report_path(args.report, args.db)
    _check_outputs(args.lake, "--lake", args.db, report)
    from pipeline.ingest import metadata, walk

    read_options = metadata.ReadOptions(
        time_zones=tuple(args.site_tz),
        max_page_bytes=int(args.max_page_mb * 2**20),
        run_started_at=metadata.run_start(),
    )
    with options.storage_version_set(args.storage_version):
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


def _compact(args: argparse.Namespace) -> int:
    from pipeline.lake import compact
    from pipeline.run import progress

    done = compact.compact_lake(args.lake, on_message=progress.BatchProgress().say)
    print(done.render())
    return 0


def _resolve_titles(args: argparse.Namespace) -> int:
    from pipeline.run import progress, titles

    done = titles.resolve_lake(args.lake, on_message=progress.BatchProgress().say)
    print(f"lake:   {args.lake}\ntitles: {done.render()}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from flows.serve import serve

    report = options.report_path(args.report, args.db)
    _check_outputs(args.lake, "--lake", args.db, report)
    return serve(args.cron, args.paths, args.lake, args.db, report, port=args.port)


def _check_command(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """A mistyped command exits 2 naming the close matches (`nromalise` → `normalise`).

    argparse before Python 3.14 only lists every command, which hides the one meant.
    """
    if not argv or argv[0].startswith("-"):
        return
    commands = next(a for a in parser._actions if isinstance(a, Subparsers)).choices
    if argv[0] in commands:
        return
    close = difflib.get_close_matches(argv[0], list(commands), n=3, cutoff=0.6)
    hint = (
        f"did you mean {' or '.join(map(repr, close))}?"
        if close
        else f"commands: {', '.join(commands)}"
    )
    parser.error(f"unknown command {argv[0]!r}; {hint}")


def _status(command: str, summary: RunSummary) -> int:
    """0, or `ALL_REJECTED_STATUS` with a hint when files were read but only rejects came out."""
    if summary.files_read and not summary.listings and summary.rejects:
        print(
            f"listings {command}: the {summary.files_read} files read gave no listing, only "
            f"rejects: were they search-result pages of a moredoc/DocHub site? The reasons are "
            "above and in the rejects table.",
            file=sys.stderr,
        )
        return ALL_REJECTED_STATUS
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    _check_command(parser, argv)
    args = parser.parse_args(argv)
    try:
        with _pandas_left_out():
            status = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit as an ignored exception
        return status
    except ListingsError as error:
        # A message may quote a file name or a page's text: drawn escaped (`terminal`).
        print(f"listings {args.command}: {escaped_lines(str(error))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        # Every writer commits whole steps only (docs/lake.md), so stopping is always safe.
        print(
            f"\nlistings {args.command}: interrupted; only completed work was committed, "
            "rerun to finish",
            file=sys.stderr,
        )
        return INTERRUPTED_STATUS
    except Exception as error:
        full = _disk_full(error)
        if full is None:
            raise
        where = f" writing {full.filename}" if full.filename else ""
        print(
            f"listings {args.command}: {full.strerror or 'no space left'}{where}: "
            "rerun after freeing space",
            file=sys.stderr,
        )
        return 1


class _NoPandas(importlib.abc.MetaPathFinder):
    """Finds `pandas` as missing, as in an install without it."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@contextlib.contextmanager
def _pandas_left_out() -> Iterator[None]:
    """Run a command as if pandas were not installed, unless it is imported already.

    No command uses pandas (it is a dev dependency, for the notebook example), but pandera
    imports it whenever it is installed, which more than doubles the time every run spends
    importing pandera (docs/architecture.md, "Start-up"). Only the command's own imports see
    pandas missing: the finder goes when the command returns.
    """
    if "pandas" in sys.modules:
        yield
        return
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


# 128 + SIGPIPE: what a shell reports for a command whose reader went away.
SIGPIPE_STATUS = 141
# 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C.
INTERRUPTED_STATUS = 130
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def _reader_gone() -> int:
    """`listings … | head -1`: the reader left, so stop quietly, as a Unix tool does.

    Standard output goes to devnull so Python's flush at exit cannot fail again (the
    Python docs' "Note on SIGPIPE", in the `signal` module).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (captured): nothing to flush
        pass
    return SIGPIPE_STATUS


def _disk_full(error: BaseException) -> OSError | None:
    """The out-of-space (or quota) OSError behind `error`, however deep it was wrapped."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError) and current.errno in DISK_FULL:
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


if __name__ == "__main__":
    sys.exit(main())
