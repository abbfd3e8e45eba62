"""The title catalogue: every exact title the lake has seen, with what identifies its
document on a page (site, page count, size interval), and `resolve`, which splits a
text-form heading at the longest title of the same document it starts with
(docs/input-format.md §1.1, "Titles from the catalogue"; the same-document rule is §3.2,
"The same document", which the warehouse's int_listings__document_keys follows too).
A catalogue is a set in one order (`build`, `union`, `merge`); `pipeline.run.titles`
keeps the lake's and applies it (docs/lake.md, "The title catalogue").
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# Sources that prove a title exactly (`catalogue` itself does not: it is derived).
EXACT_SOURCES = ("own_line", "repetition", "known_title", "html", "json")
# A title longer than this is not catalogued (no real title is; it bounds the work).
MAX_TITLE_CHARS = 200
COLUMNS = {
    "title": pl.String,
    "site": pl.String,
    "pages": pl.Int32,
    "size_bytes_min": pl.Int64,
    "size_bytes_max": pl.Int64,
    "description_empty": pl.Boolean,
}
# A catalogue entry: a title and the document it names (one row each); `description_empty`
# is the entry's one fact, true once any sighting showed an empty description.
ENTRY = ["title", "site", "pages", "size_bytes_min", "size_bytes_max"]
# The listings columns `build` reads.
SOURCE_COLUMNS = ("title", "title_source", "description", "site", "pages", "size_bytes_min",
                  "size_bytes_max")  # fmt: skip


def build(listings: pl.LazyFrame) -> pl.DataFrame:
    """The catalogue of a set of listings (the lake's, or a batch's): one row per title and
    document (site, page count, size interval), sorted by its columns."""
    title = pl.col("title")
    return _entries(
        listings.filter(
            pl.col("title_source").is_in(EXACT_SOURCES)
            & (title.str.len_chars().is_between(1, MAX_TITLE_CHARS))
        ).with_columns((pl.col("description").fill_null("") == "").alias("description_empty"))
    )


def union(catalogues: list[pl.DataFrame]) -> pl.DataFrame:
    """The catalogue of the listings the `catalogues` were built from together: `build`
    over all of them, row for row, from their catalogues alone."""
    if not catalogues:
        return pl.DataFrame(schema=COLUMNS)
    rows = [c.select(list(COLUMNS)).cast(COLUMNS) for c in catalogues]  # type: ignore[arg-type]
    return _entries(pl.concat(rows).lazy())


def merge(catalogue: pl.DataFrame, more: pl.DataFrame) -> pl.DataFrame:
    """`union([catalogue, more])` at the cost of `more`: a large catalogue (in `build`'s
    order) and the catalogue of a few more listings.

    Only the entries sharing a title with `more` are grouped again (found by binary search:
    the catalogue is sorted by title); the rest keep their rows and order, and the two runs,
    which share no title, are merged by title into one, as a sort of them all would order
    them.
    """
    if more.is_empty():
        return catalogue
    if catalogue.is_empty():
        return union([more])
    titles = catalogue["title"]
    wanted = more["title"].unique()
    low = titles.search_sorted(wanted, side="left").alias("low")
    high = titles.search_sorted(wanted, side="right").alias("high")
    spans = pl.DataFrame([low, high])
    rows = spans.select(pl.int_ranges("low", "high").explode().drop_nulls())["low"]
    touched = pl.zeros(catalogue.height, pl.Boolean, eager=True)
    if not rows.is_empty():
        touched = touched.scatter(rows, True)
    regrouped = union([catalogue.filter(touched), more])
    return catalogue.filter(~touched).merge_sorted(regrouped, key="title")


def _entries(rows: pl.LazyFrame) -> pl.DataFrame:
    """Rows with an entry's columns grouped into entries, in the catalogue's one order."""
    return (
        rows.group_by(ENTRY)
        .agg(pl.col("description_empty").any())
        .select(list(COLUMNS))
        .cast(COLUMNS)  # type: ignore[arg-type]
        .collect()
        .sort(list(COLUMNS))
    )


@dataclass(frozen=True)
class Lookup:
    """A catalogue ready for `resolve`: its rows, and each entry's document by scale bucket
    (`_bucket`): `firsts` has one row per entry (`_entry`: its row number, `_site`, `_pages`,
    and `_first`, the bucket of its lower bound), `buckets` one row per bucket its size
    interval touches. Built once, it serves any number of resolutions; it holds numbers and
    site names only, so a catalogue's titles are never copied per bucket or per candidate."""

    catalogue: pl.DataFrame
    firsts: pl.DataFrame
    buckets: pl.DataFrame


def lookup(catalogue: pl.DataFrame) -> Lookup:
    """`catalogue` ready for `resolve`."""
    numbered = catalogue.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_entry"),
        _site_key(pl.col("site")),
        pl.col("pages").alias("_pages"),
        "size_bytes_min",
        "size_bytes_max",
    )
    buckets = _by_bucket(numbered, "size_bytes_min", "size_bytes_max")
    return Lookup(
        catalogue,
        firsts=buckets.filter(pl.col("_bucket") == pl.col("_first")).select(
            "_entry", "_site", "_pages", "_first"
        ),
        buckets=buckets.select("_entry", "_site", "_pages", "_bucket", "_first"),
    )


