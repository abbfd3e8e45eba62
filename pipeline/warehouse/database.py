"""The DuckDB warehouse: the lake's committed files loaded as tables, the models, queries.

`listings build` loads the lake tables from the files the manifest commits, under the lake's
lock, then builds and tests the models (`runner.run`): an update in place (`increments`) or
a new file renamed into place (`files`). `query` runs read-only statements on a warehouse,
or over views of the lake (`lake=…`, `each_result`). Why: docs/warehouse.md, "Loading the
lake" and "Every build is atomic"; docs/lake.md, "Readers while a run writes"; docs/sql.md.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipeline import config
from pipeline.errors import ModelError, OutputPathError
from pipeline.lake import layout, lock, manifest
from pipeline.lake.storage import LakeLike, Location
from pipeline.vocab import TABLES
from pipeline.warehouse import artifacts, docs, files, increments, read_only, runner
from pipeline.warehouse.project import Project, load_project
from pipeline.warehouse.relations import checkpoint, create_relation
from pipeline.warehouse.results import Event, OnEvent, RunResult
from pipeline.warehouse.templates import literal, quote

# The order a build stores each lake table's rows in: text compresses (dictionary + FSST)
# where equal values lie together, and a document's listings share their heading; row order
# was never a contract (figures in benchmarks/RESULTS.md, "Measurements behind design choices").
LOAD_ORDER = {"snapshots": "fetched_at", "listings": "heading", "rejects": "reason"}
# The lake's tables (`vocab.TABLES`) in the order a build loads and reports them: snapshots
# first, the table the others' rows belong to.
LAKE_TABLES = tuple(sorted(TABLES, key=lambda table: table != "snapshots"))


def connect(
    db: Path | str | None = None, *, read_only: bool = True, storage_version: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A configured connection (`configure`) to a warehouse file, or to a fresh in-memory one.

    A warehouse holds tables, so nothing it holds reads the lake after the build: no
    filesystem needs registering here, even for a lake on an object store. Opening a file
    read-only waits while an update holds it (`files.connect_read_only`). A file a writing
    connection creates is stored in `storage_version`'s format (`files.storage_config`);
    one that exists keeps its own.
    """
    db = Path(db) if db is not None else None
    if db is not None and read_only:
        con = files.connect_read_only(db, _open_pin)
    else:
        config = files.storage_config(storage_version) if storage_version else {}
        con = duckdb.connect(str(db) if db else ":memory:", config=config)
    configure(con, in_memory=db is None)
    return con


def configure(con: duckdb.DuckDBPyConnection, *, in_memory: bool) -> None:
    """UTC, and DuckDB's memory, threads and spill folder set for a bounded footprint.

    DuckDB's default memory limit is 80 % of the machine's RAM, and it uses what it may: on
    a large machine a build takes far more memory than it needs. A limit of 1 GB
    (`config.duckdb_memory_limit`) keeps the process (DuckDB's buffers, plus Python, polars
    and the libraries) within 2 GB; at a million listings every step fits, and what would
    not fit spills to disk instead of failing (figures in benchmarks/RESULTS.md,
    "Measurements behind design choices"). One thread per core: more only adds contention on
    a 2-core machine. A file database spills next to itself (DuckDB's `<file>.tmp`); an
    in-memory one would spill to `.tmp` in the current folder, so it gets a folder of its
    own in the system's temp dir (DuckDB creates it on the first spill and removes it on
    close).
    """
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {literal(config.duckdb_memory_limit())}")
    con.execute(f"SET threads = {config.duckdb_threads()}")
    if in_memory:
        spill = Path(tempfile.gettempdir()) / f"listings-duckdb-{uuid.uuid4().hex}"
        con.execute(f"SET temp_directory = {literal(str(spill))}")


# How the connection that writes a warehouse stores its tables; `benchmarks.warehouse_floor`
# writes its tables the same way (figures in benchmarks/RESULTS.md, "Measurements behind
# design choices"): `preserve_insertion_order = false`, as otherwise DuckDB writes a large
# CREATE TABLE … AS twice (once as it goes, once more at the next checkpoint), paying the
# time and the disk of a second copy. Row order in a table was never a contract; the big
# tables are stored in the order that compresses their text (`LOAD_ORDER`), so DuckDB's
# default string compression (a dictionary per segment, FSST over it in storage formats from
# v1.3.0: docs/warehouse.md) stores each document's text about once.
WRITE_SETTINGS = {"preserve_insertion_order": "false"}


