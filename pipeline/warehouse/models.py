"""The dbt-like SQL layer: compile `dbt_like_sql/`, order models by their refs, build, test.

Why not dbt itself: the project needs five template expressions, not Jinja, and a runner of a
few hundred lines that a reader can follow is cheaper than dbt's dependency tree and start-up.
The conventions are dbt's, so moving to dbt later is a rename:

- a model is one `.sql` file under `staging/`, `intermediate/` or `marts/`; its first line
  states its grain (`-- grain: one row per …`) and a `{{ config(materialized='view') }}`
  (or `'table'`, or `'incremental'` with a `unique_key`) line says how it is built;
- an incremental model is a table that a build over a lake that only grew updates in
  place (`run(…, incremental=True)`): its SQL, rendered with `{% if is_incremental() %}`
  blocks on, returns the rows to (re)compute, and every row of `{{ this }}` whose unique
  key those rows have, or whose key its incremental parents changed, is replaced by them
  (dbt's `delete+insert`). `{{ changes('model') }}` names the rows an incremental parent
  changed in this build (before and after), so a child can scope its update;
- models name each other with `{{ ref('name') }}` and lake tables with
  `{{ source('lake', 'listings') }}`, never with file paths, so the same SQL runs over the
  Parquet lake, an `s3://` lake, or the small tables a unit test creates;
- `{{ var('name') }}` reads a value from `project.yml` (overridable per run);
- a `name.yml` beside a model declares generic tests (`unique`, `not_null`,
  `accepted_values`, `relationships`, `expression`), and `tests/assert_*.sql` are singular
  tests returning offending rows (empty = pass). A test fails the build unless its
  `severity` is `warn`, in which case its rows are reported and the build goes on;
- the same `name.yml` describes the model and its columns (`description:`), and
  `sources.yml` the lake tables' columns beyond what `pipeline/schemas.py` says; the build
  writes them into the warehouse as comments (`pipeline.warehouse.docs`);
- a build stores every test's outcome in the warehouse it writes (`store_results`, the table
  `RESULTS_TABLE`, in dbt's run_results words), which the report reads.
"""

from __future__ import annotations

import ast
import difflib
import graphlib
import json
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import yaml

from pipeline import vocab
from pipeline.errors import DataTestFailure, ModelError

DEFAULT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_like_sql"
# Descriptions of the lake tables (dbt's `sources:` YAML), beside project.yml.
SOURCES_YML = "sources.yml"
# The generic tests' SQL (`unique`, `not_null`, …): one template per kind, beside this module.
GENERIC_TESTS = Path(__file__).with_name("generic_tests")
LAYERS = ("staging", "intermediate", "marts")
# SQL macros the models call (dbt's `macros/`, as DuckDB macros): `macros/NAME.sql`
MACROS = "macros"
MATERIALIZATIONS = ("view", "table", "incremental")
SEVERITIES = vocab.TEST_SEVERITIES  # a test's `severity:`
SAMPLE_ROWS = 10

_EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_STRING = r"""\s*(?:'([^']*)'|"([^"]*)")\s*"""
_REF = re.compile(rf"ref\({_STRING}\)")
_SOURCE = re.compile(rf"source\({_STRING},{_STRING}\)")
_VAR = re.compile(rf"var\({_STRING}\)")
_ENUM = re.compile(rf"enum\({_STRING}\)")
_CONFIG = re.compile(r"config\((.*)\)", re.DOTALL)
_THIS = re.compile(r"this")
_CHANGES = re.compile(rf"changes\({_STRING}\)")
# dbt's one block form the models need: `{% if is_incremental() %} … {% else %} … {% endif %}`
_BLOCK = re.compile(
    r"\{%-?\s*if\s+is_incremental\(\)\s*-?%\}(.*?)"
    r"(?:\{%-?\s*else\s*-?%\}(.*?))?\{%-?\s*endif\s*-?%\}",
    re.DOTALL,
)
_STATEMENT = re.compile(r"\{%.*?%\}", re.DOTALL)
_GRAIN = re.compile(r"--\s*grain:\s*(\S.*)")


@dataclass(frozen=True)
class Template:
    """SQL with `{{ … }}` expressions, parsed once: what it refers to, and how it is set up."""

    path: Path
    text: str
    refs: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    config: Mapping[str, Any]
    changes: tuple[str, ...] = ()  # the models `{{ changes('…') }}` names (refs too)

    @classmethod
    def parse(cls, path: Path, text: str) -> Template:
        refs: list[str] = []
        sources: list[tuple[str, str]] = []
        changes: list[str] = []
        config: dict[str, Any] = {}
        _check_statements(path, text)
        for match in _EXPRESSION.finditer(text):
            expression = match.group(1)
            line = text.count("\n", 0, match.start()) + 1
            if ref := _REF.fullmatch(expression):
                refs.append(_string(ref, 1))
            elif source := _SOURCE.fullmatch(expression):
                sources.append((_string(source, 1), _string(source, 3)))
            elif _VAR.fullmatch(expression) or _THIS.fullmatch(expression):
                pass
            elif changed := _CHANGES.fullmatch(expression):
                changes.append(_string(changed, 1))
                refs.append(changes[-1])
            elif enum := _ENUM.fullmatch(expression):
                enum_type(_string(enum, 1), f"{path}:{line}")
            elif setup := _CONFIG.fullmatch(expression):
                config.update(_config_kwargs(setup.group(1), f"{path}:{line}"))
            else:
                raise ModelError(
                    f"{path}:{line}: cannot compile {{{{ {expression} }}}}: only ref('model'), "
                    "source('lake', 'table'), var('name'), enum('VOCABULARY'), this, "
                    "changes('model') and config(key=value) are supported"
                )
        return cls(
            path, text, tuple(dict.fromkeys(refs)), tuple(dict.fromkeys(sources)), config,
            tuple(dict.fromkeys(changes)),
        )  # fmt: skip

    def render(
        self,
        vars_: Mapping[str, Any],
        sources: Mapping[tuple[str, str], str],
        *,
        incremental: bool = False,
        this: str | None = None,
        scoped: Mapping[str, str] | None = None,
    ) -> str:
        """The SQL DuckDB runs: refs and sources become quoted relation names, config goes;
        `{% if is_incremental() %}` blocks keep their first branch when `incremental`, else
        their `{% else %}` branch (or nothing); `{{ this }}` is `this`, the model's own
        relation, and `{{ changes('m') }}` the relation `changes_relation('m')`; a
        `ref('m')` of a model in `scoped` becomes its query instead (a test's rows)."""

        def branch(match: re.Match[str]) -> str:
            return match.group(1) if incremental else (match.group(2) or "")

        def substitute(match: re.Match[str]) -> str:
            expression = match.group(1)
            if _THIS.fullmatch(expression):
                if this is None:
                    raise ModelError(f"{self.path}: {{{{ this }}}} outside a model")
                return quote(this)
            if changed := _CHANGES.fullmatch(expression):
                return quote(changes_relation(_string(changed, 1)))
            if ref := _REF.fullmatch(expression):
                name = _string(ref, 1)
                return scoped[name] if scoped and name in scoped else quote(name)
            if source := _SOURCE.fullmatch(expression):
                return quote(sources[(_string(source, 1), _string(source, 3))])
            if var := _VAR.fullmatch(expression):
                name = _string(var, 1)
                if name not in vars_:
                    line = self.text.count("\n", 0, match.start()) + 1
                    raise ModelError(
                        f"{self.path}:{line}: var('{name}') is not set in project.yml "
                        f"(known: {', '.join(sorted(vars_)) or 'none'})"
                    )
                return literal(vars_[name])
            if enum := _ENUM.fullmatch(expression):
                return enum_type(_string(enum, 1), str(self.path))
            return ""  # config(...)

        return _EXPRESSION.sub(substitute, _BLOCK.sub(branch, self.text)).strip()


