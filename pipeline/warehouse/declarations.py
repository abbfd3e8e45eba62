"""What a project's YAML declares: sources, descriptions and generic data tests.

`Described` holds a relation's and its columns' `description:` keys (a model's `name.yml`,
or the `sources:` YAML for the lake tables); `DataTest` is a query for offending rows, a
generic test compiled from dbt's built-ins in `generic_tests/*.sql` or from a project's
`{% test %}` macro, or a singular `tests/*.sql`, with its `TestConfig`. Read by
`project.load_project`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline import vocab
from pipeline.errors import ModelError
from pipeline.warehouse.templates import _REF, _VAR, Template, _string, literal, quote

# The generic tests dbt itself has, each as its SQL beside this module.
GENERIC_TESTS = Path(__file__).with_name("generic_tests")
BUILT_IN = ("accepted_values", "not_null", "relationships", "unique")
SEVERITIES = vocab.TEST_SEVERITIES  # a test's `severity:`
# What a test's `config:` may say (dbt's names); any other key is one of its arguments.
CONFIG_KEYS = {"severity", "where", "warn_if", "error_if", "store_failures", "tags"}
# warn_if / error_if: a comparison the failing rows' count is held to, as dbt's
_CONDITION = re.compile(r"\s*(==|=|!=|<>|<=|<|>=|>)\s*([0-9]+)\s*")
_COMPARE = {"=": operator.eq, "==": operator.eq, "!=": operator.ne, "<>": operator.ne,
            "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}  # fmt: skip
_VAR_ONLY = re.compile(r"\{\{\s*" + _VAR.pattern + r"\s*\}\}")
# The project's macros by name: `{% test name %}` blocks are `test_name`.
Macros = Mapping[str, Callable[..., str]]


@dataclass(frozen=True)
class TestConfig:
    """How a data test's rows are judged and kept (dbt's test configs).

    `severity`: what a failure does (`error` stops the build, `warn` reports); the count of
    failing rows is an error when it meets `error_if`, else a warning when it meets
    `warn_if` (both `!=0`: any row); `where` narrows the rows the test reads;
    `store_failures` keeps the failing rows in a table of the warehouse's `main_dbt_test__audit`
    schema, named after the test.
    """

    __test__ = False  # not a pytest test class, despite the name

    severity: str = "error"
    where: str | None = None
    warn_if: str = "!=0"
    error_if: str = "!=0"
    store_failures: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Described:
    """What YAML says a relation and its columns are: dbt's `description:` keys.

    `columns` maps each column the YAML names to its description ("" when it has none), in
    the YAML's order; a column the YAML only tests is still named there.
    """

    description: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)
    declared_in: str = ""  # the YAML file's name


@dataclass(frozen=True)
class DataTest:
    """A query returning offending rows; passing means it returns none."""

    name: str
    config: TestConfig
    template: Template
    model: str | None = None  # the model a generic test was declared on
    column: str | None = None  # and the column, for a column's test

    @property
    def refs(self) -> tuple[str, ...]:
        return self.template.refs

    @property
    def severity(self) -> str:
        return self.config.severity


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
    return Described(_text(path, entry.get("description")), columns, path.name)


def _text(path: Path, description: Any) -> str:
    """A `description:` as one clean string: YAML folded or literal blocks keep line breaks."""
    if description is None:
        return ""
    if not isinstance(description, str):
        raise ModelError(f"{path}: a description is text (found {description!r})")
    return " ".join(description.split())


def sources_of(paths: Iterable[Path]) -> tuple[dict[tuple[str, str], str], dict[str, Described]]:
    """The lake tables the project's YAML declares (dbt's `sources: [{name, schema, tables:
    [{name, identifier, description, columns}]}]`, in any YAML beside the models): each
    `(source, table)` and the relation it resolves to (`identifier`, else its name), and
    their descriptions by relation."""
    declared: dict[tuple[str, str], str] = {}
    docs: dict[str, Described] = {}
    for path in paths:
        for source in read_yaml(path).get("sources") or []:
            for table in source.get("tables") or []:
                key = (source.get("name"), table.get("name"))
                if key in declared:
                    raise ModelError(f"{path}: declares the source {key[0]}.{key[1]} again")
                declared[key] = table.get("identifier") or table["name"]
                docs[declared[key]] = described(path, table)
    return declared, docs


def generic_tests(
    path: Path, model: str, entry: Mapping[str, Any], vars_: Mapping[str, Any], macros: Macros
) -> list[DataTest]:
    """The tests a model's YAML declares (`data_tests:`, or dbt's older `tests:`), each
    compiled to a query for offending rows."""
    specs: list[tuple[str | None, Any]] = []
    specs.extend((None, spec) for spec in _tests_of(path, entry))
    for column in entry.get("columns") or []:
        specs.extend((column["name"], spec) for spec in _tests_of(path, column))
    return [_generic_test(path, model, column, spec, vars_, macros) for column, spec in specs]


def _tests_of(path: Path, entry: Mapping[str, Any]) -> list[Any]:
    if "tests" in entry and "data_tests" in entry:
        raise ModelError(f"{path}: {entry.get('name')} has both tests: and data_tests: (one)")
    return list(entry.get("data_tests") or entry.get("tests") or [])


def _generic_test(
    path: Path,
    model: str,
    column: str | None,
    spec: Any,
    vars_: Mapping[str, Any],
    macros: Macros,
) -> DataTest:
    """One generic test from a model's YAML, in dbt's shape: `kind`, or `kind: {arguments:
    {…}, config: {…}}` (arguments beside `arguments:` are read too, as dbt still does). The
    four dbt built-ins compile from `generic_tests/KIND.sql`; any other kind is a `{% test %}`
    block of the project's macros."""
    kind, body = (spec, {}) if isinstance(spec, str) else next(iter(spec.items()))
    body = dict(body or {})
    arguments = {**dict(body.pop("arguments", None) or {})}
    config = {**dict(body.pop("config", None) or {})}
    for key, value in body.items():
        (config if key in CONFIG_KEYS else arguments)[key] = value
    where = f"{path}: {kind} on {model}{'.' + column if column else ''}"
    options = _config(where, config)
    relation = f"{{{{ ref('{model}') }}}}"
    if options.where:
        relation = f"(select * from {relation} where {options.where}) as dbt_subquery"
    label = column
    if kind in BUILT_IN:
        column_sql = arguments.get("column_name") or (quote(column) if column else None)
        fields = {"model": relation, "column": column_sql}
        if kind == "unique" and "column_name" in arguments:
            label = "__".join(re.findall(r"\w+", arguments["column_name"]))
        elif kind == "accepted_values":
            values = _values(where, arguments.get("values"), vars_)
            fields["values"] = ", ".join(literal(v) for v in values)
        elif kind == "relationships":
            # `to: "ref('model')"` as in dbt, or just the model's name
            parent = _REF.fullmatch(arguments["to"].strip())
            fields["parent"] = (
                f"{{{{ ref('{_string(parent, 1) if parent else arguments['to'].strip()}') }}}}"
            )
            fields["field"] = quote(arguments["field"])
            label = f"{column}__{arguments['field']}"
        if fields["column"] is None:
            raise ModelError(f"{where}: names no column (declare it on one, or column_name:)")
        sql = (GENERIC_TESTS / f"{kind}.sql").read_text(encoding="utf-8").format(**fields)
    elif f"test_{kind}" in macros:
        try:
            sql = macros[f"test_{kind}"](model=relation, column_name=column, **arguments)
        except TypeError as error:
            raise ModelError(f"{where}: {error}") from None
        if "expression" in arguments:
            label = re.sub(r"\W+", "_", arguments["expression"]).strip("_")[:40]
    else:
        known = ", ".join(sorted([*BUILT_IN, *(m[5:] for m in macros if m.startswith("test_"))]))
        raise ModelError(f"{path}: unknown test {kind!r} on {model}"
                         f"{'.' + column if column else ''} (known: {known})")  # fmt: skip
    name = f"{kind}__{model}__{label}" if label else f"{kind}__{model}"
    return DataTest(name, options, Template.parse(path, sql), model, column)