def _register(con: duckdb.DuckDBPyConnection, where: Location) -> None:
    """Let DuckDB read an fsspec filesystem (object stores need no DuckDB extension then)."""
    if not where.is_local:
        con.register_filesystem(where.fs)


def _read_parquet(files: Sequence[str]) -> str:
    """`read_parquet` over an explicit file list; `fetched_month` comes from the folder.

    No `union_by_name`: every file of a table has the same schema (docs/lake.md), and
    reconciling schemas would read every file's footer on every scan.
    """
    listed = ", ".join(literal(file) for file in files)
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
    on_event: OnEvent | None = None,
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
    create_relation(con, "_lake", "table", "SELECT ? AS url", [where.url])
    for index, table in enumerate(LAKE_TABLES, 1):
        started = time.perf_counter()
        if committed[table]:
            order = f" ORDER BY {LOAD_ORDER[table]}" if materialized == "table" else ""
            create_relation(
                con, table, materialized,
                f"SELECT * FROM {_read_parquet(committed[table])}{order}",
            )  # fmt: skip
            if materialized == "table":
                checkpoint(con)
        else:
            empty = pl.DataFrame(schema={**layout.file_schema(table), layout.PARTITION: pl.String})
            con.register("_empty", empty.to_arrow())
            try:
                create_relation(con, table, "table", "SELECT * FROM _empty")
            finally:
                con.unregister("_empty")
        if on_event is not None and materialized == "table":
            rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            seconds = time.perf_counter() - started
            on_event(Event("load", index, len(LAKE_TABLES), table, "OK", seconds, rows,
                                  "table"))  # fmt: skip


@dataclass(frozen=True)
class Built:
    """A finished build: rows per lake table, what the model run built and tested, and
    whether it updated the warehouse in place of a full rebuild (and if not, why not)."""

    lake_rows: dict[str, int]
    models: RunResult | None
    incremental: bool = False
    rebuilt_because: str | None = None
    snapshots_added: int = 0


def build(lake: LakeLike, db: Path | str, **options: Any) -> dict[str, int]:
    """(Re)build the warehouse file over the lake; returns rows per lake table.

    `rebuild` with the return callers (and the flow's task) have relied on; see it for the
    options.
    """
    return rebuild(lake, Path(db), **options).lake_rows


def rebuild(
    lake: LakeLike,
    db: Path,
    *,
    with_models: bool = True,
    select: Sequence[str] | None = None,
    project: Project | None = None,
    full_refresh: bool = False,
    on_event: OnEvent | None = None,
    on_wait: Callable[[str], None] | None = None,
    storage_version: str | None = None,
    target_path: Path | None = None,
) -> Built:
    """Load the lake tables, build the models (all, or `select`), run their tests.

    A warehouse the lake has only gained snapshots since (`increments.assess` finds no
    reason to rebuild) is updated: the new snapshots' rows are appended to its lake tables
    and the models update in place (`runner.run(…, incremental=True)`), giving the tables a
    full rebuild would; `full_refresh` rebuilds it whole regardless. An update works on the
    warehouse itself, in one transaction committed at the end (`files.open_in_place`), or,
    when another process has the file open, on a copy; any other build writes a new file
    (with `select` and an existing warehouse, a copy of it, so models outside the selection
    keep their last build: dbt's behaviour; without a warehouse the selection's upstream
    models are built too), renamed into place at the end (`files.replace`). If a model or
    an `error` test fails, the warehouse is left as it was and the failed build is kept
    beside it for inspection (`<name>.failed.duckdb`; an update in place is rolled back and
    done again on a copy, quietly, to keep it), then the error is raised. The lake, the
    project and `db` are checked before any file is written: a path that is not a lake
    raises `errors.LakeError`, a broken project `ModelError`, a `db` that is a folder
    or not a DuckDB file `errors.OutputPathError`, with `db` untouched. The manifest is read
    and the new rows appended or the tables loaded under the lake's lock, so a run writing
    the lake meanwhile is waited for (`on_wait` hears why); the models are built after it is
    released. `on_event` hears of every lake table loaded, model built and test run as it
    finishes (`Event`). Last, every table, view and column a build (re)created gets
    its description as a DuckDB comment (`docs.write_comments`): analysts read them in
    `duckdb_columns()` or any SQL client.

    A new file is stored in DuckDB's format of `storage_version` (`files.storage_version`:
    by default `config.STORAGE_VERSION`, which DuckDB 1.3 and later open); a warehouse in
    another format is rebuilt whole, except by a `select`, which works on a copy of it and
    so keeps its format (docs/warehouse.md, "Which DuckDB opens the warehouse").

    A build of the models stores its run_results.json and manifest.json (dbt's shape) in
    the warehouse it writes (`artifacts.ARTIFACTS_TABLE`; a failed build's in its failed
    file) and writes them into `target_path` (`artifacts.target_folder`: by default
    `target/` beside `db`) once the
    warehouse is in place, or failed (docs/warehouse.md, "Run artifacts").
    """
    return _rebuild(
        lake, db, with_models=with_models, select=select, project=project,
        full_refresh=full_refresh, on_event=on_event, on_wait=on_wait, in_place=True,
        storage_version=files.storage_version(storage_version),
        target_path=artifacts.target_folder(db, target_path),
    )  # fmt: skip


