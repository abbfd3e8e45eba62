"""Titles the lake has seen: where the text form hides a title/description boundary, a
title known exactly from another sighting of the same document shows it
(docs/input-format.md §1.1, "Titles from the catalogue").

The catalogue holds every exact title — a title on its own line, a repeated one, the HTML
and API JSON forms' — with what identifies its document on a page: its page count and
its size interval. A text-form listing whose boundary is unknown is split at a catalogue
title when

- its heading starts with the title (the longest such title wins),
- the catalogue entry is the same document as far as the text shows (same page count,
  intersecting size intervals): a title alone is no evidence, since `Kube` would split
  `Kubernetes 权威指南…` inside a word, and
- something is left for the description, unless that document's description is known to
  be empty.

Anything else stays unknown: the boundary is never invented. Everything is vectorised: one
Aho-Corasick pass over the headings' openings finds every catalogue title they start with.
"""

from __future__ import annotations

import polars as pl

# Sources that prove a title exactly (`catalogue` itself does not: it is derived).
EXACT_SOURCES = ("own_line", "repetition", "known_title", "html", "json")
# A title longer than this is not looked for (it bounds the text each heading is searched in).
MAX_TITLE_CHARS = 200
COLUMNS = {
    "title": pl.String,
    "pages": pl.Int32,
    "size_bytes_min": pl.Int64,
    "size_bytes_max": pl.Int64,
    "description_empty": pl.Boolean,
}


def build(listings: pl.LazyFrame) -> pl.DataFrame:
    """The catalogue of a set of listings (the lake's, or a batch's): one row per title and
    document (page count, size interval)."""
    title = pl.col("title")
    return (
        listings.filter(
            pl.col("title_source").is_in(EXACT_SOURCES)
            & (title.str.len_chars().is_between(1, MAX_TITLE_CHARS))
        )
        .group_by("title", "pages", "size_bytes_min", "size_bytes_max")
        .agg((pl.col("description").fill_null("") == "").any().alias("description_empty"))
        .select(list(COLUMNS))
        .cast(COLUMNS)  # type: ignore[arg-type]
        .collect()
        .sort(list(COLUMNS))
    )


def resolve(listings: pl.DataFrame, catalogue: pl.DataFrame) -> pl.DataFrame:
    """`listings` with their unknown boundaries split at catalogue titles where the rules
    allow (`title_source = 'catalogue'`); earlier catalogue splits are redone from the
    heading, so a rebuilt catalogue gives the same result as a fresh run."""
    source = pl.col("title_source")
    redo = listings.with_columns(
        pl.when(source == "catalogue").then(None).otherwise("title").alias("title"),
        pl.when(source == "catalogue").then(None).otherwise("description").alias("description"),
        pl.when(source == "catalogue")
        .then(pl.lit("unknown"))
        .otherwise(source)
        .alias("title_source"),
    )
    unknown = redo.with_row_index("_row").filter(pl.col("title_source") == "unknown")
    if unknown.is_empty() or catalogue.is_empty():
        return redo
    titles = catalogue["title"].unique().to_list()
    opening = pl.col("heading").str.slice(0, MAX_TITLE_CHARS)
    found = (
        unknown.select(
            "_row",
            "heading",
            "pages",
            "size_bytes_min",
            "size_bytes_max",
            opening.str.extract_many(titles, overlapping=True).alias("_title"),
            opening.str.find_many(titles, overlapping=True).alias("_at"),
        )
        .explode("_title", "_at")
        .filter(pl.col("_at") == 0)
        .join(
            catalogue.rename(
                {
                    "title": "_title",
                    "pages": "_pages",
                    "size_bytes_min": "_min",
                    "size_bytes_max": "_max",
                }
            ),
            on="_title",
        )
        .with_columns(
            pl.col("heading")
            .str.slice(pl.col("_title").str.len_chars())
            .str.strip_chars_start()
            .alias("_rest")
        )
        .filter(
            pl.col("pages").eq_missing(pl.col("_pages"))
            & (pl.col("size_bytes_min") <= pl.col("_max"))
            & (pl.col("_min") <= pl.col("size_bytes_max"))
            & ((pl.col("_rest") != "") | pl.col("description_empty"))
        )
        .sort(pl.col("_title").str.len_chars(), descending=True)
        .unique("_row", keep="first")
        .select("_row", "_title", "_rest")
    )
    if found.is_empty():
        return redo
    split = redo.with_row_index("_row").join(found, on="_row", how="left")
    hit = pl.col("_title").is_not_null()
    return split.with_columns(
        pl.when(hit).then("_title").otherwise("title").alias("title"),
        pl.when(hit).then("_rest").otherwise("description").alias("description"),
        pl.when(hit).then(pl.lit("catalogue")).otherwise("title_source").alias("title_source"),
    ).drop("_row", "_title", "_rest")
