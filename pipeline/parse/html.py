"""The HTML form of a results page → listings, page facts, rejects (docs/input-format.md §3.1).

Parsed by lexbor (selectolax): each page is matched to a layout record (`_detect`), one pass
pulls each result item's pieces out of the tree, and the rest is vectorised polars, the info
line read by the shared tail rules (`tails.py`). How and why: docs/architecture.md, "How each
form is read".
"""

from __future__ import annotations

import bisect
import html as htmllib
import itertools
import re
from collections.abc import Callable, Iterable
from typing import Any

import polars as pl
from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.parse import bound, layouts, tails
from pipeline.parse.layouts import Layout
from pipeline.vocab import FILE_FAMILY_OF_EXT

# Whitespace a browser collapses when it shows text (CSS `white-space: normal`): the ASCII
# spaces only. U+00A0 (`&nbsp;`) and ideographic spaces are text and stay.
_COLLAPSIBLE = r"[ \t\n\r\f]+"
# What a result list holds when the search found nothing: an item without a link holding
# one of these is neither a listing nor a reject. moredoc's el-empty from 4fce700 (2023-02)
# on, and moredoc-web's; moredoc's `div.noresult` from 9b59d50 to 4c77a67 (2022-12 to
# 2023-01); DocHub's Search/index.html, every version (with one query word or several).
EMPTY_STATE = "很遗憾，未能检索到相关结果"
EMPTY_STATES = (EMPTY_STATE, "暂无搜索结果", "很遗憾没能搜到您想要的结果")
# A link written absolute (`https://host/document/1`, as some savers rewrite them) is read
# by its path: the records' link patterns are paths.
_ORIGIN = r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?//[^/?#]*"
_DIGITS = r"^[0-9]+$"
# The icon names the file family (`pdf_24.png`, alt `pdf文档`; `pdf 文档` on moredoc's
# category pages). moredoc's category list named it by the extension itself, dot and all
# (`.docx_24.png`, alt `.docx 文档`), from e0d4039 until getIcon in 4af79b9 (2022-12):
# there the family is the extension's, and the extension is known.
_ICON = r"/(\.[a-z0-9]+|[a-z]+)_24\.[a-z]+$"
_ICON_ALT = r"^(\.[a-z0-9]+|[a-z]+) ?文档$"
# The search tips in every wording: moredoc up to moredoc-web 5740ddf (2024-01) names the
# site's document count, later ones do not; DocHub prints the time glued to `秒` and, from
# Go's `%v`, possibly in exponent form (`4.5e-05`).
_TIPS = (
    r"本次搜索耗时 ?(?<spend>[0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?) ?秒，"
    r"(?:在 ?(?<docs>[0-9]{1,15}) ?篇文档中)?为您找到相关结果约 ?(?<total>[0-9]{1,15}) ?个"
)
_PAGER_TOTAL = r"^共 ?([0-9]{1,15}) ?条$"
# DocHub's pager (helper.Paginations): `1..`, `<<`, page numbers, `>>`, `..N` (N the last).
_PAGER_NUMBER = re.compile(r"[0-9]{1,9}")
_PAGER_LAST = re.compile(r"\.\.([0-9]{1,9})")
_ITEM_FIELDS = (
    "href",
    "icon_src",
    "icon_alt",
    "title_raw",
    "description_raw",
    "rating_raw",
    "rating_aria",
    "info_raw",
    "age_raw",
    "item_text",
)
_PAGE_FIELDS = (
    "layout",
    "refusal",
    "tips",
    "pager_total",
    "pager_numbers",
    "pager_last",
    "page_url",
)
# A browser's "save as" marks the page with where it came from: `saved from url=(0061)URL`.
_SAVED_FROM = re.compile(r"^\s*saved from url=\([0-9]+\)(\S+)\s*$")
MAX_DEPTH = 1024
# What the depth estimate skips (script and style bodies, comments), the tags it counts,
# and the void elements, which never hold others.
_HIDDEN = r"(?is)<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->"
_TAG = r"(?i)</?[a-z][a-z0-9-]*"
_VOID = ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
         "source", "track", "wbr")  # fmt: skip

# --- Which layout a page is ------------------------------------------------------------