def changes_relation(model: str) -> str:
    """The temporary table an incremental build keeps of the rows `model` changed."""
    return f"__changes__{model}"


def inserted_relation(model: str) -> str:
    """The temporary table an update keeps of the rows it inserted into `model`: all the
    model's rows of every key it changed (the generic tests read these)."""
    return f"__inserted__{model}"


def _check_statements(path: Path, text: str) -> None:
    """Refuse any `{% … %}` but the `is_incremental()` block (and say where)."""
    for match in _STATEMENT.finditer(_BLOCK.sub("", text)):
        line = text.count("\n", 0, match.start()) + 1
        raise ModelError(
            f"{path}:{line}: cannot compile {match.group(0)}: the only block supported is "
            "{% if is_incremental() %} … {% else %} … {% endif %}"
        )


def _config_kwargs(arguments: str, where: str) -> dict[str, Any]:
    """`config(…)`'s keyword arguments, read by Python's own parser: literals only (strings,
    or lists of strings such as `unique_key=['snapshot_id', 'position']`)."""
    try:
        call = ast.parse(f"config({arguments})", mode="eval").body
        assert isinstance(call, ast.Call) and not call.args
        return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    except (SyntaxError, ValueError, AssertionError):
        raise ModelError(
            f"{where}: config(…) takes keyword arguments with literal values, "
            f"such as config(materialized='table') (found config({arguments.strip()}))"
        ) from None


def enum_type(vocabulary: str, where: str) -> str:
    """`{{ enum('FORMS') }}`: a DuckDB ENUM of a closed vocabulary of `pipeline.vocab`.

    The values are the ones the lake's schema admits, in the vocabulary's order (which is
    the order ENUM values sort in), written once in Python and never copied into SQL: a
    value added there reaches the warehouse at the next build. A lake value outside it
    fails the build's cast loudly rather than becoming NULL.
    """
    values = vocabulary_values(vocabulary, f"{where}: enum('{vocabulary}')")
    return f"ENUM({', '.join(map(literal, values))})"


def vocabulary_values(vocabulary: str, named: str) -> tuple[str, ...]:
    """The values of a closed vocabulary of `pipeline.vocab` (`{{ enum('FORMS') }}`,
    `accepted_values: {vocabulary: FORMS}`); `named` says where, for the error a name that
    is no vocabulary raises."""
    values = getattr(vocab, vocabulary, None)
    if not isinstance(values, tuple) or not all(isinstance(v, str) for v in values):
        raise ModelError(
            f"{named} names no vocabulary of pipeline.vocab "
            "(a tuple of strings such as FORMS or TITLE_SOURCES)"
        )
    return values


@dataclass(frozen=True)
class Described:
    """What YAML says a relation and its columns are: dbt's `description:` keys.

    `columns` maps each column the YAML names to its description ("" when it has none), in
    the YAML's order; a column the YAML only tests is still named there.
    """

    description: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Model:
    """One SQL file: a relation built from other models and lake tables."""

    name: str
    layer: str
    grain: str
    materialized: str
    template: Template
    described: Described = Described()

    @property
    def path(self) -> Path:
        return self.template.path

    @property
    def refs(self) -> tuple[str, ...]:
        return self.template.refs

    @property
    def unique_key(self) -> tuple[str, ...]:
        """An incremental model's key columns (`unique_key='a'` or `['a', 'b']`)."""
        return _columns_of(self.template.config.get("unique_key") or ())

    @property
    def keys_from(self) -> dict[str, tuple[str, ...]]:
        """The columns of a parent's `changes()` that hold this model's key under other names
        (`keys_from={'parent': 'column'}`, or a list per parent for a key of several columns)."""
        declared = self.template.config.get("keys_from") or {}
        return {parent: _columns_of(columns) for parent, columns in declared.items()}


def _columns_of(columns: str | Sequence[str]) -> tuple[str, ...]:
    return (columns,) if isinstance(columns, str) else tuple(columns)


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


