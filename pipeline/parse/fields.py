"""The site's rendering rules for SIZE, AGE, RATING and PAGES, inverted as polars
expressions (docs/input-format.md §1.3–§1.6, §3.4): each parsed field is the set of truths
its text could come from, integer-exact. Why: docs/architecture.md, "How each form is read".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import polars as pl

from pipeline.config import DEFAULT_SITE_TIME_ZONE
from pipeline.parse.layouts import CONSTANT_DATE, FLOAT_LOG_THRESHOLDS, JS_FIXED, SizePrinter

KIB = 1024

SECOND = 1
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MONTH = 30 * DAY  # the site's month: calendar months would be wrong
YEAR = 12 * MONTH  # 360 days, for the same reason

# The site stores a size as a signed 64-bit integer (its API sends it as an int64 string,
# docs/input-format.md §3.2), so no true size exceeds this, and the tables' size columns
# are Int64 for the same reason.
MAX_SIZE_BYTES = 2**63 - 1
# Size arithmetic runs in Int128: (2c + 1) * 1024^4 overflows Int64 from `41943.04 TB` on.
# An integer part of more digits than this is over MAX_SIZE_BYTES in every unit (10^20 B),
# and anything up to it keeps the arithmetic well inside Int128 (below 10^35).
MAX_SIZE_DIGITS = 20
# The earliest upload time the tables hold: the start of year 1, where Python's datetime
# (and so pandera's checks and every Python reader of the tables) begins
# (docs/input-format.md §1.4). An age reaching back further is a reject.
EARLIEST_UPLOAD = datetime(1, 1, 1, tzinfo=UTC)
# The latest, for the same reason: an exact upload time (the API's, §3.2) past it could not
# even be reported as a failed check (pandera's report converts it to Python and fails).
LATEST_UPLOAD = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
_EARLIEST_UPLOAD_S = (EARLIEST_UPLOAD - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)

# Strict forms (the loose tail in parse/text.py finds the fields; these decide validity).
_RELATIVE = r"(?<just>刚刚)|(?<n>[0-9]{1,7}) (?<unit>分钟|小时|天|月|年)前"
_CLOCK = r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}"
# The strict form of AGE by the layout's time printer (docs/input-format.md §1.4, §3.4):
# `relative` ages, an absolute local `minute` (DocHub) or `second` (moredoc's category
# lists), or the `constant` date moredoc's first search page printed on every listing.
AGE_FORMS = {
    "relative": (f"^(?:{_RELATIVE})$", None),
    "minute": (f"^(?<abs>{_CLOCK})$", "%Y-%m-%d %H:%M"),
    "second": (f"^(?<abs>{_CLOCK}:[0-9]{{2}})$", "%Y-%m-%d %H:%M:%S"),
}
AGE_RE = AGE_FORMS["relative"][0]
# How a rating prints: JavaScript's shortest decimal of score / 100 (`3`, `4.5`, `0.03`),
# or DocHub's `%1.1f` of score / 10000 (`4.5`, `3.0`; its `分` is read off with it).
RATING_FORMS = {"js": r"^[0-9]{1,3}(?:\.[0-9]{1,2})?$", "dochub": r"^[0-9]{1,3}\.[0-9]$"}
RATING_RE = RATING_FORMS["js"]
PAGES_RE = r"^(?:[0-9]{1,9}|-)$"


# `bind(name, expr)` names an intermediate value that several outputs reuse. Polars has no
# let-binding inside an expression and its common-subexpression pass does not reach nested
# repeats, so inlined, one regex extract is re-run by every output that reads it.
Bind = Callable[[str, pl.Expr], pl.Expr]


def inline(name: str, expr: pl.Expr) -> pl.Expr:
    """The default `Bind`: plain expressions, usable in any select (slower: recomputes)."""
    return expr


class Staged:
    """A `Bind` that computes each named value once, as a temporary column.

    Bound values are grouped by dependency depth so each group is one `with_columns`
    (polars evaluates a group's expressions in parallel); `apply` then adds the outputs and
    drops the temporaries.
    """

    PREFIX = "__fields_"

    def __init__(self) -> None:
        self._depth: dict[str, int] = {}
        self._stages: list[list[pl.Expr]] = []

    def __call__(self, name: str, expr: pl.Expr) -> pl.Expr:
        name = self.PREFIX + name
        if name in self._depth:
            raise ValueError(f"{name} bound twice")
        depth = 1 + max((self._depth.get(root, -1) for root in expr.meta.root_names()), default=-1)
        if depth == len(self._stages):
            self._stages.append([])
        self._stages[depth].append(expr.alias(name))
        self._depth[name] = depth
        return pl.col(name)

    def apply(self, frame: pl.LazyFrame, outputs: Iterable[pl.Expr]) -> pl.LazyFrame:
        for stage in self._stages:
            frame = frame.with_columns(stage)
        return frame.with_columns(outputs).drop(list(self._depth))


def _size_pattern(printer: SizePrinter) -> str:
    """The strict form of a size as `printer` prints it (docs/input-format.md §1.3)."""
    number = r"(?<int>[0-9]+)" + (
        r"(?:\.(?<dec>[0-9]?[1-9]))?" if printer.trimmed else r"\.(?<dec>[0-9]{2})"
    )
    space = " " if printer.unit_space else ""
    units = "|".join(printer.units)
    zero = f"|(?<zero>{printer.zero})" if printer.zero else ""
    return f"^(?:{number}{space}(?<unit>{units}){zero})$"


def _size_form(printer: SizePrinter) -> str:
    number = "N[.N[N]]" if printer.trimmed else "N.NN"
    space = " " if printer.unit_space else ""
    zero = f" or {printer.zero}" if printer.zero else ""
    return f"{number}{space}{'|'.join(printer.units)}{zero}"


def _unit_bounds(printer: SizePrinter, unit_index: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The byte counts printed in unit `unit_index` (Int128): [first, last], inclusive.

    `division` (Go) divides while the value is >= 1024: unit i holds [1024^i, 1024^(i+1) - 1]
    and B starts at 0 (`0.00 B`). `float_log` (JavaScript) takes floor(log(b) / log(1024))
    in doubles, whose rounding moves the start of PB and above a few bytes down
    (`layouts.FLOAT_LOG_THRESHOLDS`). The last unit ends only at MAX_SIZE_BYTES.
    """
    wide = pl.Int128
    last = len(printer.units) - 1
    if printer.unit_choice == "float_log":
        starts = [FLOAT_LOG_THRESHOLDS[k] for k in range(len(printer.units))]
    else:
        starts = [0] + [KIB**k for k in range(1, len(printer.units))]
    first = pl.lit(None, wide)
    end = pl.lit(None, wide)
    first_chain = pl.when(pl.lit(False)).then(first)
    end_chain = pl.when(pl.lit(False)).then(end)
    for k, start in enumerate(starts):
        stop = MAX_SIZE_BYTES if k == last else starts[k + 1] - 1
        first_chain = first_chain.when(unit_index == k).then(pl.lit(start, wide))
        end_chain = end_chain.when(unit_index == k).then(pl.lit(min(stop, MAX_SIZE_BYTES), wide))
    return first_chain, end_chain


def size_fields(
    size_text: pl.Expr, bind: Bind = inline, printer: SizePrinter = JS_FIXED
) -> list[pl.Expr]:
    """Point value and exact inclusive bounds of a SIZE text, as `printer` prints sizes.

    The site picks the unit *before* rounding and prints bytes / 1024^i with two decimals
    (`printer.trimmed`: then drops trailing zeros). With c = the shown value in hundredths,
    the bytes that print as c are those with (c - 0.5)/100 <= b/1024^i < (c + 0.5)/100 when
    an exact half rounds up (JavaScript's toFixed); when it rounds to even (Go's %.2f) both
    ends are included for an even c and neither for an odd one. That set is intersected
    with the unit's own range (`_unit_bounds`). An empty intersection means no byte count
    renders this way: the text is rejected, not rounded into something plausible; so is a
    text whose every reading is over MAX_SIZE_BYTES.

    The arithmetic runs in Int128 and the results, checked to fit, are cast to Int64: in
    Int64 the products overflowed from `41943.04 TB` on, and wrapped into wrong bounds.

    Returns expressions named size_bytes, size_bytes_min, size_bytes_max, size_error.
    """
    wide = pl.Int128
    parts = bind("size_parts", size_text.str.extract_groups(_size_pattern(printer)))
    unit_index = bind(
        "size_unit",
        parts.struct.field("unit").replace_strict(
            {u: i for i, u in enumerate(printer.units)}, default=None, return_dtype=pl.Int64
        ),
    )
    # Leading zeros aside (the site prints none, but they change no value), an integer part
    # longer than MAX_SIZE_DIGITS is too big in any unit and is never cast.
    digits = parts.struct.field("int")
    fits = bind("size_fits", digits.str.strip_chars_start("0").str.len_chars() <= MAX_SIZE_DIGITS)
    scale = bind("size_scale", pl.lit(KIB, wide).pow(unit_index.cast(wide)))
    decimals = parts.struct.field("dec").fill_null("").str.pad_end(2, "0")
    cents = bind(
        "size_cents",
        pl.when(fits).then(digits.cast(wide, strict=False) * 100 + decimals.cast(wide)),
    )
    below = (2 * cents - 1) * scale  # 200 × the lowest value that still rounds to c
    above = (2 * cents + 1) * scale  # 200 × the lowest value that rounds past c
    if printer.ties == "up":
        low = (below + 199) // 200  # ceil
        high = (above + 199) // 200 - 1
    else:  # to even: an exact half belongs to the even c
        even = cents % 2 == 0
        low = pl.when(even).then((below + 199) // 200).otherwise(below // 200 + 1)
        high = pl.when(even).then(above // 200).otherwise((above + 199) // 200 - 1)
    unit_first, unit_last = _unit_bounds(printer, unit_index)
    low = bind("size_low", pl.max_horizontal(low, unit_first))
    high = bind("size_high", pl.min_horizontal(high, unit_last))
    # The point is the shown value times the unit, rounded; the unit is chosen before
    # rounding, so "1024.00 KB" has its point one past its bounds: clamp it in.
    point = pl.min_horizontal(pl.max_horizontal((2 * cents * scale + 100) // 200, low), high)
    is_zero = bind(
        "size_zero", parts.struct.field("zero").is_not_null() if printer.zero else pl.lit(False)
    )
    too_big = bind(
        "size_too_big",
        unit_index.is_not_null() & (~fits | (pl.max_horizontal(low, unit_first) > MAX_SIZE_BYTES)),
    )
    renderable = bind("size_renderable", is_zero | (~too_big & (low <= high)))
    zero = pl.lit(0, pl.Int64)

    def exact(value: pl.Expr) -> pl.Expr:
        # Only renderable rows reach the cast, and their bounds are at most MAX_SIZE_BYTES.
        return pl.when(is_zero).then(zero).when(renderable).then(value.cast(pl.Int64))

    rule = "base-1024 toFixed(2)" if printer.ties == "up" else "base-1024 Go %.2f"
    return [
        exact(point).alias("size_bytes"),
        exact(low).alias("size_bytes_min"),
        exact(high).alias("size_bytes_max"),
        pl.when(size_text.is_null())
        .then(pl.lit("no size"))
        .when(unit_index.is_null() & ~is_zero)
        .then(pl.format("unknown size '{}': expected " + _size_form(printer), size_text))
        .when(too_big)
        .then(pl.format("size '{}' is over 2^63 - 1 bytes, more than the site stores", size_text))
        .when(~renderable)
        .then(pl.format("size '{}' cannot be rendered by " + rule, size_text))
        .alias("size_error"),
    ]


def _age_diff_bounds(n: pl.Expr, unit: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Inclusive bounds of diff = fetch - upload (whole seconds) that render as `N unit前`.

    Each unit is only used in its own range (1-59 minutes, 1-23 hours, 1-29 days,
    1-12 months, N >= 1 years), so an N outside it yields nulls. `1 年前` is the one
    open-ended case: m > 12 excludes exactly 360 days, which renders `12 月前`.
    """
    ranges = {
        "分钟": (MINUTE, 59),
        "小时": (HOUR, 23),
        "天": (DAY, 29),
        "月": (MONTH, 12),
    }
    low: pl.Expr = pl.lit(None, pl.Int64)
    high: pl.Expr = pl.lit(None, pl.Int64)
    chain_low = pl.when(pl.lit(False)).then(low)
    chain_high = pl.when(pl.lit(False)).then(high)
    for name, (step, n_max) in ranges.items():
        ok = (unit == name) & n.is_between(1, n_max)
        top = (n + 1) * step - 1
        if name == "月":  # 12 months only at exactly 360 days: m <= 12
            top = pl.when(n == 12).then(n * step).otherwise(top)
        chain_low = chain_low.when(ok).then(n * step)
        chain_high = chain_high.when(ok).then(top)
    year = (unit == "年") & (n >= 1)
    chain_low = chain_low.when(year & (n == 1)).then(YEAR + 1).when(year).then(n * YEAR)
    chain_high = chain_high.when(year).then((n + 1) * YEAR - 1)
    return chain_low, chain_high


def age_fields(
    age_text: pl.Expr,
    fetched_at: pl.Expr,
    bind: Bind = inline,
    *,
    time_zone: pl.Expr | None = None,
    zones: Sequence[str] = (DEFAULT_SITE_TIME_ZONE,),
    printer: str = "relative",
) -> list[pl.Expr]:
    """Upload-time interval [uploaded_at_min, uploaded_at_max] (UTC, inclusive, seconds).

    The site computes diff = fetch - upload in whole seconds, so bounds are taken from the
    fetch time truncated to the second. A missing age block gives null bounds and no error
    (narrow layouts hide it); an age no diff could render gives null bounds and an error,
    and so does an interval starting before EARLIEST_UPLOAD. That test runs on integer
    seconds before any date arithmetic: `9999999 年前` is 3.1e14 s, whose microseconds
    overflow Int64, and polars wraps such a sum silently.
    Returns expressions named uploaded_at_min, uploaded_at_max, age_error.
    """
    if printer == "constant":
        # The template's literal date says nothing of the upload: no interval, no error
        # (any other text is not what that template printed).
        return [
            pl.lit(None, pl.Datetime("us", "UTC")).alias("uploaded_at_min"),
            pl.lit(None, pl.Datetime("us", "UTC")).alias("uploaded_at_max"),
            pl.when(age_text.is_not_null() & (age_text != CONSTANT_DATE))
            .then(pl.format("age '{}' is not the date the template prints ({})", age_text,
                            pl.lit(CONSTANT_DATE)))
            .alias("age_error"),
        ]  # fmt: skip
    pattern, clock = AGE_FORMS[printer]
    parts = bind("age_parts", age_text.str.extract_groups(pattern))
    field_names = {"just", "n", "unit", "abs"}

    def part(name: str) -> pl.Expr:
        # A printer's pattern holds only its own groups; the others read as null.
        present = name in field_names and f"<{name}>" in pattern
        return parts.struct.field(name) if present else pl.lit(None, pl.String)

    n = bind("age_n", part("n").cast(pl.Int64))
    unit = bind("age_unit", part("unit"))
    just_now = part("just").is_not_null()
    diff_low, diff_high = _age_diff_bounds(n, unit)
    diff_low = bind("age_diff_low", pl.when(just_now).then(0).otherwise(diff_low))
    diff_high = bind("age_diff_high", pl.when(just_now).then(MINUTE - 1).otherwise(diff_high))

    fetched_s = bind("age_fetched_s", fetched_at.dt.truncate("1s"))
    # n has at most 7 digits, so diff_high (< 10^7 years of 3.1e7 s) is an exact Int64.
    reachable = bind("age_reachable", fetched_s.dt.epoch("s") - diff_high >= _EARLIEST_UPLOAD_S)
    relative_min = fetched_s - pl.duration(seconds=pl.when(reachable).then(diff_high))
    relative_max = fetched_s - pl.duration(seconds=pl.when(reachable).then(diff_low))
    # An absolute time (DocHub) is the site's local minute: in UTC through the site's zone
    # (`time_zone`, one of `zones`), from the earliest reading of a clock time a DST change
    # repeats to the latest; a clock time a DST change skips is no time at all (null).
    naive = bind(
        "age_naive",
        part("abs").str.strptime(pl.Datetime("us"), clock or "%Y-%m-%d %H:%M", strict=False),
    )
    zone = pl.lit(DEFAULT_SITE_TIME_ZONE) if time_zone is None else time_zone

    def in_utc(ambiguous: str) -> pl.Expr:
        return pl.coalesce(
            pl.when(zone == name).then(
                naive.dt.replace_time_zone(
                    name, ambiguous=ambiguous, non_existent="null"
                ).dt.convert_time_zone("UTC")
            )
            for name in zones
        )

    absolute_min = in_utc("earliest")
    # A minute holds 60 seconds of uploads; a printed second, one.
    last_second = MINUTE - 1 if printer == "minute" else 0
    absolute_max = pl.min_horizontal(in_utc("latest") + pl.duration(seconds=last_second), fetched_s)
    is_absolute = part("abs").is_not_null()
    up_min = bind("age_up_min", pl.when(is_absolute).then(absolute_min).otherwise(relative_min))
    up_max = bind("age_up_max", pl.when(is_absolute).then(absolute_max).otherwise(relative_max))
    # A relative age past the bound has null bounds by now; an absolute one (year 0000, or
    # year 1 east of UTC) is compared here.
    too_old = bind(
        "age_too_old",
        pl.when(is_absolute)
        .then(up_min < pl.lit(EARLIEST_UPLOAD).dt.cast_time_unit("us"))
        .otherwise(diff_high.is_not_null() & ~reachable),
    )
    valid = bind(
        "age_valid",
        up_min.is_not_null() & up_max.is_not_null() & (up_min <= up_max) & ~too_old,
    )
    return [
        pl.when(valid).then(up_min).alias("uploaded_at_min"),
        pl.when(valid).then(up_max).alias("uploaded_at_max"),
        pl.when(age_text.is_not_null() & too_old)
        .then(
            pl.format(
                "age '{}' reaches back before 0001-01-01 UTC, the earliest upload time the "
                "tables hold",
                age_text,
            )
        )
        .when(age_text.is_not_null() & ~valid)
        .then(pl.format("age '{}' cannot be rendered by the site's age rules", age_text))
        .alias("age_error"),
    ]


def rating_fields(rating_text: pl.Expr, bind: Bind = inline, printer: str = "js") -> list[pl.Expr]:
    """Rating (score / 100), the raw score, and the below-1 anomaly flag.

    A rating below 1 cannot come from a 1-5 star vote, but it is what the site printed,
    so it is kept and flagged rather than rejected.
    """
    ok = bind("rating_ok", rating_text.str.contains(RATING_FORMS[printer]))
    rating = bind("rating", pl.when(ok).then(rating_text.cast(pl.Float64, strict=False)))
    return [
        rating.alias("rating"),
        (rating * 100).round(0).cast(pl.Int32).alias("score"),
        (rating < 1).alias("rating_anomaly"),
        pl.when(rating_text.is_not_null() & ~ok)
        .then(pl.format("rating '{}' is not a score/100 decimal", rating_text))
        .alias("rating_error"),
    ]


def pages_fields(
    pages_text: pl.Expr, bind: Bind = inline, *, zero_unknown: bool = False
) -> list[pl.Expr]:
    """Page count; `-` means the site knows none (null), anything else not an integer is bad.
    `zero_unknown`: the site prints the stored count raw, 0 where it knows none (DocHub)."""
    ok = bind("pages_ok", pages_text.str.contains(PAGES_RE))
    unknown = pages_text.is_in(["-", "0"]) if zero_unknown else pages_text == "-"
    return [
        pl.when(ok & ~unknown).then(pages_text.cast(pl.Int32, strict=False)).alias("pages"),
        pl.when(~ok)
        .then(pl.format("pages '{}' is not a positive integer or '-'", pages_text))
        .alias("pages_error"),
    ]
