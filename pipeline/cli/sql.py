"""`listings sql`: read-only SQL on the warehouse or a lake, shown the way DuckDB's shell does.

Argument parsing and printing only; the statements run in `pipeline.cli.sql_guard`
(`each_result`), which refuses anything that could write before any of it runs, on a
connection that may open only the warehouse, the lake's files and the paths given with
`--read`. Tables are
drawn by DuckDB's own renderer (columns elided and values cut to fit the terminal, row and
column counts below), so a 25-column mart with CJK text stays one line a row. Every
statement's result is shown, as in DuckDB's shell. CSV and JSON print times the same way,
ISO 8601 with the offset (`2026-11-20T09:14:37+00:00`), so a file written one way reads
back the same as the other.
"""

from __future__ import annotations

import argparse
import functools
import io
import shutil
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.cli import options

if TYPE_CHECKING:
    import duckdb
    import polars as pl

FORMATS = ("table", "csv", "json", "parquet")
MAX_ROWS = 50
# Where stdout is not a terminal (a pipe, a file, a test) DuckDB's renderer has no width to
# fit; this many characters keeps a table readable in a log or an editor.
WIDTH_WHEN_PIPED = 120
UNREADABLE = (
    "a query reads the warehouse (or the lake) and the files and folders given with "
    "--read PATH, and writes nothing"
)
HELP_WIDTH = 88  # the description is wrapped by hand: the epilog's examples must not be


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register `listings sql` on the `listings` parser."""
    sql = commands.add_parser(
        "sql",
        help="run read-only SQL on the warehouse (or a lake) and print the results",
        description=textwrap.fill(
            "Run SQL and print each statement's result, drawn as DuckDB's shell draws it "
            "(columns and long values cut to fit the terminal; the counts below say what "
            "was left out). Read-only: only SELECT (with DESCRIBE, SHOW, SUMMARIZE), "
            "EXPLAIN and reporting PRAGMAs (table_info, show_tables, database_size, "
            "version, ...) run; SQL holding anything else (COPY, EXPORT, ATTACH, INSTALL, "
            "SET, CREATE, ...) is refused before any of it runs, and settings cannot be "
            "changed. Queries read the warehouse (or the lake) and only the files and "
            "folders given with --read (read_parquet, read_csv, read_text of anything else "
            "is refused by DuckDB).",
            width=HELP_WIDTH,
        ),
        epilog=(
            "examples:\n"
            '  listings sql "select * from dim_documents limit 5"\n'
            "  listings sql -f report.sql --format csv --out report.csv\n"
            "  echo 'select count(*) from listings' | listings sql -\n"
            '  listings sql "describe listings" --lake data/lake\n'
            "  listings sql \"select * from read_csv('notes/prices.csv')\" --read notes\n\n"
            "csv and json write times as ISO 8601 with their offset "
            "(2026-11-20T09:14:37+00:00); with --out or --format parquet the SQL must hold "
            "one statement with a result. CSV cells are written as they are: a text cell starting "
            "with = + - or @ is a formula to a spreadsheet opening the file, so give "
            "--safe-csv for a CSV that someone will open in one (docs/sql.md)."
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
    target = sql.add_mutually_exclusive_group()
    options.add_db(target, "warehouse file, built by `make run`")
    target.add_argument(
        "--lake",
        type=options.lake_location,
        metavar="DIR",
        help="query a lake (folder or fsspec URL) directly instead",
    )
    sql.add_argument(
        "--read",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="let the SQL read this file or folder (and all below it); repeatable",
    )
    sql.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="output format (default: %(default)s); parquet needs --out or a pipe",
    )
    sql.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write the result to FILE instead of stdout (not the warehouse, another DuckDB "
        "database or a file inside a lake: refused)",
    )
    sql.add_argument(
        "--safe-csv",
        action="store_true",
        help="in CSV, put ' before a text cell starting with = + - @, tab or CR, so a "
        "spreadsheet shows it as text instead of running it as a formula (OWASP's advice "
        "against CSV injection; off by default: it changes the values)",
    )
    sql.add_argument(
        "--max-rows",
        type=options.positive_int,
        default=MAX_ROWS,
        metavar="N",
        help="rows shown per table, the first and last halves (default: %(default)s)",
    )
    sql.add_argument(
        "--max-width",
        type=options.positive_int,
        metavar="CHARS",
        help="width of a table (default: the terminal's, "
        f"{WIDTH_WHEN_PIPED} when stdout is not one)",
    )
    sql.set_defaults(handler=run)


def _sql_text(args: argparse.Namespace) -> str:
    if args.file is not None:
        return args.file.read_text(encoding="utf-8")
    if args.query == "-":
        return sys.stdin.read()
    return str(args.query)


def run(args: argparse.Namespace) -> int:
    import duckdb

    from pipeline.cli import sql_guard

    options.refuse_output(args.out, "--out", db=args.db, lakes=[args.lake] if args.lake else [])
    if args.lake is None:
        options.refuse_folder(args.db, "--db")
    if args.lake is None and not args.db.exists():
        print(
            f"listings sql: no warehouse at {args.db}: run `make run` (or `listings normalise "
            "… --db PATH`), or query a lake folder with --lake DIR",
            file=sys.stderr,
        )
        return 1
    try:
        text = _sql_text(args)
    except (OSError, UnicodeDecodeError) as error:
        print(f"listings sql: cannot read the SQL: {error}", file=sys.stderr)
        return 1
    if not text.strip():
        print("listings sql: no SQL given", file=sys.stderr)
        return 1
    one_result = args.out is not None or args.format == "parquet"
    if args.format == "parquet" and args.out is None and sys.stdout.isatty():
        # Binary: never onto a terminal. A pipe (`… | duckdb`) or --out is fine.
        print(
            "listings sql: --format parquet is binary: give --out FILE or pipe stdout",
            file=sys.stderr,
        )
        return 1
    width = args.max_width or _terminal_width()
    shown = 0
    try:
        for statement, result in sql_guard.each_result(
            text, db=args.db, lake=args.lake, read=args.read
        ):
            if result is None:
                continue
            if one_result and shown:
                print(
                    f"listings sql: --out and --format parquet write one result, and "
                    f"statement {statement.query.strip()[:40]!r} gives a second: run it on "
                    "its own",
                    file=sys.stderr,
                )
                return 1
            if args.format == "table":
                select = statement.type == duckdb.StatementType.SELECT
                result.read(  # DuckDB's table, which ends in a blank line
                    functools.partial(_draw, select=select, width=width, rows=args.max_rows)
                )
            else:
                _write(
                    result.pl(), args.format, args.out, first=not shown, safe_csv=args.safe_csv
                )
            shown += 1
    except duckdb.PermissionException as error:
        print(f"listings sql: {error}; {UNREADABLE}", file=sys.stderr)
        return 1
    except duckdb.Error as error:
        print(f"listings sql: {error}", file=sys.stderr)
        return 1
    return 0


def _draw(relation: duckdb.DuckDBPyRelation, *, select: bool, width: int, rows: int) -> None:
    """A result as DuckDB's table; a query's text escaped first (`escaped_text`)."""
    (escaped_text(relation) if select else relation).show(max_width=width, max_rows=rows)


def escaped_text(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """`relation` with the characters DuckDB's table renderer would draw raw (DEL, C1, bidi
    controls: `terminal.UNSAFE_UNDRAWN`; it escapes C0 itself) escaped as Python writes
    them, in text columns, text inside nested columns (shown as text then) and column
    names. A title can then neither send a terminal escape nor reorder what is shown."""
    import duckdb

    from pipeline.terminal import UNSAFE_UNDRAWN, escape_char, escaped

    def column(name: str, kind: str) -> duckdb.Expression:
        cell = duckdb.ColumnExpression(name)
        if "VARCHAR" not in kind:
            return cell.alias(escaped(name))
        text = cell if kind == "VARCHAR" else cell.cast(duckdb.sqltype("VARCHAR"))
        clean = text
        for char in UNSAFE_UNDRAWN:
            clean = duckdb.FunctionExpression(
                "replace", clean, duckdb.ConstantExpression(char),
                duckdb.ConstantExpression(escape_char(char)),
            )  # fmt: skip
        unsafe = duckdb.FunctionExpression(
            "regexp_matches", text, duckdb.ConstantExpression(f"[{UNSAFE_UNDRAWN}]")
        )
        return duckdb.CaseExpression(unsafe, clean).otherwise(text).alias(escaped(name))

    kinds = [str(kind) for kind in relation.types]
    if not any("VARCHAR" in kind for kind in kinds) and all(
        escaped(name) == name for name in relation.columns
    ):
        return relation
    return relation.select(*map(column, relation.columns, kinds))


def _terminal_width() -> int:
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return WIDTH_WHEN_PIPED


def iso_times(frame: pl.DataFrame) -> pl.DataFrame:
    """Times as ISO 8601 text, one format for CSV and JSON: `2026-11-20T09:14:37+00:00`
    (fractions only where there are any, as RFC 3339 writes them); a time without a zone
    has no offset."""
    import polars as pl

    return frame.with_columns(
        pl.col(name).dt.to_string("%+" if dtype.time_zone else "%Y-%m-%dT%H:%M:%S%.f")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    )


# Cells a spreadsheet would read as a formula (OWASP, "CSV Injection"): `--safe-csv` puts
# a single quote before them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formulas_quoted(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every text cell that starts like a formula (`FORMULA_STARTS`) prefixed
    with `'`, as OWASP recommends for CSV opened in a spreadsheet; numbers are left alone."""
    import polars as pl

    def quoted(name: str) -> pl.Expr:
        cell = pl.col(name)
        formula = pl.any_horizontal([cell.str.starts_with(start) for start in FORMULA_STARTS])
        return pl.when(formula).then(pl.lit("'") + cell).otherwise(cell).alias(name)

    return frame.with_columns(
        quoted(name) for name, dtype in frame.schema.items() if dtype == pl.String
    )


def _write(
    frame: pl.DataFrame, form: str, out: Path | None, *, first: bool, safe_csv: bool = False
) -> None:
    """One result in a machine format, to `out` (atomically: a full disk leaves the old file
    or none) or stdout (results after the first are separated by a blank line in CSV, one
    JSON array a line in JSON)."""
    from pipeline import atomic

    if form == "parquet":
        if out is None:
            frame.write_parquet(sys.stdout.buffer)
            return
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        atomic.write_bytes(out, buffer.getvalue())
        return
    frame = iso_times(frame)
    if form == "csv" and safe_csv:
        frame = formulas_quoted(frame)
    text = frame.write_csv() if form == "csv" else frame.write_json() + "\n"
    if out is not None:
        atomic.write_text(out, text)
        return
    if not first and form == "csv":
        sys.stdout.write("\n")
    sys.stdout.write(text)
