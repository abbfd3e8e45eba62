"""The DuckDB warehouse: views over the Parquet lake, the dbt_like_sql models, queries.

The lake tables are views (`snapshots`, `listings`, `rejects`: a contract analysts query),
so they never disagree with the Parquet. The models are built on them by `pipeline.models`:
staging and intermediate models as views, marts as tables, then their data tests run. The
whole file is rebuilt from the lake each time, under a temporary name, and renamed into place
only when every test of severity `error` passed: a reader never opens a half-built file or
one whose tests failed, and a writer never blocks readers for longer than the rename.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipeline import lake, models, schemas
from pipeline.storage import Location

_MODELS = {
    "snapshots": schemas.Snapshot,
    "listings": schemas.Listing,
    "rejects": schemas.Reject,
}


def connect(db: Path | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection whose timestamps come back as UTC (DuckDB 2 defaults to Etc/UTC).

    A warehouse over a lake on an object store records the lake's URL (`_lake`); its
    filesystem is registered here, so the views read it on any later connection.
    """
    con = duckdb.connect(str(db) if db else ":memory:", read_only=read_only and db is not None)
    con.execute("SET TimeZone = 'UTC'")
    if db is not None and "_lake" in {row[0] for row in con.sql("SHOW TABLES").fetchall()}:
        _register(con, Location.of(con.sql("SELECT url FROM _lake").fetchall()[0][0]))
    return con


def _register(con: duckdb.DuckDBPyConnection, where: Location) -> None:
    """Let DuckDB read an fsspec filesystem (object stores need no DuckDB extension then)."""
    if not where.is_local:
        con.register_filesystem(where.fs)


def _read_parquet(lake_dir: lake.LakeDir, table: str) -> str:
    glob = lake.table_glob(lake_dir, table).replace("'", "''")
    return f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"


def bind_lake(con: duckdb.DuckDBPyConnection, lake_dir: lake.LakeDir) -> None:
    """Create the lake views on a connection.

    Listings and rejects only show once their snapshot row is written (it is written last),
    so a crash between a snapshot's files never shows half a snapshot. A table with no file
    yet becomes an empty table of the right types, so queries work on a fresh lake.
    """
    where = Location.of(lake_dir)
    _register(con, where)
    con.execute("CREATE OR REPLACE TABLE _lake AS SELECT ? AS url", [where.url])
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


@dataclass(frozen=True)
class Built:
    """A finished build: rows per lake table, and what the model run built and tested."""

    lake_rows: dict[str, int]
    models: models.RunResult | None


def build(
    lake_dir: lake.LakeDir,
    db: Path,
    *,
    with_models: bool = True,
    select: Sequence[str] | None = None,
    project: models.Project | None = None,
) -> dict[str, int]:
    """(Re)build the warehouse file over the lake; returns rows per lake table.

    See `rebuild` for the options; this keeps the signature callers have relied on.
    """
    return rebuild(lake_dir, db, with_models=with_models, select=select, project=project).lake_rows


def rebuild(
    lake_dir: lake.LakeDir,
    db: Path,
    *,
    with_models: bool = True,
    select: Sequence[str] | None = None,
    project: models.Project | None = None,
) -> Built:
    """Bind the lake views, build the models (all, or `select`), run their tests, rename.

    With `select` and an existing warehouse, the build starts from a copy of it, so models
    outside the selection keep their last build (dbt's behaviour); without a warehouse the
    selection's upstream models are built too. If a model or an `error` test fails, the
    warehouse is left as it was and the failed build is kept beside it for inspection
    (`<name>.failed.duckdb`), then the error is raised.
    """
    db.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per build: two runs building the same warehouse at once each
    # finish a whole file, and the last rename wins, instead of writing into one file.
    tmp = db.with_name(f".{db.name}.{uuid.uuid4().hex}.tmp")
    partial = bool(select) and db.exists()
    if partial:
        shutil.copyfile(db, tmp)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("SET TimeZone = 'UTC'")
        bind_lake(con, lake_dir)
        counts = {
            table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in _MODELS
        }
        result = None
        if with_models:
            result = models.run(
                con,
                project or models.load_project(),
                select=select,
                with_upstream=not partial,
            )
    except models.ModelError:
        con.close()
        failed = db.with_name(f"{db.stem}.failed{db.suffix}")
        os.replace(tmp, failed)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        raise
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, db)
    Path(f"{tmp}.wal").unlink(missing_ok=True)
    return Built(counts, result)


def query(
    sql: str, *, db: Path | None = None, lake_dir: lake.LakeDir | None = None
) -> pl.DataFrame:
    """Run one query on a read-only warehouse file, or on views bound straight over a lake."""
    con = connect(None if lake_dir is not None else db, read_only=True)
    try:
        if lake_dir is not None:
            bind_lake(con, lake_dir)
        result = con.sql(sql)
        return result.pl() if result is not None else pl.DataFrame()
    finally:
        con.close()
