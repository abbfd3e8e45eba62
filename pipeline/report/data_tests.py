"""The data tests' outcomes for the report and a run's summary, as the build stored them.

A build stores every test it ran in the warehouse it writes (`results.store_results`, the
table `results.RESULTS_TABLE`), so the report shows them without running a test again: a
failed build's failures (`NAME.failed.duckdb`), an update's findings in the rows it
changed. A warehouse built before builds stored results has none, and the report says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipeline.warehouse.results import RESULTS_TABLE
from pipeline.warehouse.templates import quote

EXAMPLE_ROWS = 3  # offending rows shown per test that warned or failed
STATUS_ORDER = ("FAIL", "WARN", "PASS")  # worst first, as the table lists them


@dataclass(frozen=True)
class Outcome:
    """One data test as the report shows it."""

    name: str
    model: str  # the model a generic test is declared on, or what a singular test reads
    severity: str  # error or warn
    status: str  # one of STATUS_ORDER
    offending_rows: int
    seconds: float
    path: str  # the file that declares it
    sql: str  # the query it runs: its offending rows
    examples: pl.DataFrame = field(default_factory=pl.DataFrame)
    incremental: bool = False  # it read the rows an update changed, not every row


@dataclass(frozen=True)
class TestRun:
    """Every test's outcome, worst first; `problem` says why there are none."""

    __test__ = False  # not a pytest test class, despite the name

    outcomes: list[Outcome]
    problem: str | None = None

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def seconds(self) -> float:
        return sum(outcome.seconds for outcome in self.outcomes)

    @property
    def incremental(self) -> int:
        """How many tests read only the rows an update changed."""
        return sum(outcome.incremental for outcome in self.outcomes)


def read(con: duckdb.DuckDBPyConnection) -> TestRun:
    """The outcomes the build that wrote `con`'s warehouse stored; none, with the reason,
    when it stored none."""
    table = quote(RESULTS_TABLE)
    try:
        stored = con.sql(
            f"SELECT unique_id, model, depends_on, severity, status, failures, execution_time, "
            f"is_incremental, failing_rows, compiled_code, original_file_path FROM {table}"
        ).fetchall()
    except duckdb.CatalogException:
        return TestRun(
            [],
            "This warehouse holds no data-test results: it was built before builds stored "
            "them. Rebuild it (`listings build`) to see them here.",
        )
    outcomes = [
        Outcome(
            name=name,
            model=model or ", ".join(sorted(depends_on)),
            severity=severity,
            status=status.upper(),
            offending_rows=failures,
            seconds=seconds,
            path=path,
            sql=sql,
            examples=_examples(failing_rows) if status != "pass" else pl.DataFrame(),
            incremental=incremental,
        )
        for (name, model, depends_on, severity, status, failures, seconds, incremental,
             failing_rows, sql, path) in stored
    ]  # fmt: skip
    outcomes.sort(key=lambda o: (STATUS_ORDER.index(o.status), o.model, o.name))
    return TestRun(outcomes)


def _examples(failing_rows: str) -> pl.DataFrame:
    """The first `EXAMPLE_ROWS` of the offending rows the build stored (a JSON array of
    objects, each in the query's column order)."""
    rows = json.loads(failing_rows)[:EXAMPLE_ROWS]
    return pl.DataFrame(rows) if rows else pl.DataFrame()