@dataclass
class TestResult:
    """A data test's outcome: how many rows offended, the first few of them, and its time."""

    __test__ = False  # not a pytest test class, despite the name

    test: DataTest
    failing_count: int
    sample: pl.DataFrame
    seconds: float = 0.0
    # it read only the rows an update changed (a generic test on an updated model or a
    # staging view, a singular test's `is_incremental()` block), not every row
    incremental: bool = False

    @property
    def status(self) -> str:
        """dbt's word for the outcome: PASS, WARN (a `warn` test with rows) or FAIL."""
        if self.passed:
            return "PASS"
        return "WARN" if self.test.severity == "warn" else "FAIL"

    @property
    def passed(self) -> bool:
        return self.failing_count == 0

    def render(self) -> str:
        with pl.Config(tbl_rows=SAMPLE_ROWS, tbl_cols=-1, fmt_str_lengths=40, tbl_width_chars=160):
            return (
                f"{self.test.severity.upper()} {self.test.name} ({self.test.template.path}): "
                f"{self.failing_count} offending row(s)\n{self.sample}"
            )


@dataclass
class RunResult:
    """What a run built (model, materialisation, rows, seconds) and how its tests went."""

    built: list[tuple[str, str, int | None, float]] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    created: set[str] = field(default_factory=set)  # built anew (not updated, not kept)

    @property
    def warnings(self) -> list[TestResult]:
        return [r for r in self.tests if not r.passed and r.test.severity == "warn"]

    def render(self) -> str:
        width = max((len(name) for name, *_ in self.built), default=10)
        lines = [
            f"{name:<{width}}  {kind:<11}  "
            + (f"{rows:>9,} rows" if rows is not None else f"{'view':>14}")
            + f"  {seconds:6.2f} s"
            for name, kind, rows, seconds in self.built
        ]
        passed = sum(r.passed for r in self.tests)
        lines.append(
            f"tests: {passed} passed, {len(self.warnings)} warned, "
            f"{len(self.tests) - passed - len(self.warnings)} failed"
        )
        lines.extend(f"\n{result.render()}" for result in self.warnings)
        return "\n".join(lines)


EVENT_WIDTH = 72  # progress lines pad their description with dots to this column, as dbt's do


@dataclass(frozen=True)
class Event:
    """One finished step of a build: a lake table loaded, a model built, a data test run.

    `run` (and `database.rebuild`) hand each one to an `on_event` callback as it happens, so
    a long build is never silent: `listings build` prints `render()`, the flow logs it. A
    callback rather than prints keeps the runner quiet for unit tests and library callers.
    """

    # "load", "append" (a lake table's new rows), "model", "update" (an incremental model
    # updated in place), "keep" (a view an update leaves as it was) or "test"
    step: str
    index: int  # 1-based among this run's steps of the same kind
    total: int
    name: str
    status: str  # OK or ERROR (load, model); PASS, WARN or FAIL (test)
    seconds: float
    rows: int | None = None  # rows built (load, model) or offending rows (test)
    materialized: str | None = None  # "table" or "view" (load, model)

    def render(self) -> str:
        """A dbt-style line: `  3 of 13 OK created table dim_documents .... 41,230 rows  0.41 s`."""
        tail = f"{self.seconds:.2f} s"
        if self.step == "test":
            counted = f" {self.rows:,}" if self.status in ("WARN", "FAIL") else ""
            what = f"{self.status}{counted} {self.name}"
        else:
            verbs = {
                "load": ("loaded", "loading"),
                "model": ("created", "creating"),
                "update": ("updated", "updating"),
                "keep": ("kept", "keeping"),
                "append": ("appended to", "appending to"),
            }[self.step]
            verb = verbs[1] if self.status == "ERROR" else verbs[0]
            what = f"{self.status} {verb} {self.materialized} {self.name}"
            if self.rows is not None:
                tail = f"{self.rows:,} rows  {tail}"
        head = f"{self.index:>3} of {self.total} {what} "
        return f"{head}{'.' * max(3, EVENT_WIDTH - len(head))} {tail}"


OnEvent = Callable[[Event], None]


def _ignore(event: Event) -> None:
    """The default `on_event`: a build that nobody watches."""


@dataclass(frozen=True)
class Project:
    """Every model, test, source and var of a dbt_like_sql folder, checked for consistency."""

    root: Path
    models: Mapping[str, Model]
    tests: Sequence[DataTest]
    sources: Mapping[tuple[str, str], str]
    vars: Mapping[str, Any]
    # `sources.yml`'s descriptions, by lake table (the relation name a source resolves to)
    source_docs: Mapping[str, Described] = field(default_factory=dict)
    # `macros/*.sql`: each one `CREATE OR REPLACE MACRO …`, created before any model
    macros: Mapping[str, str] = field(default_factory=dict)

    def order(self) -> list[str]:
        """Model names in dependency order (ties by layer, then name, so output is stable)."""
        sorter = graphlib.TopologicalSorter({m.name: m.refs for m in self.models.values()})
        try:
            sorter.prepare()
        except graphlib.CycleError as error:
            cycle = error.args[1]
            files = ", ".join(str(self.models[name].path) for name in dict.fromkeys(cycle))
            raise ModelError(
                f"models form a cycle: {' -> '.join(reversed(cycle))} ({files})"
            ) from None
        ordered: list[str] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=self._sort_key)
            ordered.extend(ready)
            sorter.done(*ready)
        return ordered

    def relative_path(self, path: Path) -> str:
        """A project file as a reader knows it: `dbt_like_sql/marts/x.yml`, relative to the
        project's parent wherever the command ran (the runner names files relative to the
        working folder); a file elsewhere as it is."""
        try:
            return str(path.resolve().relative_to(self.root.resolve().parent))
        except ValueError:
            return str(path)

    def _sort_key(self, name: str) -> tuple[int, str]:
        return LAYERS.index(self.models[name].layer), name

    def children(self) -> dict[str, set[str]]:
        children: dict[str, set[str]] = {name: set() for name in self.models}
        for model in self.models.values():
            for parent in model.refs:
                children[parent].add(model.name)
        return children

    def select(self, selectors: Iterable[str] | None) -> list[str]:
        """Models named by dbt-style selectors, in build order.

        `name` is the model alone, `name+` adds everything downstream of it, `+name`
        everything upstream; no selector means every model.
        """
        order = self.order()
        if not selectors:
            return order
        children = self.children()
        parents = {name: set(model.refs) for name, model in self.models.items()}
        chosen: set[str] = set()
        for selector in selectors:
            name = selector.strip("+")
            if name not in self.models:
                raise ModelError(
                    f"--select {selector}: no model named {name!r} (models: {', '.join(order)})"
                )
            chosen.add(name)
            if selector.endswith("+"):
                chosen |= _reachable(name, children)
            if selector.startswith("+"):
                chosen |= _reachable(name, parents)
        return [name for name in order if name in chosen]

    def upstream(self, names: Iterable[str]) -> set[str]:
        parents = {name: set(model.refs) for name, model in self.models.items()}
        found: set[str] = set()
        for name in names:
            found |= _reachable(name, parents)
        return found

    def compile(self, name: str, vars_: Mapping[str, Any] | None = None) -> str:
        """A model's or data test's SQL as the build runs it: refs, sources and vars resolved.

        A model's is the query its `CREATE … AS` wraps; a test's the query for its offending
        rows, before the build wraps it to count them. An unknown name raises `ModelError`
        naming the closest names (a typo is the usual cause).
        """
        values = {**self.vars, **(vars_ or {})}
        if name in self.models:
            return self.models[name].template.render(values, self.sources)
        for test in self.tests:
            if test.name == name:
                return test.template.render(values, self.sources)
        names = [*self.order(), *(test.name for test in self.tests)]
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
        hint = (
            f"did you mean {', '.join(close)}?" if close else f"models: {', '.join(self.order())}"
        )
        raise ModelError(f"no model or data test named {name!r}: {hint}")

    def lineage(self) -> str:
        """The DAG as text: each model in build order with what it reads and its grain."""
        lines = []
        for name in self.order():
            model = self.models[name]
            inputs = [*model.refs, *(f"{s}.{t}" for s, t in model.template.sources)]
            lines.append(f"{model.layer}/{name} ({model.materialized}) <- {', '.join(inputs)}")
            lines.append(f"    grain: {model.grain}")
        for test in self.tests:
            if test.model is None:
                lines.append(f"tests/{test.name} ({test.severity}) <- {', '.join(test.refs)}")
        return "\n".join(lines)


