"""A dbt_like_sql project, loaded and checked: its models, data tests, sources, vars, macros.

`load_project` reads the folder (`DEFAULT_PROJECT`: dbt_like_sql/), parses every file with
`templates` and its YAML with `declarations`, and refuses a ref, source or `changes()` that
names nothing, and a cycle. `Project` orders, selects and compiles the models, and prints
the graph (`lineage`). The conventions: docs/warehouse.md, "The SQL project".
"""

from __future__ import annotations

import difflib
import graphlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from pipeline.errors import ModelError
from pipeline.warehouse import declarations, selection
from pipeline.warehouse.contracts import Contract, read_contract
from pipeline.warehouse.declarations import DataTest, Described
from pipeline.warehouse.templates import Template, grain_of, vocabulary_vars

DEFAULT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_like_sql"
# dbt's project file: vars, the model folders (LAYERS, in build order), the hooks.
PROJECT_FILE = "dbt_project.yml"
DEFAULT_NAME = "listings"  # a project whose dbt_project.yml names none
LAYERS = ("staging", "intermediate", "marts")
# dbt's macros (Jinja): the hooks' DuckDB macros, `{% test %}` blocks, dbt's stand-ins for
# the runner's own `enum()` and `changes()`.
MACROS = "macros"
_TEST_BLOCK = re.compile(r"\{%(-?)\s*test\s+(\w+)")
_END_TEST = re.compile(r"\{%(-?)\s*endtest")
_HOOK = re.compile(r"\{\{\s*(\w+)\(\s*\)\s*\}\}")
MATERIALIZATIONS = ("view", "table", "incremental")


@dataclass(frozen=True)
class Model:
    """One SQL file: a relation built from other models and lake tables."""

    name: str
    layer: str
    grain: str
    materialized: str
    template: Template
    described: Described = Described()  # noqa: RUF009 (frozen: one shared empty value)
    contract: Contract | None = None  # its YAML's enforced contract (contracts.py)
    # `config(tags=…)` in its SQL and `config: {tags: …}` in its YAML entry, as dbt merges them
    tags: tuple[str, ...] = ()

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
class Project:
    """Every model, test, source and var of a dbt_like_sql folder, checked for consistency."""

    root: Path
    models: Mapping[str, Model]
    tests: Sequence[DataTest]
    sources: Mapping[tuple[str, str], str]
    vars: Mapping[str, Any]
    # the `sources:` YAML's descriptions, by lake table (the relation a source resolves to)
    source_docs: Mapping[str, Described] = field(default_factory=dict)
    # on-run-start's DuckDB macros, by the hook that makes them: created before any model
    macros: Mapping[str, str] = field(default_factory=dict)
    # dbt_project.yml's `name:`: the package of every node dbt (and the artifacts) name
    name: str = DEFAULT_NAME

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

    def select(
        self, selectors: Iterable[str] | None, exclude: Iterable[str] | None = None
    ) -> list[str]:
        """Models named by dbt's selectors, less those `exclude` names, in build order.

        `name` is the model alone, `name+` adds everything downstream of it, `+name`
        everything upstream; `tag:`, `path:`, `@`, depths, unions and intersections as dbt
        (`selection.select`); no selector means every model.
        """
        return selection.select(self, selectors, exclude)

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
    settings = declarations.read_yaml(root / PROJECT_FILE)
    paths = settings.get("model-paths")
    if paths is not None and list(paths) != list(LAYERS):
        raise ModelError(f"{root / PROJECT_FILE}: model-paths are {list(LAYERS)} (found {paths})")
    # vocab.py's vocabularies win over the copy dbt_project.yml keeps for dbt
    vars_ = {**dict(settings.get("vars") or {}), **vocabulary_vars()}
    macros = _macro_library(root / MACROS)
    ymls = sorted(path for layer in LAYERS for path in (root / layer).glob("*.yml"))
    sources, source_docs = declarations.sources_of(ymls)
    models: dict[str, Model] = {}
    tests: list[DataTest] = []
    for layer in LAYERS:
        for path in sorted((root / layer).glob("*.sql")):
            yml = path.with_suffix(".yml")
            entry = declarations.model_entry(yml, path.stem)
            model = _load_model(path, layer, declarations.described(yml, entry))
            model = replace(model, contract=read_contract(yml, entry, vars_, model.materialized))
            model = replace(model, tags=_tags(model, yml, entry))
            if model.name in models:
                raise ModelError(f"{path}: model {model.name!r} is also {models[model.name].path}")
            models[model.name] = model
            tests.extend(declarations.generic_tests(yml, model.name, entry, vars_, macros))
    for path in sorted((root / "tests").glob("*.sql")):
        template = Template.parse(path, path.read_text(encoding="utf-8"))
        config = declarations.singular_config(path, template.config)
        tests.append(DataTest(path.stem, config, template))
    hooks = _hooks(root / PROJECT_FILE, settings.get("on-run-start") or [], macros)
    name = str(settings.get("name") or DEFAULT_NAME)
    project = Project(root, models, tests, sources, vars_, source_docs, hooks, name)
    _check_references(project)
    project.order()  # raises on a cycle
    return project


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


