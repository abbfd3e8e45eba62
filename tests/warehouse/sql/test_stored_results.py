"""A build stores its data tests' outcomes in the warehouse (`_test_results`, named as dbt's
run_results.json names its fields): what the report reads instead of running them again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from pipeline import cli
from pipeline.warehouse import database, runner
from pipeline.warehouse.project import Project, load_project
from pipeline.warehouse.results import RESULTS_TABLE
from tests.warehouse.sql.conftest import (
    DAY,
    T0,
    append_tables,
    bind_tables,
    listing,
    rows,
    snapshot,
)

HEADING = "Kubernetes 网络权威指南\nCNI 插件与 Service 实现"
COLUMNS = (
    "unique_id, model, column_name, depends_on, severity, status, failures, is_incremental, "
    "failing_rows, compiled_code, original_file_path"
)


def stored(con: duckdb.DuckDBPyConnection, name: str) -> dict:
    (row,) = rows(con, f"select {COLUMNS} from _test_results where unique_id = '{name}'")
    return row


def test_a_build_stores_every_test_it_ran_once(sample_warehouse: Path) -> None:
    project = load_project()
    con = database.connect(sample_warehouse)
    try:
        assert con.sql(
            "select count(*), count(distinct unique_id), min(execution_time) >= 0, "
            "list(distinct status) from _test_results"
        ).fetchall() == [(len(project.tests), len(project.tests), True, ["pass"])]
        assert stored(con, "unique__dim_documents__document_key") == {
            "unique_id": "unique__dim_documents__document_key",
            "model": "dim_documents",
            "column_name": "document_key",
            "depends_on": ["dim_documents"],
            "severity": "error",
            "status": "pass",
            "failures": 0,
            "is_incremental": False,
            "failing_rows": "[]",
            "compiled_code": project.compile("unique__dim_documents__document_key").strip(),
            "original_file_path": "dbt_like_sql/marts/dim_documents.yml",
        }
        assert stored(con, "assert_document_intervals_intersect") == {
            "unique_id": "assert_document_intervals_intersect",
            "model": None,
            "column_name": None,
            "depends_on": ["dim_documents"],
            "severity": "warn",
            "status": "pass",
            "failures": 0,
            "is_incremental": False,
            "failing_rows": "[]",
            "compiled_code": project.compile("assert_document_intervals_intersect").strip(),
            "original_file_path": "dbt_like_sql/tests/assert_document_intervals_intersect.sql",
        }
        # severity and status are ENUMs of their vocabularies, as in every mart
        assert dict(
            con.sql(
                "select column_name, data_type from duckdb_columns() "
                "where table_name = '_test_results' and column_name in ('severity', 'status')"
            ).fetchall()
        ) == {"severity": "ENUM('error', 'warn')", "status": "ENUM('pass', 'warn', 'fail')"}
    finally:
        con.close()


def test_a_warning_is_stored_with_its_offending_rows_as_json(run_models) -> None:
    """`1 天前` twice, ten days apart: the intervals test warns, and its rows are kept in
    the query's column order, times in ISO 8601 with their offset."""
    later = T0 + 10 * DAY
    con, _ = run_models(
        "dim_documents",
        [snapshot("s1", T0), snapshot("s2", later)],
        [
            listing("s1", 1, HEADING, T0, age_days=(1, 2), age_text="1 天前"),
            listing("s2", 1, HEADING, later, age_days=(1, 2), age_text="1 天前"),
        ],
    )
    row = stored(con, "assert_document_intervals_intersect")
    assert (row["status"], row["failures"]) == ("warn", 1)
    [(key,)] = con.sql("select document_key from dim_documents").fetchall()
    assert json.loads(row["failing_rows"]) == [
        {
            "document_key": key,
            "heading": HEADING,
            "times_seen": 2,
            "uploaded_at_min": "2026-10-09T09:30:01+00:00",
            "uploaded_at_max": "2026-09-30T09:30:00+00:00",
            "size_bytes_min": 1567622,
            "size_bytes_max": 1578106,
        }
    ]
    assert list(json.loads(row["failing_rows"])[0]) == [
        "document_key", "heading", "times_seen", "uploaded_at_min", "uploaded_at_max",
        "size_bytes_min", "size_bytes_max",
    ]  # fmt: skip


def test_an_update_stores_its_own_tests_saying_which_read_only_what_it_changed(
    project: Project,
) -> None:
    """Every test runs in an update, and each of this project's reads only the rows the
    update changed: its generic tests are on updated models and staging views, its singular
    tests narrow themselves to changes()."""
    con = database.connect()
    bind_tables(con, [snapshot("s1", T0)], [listing("s1", 1, HEADING, T0)])
    runner.run(con, project)
    appended = append_tables(con, [snapshot("s2", T0 + DAY)], [listing("s2", 1, HEADING, T0 + DAY)])
    update = runner.run(con, project, incremental=True, appended=appended)
    stored_ = dict(con.sql("select unique_id, is_incremental from _test_results").fetchall())
    assert len(stored_) == len(update.tests) == len(project.tests)
    assert set(stored_.values()) == {True}
    assert RESULTS_TABLE not in update.created  # updated in place: comments kept


def test_a_select_build_keeps_the_results_of_the_tests_it_did_not_run(
    sample_lake: Path, sample_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "w.duckdb"
    shutil.copy(sample_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update _test_results set failures = 99")  # marks the rows it kept
    args = ["--lake", str(sample_lake), "--db", str(copy), "--select", "rpt_rejects"]
    assert cli.main(["build", *args]) == 0
    con = database.connect(copy)
    try:
        assert con.sql(
            "select unique_id from _test_results where failures = 0 order by unique_id"
        ).fetchall() == [
            ("strictly_true__rpt_rejects__reject_count_1",),
            ("unique__rpt_rejects__fetched_date__site__query__stage__reason",),
        ]
        kept = con.sql("select count(*) from _test_results where failures = 99").fetchall()
        assert kept == [(len(load_project().tests) - 2,)]
    finally:
        con.close()
