"""The page layouts the sites printed, one declarative record each (docs/input-format.md §0).

A *layout* is a set of template versions that print a listing the same way for the parser.
Each record (`RECORDS`) cites its template files and commit ranges (`sources`, whose notes
list what the parser reads either way) and says what it prints; the text and HTML parsers
build their patterns and selectors from the records, and `render/` its pages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.vocab import LAYOUTS, PAGE_TYPES


@dataclass(frozen=True)
class Source:
    """One template file over a range of commits (inclusive; `last` None: still at HEAD)."""

    repository: str
    path: str
    first: str
    first_date: str
    last: str | None
    last_date: str
    note: str = ""


@dataclass(frozen=True)
class SizePrinter:
    """How a size was printed: base 1024, two decimals, a unit from `units`.

    - `ties`: how an exact half is rounded: `up` (JavaScript `toFixed`), `even` (Go `%.2f`).
    - `trimmed`: trailing zeros dropped (`parseFloat(x.toFixed(2))`: `38.5 KB`, `2 MB`).
    - `unit_choice`: `float_log` (JavaScript `Math.floor(Math.log(b) / Math.log(1024))`,
      whose rounding picks the next unit a little early from PB on, `FLOAT_LOG_THRESHOLDS`)
      or `division` (Go: divide by 1024 while the value is >= 1024, exact).
    - `zero`: the text of 0 bytes when it is special (`0 Bytes`), else None (`0.00 B`).
    - `unit_space`: a space between number and unit.
    """

    name: str
    units: tuple[str, ...]
    ties: str
    trimmed: bool
    unit_choice: str
    zero: str | None
    unit_space: bool


# The date moredoc's search template printed for every listing from e091065 to f77c13d: a
# literal in the template, not the document's upload time (layout moredoc-2022-12).
CONSTANT_DATE = "2019-06-10 10:17"

_JS_UNITS = ("B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_GO_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")
JS_TRIMMED = SizePrinter("js-trimmed", _JS_UNITS, "up", True, "float_log", "0 Bytes", True)
JS_FIXED = SizePrinter("js-toFixed-2", _JS_UNITS, "up", False, "float_log", "0 Bytes", True)
GO_GLUED = SizePrinter("go-%.2f-glued", _GO_UNITS, "even", False, "division", None, False)
GO_SPACED = SizePrinter("go-%.2f", _GO_UNITS, "even", False, "division", None, True)


def float_log_threshold(k: int) -> int:
    """The least byte count b >= 1 for which JavaScript picks unit k or higher:
    `Math.floor(Math.log(b) / Math.log(1024)) >= k`, with IEEE doubles as JavaScript has
    them (Python's math.log is the same correctly rounded log on this platform). It is
    1024^k up to TB; from PB on, the quotient rounds up to k a little below 1024^k."""
    if k == 0:
        return 1
    low, high = 1024 ** (k - 1), 1024**k  # picks < k at low, >= k at high
    while high - low > 1:
        middle = (low + high) // 2
        if math.floor(math.log(middle) / math.log(1024)) >= k:
            high = middle
        else:
            low = middle
    return high


# Unit k's first byte count under `float_log`, for every unit a signed 64-bit size reaches.
FLOAT_LOG_THRESHOLDS = tuple(float_log_threshold(k) for k in range(len(_JS_UNITS)))


@dataclass(frozen=True)
class Layout:
    """What one layout prints, for the parsers. See docs/input-format.md §0 for each field."""

    name: str
    software: str  # moredoc, moredoc-web, dochub
    page_type: str  # search, category
    sources: tuple[Source, ...]
    # Where the star rating stands: `before` the tail (its own line in innerText, a space
    # in textContent) or `after` it (after the age: glued, a space or a line break).
    rating: str
    # Where the description stands: `before` the tail (search pages) or `after` it
    # (category pages: title, tail + rating, description).
    description: str
    # How the rating prints: `js` (score / 100 as JavaScript prints a number: 3, 4.5,
    # 0.03) or `dochub` (score / 10000 with one decimal and `分`: `4.5 分`, `4.5分`).
    rating_printer: str
    # The rating shown for a score of 0 or none (search pages 3, category pages 4).
    unrated: str
    size: SizePrinter
    # The time: `relative` (`9 月前`), `minute` (`YYYY-MM-DD HH:MM` in the site's zone),
    # `second` (`YYYY-MM-DD HH:MM:SS` in the reader's browser zone) or `constant` (a date
    # written into the template, the same on every listing: no upload time at all).
    time: str
    credit_default: str
    credit_space: bool  # `0 魔豆` (True) or `0金币`
    pages_space: bool  # `8 页` (True) or `254页`
    # The document link: its path pattern, the id's group first.
    link: str
    pager: str  # element (`共 N 条` + page numbers) or bootstrap (`1.. << 1 2 >> ..N`)
    # HTML: the result list's items, and each piece inside an item (CSS selectors).
    item: str
    title: str
    description_node: str
    rating_node: str
    info_node: str
    age_node: str | None


_MOREDOC = "mnt-ltd/moredoc"
_MOREDOC_WEB = "mnt-ltd/moredoc-web"
_DOCHUB = "TruthHun/DocHub"
_SEARCH_VUE = "web/pages/search.vue"
_LIST_VUE = "web/components/DocumentList.vue"
_UTILS = "web/utils/utils.js"

_MOREDOC_ITEM = {
    "item": "div.search-result ul > li",
    "title": "h3.doc-title a",
    "description_node": "div.doc-desc",
    "rating_node": "div.el-rate",
    "age_node": "span.hidden-xs-only",
}
_LIST_ITEM = {
    "item": "div.com-document-list ul > li",
    "title": "h3 a",
    "description_node": "div.doc-desc",
    "rating_node": "div.el-rate",
}
_DOCUMENT_LINK = r"^/document/([0-9]{1,19}|[0-9a-f]{16})(?:[?#].*)?$"
_MOREDOC_COMMON = {
    "software": "moredoc",
    "credit_default": "魔豆",
    "credit_space": True,
    "pages_space": True,
    "link": _DOCUMENT_LINK,
    "pager": "element",
}
_DOCHUB_COMMON = {
    "software": "dochub",
    "page_type": "search",
    "rating": "before",
    "description": "before",
    "rating_printer": "dochub",
    "unrated": "0.0",
    "time": "minute",
    "credit_default": "金币",
    "link": r"^/view/([0-9]{1,19})(?:[?#].*)?$",
    "pager": "bootstrap",
    "item": "ul.wenku-result > li",
    "title": "div.wenku-title a",
    "description_node": "div.wenku-desc",
    "rating_node": "div.wenku-info div.text-muted",
    "info_node": "span.pull-right",
    "age_node": "span.hidden-xs",
}
_SEARCH_DOCHUB = "views/Home/default/Search/index.html"
_HELPER_GO = "helper/helper.go"

# fmt: off
RECORDS: tuple[Layout, ...] = (
    Layout(
        name="moredoc-2022-12",
        page_type="search",
        sources=(
            Source(_MOREDOC, _SEARCH_VUE, "e091065", "2022-12-16", "f77c13d", "2023-01-05",
                   "the time is the template's literal `2019-06-10 10:17`; tips with a document "
                   "count (hard-coded 3235 until 0c58919)"),
            Source(_MOREDOC, _UTILS, "3a0914a", "2022-10-17", "279d64d^", "2023-04-04",
                   "formatBytes: parseFloat(x.toFixed(2)), trailing zeros dropped"),
        ),
        rating="before", description="before", rating_printer="js", unrated="3",
        size=JS_TRIMMED, time="constant", info_node="span.float-right",
        **_MOREDOC_COMMON, **_MOREDOC_ITEM,
    ),
    Layout(
        name="moredoc-2023-01",
        page_type="search",
        sources=(
            Source(_MOREDOC, _SEARCH_VUE, "2543873", "2023-01-07", "581aed0", "2023-03-28",
                   "relative time; credit word from the settings from f9801b2"),
            Source(_MOREDOC, _UTILS, "3a0914a", "2022-10-17", "279d64d^", "2023-04-04",
                   "formatBytes: trailing zeros dropped (`38.5 KB`, `2 MB`)"),
        ),
        rating="before", description="before", rating_printer="js", unrated="3",
        size=JS_TRIMMED, time="relative", info_node="span.float-right",
        **_MOREDOC_COMMON, **_MOREDOC_ITEM,
    ),
    Layout(
        name="moredoc-2023-04",
        page_type="search",
        sources=(
            Source(_MOREDOC, _UTILS, "279d64d", "2023-04-04", "1f1c256", "2023-11-01",
                   "formatBytes keeps two decimals (`38.50 KB`); web/ removed in 1f1c256"),
            Source(_MOREDOC, _SEARCH_VUE, "279d64d", "2023-04-04", "1f1c256", "2023-11-01",
                   "tips move to div.search-tips in 974a2f5"),
            Source(_MOREDOC_WEB, "pages/search.vue", "c050bee", "2023-10-31", "ec5c082",
                   "2024-03-25", "5740ddf: tips without the document count; 1186311: links "
                   "/document/${uuid || id}"),
            Source(_MOREDOC_WEB, "components/SearchResultDocument.vue", "5896ab9",
                   "2024-03-25", "409ca6e", "2024-07-30",
                   "the list one level deeper (div.com-search-result-document > ul)"),
        ),
        rating="before", description="before", rating_printer="js", unrated="3",
        size=JS_FIXED, time="relative", info_node="span.float-right",
        **_MOREDOC_COMMON, **_MOREDOC_ITEM,
    ),
    Layout(
        name="moredoc-web-2024-07",
        page_type="search",
        sources=(
            Source(_MOREDOC_WEB, "components/SearchResultDocument.vue", "3042ed2",
                   "2024-07-30", None, "2025-09-15",
                   "the info span first (no class), el-rate after it with float-right; "
                   "e7b8185 moves the tips into the card header"),
        ),
        rating="after", description="before", rating_printer="js", unrated="3",
        size=JS_FIXED, time="relative", info_node="div.doc-info > span",
        **_MOREDOC_COMMON, **_MOREDOC_ITEM,
    ),
    Layout(
        name="moredoc-list-2022-12",
        page_type="category",
        sources=(
            Source(_MOREDOC, _LIST_VUE, "e0d4039", "2022-12-12", "279d64d^", "2023-04-04",
                   "title, el-rate + span.float-right (absolute time with seconds), then the "
                   "description; formatBytes without trailing zeros"),
        ),
        rating="before", description="after", rating_printer="js", unrated="4",
        size=JS_TRIMMED, time="second", info_node="span.float-right",
        **_MOREDOC_COMMON, **_LIST_ITEM, age_node="span.hidden-xs-only",
    ),
    Layout(
        name="moredoc-list-2023-04",
        page_type="category",
        sources=(
            Source(_MOREDOC, _LIST_VUE, "279d64d", "2023-04-04", "1f1c256", "2023-11-01",
                   "formatBytes keeps two decimals"),
            Source(_MOREDOC_WEB, "components/DocumentList.vue", "c050bee", "2023-10-31",
                   "5a61bc2", "2024-07-28", "1186311: links /document/${uuid || id}"),
        ),
        rating="before", description="after", rating_printer="js", unrated="4",
        size=JS_FIXED, time="second", info_node="span.float-right",
        **_MOREDOC_COMMON, **_LIST_ITEM, age_node="span.hidden-xs-only",
    ),
    Layout(
        name="moredoc-web-list-2024-07",
        page_type="category",
        sources=(
            Source(_MOREDOC_WEB, "components/DocumentList.vue", "4bc7608", "2024-07-28", None,
                   "2025-09-15", "the info span first, el-rate after it (float-right, "
                   "hidden on narrow screens); relative time"),
        ),
        rating="after", description="after", rating_printer="js", unrated="4",
        size=JS_FIXED, time="relative", info_node="div.doc-info > span",
        **_MOREDOC_COMMON, **_LIST_ITEM, age_node=None,
    ),
    Layout(
        name="dochub-2018-04",
        sources=(
            Source(_DOCHUB, _SEARCH_DOCHUB, "9dc4ed8", "2018-04-30", "544388a", "2018-08-08",
                   "`4.5分`, `0金币 | 254页`; d291cd3 takes the description from the text"),
            Source(_DOCHUB, _HELPER_GO, "9dc4ed8", "2018-04-30", "0adaa1d^", "2018-08-09",
                   "FormatByte without a space: `1.12KB`"),
        ),
        size=GO_GLUED, credit_space=False, pages_space=False, **_DOCHUB_COMMON,
    ),
    Layout(
        name="dochub-2018-08",
        sources=(
            Source(_DOCHUB, _HELPER_GO, "0adaa1d", "2018-08-09", "43de8f5", "2018-08-11",
                   "FormatByte with a space: `1.12 KB`; still `4.5分`, `0金币 | 254页`"),
        ),
        size=GO_SPACED, credit_space=False, pages_space=False, **_DOCHUB_COMMON,
    ),
    Layout(
        name="dochub-2018-08-11",
        sources=(
            Source(_DOCHUB, _SEARCH_DOCHUB, "b8ca065", "2018-08-11", None, "2023-02-14",
                   "`4.5 分`, `0 金币 | 254 页`; 4851b6b puts the time in span.hidden-xs; "
                   "6c29be7 adds the icon's alt (last code change dd28a31, 2019-09-26)"),
        ),
        size=GO_SPACED, credit_space=True, pages_space=True, **_DOCHUB_COMMON,
    ),
    Layout(
        name="dochub-list-2018",
        sources=(
            Source(_DOCHUB, "views/Home/default/List/index.html", "9dc4ed8", "2018-04-30", None,
                   "2023-02-14", "大小/页数/评分/时间 labels, a date without time, no price"),
        ),
        **{**_DOCHUB_COMMON, "page_type": "category", "time": "day",
           "item": "ul > li.clearfix", "title": "h3 a",
           "description_node": "div.help-block", "info_node": "div.help-block"},
        size=GO_SPACED, credit_space=True, pages_space=True,
    ),
    Layout(
        name="moredoc-api",
        page_type="search",
        sources=(
            Source(_MOREDOC, "api/v1/document.proto", "e091065", "2022-12-16", None,
                   "2025-09-15", "SearchDocumentReply {total, spend, document}; JSON from the "
                   "Go struct tags (middleware/jsonpb): int64 as numbers, zero values left out, "
                   "times RFC 3339 in the server's offset; uuid from 67bd439 (2024-01-17)"),
        ),
        rating="none", description="none", rating_printer="api", unrated="3",
        size=JS_FIXED, time="exact", credit_default="", credit_space=True, pages_space=True,
        software="moredoc", link="", pager="none", item="", title="", description_node="",
        rating_node="", info_node="", age_node=None,
    ),
)
# fmt: on

BY_NAME: dict[str, Layout] = {layout.name: layout for layout in RECORDS}

# The records and the contract's words are one list, in one order.
if tuple(BY_NAME) != LAYOUTS or any(r.page_type not in PAGE_TYPES for r in RECORDS):
    raise RuntimeError("pipeline.parse.layouts.RECORDS and pipeline.vocab.LAYOUTS differ")


def layout(name: str) -> Layout:
    """The record of a layout name (KeyError naming the known ones otherwise)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; known: {', '.join(BY_NAME)}") from None
