"""fct_query_snapshots: one row per query per fetch, and what is new since the previous one."""

from __future__ import annotations

from datetime import timedelta

from tests.warehouse.sql.conftest import DAY, T0, listing, rows, snapshot

MINUTES = timedelta(minutes=1)


def test_pages_fetched_minutes_apart_are_one_fetch_and_a_later_crawl_another(run_models) -> None:
    """Day 1: pages 1 and 2, five minutes apart. Day 2: page 1 again, with one document new
    and one gone. The footer grew from 15 to 16 results between day 1's two pages."""
    day2 = T0 + DAY
    con, _ = run_models(
        "fct_query_snapshots",
        [
            snapshot("d1p1", T0, page=1, total_results=15, last_page=2),
            snapshot("d1p2", T0 + 5 * MINUTES, page=2, total_results=16, last_page=2),
            snapshot("d2p1", day2, page=1, total_results=17, last_page=2),
        ],
        [
            listing("d1p1", 1, "文档甲", T0),
            listing("d1p1", 2, "文档乙", T0),
            listing("d1p2", 1, "文档丙", T0 + 5 * MINUTES),
            listing("d2p1", 1, "文档甲", day2),
            listing("d2p1", 2, "文档丁", day2),
        ],
    )
    assert rows(
        con,
        "select query, fetch_started_at, fetch_ended_at, total_results, last_page, "
        "snapshots_seen, pages_seen, listings_seen, documents_seen, is_first_fetch, "
        "new_documents from fct_query_snapshots order by fetch_started_at",
    ) == [
        {
            "query": "kubernetes",
            "fetch_started_at": T0,
            "fetch_ended_at": T0 + 5 * MINUTES,
            "total_results": 16,  # the latest page's footer
            "last_page": 2,
            "snapshots_seen": 2,
            "pages_seen": 2,
            "listings_seen": 3,
            "documents_seen": 3,
            "is_first_fetch": True,
            "new_documents": None,
        },
        {
            "query": "kubernetes",
            "fetch_started_at": day2,
            "fetch_ended_at": day2,
            "total_results": 17,
            "last_page": 2,
            "snapshots_seen": 1,
            "pages_seen": 1,
            "listings_seen": 2,
            "documents_seen": 2,
            "is_first_fetch": False,
            "new_documents": 1,  # 文档丁; 文档甲 was seen the day before
        },
    ]


def test_each_query_has_its_own_fetches_even_at_the_same_moment(run_models) -> None:
    con, _ = run_models(
        "fct_query_snapshots",
        [snapshot("a", T0, query="golang"), snapshot("b", T0, query="数据库")],
        [listing("a", 1, "文档甲", T0), listing("b", 1, "文档甲", T0)],
    )
    assert rows(
        con,
        "select query, is_first_fetch, documents_seen from fct_query_snapshots order by query",
    ) == [
        {"query": "golang", "is_first_fetch": True, "documents_seen": 1},
        {"query": "数据库", "is_first_fetch": True, "documents_seen": 1},
    ]


def test_the_fetch_gap_is_a_project_var(run_models) -> None:
    """Pages 40 minutes apart are two fetches at the default 30-minute gap, one at 60."""
    snapshots = [snapshot("p1", T0, page=1), snapshot("p2", T0 + 40 * MINUTES, page=2)]
    con, _ = run_models("fct_query_snapshots", snapshots)
    assert rows(con, "select count(*) as fetches from fct_query_snapshots") == [{"fetches": 2}]
    con, _ = run_models("fct_query_snapshots", snapshots, fetch_gap_minutes=60)
    assert rows(con, "select count(*) as fetches from fct_query_snapshots") == [{"fetches": 1}]


def test_a_page_with_no_valid_listing_still_counts_as_seen(run_models) -> None:
    con, _ = run_models(
        "fct_query_snapshots",
        [
            snapshot(
                "p1",
                T0,
                form="unreadable",
                total_results=None,
                last_page=None,
                read_error="binary content",
            )
        ],
    )
    assert rows(
        con,
        "select pages_seen, listings_seen, documents_seen, total_results from fct_query_snapshots",
    ) == [{"pages_seen": 1, "listings_seen": 0, "documents_seen": 0, "total_results": None}]
