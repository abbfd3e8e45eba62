"""The data tests' outcomes for the report and a run's summary, as the build stored them.

Read from the run_results.json and manifest.json the build stored in the warehouse it wrote
(`pipeline.warehouse.artifacts`), with the offending rows of `results.RESULTS_TABLE`: a
failed build's failures (`NAME.failed.duckdb`), an update's findings in the rows it changed.
A warehouse built before builds stored artifacts has none, and the report says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipeline.warehouse import artifacts
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
    kept_in: str | None = None  # the table holding every failing row (`store_failures`)


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
    """The outcomes the build that wrote `con`'s warehouse stored: each test's result in its
    run_results.json, what the test is in its manifest.json (`artifacts.read`), and the
    offending rows it kept in `RESULTS_TABLE` (run_results has no field for them); none,
    with the reason, for a warehouse built before builds stored their artifacts."""
    documents = artifacts.read(con)
    if documents is None or artifacts.RUN_RESULTS not in documents:
        return TestRun([], NO_ARTIFACTS)
    nodes = documents.get(artifacts.MANIFEST, {}).get("nodes", {})
    kept = _kept_rows(con)
    outcomes = []
    for result in documents[artifacts.RUN_RESULTS]["results"]:
        unique_id = result["unique_id"]
        if not unique_id.startswith("test."):
            continue
        node = nodes.get(unique_id, {})
        name = node.get("name") or unique_id.split(".", 2)[-1]
        status = str(result["status"]).upper()
        examples, incremental = kept.get(name, ("[]", False))
        reads = [parent.rsplit(".", 1)[-1] for parent in node.get("depends_on", {}).get("nodes", [])
                 if parent.startswith("model.")]  # fmt: skip
        attached = node.get("attached_node")
        outcomes.append(
            Outcome(
                name=name,
                model=attached.rsplit(".", 1)[-1] if attached else ", ".join(sorted(reads)),
                severity=str(node.get("config", {}).get("severity", "error")).lower(),
                status=status,
                offending_rows=result.get("failures") or 0,
                seconds=result.get("execution_time") or 0.0,
                path=node.get("meta", {}).get("path") or node.get("original_file_path", ""),
                sql=(result.get("compiled_code") or "").strip(),
                examples=_examples(examples) if status != "PASS" else pl.DataFrame(),
                incremental=incremental,
                kept_in=result.get("relation_name"),
            )
        )
    outcomes.sort(key=lambda o: (STATUS_ORDER.index(o.status), o.model, o.name))
    return TestRun(outcomes)


NO_ARTIFACTS = (
    "This warehouse holds no data-test results: it was built before builds stored their "
    f"run artifacts ({artifacts.RUN_RESULTS}). Rebuild it (`listings build`) to see them here."
)


def _kept_rows(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, bool]]:
    """Each test's offending rows (JSON) and whether it read only an update's changes, as
    `RESULTS_TABLE` keeps them; {} without the table."""
    try:
        rows = con.sql(
            f"SELECT unique_id, failing_rows, is_incremental FROM {quote(RESULTS_TABLE)}"
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    return {name: (failing_rows, incremental) for name, failing_rows, incremental in rows}


def _examples(failing_rows: str) -> pl.DataFrame:
    """The first `EXAMPLE_ROWS` of the offending rows the build stored (a JSON array of
    objects, each in the query's column order)."""
    rows = json.loads(failing_rows)[:EXAMPLE_ROWS]
    return pl.DataFrame(rows) if rows else pl.DataFrame()
