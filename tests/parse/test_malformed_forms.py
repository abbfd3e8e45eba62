"""Malformed HTML and search-API JSON: reject rows with reasons, no crash, bounded memory.

Each case starts from the committed fixtures (`data/raw/wenku-search-page.html`, `.json`,
10 listings each, truth in `golden/sample_documents.py`), breaks one thing, and checks the
exact outcome: which listings survive, how many rejects, the reason naming the problem, and
that the other files of the batch are still parsed (docs/input-format.md §3, §5).
"""

from __future__ import annotations

import itertools
import json
import random
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline.parse import html
from pipeline.parse.html import MAX_DEPTH
from render.fields import Document
from render.html import render_html_page
from tests.conftest import RAW, REPO, SAMPLE_FETCHED_AT, write_snapshot
from tests.parse.golden.sample_documents import DOCUMENTS

FIXTURES = Path(__file__).parent / "fixtures"
JSON_PAGE = (RAW / "wenku-search-page.json").read_text(encoding="utf-8")
HTML_PAGE = (RAW / "wenku-search-page.html").read_text(encoding="utf-8")
IDS = [doc.document_id for doc in DOCUMENTS]
# Where each document object starts in the JSON fixture (every one opens with its id).
DOC_STARTS = [m.start() for m in re.finditer(r'\{\s*"id"', JSON_PAGE)]
# Where each result item starts in the HTML fixture.
ITEM_STARTS = [m.start() for m in re.finditer(r"<li><h3", HTML_PAGE)]
NO_INFO = "item has no span.float-right (PRICE CREDIT | PAGES 页 | SIZE)"
NO_RATING = "item has no rating (span.el-rate__text)"


def test_the_fixtures_hold_ten_documents_each() -> None:
    assert len(DOC_STARTS) == len(ITEM_STARTS) == len(IDS) == 10


def _file(tables, name: str) -> tuple[dict, pl.DataFrame, pl.DataFrame]:
    """One file's snapshot row, listings (by position) and rejects (by span)."""
    snapshot = tables.snapshots.filter(pl.col("source_path").str.ends_with(f"/{name}")).row(
        0, named=True
    )
    sid = pl.col("snapshot_id") == snapshot["snapshot_id"]
    return (
        snapshot,
        tables.listings.filter(sid).sort("position"),
        tables.rejects.filter(sid).sort("byte_start", "byte_end"),
    )


def _bytes_before(text: str, chars: int) -> int:
    return len(text[:chars].encode("utf-8"))


def _uncovered(text: str, frames: list[pl.DataFrame], start: int = 0) -> str:
    """The non-blank bytes from byte `start` on that no listing or reject span holds,
    after checking that the spans do not overlap."""
    data = text.encode("utf-8")
    spans = sorted(
        span for frame in frames for span in frame.select("byte_start", "byte_end").iter_rows()
    )
    for (_, end), (begin, _) in itertools.pairwise(spans):
        assert end <= begin, f"overlapping spans {spans}"
    covered = bytearray(len(data))
    for begin, end in spans:
        covered[begin:end] = b"\x01" * (end - begin)
    return "".join(
        chr(data[i]) for i in range(start, len(data)) if not covered[i] and data[i] > 0x20
    )


def _assert_good_fixture_parsed(tables, name: str) -> None:
    """The untouched page of the same batch still gives its ten listings."""
    snapshot, listings, rejects = _file(tables, name)
    assert listings["document_id"].to_list() == IDS
    assert rejects.height == 0
    assert snapshot["total_results"] == 145


# --- JSON: truncated ----------------------------------------------------------------------

CUTS = {
    # Inside the 4th document: its text up to the cut is the one reject.
    "inside-4th": DOC_STARTS[3] + 40,
    # Right after the comma that follows the 3rd document: nothing is left to reject but
    # the (empty) rest, which still says the list was cut.
    "after-comma": JSON_PAGE.rindex(",", 0, DOC_STARTS[3]) + 1,
    # Before the list opens: the page is no JSON and holds no document at all.
    "before-list": JSON_PAGE.index("["),
}


