"""How `listings sql` shows one statement's result in each `--format`, and writes it out.

Every format is a function from the statement's relation and the `Look` (width, rows,
`--safe-csv`) to the text or bytes it writes (`FORMATS`). Text drawn on a terminal
(`table`, `line`, `markdown`) has its control characters escaped (`pipeline.terminal`);
CSV, JSON, NDJSON and Parquet keep the values exact. Why each does what: docs/sql.md,
"Shown as DuckDB's shell shows it".
"""

from __future__ import annotations

import contextlib
import io
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import polars as pl


@dataclass(frozen=True)
class Look:
    """How a result is shown: the table's width and rows (`--max-width`, `--max-rows`), the
    kind of statement it comes from, and whether CSV quotes formulas (`--safe-csv`)."""

    width: int
    rows: int
    explain: bool = False
    safe_csv: bool = False


# DuckDB's Python `show` draws at most its first 10,000 rows (more, and its footer says
# `? rows`): a table is drawn from at most the first and last `MOST_ROWS_DRAWN` rows of a
# result, so `--max-rows` above it shows that many.
MOST_ROWS_DRAWN = 4_999
# The renderer writes its row-count footer only under a table of 10 rows or more, and
# shows every row of one with at most 3 more than it may show (the `·` lines take 3).
FEWEST_ROWS_COUNTED = 5
NULL = "NULL"  # how `line` and `markdown` write a null, as DuckDB's table does


def table(relation: duckdb.DuckDBPyRelation, look: Look) -> str:
    """DuckDB's table of the whole result (an EXPLAIN: its plan), which ends in a blank line.

    As DuckDB's shell does, the footer gives the result's exact row count and its last rows
    are drawn under its first, in bounded memory: at most `2 × side + 1` rows are held. A
    result no longer than `2 × side` is read once and drawn whole; a longer one is counted,
    and its last `side` rows read, by running the query again (so `select * from listings`
    over ten million rows is drawn, not held). DuckDB's Python renderer would draw at most
    the first 10,000 rows and say `? rows`, so the footer's count of the rows drawn is made
    the result's (`counted`).
    """
    if look.explain:
        return plan(relation)
    rows = min(look.rows, MOST_ROWS_DRAWN)
    side = max(rows, FEWEST_ROWS_COUNTED)
    import duckdb  # the CLI imports it only where a command runs SQL

    try:
        first = relation.limit(2 * side + 1).materialize()
        if len(first) <= 2 * side:
            return _drawn(first, relation.columns, look.width, rows)
        ((total,),) = relation.aggregate("count(*)").fetchall()
        ends = first.limit(side).union(relation.limit(side, offset=max(total - side, side)))
        return counted(_drawn(ends, relation.columns, look.width, rows), 2 * side, total)
    except duckdb.Error:
        _raise_as_written(relation)
        raise


def _raise_as_written(relation: duckdb.DuckDBPyRelation) -> None:
    """Run the query as written, reading and dropping its rows (bounded memory), so that
    an error it raises names the positions of the user's own text: run inside `limit` or
    `count`, DuckDB names the lines of the query it wrapped around it."""
    for _ in relation.to_arrow_reader(BATCH_ROWS):
        pass


BATCH_ROWS = 100_000  # rows read at a time by `_raise_as_written`