def _values(where: str, values: Any, vars_: Mapping[str, Any]) -> list[Any]:
    """accepted_values' `values`: a list, or `"{{ var('NAME') }}"` (a vocabulary of
    pipeline/vocab.py, never copied into YAML: docs/warehouse.md)."""
    if isinstance(values, str):
        named = _VAR_ONLY.fullmatch(values.strip())
        if named and isinstance(vars_.get(_string(named, 1)), list | tuple):
            return list(vars_[_string(named, 1)])
        raise ModelError(f"{where}: values: {values!r} is neither a list nor a list var")
    if not isinstance(values, list) or not values:
        raise ModelError(f"{where}: needs values: [a, b, …]")
    return values


def _config(where: str, config: Mapping[str, Any]) -> TestConfig:
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise ModelError(
            f"{where}: unknown config {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(CONFIG_KEYS))})"
        )
    severity = str(config.get("severity", "error")).lower()
    if severity not in SEVERITIES:
        raise ModelError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    tags = config.get("tags") or ()
    found = TestConfig(
        severity=severity,
        where=config.get("where"),
        warn_if=str(config.get("warn_if", TestConfig.warn_if)),
        error_if=str(config.get("error_if", TestConfig.error_if)),
        store_failures=bool(config.get("store_failures", False)),
        tags=(tags,) if isinstance(tags, str) else tuple(tags),
    )
    for condition in (found.warn_if, found.error_if):
        if not _CONDITION.fullmatch(condition):
            raise ModelError(f"{where}: warn_if/error_if is a comparison with a number, "
                             f"such as '>10' or '!=0' (found {condition!r})")  # fmt: skip
    return found


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


def singular_config(path: Path, config: Mapping[str, Any]) -> TestConfig:
    """A singular test's `{{ config(…) }}`: the same keys as a generic test's `config:`."""
    return _config(str(path), config)


def meets(count: int, condition: str) -> bool:
    """Whether a count of failing rows meets a `warn_if`/`error_if` such as `>10` (dbt's)."""
    found = _CONDITION.fullmatch(condition)
    if not found:
        raise ValueError(f"not a comparison with a number: {condition!r}")
    return bool(_COMPARE[found.group(1)](count, int(found.group(2))))
