"""The HTML form (docs/input-format.md §3.1): a search page as moredoc's Nuxt front end
renders it, as the server sends it or as a browser saves it (`render_html_page`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from render.fields import (
    Document,
    file_family,
    listing_document_id,
    pager_window,
    render_age_block,
    render_info,
    render_rating,
)

# The page as moredoc's Nuxt front end renders it (pages/search.vue of moredoc-web, built
# from element-ui widgets). The parser relies on the classes named here.

STAR_COUNT = 5  # el-rate's stars
EMPTY_RESULT_TEXT = "很遗憾，未能检索到相关结果"
KEYWORDS_HEADING = "相关搜索词"
PAGE_TITLE = "文档搜索"
# What a browser would not show as written: a run of the HTML spec's ASCII whitespace (it
# collapses to one space) or any of it but the plain space (it becomes a space).
_HTML_SPACE = re.compile(r"[\t\n\f\r ]{2,}|[\t\n\f\r]")
# What JavaScript's String.prototype.trim removes (the site trims titles and keywords).
_JS_TRIM = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
_JS_TRIM += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_VOID_TAGS = frozenset({"img", "meta", "link"})
_INDENT = "  "
# Strings in the saved page's `window.__NUXT__` state that look like listings and markup:
# a parser must read elements, never the raw text of scripts.
_NUXT_DECOYS = (
    "<li>0 码力 | 1 页 | 1.00 MB</li>",
    '<h3 class="doc-title"><a href="/document/0">不是结果</a></h3>',
    '<div class="doc-desc">不是描述</div><span class="float-right">5 码力 | - 页 | 0 Bytes</span>',
    '<span class="el-pagination__total">共 0 条</span>',
)
_SAVED_CSS = (
    "/* 0 码力 | 1 页 | 1.00 MB */"
    ".search-result li{padding-top:20px}.doc-title a{font-size:18px}"
    ".doc-desc{color:#6b7a88;line-height:180%}.doc-info{color:#bdc3c7}"
    '.el-rate__text::after{content:""}.el-pagination__total{margin-right:10px}'
    "@media screen and (max-width:600px){.hidden-xs-only{display:none!important}}"
)


@dataclass(frozen=True)
class _Text:
    """A text node. `char_ref`: the saved form writes its first non-ASCII character as a
    numeric character reference (`&#x4e91;`), as some saved pages do."""

    text: str
    char_ref: bool = False


@dataclass(frozen=True)
class _Comment:
    """Vue's placeholder for a `v-if` that rendered nothing: `<!---->`."""


@dataclass(frozen=True)
class _Raw:
    """Script or style content, written verbatim."""

    text: str


@dataclass(frozen=True)
class _El:
    tag: str
    attrs: tuple[tuple[str, str], ...]
    children: tuple[_Text | _Comment | _Raw | _El, ...]
    tight: bool  # never indented: its content is written as is even in the saved form


def _el(
    tag: str,
    attrs: dict[str, str] | None = None,
    *children: _Text | _Comment | _Raw | _El,
    tight: bool = False,
) -> _El:
    return _El(tag, tuple((attrs or {}).items()), children, tight)


def _escape(text: str, char_ref: bool) -> str:
    if char_ref:
        for i, c in enumerate(text):
            if ord(c) > 0x7F:
                escaped = html.escape(text[:i], quote=True) + f"&#x{ord(c):x};"
                return escaped + html.escape(text[i + 1 :], quote=True)
    return html.escape(text, quote=True)


