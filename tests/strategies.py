"""Hypothesis strategies for truths the text form can carry, shared by the property tests.

A property test renders a drawn truth with `pipeline.render`, parses it back and compares.
That only makes sense for truths whose rendering no *other* truth shares, so every
strategy here draws freely and then keeps what `pipeline.render.ambiguities` accepts.
The constraints, and why the format itself cannot tell the excluded cases apart:

- Titles are 4..40 characters, non-blank, with no leading/trailing whitespace and no line
  break. A listing's start is only known as "right after the previous separator (a space
  or a line break)", so a title starting with whitespace merges into the separator; a line
  break inside a title makes its first line look like a title standing alone. Shorter
  than 4: a repetition that short (`11`, `哈哈`) is ordinary text, not a title. 40 is
  only a realistic cap.
- Titles are not periodic (Y*k, k >= 2): `abab`+`abab`+desc also opens with `ab` repeated
  four times, so the repetition rule would have two readings.
- Descriptions are non-empty and neither start nor end with whitespace: the site trims
  both fields, and an empty description runs the title straight into the price.
- Line breaks appear only inside descriptions of `own_line` listings, never leading,
  trailing or doubled: a line break in any other heading is exactly what a title on its
  own line looks like, and a blank line looks like the footer's padding.
- In `glued` layout the heading must not open with some text X (4+ chars) immediately
  repeated — in particular the description must not start with the title — because that
  IS the rendering of a `repeated` listing with title X. In `repeated` layout the only
  such X must be the title itself.
- No text (alone, or across the title/description/price seams, or after the previous
  listing's tail) holds `| … 页 |`: that is the core of a listing tail, and a parser
  cutting at the earliest tail would cut there.
- No text holds `共` followed by digits (the footer's `共 N 条`) or a line that is only
  `- N` (a pager item): either could end the listings early.

Descriptions *may* end in digits on purpose: the glued price (`10/20` + `0 码力` reads
`10/200 码力`) is an ambiguity docs/input-format.md §1.2 asks the parser to flag, not one to avoid.

The structured forms (HTML and API JSON, §3) have strategies of their own at the end of the
file, with their own constraints; `pages_in_every_form` draws a page all three forms carry.
"""

from __future__ import annotations

import re
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import assume
from hypothesis import strategies as st

from pipeline.parse.layouts import FLOAT_LOG_THRESHOLDS
from render.fields import Document
from render.text import LOOKS_LIKE_TAIL, TEXT_LAYOUTS, TITLE_LAYOUTS, ambiguities, render_page

DEFAULT_FETCHED_AT = datetime(2026, 11, 26, 8, 0, 0, tzinfo=UTC)
CREDITS = ("码力", "魔豆", "金币")

_CJK = "云原生架构数据库服务治理" + "页码力魔豆月前年天刚共条"
_CHARS = _CJK + string.ascii_letters + string.digits + " |&-,.:/()" + "，。"
# Multi-character pieces that sit close to the tail's own vocabulary, so the parser's
# tail pattern is exercised by near misses rather than by random noise.
_TOKENS = (
    "页",
    "MB",
    "KB",
    "GB",
    " | ",
    "码力",
    "月前",
    "刚刚",
    "共 ",
    "12.83",
    "- ",
    " 页 ",
    "\u3000",
    "Kubernetes",
    "数据库",
    "云原生",
)
_PIECES = st.one_of(st.sampled_from(_CHARS), st.sampled_from(_TOKENS))

_DAY = 86400
_MONTH = 30 * _DAY
_YEAR = 12 * _MONTH


def _defuse(text: str) -> str:
    """Break the structure-looking bits a free draw tends to produce, instead of rejecting.

    Repairing keeps hypothesis from discarding most draws; whatever slips through (a seam
    between title and description) is still caught by `ambiguities` afterwards.
    """
    text = re.sub(r"共(?=\s*[0-9])", "公", text)
    # The leading "|" stands for the previous listing's tail, which ends in `| AGE RATING`.
    probe = "|" + text
    while (m := LOOKS_LIKE_TAIL.search(probe)) is not None:
        probe = probe[: m.end() - 1] + "/" + probe[m.end() :]
    return probe[1:]