def _drawn(relation: duckdb.DuckDBPyRelation, names: list[str], width: int, rows: int) -> str:
    """What DuckDB's `show` prints for `relation`, its text escaped first (`escaped_text`)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        escaped_text(relation, names).show(max_width=width, max_rows=rows)
    return printed.getvalue()


def counted(box: str, drawn: int, total: int) -> str:
    """`box`, DuckDB's table of `drawn` rows, with the row count in its footer (the lines
    below the closing border) made `total`. The count keeps its place: on a line that goes
    on after a gap (`33000 rows (4 shown)    31 columns (4 shown)`) the gap takes up the
    longer number; a count alone on its line stays centred."""
    lines = box.split("\n")
    closing = max((index for index, line in enumerate(lines) if line.startswith("└")), default=-1)
    old, new = f"{drawn} rows", f"{total} rows"
    for index in range(closing + 1, len(lines)):
        line = lines[index]
        at = line.find(old)
        if at < 0 or (at > 0 and line[at - 1] != " "):
            continue
        grow = len(new) - len(old)
        rest = line[at + len(old) :]
        end = rest.find("  ")
        if end >= 0 and rest[end:].strip():  # more on the line, after a gap
            gap = len(rest[end:]) - len(rest[end:].lstrip(" "))
            spaces = " " * max(gap - grow, 2)
            lines[index] = line[:at] + new + rest[:end] + spaces + rest[end + gap :]
        else:  # alone on its line, centred
            lines[index] = " " * max(at - (grow + 1) // 2, 0) + new + rest
        break
    return "\n".join(lines)


def plan(relation: duckdb.DuckDBPyRelation) -> str:
    """An EXPLAIN's plan as DuckDB's shell prints it: the plan's own lines (its boxes, or
    its JSON), not a table cell of `\\n`; control characters escaped but the line feed."""
    from pipeline.terminal import escaped_lines

    return "".join(
        escaped_lines(str(value)).rstrip("\n") + "\n\n" for _, value in relation.fetchall()
    )


def escaped_text(
    relation: duckdb.DuckDBPyRelation, names: list[str] | None = None
) -> duckdb.DuckDBPyRelation:
    """`relation` with the characters DuckDB's table renderer would draw raw (DEL, C1, bidi
    controls: `terminal.UNSAFE_UNDRAWN`; it escapes C0 itself) escaped as Python writes
    them, in text columns, text inside nested columns (shown as text then) and column
    names. A title can then neither send a terminal escape nor reorder what is shown.
    `names` are the columns' names to show (a held result's are made unique: `a`, `a_1`)."""
    import duckdb

    from pipeline.terminal import UNSAFE_UNDRAWN, escape_char, escaped

    def column(name: str, shown: str, kind: str) -> duckdb.Expression:
        cell = duckdb.ColumnExpression(name)
        if "VARCHAR" not in kind:
            return cell.alias(escaped(shown))
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
        return duckdb.CaseExpression(unsafe, clean).otherwise(text).alias(escaped(shown))

    names = list(relation.columns) if names is None else names
    kinds = [str(kind) for kind in relation.types]
    if not any("VARCHAR" in kind for kind in kinds) and all(
        escaped(shown) == own for shown, own in zip(names, relation.columns, strict=True)
    ):
        return relation
    return relation.select(*map(column, relation.columns, names, kinds))


def line(relation: duckdb.DuckDBPyRelation, look: Look) -> str:
    """DuckDB's shell's `.mode line`: each column on a line of its own, `name = value`,
    names right-aligned (to 5 characters at least, as the shell does), a blank line
    between rows; every control character escaped, so a value stays on its line."""
    from pipeline.terminal import escaped

    names, rows = _as_text(relation)
    names = [escaped(name) for name in names]
    width = max([5, *map(len, names)])
    return "\n".join(
        "".join(
            f"{name:>{width}} = {escaped(value)}\n" for name, value in zip(names, row, strict=True)
        )
        for row in rows
    )


def markdown(relation: duckdb.DuckDBPyRelation, look: Look) -> str:
    """A GitHub table: a header, a rule (`---:` right-aligns a number column), a row a
    line; cells padded to their column's width on a terminal (CJK counts two), a `|` in
    a cell written `\\|`, every control character escaped."""
    from pipeline.terminal import escaped

    def cell(text: str) -> str:
        return escaped(text).replace("|", "\\|")

    names, rows = _as_text(relation)
    right = [_numeric(kind) for kind in relation.types]
    table = [[cell(name) for name in names], *([cell(value) for value in row] for row in rows)]
    widths = [max(3, *(_width(row[i]) for row in table)) for i in range(len(names))]

    def drawn(row: list[str]) -> str:
        cells = (
            " " * (width - _width(text)) + text if last else text + " " * (width - _width(text))
            for text, width, last in zip(row, widths, right, strict=True)
        )
        return "| " + " | ".join(cells) + " |\n"

    rule = "|" + "|".join(
        "-" * (width + 1) + ":" if last else "-" * (width + 2)
        for width, last in zip(widths, right, strict=True)
    )
    return drawn(table[0]) + rule + "|\n" + "".join(map(drawn, table[1:]))


def _as_text(relation: duckdb.DuckDBPyRelation) -> tuple[list[str], list[list[str]]]:
    """The result's column names and its rows as DuckDB's text of each value (`NULL` for
    none), read once."""
    import duckdb

    held = relation.materialize()
    text = duckdb.sqltype("VARCHAR")
    cast = held.select(*(duckdb.ColumnExpression(name).cast(text) for name in held.columns))
    rows = [[NULL if value is None else value for value in row] for row in cast.fetchall()]
    return list(relation.columns), rows


def _numeric(kind: object) -> bool:
    """Whether DuckDB draws a column of this type right-aligned: a number."""
    return str(kind).split("(")[0] in NUMBERS


NUMBERS = frozenset({
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "BIGNUM",
})  # fmt: skip


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: two for a wide (CJK) character."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def csv(relation: duckdb.DuckDBPyRelation, look: Look) -> str:
    """CSV with a header; times ISO 8601; with `--safe-csv` formulas quoted."""
    frame = iso_times(relation.pl())
    return (formulas_quoted(frame) if look.safe_csv else frame).write_csv()


def json(relation: duckdb.DuckDBPyRelation, look: Look) -> str:
    """One JSON array of objects, on one line; times ISO 8601."""
    return iso_times(relation.pl()).write_json() + "\n"


def ndjson(relation: duckdb.DuckDBPyRelation, look: Look) -> str:
    """One JSON object a line (newline-delimited JSON); times ISO 8601, as in `json`."""
    return iso_times(relation.pl()).write_ndjson()


def parquet(relation: duckdb.DuckDBPyRelation, look: Look) -> bytes:
    """A Parquet file's bytes (polars' writer: the types as `pl` reads them)."""
    buffer = io.BytesIO()
    relation.pl().write_parquet(buffer)
    return buffer.getvalue()


# Each format's writer; the first is the default.
FORMATS: dict[str, Callable[[duckdb.DuckDBPyRelation, Look], str | bytes]] = {
    "table": table,
    "csv": csv,
    "json": json,
    "parquet": parquet,
    "line": line,
    "markdown": markdown,
    "ndjson": ndjson,
}
# What goes before each result but the first, on stdout: a table ends in a blank line
# already, and each JSON array is a line of its own.
BETWEEN = {"csv": "\n", "line": "\n", "markdown": "\n", "ndjson": "\n"}


def write(data: str | bytes, form: str, out: Path | None, *, first: bool) -> None:
    """One result, to `out` (atomically: a full disk leaves the old file or none) or to
    stdout, after `BETWEEN` for a result but the first."""
    from pipeline import atomic

    if out is not None:
        if isinstance(data, bytes):
            atomic.write_bytes(out, data)
        else:
            atomic.write_text(out, data)
        return
    if not first and form in BETWEEN:
        to_stdout(BETWEEN[form])
    to_stdout(data)


def to_stdout(data: str | bytes) -> None:
    """Write all of `data` to stdout, or raise `BrokenPipeError` if its reader went away.

    A write to a pipe whose reader leaves midway writes part of the data and reports no
    error; Python's buffered writer then drops the rest without a word, so `| head` would
    end in exit status 0 (`main` turns `BrokenPipeError` into 141). Writing what is left
    until all of it is written meets the closed pipe as an error instead.
    """
    out = sys.stdout
    binary = getattr(out, "buffer", None)
    if binary is None:  # a stream of text only (a test's StringIO)
        out.write(data if isinstance(data, str) else data.decode())
        return
    if isinstance(data, str):
        data = data.encode(out.encoding or "utf-8", out.errors or "strict")
    out.flush()
    left = memoryview(data)
    while left:
        written = binary.write(left)
        left = left[written or 0 :]
    binary.flush()


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