@pytest.mark.parametrize("where", list(CUTS))
def test_truncated_json_keeps_the_complete_documents_before_the_cut(
    normalise_texts, where: str
) -> None:
    text = JSON_PAGE[: CUTS[where]]
    tables = normalise_texts({"cut.json": text, "good.json": JSON_PAGE})
    snapshot, listings, rejects = _file(tables, "cut.json")
    _assert_good_fixture_parsed(tables, "good.json")
    # A page not read whole has no known total: null, not the gateway's "absent = 0".
    assert snapshot["total_results"] is None
    assert rejects.height == 1
    reject = rejects.row(0, named=True)
    assert reject["stage"] == "parse" and reject["position"] is None
    if where == "before-list":
        assert listings.height == 0
        assert reject["reason"].startswith("JSON snapshot: not valid JSON: Expecting value")
        assert (reject["byte_start"], reject["byte_end"]) == (0, len(text.encode("utf-8")))
        assert reject["fragment"] == text
        return
    assert listings["document_id"].to_list() == IDS[:3]
    assert reject["reason"].startswith("JSON snapshot: a document is not valid JSON: ")
    rest = DOC_STARTS[3] if where == "inside-4th" else len(text)
    assert reject["byte_start"] == _bytes_before(text, rest)
    assert reject["byte_end"] == len(text.encode("utf-8"))
    assert reject["fragment"] == text[rest:]
    if where == "inside-4th":
        assert "Unterminated string" in reject["reason"]
        assert reject["fragment"].startswith(f'{{\n      "id": "{IDS[3]}"')
    else:
        assert "Expecting value" in reject["reason"]
    # Listings and the reject hold the whole document list: only the commas between the
    # documents (and the one the cut left dangling) fall outside every span.
    list_start = _bytes_before(text, text.index("[") + 1)
    assert _uncovered(text, [listings, rejects], list_start) == ",,,"


def test_a_truncated_json_page_cut_inside_a_deep_value_keeps_what_came_before(
    normalise_texts,
) -> None:
    """A never-closed nest too deep to decode inside the 5th document: 4 listings, the rest
    is one reject saying the document is nested too deeply and never closed."""
    text = JSON_PAGE[: DOC_STARTS[4]] + '{"id": "1", "description": ' + "[" * 100_000
    tables = normalise_texts({"deep-cut.json": text})
    snapshot, listings, rejects = _file(tables, "deep-cut.json")
    assert listings["document_id"].to_list() == IDS[:4]
    assert rejects["reason"].to_list() == [
        "JSON snapshot: a document is not valid JSON: it is nested too deeply and never closed"
    ]
    assert rejects["byte_start"].to_list() == [_bytes_before(text, DOC_STARTS[4])]
    assert snapshot["total_results"] is None


# --- JSON: wrong types per field ----------------------------------------------------------

MISSING = object()
# file name → (field of the 5th document, its new value or MISSING, the reason expected)
WRONG_FIELDS = {
    "pages-abc": ("pages", "abc", "pages abc is not an integer in 0..2147483647"),
    "pages-3.5": ("pages", 3.5, "pages 3.5 is not an integer in 0..2147483647"),
    "pages-true": ("pages", True, "pages true is not an integer in 0..2147483647"),
    "size-minus-1": ("size", "-1", "size -1 is not an integer in 0..9223372036854775807"),
    "size-20-digits": (
        "size",
        "99999999999999999999",
        "size 99999999999999999999 is not an integer in 0..9223372036854775807",
    ),
    "score-900": ("score", 900, "score 900 is not an integer in 0..500"),
    "id-list": ("id", [1], "id [1] is not an integer in 1..9223372036854775807"),
    "title-object": ("title", {"a": 1}, "title is an object, not text"),
    "description-number": ("description", 7, "description is a number, not text"),
    "keywords-list": ("keywords", ["a", "b"], "keywords is an array, not text"),
    "ext-bool": ("ext", True, "ext is a boolean, not text"),
    "created-yesterday": (
        "created_at",
        "yesterday",
        "created_at 'yesterday' is not an RFC 3339 time",
    ),
    "view-count-minus-3": ("view_count", -3, "view_count -3 is not an integer in 0..2147483647"),
    "no-id": ("id", MISSING, "id is missing"),
    "no-title": ("title", MISSING, "title is missing or empty"),
    "no-created-at": ("created_at", MISSING, "created_at is missing"),
}


def _with_field(field: str, value: object) -> tuple[str, dict]:
    """The fixture with the 5th document's `field` changed (or removed), and that document."""
    page = json.loads(JSON_PAGE)
    doc = page["document"][4]
    if value is MISSING:
        del doc[field]
    else:
        doc[field] = value
    return json.dumps(page, ensure_ascii=False, indent=2), doc