def _tags(model: Model, yml: Path, entry: Mapping[str, Any]) -> tuple[str, ...]:
    """A model's tags: its SQL's `config(tags=…)` and its YAML's `config: {tags: …}`, each a
    name or a list of names; dbt keeps both."""
    yaml_config = entry.get("config") or {}
    if not isinstance(yaml_config, Mapping):
        raise ModelError(f"{yml}: a model's `config:` is a mapping (found {yaml_config!r})")
    found: list[str] = []
    for where, tags in ((model.path, model.template.config.get("tags")),
                        (yml, yaml_config.get("tags"))):  # fmt: skip
        names = [tags] if isinstance(tags, str) else tags or []
        if not isinstance(names, list) or not all(isinstance(t, str) and t for t in names):
            raise ModelError(f"{where}: tags are a name or a list of names (found {tags!r})")
        found.extend(names)
    return tuple(dict.fromkeys(found))


def _macro_library(folder: Path) -> declarations.Macros:
    """The project's Jinja macros (dbt's `macros/`), by name; a `{% test name(…) %}` block is
    the macro `test_name`, as dbt reads it. Jinja's own parser reads them."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    library: dict[str, Any] = {}
    for path in sorted(folder.glob("*.sql")):
        text = _TEST_BLOCK.sub(r"{%\1 macro test_\2", path.read_text(encoding="utf-8"))
        text = _END_TEST.sub(r"{%\1 endmacro", text)
        try:
            module = environment.from_string(text).module
        except jinja2.TemplateError as error:
            line = getattr(error, "lineno", None)
            raise ModelError(f"{path}{f':{line}' if line else ''}: {error}") from None
        for name in dir(module):
            macro = getattr(module, name)
            if isinstance(macro, jinja2.runtime.Macro):
                library[name] = _as_text(path, macro)
    return library


def _as_text(path: Path, macro: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> str:
        try:
            return str(macro(*args, **kwargs)).strip()
        except jinja2.TemplateError as error:
            raise ModelError(f"{path}: {macro.name}: {error}") from None

    return call


def _hooks(path: Path, hooks: Sequence[str], macros: declarations.Macros) -> dict[str, str]:
    """`on-run-start`: each `{{ macro() }}` returns one statement creating a DuckDB macro,
    which every build runs before its models (`heading_key_text`, say). DuckDB itself says it
    is one: the SQL must parse as one CREATE statement that, run on a scratch connection,
    leaves a macro there."""
    found: dict[str, str] = {}
    for hook in [hooks] if isinstance(hooks, str) else hooks:
        call = _HOOK.fullmatch(hook.strip())
        if not call or call.group(1) not in macros:
            known = ", ".join(sorted(macros)) or "none"
            raise ModelError(
                f"{path}: on-run-start {hook!r} is not {{{{ macro() }}}} of a macro in macros/ "
                f"(macros: {known})"
            )
        sql = macros[call.group(1)]()
        scratch = duckdb.connect()
        try:
            statements = scratch.extract_statements(sql)
            if len(statements) == 1 and statements[0].type == duckdb.StatementType.CREATE:
                scratch.execute(sql)
            if not _created_macro(scratch):
                raise ModelError(f"{path}: on-run-start {hook}: returns one `create or replace "
                                 f"macro … as …` statement (found {sql[:80]!r})")  # fmt: skip
        except duckdb.Error as error:
            raise ModelError(f"{path}: on-run-start {hook} does not run: {error}") from None
        finally:
            scratch.close()
        found[call.group(1)] = sql
    return found


def _created_macro(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the scratch connection now holds a macro of ours (DuckDB's catalogue says)."""
    found = con.sql(
        "SELECT count(*) FROM duckdb_functions() WHERE database_name = 'memory' "
        "AND schema_name = 'main' AND function_type IN ('macro', 'table_macro')"
    ).fetchall()
    return bool(found[0][0])


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
                    f"in the sources: YAML (declared: {declared})"
                )


def _reachable(start: str, edges: Mapping[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _shown(path: Path) -> Path:
    """The path relative to the working directory where it lies below it: shorter messages."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path