def _write(node: _Text | _Comment | _Raw | _El, saved: bool, depth: int, out: list[str]) -> None:
    """Serialise: compact for the server form; the saved form indents every element's
    children on their own lines, whitespace a browser collapses (the tree is built so that
    no two text-bearing inline siblings touch, which is what makes that true)."""
    if isinstance(node, _Text):
        out.append(_escape(node.text, node.char_ref and saved))
        return
    if isinstance(node, _Comment):
        out.append("<!---->")
        return
    if isinstance(node, _Raw):
        out.append(node.text)
        return
    attrs = "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in node.attrs)
    out.append(f"<{node.tag}{attrs}>")
    if node.tag in _VOID_TAGS:
        return
    if saved and not node.tight and node.children:
        pad = "\n" + _INDENT * (depth + 1)
        for child in node.children:
            out.append(pad)
            _write(child, saved, depth + 1, out)
        out.append("\n" + _INDENT * depth)
    else:
        for child in node.children:
            _write(child, saved, depth + 1, out)
    out.append(f"</{node.tag}>")


def _js_trim(text: str) -> str:
    return text.strip(_JS_TRIM)


def _check_shown_as_is(what: str, text: str) -> None:
    """Raise unless a browser shows `text` exactly as it is (see `render_html_page`)."""
    if _HTML_SPACE.search(text) or "\x00" in text:
        raise ValueError(
            f"{what} holds a line break, tab, form feed, CR, NUL or a run of spaces, which a "
            f"browser would not show as is: {text!r}"
        )
    if text and (text[0] in _JS_TRIM or text[-1] in _JS_TRIM or text != text.strip()):
        raise ValueError(f"{what} starts or ends with whitespace (the site trims it): {text!r}")


def page_keywords(docs: Sequence[Document]) -> list[str]:
    """The `相关搜索词` column: every document's keywords split on `,`, trimmed, empty ones
    dropped, each kept once, in order of first appearance (as moredoc-web's search page)."""
    seen: dict[str, None] = {}
    for doc in docs:
        for keyword in doc.keywords.split(","):
            keyword = _js_trim(keyword)
            if keyword:
                seen.setdefault(keyword)
    return list(seen)


# The HTML layouts the renderer prints (docs/input-format.md §0): the star widget before a
# floated info span (moredoc until 2024-07), or a plain info span with the floated widget
# after it (moredoc-web since 3042ed2).
HTML_LAYOUTS = ("moredoc-2023-04", "moredoc-web-2024-07")


def _listing_item(
    doc: Document,
    position: int,
    fetched_at: datetime,
    show_age: bool,
    saved: bool,
    layout: str = HTML_LAYOUTS[0],
) -> _El:
    family = file_family(doc.ext)
    rating = render_rating(doc.score)
    link = _el(
        "a",
        {"href": f"/document/{listing_document_id(doc, position)}", "title": doc.title},
        _el("img", {"src": f"/static/images/{family}_24.png", "alt": f"{family}文档"}),
        # Every other title of the saved form carries a numeric character reference.
        _Text(doc.title, char_ref=position % 2 == 1),
    )
    star = _el(
        "span",
        {"class": "el-rate__item"},
        _el("i", {"class": "el-rate__icon el-icon-star-on"}),
        tight=True,
    )
    rate = _el(
        "div",
        {
            "role": "slider",
            "aria-valuenow": rating,
            "aria-valuetext": "",
            "aria-valuemin": "0",
            "aria-valuemax": str(STAR_COUNT),
            "tabindex": "0",
            "class": "el-rate" if layout == HTML_LAYOUTS[0] else "el-rate float-right",
        },
        *([star] * STAR_COUNT),
        _el("span", {"class": "el-rate__text"}, _Text(rating)),
    )
    info: list[_Text | _Comment | _Raw | _El] = [_Text(render_info(doc))]
    if show_age:
        age = render_age_block(fetched_at, doc.uploaded_at)
        info.append(_el("span", {"class": "hidden-xs-only"}, _Text(age)))
    elif saved:
        info.append(_Comment())
    return _el(
        "li",
        None,
        _el("h3", {"class": "doc-title"}, link),
        _el("div", {"class": "doc-desc"}, *([_Text(doc.description)] if doc.description else [])),
        _el("div", {"class": "doc-info"}, rate, _el("span", {"class": "float-right"}, *info))
        if layout == HTML_LAYOUTS[0]
        else _el("div", {"class": "doc-info"}, _el("span", None, *info), rate),
    )