# The result lists, each the container its layouts' `item` selector starts from.
_MOREDOC_SEARCH = "div.search-result"
_MOREDOC_LIST = "div.com-document-list"
_DOCHUB_SEARCH = "ul.wenku-result"
# DocHub's category page (views/Home/default/List/index.html, every version): its titles
# are `h3.wenku-text-ellipsis > a`, a class no other DocHub page gives an `h3`.
_DOCHUB_LIST = "h3.wenku-text-ellipsis a"
_DOCHUB_LIST_LAYOUT = "dochub-list-2018"
# Where the layouts whose rating comes first are told apart by what they print
# (`_refined`), the DOM gives the latest of them; these are the readings that differ.
_LATEST_BEFORE = {"search": "moredoc-2023-04", "category": "moredoc-list-2023-04"}
_RATING_AFTER = {"search": "moredoc-web-2024-07", "category": "moredoc-web-list-2024-07"}
# What such a page is instead when a size is trimmed (`_refined`).
_TRIMMED_LAYOUT = {
    "moredoc-2023-04": "moredoc-2023-01",
    "moredoc-list-2023-04": "moredoc-list-2022-12",
}
# A size `formatBytes` printed with its trailing zeros dropped (`parseFloat(x.toFixed(2))`,
# moredoc utils.js before 279d64d): no decimals or one. From 279d64d on every size has two
# (`0 Bytes` aside, which both print), and one ending in 0 only that printer prints.
_UNITS = "|".join(layouts.JS_TRIMMED.units)
_TRIMMED_SIZE = rf"^[0-9]+(?:\.[0-9])? (?:{_UNITS})$"
_FIXED_ONLY_SIZE = rf"^[0-9]+\.[0-9]0 (?:{_UNITS})$"
# What a page that fits no layout is compared on: each family's list, then what its items
# hold (selectors specific enough that an unrelated page rarely has them).
_FAMILIES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("moredoc-2022-12", "moredoc-2023-01", "moredoc-2023-04", "moredoc-web-2024-07"),
        (_MOREDOC_SEARCH, "h3.doc-title a", "div.doc-desc", "div.doc-info", "div.el-rate",
         'a[href*="/document/"]'),
    ),
    (
        ("moredoc-list-2022-12", "moredoc-list-2023-04", "moredoc-web-list-2024-07"),
        (_MOREDOC_LIST, "div.doc-info", "div.doc-desc", "div.el-rate",
         'a[href*="/document/"]'),
    ),
    (
        ("dochub-2018-04", "dochub-2018-08", "dochub-2018-08-11"),
        (_DOCHUB_SEARCH, "div.wenku-title a", "div.wenku-desc", "div.wenku-info",
         "span.pull-right", 'a[href*="/view/"]'),
    ),
    ((_DOCHUB_LIST_LAYOUT,), (_DOCHUB_LIST, "i.wenku-star", 'a[href*="/view/"]')),
)  # fmt: skip
# A page with none of the families' marks is no results page at all.
_NO_LIST = "HTML page has no search result list (div.search-result): not a results page"


def _first_element(node: LexborNode) -> LexborNode | None:
    return next((child for child in node.iter() if child.is_element_node), None)


def _classes(node: LexborNode) -> list[str]:
    return (node.attributes.get("class") or "").split()


def _rating_after(container: LexborNode) -> bool:
    """Whether the rating follows the info line: moredoc-web 3042ed2 (search) and 4bc7608
    (category) put a class-less info `span` first in `div.doc-info` and the `el-rate` after
    it, floated right (`float-right`); before them the `el-rate` came first and the info
    `span.float-right` after it. Told by the first `div.doc-info`'s first element and where
    `float-right` is, so an item missing one of the two still tells; a list without a
    `div.doc-info` reads as before."""
    info = container.css_first("div.doc-info")
    first = _first_element(info) if info is not None else None
    if first is None:
        return False
    floated = "float-right" in _classes(first)
    return (first.tag == "span") != floated


def _dochub_layout(container: LexborNode) -> str:
    """DocHub's three spacings, told by its first info line: `0 金币 | 254 页` from b8ca065
    (2018-08-11); before it `0金币 | 254页`, with the size glued (`1.12KB`) until helper.go
    0adaa1d (2018-08-09) and spaced (`1.12 KB`) after. A list without one reads as the
    latest."""
    info = container.css_first("span.pull-right")
    line = re.sub(_COLLAPSIBLE, " ", info.text()).strip() if info is not None else ""
    if not line or re.match(r"[0-9]+ 金币", line):
        return "dochub-2018-08-11"
    return "dochub-2018-04" if re.search(r"[0-9]\.[0-9]{2}[A-Z]", line) else "dochub-2018-08"


def _detect(tree: LexborHTMLParser) -> tuple[str | None, LexborNode | None]:
    """(the page's layout, its result list): (None, None) where no layout fits, and no list
    for a layout that is not read (DocHub's category page)."""
    if (container := tree.css_first(_DOCHUB_SEARCH)) is not None:
        return _dochub_layout(container), container
    if (container := tree.css_first(_MOREDOC_SEARCH)) is not None:
        table = _RATING_AFTER if _rating_after(container) else _LATEST_BEFORE
        return table["search"], container
    if (container := tree.css_first(_MOREDOC_LIST)) is not None:
        table = _RATING_AFTER if _rating_after(container) else _LATEST_BEFORE
        return table["category"], container
    if tree.css_first(_DOCHUB_LIST) is not None:
        return _DOCHUB_LIST_LAYOUT, None
    return None, None


def _no_layout(tree: LexborHTMLParser) -> str:
    """Why a page fits no layout: the families it shares most marks with, what it has of
    them and what it lacks."""
    scored = []
    for names, marks in _FAMILIES:
        has = [mark for mark in marks if tree.css_first(mark) is not None]
        scored.append((len(has), names, has, [mark for mark in marks if mark not in has]))
    best = max(score for score, *_ in scored)
    if best == 0:
        return _NO_LIST
    nearest = "; or ".join(
        f"{', '.join(names)} (has {', '.join(has)}; lacks {', '.join(lacks)})"
        for score, names, has, lacks in scored
        if score == best
    )
    return f"HTML page fits no known layout: nearest {nearest}; not read"


