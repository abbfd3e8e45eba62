"""rpt_data_quality: every finding an analyst should distrust, with its severity."""

from __future__ import annotations

from tests.warehouse.sql.conftest import DAY, T0, listing, rows, snapshot


def test_each_kind_of_finding_is_one_row_ranked_by_severity(run_models) -> None:
    con, result = run_models(
        "rpt_data_quality",
        [
            snapshot("ok", T0),
            snapshot("junk", T0 + DAY, form="unreadable", read_error="binary content",
                     byte_count=3, total_results=None, last_page=None),
            snapshot("old", T0 + 2 * DAY, fetched_at_source="mtime",
                     metadata_warning="sidecar is not JSON"),
        ],
        [
            listing("ok", 1, "评分异常的文档", T0, rating=0.03, score=3, rating_anomaly=True),
            listing("ok", 2, "描述以数字结尾 2021", T0, price=0, price_text="20210",
                    price_ambiguous=True),
            listing("old", 1, "普通文档", T0 + 2 * DAY),
        ],
    )
    assert rows(
        con,
        "select finding, severity, severity_rank, subject_kind, subject_label, magnitude "
        "from rpt_data_quality order by severity_rank, finding",
    ) == [
        {"finding": "unreadable snapshot", "severity": "high", "severity_rank": 1,
         "subject_kind": "snapshot", "subject_label": "raw/junk.txt", "magnitude": 3.0},
        {"finding": "approximate fetch time", "severity": "medium", "severity_rank": 2,
         "subject_kind": "snapshot", "subject_label": "raw/old.txt", "magnitude": 1.0},
        {"finding": "metadata warning", "severity": "medium", "severity_rank": 2,
         "subject_kind": "snapshot", "subject_label": "raw/old.txt", "magnitude": 1.0},
        {"finding": "ambiguous price", "severity": "low", "severity_rank": 3,
         "subject_kind": "document", "subject_label": "描述以数字结尾 2021", "magnitude": 0.0},
        {"finding": "rating below 1", "severity": "low", "severity_rank": 3,
         "subject_kind": "document", "subject_label": "评分异常的文档", "magnitude": 0.97},
    ]
    assert result.warnings == []  # findings about the data; the build itself is fine