def test_a_wrong_typed_field_rejects_its_document_by_name_and_keeps_the_other_nine(
    normalise_texts,
) -> None:
    """All cases in one batch, with the untouched page: an object in a text field sends the
    whole batch down the slow decoding path, which must give the same listings."""
    pages = {f"{name}.json": _with_field(field, value) for name, (field, value, _) in
             WRONG_FIELDS.items()}  # fmt: skip
    tables = normalise_texts(
        {**{n: text for n, (text, _) in pages.items()}, "good.json": JSON_PAGE}
    )
    _assert_good_fixture_parsed(tables, "good.json")
    for name, (_, _, reason) in WRONG_FIELDS.items():
        text, doc = pages[f"{name}.json"]
        snapshot, listings, rejects = _file(tables, f"{name}.json")
        assert listings["document_id"].to_list() == IDS[:4] + IDS[5:], name
        assert snapshot["total_results"] == 145
        assert rejects.height == 1, name
        reject = rejects.row(0, named=True)
        assert (reject["position"], reject["stage"], reject["reason"]) == (5, "parse", reason)
        assert json.loads(reject["fragment"]) == doc
        data = text.encode("utf-8")
        assert data[reject["byte_start"] : reject["byte_end"]].decode() == reject["fragment"]


def test_documents_that_are_not_objects_are_rejected_as_such(normalise_texts) -> None:
    good = json.dumps(json.loads(JSON_PAGE)["document"][0], ensure_ascii=False)
    text = '{"total": "5", "document": [1, "abc", null, [2], ' + good + "]}"
    _, listings, rejects = _file(normalise_texts({"elements.json": text}), "elements.json")
    assert listings["document_id"].to_list() == [IDS[0]]
    assert rejects.select("position", "fragment", "reason").rows() == [
        (1, "1", "document is a number, not an object"),
        (2, '"abc"', "document is text, not an object"),
        (3, "null", "document is null, not an object"),
        (4, "[2]", "document is an array, not an object"),
    ]


# --- JSON: the page as a whole ------------------------------------------------------------

NOT_AN_OBJECT = "JSON snapshot: not a search-API response: the top level is not an object"
NOT_A_LIST = "JSON snapshot: not a search-API response: `document` is not a list"
NONE_OF_THEM = (
    "JSON snapshot: not a search-API response: none of document, spend, total (its keys: {})"
)
PAGES = {
    # name → (text, total_results, reasons): a reject spans the whole page.
    "array.json": ("[1, 2]", None, [NOT_AN_OBJECT]),
    "string.json": ('"hello"', None, [NOT_AN_OBJECT]),
    "null.json": ("null", None, [NOT_AN_OBJECT]),
    "object-list.json": ('{"total": "3", "document": {"id": "1"}}', 3, [NOT_A_LIST]),
    "null-list.json": ('{"total": "3", "document": null}', 3, [NOT_A_LIST]),
    # A page without results: the gateway omits the zero total and the empty list (§3.2).
    "empty-object.json": ("{}", 0, []),
    # Other JSON is no page of 0 results: an object with keys, none of the response's.
    "other.json": ('{"x": 1}', None, [NONE_OF_THEM.format("x")]),
    "wrapped.json": (
        '{"code": 200, "data": {"total": "0", "document": []}}',
        None,
        [NONE_OF_THEM.format("code, data")],
    ),
    "empty-list.json": ('{"document": []}', 0, []),
    "zero.json": ('{"total": "0", "document": [ ]}', 0, []),
}


def test_the_page_level_outcome_of_each_top_level_shape(normalise_texts) -> None:
    tables = normalise_texts({**{n: t for n, (t, _, _) in PAGES.items()}, "good.json": JSON_PAGE})
    _assert_good_fixture_parsed(tables, "good.json")
    for name, (text, total, reasons) in PAGES.items():
        snapshot, listings, rejects = _file(tables, name)
        assert snapshot["form"] == "json", name
        assert listings.height == 0, name
        assert snapshot["total_results"] == total, name
        assert rejects["reason"].to_list() == reasons, name
        if reasons:
            reject = rejects.row(0, named=True)
            assert (reject["byte_start"], reject["byte_end"], reject["fragment"]) == (
                0, len(text), text
            )  # fmt: skip


def test_text_after_the_json_object_is_rejected_without_overlapping_the_listings(
    normalise_texts,
) -> None:
    text = JSON_PAGE.rstrip() + " trailing junk"
    _, listings, rejects = _file(normalise_texts({"trailing.json": text}), "trailing.json")
    assert listings["document_id"].to_list() == IDS
    assert rejects.height == 1
    reject = rejects.row(0, named=True)
    assert reject["reason"].startswith("JSON snapshot: not valid JSON: Extra data")
    assert reject["fragment"] == "}" + " trailing junk"
    assert _uncovered(text, [listings, rejects], _bytes_before(text, text.index("["))) == (
        "[" + "," * 9 + "]"
    )


