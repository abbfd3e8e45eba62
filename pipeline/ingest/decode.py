"""Snapshot bytes → text: gzip, BOM, UTF-8 or GB18030, CRLF or CR, and what is not a page.

`decode_pages` is step 3 of `read.read_batch`: text, form and read errors. A file that is
no text page still gets a row, with `read_error` and a preview of its bytes; a UTF-8 page
with a few invalid bytes keeps its text, each such byte read as U+0000 (`salvage`), so byte
offsets stay the file's own (docs/input-format.md §3.3).
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import re
import time
import zlib
from typing import TYPE_CHECKING, AnyStr

import polars as pl

from pipeline.config import MAX_PAGE_BYTES

if TYPE_CHECKING:
    from pipeline.ingest.sources import Files

# Decoded text with more control characters than this share is binary, not a page.
MAX_CONTROL_SHARE = 0.01
FRAGMENT_PREVIEW_BYTES = 512
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])

# Why a file is no page (`read_error`): one wording for the batch reader and the reference.
EMPTY = "empty file (0 bytes)"
NUL_BYTES = "binary content: NUL bytes, not a text page"
UNDECODABLE = "undecodable: neither UTF-8 nor GB18030"
UTF16 = (
    "UTF-16 text, not an encoding pages are read in (UTF-8 or GB18030): save it as UTF-8 "
    "(iconv -f UTF-16 -t UTF-8)"
)


def corrupt_gzip(error: Exception) -> str:
    return f"corrupt gzip: {error}"


def too_large(limit: int, *, compressed: bool) -> str:
    grows = "decompresses to more than" if compressed else "is larger than"
    return (
        f"page too large: it {grows} {limit / 2**20:g} MiB, the cap per page (a gzip bomb? "
        "raise the cap with --max-page-mb)"
    )


def gunzip(raw: bytes, limit: int = MAX_PAGE_BYTES) -> tuple[bytes | None, str | None]:
    """(decompressed bytes, None) or (None, why not), never holding more than `limit` + 1
    decompressed bytes: the stream stops there, whatever the file claims."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            data = stream.read(limit + 1)
    except (OSError, EOFError, zlib.error) as error:
        return None, corrupt_gzip(error)
    if len(data) > limit:
        return None, too_large(limit, compressed=True)
    return data, None


def control_bytes(count: int, size: int) -> str:
    return f"binary content: {count} control bytes in {size}"


_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"


def screen(
    raw: bytes, limit: int = MAX_PAGE_BYTES
) -> tuple[bytes | None, bytes | None, str | None]:
    """`decode` up to the UTF-8 attempt: (bytes, UTF-8 candidate, error so far).

    The candidate is the BOM-less, CRLF→LF body whose UTF-8 validity polars checks for the
    whole batch at once. Control bytes are ASCII, never inside a UTF-8 or GB18030
    multi-byte character, so their count does not depend on the encoding; the error it
    gives stands only if the bytes decode at all (as in `decode`). A page over `limit`
    bytes (decompressed) is not read at all.
    """
    data: bytes | None = raw
    if raw[:2] == _GZIP_MAGIC:
        data, failed = gunzip(raw, limit)
        if data is None:
            return None, None, failed
    elif len(raw) > limit:
        return None, None, too_large(limit, compressed=False)
    if not data:
        return None, None, EMPTY
    if b"\x00" in data:
        return None, None, UTF16 if is_utf16(data) else NUL_BYTES
    controls = len(data) - len(data.translate(None, CONTROL_BYTES))
    error = None
    if controls > MAX_CONTROL_SHARE * len(data):
        error = control_bytes(controls, len(data))
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    if b"\r" in body:
        # Only ASCII bytes change, so validity and the decoded text are as after decoding.
        body = lf_line_ends(body)
    return data, body, error


def decode_pages(files: Files, limit: int = MAX_PAGE_BYTES) -> pl.DataFrame:
    """Step 3 of `read.read_batch`: the files' bytes as text (null where not a page), form,
    read_error, fragment, `text_warning` (a UTF-8 page read with invalid bytes marked) and
    `read_seconds` (each file's own time here).

    `screen` file by file, then UTF-8 validity for the whole batch at once (`utf8`), and
    `salvage` for the few pages that fail it (GB18030, damaged UTF-8).
    """
    rows: list[tuple[object, ...]] = []
    for raw, failure in zip(files.raws, files.failures, strict=True):
        started = time.perf_counter()
        if failure is None:
            data, body, error = screen(raw, limit)
            fragment = None if error is None else preview(raw)
        else:  # not read at all: its reason, and nothing to preview
            data, body, error, fragment = None, None, failure, ""
        rows.append((data, body, error, fragment, time.perf_counter() - started))
    datas, bodies, errors, fragments, seconds = map(
        list, zip(*rows, strict=True) if rows else [()] * 5
    )
    binary = pl.Series("text", bodies, dtype=pl.Binary)
    text = utf8(binary)
    warnings: list[str | None] = [None] * len(rows)
    rescued: dict[int, str] = {}
    for i in (text.is_null() & binary.is_not_null()).arg_true().to_list():
        started = time.perf_counter()
        decoded, failed, warning = salvage(datas[i], bodies[i])
        if decoded is None:
            errors[i], fragments[i] = failed, preview(files.raws[i])
        else:
            rescued[i] = decoded  # still nulled by a control error
            if errors[i] is None:
                warnings[i] = warning
        seconds[i] += time.perf_counter() - started
    if rescued:
        text = text.scatter(list(rescued), list(rescued.values()))
    frame = pl.DataFrame(
        [
            files.frame["source_path"],
            pl.Series("read_error", errors, dtype=pl.String),
            pl.Series("fragment", fragments, dtype=pl.String),
            pl.Series("text_warning", warnings, dtype=pl.String),
            pl.Series("read_seconds", seconds, dtype=pl.Float64),
            text,
        ]
    )
    return (
        frame.with_columns(text=pl.when(pl.col("read_error").is_null()).then(pl.col("text")))
        .with_columns(form=form(pl.col("source_path"), pl.col("text")))
        .drop("source_path")
    )


