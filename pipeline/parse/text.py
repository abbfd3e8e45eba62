"""The flattened-text form of a results page → listing rows, footer facts and rejects.

Everything here is vectorised over a whole batch of snapshots: one regex pass cuts every
page into consecutive *chunks* (the text before a listing tail plus the tail), so the
pieces of a page are contiguous by construction and their byte spans add up to the page.
Whatever is left after the last tail is the footer, or a rejected fragment.

The tail is found by a *loose* pattern (any word as credit, any unit, any age text), so a
listing whose size unit is unknown still ends where it ends instead of swallowing the next
listing; the strict rules in `fields.py` then decide whether its fields are valid.
"""

from __future__ import annotations

import polars as pl

from pipeline.config import DEFAULT_SITE_TIME_ZONE
from pipeline.parse import fields

# One listing tail: PRICE CREDIT | PAGES 页 | SIZE [| AGE]RATING, then one separator
# (a line break, or a space in text flattened further, or the end of the page). SIZE is
# any token ending in a unit word, or any token and a unit word: a malformed size (`NaN GB`,
# `-1 KB`, `1e309 MB`, `12.83MB`) must still end its own listing, for the strict rules to
# reject, rather than let the listing run on into the next one's tail and merge the two.
# A token without a unit word (`| 5 | 9 月前3`) ends a listing too, but only when an age
# block follows it (docs/input-format.md §1.7): then the ` | AGE` and the glued rating
# show where the size ended. Without one, a number (`| 619.3` where a page was cut) is no
# tail: that stays the truncation it is.
# The readings with an age block come first, so a token with an age after it is read
# whole (`MB5 | 9 月前3`: size `MB5`, not size `MB`, rating 5 and ` | 9 月前3` left to
# open the next listing). After a bare token the age must end as the site's ages do (`前`,
# `刚刚`, a DocHub minute): in text flattened further, `12.83MB3 | 云原生0 码力 | …` is a
# size `12.83MB`, rating 3, and a listing whose title starts with `|`, not an age `云原生`.
# Each reading has its own group names (a pattern may not repeat one); `tail_parts` merges
# them.
_DOCHUB_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}"
_AGE = _DOCHUB_TIME + r"|[^|\n]*?[^|\n0-9. ]"
_SITE_AGE = _DOCHUB_TIME + r"|[^|\n]*?前|刚刚"
_UNIT_SIZE = r"[^\s|]+ [A-Za-z]+|[^\s|]*[A-Za-z]+"
_TAIL = (
    r"(?<price>[0-9]+) (?<credit>[^\s|0-9][^\s|]*) \| (?<pages>[^|\n]*?) 页 \| "
    r"(?:(?<size>" + _UNIT_SIZE + r") \| (?<age>" + _AGE + r")"
    r"|(?<bare_size>[^\s|]+) \| (?<bare_age>" + _SITE_AGE + r")"
    r"|(?<unaged_size>" + _UNIT_SIZE + r"))"
    r"(?<rating>[0-9]+(?:\.[0-9]+)?)"
)
_SEPARATOR = r"(?:\r?\n|[ \t]|$)"
# Lazy prefix: each match starts where the previous one ended, at the earliest tail.
CHUNK_RE = r"[\s\S]*?" + _TAIL + _SEPARATOR
# The same cut without the prefix: successive matches start at the same earliest tails
# and end at the same places, and the regex engine can skip ahead to them, which the lazy
# prefix prevents: much faster.
TAIL_SEP_RE = _TAIL + _SEPARATOR
TAIL_AT_END_RE = _TAIL + _SEPARATOR + r"$"
TAIL_RE = r"^" + _TAIL + r"$"
# Pager numbers start at 1: a `- 0` item is not the site's footer and stays a fragment.
FOOTER_RE = (
    r"^(?<before>[\s\S]*?)(?<footer>共 (?<total>[0-9]{1,12}) 条(?:\s*- [1-9][0-9]{0,8})*)\s*$"
)

# A repeated title must be at least this long: shorter "repetitions" (`11`, `哈哈`) are
# ordinary text, and reading them as titles would invent a boundary.
MIN_REPEATED_TITLE_CHARS = 4
# Whitespace at the end of a candidate title, as Python's str.isspace() (and so the site's
# trim and the renderer) sees it: Unicode White_Space plus the ASCII separators \x1c-\x1f.
_ENDS_IN_SPACE = r"[\s\x1c-\x1f]$"
# How many re-occurrences of a line's opening characters are tried as the repeat point,
# and how long a repeated title may be: both bound the work per heading.
REPETITION_CANDIDATES = 8
MAX_REPEATED_TITLE_CHARS = 200
# Price readings longer than this cannot be an Int64; such a run is kept as text only.
MAX_PRICE_DIGITS = 18

