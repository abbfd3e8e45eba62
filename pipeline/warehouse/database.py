"""The DuckDB warehouse: the lake's committed files loaded as tables, the models, queries.

`listings build` loads the three lake tables (`snapshots`, `listings`, `rejects`: a contract
analysts query, every column of the files plus `fetched_month` from the folder) from exactly
the files the manifest committed (`manifest.committed_files`), never a glob, so a crashed
run's files and a compaction's leftovers are invisible. Tables rather than views, because
compaction deletes the files it replaced (a view over a file list would break in every
warehouse built before the compaction), and because every model and data test then reads
DuckDB's own storage instead of decoding Parquet again. The models are built on them by
`pipeline.models`, then their data tests run. The whole file is rebuilt each time, under a
temporary name, and renamed into place only when every test of severity `error` passed: a
reader never opens a half-built file or one whose tests failed, and a writer never blocks
readers for longer than the rename. A path that is not a lake (or a lake in the old layout)
raises `errors.LakeError` before anything is written, so a typo never empties a good warehouse.

`listings sql --lake` (`query(…, lake=…)`) binds *views* over the same committed files
on an in-memory connection instead: one ad-hoc query reads them once, loading would only
add work.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipeline.lake import layout, manifest
from pipeline.lake.storage import LakeLike, Location
from pipeline.warehouse import models

# The lake's tables (`vocab.TABLES`) in the order a build loads and reports them.
LAKE_TABLES = ("snapshots", "listings", "rejects")
# Resource settings, sized for `listings build` at a million listings within a 2 GB peak RSS
# on a 2-core machine (see `configure`); the environment overrides them on bigger machines.
MEMORY_LIMIT = os.environ.get("LISTINGS_DUCKDB_MEMORY_LIMIT", "1GB")
THREADS = int(os.environ.get("LISTINGS_DUCKDB_THREADS", "0")) or os.cpu_count() or 1


def connect(db: Path | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A configured connection (`configure`) to a warehouse file, or to a fresh in-memory one.

    A warehouse holds tables, so nothing it holds reads the lake after the build: no
    filesystem needs registering here, even for a lake on an object store.
    """
    con = duckdb.connect(str(db) if db else ":memory:", read_only=read_only and db is not None)
    configure(con, in_memory=db is None)
    return con


def configure(con: duckdb.DuckDBPyConnection, *, in_memory: bool) -> None:
    """UTC, and DuckDB's memory, threads and spill folder set for a bounded footprint.

    DuckDB's default memory limit is 80 % of the machine's RAM, and it uses what it may: on
    a large machine a build takes far more memory than it needs. A limit of `MEMORY_LIMIT`
    (1 GB) keeps the process (DuckDB's buffers, plus Python, polars and the libraries)
    within 2 GB; at a million listings every step fits, and what would not fit spills to
    disk instead of failing (figures in benchmarks/RESULTS.md, "Measurements behind design
    choices"). One thread per core: more only adds contention on a 2-core machine. A file
    database spills next to itself (DuckDB's `<file>.tmp`); an in-memory one would spill to
    `.tmp` in the current folder, so it gets a folder of its own in the system's temp dir
    (DuckDB creates it on the first spill and removes it on close).
    """
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {models.literal(MEMORY_LIMIT)}")
    con.execute(f"SET threads = {THREADS}")
    if in_memory:
        spill = Path(tempfile.gettempdir()) / f"listings-duckdb-{uuid.uuid4().hex}"
        con.execute(f"SET temp_directory = {models.literal(str(spill))}")


# How the connection that writes a warehouse stores its tables; `benchmarks.warehouse_floor`
# writes its tables the same way. Both settings matter at a million listings, where the lake
# and `int_listings__keyed` each hold every heading and description (figures in
# benchmarks/RESULTS.md, "Measurements behind design choices"):
# - `preserve_insertion_order = false`: otherwise DuckDB writes a large CREATE TABLE … AS
#   twice (once as it goes, once more at the next checkpoint), paying the time and the disk
#   of a second copy. Row order in a table was never a contract; every model that needs an
#   order says so.
# - no `dict_fsst`, DuckDB 2's default string compression: on long CJK text it costs more
#   than the rest of the write, and the build is much slower with it for a smaller file.
#   The warehouse is a cache rebuilt from the lake (the Parquet lake stays the compact
#   copy), so its build time matters more than its size.
WRITE_SETTINGS = {
    "preserve_insertion_order": "false",
    "disabled_compression_methods": "'dict_fsst'",
}


def _register(con: duckdb.DuckDBPyConnection, where: Location) -> None:
    """Let DuckDB read an fsspec filesystem (object stores need no DuckDB extension then)."""
    if not where.is_local:
        con.register_filesystem(where.fs)