def _text(node: LexborNode | None) -> str | None:
    return None if node is None else node.text()


def _siblings_text(node: LexborNode, step: str) -> str:
    """The text of the siblings before (`prev`) or after (`next`) a node, in page order."""
    parts = []
    sibling = getattr(node, step)
    while sibling is not None:
        parts.append(sibling.text())
        sibling = getattr(sibling, step)
    return "".join(reversed(parts) if step == "prev" else parts)


def _text_without(node: LexborNode | None, skip: LexborNode | None) -> str | None:
    """The node's text without the text of `skip` where `skip` lies inside it: the info
    line without its nested age, DocHub's star text without the info line it holds. Read
    level by level from `skip` up (what precedes and follows it at each), so a `skip` nested
    however deep costs no recursion."""
    if node is None:
        return None
    if skip is None:
        return node.text()
    before, after = [], []
    at = skip
    while at.mem_id != node.mem_id:
        before.append(_siblings_text(at, "prev"))
        after.append(_siblings_text(at, "next"))
        at = at.parent
        if at is None:  # not inside the node
            return node.text()
    return "".join(reversed(before)) + "".join(after)


def _pieces(layout: Layout) -> dict[str, str]:
    """Each piece of an item, by the layout's selector that finds it inside the item (the
    first match in page order, as `css_first` would give)."""
    pieces = {
        "link": layout.title,
        "icon": f"{layout.title} img",
        "description": layout.description_node,
        "rate": layout.rating_node,
        "info": layout.info_node,
    }
    if layout.rating_printer != "dochub":
        # element-ui's el-rate prints the score in its text span (`aria-valuenow` too).
        pieces["rate_text"] = f"{layout.rating_node} span.el-rate__text"
    if layout.age_node:
        pieces["age"] = layout.age_node
    return pieces


def _items(
    tree: LexborHTMLParser, container: LexborNode, layout: Layout
) -> dict[str, list[str | None]]:
    """Every result item's raw pieces, as columns (`_ITEM_FIELDS`, one entry per item);
    None where an item lacks one (a reject later).

    Each selector runs once over the whole list and each match is handed to the item that
    holds it (the nearest enclosing item, by walking up its parents): far cheaper than
    seven selector queries per item, each compiled anew. Columns, not a dict per item: a
    page of 1.5 M `<li>` held 1.5 M dicts (~0.9 GB) before polars read them.
    """
    items = tree.css(layout.item)
    index_of = {li.mem_id: i for i, li in enumerate(items)}
    found: dict[str, list[LexborNode | None]] = {}
    for piece, selector in _pieces(layout).items():
        firsts: list[LexborNode | None] = [None] * len(items)
        for node in container.css(selector):
            owner = node.parent
            while owner is not None and owner.mem_id not in index_of:
                owner = owner.parent
            if owner is not None and firsts[i := index_of[owner.mem_id]] is None:
                firsts[i] = node
        found[piece] = firsts
    del index_of
    none: list[LexborNode | None] = [None] * len(items)
    columns: dict[str, list[str | None]] = {name: [] for name in _ITEM_FIELDS}
    for i, li in enumerate(items):
        link, icon, rate = found["link"][i], found["icon"][i], found["rate"][i]
        info, age = found["info"][i], found.get("age", none)[i]
        if "rate_text" in found:
            rating = _text(found["rate_text"][i])
            aria = rate.attributes.get("aria-valuenow") if rate is not None else None
        else:
            # DocHub: `<i class="wenku-star …"></i>4.5 分 <span class="pull-right">…`.
            rating, aria = _text_without(rate, info), None
        columns["href"].append(link.attributes.get("href") if link is not None else None)
        columns["icon_src"].append(icon.attributes.get("src") if icon is not None else None)
        columns["icon_alt"].append(icon.attributes.get("alt") if icon is not None else None)
        columns["title_raw"].append(_text(link))
        columns["description_raw"].append(_text(found["description"][i]))
        columns["rating_raw"].append(rating)
        columns["rating_aria"].append(aria)
        # The info line without its nested age, which is read on its own.
        columns["info_raw"].append(_text_without(info, age))
        columns["age_raw"].append(_text(age))
        columns["item_text"].append(li.text(separator=" "))
    return columns


