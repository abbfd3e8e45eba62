"""The rules every form shares: a document, and how the site prints its size, age, rating,
price line and pager (docs/input-format.md §1). Part of `render`, the tests' oracle
(docs/architecture.md, "The oracle"): standard library and exact integers only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta  # noqa: F401 (UTC: the doctests use it)
from zoneinfo import ZoneInfo

from pipeline.config import DEFAULT_SITE_TIME_ZONE
from pipeline.parse.layouts import CONSTANT_DATE, JS_FIXED, Layout, SizePrinter
from pipeline.parse.layouts import layout as layout_record
from pipeline.vocab import FILE_FAMILY_OF_EXT

SIZE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
# The layout the flattened-text sample is in (wenku.it today): every renderer's default.
DEFAULT_TEXT_LAYOUT = layout_record("moredoc-web-2024-07")
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
        for name in COUNT_FIELDS:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.ext.startswith(".") or any(c.isspace() for c in self.ext):
            raise ValueError(f"ext must start with '.' and hold no whitespace, got {self.ext!r}")


COUNT_FIELDS = ("view_count", "download_count", "favorite_count", "comment_count")


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
