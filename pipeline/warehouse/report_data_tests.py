"""The data tests' outcomes for the report: the project's tests re-run on the warehouse as it is.

A build prints each test's PASS / WARN / FAIL but does not store them in the warehouse, so
the report runs the same tests again (`models.run_tests`, read-only: every test only
selects). On an unchanged warehouse that gives the build's outcomes, and it also reports
on a failed build kept for inspection (`NAME.failed.duckdb`), whose failing tests are the
point. The tests are the current checkout's `dbt_like_sql/`: a report written by a newer
checkout tests an older warehouse by the newer rules, and says which tests could not run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipeline.errors import DataTestFailure, ModelError
from pipeline.warehouse import models

EXAMPLE_ROWS = 3  # offending rows shown per test that warned or failed
STATUS_ORDER = ("FAIL", "WARN", "NOT RUN", "PASS")  # worst first, as the table lists them


@dataclass(frozen=True)
class Outcome:
    """One data test as the report shows it."""

    name: str
    model: str  # the model a generic test is declared on, or what a singular test reads
    severity: str  # error or warn
    status: str  # one of STATUS_ORDER
    offending_rows: int | None  # None when it did not run
    seconds: float | None
    path: str  # the file that declares it
    sql: str  # the query it runs: its offending rows
    examples: pl.DataFrame = field(default_factory=pl.DataFrame)


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
        return sum(outcome.seconds or 0.0 for outcome in self.outcomes)


def run(con: duckdb.DuckDBPyConnection) -> TestRun:
    """Run the project's data tests against `con`; a broken project is a `problem`, not a raise.

    `models.run_tests` raises on a failing `error` test after running them all, so each
    test's outcome is taken from the event it reports as it finishes.
    """
    try:
        project = models.load_project()
    except ModelError as error:
        return TestRun([], f"the SQL project could not be read: {error}")
    events: list[models.Event] = []
    try:
        models.run_tests(con, project, on_event=events.append)
    except DataTestFailure:
        pass  # its failures are among the events
    except duckdb.Error as error:
        return TestRun([], f"the data tests could not run: {error}")
    ran = {event.name: event for event in events}
    outcomes = []
    for test in project.tests:
        event = ran.get(test.name)
        sql = project.compile(test.name)
        status = event.status if event is not None else "NOT RUN"
        examples = pl.DataFrame()
        if status in ("WARN", "FAIL"):
            examples = con.sql(f"SELECT * FROM (\n{sql}\n) LIMIT {EXAMPLE_ROWS}").pl()
        outcomes.append(
            Outcome(
                name=test.name,
                model=test.model or ", ".join(sorted(test.refs)),
                severity=test.severity,
                status=status,
                offending_rows=event.rows if event is not None else None,
                seconds=event.seconds if event is not None else None,
                path=str(_shown(test.template.path)),
                sql=sql.strip(),
                examples=examples,
            )
        )
    outcomes.sort(key=lambda o: (STATUS_ORDER.index(o.status), o.model, o.name))
    return TestRun(outcomes)


def _shown(path: Path) -> Path:
    """A test's file relative to the project's parent (`dbt_like_sql/marts/x.yml`) if it can be."""
    try:
        return path.resolve().relative_to(models.DEFAULT_PROJECT.parent)
    except ValueError:
        return path