def is_utf16(data: bytes) -> bool:
    """Whether bytes holding NULs are UTF-16 text: a UTF-16 BOM, or (mostly ASCII text
    without one) a NUL in every other byte, which is how UTF-16 writes ASCII; and they
    decode as UTF-16."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(data) % 2 == 0 and data[1::2].count(0) > 0.9 * len(data) // 2:
        encoding = "utf-16-le"
    elif len(data) % 2 == 0 and data[0::2].count(0) > 0.9 * len(data) // 2:
        encoding = "utf-16-be"
    else:
        return False
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def lf_line_ends(text: AnyStr) -> AnyStr:
    """`text` with CRLF as LF; a page without one LF has classic Mac OS line ends, and
    each CR is read as LF (one byte for one: the page's offsets stay its own). A lone CR
    in a page with LF line ends is kept."""
    cr, lf = ("\r", "\n") if isinstance(text, str) else (b"\r", b"\n")
    if lf not in text:
        return text.replace(cr, lf)
    return text.replace(cr + lf, lf)


# An invalid byte in a UTF-8 page is read as this character, one per byte: one byte in
# UTF-8 too, so every offset after it is still the file's own (U+FFFD would take three
# bytes and shift them), and no page holds it otherwise (NUL bytes make a file binary,
# `screen`), so the marks are exactly the invalid bytes wherever the text goes.
INVALID_BYTE = "\x00"
_AS_INVALID_BYTE = "listings-invalid-byte"


def _mark(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return INVALID_BYTE * (error.end - error.start), error.end


codecs.register_error(_AS_INVALID_BYTE, _mark)

# A page is UTF-8 with damage, not another encoding, while its invalid bytes are at most
# this share of its bytes (as for control bytes) and fewer than its valid non-ASCII ones.
MAX_INVALID_SHARE = 0.01
INVALID_SPANS_NAMED = 3


def with_invalid_bytes(body: bytes) -> tuple[str, int, int]:
    """`body` as UTF-8 with each invalid byte read as `INVALID_BYTE`: (text, invalid bytes,
    valid non-ASCII bytes). ASCII bytes are never invalid, so the two counts add up to the
    non-ASCII bytes."""
    text = body.decode("utf-8", _AS_INVALID_BYTE)
    invalid = text.count(INVALID_BYTE)
    non_ascii = len(body.translate(None, bytes(range(0x80))))
    return text, invalid, non_ascii - invalid


def invalid_utf8(text: str) -> str:
    """The `metadata_warning` of a page read with invalid bytes: where they are, as byte
    offsets into the text every parser sees (§3.3), the first few named."""
    spans = [(m.start(), m.end()) for m in re.finditer(rb"\x00+", text.encode("utf-8"))]
    named = ", ".join(
        f"byte {start} ({end - start} byte{'s' if end - start > 1 else ''})"
        for start, end in spans[:INVALID_SPANS_NAMED]
    )
    more = len(spans) - INVALID_SPANS_NAMED
    total = sum(end - start for start, end in spans)
    rest = f" and {more} more spans ({total} bytes in all)" if more > 0 else ""
    return f"invalid UTF-8 at {named}{rest}: each byte read as U+0000, the rest of the page kept"


def invalid_spans(pages: pl.DataFrame) -> pl.DataFrame:
    """Each run of invalid bytes in the pages' text (`snapshot_id`, `text`), as
    (snapshot_id, byte_start, byte_end, reason): the spans a reject must account for
    (docs/input-format.md §5). Few pages hold any, so the search is per page in Python."""
    marked = pages.filter(pl.col("text").str.contains(INVALID_BYTE, literal=True))
    rows = [
        (snapshot_id, m.start(), m.end(), f"invalid UTF-8 at byte {m.start()}")
        for snapshot_id, text in marked.select("snapshot_id", "text").iter_rows()
        for m in re.finditer(rb"\x00+", text.encode("utf-8"))
    ]
    schema = {
        "snapshot_id": pl.String,
        "byte_start": pl.Int64,
        "byte_end": pl.Int64,
        "reason": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def salvage(data: bytes, body: bytes) -> tuple[str | None, str | None, str | None]:
    """A page that is not valid UTF-8 as (text, read error, warning), one of the first two.

    Mostly UTF-8 (`MAX_INVALID_SHARE`, and more valid non-ASCII bytes than invalid ones):
    UTF-8 with its invalid bytes marked, and a warning naming them; one bad byte no longer
    costs the page's other listings. A GB18030 page is hardly ever that (read as UTF-8,
    nearly all its non-ASCII bytes are invalid), and is read as GB18030 (from `data`, BOM
    and all, as before). A page neither decodes as is UTF-8 with its invalid bytes marked if
    they are few enough, else undecodable.
    """
    text, invalid, valid = with_invalid_bytes(body)
    few = invalid <= MAX_INVALID_SHARE * len(body)
    if few and invalid < valid:
        return text, None, invalid_utf8(text)
    try:
        return lf_line_ends(data.decode("gb18030")), None, None
    except UnicodeDecodeError:
        pass
    if few:
        return text, None, invalid_utf8(text)
    return None, UNDECODABLE, None


def utf8(values: pl.Series) -> pl.Series:
    """Binary → String, null where not valid UTF-8.

    polars validates a whole column in one pass but rejects the column for one bad value;
    halving finds the few bad ones (GB18030 pages) at the cost of a few more passes.
    """
    try:
        return values.cast(pl.String)
    except pl.exceptions.ComputeError:
        if len(values) == 1:
            return pl.Series(values.name, [None], dtype=pl.String)
        half = len(values) // 2
        return utf8(values.slice(0, half)).append(utf8(values.slice(half)))


def preview(raw: bytes) -> str:
    return raw[:FRAGMENT_PREVIEW_BYTES].decode("utf-8", "backslashreplace")


# Names that say a form. Only a name saying none (an explicitly named `page`, `page.dat`)
# is sniffed; `.txt` says text, whatever its first title starts with (`[2023] …`, `{Vue.js}
# …`, `<<深入理解计算机系统>>`): docs/input-format.md §3.3.
HTML_SUFFIXES = (".html", ".htm")
JSON_SUFFIXES = (".json",)
TEXT_SUFFIXES = (".txt",)
# A sniffed page is HTML only if it opens with a tag as the HTML tokenizer reads one (`<`
# then a letter, `!`, `/` or `?`): `<<书名>>` is no tag.
_TAG_OPEN = "^<[A-Za-z!/?]"


def parses_as_json(text: str) -> bool:
    """Whether `text` is one JSON value (the json module decides, as the API parser does)."""
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def sniffed_form(text: str) -> str:
    """The form of a page whose name says none: HTML if it opens with a tag, JSON if it is
    JSON, else text."""
    head = text.lstrip()
    if re.match(_TAG_OPEN, head):
        return "html"
    if head[:1] in ("{", "[") and parses_as_json(text):
        return "json"
    return "text"


def form_of_name(name: str) -> str | None:
    """The form a file's name says (`.gz` aside, any letter case), None where it says none."""
    stem = name.lower().removesuffix(".gz")
    for form_name, suffixes in (("html", HTML_SUFFIXES), ("json", JSON_SUFFIXES),
                                ("text", TEXT_SUFFIXES)):  # fmt: skip
        if stem.endswith(suffixes):
            return form_name
    return None