def _pagination(total_results: int, current_page: int, last_page: int) -> _El:
    numbers = pager_window(current_page, last_page)
    items: list[_El] = []
    for i, number in enumerate(numbers):
        if i > 0 and number - numbers[i - 1] > 1:
            # A gap after the first page is the "previous pages" button, any other the "next".
            kind = "btn-quickprev" if i == 1 else "btn-quicknext"
            items.append(_el("li", {"class": f"el-icon more {kind} el-icon-more"}))
        active = "number active" if number == current_page else "number"
        items.append(_el("li", {"class": active}, _Text(str(number))))
    return _el(
        "div",
        {"class": "el-pagination"},
        _el("span", {"class": "el-pagination__total"}, _Text(f"共 {total_results} 条")),
        _el(
            "button",
            {"type": "button", "class": "btn-prev"},
            _el("i", {"class": "el-icon el-icon-arrow-left"}),
            tight=True,
        ),
        _el("ul", {"class": "el-pager"}, *items),
        _el(
            "button",
            {"type": "button", "class": "btn-next"},
            _el("i", {"class": "el-icon el-icon-arrow-right"}),
            tight=True,
        ),
    )


def _search_tips(spend: str, site_documents: int, total: int, saved: bool) -> _El:
    if not saved:
        text = (
            f"本次搜索耗时 {spend} 秒，在 {site_documents} 篇文档中为您找到相关结果约 {total} 个."
        )
        return _el("div", {"class": "search-tips"}, _Text(text))

    # The saved form keeps the template's spans and line breaks; collapsed, it reads the same.
    def number(value: str, tone: str) -> _El:
        return _el("span", {"class": f"el-link el-link--{tone}"}, _Text(value))

    return _el(
        "div",
        {"class": "search-tips"},
        _Text("本次搜索耗时"),
        number(spend, "danger"),
        _Text("秒，在"),
        number(str(site_documents), "primary"),
        _Text("篇文档中为您找到相关结果约"),
        number(str(total), "danger"),
        _Text("个."),
    )


def _keyword_column(keywords: Sequence[str]) -> _El:
    links: list[_Text | _Comment | _Raw | _El] = []
    for i, keyword in enumerate(keywords):
        if i:
            links.append(_Text(" "))  # so the saved form's line breaks add no space
        href = f"/search?wd={quote(keyword, safe='')}&page=1&size=10"
        links.append(_el("a", {"href": href, "class": "el-link el-link--default"}, _Text(keyword)))
    return _el(
        "div",
        {"class": "el-col el-col-6 search-right"},
        _el(
            "div",
            {"class": "el-card is-never-shadow"},
            _el("div", {"class": "el-card__header"}, _el("span", None, _Text(KEYWORDS_HEADING))),
            _el("div", {"class": "el-card__body"}, *links),
        ),
    )


def _nuxt_state(
    docs: Sequence[Document], total_results: int, search_seconds: str, keywords: Sequence[str]
) -> str:
    """The saved page's `window.__NUXT__=…` script: the page's data again, plus decoys."""
    state = {
        "layout": "default",
        "data": [
            {
                "total": str(total_results),
                "spend": search_seconds,
                "keywords": list(keywords),
                "docs": [
                    {
                        "id": str(listing_document_id(doc, position)),
                        "title": doc.title,
                        "description": doc.description,
                        "info": render_info(doc),
                        "score": doc.score,
                        "ext": doc.ext,
                    }
                    for position, doc in enumerate(docs, start=1)
                ],
            }
        ],
        "fetch": {},
        "error": None,
        "serverRendered": True,
    }
    # The page's own strings are JSON-escaped so that none can end the script (`</script>`);
    # the decoys are constants without `</script` or `<!--`.
    data = json.dumps(state, ensure_ascii=False).replace("<", "\\u003C")
    decoys = json.dumps(list(_NUXT_DECOYS), ensure_ascii=False)
    return f"window.__NUXT__={data};window.__NUXT__.state={{tips:{decoys}}};"


