"""The site's rendering rules (docs/input-format.md §1–§2), checked value by value.

`render` is the oracle the parser's property tests and benchmarks trust, so
every rule is pinned here with the exact text docs/input-format.md §1–§2 or the real sample
page shows.
"""

from __future__ import annotations

import doctest
import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

import render.api
import render.fields
import render.html
import render.text
from pipeline.parse.layouts import FLOAT_LOG_THRESHOLDS
from render.fields import (
    Document,
    default_pager,
    pager_window,
    render_age,
    render_rating,
    render_size,
)
from render.text import ambiguities, render_listing, render_page, render_tail
from tests.parse.golden import sample_truth
from tests.strategies import age_seconds, listings, pages_, sizes

ROOT = Path(__file__).resolve().parents[2]
FETCHED_AT = datetime(2026, 11, 26, 8, 0, 0, tzinfo=UTC)
DAY = 86400
SIZE_TEXT = re.compile(r"^([0-9]+\.[0-9]{2} (B|KB|MB|GB|TB|PB|EB)|0 Bytes)$")


def doc(**changes: object) -> Document:
    """A plain free document; tests change only the field they are about."""
    fields: dict[str, object] = {
        "title": "Nacos架构&原理",
        "description": "缓存机制:容灾目录,是 Nacos 高可用的关键。",
        "price": 0,
        "credit": "码力",
        "pages": 326,
        "size_bytes": 13453230,
        "uploaded_at": FETCHED_AT - timedelta(days=280),
        "score": 300,
    }
    fields.update(changes)
    return Document(**fields)  # type: ignore[arg-type]


def ago(seconds: int) -> str:
    return render_age(FETCHED_AT, FETCHED_AT - timedelta(seconds=seconds))


# --- SIZE ------------------------------------------------------------------------------


def test_it_shows_zero_bytes_as_the_word_bytes() -> None:
    """It shows zero bytes as `0 Bytes`, the only size without two decimals."""
    assert render_size(0) == "0 Bytes"


@pytest.mark.parametrize(
    ("size_bytes", "shown"),
    [(1, "1.00 B"), (512, "512.00 B"), (1023, "1023.00 B"), (1024, "1.00 KB")],
)
def test_it_shows_sizes_below_a_kilobyte_in_bytes_with_two_decimals(
    size_bytes: int, shown: str
) -> None:
    """It shows sizes below 1024 in `B`, still with two decimals."""
    assert render_size(size_bytes) == shown


def test_it_rounds_an_exact_tie_up_as_javascripts_tofixed_does() -> None:
    """It rounds an exact tie up, as JavaScript's toFixed does (Python's format would not)."""
    assert f"{1152 / 1024:.2f}" == "1.12"  # the trap: round-half-even on the exact 1.125
    assert render_size(1152) == "1.13 KB"
    assert render_size(1179648) == "1.13 MB"  # 1.125 MiB
    assert render_size(1151) == "1.12 KB"
    assert render_size(1153) == "1.13 KB"


@pytest.mark.parametrize("size_bytes", range(1048571, 1048576))
def test_it_chooses_the_unit_before_rounding(size_bytes: int) -> None:
    """It chooses the unit before rounding, so just under 1 MiB shows `1024.00 KB`."""
    assert render_size(size_bytes) == "1024.00 KB"


def test_it_switches_unit_exactly_at_a_power_of_1024() -> None:
    """It switches to the next unit at exactly 1024**i bytes, found with integers."""
    assert render_size(1048570) == "1023.99 KB"
    assert render_size(1048576) == "1.00 MB"
    assert render_size(1024**3 - 1) == "1024.00 MB"
    assert render_size(1024**3) == "1.00 GB"


