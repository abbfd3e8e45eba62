"""The flattened-text form (docs/input-format.md §1–§2): a listing's heading and tail, the
footer and pager, whole pages (`render_page`), and the truths the text form cannot tell
apart (`ambiguities`), so generators draw only truths it can carry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from pipeline.config import DEFAULT_SITE_TIME_ZONE
from pipeline.parse.layouts import RECORDS, Layout
from pipeline.parse.layouts import layout as layout_record
from render.fields import (
    DEFAULT_TEXT_LAYOUT,
    Document,
    default_pager,
    render_age_block,
    render_info,
    render_layout_rating,
)

TITLE_LAYOUTS = ("own_line", "glued", "repeated")
# Every layout whose search page the text form reads (docs/input-format.md §0; category
# pages are HTML only).
TEXT_LAYOUTS = tuple(
    r.name for r in RECORDS if r.page_type == "search" and r.rating in ("before", "after")
)
# The sample page ends with this many empty lines after the pager; reproduced byte for byte.
FOOTER_BLANK_LINES = 13


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
