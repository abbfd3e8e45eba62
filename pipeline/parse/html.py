"""The HTML form of a results page → listings, page facts, rejects (docs/input-format.md §3.1).

The page is parsed by lexbor (through selectolax), an HTML5 parser: markup is never read
with regular expressions, so scripts, templates, comments and entities a browser's "save
as" leaves in a page cannot be mistaken for listings. One pass per page pulls each result
item's raw pieces (link, icon, title, description, star text, info line) out of the tree;
everything after that is vectorised polars over the whole batch, and the tail fields go
through the text form's own rules (`text.tail_parts`, `text.derive_fields`), so both forms
read a size, an age or a rating the same way.

A listing's byte span is where its item sits in the page: from the `<li` before the first
occurrence of its link (after the previous item) to the next item's start, the last item
ending at its `</li>`. The parser gives values, not offsets; the span is found by searching
for the link the parser read, which is exact for the pages sites serve and for saved ones.
An item without a link starts at the next `<li` after the previous item.

A page whose markup nests deeper than `MAX_DEPTH` elements is rejected whole before lexbor
sees it: an HTML5 tree builder checks the stack of open elements at each tag, so its time
grows with the square of the depth (100 000 nested `<div>` took lexbor over a minute), and
no page a site renders or a browser saves comes near it (Chromium nests at most 512).
"""

from __future__ import annotations

import bisect
import html as htmllib
import re
from typing import Any

import polars as pl
from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.parse import text

# Whitespace a browser collapses when it shows text (CSS `white-space: normal`): the ASCII
# spaces only. U+00A0 (`&nbsp;`) and ideographic spaces are text and stay.
_COLLAPSIBLE = r"[ \t\n\r\f]+"
EMPTY_STATE = "很遗憾，未能检索到相关结果"
# At most 19 digits; the Int64 cast turns an id past 2^63 - 1 into null (a reject).
_DOCUMENT_HREF = r"/document/([0-9]{1,19})(?:[?#].*)?$"
_ICON = r"/([a-z]+)_24\.[a-z]+$"
_ICON_ALT = r"^([a-z]+)文档$"
_TIPS = (
    r"本次搜索耗时 ?(?<spend>[0-9]+(?:\.[0-9]+)?) ?秒，在 ?(?<docs>[0-9]{1,15}) ?篇文档中"
    r"为您找到相关结果约 ?(?<total>[0-9]{1,15}) ?个"
)
_PAGER_TOTAL = r"^共 ?([0-9]{1,15}) ?条$"
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
_PAGE_FIELDS = ("tips", "pager_total", "pager_numbers", "has_list", "page_url")
# A browser's "save as" marks the page with where it came from: `saved from url=(0061)URL`.
_SAVED_FROM = re.compile(r"^\s*saved from url=\([0-9]+\)(\S+)\s*$")
MAX_DEPTH = 1024
# What the depth estimate skips (script and style bodies, comments), the tags it counts,
# and the void elements, which never hold others.
_HIDDEN = r"(?is)<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->"
_TAG = r"(?i)</?[a-z][a-z0-9-]*"
_VOID = ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
         "source", "track", "wbr")  # fmt: skip


def _text(node: LexborNode | None, *, deep: bool = True) -> str | None:
    return None if node is None else node.text(deep=deep)


# Each piece of an item, by the selector that finds it inside the item (the first match in
# page order, as `css_first` would give).
_PIECES = {
    "link": "h3.doc-title a",
    "icon": "h3.doc-title a img",
    "description": "div.doc-desc",
    "rate": "div.el-rate",
    "rate_text": "span.el-rate__text",
    "info": "span.float-right",
    "age": "span.float-right span.hidden-xs-only",
}


def _items(result: LexborNode) -> list[dict[str, Any]]:
    """Every result item's raw pieces; None where an item lacks one (a reject later).

    Each selector runs once over the whole list and each match is handed to the item that
    holds it (the nearest enclosing item, by walking up its parents): far cheaper than
    seven selector queries per item, each compiled anew.
    """
    items = result.css("ul > li")
    index_of = {li.mem_id: i for i, li in enumerate(items)}
    found: dict[str, list[LexborNode | None]] = {}
    for piece, selector in _PIECES.items():
        firsts: list[LexborNode | None] = [None] * len(items)
        for node in result.css(selector):
            owner = node.parent
            while owner is not None and owner.mem_id not in index_of:
                owner = owner.parent
            if owner is not None and firsts[i := index_of[owner.mem_id]] is None:
                firsts[i] = node
        found[piece] = firsts
    rows = []
    for i, li in enumerate(items):
        link, icon, rate = found["link"][i], found["icon"][i], found["rate"][i]
        rows.append(
            {
                "href": link.attributes.get("href") if link is not None else None,
                "icon_src": icon.attributes.get("src") if icon is not None else None,
                "icon_alt": icon.attributes.get("alt") if icon is not None else None,
                "title_raw": _text(link),
                "description_raw": _text(found["description"][i]),
                "rating_raw": _text(found["rate_text"][i]),
                "rating_aria": rate.attributes.get("aria-valuenow") if rate is not None else None,
                # The info line without its nested age, which is read on its own.
                "info_raw": _text(found["info"][i], deep=False),
                "age_raw": _text(found["age"][i]),
                "item_text": li.text(separator=" "),
            }
        )
    return rows


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