@pytest.mark.parametrize(
    ("size_bytes", "shown"),
    [
        (13453230, "12.83 MB"),
        (634184, "619.32 KB"),
        (3 * 1024**3 // 2, "1.50 GB"),
        (2 * 1024**3, "2.00 GB"),
        (1024**4, "1.00 TB"),
        (2 * 1024**4, "2.00 TB"),
        # JavaScript's floor(log(b) / log(1024)) reaches 5 three bytes before 1024**5.
        (1024**5 - 4, "1024.00 TB"),
        (1024**5 - 3, "1.00 PB"),
        (54975581388800000, "48.83 PB"),
        (1024**6 - 6209, "1024.00 PB"),
        (1024**6 - 6208, "1.00 EB"),
        (2**63 - 1, "8.00 EB"),
    ],
)
def test_it_shows_large_sizes_in_the_unit_javascript_picks(size_bytes: int, shown: str) -> None:
    """It shows MB to EB, the unit picked as the site's float logarithm picks it."""
    assert render_size(size_bytes) == shown


def _tofixed_oracle(size_bytes: int) -> str:
    """An independent rendering with Decimal: unit by comparison with the first byte count
    of each unit, ROUND_HALF_UP."""
    if size_bytes == 0:
        return "0 Bytes"
    i = max(k for k, first in enumerate(FLOAT_LOG_THRESHOLDS) if size_bytes >= first)
    value = (Decimal(size_bytes) / Decimal(1024**i)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return f"{value} {render.fields.SIZE_UNITS[i]}"


@given(sizes())
def test_every_size_renders_in_the_sites_shape_and_agrees_with_a_decimal_oracle(
    size_bytes: int,
) -> None:
    """Every size renders as `N.NN UNIT` or `0 Bytes`, as a Decimal half-up oracle does."""
    shown = render_size(size_bytes)
    assert SIZE_TEXT.match(shown)
    assert shown == _tofixed_oracle(size_bytes)


# --- AGE -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "刚刚"),
        (59, "刚刚"),
        (60, "1 分钟前"),
        (3599, "59 分钟前"),
        (3600, "1 小时前"),
        (DAY - 1, "23 小时前"),
        (DAY, "1 天前"),
        (30 * DAY - 1, "29 天前"),
        (30 * DAY, "1 月前"),
        (270 * DAY, "9 月前"),
        (300 * DAY - 1, "9 月前"),
        (300 * DAY, "10 月前"),
        (360 * DAY - 1, "11 月前"),
        (360 * DAY, "12 月前"),
        (360 * DAY + 1, "1 年前"),
        (390 * DAY, "1 年前"),
        (720 * DAY - 1, "1 年前"),
        (720 * DAY, "2 年前"),
        (1080 * DAY, "3 年前"),
    ],
)
def test_it_shows_ages_with_thirty_day_months_and_360_day_years(seconds: int, shown: str) -> None:
    """It shows ages with 30-day months and 360-day years, never calendar months."""
    assert ago(seconds) == shown


def test_it_shows_twelve_months_only_at_exactly_360_days() -> None:
    """It shows `12 月前` only at exactly 360 days: the year rule needs m > 12."""
    shown = {ago(s) for s in range(330 * DAY, 400 * DAY, 3600)} | {ago(360 * DAY)}
    assert "12 月前" in shown
    assert ago(360 * DAY - 1) == "11 月前"
    assert ago(360 * DAY + 1) == "1 年前"


def test_it_shows_just_now_when_the_upload_time_is_missing_or_in_the_future() -> None:
    """It shows `刚刚` when the upload time is missing, or later than the fetch."""
    assert render_age(FETCHED_AT, None) == "刚刚"
    assert ago(-3600) == "刚刚"


def test_it_floors_a_fractional_second() -> None:
    """It counts whole seconds, so 59.9 s is still `刚刚`."""
    assert render_age(FETCHED_AT, FETCHED_AT - timedelta(seconds=59.9)) == "刚刚"


_AGE_TEXT = re.compile(r"^(刚刚|([0-9]+) (分钟|小时|天|月|年)前)$")
_UNIT_SECONDS = {"分钟": 60, "小时": 3600, "天": DAY, "月": 30 * DAY, "年": 360 * DAY}


@given(age_seconds())
def test_every_age_lies_in_the_interval_its_text_promises(seconds: int) -> None:
    """Every age lies in the interval docs/input-format.md §1.4 inverts its text to."""
    shown = ago(seconds)
    m = _AGE_TEXT.match(shown)
    assert m, shown
    if m.group(1) == "刚刚":
        assert seconds < 60
        return
    n, unit = int(m.group(2)), _UNIT_SECONDS[m.group(3)]
    if m.group(3) == "年" and n == 1:
        assert 360 * DAY < seconds < 720 * DAY
    else:
        assert n * unit <= seconds < (n + 1) * unit
    if m.group(3) == "月":
        assert 1 <= n <= 12


