"""The forward direction: render documents into snapshot text exactly by the site's rules.

The parser inverts the rules of docs/input-format.md §1–§3; this module *applies* them, so
property tests can render a known truth, parse it back and compare, and benchmarks can make
realistic pages of any size. Three forms: the flattened text (§1–§2, `render_page`), the
site's HTML (§3.1, `render_html_page`, as the server sends it or as a browser saves it) and
the search API's JSON (§3.2, `render_json_page`). The rendering uses the standard library
alone on purpose: the rules are integer arithmetic and string building, and keeping polars
out means the oracle cannot share a bug with the vectorised parser it checks. Its one project
import, `pipeline.vocab.FILE_FAMILY_OF_EXT`, is a plain dict (importing that module loads
polars, but nothing here goes through it).

Every number is computed with exact integers. The site renders in JavaScript, whose
`toFixed(2)` rounds an exact tie *up* and whose `Math.floor(Math.log(b) / Math.log(1024))`
we replace by the exact integer unit choice docs/input-format.md §1.3 defines; Python's
float formatting rounds ties to even and would disagree (1152 bytes: `1.13 KB` on the site,
`1.12` in `f"{1152 / 1024:.2f}"`).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pipeline.config import DEFAULT_SITE_TIME_ZONE
from pipeline.parse.layouts import CONSTANT_DATE, JS_FIXED, RECORDS, Layout, SizePrinter
from pipeline.parse.layouts import layout as layout_record
from pipeline.vocab import FILE_FAMILY_OF_EXT

SIZE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
TITLE_LAYOUTS = ("own_line", "glued", "repeated")
# The layout the flattened-text sample is in (wenku.it today), and every layout whose
# search page the text form reads (docs/input-format.md §0; category pages are HTML only).
DEFAULT_TEXT_LAYOUT = layout_record("moredoc-web-2024-07")
TEXT_LAYOUTS = tuple(
    r.name for r in RECORDS if r.page_type == "search" and r.rating in ("before", "after")
)
# The sample page ends with this many empty lines after the pager; reproduced byte for byte.
FOOTER_BLANK_LINES = 13
# The site shows page numbers 1..6 and the last page when on page 1 (sample: `- 1`..`- 6`,
# `- 15`): Element UI's pager with 7 buttons.
PAGER_BUTTONS = 7

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_MONTH = 30 * _DAY  # the site's month: 30 days, never a calendar month
_YEAR = 12 * _MONTH  # so a "year" is 360 days, never 365


@dataclass(frozen=True)
class Document:
    """One search result as the site stores it: the truth a listing is rendered from.

    Field values are checked on construction, because a value the site could never hold
    (a negative size, a naive time) would render text no real page contains and make a
    property test compare the parser against an impossible truth.
    """

    title: str
    description: str
    price: int  # >= 0
    credit: str  # the site's word for credits: "码力", "魔豆", "金币"
    pages: int | None  # None renders "-"
    size_bytes: int  # >= 0
    uploaded_at: datetime | None  # tz-aware UTC, whole seconds; None renders "刚刚"
    score: int  # raw score: the rating shown is score / 100
    # What only the HTML and JSON forms show (docs/input-format.md §3); the defaults keep
    # text-form callers unchanged.
    document_id: int | None = None  # the site's id (>= 1); None: see `listing_document_id`
    ext: str = ".pdf"  # with its dot, as the API gives it; the icon is `file_family(ext)`
    keywords: str = ""  # comma-separated, as the API gives it; feeds the `相关搜索词` column
    view_count: int = 0
    download_count: int = 0
    favorite_count: int = 0
    comment_count: int = 0
    # The public key moredoc gives documents since 2024-01 (16 lowercase hex digits on real
    # sites); the API sends it beside the id. None: a document from before it.
    uuid: str | None = None

    def __post_init__(self) -> None:
        if self.price < 0:
            raise ValueError(f"price must be >= 0, got {self.price}")
        if self.size_bytes < 0:
            raise ValueError(f"size_bytes must be >= 0, got {self.size_bytes}")
        if self.pages is not None and self.pages < 1:
            raise ValueError(
                "pages must be None or >= 1 (docs/input-format.md §1.6: positive integer "
                f"or '-'), got {self.pages}"
            )
        if self.score < 0:
            raise ValueError(f"score must be >= 0, got {self.score}")
        if not self.credit or any(c.isspace() or c == "|" or c.isdigit() for c in self.credit):
            # The tail reads `PRICE CREDIT |`: a credit with a space, a pipe or a digit
            # could not be told apart from the price or the next field.
            raise ValueError(f"credit must be one word without digits or '|', got {self.credit!r}")
        if self.uploaded_at is not None and self.uploaded_at.utcoffset() is None:
            raise ValueError("uploaded_at must be timezone-aware (UTC)")
        if self.document_id is not None and self.document_id < 1:
            raise ValueError(f"document_id must be None or >= 1, got {self.document_id}")
        for name in _COUNT_FIELDS:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.ext.startswith(".") or any(c.isspace() for c in self.ext):
            raise ValueError(f"ext must start with '.' and hold no whitespace, got {self.ext!r}")


_COUNT_FIELDS = ("view_count", "download_count", "favorite_count", "comment_count")


def file_family(ext: str) -> str:
    """The icon family the site shows for an extension (with its dot), case-insensitively.

    >>> file_family(".PDF"), file_family(".pptx"), file_family(".zip")
    ('pdf', 'ppt', 'other')
    """
    return FILE_FAMILY_OF_EXT.get(ext.lower(), "other")


def listing_document_id(doc: Document, position: int) -> int:
    """The id the HTML and JSON forms show for the listing at 1-based `position` on its page.

    A document without an id (text-form truths have none) gets its position, so the same
    documents rendered to HTML and to JSON carry the same ids. Ids derived this way are not
    checked against explicit ids on the same page: give every document an id, or none.
    """
    if position < 1:
        raise ValueError(f"position is 1-based, got {position}")
    return position if doc.document_id is None else doc.document_id


def render_size(size_bytes: int, printer: SizePrinter = JS_FIXED) -> str:
    """SIZE as a layout's `printer` shows it: base 1024, two decimals (docs/input-format.md §1.3).

    moredoc's `formatBytes` chooses the unit *before* rounding, with
    `Math.floor(Math.log(bytes) / Math.log(1024))` in doubles (Python's `math.log` is the
    same correctly rounded log): so 1 048 571..1 048 575 bytes show as `1024.00 KB`, not
    `1.00 MB`, and from PB on the quotient picks the next unit a few bytes early. Its
    `toFixed(2)` rounds an exact tie up; until 2023-04 `parseFloat` then dropped trailing
    zeros (`38.5 KB`, `2 MB`). DocHub's Go `FormatByte` divides by 1024 while the value is
    >= 1024 (up to PB) and prints `%.2f`, which rounds an exact tie to even: `1.12 KB` for
    1152 bytes, `0.00 B` for nothing; its first template glued the unit on (`1.12KB`).

    >>> render_size(1152), render_size(1048575), render_size(0)
    ('1.13 KB', '1024.00 KB', '0 Bytes')
    """
    if size_bytes < 0:
        raise ValueError(f"size_bytes must be >= 0, got {size_bytes}")
    if size_bytes == 0 and printer.zero is not None:
        return printer.zero
    if printer.unit_choice == "float_log":
        i = math.floor(math.log(size_bytes) / math.log(1024))
    else:
        i = 0
        while i < len(printer.units) - 1 and size_bytes >= 1024 ** (i + 1):
            i += 1
    divisor = 1024**i
    # size / 1024**i is an exact binary value, so a tie is a true tie: hundredths are
    # floor(x * 100 + 1/2) when ties go up, and the even neighbour when they go to even.
    hundredths, twice_rest = divmod(200 * size_bytes, 2 * divisor)
    if twice_rest > divisor or (twice_rest == divisor and (printer.ties == "up" or hundredths % 2)):
        hundredths += 1
    whole, cents = divmod(hundredths, 100)
    number = f"{whole}.{cents:02d}"
    if printer.trimmed:
        number = number.rstrip("0").rstrip(".")
    return number + (" " if printer.unit_space else "") + printer.units[i]


def render_age(fetched_at: datetime, uploaded_at: datetime | None) -> str:
    """AGE as the site computes it at fetch time (docs/input-format.md §1.4).

    The difference is taken in whole seconds (a fractional second is floored, as the
    site's integer timestamps are), and compared with exact integers: month = 30 days,
    m = diff / month. `N 年前` needs m > 12, so exactly 360 days is still `12 月前`.
    A missing upload time, and an upload time after the fetch (clock skew), both show
    `刚刚`: the site's branches all test `diff >= threshold`, so a negative diff falls
    through to the last one.

    >>> t = datetime(2026, 11, 26, tzinfo=UTC)
    >>> render_age(t, t - timedelta(days=360)), render_age(t, t - timedelta(days=360, seconds=1))
    ('12 月前', '1 年前')
    """
    if uploaded_at is None:
        return "刚刚"
    diff = (fetched_at - uploaded_at) // timedelta(seconds=1)
    if diff > _YEAR:  # m > 12
        return f"{diff // _YEAR} 年前"  # floor(m / 12)
    if diff >= _MONTH:  # 1 <= m <= 12
        return f"{diff // _MONTH} 月前"
    if diff >= _DAY:
        return f"{diff // _DAY} 天前"
    if diff >= _HOUR:
        return f"{diff // _HOUR} 小时前"
    if diff >= _MINUTE:
        return f"{diff // _MINUTE} 分钟前"
    return "刚刚"


def render_rating(score: int) -> str:
    """RATING: score / 100 as the shortest decimal, as JavaScript prints a number.

    Integer arithmetic rather than `str(score / 100)`, which prints `3.0` where
    JavaScript prints `3`.

    >>> render_rating(300), render_rating(450), render_rating(3)
    ('3', '4.5', '0.03')
    """
    sign = "-" if score < 0 else ""
    whole, cents = divmod(abs(score), 100)
    if cents == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{cents:02d}".rstrip("0")


def render_time(
    fetched_at: datetime,
    uploaded_at: datetime | None,
    printer: str = "relative",
    time_zone: str = DEFAULT_SITE_TIME_ZONE,
) -> str:
    """The time a layout prints (docs/input-format.md §1.4): `relative` (`9 月前`), the
    site's local `minute` (DocHub), the reader's local `second` (moredoc's category list)
    or the template's `constant` date. A missing upload time is the fetch time."""
    if printer == "relative":
        return render_age(fetched_at, uploaded_at)
    if printer == "constant":
        return CONSTANT_DATE
    local = (uploaded_at or fetched_at).astimezone(ZoneInfo(time_zone))
    return local.strftime("%Y-%m-%d %H:%M" if printer == "minute" else "%Y-%m-%d %H:%M:%S")


def render_layout_rating(score: int, layout: Layout) -> str:
    """The rating as `layout` prints it: JavaScript's number (`4.5`), or DocHub's `%1.1f`
    with its `分` (`4.5 分`; `4.5分` before the 2018-08-11 template spaced its tail)."""
    if layout.rating_printer == "js":
        return render_rating(score)
    return f"{score / 100:.1f}" + (" 分" if layout.credit_space else "分")


def render_tail(
    doc: Document,
    fetched_at: datetime,
    *,
    show_age: bool = True,
    layout: Layout | None = None,
    time_zone: str = DEFAULT_SITE_TIME_ZONE,
) -> str:
    """`PRICE CREDIT | PAGES 页 | SIZE | AGE`, with the rating where `layout` puts it.

    After (moredoc-web since 2024-07, the default): glued straight after AGE (`9 月前3`),
    because the star widget's text and the info span are adjacent nodes; narrow layouts
    drop the ` | AGE` block and the rating then glues to SIZE (`12.83 MB3`). Before
    (moredoc until 2024-07, DocHub): on a line of its own above the tail, as a browser's
    innerText puts the floated widget (`3\n0 魔豆 | …`, `4.5 分\n0 金币 | …`).
    """
    record = layout or DEFAULT_TEXT_LAYOUT
    head = render_info(doc, record)
    if show_age:
        head += render_age_block(fetched_at, doc.uploaded_at, record, time_zone)
    rating = render_layout_rating(doc.score, record)
    if record.rating == "before":
        return f"\n{rating}\n{head}"
    return head + rating


def render_info(doc: Document, layout: Layout | None = None) -> str:
    """`PRICE CREDIT | PAGES 页 | SIZE`: the part of the tail every layout shows.

    In HTML it is the text of the info span before its nested age span. DocHub's first
    templates print `0金币 | 254页` without the spaces.
    """
    record = layout or DEFAULT_TEXT_LAYOUT
    pages = "-" if doc.pages is None else str(doc.pages)
    credit_gap = " " if record.credit_space else ""
    pages_gap = " " if record.pages_space else ""
    size = render_size(doc.size_bytes, record.size)
    return f"{doc.price}{credit_gap}{doc.credit} | {pages}{pages_gap}页 | {size}"


def render_age_block(
    fetched_at: datetime,
    uploaded_at: datetime | None,
    layout: Layout | None = None,
    time_zone: str = DEFAULT_SITE_TIME_ZONE,
) -> str:
    """` | AGE`, the block narrow layouts hide (in HTML, the text of `span.hidden-xs-only`)."""
    record = layout or DEFAULT_TEXT_LAYOUT
    return f" | {render_time(fetched_at, uploaded_at, record.time, time_zone)}"


def render_heading(doc: Document, title_layout: str = "glued") -> str:
    """TITLE and DESCRIPTION as they come out in the text form, for one of the site's layouts.

    `own_line`: the title alone on its line; `glued`: title run straight into the
    description; `repeated`: slides whose extracted text starts with the title again.
    """
    if title_layout == "own_line":
        return f"{doc.title}\n{doc.description}"
    if title_layout == "glued":
        return doc.title + doc.description
    if title_layout == "repeated":
        return doc.title + doc.title + doc.description
    raise ValueError(f"title_layout must be one of {TITLE_LAYOUTS}, got {title_layout!r}")


def render_listing(
    doc: Document,
    fetched_at: datetime,
    *,
    title_layout: str = "glued",
    show_age: bool = True,
    layout: Layout | None = None,
    time_zone: str = DEFAULT_SITE_TIME_ZONE,
) -> str:
    """One listing, without its trailing separator: heading, then the tail.

    With the rating after the tail, the price is glued to the end of the description with
    no separator, exactly as on the site, which is what makes `多集群管控10/20` + `0 码力`
    read `10/200 码力`; a rating before the tail keeps them apart.
    """
    tail = render_tail(doc, fetched_at, show_age=show_age, layout=layout, time_zone=time_zone)
    return render_heading(doc, title_layout) + tail


def default_pager(last_page: int) -> list[int]:
    """The pager shown on page 1: pages 1..min(6, last_page), then the last page."""
    if last_page < 1:
        return []
    return sorted({*range(1, min(6, last_page) + 1), last_page})


def pager_window(current_page: int, last_page: int) -> list[int]:
    """The page numbers Element UI's 7-button pager shows on `current_page`.

    moredoc's front end uses it: first page, a window, last page; the `…` buttons render
    no text, so they leave no line. On page 1 this equals `default_pager`.
    """
    if last_page < 1:
        return []
    half = (PAGER_BUTTONS - 1) // 2
    prev_more = next_more = False
    if last_page > PAGER_BUTTONS:
        prev_more = current_page > PAGER_BUTTONS - half
        next_more = current_page < last_page - half
    if prev_more and not next_more:
        middle = range(last_page - (PAGER_BUTTONS - 2), last_page)
    elif next_more and not prev_more:
        middle = range(2, PAGER_BUTTONS)
    elif prev_more and next_more:
        offset = PAGER_BUTTONS // 2 - 1
        middle = range(current_page - offset, current_page + offset + 1)
    else:
        middle = range(2, last_page)
    return sorted({1, *middle, last_page})


def render_footer(total_results: int, pager: Sequence[int]) -> str:
    """`共 N 条`, one `- K` line per pager item, then the blank lines the sample ends with."""
    lines = [f"共 {total_results} 条\n", *(f"- {k}\n" for k in pager)]
    return "".join(lines) + "\n" * FOOTER_BLANK_LINES


# DocHub's `Paginations(6, …)`: six page numbers around the current page.
BOOTSTRAP_ROLL = 6


def bootstrap_pager(current_page: int, last_page: int) -> list[str]:
    """The items of DocHub's bootstrap pager (docs/input-format.md §2): `1..` and `<<`
    after page 1, six page numbers around the current one, `>>` and `..N` before the last;
    nothing at all for a single page.

    >>> bootstrap_pager(1, 100), bootstrap_pager(5, 100)[:3], bootstrap_pager(100, 100)[-1]
    (['1', '2', '3', '4', '5', '6', '>>', '..100'], ['1..', '<<', '2'], '100')
    """
    if last_page < 2:
        return []
    current = min(max(current_page, 1), last_page)
    roll = BOOTSTRAP_ROLL
    pages = [p for i in range(2 * roll, 0, -1) if 0 < (p := current + roll - i) <= last_page]
    index = pages.index(current)
    low, high = index - roll // 2, index + roll // 2
    if len(pages) <= roll:
        shown = pages
    elif low < 0:
        shown = pages[:roll]
    elif high > len(pages):
        shown = pages[len(pages) - roll :]
    else:
        shown = pages[low:high]
    items = ["1..", "<<"] if current > 1 else []
    items += [str(p) for p in shown]
    if current < last_page:
        items += [">>", f"..{last_page}"]
    return items


def render_page(
    docs: Sequence[Document],
    fetched_at: datetime,
    *,
    total_results: int,
    last_page: int,
    pager: Sequence[int] | None = None,
    separator: str = "\n",
    title_layouts: Sequence[str] | None = None,
    show_age: Sequence[bool] | None = None,
    layout: str = DEFAULT_TEXT_LAYOUT.name,
    time_zone: str = DEFAULT_SITE_TIME_ZONE,
) -> str:
    """A whole results page in the flattened-text form of `layout`: listings, then the footer.

    `separator` goes *between* listings (after each tail but the last): a line break,
    or a space in text flattened further. The last listing is always followed by a line
    break, as the footer starts on its own line (`…6 月前3\\n共 145 条`). `title_layouts`
    and `show_age` give one value per listing; by default every title is glued and every
    age shown. moredoc's footer is `共 N 条` and its pager (`pager`, by default page 1's);
    DocHub prints no total, only its bootstrap pager on page 1, one item a line.
    """
    if layout not in TEXT_LAYOUTS:
        raise ValueError(f"layout must be one of {TEXT_LAYOUTS}, got {layout!r}")
    record = layout_record(layout)
    n = len(docs)
    layouts = ["glued"] * n if title_layouts is None else list(title_layouts)
    ages = [True] * n if show_age is None else list(show_age)
    if len(layouts) != n or len(ages) != n:
        raise ValueError(
            f"need one title layout and one show_age flag per listing: {n} listings, "
            f"{len(layouts)} layouts, {len(ages)} flags"
        )
    listings = [
        render_listing(
            doc, fetched_at, title_layout=title, show_age=age, layout=record, time_zone=time_zone
        )
        for doc, title, age in zip(docs, layouts, ages, strict=True)
    ]
    body = separator.join(listings) + "\n" if listings else ""
    if record.pager == "bootstrap":
        return body + "".join(f"{item}\n" for item in bootstrap_pager(1, last_page))
    items = default_pager(last_page) if pager is None else list(pager)
    return body + render_footer(total_results, items)


# --- The HTML form (docs/input-format.md §3.1) ---------------------------------------
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


# --- The search API's JSON (docs/input-format.md §3.2) --------------------------------

_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1


def render_timestamp(t: datetime) -> str:
    """A google.protobuf.Timestamp as protojson writes it: RFC 3339 in UTC with `Z`, and 0,
    3 or 6 fractional digits (whole seconds: none).

    >>> render_timestamp(datetime(2023, 1, 5, 4, 30, tzinfo=UTC))
    '2023-01-05T04:30:00Z'
    """
    if t.utcoffset() is None:
        raise ValueError("a timestamp must be timezone-aware")
    t = t.astimezone(UTC)
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    if t.microsecond:
        fraction = f"{t.microsecond:06d}"
        text += "." + (fraction[:3] if fraction.endswith("000") else fraction)
    return text + "Z"


def _api_document(doc: Document, position: int) -> dict[str, object]:
    if doc.uploaded_at is None:
        raise ValueError(
            f"listing {position} has no uploaded_at: the API always sends created_at, so a "
            "missing upload time (the text form's 刚刚) has no JSON form"
        )
    for name, value, limit in (
        ("document_id", listing_document_id(doc, position), _INT64_MAX),
        ("size_bytes", doc.size_bytes, _INT64_MAX),
        ("pages", doc.pages or 0, _INT32_MAX),
        ("price", doc.price, _INT32_MAX),
        ("score", doc.score, _INT32_MAX),
        *((count, getattr(doc, count), _INT32_MAX) for count in _COUNT_FIELDS),
    ):
        if value > limit:
            raise ValueError(f"listing {position}: {name} {value} does not fit the API's field")
    created = render_timestamp(doc.uploaded_at)
    fields: tuple[tuple[str, object], ...] = (
        ("id", str(listing_document_id(doc, position))),
        ("uuid", doc.uuid or ""),
        ("title", doc.title),
        ("keywords", doc.keywords),
        ("description", doc.description),
        ("pages", doc.pages or 0),
        ("size", str(doc.size_bytes) if doc.size_bytes else ""),
        ("price", doc.price),
        ("score", doc.score),
        ("ext", doc.ext),
        ("created_at", created),
        ("updated_at", created),
        ("download_count", doc.download_count),
        ("view_count", doc.view_count),
        ("favorite_count", doc.favorite_count),
        ("comment_count", doc.comment_count),
        ("username", ""),
    )
    return {name: value for name, value in fields if value != 0 and value != ""}


def render_json_page(
    docs: Sequence[Document],
    *,
    total_results: int,
    search_seconds: str = "0.012",
    indent: int | None = None,
) -> str:
    """The search API's response for one page, `{"total": …, "spend": …, "document": […]}`,
    by the gRPC gateway's rules (docs/input-format.md §3.2).

    Field names are snake_case, in this order: `id`, `title`, `keywords`, `description`,
    `pages`, `size`, `price`, `score`, `ext`, `created_at`, `updated_at`, `download_count`,
    `view_count`, `favorite_count`, `comment_count`, `username`. 64-bit integers (`id`,
    `size`, `total`) are strings, 32-bit ones numbers; every field at its zero value (0, "",
    an empty list) is left out, at the top level too: a free document has no `price`, an
    unrated one no `score`, a page without results no `document`.

    Decisions the caller should know:
    - `pages` None is the API's zero value: the key is absent, and reads back as unknown
      pages (the page shows `-`).
    - `created_at` is `uploaded_at` (`render_timestamp`); `updated_at` repeats it, as the
      Document has no separate update time. `uploaded_at` None has no JSON form (the API
      always has a creation time): ValueError.
    - `username` is always absent: the Document has no uploader. A document without an id
      gets its 1-based position (`listing_document_id`), as in the HTML form.
    - A value the API's field cannot hold (a price or count above 2**31 - 1, a size above
      2**63 - 1) raises ValueError.
    - Without `indent` the output is compact (`","` and `":"` separators, as a gateway
      writes it); with it, `json.dumps`'s indented form. Non-ASCII is written as is.
    """
    if total_results < 0:
        raise ValueError(f"total_results must be >= 0, got {total_results}")
    documents = [_api_document(doc, position) for position, doc in enumerate(docs, start=1)]
    page: dict[str, object] = {}
    if total_results:
        page["total"] = str(total_results)
    if search_seconds:
        page["spend"] = search_seconds
    if documents:
        page["document"] = documents
    if indent is None:
        return json.dumps(page, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(page, ensure_ascii=False, indent=indent)


# --- Truths the text form cannot tell apart -------------------------------------------
# Property tests and the benchmark generator must only produce truths the format can
# carry: a parser cannot be blamed for reading a rendering that two truths share. The
# glued price is *not* listed here: docs/input-format.md §1.2 makes it a flagged ambiguity
# the parser must handle, so generators should produce it.

# Titles shorter than this are not taken as a repeated title (`11`, `哈哈` are ordinary
# text), so a repetition shorter than it is not an ambiguity.
MIN_TITLE_CHARS = 4
# Anything holding `| … 页 |` can be read as the core of a listing tail (`PRICE CREDIT |
# PAGES 页 | SIZE…`); a parser that tolerates odd page text (`[^|\n]*`) would cut there.
LOOKS_LIKE_TAIL = re.compile(r"\|[^|\n]*页\s*\|")
# The footer starts at `共 N 条`; text holding it could end the listings early.
LOOKS_LIKE_FOOTER = re.compile(r"共\s*[0-9]")
# A line that is only `- N` is a pager item.
LOOKS_LIKE_PAGER_LINE = re.compile(r"(?m)^\s*-\s*[0-9]+\s*$")
_ANY_FETCH_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def repeated_prefixes(text: str, min_chars: int = MIN_TITLE_CHARS) -> list[int]:
    """Lengths L >= min_chars such that `text` starts with X + X, where X = text[:L] and X
    does not end in whitespace.

    Each is a place the repetition rule could put a title boundary. Only positions where
    the first character recurs are tried, so this is fast on long text.
    """
    found: list[int] = []
    if not text:
        return found
    first_line = text.split("\n", 1)[0]
    pos = first_line.find(first_line[0], min_chars)
    while pos != -1 and 2 * pos <= len(first_line):
        # A title never ends in whitespace (the site trims it): `Cache Cache …` repeats a word.
        if first_line.startswith(first_line[:pos], pos) and not first_line[pos - 1].isspace():
            found.append(pos)
        pos = first_line.find(first_line[0], pos + 1)
    return found


def is_periodic(text: str) -> bool:
    """Whether `text` is Y repeated k >= 2 times (`abab`, `云云云`)."""
    n = len(text)
    return any(n % p == 0 and text == text[:p] * (n // p) for p in range(1, n // 2 + 1))


def ambiguities(doc: Document, title_layout: str = "glued") -> tuple[str, ...]:
    """Why this document, rendered with this layout, could not be parsed back uniquely.

    An empty tuple means the text form carries the truth (up to the documented glued-price
    ambiguity). Each reason names a rendering that another truth shares.
    """
    reasons: list[str] = []
    title, desc = doc.title, doc.description
    if title_layout not in TITLE_LAYOUTS:
        raise ValueError(f"title_layout must be one of {TITLE_LAYOUTS}, got {title_layout!r}")

    # Title shape. The site trims both fields, and the parser finds where a listing starts
    # only by skipping the separator: a title starting with whitespace would merge into it.
    if len(title) < MIN_TITLE_CHARS:
        reasons.append("title shorter than a repetition the parser may trust")
    if not title or title != title.strip():
        reasons.append("title is blank or starts/ends with whitespace")
    if "\n" in title:
        reasons.append("title holds a line break: the first line would be read as the title")
    if is_periodic(title):
        # `abab` + `abab` + desc also starts with (`ab`)^4: which repetition is the title?
        reasons.append("title is periodic: its repetition has more than one reading")

    # Description shape.
    if not desc:
        reasons.append("description is empty: the title would run straight into the price")
    if desc != desc.strip():
        reasons.append("description starts or ends with whitespace (the site trims it)")
    if "\n" in desc:
        if title_layout != "own_line":
            # A glued heading with a line break looks like a title on its own line.
            reasons.append("line break in a heading whose title is not on its own line")
        if any(not line.strip() for line in desc.split("\n")):
            reasons.append("blank line inside the description (reads as the footer's padding)")

    # Text the parser would take for structure.
    heading = render_heading(doc, title_layout)
    # Any fetch time will do: AGE text never holds `|` or `页`.
    listing = heading + render_tail(doc, _ANY_FETCH_TIME, show_age=True)
    if len(LOOKS_LIKE_TAIL.findall(listing)) != 1:
        reasons.append("text holds `| … 页 |`, which reads as another listing tail")
    if LOOKS_LIKE_FOOTER.search(heading):
        reasons.append("text holds `共 N`, which reads as the footer")
    if LOOKS_LIKE_PAGER_LINE.search(heading):
        reasons.append("text holds a `- N` line, which reads as a pager item")

    # A description of digits only glues the title's own trailing digits to the price
    # (`Cache Cache 1` + `0` + price 1 reads `…Cache Cache 101 码力`): which digits are the
    # price, and so where the repeated title ends, has more than one reading.
    if title_layout == "repeated" and desc.isascii() and desc.isdigit() and title[-1:].isdigit():
        reasons.append("digit-only description after a title ending in a digit: the price run "
                       "reaches into the repeated title")  # fmt: skip

    # Title boundary by repetition (docs/input-format.md §1.1: a one-line heading that starts
    # with some text X immediately repeated, X at least 4 characters long, has the title X).
    if title_layout != "own_line":
        squares = repeated_prefixes(heading)
        expected = [len(title)] if title_layout == "repeated" else []
        if squares != expected:
            reasons.append(
                f"heading starts with a repetition of length {squares}, "
                f"expected {expected} for layout {title_layout!r}"
            )
    return tuple(reasons)
