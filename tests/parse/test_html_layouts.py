"""The HTML parser reads every page layout of `layouts.RECORDS` (docs/input-format.md §3.1).

Each layout has a golden page in `fixtures/layouts/LAYOUT.html`, built from the template at
the commit its first line cites (the markup as Vue 2 + element-ui or Go's html/template
render it, per the research notes), with a few documents whose every printed value is
known. The tests hold the parser to exact values: the layout and page type it detects,
each listing's title, description, ids, price, pages, size bounds, upload interval and
rating, and the page's totals. Sizes are checked twice: against the bounds written below,
and against a brute-force printer (`_printed`: the site's own formatting, re-done with exact
decimals), so a bound is right because the bytes just outside it print differently.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from pipeline.parse import html, layouts
from pipeline.parse.layouts import SizePrinter

FIXTURES = Path(__file__).parent / "fixtures" / "layouts"
FETCHED_AT = datetime(2025, 9, 10, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
HTML_LAYOUTS = [r.name for r in layouts.RECORDS if r.name != "moredoc-api"]


def _page(name: str) -> str:
    return (FIXTURES / f"{name}.html").read_text(encoding="utf-8")


def _parse(*texts: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    pages = pl.DataFrame(
        {
            "snapshot_id": [f"s{i}" for i in range(len(texts))],
            "site": ["example.org"] * len(texts),
            "time_zone": [None] * len(texts),
            "fetched_at": [FETCHED_AT] * len(texts),
            "text": list(texts),
        },
        schema_overrides={"time_zone": pl.String, "fetched_at": pl.Datetime("us", "UTC")},
    )
    return html.parse_pages(pages)


def _ago(**delta: int) -> datetime:
    return FETCHED_AT - timedelta(**delta)


def _local(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    """A clock time the site printed in its zone, in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


# Relative ages (formatRelativeTime: diff = fetch - upload in whole seconds, 30-day months,
# years only past 12 months) as the inclusive upload interval they leave.
HOURS_3 = (_ago(hours=4) + timedelta(seconds=1), _ago(hours=3))  # 3 h <= diff <= 4 h - 1 s
DAYS_20 = (_ago(days=21) + timedelta(seconds=1), _ago(days=20))
JUST_NOW = (_ago(seconds=59), FETCHED_AT)  # `刚刚`: diff < 60 s
YEAR_1 = (_ago(days=720) + timedelta(seconds=1), _ago(days=360, seconds=1))  # 360 d < diff < 720 d


def _minute(text: str) -> tuple[datetime, datetime]:
    """DocHub's `YYYY-MM-DD HH:MM` (Go's time.Local, Asia/Shanghai): the minute it names."""
    start = _local(text)
    return start, start + timedelta(seconds=59)


def _second(text: str) -> tuple[datetime, datetime]:
    """moredoc's category `yyyy-MM-dd hh:mm:ss` (formatDatetime): the second it names."""
    return _local(text), _local(text)


# --- Sizes ------------------------------------------------------------------------------------
#
# Bounds are exact integer arithmetic. With c the printed value in hundredths and s the unit
# (1024^i), the bytes that print c are those with (c - 1/2)/100 <= b/s <= (c + 1/2)/100,
# the ends taken as the printer rounds a tie: JavaScript's toFixed(2) rounds an exact tie up
# (the upper end is excluded), Go's %.2f rounds it to even. Worked cases:
#
# - `38.5 KB` (moredoc before 279d64d, trailing zeros dropped: `38.50`): c = 3850, s = 1024:
#   1024 * 38.495 = 39418.88 <= b < 1024 * 38.505 = 39429.12, so b in [39419, 39429]; the
#   point 38.5 * 1024 = 39424. `38.50 KB` (two decimals kept) is the same set.
# - `1.12KB` / `1.12 KB` (DocHub, Go %.2f, ties to even): 1.115 * 1024 = 1141.76 <= b <=
#   1.125 * 1024 = 1152, and 1152/1024 = 1.125 is an exact binary tie that Go rounds to the
#   even 1.12 (so 1152 is in; 1153 prints 1.13): b in [1142, 1152]; the point 1146.88 → 1147.
# - `21.69 KB`: 1024 * 21.685 = 22205.44 <= b < 22215.68: [22206, 22215]; point 22210.56 → 22211.
# - `3.00 MB`: 2^20 * 2.995 = 3140485.12 <= b < 2^20 * 3.005 = 3150970.88: [3140486, 3150970].
# - `2 MB` (trimmed `2.00`): 2^20 * 1.995 = 2091909.12 <= b < 2102394.88: [2091910, 2102394].
# - `1.00MB` (Go): 2^20 * 0.995 <= b, but Go moves to MB only once b >= 1024 * 1024 (b =
#   1048575 is `1024.00KB`), so b in [1048576, 2^20 * 1.005 = 1053818.88 → 1053818].
# - `2.50 MB` (Go): 2^20 * 2.495 = 2616197.12 <= b <= 2^20 * 2.505 = 2626682.88: no tie at
#   either end, [2616198, 2626682]; the point 2621440.
# - `1.5 KB` (trimmed `1.50`): 1530.88 <= b < 1541.12: [1531, 1541]; `500 B`: 499.995 <= b <
#   500.005: just 500; `512.00 B` (Go): just 512.


