"""The text form of every search layout, detected and read exactly (docs/input-format.md §0).

Each page is written as a browser's innerText gives it from the layout's template (the
rating on its own line before the tail up to 2024-07, after it since; DocHub's `4.5 分`,
Go sizes and local minutes); the values are worked by hand from the rules of §1. The
records themselves are checked against the contract's vocabulary and their sources.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from benchmarks.layouts_kit import read_frame
from pipeline import vocab
from pipeline.parse import layouts
from pipeline.run import normalise

FETCHED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SEARCH = "https://wenku.it/search?wd=go"


def _read(page: str, url: str = SEARCH) -> normalise.BatchTables:
    return normalise.normalise_batch(read_frame([(page, FETCHED, url)]))


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_every_record_is_a_layout_of_the_vocabulary_citing_its_templates() -> None:
    assert tuple(r.name for r in layouts.RECORDS) == vocab.LAYOUTS
    for record in layouts.RECORDS:
        assert record.page_type in vocab.PAGE_TYPES
        assert record.sources, record.name
        for source in record.sources:
            assert source.repository in {"mnt-ltd/moredoc", "mnt-ltd/moredoc-web",
                                         "TruthHun/DocHub"}  # fmt: skip
            assert re.fullmatch(r"[0-9a-f]{7}", source.first), source
            assert source.last is None or re.fullmatch(r"[0-9a-f]{7}\^?", source.last), source
            assert source.first_date <= source.last_date, source


# (page, layout, total, last page, [(heading, price, pages, size, min, max, uploaded min,
#  max, rating)])
PAGES = {
    "moredoc 2023-04 to 2024-07: the rating on its own line, the pager run together": (
        " Go 语言实战\n并发编程\n3\n0 魔豆 | 8 页 | 21.69 KB | 20 天前\n"
        "共 1000 条\n123456100\n前往页",
        "moredoc-2023-04", 1000, None,
        [("Go 语言实战\n并发编程", 0, 8, 22211, 22206, 22215,
          _utc(2026, 10, 30, 9, 30, 1), _utc(2026, 10, 31, 9, 30), 3.0)],
    ),
    "moredoc 2023-01 to 2023-04: sizes without trailing zeros": (
        " Go 语言实战\n并发编程\n4.5\n0 魔豆 | 8 页 | 38.5 KB | 20 天前\n"
        "第二本\n描述\n3\n5 魔豆 | - 页 | 2 MB | 1 年前\n共 12 条\n- 1\n- 2\n",
        "moredoc-2023-01", 12, 2,
        [("Go 语言实战\n并发编程", 0, 8, 39424, 39419, 39429,
          _utc(2026, 10, 30, 9, 30, 1), _utc(2026, 10, 31, 9, 30), 4.5),
         ("第二本\n描述", 5, None, 2097152, 2091910, 2102394,
          _utc(2024, 11, 30, 9, 30, 1), _utc(2025, 11, 25, 9, 29, 59), 3.0)],
    ),
    "moredoc's first search page: the template's literal date, no upload time": (
        " Go 语言实战\n并发编程\n3\n0 魔豆 | 8 页 | 2 MB | 2019-06-10 10:17\n共 12 条\n- 1\n- 2\n",
        "moredoc-2022-12", 12, 2,
        [("Go 语言实战\n并发编程", 0, 8, 2097152, 2091910, 2102394, None, None, 3.0)],
    ),
    "DocHub 2018-04: 4.5分, 0金币 | 254页, a Go size glued to its unit, the local minute": (
        "Go 语言实战\n并发编程\n4.5分\n0金币 | 254页 | 1.12KB | 2019-06-10 14:05\n1\n2\n>>\n..2\n",
        "dochub-2018-04", None, 2,
        [("Go 语言实战\n并发编程", 0, 254, 1147, 1142, 1152,
          _utc(2019, 6, 10, 6, 5), _utc(2019, 6, 10, 6, 5, 59), 4.5)],
    ),
    "DocHub 2018-08: the unit spaced, the tail not yet; 0 pages is a count it never knew": (
        "Go 语言实战\n并发编程\n4.5分\n0金币 | 0页 | 0.00 B | 2019-06-10 14:05\n",
        "dochub-2018-08", None, None,
        [("Go 语言实战\n并发编程", 0, None, 0, 0, 0,
          _utc(2019, 6, 10, 6, 5), _utc(2019, 6, 10, 6, 5, 59), 4.5)],
    ),
    "moredoc-web since 2024-07: the rating after the age, glued as wenku.it prints it": (
        "Go 语言实战\n并发编程0 码力 | 8 页 | 48.83 PB | 20 天前4\n共 1 条\n- 1\n",
        "moredoc-web-2024-07", 1, 1,
        [("Go 语言实战\n并发编程", 0, 8, 54977692451125330, 54972062951591117, 54983321950659543,
          _utc(2026, 10, 30, 9, 30, 1), _utc(2026, 10, 31, 9, 30), 4.0)],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", PAGES)
def test_each_layouts_text_is_detected_and_read_exactly(case: str) -> None:
    page, layout, total, last_page, expected = PAGES[case]
    tables = _read(page)
    assert tables.rejects.height == 0, tables.rejects.select("position", "reason").rows()
    snapshot = tables.snapshots.row(0, named=True)
    assert (snapshot["layout"], snapshot["page_type"]) == (layout, "search")
    assert (snapshot["total_results"], snapshot["last_page"]) == (total, last_page)
    columns = ("heading", "price", "pages", "size_bytes", "size_bytes_min", "size_bytes_max",
               "uploaded_at_min", "uploaded_at_max", "rating")  # fmt: skip
    assert tables.listings.sort("position").select(columns).rows() == expected


def test_a_rating_glued_to_the_age_outweighs_a_number_standing_before_the_price() -> None:
    """A description ending in a digit and a space prints `0 0 金币`, as a rating standing
    before the price would (moredoc 2023-04); but only a rating-after page glues a rating
    to the age (`刚刚1.7`): the page is today's layout, read whole (found by the property
    test: it was one reject, 'text before the footer has no listing tail')."""
    page = ")共 共\n0 0 金币 | 4999 页 | 57.88 TB | 刚刚1.7\n共 13 条\n- 1\n- 2\n"
    tables = _read(page)
    assert tables.rejects.height == 0
    assert tables.snapshots.select("layout", "page_type").rows() == [
        ("moredoc-web-2024-07", "search")
    ]
    assert tables.listings.select("heading", "price", "credit", "age_text", "rating").rows() == [
        (")共 共\n0", 0, "金币", "刚刚", 1.7)
    ]


def test_a_page_no_layout_fits_is_one_reject_naming_what_it_lacks() -> None:
    """No rating after the tail, none before it: which listing the rating belongs to, and
    so where a listing ends, cannot be known. The page is refused whole."""
    page = "标题0 魔豆 | 8 页 | 21.69 KB | 20 天前\n共 1 条\n"
    tables = _read(page)
    assert tables.listings.height == 0
    assert tables.snapshots.select("layout", "page_type").rows() == [(None, None)]
    (reject,) = tables.rejects.select("byte_start", "byte_end", "fragment", "reason").rows()
    assert reject[:3] == (0, len(page.rstrip().encode()), page.rstrip())
    assert reject[3].startswith(
        "no layout fits the page: its first listing's tail '0 … | 21.69 KB | 20 天前' has no "
        "rating after it"
    )


def test_a_category_pages_text_is_refused_whole_naming_its_layout() -> None:
    """Its description follows the tail and would run into the next title; its HTML is read."""
    page = "标题\n描述0 魔豆 | 8 页 | 21.69 KB | 20 天前4\n标题二\n描述二\n共 1 条\n"
    tables = _read(page, "https://wenku.it/category/12")
    assert tables.listings.height == 0
    snapshot = tables.snapshots.row(0, named=True)
    assert (snapshot["layout"], snapshot["page_type"]) == ("moredoc-web-list-2024-07", "category")
    (reason,) = tables.rejects["reason"].to_list()
    assert reason.startswith("category page (layout moredoc-web-list-2024-07)")