def _searched(data: bytes, hrefs: list[str | None]) -> tuple[bytes, int, dict[str, list[int]]]:
    """(the bytes to search, where the result list starts, its links): the page with what a
    browser does not show blanked out, unless that hid the list or a link the HTML parser
    read. The blanking is a regex, not a tokenizer: a `<script>` or `<!--` inside a quoted
    attribute (`class="s<script>…"`) would blank the rest of the page, every item with it.
    """
    if b"<!" in data or b"<s" in data or b"<S" in data:
        shown = _UNSHOWN.sub(lambda m: b" " * len(m.group()), data)
        at = shown.find(b"search-result")
        links = _links(shown, max(at, 0))
        if at >= 0 and all(href is None or href in links for href in hrefs):
            return shown, at, links
    at = max(data.find(b"search-result"), 0)
    return data, at, _links(data, at)


def _spans(page: str, hrefs: list[str | None]) -> list[tuple[int, int]]:
    """Byte spans of the items in `page` (UTF-8), found by their links in page order.

    The search runs over the page's UTF-8 bytes, so the spans are byte offsets as found:
    turning character offsets into bytes in polars sliced the page up to every item, a
    copy of the page per item (gigabytes for a page of a few thousand items). It starts
    at the result list, so a link to the same document earlier in the page (a sidebar)
    is not taken for the item's. An item starts at the last `<li` tag before its link (and
    after the previous item); an item without a link (or whose link is not in the text as
    read) starts at the next `<li` tag, not at the previous item's link. Tags and links
    are found once per page and looked up by bisection, so the search stays linear however
    many items there are and however many links are missing.
    """
    data = page.encode("utf-8")
    data, cursor, links = _searched(data, hrefs)
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


def _extract(page: str) -> dict[str, Any]:
    """The raw pieces of one page: its items (as lists, one entry per item) and its facts."""
    tree = LexborHTMLParser(page)
    result = tree.css_first("div.search-result")
    rows = [] if result is None else _items(result)
    # The empty-state item says there is no result; it is neither a listing nor a reject.
    rows = [r for r in rows if not (r["href"] is None and EMPTY_STATE in r["item_text"])]
    columns = {name: [r[name] for r in rows] for name in _ITEM_FIELDS}
    spans = _spans(page, columns["href"])
    columns["byte_start"] = [s for s, _ in spans]
    columns["byte_end"] = [e for _, e in spans]
    pager = tree.css_first("div.el-pagination")
    return {
        "items": columns,
        "tips": _text(tree.css_first("div.search-tips")),
        "pager_total": _text(pager.css_first("span.el-pagination__total")) if pager else None,
        "pager_numbers": [n.text() for n in pager.css("ul.el-pager li.number")] if pager else [],
        "has_list": result is not None,
        "page_url": _page_url(tree),
    }


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
            "_items": [e["items"] for e in extracted],
        },
        schema={
            "snapshot_id": pl.String,
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
            "tips": pl.String,
            "pager_total": pl.String,
            "pager_numbers": pl.List(pl.String),
            "has_list": pl.Boolean,
            "page_url": pl.String,
            "depth": pl.Int64,
        },
    )
    return items, facts


