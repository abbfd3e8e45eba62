"""DuckDB relations as the SQL-project runner handles them.

`create_relation` makes a view or table (replacing one of the other kind), `checkpoint`
writes what was committed into the file, and the rest lists what a connection holds:
relation names and types, a relation's columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from pipeline.warehouse.templates import quote


def column_types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
        "AND database_name = current_database() AND schema_name = current_schema() "
        "ORDER BY column_index",
        [relation],
    ).fetchall()
    return dict(rows)


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write what the connection committed into the file: after a table is created, outside
    any transaction.

    A table several threads wrote ends with a partly filled row group per thread; the next
    checkpoint merges them, writing those rows again and freeing the blocks they were first
    written to. Checkpointed only when the build ends (or when the log fills), the freed
    blocks stay behind as free space in the file (a tenth of it at a million listings,
    most of it dim_documents'); checkpointed after each table, the tables after it fill
    them. The merge costs the same either way (docs/warehouse.md, "Storage").
    """
    con.execute("CHECKPOINT")


def relation_types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each relation of the current schema, with its table_type (BASE TABLE or VIEW)."""
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = current_schema()"
    ).fetchall()
    return dict(rows)


def column_names(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [relation]
    ).fetchall()
    return {name for (name,) in rows}


def create_relation(
    con: duckdb.DuckDBPyConnection,
    name: str,
    materialized: str,
    sql: str,
    parameters: Sequence[Any] | None = None,
    *,
    temporary: bool = False,
) -> None:
    """`CREATE OR REPLACE` a view or table, dropping an existing one of the other kind first.

    DuckDB refuses to replace a view with a table (or back), which a rebuild from an older
    warehouse, or a model whose materialisation changed, needs. A `temporary` one lives in
    the connection's temp schema and is never the other kind.
    """
    kind = "VIEW" if materialized == "view" else "TABLE"
    if temporary:
        con.execute(f"CREATE OR REPLACE TEMP {kind} {quote(name)} AS\n{sql}", parameters)
        return
    existing = con.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_name = ? AND table_schema = current_schema()",
        [name],
    ).fetchall()
    if existing and (existing[0][0] == "VIEW") != (kind == "VIEW"):
        other = "VIEW" if existing[0][0] == "VIEW" else "TABLE"
        con.execute(f"DROP {other} {quote(name)}")
    con.execute(f"CREATE OR REPLACE {kind} {quote(name)} AS\n{sql}", parameters)


def relation_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()
    return {name for (name,) in rows}