# Marks where tails were cut out of a page. A page that already holds it (no real page
# does) is cut by the slower CHUNK_RE instead.
_CUT = "\x00"


def _bytes(expr: pl.Expr) -> pl.Expr:
    return expr.str.len_bytes().cast(pl.Int64)


def split_chunks(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cut each page into one row per listing chunk, plus the text after the last tail.

    `pages` has snapshot_id and text. Returns (chunks, remainders): chunks carry position
    (1-based on the page), the raw chunk, its byte offset, and the chunk split into
    heading_raw + tail (+ the separator); remainders carry the unparsed rest of each page
    and its byte offset.

    The tails are found once: extract_all gives them, and the same matches replaced by a
    marker give the text between them (headings, then the rest of the page).
    """
    text = pl.col("text")
    tail_sep = pl.col("tail_sep")
    piece = pl.col("_piece")
    cuttable = pl.col("_cuttable")
    cut = pages.select(
        "snapshot_id",
        text,
        tail_sep=text.str.extract_all(TAIL_SEP_RE),
        _cuttable=~text.str.contains(_CUT, literal=True),
    ).with_columns(
        _between=pl.when(cuttable).then(text).str.replace_all(TAIL_SEP_RE, _CUT).str.split(_CUT),
        _chunks=pl.when(~cuttable).then(text).str.extract_all(CHUNK_RE),
    )
    rest = (
        pl.when(cuttable)
        .then(pl.col("_between").list.last())
        .otherwise(text.str.strip_prefix(pl.col("_chunks").list.join("")))
    )
    remainders = cut.select("snapshot_id", rest.alias("rest")).with_columns(
        (cut["text"].str.len_bytes().cast(pl.Int64) - _bytes(pl.col("rest"))).alias("rest_offset")
    )
    chunks = (
        cut.select(
            "snapshot_id",
            tail_sep,
            # Per tail, the heading before it (or, on the slow path, the whole chunk).
            pl.coalesce(pl.col("_between").list.head(tail_sep.list.len()), "_chunks").alias(
                "_piece"
            ),
            pl.int_ranges(1, tail_sep.list.len() + 1, dtype=pl.Int32).alias("position"),
            cuttable,
        )
        .explode("tail_sep", "_piece", "position")
        .drop_nulls("tail_sep")
        .select(
            "snapshot_id",
            pl.when(cuttable).then(piece + tail_sep).otherwise(piece).alias("chunk"),
            "position",
            pl.when(cuttable)
            .then(piece)
            .otherwise(piece.str.strip_suffix(tail_sep))
            .alias("heading_raw"),
            tail_sep,
        )
        .with_columns(_bytes(pl.col("chunk")).alias("chunk_bytes"))
        .select(
            "snapshot_id",
            "chunk",
            "position",
            "chunk_bytes",
            (pl.col("chunk_bytes").cum_sum().over("snapshot_id") - pl.col("chunk_bytes")).alias(
                "chunk_offset"
            ),
            "heading_raw",
            tail_sep.str.strip_chars_end().alias("tail"),
        )
    )
    return chunks, remainders


def _fragment(text: pl.Expr, offset: pl.Expr) -> list[pl.Expr]:
    """The text stripped of surrounding blanks, with its [start, end) byte span."""
    stripped = text.str.strip_chars()
    start = offset + _bytes(text) - _bytes(text.str.strip_chars_start())
    return [
        stripped.alias("fragment"),
        start.alias("byte_start"),
        (start + _bytes(stripped)).alias("byte_end"),
    ]


def parse_chunks(chunks: pl.DataFrame) -> pl.DataFrame:
    """Split each chunk into heading and tail, then read the tail's fields by the strict rules.

    Chunks from `split_chunks` arrive already split; bare chunks are split here.
    """
    if not {"heading_raw", "tail"} <= set(chunks.columns):
        tail_sep = pl.col("chunk").str.extract(TAIL_AT_END_RE, 0)
        chunks = chunks.with_columns(
            pl.col("chunk").str.strip_suffix(tail_sep).alias("heading_raw"),
            tail_sep.str.strip_chars_end().alias("tail"),
        )
    heading_with_price = pl.col("heading_with_price")
    byte_start = pl.col("byte_start")
    return (
        chunks.with_columns(
            pl.col("heading_raw").str.strip_chars_start().alias("heading_with_price"),
            tail_parts(pl.col("tail")),
        )
        .with_columns(
            (
                pl.col("chunk_offset") + _bytes(pl.col("heading_raw")) - _bytes(heading_with_price)
            ).alias("byte_start")
        )
        .select(
            *chunks.columns,
            heading_with_price,
            byte_start,
            (byte_start + _bytes(heading_with_price) + _bytes(pl.col("tail"))).alias("byte_end"),
            "_t",
        )
        .unnest("_t")
    )


# A tail's parts by the strict pattern, named as the listing columns that hold their text.
TAIL_PARTS = ("price_text", "credit", "pages_text", "size_text", "age_text", "rating_text")


def tail_parts(tail: pl.Expr) -> pl.Expr:
    """A struct `_t` of the tail's texts (all null when it is not a tail), for `unnest`.

    Every form with a tail reads it here: the HTML form joins its info line and star text
    into the same `PRICE CREDIT | PAGES 页 | SIZE [| AGE]RATING` shape. Each reading of
    SIZE and AGE (with an age block, bare before one, without one) has groups of its own,
    merged here.
    """
    part = tail.str.extract_groups(TAIL_RE).struct.field
    texts = (
        part("price"),
        part("credit"),
        part("pages"),
        pl.coalesce(part("size"), part("bare_size"), part("unaged_size")),
        pl.coalesce(part("age"), part("bare_age")),
        part("rating"),
    )
    return pl.struct(text.alias(name) for name, text in zip(TAIL_PARTS, texts, strict=True)).alias(
        "_t"
    )


def resolve_prices(listings: pl.DataFrame) -> pl.DataFrame:
    """Choose a price for every digit run glued between DESCRIPTION and CREDIT.

    Only a one-digit run is certain. A longer run may end the description: its readings
    are its suffixes without a leading zero (`200` → 200 or 0), and the reading most common
    among the same site's certain prices wins (ties: the longer reading, which invents less).
    With no evidence the longest reading is kept: the whole run, less any leading zeros.
    The digits not taken go back to the heading.
    """
    site_key = pl.col("site").fill_null("")
    evidence = (
        listings.filter(pl.col("price_text").str.len_chars() == 1)
        .group_by(site_key.alias("site_key"), pl.col("price_text").alias("reading"))
        .agg(pl.len().alias("evidence"))
    )
    runs = listings.select(
        "snapshot_id", "position", site_key.alias("site_key"), "price_text"
    ).with_columns(pl.col("price_text").str.len_chars().cast(pl.Int64).alias("run_len"))
    readings = (
        runs.filter(pl.col("run_len") > 1)
        .with_columns(pl.int_ranges(1, pl.col("run_len") + 1).alias("reading_len"))
        .explode("reading_len")
        .with_columns(
            pl.col("price_text")
            .str.slice(pl.col("run_len") - pl.col("reading_len"))
            .alias("reading")
        )
        .filter((pl.col("reading_len") == 1) | ~pl.col("reading").str.starts_with("0"))
        .join(evidence, on=["site_key", "reading"], how="inner")
        .sort(["evidence", "reading_len"], descending=True)
        .unique(["snapshot_id", "position"], keep="first")
        .select("snapshot_id", "position", pl.col("reading_len").alias("chosen_len"))
    )
    run_len = pl.col("price_text").str.len_chars()
    # No evidence: the whole run, less any leading zeros (the site never prints `01`).
    longest_reading = pl.max_horizontal(
        pl.col("price_text").str.strip_chars_start("0").str.len_chars(), pl.lit(1)
    )
    chosen_len = pl.col("chosen_len").fill_null(longest_reading)
    chosen = pl.col("price_text").str.slice(run_len - chosen_len)
    return (
        listings.join(readings, on=["snapshot_id", "position"], how="left")
        .with_columns(
            pl.when(chosen.str.len_chars() <= MAX_PRICE_DIGITS)
            .then(chosen.cast(pl.Int64, strict=False))
            .alias("price"),
            (run_len > 1).alias("price_ambiguous"),
            (
                pl.col("heading_with_price")
                + pl.col("price_text").str.slice(0, run_len - chosen_len)
            ).alias("heading"),
        )
        .drop("chosen_len")
    )


def _repetitions(headings: pl.DataFrame) -> pl.DataFrame:
    """Title and description of each one-line heading that opens with X immediately repeated.

    `headings` has row and heading (one line, at least MIN_REPEATED_TITLE_CHARS long).
    Each round finds the next recurrence of the opening characters in `_rest` (the text
    after the opening) from `_from` (a byte offset into it) and tests whether the text
    before it is immediately repeated. Most headings have no recurrence at all, so the
    first round searches every heading and each later round only the rows still open.
    """
    heading = pl.col("heading")
    text = pl.col("_text")
    opening = pl.col("_opening")
    rest = pl.col("_rest")
    at = pl.col("_at")
    # Only the head of the text can hold X + X; searching it alone keeps the cost flat. A
    # recurrence past the middle cannot start the second X, nor can any after it (they come
    # in order), so the search also stops there.
    searched = pl.min_horizontal(
        pl.lit(2 * MAX_REPEATED_TITLE_CHARS - MIN_REPEATED_TITLE_CHARS),
        heading.str.len_chars() // 2,
    )
    frame = headings.select(
        "row",
        heading,
        heading.str.slice(0, MIN_REPEATED_TITLE_CHARS).alias("_opening"),
        heading.str.slice(MIN_REPEATED_TITLE_CHARS, searched).alias("_rest"),
    )
    found = []
    for round_ in range(REPETITION_CANDIDATES):
        if round_ == 0:
            recurs = rest.str.find(opening, literal=True).cast(pl.Int64)
        else:
            recurs = pl.col("_from") + rest.bin.slice(pl.col("_from")).cast(pl.String).str.find(
                opening, literal=True
            ).cast(pl.Int64)
        frame = frame.with_columns(recurs.alias("_recurs")).filter(pl.col("_recurs").is_not_null())
        if round_ == 0:
            frame = frame.with_columns(
                heading.cast(pl.Binary).alias("_text"),
                rest.cast(pl.Binary),
                _bytes(opening).alias("_opening_bytes"),
                # Stepping past a recurrence by one whole character keeps valid UTF-8.
                _bytes(opening.str.slice(0, 1)).alias("_step"),
            )
        frame = frame.with_columns(
            (pl.col("_opening_bytes") + pl.col("_recurs")).alias("_at")
        ).with_columns(
            (
                (text.bin.slice(at, at) == text.bin.slice(0, at))
                # The site trims titles: an X ending in whitespace is a repeated word
                # (`Cache Cache …`), not a title, and the search goes on past it.
                & ~text.bin.slice(0, at).cast(pl.String).str.contains(_ENDS_IN_SPACE)
            ).alias("_hit")
        )
        found.append(frame.filter("_hit").select("row", "_text", "_at"))
        frame = frame.filter(~pl.col("_hit")).with_columns(
            (pl.col("_recurs") + pl.col("_step")).alias("_from")
        )
        if frame.height == 0:
            break
    return pl.concat(found, how="diagonal_relaxed").select(
        "row",
        text.bin.slice(0, at).cast(pl.String).alias("title"),
        text.bin.slice(at).cast(pl.String).alias("description"),
    )


def split_titles(listings: pl.DataFrame) -> pl.DataFrame:
    """Find the title/description boundary where the text proves it, and only there.

    A title alone on its first line is certain. Otherwise a line opening with some text X
    immediately repeated (slides repeat their title) gives X, trying the first few places
    where the line's opening characters recur. Anything else stays unknown: the whole text
    is kept in `heading` and no boundary is invented.
    """
    heading = pl.col("heading")
    own_line = pl.col("_own_line")
    flagged = listings.with_columns(heading.str.contains("\n", literal=True).alias("_own_line"))
    one_line = (
        flagged.select(heading, own_line)
        .with_row_index("row")
        .filter(~own_line & (heading.str.len_chars() >= MIN_REPEATED_TITLE_CHARS))
    )
    repeated = _repetitions(one_line)
    # Scattered back by row number: the few repeated titles, nulls elsewhere.
    by_row = {
        name: pl.repeat(None, listings.height, dtype=pl.String, eager=True)
        .scatter(repeated["row"], repeated[name])
        .alias(f"_repeated_{name}")
        for name in ("title", "description")
    }
    # Split only the headings with a line break; the rest stay null here.
    lines = pl.when(own_line).then(heading).str.splitn("\n", 2)
    return (
        flagged.with_columns(*by_row.values())
        .with_columns(
            pl.when(own_line)
            .then(pl.lit("own_line"))
            .when(pl.col("_repeated_title").is_not_null())
            .then(pl.lit("repetition"))
            .otherwise(pl.lit("unknown"))
            .alias("title_source"),
            pl.coalesce(
                lines.struct.field("field_0").str.strip_chars_end("\r"), "_repeated_title"
            ).alias("title"),
            pl.coalesce(lines.struct.field("field_1"), "_repeated_description").alias(
                "description"
            ),
        )
        .drop("_own_line", "_repeated_title", "_repeated_description")
    )


def derive_fields(listings: pl.DataFrame) -> pl.DataFrame:
    """Apply the strict field rules; collect every reason a listing is not valid.

    The rules' shared intermediates (each regex extract, the age bounds) are staged as
    temporary columns, computed once instead of once per output that reads them.
    """
    staged = fields.Staged()
    # Each page's site prints absolute times in its own zone (a column the reader adds);
    # pages without one use the default.
    given = "time_zone" in listings.columns
    named = listings["time_zone"].drop_nulls().unique().to_list() if given else []
    zones = {DEFAULT_SITE_TIME_ZONE, *named}
    time_zone = (pl.col("time_zone") if given else pl.lit(None, pl.String)).fill_null(
        DEFAULT_SITE_TIME_ZONE
    )
    outputs = [
        *fields.size_fields(pl.col("size_text"), staged),
        *fields.age_fields(
            pl.col("age_text"),
            pl.col("fetched_at"),
            staged,
            time_zone=time_zone,
            zones=sorted(zones),
        ),
        *fields.rating_fields(pl.col("rating_text"), staged),
        *fields.pages_fields(pl.col("pages_text"), staged),
    ]
    return (
        staged.apply(listings.lazy(), outputs)
        .with_columns(
            pl.concat_str(
                "size_error",
                "age_error",
                "rating_error",
                "pages_error",
                separator="; ",
                ignore_nulls=True,
            )
            .replace("", None)
            .alias("parse_error")
        )
        .collect()
    )


def parse_footer(remainders: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read `共 N 条` and the pager after the last listing; anything else there is rejected.

    Returns (footers, rejects): one footer row per snapshot (nulls when there is none) and
    the non-blank text that is neither a listing nor the footer, with why.
    """
    parts = remainders.with_columns(pl.col("rest").str.extract_groups(FOOTER_RE).alias("f")).unnest(
        "f"
    )
    has_footer = pl.col("footer").is_not_null()
    before = pl.when(has_footer).then(pl.col("before")).otherwise(pl.col("rest"))
    pager = (
        pl.col("footer")
        .str.extract_all(r"- [0-9]+")
        .list.eval(pl.element().str.slice(2).cast(pl.Int64))
    )
    footer_offset = pl.col("rest_offset") + _bytes(pl.col("before"))
    footers = parts.select(
        "snapshot_id",
        pl.col("total").cast(pl.Int64).alias("total_results"),
        pager.list.max().cast(pl.Int32).alias("last_page"),
        pl.when(has_footer).then(footer_offset).alias("footer_byte_start"),
        pl.when(has_footer).then(footer_offset + _bytes(pl.col("footer"))).alias("footer_byte_end"),
    )
    rejects = parts.select(
        "snapshot_id",
        *_fragment(before, pl.col("rest_offset")),
        pl.when(has_footer)
        .then(pl.lit("text before the footer has no listing tail (truncated listing?)"))
        .otherwise(
            pl.lit("text after the last listing has no tail and no footer (page truncated?)")
        )
        .alias("reason"),
    ).filter(pl.col("fragment") != "")
    return footers, rejects


def parse_pages(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse a batch of decoded text snapshots.

    `pages` has snapshot_id, site, fetched_at and text. Returns (listings, footers,
    rejects): listings still carry their raw `fragment` and `parse_error` so the caller can
    route bad rows to rejects with their exact bytes.
    """
    chunks, remainders = split_chunks(pages.select("snapshot_id", "text"))
    listings = (
        parse_chunks(chunks)
        .join(
            pages.select(
                "snapshot_id", "site", "fetched_at", *({"time_zone"} & set(pages.columns))
            ),
            on="snapshot_id",
            how="left",
        )
        .pipe(resolve_prices)
        .pipe(split_titles)
        .pipe(derive_fields)
        .with_columns(
            (pl.col("heading_with_price") + pl.col("tail")).alias("fragment"),
        )
    )
    footers, rejects = parse_footer(remainders)
    return listings, footers, rejects
