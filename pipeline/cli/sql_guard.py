"""What a `listings sql` query may do, and the sandboxed DuckDB connection it runs on.

Every statement first passes `read_only.check`; `each_result` then runs them
(`database.each_result`) on a connection limited to the warehouse (read-only), the lake's
committed files and the `--read` paths (`sandbox`), settings locked; over a lake only the
lake's tables are visible (`hide_binding`). Why, and what is left: docs/sql.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.lake.storage import LakeLike
from pipeline.warehouse import database, increments
from pipeline.warehouse.templates import quote


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


def hide_binding(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what binding a lake leaves beside its three views (`database.bind_lake`): the
    lake's URL in `_lake`, the build's record of its input (`increments.STATE_TABLE`), which
    no query over the lake reads. `show tables` then lists the lake's tables only. The
    connection is in memory and its own: nothing else sees the drop."""
    con.execute(f"DROP TABLE IF EXISTS {quote(increments.STATE_TABLE)}")


def each_result(
    sql: str, *, db: Path, lake: LakeLike | None = None, read: Sequence[Path] = ()
) -> Iterator[tuple[duckdb.Statement, database.Result | None]]:
    """Each statement of `sql` with its result (None for one that returns none), run in
    order (`database.each_result`) on a sandboxed connection to the warehouse `db` (opened
    read-only) or to views over `lake`'s committed files, which stays open while the caller
    reads each result.

    Nothing runs before every statement passed `check`. What runs is the statement
    DuckDB parsed and `check` classified, not its text parsed again.
    """
    readable = Readable.of(read)

    def prepare(
        con: duckdb.DuckDBPyConnection, committed: Mapping[str, Sequence[str]] | None
    ) -> None:
        if committed is not None:
            hide_binding(con)
        lake_files = tuple(file for files in (committed or {}).values() for file in files)
        sandbox(con, Readable(readable.files + lake_files, readable.folders))

    return database.each_result(sql, db=db, lake=lake, prepare=prepare)
