"""A page's parse rejects are bounded (issue 21, item 1; docs/input-format.md §5): adjacent
rejects of one reason are one, and past `MAX_REJECTS_PER_PAGE` the rest is one reject."""

from __future__ import annotations

import json

import polars as pl

from pipeline.parse.bound import MAX_REJECTS_PER_PAGE, REST_REASON
from tests.conftest import RAW

JSON_PAGE = (RAW / "wenku-search-page.json").read_text(encoding="utf-8")
GOOD = [json.dumps(d, ensure_ascii=False) for d in json.loads(JSON_PAGE)["document"]]
NUMBER = "document is a number, not an object"
TEXT = "document is text, not an object"


def _rejects(tables, name: str = "page.json") -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    snapshot = tables.snapshots.filter(pl.col("source_path").str.ends_with(name)).row(0, named=True)
    sid = pl.col("snapshot_id") == snapshot["snapshot_id"]
    listings = tables.listings.filter(sid).sort("position")
    rejects = tables.rejects.filter(sid).sort("byte_start")
    assert (snapshot["listing_count"], snapshot["reject_count"]) == (
        listings.height,
        rejects.height,
    )
    return listings, rejects, snapshot


def _held(text: str, rejects: pl.DataFrame) -> list[str]:
    data = text.encode("utf-8")
    return [data[s:e].decode() for s, e in rejects.select("byte_start", "byte_end").iter_rows()]


def test_a_list_of_a_million_numbers_is_one_reject(normalise_texts) -> None:
    """Before the fix: a million reject rows (and 3.2 GB for 6 million)."""
    body = ",".join(["1"] * 1_000_000)
    text = '{"document":[' + body + "]}"
    listings, rejects, _ = _rejects(normalise_texts({"page.json": text}))
    assert listings.height == 0
    assert rejects.select("position", "byte_start", "byte_end", "reason").rows() == [
        (1, 13, 13 + len(body), NUMBER)
    ]
    assert rejects["fragment"].to_list() == [body]


def test_runs_split_at_a_listing_and_at_another_reason(normalise_texts) -> None:
    """Each run keeps the first element's position; a single reject keeps its own fragment."""
    elements = ["1", "1", "1", GOOD[0], "1", '"a"', '"b"', GOOD[1], "2"]
    text = '{"document": [' + ", ".join(elements) + "]}"
    listings, rejects, _ = _rejects(normalise_texts({"page.json": text}))
    assert listings["position"].to_list() == [4, 8]
    assert rejects.select("position", "reason", "fragment").rows() == [
        (1, NUMBER, "1, 1, 1"),
        (5, NUMBER, "1"),
        (6, TEXT, '"a", "b"'),
        (9, NUMBER, "2"),
    ]
    assert _held(text, rejects) == ["1, 1, 1", "1", '"a", "b"', "2"]


def test_past_the_limit_the_rest_of_the_page_is_one_reject(normalise_texts) -> None:
    """Alternating reasons cannot merge: the first MAX stand, then one reject holds the rest
    of the list (the listing after it included), up to the last element's end."""
    elements = ["1", '"a"'] * MAX_REJECTS_PER_PAGE + [GOOD[0]]
    text = '{"document": [' + ", ".join(elements) + "]}"
    listings, rejects, _ = _rejects(normalise_texts({"page.json": text}))
    assert listings.height == 0
    assert rejects.height == MAX_REJECTS_PER_PAGE + 1
    assert rejects["reason"].to_list() == [NUMBER, TEXT] * (MAX_REJECTS_PER_PAGE // 2) + [
        REST_REASON
    ]
    rest = rejects.row(-1, named=True)
    assert rest["position"] == MAX_REJECTS_PER_PAGE + 1
    expected = ", ".join(elements[MAX_REJECTS_PER_PAGE:])
    assert rest["fragment"] == expected
    assert rest["byte_end"] == len(text.encode()) - 2 and _held(text, rejects)[-1] == expected


def test_html_junk_between_listings_is_one_reject_per_run(normalise_texts) -> None:
    head, rest = _html_page().split('<div class="search-result"><ul>', 1)
    first = rest.index("<li><h3")
    second = rest.index("<li><h3", first + 1)
    junk = "<li>x</li>" * 5000
    text = head + '<div class="search-result"><ul>' + rest[:second] + junk + rest[second:]
    tables = normalise_texts({"page.html": text})
    listings, rejects, _ = _rejects(tables, "page.html")
    assert listings["position"].to_list() == [1, *range(5002, 5011)]
    assert rejects.select("position", "fragment").rows() == [(2, junk)]
    assert _held(text, rejects) == [junk]


def _html_page() -> str:
    return (RAW / "wenku-search-page.html").read_text(encoding="utf-8")
