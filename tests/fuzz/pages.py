"""What the fuzzer feeds the reader: real and generated pages, mutated, in any container.

Seeds are the committed pages (`data/raw/*`, `tests/parse/fixtures/*`) and pages rendered
from drawn documents in all three forms (`render`). Generated seeds need not
be unambiguous (they are mutated anyway), so their documents are drawn cheaply here rather
than through `tests.strategies`, whose filters keep only truths a parser can read back
exactly; the neighbour tests in `test_fuzz.py` use those.

Each mutation is a function of the page's bytes and a hypothesis `draw`, so a failing page
shrinks to the fewest, smallest edits. Structural edits (insertions, splices, cuts) land on
UTF-8 character boundaries, so they reach the parsers; byte flips and raw cuts do not, so
they reach the decoder (docs/input-format.md §3.3).
"""

from __future__ import annotations

import codecs
import gzip
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import strategies as st

from render.api import render_json_page
from render.fields import Document
from render.html import HTML_LAYOUTS, render_html_page
from render.text import TEXT_LAYOUTS, render_page
from tests.strategies import DEFAULT_FETCHED_AT, age_seconds, sizes

REPO = Path(__file__).resolve().parents[2]
_SUFFIXES = (".txt", ".html", ".htm", ".json")


@dataclass(frozen=True)
class Page:
    """One file for the reader: its name (the form may follow from it) and its bytes."""

    name: str
    data: bytes


def real_pages() -> list[Page]:
    """Every committed snapshot page, sidecars and notes aside."""
    folders = [REPO / "data" / "raw", REPO / "tests" / "parse" / "fixtures"]
    return [
        Page(path.name, path.read_bytes())
        for folder in folders
        for path in sorted(folder.iterdir())
        if path.name.endswith(_SUFFIXES)
    ]


REAL_PAGES = real_pages()

# --- Generated pages -------------------------------------------------------------------

_WORDS = ("云原生", "数据库", "Kubernetes", "架构", "Go 语言", "页", "| 3 页 |", "共 5 条",
          "码力", "1.00 MB", "9 月前", "&amp;", "<li>", '{"id": "1"}', "\u3000", "- 2")  # fmt: skip


def _texts(min_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(_WORDS), min_size=min_size, max_size=6).map("".join)


@st.composite
def documents(draw: st.DrawFn, fetched_at: datetime) -> Document:
    """Any document the renderers accept: texts from pieces that look like structure."""
    return Document(
        title=draw(_texts(1)).strip() or "标题",
        description=draw(_texts(0)).strip(),
        price=draw(st.sampled_from([0, 0, 0, 5, 200, 2**31 - 1])),
        credit=draw(st.sampled_from(["码力", "魔豆", "金币"])),
        pages=draw(st.one_of(st.none(), st.integers(1, 999_999_999))),
        size_bytes=draw(sizes()),
        uploaded_at=fetched_at - timedelta(seconds=draw(age_seconds())),
        score=draw(st.sampled_from([0, 3, 100, 300, 450, 500])),
        document_id=draw(st.one_of(st.none(), st.integers(1, 10**18 - 1))),
    )