def _text(min_pieces: int, max_pieces: int) -> st.SearchStrategy[str]:
    return st.lists(_PIECES, min_size=min_pieces, max_size=max_pieces).map(
        lambda parts: _defuse("".join(parts))
    )


_WORDS = ("Cache", "Kubernetes", "数据库", "云原生", "Design", "Go")


def _first_word_repeated() -> st.SearchStrategy[str]:
    """`Cache Cache Design When Request`: a title whose first word comes twice, so the
    heading opens with `Cache ` repeated. A title never ends in whitespace, so that is no
    title boundary: glued, such a heading must stay unknown; repeated, the whole title wins."""
    return st.tuples(st.sampled_from(_WORDS), _text(0, 6)).map(
        lambda parts: f"{parts[0]} {parts[0]} {parts[1]}".strip()[:40].strip()
    )


def titles() -> st.SearchStrategy[str]:
    """4..40 characters, trimmed, one line (further checks live in `ambiguities`)."""
    free = _text(2, 24).map(lambda t: t.strip()[:40].strip())
    return st.one_of(free, _first_word_repeated()).filter(lambda t: len(t) >= 4)


@st.composite
def descriptions(draw: st.DrawFn, title_layout: str = "glued") -> str:
    """One line, or for `own_line` up to four non-blank lines; sometimes ending in digits."""
    max_lines = 4 if title_layout == "own_line" else 1
    lines = draw(st.lists(_text(1, 40).map(str.strip).filter(bool), min_size=1, max_size=max_lines))
    # About one in four gets a digit ending on top of those the free draw makes.
    ending = ""
    if draw(st.integers(0, 3)) == 3:
        ending = draw(
            st.one_of(
                st.integers(0, 2030).map(str),
                st.sampled_from(["10/20", "7/19", " 2", "第3", "v1.2"]),
            )
        )
    return _defuse(("\n".join(lines) + ending).strip())


