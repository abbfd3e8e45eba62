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

Anything else stays unknown: the boundary is never invented. Everything is vectorised: each
round binary-searches every open heading in the sorted titles at once (`search_sorted`).

A catalogue is a set: one row per title and document, with whether any sighting showed an
empty description. The catalogue of more listings is the union of the catalogues of their
parts (`union`), so a lake keeps its catalogue and adds only the listings committed since
(`merge`, `pipeline.run.titles`, docs/lake.md "The title catalogue"). Every catalogue is in
one order, sorted by its columns: the same listings give the same rows in the same order,
however they were gathered, and its titles need no sort (`sorted_titles`).
"""

from __future__ import annotations

import polars as pl

# Sources that prove a title exactly (`catalogue` itself does not: it is derived).
EXACT_SOURCES = ("own_line", "repetition", "known_title", "html", "json")
# A title longer than this is not catalogued (no real title is; it bounds the work).
MAX_TITLE_CHARS = 200
# How many binary-search rounds a heading gets to find its longest catalogue title of the
# same document; a heading still open after them stays unknown (never an invented split).
SEARCH_ROUNDS = 8
COLUMNS = {
    "title": pl.String,
    "pages": pl.Int32,
    "size_bytes_min": pl.Int64,
    "size_bytes_max": pl.Int64,
    "description_empty": pl.Boolean,
}
# A catalogue entry: a title and the document it names (one row each); `description_empty`
# is the entry's one fact, true once any sighting showed an empty description.
ENTRY = ["title", "pages", "size_bytes_min", "size_bytes_max"]
# The listings columns `build` reads.
SOURCE_COLUMNS = ("title", "title_source", "description", "pages", "size_bytes_min",
                  "size_bytes_max")  # fmt: skip


def build(listings: pl.LazyFrame) -> pl.DataFrame:
    """The catalogue of a set of listings (the lake's, or a batch's): one row per title and
    document (page count, size interval), sorted by its columns."""
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


def sorted_titles(catalogue: pl.DataFrame) -> pl.Series:
    """The catalogue's distinct titles, sorted: what `resolve` binary-searches. A catalogue
    is sorted by title already (`build`, `merge`): its first row of each title, then."""
    title = catalogue["title"]
    if title.is_empty() or title.null_count() or not title.is_sorted():
        return title.unique().sort()
    return title.filter(title.ne_missing(title.shift(1)))


def resolve(
    listings: pl.DataFrame, catalogue: pl.DataFrame, titles: pl.Series | None = None
) -> pl.DataFrame:
    """`listings` with their unknown boundaries split at catalogue titles where the rules
    allow (`title_source = 'catalogue'`); earlier catalogue splits are redone from the
    heading, so a rebuilt catalogue gives the same result as a fresh run. `titles`, the
    catalogue's `sorted_titles`, saves sorting them again when one catalogue serves many
    calls."""
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
    entries = catalogue.rename(
        {"title": "_title", "pages": "_pages", "size_bytes_min": "_min", "size_bytes_max": "_max"}
    )
    titles = sorted_titles(catalogue) if titles is None else titles
    longest = int(titles.str.len_chars().max() or 0)
    heading = pl.col("heading")
    probe = pl.col("_probe")
    title = pl.col("_title")
    headings = unknown.select("_row", "heading")
    # The search carries only short columns; headings join back for the few hits.
    open_rows = unknown.select(
        "_row", "pages", "size_bytes_min", "size_bytes_max",
        heading.str.slice(0, longest).alias("_probe"),
    )  # fmt: skip
    found_parts = []
    for _ in range(SEARCH_ROUNDS):
        if open_rows.is_empty():
            break
        # The greatest title <= the probe: if it is a prefix of the probe it is the longest
        # title that is; if not, every title that is a prefix of the probe is also one of
        # their common prefix, the next probe.
        at = titles.search_sorted(open_rows["_probe"], side="right").cast(pl.Int64) - 1
        greatest = titles.gather(at.clip(lower_bound=0)).zip_with(at >= 0, pl.Series([None]))
        open_rows = open_rows.with_columns(
            greatest.alias("_title"),
            pl.col("_probe").str.starts_with(greatest).fill_null(False).alias("_is_prefix"),
        )
        hits = open_rows.filter("_is_prefix")
        checked = (
            hits.join(entries, on="_title")
            .filter(
                pl.col("pages").eq_missing(pl.col("_pages"))
                & (pl.col("size_bytes_min") <= pl.col("_max"))
                & (pl.col("_min") <= pl.col("size_bytes_max"))
            )
            .join(headings, on="_row")
            .with_columns(
                heading.str.slice(title.str.len_chars()).str.strip_chars_start().alias("_rest")
            )
            .filter((pl.col("_rest") != "") | pl.col("description_empty"))
            .unique("_row")
            .select("_row", "_title", "_rest")
        )
        found_parts.append(checked)
        rest = open_rows.join(checked.select("_row"), on="_row", how="anti")
        # A prefix title of another document: look for shorter ones; otherwise shorten the
        # probe to its common prefix with the title found.
        shorter = rest.filter("_is_prefix").with_columns(
            probe.str.slice(0, title.str.len_chars() - 1).alias("_probe")
        )
        common = _with_common_prefix(
            rest.filter(~pl.col("_is_prefix")), "_probe", "_title", longest
        )
        common = common.with_columns(probe.str.slice(0, pl.col("_common"))).drop("_common")
        open_rows = pl.concat([shorter, common]).filter(probe != "").drop("_title", "_is_prefix")
    found = pl.concat(found_parts) if found_parts else pl.DataFrame()
    if found.is_empty():
        return redo
    split = redo.with_row_index("_row").join(found, on="_row", how="left", maintain_order="left")
    hit = pl.col("_title").is_not_null()
    return split.with_columns(
        pl.when(hit).then("_title").otherwise("title").alias("title"),
        pl.when(hit).then("_rest").otherwise("description").alias("description"),
        pl.when(hit).then(pl.lit("catalogue")).otherwise("title_source").alias("title_source"),
    ).drop("_row", "_title", "_rest")


def _with_common_prefix(frame: pl.DataFrame, a: str, b: str, most: int) -> pl.DataFrame:
    """`frame` with `_common`: how many leading characters columns `a` and `b` share, by a
    vectorised binary search over the length (prefix equality is monotone in it); each step
    is materialised, so the expressions stay flat."""
    low, high = pl.col("_low"), pl.col("_high")
    frame = frame.with_columns(
        pl.lit(0, pl.Int64).alias("_low"),
        pl.min_horizontal(pl.col(a).str.len_chars(), pl.col(b).fill_null("").str.len_chars())
        .cast(pl.Int64)
        .alias("_high"),
    )
    for _ in range(max(most, 1).bit_length()):
        mid = (low + high + 1) // 2
        same = pl.col(a).str.slice(0, mid) == pl.col(b).fill_null("").str.slice(0, mid)
        frame = frame.with_columns(
            pl.when(same).then(mid).otherwise(low).alias("_low"),
            pl.when(same).then(high).otherwise(mid - 1).alias("_high"),
        )
    return frame.rename({"_low": "_common"}).drop("_high")