def load_project(root: Path = DEFAULT_PROJECT) -> Project:
    """Read and check a project folder: every ref and source resolves, and the DAG is acyclic."""
    root = _shown(root)
    settings = _read_yaml(root / "project.yml")
    sources = {
        (source, table): table
        for source, tables in (settings.get("sources") or {}).items()
        for table in tables
    }
    models: dict[str, Model] = {}
    tests: list[DataTest] = []
    for layer in LAYERS:
        for path in sorted((root / layer).glob("*.sql")):
            entry = _model_entry(path.with_suffix(".yml"), path.stem)
            model = _load_model(path, layer, _described(path.with_suffix(".yml"), entry))
            if model.name in models:
                raise ModelError(f"{path}: model {model.name!r} is also {models[model.name].path}")
            models[model.name] = model
            tests.extend(_generic_tests(path.with_suffix(".yml"), model.name, entry))
    for path in sorted((root / "tests").glob("*.sql")):
        template = Template.parse(path, path.read_text(encoding="utf-8"))
        severity = template.config.get("severity", "error")
        _check_severity(path, severity)
        tests.append(DataTest(path.stem, severity, template))
    source_docs = _source_docs(root / SOURCES_YML, {table for _, table in sources})
    macros = {path.stem: _load_macro(path) for path in sorted((root / MACROS).glob("*.sql"))}
    project = Project(
        root, models, tests, sources, dict(settings.get("vars") or {}), source_docs, macros
    )
    _check_references(project)
    project.order()  # raises on a cycle
    return project


def run(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    *,
    select: Sequence[str] | None = None,
    with_upstream: bool = True,
    vars_: Mapping[str, Any] | None = None,
    on_event: OnEvent | None = None,
    incremental: bool = False,
    appended: Mapping[str, str] | None = None,
) -> RunResult:
    """Build the selected models in dependency order, then run their tests.

    With `incremental` (the lake tables in `con` only gained rows since its models were
    built from them, by this same project), an incremental model that exists is updated in
    place (`_update_incremental`) instead of rebuilt, and a view that exists is kept (its
    SQL is the same); `appended` maps each lake table to a relation of the rows the update
    appended to it, and a staging view's `changes()` are those rows as the view shows them.
    Then the generic tests declared on an updated model run on the rows whose key it
    changed, and those on a staging view on the appended rows: every other row passed them
    before and has not changed. A singular test runs on everything, or, with its own
    `{% if is_incremental() %}` block reading `changes()`, on what it says may have changed.

    With `with_upstream` (a fresh database) the models the selection reads are built too;
    without it they must already exist in `con` (a rebuild of part of a warehouse). Tests run
    when every model they read was built in this run, or existed before it. Failing tests of
    severity `error` raise `DataTestFailure` after all tests ran, so one run shows them all.
    Each model and test is reported to `on_event` as it finishes (a model that fails to
    build too, as ERROR, before its `ModelError` is raised).
    """
    emit = on_event or _ignore
    values = {**project.vars, **(vars_ or {})}
    create_macros(con, project)
    names = project.select(select)
    if with_upstream and select:
        wanted = set(names) | project.upstream(names)
        names = [name for name in project.order() if name in wanted]
    result = RunResult()
    existing = _relation_types(con) if incremental else {}
    changed: set[str] = set()  # models whose changes() this run keeps
    scopes: dict[str, str] = {}  # models whose generic tests read only changed rows
    for index, name in enumerate(names, 1):
        model = project.models[name]
        started = time.perf_counter()
        step = "model"
        if incremental and existing.get(name) == _KIND[model.materialized]:
            step = {"incremental": "update", "view": "keep"}.get(model.materialized, step)
        if step == "update" and not set(model.template.changes) <= changed:
            step = "model"  # a parent it reads the changes of was rebuilt whole
        try:
            if step == "update":
                sql = model.template.render(values, project.sources, incremental=True, this=name)
                _update_incremental(con, model, sql)
                scopes[name] = quote(inserted_relation(name))
                changed.add(name)
            elif step == "model":
                sql = model.template.render(values, project.sources, this=name)
                _materialise(con, model, sql, write_now=not incremental)
                result.created.add(name)
            if incremental and appended is not None and _shows_lake_rows(model, project, appended):
                sources = {key: appended[table] for key, table in project.sources.items()
                           if table in appended}  # fmt: skip
                create_relation(con, changes_relation(name), "view",
                                model.template.render(values, sources, this=name),
                                temporary=True)  # fmt: skip
                scopes[name] = quote(changes_relation(name))
                changed.add(name)
        except ModelError:
            seconds = time.perf_counter() - started
            emit(Event(step, index, len(names), name, "ERROR", seconds,
                       materialized=model.materialized))  # fmt: skip
            raise
        # a view is not counted: counting runs its whole query (a join of every listing)
        rows = (
            None
            if model.materialized == "view"
            else con.sql(f"SELECT count(*) FROM {quote(name)}").fetchall()[0][0]
        )
        seconds = time.perf_counter() - started
        result.built.append((name, model.materialized, rows, seconds))
        emit(Event(step, index, len(names), name, "OK", seconds, rows, model.materialized))
    built = set(names)
    available = built | _relations(con)
    tests = [t for t in project.tests if built & set(t.refs) and set(t.refs) <= available]
    result.tests = _run_each(con, tests, values, project.sources, emit, scopes, changed)
    # a build over part of a warehouse keeps the results of the tests it did not run
    partial = bool(select) and not with_upstream
    if store_results(con, project, result.tests, values, keep_others=partial):
        result.created.add(RESULTS_TABLE)
    _raise_failures(result.tests)
    return result