@dataclass
class _Target:
    """The connection a build writes through, and what it was opened on."""

    con: duckdb.DuckDBPyConnection
    path: Path  # `db` itself (an update in place, inside a transaction) or the build's file
    counts: dict[str, int]
    added: int
    why: str | None  # None: an update; else why the build loaded the lake whole ('' unsaid)
    in_place: bool = False  # the warehouse itself, in a transaction


def _rebuild(
    lake: LakeLike,
    db: Path,
    *,
    with_models: bool,
    select: Sequence[str] | None,
    project: Project | None,
    full_refresh: bool,
    on_event: OnEvent | None,
    on_wait: Callable[[str], None] | None,
    in_place: bool,
    storage_version: str,
    target_path: Path,
) -> Built:
    where = manifest.require_lake(lake)  # first: taking the lock makes `_manifest/`
    if with_models and project is None:
        project = load_project()
    check_warehouse_path(db)
    remove_abandoned_builds(db)
    partial = bool(select) and _holds_warehouse(db)
    with lock.reading(where, on_wait=on_wait):
        committed = manifest.load(where)
        files_ = manifest.files_of(where, committed)  # an old layout raises: nothing written
        wanted = increments.State(
            where.url, where.uri(where.root), manifest.history(where), layout.SCHEMA_VERSION,
            increments.project_checksum(project),
        )  # fmt: skip
        target = _open(
            where, db, wanted, committed, files_, full_refresh=full_refresh, partial=partial,
            in_place=in_place, on_event=on_event, on_wait=on_wait, storage_version=storage_version,
        )  # fmt: skip
    con, why = target.con, target.why
    recorder = artifacts.Recorder(on_event)
    args = {"select": list(select or []), "full_refresh": full_refresh,
            "target_path": str(target_path)}  # fmt: skip
    documents = None
    try:
        result = None
        if project is not None:
            result = runner.run(
                con, project, select=select, with_upstream=not partial, on_event=recorder,
                incremental=why is None, appended=APPENDED if why is None else None,
            )  # fmt: skip
        # a selection rebuilt some models only: no checksum, so the next build is whole
        state = replace(wanted, project_checksum="") if partial else wanted
        if why is None:  # kept, with its comment: only its row changes
            con.execute(f"DELETE FROM {increments.STATE_TABLE}")
            con.execute(f"INSERT INTO {increments.STATE_TABLE} BY NAME {state.row_sql()[0]}",
                        state.row_sql()[1])  # fmt: skip
        else:
            create_relation(con, increments.STATE_TABLE, "table", *state.row_sql())
        created = None if why is not None or result is None else result.created
        if project is not None:
            documents, made = artifacts.record(con, recorder, project, keep_others=partial,
                                               args=args)  # fmt: skip
            if made and created is not None:
                created = {*created, artifacts.ARTIFACTS_TABLE}
        docs.write_comments(con, project, only=created, in_transaction=target.in_place)
    except ModelError as error:
        if target.in_place:
            con.rollback()
            con.close()
            # the same update again on a copy, to keep the failed build for inspection
            return _rebuild(
                lake, db, with_models=with_models, select=select, project=project,
                full_refresh=full_refresh, on_event=None, on_wait=on_wait, in_place=False,
                storage_version=storage_version, target_path=target_path,
            )  # fmt: skip
        if project is not None:  # the failed file keeps its own, the target folder a copy
            documents, _ = artifacts.record(con, recorder, project, error=str(error),
                                            keep_others=partial, args=args)  # fmt: skip
        con.close()
        os.replace(target.path, db.with_name(f"{db.stem}.failed{db.suffix}"))
        files.wal(target.path).unlink(missing_ok=True)
        if documents is not None:
            artifacts.write_files(target_path, documents)
        raise
    except BaseException:
        if target.in_place:
            con.close()  # never committed: DuckDB discards it
        else:
            _discard(target.path, con)
        raise
    if target.in_place:
        con.commit()
        con.close()  # DuckDB writes the committed changes into the file (a checkpoint)
    else:
        con.close()
        files.replace(target.path, db, _open_pin, on_wait)
    if documents is not None:
        artifacts.write_files(target_path, documents)
    return Built(target.counts, result, why is None, why if why != "" else None, target.added)