# --- RATING ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "shown"),
    [
        (300, "3"),
        (450, "4.5"),
        (425, "4.25"),
        (3, "0.03"),
        (10, "0.1"),
        (0, "0"),
        (105, "1.05"),
        (500, "5"),
        (1000, "10"),
    ],
)
def test_it_shows_the_rating_as_the_shortest_decimal(score: int, shown: str) -> None:
    """It shows score / 100 as the shortest decimal, as JavaScript prints a number."""
    assert render_rating(score) == shown


@given(st.integers(0, 10_000))
def test_every_rating_reads_back_as_its_score(score: int) -> None:
    """Every rating reads back as exactly its score, with no trailing zero."""
    shown = render_rating(score)
    assert Decimal(shown) * 100 == score
    assert not (("." in shown) and shown.endswith("0"))


# --- One listing -----------------------------------------------------------------------


def test_it_rebuilds_the_nacos_tail_of_the_real_sample() -> None:
    """It rebuilds `0 码力 | 326 页 | 12.83 MB | 9 月前3` from the sample's Nacos listing."""
    assert render_tail(doc(), FETCHED_AT) == "0 码力 | 326 页 | 12.83 MB | 9 月前3"


def test_it_rebuilds_the_pulsar_tail_with_an_anomalous_rating() -> None:
    """It rebuilds `0 码力 | 39 页 | 12.71 MB | 6 月前0.03`: a score of 3 shows as 0.03."""
    pulsar = doc(
        pages=39, size_bytes=13327401, score=3, uploaded_at=FETCHED_AT - timedelta(days=190)
    )
    assert render_tail(pulsar, FETCHED_AT) == "0 码力 | 39 页 | 12.71 MB | 6 月前0.03"


def test_it_glues_the_price_to_a_description_ending_in_digits() -> None:
    """It glues the price to the description, so `…管控10/20` + 0 reads `10/200 码力`."""
    listing = doc(
        title="金融级云原生 PaaS 探索与实践",
        description="二、多集群管控10/20",
        pages=20,
        size_bytes=1793065,
        uploaded_at=FETCHED_AT - timedelta(days=190),
    )
    assert render_listing(listing, FETCHED_AT, title_layout="repeated").endswith(
        "多集群管控10/200 码力 | 20 页 | 1.71 MB | 6 月前3"
    )


def test_it_glues_the_rating_to_size_when_the_age_block_is_hidden() -> None:
    """It glues the rating to SIZE when the narrow layout hides ` | AGE`."""
    assert render_tail(doc(), FETCHED_AT, show_age=False) == "0 码力 | 326 页 | 12.83 MB3"


def test_it_shows_a_dash_for_an_unknown_page_count() -> None:
    """It shows `-` for an unknown page count and `0 Bytes` for an empty file."""
    tail = render_tail(doc(pages=None, size_bytes=0, credit="魔豆", price=5), FETCHED_AT)
    assert tail == "5 魔豆 | - 页 | 0 Bytes | 9 月前3"


def test_it_lays_the_title_out_in_the_three_ways_the_text_form_shows() -> None:
    """It puts the title on its own line, glues it, or repeats it as slides do."""
    d = doc(title="标题文本", description="描述")
    tail = render_tail(d, FETCHED_AT)
    assert render_listing(d, FETCHED_AT, title_layout="own_line") == "标题文本\n描述" + tail
    assert render_listing(d, FETCHED_AT) == "标题文本描述" + tail
    assert render_listing(d, FETCHED_AT, title_layout="repeated") == "标题文本标题文本描述" + tail
    with pytest.raises(ValueError, match="title_layout"):
        render_listing(d, FETCHED_AT, title_layout="sideways")


def test_it_refuses_a_document_the_site_could_not_hold() -> None:
    """It refuses negative prices or sizes, zero pages, naive times and spaced credits."""
    for bad in (
        {"price": -1},
        {"size_bytes": -1},
        {"pages": 0},
        {"score": -1},
        {"uploaded_at": datetime(2026, 1, 1)},
        {"credit": "码 力"},
        {"credit": ""},
    ):
        with pytest.raises(ValueError):
            doc(**bad)


