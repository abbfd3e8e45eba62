"""A build's outcomes: each data test's (`TestResult`), the run's (`RunResult`), the progress
`Event`s the runner reports, and the table a build stores its tests' outcomes in.

`store_results` writes `RESULTS_TABLE` (columns as dbt's run_results names them) into the
warehouse the build writes, on the build's own connection, so the report
(`pipeline.report.data_tests`) reads the outcomes of the build that wrote the warehouse.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from pipeline import vocab
from pipeline.errors import DataTestFailure
from pipeline.warehouse.declarations import meets
from pipeline.warehouse.relations import column_types, create_relation, relation_names
from pipeline.warehouse.templates import enum_type, quote

if TYPE_CHECKING:
    from pipeline.warehouse.declarations import DataTest
    from pipeline.warehouse.project import Project

SAMPLE_ROWS = 10


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
        """dbt's word for the outcome: FAIL where an `error` test's count of failing rows
        meets its `error_if`, else WARN where it meets `warn_if`, else PASS."""
        config = self.test.config
        if config.severity == "error" and meets(self.failing_count, config.error_if):
            return "FAIL"
        return "WARN" if meets(self.failing_count, config.warn_if) else "PASS"

    @property
    def passed(self) -> bool:
        return self.status == "PASS"

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
        return [r for r in self.tests if r.status == "WARN"]

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


def ignore_event(event: Event) -> None:
    """The default `on_event`: a build that nobody watches."""


def raise_failures(results: Sequence[TestResult]) -> None:
    """Raise `DataTestFailure` if any test failed (an `error` test whose rows meet its
    `error_if`)."""
    failures = [r for r in results if r.status == "FAIL"]
    if failures:
        raise DataTestFailure(failures)


# The table a build stores its data tests' outcomes in, beside the models (written in the
# same build, so it is replaced with the warehouse, atomically): what the report reads.
RESULTS_TABLE = "_test_results"
# The schema a test with `store_failures` keeps its failing rows in, one table per test (dbt's).
AUDIT_SCHEMA = "main_dbt_test__audit"  # dbt's: the target schema (main), then _dbt_test__audit
# The run artifacts a build writes in dbt's shape (`pipeline.warehouse.artifacts`).
RUN_RESULTS, MANIFEST = "run_results.json", "manifest.json"
# The table a build stores both documents in, beside `_test_results` (written in the same
# build, so replaced with the warehouse, atomically): what the report and docs page read.
ARTIFACTS_TABLE = "_artifacts"
ARTIFACT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("name", "VARCHAR", f"The document's file name: {RUN_RESULTS} or {MANIFEST}."),
    ("body", "JSON",
     "The document, in dbt's shape (run-results v6, manifest v12), as the build that wrote "
     "this warehouse wrote it into its target folder."),
)  # fmt: skip
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
    ("relation_name", "VARCHAR",
     f"Where its failing rows are kept (`store_failures`): a table of the {AUDIT_SCHEMA} "
     "schema, every failing row of the build; null for a test that does not keep them."),
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
            "relation_name": failures_relation(result.test),
        }
        for result in results
    ]
    types = {name: _stored_type(type_) for name, type_, _ in RESULT_COLUMNS}
    schema = {name: _POLARS.get(type_, pl.String) for name, type_ in types.items()}
    selected = ", ".join(f"CAST({quote(name)} AS {type_}) AS {quote(name)}"
                         for name, type_ in types.items())  # fmt: skip
    con.register("__results", pl.DataFrame(rows, schema=schema, orient="row").to_arrow())
    try:
        same = RESULTS_TABLE in relation_names(con) and column_types(con, RESULTS_TABLE) == types
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


def failures_relation(test: DataTest) -> str | None:
    """The table a test with `store_failures` keeps its failing rows in, as SQL names it."""
    return f"{quote(AUDIT_SCHEMA)}.{quote(test.name)}" if test.config.store_failures else None


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