def resolve(listings: pl.DataFrame, catalogue: pl.DataFrame | Lookup) -> pl.DataFrame:
    """`listings` with their unknown boundaries split at catalogue titles where the rules
    allow (`title_source = 'catalogue'`); earlier catalogue splits are redone from the
    heading, so a rebuilt catalogue gives the same result as a fresh run. `listings` holds
    heading, title, description, title_source and what the same-document rule reads (site,
    pages, size_bytes_min, size_bytes_max). A caller resolving many frames with one catalogue
    passes its `lookup`."""
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
    entries = catalogue.catalogue if isinstance(catalogue, Lookup) else catalogue
    if unknown.is_empty() or entries.is_empty():
        return redo
    found = _split_points(unknown, catalogue if isinstance(catalogue, Lookup) else lookup(entries))
    if found.is_empty():
        return redo
    split = redo.with_row_index("_row").join(found, on="_row", how="left", maintain_order="left")
    hit = pl.col("_title").is_not_null()
    return split.with_columns(
        pl.when(hit).then("_title").otherwise("title").alias("title"),
        pl.when(hit).then("_rest").otherwise("description").alias("description"),
        pl.when(hit).then(pl.lit("catalogue")).otherwise("title_source").alias("title_source"),
    ).drop("_row", "_title", "_rest")


def _site_key(site: pl.Expr) -> pl.Expr:
    """The site as the same-document rule compares it: an unknown site is one site, as the
    warehouse's `coalesce(site, '')` makes it."""
    return site.fill_null("").alias("_site")


# Sizes meet by scale first: a size falls in bucket floor(log2(size + 1) × this), a bucket
# 0.27 % wide, so a size printed to two decimals (an interval under 1 % wide, §1.3) spans a
# few buckets and an exact size one. Buckets much wider than the intervals pair each listing
# with every entry of its page count and about its size, most of which its interval misses
# (figures in benchmarks/RESULTS.md, "The title catalogue at 10 M").
BUCKETS_PER_DOUBLING = 256


def _bucket(size: pl.Expr) -> pl.Expr:
    """The scale bucket of a size in bytes: monotone in the size."""
    scaled = (size.clip(lower_bound=0).cast(pl.Float64) + 1).log(2) * BUCKETS_PER_DOUBLING
    return scaled.floor().cast(pl.Int32)


def _by_bucket(frame: pl.DataFrame, low: str, high: str) -> pl.DataFrame:
    """`frame` with one row per scale bucket its size interval [low, high] touches (`_bucket`)
    and the first of them (`_first`); rows without an interval have none."""
    first = _bucket(pl.col(low))
    touched = pl.int_ranges(first, _bucket(pl.col(high)) + 1)
    return (
        frame.with_columns(first.alias("_first"), touched.alias("_bucket"))
        .explode("_bucket")
        .drop_nulls("_bucket")
    )


def _split_points(unknown: pl.DataFrame, table: Lookup) -> pl.DataFrame:
    """For each unknown listing (`_row`) that has one, the longest catalogue title it splits
    at (`_title`) and the description that leaves (`_rest`).

    The candidates are found by document first (docs/input-format.md §3.2, "The same
    document"), with equi-joins: the same site, the same page count and a shared scale
    bucket of the two size intervals. Two intervals that meet share
    the bucket of the larger lower bound, so each pair is found once, at that bucket: the
    entry's first bucket among the listing's, or the listing's first among the entry's.
    Each is checked exactly; only then are the pair's title and heading looked up (by row
    number), and the heading must start with the title and leave a description, unless the
    entry's description is known to be empty.
    """
    sizes = ["size_bytes_min", "size_bytes_max"]
    numbered = unknown.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_listing"),
        _site_key(pl.col("site")),
        "pages",
        *sizes,
    )
    documents = _by_bucket(numbered, *sizes)
    pairs = pl.concat(
        [
            # The entry's lower bound is the larger: its first bucket, one of the listing's.
            documents.join(
                table.firsts,
                left_on=["_site", "pages", "_bucket"],
                right_on=["_site", "_pages", "_first"],
                nulls_equal=True,  # an unknown page count is one value, as in `eq_missing`
            ).filter(pl.col("_first") <= pl.col("_bucket")),
            # The listing's lower bound is the larger: its first bucket, one of the entry's.
            documents.filter(pl.col("_bucket") == pl.col("_first"))
            .join(
                table.buckets,
                left_on=["_site", "pages", "_bucket"],
                right_on=["_site", "_pages", "_bucket"],
                nulls_equal=True,
            )
            .filter(pl.col("_first_right") < pl.col("_first")),
        ],
        how="diagonal",
    ).select("_listing", "_entry", *sizes)
    entries = table.catalogue
    entry = pairs["_entry"]
    pairs = pairs.filter(
        (pl.col("size_bytes_min") <= entries["size_bytes_max"].gather(entry))
        & (entries["size_bytes_min"].gather(entry) <= pl.col("size_bytes_max"))
    )
    entry, listing = pairs["_entry"], pairs["_listing"]
    title = pl.col("_title")
    heading = pl.col("heading")
    return (
        pl.DataFrame(
            [
                unknown["_row"].gather(listing),
                unknown["heading"].gather(listing),
                entries["title"].gather(entry).alias("_title"),
                entries["description_empty"].gather(entry),
            ]
        )
        .filter(heading.str.starts_with(title))
        .with_columns(
            heading.str.slice(title.str.len_chars()).str.strip_chars_start().alias("_rest")
        )
        .filter((pl.col("_rest") != "") | pl.col("description_empty"))
        .sort(title.str.len_chars(), descending=True)
        .unique("_row", keep="first")  # the longest: two titles of one length are one string
        .select("_row", "_title", "_rest")
    )
