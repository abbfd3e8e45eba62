"""Source freshness as dbt reads it: a source's freshness and loaded_at_field apply to its
tables unless a table says otherwise (`freshness: null` turns it off); thresholds are
counts of minutes, hours or days, and a table is past one only when strictly older; a
table with no rows is dbt's runtime error."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.errors import ModelError
from pipeline.warehouse import freshness
from pipeline.warehouse.project import Project, load_project
from tests.warehouse.sql.test_runner import write_project

SOURCES = """\
sources:
  - name: lake
    schema: main
    loaded_at_field: fetched_at
    freshness:
      warn_after: {count: 12, period: hour}
    tables:
      - name: listings
      - name: snapshots
        loaded_at_field: seen_at
        freshness:
          error_after: {count: 90, period: minute}
          filter: seen_at < '2026-11-22 11:30'
      - name: rejects
        freshness: null
"""
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def _project(tmp_path: Path, sources: str = SOURCES) -> Project:
    return load_project(write_project(tmp_path, {"staging/_sources.yml": sources}))


def test_a_sources_freshness_applies_to_its_tables_unless_a_table_says_otherwise(
    tmp_path: Path,
) -> None:
    listings, snapshots = freshness.declared(_project(tmp_path))
    assert (listings.name, listings.loaded_at_field) == ("lake.listings", "fetched_at")
    assert (listings.warn_after, listings.error_after) == (freshness.Threshold(12, "hour"), None)
    assert (snapshots.name, snapshots.loaded_at_field) == ("lake.snapshots", "seen_at")
    assert (snapshots.warn_after, snapshots.error_after) == (
        None, freshness.Threshold(90, "minute"))  # fmt: skip
    assert snapshots.filter == "seen_at < '2026-11-22 11:30'"
    assert listings.status(timedelta(hours=12)) == "pass"  # not past: exactly 12 hours
    assert listings.status(timedelta(hours=12, seconds=1)) == "warn"
    assert snapshots.status(timedelta(days=30)) == "error"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{warn_after: {count: 2, period: week}}", "a freshness threshold is {count: N"),
        ("{warn_after: {count: two, period: day}}", "a freshness threshold is {count: N"),
        ("{filter: x}", "freshness takes warn_after and/or error_after"),
    ],
)
def test_a_malformed_freshness_block_is_refused(tmp_path: Path, block: str, message: str) -> None:
    sources = SOURCES.replace(
        "{count: 90, period: minute}\n          filter: seen_at < '2026-11-22 11:30'",
        "{count: 1, period: day}",
    ).replace(
        "      - name: rejects\n        freshness: null\n",
        f"      - name: rejects\n        freshness: {block}\n",
    )
    with pytest.raises(ModelError, match=re.escape(message)):
        freshness.declared(_project(tmp_path, sources))


def test_a_freshness_block_needs_a_loaded_at_field(tmp_path: Path) -> None:
    sources = SOURCES.replace("    loaded_at_field: fetched_at\n", "")
    with pytest.raises(ModelError, match=r"lake\.listings has a freshness block but no loaded_at"):
        freshness.declared(_project(tmp_path, sources))


def test_the_newest_row_is_read_with_the_filter_and_an_empty_table_is_a_runtime_error(
    tmp_path: Path,
) -> None:
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table listings (fetched_at timestamptz)")
        con.execute("create table snapshots (seen_at timestamp)")
        # the filter leaves out the newest row
        con.execute("insert into snapshots values ('2026-11-22 11:00'), ('2026-11-22 11:45')")
    listings, snapshots = freshness.declared(_project(tmp_path / "project"))
    empty, fresh = freshness.check([listings, snapshots], NOW, db=db)
    assert (empty.max_loaded_at, empty.status) == (None, "runtime error")
    assert empty.as_json("listings") == {
        "unique_id": "source.listings.lake.listings",
        "error": "max(fetched_at) is null: no rows",
        "status": "runtime error",
    }
    assert "ERROR freshness of lake.listings" in empty.render(1, 2)
    assert fresh.max_loaded_at == datetime(2026, 11, 22, 11, tzinfo=UTC)  # no zone: UTC
    assert (fresh.age, fresh.status) == (timedelta(hours=1), "pass")
    assert fresh.as_json("listings")["max_loaded_at_time_ago_in_s"] == 3600.0