def _printed(size: int, printer: SizePrinter) -> str:
    """What `printer` prints for `size` bytes, re-done from the sites' code with exact
    decimals: JavaScript's formatBytes (unit floor(log(b)/log(1024)) in doubles, toFixed(2)
    on the double's exact value, ties up; parseFloat drops trailing zeros) or DocHub's Go
    FormatByte (divide by 1024 while >= 1024, %.2f on the exact value, ties to even)."""
    if printer.unit_choice == "float_log":
        unit = math.floor(math.log(size) / math.log(1024))
    else:
        unit = 0
        while size / 1024**unit >= 1024 and unit < len(printer.units) - 1:
            unit += 1
    rounding = ROUND_HALF_UP if printer.ties == "up" else ROUND_HALF_EVEN
    value = Decimal(size / 1024**unit).quantize(Decimal("0.01"), rounding=rounding)
    number = f"{value:f}"
    if printer.trimmed:
        number = number.rstrip("0").rstrip(".")
    return number + (" " if printer.unit_space else "") + printer.units[unit]


def _assert_bounds_exact(text: str, low: int, high: int, printer: SizePrinter) -> None:
    assert _printed(low, printer) == text and _printed(high, printer) == text
    assert _printed(low - 1, printer) != text and _printed(high + 1, printer) != text


# --- The golden pages ------------------------------------------------------------------------

COLUMNS = (
    "document_ref", "document_id", "title", "description", "price", "pages", "size_text",
    "size_bytes", "size_bytes_min", "size_bytes_max", "age_text", "uploaded_at_min",
    "uploaded_at_max", "rating", "score", "file_family",
)  # fmt: skip
FOOTER = ("layout", "page_type", "total_results", "last_page", "site_document_count",
          "search_seconds")  # fmt: skip
CONSTANT = "2019-06-10 10:17"