def _read_parquet(files: Sequence[str]) -> str:
    """`read_parquet` over an explicit file list; `fetched_month` comes from the folder.

    No `union_by_name`: every file of a table has the same schema (docs/lake.md), and
    reconciling schemas would read every file's footer on every scan.
    """
    listed = ", ".join(models.literal(file) for file in files)
    return (
        f"read_parquet([{listed}], hive_partitioning = true, "
        f"hive_types = {{'{layout.PARTITION}': VARCHAR}})"
    )


def bind_lake(
    con: duckdb.DuckDBPyConnection,
    lake: LakeLike,
    *,
    materialized: str = "table",
    files: Mapping[str, Sequence[str]] | None = None,
    on_event: models.OnEvent | None = None,
) -> None:
    """Create the lake tables (or views) on `con` over exactly the files the manifest committed.

    `materialized='table'` loads them (the warehouse), `'view'` only names the files (one
    ad-hoc query). A table with nothing committed yet is an empty table of the files' types,
    so every model and query works on a fresh lake. `files` is `committed_files(lake)`
    when the caller already read it. Raises `NotALakeError` / `OldLayoutError`
    (both `errors.LakeError`) for a path that holds no lake in the current layout.
    """
    where = Location.of(lake)
    committed = files if files is not None else manifest.committed_files(where)
    _register(con, where)
    models.create_relation(con, "_lake", "table", "SELECT ? AS url", [where.url])
    for index, table in enumerate(LAKE_TABLES, 1):
        started = time.perf_counter()
        if committed[table]:
            models.create_relation(
                con, table, materialized, f"SELECT * FROM {_read_parquet(committed[table])}"
            )
        else:
            empty = pl.DataFrame(schema={**layout.file_schema(table), layout.PARTITION: pl.String})
            con.register("_empty", empty.to_arrow())
            try:
                models.create_relation(con, table, "table", "SELECT * FROM _empty")
            finally:
                con.unregister("_empty")
        if on_event is not None and materialized == "table":
            rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            seconds = time.perf_counter() - started
            on_event(models.Event("load", index, len(LAKE_TABLES), table, "OK", seconds, rows,
                                  "table"))  # fmt: skip


@dataclass(frozen=True)
class Built:
    """A finished build: rows per lake table, and what the model run built and tested."""

    lake_rows: dict[str, int]
    models: models.RunResult | None


def build(lake: LakeLike, db: Path, **options: Any) -> dict[str, int]:
    """(Re)build the warehouse file over the lake; returns rows per lake table.

    `rebuild` with the return callers (and the flow's task) have relied on; see it for the
    options.
    """
    return rebuild(lake, db, **options).lake_rows


def rebuild(
    lake: LakeLike,
    db: Path,
    *,
    with_models: bool = True,
    select: Sequence[str] | None = None,
    project: models.Project | None = None,
    on_event: models.OnEvent | None = None,
) -> Built:
    """Load the lake tables, build the models (all, or `select`), run their tests, rename.

    With `select` and an existing warehouse, the build starts from a copy of it, so models
    outside the selection keep their last build (dbt's behaviour); without a warehouse the
    selection's upstream models are built too. If a model or an `error` test fails, the
    warehouse is left as it was and the failed build is kept beside it for inspection
    (`<name>.failed.duckdb`), then the error is raised. The lake and the project are read
    before any file is written: a path that is not a lake raises `errors.LakeError` and a
    broken project `models.ModelError`, with `db` untouched. `on_event` hears of every lake
    table loaded, model built and test run as it finishes (`models.Event`).
    """
    files = manifest.committed_files(lake)
    if with_models and project is None:
        project = models.load_project()
    db.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per build: two runs building the same warehouse at once each
    # finish a whole file, and the last rename wins, instead of writing into one file.
    tmp = db.with_name(f".{db.name}.{uuid.uuid4().hex}.tmp")
    partial = bool(select) and db.exists()
    if partial:
        shutil.copyfile(db, tmp)
    con = connect(tmp, read_only=False)
    for name, value in WRITE_SETTINGS.items():
        con.execute(f"SET {name} = {value}")
    try:
        bind_lake(con, lake, files=files, on_event=on_event)
        counts = {
            table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in LAKE_TABLES
        }
        result = None
        if project is not None:
            result = models.run(
                con, project, select=select, with_upstream=not partial, on_event=on_event
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
    sql: str, *, db: Path | None = None, lake: LakeLike | None = None
) -> pl.DataFrame:
    """Run one query on a read-only warehouse file, or on views over a lake's committed files.

    Raises `errors.LakeError` when `lake` holds no lake (or one in the old layout).
    """
    files = manifest.committed_files(lake) if lake is not None else None
    con = connect(None if lake is not None else db, read_only=True)
    try:
        if lake is not None:
            bind_lake(con, lake, materialized="view", files=files)
        result = con.sql(sql)
        return result.pl() if result is not None else pl.DataFrame()
    finally:
        con.close()
