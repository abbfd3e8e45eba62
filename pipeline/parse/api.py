"""The search API's JSON form of a results page → listings, page facts, rejects (§3.2).

docs/input-format.md §3.2: a gRPC gateway writes `{"total": …, "spend": …, "document": […]}`
with 64-bit integers as strings, fields at their zero value left out and times in RFC 3339.
Here size and upload time are exact points, so a listing's interval columns collapse onto
them (`size_bytes_min == size_bytes_max`, `uploaded_at_min == uploaded_at_max`).

Each page's document list is walked once with the standard library's C decoder, which
gives every document's exact byte span and stops cleanly at the first broken one (a
truncated download keeps the documents before the break; the rest is one reject). The
documents' fields are then read in one vectorised pass: every field is decoded as text
(a number keeps its digits, so `3.5` pages or a 20-digit size stay visible to the checks
instead of being rounded into something plausible), and polars checks each field's
value, naming the field in the reason of any listing it rejects.
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

from pipeline.vocab import FILE_FAMILY_OF_EXT

# The fields a listing reads; anything else in a document (user ids, categories, …) is the
# API's and is ignored.
FIELDS = (
    "id",
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
# The shown rating of a document nobody has scored (score absent or 0).
DEFAULT_SCORE = 300
MAX_SCORE = 500
INT32_MAX = 2**31 - 1
_UNSIGNED = r"^[0-9]{1,18}$"  # an integer an Int64 holds, with no sign or exponent
_RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_LIST_START = re.compile(r'"document"\s*:\s*\[\s*')
_SEPARATOR = re.compile(r"\s*(,|\])\s*")
_DECODER = json.JSONDecoder()


def _walk(page: str) -> dict[str, Any]:
    """One page's documents (raw text and character spans), its facts, and what broke.

    The page must be one JSON object; its `document` array is then decoded element by
    element from where the key sits, so each element's span is exact.
    """
    facts: dict[str, Any] = {"docs": [], "starts": [], "ends": [], "error": None, "rest": None}
    try:
        top = json.loads(page)
        whole_page_ok = True
    except (ValueError, RecursionError) as error:
        top, whole_page_ok = None, False
        facts["error"] = f"not valid JSON: {str(error)[:200]}"
    if whole_page_ok and not isinstance(top, dict):
        facts["error"] = "not a search-API response: the top level is not an object"
        return facts
    if isinstance(top, dict):
        facts["total"] = _as_text(top.get("total"))
        facts["spend"] = _as_text(top.get("spend"))
        if "document" not in top:  # a page with no result omits the empty list
            return facts
        if not isinstance(top["document"], list):
            facts["error"] = "not a search-API response: `document` is not a list"
            return facts
    start = _LIST_START.search(page)
    if start is None:
        facts["error"] = facts["error"] or "not a search-API response: no `document` list"
        return facts
    at = start.end()
    if page.startswith("]", at):
        return facts
    while True:
        try:
            _, end = _DECODER.raw_decode(page, at)
        except (ValueError, RecursionError) as error:
            facts["error"] = f"a document is not valid JSON: {str(error)[:200]}"
            facts["rest"] = at
            return facts
        facts["docs"].append(page[at:end])
        facts["starts"].append(at)
        facts["ends"].append(end)
        separator = _SEPARATOR.match(page, end)
        if separator is None:
            facts["error"] = "the document list is cut off or malformed after a document"
            facts["rest"] = end
            return facts
        at = separator.end()
        if separator.group(1) == "]":
            return facts


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
                "char_start": [w["starts"] for w in walked],
                "char_end": [w["ends"] for w in walked],
            },
            schema={
                "snapshot_id": pl.String,
                "doc": pl.List(pl.String),
                "char_start": pl.List(pl.Int64),
                "char_end": pl.List(pl.Int64),
            },
        )
        .explode("doc", "char_start", "char_end")
        .drop_nulls("doc")
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("snapshot_id").alias("position")
        )
    )
    facts = pl.DataFrame(
        {
            "snapshot_id": pages["snapshot_id"],
            "total": [w.get("total") for w in walked],
            "spend": [w.get("spend") for w in walked],
            "error": [w["error"] for w in walked],
            "rest": [w["rest"] for w in walked],
        },
        schema={
            "snapshot_id": pl.String,
            "total": pl.String,
            "spend": pl.String,
            "error": pl.String,
            "rest": pl.Int64,
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
    fields = _decode(documents["doc"]).rename({name: f"_{name}" for name in FIELDS})
    frame = pl.concat([documents, fields], how="horizontal").join(
        pages.select("snapshot_id", "site", "fetched_at", "text"), on="snapshot_id", how="left"
    )
    document_id, id_problem = _integer("id", 1, 2**63 - 1, None)
    pages_, pages_problem = _integer("pages", 0, INT32_MAX, 0)
    size, size_problem = _integer("size", 0, 2**63 - 1, 0)
    price, price_problem = _integer("price", 0, INT32_MAX, 0)
    score, score_problem = _integer("score", 0, MAX_SCORE, 0)
    counts = {name: _integer(name, 0, INT32_MAX, 0) for name in
              ("view_count", "download_count", "favorite_count", "comment_count")}  # fmt: skip
    created = (
        pl.when(pl.col("_created_at").str.contains(_RFC3339))
        .then(
            pl.col("_created_at")
            .str.replace(r"^(.{10})[Tt ]", "${1}T")
            .str.replace(r"[Zz]$", "+00:00")
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False)
        )
        .dt.convert_time_zone("UTC")
    )
    title = pl.col("_title").fill_null("")
    description = pl.col("_description").fill_null("")
    ext = pl.col("_ext")
    shown_score = pl.when(score > 0).then(score).otherwise(DEFAULT_SCORE)
    page = pl.col("text")
    problems = pl.concat_str(
        pl.when(pl.col("_id").is_null()).then(pl.lit("id is missing")).otherwise(id_problem),
        pl.when(title.str.strip_chars() == "").then(pl.lit("title is missing or empty")),
        pages_problem,
        size_problem,
        price_problem,
        score_problem,
        *(problem for _, problem in counts.values()),
        pl.when(pl.col("_created_at").is_null())
        .then(pl.lit("created_at is missing"))
        .when(created.is_null())
        .then(
            pl.format(
                "created_at '{}' is not an RFC 3339 time", pl.col("_created_at").str.slice(0, 40)
            )
        ),
        separator="; ",
        ignore_nulls=True,
    )
    return frame.select(
        "snapshot_id",
        "position",
        page.str.slice(0, pl.col("char_start")).str.len_bytes().cast(pl.Int64).alias("byte_start"),
        page.str.slice(0, pl.col("char_end")).str.len_bytes().cast(pl.Int64).alias("byte_end"),
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
        (shown_score / 100).alias("rating"),
        shown_score.cast(pl.Int32, strict=False).alias("score"),
        (shown_score < 100).alias("rating_anomaly"),
        "site",
        "fetched_at",
        document_id.alias("document_id"),
        pl.when(ext.is_not_null())
        .then(ext.str.to_lowercase().replace_strict(FILE_FAMILY_OF_EXT, default="other"))
        .alias("file_family"),
        ext.alias("ext"),
        pl.col("_keywords").alias("keywords"),
        *(value.alias(name) for name, (value, _) in counts.items()),
        pl.col("doc").alias("fragment"),
        problems.replace("", None).alias("parse_error"),
    )


def read_facts(facts: pl.DataFrame, pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Page facts → (footers, rejects): the total and search time; what could not be read."""
    total_ok = pl.col("total").str.contains(_UNSIGNED)
    spend = pl.col("spend").cast(pl.Float64, strict=False)
    footers = facts.select(
        "snapshot_id",
        pl.when(pl.col("total").is_null())
        .then(pl.lit(0, pl.Int64))
        .when(total_ok)
        .then(pl.col("total").cast(pl.Int64, strict=False))
        .alias("total_results"),
        pl.lit(None, pl.Int32).alias("last_page"),
        pl.lit(None, pl.Int64).alias("footer_byte_start"),
        pl.lit(None, pl.Int64).alias("footer_byte_end"),
        pl.lit(None, pl.Int64).alias("site_document_count"),
        pl.when(spend >= 0).then(spend).alias("search_seconds"),
    )
    page = pl.col("text")
    rest = pl.col("rest").fill_null(0)
    broken = facts.join(pages.select("snapshot_id", "text"), on="snapshot_id").filter(
        pl.col("error").is_not_null()
    )
    rejects = pl.concat(
        [
            broken.select(
                "snapshot_id",
                page.str.slice(0, rest).str.len_bytes().cast(pl.Int64).alias("byte_start"),
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
