"""The closed vocabularies are declared once, in `pipeline/vocab.py`: the SQL project names
them (`{{ enum('NAME') }}` in a model, `accepted_values: {vocabulary: NAME}` in its YAML)
and never copies their values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pipeline import vocab

PROJECT = Path(__file__).resolve().parents[3] / "dbt_like_sql"
VOCABULARIES = {
    name: value
    for name, value in vars(vocab).items()
    if name.isupper() and isinstance(value, tuple) and all(isinstance(v, str) for v in value)
}


def _accepted_values() -> list[tuple[str, str, dict[str, Any]]]:
    """(model, column, arguments) of every accepted_values test of the project's YAML."""
    found = []
    for path in sorted(PROJECT.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            for column in model.get("columns", []):
                for test in column.get("tests", []) + column.get("data_tests", []):
                    if isinstance(test, dict) and "accepted_values" in test:
                        found.append((model["name"], column["name"], test["accepted_values"]))
    return found


def _enum_casts() -> dict[tuple[str, str], str]:
    """(model, column) → vocabulary of every `cast(COLUMN as {{ enum('NAME') }}) as COLUMN`."""
    cast = re.compile(r"cast\((\w+) as \{\{ enum\('(\w+)'\) \}\}\) as (\w+)")
    return {
        (path.stem, alias): name
        for path in sorted(PROJECT.rglob("*.sql"))
        for _, name, alias in cast.findall(path.read_text(encoding="utf-8"))
    }


def test_no_accepted_values_test_copies_a_vocabulary() -> None:
    tests = _accepted_values()
    assert tests, "the project has accepted_values tests"
    copied = [
        (model, column)
        for model, column, arguments in tests
        if "values" in arguments and set(arguments["values"]) & set().union(*VOCABULARIES.values())
    ]
    assert copied == []
    assert all(arguments.get("vocabulary") in VOCABULARIES for _, _, arguments in tests)


def test_every_column_cast_to_a_vocabulary_enum_is_tested_against_that_vocabulary() -> None:
    """The ENUM cast and the test name the same tuple, so a value added to it (say a new
    `vocab.FORMS` entry) reaches both with no YAML edit."""
    tested = {(model, column): args.get("vocabulary") for model, column, args in _accepted_values()}
    casts = _enum_casts()
    assert len(casts) >= 8
    assert {key: tested.get(key) for key in casts} == casts
