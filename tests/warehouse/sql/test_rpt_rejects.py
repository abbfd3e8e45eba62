"""rpt_rejects: reject reasons by count, by UTC day of the snapshot's fetch."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pipeline.warehouse import database, runner
from tests.warehouse.sql.conftest import append_tables, bind_tables, reject, rows, snapshot


def test_rejects_are_counted_per_utc_day_site_query_stage_and_reason(run_models) -> None:
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # still the 20th in UTC
    next_day = datetime(2026, 11, 21, 0, 30, tzinfo=UTC)
    con, _ = run_models(
        "rpt_rejects",
        [
            snapshot("a", late),
            snapshot("b", next_day),
            snapshot("c", next_day, site="moredoc.example.org", query="golang"),
            snapshot("d", next_day, site=None, query=None),
        ],
        rejects=[
            reject("a", 0, "no SIZE before AGE"),
            reject("a", 50, "no SIZE before AGE"),
            reject("a", 90, "binary content", stage="read"),
            reject("b", 0, "no SIZE before AGE"),
            reject("c", 0, "no SIZE before AGE"),
            reject("d", 0, "no SIZE before AGE"),
        ],
    )
    assert rows(
        con,
        "select fetched_date, site, query, stage, reason, reject_count, snapshot_count, "
        "rejected_bytes, example_fragment from rpt_rejects "
        "order by fetched_date, reason, site nulls last",
    ) == [
        {"fetched_date": date(2026, 11, 20), "site": "wenku.it", "query": "kubernetes",
         "stage": "read", "reason": "binary content", "reject_count": 1, "snapshot_count": 1,
         "rejected_bytes": 10, "example_fragment": "fragment at 90"},
        {"fetched_date": date(2026, 11, 20), "site": "wenku.it", "query": "kubernetes",
         "stage": "parse", "reason": "no SIZE before AGE", "reject_count": 2,
         "snapshot_count": 1, "rejected_bytes": 20, "example_fragment": "fragment at 0"},
        {"fetched_date": date(2026, 11, 21), "site": "moredoc.example.org", "query": "golang",
         "stage": "parse", "reason": "no SIZE before AGE", "reject_count": 1,
         "snapshot_count": 1, "rejected_bytes": 10, "example_fragment": "fragment at 0"},
        {"fetched_date": date(2026, 11, 21), "site": "wenku.it", "query": "kubernetes",
         "stage": "parse", "reason": "no SIZE before AGE", "reject_count": 1,
         "snapshot_count": 1, "rejected_bytes": 10, "example_fragment": "fragment at 0"},
        {"fetched_date": date(2026, 11, 21), "site": None, "query": None,
         "stage": "parse", "reason": "no SIZE before AGE", "reject_count": 1,
         "snapshot_count": 1, "rejected_bytes": 10, "example_fragment": "fragment at 0"},
    ]  # fmt: skip


def test_no_rejects_make_an_empty_report_not_an_error(run_models) -> None:
    con, result = run_models("rpt_rejects", [snapshot("a", datetime(2026, 11, 20, tzinfo=UTC))])
    assert rows(con, "select count(*) as n from rpt_rejects") == [{"n": 0}]
    assert all(r.passed for r in result.tests)


def test_an_update_counts_a_day_again_whatever_its_site_and_query(project) -> None:
    """A page that names no site or query rejects again the same day: the update replaces
    the day's row (site and query null) instead of adding a second one beside it."""
    day = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    con = database.connect()
    bind_tables(con, [snapshot("a", day, site=None, query=None)],
                rejects=[reject("a", 0, "no SIZE before AGE")])  # fmt: skip
    runner.run(con, project)
    again = snapshot("b", day, site=None, query=None)
    appended = append_tables(con, [again], rejects=[reject("b", 0, "no SIZE before AGE")])
    runner.run(con, project, incremental=True, appended=appended)
    assert rows(con, "select site, query, reject_count, snapshot_count from rpt_rejects") == [
        {"site": None, "query": None, "reject_count": 2, "snapshot_count": 2}
    ]
