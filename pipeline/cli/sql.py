"""`listings sql` and `listings describe`: read-only SQL on the warehouse or a lake.

Argument parsing and printing only: the statements run in `sql_guard` (`each_result`: the
read-only check, then DuckDB's sandbox) and each result is written in its `--format` by
`sql_output`, every statement's as DuckDB's shell shows it. An error names the line of the
SQL as given (`_message`); over a lake, a model of the warehouse named in a query gets a
hint (`_model_hint`). Why: docs/sql.md.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.cli import options, sql_output
from pipeline.cli.exit_codes import ExitCode

if TYPE_CHECKING:
    import duckdb

FORMATS = tuple(sql_output.FORMATS)
MAX_ROWS = 50
# Where stdout is not a terminal (a pipe, a file, a test) DuckDB's renderer has no width to
# fit; this many characters keeps a table readable in a log or an editor.
WIDTH_WHEN_PIPED = 120
UNREADABLE = (
    "a query reads the warehouse (or the lake) and the files and folders given with "
    "--read PATH, and writes nothing"
)
HELP_WIDTH = 88  # the description is wrapped by hand: the epilog's examples must not be
CLOCK = time.perf_counter  # `--timer`'s clock


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register `listings sql` on the `listings` parser."""
    sql = commands.add_parser(
        "sql",
        help="run read-only SQL on the warehouse (or a lake) and print the results",
        description=textwrap.fill(
            "Run SQL and print each statement's result, drawn as DuckDB's shell draws it "
            "(columns and long values cut to fit the terminal; the counts below say what "
            "was left out, the row count exact). Read-only: only SELECT (with DESCRIBE, "
            "SHOW, SUMMARIZE), EXPLAIN and reporting PRAGMAs (table_info, show_tables, "
            "database_size, version, ...) run, and PIVOT with or without IN; SQL holding "
            "anything else (COPY, EXPORT, ATTACH, INSTALL, SET, CREATE, ...) is refused "
            "before any of it runs, and settings cannot be changed. Queries read the "
            "warehouse (or the lake) and only the files and folders given with --read "
            "(read_parquet, read_csv, read_text of anything else is refused by DuckDB). "
            "An error names the line of the SQL as you gave it.",
            width=HELP_WIDTH,
        ),
        epilog=(
            "examples:\n"
            '  listings sql "select * from dim_documents limit 5"\n'
            "  listings sql -f report.sql --format csv --out report.csv\n"
            "  echo 'select count(*) from listings' | listings sql -\n"
            '  listings sql "describe listings" --lake data/lake\n'
            '  listings sql "pivot listings on title_source using count(*)" --timer\n'
            '  listings sql "select * from dim_documents limit 1" --format line\n'
            "  listings sql \"select * from read_csv('notes/prices.csv')\" --read notes\n\n"
            "formats: table (DuckDB's, an EXPLAIN as its plan), csv, json (an array a "
            "result), ndjson (an object a line), parquet, line (a column a line, name = "
            "value, as DuckDB's .mode line), markdown (a GitHub table). csv, json and ndjson "
            "write times as ISO 8601 with their offset (2026-11-20T09:14:37+00:00); with "
            "--out or --format parquet the SQL must hold one statement with a result. CSV "
            "cells are written as they are: a text cell starting with = + - or @ is a "
            "formula to a spreadsheet opening the file, so give --safe-csv for a CSV that "
            "someone will open in one (docs/sql.md). Over --lake the models (dim_documents, "
            "...) are not there: `listings build` makes them in the warehouse (--db)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = sql.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "query", nargs="?", metavar="SQL", help="the SQL to run; - reads it from stdin"
    )
    source.add_argument(
        "-f", "--file", type=Path, metavar="FILE", help="read the SQL from FILE instead"
    )
    _add_target(sql)
    sql.add_argument(
        "--read",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="let the SQL read this file or folder (and all below it); repeatable",
    )
    _add_format(sql)
    sql.add_argument(
        "--safe-csv",
        action="store_true",
        help="in CSV, put ' before a text cell starting with = + - @, tab or CR, so a "
        "spreadsheet shows it as text instead of running it as a formula (OWASP's advice "
        "against CSV injection; off by default: it changes the values)",
    )
    sql.add_argument(
        "--timer",
        action="store_true",
        help="after each statement, print `Run Time: 0.012 s` (its run and its output, in "
        "seconds) on stderr, so the results on stdout stay as they are",
    )
    sql.set_defaults(handler=run)


def add_describe(commands: argparse._SubParsersAction) -> None:
    """Register `listings describe` (`analyst.add_commands` calls it, beside `docs`)."""
    described = commands.add_parser(
        "describe",
        help="show a table's or model's columns with their types and descriptions",
        description=textwrap.fill(
            "Show the columns of a table or model of the warehouse (or of a lake's table), "
            "each with its type and its description: the comment every build writes on "
            "every column (pipeline/schemas.py, dbt_like_sql/*.yml). `listings sql "
            "'describe TABLE'` shows DuckDB's DESCRIBE, without them.",
            width=HELP_WIDTH,
        ),
        epilog="example:\n  listings describe dim_documents\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    described.add_argument("table", metavar="TABLE", help="a table, view or model name")
    _add_target(described)
    _add_format(described)
    described.set_defaults(handler=describe, read=[], safe_csv=False, timer=False, file=None)


def _add_target(parser: argparse.ArgumentParser) -> None:
    """`--db PATH` or `--lake DIR`: what the SQL reads."""
    options.add_db_or_lake(
        parser,
        db="warehouse file, built by `make run`",
        lake="query a lake (folder or fsspec URL) directly instead",
    )


def _add_format(parser: argparse.ArgumentParser) -> None:
    """`--format`, `--out` and the table's `--max-rows`, `--max-width`."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="output format (default: %(default)s); parquet needs --out or a pipe",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write the result to FILE instead of stdout (not the warehouse, another DuckDB "
        "database or a file inside a lake: refused)",
    )
    parser.add_argument(
        "--max-rows",
        type=options.positive_int,
        default=MAX_ROWS,
        metavar="N",
        help="rows shown per table, the first and last halves (default: %(default)s); at "
        f"most {sql_output.MOST_ROWS_DRAWN}",
    )
    parser.add_argument(
        "--max-width",
        type=options.positive_int,
        metavar="CHARS",
        help="width of a table (default: the terminal's, "
        f"{WIDTH_WHEN_PIPED} when stdout is not one)",
    )


def describe(args: argparse.Namespace) -> ExitCode:
    """`listings describe TABLE`: its columns, types and comments, as `listings sql` shows
    a query's result (DuckDB's DESCRIBE, joined to `duckdb_columns()`'s comments)."""
    from pipeline.warehouse.templates import literal, quote

    args.query = (
        "SELECT d.column_name, d.column_type, c.comment\n"
        f"FROM (DESCRIBE {quote(args.table)}) AS d\n"
        "LEFT JOIN duckdb_columns() AS c\n"
        f"  ON c.table_name = {literal(args.table)} AND c.column_name = d.column_name\n"
        "  AND c.database_name = current_database() AND c.schema_name = current_schema()\n"
        "ORDER BY c.column_index"
    )
    return run(args)


def _sql_text(args: argparse.Namespace) -> str:
    if args.file is not None:
        return args.file.read_text(encoding="utf-8")
    if args.query == "-":
        return sys.stdin.read()
    return str(args.query)


def run(args: argparse.Namespace) -> ExitCode:
    """`listings sql` (and `describe`, whose query it is given): each statement's result in
    `--format`, or the error, with exit status 1."""
    import duckdb

    from pipeline.cli import sql_guard

    command = getattr(args, "command", None) or "sql"
    options.refuse_output(args.out, "--out", db=args.db, lakes=[args.lake] if args.lake else [])
    if args.lake is None:
        options.refuse_folder(args.db, "--db")
    if args.lake is None and not args.db.exists():
        print(
            f"listings {command}: no warehouse at {args.db}: run `make run` (or `listings "
            "normalise … --db PATH`), or query a lake folder with --lake DIR",
            file=sys.stderr,
        )
        return ExitCode.ERROR
    try:
        text = _sql_text(args)
    except (OSError, UnicodeDecodeError) as error:
        print(f"listings {command}: cannot read the SQL: {error}", file=sys.stderr)
        return ExitCode.ERROR
    if not text.strip():
        print(f"listings {command}: no SQL given", file=sys.stderr)
        return ExitCode.ERROR
    one_result = args.out is not None or args.format == "parquet"
    if args.format == "parquet" and args.out is None and sys.stdout.isatty():
        # Binary: never onto a terminal. A pipe (`… | duckdb`) or --out is fine.
        print(
            f"listings {command}: --format parquet is binary: give --out FILE or pipe stdout",
            file=sys.stderr,
        )
        return ExitCode.ERROR
    form = sql_output.FORMATS[args.format]
    shown = 0
    start = 0  # where the statement running starts in `text`
    started = CLOCK()
    try:
        for statement, result in sql_guard.each_result(
            text, db=args.db, lake=args.lake, read=args.read
        ):
            if result is not None:
                if one_result and shown:
                    print(
                        f"listings {command}: --out and --format parquet write one result, and "
                        f"statement {statement.query.strip()[:40]!r} gives a second: run it "
                        "on its own",
                        file=sys.stderr,
                    )
                    return ExitCode.ERROR
                explain = statement.type == duckdb.StatementType.EXPLAIN
                look = sql_output.Look(
                    args.max_width or _terminal_width(), args.max_rows, explain, args.safe_csv
                )
                data = result.read(functools.partial(form, look=look))
                sql_output.write(data, args.format, args.out, first=not shown)
                shown += 1
            start += len(statement.query)
            if args.timer:
                print(f"Run Time: {CLOCK() - started:.3f} s", file=sys.stderr)
                started = CLOCK()
    except duckdb.PermissionException as error:
        print(f"listings {command}: {_message(error, text, start)}; {UNREADABLE}", file=sys.stderr)
        return ExitCode.ERROR
    except duckdb.Error as error:
        hint = _model_hint(error, text[start:]) if args.lake is not None else ""
        print(f"listings {command}: {_message(error, text, start)}{hint}", file=sys.stderr)
        return ExitCode.ERROR
    return ExitCode.OK


def _message(error: duckdb.Error, sql: str, start: int) -> str:
    """DuckDB's message for `error`, its `LINE n:` counted from the first line of `sql`.

    DuckDB numbers the lines of the statement it ran, which starts at its first character
    but space (its Python API strips the text); `start` is where that statement begins in
    `sql`. A parser error came from all of `sql` (`read_only.check`) and is as it is. The
    caret line under a renumbered line moves with it.
    """
    import duckdb

    message = str(error)
    if isinstance(error, duckdb.ParserException):
        return message
    rest = sql[start:]
    before = sql.count("\n", 0, start + len(rest) - len(rest.lstrip()))
    if not before:
        return message
    lines = message.split("\n")
    for index, line in enumerate(lines):
        word, _, number = line.partition(":")[0].partition(" ")
        if word != "LINE" or not number.isdigit() or ":" not in line:
            continue
        renumbered = str(int(number) + before)
        lines[index] = f"LINE {renumbered}{line[len('LINE ') + len(number) :]}"
        wider = len(renumbered) - len(number)
        if index + 1 < len(lines) and set(lines[index + 1]) <= {" ", "^"}:
            lines[index + 1] = " " * wider + lines[index + 1]
    return "\n".join(lines)


def _model_hint(error: duckdb.Error, sql: str) -> str:
    """What to do when a query over a lake names a model of the warehouse (`dim_documents`):
    `--lake` binds the lake's tables only. The model must be named by the statement that
    failed (`sql` starts with it; DuckDB's tokens) and by DuckDB's message."""
    import duckdb

    from pipeline.errors import ListingsError
    from pipeline.vocab import TABLES
    from pipeline.warehouse import read_only
    from pipeline.warehouse.project import load_project

    if not isinstance(error, duckdb.CatalogException):
        return ""
    try:
        names = set(load_project().models)
    except ListingsError:  # a broken SQL project: no hint, the error stays
        return ""
    named = {word.text.strip("\"'").lower() for word in read_only.tokens(sql)}
    found = sorted(name for name in names & named if name in str(error))
    if not found:
        return ""
    return (
        f"\n{found[0]} is a model of the warehouse (dbt_like_sql/), not a table of the lake: "
        f"--lake reads the lake's tables only ({', '.join(TABLES)}). Build the warehouse "
        "with `listings build --lake DIR --db PATH` and query it with --db PATH (or "
        f"without --lake: {config.DEFAULT_DB})"
    )


def _terminal_width() -> int:
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return WIDTH_WHEN_PIPED