def render_html_page(
    docs: Sequence[Document],
    fetched_at: datetime,
    *,
    total_results: int,
    last_page: int,
    current_page: int = 1,
    site_document_count: int,
    search_seconds: str = "0.012",
    saved: bool = False,
    show_age: Sequence[bool] | None = None,
    layout: str = HTML_LAYOUTS[0],
) -> str:
    """A whole search page as the site's HTML (docs/input-format.md §3.1).

    `layout` is one of `HTML_LAYOUTS`: below, moredoc-2023-04's item; moredoc-web-2024-07's
    puts a class-less info span first and the star widget, `el-rate float-right`, after it.

    The server form (`saved=False`) is compact markup: no whitespace between elements, one
    space between keyword links, a final line break. Each listing is

        <li><h3 class="doc-title"><a href="/document/ID" title="TITLE"><img
        src="/static/images/FAMILY_24.png" alt="FAMILY文档">TITLE</a></h3><div
        class="doc-desc">DESCRIPTION</div><div class="doc-info"><div role="slider"
        aria-valuenow="RATING" … class="el-rate">(5 × span.el-rate__item)<span
        class="el-rate__text">RATING</span></div><span class="float-right">PRICE CREDIT |
        PAGES 页 | SIZE<span class="hidden-xs-only"> | AGE</span></span></div></li>

    with RATING, the info text and the age exactly as the text form has them
    (`render_rating`, `render_info`, `render_age_block`). `show_age[i]` False drops listing
    i's `span.hidden-xs-only` (a narrow layout). With no documents the list holds one
    `li.el-empty` with `p.el-empty__description` `很遗憾，未能检索到相关结果`. The pagination,
    `共 TOTAL 条` and a `li.number` per `pager_window(current_page, last_page)` item (`active`
    on the current page, `li.more` `btn-quickprev`/`btn-quicknext` in each gap), is shown only
    when `total_results > 0`, as on the site. The `相关搜索词` column (`page_keywords`) is
    shown only when some document has keywords.

    `saved=True` renders the same page as a browser's "Save Page As" leaves it: `<!DOCTYPE
    html>`, `<link>` tags, a `<style>` block, `<script>` blocks (one `window.__NUXT__=…` state
    holding strings that look like listings and markup), Vue's empty comments `<!---->`
    where a `v-if` rendered nothing, every element's children indented on their own lines
    (whitespace a browser collapses: `<div class="doc-desc">\\n  …DESCRIPTION\\n…</div>`),
    the search tips split into the template's spans, and the first non-ASCII character of
    every odd-positioned listing's title written as a numeric character reference
    (`&#x4e91;`). Read as a browser shows it (entities decoded, runs of ASCII whitespace
    collapsed, block edges trimmed) it holds the same text as the server form.

    Decisions the caller should know:
    - Text is escaped with `html.escape(…, quote=True)` and otherwise written as is, so a
      browser must show it unchanged: titles, descriptions, keywords (after the split and
      trim) and `search_seconds` must hold no line break, tab, form feed, CR or NUL, no run
      of two or more spaces, and no leading or trailing whitespace (the site trims them).
      Anything else raises ValueError. Other whitespace (U+00A0, U+3000) inside the text is
      allowed: a browser keeps it, so a parser must collapse ASCII whitespace only.
    - A document without an id shows its 1-based position (`listing_document_id`).
    - The stars are all `el-icon-star-on`; read the rating from `span.el-rate__text` or
      `aria-valuenow`. A score of 0 shows `0` as in the text form (the real site shows 3).

    The output is deterministic: no randomness, no clock.
    """
    if layout not in HTML_LAYOUTS:
        raise ValueError(f"layout must be one of {HTML_LAYOUTS}, got {layout!r}")
    n = len(docs)
    ages = [True] * n if show_age is None else list(show_age)
    if len(ages) != n:
        raise ValueError(f"need one show_age flag per listing: {n} listings, {len(ages)} flags")
    if total_results < 0 or site_document_count < 0 or last_page < 0:
        raise ValueError(
            "total_results, site_document_count and last_page must be >= 0, got "
            f"{total_results}, {site_document_count}, {last_page}"
        )
    if current_page < 1 or (last_page >= 1 and current_page > last_page):
        raise ValueError(f"current_page must be in 1..{max(last_page, 1)}, got {current_page}")
    if not search_seconds:
        raise ValueError("search_seconds must not be empty")
    _check_shown_as_is("search_seconds", search_seconds)
    for position, doc in enumerate(docs, start=1):
        _check_shown_as_is(f"title of listing {position}", doc.title)
        _check_shown_as_is(f"description of listing {position}", doc.description)
    keywords = page_keywords(docs)
    for keyword in keywords:
        _check_shown_as_is("keyword", keyword)

    listing_items: list[_Text | _Comment | _Raw | _El] = [
        _listing_item(doc, position, fetched_at, age, saved, layout)
        for position, (doc, age) in enumerate(zip(docs, ages, strict=True), start=1)
    ]
    if listing_items:
        if saved:
            listing_items.insert(0, _Comment())  # the empty state's `v-if`
    else:
        listing_items = [
            _el(
                "li",
                {"class": "el-empty"},
                _el("div", {"class": "el-empty__image"}),
                _el("p", {"class": "el-empty__description"}, _Text(EMPTY_RESULT_TEXT)),
            )
        ]
    main: list[_Text | _Comment | _Raw | _El] = [
        _search_tips(search_seconds, site_document_count, total_results, saved),
        _el("div", {"class": "search-result"}, _el("ul", None, *listing_items)),
    ]
    if total_results > 0:
        main.append(_pagination(total_results, current_page, last_page))
    elif saved:
        main.append(_Comment())
    columns: list[_Text | _Comment | _Raw | _El] = [
        _el(
            "div",
            {"class": "el-col el-col-18 search-main"},
            _el(
                "div",
                {"class": "el-card is-never-shadow"},
                _el("div", {"class": "el-card__body"}, *main),
            ),
        )
    ]
    if keywords:
        columns.append(_keyword_column(keywords))
    elif saved:
        columns.append(_Comment())
    app = _el(
        "div",
        {"id": "__nuxt"},
        _el("div", {"class": "page page-search"}, _el("div", {"class": "el-row"}, *columns)),
    )
    head: list[_Text | _Comment | _Raw | _El] = [
        _el("meta", {"charset": "utf-8"}),
        _el("title", None, _Text(PAGE_TITLE), tight=True),
    ]
    body: list[_Text | _Comment | _Raw | _El] = [app]
    if saved:
        head += [
            _el("link", {"rel": "stylesheet", "href": "./search_files/app.css"}),
            _el("link", {"rel": "icon", "href": "./search_files/favicon.ico"}),
            _el("style", None, _Raw(_SAVED_CSS), tight=True),
            _el("script", None, _Raw("window.dataLayer=window.dataLayer||[];"), tight=True),
        ]
        state = _nuxt_state(docs, total_results, search_seconds, keywords)
        body += [
            _el("script", None, _Raw(state), tight=True),
            _el("script", {"src": "./search_files/app.js"}, tight=True),
        ]
    page = _el("html", None, _el("head", None, *head), _el("body", None, *body))
    out = ["<!DOCTYPE html>\n" if saved else "<!doctype html>"]
    _write(page, saved, 0, out)
    out.append("\n")
    return "".join(out)