# How each materialisation is stored (information_schema's table_type).
_KIND = {"view": "VIEW", "table": "BASE TABLE", "incremental": "BASE TABLE"}


def _shows_lake_rows(model: Model, project: Project, appended: Mapping[str, str]) -> bool:
    """A staging view: it reads lake tables (all of whose appended rows are known) and no
    model, so its rows over the appended rows are its changes."""
    return (
        model.materialized == "view"
        and not model.refs
        and bool(model.template.sources)
        and all(project.sources[source] in appended for source in model.template.sources)
    )


def create_macros(con: duckdb.DuckDBPyConnection, project: Project) -> None:
    """Create (or replace) the project's macros on `con`: the models call them."""
    for name, sql in project.macros.items():
        try:
            con.execute(sql)
        except duckdb.Error as error:
            where = project.root / MACROS / f"{name}.sql"
            raise ModelError(f"{where}: creating it failed: {error}") from None


def run_tests(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    *,
    select: Sequence[str] | None = None,
    vars_: Mapping[str, Any] | None = None,
    on_event: OnEvent | None = None,
) -> tuple[RunResult, list[DataTest]]:
    """Run the data tests against relations `con` already holds, building nothing.

    What `listings build --test-only` runs: the tests a build would run, on a warehouse as
    it stands (a read-only connection will do: every test only selects). With `select`,
    only the tests that read a selected model. Returns the result and the tests that could
    not run because a relation they read is missing; raises `DataTestFailure` as `run`
    does when an `error` test finds rows.
    """
    values = {**project.vars, **(vars_ or {})}
    chosen = set(project.select(select))
    available = _relations(con)
    wanted = [t for t in project.tests if chosen & set(t.refs)]
    runnable = [t for t in wanted if _reads(t, project) <= available]
    missing = [t for t in wanted if t not in runnable]
    results = _run_each(con, runnable, values, project.sources, on_event or _ignore)
    _raise_failures(results)
    return RunResult(tests=results), missing


def _reads(test: DataTest, project: Project) -> set[str]:
    """The relations a test's query names: models and the lake tables its sources resolve to."""
    return set(test.refs) | {project.sources[source] for source in test.template.sources}


def _run_each(
    con: duckdb.DuckDBPyConnection,
    tests: Sequence[DataTest],
    values: Mapping[str, Any],
    sources: Mapping[tuple[str, str], str],
    emit: OnEvent,
    scopes: Mapping[str, str] | None = None,
    changed: Collection[str] = (),
) -> list[TestResult]:
    """Run each test once, reporting it as it finishes.

    Every test runs, failing or not, so one build shows (and stores) every failure before
    `_raise_failures` raises. A test whose `changes()` this run kept (`changed`) runs with
    its `is_incremental()` blocks on.
    """
    results = []
    for index, data_test in enumerate(tests, 1):
        scoped = (
            {data_test.model: scopes[data_test.model]}
            if scopes and data_test.model in scopes
            else None
        )
        incremental = bool(data_test.template.changes) and set(data_test.template.changes) <= set(
            changed
        )
        outcome = _run_test(con, data_test, values, sources, scoped, incremental=incremental)
        outcome.incremental = scoped is not None or incremental
        results.append(outcome)
        emit(Event("test", index, len(tests), data_test.name, outcome.status, outcome.seconds,
                   outcome.failing_count))  # fmt: skip
    return results


def _raise_failures(results: Sequence[TestResult]) -> None:
    """Raise `DataTestFailure` if any test of severity `error` found rows."""
    failures = [r for r in results if not r.passed and r.test.severity == "error"]
    if failures:
        raise DataTestFailure(failures)


