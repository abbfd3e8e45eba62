"""What a `listings sql` query may do, and the sandboxed DuckDB connection it runs on.

`check` classifies each statement with DuckDB's own parser (`extract_statements`, the
statement's `.type`) and, for a PRAGMA's name or an EXPLAIN's options, DuckDB's own
tokenizer (`duckdb.tokenize`): SELECT (DESCRIBE, SHOW, SUMMARIZE parse as SELECT), EXPLAIN
of a read (never EXPLAIN ANALYZE) and the PRAGMAs in `READ_PRAGMAS`; anything else raises
`errors.ReadOnlyQueryError` before any statement runs. `each_result` then runs the parsed
statements on a connection that is read-only where DuckDB allows it (a warehouse file),
whose file access is limited to the lake's committed files and the paths given with
`--read` (`sandbox`), with its settings locked. Why, and what is left: docs/sql.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.errors import ReadOnlyQueryError
from pipeline.lake import manifest
from pipeline.lake.storage import LakeLike
from pipeline.warehouse import database

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
    """Whether DuckDB parsed `statement` as a read: a SELECT, a reporting PRAGMA, or an
    EXPLAIN (not EXPLAIN ANALYZE) of one."""
    if statement.type == duckdb.StatementType.SELECT:
        return True
    words = tokens(statement.query)
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


@dataclass(frozen=True)
class Readable:
    """What a query may read besides the warehouse: files and folders (with all below)."""

    files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()

    @classmethod
    def of(cls, paths: Sequence[Path]) -> Readable:
        """The paths given with `--read`, absolute, split into folders and the rest."""
        full = [path.expanduser().resolve() for path in paths]
        return cls(
            tuple(str(path) for path in full if not path.is_dir()),
            tuple(str(path) for path in full if path.is_dir()),
        )


def sandbox(con: duckdb.DuckDBPyConnection, readable: Readable) -> None:
    """Let `con` open only `readable`'s files and folders, then lock its settings.

    DuckDB checks every file a statement opens, to read or to write, against these lists
    once external access is off; the lock (`database.lock_settings`) keeps a statement
    from turning any of it back on.
    """
    con.execute("SET allowed_paths = ?", [list(readable.files)])
    con.execute("SET allowed_directories = ?", [list(readable.folders)])
    con.execute("SET enable_external_access = false")
    database.lock_settings(con)


def each_result(
    sql: str, *, db: Path, lake: LakeLike | None = None, read: Sequence[Path] = ()
) -> Iterator[tuple[duckdb.Statement, duckdb.DuckDBPyRelation | None]]:
    """Each statement of `sql` with its result (None for one that returns none), run in
    order on a sandboxed connection to the warehouse `db` (opened read-only) or to views
    over `lake`'s committed files, which stays open while the caller reads each result.

    Nothing runs before every statement passed `check`. What runs is the statement
    DuckDB parsed and `check` classified, not its text parsed again.
    """
    con = database.connect(None if lake is not None else db, read_only=True)
    try:
        statements = check(con, sql)
        readable = Readable.of(read)
        if lake is not None:
            committed = manifest.committed_files(lake)
            database.bind_lake(con, lake, materialized="view", files=committed)
            lake_files = tuple(file for files in committed.values() for file in files)
            readable = Readable(readable.files + lake_files, readable.folders)
        sandbox(con, readable)
        for statement in statements:
            yield statement, con.sql(statement)
    finally:
        con.close()
