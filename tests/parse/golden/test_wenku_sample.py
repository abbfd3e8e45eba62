"""Golden test: the real wenku.it page in data/raw/, every field of every listing.

Expected values come from docs/input-format.md worked by hand (titles and glued prices:
§1.1 and §1.2; sizes: §1.3, c/100 × 1024^i and the toFixed bounds; ages: §1.4, 30-day
months), not from running the parser.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from pipeline.ingest import metadata, read
from pipeline.run import normalise
from tests.conftest import SAMPLE, SAMPLE_FETCHED_AT, assert_nothing_lost

T = SAMPLE_FETCHED_AT
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
NINE_MONTHS = (T - 300 * DAY + SECOND, T - 270 * DAY)  # (T − 300 d, T − 270 d]
SIX_MONTHS = (T - 210 * DAY + SECOND, T - 180 * DAY)

# position, title_source, title, price_text, pages, size_text, size_bytes, min, max, age, rating
EXPECTED = [
    (
        1,
        "own_line",
        "Nacos架构&原理",
        "0",
        326,
        "12.83 MB",
        13453230,
        13447988,
        13458472,
        "9 月前",
        3.0,
    ),
    (2, "unknown", None, "0", 22, "4.39 MB", 4603249, 4598006, 4608491, "6 月前", 3.0),
    (
        3,
        "repetition",
        "金融级云原生 PaaS 探索与实践",
        "200",
        20,
        "1.71 MB",
        1793065,
        1787823,
        1798307,
        "6 月前",
        3.0,
    ),
    (4, "unknown", None, "0", 29, "7.64 MB", 8011121, 8005878, 8016363, "9 月前", 3.0),
    (5, "unknown", None, "0", 19, "2.18 MB", 2285896, 2280653, 2291138, "6 月前", 3.0),
    (6, "unknown", None, "0", 27, "11.99 MB", 12572426, 12567184, 12577669, "6 月前", 3.0),
    (7, "unknown", None, "0", 35, "6.33 MB", 6637486, 6632244, 6642728, "6 月前", 3.0),
    (
        8,
        "own_line",
        "Apache Pulsar,云原生时代的消息平台 - 翟佳",
        "0",
        39,
        "12.71 MB",
        13327401,
        13322159,
        13332643,
        "6 月前",
        0.03,
    ),
    (9, "unknown", None, "0", 32, "17.15 MB", 17983078, 17977836, 17988321, "6 月前", 3.0),
    (10, "unknown", None, "0", 14, "619.32 KB", 634184, 634179, 634188, "6 月前", 3.0),
]


@pytest.fixture(scope="module")
def tables() -> normalise.BatchTables:
    return normalise.normalise_batch(read.read_batch([SAMPLE], metadata.ReadOptions()))


@pytest.fixture(scope="module")
def listings(tables: normalise.BatchTables) -> list[dict]:
    return tables.listings.sort("position").to_dicts()


def _tail(row: dict) -> str:
    return f"{row['price_text']} 码力 | {row['pages']} 页 | {row['size_text']} | {row['age_text']}"


def test_it_finds_all_ten_listings_and_no_rejects(tables: normalise.BatchTables) -> None:
    """It reads ten listings and the footer, and rejects nothing."""
    assert tables.listings.height == 10
    assert tables.rejects.height == 0


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: f"listing-{e[0]}")
def test_every_field_is_exact(listings: list[dict], expected: tuple) -> None:
    """Each listing's fields are exactly what the site's rules say the text means."""
    (
        position,
        source,
        title,
        price_text,
        pages,
        size_text,
        size_bytes,
        size_min,
        size_max,
        age,
        rating,
    ) = expected
    row = listings[position - 1]
    assert row["position"] == position
    assert row["title_source"] == source
    assert row["title"] == title
    assert row["price_text"] == price_text
    assert row["price"] == 0
    assert row["price_ambiguous"] is (price_text != "0")
    assert row["credit"] == "码力"
    assert row["pages"] == pages
    assert (row["size_text"], row["size_bytes"]) == (size_text, size_bytes)
    assert (row["size_bytes_min"], row["size_bytes_max"]) == (size_min, size_max)
    assert row["age_text"] == age
    bounds = NINE_MONTHS if age == "9 月前" else SIX_MONTHS
    assert (row["uploaded_at_min"], row["uploaded_at_max"]) == bounds
    assert row["rating"] == rating
    assert row["score"] == round(rating * 100)
    assert row["rating_anomaly"] is (rating < 1)
    assert row["site"] == "wenku.it"
    assert row["fetched_at"] == T


def test_headings_are_the_whole_text_before_the_price(listings: list[dict]) -> None:
    """heading is the page's own text from the title to the price, untouched."""
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    blocks = [lines[0] + "\n" + lines[1], *lines[2:8], lines[8] + "\n" + lines[9], *lines[10:12]]
    for row, block in zip(listings, blocks, strict=True):
        tail = _tail(row) + ("0.03" if row["rating"] < 1 else "3")
        assert block.endswith(tail)
        assert row["heading"] == block.removesuffix(tail) + row["price_text"][:-1]


