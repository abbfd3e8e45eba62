"""rpt_data_quality: every finding an analyst should distrust, with its severity."""

from __future__ import annotations

from pipeline.warehouse.templates import enum_type
from tests.warehouse.sql.conftest import DAY, T0, listing, rows, snapshot


def test_each_kind_of_finding_is_one_row_ranked_by_severity(run_models) -> None:
    con, result = run_models(
        "rpt_data_quality",
        [
            snapshot("ok", T0),
            snapshot(
                "junk",
                T0 + DAY,
                form="unreadable",
                read_error="binary content",
                byte_count=3,
                total_results=None,
                last_page=None,
            ),
            snapshot(
                "old",
                T0 + 2 * DAY,
                fetched_at_source="mtime",
                metadata_warning="sidecar is not JSON",
            ),
        ],
        [
            listing("ok", 1, "评分异常的文档", T0, rating=0.03, score=3, rating_anomaly=True),
            listing(
                "ok",
                2,
                "描述以数字结尾 2021",
                T0,
                price=0,
                price_text="20210",
                price_ambiguous=True,
            ),
            listing("old", 1, "普通文档", T0 + 2 * DAY),
        ],
    )
    assert rows(
        con,
        "select finding, severity, severity_rank, subject_kind, subject_label, magnitude "
        "from rpt_data_quality order by severity_rank, finding",
    ) == [
        {
            "finding": "unreadable snapshot",
            "severity": "high",
            "severity_rank": 1,
            "subject_kind": "snapshot",
            "subject_label": "raw/junk.txt",
            "magnitude": 3.0,
        },
        {
            "finding": "approximate fetch time",
            "severity": "medium",
            "severity_rank": 2,
            "subject_kind": "snapshot",
            "subject_label": "raw/old.txt",
            "magnitude": 1.0,
        },
        {
            "finding": "metadata warning",
            "severity": "medium",
            "severity_rank": 2,
            "subject_kind": "snapshot",
            "subject_label": "raw/old.txt",
            "magnitude": 1.0,
        },
        {
            "finding": "ambiguous price",
            "severity": "low",
            "severity_rank": 3,
            "subject_kind": "document",
            "subject_label": "描述以数字结尾 2021",
            "magnitude": 0.0,
        },
        {
            "finding": "rating below 1",
            "severity": "low",
            "severity_rank": 3,
            "subject_kind": "document",
            "subject_label": "评分异常的文档",
            "magnitude": 0.97,
        },
    ]
    assert result.warnings == []  # findings about the data; the build itself is fine


def test_each_finding_names_its_subjects_site_and_query_where_it_has_one(run_models) -> None:
    """Problems by site: a snapshot's site and query; a document's site (its latest
    sighting's), and the query of the page it was listed twice on, else none (a document
    is seen under many queries)."""
    con, _ = run_models(
        "rpt_data_quality",
        [
            snapshot("old", T0, fetched_at_source="mtime", site="moredoc.example.org",
                     query="golang"),
            snapshot("twice", T0 + DAY, query="数据库"),
        ],
        [
            listing("old", 1, "普通文档", T0, site="moredoc.example.org"),
            listing("twice", 1, "重复的文档", T0 + DAY),
            listing("twice", 2, "重复的文档", T0 + DAY),
            listing("twice", 3, "评分异常的文档", T0 + DAY, rating=0.03, score=3,
                    rating_anomaly=True),
        ],
    )  # fmt: skip
    assert rows(
        con,
        "select finding, subject_kind, site, query from rpt_data_quality "
        "order by severity_rank, finding",
    ) == [
        {"finding": "approximate fetch time", "subject_kind": "snapshot",
         "site": "moredoc.example.org", "query": "golang"},
        {"finding": "document listed twice on one page", "subject_kind": "document",
         "site": "wenku.it", "query": "数据库"},
        {"finding": "rating below 1", "subject_kind": "document", "site": "wenku.it",
         "query": None},
    ]  # fmt: skip


def test_severity_and_subject_kind_are_enums_of_their_vocabularies(run_models) -> None:
    """Like every closed vocabulary of the warehouse: the values of pipeline/vocab.py, in
    their order (high sorts first), never copied into the SQL."""
    con, _ = run_models("rpt_data_quality", [snapshot("s", T0)])
    types = dict(
        con.sql(
            "select column_name, data_type from duckdb_columns() "
            "where table_name = 'rpt_data_quality' and column_name in ('severity', 'subject_kind')"
        ).fetchall()
    )
    assert types == {
        "severity": enum_type("FINDING_SEVERITIES", "test"),
        "subject_kind": enum_type("FINDING_SUBJECTS", "test"),
    }
    assert types["severity"] == "ENUM('high', 'medium', 'low')"