def _open(
    where: Location,
    db: Path,
    wanted: increments.State,
    committed: pl.DataFrame,
    files_: Mapping[str, Sequence[str]],
    *,
    full_refresh: bool,
    partial: bool,
    in_place: bool,
    on_event: OnEvent | None,
    on_wait: Callable[[str], None] | None,
    storage_version: str,
) -> _Target:
    """Open what the build writes, with the lake's rows in it: the warehouse itself with the
    new snapshots' rows appended (in a transaction), a copy of it with them, or a new file
    (or, for a selection, a copy) with the lake loaded whole, a new file in the format of
    `storage_version`. The caller holds the lake's lock."""
    tmp = _build_name(db)

    def load(why: str | None) -> _Target:
        return _load(
            where, tmp, files_, why=why, on_event=on_event, storage_version=storage_version
        )

    if partial or not _holds_warehouse(db):
        if partial:
            with files.pinned(db, _open_pin, on_wait):
                files.copy(db, tmp)
        return load("")
    if full_refresh:
        return load("--full-refresh")
    if in_place and (con := files.open_in_place(db, _open_for_writing)) is not None:
        try:
            why, arrived = increments.assess(con, wanted, committed, storage_version)
            if arrived is not None:
                con.begin()
                appended = _append(con, where, committed, arrived, on_event=on_event)
                if appended is not None:
                    return _Target(con, db, appended, arrived.height, None, in_place=True)
                con.rollback()
                why = LAKE_TABLES_DIFFER
        except BaseException:
            con.close()  # nothing committed: the warehouse is as it was
            raise
        con.close()
        return load(why)
    with files.pinned(db, _open_pin, on_wait) as pin:
        why, arrived = increments.assess(pin, wanted, committed, storage_version)
        if arrived is not None:
            files.copy(db, tmp)
    if arrived is None:
        return load(why)
    con = None
    try:
        con = _open_for_writing(tmp)
        appended = _append(con, where, committed, arrived, on_event=on_event)
    except BaseException:
        _discard(tmp, con)
        raise
    if appended is not None:
        return _Target(con, tmp, appended, arrived.height, None)
    _discard(tmp, con)
    return load(LAKE_TABLES_DIFFER)


LAKE_TABLES_DIFFER = "its lake tables did not match the manifest"


