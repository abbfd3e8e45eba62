"""What a project's YAML declares: descriptions and generic data tests.

`Described` holds a relation's and its columns' `description:` keys (a model's `name.yml`,
or `sources.yml` for the lake tables); `DataTest` is a query for offending rows, a generic
test compiled from its template in `generic_tests/*.sql` or a singular `tests/*.sql`.
Read by `project.load_project`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline import vocab
from pipeline.errors import ModelError
from pipeline.warehouse.templates import _REF, Template, _string, literal, quote, vocabulary_values

# Descriptions of the lake tables (dbt's `sources:` YAML), beside project.yml.
SOURCES_YML = "sources.yml"
# The generic tests' SQL (`unique`, `not_null`, …): one template per kind, beside this module.
GENERIC_TESTS = Path(__file__).with_name("generic_tests")
SEVERITIES = vocab.TEST_SEVERITIES  # a test's `severity:`


@dataclass(frozen=True)
class Described:
    """What YAML says a relation and its columns are: dbt's `description:` keys.

    `columns` maps each column the YAML names to its description ("" when it has none), in
    the YAML's order; a column the YAML only tests is still named there.
    """

    description: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DataTest:
    """A query returning offending rows; passing means it returns none."""

    name: str
    severity: str
    template: Template
    model: str | None = None  # the model a generic test was declared on
    column: str | None = None  # and the column, for a column's test

    @property
    def refs(self) -> tuple[str, ...]:
        return self.template.refs


def model_entry(path: Path, model: str) -> dict[str, Any]:
    """The model's entry in its YAML (`models: [{name: …}]`), or {} when it has no YAML."""
    if not path.exists():
        return {}
    declared = read_yaml(path).get("models") or []
    for entry in declared:
        if entry.get("name") != model:
            raise ModelError(f"{path}: declares {entry.get('name')!r}, expected {model!r}")
    if len(declared) > 1:
        raise ModelError(f"{path}: declares {model!r} {len(declared)} times, once is enough")
    return declared[0] if declared else {}


def described(path: Path, entry: Mapping[str, Any]) -> Described:
    """A YAML entry's descriptions: of the relation, and of each column it names."""
    columns: dict[str, str] = {}
    for column in entry.get("columns") or []:
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            raise ModelError(f"{path}: every column entry needs a `name:` (found {column!r})")
        columns[column["name"]] = _text(path, column.get("description"))
    return Described(_text(path, entry.get("description")), columns)


def _text(path: Path, description: Any) -> str:
    """A `description:` as one clean string: YAML folded or literal blocks keep line breaks."""
    if description is None:
        return ""
    if not isinstance(description, str):
        raise ModelError(f"{path}: a description is text (found {description!r})")
    return " ".join(description.split())


def source_docs(path: Path, tables: set[str]) -> dict[str, Described]:
    """`sources.yml` (dbt's layout: `sources: [{name, tables: [{name, description, columns}]}]`)
    by lake table; every table it describes must be declared in project.yml."""
    if not path.exists():
        return {}
    docs: dict[str, Described] = {}
    for source in read_yaml(path).get("sources") or []:
        for table in source.get("tables") or []:
            name = table.get("name")
            if name not in tables:
                raise ModelError(
                    f"{path}: describes {source.get('name')}.{name}, which project.yml does "
                    f"not declare (declared: {', '.join(sorted(tables)) or 'none'})"
                )
            docs[name] = described(path, table)
    return docs


def generic_tests(path: Path, model: str, entry: Mapping[str, Any]) -> list[DataTest]:
    """The tests a model's YAML declares, each compiled to a query for offending rows."""
    specs: list[tuple[str | None, Any]] = []
    specs.extend((None, spec) for spec in entry.get("tests") or [])
    for column in entry.get("columns") or []:
        specs.extend((column["name"], spec) for spec in column.get("tests") or [])
    return [_generic_test(path, model, column, spec) for column, spec in specs]


def _generic_test(path: Path, model: str, column: str | None, spec: Any) -> DataTest:
    """One generic test from a model's YAML: its SQL is `generic_tests/KIND.sql` with the
    model, column and options filled in; the rest is naming, as dbt names its tests."""
    kind, options = (spec, {}) if isinstance(spec, str) else next(iter(spec.items()))
    if kind == "expression" and isinstance(options, str):
        options = {"expression": options}
    options = dict(options or {})
    severity = options.pop("severity", "error")
    check_severity(path, severity)
    template = GENERIC_TESTS / f"{kind}.sql"
    if not template.exists():
        known = ", ".join(sorted(t.stem for t in GENERIC_TESTS.glob("*.sql")))
        raise ModelError(
            f"{path}: unknown test {kind!r} on {model}"
            f"{'.' + column if column else ''} (known: {known})"
        )
    fields = {"model": f"{{{{ ref('{model}') }}}}", "column": quote(column) if column else None}
    label = column
    if kind == "unique":
        fields["keys"] = ", ".join(quote(c) for c in options.get("columns", [])) or fields["column"]
        label = "__".join(options.get("columns", [])) or column
    elif kind == "accepted_values":
        # `values: [a, b]`, or `vocabulary: LAYOUTS` for the values of `pipeline.vocab`'s
        # tuple (a vocabulary that may still change, never copied into YAML)
        values = (
            vocabulary_values(
                options["vocabulary"],
                f"{path}: accepted_values on {model}.{column}: vocabulary {options['vocabulary']}",
            )
            if "vocabulary" in options
            else options["values"]
        )
        fields["values"] = ", ".join(literal(v) for v in values)
    elif kind == "relationships":
        # `to: "ref('model')"` as in dbt, or just the model's name
        parent = _REF.fullmatch(options["to"].strip())
        fields["parent"] = (
            f"{{{{ ref('{_string(parent, 1) if parent else options['to'].strip()}') }}}}"
        )
        fields["field"] = quote(options["field"])
        label = f"{column}__{options['field']}"
    elif kind == "expression":
        fields["expression"] = options["expression"]
        label = re.sub(r"\W+", "_", options["expression"]).strip("_")[:40]
    sql = template.read_text(encoding="utf-8").format(**fields)
    return DataTest(f"{kind}__{model}__{label}", severity, Template.parse(path, sql), model, column)


# libyaml's safe loader where PyYAML was built with it (every build reads the project's YAML,
# and the pure-Python loader took most of the time of loading the project)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except FileNotFoundError:
        raise ModelError(f"{path}: not found (is this a dbt_like_sql project folder?)") from None
    except yaml.YAMLError as error:
        raise ModelError(f"{path}: not valid YAML: {error}") from None
    return loaded or {}


def check_severity(path: Path, severity: str) -> None:
    if severity not in SEVERITIES:
        raise ModelError(f"{path}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
