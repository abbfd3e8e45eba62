"""`listings build`, `lineage`, `compile`, `docs`, `report`, `describe`: the analyst's commands.

Argument parsing and printing only; the work is in `pipeline.warehouse` (`database`,
`models`, `report`). Kept apart from `main` so the model layer can grow its commands
without touching the ingestion side: `main.build_parser` calls `add_commands`. Like the
rest of the CLI, a problem exits 1 with a message, never a traceback; a failing data test
is such a problem (its offending rows are printed), a warning is not.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.cli import options, sql
from pipeline.cli.exit_codes import ExitCode
from pipeline.errors import DataTestFailure, LakeError, ModelError

if TYPE_CHECKING:  # the handlers import duckdb and the model layer when they run
    from pipeline.warehouse.results import Event


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the model-layer subcommands on the `listings` parser."""
    build = commands.add_parser(
        "build",
        help="build the warehouse: lake tables, dbt_like_sql models, data tests",
        description=(
            "Load the lake's committed Parquet files as tables, build the dbt_like_sql models "
            "in dependency order (each as its config says: view, table or incremental), then "
            "run their data tests, printing a line for each as it finishes. A warehouse the "
            "lake has only gained snapshots since is updated: the new snapshots' rows are "
            "appended and incremental models update what they touch, giving the tables a "
            "full rebuild would; it is rebuilt whole with --full-refresh, or when the models' "
            "SQL or the lake's schema changed, the lake rewrote history (a full refresh, "
            "resolve-titles) or no longer holds what the warehouse does. The warehouse file is "
            "replaced only if no test of severity error fails; a failed build is kept beside "
            "it as NAME.failed.duckdb. A path that is not a lake changes nothing. The lake is "
            "read under its lock: a build waits for a run writing the lake to finish (and "
            "says so); the models are built after the lock is released. Every table, view "
            "and column gets its description (the models' YAML, dbt_like_sql/staging/_sources.yml, "
            "pipeline/schemas.py) as a DuckDB comment: see duckdb_columns(). With "
            "--test-only nothing is built: the data tests run against the warehouse as it "
            "is, read-only, with the same lines and exit status."
        ),
    )
    options.add_lake(build)
    options.add_db(build, "warehouse file to write")
    build.add_argument(
        "--select",
        nargs="+",
        metavar="SELECTOR",
        help="only these models, in dbt's syntax: NAME, +NAME (and upstream), NAME+ (and "
        "downstream), 2+NAME, @NAME, tag:T, path:marts; several are a union, a,b an "
        "intersection. Other models keep their last build (with --test-only: the tests "
        "reading the selected models run)",
    )
    build.add_argument(
        "--exclude",
        nargs="+",
        metavar="SELECTOR",
        help="leave out these models (the same syntax), from --select's or from all",
    )
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the warehouse whole from the lake, even where it could be updated",
    )
    options.add_storage_version(build)
    options.add_target_path(build)
    build.add_argument(
        "--test-only",
        action="store_true",
        help="build nothing: run the data tests against the existing --db, read-only "
        "(exit 1 if a test of severity error finds rows, as a build does)",
    )
    build.set_defaults(handler=_build)

    lineage = commands.add_parser(
        "lineage",
        help="print the models' dependency graph",
        description=(
            "Print every model in build order with what it reads and its grain (text), or "
            "the graph of lake tables, models and singular tests for other tools: a Mermaid "
            "flowchart, a Graphviz digraph (`dot -Tsvg`), or JSON nodes and edges."
        ),
    )
    lineage.add_argument(
        "--format",
        choices=("text", "mermaid", "dot", "json"),
        default="text",
        help="output format (default: %(default)s)",
    )
    lineage.set_defaults(handler=_lineage)

    compile_ = commands.add_parser(
        "compile",
        help="print a model's SQL as the build runs it",
        description=(
            "Print a model's (or data test's) SQL with its refs, sources and vars resolved, "
            "exactly as `listings build` runs it: paste it into `listings sql` or DuckDB "
            "to see what a model does. An unknown name suggests the closest ones."
        ),
    )
    compile_.add_argument("model", metavar="MODEL", help="a model's or data test's name")
    compile_.set_defaults(handler=_compile)

    docs_ = commands.add_parser(
        "docs",
        help="write a self-contained HTML page documenting every table, model and column",
        description=(
            "Write one HTML file (no network needed to open it): the lineage graph, then "
            "every lake table and model with its layer, materialisation, grain, "
            "description, columns (type and meaning), tests and SQL. Column types come "
            "from --db when it exists, else from the models over empty lake tables."
        ),
    )
    options.add_db(docs_, "warehouse to read column types from, if it exists")
    docs_.add_argument(
        "--out",
        type=Path,
        default=config.DEFAULT_DB.with_name("docs.html"),
        metavar="FILE",
        help="HTML file to write (default: %(default)s); not the warehouse, another "
        "DuckDB database or a file inside a lake",
    )
    docs_.set_defaults(handler=_docs)

    report_ = commands.add_parser(
        "report",
        help="write a self-contained HTML report from the warehouse",
        description=(
            "Write one HTML file that opens anywhere with no network and no script (charts "
            "as inline SVG; point at a bar or point for its numbers). A header says when it "
            "was written and from which warehouse and lake, with row counts; then each "
            "query's result count over time (a panel per query) and a per-query table "
            "(fetches, pages covered of last_page, results trend), and per query the "
            "documents whose rank climbed or fell most; listings and new documents per day, "
            "week or month; size (one class per decade), age, pages, price, rating and "
            "file-type distributions; the most-seen documents; the data tests as the build "
            "stored them, "
            "data-quality findings by kind with examples, and reject reasons. The SQL behind "
            "each chart is folded under it. An empty warehouse says so, naming its lake."
        ),
    )
    options.add_db(report_, "warehouse file, built by `make run` or `listings build`")
    report_.add_argument(
        "--out",
        type=Path,
        default=config.DEFAULT_REPORT,
        metavar="FILE",
        help="HTML file to write (default: %(default)s); not the warehouse, another "
        "DuckDB database or a file inside a lake",
    )
    report_.set_defaults(handler=_report)
    sql.add_describe(commands)  # a table's columns and their comments, as `listings sql` shows