def test_a_nested_document_key_before_the_list_does_not_hide_the_documents(
    normalise_texts,
) -> None:
    """The walk must read the response's own `document` list, not the first text that looks
    like one (before the fix: one reject for `{"id": "1"}` and the ten documents lost)."""
    page = {"facets": {"document": [{"id": "1"}]}, **json.loads(JSON_PAGE)}
    text = json.dumps(page, ensure_ascii=False, indent=2)
    _, listings, rejects = _file(normalise_texts({"facets.json": text}), "facets.json")
    assert listings["document_id"].to_list() == IDS
    assert rejects.height == 0


# --- JSON: deep nesting -------------------------------------------------------------------

DEEP = 100_000


def test_a_json_page_nested_100000_deep_is_one_reject(normalise_texts) -> None:
    text = "[" * DEEP + "]" * DEEP
    tables = normalise_texts({"deep.json": text, "good.json": JSON_PAGE})
    _assert_good_fixture_parsed(tables, "good.json")
    snapshot, listings, rejects = _file(tables, "deep.json")
    assert listings.height == 0 and snapshot["total_results"] is None
    assert rejects.select("byte_start", "byte_end").rows() == [(0, 2 * DEEP)]
    assert (
        rejects["reason"]
        .item()
        .startswith("JSON snapshot: nested too deeply to read: maximum recursion depth exceeded")
    )


def test_a_field_nested_100000_deep_rejects_only_its_document(normalise_texts) -> None:
    """The 5th document's description is valid JSON too deep for the decoder: that document
    is stepped over and rejected, the nine others are read; the page as a whole could not
    be decoded, so its total is unknown and what follows the list is a page reject."""
    page = json.loads(JSON_PAGE)
    page["document"][4]["description"] = "@DEEP@"
    text = json.dumps(page, ensure_ascii=False, indent=2).replace(
        '"@DEEP@"', "[" * DEEP + "]" * DEEP
    )
    snapshot, listings, rejects = _file(normalise_texts({"deep.json": text}), "deep.json")
    assert listings["document_id"].to_list() == IDS[:4] + IDS[5:]
    assert snapshot["total_results"] is None
    assert rejects.select("position", "reason").rows() == [
        (5, "document is nested too deeply to read (JSON over the decoder's depth)"),
        (None, "JSON snapshot: nested too deeply to read: maximum recursion depth exceeded "
               "while decoding a JSON array from a unicode string"),
    ]  # fmt: skip
    doc = rejects.row(0, named=True)
    assert doc["fragment"].startswith(f'{{\n      "id": "{IDS[4]}"')
    assert doc["fragment"].endswith("}")
    assert rejects["fragment"][1].strip() == "}"
    assert _uncovered(text, [listings, rejects], _bytes_before(text, text.index("["))) == (
        "[" + "," * 9 + "]"
    )


# --- HTML ---------------------------------------------------------------------------------


def test_html_cut_in_the_middle_of_the_fifth_item(normalise_texts) -> None:
    """Items 1–4 are listings; the cut one is a reject naming what it lacks. The search
    tips come before the list, so the total survives; the pager does not."""
    cut = HTML_PAGE.index('<div class="doc-desc">', ITEM_STARTS[4]) + 60
    text = HTML_PAGE[:cut]
    tables = normalise_texts({"cut.html": text, "good.html": HTML_PAGE})
    _assert_good_fixture_parsed(tables, "good.html")
    snapshot, listings, rejects = _file(tables, "cut.html")
    assert listings["document_id"].to_list() == IDS[:4]
    assert (snapshot["total_results"], snapshot["last_page"]) == (145, None)
    assert rejects.height == 1
    reject = rejects.row(0, named=True)
    assert (reject["position"], reject["stage"]) == (5, "parse")
    assert reject["reason"] == f"{NO_INFO}; {NO_RATING}"
    assert reject["fragment"].startswith(DOCUMENTS[4].title)
    start = _bytes_before(text, ITEM_STARTS[4])
    assert (reject["byte_start"], reject["byte_end"]) == (start, len(text.encode("utf-8")))
    list_start = _bytes_before(text, ITEM_STARTS[0])
    assert _uncovered(text, [listings, rejects], list_start) == ""


def test_html_cut_inside_an_info_line_names_the_line(normalise_texts) -> None:
    cut = HTML_PAGE.index("| 7.64 MB", ITEM_STARTS[3]) + len("| 7.6")
    _, listings, rejects = _file(normalise_texts({"cut.html": HTML_PAGE[:cut]}), "cut.html")
    assert listings["document_id"].to_list() == IDS[:3]
    assert rejects["position"].to_list() == [4]
    assert rejects["reason"].item().startswith("info line '0 码力 | 29 页 | 7.6")