EXPECTED: dict[str, tuple[tuple, list[tuple]]] = {
    # 0c58919: the literal time on every listing, so no upload time (and no error); sizes
    # trimmed; the tips in the card header name the site's 5000 documents.
    "moredoc-2022-12": (
        ("moredoc-2022-12", "search", 2, 1, 5000, 0.012),
        [
            ("101", 101, "Go 语言实战", "一本讲 Go 并发的书", 0, 8, "38.5 KB",
             39424, 39419, 39429, CONSTANT, None, None, 3.5, 350, "pdf"),
            ("102", 102, "Kubernetes 指南", "", 5, None, "2 MB",
             2097152, 2091910, 2102394, CONSTANT, None, None, 3.0, 300, "word"),
        ],
    ),
    # f9801b2: a trimmed size (`500 B`, `1.5 KB`) tells it from 2023-04.
    "moredoc-2023-01": (
        ("moredoc-2023-01", "search", 2, 1, 4321, 0.008),
        [
            ("201", 201, "Rust 程序设计", "系统编程", 2, 12, "500 B",
             500, 500, 500, "3 小时前", *HOURS_3, 4.0, 400, "pdf"),
            ("202", 202, "Python 手册", "入门", 0, 300, "1.5 KB",
             1536, 1531, 1541, "20 天前", *DAYS_20, 3.0, 300, "text"),
        ],
    ),
    # moredoc-web 1186311: a uuid link has no numeric id; the tips name no document count.
    "moredoc-2023-04": (
        ("moredoc-2023-04", "search", 1000, 100, None, 0.012),
        [
            ("a1b2c3d4e5f60718", None, "数据库系统概念", "第七版", 0, 8, "21.69 KB",
             22211, 22206, 22215, "20 天前", *DAYS_20, 3.0, 300, "pdf"),
            ("302", 302, "算法导论", "CLRS", 5, 12, "3.00 MB",
             3145728, 3140486, 3150970, "3 小时前", *HOURS_3, 4.5, 450, "word"),
            ("303", 303, "空描述的文档", "", 0, None, "38.50 KB",
             39424, 39419, 39429, "刚刚", *JUST_NOW, 3.0, 300, "ppt"),
        ],
    ),
    # 3042ed2 in the e7b8185 page: the rating after the info line, the tips in the header.
    "moredoc-web-2024-07": (
        ("moredoc-web-2024-07", "search", 2, 1, None, 0.031),
        [
            ("0f1e2d3c4b5a6978", None, "云原生架构", "从容器到服务网格", 0, 8, "21.69 KB",
             22211, 22206, 22215, "20 天前", *DAYS_20, 3.0, 300, "pdf"),
            ("401", 401, "机器学习", "周志华", 5, 12, "3.00 MB",
             3145728, 3140486, 3150970, "3 小时前", *HOURS_3, 4.5, 450, "excel"),
        ],
    ),
    # e0d4039: description after the info line, `<span class="line">|</span>` separators,
    # the time to the second, trimmed sizes, the icon named by the extension (`.docx`).
    "moredoc-list-2022-12": (
        ("moredoc-list-2022-12", "category", 25, 3, None, None),
        [
            ("501", 501, "离散数学", "图论与组合", 0, 8, "38.5 KB",
             39424, 39419, 39429, "2022-12-20 15:30:45", *_second("2022-12-20 15:30:45"),
             4.67, 467, "pdf"),
            ("502", 502, "编译原理", "龙书", 3, 120, "2 MB",
             2097152, 2091910, 2102394, "2022-12-21 09:00:00", *_second("2022-12-21 09:00:00"),
             4.0, 400, "word"),
        ],
    ),
    "moredoc-list-2023-04": (
        ("moredoc-list-2023-04", "category", 20, 2, None, None),
        [
            ("601", 601, "线性代数", "同济版", 0, 8, "21.69 KB",
             22211, 22206, 22215, "2024-01-05 10:00:00", *_second("2024-01-05 10:00:00"),
             3.5, 350, "pdf"),
            ("602", 602, "概率论", "浙大版", 1, 64, "38.50 KB",
             39424, 39419, 39429, "2024-01-06 23:59:59", *_second("2024-01-06 23:59:59"),
             4.0, 400, "word"),
        ],
    ),
    # 4bc7608: the info span first (its age unclassed, inside it), the stars after.
    "moredoc-web-list-2024-07": (
        ("moredoc-web-list-2024-07", "category", 2, 1, None, None),
        [
            ("9a8b7c6d5e4f3a2b", None, "操作系统", "现代操作系统", 0, 8, "21.69 KB",
             22211, 22206, 22215, "20 天前", *DAYS_20, 3.0, 300, "pdf"),
            ("702", 702, "计算机网络", "自顶向下", 2, 500, "3.00 MB",
             3145728, 3140486, 3150970, "1 年前", *YEAR_1, 4.0, 400, "word"),
        ],
    ),
    # 9dc4ed8: `4.5分`, `0金币 | 254页 | 1.12KB | TIME`; the title's highlight is the query
    # word as typed (`golang`); the pager names its last page (`..100`).
    "dochub-2018-04": (
        ("dochub-2018-04", "search", 1000, 100, 12345, 0.012),
        [
            ("7", 7, "golang 实战", "Go 语言实战一书", 0, 254, "1.12KB",
             1147, 1142, 1152, "2019-06-10 14:05", *_minute("2019-06-10 14:05"), 4.5, 450,
             "pdf"),
            ("8", 8, "Go 并发编程", "并发模式", 5, 12, "1.00MB",
             1048576, 1048576, 1053818, "2018-05-01 09:30", *_minute("2018-05-01 09:30"),
             3.0, 300, "word"),
        ],
    ),
    # d291cd3 + helper.go 0adaa1d: `1.12 KB` spaced, the rest glued; one page of results
    # (no pager: the tips' total); Go's %v printed the search time in exponent form.
    "dochub-2018-08": (
        ("dochub-2018-08", "search", 2, None, 12345, 4.5e-05),
        [
            ("21", 21, "Docker 入门", "容器技术", 0, 254, "1.12 KB",
             1147, 1142, 1152, "2019-06-10 14:05", *_minute("2019-06-10 14:05"), 4.5, 450,
             "pdf"),
            ("22", 22, "报表模板", "", 1, 3, "512.00 B",
             512, 512, 512, "2018-08-10 23:59", *_minute("2018-08-10 23:59"), 5.0, 500,
             "excel"),
        ],
    ),
    # 6c29be7: `4.5 分`, `0 金币 | 254 页`, the time in span.hidden-xs; ES's `<em>` highlight.
    "dochub-2018-08-11": (
        ("dochub-2018-08-11", "search", 25, 3, 12345, 0.003),
        [
            ("31", 31, "Golang 实战", "Go 语言实战一书", 0, 254, "1.12 KB",
             1147, 1142, 1152, "2019-06-10 14:05", *_minute("2019-06-10 14:05"), 4.5, 450,
             "pdf"),
            ("32", 32, "微服务 Golang", "服务拆分", 10, 48, "2.50 MB",
             2621440, 2616198, 2626682, "2019-01-31 00:00", *_minute("2019-01-31 00:00"),
             3.0, 300, "ppt"),
        ],
    ),
}  # fmt: skip