def _load(
    where: Location,
    tmp: Path,
    files_: Mapping[str, Sequence[str]],
    *,
    why: str | None,
    on_event: OnEvent | None,
    storage_version: str,
) -> _Target:
    """Open the build's file (new, in `storage_version`'s format, or the copy of a warehouse
    already made there, in its own) and load the lake's tables whole.

    On any failure the file is deleted. The caller holds the lake's lock: the manifest and
    the files it names cannot change.
    """
    con = None
    try:
        tmp.parent.mkdir(parents=True, exist_ok=True)
        con = _open_for_writing(tmp, storage_version)
        bind_lake(con, where, files=files_, on_event=on_event)
        counts = _counts(con)
    except BaseException:
        _discard(tmp, con)
        raise
    return _Target(con, tmp, counts, counts["snapshots"], why)


def _append(
    con: duckdb.DuckDBPyConnection,
    where: Location,
    committed: pl.DataFrame,
    arrived: pl.DataFrame,
    *,
    on_event: OnEvent | None,
) -> dict[str, int] | None:
    """Append the arrived snapshots' rows to the lake tables; rows per table, or None when
    the tables then do not hold what the manifest counts (the caller rebuilds).

    Each table's new rows are kept in a temporary table (`APPENDED`) for the build: a
    staging view's changes are its rows over them. The caller holds the lake's lock.
    """
    _register(con, where)
    groups = sorted(arrived["data_file"].unique().to_list())
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _arrived AS SELECT unnest(?::VARCHAR[]) AS snapshot_id",
        [arrived["snapshot_id"].to_list()],
    )
    for index, table in enumerate(LAKE_TABLES, 1):
        started = time.perf_counter()
        new = quote(APPENDED[table])
        con.execute(f"CREATE OR REPLACE TEMP TABLE {new} AS SELECT * FROM {table} LIMIT 0")
        if groups:
            paths = [where.uri(where.path(table, f"{group}.parquet")) for group in groups]
            con.execute(
                f"INSERT INTO {new} BY NAME SELECT * FROM {_read_parquet(paths)} "
                "SEMI JOIN _arrived USING (snapshot_id)"
            )
            con.execute(f"INSERT INTO {table} SELECT * FROM {new}")
        if on_event is not None:
            rows = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            seconds = time.perf_counter() - started
            on_event(Event("append", index, len(LAKE_TABLES), table, "OK", seconds,
                                  rows, "table"))  # fmt: skip
    con.execute("DROP TABLE temp._arrived")
    counts = _counts(con)
    return counts if counts == manifest.row_counts(committed) else None


# The rows an update appended to each lake table (temporary tables of the build's connection)
APPENDED = {table: f"__appended__{table}" for table in LAKE_TABLES}


def _open_pin(db: Path) -> duckdb.DuckDBPyConnection:
    """A bare read-only connection, to hold DuckDB's shared lock on a warehouse."""
    return duckdb.connect(str(db), read_only=True)


def _open_for_writing(tmp: Path, storage_version: str | None = None) -> duckdb.DuckDBPyConnection:
    con = connect(tmp, read_only=False, storage_version=storage_version)
    for name, value in WRITE_SETTINGS.items():
        con.execute(f"SET {name} = {value}")
    return con


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0] for table in LAKE_TABLES
    }


# Bytes 8..12 of every DuckDB database file (after an 8-byte checksum).
DUCKDB_MAGIC = b"DUCK"


def check_warehouse_path(db: Path) -> None:
    """Raise `errors.OutputPathError` unless a build may replace `db`.

    A build renames a new file onto `db`: a folder cannot be replaced, and a file that is
    not a DuckDB database (notes, a device) is the user's, not an old warehouse, so it is
    refused rather than lost. An empty file holds nothing to lose and is replaced.
    """
    if db.is_dir():
        raise OutputPathError(
            f"{db} is a folder, not a warehouse file: give a file path such as "
            f"{db / 'warehouse.duckdb'}"
        )
    if not db.exists():
        return
    if not db.is_file():
        raise OutputPathError(f"{db} is not a regular file: give a warehouse file path")
    if db.stat().st_size and not is_duckdb_file(db):
        raise OutputPathError(
            f"{db} exists and is not a DuckDB database: a build would overwrite it, so "
            "nothing was written; give another path or remove the file"
        )


