"""The search API's JSON form of a results page → listings, page facts, rejects (§3.2).

Each page's document list is walked once with the standard library's decoder (`_walk`), then
every document's fields are read and checked in one vectorised pass (`read_documents`).
How and why: docs/architecture.md, "How each form is read".
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

from pipeline.parse.fields import EARLIEST_UPLOAD, LATEST_UPLOAD
from pipeline.vocab import FILE_FAMILY_OF_EXT

# The fields a listing reads; anything else in a document (user ids, categories, …) is the
# API's and is ignored.
FIELDS = (
    "id",
    "uuid",
    "title",
    "description",
    "keywords",
    "pages",
    "size",
    "price",
    "score",
    "ext",
    "created_at",
    "view_count",
    "download_count",
    "favorite_count",
    "comment_count",
)
_DOCUMENT_TYPE = pl.Struct({name: pl.String for name in FIELDS})
# The document's public key since moredoc 67bd439 (2024-01-17): its links name it instead
# of the id (`/document/${uuid || id}`); the lake's document_ref takes the same rule.
_UUID = r"^[0-9A-Za-z_-]{1,64}$"
# The layout name of every page this parser reads (vocab.LAYOUTS).
LAYOUT = "moredoc-api"
# The shown rating of a document nobody has scored (score absent or 0).
DEFAULT_SCORE = 300
MAX_SCORE = 500
INT32_MAX = 2**31 - 1
# Digits only, no sign or exponent; at most 19, and the Int64 cast (null on overflow) finds
# the values past 2^63 - 1.
_UNSIGNED = r"^[0-9]{1,19}$"
_RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
# The keys of a search response (docs/input-format.md §3.2); any one makes an object a page.
RESPONSE_KEYS = frozenset({"total", "spend", "document"})
_LIST_START = re.compile(r'"document"\s*:\s*\[\s*')
_SEPARATOR = re.compile(r"\s*(,|\])\s*")
_DECODER = json.JSONDecoder()


def _walk(page: str) -> dict[str, Any]:
    """One page's documents (raw text, byte spans, shape problems), its facts, what broke.

    The page must be one JSON object; its `document` array is then decoded element by
    element from where the key sits, so each element's span is exact. When the whole page
    decodes, the array walked must be the page's own `document` list: a nested object
    with a `document` key of its own, earlier in the text, is skipped rather than read in
    its place (which would lose the real documents silently).
    """
    facts: dict[str, Any] = {
        "docs": [], "problems": [], "objects": [], "starts": [], "ends": [], "counts": [],
        "error": None, "rest": None, "object": False,
    }  # fmt: skip
    try:
        top = json.loads(page)
        whole_page_ok = True
    except RecursionError as error:
        top, whole_page_ok = None, False
        facts["error"] = f"nested too deeply to read: {str(error)[:200]}"
    except ValueError as error:
        top, whole_page_ok = None, False
        facts["error"] = f"not valid JSON: {str(error)[:200]}"
    if whole_page_ok and not isinstance(top, dict):
        facts["error"] = "not a search-API response: the top level is not an object"
        return facts
    if isinstance(top, dict) and top and not RESPONSE_KEYS & top.keys():
        # `{}` is the gateway's empty result (it omits zeros and empty lists); an object
        # with keys, none of them the response's, is some other JSON: never a page of 0.
        keys = ", ".join(sorted(top)[:5]) + (", …" if len(top) > 5 else "")
        facts["error"] = (
            f"not a search-API response: none of {', '.join(sorted(RESPONSE_KEYS))} "
            f"(its keys: {keys})"
        )
        return facts
    if isinstance(top, dict):
        # Only a page read whole as an object has facts: a broken one's are unknown (null),
        # not "absent" (which the gateway writes for zero).
        facts["object"] = True
        facts["total"] = _as_text(top.get("total"))
        facts["spend"] = _as_text(top.get("spend"))
        if "document" not in top:  # a page with no result omits the empty list
            return facts
        if not isinstance(top["document"], list):
            facts["error"] = "not a search-API response: `document` is not a list"
            return facts
    expected = top["document"] if whole_page_ok else None
    for start in _LIST_START.finditer(page):
        walked = _walk_list(page, start.end(), expected)
        if not walked.pop("mismatch"):
            break
    else:
        facts["error"] = facts["error"] or "not a search-API response: no `document` list"
        return facts
    page_error = facts["error"]
    facts.update(walked)
    if facts["error"] is None and page_error is not None:
        # The list is whole but the page is not (text after it): the reject holds what
        # follows the list, so it overlaps none of the documents read.
        facts["error"], facts["rest"] = page_error, walked["list_end"]
    _to_bytes(page, facts)
    return facts


def _walk_list(page: str, at: int, expected: list[Any] | None) -> dict[str, Any]:
    """The documents of the array whose first element starts at `at` (see `_walk`).

    With `expected` (the page's own `document` list, decoded whole), each element must be
    the one there, else the walk stops with `mismatch` set: this array is another one.
    Adjacent elements that are no object, for one reason, are one entry (`counts` says how
    many it holds, its span covers them): a list of a million `1` is one reject, never a
    million rows (docs/input-format.md §5).
    """
    walked: dict[str, Any] = {
        "docs": [], "problems": [], "objects": [], "starts": [], "ends": [], "counts": [],
        "error": None, "rest": None, "list_end": None, "mismatch": False,
    }  # fmt: skip
    merged: list[int] = []
    index = 0
    if page.startswith("]", at):
        walked["list_end"] = _SEPARATOR.match(page, at).end()
        return walked
    while True:
        try:
            value, end = _DECODER.raw_decode(page, at)
        except RecursionError:
            # Valid JSON nested deeper than the decoder follows: step over it without
            # recursion, so only this document is rejected and the ones after it are read.
            value, end = _TOO_DEEP, _value_end(page, at)
            if end is None:
                walked["error"] = "a document is not valid JSON: it is nested too deeply"
                walked["error"] += " and never closed"
                walked["rest"] = at
                return _merged_docs(page, walked, merged)
        except ValueError as error:
            walked["error"] = f"a document is not valid JSON: {str(error)[:200]}"
            walked["rest"] = at
            return _merged_docs(page, walked, merged)
        if expected is not None and (index >= len(expected) or not _same(value, expected[index])):
            walked["mismatch"] = True
            return walked
        index += 1
        _add(walked, merged, page, value, at, end)
        separator = _SEPARATOR.match(page, end)
        if separator is None:
            walked["error"] = "the document list is cut off or malformed after a document"
            walked["rest"] = end
            return _merged_docs(page, walked, merged)
        at = separator.end()
        if separator.group(1) == "]":
            walked["list_end"] = at
            return _merged_docs(page, walked, merged)


def _same(value: Any, expected: Any) -> bool:
    """Whether the walked element is the page's own (one too deep to decode is taken as it)."""
    return value is _TOO_DEEP or value == expected


def _add(
    walked: dict[str, Any], merged: list[int], page: str, value: Any, at: int, end: int
) -> None:
    """One element into the walk, or into the previous entry when both are no object for
    one reason (its text is sliced once at the end: `_merged_docs`)."""
    problem = _shape_problem(value)
    is_object = isinstance(value, dict)
    after_same = (
        walked["counts"] and not walked["objects"][-1] and walked["problems"][-1] == problem
    )
    if after_same and not is_object:
        if walked["counts"][-1] == 1:
            merged.append(len(walked["counts"]) - 1)
        walked["ends"][-1] = end
        walked["counts"][-1] += 1
        return
    walked["docs"].append(page[at:end])
    walked["problems"].append(problem)
    walked["objects"].append(is_object)
    walked["starts"].append(at)
    walked["ends"].append(end)
    walked["counts"].append(1)


def _merged_docs(page: str, walked: dict[str, Any], merged: list[int]) -> dict[str, Any]:
    """A merged entry's text is the page's over its span (separators included)."""
    for i in merged:
        walked["docs"][i] = page[walked["starts"][i] : walked["ends"][i]]
    return walked


# A document's decoded value too deep for the decoder: not an object, with its own reason.
_TOO_DEEP = object()
# What a value's JSON type is called in a reason.
_JSON_TYPES = {dict: "an object", list: "an array", str: "text", bool: "a boolean",
               int: "a number", float: "a number", type(None): "null"}  # fmt: skip
# The fields the gateway writes as JSON strings whatever their value: anything else there
# (an object, an array, a number) is no value of theirs. Integer fields may be either.
TEXT_FIELDS = ("title", "description", "keywords", "ext", "created_at")
_STRING_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _shape_problem(value: Any) -> str | None:
    """Why a decoded document cannot be a listing as a whole (not an object), or which of
    its text fields hold another JSON type; None when its shape is right.

    Checked on the value the walk has decoded anyway (a few dictionary look-ups per
    document): polars' decoder turns a number or an object in a text field into its JSON
    text, after which `"title": {"a": 1}` is indistinguishable from a title that reads so.
    """
    if value is _TOO_DEEP:
        return "document is nested too deeply to read (JSON over the decoder's depth)"
    if not isinstance(value, dict):
        return f"document is {_JSON_TYPES.get(type(value), 'unknown')}, not an object"
    wrong = [
        f"{name} is {_JSON_TYPES.get(type(value[name]), 'unknown')}, not text"
        for name in TEXT_FIELDS
        if not isinstance(value.get(name), str | None)
    ]
    return "; ".join(wrong) or None


def _value_end(page: str, at: int) -> int | None:
    """Where the JSON array or object starting at `at` ends, by counting brackets outside
    strings (no recursion); None when it never closes. Only for values too deep to decode.
    """
    depth = 0
    for token in _STRING_TOKENS.finditer(page, at):
        kind = token.group()
        if kind in ("[", "{"):
            depth += 1
        elif kind in ("]", "}"):
            depth -= 1
            if depth == 0:
                return token.end()
    return None


def _to_bytes(page: str, facts: dict[str, Any]) -> None:
    """Turn the walk's character offsets into UTF-8 byte offsets, in one pass over the page.

    Offsets are in page order, so each piece between two of them is encoded once: linear in
    the page. (Slicing the page up to every offset in polars copied a prefix of the page per
    document: quadratic memory, gigabytes for a page of a few thousand documents.) An ASCII
    page, the usual one, needs no encoding at all.
    """
    if page.isascii():
        return
    position = count = 0
    byte_of: dict[int, int] = {}
    points = [*sorted({*facts["starts"], *facts["ends"]})]
    if facts["rest"] is not None:
        points.append(facts["rest"])
    for offset in points:
        if offset not in byte_of:
            count += len(page[position:offset].encode("utf-8"))
            position = offset
            byte_of[offset] = count
    facts["starts"] = [byte_of[c] for c in facts["starts"]]
    facts["ends"] = [byte_of[c] for c in facts["ends"]]
    if facts["rest"] is not None:
        facts["rest_byte"] = byte_of[facts["rest"]]


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def extract_pages(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(documents, page facts) of a batch of API pages: the one Python step per page."""
    walked = [_walk(page) for page in pages["text"]]
    documents = (
        pl.DataFrame(
            {
                "snapshot_id": pages["snapshot_id"],
                "doc": [w["docs"] for w in walked],
                "shape_problem": [w["problems"] for w in walked],
                "is_object": [w["objects"] for w in walked],
                "byte_start": [w["starts"] for w in walked],
                "byte_end": [w["ends"] for w in walked],
                "_count": [w["counts"] for w in walked],
            },
            schema={
                "snapshot_id": pl.String,
                "doc": pl.List(pl.String),
                "shape_problem": pl.List(pl.String),
                "is_object": pl.List(pl.Boolean),
                "byte_start": pl.List(pl.Int64),
                "byte_end": pl.List(pl.Int64),
                "_count": pl.List(pl.Int32),
            },
        )
        .explode("doc", "shape_problem", "is_object", "byte_start", "byte_end", "_count")
        .drop_nulls("doc")
        # A merged entry holds `_count` elements: positions count elements, not entries.
        .with_columns(
            (pl.col("_count").cum_sum() - pl.col("_count") + 1)
            .over("snapshot_id")
            .alias("position")
        )
        .drop("_count")
    )
    facts = pl.DataFrame(
        {
            "snapshot_id": pages["snapshot_id"],
            "object": [w["object"] for w in walked],
            "total": [w.get("total") for w in walked],
            "spend": [w.get("spend") for w in walked],
            "error": [w["error"] for w in walked],
            "rest": [w["rest"] for w in walked],
            "rest_byte": [w.get("rest_byte", w["rest"]) for w in walked],
        },
        schema={
            "snapshot_id": pl.String,
            "object": pl.Boolean,
            "total": pl.String,
            "spend": pl.String,
            "error": pl.String,
            "rest": pl.Int64,
            "rest_byte": pl.Int64,
        },
    )
    return documents, facts


def _decode(docs: pl.Series) -> pl.DataFrame:
    """Every field of every document as text (null where absent or JSON null).

    The fast path decodes all documents at once; a field holding an object or an array
    where text was expected fails that, and then each field is matched on its own (much
    slower, only for batches holding such a document): its JSON text is then the value,
    which the checks reject by name.
    """
    try:
        return docs.str.json_decode(_DOCUMENT_TYPE).struct.unnest()
    except pl.exceptions.ComputeError:
        return pl.DataFrame([docs.str.json_path_match(f"$.{name}").alias(name) for name in FIELDS])


def _integer(name: str, low: int, high: int, default: int | None) -> tuple[pl.Expr, pl.Expr]:
    """A gateway integer field: (its value, or `default` where absent; the problem, if any)."""
    raw = pl.col(f"_{name}")
    ok = raw.str.contains(_UNSIGNED)
    value = raw.cast(pl.Int64, strict=False)
    in_range = value.is_between(low, high)
    problem = (
        pl.when(raw.is_null())
        .then(None)
        .when(~ok | ~in_range)
        .then(pl.format(f"{name} {{}} is not an integer in {low}..{high}", raw.str.slice(0, 40)))
    )
    return pl.when(raw.is_null()).then(pl.lit(default, pl.Int64)).otherwise(value), problem


def read_documents(documents: pl.DataFrame, pages: pl.DataFrame) -> pl.DataFrame:
    """Documents → listing rows (with `fragment` and `parse_error`)."""
    # A document that is no object has no fields: decoding it would only fail the fast path.
    readable = documents.select(pl.when("is_object").then("doc"))["doc"]
    fields = _decode(readable).rename({name: f"_{name}" for name in FIELDS})
    frame = pl.concat([documents, fields], how="horizontal").join(
        pages.select("snapshot_id", "site", "fetched_at"), on="snapshot_id", how="left"
    )
    document_id, id_problem = _integer("id", 1, 2**63 - 1, None)
    pages_, pages_problem = _integer("pages", 0, INT32_MAX, 0)
    size, size_problem = _integer("size", 0, 2**63 - 1, 0)
    price, price_problem = _integer("price", 0, INT32_MAX, 0)
    score, score_problem = _integer("score", 0, MAX_SCORE, 0)
    counts = {name: _integer(name, 0, INT32_MAX, 0) for name in
              ("view_count", "download_count", "favorite_count", "comment_count")}  # fmt: skip
    parsed = (
        pl.when(pl.col("_created_at").str.contains(_RFC3339))
        .then(
            pl.col("_created_at")
            .str.replace(r"^(.{10})[Tt ]", "${1}T")
            .str.replace(r"[Zz]$", "+00:00")
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False)
        )
        .dt.convert_time_zone("UTC")
    )
    # An RFC 3339 time may name year 0000, or reach year 10000 in UTC: no upload time the
    # tables hold (docs/input-format.md §1.4), and either would crash any Python reader.
    in_range = parsed.is_between(
        pl.lit(EARLIEST_UPLOAD).dt.cast_time_unit("us"),
        pl.lit(LATEST_UPLOAD).dt.cast_time_unit("us"),
    )
    created = pl.when(in_range).then(parsed)
    title = pl.col("_title").fill_null("")
    description = pl.col("_description").fill_null("")
    ext = pl.col("_ext")
    shown_score = pl.when(score > 0).then(score).otherwise(DEFAULT_SCORE)
    uuid = pl.col("_uuid").replace("", None)
    uuid_ok = uuid.str.contains(_UUID)
    problems = pl.concat_str(
        "shape_problem",
        pl.when(pl.col("_id").is_null()).then(pl.lit("id is missing")).otherwise(id_problem),
        pl.when(uuid.is_not_null() & ~uuid_ok).then(
            pl.format(
                "uuid '{}' is not a document key (letters, digits, - and _)", uuid.str.slice(0, 40)
            )
        ),
        pl.when(title.str.strip_chars() == "").then(pl.lit("title is missing or empty")),
        pages_problem,
        size_problem,
        price_problem,
        score_problem,
        *(problem for _, problem in counts.values()),
        pl.when(pl.col("_created_at").is_null())
        .then(pl.lit("created_at is missing"))
        .when(parsed.is_null())
        .then(
            pl.format(
                "created_at '{}' is not an RFC 3339 time", pl.col("_created_at").str.slice(0, 40)
            )
        )
        .when(~in_range)
        .then(
            pl.format(
                "created_at '{}' is outside 0001-01-01..9999-12-31 UTC, the upload times the "
                "tables hold",
                pl.col("_created_at").str.slice(0, 40),
            )
        ),
        separator="; ",
        ignore_nulls=True,
    )
    return frame.select(
        "snapshot_id",
        "position",
        "byte_start",
        "byte_end",
        (title + description).alias("heading"),
        title.alias("title"),
        description.alias("description"),
        pl.lit("json").alias("title_source"),
        price.alias("price"),
        pl.lit(None, pl.String).alias("price_text"),
        pl.lit(False).alias("price_ambiguous"),
        pl.lit(None, pl.String).alias("credit"),
        pl.when(pages_ > 0).then(pages_).cast(pl.Int32, strict=False).alias("pages"),
        pl.lit(None, pl.String).alias("size_text"),
        size.alias("size_bytes"),
        size.alias("size_bytes_min"),
        size.alias("size_bytes_max"),
        pl.lit(None, pl.String).alias("age_text"),
        created.alias("uploaded_at_min"),
        created.alias("uploaded_at_max"),
        # The decimal score/100 read as text, as the other forms read the printed rating:
        # polars' float division is not always the nearest double (251 / 100 gives
        # 2.5100000000000002), and one document must not get two ratings.
        pl.format("{}.{}", shown_score // 100, (shown_score % 100).cast(pl.String).str.zfill(2))
        .cast(pl.Float64)
        .alias("rating"),
        shown_score.cast(pl.Int32, strict=False).alias("score"),
        (shown_score < 100).alias("rating_anomaly"),
        "site",
        "fetched_at",
        document_id.alias("document_id"),
        pl.coalesce(uuid, document_id.cast(pl.String)).alias("document_ref"),
        pl.when(ext.is_not_null())
        .then(ext.str.to_lowercase().replace_strict(FILE_FAMILY_OF_EXT, default="other"))
        .alias("file_family"),
        ext.alias("ext"),
        pl.col("_keywords").alias("keywords"),
        *(value.alias(name) for name, (value, _) in counts.items()),
        pl.col("doc").alias("fragment"),
        # A document that is no object is rejected for that alone, not for each field.
        pl.when(pl.col("is_object"))
        .then(problems.replace("", None))
        .otherwise("shape_problem")
        .alias("parse_error"),
    )


def read_facts(facts: pl.DataFrame, pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Page facts → (footers, rejects): the total and search time; what could not be read."""
    total_ok = (
        pl.col("total").str.contains(_UNSIGNED)
        & pl.col("total").cast(pl.Int64, strict=False).is_not_null()
    )
    spend = pl.col("spend").cast(pl.Float64, strict=False)
    footers = facts.select(
        "snapshot_id",
        pl.when(pl.col("total").is_null() & pl.col("object"))
        .then(pl.lit(0, pl.Int64))
        .when(total_ok)
        .then(pl.col("total").cast(pl.Int64, strict=False))
        .alias("total_results"),
        pl.lit(None, pl.Int32).alias("last_page"),
        pl.lit(None, pl.Int64).alias("footer_byte_start"),
        pl.lit(None, pl.Int64).alias("footer_byte_end"),
        pl.lit(None, pl.Int64).alias("site_document_count"),
        pl.when(spend >= 0).then(spend).alias("search_seconds"),
        # Only a page read as the response's object is known to be the API's.
        pl.when(pl.col("object")).then(pl.lit(LAYOUT)).alias("layout"),
        pl.when(pl.col("object")).then(pl.lit("search")).alias("page_type"),
    )
    page = pl.col("text")
    rest = pl.col("rest").fill_null(0)
    broken = facts.filter(pl.col("error").is_not_null()).join(
        pages.select("snapshot_id", "text"), on="snapshot_id"
    )
    rejects = pl.concat(
        [
            broken.select(
                "snapshot_id",
                pl.col("rest_byte").fill_null(0).alias("byte_start"),
                page.str.len_bytes().cast(pl.Int64).alias("byte_end"),
                page.str.slice(rest).alias("fragment"),
                pl.format("JSON snapshot: {}", "error").alias("reason"),
            ),
            facts.filter(pl.col("total").is_not_null() & ~total_ok).select(
                "snapshot_id",
                pl.lit(0, pl.Int64).alias("byte_start"),
                pl.lit(0, pl.Int64).alias("byte_end"),
                pl.col("total").str.slice(0, 200).alias("fragment"),
                pl.format(
                    "total '{}' is not a result count", pl.col("total").str.slice(0, 40)
                ).alias("reason"),
            ),
        ]
    )
    return footers, rejects


def parse_pages(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse a batch of decoded search-API snapshots, as `text.parse_pages` does text ones."""
    documents, facts = extract_pages(pages)
    listings = read_documents(documents, pages)
    footers, rejects = read_facts(facts, pages)
    return listings, footers, rejects