# --- The page --------------------------------------------------------------------------


def test_it_ends_a_page_with_the_footer_exactly_as_the_sample_does() -> None:
    """It ends a page with `共 N 条`, the pager lines, then 13 blank lines."""
    page = render_page([doc()], FETCHED_AT, total_results=145, last_page=15)
    assert page.endswith("9 月前3\n共 145 条\n- 1\n- 2\n- 3\n- 4\n- 5\n- 6\n- 15\n" + "\n" * 13)


def test_it_separates_listings_and_always_breaks_the_line_before_the_footer() -> None:
    """It puts the separator between listings and a line break after the last one."""
    a, b = doc(title="第一份文档"), doc(title="第二份文档")
    tail = render_tail(a, FETCHED_AT)
    flat = render_page([a, b], FETCHED_AT, total_results=2, last_page=1, separator=" ")
    assert flat.startswith(f"第一份文档{a.description}{tail} 第二份文档")
    assert flat.count(tail + " ") == 1
    assert f"{tail}\n共 2 条\n- 1\n\n" in flat


def test_it_shows_a_short_pager_in_full() -> None:
    """It shows every page when there are few, and the window plus the last page otherwise."""
    assert default_pager(1) == [1]
    assert default_pager(3) == [1, 2, 3]
    assert default_pager(7) == [1, 2, 3, 4, 5, 6, 7]
    assert default_pager(15) == [1, 2, 3, 4, 5, 6, 15]
    assert default_pager(0) == []


def test_the_pager_window_on_page_one_is_the_default_pager() -> None:
    """It agrees with the 7-button pager on page 1, and slides the window on later pages."""
    assert all(pager_window(1, n) == default_pager(n) for n in range(0, 40))
    assert pager_window(8, 15) == [1, 6, 7, 8, 9, 10, 15]
    assert pager_window(15, 15) == [1, 10, 11, 12, 13, 14, 15]
    assert pager_window(4, 15) == [1, 2, 3, 4, 5, 6, 15]


def test_it_wants_one_layout_and_one_age_flag_per_listing() -> None:
    """It refuses layouts or age flags that do not match the listings one to one."""
    with pytest.raises(ValueError, match="one title layout"):
        render_page([doc()], FETCHED_AT, total_results=1, last_page=1, title_layouts=[])


# Each listing of the real sample: title, layout, price, pages, bytes, days old, score.
# Byte counts are the point values of the shown sizes; 9 月前 = 280 d, 6 月前 = 190 d.
SAMPLE_LISTINGS = [
    ("Nacos架构&原理", "own_line", 0, 326, 13453230, 280, 300),
    ("24-云原生中间件之道-高磊", "glued", 0, 22, 4603249, 190, 300),
    ("金融级云原生 PaaS 探索与实践", "repeated", 0, 20, 1793065, 190, 300),
    ("sealos 以 kubernetes 为内核的云操作系统", "glued", 0, 29, 8011121, 280, 300),
    ("深入 Kubernetes 的无人区-蚂蚁金服双十一的调度系统", "glued", 0, 19, 2285896, 190, 300),
    (
        "Service Mesh是下一代SDN吗:从通信角度看Service Mesh的发展",
        "glued",
        0,
        27,
        12572426,
        190,
        300,
    ),
    ("网易云Service Mesh的产品架构与实现", "glued", 0, 35, 6637486, 190, 300),
    ("Apache Pulsar,云原生时代的消息平台 - 翟佳", "own_line", 0, 39, 13327401, 190, 3),
    ("09-harbor助你玩转云原生-邹佳", "glued", 0, 32, 17983078, 190, 300),
    ("CurveFS方案设计", "glued", 0, 14, 634184, 190, 300),
]