def is_duckdb_file(path: Path) -> bool:
    """Whether `path` is a DuckDB database file (by its header: `DUCKDB_MAGIC`)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(12)[8:12] == DUCKDB_MAGIC
    except OSError:  # not there, a folder, not readable
        return False


def _holds_warehouse(db: Path) -> bool:
    return db.is_file() and db.stat().st_size > 0


def _build_name(db: Path) -> Path:
    """A name of its own per build, beside `db` (the rename into place must not cross disks).

    Two runs building the same warehouse at once each finish a whole file and the last
    rename wins, instead of writing into one file. The pid tells `remove_abandoned_builds`
    whether the build that made it is still running.
    """
    return db.with_name(f".{db.name}.{os.getpid()}-{uuid.uuid4().hex}.tmp")


def _abandoned(db: Path) -> re.Pattern[str]:
    """`_build_name`s for `db`, with DuckDB's `.wal` and spill folder (`.tmp`) beside them.

    Names without a pid are an earlier version's, whose builds ran one at a time.
    """
    return re.compile(
        rf"\.{re.escape(db.name)}\.(?:(?P<pid>\d+)-)?[0-9a-f]{{32}}\.tmp(?:\.wal|\.tmp)?"
    )


def remove_abandoned_builds(db: Path) -> list[Path]:
    """Delete what killed builds of `db` left (their temporary file, `.wal`, spill folder).

    Only names `_build_name` makes for this `db`, and only those of a process that is gone:
    a build running meanwhile keeps its file. Returns what was deleted.
    """
    pattern = _abandoned(db)
    removed = []
    for path in sorted(db.parent.iterdir()) if db.parent.is_dir() else []:
        match = pattern.fullmatch(path.name)
        if match is None or (match["pid"] is not None and _running(int(match["pid"]))):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _discard(tmp: Path, con: duckdb.DuckDBPyConnection | None) -> None:
    """Close and delete an unfinished build: its file, `.wal` and spill folder."""
    if con is not None:
        con.close()
    for path in (tmp, Path(f"{tmp}.wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(f"{tmp}.tmp", ignore_errors=True)


def query(sql: str, *, db: Path | str | None = None, lake: LakeLike | None = None) -> pl.DataFrame:
    """Run a read-only query on a warehouse file, or on views over a lake's committed files.

    Every statement is checked first (`read_only.check`): one that could write raises
    `errors.ReadOnlyQueryError` and none runs. Several statements run in order and the last
    one's result is returned. Raises `errors.LakeError` when `lake` holds no lake (or one in
    the old layout).
    """
    last = pl.DataFrame()
    for _, result in each_result(sql, db=Path(db) if db is not None else None, lake=lake):
        last = result.pl() if result is not None else pl.DataFrame()
    return last


# Called on each connection `each_result` opens, after the lake is bound and before any
# statement runs, with the lake's committed files (None for a warehouse): what else the
# connection must be (`lock_settings` by default; `listings sql` adds its sandbox).
Prepare = Callable[[duckdb.DuckDBPyConnection, Mapping[str, Sequence[str]] | None], None]
# Times a statement over a lake is run again on a fresh binding when the files it was bound
# to were replaced by a writer meanwhile (`_Reading`).
READ_ATTEMPTS = 5


def each_result(
    sql: str,
    *,
    db: Path | None = None,
    lake: LakeLike | None = None,
    prepare: Prepare | None = None,
) -> Iterator[tuple[duckdb.Statement, Result | None]]:
    """Each statement of `sql` with its result (None for a statement that returns none),
    run one by one on the connection `query` describes, which stays open while the caller
    reads the result: `listings sql` renders every statement's, as DuckDB's shell does.

    Nothing runs before every statement passed `read_only.check`; what runs is the
    statement DuckDB parsed and `check` classified, not its text parsed again. `prepare`
    is called on the connection before any statement runs (default: `lock_settings`).
    A statement over a lake that finds a file gone which a writer replaced meanwhile (a
    run's compaction, or its full refresh) is run again over the manifest read anew.
    """
    reading = _Reading(sql, db, None if lake is None else Location.of(lake), prepare)
    try:
        for index, statement in enumerate(reading.statements):
            relation = reading.attempt(index, lambda relation: relation)
            yield statement, None if relation is None else Result(reading, index, relation)
    finally:
        reading.con.close()


@dataclass
class Result:
    """One statement's result, read with `show` (DuckDB's table) or `pl`: if reading it
    finds a lake file gone that a writer replaced meanwhile, the statement runs again on
    the lake as the manifest now commits it."""

    _reading: _Reading
    _index: int
    _relation: duckdb.DuckDBPyRelation | None

    def show(self, **options: Any) -> None:
        self.read(lambda relation: relation.show(**options))

    def pl(self) -> pl.DataFrame:
        return self.read(lambda relation: relation.pl())

    def read(self, use: Callable[[duckdb.DuckDBPyRelation], Any]) -> Any:
        """`use(relation)`, once: the statement's relation, or the statement run again."""
        relation, self._relation = self._relation, None
        if relation is not None:
            try:
                return use(relation)
            except duckdb.IOException:
                if not self._reading.rebind():
                    raise
        return self._reading.attempt(self._index, use)


