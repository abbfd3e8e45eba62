"""`listings sql` only reads: a statement that could write a file, change a database or a
setting is refused before any statement of the query runs, on `--db` and on `--lake`
alike (an in-memory connection over the lake's files, where a COPY would land in the lake).
Local files other than the lake's are read only where `--read` names them."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from pipeline import cli
from pipeline.cli import sql
from pipeline.warehouse import database
from tests.conftest import lake_files

SUMMARY = "column_name,column_type,min,max,approx_unique,avg,std,q25,q50,q75,count,null_percentage"
READS = "it runs SELECT (with DESCRIBE, SHOW, SUMMARIZE), EXPLAIN of those and reporting"


@pytest.fixture
def built(sample_lake: Path, sample_warehouse: Path) -> tuple[Path, Path]:
    """The sample lake and its warehouse: (lake, db). No test may change either."""
    return sample_lake, sample_warehouse


@pytest.fixture
def target(request: pytest.FixtureRequest, built: tuple[Path, Path]) -> list[str]:
    lake, db = built
    return ["--lake", str(lake)] if request.param == "lake" else ["--db", str(db)]


def _sql(query: str, target: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = cli.main(["sql", query, *target])
    return status, capsys.readouterr().err


def _refusal(number: int, count: int, kind: str, shown: str) -> str:
    return (
        f"listings sql: `listings sql` is read-only: statement {number} of {count} is {kind} "
        f"({shown}); {READS} PRAGMAs such as table_info or version, so nothing was run\n"
    )


@pytest.mark.parametrize("target", ["lake", "db"], indirect=True)
@pytest.mark.parametrize(
    ("query", "number", "count", "kind"),
    [
        ("copy (select 1 as x) to 'out.csv'", 1, 1, "COPY"),
        ("export database 'exported'", 1, 1, "EXPORT"),
        ("select 1; copy (select 2) to 'out.csv'; select 3", 2, 3, "COPY"),
        ("install httpfs", 1, 1, "LOAD"),
        ("load httpfs", 1, 1, "LOAD"),
        ("set threads = 1", 1, 1, "SET"),
        ("set lock_configuration = false", 1, 1, "SET"),
        ("pragma threads = 1", 1, 1, "SET"),
        ("pragma enable_profiling", 1, 1, "PRAGMA"),
        ("create table t as select 1", 1, 1, "CREATE"),
        ("call checkpoint()", 1, 1, "CALL"),
        ("explain analyze copy (select 1) to 'out.csv'", 1, 1, "EXPLAIN"),
        ("/* why */ explain (analyze) copy (select 1) to 'out.csv'", 1, 1, "EXPLAIN"),
        # EXPLAIN ANALYZE runs what it explains: refused whatever that is
        ("explain analyze select 1", 1, 1, "EXPLAIN"),
        ('explain (format json, "analyze") select 1', 1, 1, "EXPLAIN"),
        ('pragma "version"', 1, 1, "PRAGMA"),
    ],
)
def test_a_statement_that_could_write_is_refused_and_nothing_runs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    built: tuple[Path, Path],
    target: list[str],
    query: str,
    number: int,
    count: int,
    kind: str,
) -> None:
    os.chdir(tmp_path)
    lake, db = built
    before = (lake_files(lake), db.read_bytes())
    status, err = _sql(query, target, capsys)
    shown = " ".join(query.split(";")[number - 1].split())
    assert (status, err) == (1, _refusal(number, count, kind, shown))
    assert list(tmp_path.iterdir()) == []
    assert (lake_files(lake), db.read_bytes()) == before


@pytest.mark.parametrize("target", ["lake"], indirect=True)
def test_a_copy_into_the_lake_folder_is_refused(
    capsys: pytest.CaptureFixture[str], built: tuple[Path, Path], target: list[str]
) -> None:
    lake, _ = built
    stray = lake / "listings" / "stray.parquet"
    query = f"copy (select * from listings) to '{stray}'"
    status, err = _sql(query, target, capsys)
    assert status == 1
    assert err.startswith("listings sql: `listings sql` is read-only: statement 1 of 1 is COPY")
    assert not stray.exists()


@pytest.mark.parametrize("target", ["lake", "db"], indirect=True)
def test_attaching_another_database_to_drop_its_table_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: list[str]
) -> None:
    os.chdir(tmp_path)
    with duckdb.connect("other.duckdb") as con:
        con.execute("create table keep as select 42 as answer")
    query = "attach 'other.duckdb' as o (read_write); drop table o.keep"
    status, err = _sql(query, target, capsys)
    assert (status, err) == (1, _refusal(1, 2, "ATTACH", "attach 'other.duckdb' as o (read_write)"))
    with duckdb.connect("other.duckdb", read_only=True) as con:
        assert con.sql("select answer from keep").fetchall() == [(42,)]


@pytest.mark.parametrize("target", ["lake", "db"], indirect=True)
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("select count(*) as n from listings", ["n", "53"]),
        ("describe listings", ["column_name,column_type,null,key,default,extra"]),
        ("show tables", ["name"]),
        ("summarize snapshots", [SUMMARY]),
        ("pragma table_info('snapshots')", ["cid,name,type,notnull,dflt_value,pk"]),
        ("pragma version", ["library_version,source_id,codename"]),
        ("explain select count(*) from listings", ["explain_key,explain_value"]),
        ("explain (format json) select 1", ["explain_key,explain_value"]),
        ("select 1 as a; select 2 as b", ["a", "1", "", "b", "2"]),  # each statement's result
    ],
)
def test_read_statements_run(
    capsys: pytest.CaptureFixture[str], target: list[str], query: str, expected: list[str]
) -> None:
    assert cli.main(["sql", query, *target, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[: len(expected)] == expected


@pytest.mark.parametrize("target", ["lake", "db"], indirect=True)
@pytest.mark.parametrize("given", ["file", "folder"])
def test_local_files_given_with_read_may_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: list[str], given: str
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("a local file", encoding="utf-8")
    query = f"select content from read_text('{notes}')"
    read = notes if given == "file" else tmp_path
    assert cli.main(["sql", query, *target, "--format", "csv", "--read", str(read)]) == 0
    assert capsys.readouterr().out == "content\na local file\n"


@pytest.mark.parametrize("target", ["lake", "db"], indirect=True)
def test_other_local_files_are_refused_by_duckdb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: list[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("a local file", encoding="utf-8")
    (tmp_path / "other").mkdir()
    query = f"select content from read_text('{notes}')"
    status, err = _sql(query, [*target, "--read", str(tmp_path / "other")], capsys)
    assert status == 1
    assert err == (
        f'listings sql: Permission Error: Cannot access file "{notes}" - file system '
        f"operations are disabled by configuration; {sql.UNREADABLE}\n"
    )


@pytest.mark.parametrize("target", ["lake", "db"], indirect=True)
def test_the_settings_are_locked_and_extensions_stay_off(
    capsys: pytest.CaptureFixture[str], target: list[str]
) -> None:
    names = (
        "'lock_configuration', 'autoinstall_known_extensions', 'autoload_known_extensions', "
        "'allow_community_extensions', 'enable_external_access'"
    )
    query = f"select name, value from duckdb_settings() where name in ({names}) order by name"
    assert cli.main(["sql", query, *target, "--format", "csv"]) == 0
    assert capsys.readouterr().out == (
        "name,value\n"
        "allow_community_extensions,false\n"
        "autoinstall_known_extensions,false\n"
        "autoload_known_extensions,false\n"
        "enable_external_access,false\n"
        "lock_configuration,true\n"
    )


def test_a_locked_connection_refuses_a_setting_even_past_the_parser() -> None:
    """The lock is the second wall: should a statement ever pass the check, it cannot turn
    a protection off."""
    con = database.connect()
    database.lock_settings(con)
    with pytest.raises(duckdb.InvalidInputException, match="the configuration has been locked"):
        con.execute("set autoinstall_known_extensions = true")
    con.close()


def test_the_help_says_it_is_read_only_and_reads_the_files_given(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["sql", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Read-only: only SELECT (with DESCRIBE, SHOW, SUMMARIZE), EXPLAIN and" in text
    assert "Queries read the warehouse (or the lake) and only the files and folders given" in text
    assert "--read PATH let the SQL read this file or folder" in text
