"""A listing's tail, the rules every form reads it by: `PRICE CREDIT | PAGES 页 | SIZE [| AGE]`
and the rating (docs/input-format.md §1.7), as a loose pattern per layout (`tail_pattern`),
its parts (`tail_parts`, `info_parts`) and the strict field rules applied to them
(`derive_fields`, through `fields.py`). `text.py` cuts pages at these tails; `html.py` reads
each item's info line and star text through the same functions.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from pipeline.config import DEFAULT_SITE_TIME_ZONE
from pipeline.parse import fields, layouts
from pipeline.parse.layouts import Layout

CLOCK = r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}"
# A size token: a number and its unit word (`12.83 MB`, `NaN GB`), or a token ending in
# letters (`12.83MB`, DocHub's `1.12KB`); before an age block, any token and a unit word.
_GLUED_UNIT_SIZE = r"[^\s|]*[A-Za-z]+"
UNIT_SIZE = r"[^\s|]+ [A-Za-z]+|" + _GLUED_UNIT_SIZE
AGED_SIZE = r"[^\s|]+(?: [A-Za-z]+)?"
# What may stand between a tail and a rating on its own: a line break (innerText: the
# star widget is a block of its own), spaces (textContent), or nothing (glued).
_RATING_GAP = r"[ \t]*\n[ \t]*|[ \t]+"
RATING = {"js": r"[0-9]+(?:\.[0-9]+)?", "dochub": r"[0-9]{1,3}\.[0-9]"}


def _ages(time: str, rating_after: bool) -> tuple[str, str]:
    """(loose AGE, AGE as the site's end) for a layout's time printer.

    With a rating glued after it, an age ends at its last non-digit (`9 月前3`); without
    one, it must end as the site's ages do, or it would stop at its first space.
    """
    if time in ("minute", "constant"):
        return CLOCK, CLOCK
    if time == "second":
        return CLOCK + ":[0-9]{2}", CLOCK + ":[0-9]{2}"
    # A clock time in a relative-time page is no age the site prints, but it is read whole
    # (for the strict rules to reject) rather than cut at its first `-`, which would leave
    # ` 00:003` at the head of the next listing, or not end the listing at all.
    clock = CLOCK + r"(?::[0-9]{2})?"
    # The site's own forms first: with nothing after the age but a space and the next
    # heading, `刚刚 12.83 1月前…` is `刚刚` and a title, not one long odd age.
    site = rf"刚刚|[0-9]+ (?:分钟|小时|天|月|年)前|{clock}|[^|\n]*?前"
    loose = rf"{clock}|[^|\n]*?[^|\n0-9. ]"
    return (loose if rating_after else site), site


def tail_pattern(layout: Layout) -> str:
    """One listing tail of `layout`, without the separator after it (docs/input-format.md §1.7).

    PRICE CREDIT | PAGES 页 | SIZE [| AGE], with the rating before it (on its own line or
    after a space, preceded by a line break or a space: `D\n3\n0 魔豆 | …`) or after it
    (glued, after a space or on its own line: `9 月前3`, `9 月前\n3`). SIZE is any token
    ending in a unit word, or any token and a unit word: a malformed size (`NaN GB`, `-1
    KB`, `1e309 MB`, `12.83MB`) must still end its own listing, for the strict rules to
    reject, rather than let the listing run on into the next one's tail and merge the two.
    A token without a unit word (`| 5 | 9 月前3`) ends a listing too, but only when an age
    block follows it: then the ` | AGE` shows where the size ended. Without one, a number
    (`| 619.3` where a page was cut) is no tail: that stays the truncation it is.
    The readings with an age block come first, so a token with an age after it is read
    whole (`MB5 | 9 月前3`: size `MB5`). After a bare token the age must end as the site's
    ages do: in text flattened further, `12.83MB3 | 云原生0 码力 | …` is a size `12.83MB`,
    rating 3, and a listing whose title starts with `|`, not an age `云原生`. Each reading
    has its own group names (a pattern may not repeat one); `tail_parts` merges them.
    """
    after = layout.rating == "after"
    age, site_age = _ages(layout.time, after)
    rating = RATING[layout.rating_printer]
    # A unit glued to its number (DocHub's first template: `1.12KB`) leaves no space in a
    # size: a space after one ends it, before whatever follows (`57.38KB Design`).
    unit_size = UNIT_SIZE if layout.size.unit_space else _GLUED_UNIT_SIZE
    credit_gap = " " if layout.credit_space else ""
    pages_gap = " " if layout.pages_space else ""
    before = ""
    if layout.rating == "before":
        fen = r"[ \t]*分" if layout.rating_printer == "dochub" else ""
        before = rf"(?:^|\s)(?<rating_b>{rating}){fen}(?:{_RATING_GAP})"
    return (
        before
        + rf"(?<price>[0-9]+){credit_gap}(?<credit>[^\s|0-9][^\s|]*) \| "
        + rf"(?<pages>[^|\n]*?){pages_gap}页 \| "
        + r"(?:(?<size>"
        + unit_size
        + r") \| (?<age>"
        + age
        + r")"
        + r"|(?<bare_size>[^\s|]+) \| (?<bare_age>"
        + site_age
        + r")"
        + r"|(?<unaged_size>"
        + unit_size
        + r"))"
        + (rf"(?:{_RATING_GAP})?(?<rating>{rating})" if after else "")
    )


DEFAULT_LAYOUT = layouts.layout("moredoc-web-2024-07")

# A tail's parts by the strict pattern, named as the listing columns that hold their text.
TAIL_PARTS = ("price_text", "credit", "pages_text", "size_text", "age_text", "rating_text")


def tail_parts(tail: pl.Expr, layout: Layout = DEFAULT_LAYOUT) -> pl.Expr:
    """A struct `_t` of the tail's texts (all null when it is not a tail), for `unnest`.

    Every form with a tail reads it here: the HTML form joins its info line and star text
    into the same `PRICE CREDIT | PAGES 页 | SIZE [| AGE]RATING` shape. Each reading of
    SIZE and AGE (with an age block, bare before one, without one) has groups of its own,
    merged here.
    """
    part = tail.str.extract_groups("^" + tail_pattern(layout) + "$").struct.field
    rating = {"after": "rating", "before": "rating_b"}.get(layout.rating)
    rating_text = part(rating) if rating else pl.lit(None, pl.String)
    texts = (
        part("price"),
        part("credit"),
        part("pages"),
        pl.coalesce(part("size"), part("bare_size"), part("unaged_size")),
        pl.coalesce(part("age"), part("bare_age")),
        rating_text,
    )
    return pl.struct(text.alias(name) for name, text in zip(TAIL_PARTS, texts, strict=True)).alias(
        "_t"
    )


def derive_fields(listings: pl.DataFrame) -> pl.DataFrame:
    """Apply the strict field rules; collect every reason a listing is not valid.

    Each row is read by the printers of its `layout` (a column of layout names; none means
    today's moredoc-web search page): the rows of each layout in the batch are read
    together, so a batch of one layout costs one pass. The rules' shared intermediates
    (each regex extract, the age bounds) are staged as temporary columns, computed once
    instead of once per output that reads them.
    """
    if "layout" not in listings.columns or listings.height == 0:
        return _derive_fields(listings, DEFAULT_LAYOUT)
    names = listings["layout"].fill_null(DEFAULT_LAYOUT.name)
    if names.n_unique() == 1:
        return _derive_fields(listings, layouts.layout(names[0]))
    indexed = listings.with_row_index("_row").with_columns(names.alias("_layout"))
    parts = [
        _derive_fields(group.drop("_layout"), layouts.layout(str(name)))
        for (name,), group in indexed.partition_by("_layout", as_dict=True).items()
    ]
    return pl.concat(parts, how="vertical").sort("_row").drop("_row")


def _derive_fields(listings: pl.DataFrame, layout: Layout) -> pl.DataFrame:
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
        *fields.size_fields(pl.col("size_text"), staged, layout.size),
        *fields.age_fields(
            pl.col("age_text"),
            pl.col("fetched_at"),
            staged,
            time_zone=time_zone,
            zones=sorted(zones),
            printer=layout.time,
        ),
        *fields.rating_fields(pl.col("rating_text"), staged, layout.rating_printer),
        *fields.pages_fields(
            pl.col("pages_text"), staged, zero_unknown=layout.software == "dochub"
        ),
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


def info_parts(info: pl.Expr, layout: Layout) -> pl.Expr:
    """The tail parts (`tail_parts`) of a rating-free info line `PRICE CREDIT | PAGES 页 |
    SIZE [| AGE]` in `layout`'s spacing, as the HTML form prints it; rating_text is null."""
    return tail_parts(info, replace(layout, rating="none"))
