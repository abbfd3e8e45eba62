"""How many parse rejects one page may give (docs/input-format.md §5, "A page's rejects").

Adjacent rejects of one reason are one (`compact`), and past `MAX_REJECTS_PER_PAGE` the rest
of a page's listings is one reject (`REST_REASON`). Why: docs/architecture.md, "How each
form is read".
"""

from __future__ import annotations

import polars as pl

MAX_REJECTS_PER_PAGE = 1000
REST_REASON = (
    f"more than {MAX_REJECTS_PER_PAGE} rejects on the page: the rest of its listings is one "
    "reject, not read"
)
_PAGE = "snapshot_id"
_MERGED = "_merged"  # how many listing rows a compacted row stands for (`compact`)


def _runs(listings: pl.DataFrame) -> pl.DataFrame:
    """Each row with `_run`: rejects of one reason with no listing between share it."""
    error = pl.col("parse_error")
    starts_run = error.is_null() | (error != error.shift(1).over(_PAGE)).fill_null(True)
    return listings.sort(_PAGE, "position", maintain_order=True).with_columns(
        starts_run.cum_sum().over(_PAGE).alias("_run")
    )


def compact(listings: pl.DataFrame) -> pl.DataFrame:
    """Listing rows with each run of adjacent rejects of one reason already one row (the
    first's, with the run's last `byte_end` and, in `_merged`, how many rows it stands
    for), for `bound` to finish: a parser reading a page's items in chunks compacts each
    chunk as it goes, so a flood of junk items is never held row by row (`html.parse_pages`).
    Merging is associative, so runs cut at a chunk's edge are merged again by `bound`."""
    counted = pl.col(_MERGED).fill_null(1).sum() if _MERGED in listings.columns else pl.len()
    runs = _runs(listings)
    return (
        runs.with_columns(
            pl.col("byte_end").max().over(_PAGE, "_run"),
            counted.over(_PAGE, "_run").cast(pl.UInt32).alias(_MERGED),
        )
        .unique([_PAGE, "_run"], keep="first", maintain_order=True)
        .drop("_run")
    )


def _slices(rows: pl.DataFrame, pages: pl.DataFrame) -> list[str]:
    """The page text over each row's byte span (rows of few pages: rare)."""
    texts = dict(pages.select(_PAGE, "text").iter_rows())
    data: dict[str, bytes] = {}
    out = []
    for page, start, end in rows.select(_PAGE, "byte_start", "byte_end").iter_rows():
        whole = data.setdefault(page, texts[page].encode("utf-8"))
        out.append(whole[start:end].decode("utf-8", "replace"))
    return out


def _with_span_fragments(rows: pl.DataFrame, pages: pl.DataFrame, which: pl.Expr) -> pl.DataFrame:
    chosen = rows.with_row_index("_i").filter(which)
    if chosen.is_empty():
        return rows
    fragments = pl.Series("fragment", _slices(chosen, pages), dtype=pl.String)
    return rows.with_columns(rows["fragment"].scatter(chosen["_i"], fragments))


def bound(listings: pl.DataFrame, pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(listing candidates, parse rejects) of listing rows (`parse_error` set on rejects).

    `pages` holds each page's `text`, for the fragments of merged rejects.
    """
    rows = _runs(listings)
    bad = (
        rows.filter(pl.col("parse_error").is_not_null())
        .group_by(_PAGE, "_run", maintain_order=True)
        .agg(
            pl.col("position").first(),
            pl.col("byte_start").min(),
            pl.col("byte_end").max(),
            pl.col("fragment").first(),
            pl.col("parse_error").first().alias("reason"),
            (pl.col(_MERGED).fill_null(1).sum() if _MERGED in listings.columns else pl.len()).alias(
                _MERGED
            ),
        )
        .with_columns(pl.int_range(1, pl.len() + 1).over(_PAGE).alias("_rank"))
    )
    # Where each page's rest begins (its first reject past the limit), and where it ends.
    cut = bad.filter(pl.col("_rank") == MAX_REJECTS_PER_PAGE + 1).select(
        _PAGE, pl.col("byte_start").alias("_cut"), pl.col("position").alias("_cut_position")
    )
    ends = rows.group_by(_PAGE).agg(pl.col("byte_end").max().alias("_end"))
    rest = cut.join(ends, on=_PAGE).select(
        _PAGE,
        pl.col("_cut_position").alias("position"),
        pl.col("_cut").alias("byte_start"),
        pl.col("_end").alias("byte_end"),
        pl.lit(None, pl.String).alias("fragment"),
        pl.lit(REST_REASON).alias("reason"),
        pl.lit(2, pl.UInt32).alias("_merged"),
    )
    before_cut = (pl.col("byte_start") < pl.col("_cut")) | pl.col("_cut").is_null()
    kept = bad.join(cut, on=_PAGE, how="left").filter(before_cut).drop("_cut", "_cut_position")
    rejects = pl.concat([kept.drop("_run", "_rank"), rest], how="vertical_relaxed")
    rejects = _with_span_fragments(rejects, pages, pl.col("_merged") > 1).drop("_merged")
    candidates = (
        rows.filter(pl.col("parse_error").is_null())
        .join(cut, on=_PAGE, how="left")
        .filter(before_cut)
        .drop("_cut", "_cut_position", "_run", *{_MERGED} & set(rows.columns))
    )
    return candidates, rejects