def test_every_html_layout_has_a_golden_page() -> None:
    pages = sorted(path.stem for path in FIXTURES.glob("*.html"))
    assert pages == sorted(HTML_LAYOUTS)
    for name in pages:
        first = _page(name).splitlines()[0]
        assert first.startswith("<!-- ") and first.endswith(" -->"), name
        record = layouts.BY_NAME[name]
        assert any(source.repository in first for source in record.sources), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_layouts_golden_page_reads_exactly(name: str) -> None:
    footer, rows = EXPECTED[name]
    listings, footers, rejects = _parse(_page(name))
    assert rejects.height == 0, rejects["reason"].to_list()
    assert listings["parse_error"].to_list() == [None] * len(rows)
    assert listings.select(COLUMNS).rows() == rows
    assert listings["layout"].unique().to_list() == [name]
    assert listings["position"].to_list() == list(range(1, len(rows) + 1))
    assert listings.select("title_source", "price_ambiguous").unique().rows() == [("html", False)]
    assert footers.select(FOOTER).rows() == [footer]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_size_bounds_are_every_byte_count_the_printer_prints_so(name: str) -> None:
    printer = layouts.BY_NAME[name].size
    for row in EXPECTED[name][1]:
        text, _, low, high = row[6:10]
        _assert_bounds_exact(text, low, high, printer)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_listing_spans_its_own_item(name: str) -> None:
    """Spans open at the item's `<li`, hold its link, follow one another, and the last
    ends at its `</li>`."""
    text = _page(name)
    data = text.encode("utf-8")
    listings, _, _ = _parse(text)
    spans = listings.select("byte_start", "byte_end", "href").rows()
    for (start, end, href), following in zip(spans, [*spans[1:], None], strict=True):
        assert data.startswith(b"<li", start)
        assert f'href="{href}"'.encode() in data[start:end]
        assert following is None or end == following[0]
    assert data[: spans[-1][1]].endswith(b"</li>")


def test_a_dochub_category_page_is_refused_whole() -> None:
    text = _page("dochub-list-2018")
    listings, footers, rejects = _parse(text)
    assert listings.height == 0
    assert footers.select(FOOTER).rows() == [
        ("dochub-list-2018", "category", None, None, None, None)
    ]
    assert rejects.select("byte_start", "byte_end", "reason").rows() == [
        (0, len(text.encode("utf-8")),
         "category page of layout dochub-list-2018 (no price printed): not read")
    ]  # fmt: skip


