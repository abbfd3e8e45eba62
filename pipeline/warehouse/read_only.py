"""Whether a query only reads, decided by DuckDB's own parser and tokenizer.

`check` classifies each statement with `extract_statements` (the statement's `.type`) and,
for a PRAGMA's name or an EXPLAIN's options, `duckdb.tokenize`: SELECT (DESCRIBE, SHOW,
SUMMARIZE parse as SELECT), a query DuckDB expands into several statements (a PIVOT without
`IN (…)`: `_expanded_query`), EXPLAIN of a read (never EXPLAIN ANALYZE) and the PRAGMAs in
`READ_PRAGMAS`; anything else raises `errors.ReadOnlyQueryError` before any statement runs.
`database.query` and `listings sql` (`pipeline.cli.sql_guard`, which adds DuckDB's sandbox)
both run only what passed it. Why: docs/sql.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from pipeline.errors import ReadOnlyQueryError

READS = (
    "it runs SELECT (with DESCRIBE, SHOW, SUMMARIZE), EXPLAIN of those and reporting "
    "PRAGMAs such as table_info or version, so nothing was run"
)
# PRAGMAs that only report, by the name DuckDB's tokenizer reads; any other (a quoted name
# included) may set or run something (`enable_profiling`, `import_database`), and
# `PRAGMA name = value` parses as SET.
READ_PRAGMAS = frozenset({
    "collations", "database_list", "database_size", "functions", "metadata_info",
    "platform", "show", "show_databases", "show_tables", "show_tables_expanded",
    "storage_info", "table_info", "user_agent", "version",
})  # fmt: skip
# EXPLAIN ANALYZE runs the statement it explains: refused whatever that is.
ANALYZE = frozenset({"analyze", "analyse"})


@dataclass(frozen=True)
class Token:
    """One of DuckDB's tokens: its text and where it starts in the statement."""

    text: str
    start: int


def tokens(sql: str) -> list[Token]:
    """`sql`'s tokens as DuckDB's tokenizer reads them, comments left out."""
    found = duckdb.tokenize(sql)
    ends = [start for start, _ in found[1:]] + [len(sql)]
    return [
        Token(sql[start:end].strip(), start)
        for (start, kind), end in zip(found, ends, strict=True)
        if kind != duckdb.token_type.comment
    ]


def check(con: duckdb.DuckDBPyConnection, sql: str) -> list[duckdb.Statement]:
    """`sql`'s statements; raise `errors.ReadOnlyQueryError` unless every one only reads."""
    statements = con.extract_statements(sql)
    for number, statement in enumerate(statements, 1):
        if not reads_only(con, statement):
            text = " ".join(statement.query.split()).rstrip(";")
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise ReadOnlyQueryError(
                f"`listings sql` is read-only: statement {number} of {len(statements)} is "
                f"{statement.type.name} ({shown}); {READS}"
            )
    return statements


def reads_only(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> bool:
    """Whether DuckDB parsed `statement` as a read: a SELECT, a query DuckDB expands into
    several statements (`_expanded_query`), a reporting PRAGMA, or an EXPLAIN (not EXPLAIN
    ANALYZE) of one."""
    if statement.type == duckdb.StatementType.SELECT:
        return True
    words = tokens(statement.query)
    if statement.type == duckdb.StatementType.MULTI:
        return _expanded_query(con, statement.query, words)
    if statement.type == duckdb.StatementType.PRAGMA:
        return _reporting_pragma(words)
    if statement.type == duckdb.StatementType.EXPLAIN:
        explained = _explained(statement.query, words)
        if explained is None:
            return False
        try:
            inner = con.extract_statements(explained)
        except duckdb.Error:
            return False
        return len(inner) == 1 and reads_only(con, inner[0])
    return False


# The subquery `_expanded_query` parses a MULTI statement's text in: DuckDB's grammar admits
# only a query between the parentheses.
AS_SUBQUERY = "SELECT * FROM (\n{}\n)"


def _expanded_query(con: duckdb.DuckDBPyConnection, query: str, words: Sequence[Token]) -> bool:
    """Whether a MULTI statement is a query: true for a PIVOT without `IN (…)`.

    DuckDB's parser expands a statement holding such a PIVOT into several (one MULTI): a
    temporary ENUM of the pivoted values first (`CREATE TYPE … AS ENUM (SELECT DISTINCT …)`,
    which reads), then the statement as written, whose type the MULTI hides: it is a
    `COPY (PIVOT …) TO …` or `CREATE TABLE … AS PIVOT …` as well as a `PIVOT …`. So the
    parser reads the statement's text again as a subquery (`AS_SUBQUERY`), where its grammar
    admits a query only: one statement must come out, a SELECT (or its MULTI). The text is
    cut after its last token but `;` (`tokens`), so a trailing `;` or comment cannot split
    or swallow the closing parenthesis.
    """
    body = list(words)
    while body and body[-1].text == ";":
        body.pop()
    if not body:
        return False
    text = query[: body[-1].start + len(body[-1].text)]
    try:
        parsed = con.extract_statements(AS_SUBQUERY.format(text))
    except duckdb.Error:
        return False
    return len(parsed) == 1 and parsed[0].type in QUERIES


# What a MULTI statement's text parsed as a subquery may be: a query, or a query with a
# PIVOT without `IN (…)` (again a MULTI).
QUERIES = (duckdb.StatementType.SELECT, duckdb.StatementType.MULTI)


def _reporting_pragma(words: Sequence[Token]) -> bool:
    return (
        len(words) >= 2
        and words[0].text.lower() == "pragma"
        and words[1].text.lower() in READ_PRAGMAS
    )


def _explained(query: str, words: Sequence[Token]) -> str | None:
    """The text of the statement an EXPLAIN shows; None for EXPLAIN ANALYZE (in any
    spelling: `ANALYSE`, `(ANALYZE)`, `(FORMAT JSON, "analyze")`) or a form not known."""
    if len(words) < 2 or words[0].text.lower() != "explain":
        return None
    after = 1
    if words[1].text == "(":
        closing = [i for i, word in enumerate(words) if word.text == ")"]
        after = closing[0] + 1 if closing else len(words)
    options = {word.text.strip('"').lower() for word in words[1 : max(after, 2)]}
    if options & ANALYZE or after >= len(words):
        return None
    return query[words[after].start :]