@st.composite
def generated_pages(draw: st.DrawFn) -> list[Page]:
    """One drawn set of documents rendered as text, HTML (served or saved) and API JSON."""
    fetched_at = DEFAULT_FETCHED_AT
    docs = draw(st.lists(documents(fetched_at), max_size=6))
    total = len(docs) + draw(st.integers(0, 300))
    last_page = max(1, total // 10)
    text = render_page(
        docs,
        fetched_at,
        total_results=total,
        last_page=last_page,
        separator=draw(st.sampled_from(["\n", " "])),
        layout=draw(st.sampled_from(TEXT_LAYOUTS)),  # every layout the text form reads
    )
    html = render_html_page(
        docs,
        fetched_at,
        total_results=total,
        last_page=last_page,
        site_document_count=draw(st.integers(0, 10**9)),
        saved=draw(st.booleans()),
        layout=draw(st.sampled_from(HTML_LAYOUTS)),
    )
    api = render_json_page(docs, total_results=total, indent=draw(st.sampled_from([None, 2])))
    return [
        Page("generated.txt", text.encode()),
        Page("generated.html", html.encode()),
        Page("generated.json", api.encode()),
    ]


# --- Mutations -------------------------------------------------------------------------

Mutation = Callable[[st.DrawFn, bytes, list[Page]], bytes]


def _boundary(data: bytes, at: int) -> int:
    """The first UTF-8 character boundary at or after `at`."""
    while at < len(data) and 0x80 <= data[at] < 0xC0:
        at += 1
    return at


def _position(draw: st.DrawFn, data: bytes) -> int:
    return _boundary(data, draw(st.integers(0, len(data))))


def flip_bytes(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    """A few bytes set to any value: the decoder's side (invalid UTF-8, controls, NUL)."""
    if not data:
        return data
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    return bytes(out)


def truncate(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    """The page cut off, at a character boundary or anywhere (inside a character)."""
    at = draw(st.integers(0, len(data)))
    return data[: _boundary(data, at) if draw(st.booleans()) else at]


def splice(draw: st.DrawFn, data: bytes, seeds: list[Page]) -> bytes:
    """The start of this page, then the rest of another (any form) from any point."""
    other = draw(st.sampled_from(seeds)).data
    return data[: _position(draw, data)] + other[_position(draw, other) :]


# A listing tail as the text form prints it (docs/input-format.md §1), roughly: enough to
# find tails in real pages and copy or move them.
_TAIL = re.compile(r"[0-9]+ [^\s|0-9][^\s|]* \| [^|\n]*? 页 \| [^|\n]*?[0-9](?=\s|$)")


def duplicate_tail(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    """A listing's tail copied: right after itself, or somewhere else on the page."""
    text = data.decode("utf-8", "replace")
    tails = list(_TAIL.finditer(text))
    if not tails:
        return data
    tail = draw(st.sampled_from(tails))
    at = tail.end() if draw(st.booleans()) else draw(st.integers(0, len(text)))
    glue = draw(st.sampled_from(["", " ", "\n"]))
    return (text[:at] + glue + tail.group() + text[at:]).encode()


# Tails with extreme or broken fields, each still shaped like a tail (docs/input-format.md
# §1.7): the listing they end must stay one listing or one reject.
HUGE_NUMBERS = ("0", "9999999", "2147483648", "9223372036854775807", "9223372036854775808",
                "18446744073709551616", "9" * 30, "-1", "1e309", "NaN", "007", "0000", "9999",
                "10000")  # fmt: skip
BAD_SIZES = ("50000.00 TB", "8388608.00 TB", "8388608.01 TB", "999999999999.99 TB",
             "9" * 25 + ".00 TB", "7.64 PB", "NaN GB", "5", "619.3", "MB5", "12.83MB", "1.13 KB",
             "0 Bytes", "1024.00 KB", "5.50 B", "-1 KB")  # fmt: skip
BAD_AGES = ("300000 年前", "9999999 年前", "2055 年前", "2054 年前", "0 天前", "75 分钟前",
            "13 月前", "刚刚", "很久以前", "0000-01-01 00:00", "0001-01-01 00:00",
            "9999-12-31 23:59", "2023-02-30 12:00", "2023-03-12 02:30", "12 月前")  # fmt: skip


@dataclass(frozen=True)
class OddTail:
    """A tail's printed fields, any of them extreme or broken; `age` None hides the block."""

    price: str
    credit: str
    pages: str
    size: str
    age: str | None
    rating: str

    @property
    def info(self) -> str:
        """`PRICE CREDIT | PAGES 页 | SIZE`, as HTML's info line holds it."""
        return f"{self.price} {self.credit} | {self.pages} 页 | {self.size}"

    @property
    def text(self) -> str:
        """The tail as the text form prints it: the age block, then the glued rating."""
        block = "" if self.age is None else f" | {self.age}"
        return f"{self.info}{block}{self.rating}"


@st.composite
def odd_tails(draw: st.DrawFn, *, self_ending: bool = False) -> OddTail:
    """A tail with any field extreme or broken. `self_ending`: only tails that end their
    own listing whatever follows (docs/input-format.md §1.7). Without an age block, that
    is a size with a space before its unit word: a bare size would run into the next
    listing, and a spaceless one (`12.83MB3`) followed, in text flattened further, by a
    heading like `| 云 9 月前5…` reads as a bare size and an age."""
    size = draw(st.sampled_from(["1.00 MB", *BAD_SIZES]))
    age = draw(st.one_of(st.none(), st.sampled_from(["9 月前", *BAD_AGES])))
    if self_ending and age is None and not re.search(r" [A-Za-z]+$", size):
        age = "9 月前"
    return OddTail(
        price=draw(st.sampled_from(["0", "5", *HUGE_NUMBERS[:7]])),
        credit=draw(st.sampled_from(["码力", "魔豆", "金币", "points", "R&D"])),
        pages=draw(st.sampled_from(["12", "-", "0", "abc", *HUGE_NUMBERS])),
        size=size,
        age=age,
        rating=draw(st.sampled_from(["3", "4.5", "0.03", "5", "999", "5.01", "1.234", "9" * 25])),
    )


def tail_in_description(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    """A tail inside running text: a description that reads like the end of a listing."""
    at = _position(draw, data)
    return data[:at] + draw(odd_tails()).text.encode() + data[at:]


def corrupted_tail_between(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    """A whole listing with an odd tail, inserted at a line break: between two listings."""
    breaks = [m.end() for m in re.finditer(rb"\n", data)] or [0]
    at = draw(st.sampled_from(breaks))
    listing = f"坏标题坏描述{draw(odd_tails()).text}\n".encode()
    return data[:at] + listing + data[at:]


def huge_number(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    """A digit run (a price, a page count, a size, an age, a rating, an id, a total)
    replaced by an extreme one."""
    runs = list(re.finditer(rb"[0-9]+", data))
    if not runs:
        return data
    run = draw(st.sampled_from(runs))
    return data[: run.start()] + draw(st.sampled_from(HUGE_NUMBERS)).encode() + data[run.end() :]


# Values a search-API document field should never hold, by field (docs/input-format.md
# §3.2): out of range, mistyped, or at the ends of what the tables hold.
ODD_FIELDS: dict[str, list[object]] = {
    "size": ["99999999999999999999", "9223372036854775807", "9223372036854775808", "-1", "1e3",
             5.5, ""],
    "created_at": ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z",
                   "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59Z", "yesterday", "", 0,
                   "2026-02-30T00:00:00Z", "2026-11-20T09:30:00.1234567890123Z"],
    "score": [501, -1, 2**40, "300", 0],
    "pages": [2**31, -5, "x", 1e300, 0],
    "id": ["0", "9223372036854775807", "9223372036854775808", "", None, 1.5],
    "title": ["", " ", 5, ["a"], {"a": 1}, "\u0000"],
    "description": [None, 7, "\n" * 3],
    "price": [2**31, "1.5", -1, 2**31 - 1],
    "view_count": [2**31, 2**64, -1],
    "ext": [7, "", "." + "x" * 1000, ".PDF"],
    "keywords": [["a"], "", "," * 10],
}  # fmt: skip


def json_field(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    """One field of one API document set to an odd value (the page must decode as JSON)."""
    try:
        page = json.loads(data)
        documents = page["document"]
        document = draw(st.sampled_from(documents))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return data
    if not isinstance(document, dict):
        return data
    field = draw(st.sampled_from(sorted(ODD_FIELDS)))
    document[field] = draw(st.sampled_from(ODD_FIELDS[field]))
    return json.dumps(
        page, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 2]))
    ).encode()


# Where a served or saved HTML item holds each value a listing reads (§3.1).
_ITEM_VALUES = (
    r'(?<=<span class="float-right">)\s*[^<\s][^<]*',
    r'(?<=<span class="hidden-xs-only">)[^<]*',
    r'(?<=<span class="el-rate__text">)[^<]*',
    r'(?<=aria-valuenow=")[^"]*',
    r'(?<=href=")/document/[0-9]+',
    r'(?<=_24\.png" alt=")[^"]*',
)


def html_value(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    """One value an HTML listing reads (its info line, age, rating, link, icon) set to an
    odd one, escaped as markup."""
    text = data.decode("utf-8", "replace")
    found = [m for pattern in _ITEM_VALUES for m in re.finditer(pattern, text)]
    if not found:
        return data
    spot = draw(st.sampled_from(found))
    odd = draw(
        st.one_of(
            odd_tails().map(lambda tail: tail.info),
            st.sampled_from(BAD_AGES).map(lambda age: " | " + age),
            st.sampled_from(HUGE_NUMBERS),
            st.sampled_from(HUGE_NUMBERS).map(lambda n: "/document/" + n),
        )
    )
    return (text[: spot.start()] + html.escape(odd, quote=True) + text[spot.end() :]).encode()


_TOKENS = (" | ", "页", " 页 | ", "共 ", "共 3 条", "\n- 0\n", "\n- 99999999999\n", "\n", "\r\n",
           "\r", "\t", " ", "\u3000", "\u00a0", "\u2028", "\ufeff", "\x1c", "\x07", "MB", "3",
           "<li>", "</li>", "<LI>", "</LI>", "<li class=x>", "</ul>", "href='/document/8'",
           "<!--", "-->", "<script>", '<a href="/document/7">',
           '<div class="search-result"><ul>', '<span class="float-right">', "&#x4e91;",
           "&", "{", "}", "[", "]", '"', "\\", ",", '"document": [', '{"id": "1"}',
           '"size": "99999999999999999999"', "😀", "𠀋", "\ud7ff")  # fmt: skip


def insert_token(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    """Characters the parsers treat as structure, or that other layers treat specially."""
    at = _position(draw, data)
    token = draw(st.sampled_from(_TOKENS)) * draw(st.sampled_from([1, 1, 1, 2, 50]))
    return data[:at] + token.encode("utf-8", "surrogatepass") + data[at:]


def delete_range(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    start = _position(draw, data)
    end = _boundary(data, start + draw(st.integers(0, 400)))
    return data[:start] + data[end:]


def repeat_range(draw: st.DrawFn, data: bytes, _: list[Page]) -> bytes:
    """A stretch of the page written twice (or many times): duplicated listings, items."""
    start = _position(draw, data)
    end = _boundary(data, start + draw(st.integers(0, 2000)))
    return data[:end] + data[start:end] * draw(st.sampled_from([1, 1, 3, 20])) + data[end:]


MUTATIONS: tuple[Mutation, ...] = (
    flip_bytes,
    truncate,
    splice,
    duplicate_tail,
    tail_in_description,
    corrupted_tail_between,
    huge_number,
    insert_token,
    delete_range,
    repeat_range,
    json_field,
    html_value,
)


# --- Containers (docs/input-format.md §3.3) ----------------------------------------------


def _gb18030(data: bytes) -> bytes:
    try:
        return data.decode("utf-8").encode("gb18030")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return data


CONTAINERS: dict[str, Callable[[bytes], bytes]] = {
    "plain": lambda data: data,
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "bom": lambda data: codecs.BOM_UTF8 + data,
    "crlf": lambda data: data.replace(b"\n", b"\r\n"),
    "gb18030": _gb18030,
}


@st.composite
def mutated_pages(draw: st.DrawFn, seeds: list[Page]) -> Page:
    """A seed with 0-4 mutations, in a container, under a name of its form or another."""
    seed = draw(st.sampled_from(seeds))
    data = seed.data
    for _ in range(draw(st.integers(0, 4))):
        data = draw(st.sampled_from(MUTATIONS))(draw, data, seeds)
    container = draw(st.sampled_from(["plain"] * 6 + list(CONTAINERS)))
    data = CONTAINERS[container](data)
    stem, suffix = Path(seed.name).stem, Path(seed.name).suffix
    if draw(st.integers(0, 9)) == 0:
        suffix = draw(st.sampled_from(_SUFFIXES))
    if container == "gzip" and draw(st.booleans()):
        suffix += ".gz"
    return Page(f"{stem}{suffix}", data)


# Fetch times at the ends of what the tables hold, besides the usual one: every age on the
# page is reckoned from it (docs/input-format.md §1.4, §4).
FETCH_TIMES = (
    *[DEFAULT_FETCHED_AT] * 6,
    datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
    datetime(1, 1, 1, 0, 0, 30, tzinfo=UTC),
    datetime(1, 12, 31, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
)


# --- Element-count amplification -------------------------------------------------------

# Elements that are no listing, per form: one page holds thousands of them, in runs of one
# kind (adjacent rejects of one reason merge) or cycling kinds (they do not), among real
# listings (docs/input-format.md §5, "A page's rejects"; pipeline/parse/bound.py).
JUNK = {
    "json": ("1", '"x"', "null", "[]", "{}", '{"id": "x"}', "true", "1.5", '{"title": 7}'),
    "html": ("<li>x</li>", "<li></li>", "<li><h3>坏</h3></li>", "<div>y</div>",
             '<li><a href="/document/x">坏</a></li>', "<p>z</p>", "<li><span>1.00 ZB</span></li>"),
    "text": ("坏标题 0 金币 | 3 页 | 1.00 ZB | 2 天前\n", "坏 5 码力 | 0 页 | 1.00 KB | 2 天前\n",
             "坏 0 金币 | 3 页 | 1.00 KB | 300000 年前\n", "| 3 页 |\n"),
}  # fmt: skip
AMPLIFIED_MAX = 20_000  # elements per page at most (the memory measurements use 1.5 M)


@st.composite
def amplified_pages(draw: st.DrawFn) -> Page:
    """A generated page with thousands of non-listing elements (`JUNK`) among its listings:
    `[1, 1, …]`-like JSON arrays, `<li>` floods, text of broken tails."""
    form = draw(st.sampled_from(sorted(JUNK)))
    count = draw(st.integers(1_001, AMPLIFIED_MAX))
    kinds = draw(st.lists(st.sampled_from(JUNK[form]), min_size=1, max_size=3))
    junk = [kinds[i % len(kinds)] for i in range(count)]
    at = draw(st.integers(0, count))
    fetched_at = DEFAULT_FETCHED_AT
    docs = draw(st.lists(documents(fetched_at), max_size=3))
    if form == "json":
        body = json.loads(render_json_page(docs, total_results=len(docs)))
        items = [json.dumps(item, ensure_ascii=False) for item in body.get("document", [])]
        body["document"] = []
        inner = ", ".join([*junk[:at], *items, *junk[at:]])
        text = json.dumps(body).replace('"document": []', f'"document": [{inner}]')
        return Page("amplified.json", text.encode())
    if form == "html":
        page = render_html_page(
            docs, fetched_at, total_results=len(docs), last_page=1, site_document_count=9
        )
        first = page.find("<li><h3")
        cut = first if first >= 0 else page.find("</body>")
        return Page("amplified.html", (page[:cut] + "".join(junk) + page[cut:]).encode())
    page = render_page(docs, fetched_at, total_results=len(docs), last_page=1)
    lines = page.splitlines(keepends=True)
    text = "".join([*junk[:at], *lines[:-2], *junk[at:], *lines[-2:]])
    return Page("amplified.txt", text.encode())