def test_the_glued_price_200_reads_as_0_and_is_flagged(listings: list[dict]) -> None:
    """`多集群管控10/200 码力` is price 0 (wenku.it's usual price), flagged ambiguous."""
    row = listings[2]
    assert (row["price"], row["price_ambiguous"]) == (0, True)
    assert row["heading"].endswith("多集群管控10/20")


def test_the_pulsar_rating_is_an_anomaly_not_an_error(listings: list[dict]) -> None:
    row = listings[7]
    assert (row["rating"], row["rating_anomaly"], row["score"]) == (0.03, True, 3)


def test_titles_are_only_taken_where_the_text_proves_them(listings: list[dict]) -> None:
    """Own line twice, repetition once, and seven unknown: no invented boundary."""
    sources = [row["title_source"] for row in listings]
    assert sources.count("own_line") == 2
    assert sources.count("repetition") == 1
    assert sources.count("unknown") == 7
    for row in listings:
        if row["title_source"] == "unknown":
            assert row["title"] is None and row["description"] is None
    nacos, finance, pulsar = listings[0], listings[2], listings[7]
    assert nacos["description"].startswith("此简单需求,随着业务规模变大")
    assert pulsar["description"].startswith("streamnative.io Apache Pulsar 要解决的问题")
    assert finance["description"].startswith("金融级云原生 PaaS 探索与实践 王成昌(晙曦)")
    assert finance["title"] + finance["description"] == finance["heading"]


def test_the_footer_gives_total_results_and_last_page(tables: normalise.BatchTables) -> None:
    snapshot = tables.snapshots.row(0, named=True)
    assert (snapshot["total_results"], snapshot["last_page"]) == (145, 15)
    assert snapshot["listing_count"] == 10
    assert snapshot["fetched_at"] == T
    assert snapshot["fetched_at_source"] == "sidecar"
    assert (snapshot["site"], snapshot["query"], snapshot["page"]) == ("wenku.it", "云原生", 1)
    assert snapshot["byte_count"] == 12233


def test_every_byte_is_accounted_for(tables: normalise.BatchTables) -> None:
    snapshot_id = tables.snapshots["snapshot_id"].item()
    assert_nothing_lost(tables, snapshot_id, SAMPLE.read_text(encoding="utf-8"))


def test_listing_spans_slice_the_page_into_the_listings(
    tables: normalise.BatchTables, listings: list[dict]
) -> None:
    """byte_start/byte_end cut exactly the listing's text out of the page."""
    data = SAMPLE.read_bytes()
    for row in listings:
        text = data[row["byte_start"] : row["byte_end"]].decode("utf-8")
        assert text.startswith(row["heading"].removesuffix(row["price_text"][:-1]))
        assert text.endswith(("月前3", "月前0.03"))
    assert pl.Series([r["byte_start"] for r in listings]).is_sorted()