_SIZE_BOUNDARIES = sorted(
    {0, 1, 2, 511, 512, 1023, 1024, 1025, 1151, 1152, 1153, 13453230, 2 * 1024**4}
    | set(range(1048570, 1048577))
    | {1024**k + d for k in range(1, 5) for d in range(-3, 4)}
    | {1024 ** (k + 1) - 1024**k // 200 + d for k in range(0, 4) for d in range(-3, 4)}
    # Where JavaScript's float logarithm starts PB and EB, a few bytes early.
    | {FLOAT_LOG_THRESHOLDS[k] + d for k in (5, 6) for d in range(-3, 4)}
)


def sizes() -> st.SearchStrategy[int]:
    """0..2 TiB, weighted to where the rendering changes: units, ties, `1024.00 KB`, the
    float logarithm's early PB and EB; now
    and then up to 2**63 - 1, the site's largest size (docs/input-format.md §1.3)."""
    # Exact toFixed ties: odd * 2**(10i - 3) bytes is x.xx5 in unit i (1152 = 9 * 128).
    ties = st.builds(
        lambda i, odd: (2 * odd + 1) * 2 ** (10 * i - 3),
        st.integers(1, 4),
        st.integers(0, 4095),
    )
    return st.one_of(
        st.sampled_from(_SIZE_BOUNDARIES),
        ties,
        st.integers(0, 1023),
        st.integers(0, 2 * 1024**4),
        st.sampled_from([4194304 * 2**40 // 100, 2**63 - 5497558139, 2**63 - 1]),
        st.integers(2 * 1024**4, 2**63 - 1),
    )


_AGE_BOUNDARIES = sorted(
    {0, 1, 59, 60, 61, 3599, 3600, 3601, 86399, 86400, 86401}
    | {_MONTH + d for d in (-1, 0, 1)}
    | {n * _MONTH + d for n in range(1, 13) for d in (-1, 0, 1)}
    | {n * _YEAR + d for n in range(1, 7) for d in (-1, 0, 1)}
    | {270 * _DAY, 300 * _DAY - 1, 300 * _DAY}
)


def age_seconds() -> st.SearchStrategy[int]:
    """Upload-to-fetch seconds, 0 to ~6 years, weighted to where the rendered age changes."""
    return st.one_of(
        st.sampled_from(_AGE_BOUNDARIES),
        st.integers(0, 6 * 365 * _DAY),
        st.integers(0, 2 * _DAY),
    )


def fetched_ats() -> st.SearchStrategy[datetime]:
    """Whole-second UTC fetch times, 2020..2030."""
    return st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.replace(microsecond=0))


def title_layouts() -> st.SearchStrategy[str]:
    return st.sampled_from(TITLE_LAYOUTS)


@st.composite
def documents(
    draw: st.DrawFn,
    fetched_at: datetime = DEFAULT_FETCHED_AT,
    title_layout: str = "glued",
) -> Document:
    """A truth that renders unambiguously with `title_layout`, uploaded before `fetched_at`."""
    # Shrinks towards the common case: free, 3 stars, uploaded some time ago.
    price = 0 if draw(st.integers(0, 9)) < 7 else draw(st.integers(0, 500))
    score = draw(
        st.one_of(
            st.just(300),
            st.sampled_from([100, 150, 200, 250, 350, 400, 425, 450, 500, 0, 3, 10, 105]),
            st.integers(0, 500),
        )
    )
    uploaded_at = (
        None
        if draw(st.integers(0, 19)) == 19
        else fetched_at - timedelta(seconds=draw(age_seconds()))
    )
    doc = Document(
        title=draw(titles()),
        description=draw(descriptions(title_layout)),
        price=price,
        credit=draw(st.sampled_from(CREDITS)),
        pages=None if draw(st.integers(0, 9)) == 9 else draw(st.integers(1, 5000)),
        size_bytes=draw(sizes()),
        uploaded_at=uploaded_at,
        score=score,
    )
    assume(not ambiguities(doc, title_layout))
    return doc


@st.composite
def listings(
    draw: st.DrawFn,
) -> tuple[Document, str, bool, datetime]:
    """One listing: (document, title layout, show_age, fetched_at)."""
    fetched_at = draw(fetched_ats())
    layout = draw(title_layouts())
    show_age = draw(st.integers(0, 9)) < 9
    return draw(documents(fetched_at, layout)), layout, show_age, fetched_at


@st.composite
def pages_(
    draw: st.DrawFn, max_listings: int = 12
) -> tuple[list[Document], list[str], list[bool], str, datetime]:
    """A whole page: (documents, title layouts, show_age flags, separator, fetched_at).

    1..max_listings listings sharing one fetch time; the separator between listings is a
    line break or, for text flattened further, a space.
    """
    fetched_at = draw(fetched_ats())
    separator = draw(st.sampled_from(["\n", " "]))
    n = draw(st.integers(1, max_listings))
    layouts = [draw(title_layouts()) for _ in range(n)]
    flags = [draw(st.integers(0, 9)) < 9 for _ in range(n)]
    docs = [draw(documents(fetched_at, layout)) for layout in layouts]
    # Safety net for seams between listings: exactly one tail core per listing.
    text = render_page(
        docs,
        fetched_at,
        total_results=n,
        last_page=1,
        separator=separator,
        title_layouts=layouts,
        show_age=flags,
    )
    assume(len(LOOKS_LIKE_TAIL.findall(text)) == n)
    return docs, layouts, flags, separator, fetched_at


@st.composite
def layout_pages(
    draw: st.DrawFn, max_listings: int = 8
) -> tuple[str, list[Document], list[str], list[bool], str, datetime]:
    """A page in any layout the text form reads: (layout, then what `pages_` gives).

    Truths are drawn as for `pages_`, then fitted to what the layout can print: DocHub
    prints its credit word and one decimal of the rating (so its scores are multiples of
    10), and a layout printing the rating before the tail never glues the price to the
    description (no glued-price reading to flag).
    """
    layout = draw(st.sampled_from(TEXT_LAYOUTS))
    docs, titles, flags, separator, fetched_at = draw(pages_(max_listings))
    if layout.startswith("dochub"):
        docs = [replace(doc, credit="金币", score=doc.score - doc.score % 10) for doc in docs]
    text = render_page(
        docs, fetched_at, total_results=len(docs), last_page=1, separator=separator,
        title_layouts=titles, show_age=flags, layout=layout,
    )  # fmt: skip
    assume(len(LOOKS_LIKE_TAIL.findall(text)) == len(docs))
    return layout, docs, titles, flags, separator, fetched_at


# --- Truths for the structured forms (HTML and API JSON, docs/input-format.md §3) ------
# HTML and JSON give title and description as separate fields, so the text form's
# ambiguities do not arise there. Their constraints are others:
#
# - HTML text is read the way a browser shows it (entities decoded, runs of ASCII
#   whitespace collapsed, block edges trimmed), and `render_html_page` refuses text a
#   browser would show differently: a line break, tab, form feed, CR, NUL or run of spaces
#   anywhere, or whitespace at either end (the site trims titles). Whitespace a browser
#   keeps (U+00A0, U+3000) may sit *inside* the text, and so may every character that
#   needs escaping (`& < > " '`), text that looks like entities, markup, a listing tail, a
#   pager or a document link: the parser must read elements, never the markup's text.
# - The API always sends `created_at`, so a JSON truth has an upload time; it lies at or
#   before the fetch time (a later one fails the listing schema, not the parser).
# - The HTML title is non-empty (an empty one is a reject); the description may be empty.
# - Ids stay below 10**18: ids from 10**18 to 2**63 - 1 are a bug of both parsers (see
#   tests/parse/property/test_render_parse_forms.py, which checks them on their own).

_SHOWN_CHARS = (
    "云原生架构数据库服务治理页码力月前年天刚共条"
    + string.ascii_letters
    + string.digits
    + " &<>\"'|-,.:;/()#=!?"
    + "，。、：“”"
)
# Pieces a parser reading markup as text would trip on; each is shown literally.
_SHOWN_TOKENS = (
    "&amp;",
    "&lt;b&gt;",
    "&#x4e91;",
    "&nbsp;",
    "<li>",
    "</li>",
    "<!--",
    "-->",
    "<script>",
    "</div>",
    '<a href="/document/7">',
    '"/document/3"',
    "0 码力 | 1 页 | 1.00 MB",
    " | 9 月前",
    "共 3 条",
    "- 2",
    "4.5",
    "\u00a0",  # kept by a browser: must not be collapsed
    "\u3000",
    "\u2028",  # not ASCII whitespace either: kept
    "\u200b",
    "𠀋",  # outside the BMP: 4 UTF-8 bytes, 1 code point (byte spans)
    "😀",
    "Kubernetes",
    "数据库",
)
# One flat choice (tokens about one draw in six): much cheaper to draw than a one_of.
_SHOWN_PIECES = st.sampled_from((*_SHOWN_CHARS, *_SHOWN_TOKENS))
_ASCII_SPACE_RUN = re.compile(r"[\t\n\f\r ]{2,}")


def shown_as_is(text: str) -> bool:
    """Whether a browser shows `text` unchanged, as `render_html_page` requires of it."""
    return (
        not re.search(r"[\t\n\f\r\x00]|  ", text)
        and text == text.strip()
        and not text.startswith("\ufeff")
        and not text.endswith("\ufeff")
    )


def _shown(text: str) -> str:
    """Make free text shown-as-is: collapse ASCII whitespace runs, trim the ends."""
    return _ASCII_SPACE_RUN.sub(" ", text).strip().strip("\ufeff").strip()


def shown_texts(min_pieces: int, max_pieces: int) -> st.SearchStrategy[str]:
    """Text a browser shows as it is (possibly empty when min_pieces is 0)."""
    return st.lists(_SHOWN_PIECES, min_size=min_pieces, max_size=max_pieces).map(
        lambda parts: _shown("".join(parts))
    )


def api_texts() -> st.SearchStrategy[str]:
    """Text as the API may store it: anything, line breaks, tabs, quotes, backslashes and
    control characters included (the JSON escapes them). Only the JSON form carries it.
    DEL is left out: JSON writes it raw, and a page of many is binary to the reader."""
    return st.text(
        st.one_of(
            st.characters(exclude_categories=("Cs",), exclude_characters="\x7f"),
            st.sampled_from('\n\t\r"\\/\u2028\x00\x1f 云'),
        ),
        max_size=30,
    )


def api_titles() -> st.SearchStrategy[str]:
    """`api_texts` with something visible in it: the parser rejects a blank title."""
    return st.tuples(api_texts(), st.sampled_from('云aZ9&<\\"'), api_texts()).map("".join)


def structured_titles() -> st.SearchStrategy[str]:
    """Non-empty, up to ~60 characters, shown as is."""
    return shown_texts(1, 24).filter(bool)


# Known extensions of every icon family, in odd cases, and ones the site shows as `other`.
EXTS = (
    ".pdf",
    ".PDF",
    ".docx",
    ".Doc",
    ".wps",
    ".pptx",
    ".dps",
    ".xlsx",
    ".csv",
    ".txt",
    ".epub",
    ".mobi",
    ".chm",
    ".umd",
    ".zip",
    ".7z",
    ".md",
    ".tar.gz",
    ".",
)
# A credit is one word without digits, whitespace or `|` (`Document` checks it).
STRUCTURED_CREDITS = (*CREDITS, "积分", "points", "R&D")
MAX_PARSED_ID = 10**18 - 1


def document_ids() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(1, 10_000),
        st.sampled_from([1, 9, 10, 99, 100, 2**31 - 1, 2**31, 2**53 + 1, MAX_PARSED_ID]),
        st.integers(1, MAX_PARSED_ID),
    )


def keywords() -> st.SearchStrategy[str]:
    """The API's comma-separated keywords: empty, or words with odd spacing and empties."""
    word = shown_texts(1, 6).filter(lambda w: bool(w) and "," not in w)
    return st.one_of(
        st.just(""),
        st.lists(st.one_of(word, st.just("")), min_size=1, max_size=5).flatmap(
            lambda words: st.sampled_from([",", ", ", " ,"]).map(lambda sep: sep.join(words))
        ),
    )


def counts() -> st.SearchStrategy[int]:
    return st.one_of(st.just(0), st.integers(0, 1000), st.sampled_from([1, 2**31 - 1]))


def structured_prices() -> st.SearchStrategy[int]:
    """0 mostly; up to the API's Int32."""
    return st.one_of(st.just(0), st.integers(0, 500), st.sampled_from([9, 10, 2**31 - 1]))


def structured_pages() -> st.SearchStrategy[int | None]:
    """None (`-`, the API's absent pages) or 1..999 999 999 (the text rule's 1–9 digits)."""
    return st.one_of(st.none(), st.integers(1, 5000), st.sampled_from([1, 9, 10, 999_999_999]))


def structured_sizes() -> st.SearchStrategy[int]:
    """`sizes()` and up to 2**63 - 1 bytes, the site's int64 (docs/input-format.md §1.3):
    `1024.00 TB`, the first size whose bounds overflow 64-bit arithmetic (`41943.04 TB`),
    and the last, `8388608.00 TB`, whose upper bound is 2**63 - 1 itself."""
    return st.one_of(
        sizes(),
        st.integers(0, 2**50),
        st.integers(0, 2**63 - 1),
        st.sampled_from([2**50 - 1, 4194304 * 2**40 // 100, 2**63 - 5497558139, 2**63 - 1]),
    )


@st.composite
def documents_for_structured_forms(
    draw: st.DrawFn,
    fetched_at: datetime = DEFAULT_FETCHED_AT,
    *,
    upload_missing: bool = False,
) -> Document:
    """A truth both HTML and API JSON carry. `upload_missing`: a missing upload time may
    be drawn (the HTML's `刚刚`; the API has no such form)."""
    uploaded_at: datetime | None = fetched_at - timedelta(seconds=draw(age_seconds()))
    if upload_missing and draw(st.integers(0, 9)) == 9:
        uploaded_at = None
    return Document(
        title=draw(structured_titles()),
        description="" if draw(st.integers(0, 3)) == 0 else draw(shown_texts(1, 40)),
        price=draw(structured_prices()),
        credit=draw(st.sampled_from(STRUCTURED_CREDITS)),
        pages=draw(structured_pages()),
        size_bytes=draw(structured_sizes()),
        uploaded_at=uploaded_at,
        score=draw(
            st.one_of(st.just(300), st.integers(0, 500), st.sampled_from([0, 3, 100, 450, 500]))
        ),
        document_id=draw(st.one_of(st.none(), document_ids())),
        ext=draw(st.sampled_from(EXTS)),
        keywords=draw(keywords()),
        view_count=draw(counts()),
        download_count=draw(counts()),
        favorite_count=draw(counts()),
        comment_count=draw(counts()),
    )


def _with_unique_ids(docs: list[Document], ids: list[int]) -> list[Document]:
    """Give every document an id, or none (`listing_document_id` mixes them up otherwise)."""
    return [replace(doc, document_id=i) for doc, i in zip(docs, ids, strict=True)]


@st.composite
def structured_pages_(
    draw: st.DrawFn, max_listings: int = 12, *, upload_missing: bool = False
) -> tuple[list[Document], list[bool], datetime]:
    """(documents, show_age flags, fetched_at): 0..max_listings documents, every one with an
    id (distinct, as on a results page) or none of them (the renderer uses positions)."""
    fetched_at = draw(fetched_ats())
    docs = draw(
        st.lists(
            documents_for_structured_forms(fetched_at, upload_missing=upload_missing),
            max_size=max_listings,
        )
    )
    if draw(st.booleans()):
        ids = draw(st.lists(document_ids(), min_size=len(docs), max_size=len(docs), unique=True))
        docs = _with_unique_ids(docs, ids)
    else:
        docs = [replace(doc, document_id=None) for doc in docs]
    flags = [draw(st.integers(0, 4)) > 0 for _ in docs]
    return docs, flags, fetched_at


@st.composite
def page_facts(draw: st.DrawFn, listings: int) -> dict[str, object]:
    """What a page says about itself beyond its listings: total, pager, site size, time."""
    total = draw(
        st.one_of(st.integers(listings, listings + 200), st.integers(listings, 10**12 - 1))
    )
    if total == 0:
        last_page, current_page = 0, 1
    else:
        last_page = draw(st.one_of(st.integers(1, 20), st.integers(1, 10**6)))
        current_page = draw(st.one_of(st.just(1), st.integers(1, last_page)))
    seconds = draw(
        st.one_of(
            st.sampled_from(["0.012", "0", "1", "12.5", "0.000"]),
            st.builds(lambda a, b: f"{a}.{b:03d}", st.integers(0, 99), st.integers(0, 999)),
        )
    )
    return {
        "total_results": total,
        "last_page": last_page,
        "current_page": current_page,
        "site_document_count": draw(st.integers(0, 10**12)),
        "search_seconds": seconds,
    }


@st.composite
def pages_in_every_form(
    draw: st.DrawFn, max_listings: int = 8
) -> tuple[list[Document], list[bool], str, datetime]:
    """(documents, show_age flags, separator, fetched_at): a page the text form (glued
    layout), the HTML and the API JSON all carry.

    Drawn as text-form truths (`documents`), then made fit for the other forms: ASCII
    whitespace runs collapsed (a browser would show one space), a missing upload time set
    to the fetch time (the text shows `刚刚` for both; the API always has a time), and an
    id, an extension and keywords drawn. The changed truth is checked again.
    """
    fetched_at = draw(fetched_ats())
    separator = draw(st.sampled_from(["\n", " "]))
    n = draw(st.integers(1, max_listings))
    docs = []
    for _ in range(n):
        doc = draw(documents(fetched_at, "glued"))
        doc = replace(
            doc,
            title=_shown(doc.title),
            description=_shown(doc.description),
            uploaded_at=doc.uploaded_at or fetched_at,
            ext=draw(st.sampled_from(EXTS)),
            keywords=draw(keywords()),
        )
        assume(shown_as_is(doc.title) and shown_as_is(doc.description))
        assume(not ambiguities(doc, "glued"))
        docs.append(doc)
    if draw(st.booleans()):
        ids = draw(st.lists(document_ids(), min_size=n, max_size=n, unique=True))
        docs = _with_unique_ids(docs, ids)
    flags = [draw(st.integers(0, 9)) < 9 for _ in range(n)]
    text = render_page(
        docs,
        fetched_at,
        total_results=n,
        last_page=1,
        separator=separator,
        show_age=flags,
    )
    assume(len(LOOKS_LIKE_TAIL.findall(text)) == n)
    return docs, flags, separator, fetched_at