# The table a build stores its data tests' outcomes in, beside the models (written in the
# same build, so it is replaced with the warehouse, atomically): what the report reads.
RESULTS_TABLE = "_test_results"
# Its columns, named as dbt's run_results.json names them where it has the field: (name,
# DuckDB type or the vocabulary of its ENUM, description). `pipeline.warehouse.docs` writes
# the descriptions as the columns' comments.
RESULT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("unique_id", "VARCHAR",
     "The test's name, as `listings build` prints it and `listings compile` takes it."),
    ("model", "VARCHAR",
     "The model a generic test is declared on; null for a singular test (tests/*.sql)."),
    ("column_name", "VARCHAR",
     "The column a generic test is declared on; null for a test of the whole model."),
    ("depends_on", "VARCHAR[]", "The models the test reads."),
    ("severity", "TEST_SEVERITIES",
     "error (a failure stops the build) or warn (its rows are reported, the build goes on)."),
    ("status", "TEST_STATUSES",
     "pass (no offending rows), warn (rows of a warn test) or fail (rows of an error test)."),
    ("failures", "BIGINT", "How many rows it found offending."),
    ("execution_time", "DOUBLE", "Seconds it took to run."),
    ("is_incremental", "BOOLEAN",
     "It read only the rows the update that stored it changed (docs/warehouse.md, \"Tests in "
     "an update\"): every other row passed it before. False in a full build."),
    ("failing_rows", "VARCHAR",
     f"Up to {SAMPLE_ROWS} of the offending rows, as a JSON array of objects (column: value, "
     "in the query's column order; times in ISO 8601 with their offset); [] when it passed."),
    ("compiled_code", "VARCHAR",
     "The test's query for its offending rows, as `listings compile` prints it (on every "
     "row: an update ran it on the rows it changed)."),
    ("original_file_path", "VARCHAR",
     "The file that declares it: a model's YAML or a singular test's SQL."),
)  # fmt: skip


def store_results(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    results: Sequence[TestResult],
    vars_: Mapping[str, Any],
    *,
    keep_others: bool = False,
) -> bool:
    """Store `results` in `RESULTS_TABLE` on `con`, in place of what it held (with
    `keep_others`, in place of those tests' rows only); whether the table was created (its
    comments are then to write).

    The build's own connection writes it, before the build's end decides whether the file
    (or the transaction) becomes the warehouse: a warehouse's results are always those of
    the build that wrote it, and a failed build kept for inspection has its failures.
    """
    rows = [
        {
            "unique_id": result.test.name,
            "model": result.test.model,
            "column_name": result.test.column,
            "depends_on": list(result.test.refs),
            "severity": result.test.severity,
            "status": result.status.lower(),
            "failures": result.failing_count,
            "execution_time": result.seconds,
            "is_incremental": result.incremental,
            "failing_rows": json.dumps(
                result.sample.to_dicts(), default=_json_value, ensure_ascii=False
            ),
            "compiled_code": result.test.template.render(vars_, project.sources).strip(),
            "original_file_path": project.relative_path(result.test.template.path),
        }
        for result in results
    ]
    types = {name: _stored_type(type_) for name, type_, _ in RESULT_COLUMNS}
    schema = {name: _POLARS.get(type_, pl.String) for name, type_ in types.items()}
    selected = ", ".join(f"CAST({quote(name)} AS {type_}) AS {quote(name)}"
                         for name, type_ in types.items())  # fmt: skip
    con.register("__results", pl.DataFrame(rows, schema=schema, orient="row").to_arrow())
    try:
        same = RESULTS_TABLE in _relations(con) and _column_types(con, RESULTS_TABLE) == types
        if not same:
            create_relation(con, RESULTS_TABLE, "table", f"SELECT {selected} FROM __results")
            return True
        if keep_others:
            con.execute(f"DELETE FROM {quote(RESULTS_TABLE)} "
                        "WHERE unique_id IN (SELECT unique_id FROM __results)")  # fmt: skip
        else:
            con.execute(f"DELETE FROM {quote(RESULTS_TABLE)}")
        con.execute(f"INSERT INTO {quote(RESULTS_TABLE)} BY NAME SELECT {selected} FROM __results")
        return False
    finally:
        con.unregister("__results")


def _json_value(value: Any) -> str:
    """A value JSON has no type for: a time or date in ISO 8601 (with its offset), anything
    else (a decimal, bytes, an interval) as its text."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _stored_type(declared: str) -> str:
    """A `RESULT_COLUMNS` type as DuckDB names it: a vocabulary's name is its ENUM."""
    return enum_type(declared, RESULTS_TABLE) if hasattr(vocab, declared) else declared


# The frame `store_results` hands DuckDB: each column in the type it casts from (text for
# the ENUMs).
_POLARS = {"VARCHAR[]": pl.List(pl.String), "BIGINT": pl.Int64, "DOUBLE": pl.Float64,
           "BOOLEAN": pl.Boolean}  # fmt: skip


def _column_types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
        "AND database_name = current_database() AND schema_name = current_schema() "
        "ORDER BY column_index",
        [relation],
    ).fetchall()
    return dict(rows)


def grain_of(text: str) -> str | None:
    """What a model's (or singular test's) first line says it holds: `-- grain: …`."""
    grain = _GRAIN.fullmatch(text.split("\n", 1)[0].strip())
    return grain.group(1) if grain else None


def _load_model(path: Path, layer: str, described: Described) -> Model:
    text = path.read_text(encoding="utf-8")
    grain = grain_of(text)
    if grain is None:
        raise ModelError(
            f"{path}:1: a model's first line states its grain: `-- grain: one row per …`"
        )
    template = Template.parse(path, text)
    materialized = template.config.get("materialized")
    if materialized not in MATERIALIZATIONS:
        raise ModelError(
            f"{path}: needs a {{{{ config(materialized='view') }}}} line, 'view', 'table' or "
            f"'incremental' (found {materialized!r})"
        )
    model = Model(path.stem, layer, grain, materialized, template, described)
    key = template.config.get("unique_key")
    keys = [key] if isinstance(key, str) else key
    if materialized == "incremental" and not (
        isinstance(keys, list) and keys and all(isinstance(k, str) and k for k in keys)
    ):
        raise ModelError(
            f"{path}: an incremental model names its unique_key: "
            "config(materialized='incremental', unique_key=['column', …])"
        )
    keys_from = template.config.get("keys_from", {})
    if not isinstance(keys_from, dict) or any(
        not isinstance(parent, str) or len(_columns_of(columns)) != len(model.unique_key)
        for parent, columns in keys_from.items()
    ):
        raise ModelError(
            f"{path}: keys_from maps a parent to the column(s) of its changes() holding the "
            "unique_key, one per key column: keys_from={'parent': 'column'}"
        )
    return model


