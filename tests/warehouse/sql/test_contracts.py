"""Model contracts: a model whose YAML enforces one (`config: {contract: {enforced: true}}`)
fails the build when its columns' names or types differ from the declared ones, naming
each; a model without one is unchecked. The marts enforce theirs, vocabularies not copied."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline.errors import ModelError
from pipeline.warehouse import contracts, database, runner
from pipeline.warehouse.project import DEFAULT_PROJECT, load_project
from pipeline.warehouse.results import Event
from tests.warehouse.sql.conftest import empty_lake
from tests.warehouse.sql.test_runner import model, write_project

SQL = model(
    "select 1::bigint as id, 'ann' as name, cast('html' as {{ enum('FORMS') }}) as form", "table"
)
FORMS_TYPE = """ENUM('{{ var("FORMS") | join("', '") }}')"""


def contract_yml(*columns: tuple[str, str], enforced: str = "true") -> str:
    entries = "".join(f"      - name: {name}\n        data_type: {type_}\n"
                      for name, type_ in columns)  # fmt: skip
    return (
        "models:\n  - name: people\n"
        f"    config:\n      contract: {{enforced: {enforced}}}\n"
        f"    columns:\n{entries}"
    )


def people(tmp_path: Path, yml: str, sql: str = SQL) -> Path:
    return write_project(tmp_path, {"marts/people.sql": sql, "marts/people.yml": yml})


def test_a_model_matching_its_contract_builds_its_enum_type_read_from_a_var(
    tmp_path: Path,
) -> None:
    yml = contract_yml(("id", "BIGINT"), ("name", "VARCHAR"), ("form", FORMS_TYPE))
    project = load_project(people(tmp_path, yml))
    contract = project.models["people"].contract
    assert contract is not None
    assert contract.columns[2] == ("form", "ENUM('text', 'html', 'json', 'unreadable')")
    con = database.connect()
    runner.run(con, project)
    assert con.sql("select * from people").fetchall() == [(1, "ann", "html")]


def test_declared_types_are_compared_as_duckdb_spells_them(tmp_path: Path) -> None:
    """As dbt: the declared type is cast to, so `int8` is BIGINT and `text` VARCHAR."""
    yml = contract_yml(("id", "int8"), ("name", "text"), ("form", FORMS_TYPE))
    runner.run(database.connect(), load_project(people(tmp_path, yml)))


def test_a_contract_that_differs_fails_the_build_naming_each_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's files are named relative to the working folder: the test runs in the
    project's, so the message is the same wherever the temporary folder is."""
    monkeypatch.chdir(tmp_path)
    yml = contract_yml(("id", "INTEGER"), ("name", "VARCHAR"), ("age", "INTEGER"))
    events: list[Event] = []
    with pytest.raises(ModelError) as error:
        runner.run(database.connect(), load_project(people(tmp_path, yml)),
                   on_event=events.append)  # fmt: skip
    assert str(error.value) == (
        "marts/people.yml: people breaks its contract:\n"
        "  age: missing (declared INTEGER, not built)\n"
        "  form: extra (built ENUM('text', 'html', 'json', 'unreadable'), not declared)\n"
        "  id: declared INTEGER, built BIGINT"
    )
    assert [(e.name, e.status) for e in events] == [("people", "ERROR")]


def test_a_contract_listing_the_columns_in_another_order_fails(tmp_path: Path) -> None:
    """dbt creates the columns in the YAML's order, `listings build` in the SQL's."""
    yml = contract_yml(("name", "VARCHAR"), ("id", "BIGINT"), ("form", FORMS_TYPE))
    with pytest.raises(ModelError) as error:
        runner.run(database.connect(), load_project(people(tmp_path, yml)))
    assert str(error.value).endswith(
        "people breaks its contract:\n  column order: declared name, id, form; built id, name, form"
    )


def test_a_broken_contract_leaves_the_warehouse_as_it_was(tmp_path: Path) -> None:
    good = load_project(people(tmp_path / "good", contract_yml(
        ("id", "BIGINT"), ("name", "VARCHAR"), ("form", FORMS_TYPE))))  # fmt: skip
    bad = load_project(people(tmp_path / "bad", contract_yml(
        ("id", "BIGINT"), ("name", "DATE"), ("form", FORMS_TYPE))))  # fmt: skip
    db, lake = tmp_path / "w.duckdb", empty_lake(tmp_path / "lake")
    database.build(lake, db, project=good)
    with pytest.raises(ModelError, match="name: declared DATE, built VARCHAR"):
        database.build(lake, db, project=bad, full_refresh=True)
    assert database.query("select name from people", db=db).to_dicts() == [{"name": "ann"}]
    assert (tmp_path / "w.failed.duckdb").exists()


def test_a_model_without_an_enforced_contract_is_unchecked(tmp_path: Path) -> None:
    unchecked = [
        # columns named (and typed) but no contract
        "models:\n  - name: people\n    columns:\n      - name: id\n        data_type: DATE\n",
        contract_yml(("id", "DATE"), enforced="false"),
        "",
    ]
    for index, yml in enumerate(unchecked):
        project = load_project(people(tmp_path / str(index), yml))
        assert project.models["people"].contract is None
        runner.run(database.connect(), project)


def test_a_contract_needs_every_data_type_and_an_incremental_model_on_schema_change(
    tmp_path: Path,
) -> None:
    untyped = contract_yml(("id", "BIGINT")) + "      - name: name\n"
    with pytest.raises(ModelError, match="column 'name' needs a data_type"):
        load_project(people(tmp_path / "untyped", untyped))
    incremental = (
        "-- grain: one row per id\n"
        "{{ config(materialized='incremental', unique_key='id') }}\nselect 1 as id\n"
    )
    with pytest.raises(ModelError, match="on_schema_change: fail"):
        load_project(people(tmp_path / "inc", contract_yml(("id", "INTEGER")), incremental))
    fixed = contract_yml(("id", "INTEGER")).replace(
        "    columns:", "      on_schema_change: fail\n    columns:"
    )
    con = database.connect()
    runner.run(con, load_project(people(tmp_path / "fixed", fixed, incremental)))
    with pytest.raises(ModelError, match="names no var 'NOPE'"):
        unknown = FORMS_TYPE.replace("FORMS", "NOPE")
        load_project(people(tmp_path / "var", contract_yml(("id", unknown))))
    with pytest.raises(ModelError, match="a data_type is no DuckDB type"):
        bad = load_project(people(tmp_path / "bad", contract_yml(("id", "NUMBERISH"))))
        runner.run(database.connect(), bad)


def test_every_mart_enforces_a_contract_that_names_vocabularies_never_copying_them() -> None:
    project = load_project()
    marts = [m for m in project.models.values() if m.layer == "marts"]
    assert len(marts) == 5
    assert all(m.contract is not None for m in marts)
    named = re.compile(r"""ENUM\('\{\{ var\("(\w+)"\) \| join\("', '"\) \}\}'\)(\[\])?""")
    for path in sorted((DEFAULT_PROJECT / "marts").glob("*.yml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            for column in entry["columns"]:
                if "ENUM" in column["data_type"].upper():
                    found = named.fullmatch(column["data_type"])
                    assert found, (path.name, column)
                    assert found.group(1) in project.vars


def test_the_sample_warehouse_holds_the_marts_contracts(sample_warehouse: Path) -> None:
    project = load_project()
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        for mart in project.models.values():
            if mart.contract is not None:
                contracts.check(con, mart.contract)