def _print_event(event: Event) -> None:
    """One line per lake table, model and test as it finishes: a long build is never silent."""
    print(event.render(), flush=True)


def _say_waiting(message: str) -> None:
    """Why a build is not starting (a run holds the lake's lock), on stderr like errors."""
    print(f"listings build: {message}", file=sys.stderr, flush=True)


def _build(args: argparse.Namespace) -> ExitCode:
    import duckdb

    from pipeline.warehouse import database

    if args.test_only:
        return _test_only(args.db, args.select, args.exclude)

    project, select = None, None
    if args.select or args.exclude:
        from pipeline.warehouse.project import load_project

        try:
            project = load_project()
            select = project.select(args.select, args.exclude)
        except ModelError as error:
            print(f"listings build: {error}", file=sys.stderr)
            return ExitCode.ERROR
        if not select:
            return _nothing_selected(args.select, args.exclude)
    try:
        built = database.rebuild(
            args.lake,
            args.db,
            select=select,
            project=project,
            full_refresh=args.full_refresh,
            on_event=_print_event,
            on_wait=_say_waiting,
            storage_version=args.storage_version,
            target_path=args.target_path,
        )
    except LakeError as error:
        print(f"listings build: {error}; {args.db} is unchanged", file=sys.stderr)
        return ExitCode.ERROR
    except ModelError as error:
        failed = args.db.with_name(f"{args.db.stem}.failed{args.db.suffix}")
        print(f"listings build: {error}", file=sys.stderr)
        if failed.exists():
            print(
                f"\n{args.db} is unchanged; the failed build is at {failed} for inspection",
                file=sys.stderr,
            )
        return ExitCode.ERROR
    except duckdb.Error as error:
        # DuckDB's own writes report a full disk as an IOException, not an OSError.
        full = "No space left on device" in str(error)
        hint = "; rerun after freeing space" if full else ""
        print(f"listings build: {error}{hint}", file=sys.stderr)
        return ExitCode.ERROR
    lake_rows = ", ".join(f"{table} {rows:,}" for table, rows in built.lake_rows.items())
    print(f"lake:      {args.lake} ({lake_rows} rows)")
    print(f"warehouse: {args.db}")
    if built.incremental:
        print(f"build:     updated ({built.snapshots_added:,} new snapshots)")
    elif built.rebuilt_because:
        print(f"build:     rebuilt whole ({built.rebuilt_because})")
    if built.models is not None:
        print(built.models.render())
    return ExitCode.OK