def _load_macro(path: Path) -> str:
    """A macro file's SQL: one statement creating the macro the file is named after.

    DuckDB itself says so: the file must parse as one CREATE statement that, run on a
    scratch connection, creates a macro of that name (dropping it is the proof: listing
    DuckDB's functions to find it cost more than the rest of loading the project).
    """
    text = path.read_text(encoding="utf-8")
    scratch = duckdb.connect()
    try:
        statements = scratch.extract_statements(text)
        if len(statements) == 1 and statements[0].type == duckdb.StatementType.CREATE:
            scratch.execute(text)
            if _drops_macro(scratch, path.stem):
                return text
    except duckdb.Error as error:
        raise ModelError(f"{path}: does not run: {error}") from None
    finally:
        scratch.close()
    raise ModelError(
        f"{path}: a macro file holds one statement, "
        f"`create or replace macro {path.stem}(…) as …`"
    )


def _drops_macro(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Drop the scalar or table macro `name`; whether there was one."""
    for kind in ("MACRO", "MACRO TABLE"):
        try:
            con.execute(f"DROP {kind} {quote(name)}")
        except duckdb.CatalogException:
            continue
        return True
    return False


def _model_entry(path: Path, model: str) -> dict[str, Any]:
    """The model's entry in its YAML (`models: [{name: …}]`), or {} when it has no YAML."""
    if not path.exists():
        return {}
    declared = _read_yaml(path).get("models") or []
    for entry in declared:
        if entry.get("name") != model:
            raise ModelError(f"{path}: declares {entry.get('name')!r}, expected {model!r}")
    if len(declared) > 1:
        raise ModelError(f"{path}: declares {model!r} {len(declared)} times, once is enough")
    return declared[0] if declared else {}


def _described(path: Path, entry: Mapping[str, Any]) -> Described:
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


def _source_docs(path: Path, tables: set[str]) -> dict[str, Described]:
    """`sources.yml` (dbt's layout: `sources: [{name, tables: [{name, description, columns}]}]`)
    by lake table; every table it describes must be declared in project.yml."""
    if not path.exists():
        return {}
    docs: dict[str, Described] = {}
    for source in _read_yaml(path).get("sources") or []:
        for table in source.get("tables") or []:
            name = table.get("name")
            if name not in tables:
                raise ModelError(
                    f"{path}: describes {source.get('name')}.{name}, which project.yml does "
                    f"not declare (declared: {', '.join(sorted(tables)) or 'none'})"
                )
            docs[name] = _described(path, table)
    return docs


def _generic_tests(path: Path, model: str, entry: Mapping[str, Any]) -> list[DataTest]:
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
    _check_severity(path, severity)
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


def _check_references(project: Project) -> None:
    known = ", ".join(sorted(project.models)) or "none"
    for template in [
        *(m.template for m in project.models.values()),
        *(t.template for t in project.tests),
    ]:
        for ref in template.refs:
            if ref not in project.models:
                raise ModelError(f"{template.path}: ref('{ref}') names no model (known: {known})")
        for changed in template.changes:
            parent = project.models[changed]
            staging = parent.materialized == "view" and parent.template.sources and not parent.refs
            if parent.materialized != "incremental" and not staging:
                raise ModelError(
                    f"{template.path}: changes('{changed}') names a model that is neither "
                    "incremental nor a staging view: only an incremental model's update keeps "
                    "what it changed, and a staging view's changes are the rows the update "
                    "appended to the lake tables it reads"
                )
        for parent in template.config.get("keys_from") or {}:
            if parent not in template.changes:
                raise ModelError(
                    f"{template.path}: keys_from names {parent!r}, whose changes('{parent}') "
                    "the model does not read"
                )
        for source in template.sources:
            if source not in project.sources:
                declared = ", ".join(f"{s}.{t}" for s, t in project.sources) or "none"
                raise ModelError(
                    f"{template.path}: source('{source[0]}', '{source[1]}') is not declared "
                    f"in project.yml (declared: {declared})"
                )


def _materialise(
    con: duckdb.DuckDBPyConnection, model: Model, sql: str, *, write_now: bool = False
) -> None:
    """Create the model's view or table; with `write_now`, write a table into the file at
    once (`checkpoint`)."""
    kind = "view" if model.materialized == "view" else "table"
    try:
        create_relation(con, model.name, kind, sql)
        if write_now and kind == "table":
            checkpoint(con)
    except duckdb.Error as error:
        raise ModelError(f"{model.path}: building {model.name} failed: {error}") from None


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write what the connection committed into the file: after a table is created, outside
    any transaction.

    A table several threads wrote ends with a partly filled row group per thread; the next
    checkpoint merges them, writing those rows again and freeing the blocks they were first
    written to. Checkpointed only when the build ends (or when the log fills), the freed
    blocks stay behind as free space in the file (a tenth of it at a million listings,
    most of it dim_documents'); checkpointed after each table, the tables after it fill
    them. The merge costs the same either way (docs/warehouse.md, "Storage").
    """
    con.execute("CHECKPOINT")


def _relation_types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each relation of the current schema, with its table_type (BASE TABLE or VIEW)."""
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = current_schema()"
    ).fetchall()
    return dict(rows)


def _update_incremental(con: duckdb.DuckDBPyConnection, model: Model, sql: str) -> None:
    """dbt's `delete+insert`, keeping only what changes, and a record of it.

    `sql` (the model with its `is_incremental()` blocks on) gives the new rows of every key
    it covers. The keys to settle are theirs plus those the parents it reads the changes of
    changed in this build (`changes(parent)` holding the key's columns, or the columns
    `keys_from` names): a document whose last listing moved to another key has no new row,
    and its old row must go. Rows of those keys that differ from the new ones (or have
    none) are deleted, the new rows that differ are inserted (and kept in
    `inserted_relation(model)`: every row the model now has of a key it changed), and both
    are kept in `changes(model)` for the models below.
    """
    this, key = quote(model.name), ", ".join(quote(column) for column in model.unique_key)
    changed = quote(changes_relation(model.name))
    inserted = quote(inserted_relation(model.name))
    scopes = [f"SELECT {key} FROM __new"]
    for parent in model.template.changes:
        relation = changes_relation(parent)
        columns = model.keys_from.get(parent)
        if columns is None and set(model.unique_key) <= _columns(con, relation):
            columns = model.unique_key
        if columns is not None:
            scopes.append(f"SELECT {', '.join(map(quote, columns))} FROM {quote(relation)}")
    scope = " UNION ".join(scopes)
    steps = [
        f"CREATE OR REPLACE TEMP TABLE __new AS\n{sql}",
        f"CREATE OR REPLACE TEMP TABLE __scope AS {scope}",
        f"CREATE OR REPLACE TEMP TABLE __before AS "
        f"SELECT {this}.* FROM {this} SEMI JOIN __scope USING ({key})",
        # keys whose rows differ, either way: rows (as structs; NULLs equal, as in set
        # operations) counted +1 before and -1 after, a key with any count left over. Exact
        # as EXCEPT ALL both ways, without its window over every column (several times as
        # fast on the few thousand rows an update settles)
        "CREATE OR REPLACE TEMP TABLE __keys AS SELECT DISTINCT "
        + ", ".join(f"__row.{quote(c)} AS {quote(c)}" for c in model.unique_key)
        + " FROM (SELECT __row FROM (SELECT __before AS __row, 1 AS __side FROM __before "
        "UNION ALL SELECT __new AS __row, -1 AS __side FROM __new) "
        "GROUP BY __row HAVING sum(__side) <> 0)",
        f"CREATE OR REPLACE TEMP TABLE {inserted} AS "
        f"SELECT * FROM __new SEMI JOIN __keys USING ({key})",
        f"CREATE OR REPLACE TEMP TABLE {changed} AS "
        f"SELECT * FROM __before SEMI JOIN __keys USING ({key}) UNION ALL BY NAME "
        f"SELECT * FROM {inserted}",
        f"DELETE FROM {this} USING __keys WHERE "
        + " AND ".join(f"{this}.{quote(c)} = __keys.{quote(c)}" for c in model.unique_key),
        f"INSERT INTO {this} BY NAME SELECT * FROM {inserted}",
    ]
    try:
        for step in steps:
            con.execute(step)
    except duckdb.Error as error:
        raise ModelError(f"{model.path}: updating {model.name} failed: {error}") from None
    finally:
        for scratch in ("__new", "__scope", "__before", "__keys"):
            con.execute(f"DROP TABLE IF EXISTS temp.{scratch}")


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [relation]
    ).fetchall()
    return {name for (name,) in rows}


