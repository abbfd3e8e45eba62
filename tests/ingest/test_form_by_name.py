"""A name that says a form decides it; only a name saying none is sniffed (issue 21, item 2;
docs/input-format.md §3.3)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.conftest import SAMPLE

FIRST_TITLE = "Nacos架构&原理"
ODD_TITLES = ["[2023] Kubernetes 实践指南", "{Vue.js} 设计与实现", "<<深入理解计算机系统>>"]


def _page(title: str) -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    assert text.startswith(FIRST_TITLE)
    return title + text.removeprefix(FIRST_TITLE)


def _counts(tables) -> dict[str, tuple[str, int, int]]:
    rows = tables.snapshots.select("source_path", "form", "listing_count", "reject_count")
    return {Path(p).name: (f, n, r) for p, f, n, r in rows.iter_rows()}


@pytest.mark.parametrize("title", ODD_TITLES)
def test_a_txt_page_whose_first_title_opens_like_markup_is_read_as_text(
    normalise_texts, title: str
) -> None:
    """Before the fix `.txt` pages were sniffed: JSON or HTML, and one whole-page reject."""
    page = _page(title)
    tables = normalise_texts(
        {
            "page.txt": page,
            "page.TXT.GZ": gzip.compress(page.encode()),
            "plain.txt": _page(FIRST_TITLE),
        }
    )
    counts = _counts(tables)
    assert counts["page.txt"] == counts["page.TXT.GZ"] == ("text", 10, 0)
    first = tables.listings.filter(tables.listings["position"] == 1)["heading"].to_list()
    plain = next(h for h in first if h.startswith(FIRST_TITLE))
    assert sorted(first) == sorted([plain, *[title + plain.removeprefix(FIRST_TITLE)] * 2])


@pytest.mark.parametrize(
    ("name", "content", "form"),
    [
        # Sniffed, and the sniffed form parses.
        ("page", '{"document": []}', "json"),
        ("page.dat", "\n<!DOCTYPE html><html></html>", "html"),
        # Sniffed, and it does not parse as JSON, or opens with no tag: text.
        ("page-json", _page(ODD_TITLES[1]), "text"),
        ("page-array", _page(ODD_TITLES[0]), "text"),
        ("page-html", _page(ODD_TITLES[2]), "text"),
        # A name that says a form is that form, whatever the page opens with.
        ("named.json", "<b>not JSON</b>", "json"),
        ("named.html", '{"document": []}', "html"),
    ],
)
def test_only_names_that_say_nothing_are_sniffed(
    normalise_texts, name: str, content: str, form: str
) -> None:
    tables = normalise_texts({name: content})
    assert tables.snapshots["form"].to_list() == [form]