def test_a_page_no_layout_fits_names_the_nearest_and_what_differs() -> None:
    moredoc = _page("moredoc-web-2024-07").replace('class="search-result"', 'class="result-list"')
    dochub = _page("dochub-2018-08-11").replace('class="wenku-result"', 'class="results"')
    listings, footers, rejects = _parse(moredoc, dochub)
    assert listings.height == 0
    assert footers.select("layout", "page_type", "total_results").rows() == [(None, None, None)] * 2
    assert rejects.select("snapshot_id", "byte_start", "reason").rows() == [
        ("s0", 0,
         "HTML page fits no known layout: nearest moredoc-2022-12, moredoc-2023-01, "
         "moredoc-2023-04, moredoc-web-2024-07 (has h3.doc-title a, div.doc-desc, div.doc-info, "
         'div.el-rate, a[href*="/document/"]; lacks div.search-result); not read'),
        ("s1", 0,
         "HTML page fits no known layout: nearest dochub-2018-04, dochub-2018-08, "
         "dochub-2018-08-11 (has div.wenku-title a, div.wenku-desc, div.wenku-info, "
         'span.pull-right, a[href*="/view/"]; lacks ul.wenku-result); not read'),
    ]  # fmt: skip
    assert rejects["byte_end"].to_list() == [len(moredoc.encode()), len(dochub.encode())]


def test_a_page_with_no_mark_of_any_layout_is_no_results_page() -> None:
    _, _, rejects = _parse("<html><body><li>x</li></body></html>")
    assert rejects["reason"].to_list() == [
        "HTML page has no search result list (div.search-result): not a results page"
    ]


def test_sizes_that_print_alike_either_way_read_as_the_two_decimal_layout() -> None:
    """`21.69 KB` is what both formatBytes versions print for 22211 bytes: a page of such
    sizes reads as 2023-04, whose readings are the trimmed printer's too."""
    text = _page("moredoc-2023-01").replace("500 B", "21.69 KB").replace("1.5 KB", "1.53 KB")
    listings, footers, _ = _parse(text)
    assert footers["layout"].to_list() == ["moredoc-2023-04"]
    assert listings.select("size_bytes_min", "size_bytes_max", "parse_error").rows() == [
        (22206, 22215, None), (1562, 1571, None),  # 1024 * 1.525 = 1561.6 … 1024 * 1.535 = 1571.84
    ]  # fmt: skip
    for printer in (layouts.JS_FIXED, layouts.JS_TRIMMED):
        _assert_bounds_exact("21.69 KB", 22206, 22215, printer)
        _assert_bounds_exact("1.53 KB", 1562, 1571, printer)


def test_a_literal_time_on_only_some_listings_is_not_the_2022_12_page() -> None:
    """2022-12 is told by every listing's time being the template's literal: with one
    relative age the page is 2023-01 (its sizes are trimmed), and the literal is no age
    that template printed."""
    literal = '<span class="hidden-xs-only">| 2019-06-10 10:17</span>'
    text = _page("moredoc-2022-12").replace(
        literal, '<span class="hidden-xs-only">| 3 天前</span>', 1
    )
    listings, footers, _ = _parse(text)
    assert footers["layout"].to_list() == ["moredoc-2023-01"]
    assert listings["age_text"].to_list()[0] == "3 天前"
    assert listings["parse_error"][0] is None
    # A clock time in a relative-time layout is read as the age it stands for, and refused.
    assert listings["parse_error"][1] == (
        "age '2019-06-10 10:17' cannot be rendered by the site's age rules"
    )


def test_a_category_item_without_stars_reads_the_pages_unrated_4() -> None:
    """The category page prints `parseFloat(score) / 100 || 4.0`: an item whose star widget
    is missing reads as the 4 it would show."""
    listings, _, rejects = _parse(_without_first_stars(_page("moredoc-list-2023-04")))
    assert rejects.height == 0
    assert listings.select("rating", "score", "parse_error").rows() == [
        (4.0, 400, None),
        (4.0, 400, None),
    ]


def test_a_search_item_without_stars_is_a_reject_naming_them() -> None:
    text = _page("dochub-2018-08-11").replace("4.5 分 <span", "<span", 1)
    listings, _, _ = _parse(text)
    assert listings["parse_error"].to_list() == [
        "item has no rating (div.wenku-info div.text-muted)",
        None,
    ]


def test_a_dochub_rating_spaced_unlike_its_layout_is_named() -> None:
    """2018-08-11 prints `4.5 分`; a glued `4.5分` on such a page is not what it printed."""
    text = _page("dochub-2018-08-11").replace("3.0 分", "3.0分")
    listings, _, _ = _parse(text)
    assert listings["parse_error"].to_list() == [None, "rating '3.0分' is not a score/100 decimal"]


