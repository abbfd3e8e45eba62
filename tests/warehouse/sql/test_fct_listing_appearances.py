"""fct_listing_appearances: one row per document per snapshot, with its overall rank."""

from __future__ import annotations

from pipeline.warehouse import database, runner
from pipeline.warehouse.project import load_project
from tests.warehouse.sql.conftest import (
    DAY,
    T0,
    append_tables,
    bind_tables,
    listing,
    rows,
    snapshot,
)


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
    assert rows(con, "select overall_rank from fct_listing_appearances") == [{"overall_rank": 44}]


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
        "select position, times_listed_in_snapshot from fct_listing_appearances order by position",
    ) == [
        {"position": 2, "times_listed_in_snapshot": 2},
        {"position": 7, "times_listed_in_snapshot": 1},
    ]
    assert [(r.test.name, r.failing_count) for r in result.warnings] == [
        ("strictly_true__fct_listing_appearances__times_listed_in_snapshot_1", 1)
    ]


REDIS = "Redis 设计与实现简单动态字符串 SDS 链表 字典与渐进式 rehash"
REDIS_TITLED = "Redis 设计与实现\n简单动态字符串 SDS 链表 字典与渐进式 rehash"


def test_each_appearance_shows_its_documents_title_or_a_guess_marked_as_one(
    run_models,
) -> None:
    """A rank question needs no join: the document's display title is on every row, with
    the page's site and query; a document no page titled shows its heading's start."""
    con, _ = run_models(
        "fct_listing_appearances",
        [snapshot("p1", T0)],
        [
            listing("p1", 1, REDIS, T0),
            listing("p1", 2, "短标题", T0, size_bytes=1024, size_bytes_min=1024,
                    size_bytes_max=1029),
            listing("p1", 3, "Kubernetes 网络权威指南CNI 插件", T0,
                    title="Kubernetes 网络权威指南", title_source="html", size_bytes=2048,
                    size_bytes_min=2043, size_bytes_max=2053),
        ],
    )  # fmt: skip
    assert rows(
        con,
        "select position, site, query, display_title, is_display_title_guessed "
        "from fct_listing_appearances order by position",
    ) == [
        {"position": 1, "site": "wenku.it", "query": "kubernetes",
         "display_title": "≈ Redis 设计与实现简单动态字符串 SDS 链表 字典与渐…",
         "is_display_title_guessed": True},
        {"position": 2, "site": "wenku.it", "query": "kubernetes",
         "display_title": "≈ 短标题", "is_display_title_guessed": True},
        {"position": 3, "site": "wenku.it", "query": "kubernetes",
         "display_title": "Kubernetes 网络权威指南", "is_display_title_guessed": False},
    ]  # fmt: skip


def test_an_update_that_titles_a_document_retitles_its_earlier_appearances() -> None:
    """A text page glues the title to the description; a later one prints it on its own
    line (the same document: whitespace is not part of the key). The update redoes the
    earlier page's row too, as a full build would give it."""
    project = load_project()
    earlier = [snapshot("s1", T0)], [listing("s1", 1, REDIS, T0)]
    later_snapshot = snapshot("s2", T0 + DAY, listing_count=1)
    title, description = REDIS_TITLED.split("\n")
    later_listing = listing("s2", 1, REDIS_TITLED, T0 + DAY, title=title,
                            description=description, title_source="own_line")  # fmt: skip
    query = (
        "select snapshot_id, display_title, is_display_title_guessed "
        "from fct_listing_appearances order by snapshot_id"
    )
    con = database.connect()
    bind_tables(con, *earlier)
    runner.run(con, project)
    appended = append_tables(con, [later_snapshot], [later_listing])
    runner.run(con, project, incremental=True, appended=appended)
    full = database.connect()
    bind_tables(full, [*earlier[0], later_snapshot], [*earlier[1], later_listing])
    runner.run(full, project)
    expected = [
        {"snapshot_id": s, "display_title": title, "is_display_title_guessed": False}
        for s in ("s1", "s2")
    ]
    assert rows(full, query) == rows(con, query) == expected