# An `li` start or end tag in any case (HTML tag names are case-insensitive; `<link` is
# not one), and an `href` attribute in any of HTML's three quotings.
_LI_START = re.compile(rb"<li(?=[\s/>])", re.IGNORECASE)
_LI_END = re.compile(rb"</li\s*>", re.IGNORECASE)
_HREF = re.compile(rb"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)
# What a browser never shows as elements: comments (an unclosed one runs to the end of
# the page), script and style bodies. They are blanked out (same length, so offsets
# stay) before the search, so an `<li` or a link inside them is not taken for an item's.
# Only where one can start, after a tag or whitespace: `<!--` inside a tag (`con<!--tent`)
# is junk in an attribute to the HTML parser, not a comment hiding what follows it. The
# pattern starts with a literal `<` and looks behind it, so the engine jumps from `<` to `<`
# (a leading lookbehind would be tried at every byte: 18 times slower on real pages).
_UNSHOWN = re.compile(
    rb"<(?:(?<=[>\s]<)|(?<=\A<))"
    rb"(?:!--(?:>|->|.*?(?:--!?>|\Z))|script\b.*?(?:</script\s*>|\Z)|style\b.*?(?:</style\s*>|\Z))",
    re.IGNORECASE | re.DOTALL,
)


def _links(data: bytes, start: int) -> dict[str, list[int]]:
    """Where each link value (entities decoded, as the parser gives it) sits from `start`
    on, in page order."""
    found: dict[str, list[int]] = {}
    for match in _HREF.finditer(data, start):
        raw = next(v for v in match.groups() if v is not None).decode("utf-8", "replace")
        value = htmllib.unescape(raw) if "&" in raw else raw
        found.setdefault(value, []).append(match.start())
    return found


def _searched(
    data: bytes, hrefs: list[str | None], marker: bytes
) -> tuple[bytes, int, dict[str, list[int]]]:
    """(the bytes to search, where the result list starts, its links): the page with what a
    browser does not show blanked out, unless that hid the list or a link the HTML parser
    read. The list starts at the first `marker` (its container's class). The blanking is a
    regex, not a tokenizer: a `<script>` or `<!--` inside a quoted attribute
    (`class="s<script>…"`) would blank the rest of the page, every item with it.
    """
    if b"<!" in data or b"<s" in data or b"<S" in data:
        shown = _UNSHOWN.sub(lambda m: b" " * len(m.group()), data)
        at = shown.find(marker)
        links = _links(shown, max(at, 0))
        if at >= 0 and all(href is None or href in links for href in hrefs):
            return shown, at, links
    at = max(data.find(marker), 0)
    return data, at, _links(data, at)


def _spans(page: str, hrefs: list[str | None], marker: bytes) -> list[tuple[int, int]]:
    """Byte spans of the items in `page` (UTF-8), found by their links in page order.

    The search runs over the page's UTF-8 bytes, so the spans are byte offsets as found:
    turning character offsets into bytes in polars sliced the page up to every item, a
    copy of the page per item (gigabytes for a page of a few thousand items). It starts
    at the result list (`marker`, its container's class), so a link to the same document
    earlier in the page (a sidebar) is not taken for the item's. An item starts at the last
    `<li` tag before its link (and after the previous item); an item without a link (or
    whose link is not in the text as read) starts at the next `<li` tag, not at the
    previous item's link. Tags and links are found once per page and looked up by
    bisection, so the search stays linear however many items there are and however many
    links are missing. Links of every layout are found alike (`/document/ID`, `/view/ID`):
    the search looks for the value the parser read, whatever it is.
    """
    data = page.encode("utf-8")
    data, cursor, links = _searched(data, hrefs, marker)
    tags = [m.start() for m in _LI_START.finditer(data, cursor)]
    starts: list[int] = []
    link_at: list[int] = []
    for href in hrefs:
        places = links.get(href, []) if href else []
        k = bisect.bisect_left(places, cursor)
        if k < len(places):
            at = places[k]
            tag = bisect.bisect_left(tags, at) - 1  # the last tag before the link …
            start = tags[tag] if tag >= 0 and tags[tag] >= cursor else at  # … in this item
        else:
            tag = bisect.bisect_left(tags, cursor)
            start = at = tags[tag] if tag < len(tags) else cursor
        starts.append(start)
        link_at.append(at)
        cursor = at + 1
    spans = []
    for i, start in enumerate(starts):
        if i + 1 < len(starts):
            end = starts[i + 1]
        else:
            close = _LI_END.search(data, link_at[i])
            end = close.end() if close else len(data)
        spans.append((start, min(max(end, start + 1), len(data))))
    return spans


def _card_header(container: LexborNode) -> str | None:
    """The text of the header of the card holding the list: where moredoc printed its
    search tips before 974a2f5 (2023-06), as the header slot of the results' el-card."""
    card = container.parent
    while card is not None and "el-card" not in _classes(card):
        card = card.parent
    if card is None:
        return None
    header = next((c for c in card.iter() if "el-card__header" in _classes(c)), None)
    return _text(header)


def _dochub_tips(container: LexborNode) -> str | None:
    """DocHub's tips: the `div.help-block` just before `ul.wenku-result`."""
    node = container.prev
    while node is not None and not node.is_element_node:
        node = node.prev
    return _text(node) if node is not None and "help-block" in _classes(node) else None


def _tips(tree: LexborHTMLParser, container: LexborNode, layout: Layout) -> str | None:
    if layout.software == "dochub":
        return _dochub_tips(container)
    if (tips := tree.css_first("div.search-tips")) is not None:
        return _text(tips)
    return _card_header(container) if layout.page_type == "search" else None


def _pager(tree: LexborHTMLParser, layout: Layout) -> tuple[str | None, list[str], str | None]:
    """(the pager's total, its page numbers, its last page where it names one)."""
    if layout.pager == "bootstrap":
        pager = tree.css_first("ul.pagination")
        if pager is None:  # DocHub prints none for a single page
            return None, [], None
        texts = [a.text().strip() for a in pager.css("li a")]
        last = next((m.group(1) for t in texts if (m := _PAGER_LAST.fullmatch(t))), None)
        return None, [t for t in texts if _PAGER_NUMBER.fullmatch(t)], last
    pager = tree.css_first("div.el-pagination")
    if pager is None:
        return None, [], None
    total = _text(pager.css_first("span.el-pagination__total"))
    return total, [n.text() for n in pager.css("ul.el-pager li.number")], None


_CONTAINER_OF = {"dochub": _DOCHUB_SEARCH, "search": _MOREDOC_SEARCH, "category": _MOREDOC_LIST}


def _marker(layout: Layout) -> bytes:
    """The class that opens a layout's result list in the page's bytes."""
    key = "dochub" if layout.software == "dochub" else layout.page_type
    return _CONTAINER_OF[key].split(".", 1)[1].encode()


def _constant_time(ages_raw: list[str | None]) -> bool:
    """Whether every listing's time (`age_raw`) is the literal moredoc's search page
    printed from e091065 to f77c13d (`| 2019-06-10 10:17`, `layouts.CONSTANT_DATE`): that
    template's time printer is no printer at all, so it is told before the info lines are
    read."""
    ages = [re.sub(_COLLAPSIBLE, " ", age).strip(" ").lstrip("| ")
            for age in ages_raw if age is not None]  # fmt: skip
    return bool(ages) and all(age == layouts.CONSTANT_DATE for age in ages)


def _extract(page: str) -> dict[str, Any]:
    """The raw pieces of one page: its layout, its items (as lists, one entry per item) and
    its facts."""
    tree = LexborHTMLParser(page)
    name, container = _detect(tree)
    facts: dict[str, Any] = {
        "layout": name, "refusal": None, "tips": None, "pager_total": None,
        "pager_numbers": [], "pager_last": None,
    }  # fmt: skip
    columns: dict[str, list[str | None]] = {name: [] for name in _ITEM_FIELDS}
    if name is None:
        facts["refusal"] = _no_layout(tree)
    elif container is None:
        facts["refusal"] = f"category page of layout {name} (no price printed): not read"
    else:
        layout = layouts.BY_NAME[name]
        columns = _items(tree, container, layout)
        # The empty-state item says there is no result; it is neither a listing nor a reject.
        keep = [
            href is not None or text is None or not any(e in text for e in EMPTY_STATES)
            for href, text in zip(columns["href"], columns["item_text"], strict=True)
        ]
        if not all(keep):
            columns = {
                name: list(itertools.compress(values, keep)) for name, values in columns.items()
            }
        if name == _LATEST_BEFORE["search"] and _constant_time(columns["age_raw"]):
            name = facts["layout"] = "moredoc-2022-12"
        total, numbers, last = _pager(tree, layout)
        facts |= {"tips": _tips(tree, container, layout), "pager_total": total,
                  "pager_numbers": numbers, "pager_last": last}  # fmt: skip
    rows = columns["href"]
    spans = _spans(page, rows, _marker(layouts.BY_NAME[name])) if rows else []
    columns["byte_start"] = [s for s, _ in spans]
    columns["byte_end"] = [e for _, e in spans]
    return {"items": columns, **facts, "page_url": _page_url(tree)}


def _page_url(tree: LexborHTMLParser) -> str | None:
    """The URL the page says it is: a browser's `saved from url` mark (a comment before
    `<html>`), else `link[rel=canonical]`, else `og:url`; None if it says none."""
    document = tree.root.parent if tree.root is not None else None
    node = document.child if document is not None else None
    while node is not None:
        if node.is_comment_node and (found := _SAVED_FROM.match(node.comment_content or "")):
            return found.group(1)
        node = node.next
    canonical = tree.css_first('link[rel="canonical"]')
    if canonical is not None and canonical.attributes.get("href"):
        return canonical.attributes["href"]
    og = tree.css_first('meta[property="og:url"]')
    return og.attributes.get("content") if og is not None else None


def _collapse(expr: pl.Expr) -> pl.Expr:
    """Text as a browser shows it: runs of ASCII whitespace as one space, trimmed."""
    return expr.str.replace_all(_COLLAPSIBLE, " ").str.strip_chars(" ")


def nesting_depth(texts: pl.Series) -> pl.Series:
    """How deep each page's markup nests elements: the most start tags open at once (void
    elements aside, script and style bodies and comments skipped). An estimate from the tags
    alone, exact for pages that close what they open, as served and saved pages do.

    Only a page with more than `MAX_DEPTH` start tags can nest deeper than that; the others
    (a usual page has a few hundred) are not walked and read 0, so the estimate costs one
    regex count per page.
    """
    many = texts.str.count_matches("<[A-Za-z]").fill_null(0) > MAX_DEPTH
    depth = pl.Series(texts.name, [0] * len(texts), dtype=pl.Int64)
    if not many.any():
        return depth
    walked = texts.filter(many).to_frame("text").select(_depth(pl.col("text")))["text"]
    return depth.scatter(many.arg_true(), walked)


def _depth(text: pl.Expr) -> pl.Expr:
    tags = text.str.replace_all(_HIDDEN, "").str.extract_all(_TAG)
    name = pl.element().str.strip_chars_start("</").str.to_lowercase()
    step = (
        pl.when(name.is_in(_VOID))
        .then(0)
        .when(pl.element().str.starts_with("</"))
        .then(-1)
        .otherwise(1)
    )
    return tags.list.eval(step.cum_sum().max()).list.first().fill_null(0).cast(pl.Int64)


def extract_pages(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(items, page facts) of a batch of HTML pages: one row per result item, one per page.

    The one step that walks a tree per page; it returns raw strings for polars to read.
    A page nested deeper than `MAX_DEPTH` is not handed to lexbor (see the module's note).
    """
    depth = nesting_depth(pages["text"])
    extracted = [
        _extract(page if deep <= MAX_DEPTH else "")
        for page, deep in zip(pages["text"], depth, strict=True)
    ]
    items = pl.DataFrame(
        {
            "snapshot_id": pages["snapshot_id"],
            "layout": [e["layout"] for e in extracted],
            "_items": [e["items"] for e in extracted],
        },
        schema={
            "snapshot_id": pl.String,
            "layout": pl.String,
            "_items": pl.Struct(
                {
                    **{name: pl.List(pl.String) for name in _ITEM_FIELDS},
                    "byte_start": pl.List(pl.Int64),
                    "byte_end": pl.List(pl.Int64),
                }
            ),
        },
    )
    items = (
        items.unnest("_items")
        .explode([*_ITEM_FIELDS, "byte_start", "byte_end"])
        .drop_nulls("byte_start")
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("snapshot_id").alias("position")
        )
    )
    facts = pl.DataFrame(
        {
            "snapshot_id": pages["snapshot_id"],
            **{name: [e[name] for e in extracted] for name in _PAGE_FIELDS},
            "depth": depth,
        },
        schema={
            "snapshot_id": pl.String,
            "layout": pl.String,
            "refusal": pl.String,
            "tips": pl.String,
            "pager_total": pl.String,
            "pager_numbers": pl.List(pl.String),
            "pager_last": pl.String,
            "page_url": pl.String,
            "depth": pl.Int64,
        },
    )
    return items, facts


def _by_layout(names: Iterable[str], build: Callable[[Layout], pl.Expr]) -> pl.Expr:
    """Per row, what `build` gives for the row's layout (the `layout` column), built once
    for each layout the batch holds."""
    records = [layouts.BY_NAME[name] for name in names]
    if len(records) == 1:
        return build(records[0])
    chain = pl.when(pl.col("layout") == records[0].name).then(build(records[0]))
    for record in records[1:]:
        chain = chain.when(pl.col("layout") == record.name).then(build(record))
    return chain


def _shape(layout: Layout) -> str:
    """An info line's shape in the layout's spacing, for reasons: `PRICE CREDIT | PAGES 页
    | SIZE` (moredoc's credit word is the site's setting), `PRICE金币 | PAGES页 | SIZE`."""
    credit = "CREDIT" if layout.software == "moredoc" else layout.credit_default
    gap, pages_gap = (" " if layout.credit_space else ""), (" " if layout.pages_space else "")
    return f"PRICE{gap}{credit} | PAGES{pages_gap}页 | SIZE"


def _link_shape(layout: Layout) -> str:
    """`/document/ID` from `^/document/(…)…$`: the link a layout prints, for reasons."""
    return layout.link.removeprefix("^").split("(", 1)[0] + "ID"


def _rating(layout: Layout) -> pl.Expr:
    """The rating as printed, without its unit: el-rate's text (else its `aria-valuenow`);
    DocHub's `4.5 分` (`4.5分` before b8ca065, 2018-08-11, which spaced the credit word and
    the pages at the same time) less its `分`. A rating not ending in the layout's `分` is
    kept whole, for the rating rule to name it."""
    shown = _collapse(pl.col("rating_raw")).replace("", None)
    if layout.rating_printer != "dochub":
        return pl.coalesce(shown, "rating_aria")
    unit = " 分" if layout.credit_space else "分"
    return pl.when(shown.str.ends_with(unit)).then(shown.str.strip_suffix(unit)).otherwise(shown)


def _refined() -> pl.Expr:
    """The layout each page's info lines say it is, where the DOM could not tell.

    moredoc's pages with the rating first printed sizes without trailing zeros before
    utils.js 279d64d: a search page is 2023-01 and a category page 2022-12 when a size is
    trimmed (`38.5 KB`, `2 MB`, `500 B`). A page holding both a trimmed size and one only the
    two-decimal printer prints (`38.50 KB`) stays two-decimal, as the text form decides
    (`text.detect_layouts`). Where no size shows which (every one has two decimals that are
    not both zeros, `21.69 KB`, or is `0 Bytes`), the page stays the latest, 2023-04: both
    printers print those sizes the same, so the readings are the same whichever it was.
    (2022-12's search page is told by its literal time before the line is read: `_extract`.)
    """
    page = "snapshot_id"
    size = pl.col("size_text")
    trimmed = size.str.contains(_TRIMMED_SIZE).fill_null(False).any().over(page) & ~(
        size.str.contains(_FIXED_ONLY_SIZE).fill_null(False).any().over(page)
    )
    layout = pl.col("layout")
    return pl.when(trimmed).then(layout.replace(_TRIMMED_LAYOUT)).otherwise(layout).alias("layout")


def read_items(items: pl.DataFrame, pages: pl.DataFrame) -> pl.DataFrame:
    """Raw items → listing rows (with `fragment` and `parse_error`), by the text form's rules.

    Each row's `layout` picks its selectors' reasons, its link pattern, its info line's
    spacing and, in `tails.derive_fields`, its size, rating and time printers.
    """
    found = items["layout"].drop_nulls().unique().to_list()
    # With the layouts `_refined` may turn them into: rows are read by their final layout.
    names = sorted({*found, *(_TRIMMED_LAYOUT[n] for n in found if n in _TRIMMED_LAYOUT)})
    names = names or [_LATEST_BEFORE["search"]]
    title = _collapse(pl.col("title_raw"))
    description = _collapse(pl.col("description_raw"))
    age = _collapse(pl.col("age_raw")).str.strip_chars_start("| ")
    info = _collapse(pl.col("info_raw"))
    # The info line and its nested age, joined as a browser shows them (`… | SIZE | AGE`).
    line = pl.when(pl.col("info_raw").is_not_null()).then(
        pl.concat_str(
            info, pl.when(age.is_not_null() & (age != "")).then(pl.lit(" | ") + age),
            ignore_nulls=True,
        )
    )  # fmt: skip
    rating = _by_layout(names, _rating)
    # A category page prints 4 for a document without a score (`|| 4.0`): an item whose
    # star widget is missing reads as that.
    unrated = _by_layout(
        names,
        lambda r: pl.lit(r.unrated if r.page_type == "category" else None, pl.String),
    )
    path = pl.col("href").str.replace(_ORIGIN, "")
    icon = pl.col("_icon")
    ref = _by_layout(names, lambda r: path.str.extract(r.link, 1))
    frame = (
        items.join(
            pages.select(
                "snapshot_id", "site", "fetched_at", *({"time_zone"} & set(pages.columns))
            ),
            on="snapshot_id",
            how="left",
        )
        .with_columns(
            title.alias("title"),
            description.alias("description"),
            line.alias("info"),
            rating.alias("_rating"),
            ref.alias("document_ref"),
            pl.coalesce(
                pl.col("icon_src").str.extract(_ICON), pl.col("icon_alt").str.extract(_ICON_ALT)
            ).alias("_icon"),
        )
        .with_columns(
            pl.when(icon.str.starts_with("."))
            .then(icon.replace_strict(FILE_FAMILY_OF_EXT, default="other"))
            .otherwise(icon)
            .alias("file_family"),
            pl.when(icon.str.starts_with(".")).then(icon).alias("ext"),
            pl.when(pl.col("document_ref").str.contains(_DIGITS))
            .then(pl.col("document_ref").cast(pl.Int64, strict=False))
            .alias("document_id"),
            _by_layout(names, lambda r: tails.info_parts(pl.col("info"), r)).alias("_t"),
        )
        .unnest("_t")
        .with_columns(_refined())
        .with_columns(
            pl.coalesce("_rating", unrated).alias("rating_text"),
            (pl.col("title") + pl.col("description")).alias("heading"),
            pl.lit("html").alias("title_source"),
            pl.col("price_text").cast(pl.Int64, strict=False).alias("price"),
            pl.lit(False).alias("price_ambiguous"),
        )
        .pipe(tails.derive_fields)
    )
    problems = pl.concat_str(
        pl.when(pl.col("href").is_null()).then(
            _by_layout(names, lambda r: pl.lit(f"item has no {r.title.removesuffix(' a')} link"))
        ),
        pl.when(
            pl.col("href").is_not_null()
            & (
                pl.col("document_ref").is_null()
                | (pl.col("document_id").is_null() & pl.col("document_ref").str.contains(_DIGITS))
            )
        ).then(
            _by_layout(names, lambda r: pl.format(f"link '{{}}' is not {_link_shape(r)}", "href"))
        ),
        pl.when(pl.col("title").fill_null("") == "").then(pl.lit("empty title")),
        pl.when(pl.col("description").is_null()).then(
            _by_layout(names, lambda r: pl.lit(f"item has no {r.description_node}"))
        ),
        pl.when(pl.col("info_raw").is_null()).then(
            _by_layout(names, lambda r: pl.lit(f"item has no {r.info_node} ({_shape(r)})"))
        ),
        pl.when(pl.col("rating_text").is_null()).then(
            _by_layout(
                names,
                lambda r: pl.lit(
                    "item has no rating ("
                    + ("span.el-rate__text" if r.rating_printer != "dochub" else r.rating_node)
                    + ")"
                ),
            )
        ),
        pl.when(pl.col("info_raw").is_not_null() & pl.col("price_text").is_null()).then(
            _by_layout(
                names,
                lambda r: pl.format(
                    f"info line '{{}}' does not read {_shape(r)} [| AGE]",
                    pl.col("info").fill_null(""),
                ),
            )
        ),
        pl.when(pl.col("price_text").is_not_null()).then(pl.col("parse_error")),
        separator="; ",
        ignore_nulls=True,
    )
    return frame.with_columns(
        problems.replace("", None).alias("parse_error"),
        _collapse(pl.col("item_text")).alias("fragment"),
    ).drop("_rating", "_icon")


def read_facts(facts: pl.DataFrame, pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Page facts → (footers, rejects): totals from the pager and the search tips must agree.

    A page of a layout that is not read, or of none, or too deep to parse is one reject
    holding the whole page; its footer row still names its layout where one was found.
    """
    tips = _collapse(pl.col("tips")).str.extract_groups(_TIPS)
    pager_total = _collapse(pl.col("pager_total")).str.extract(_PAGER_TOTAL).cast(pl.Int64)
    numbers = pl.col("pager_numbers").list.eval(
        pl.element().str.strip_chars().cast(pl.Int32, strict=False)
    )
    page_types = {record.name: record.page_type for record in layouts.RECORDS}
    read = facts.with_columns(
        tips.alias("_tips"),
        pager_total.alias("_pager_total"),
        # DocHub names its last page (`..N`); element-ui's pager shows it as the last number.
        pl.coalesce(pl.col("pager_last").cast(pl.Int32, strict=False), numbers.list.max()).alias(
            "last_page"
        ),
    ).with_columns(
        pl.col("_tips").struct.field("total").cast(pl.Int64).alias("_tips_total"),
        pl.col("_tips").struct.field("docs").cast(pl.Int64).alias("site_document_count"),
        pl.col("_tips").struct.field("spend").cast(pl.Float64).alias("search_seconds"),
    )
    disagree = (pl.col("_pager_total") != pl.col("_tips_total")).fill_null(False)
    too_deep = pl.col("depth") > MAX_DEPTH
    refused = pl.col("refusal").is_not_null() | too_deep
    footers = read.select(
        "snapshot_id",
        pl.when(~disagree & ~refused)
        .then(pl.coalesce("_pager_total", "_tips_total"))
        .alias("total_results"),
        pl.when((pl.col("last_page") >= 1) & ~refused).then("last_page").alias("last_page"),
        pl.lit(None, pl.Int64).alias("footer_byte_start"),
        pl.lit(None, pl.Int64).alias("footer_byte_end"),
        pl.when(~refused).then("site_document_count").alias("site_document_count"),
        pl.when(~refused).then("search_seconds").alias("search_seconds"),
        "page_url",
        "layout",
        pl.col("layout").replace_strict(page_types, default=None).alias("page_type"),
    )
    # A page that is not read is rejected whole; a disagreement names both totals.
    page = pl.col("text")
    rejects = (
        read.filter(disagree | refused)
        .join(pages.select("snapshot_id", "text"), on="snapshot_id", how="left")
        .select(
            "snapshot_id",
            pl.lit(0, pl.Int64).alias("byte_start"),
            pl.when(refused)
            .then(page.str.len_bytes().cast(pl.Int64))
            .otherwise(0)
            .alias("byte_end"),
            pl.when(refused)
            .then(page)
            .otherwise(pl.format("共 {} 条 / 约 {} 个", "_pager_total", "_tips_total"))
            .alias("fragment"),
            pl.when(too_deep)
            .then(
                pl.format(
                    "HTML page nests elements {} deep (over {}): not a page a site renders; not"
                    " parsed",
                    "depth",
                    pl.lit(MAX_DEPTH),
                )
            )
            .when(refused)
            .then("refusal")
            .otherwise(
                pl.format(
                    "the pager's total (共 {} 条) and the search tips' (约 {} 个) disagree",
                    "_pager_total",
                    "_tips_total",
                )
            )
            .alias("reason"),
        )
    )
    return footers, rejects


# Items read into listing rows at a time: a real page holds a few dozen; a page of more is
# read in chunks, each compacted (`bound.compact`), so junk items are never all rows at once.
ITEMS_PER_CHUNK = 50_000


def parse_pages(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse a batch of decoded HTML snapshots, as `text.parse_pages` does text ones.

    The footers name each page's layout as its listings were read (`_refined`).
    """
    items, facts = extract_pages(pages)
    if items.height <= ITEMS_PER_CHUNK:
        listings = read_items(items, pages)
    else:  # a flood of junk items: each chunk's runs of rejects are one row (bound.py)
        listings = pl.concat(
            [
                bound.compact(read_items(chunk, pages))
                for chunk in items.iter_slices(ITEMS_PER_CHUNK)
            ],
            how="diagonal_relaxed",
        )
    footers, rejects = read_facts(facts, pages)
    refined = listings.group_by("snapshot_id").agg(pl.col("layout").first().alias("_read_as"))
    footers = (
        footers.join(refined, on="snapshot_id", how="left", maintain_order="left")
        .with_columns(pl.coalesce("_read_as", "layout").alias("layout"))
        .drop("_read_as")
    )
    return listings, footers, rejects
