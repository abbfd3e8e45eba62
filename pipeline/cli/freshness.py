"""`listings freshness`: dbt's `dbt source freshness` for the SQL project's sources.

Argument parsing and printing only; the work is in `pipeline.warehouse.freshness`.
`main.build_parser` calls `add_command`.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pipeline.cli import options
from pipeline.cli.exit_codes import ExitCode


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register `listings freshness` on the `listings` parser."""
    parser = commands.add_parser(
        "freshness",
        help="say how old each source table's newest row is (dbt's `source freshness`)",
        description=(
            "For each source table whose YAML (dbt_like_sql/staging/_sources.yml) gives a "
            "loaded_at_field and a freshness block, read max(loaded_at_field) in the "
            "warehouse (or over a lake's committed files with --lake) and compare its age "
            "at --now with warn_after and error_after: one line per table, PASS, WARN or "
            "ERROR STALE, as dbt prints them. Exit 0 for pass and warn, 1 when a table is "
            "older than its error_after (or has no rows). Writes dbt's sources.json "
            "artifact to --target-path. A build never looks at the clock: this is its own "
            "command, as in dbt."
        ),
    )
    options.add_db_or_lake(
        parser,
        db="warehouse file to read the source tables of",
        lake="read a lake's committed files (folder or fsspec URL) instead of the warehouse",
    )
    parser.add_argument(
        "--now",
        type=options.timestamp,
        metavar="TIME",
        help="the moment ages are measured at, ISO 8601 (a time without offset is UTC; "
        "default: the current time)",
    )
    parser.add_argument(
        "--target-path",
        type=Path,
        metavar="DIR",
        help="folder to write sources.json in (default: target/ beside --db, so "
        "data/target/ for data/warehouse.duckdb)",
    )
    parser.set_defaults(handler=_freshness)


def _freshness(args: argparse.Namespace) -> int:
    import duckdb

    from pipeline.warehouse import freshness
    from pipeline.warehouse.project import load_project

    now = args.now or datetime.now(UTC)
    if args.lake is None:
        options.refuse_folder(args.db, "--db")
        if not args.db.exists():
            print(
                f"listings freshness: no warehouse at {args.db}: run `listings build`, or "
                "read a lake with --lake DIR",
                file=sys.stderr,
            )
            return ExitCode.ERROR
    started = time.perf_counter()
    project = load_project()  # a broken project or lake raises a ListingsError: main says it
    tables = freshness.declared(project)
    try:
        results = freshness.check(
            tables, now, db=args.db if args.lake is None else None, lake=args.lake
        )
    except duckdb.Error as error:  # a warehouse without the table, say
        print(f"listings freshness: {error}", file=sys.stderr)
        return ExitCode.ERROR
    for index, result in enumerate(results, 1):
        print(result.render(index, len(results)))
    if not results:
        print("no source table declares a freshness block (dbt_like_sql/staging/_sources.yml)")
    target = args.target_path or args.db.parent / "target"
    freshness.write_sources_json(target, project, results, time.perf_counter() - started)
    stale = any(result.status in ("error", "runtime error") for result in results)
    return ExitCode.SOURCE_STALE if stale else ExitCode.OK