class _Reading:
    """The connection `each_result` runs statements on, bound to the lake's committed files
    as the manifest named them when it was opened.

    Readers take no lock (a run may hold it for an hour), so a run may delete files a
    binding names: a compaction deletes the groups it merged, a full refresh every old
    group, right after committing their replacement. A statement that then fails to find
    a file is run again on a fresh connection bound to the manifest read anew, if the
    manifest changed meanwhile; a file the manifest still names that is gone is the error
    it is (`listings verify` names every such file).
    """

    def __init__(
        self, sql: str, db: Path | None, lake: Location | None, prepare: Prepare | None
    ) -> None:
        self.sql, self.db, self.lake = sql, db, lake
        self.prepare = prepare or (lambda con, _: lock_settings(con))
        self.rebinds = 0
        self._open(None if lake is None else manifest.committed_files(lake))

    def _open(self, committed: dict[str, list[str]] | None) -> None:
        """A connection bound to `committed` (the lake's files), checked and prepared;
        bound anew if the views cannot be made because a writer replaced files."""
        while True:
            con = connect(None if self.lake is not None else self.db, read_only=True)
            try:
                self.statements = read_only.check(con, self.sql)
                if self.lake is not None and committed is not None:
                    bind_lake(con, self.lake, materialized="view", files=committed)
                self.prepare(con, committed)
            except duckdb.IOException:
                con.close()
                if (committed := self._changed(committed)) is None:
                    raise
                continue
            except BaseException:
                con.close()
                raise
            self.con, self.bound = con, committed
            return

    def attempt(self, index: int, use: Callable[[duckdb.DuckDBPyRelation], Any]) -> Any:
        """`use` of statement `index`'s relation (None for a statement without a result),
        run again on a fresh binding while a writer's replacement of files stops it."""
        while True:
            try:
                relation = self.con.sql(self.statements[index])
                return None if relation is None else use(relation)
            except duckdb.IOException:
                if not self.rebind():
                    raise

    def rebind(self) -> bool:
        """Bind the lake anew if the manifest commits other files than the binding names
        (a writer replaced them); False if it does not, or after `READ_ATTEMPTS` binds."""
        committed = self._changed(self.bound)
        if committed is None:
            return False
        self.con.close()
        self._open(committed)
        return True

    def _changed(self, bound: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        """The lake's committed files if they are not `bound` (and binding again is
        allowed: fewer than `READ_ATTEMPTS` times); else None."""
        if self.lake is None or self.rebinds >= READ_ATTEMPTS:
            return None
        committed = manifest.committed_files(self.lake)
        if committed == bound:
            return None
        self.rebinds += 1
        return committed


# Set after the connection is configured, so no statement can turn a protection off.
LOCKED_SETTINGS = {
    "autoinstall_known_extensions": "false",  # no network: INSTALL is refused too
    "autoload_known_extensions": "false",
    "allow_community_extensions": "false",
    "lock_configuration": "true",  # last: it freezes every setting, itself included
}


def lock_settings(con: duckdb.DuckDBPyConnection) -> None:
    """Freeze the connection's settings: no extension installed or loaded, nothing reset."""
    for name, value in LOCKED_SETTINGS.items():
        con.execute(f"SET {name} = {value}")
