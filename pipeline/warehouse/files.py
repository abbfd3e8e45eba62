"""How a build writes the warehouse file: the file itself in one transaction, or a copy renamed.

An update works on the warehouse in one DuckDB transaction (`open_in_place`), else on a copy
or a new file renamed into place (`replace`), while a read-only connection pins the file
(`pinned`); readers wait out an update (`connect_read_only`). A new file is written in
`config.STORAGE_VERSION`'s format (`storage_version`, `same_format`). Why: docs/warehouse.md,
"Every build is atomic" and "Which DuckDB opens the warehouse".
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb

from pipeline import config
from pipeline.errors import ListingsError

_POLL_S = 0.1
# What DuckDB says when another connection holds the file in a conflicting mode: another
# process's lock, or this process's connection opened with other settings.
_HELD = ("Could not set lock on file", "different configuration")


# DuckDB's setting for the storage format of the files a connection creates: a release's
# name ('v1.3.0': what DuckDB 1.3 reads) or 'latest'. An existing file keeps its own.
_STORAGE_SETTING = "storage_compatibility_version"


def storage_version(asked: str | None = None) -> str:
    """The storage version a build writes a new warehouse file in: `asked` (the commands'
    `--storage-version`), else the environment's `config.STORAGE_VERSION_ENV`, else
    `config.STORAGE_VERSION`. Raises `errors.ListingsError` for one DuckDB does not know."""
    version = asked or config.duckdb_storage_version()
    return version if version == config.STORAGE_VERSION else check_storage_version(version)


def check_storage_version(version: str) -> str:
    """`version` if DuckDB knows it as a storage version, else `errors.ListingsError`."""
    try:
        duckdb.connect(":memory:", config=storage_config(version)).close()
    except duckdb.Error:
        raise ListingsError(
            f"{version!r} is not a DuckDB storage version: give a DuckDB release such as "
            f"{config.STORAGE_VERSION} or v1.4.0 (the oldest DuckDB to open the warehouse), "
            "or latest"
        ) from None
    return version


def storage_config(version: str) -> dict[str, str]:
    """`duckdb.connect`'s config for a connection whose new files are in `version`'s format."""
    return {_STORAGE_SETTING: version}


def storage_format(con: duckdb.DuckDBPyConnection) -> str | None:
    """DuckDB's name for the storage format of the file `con` has open: 'v1.3.0+' (DuckDB 1.3
    and later read it), 'v2.0.0+'; None for an in-memory database."""
    return con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() "
        "WHERE database_name = current_database()"
    ).fetchall()[0][0]


def same_format(stored: str | None, version: str) -> bool:
    """Whether a file in the format `stored` (`storage_format`) is in the one a file created
    for `version` gets: a release that changed nothing in the format writes the previous
    one's ('v1.3.2' writes 'v1.3.0+'), so unless `stored` names `version` itself, DuckDB is
    asked (`_created_format`)."""
    return stored == f"{version}+" or stored == _created_format(version)


@cache
def _created_format(version: str) -> str | None:
    """The storage format of a file DuckDB creates for `version` (an empty one, made and
    deleted in the system's temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="listings-storage-") as folder:
        con = duckdb.connect(str(Path(folder, "probe.duckdb")), config=storage_config(version))
        try:
            return storage_format(con)
        finally:
            con.close()


def held(error: duckdb.Error) -> bool:
    """Whether opening failed because another connection holds the file (not a bad file)."""
    return any(words in str(error) for words in _HELD)


def wal(db: Path) -> Path:
    """DuckDB's write-ahead log of `db`: committed work not yet written into the file."""
    return db.with_name(f"{db.name}.wal")


def open_in_place(
    db: Path, opener: Callable[[Path], duckdb.DuckDBPyConnection]
) -> duckdb.DuckDBPyConnection | None:
    """`opener(db)` (a connection that may write), or None when the file cannot be updated
    in place: another connection holds it, it is no DuckDB file DuckDB can open, or it was
    replaced while opening (DuckDB would hold a file that is no longer the warehouse)."""
    try:
        before = os.stat(db)
        con = opener(db)
    except (OSError, duckdb.Error):
        return None
    try:
        after = os.stat(db)
    except OSError:
        after = None
    if after is None or (before.st_dev, before.st_ino) != (after.st_dev, after.st_ino):
        con.close()
        return None
    return con


def connect_read_only(
    db: Path, opener: Callable[[Path], duckdb.DuckDBPyConnection], *, wait_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:  # fmt: skip
    """`opener(db)`, tried again while an update holds the file (up to `wait_s`); any other
    error, or a file still held after that, raises DuckDB's error. `wait_s` defaults to
    `config.warehouse_wait_s()`."""
    deadline = time.monotonic() + (config.warehouse_wait_s() if wait_s is None else wait_s)
    told = False
    while True:
        try:
            return opener(db)
        except duckdb.Error as error:
            if not held(error) or time.monotonic() > deadline:
                raise
            if on_wait is not None and not told:
                on_wait(f"warehouse {db} is being written by another process: waiting")
                told = True
        time.sleep(_POLL_S)


@contextmanager
def pinned(
    db: Path, opener: Callable[[Path], duckdb.DuckDBPyConnection],
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection | None]:  # fmt: skip
    """A read-only connection to `db` for the block (None for a file DuckDB cannot open, or
    one held longer than `config.warehouse_wait_s()`: then the block runs unpinned, as every
    build did before updates in place, and `on_wait` says so)."""
    try:
        con = connect_read_only(db, opener, on_wait=on_wait)
    except duckdb.Error as error:
        if held(error) and on_wait is not None:
            wait_s = config.warehouse_wait_s()
            on_wait(f"warehouse {db} is still held after {wait_s:g} s: going on without it")
        con = None
    try:
        yield con
    finally:
        if con is not None:
            con.close()


def copy(db: Path, to: Path) -> None:
    """Copy a warehouse (pinned by the caller) with its write-ahead log, if it has one."""
    shutil.copyfile(db, to)
    if wal(db).exists():
        shutil.copyfile(wal(db), wal(to))


def replace(
    built: Path, db: Path, opener: Callable[[Path], duckdb.DuckDBPyConnection],
    on_wait: Callable[[str], None] | None = None,
) -> None:  # fmt: skip
    """Rename a finished, closed build onto `db`, pinning the warehouse it replaces.

    The replaced file's write-ahead log (a crashed update's committed work) is deleted
    first: the new file supersedes it, and DuckDB refuses a log beside a file it does not
    belong to. Deleted before the rename, a crash in between leaves the old warehouse as its
    last checkpoint holds it, which is a state it had.
    """
    if db.is_file() and db.stat().st_size > 0:
        with pinned(db, opener, on_wait):
            wal(db).unlink(missing_ok=True)
            os.replace(built, db)
    else:
        os.replace(built, db)
    wal(built).unlink(missing_ok=True)
