"""The flattened-text form of a results page → listing rows, footer facts and rejects.

Vectorised over a batch: one regex pass cuts each page into consecutive chunks (the text
before a listing's tail, plus the tail; `split_chunks`), found by a loose tail pattern;
`parse_chunks` reads each tail by the strict rules (`fields.py`), and what follows the last
tail is the footer (`parse_footer`) or a rejected fragment. Why: docs/architecture.md,
"Text (`parse/text.py`)", and docs/input-format.md §1.7.
"""

from __future__ import annotations

import polars as pl

from pipeline.parse import layouts
from pipeline.parse.layouts import Layout
from pipeline.parse.tails import (
    AGED_SIZE,
    CLOCK,
    DEFAULT_LAYOUT,
    RATING,
    UNIT_SIZE,
    derive_fields,
    tail_parts,
    tail_pattern,
)

_SEPARATOR = r"(?:\r?\n|[ \t]|$)"
_TAIL = tail_pattern(DEFAULT_LAYOUT)
# Lazy prefix: each match starts where the previous one ended, at the earliest tail.
CHUNK_RE = r"[\s\S]*?" + _TAIL + _SEPARATOR
# The same cut without the prefix: successive matches start at the same earliest tails
# and end at the same places, and the regex engine can skip ahead to them, which the lazy
# prefix prevents: much faster.
TAIL_SEP_RE = _TAIL + _SEPARATOR
TAIL_AT_END_RE = _TAIL + _SEPARATOR + r"$"
TAIL_RE = r"^" + _TAIL + r"$"
# The footer: `共 N 条` and the pager moredoc's element-ui prints after it, as `- K` lines
# (a list flattened item by item), or its numbers run together on one line with the
# jumper's `前往页` (innerText); DocHub prints no total, only its bootstrap pager
# (`1..`, `<<`, page numbers, `>>`, `..N`), one item a line or run together.
# Pager numbers start at 1: a `- 0` item is not the site's footer and stays a fragment.
_PAGER_ITEM = r"- [1-9][0-9]{0,8}|[1-9][0-9]*|前往\s*页|前往"
# Items stand apart (a line each, or spaces): `- 9223372036854775808` is no item `- 922337203`
# followed by a run `6854775808`.
FOOTER_RE = (
    r"^(?<before>[\s\S]*?)(?<footer>共 (?<total>[0-9]{1,12}) 条(?:\s+(?:"
    + _PAGER_ITEM
    + r"))*)\s*$"
)
_BOOTSTRAP_ITEM = r"1\.\.|<<|>>|\.\.[1-9][0-9]{0,8}|[1-9][0-9]{0,8}"
BOOTSTRAP_FOOTER_RE = (
    r"^(?<before>[\s\S]*?)(?<footer>(?:"
    + _BOOTSTRAP_ITEM
    + r")(?:\s*(?:"
    + _BOOTSTRAP_ITEM
    + r"))*)\s*$"
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


def split_chunks(
    pages: pl.DataFrame, layout: Layout = DEFAULT_LAYOUT
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cut each page into one row per listing chunk, plus the text after the last tail.

    `pages` has snapshot_id and text. Returns (chunks, remainders): chunks carry position
    (1-based on the page), the raw chunk, its byte offset, and the chunk split into
    heading_raw + tail (+ the separator); remainders carry the unparsed rest of each page
    and its byte offset.

    The tails are found once: extract_all gives them, and the same matches replaced by a
    marker give the text between them (headings, then the rest of the page).
    """
    tail_sep_re = tail_pattern(layout) + _SEPARATOR
    chunk_re = r"[\s\S]*?" + tail_sep_re
    text = pl.col("text")
    tail_sep = pl.col("tail_sep")
    piece = pl.col("_piece")
    cuttable = pl.col("_cuttable")
    cut = pages.select(
        "snapshot_id",
        text,
        tail_sep=text.str.extract_all(tail_sep_re),
        _cuttable=~text.str.contains(_CUT, literal=True),
    ).with_columns(
        _between=pl.when(cuttable).then(text).str.replace_all(tail_sep_re, _CUT).str.split(_CUT),
        _chunks=pl.when(~cuttable).then(text).str.extract_all(chunk_re),
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


def parse_chunks(chunks: pl.DataFrame, layout: Layout = DEFAULT_LAYOUT) -> pl.DataFrame:
    """Split each chunk into heading and tail, then read the tail's fields by the strict rules.

    Chunks from `split_chunks` arrive already split; bare chunks are split here.
    """
    if not {"heading_raw", "tail"} <= set(chunks.columns):
        tail_sep = pl.col("chunk").str.extract(tail_pattern(layout) + _SEPARATOR + "$", 0)
        chunks = chunks.with_columns(
            pl.col("chunk").str.strip_suffix(tail_sep).alias("heading_raw"),
            tail_sep.str.strip_chars_end().alias("tail"),
        )
    heading_with_price = pl.col("heading_with_price")
    byte_start = pl.col("byte_start")
    return (
        chunks.with_columns(
            pl.col("heading_raw").str.strip_chars_start().alias("heading_with_price"),
            # The price's digits may run on from the description's (`KBt 2` + `0 码力`
            # reads `KBt 20 码力`) unless a rating before the tail stands between them.
            pl.lit(layout.rating != "before").alias("price_glued"),
            tail_parts(pl.col("tail"), layout),
        )
        .with_columns(
            (
                pl.col("chunk_offset") + _bytes(pl.col("heading_raw")) - _bytes(heading_with_price)
            ).alias("byte_start")
        )
        .select(
            *chunks.columns,
            heading_with_price,
            "price_glued",
            byte_start,
            (byte_start + _bytes(heading_with_price) + _bytes(pl.col("tail"))).alias("byte_end"),
            "_t",
        )
        .unnest("_t")
    )


def resolve_prices(listings: pl.DataFrame) -> pl.DataFrame:
    """Choose a price for every digit run glued between DESCRIPTION and CREDIT.

    Only a one-digit run is certain. A longer run may end the description: its readings
    are its suffixes without a leading zero (`200` → 200 or 0), and the reading most common
    among the same site's certain prices wins (ties: the longer reading, which invents less).
    With no evidence the longest reading is kept: the whole run, less any leading zeros.
    The digits not taken go back to the heading. The site trims descriptions, so after
    whitespace the whole run is no reading (`KBt 20 码力`: the description ends in `2`).
    A run is ambiguous when it has more than one reading.
    """
    site_key = pl.col("site").fill_null("")
    evidence = (
        listings.filter(pl.col("price_text").str.len_chars() == 1)
        .group_by(site_key.alias("site_key"), pl.col("price_text").alias("reading"))
        .agg(pl.len().alias("evidence"))
    )
    glued = pl.col("price_glued") if "price_glued" in listings.columns else pl.lit(True)
    run_len = pl.col("price_text").str.len_chars().cast(pl.Int64)
    after_space = pl.col("heading_with_price").str.contains(r"\s$") & (run_len > 1)
    # The longest reading's length: the run, less one digit after whitespace.
    max_len = run_len - after_space.cast(pl.Int64)
    runs = listings.select(
        "snapshot_id",
        "position",
        site_key.alias("site_key"),
        "price_text",
        glued.alias("_glued"),
        run_len.alias("run_len"),
        max_len.alias("max_len"),
    )
    readings = (
        runs.filter((pl.col("run_len") > 1) & pl.col("_glued"))
        .with_columns(pl.int_ranges(1, pl.col("max_len") + 1).alias("reading_len"))
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
    # No evidence: the longest reading, less any leading zeros (the site never prints `01`).
    longest = pl.col("price_text").str.slice(run_len - max_len)
    longest_reading = pl.max_horizontal(
        longest.str.strip_chars_start("0").str.len_chars(), pl.lit(1)
    )
    chosen_len = (
        pl.when(glued).then(pl.col("chosen_len").fill_null(longest_reading)).otherwise(run_len)
    )
    chosen = pl.col("price_text").str.slice(run_len - chosen_len)
    # Readings: the last digit, and each longer suffix up to max_len not starting with 0.
    readings_count = 1 + longest.str.slice(0, max_len - 1).str.count_matches("[1-9]")
    return (
        listings.join(readings, on=["snapshot_id", "position"], how="left")
        .with_columns(
            pl.when(chosen.str.len_chars() <= MAX_PRICE_DIGITS)
            .then(chosen.cast(pl.Int64, strict=False))
            .alias("price"),
            (glued & (readings_count > 1)).alias("price_ambiguous"),
            (pl.col("heading_with_price") + pl.col("price_text").str.slice(0, run_len - chosen_len))
            .str.strip_chars_end()
            .alias("heading"),
        )
        .drop("chosen_len", *(["price_glued"] if "price_glued" in listings.columns else []))
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


def parse_footer(
    remainders: pl.DataFrame, layout: Layout = DEFAULT_LAYOUT
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read the footer after the last listing; anything else there is rejected.

    moredoc: `共 N 条` and its pager; DocHub: its pager alone (no total). Returns (footers,
    rejects): one footer row per snapshot (nulls when there is none) and the non-blank text
    that is neither a listing nor the footer, with why.
    """
    bootstrap = layout.pager == "bootstrap"
    pattern = BOOTSTRAP_FOOTER_RE if bootstrap else FOOTER_RE
    parts = remainders.with_columns(pl.col("rest").str.extract_groups(pattern).alias("f")).unnest(
        "f"
    )
    if bootstrap:
        parts = parts.with_columns(pl.lit(None, pl.String).alias("total"))
    has_footer = pl.col("footer").is_not_null()
    before = pl.when(has_footer).then(pl.col("before")).otherwise(pl.col("rest"))
    if bootstrap:
        # `..N` names the last page; on the last page itself it is missing and the highest
        # number is the last page (docs/input-format.md §2).
        numbers = pl.col("footer").str.replace_all(r"\.\.[0-9]+|1\.\.", " ")
        pager = pl.concat_list(
            pl.col("footer")
            .str.extract_all(r"\.\.[0-9]+")
            .list.eval(pl.element().str.slice(2).cast(pl.Int64, strict=False)),
            pl.when(~pl.col("footer").str.contains(">>", literal=True))
            .then(
                numbers.str.extract_all(r"[0-9]+").list.eval(
                    pl.element().cast(pl.Int64, strict=False)
                )
            )
            .otherwise(pl.lit([], pl.List(pl.Int64))),
        )
    else:
        # Only `- K` items say one page number each; numbers run together say none.
        pager = (
            pl.col("footer")
            .str.extract_all(r"- [0-9]+")
            .list.eval(pl.element().str.slice(2).cast(pl.Int64, strict=False))
        )
    footer_offset = pl.col("rest_offset") + _bytes(pl.col("before"))
    footers = parts.select(
        "snapshot_id",
        pl.col("total").cast(pl.Int64).alias("total_results"),
        # A number past Int32 is no page the site has: no last page rather than a crash.
        pager.list.max().cast(pl.Int32, strict=False).alias("last_page"),
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


# The first listing's info core with what stands around it, read once per page to tell
# the layouts apart (docs/input-format.md §0): a number standing before the price after
# whitespace (a rating of its own, `4.5 分`: matched as that shape, not as "any text before
# the price", which cost the capturing engine 3x), whether the credit and pages are spaced,
# up to 80 characters after `页 | ` (size, age, a glued rating: a page flattened onto one
# line would otherwise hand the whole page to the capturing engine) and the start of the
# next line.
_PROBE = (
    r"(?<pre>(?:^|\s)[0-9]{1,3}(?:\.[0-9]{1,2})?[ \t]*(?:分[ \t]*)?)?(?<pre_nl>\n?)"
    r"(?<price>[0-9]+)(?<csp> ?)[^\s|0-9][^\s|]* \| "
    r"[^|\n]*?(?<psp> ?)页 \| (?<rest>[^\n]{0,80})(?<next>\n[^\n]{0,24})?"
)
_JS_RATING_ALONE = r"[0-9](?:\.[0-9]{1,2})?"
_TAIL_TIME = r"页 \| " + AGED_SIZE + r" \| "
# Sizes only one printer prints, looked for in the tails alone (after `页 | `): a title or
# description may hold any text (`升级到 2 GB`).
_TRIMMED_SIZE = r"页 \| [0-9]+(?:\.[0-9])? ?(?:B|KB|MB|GB|TB|PB|EB)(?:$|[\s|0-9])"
_FIXED_ONLY_SIZE = (
    r"页 \| (?:[0-9]+\.[0-9]0 ?(?:B|KB|MB|GB|TB|PB|EB)|[0-9]+\.[0-9]{2} B(?:$|[\s|0-9]))"
)


def detect_layouts(pages: pl.DataFrame) -> pl.DataFrame:
    """Each text page's layout, page type and, where no layout fits, why (one row a page).

    `pages` has snapshot_id, text and (optionally) url. One probe finds the first listing's
    info core; the characters around it tell where the rating stands and how the credit,
    pages and size are spaced; a page-wide test tells trimmed sizes (moredoc before
    279d64d) from two-decimal ones, and the time tells the category lists (seconds) and
    moredoc's first page (a constant date). A page with no info core at all is read as
    today's layout (it is a footer alone, a blank or a truncated page).
    """
    probe = pl.col("text").str.extract_groups(_PROBE)
    url = pl.col("url") if "url" in pages.columns else pl.lit(None, pl.String)
    frame = pages.select(
        "snapshot_id",
        probe.alias("_p"),
        pl.col("text").str.contains(_TRIMMED_SIZE).alias("_trimmed"),
        pl.col("text").str.contains(_FIXED_ONLY_SIZE).alias("_fixed"),
        # Page-wide, as a narrow listing may hide its time: any tail ending in a time
        # with seconds, or in the first template's constant date.
        pl.col("text").str.contains(_TAIL_TIME + CLOCK + r":[0-9]{2}(?:\s|$)").alias("_seconds"),
        pl.col("text")
        .str.contains(_TAIL_TIME + layouts.CONSTANT_DATE + r"(?:\s|$)")
        .alias("_constant"),
        url.str.contains(r"^[a-z]+://[^/]*/(?:category|list)(?:[/?#]|$)")
        .fill_null(False)
        .alias("_category_url"),
    ).unnest("_p")
    pre = pl.col("pre").fill_null("")
    rest = pl.col("rest").str.strip_chars_end()
    found = pl.col("price").is_not_null()
    same_line_rating = pre.str.contains(rf"(?:^|\s){_JS_RATING_ALONE}[ \t]+$")
    own_line_rating = (pl.col("pre_nl") == "\n") & pre.str.contains(
        rf"^\s*{_JS_RATING_ALONE}[ \t]*$"
    )
    fen = pre.str.contains(r"[0-9]\.[0-9][ \t]*分[ \t]*$")
    # In text flattened further (listings apart by a space) `rest` holds the start of the
    # next listing too, so each test reads from its start: the size, the age block, then
    # what follows them. A size before an age block is any token (`| 619.3 | 9 月前3`: the
    # block shows where it ends); one without ends in its unit: `21.69 KB | 20 天前` is no
    # size `2` and rating `1.69`.
    # As loose as the tail pattern (an age or rating the strict rules will reject, `很久以前`,
    # a clock time, `999`): a first listing with one broken field is that listing's reject,
    # not a reason to refuse the page.
    age = r" \| (?:[^|\n]*?前|刚刚|" + CLOCK + r"(?::[0-9]{2})?)"
    loose_rating = RATING["js"]
    info = f"^(?:{AGED_SIZE}{age}|{UNIT_SIZE})"
    rating_after = rest.str.contains(info + rf"[ \t]*{loose_rating}(?:\s|$)") | (
        pl.col("next").str.contains(rf"^\n[ \t]*{loose_rating}[ \t]*$")
        & rest.str.contains(info + "$")
    )
    # A rating glued to the age (`刚刚1.7`, `9 月前3`) is only ever printed after the tail:
    # listings are always apart by a line break or a space. It outweighs a number standing
    # alone before the price, which a description ending in digits and a space (`…0 ` +
    # price `0` = `0 0 金币`) prints too.
    glued_after = rest.str.contains(info + rf"{loose_rating}(?:\s|$)")
    seconds = pl.col("_seconds")
    constant = pl.col("_constant")
    trimmed = pl.col("_trimmed") & ~pl.col("_fixed")
    size_glued = rest.str.contains(r"^[^ |]*[0-9][A-Z]")
    layout = (
        pl.when(~found)
        .then(pl.lit(DEFAULT_LAYOUT.name))
        .when(fen & (pl.col("csp") == "") & size_glued)
        .then(pl.lit("dochub-2018-04"))
        .when(fen & (pl.col("csp") == ""))
        .then(pl.lit("dochub-2018-08"))
        .when(fen)
        .then(pl.lit("dochub-2018-08-11"))
        .when(glued_after & pl.col("_category_url"))
        .then(pl.lit("moredoc-web-list-2024-07"))
        .when(glued_after)
        .then(pl.lit(DEFAULT_LAYOUT.name))
        .when((same_line_rating | own_line_rating) & seconds)
        .then(pl.when(trimmed).then(pl.lit("moredoc-list-2022-12")).otherwise(
            pl.lit("moredoc-list-2023-04")))
        .when((same_line_rating | own_line_rating) & constant)
        .then(pl.lit("moredoc-2022-12"))
        .when(same_line_rating | own_line_rating)
        .then(pl.when(trimmed).then(pl.lit("moredoc-2023-01")).otherwise(
            pl.lit("moredoc-2023-04")))
        .when(rating_after & pl.col("_category_url"))
        .then(pl.lit("moredoc-web-list-2024-07"))
        .when(rating_after)
        .then(pl.lit(DEFAULT_LAYOUT.name))
    )  # fmt: skip
    misfit = pl.format(
        "no layout fits the page: its first listing's tail '{}' has no rating after it "
        "(moredoc-web-2024-07 prints one after the age) and none standing before it on "
        "its own (moredoc 2022-12 to 2023-04, DocHub `4.5 分`); a rating glued to the price "
        "(`…30 魔豆`) cannot be told from the price's digits",
        pl.concat_str(pl.col("price"), pl.lit(" … | "), rest),
    )
    return frame.select(
        "snapshot_id",
        layout.alias("layout"),
        pl.when(layout.is_null()).then(misfit).alias("misfit"),
    ).with_columns(
        pl.col("layout")
        .replace_strict({r.name: r.page_type for r in layouts.RECORDS}, default=None)
        .alias("page_type")
    )


def _whole_page_rejects(pages: pl.DataFrame, reason: pl.Expr) -> pl.DataFrame:
    """One reject holding each page whole (its non-blank text), with `reason`."""
    return pages.select(
        "snapshot_id",
        *_fragment(pl.col("text"), pl.lit(0, pl.Int64)),
        reason.alias("reason"),
    )


def parse_pages(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse a batch of decoded text snapshots, each by the layout detected for it.

    `pages` has snapshot_id, site, fetched_at and text (and url, time_zone where known).
    Returns (listings, footers, rejects): listings still carry their raw `fragment` and
    `parse_error` so the caller can route bad rows to rejects with their exact bytes;
    footers carry each page's `layout` and `page_type`. A page no layout fits, and a
    category page (its text runs each description into the next title), is one reject.
    """
    detected = detect_layouts(pages)
    pages = pages.join(detected, on="snapshot_id", how="left", maintain_order="left")
    refused = pages.filter(pl.col("misfit").is_not_null() | (pl.col("page_type") == "category"))
    reason = pl.coalesce(
        "misfit",
        pl.format(
            "category page (layout {}): it prints each description after its listing's tail, "
            "so in the text form a description runs into the next listing's title; the text "
            "form of a category page is not read (its HTML is)",
            "layout",
        ),
    )
    rejects = [_whole_page_rejects(refused, reason)]
    footers = [
        refused.select(
            "snapshot_id",
            pl.lit(None, pl.Int64).alias("total_results"),
            pl.lit(None, pl.Int32).alias("last_page"),
            pl.lit(None, pl.Int64).alias("footer_byte_start"),
            pl.lit(None, pl.Int64).alias("footer_byte_end"),
            "layout",
            "page_type",
        )
    ]
    listings = []
    readable = pages.join(refused.select("snapshot_id"), on="snapshot_id", how="anti")
    for (name,), group in readable.partition_by("layout", as_dict=True).items():
        read, footer, rejected = _parse_layout(group, layouts.layout(str(name)))
        listings.append(read)
        footers.append(footer)
        rejects.append(rejected)
    empty = _parse_layout(pages.clear(), DEFAULT_LAYOUT)
    return (
        pl.concat([empty[0], *listings], how="diagonal_relaxed"),
        pl.concat([*footers, empty[1]], how="diagonal_relaxed"),
        pl.concat([*rejects, empty[2]], how="diagonal_relaxed"),
    )


def _parse_layout(
    pages: pl.DataFrame, layout: Layout
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    chunks, remainders = split_chunks(pages.select("snapshot_id", "text"), layout)
    listings = (
        parse_chunks(chunks, layout)
        .join(
            pages.select(
                "snapshot_id", "site", "fetched_at", *({"time_zone"} & set(pages.columns))
            ),
            on="snapshot_id",
            how="left",
        )
        .with_columns(pl.lit(layout.name).alias("layout"))
        .pipe(resolve_prices)
        .pipe(split_titles)
        .pipe(derive_fields)
        .with_columns(
            # Exactly the bytes [byte_start, byte_end): a rating before the tail keeps the
            # line break or space that set it apart.
            (pl.col("heading_with_price") + pl.col("tail")).alias("fragment"),
        )
        .drop("layout")
    )
    footers, rejects = parse_footer(remainders, layout)
    footers = footers.with_columns(
        pl.lit(layout.name).alias("layout"), pl.lit(layout.page_type).alias("page_type")
    )
    return listings, footers, rejects