def create_relation(
    con: duckdb.DuckDBPyConnection,
    name: str,
    materialized: str,
    sql: str,
    parameters: Sequence[Any] | None = None,
    *,
    temporary: bool = False,
) -> None:
    """`CREATE OR REPLACE` a view or table, dropping an existing one of the other kind first.

    DuckDB refuses to replace a view with a table (or back), which a rebuild from an older
    warehouse, or a model whose materialisation changed, needs. A `temporary` one lives in
    the connection's temp schema and is never the other kind.
    """
    kind = "VIEW" if materialized == "view" else "TABLE"
    if temporary:
        con.execute(f"CREATE OR REPLACE TEMP {kind} {quote(name)} AS\n{sql}", parameters)
        return
    existing = con.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_name = ? AND table_schema = current_schema()",
        [name],
    ).fetchall()
    if existing and (existing[0][0] == "VIEW") != (kind == "VIEW"):
        other = "VIEW" if existing[0][0] == "VIEW" else "TABLE"
        con.execute(f"DROP {other} {quote(name)}")
    con.execute(f"CREATE OR REPLACE {kind} {quote(name)} AS\n{sql}", parameters)


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()
    return {name for (name,) in rows}


_FAILING_ROWS = "__failing_rows"


def _run_test(
    con: duckdb.DuckDBPyConnection,
    test: DataTest,
    vars_: Mapping[str, Any],
    sources: Mapping[tuple[str, str], str],
    scoped: Mapping[str, str] | None = None,
    *,
    incremental: bool = False,
) -> TestResult:
    """Run a test's query once: the window counts every offending row, LIMIT keeps a sample.

    A count and then a sample ran each test's query twice; on a million listings the
    queries are the build's cost, so it runs once (a passing test has no rows to window).
    Its rows come back as tuples, and the sample is made of them (a frame through Arrow,
    made for every test, empty or not, cost more than most of an update's tests).
    """
    sql = test.template.render(vars_, sources, scoped=scoped, incremental=incremental)
    started = time.perf_counter()
    try:
        counted = f"SELECT *, count(*) OVER () AS {quote(_FAILING_ROWS)} FROM (\n{sql}\n)"
        found = con.sql(f"{counted} LIMIT {SAMPLE_ROWS}")
        rows = found.fetchall()
    except duckdb.Error as error:
        raise ModelError(f"{test.template.path}: test {test.name} failed to run: {error}") from None
    sample = pl.DataFrame([row[:-1] for row in rows], schema=found.columns[:-1], orient="row")
    count = int(rows[0][-1]) if rows else 0
    return TestResult(test, count, sample, time.perf_counter() - started)


def _reachable(start: str, edges: Mapping[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


# libyaml's safe loader where PyYAML was built with it (every build reads the project's YAML,
# and the pure-Python loader took most of the time of loading the project)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except FileNotFoundError:
        raise ModelError(f"{path}: not found (is this a dbt_like_sql project folder?)") from None
    except yaml.YAMLError as error:
        raise ModelError(f"{path}: not valid YAML: {error}") from None
    return loaded or {}


def _shown(path: Path) -> Path:
    """The path relative to the working directory where it lies below it: shorter messages."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _check_severity(path: Path, severity: str) -> None:
    if severity not in SEVERITIES:
        raise ModelError(f"{path}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")


def _string(match: re.Match[str], group: int) -> str:
    """A quoted argument, whichever quotes it used (groups come in single/double pairs)."""
    value = match.group(group)
    return value if value is not None else match.group(group + 1)


def quote(identifier: str) -> str:
    """A SQL identifier, double-quoted (quotes doubled): any model or column name is safe."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A Python value as a SQL literal (strings quoted, quotes doubled)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
