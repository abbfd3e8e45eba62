"""`listings`: normalise snapshots and query the result, without Prefect's start-up cost.

Argument parsing and printing only; the work is in `pipeline.normalise` and
`pipeline.warehouse`. A wrong argument exits 2 with a message (argparse), a problem with
the user's files or query exits 1 with a message: never a traceback. Bad *data* is not an
error: it becomes rows in `rejects` and the run exits 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pipeline.cli import analyst, options
from pipeline.ingest import read
from pipeline.lake import layout

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
"""


def _timestamp(value: str) -> datetime:
    try:
        return read.parse_timestamp(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {value!r} (e.g. 2026-11-20T09:30:00Z)"
        ) from None


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
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
        type=read.as_source,
        metavar="PATH",
        help="files or folders, local or fsspec URLs (s3://bucket/raw/)",
    )
    norm.add_argument(
        "--out",
        required=True,
        metavar="LAKE_DIR",
        help="lake to write: a folder, or an fsspec URL such as s3://bucket/lake (credentials "
        "and endpoint from the environment, e.g. AWS_ENDPOINT_URL)",
    )
    norm.add_argument(
        "--fetched-at",
        type=_timestamp,
        metavar="ISO8601",
        help="fetch time for files whose sidecar (<file>.meta.json) and name give none "
        "(without it, the file's mtime is used and recorded as approximate)",
    )
    norm.add_argument("--site", metavar="NAME", help="site name for files without a sidecar URL")
    norm.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="also (re)build this DuckDB warehouse file with views over the lake",
    )
    norm.add_argument(
        "--full-refresh",
        action="store_true",
        help="forget which files the lake already holds and rebuild it from every input "
        "(by default only new or changed files are processed)",
    )
    options.add_batch_mb(norm, "files are processed in batches of about this many MB")
    options.add_layout(norm)
    options.add_workers(norm)

    sql = commands.add_parser(
        "sql",
        help="run a read-only SQL query and print the result",
        description="Run one SQL query on a read-only connection and print the result.",
    )
    sql.add_argument("query", metavar="SQL")
    target = sql.add_mutually_exclusive_group()
    options.add_db(target, "warehouse file, built by `make run`")
    target.add_argument(
        "--lake", metavar="DIR", help="query a lake (folder or fsspec URL) directly instead"
    )
    sql.add_argument(
        "--format",
        choices=("table", "csv", "json", "parquet"),
        default="table",
        help="output format (default: %(default)s); parquet needs --out or a pipe",
    )
    sql.add_argument(
        "--out", type=Path, metavar="FILE", help="write the result to FILE instead of stdout"
    )
    sql.add_argument("--max-rows", type=int, default=50, help="rows shown in table format")
    serve = commands.add_parser(
        "serve",
        help="run the normalise flow (Prefect) on a cron schedule",
        description=(
            "Serve the normalise flow on a cron schedule with Prefect. Without "
            "PREFECT_API_URL a local `prefect server start` is started on 127.0.0.1 (state "
            "under PREFECT_HOME, default ./.prefect) and stopped on Ctrl-C; with it, the flow "
            "is served against that server. Teams with a work pool: see prefect.yaml."
        ),
    )
    serve.add_argument("--cron", required=True, help='e.g. "0 * * * *" (hourly)')
    options.add_paths(serve)
    options.add_lake(serve)
    options.add_db(serve, "warehouse file to rebuild after each run")
    serve.set_defaults(handler=_serve)
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
    norm.set_defaults(handler=_normalise)
    sql.set_defaults(handler=_sql)
    analyst.add_commands(commands)
    return parser


def _normalise(args: argparse.Namespace) -> int:
    from pipeline.run import normalise, progress

    read_options = read.ReadOptions(fetched_at=args.fetched_at, site=args.site)
    with progress.BatchProgress() as bar:
        if note := options.layout_retired(args.layout):
            bar.say(f"listings normalise: note: {note}")
        try:
            summary = normalise.normalise_paths(
                args.paths,
                args.out,
                read_options,
                batch_bytes=args.batch_mb * 2**20,
                full_refresh=args.full_refresh,
                workers=args.workers,
                on_batch=bar.update,
                on_wait=bar.say,
            )
        except (FileNotFoundError, layout.LakeError) as error:
            print(f"listings normalise: {error}", file=sys.stderr)
            return 1
    if args.db:
        from pipeline.warehouse import database

        database.build(args.out, args.db)
        summary.warehouse = str(args.db)
    print(summary.render())
    return 0


def _compact(args: argparse.Namespace) -> int:
    from pipeline.lake import compact
    from pipeline.run import progress

    try:
        done = compact.compact_lake(args.lake, on_message=progress.BatchProgress().say)
    except (FileNotFoundError, layout.LakeError) as error:
        print(f"listings compact: {error}", file=sys.stderr)
        return 1
    print(done.render())
    return 0


def _serve(args: argparse.Namespace) -> int:
    # Prefect is imported only here: the rest of the CLI never pays for it.
    from flows.serve import serve

    return serve(args.cron, args.paths, args.lake, args.db)


def _sql(args: argparse.Namespace) -> int:
    import duckdb
    import polars as pl

    from pipeline.warehouse import database

    if args.lake is None and not args.db.exists():
        print(
            f"listings sql: no warehouse at {args.db}: run `make run` (or `listings normalise "
            "… --db PATH`), or query a lake folder with --lake DIR",
            file=sys.stderr,
        )
        return 1
    try:
        result = database.query(args.query, db=args.db, lake_dir=args.lake)
    except (duckdb.Error, layout.LakeError) as error:
        print(f"listings sql: {error}", file=sys.stderr)
        return 1
    if args.format == "parquet":
        # Binary: never onto a terminal. A pipe (`… | duckdb`) or --out is fine.
        if args.out is None and sys.stdout.isatty():
            print(
                "listings sql: --format parquet is binary: give --out FILE or pipe stdout",
                file=sys.stderr,
            )
            return 1
        result.write_parquet(args.out if args.out is not None else sys.stdout.buffer)
    elif args.out is not None and args.format in ("csv", "json"):
        text = result.write_csv() if args.format == "csv" else result.write_json() + "\n"
        args.out.write_text(text, encoding="utf-8")
    elif args.format == "csv":
        sys.stdout.write(result.write_csv())
    elif args.format == "json":
        sys.stdout.write(result.write_json() + "\n")
    else:
        with pl.Config(
            tbl_rows=args.max_rows, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200
        ):
            print(result)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