def test_dochub_items_are_read_in_their_own_spacing_and_selectors() -> None:
    text = _page("dochub-2018-04").replace("5金币 | 12页", "5金币 | 12 页")
    text = text.replace('<div class="wenku-desc help-block">Go 语言实战一书</div>', "")
    listings, _, _ = _parse(text)
    assert listings["parse_error"].to_list() == [
        "item has no div.wenku-desc",
        # Read in 2018-04's spacing, the pages are all before `页`: `12 ` is no count.
        "pages '12 ' is not a positive integer or '-'",
    ]


def test_a_dochub_page_without_results_has_no_listing_and_no_reject() -> None:
    text = _page("dochub-2018-08-11")
    start = text.index('<li class="clearfix">', text.index('<ul class="wenku-result">'))
    end = text.index("</ul>", start)
    empty = (
        '<li class="clearfix">\n<div class="help-block text-center mgt-15px">'
        "亲，很遗憾没能搜到您想要的结果，建议您更换搜索关键字重试.</div>\n</li>"
    )
    text = text[:start] + empty + text[end:]
    text = text.replace(
        '<span class="text-success">25</span>', '<span class="text-success">0</span>'
    )
    start = text.index('<ul class="pagination">')
    text = text[:start] + text[text.index("</ul>", start) + len("</ul>") :]
    listings, footers, rejects = _parse(text)
    assert (listings.height, rejects.height) == (0, 0)
    assert footers.select(FOOTER).rows() == [("dochub-2018-08-11", "search", 0, None, 12345, 0.003)]


def test_a_link_saved_absolute_is_read_by_its_path() -> None:
    text = _page("moredoc-web-2024-07").replace(
        'href="/document/401"', 'href="https://wenku.example/document/401?from=search"'
    )
    listings, _, _ = _parse(text)
    assert listings.select("document_ref", "document_id", "parse_error").rows() == [
        ("0f1e2d3c4b5a6978", None, None), ("401", 401, None)
    ]  # fmt: skip


def test_pages_of_several_layouts_in_one_batch_read_as_alone() -> None:
    names = sorted(EXPECTED)
    listings, footers, rejects = _parse(*(_page(name) for name in names))
    assert rejects.height == 0
    assert footers["layout"].to_list() == names
    for i, name in enumerate(names):
        mine = listings.filter(pl.col("snapshot_id") == f"s{i}").sort("position")
        assert mine.select(COLUMNS).rows() == EXPECTED[name][1], name


def test_category_icons_named_by_the_extension_give_the_family_and_the_extension() -> None:
    listings, _, _ = _parse(_page("moredoc-list-2022-12"))
    assert listings.select("file_family", "ext").rows() == [("pdf", ".pdf"), ("word", ".docx")]


def test_the_heading_is_title_then_description_in_every_layout() -> None:
    listings, _, _ = _parse(*(_page(name) for name in sorted(EXPECTED)))
    assert (listings["heading"] == listings["title"] + listings["description"]).all()


def _without_first_stars(text: str) -> str:
    start = text.index('<div role="slider"')
    end = text.index("</div>", text.index('class="el-rate__text"', start)) + len("</div>")
    return text[:start] + text[end:]


def test_a_page_told_by_its_sizes_keeps_its_layouts_rules_in_a_mixed_batch() -> None:
    """A page read as the rating-first latest and then told trimmed (`_refined`) is read by
    the trimmed layout's rules in a batch of other layouts too: the category page's unrated
    4, the search page's reasons."""
    category = _without_first_stars(_page("moredoc-list-2022-12"))
    search = _page("moredoc-2023-01").replace('<div class="doc-desc">系统编程</div>', "", 1)
    listings, footers, _ = _parse(category, search, _page("dochub-2018-04"))
    assert footers["layout"].to_list() == [
        "moredoc-list-2022-12",
        "moredoc-2023-01",
        "dochub-2018-04",
    ]
    assert listings.filter(pl.col("snapshot_id") == "s0").select(
        "rating", "parse_error"
    ).rows() == [(4.0, None), (4.0, None)]
    assert listings.filter(pl.col("snapshot_id") == "s1")["parse_error"].to_list() == [
        "item has no div.doc-desc",
        None,
    ]