def form(source_path: pl.Expr, text: pl.Expr) -> pl.Expr:
    """Which form a snapshot holds: the one its name says, else the one sniffed.

    `.html`/`.htm` is HTML, `.json` JSON, `.txt` text; a name saying none is sniffed
    (`sniffed_form`: a leading tag is HTML, a page that parses as JSON is JSON, anything
    else text; docs/input-format.md §3.3); null text is `unreadable`. Suffixes hold no
    separator, so the path's end is the name's end. Only unnamed pages are sniffed, in
    Python: the walk picks up named ones alone, so these are files named explicitly.
    """
    stem = source_path.str.to_lowercase().str.strip_suffix(".gz")

    def ends(suffixes: tuple[str, ...]) -> pl.Expr:
        return pl.any_horizontal([stem.str.ends_with(s) for s in suffixes])

    unnamed = ~ends(HTML_SUFFIXES) & ~ends(JSON_SUFFIXES) & ~ends(TEXT_SUFFIXES)
    sniffed = (
        pl.when(unnamed)
        .then(text)
        .map_elements(sniffed_form, return_dtype=pl.String, skip_nulls=True)
    )
    return (
        pl.when(text.is_null())
        .then(pl.lit("unreadable"))
        .when(ends(HTML_SUFFIXES))
        .then(pl.lit("html"))
        .when(ends(JSON_SUFFIXES))
        .then(pl.lit("json"))
        .when(ends(TEXT_SUFFIXES))
        .then(pl.lit("text"))
        .otherwise(sniffed)
    )
