"""Build a project's models into a DuckDB connection, in dependency order, then test them.

`run` builds (an incremental model is updated in place: `_update_incremental`) and runs the
data tests on what it built, `run_tests` runs them alone; both report each step to an
`on_event` callback. `database.build` calls `run`; the outcomes are `results`' classes.
Incremental builds: docs/warehouse.md, "Incremental builds".
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import duckdb
import polars as pl

from pipeline.errors import ModelError
from pipeline.warehouse import contracts
from pipeline.warehouse.declarations import DataTest
from pipeline.warehouse.project import PROJECT_FILE, Model, Project
from pipeline.warehouse.relations import (
    checkpoint,
    column_names,
    create_relation,
    relation_names,
    relation_types,
)
from pipeline.warehouse.results import (
    AUDIT_SCHEMA,
    RESULTS_TABLE,
    SAMPLE_ROWS,
    Event,
    OnEvent,
    RunResult,
    TestResult,
    failures_relation,
    ignore_event,
    raise_failures,
    store_results,
)
from pipeline.warehouse.templates import changes_relation, inserted_relation, literal, quote


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
    emit = on_event or ignore_event
    values = {**project.vars, **(vars_ or {})}
    create_macros(con, project)
    names = project.select(select)
    if with_upstream and select:
        wanted = set(names) | project.upstream(names)
        names = [name for name in project.order() if name in wanted]
    result = RunResult()
    existing = relation_types(con) if incremental else {}
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
            if model.contract is not None:  # before anything reads it
                contracts.check(con, model.contract)
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
    available = built | relation_names(con)
    tests = [t for t in project.tests if built & set(t.refs) and set(t.refs) <= available]
    result.tests = _run_each(con, tests, values, project.sources, emit, scopes, changed)
    store_failures(con, result.tests, values, project.sources)
    # a build over part of a warehouse keeps the results of the tests it did not run
    partial = bool(select) and not with_upstream
    if store_results(con, project, result.tests, values, keep_others=partial):
        result.created.add(RESULTS_TABLE)
    raise_failures(result.tests)
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
            where = project.root / PROJECT_FILE
            raise ModelError(f"{where}: on-run-start {name}() failed: {error}") from None


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
    available = relation_names(con)
    wanted = [t for t in project.tests if chosen & set(t.refs)]
    runnable = [t for t in wanted if _reads(t, project) <= available]
    missing = [t for t in wanted if t not in runnable]
    results = _run_each(con, runnable, values, project.sources, on_event or ignore_event)
    raise_failures(results)
    return RunResult(tests=results), missing


def store_failures(
    con: duckdb.DuckDBPyConnection,
    results: Sequence[TestResult],
    values: Mapping[str, Any],
    sources: Mapping[tuple[str, str], str],
) -> None:
    """Keep the failing rows of each test with `store_failures` in `AUDIT_SCHEMA.<test>`
    (dbt's place for them), replacing the last build's. The test runs whole here, in an
    update too (where its result read only the changed rows): the table holds every failing
    row of the warehouse as it now is, empty when the test passes."""
    for result in results:
        data_test = result.test
        if not data_test.config.store_failures:
            continue
        if not _audit_schema_exists(con):
            con.execute(f"CREATE SCHEMA {quote(AUDIT_SCHEMA)}")
        sql = data_test.template.render(values, sources)
        try:
            kept = failures_relation(data_test)
            con.execute(f"CREATE OR REPLACE TABLE {kept} AS\n{sql}")
            _comment_failures(con, data_test.name, kept)
        except duckdb.Error as error:
            raise ModelError(
                f"{data_test.template.path}: storing the failures of {data_test.name}: {error}"
            ) from None


def _comment_failures(con: duckdb.DuckDBPyConnection, test: str, kept: str) -> None:
    """Describe a table of failing rows, as every relation of the warehouse is described."""
    what = f"as the data test {test} returns them (`listings compile {test}` prints its query)"
    table = literal(f"Every failing row of the last build, {what}.")
    statements = [f"COMMENT ON TABLE {kept} IS {table}"]
    for column, *_ in con.sql(f"SELECT * FROM {kept} LIMIT 0").description or []:
        text = literal(f"The offending rows' {column}, {what}.")
        statements.append(f"COMMENT ON COLUMN {kept}.{quote(column)} IS {text}")
    con.execute(";\n".join(statements))


def _audit_schema_exists(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database() "
        "AND schema_name = ?",
        [AUDIT_SCHEMA],
    ).fetchall()
    return bool(found[0][0])


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
    `raise_failures` raises. A test whose `changes()` this run kept (`changed`) runs with
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
        if columns is None and set(model.unique_key) <= column_names(con, relation):
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