def test_it_re_renders_the_real_sample_page_byte_for_byte() -> None:
    """It re-renders the whole real sample page byte for byte from its listings' truth."""
    path = ROOT / "data" / "raw" / "wenku-search-page.txt"
    if not path.exists():
        pytest.skip(f"{path} not copied in yet")
    page = path.read_text(encoding="utf-8")
    docs, layouts, pos = [], [], 0
    for title, layout, price, pages, size, days, score in SAMPLE_LISTINGS:
        d = Document(
            title, "", price, "码力", pages, size, FETCHED_AT - timedelta(days=days), score
        )
        tail = render_tail(d, FETCHED_AT)
        end = page.index(tail, pos)
        heading = page[pos:end]
        prefix = {"own_line": title + "\n", "glued": title, "repeated": title + title}[layout]
        assert heading.startswith(prefix), (title, heading[:80])
        docs.append(
            Document(
                title, heading[len(prefix) :], price, "码力", pages, size, d.uploaded_at, score
            )
        )
        layouts.append(layout)
        pos = end + len(tail) + 1  # the line break after the rating
    rebuilt = render_page(docs, FETCHED_AT, total_results=145, last_page=15, title_layouts=layouts)
    assert rebuilt == page


@pytest.mark.parametrize("name", sorted(sample_truth.PAGES))
def test_it_renders_each_committed_sample_page_from_its_truth(name: str) -> None:
    """It renders each of the three rendered text pages in data/raw/ exactly from its truth in
    tests/parse/golden/sample_truth.py."""
    truth = sample_truth.PAGES[name]
    text = render_page(
        truth.documents,
        truth.fetched_at,
        total_results=truth.total_results,
        last_page=truth.last_page,
        pager=truth.pager,
        separator=truth.separator,
        title_layouts=truth.title_layouts,
        show_age=truth.show_age,
    )
    assert (ROOT / "data" / "raw" / name).read_text(encoding="utf-8") == text
    assert len(text.encode()) < 8192
    for d, layout in zip(truth.documents, truth.title_layouts, strict=True):
        assert ambiguities(d, layout) == (), d.title


# --- What the format cannot carry ------------------------------------------------------


def test_it_names_a_glued_description_that_starts_with_the_title_as_a_repetition() -> None:
    """It flags a glued description starting with the title: that text IS a repetition."""
    d = doc(title="云原生架构", description="云原生架构设计")
    assert ambiguities(d, "glued")
    assert ambiguities(d.__class__(**{**d.__dict__, "description": "设计"}), "glued") == ()
    assert ambiguities(doc(title="云原生架构", description="设计"), "repeated") == ()


def test_it_flags_periodic_titles_structure_looking_text_and_stray_line_breaks() -> None:
    """It flags periodic titles, tail- or footer-looking text and misplaced line breaks."""
    assert ambiguities(doc(title="abcdabcd"), "repeated")
    assert ambiguities(doc(description="见 | 12 页 | 说明"))
    assert ambiguities(doc(description="共 12 条结果"))
    assert ambiguities(doc(description="第一行\n第二行"), "glued")
    assert ambiguities(doc(description="第一行\n第二行"), "own_line") == ()
    assert ambiguities(doc(description="第一行\n\n第二行"), "own_line")
    assert ambiguities(doc(description="第一行\n- 3\n第二行"), "own_line")


@given(listings())
def test_every_drawn_listing_holds_exactly_one_tail(
    case: tuple[Document, str, bool, datetime],
) -> None:
    """Every listing the shared strategy draws ends in its tail and holds no other."""
    d, layout, show_age, fetched_at = case
    text = render_listing(d, fetched_at, title_layout=layout, show_age=show_age)
    assert text.endswith(render_tail(d, fetched_at, show_age=show_age))
    assert len(render.text.LOOKS_LIKE_TAIL.findall(text)) == 1


@given(pages_())
def test_every_drawn_page_ends_in_the_footer(
    case: tuple[list[Document], list[str], list[bool], str, datetime],
) -> None:
    """Every page the shared strategy draws has one tail per listing, then the footer."""
    docs, layouts, flags, separator, fetched_at = case
    text = render_page(
        docs,
        fetched_at,
        total_results=len(docs),
        last_page=1,
        separator=separator,
        title_layouts=layouts,
        show_age=flags,
    )
    assert len(render.text.LOOKS_LIKE_TAIL.findall(text)) == len(docs)
    assert text.endswith(f"\n共 {len(docs)} 条\n- 1\n" + "\n" * 13)


@pytest.mark.parametrize(
    "module", [render.fields, render.text, render.html, render.api], ids=lambda m: m.__name__
)
def test_the_docstring_examples_hold(module: ModuleType) -> None:
    """Its docstring examples run and hold."""
    result = doctest.testmod(module)
    assert result.failed == 0
