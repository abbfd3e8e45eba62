"""Which DuckDB storage format a build writes the warehouse in, and what an existing file keeps.

A new file is in the format of `config.STORAGE_VERSION` (v1.3.0: DuckDB 1.3 and later open
it), or of the version asked for (`storage_version=`, else the environment's
`config.STORAGE_VERSION_ENV`). DuckDB never converts a file, so an update keeps its file's
format and a warehouse in another format than the one asked for is rebuilt whole, saying why;
a release that writes the same format (v1.3.2 writes v1.3.0's) still updates.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline import config
from pipeline.errors import ListingsError
from pipeline.warehouse import database, files


def stored(db: Path) -> str | None:
    """The storage format DuckDB reports for a warehouse file (`files.storage_format`)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return files.storage_format(con)
    finally:
        con.close()


def test_the_default_is_the_oldest_format_that_holds_the_warehouse(sample_warehouse: Path) -> None:
    assert config.STORAGE_VERSION == "v1.3.0"
    assert stored(sample_warehouse) == "v1.3.0+"


def test_a_warehouse_in_another_format_is_rebuilt_whole_and_an_update_keeps_the_format(
    sample_lake: Path, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse.duckdb"
    built = database.rebuild(sample_lake, db, storage_version="latest")
    assert (stored(db), built.incremental) == ("v2.0.0+", False)
    built = database.rebuild(sample_lake, db, storage_version="latest")
    assert (stored(db), built.incremental) == ("v2.0.0+", True)  # updated, format kept

    built = database.rebuild(sample_lake, db)
    assert (stored(db), built.incremental) == ("v1.3.0+", False)
    assert built.rebuilt_because == (
        "its file is in DuckDB's storage format v2.0.0+; this build writes v1.3.0"
    )
    # v1.3.2 changed nothing in the format: its files are v1.3.0's, so this one is updated
    built = database.rebuild(sample_lake, db, storage_version="v1.3.2")
    assert (stored(db), built.incremental, built.rebuilt_because) == ("v1.3.0+", True, None)


def test_the_environment_names_the_version_when_the_caller_does_not(
    sample_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.STORAGE_VERSION_ENV, "v1.2.0")
    database.rebuild(sample_lake, tmp_path / "env.duckdb")
    database.rebuild(sample_lake, tmp_path / "asked.duckdb", storage_version="v1.4.0")
    assert stored(tmp_path / "env.duckdb") == "v1.2.0+"
    assert stored(tmp_path / "asked.duckdb") == "v1.4.0+"


def test_a_selection_works_on_a_copy_and_keeps_its_format(
    sample_lake: Path, sample_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_warehouse, db)
    built = database.rebuild(sample_lake, db, select=["dim_documents"], storage_version="latest")
    assert (stored(db), built.incremental) == ("v1.3.0+", False)
    # a selection records no project checksum: the next build is whole, in the asked format
    built = database.rebuild(sample_lake, db, storage_version="latest")
    assert (stored(db), built.incremental) == ("v2.0.0+", False)


def test_an_unknown_version_is_refused_before_anything_is_written(
    sample_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "warehouse.duckdb"
    message = (
        "'v9.9.9' is not a DuckDB storage version: give a DuckDB release such as v1.3.0 or "
        "v1.4.0 (the oldest DuckDB to open the warehouse), or latest"
    )
    with pytest.raises(ListingsError) as refused:
        database.rebuild(sample_lake, db, storage_version="v9.9.9")
    assert str(refused.value) == message
    monkeypatch.setenv(config.STORAGE_VERSION_ENV, "v9.9.9")
    with pytest.raises(ListingsError) as refused:
        database.rebuild(sample_lake, db)
    assert str(refused.value) == message
    assert list(tmp_path.iterdir()) == []
