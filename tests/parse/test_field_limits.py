"""Field values at the edges of what the tables hold: huge ages, huge sizes, bare sizes.

One listing with an extreme value sits between two good ones on a text page. It is either
a valid listing with exact values or a reject with its reason; either way the rest of the
page parses and nothing escapes as an exception (docs/input-format.md §1.3, §1.4, §1.7, §5).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest

from pipeline.parse import fields
from tests.conftest import RAW, assert_nothing_lost

GOOD = "好标题好描述0 码力 | 12 页 | 1.00 MB | 9 月前3"
# A good listing without its age block: valid at any fetch time.
GOOD_UNAGED = "好标题好描述0 码力 | 12 页 | 1.00 MB3"
INT64_MAX = 2**63 - 1


def _page(middle: str, good: str = GOOD) -> str:
    return "\n".join([good, middle, good]) + "\n共 3 条\n- 1\n"


def _one_page(normalise_texts, middle: str):
    text = _page(middle)
    tables = normalise_texts({"page.txt": text})
    assert_nothing_lost(tables, tables.snapshots["snapshot_id"].item(), text)
    return tables


# --- Ages (§1.4) ---------------------------------------------------------------------------

# Fetched 2026-11-20 09:30:00 UTC, `2054 年前` reaches back to 0001-05-20 09:30:01, the
# oldest interval inside the tables' range; `2055 年前` would start before 0001-01-01.
AGES_BEFORE_YEAR_1 = ["2055 年前", "300000 年前", "9999999 年前"]


@pytest.mark.parametrize("age", AGES_BEFORE_YEAR_1)
def test_an_age_reaching_back_before_year_1_is_a_reject_and_the_page_parses(
    normalise_texts, age: str
) -> None:
    """Before the fix `300000 年前` made polars panic (`DateTime + TimeDelta overflowed`)
    and `9999999 年前` failed inside pandera: one listing stopped its whole batch."""
    bad = f"坏标题0 码力 | 12 页 | 1.00 MB | {age}3"
    tables = _one_page(normalise_texts, bad)
    assert tables.listings["position"].to_list() == [1, 3]
    assert tables.rejects.select("position", "stage", "fragment", "reason").rows() == [
        (2, "parse", bad,
         f"age '{age}' reaches back before 0001-01-01 UTC, the earliest upload time the "
         "tables hold"),
    ]  # fmt: skip


def test_the_oldest_age_the_tables_hold_is_read_exactly(normalise_texts) -> None:
    tables = _one_page(normalise_texts, "老标题0 码力 | 12 页 | 1.00 MB | 2054 年前3")
    assert tables.rejects.height == 0
    row = tables.listings.filter(pl.col("position") == 2).row(0, named=True)
    assert (row["uploaded_at_min"], row["uploaded_at_max"]) == (
        datetime(1, 5, 20, 9, 30, 1, tzinfo=UTC),
        datetime(2, 5, 15, 9, 30, tzinfo=UTC),
    )


def test_just_now_fetched_in_year_1_reaches_back_before_year_1_and_is_a_reject(
    normalise_texts,
) -> None:
    """刚刚 is the last minute: fetched 30 s into year 1, that minute starts in year 0."""
    bad = "坏标题0 码力 | 12 页 | 1.00 MB | 刚刚3"
    text = _page(bad, GOOD_UNAGED)
    tables = normalise_texts({"page.txt": text}, fetched_at=datetime(1, 1, 1, 0, 0, 30, tzinfo=UTC))
    assert_nothing_lost(tables, tables.snapshots["snapshot_id"].item(), text)
    assert tables.rejects.select("position", "fragment", "reason").rows() == [
        (2, bad,
         "age '刚刚' reaches back before 0001-01-01 UTC, the earliest upload time the "
         "tables hold"),
    ]  # fmt: skip
    assert tables.listings["position"].to_list() == [1, 3]


# DocHub's local minute 0001-01-01 00:00 in Asia/Shanghai is 0000-12-31 16:00 UTC.
@pytest.mark.parametrize("clock", ["0001-01-01 00:00", "0000-06-01 12:00"])
def test_a_dochub_minute_before_year_1_in_utc_is_a_reject(normalise_texts, clock: str) -> None:
    good = "好标题\n好描述\n4.5 分\n0 金币 | 12 页 | 1.00 MB | 2020-01-01 00:00"
    bad = f"坏标题\n坏描述\n4.5 分\n0 金币 | 12 页 | 1.00 MB | {clock}"
    text = "\n".join([good, bad, good]) + "\n1\n2\n>>\n..2\n"
    tables = normalise_texts({"page.txt": text})
    assert_nothing_lost(tables, tables.snapshots["snapshot_id"].item(), text)
    assert tables.rejects.select("position", "fragment", "reason").rows() == [
        (2, bad,
         f"age '{clock}' reaches back before 0001-01-01 UTC, the earliest upload time the "
         "tables hold"),
    ]  # fmt: skip
    assert tables.listings["position"].to_list() == [1, 3]


# --- Sizes (§1.3) --------------------------------------------------------------------------

# (text, size_bytes, size_bytes_min, size_bytes_max): exact integers. The unit is
# JavaScript's floor(log(b) / log(1024)) in doubles, which picks PB 3 bytes and EB 6208
# bytes before their powers of 1024 (docs/input-format.md §1.3); EB is the last unit a
# signed 64-bit size reaches, so its range ends at 2**63 - 1.
BIG_SIZES = [
    # The last byte counts before PB: the point, one past them, is clamped in.
    ("1024.00 TB", 1125899906842620, 1125894409284486, 1125899906842620),
    ("48.83 PB", 54977692451125330, 54972062951591117, 54983321950659543),
    ("1024.00 PB", 1152921504606840767, 1152915875107312763, 1152921504606840767),
    ("7.99 EB", 9211842821808707338, 9206078214285673104, 9217607429331741573),
    # Its bounds would run past 2**63 - 1: they stop there, and so does the point.
    ("8.00 EB", INT64_MAX, 9217607429331741574, INT64_MAX),
]


@pytest.mark.parametrize(("size", "point", "low", "high"), BIG_SIZES)
def test_the_largest_sizes_up_to_int64_are_exact(
    normalise_texts, size: str, point: int, low: int, high: int
) -> None:
    """Before the fix every size from `41943.04 TB` on was rejected as not renderable:
    its bounds overflowed Int64 midway through the arithmetic."""
    tables = _one_page(normalise_texts, f"大文件0 码力 | 12 页 | {size} | 9 月前3")
    assert tables.rejects.height == 0
    row = tables.listings.filter(pl.col("position") == 2).row(0, named=True)
    assert (row["size_bytes"], row["size_bytes_min"], row["size_bytes_max"]) == (point, low, high)


@pytest.mark.parametrize(
    "size", ["8.01 EB", "8388608.01 TB", "1.00 ZB", "123456789012345678901234567890.00 TB"]
)
def test_a_size_over_int64_is_a_reject_saying_so(normalise_texts, size: str) -> None:
    bad = f"大文件0 码力 | 12 页 | {size} | 9 月前3"
    tables = _one_page(normalise_texts, bad)
    assert tables.listings["position"].to_list() == [1, 3]
    assert tables.rejects.select("position", "fragment", "reason").rows() == [
        (2, bad, f"size '{size}' is over 2^63 - 1 bytes, more than the site stores"),
    ]


@pytest.mark.parametrize("size", ["50000.00 TB", "1025.00 TB", "0.99 PB"])
def test_a_size_in_a_unit_the_site_would_not_pick_is_a_reject(normalise_texts, size: str) -> None:
    """The site picks the unit before rounding: 48.83 PB prints as PB, never `50000.00 TB`,
    and nothing prints below 1.00 in a unit above B."""
    bad = f"大文件0 码力 | 12 页 | {size} | 9 月前3"
    tables = _one_page(normalise_texts, bad)
    assert tables.listings["position"].to_list() == [1, 3]
    assert tables.rejects.select("position", "reason").rows() == [
        (2, f"size '{size}' cannot be rendered by base-1024 toFixed(2)"),
    ]


def test_size_bounds_hold_every_rendering_of_the_largest_sizes() -> None:
    """The bytes each bound stands for render as the text, one byte further out do not."""
    from render.fields import render_size

    texts = [size for size, *_ in BIG_SIZES]
    frame = pl.DataFrame({"t": texts}).select(fields.size_fields(pl.col("t"))[:3])
    for text, (_, low, high) in zip(texts, frame.rows(), strict=True):
        assert render_size(low) == text and render_size(low - 1) != text
        assert render_size(high) == text
        assert high == INT64_MAX or render_size(high + 1) != text


# --- A bare size (§1.7) --------------------------------------------------------------------


@pytest.mark.parametrize("size", ["5", "619.3", "12,83", "-1", "MB5", "12.83MB3"])
def test_a_bare_size_followed_by_an_age_ends_its_own_listing(normalise_texts, size: str) -> None:
    """Before the fix the bad listing ran on into the next one: two listings, no reject,
    and the third listing's heading held the whole second listing."""
    bad = f"坏标题0 码力 | 12 页 | {size} | 9 月前3"
    tables = _one_page(normalise_texts, bad)
    assert tables.listings["heading"].to_list() == ["好标题好描述", "好标题好描述"]
    assert tables.listings["position"].to_list() == [1, 3]
    assert tables.rejects.select("position", "fragment", "reason").rows() == [
        (2, bad, f"unknown size '{size}': expected N.NN B|KB|MB|GB|TB|PB|EB|ZB|YB or 0 Bytes"),
    ]


