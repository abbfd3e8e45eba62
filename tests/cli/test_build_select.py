"""`listings build --select … --exclude …`: dbt's selection syntax on the command line, for a
build and for `--test-only`; a selector naming nothing exits 1 naming what exists, and a
selection left empty does nothing, as dbt's does."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import cli
from pipeline.warehouse import database
from pipeline.warehouse.project import load_project
from tests.warehouse.sql.conftest import empty_lake


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return empty_lake(tmp_path / "lake")


@pytest.fixture
def warehouse(lake: Path, tmp_path: Path) -> Path:
    """The real project built over a lake with nothing committed: every test passes."""
    db = tmp_path / "w.duckdb"
    database.build(lake, db)
    return db


def _built(out: str) -> list[str]:
    """The models the build's summary lists, in its order."""
    models = load_project().models
    return [words[0] for words in map(str.split, out.splitlines()) if words and words[0] in models]


def test_build_with_exclude_builds_the_selection_less_the_excluded(
    lake: Path, warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--lake", str(lake), "--db", str(warehouse)]
    selection = ["--select", "+fct_query_snapshots", "--exclude", "tag:documents"]
    assert cli.main(["build", *args, *selection]) == 0
    assert _built(capsys.readouterr().out) == [
        "stg_lake__listings", "stg_lake__snapshots", "int_snapshots__fetches",
        "fct_query_snapshots",
    ]  # fmt: skip
    assert cli.main(["build", *args, "--exclude", "path:marts", "path:intermediate"]) == 0
    assert _built(capsys.readouterr().out) == [
        "stg_lake__listings", "stg_lake__rejects", "stg_lake__snapshots"
    ]  # fmt: skip


def test_test_only_with_exclude_runs_the_tests_of_the_models_left(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["build", "--test-only", "--db", str(warehouse), "--select", "tag:quality"]
    assert cli.main([*args, "--exclude", "rpt_data_quality", "stg_lake__rejects"]) == 0
    names = [line.split()[4] for line in capsys.readouterr().out.splitlines() if " of 2 " in line]
    assert names == [
        "unique__rpt_rejects__fetched_date__site__query__stage__reason",
        "strictly_true__rpt_rejects__reject_count_1",
    ]


@pytest.mark.parametrize("test_only", [False, True])
def test_an_unknown_tag_exits_1_naming_the_tags_and_writes_nothing(
    lake: Path, tmp_path: Path, test_only: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "w.duckdb"
    if test_only:
        database.build(lake, db)
    before = db.read_bytes() if test_only else b""
    mode = ["--test-only"] if test_only else ["--lake", str(lake)]
    assert cli.main(["build", *mode, "--db", str(db), "--exclude", "tag:nightly"]) == 1
    assert capsys.readouterr().err == (
        "listings build: --exclude tag:nightly: no model tagged 'nightly' "
        "(tags: documents, fetches, quality, report)\n"
    )
    assert (db.read_bytes() if db.exists() else b"") == before


def test_an_unknown_model_keeps_its_message(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "w.duckdb"
    assert cli.main(["build", "--lake", str(lake), "--db", str(db), "--select", "dim_doc+"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("listings build: --select dim_doc+: no model named 'dim_doc' (models: ")
    assert not db.exists()


def test_a_selection_left_empty_does_nothing_and_says_so(
    lake: Path, warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = warehouse.read_bytes()
    selection = ["--select", "tag:quality,path:intermediate", "--exclude", "tag:report"]
    assert cli.main(["build", "--lake", str(lake), "--db", str(warehouse), *selection]) == 0
    assert cli.main(["build", "--test-only", "--db", str(warehouse), *selection]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    message = (
        "listings build: --select tag:quality,path:intermediate --exclude tag:report selects "
        "no model: nothing to do\n"
    )
    assert err == message * 2
    assert warehouse.read_bytes() == before


def test_help_explains_the_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["build", "--help"])
    help_ = " ".join(capsys.readouterr().out.split())
    assert "--select SELECTOR [SELECTOR ...]" in help_
    assert "--exclude SELECTOR [SELECTOR ...]" in help_
    assert "dbt's syntax: NAME, +NAME (and upstream), NAME+ (and downstream)" in help_