def _nothing_selected(select: Sequence[str] | None, exclude: Sequence[str] | None) -> ExitCode:
    """dbt's answer to a selection left empty (an intersection, all excluded): say so, do
    nothing, exit 0."""
    given = [*(["--select", *select] if select else [])]
    given += ["--exclude", *exclude] if exclude else []
    print(f"listings build: {' '.join(given)} selects no model: nothing to do", file=sys.stderr)
    return ExitCode.OK


def _test_only(
    db: Path, select: Sequence[str] | None, exclude: Sequence[str] | None = None
) -> ExitCode:
    """`build --test-only`: the build's test lines and exit status, with nothing built."""
    import duckdb

    from pipeline.warehouse import database, runner
    from pipeline.warehouse.project import load_project

    options.refuse_folder(db, "--db")
    if not db.exists():
        print(
            f"listings build: no warehouse at {db} to test: run `listings build` first",
            file=sys.stderr,
        )
        return ExitCode.ERROR
    project = load_project()
    chosen = None
    if select or exclude:
        try:
            chosen = project.select(select, exclude)
        except ModelError as error:
            print(f"listings build: {error}", file=sys.stderr)
            return ExitCode.ERROR
        if not chosen:
            return _nothing_selected(select, exclude)
    try:
        con = database.connect(db, read_only=True)
    except duckdb.Error as error:
        print(f"listings build: {db}: {error}", file=sys.stderr)
        return ExitCode.ERROR
    try:
        result, missing = runner.run_tests(con, project, select=chosen, on_event=_print_event)
    except DataTestFailure as error:
        print(f"listings build: {error}", file=sys.stderr)
        return ExitCode.ERROR
    finally:
        con.close()
    for test in missing:
        print(
            f"listings build: {test.name} not run: {db} lacks a relation it reads "
            f"({', '.join(test.refs)}); rebuild with `listings build`",
            file=sys.stderr,
        )
    print(f"warehouse: {db}")
    print(result.render())
    return ExitCode.ERROR if missing else ExitCode.OK


def _lineage(args: argparse.Namespace) -> ExitCode:
    from pipeline.report import lineage
    from pipeline.warehouse.project import load_project

    print(lineage.render(load_project(), args.format))
    return ExitCode.OK


def _compile(args: argparse.Namespace) -> ExitCode:
    from pipeline.warehouse.project import load_project

    print(load_project().compile(args.model))
    return ExitCode.OK


def _docs(args: argparse.Namespace) -> ExitCode:
    # Written as .NAME.tmp beside --out, then renamed: a folder would put it in the parent;
    # the warehouse, a DuckDB file or the lake's manifest would be lost.
    options.refuse_output(args.out, "--out", db=args.db)
    from pipeline.report import docs_page

    print(f"docs: {docs_page.write(args.out, db=args.db)}")
    return ExitCode.OK


def _report(args: argparse.Namespace) -> ExitCode:
    # Written as .NAME.tmp beside --out, then renamed: a folder would put it in the parent;
    # the warehouse, a DuckDB file or a lake's file would be lost.
    options.refuse_output(args.out, "--out", db=args.db)
    if not args.db.exists():
        print(
            f"listings report: no warehouse at {args.db}: run `make run` or `listings build`",
            file=sys.stderr,
        )
        return ExitCode.ERROR
    import duckdb

    from pipeline.report import page as report  # charting libraries load only for this command

    try:
        path = report.write(args.db, args.out)
    except duckdb.Error as error:
        print(f"listings report: {error}", file=sys.stderr)
        return ExitCode.ERROR
    print(f"report: {path}")
    return ExitCode.OK