def test_a_spaceless_size_before_a_heading_starting_with_a_bar_ends_at_its_rating(
    normalise_texts,
) -> None:
    """Found by the fuzzer: in text flattened further, `12.83MB3 | 云云云0 码力 | …` read as
    a bare size `12.83MB3` with the age `云云云` and rating 0, swallowing the start of the
    next listing. An age after a bare size must end as the site's ages do."""
    bad = "坏标题0 码力 | 12 页 | 12.83MB3"
    text = f"{bad} | 云云云0 码力 | 1 页 | 0 Bytes | 9 月前3\n共 2 条\n"
    tables = normalise_texts({"flat.txt": text})
    assert tables.rejects.select("position", "fragment", "reason").rows() == [
        (1, bad, "unknown size '12.83MB': expected N.NN B|KB|MB|GB|TB|PB|EB|ZB|YB or 0 Bytes"),
    ]
    assert tables.listings.select("position", "heading", "size_text").rows() == [
        (2, "| 云云云", "0 Bytes"),
    ]


def test_a_page_cut_mid_size_stays_a_truncation(normalise_texts) -> None:
    """A bare number ends a listing only when an age block follows it: at the end of a
    page it is where the page was cut, not a size and a rating."""
    text = GOOD + "\n末标题0 码力 | 14 页 | 619.3"
    tables = normalise_texts({"cut.txt": text})
    assert tables.listings["position"].to_list() == [1]
    assert tables.rejects.select("fragment", "reason").rows() == [
        ("末标题0 码力 | 14 页 | 619.3",
         "text after the last listing has no tail and no footer (page truncated?)"),
    ]  # fmt: skip


# --- The API's exact upload times (§3.2) ---------------------------------------------------

OUT_OF_RANGE = "is outside 0001-01-01..9999-12-31 UTC, the upload times the tables hold"


@pytest.mark.parametrize(
    "created_at",
    ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
)
def test_an_api_upload_time_outside_years_1_to_9999_rejects_its_document(
    normalise_texts, created_at: str
) -> None:
    """Before the fix year 0 went into the listings table (and crashed any Python reader),
    and year 10000 made pandera's failure report crash the batch (SchemaErrors escaped)."""
    page = json.loads((RAW / "wenku-search-page.json").read_text(encoding="utf-8"))
    page["document"][2]["created_at"] = created_at
    text = json.dumps(page, ensure_ascii=False)
    tables = normalise_texts({"page.json": text})
    assert tables.listings["position"].to_list() == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    assert tables.rejects.select("position", "stage", "reason").rows() == [
        (3, "parse", f"created_at '{created_at}' {OUT_OF_RANGE}"),
    ]
