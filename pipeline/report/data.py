"""What the report shows, read from a warehouse: the queries in `queries/`, run once.

Every number comes from a mart (`dim_documents`, `fct_query_snapshots`,
`fct_listing_appearances`, `rpt_rejects`, `rpt_data_quality`) or from the lake tables as the
build loaded them, never from the lake's files, so the report and `listings sql` agree. Each
query is kept with its text and parameters (`Query`): the page shows the SQL behind every
chart and table, so a reader can rerun it with `listings sql`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipeline.errors import ReportError
from pipeline.report import data_tests
from pipeline.warehouse import database

# The queries behind the report, one .sql file each, beside this module.
QUERIES = Path(__file__).with_name("queries")
REQUIRED = (
    "dim_documents",
    "fct_listing_appearances",
    "fct_query_snapshots",
    "rpt_rejects",
    "rpt_data_quality",
)

TOP_REASONS = 10  # reject reasons charted
TOP_FILE_TYPES = 10  # file types named; the rest are 'other'
MOST_SEEN = 15  # documents in the most-seen table
FINDING_EXAMPLES = 3  # examples shown per kind of finding
MAX_PANELS = 60  # queries drawn as small multiples; every query is in the table
MOVERS = 3  # documents shown per query climbing, and as many falling
MOVING_QUERIES = 20  # queries whose rank movement is shown, largest moves first
MAX_QUERY_ROWS = 200  # rows of the per-query table

# Periods of the time charts, by the span of the fetches: a bar or a point per period stays
# wide enough to see and point at (tens to ~100 per chart), however long the history.
VOLUME_DAILY_UP_TO_DAYS = 120
VOLUME_WEEKLY_UP_TO_DAYS = 800
TREND_DAILY_UP_TO_DAYS = 60
TREND_WEEKLY_UP_TO_DAYS = 420


@dataclass(frozen=True)
class Query:
    """One report query: its file's name, its SQL text, the parameters it ran with."""

    name: str
    sql: str
    params: dict[str, object] = field(default_factory=dict)

    @property
    def shown(self) -> str:
        """The SQL as a reader would rerun it: the file, then the parameters it ran with."""
        params = "".join(f"\n-- ${key} = {value!r}" for key, value in self.params.items())
        return f"-- pipeline/report/queries/{self.name}.sql{params}\n{self.sql.strip()}"


@dataclass(frozen=True)
class Result:
    """A query and the frame it returned."""

    query: Query
    frame: pl.DataFrame


@dataclass(frozen=True)
class Provenance:
    """Where the numbers come from: the report's own facts, not the data's."""

    generated_at: datetime  # UTC
    warehouse: Path  # absolute
    warehouse_built_at: datetime | None  # the file's modification time, UTC
    lake: str | None  # as the build named it; None when the warehouse does not record it


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, as small frames read from the warehouse."""

    provenance: Provenance
    totals: dict[str, Any]
    unit: str  # the period of the volume charts: day, week or month
    trend_unit: str  # the period of the per-query trend panels
    results: dict[str, Result]  # by query name
    tests: data_tests.TestRun

    def __getitem__(self, name: str) -> Result:
        return self.results[name]

    @property
    def is_empty(self) -> bool:
        return not self.totals["snapshots"]


def load(db: Path, *, generated_at: datetime | None = None) -> ReportData:
    """Read the report's numbers on a read-only connection; a missing mart is a `ReportError`."""
    con = database.connect(db, read_only=True)
    con.execute("SET enable_progress_bar = false")  # a library call prints nothing
    try:
        present = {row[0] for row in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        missing = [name for name in REQUIRED if name not in present]
        if missing:
            raise ReportError(
                f"{db} has no {', '.join(missing)}: build the models first (`listings build`)"
            )
        totals = _run(con, Query("totals", _sql("totals"))).frame.row(0, named=True)
        unit = period_unit(totals["first_fetch_at"], totals["last_fetch_at"], volume=True)
        trend_unit = period_unit(totals["first_fetch_at"], totals["last_fetch_at"], volume=False)
        queries = [
            Query("results_per_query", _sql("results_per_query"),
                  {"unit": trend_unit, "panels": MAX_PANELS}),
            Query("queries", _sql("queries"), {"limit": MAX_QUERY_ROWS}),
            Query("volume", _sql("volume"), {"unit": unit}),
            Query("new_documents", _sql("new_documents"), {"unit": unit}),
            Query("sizes", _sql("sizes")),
            Query("ages", _sql("ages")),
            Query("pages", _sql("pages")),
            Query("prices", _sql("prices")),
            Query("ratings", _sql("ratings")),
            Query("file_types", _sql("file_types"), {"limit": TOP_FILE_TYPES}),
            Query("most_seen_documents", _sql("most_seen_documents"), {"limit": MOST_SEEN}),
            Query("findings_by_kind", _sql("findings_by_kind")),
            Query("finding_examples", _sql("finding_examples"), {"examples": FINDING_EXAMPLES}),
            Query("reject_reasons", _sql("reject_reasons"), {"limit": TOP_REASONS}),
            Query("rank_movement", _sql("rank_movement"),
                  {"movers": MOVERS, "queries": MOVING_QUERIES}),
        ]  # fmt: skip
        results = {query.name: _run(con, query) for query in queries}
        lake = None
        if "_lake" in present:
            lake = _run(con, Query("lake", _sql("lake"))).frame.item(0, "url")
        tests = data_tests.read(con)
    finally:
        con.close()
    return ReportData(
        provenance=Provenance(
            generated_at=(generated_at or datetime.now(UTC)).astimezone(UTC),
            warehouse=db.resolve(),
            warehouse_built_at=datetime.fromtimestamp(os.stat(db).st_mtime, UTC),
            lake=lake,
        ),
        totals=totals,
        unit=unit,
        trend_unit=trend_unit,
        results=results,
        tests=tests,
    )


def period_unit(first: datetime | None, last: datetime | None, *, volume: bool) -> str:
    """The period (day, week, month) a time chart of this span draws a bar or point per."""
    days = (last - first).days if first is not None and last is not None else 0
    daily, weekly = (
        (VOLUME_DAILY_UP_TO_DAYS, VOLUME_WEEKLY_UP_TO_DAYS)
        if volume
        else (TREND_DAILY_UP_TO_DAYS, TREND_WEEKLY_UP_TO_DAYS)
    )
    if days <= daily:
        return "day"
    return "week" if days <= weekly else "month"


def _sql(name: str) -> str:
    return (QUERIES / f"{name}.sql").read_text(encoding="utf-8")


def _run(con: duckdb.DuckDBPyConnection, query: Query) -> Result:
    return Result(query, con.sql(query.sql, params=query.params or None).pl())
