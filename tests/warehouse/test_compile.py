"""`listings compile MODEL` prints the SQL a build runs; `listings build --test-only` runs
the data tests against the warehouse as it stands, changing nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline import cli
from pipeline.warehouse import database
from pipeline.warehouse.project import load_project
from tests.warehouse.sql.conftest import empty_lake
from tests.warehouse.sql.test_runner import model, write_project


def test_compile_resolves_refs_sources_and_vars_as_the_build_does(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "staging/stg.sql": model(
                "select * from {{ source('lake', 'listings') }} limit {{ var('limit') }}"
            ),
            "marts/top.sql": model('select * from {{ ref("stg") }}', "table"),
        },
    )
    project = load_project(root)
    assert project.compile("stg") == (
        '-- grain: one row per thing\n\nselect * from "listings" limit 2'
    )
    assert project.compile("top") == '-- grain: one row per thing\n\nselect * from "stg"'
    assert project.compile("stg", {"limit": 5}).endswith("limit 5")


def test_compile_prints_a_model_of_the_real_project(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compile", "rpt_rejects"]) == 0
    out = capsys.readouterr().out
    assert out == load_project().compile("rpt_rejects") + "\n"
    assert 'select * from "stg_lake__rejects"' in out
    assert "{{" not in out


def test_compile_prints_a_data_test_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compile", "unique__dim_documents__document_key"]) == 0
    assert 'from "dim_documents"' in capsys.readouterr().out


def test_an_unknown_model_names_the_closest_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["compile", "dim_document"]) == 1
    assert capsys.readouterr().err == (
        "listings compile: no model or data test named 'dim_document': "
        "did you mean dim_documents?\n"
    )


def test_an_unknown_name_like_nothing_lists_every_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["compile", "zzz"]) == 1
    assert capsys.readouterr().err == (
        "listings compile: no model or data test named 'zzz': models: stg_lake__listings, "
        "stg_lake__rejects, stg_lake__snapshots, int_listings__document_keys, "
        "int_snapshots__fetches, rpt_rejects, int_listings__keyed, dim_documents, "
        "fct_listing_appearances, fct_query_snapshots, rpt_data_quality\n"
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """The real project built over a lake with nothing committed: every test passes."""
    db = tmp_path / "w.duckdb"
    database.build(empty_lake(tmp_path / "lake"), db)
    return db


def test_test_only_runs_every_test_read_only_and_prints_the_build_lines(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = warehouse.read_bytes()
    assert cli.main(["build", "--test-only", "--db", str(warehouse)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        "  1 of 52 PASS unique__stg_lake__listings__snapshot_id__position .."
    )
    assert lines[51].startswith(" 52 of 52 PASS assert_listing_counts_match_the_lake ..")
    assert lines[52:] == [f"warehouse: {warehouse}", "tests: 52 passed, 0 warned, 0 failed"]
    assert warehouse.read_bytes() == before
    # read-only: another reader may hold the file meanwhile
    with duckdb.connect(str(warehouse), read_only=True):
        assert cli.main(["build", "--test-only", "--db", str(warehouse)]) == 0


def test_test_only_with_select_runs_the_tests_reading_those_models(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli.main(["build", "--test-only", "--db", str(warehouse), "--select", "rpt_rejects"]) == 0
    )
    names = [line.split()[4] for line in capsys.readouterr().out.splitlines() if " of 2 " in line]
    assert names == [
        "unique__rpt_rejects__fetched_date__site__query__stage__reason",
        "strictly_true__rpt_rejects__reject_count_1",
    ]


def test_test_only_fails_as_a_build_does_when_an_error_test_finds_rows(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into dim_documents by name select 'k' as document_key, 1 as times_seen, "
            "false as is_upload_interval_empty, false as is_size_interval_empty, "
            "0 as size_bytes, 0 as size_bytes_min, 0 as size_bytes_max, "
            "'k' as display_title, false as is_display_title_guessed, "
            "timestamptz '2026-11-20 09:30:00Z' as first_seen_at, "
            "timestamptz '2026-11-20 09:30:00Z' as last_seen_at from range(2)"
        )
    assert cli.main(["build", "--test-only", "--db", str(warehouse)]) == 1
    captured = capsys.readouterr()
    fails = [line.split(" ....")[0] for line in captured.out.splitlines() if " FAIL " in line]
    assert fails == [" 29 of 52 FAIL 1 unique__dim_documents__document_key"]
    assert captured.err.startswith(
        "listings build: 1 data test(s) failed:\n\nERROR unique__dim_documents__document_key"
    )


def test_test_only_says_which_tests_it_could_not_run(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table rpt_rejects")
    assert cli.main(["build", "--test-only", "--db", str(warehouse)]) == 1
    captured = capsys.readouterr()
    assert "tests: 50 passed, 0 warned, 0 failed" in captured.out
    assert captured.err == (
        f"listings build: unique__rpt_rejects__fetched_date__site__query__stage__reason not run: "
        f"{warehouse} lacks a relation it reads (rpt_rejects); rebuild with `listings build`\n"
        f"listings build: strictly_true__rpt_rejects__reject_count_1 not run: "
        f"{warehouse} lacks a relation it reads (rpt_rejects); rebuild with `listings build`\n"
    )


def test_test_only_without_a_warehouse_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "none.duckdb"
    assert cli.main(["build", "--test-only", "--db", str(db)]) == 1
    assert capsys.readouterr().err == (
        f"listings build: no warehouse at {db} to test: run `listings build` first\n"
    )
    assert not db.exists()
