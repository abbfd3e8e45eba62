"""fct_listing_appearances: one row per document per snapshot, with its overall rank."""

from __future__ import annotations

from tests.warehouse.sql.conftest import T0, listing, rows, snapshot


def test_the_overall_rank_counts_the_pages_before_at_ten_listings_each(run_models) -> None:
    con, _ = run_models(
        "fct_listing_appearances",
        [snapshot("p3", T0, page=3)],
        [listing("p3", 4, "第三页第四个文档", T0)],
    )
    assert rows(
        con,
        "select snapshot_id, query, page, position, overall_rank, fetched_at, "
        "times_listed_in_snapshot from fct_listing_appearances",
    ) == [
        {
            "snapshot_id": "p3",
            "query": "kubernetes",
            "page": 3,
            "position": 4,
            "overall_rank": 24,  # (3 - 1) × 10 + 4
            "fetched_at": T0,
            "times_listed_in_snapshot": 1,
        }
    ]


def test_the_page_size_is_a_project_var_a_run_may_override(run_models) -> None:
    con, _ = run_models(
        "fct_listing_appearances",
        [snapshot("p3", T0, page=3)],
        [listing("p3", 4, "第三页第四个文档", T0)],
        page_size=20,
    )
    assert rows(con, "select overall_rank from fct_listing_appearances") == [
        {"overall_rank": 44}
    ]


def test_an_unknown_page_number_leaves_the_overall_rank_unknown(run_models) -> None:
    con, _ = run_models(
        "fct_listing_appearances",
        [snapshot("p", T0, page=None)],
        [listing("p", 2, "没有页码", T0)],
    )
    assert rows(con, "select position, overall_rank from fct_listing_appearances") == [
        {"position": 2, "overall_rank": None}
    ]


def test_a_document_listed_twice_on_a_page_keeps_its_first_place_and_warns(run_models) -> None:
    con, result = run_models(
        "fct_listing_appearances",
        [snapshot("p1", T0)],
        [
            listing("p1", 2, "重复的文档", T0),
            listing("p1", 5, "重复的文档", T0),
            listing("p1", 7, "另一个文档", T0),
        ],
    )
    assert rows(
        con,
        "select position, times_listed_in_snapshot from fct_listing_appearances "
        "order by position",
    ) == [
        {"position": 2, "times_listed_in_snapshot": 2},
        {"position": 7, "times_listed_in_snapshot": 1},
    ]
    assert [(r.test.name, r.failing_count) for r in result.warnings] == [
        ("expression__fct_listing_appearances__times_listed_in_snapshot_1", 1)
    ]
