"""A build's run_results.json and manifest.json, in dbt's shape, stored in the warehouse.

`Recorder` hears a build's model and test events; `run_results` and `manifest` make dbt's
two documents of them and of the project; `store` keeps both in `ARTIFACTS_TABLE` on the
build's own connection (replaced with the warehouse, atomically), `write_files` puts them
in the target folder, `read` gives the stored copy back (the report and `listings docs`).
Why and which fields: docs/warehouse.md, "Run artifacts".
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipeline import atomic, config
from pipeline.warehouse.relations import column_types, relation_names
from pipeline.warehouse.results import (
    ARTIFACT_COLUMNS,
    ARTIFACTS_TABLE,
    AUDIT_SCHEMA,
    MANIFEST,
    RUN_RESULTS,
    Event,
    OnEvent,
    failures_relation,
    ignore_event,
)
from pipeline.warehouse.templates import quote

if TYPE_CHECKING:
    from pipeline.warehouse.declarations import DataTest
    from pipeline.warehouse.docs import Relation
    from pipeline.warehouse.project import Model, Project

RUN_RESULTS_SCHEMA = "https://schemas.getdbt.com/dbt/run-results/v6.json"
MANIFEST_SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v12.json"
TARGET = "target"  # the default target folder, beside the warehouse file (dbt's name)
SCHEMA = "main"  # the schema the models are built in
_BUILD_STEPS = ("model", "update", "keep")  # the `Event` steps of a model


def target_folder(db: Path, given: Path | None = None) -> Path:
    """Where a build of `db` writes its documents: `given`, else `config.TARGET_PATH_ENV`,
    else `TARGET` beside `db`."""
    if given is not None:
        return given
    named = config.target_path()
    return Path(named) if named else db.parent / TARGET


def now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """A time as dbt writes it: ISO 8601 in UTC, with a `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Recorder:
    """An `on_event` that keeps each model's and test's event with the time it finished,
    then hands it on; one per build (its `invocation_id`)."""

    def __init__(self, on_event: OnEvent | None = None) -> None:
        self.on_event = on_event or ignore_event
        self.events: list[tuple[Event, datetime]] = []
        self.invocation_id = str(uuid.uuid4())
        self.started_at = now()
        self._started = time.perf_counter()

    def __call__(self, event: Event) -> None:
        if event.step in (*_BUILD_STEPS, "test"):
            self.events.append((event, now()))
        self.on_event(event)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._started

    def metadata(self, schema: str) -> dict[str, Any]:
        return {
            "dbt_schema_version": schema,
            "dbt_version": _version(),
            "generated_at": stamp(now()),
            "invocation_id": self.invocation_id,
            "invocation_started_at": stamp(self.started_at),
            "env": {},
        }


def run_results(
    recorder: Recorder,
    project: Project,
    vars_: Mapping[str, Any],
    *,
    error: str | None = None,
    args: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """dbt's run_results.json of what `recorder` heard: one result per model built (status
    success, or error with `error` as its message) and per test run (pass, warn or fail)."""
    tests = {test.name: test for test in project.tests}
    results = []
    for event, finished in recorder.events:
        if event.step == "test":
            test = tests[event.name]
            results.append(_result(
                event, finished, f"test.{package(project)}.{event.name}", event.status.lower(),
                None, event.rows if event.rows is not None else 0,
                test.template.render(vars_, project.sources), failures_relation(test),
            ))  # fmt: skip
            continue
        model = project.models[event.name]
        ok = event.status == "OK"
        sql = model.template.render(vars_, project.sources, incremental=event.step == "update",
                                    this=model.name)  # fmt: skip
        results.append(_result(
            event, finished, f"model.{package(project)}.{model.name}",
            "success" if ok else "error", "OK" if ok else (error or "ERROR"), None, sql,
            relation(model.name),
        ))  # fmt: skip
    return {
        "metadata": recorder.metadata(RUN_RESULTS_SCHEMA),
        "results": results,
        "elapsed_time": recorder.elapsed,
        "args": {"which": "build", "invocation_command": "listings build", **(args or {})},
    }


def _result(
    event: Event,
    finished: datetime,
    unique_id: str,
    status: str,
    message: str | None,
    failures: int | None,
    sql: str,
    relation_name: str | None,
) -> dict[str, Any]:
    started = stamp(finished - timedelta(seconds=event.seconds))
    response: dict[str, Any] = {"_message": "OK" if status != "error" else "ERROR"}
    if event.rows is not None and event.step != "test":
        response["rows_affected"] = event.rows
    return {
        "status": status,
        "timing": [
            {"name": "compile", "started_at": started, "completed_at": started},
            {"name": "execute", "started_at": started, "completed_at": stamp(finished)},
        ],
        "thread_id": threading.current_thread().name,
        "execution_time": event.seconds,
        "adapter_response": response,
        "message": message,
        "failures": failures,
        "unique_id": unique_id,
        "compiled": True,
        "compiled_code": sql,
        "relation_name": relation_name,
        "batch_results": None,
    }


def relation(name: str) -> str:
    """A model's relation as dbt's relation_name names it (schema-qualified)."""
    return f"{quote(SCHEMA)}.{quote(name)}"


def package(project: Project) -> str:
    """The project's name (dbt_project.yml's `name:`): the package of every unique_id."""
    return project.name


def manifest(
    recorder: Recorder, project: Project, vars_: Mapping[str, Any], catalogue: Sequence[Relation]
) -> dict[str, Any]:
    """dbt's manifest.json of the project: every model and test (nodes), lake table
    (sources) and on-run-start macro, with the columns and descriptions of `catalogue`
    (`docs.catalogue` of the warehouse built: types as built, inherited descriptions)."""
    name = package(project)
    described = {relation.name: relation for relation in catalogue}
    sources = {
        f"source.{name}.{source}.{table}": _source(project, name, source, table, described)
        for (source, table) in project.sources
    }
    nodes: dict[str, dict[str, Any]] = {}
    for model_name in project.order():
        model = project.models[model_name]
        nodes[f"model.{name}.{model_name}"] = _model(project, name, model, vars_, described)
    for test in project.tests:
        nodes[f"test.{name}.{test.name}"] = _test(project, name, test, vars_)
    parents = {uid: list(node["depends_on"]["nodes"]) for uid, node in nodes.items()}
    parent_map = {**{uid: [] for uid in sources}, **parents}
    child_map: dict[str, list[str]] = {uid: [] for uid in parent_map}
    for child, found in parents.items():
        for parent in found:
            child_map[parent].append(child)
    run_started = recorder.started_at
    return {
        "metadata": {
            **recorder.metadata(MANIFEST_SCHEMA),
            "project_name": name,
            "project_id": hashlib.md5(name.encode(), usedforsecurity=False).hexdigest(),
            "user_id": None,
            "send_anonymous_usage_stats": False,
            "adapter_type": "duckdb",
            "quoting": {"database": True, "schema": True, "identifier": True, "column": None},
            "run_started_at": run_started.isoformat(),
        },
        "nodes": nodes,
        "sources": sources,
        "macros": {
            f"macro.{name}.{hook}": _macro(project, name, hook, sql)
            for hook, sql in project.macros.items()
        },
        "docs": {},
        "exposures": {},
        "metrics": {},
        "groups": {},
        "selectors": {},
        "disabled": {},
        "parent_map": parent_map,
        "child_map": {uid: sorted(children) for uid, children in child_map.items()},
        "group_map": {},
        "saved_queries": {},
        "semantic_models": {},
        "unit_tests": {},
        "functions": {},
    }


def _columns(relation: Relation | None) -> dict[str, dict[str, Any]]:
    """dbt's columns of a relation, each with its type as built (None when not built) and
    where its description comes from (`meta.described_by`)."""
    return {
        column.name: {
            "name": column.name,
            "description": column.description,
            "meta": {"described_by": column.described_by} if column.described_by else {},
            "data_type": column.type or None,
            "constraints": [],
            "quote": None,
            "config": {"meta": {}, "tags": []},
            "tags": [],
            "granularity": None,
            "doc_blocks": [],
        }
        for column in (relation.columns if relation is not None else ())
    }


def _common(project: Project, package_: str, kind: str, name: str, path: Path) -> dict[str, Any]:
    """The keys every dbt node starts with."""
    original = _in_project(project, path)
    return {
        "database": None,
        "schema": SCHEMA,
        "name": name,
        "resource_type": kind,
        "package_name": package_,
        "path": original.split("/", 1)[-1] if kind == "model" else f"{name}.sql",
        "original_file_path": original,
        "unique_id": f"{kind}.{package_}.{name}",
        "fqn": [package_, name],
        "alias": name,
    }


def _in_project(project: Project, path: Path) -> str:
    """A project file relative to the project's folder, as dbt's original_file_path."""
    try:
        return path.resolve().relative_to(project.root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _checksum(text: str) -> dict[str, str]:
    return {"name": "sha256", "checksum": hashlib.sha256(text.encode()).hexdigest()}


def _refs(names: Sequence[str]) -> list[dict[str, Any]]:
    return [{"name": name, "package": None, "version": None} for name in names]


def _model(
    project: Project,
    package_: str,
    model: Model,
    vars_: Mapping[str, Any],
    described: Mapping[str, Relation],
) -> dict[str, Any]:
    relation_ = described.get(model.name)
    yml = model.path.with_suffix(".yml")
    unique_key = list(model.unique_key)
    enforced = {"enforced": model.contract is not None, "alias_types": True}
    config = {
        **_MODEL_CONFIG,
        "materialized": model.materialized,
        "unique_key": (unique_key[0] if len(unique_key) == 1 else unique_key) or None,
        "tags": list(model.tags),
        "contract": enforced,
        "on_schema_change": "fail" if model.contract is not None else "ignore",
    }
    return {
        **_common(project, package_, "model", model.name, model.path),
        "checksum": _checksum(model.template.text),
        "config": config,
        "tags": list(model.tags),
        "description": model.described.description,
        "columns": _columns(relation_),
        "meta": {
            "layer": model.layer,
            "grain": model.grain,
            "path": project.relative_path(model.path),
        },
        "group": None,
        "docs": {"show": True, "node_color": None},
        "patch_path": f"{package_}://{_in_project(project, yml)}" if yml.exists() else None,
        "build_path": None,
        "unrendered_config": {k: v for k, v in model.template.config.items()},
        "created_at": time.time(),
        "relation_name": relation(model.name),
        "raw_code": model.template.text,
        "doc_blocks": [],
        "language": "sql",
        "refs": _refs(model.refs),
        "sources": [list(source) for source in model.template.sources],
        "metrics": [],
        "functions": [],
        "depends_on": {
            "macros": [],
            "nodes": _depends_on(package_, model.refs, model.template.sources),
        },
        "compiled_path": None,
        "compiled": True,
        "compiled_code": model.template.render(vars_, project.sources),
        "extra_ctes_injected": True,
        "extra_ctes": [],
        "contract": {**enforced, "checksum": None},
        "access": "protected",
        "constraints": [],
        "version": None,
        "latest_version": None,
        "deprecation_date": None,
        "primary_key": unique_key,
        "time_spine": None,
    }


def _depends_on(
    package_: str, refs: Sequence[str], sources: Sequence[tuple[str, str]]
) -> list[str]:
    return [
        *(f"model.{package_}.{ref}" for ref in dict.fromkeys(refs)),
        *(f"source.{package_}.{source}.{table}" for source, table in dict.fromkeys(sources)),
    ]


def _test(
    project: Project, package_: str, test: DataTest, vars_: Mapping[str, Any]
) -> dict[str, Any]:
    config = test.config
    kind = test.name.split("__", 1)[0] if test.model is not None else None
    macros = [] if kind is None else [
        f"macro.{'dbt' if kind in _BUILT_IN else package_}.test_{kind}"
    ]  # fmt: skip
    node = {
        **_common(project, package_, "test", test.name, test.template.path),
        "schema": AUDIT_SCHEMA,
        "checksum": _checksum(test.template.text) if kind is None else {"name": "none",
                                                                         "checksum": ""},
        "config": {
            **_TEST_CONFIG,
            "tags": list(config.tags),
            "severity": config.severity,
            "store_failures": config.store_failures or None,
            "where": config.where,
            "warn_if": config.warn_if,
            "error_if": config.error_if,
        },
        "tags": list(config.tags),
        "description": "",
        "columns": {},
        "meta": {"grain": _grain(test), "path": project.relative_path(test.template.path)},
        "group": None,
        "docs": {"show": True, "node_color": None},
        "patch_path": None,
        "build_path": None,
        "unrendered_config": {},
        "created_at": time.time(),
        "relation_name": failures_relation(test),
        "raw_code": test.template.text,
        "doc_blocks": [],
        "language": "sql",
        "refs": _refs(test.refs),
        "sources": [list(source) for source in test.template.sources],
        "metrics": [],
        "functions": [],
        "depends_on": {"macros": macros,
                       "nodes": _depends_on(package_, test.refs, test.template.sources)},
        "compiled_path": None,
        "compiled": True,
        "compiled_code": test.template.render(vars_, project.sources),
        "extra_ctes_injected": True,
        "extra_ctes": [],
        "contract": {"enforced": False, "alias_types": True, "checksum": None},
    }  # fmt: skip
    if test.model is not None:
        node |= {
            "column_name": test.column,
            "file_key_name": f"models.{test.model}",
            "attached_node": f"model.{package_}.{test.model}",
            "test_metadata": {
                "name": kind,
                "kwargs": {"column_name": test.column,
                           "model": f"{{{{ get_where_subquery(ref('{test.model}')) }}}}"},
                "namespace": None,
            },
        }  # fmt: skip
    return node


def _grain(test: DataTest) -> str | None:
    from pipeline.warehouse.templates import grain_of

    return grain_of(test.template.text)


def _source(
    project: Project,
    package_: str,
    source: str,
    table: str,
    described: Mapping[str, Relation],
) -> dict[str, Any]:
    relation_ = described.get(table)
    docs = project.source_docs.get(table)
    path = _sources_file(project, docs.declared_in) if docs is not None else ""
    freshness = {"warn_after": {"count": None, "period": None},
                 "error_after": {"count": None, "period": None}, "filter": None}  # fmt: skip
    return {
        "database": None,
        "schema": SCHEMA,
        "name": table,
        "resource_type": "source",
        "package_name": package_,
        "path": path,
        "original_file_path": path,
        "unique_id": f"source.{package_}.{source}.{table}",
        "fqn": [package_, source, table],
        "source_name": source,
        "source_description": "",
        "loader": "",
        "identifier": table,
        "quoting": {"database": None, "schema": None, "identifier": None, "column": None},
        "loaded_at_field": None,
        "loaded_at_query": None,
        "freshness": freshness,
        "external": None,
        "description": relation_.description if relation_ is not None else "",
        "columns": _columns(relation_),
        "meta": {"path": relation_.path} if relation_ is not None else {},
        "source_meta": {},
        "tags": [],
        "config": {
            "enabled": True,
            "event_time": None,
            "freshness": freshness,
            "loaded_at_field": None,
            "loaded_at_query": None,
            "meta": {},
            "tags": [],
            "static_analysis": None,
        },
        "patch_path": None,
        "unrendered_config": {
            "loaded_at_field": None,
            "loaded_at_query": None,
            "meta": {},
            "tags": [],
        },
        "relation_name": relation(table),
        "created_at": time.time(),
        "unrendered_database": None,
        "unrendered_schema": SCHEMA,
        "doc_blocks": [],
    }


def _sources_file(project: Project, file_name: str) -> str:
    """The sources YAML (`declared_in` holds its file name) relative to the project."""
    found = sorted(project.root.rglob(file_name))
    return _in_project(project, found[0]) if found else file_name


def _macro(project: Project, package_: str, name: str, sql: str) -> dict[str, Any]:
    path = f"macros/{name}.sql"
    return {
        "name": name,
        "resource_type": "macro",
        "package_name": package_,
        "path": path,
        "original_file_path": path,
        "unique_id": f"macro.{package_}.{name}",
        "macro_sql": sql,
        "depends_on": {"macros": []},
        "description": "",
        "meta": {},
        "docs": {"show": True, "node_color": None},
        "config": {"meta": {}, "docs": {"show": True, "node_color": None}},
        "patch_path": None,
        "arguments": [],
        "created_at": time.time(),
        "supported_languages": None,
    }


# dbt's defaults of a model's and a test's config (dbt-core 1.11), which the project keeps.
_MODEL_CONFIG: dict[str, Any] = {
    "enabled": True, "alias": None, "schema": None, "database": None, "tags": [], "meta": {},
    "group": None, "static_analysis": None, "materialized": "view",
    "incremental_strategy": None, "batch_size": None, "lookback": 1, "begin": None,
    "persist_docs": {}, "post-hook": [], "pre-hook": [], "quoting": {}, "column_types": {},
    "full_refresh": None, "unique_key": None, "on_schema_change": "ignore",
    "on_configuration_change": "apply", "grants": {}, "packages": [],
    "docs": {"show": True, "node_color": None},
    "contract": {"enforced": False, "alias_types": True}, "event_time": None,
    "concurrent_batches": None, "access": "protected", "freshness": None,
}  # fmt: skip
_TEST_CONFIG: dict[str, Any] = {
    "enabled": True, "alias": None, "schema": "dbt_test__audit", "database": None, "tags": [],
    "meta": {}, "group": None, "static_analysis": None, "materialized": "test",
    "severity": "error", "store_failures": None, "store_failures_as": None, "where": None,
    "limit": None, "fail_calc": "count(*)", "warn_if": "!=0", "error_if": "!=0",
}  # fmt: skip
_BUILT_IN = ("unique", "not_null", "accepted_values", "relationships")


def _version() -> str:
    try:
        return f"listings {metadata.version('listings')}"
    except metadata.PackageNotFoundError:
        return "listings"


def store(
    con: duckdb.DuckDBPyConnection,
    documents: Mapping[str, Mapping[str, Any]],
    *,
    keep_others: bool = False,
) -> bool:
    """Store the documents in `ARTIFACTS_TABLE` on `con`, in place of what it held; whether
    the table was created (its comments are then to write).

    With `keep_others` (a build of part of the warehouse), run_results keeps the earlier
    results of the models and tests this build did not run: the warehouse still holds what
    they built and found (added to `documents`' run_results, so the files say the same).
    """
    if keep_others and RUN_RESULTS in documents:
        earlier = (read(con) or {}).get(RUN_RESULTS)
        if earlier is not None:
            ran = {result["unique_id"] for result in documents[RUN_RESULTS]["results"]}
            kept = [r for r in earlier.get("results", []) if r.get("unique_id") not in ran]
            documents[RUN_RESULTS]["results"][:0] = kept  # type: ignore[index]
    types = {name: type_ for name, type_, _ in ARTIFACT_COLUMNS}
    rows = [(name, json.dumps(body, ensure_ascii=False)) for name, body in documents.items()]
    created = not (
        ARTIFACTS_TABLE in relation_names(con) and column_types(con, ARTIFACTS_TABLE) == types
    )
    table = quote(ARTIFACTS_TABLE)
    if created:
        columns = ", ".join(f"{quote(name)} {type_}" for name, type_ in types.items())
        con.execute(f"CREATE OR REPLACE TABLE {table} ({columns})")
    else:
        con.execute(f"DELETE FROM {table}")
    con.executemany(f"INSERT INTO {table} VALUES (?, ?)", rows)
    return created


def read(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]] | None:
    """The documents the build that wrote `con`'s warehouse stored, by file name; None for a
    warehouse built before builds stored them."""
    try:
        rows = con.sql(f"SELECT name, body::VARCHAR FROM {quote(ARTIFACTS_TABLE)}").fetchall()
    except duckdb.CatalogException:
        return None
    return {name: json.loads(body) for name, body in rows}


def write_files(folder: Path, documents: Mapping[str, Mapping[str, Any]]) -> None:
    """Write each document into `folder` (made if missing), each file whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in documents.items():
        atomic.write_text(folder / name, json.dumps(body, ensure_ascii=False, indent=2))


def record(
    con: duckdb.DuckDBPyConnection,
    recorder: Recorder,
    project: Project,
    *,
    error: str | None = None,
    keep_others: bool = False,
    args: Mapping[str, Any] | None = None,
) -> tuple[dict[str, dict[str, Any]], bool]:
    """Make both documents of a build on `con` (finished, or failed with `error`) and
    `store` them there; the documents, and whether `ARTIFACTS_TABLE` was created."""
    from pipeline.warehouse import docs  # docs names this module's table: imported late

    catalogue = docs.catalogue(project, docs.built_columns(con))
    documents = {
        RUN_RESULTS: run_results(recorder, project, project.vars, error=error, args=args),
        MANIFEST: manifest(recorder, project, project.vars, catalogue),
    }
    return documents, store(con, documents, keep_others=keep_others)
