"""The warehouse reads exactly what the lake's manifest committed.

`listings build` loads the committed files as tables and `listings sql --lake` binds views
over them: a stray file in a partition folder is invisible to both, a warehouse keeps
working after compaction deletes the files it was loaded from, and a path that is not a lake
(or a lake in the old layout) is an error with a message that leaves the warehouse as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from pipeline import cli
from pipeline.ingest import metadata
from pipeline.lake import layout, manifest
from pipeline.lake.storage import Location
from pipeline.run import run
from pipeline.warehouse import database
from tests.conftest import RAW
from tests.warehouse.sql.conftest import empty_lake

# the sample folder: 4 text pages (33 listings) and the real page's HTML and JSON forms (10 each)
LAKE_ROWS = {"snapshots": 6, "listings": 53, "rejects": 0}


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample folder normalised once; tests copy it before changing anything."""
    root = tmp_path_factory.mktemp("lake")
    raw = root / "raw"
    shutil.copytree(RAW, raw)
    run.normalise_paths([raw], root / "lake", metadata.ReadOptions())
    return root / "lake"


@pytest.fixture
def lake_copy(sample_lake: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(sample_lake, tmp_path / "lake"))


def count_listings(*, db: Path | None = None, lake_dir: Path | None = None) -> int:
    return database.query("select count(*) from listings", db=db, lake=lake_dir).item()


def test_a_stray_file_in_a_partition_folder_is_invisible_to_build_and_sql(
    lake_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crashed run's file, here a second copy of committed rows, is not committed."""
    committed = manifest.committed_files(lake_copy)
    for table in ("listings", "snapshots"):
        first = Path(committed[table][0])
        shutil.copy(first, first.with_name("batch-crashed0000000000.parquet"))
    glob = pl.scan_parquet(lake_copy / "listings" / "**" / "*.parquet").select(pl.len())
    assert glob.collect().item() > LAKE_ROWS["listings"]  # the stray rows are really there
    db = tmp_path / "w.duckdb"
    assert database.build(lake_copy, db) == LAKE_ROWS
    assert count_listings(db=db) == LAKE_ROWS["listings"]
    # the real page's 10 documents are one row each across its three forms: 23 + 10
    assert database.query("select count(*) from dim_documents", db=db).item() == 33
    assert count_listings(lake_dir=lake_copy) == LAKE_ROWS["listings"]
    code = cli.main(["sql", "select count(*) as n from listings", "--lake", str(lake_copy),
                     "--format", "csv"])  # fmt: skip
    assert (code, capsys.readouterr().out) == (0, "n\n53\n")


def test_the_lake_tables_are_tables_with_every_file_column_and_the_month(
    lake_copy: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    database.build(lake_copy, db)
    for table in ("snapshots", "listings", "rejects"):
        columns = database.query(f"describe {table}", db=db)
        assert columns["column_name"].to_list() == [*layout.file_schema(table), "fetched_month"]
    assert database.query(
        "select table_name, table_type from information_schema.tables "
        "where table_name in ('snapshots', 'listings', 'rejects') order by 1",
        db=db,
    ).rows() == [("listings", "BASE TABLE"), ("rejects", "BASE TABLE"), ("snapshots", "BASE TABLE")]
    assert database.query(
        "select typeof(fetched_date), typeof(fetched_month), count(distinct fetched_month) "
        "from listings group by all",
        db=db,
    ).rows() == [("DATE", "VARCHAR", 1)]


def test_a_warehouse_outlives_the_lake_files_it_was_loaded_from(
    lake_copy: Path, tmp_path: Path
) -> None:
    """Compaction deletes the files it merged: a warehouse built before it keeps working."""
    db = tmp_path / "w.duckdb"
    database.build(lake_copy, db)
    shutil.rmtree(lake_copy)
    assert count_listings(db=db) == LAKE_ROWS["listings"]


def test_a_lake_with_nothing_committed_gives_empty_tables_typed_like_the_files(
    lake_copy: Path, tmp_path: Path
) -> None:
    full, empty = tmp_path / "full.duckdb", tmp_path / "empty.duckdb"
    database.build(lake_copy, full)
    assert database.build(empty_lake(tmp_path / "new"), empty) == dict.fromkeys(LAKE_ROWS, 0)
    for table in ("snapshots", "listings", "rejects"):
        assert database.query(f"describe {table}", db=empty).equals(
            database.query(f"describe {table}", db=full)
        )
    assert database.query("select count(*) from dim_documents", db=empty).item() == 0
    assert count_listings(lake_dir=tmp_path / "new") == 0


def test_build_on_a_path_that_is_not_a_lake_fails_and_leaves_the_warehouse_untouched(
    lake_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "wh"
    db = folder / "w.duckdb"
    database.build(lake_copy, db)
    before = db.read_bytes()
    typo = tmp_path / "lakee"
    assert cli.main(["build", "--lake", str(typo), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"listings build: {typo} is not a lake: it has no _manifest/ folder")
    assert err.endswith(f"; {db} is unchanged\n")
    assert db.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["target", "w.duckdb"]  # the first build's


def test_sql_on_a_path_that_is_not_a_lake_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexistent"
    assert cli.main(["sql", "select count(*) from listings", "--lake", str(missing)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"listings sql: {missing} is not a lake")


def old_layout_lake(path: Path) -> Path:
    """A lake whose manifest names a per-day batch file, as lakes did before docs/lake.md."""
    row = {column: None for column in manifest.SCHEMA} | {
        "snapshot_id": "s1",
        "source_path": "raw/s1.txt",
        "data_file": "batch-0123456789abcdef0123",
    }
    (path / manifest.DIRNAME).mkdir(parents=True)
    pl.DataFrame([row], schema=manifest.SCHEMA).write_parquet(manifest.path(Location.of(path)))
    return path


@pytest.mark.parametrize("command", ["build", "sql"])
def test_an_old_layout_lake_is_refused_naming_the_command_that_converts_it(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = old_layout_lake(tmp_path / "old")
    db = tmp_path / "w.duckdb"
    database.build(empty_lake(tmp_path / "new"), db)
    before = db.read_bytes()
    args = ["--db", str(db)] if command == "build" else ["select 1"]
    assert cli.main([command, *args, "--lake", str(old)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"listings {command}: {old} is in the old per-day layout")
    assert f"listings compact --lake {old}" in err
    assert db.read_bytes() == before
