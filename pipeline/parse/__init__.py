"""Parsing, by form: decoded pages → listing candidates, footers, and what is rejected.

`parse` hands each readable snapshot to the parser of its form (`PARSERS`: `text.py`, the
site's HTML in `html.py`, the search API's JSON in `api.py`; docs/input-format.md §1–§3); a
file that could not be read becomes a whole-file reject, so every byte still lands somewhere
(§5). A new form is a module beside them and one entry in `PARSERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from pipeline.parse import api, bound, html, text

# A parser takes pages (snapshot_id, site, time_zone, fetched_at, text) and returns (listings,
# footers, footer rejects) as `text.parse_pages` does.
Parser = Callable[[pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]
PARSERS: dict[str, Parser] = {
    "text": text.parse_pages,
    "html": html.parse_pages,
    "json": api.parse_pages,
}
# Forms read but not parsed yet, with the reason their whole file is rejected.
UNPARSED_FORMS: dict[str, str] = {}
# Facts only some forms carry: a batch whose forms give none of them gets them as nulls.
LISTING_FACTS = {
    "document_id": pl.Int64,
    "file_family": pl.String,
    "ext": pl.String,
    "keywords": pl.String,
    "view_count": pl.Int64,
    "download_count": pl.Int64,
    "favorite_count": pl.Int64,
    "comment_count": pl.Int64,
    # The id as the page prints it in its link or the API's key: a numeric id or a uuid.
    "document_ref": pl.String,
}
PAGE_FACTS = {
    "site_document_count": pl.Int64,
    "search_seconds": pl.Float64,
    # The URL a page names itself by (HTML: a browser's "saved from" mark, the canonical
    # link): the run takes url, site, query and page from it where no sidecar gave them.
    "page_url": pl.String,
    # Which template layout the page was detected as (vocab.LAYOUTS), and its page type
    # (vocab.PAGE_TYPES): one value per page, as its footer row carries them.
    "layout": pl.String,
    "page_type": pl.String,
}
# Every reject row has these columns, whichever stage made it.
REJECT_COLUMNS = (
    "snapshot_id",
    "position",
    "byte_start",
    "byte_end",
    "fragment",
    "stage",
    "reason",
)


@dataclass
class Parsed:
    """One batch parsed: the pages a parser read, listing candidates (still to validate),
    one footer row per parsed page, and the read and parse rejects."""

    pages: pl.DataFrame
    listings: pl.DataFrame
    footers: pl.DataFrame
    rejects: pl.DataFrame


def parse(snapshots_read: pl.DataFrame) -> Parsed:
    """Parse every readable snapshot of a batch (a frame of `vocab.READ_FRAME`)."""
    pages = snapshots_read.filter(
        pl.col("form").is_in(list(PARSERS)) & pl.col("text").is_not_null()
    ).select("snapshot_id", "form", "site", "time_zone", "fetched_at", "url", "text")
    by_form = [
        parser(pages.filter(pl.col("form") == form).drop("form"))
        for form, parser in PARSERS.items()
    ]
    listings, footers, footer_rejects = (
        pl.concat([parsed[i] for parsed in by_form], how="diagonal_relaxed") for i in range(3)
    )
    listings = _with_facts(listings, LISTING_FACTS)
    footers = _with_facts(footers, PAGE_FACTS)
    # Adjacent rejects of one reason are one, and a page past the limit one more (bound.py).
    candidates, bad = bound.bound(listings, pages)
    rejects = pl.concat(
        [
            _read_rejects(snapshots_read),
            bad.select(*REJECT_COLUMNS[:5], stage=pl.lit("parse"), reason="reason"),
            footer_rejects.select(
                "snapshot_id",
                pl.lit(None, pl.Int32).alias("position"),
                "byte_start",
                "byte_end",
                "fragment",
                pl.lit("parse").alias("stage"),
                "reason",
            ),
        ],
        how="vertical_relaxed",
    )
    return Parsed(pages.drop("form"), candidates, footers, rejects)


def _with_facts(frame: pl.DataFrame, facts: dict[str, pl.DataType]) -> pl.DataFrame:
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in facts.items()
               if name not in frame.columns]  # fmt: skip
    return frame.with_columns(missing) if missing else frame


def _read_rejects(snapshots: pl.DataFrame) -> pl.DataFrame:
    """Unreadable files, and forms without a parser yet, as whole-file rejects."""
    unparsed = pl.col("form").replace_strict(UNPARSED_FORMS, default=None)
    return snapshots.filter(pl.col("read_error").is_not_null() | unparsed.is_not_null()).select(
        "snapshot_id",
        pl.lit(None, pl.Int32).alias("position"),
        pl.lit(0, pl.Int64).alias("byte_start"),
        pl.when(pl.col("text").is_null())
        .then(pl.col("byte_count"))
        .otherwise(pl.col("text").str.len_bytes().cast(pl.Int64))
        .alias("byte_end"),
        pl.coalesce("fragment", "text").alias("fragment"),
        pl.lit("read").alias("stage"),
        pl.coalesce("read_error", unparsed).alias("reason"),
    )
