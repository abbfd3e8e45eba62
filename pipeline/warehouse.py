"""The DuckDB warehouse: views over the Parquet lake, and read-only queries.

The database file holds no data, only views that read the lake, so rebuilding it is cheap
and it can never disagree with the Parquet. It is built under a temporary name and renamed
into place: a reader never opens a half-built file, and a writer never blocks readers for
longer than the rename.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from pipeline import lake, schemas

_MODELS = {
    "snapshots": schemas.Snapshot,
    "listings": schemas.Listing,
    "rejects": schemas.Reject,
}


def connect(db: Path | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection whose timestamps come back as UTC (DuckDB 2 defaults to Etc/UTC)."""
    con = duckdb.connect(str(db) if db else ":memory:", read_only=read_only and db is not None)
    con.execute("SET TimeZone = 'UTC'")
    return con


def _read_parquet(lake_dir: Path, table: str) -> str:
    glob = lake.table_glob(lake_dir, table).replace("'", "''")
    return f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"


def bind_lake(con: duckdb.DuckDBPyConnection, lake_dir: Path) -> None:
    """Create the lake views on a connection.

    Listings and rejects only show once their snapshot row is written (it is written last),
    so a crash between a snapshot's files never shows half a snapshot. A table with no file
    yet becomes an empty table of the right types, so queries work on a fresh lake.
    """
    for table, model in _MODELS.items():
        if not lake.has_files(lake_dir, table):
            empty = pl.DataFrame(schema=schemas.polars_schema(model)).to_arrow()
            con.register(f"_empty_{table}", empty)
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _empty_{table}")
            con.unregister(f"_empty_{table}")
            continue
        source = _read_parquet(lake_dir, table)
        where = (
            ""
            if table == "snapshots"
            else " WHERE snapshot_id IN (SELECT snapshot_id FROM snapshots)"
        )
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {source}{where}")


def build(lake_dir: Path, db: Path) -> dict[str, int]:
    """(Re)build the warehouse file over the lake; returns rows per view."""
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("SET TimeZone = 'UTC'")
        bind_lake(con, lake_dir)
        counts = {
            table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in _MODELS
        }
    finally:
        con.close()
    os.replace(tmp, db)
    Path(f"{tmp}.wal").unlink(missing_ok=True)
    return counts


def query(sql: str, *, db: Path | None = None, lake_dir: Path | None = None) -> pl.DataFrame:
    """Run one query on a read-only warehouse file, or on views bound straight over a lake."""
    con = connect(None if lake_dir is not None else db, read_only=True)
    try:
        if lake_dir is not None:
            bind_lake(con, lake_dir)
        result = con.sql(sql)
        return result.pl() if result is not None else pl.DataFrame()
    finally:
        con.close()
