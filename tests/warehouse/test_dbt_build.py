"""dbt itself builds dbt_like_sql/: `dbt build` (dbt-core 1.11, dbt-duckdb) on a warehouse
holding the sample lake's tables gives the same relations, column types and rows as
`listings build`, and runs the same data tests to the same outcomes; a second `dbt build`
(dbt's incremental path, where `changes()` is the whole parent) changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.warehouse import database
from pipeline.warehouse.project import DEFAULT_PROJECT, load_project

DBT = Path(sys.executable).with_name("dbt")


def _dbt_build(db: Path, target: Path) -> dict:
    """Run `dbt build` on `db`; its run_results.json."""
    assert DBT.exists(), "dbt is part of the dev set-up: pip install -e '.[dbt]' (make test does)"
    env = {
        **os.environ,
        "DBT_DUCKDB_PATH": str(db),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PARTIAL_PARSE": "false",
    }
    done = subprocess.run(
        [str(DBT), "build", "--project-dir", str(DEFAULT_PROJECT), "--profiles-dir",
         str(DEFAULT_PROJECT), "--target-path", str(target), "--log-path", str(target / "logs")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    assert "Deprecat" not in done.stdout, done.stdout[-4000:]
    return json.loads((target / "run_results.json").read_text(encoding="utf-8"))


def _relations(db: Path) -> dict[str, list[tuple[str, str]]]:
    """Each model's columns and types, as DuckDB says."""
    models = set(load_project().models)
    with duckdb.connect(str(db), read_only=True) as con:
        found: dict[str, list[tuple[str, str]]] = {}
        for table, column, type_ in con.sql(
            "select table_name, column_name, data_type from duckdb_columns() "
            "where schema_name = 'main' order by table_name, column_index"
        ).fetchall():
            if table in models:
                found.setdefault(table, []).append((column, type_))
        return found


def _differing_rows(ours: Path, theirs: Path, relation: str) -> int:
    with duckdb.connect(str(ours), read_only=True) as con:
        con.execute(f"attach '{theirs}' as theirs (read_only)")
        name = f'"{relation}"'
        return con.sql(
            f"select count(*) from ((from {name} except all from theirs.{name}) "
            f"union all (from theirs.{name} except all from {name}))"
        ).fetchall()[0][0]


@pytest.fixture(scope="module")
def dbt_built(sample_lake: Path, sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Path, dict, dict]:  # fmt: skip
    """The sample lake's tables loaded as `listings build` loads them, then `dbt build`
    twice; the warehouse and both runs' results."""
    folder = tmp_path_factory.mktemp("dbt")
    db = folder / "dbt.duckdb"
    database.rebuild(sample_lake, db, with_models=False)
    first = _dbt_build(db, folder / "target-1")
    second = _dbt_build(db, folder / "target-2")
    return db, first, second


def test_dbt_builds_every_model_with_the_same_columns_types_and_rows(
    dbt_built: tuple[Path, dict, dict], sample_warehouse: Path
) -> None:
    db, *_ = dbt_built
    ours, theirs = _relations(sample_warehouse), _relations(db)
    assert sorted(theirs) == sorted(load_project().models) == sorted(ours)
    assert theirs == ours
    assert {name: _differing_rows(sample_warehouse, db, name) for name in ours} == dict.fromkeys(
        ours, 0
    )


def test_dbt_runs_the_same_data_tests_to_the_same_outcomes(
    dbt_built: tuple[Path, dict, dict], sample_warehouse: Path
) -> None:
    _, first, second = dbt_built
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        ours = dict(con.sql("select status, count(*) from _test_results group by 1").fetchall())
    for run in (first, second):
        tests = [r for r in run["results"] if r["unique_id"].startswith("test.")]
        models = [r for r in run["results"] if r["unique_id"].startswith("model.")]
        assert len(tests) == len(load_project().tests) == sum(ours.values())
        assert {r["status"] for r in models} == {"success"}
        statuses = {status: [r["status"] for r in tests].count(status) for status in ours}
        assert statuses == ours


def test_a_second_dbt_build_takes_dbts_incremental_path_and_changes_nothing(
    dbt_built: tuple[Path, dict, dict], sample_warehouse: Path
) -> None:
    db, _, second = dbt_built
    incremental = [r for r in second["results"] if r["unique_id"].startswith("model.")]
    assert len(incremental) == len(load_project().models)
    assert {name: _differing_rows(sample_warehouse, db, name) for name in _relations(db)} == (
        dict.fromkeys(_relations(db), 0)
    )