def test_html_without_pager_and_tips_has_no_total(normalise_texts) -> None:
    text = HTML_PAGE.replace('class="el-pagination"', 'class="gone"').replace(
        'class="search-tips"', 'class="gone"'
    )
    snapshot, listings, rejects = _file(normalise_texts({"bare.html": text}), "bare.html")
    assert listings["document_id"].to_list() == IDS
    assert rejects.height == 0
    assert snapshot["total_results"] is None and snapshot["last_page"] is None


def test_html_totals_that_disagree_are_a_reject_naming_both(normalise_texts) -> None:
    text = HTML_PAGE.replace("共 145 条", "共 146 条")
    snapshot, listings, rejects = _file(normalise_texts({"two.html": text}), "two.html")
    assert listings["document_id"].to_list() == IDS
    assert snapshot["total_results"] is None and snapshot["last_page"] == 15
    assert rejects.select("stage", "reason").rows() == [
        ("parse", "the pager's total (共 146 条) and the search tips' (约 145 个) disagree")
    ]


def test_an_unknown_icon_fails_the_file_family_check(normalise_texts) -> None:
    """`zip_24.png` is read as the family `zip` (html.py takes any icon name); the schema's
    closed set (vocab.FILE_FAMILIES) rejects that listing at the validate stage."""
    text = HTML_PAGE.replace(
        'pdf_24.png" alt="pdf文档">Nacos', 'zip_24.png" alt="zip文档">Nacos', 1
    )
    assert text != HTML_PAGE
    _, listings, rejects = _file(normalise_texts({"zip.html": text}), "zip.html")
    assert listings["document_id"].to_list() == IDS[1:]
    reject = rejects.row(0, named=True)
    assert (rejects.height, reject["position"], reject["stage"]) == (1, 1, "validate")
    assert reject["reason"].startswith("schema check failed: file_family isin(['pdf', 'word'")


def _with_items(items: str) -> str:
    head, rest = HTML_PAGE.split('<div class="search-result"><ul>', 1)
    return head + '<div class="search-result"><ul>' + items + rest[rest.index("</ul>") :]


def test_ten_thousand_junk_items_are_one_reject_where_they_sit(normalise_texts) -> None:
    """Adjacent rejects of one reason are one (docs/input-format.md §5): before issue 21
    every junk item was its own row, and a page of 1.5 M of them took 1.9 GB."""
    items = [f"<li>junk {i}</li>" for i in range(10_000)]
    text = _with_items("".join(items))
    tables = normalise_texts({"junk.html": text, "good.html": HTML_PAGE})
    _assert_good_fixture_parsed(tables, "good.html")
    snapshot, listings, rejects = _file(tables, "junk.html")
    assert listings.height == 0 and snapshot["total_results"] == 145
    assert (snapshot["reject_count"], rejects.height) == (1, 1)
    reject = rejects.row(0, named=True)
    assert (reject["position"], reject["stage"], reject["reason"]) == (
        1,
        "parse",
        f"item has no h3.doc-title link; empty title; item has no div.doc-desc; {NO_INFO}; "
        f"{NO_RATING}",
    )
    # It spans the items, from the first one's tag to the last one's end, and holds them.
    data = text.encode("utf-8")
    start = data.index(b"<li>junk 0</li>")
    assert (reject["byte_start"], reject["byte_end"]) == (start, start + len("".join(items)))
    assert reject["fragment"] == "".join(items)


