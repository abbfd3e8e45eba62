"""The forward direction: render documents into snapshot text exactly by the site's rules.

The parser inverts the rules of docs/input-format.md §1–§2; this module *applies* them, so
property tests can render a known truth, parse it back and compare, and benchmarks can make
realistic pages of any size. It is pure stdlib on purpose: the rules are integer arithmetic,
and keeping polars out means the oracle cannot share a bug with the vectorised parser it
checks.

Every number is computed with exact integers. The site renders in JavaScript, whose
`toFixed(2)` rounds an exact tie *up* and whose `Math.floor(Math.log(b) / Math.log(1024))`
we replace by the exact integer unit choice docs/input-format.md §1.3 defines; Python's
float formatting rounds ties to even and would disagree (1152 bytes: `1.13 KB` on the site,
`1.12` in `f"{1152 / 1024:.2f}"`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")
TITLE_LAYOUTS = ("own_line", "glued", "repeated")
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


def render_size(size_bytes: int) -> str:
    """SIZE as the site shows it: base 1024, two decimals, JavaScript `toFixed` rounding.

    The unit is chosen *before* rounding (i = floor(log1024 bytes), capped at TB), so
    1 048 571..1 048 575 bytes show as `1024.00 KB`, not `1.00 MB`: the parser's bounds
    must allow that, and so must we. The unit is found by integer comparison because
    `log(1024**k) / log(1024)` in floats can land just below k.

    >>> render_size(1152), render_size(1048575), render_size(0)
    ('1.13 KB', '1024.00 KB', '0 Bytes')
    """
    if size_bytes < 0:
        raise ValueError(f"size_bytes must be >= 0, got {size_bytes}")
    if size_bytes == 0:
        return "0 Bytes"
    i = 0
    while i < len(SIZE_UNITS) - 1 and size_bytes >= 1024 ** (i + 1):
        i += 1
    divisor = 1024**i
    # hundredths = floor(size / divisor * 100 + 1/2): toFixed(2) on an exact binary value
    # (size / 1024**i is exact in a double up to 2**53 bytes) rounds a tie up.
    hundredths = (200 * size_bytes + divisor) // (2 * divisor)
    whole, cents = divmod(hundredths, 100)
    return f"{whole}.{cents:02d} {SIZE_UNITS[i]}"


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


def render_tail(doc: Document, fetched_at: datetime, *, show_age: bool = True) -> str:
    """`PRICE CREDIT | PAGES 页 | SIZE | AGE` with the rating glued on, as the text form has it.

    The rating comes straight after AGE with no space (`9 月前3`) because the star widget's
    text and the info span are adjacent nodes; narrow layouts drop the ` | AGE` block and
    the rating then glues to SIZE (`12.83 MB3`).
    """
    pages = "-" if doc.pages is None else str(doc.pages)
    head = f"{doc.price} {doc.credit} | {pages} 页 | {render_size(doc.size_bytes)}"
    if show_age:
        head += f" | {render_age(fetched_at, doc.uploaded_at)}"
    return head + render_rating(doc.score)


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
    doc: Document, fetched_at: datetime, *, title_layout: str = "glued", show_age: bool = True
) -> str:
    """One listing, without its trailing separator: heading, then the tail.

    The price is glued to the end of the description with no separator, exactly as on
    the site, which is what makes `多集群管控10/20` + `0 码力` read `10/200 码力`.
    """
    return render_heading(doc, title_layout) + render_tail(doc, fetched_at, show_age=show_age)


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
) -> str:
    """A whole results page in the flattened-text form: listings, then the footer.

    `separator` goes *between* listings (after each rating but the last): a line break,
    or a space in text flattened further. The last listing is always followed by a line
    break, as the footer starts on its own line (`…6 月前3\\n共 145 条`). `title_layouts`
    and `show_age` give one value per listing; by default every title is glued and every
    age shown.
    """
    n = len(docs)
    layouts = ["glued"] * n if title_layouts is None else list(title_layouts)
    ages = [True] * n if show_age is None else list(show_age)
    if len(layouts) != n or len(ages) != n:
        raise ValueError(
            f"need one title layout and one show_age flag per listing: {n} listings, "
            f"{len(layouts)} layouts, {len(ages)} flags"
        )
    listings = [
        render_listing(doc, fetched_at, title_layout=layout, show_age=age)
        for doc, layout, age in zip(docs, layouts, ages, strict=True)
    ]
    body = separator.join(listings) + "\n" if listings else ""
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