def read_items(items: pl.DataFrame, pages: pl.DataFrame) -> pl.DataFrame:
    """Raw items → listing rows (with `fragment` and `parse_error`), by the text form's rules."""
    title = _collapse(pl.col("title_raw"))
    description = _collapse(pl.col("description_raw"))
    age = _collapse(pl.col("age_raw")).str.strip_chars_start("| ")
    rating = pl.coalesce(_collapse(pl.col("rating_raw")).replace("", None), "rating_aria")
    info = _collapse(pl.col("info_raw"))
    # The info line and the star text, joined as the text form joins them: then one set of
    # rules reads both forms.
    tail = pl.concat_str(
        info, pl.when(age.is_not_null() & (age != "")).then(pl.lit(" | ") + age), rating,
        ignore_nulls=True,
    )  # fmt: skip
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
            tail.alias("tail"),
            pl.col("href")
            .str.extract(_DOCUMENT_HREF)
            .cast(pl.Int64, strict=False)
            .alias("document_id"),
            pl.coalesce(
                pl.col("icon_src").str.extract(_ICON), pl.col("icon_alt").str.extract(_ICON_ALT)
            ).alias("file_family"),
        )
        .with_columns(text.tail_parts(pl.col("tail")))
        .unnest("_t")
        .with_columns(
            (pl.col("title") + pl.col("description")).alias("heading"),
            pl.lit("html").alias("title_source"),
            pl.col("price_text").cast(pl.Int64, strict=False).alias("price"),
            pl.lit(False).alias("price_ambiguous"),
        )
        .pipe(text.derive_fields)
    )
    problems = pl.concat_str(
        pl.when(pl.col("href").is_null()).then(pl.lit("item has no h3.doc-title link")),
        pl.when(pl.col("href").is_not_null() & pl.col("document_id").is_null()).then(
            pl.format("link '{}' is not /document/ID", "href")
        ),
        pl.when(pl.col("title").fill_null("") == "").then(pl.lit("empty title")),
        pl.when(pl.col("description").is_null()).then(pl.lit("item has no div.doc-desc")),
        pl.when(pl.col("info_raw").is_null()).then(
            pl.lit("item has no span.float-right (PRICE CREDIT | PAGES 页 | SIZE)")
        ),
        pl.when(rating.is_null()).then(pl.lit("item has no rating (span.el-rate__text)")),
        pl.when(
            pl.col("info_raw").is_not_null() & rating.is_not_null() & pl.col("price_text").is_null()
        ).then(
            pl.format(
                "info line '{}' does not read PRICE CREDIT | PAGES 页 | SIZE [| AGE]RATING",
                pl.col("tail").fill_null(""),
            )
        ),
        pl.when(pl.col("price_text").is_not_null()).then(pl.col("parse_error")),
        separator="; ",
        ignore_nulls=True,
    )
    return frame.with_columns(
        problems.replace("", None).alias("parse_error"),
        _collapse(pl.col("item_text")).alias("fragment"),
    )


def read_facts(facts: pl.DataFrame, pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Page facts → (footers, rejects): totals from the pager and the search tips must agree."""
    tips = _collapse(pl.col("tips")).str.extract_groups(_TIPS)
    pager_total = _collapse(pl.col("pager_total")).str.extract(_PAGER_TOTAL).cast(pl.Int64)
    numbers = pl.col("pager_numbers").list.eval(
        pl.element().str.strip_chars().cast(pl.Int32, strict=False)
    )
    read = facts.with_columns(
        tips.alias("_tips"),
        pager_total.alias("_pager_total"),
        numbers.list.max().alias("last_page"),
    ).with_columns(
        pl.col("_tips").struct.field("total").cast(pl.Int64).alias("_tips_total"),
        pl.col("_tips").struct.field("docs").cast(pl.Int64).alias("site_document_count"),
        pl.col("_tips").struct.field("spend").cast(pl.Float64).alias("search_seconds"),
    )
    disagree = (pl.col("_pager_total") != pl.col("_tips_total")).fill_null(False)
    too_deep = pl.col("depth") > MAX_DEPTH
    no_list = ~pl.col("has_list")
    footers = read.select(
        "snapshot_id",
        pl.when(~disagree).then(pl.coalesce("_pager_total", "_tips_total")).alias("total_results"),
        pl.when(pl.col("last_page") >= 1).then("last_page").alias("last_page"),
        pl.lit(None, pl.Int64).alias("footer_byte_start"),
        pl.lit(None, pl.Int64).alias("footer_byte_end"),
        "site_document_count",
        "search_seconds",
        "page_url",
    )
    # A page that is no results page is rejected whole; a disagreement names both totals.
    page = pl.col("text")
    rejects = (
        read.filter(disagree | no_list)
        .join(pages.select("snapshot_id", "text"), on="snapshot_id", how="left")
        .select(
            "snapshot_id",
            pl.lit(0, pl.Int64).alias("byte_start"),
            pl.when(no_list)
            .then(page.str.len_bytes().cast(pl.Int64))
            .otherwise(0)
            .alias("byte_end"),
            pl.when(no_list)
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
            .when(no_list)
            .then(
                pl.lit(
                    "HTML page has no search result list (div.search-result): not a results page"
                )
            )
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


def parse_pages(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse a batch of decoded HTML snapshots, as `text.parse_pages` does text ones."""
    items, facts = extract_pages(pages)
    listings = read_items(items, pages)
    footers, rejects = read_facts(facts, pages)
    return listings, footers, rejects
