"""The closed vocabularies are declared once, in `pipeline/vocab.py`: the SQL project names
them (`{{ enum('NAME') }}` in a model, `values: "{{ var('NAME') }}"` in an accepted_values
test) and never copies their values; dbt_project.yml's copy for dbt is held to vocab.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline import vocab
from pipeline.warehouse import project as projects
from pipeline.warehouse.templates import vocabulary_vars

PROJECT = Path(__file__).resolve().parents[3] / "dbt_like_sql"
VOCABULARIES = vocabulary_vars()
_VAR = re.compile(r"\{\{ var\('(\w+)'\) \}\}")


def _accepted_values() -> list[tuple[str, str, dict[str, Any]]]:
    """(model, column, arguments) of every accepted_values test of the project's YAML."""
    found = []
    for path in sorted(PROJECT.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for column in model.get("columns", []):
                for test in column.get("data_tests", []):
                    if isinstance(test, dict) and "accepted_values" in test:
                        arguments = test["accepted_values"]["arguments"]
                        found.append((model["name"], column["name"], arguments))
    return found


def _enum_casts() -> dict[tuple[str, str], str]:
    """(model, column) → vocabulary of every `cast(COLUMN as {{ enum('NAME') }}) as COLUMN`."""
    cast = re.compile(r"cast\((\w+) as \{\{ enum\('(\w+)'\) \}\}\) as (\w+)")
    return {
        (path.stem, alias): name
        for path in sorted(PROJECT.rglob("*.sql"))
        for _, name, alias in cast.findall(path.read_text(encoding="utf-8"))
    }


def _vocabulary(arguments: dict[str, Any]) -> str | None:
    named = _VAR.fullmatch(str(arguments.get("values", "")))
    return named.group(1) if named else None


def test_no_accepted_values_test_copies_a_vocabulary() -> None:
    tests = _accepted_values()
    assert len(tests) >= 9
    assert all(_vocabulary(arguments) in VOCABULARIES for _, _, arguments in tests)


def test_every_column_cast_to_a_vocabulary_enum_is_tested_against_that_vocabulary() -> None:
    """The ENUM cast and the test name the same tuple, so a value added to it (say a new
    `vocab.FORMS` entry) reaches both with no YAML edit."""
    tested = {(model, column): _vocabulary(args) for model, column, args in _accepted_values()}
    casts = _enum_casts()
    assert len(casts) >= 8
    assert {key: tested.get(key) for key in casts} == casts


def test_a_value_added_to_a_vocabulary_reaches_the_build_with_no_yaml_edit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(vocab, "FORMS", (*vocab.FORMS, "pdf-scan"))
    project = projects.load_project(PROJECT)
    compiled = project.compile("accepted_values__stg_lake__snapshots__form")
    assert "'unreadable', 'pdf-scan')" in compiled
    assert "'unreadable', 'pdf-scan')" in project.compile("stg_lake__snapshots")


def test_dbt_project_yml_keeps_for_dbt_the_vocabularies_of_vocab_py() -> None:
    """dbt reads vars from dbt_project.yml alone; `listings build` reads vocab.py. When they
    differ, paste the lines this prints under `vars:`."""
    declared = yaml.safe_load((PROJECT / projects.PROJECT_FILE).read_text(encoding="utf-8"))
    copied = {name: declared["vars"].get(name) for name in VOCABULARIES}
    block = "\n".join(f"  {name}: [{', '.join(values)}]" for name, values in VOCABULARIES.items())
    assert copied == VOCABULARIES, f"dbt_project.yml's vars lag vocab.py; paste:\n{block}"
