"""rpt_rejects: reject reasons by count, by UTC day of the snapshot's fetch."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.warehouse.sql.conftest import reject, rows, snapshot


def test_rejects_are_counted_per_utc_day_stage_and_reason(run_models) -> None:
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # still the 20th in UTC
    next_day = datetime(2026, 11, 21, 0, 30, tzinfo=UTC)
    con, _ = run_models(
        "rpt_rejects",
        [snapshot("a", late), snapshot("b", next_day)],
        rejects=[
            reject("a", 0, "no SIZE before AGE"),
            reject("a", 50, "no SIZE before AGE"),
            reject("a", 90, "binary content", stage="read"),
            reject("b", 0, "no SIZE before AGE"),
        ],
    )
    assert rows(
        con,
        "select fetched_date, stage, reason, reject_count, snapshot_count, rejected_bytes, "
        "example_fragment from rpt_rejects order by fetched_date, reason",
    ) == [
        {"fetched_date": date(2026, 11, 20), "stage": "read", "reason": "binary content",
         "reject_count": 1, "snapshot_count": 1, "rejected_bytes": 10,
         "example_fragment": "fragment at 90"},
        {"fetched_date": date(2026, 11, 20), "stage": "parse", "reason": "no SIZE before AGE",
         "reject_count": 2, "snapshot_count": 1, "rejected_bytes": 20,
         "example_fragment": "fragment at 0"},
        {"fetched_date": date(2026, 11, 21), "stage": "parse", "reason": "no SIZE before AGE",
         "reject_count": 1, "snapshot_count": 1, "rejected_bytes": 10,
         "example_fragment": "fragment at 0"},
    ]


def test_no_rejects_make_an_empty_report_not_an_error(run_models) -> None:
    con, result = run_models("rpt_rejects", [snapshot("a", datetime(2026, 11, 20, tzinfo=UTC))])
    assert rows(con, "select count(*) as n from rpt_rejects") == [{"n": 0}]
    assert all(r.passed for r in result.tests)