def test_a_flood_of_items_is_read_a_chunk_at_a_time_with_the_same_result(
    normalise_texts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items are read into rows `html.ITEMS_PER_CHUNK` at a time, each chunk's runs of
    rejects compacted (`bound.compact`): a page of 1.5 M junk `<li>` peaked at 2.9 GB with
    every item a row of ~50 columns, 1.3 GB now. Runs cut at a chunk's edge merge again:
    chunks of 7 items give exactly the tables one chunk gives."""
    junk = ["<li>junk</li>", "<li><h3>坏</h3></li>", "<li>x</li><li>y</li>"]
    items = [junk[i // 5 % 3] for i in range(60)]
    good = ITEMS[:3]
    text = _with_items("".join(items[:20] + good[:1] + items[20:50] + good[1:] + items[50:]))
    whole = normalise_texts({"flood.html": text})
    monkeypatch.setattr(html, "ITEMS_PER_CHUNK", 7)
    heights: list[int] = []
    real = html.read_items

    def read_items(items: pl.DataFrame, pages: pl.DataFrame) -> pl.DataFrame:
        heights.append(items.height)
        return real(items, pages)

    monkeypatch.setattr(html, "read_items", read_items)
    chunked = normalise_texts({"flood.html": text})
    assert max(heights) == 7 and sum(heights) == 83  # 60 junk entries, 20 of them two items
    for table in ("snapshots", "listings", "rejects"):
        assert getattr(chunked, table).equals(getattr(whole, table)), table
    _, listings, rejects = _file(chunked, "flood.html")
    assert listings.height == 3 and rejects.height == 3


def _held(text: str, frame: pl.DataFrame) -> list[str]:
    """The page text each row's span holds, in the frame's order."""
    data = text.encode("utf-8")
    return [data[s:e].decode() for s, e in frame.select("byte_start", "byte_end").iter_rows()]


# The fixture's items, as the page holds them (each ends with `</li>` and a line break).
ITEMS = [m.group() for m in re.finditer(r"<li><h3.*?</li>\n", HTML_PAGE, re.S)]


def test_html_items_in_upper_case_tags_span_from_their_own_tag(normalise_texts) -> None:
    """HTML tags are case-insensitive: before the fix a `<LI>` item started at its link,
    leaving its `<LI><h3 class="doc-title"><a href=` to no span."""
    text = HTML_PAGE.replace("<li><h3", "<LI><h3").replace("</li>\n", "</LI>\n")
    _, listings, rejects = _file(normalise_texts({"upper.html": text}), "upper.html")
    assert listings["document_id"].to_list() == IDS
    assert rejects.height == 0
    upper = [item.replace("<li><h3", "<LI><h3").replace("</li>\n", "</LI>\n") for item in ITEMS]
    assert _held(text, listings) == [*upper[:-1], upper[-1].removesuffix("\n")]


def test_junk_items_before_the_listings_hold_their_own_bytes(normalise_texts) -> None:
    """Before the fix `<LI>` junk items took the next lower-case `<li`, the listings'
    own: the rejects held the first listings' bytes and those listings began at their
    links."""
    junk = ["<LI>junk 0</LI>", "<li class=x>junk 1</li>", "<Li>junk 2</Li>"]
    head, rest = HTML_PAGE.split('<div class="search-result"><ul>', 1)
    text = head + '<div class="search-result"><ul>' + "".join(junk) + rest
    _, listings, rejects = _file(normalise_texts({"junk.html": text}), "junk.html")
    assert listings["document_id"].to_list() == IDS
    assert listings["position"].to_list() == list(range(4, 14))
    # The three are one reject (one reason, adjacent: docs/input-format.md §5); each item
    # runs to the next one's start, so the last junk item holds the line break.
    assert rejects["fragment"].to_list() == ["".join(junk) + "\n"]
    assert _held(text, rejects) == ["".join(junk) + "\n"]
    assert _held(text, listings) == [*ITEMS[:-1], ITEMS[-1].removesuffix("\n")]


def test_an_item_in_a_comment_is_no_item_and_takes_no_bytes(normalise_texts) -> None:
    """A browser does not show a commented-out item, and nor does the parser: before the
    fix the comment's `<li` and link were taken as the first listing's start."""
    head, rest = HTML_PAGE.split('<div class="search-result"><ul>', 1)
    hidden = f'<li><h3 class="doc-title"><a href="/document/{IDS[0]}">旧标题</a></h3></li>'
    text = head + '<div class="search-result"><ul><!-- ' + hidden + " -->" + rest
    _, listings, rejects = _file(normalise_texts({"comment.html": text}), "comment.html")
    assert listings["document_id"].to_list() == IDS
    assert rejects.height == 0
    assert _held(text, listings) == [*ITEMS[:-1], ITEMS[-1].removesuffix("\n")]


def test_a_comment_opener_inside_a_tag_hides_nothing(normalise_texts) -> None:
    """`<!--` inside a tag is attribute junk to an HTML parser, not a comment. Found by the
    fuzzer: read as one, it hid everything up to the items' first `-->` (their `<!---->`),
    and the first item started at the second item's tag."""
    text = HTML_PAGE.replace("</head>", '<meta name="k" con<!--tent="v"></head>', 1)
    assert text != HTML_PAGE
    _, listings, rejects = _file(normalise_texts({"tag.html": text}), "tag.html")
    assert listings["document_id"].to_list() == IDS
    assert rejects.height == 0
    assert _held(text, listings) == [*ITEMS[:-1], ITEMS[-1].removesuffix("\n")]


def test_a_script_tag_inside_an_attribute_hides_nothing(normalise_texts) -> None:
    """Found by the fuzzer: `<script>` inside a quoted attribute is text to an HTML parser,
    but the blanking of scripts took it for one left open and blanked the rest of the page;
    the items then spanned single bytes of the doctype (0-1, 1-2, …)."""
    text = HTML_PAGE.replace('<body class="s', '<body class="s<script><script>', 1)
    assert text != HTML_PAGE
    _, listings, rejects = _file(normalise_texts({"attr.html": text}), "attr.html")
    assert listings["document_id"].to_list() == IDS
    assert rejects.height == 0
    assert _held(text, listings) == [*ITEMS[:-1], ITEMS[-1].removesuffix("\n")]


def test_a_single_quoted_link_is_found_where_its_item_sits(normalise_texts) -> None:
    text = HTML_PAGE.replace(f'href="/document/{IDS[4]}"', f"href='/document/{IDS[4]}'")
    assert text != HTML_PAGE
    _, listings, rejects = _file(normalise_texts({"quote.html": text}), "quote.html")
    assert listings["document_id"].to_list() == IDS
    assert rejects.height == 0
    items = [*ITEMS[:-1], ITEMS[-1].removesuffix("\n")]
    items[4] = items[4].replace(f'href="/document/{IDS[4]}"', f"href='/document/{IDS[4]}'")
    assert _held(text, listings) == items


def _documents(count: int) -> list[Document]:
    return [
        Document(
            title=f"文档 {i}", description=f"描述 {i}", price=0, credit="码力", pages=i % 50 + 1,
            size_bytes=1000 + i, uploaded_at=SAMPLE_FETCHED_AT - timedelta(days=40),
            score=300, document_id=i + 1,
        )
        for i in range(count)
    ]  # fmt: skip


def _big_page(count: int) -> str:
    return render_html_page(
        _documents(count),
        SAMPLE_FETCHED_AT,
        total_results=count,
        last_page=count // 10,
        site_document_count=99_999,
    )


def test_ten_thousand_valid_items_are_ten_thousand_listings(normalise_texts) -> None:
    text = _big_page(10_000)
    snapshot, listings, rejects = _file(normalise_texts({"many.html": text}), "many.html")
    assert rejects.height == 0
    assert listings["document_id"].to_list() == list(range(1, 10_001))
    assert listings["pages"].to_list() == [i % 50 + 1 for i in range(10_000)]
    assert snapshot["total_results"] == 10_000 and snapshot["last_page"] == 1_000
    data = text.encode("utf-8")
    spans = listings.select("byte_start", "byte_end", "document_id").rows()
    assert all(data.startswith(b"<li", s) for s, _, _ in spans)
    assert all(f'"/document/{i}"'.encode() in data[s:e] for s, e, i in spans)


def test_html_nested_100000_deep_is_rejected_before_the_tree_is_built(normalise_texts) -> None:
    """lexbor's time grows with the square of the depth (over a minute here): a page deeper
    than MAX_DEPTH is one reject, and the run goes on."""
    at = HTML_PAGE.index('<div class="search-result">')
    text = HTML_PAGE[:at] + "<div>" * DEEP + "x" + "</div>" * DEEP + HTML_PAGE[at:]
    tables = normalise_texts({"deep.html": text, "good.html": HTML_PAGE})
    _assert_good_fixture_parsed(tables, "good.html")
    snapshot, listings, rejects = _file(tables, "deep.html")
    assert listings.height == 0 and snapshot["total_results"] is None
    depth = DEEP + 11  # the fixture's own nesting at that point, plus the junk
    assert rejects.select("byte_start", "byte_end", "reason").rows() == [(
        0, len(text.encode("utf-8")),
        f"HTML page nests elements {depth} deep (over {MAX_DEPTH}): not a page a site "
        "renders; not parsed",
    )]  # fmt: skip


def test_html_nested_below_the_limit_is_parsed(normalise_texts) -> None:
    at = HTML_PAGE.index('<div class="search-result">')
    text = HTML_PAGE[:at] + "<div>" * 900 + "x" + "</div>" * 900 + HTML_PAGE[at:]
    _, listings, rejects = _file(normalise_texts({"nested.html": text}), "nested.html")
    assert listings["document_id"].to_list() == IDS
    assert rejects.height == 0


# --- Unreadable files ---------------------------------------------------------------------


def test_binary_junk_named_html_or_json_is_a_read_reject_and_the_run_goes_on(
    normalise_texts,
) -> None:
    junk = {
        "noise.html": random.Random(11).randbytes(4096),
        "nul.json": b'{"total": "1", "document": [\x00\x00]}',
    }
    tables = normalise_texts({**junk, "good.html": HTML_PAGE, "good.json": JSON_PAGE})
    _assert_good_fixture_parsed(tables, "good.html")
    _assert_good_fixture_parsed(tables, "good.json")
    for name, content in junk.items():
        snapshot, listings, rejects = _file(tables, name)
        assert snapshot["form"] == "unreadable" and listings.height == 0
        reject = rejects.row(0, named=True)
        assert rejects.height == 1 and reject["stage"] == "read"
        assert reject["reason"] == snapshot["read_error"]
        assert reject["reason"].startswith(("binary content", "undecodable"))
        assert (reject["byte_start"], reject["byte_end"]) == (0, len(content))


# --- Memory -------------------------------------------------------------------------------

# Reads and normalises the files named on its command line in a fresh interpreter, and
# prints the peak resident memory (VmHWM) and what came out.
CHILD = """
import json, sys
from pathlib import Path
from pipeline.ingest import metadata, read
from pipeline.run import normalise
tables = normalise.normalise_batch(read.read_batch([Path(p) for p in sys.argv[1:]],
                                                   metadata.ReadOptions()))
peak = next(int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmHWM:"))
print(json.dumps({"peak_kib": peak, "listings": tables.listings.height,
                  "rejects": tables.rejects.height,
                  "longest": tables.listings["description"].str.len_bytes().max()}))
"""


def _child(*paths: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *map(str, paths)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


FIFTY_MB = 50 * 2**20


def _with_big_description(form: str) -> str:
    """The fixture with a 50 MB description (CJK, three UTF-8 bytes a character) in the
    5th document."""
    big = "云" * (FIFTY_MB // 3)
    if form == "json":
        page = json.loads(JSON_PAGE)
        page["document"][4]["description"] = big
        return json.dumps(page, ensure_ascii=False)
    at = HTML_PAGE.index('<div class="doc-desc">', ITEM_STARTS[4]) + len('<div class="doc-desc">')
    return HTML_PAGE[:at] + big + HTML_PAGE[at:]


@pytest.fixture(scope="module")
def base_peak_kib() -> int:
    """The child's peak on the ordinary fixtures: interpreter, polars, pandera, lexbor."""
    return _child(RAW / "wenku-search-page.html", RAW / "wenku-search-page.json")["peak_kib"]


@pytest.mark.parametrize("form", ["json", "html"])
def test_a_50_mb_description_parses_in_memory_linear_in_the_input(
    tmp_path: Path, base_peak_kib: int, form: str
) -> None:
    """Bound: the base plus 20 × the input. A listing keeps the text three times (heading,
    description, fragment) and the page once; decoding (Python's str, polars' column,
    lexbor's tree) and the validate stage hold a few transient copies more. Measured:
    ~0.7 GB above the base for 52 MB, either form (before the byte-offset fix ~0.85–1.05 GB,
    10 items slicing the page up to themselves)."""
    text = _with_big_description(form)
    path = write_snapshot(tmp_path, f"big.{form}", text, SAMPLE_FETCHED_AT)
    size = path.stat().st_size
    result = _child(path)
    assert (result["listings"], result["rejects"]) == (10, 0)
    assert result["longest"] >= (FIFTY_MB // 3) * 3
    assert result["peak_kib"] * 1024 < base_peak_kib * 1024 + 20 * size, (
        f"peak {result['peak_kib'] // 1024} MiB for {size // 2**20} MiB of input "
        f"(base {base_peak_kib // 1024} MiB)"
    )


def test_ten_thousand_items_parse_in_memory_linear_in_the_input(
    tmp_path: Path, base_peak_kib: int
) -> None:
    """Bound: the base plus 40 × the input (8.8 MB; ~10 000 small rows of ~40 columns
    each cost more per byte than one big field). Before the byte-offset fix every item
    sliced the page up to itself: 1 GB at 1 000 items, 3.4 GB at 2 000, out of memory at
    10 000; now ~0.25 GB above the base."""
    path = write_snapshot(tmp_path, "many.html", _big_page(10_000), SAMPLE_FETCHED_AT)
    size = path.stat().st_size
    result = _child(path)
    assert (result["listings"], result["rejects"]) == (10_000, 0)
    assert result["peak_kib"] * 1024 < base_peak_kib * 1024 + 40 * size, (
        f"peak {result['peak_kib'] // 1024} MiB for {size // 2**20} MiB of input "
        f"(base {base_peak_kib // 1024} MiB)"
    )
