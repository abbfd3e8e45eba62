"""The report's charts: altair specs rendered to static SVG by vl-convert, with tooltips.

Each mark's `description` (composed per row in `tip` columns by the callers) becomes its
SVG `<title>`, a tooltip with no script. Several series are small multiples, one panel
each with its own y scale, never told apart by colour; time axes are UTC. Why static SVG
and these rules: docs/warehouse.md, "The report and the docs page".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import altair as alt
import polars as pl
import vl_convert

FULL_WIDTH = 860  # plot width of a chart spanning the page
HALF_WIDTH = 360  # plot width of a chart in the two-column grid
HEIGHT = 200
PANEL_WIDTH = 190  # a small multiple
PANEL_HEIGHT = 80
PANEL_COLUMNS = 4
BAR = "#3b6ea5"
REJECT = "#b5523b"
LINE = "#1d2733"

# Counts print as integers, with thousands separators: `0, 500, 1,000`. d3's `~s` gave every
# tick the prefix of the largest (`0k, 0.5k, 1k`): numbers a reader must convert.
COUNT_FORMAT = ",d"

# The class labels the distribution queries give, in the order the charts show them (sizes:
# the query gives its decades in order, sizes.sql).
AGE_ORDER = (
    "< 1 day",
    "1 – 7 days",
    "1 – 4 weeks",
    "1 – 3 months",
    "3 – 12 months",
    "1 – 2 years",
    "≥ 2 years",
    "unknown",
)
PAGES_ORDER = (
    "1",
    "2 – 10",
    "11 – 20",
    "21 – 50",
    "51 – 100",
    "101 – 200",
    "201 – 500",
    "> 500",
    "unknown",
)
PRICE_ORDER = ("free", "1", "2", "3 – 5", "6 – 10", "11 – 20", "21 – 50", "> 50", "unknown")
RATING_ORDER = (
    "< 1 (anomaly)",
    "1.0",
    "1.5",
    "2.0",
    "2.5",
    "3.0",
    "3.5",
    "4.0",
    "4.5",
    "5.0",
    "unknown",
)

# A self-closing mark element with its description: the tooltip is added as its child.
_MARK = re.compile(
    r'<(path|rect|circle|line)\b([^>]*?\saria-label="([^"]*)"[^>]*?role="graphics-symbol"[^>]*?)/>'
)


def svg(chart: alt.TopLevelMixin) -> str:
    """A chart as an inline SVG element, rendered offline, each mark titled with its tip.

    altair refuses data over 5,000 rows, a guard for charts that ship their data to a
    browser; the report bounds its charts' rows itself (panels × periods: 60 queries × 120
    months over ten years is 7,200) and ships marks, not data, so the guard is off here."""
    with alt.data_transformers.disable_max_rows():
        spec = chart.to_dict()
    rendered = vl_convert.vegalite_to_svg(spec)
    start = rendered.find("<svg")
    rendered = rendered[start:] if start >= 0 else rendered
    return _MARK.sub(r"<\1\2><title>\3</title></\1>", rendered)


def bars(
    frame: pl.DataFrame,
    category: str,
    count: str,
    *,
    order: Sequence[str] | None,
    title: str,
    unit: str = "documents",
    width: int = HALF_WIDTH,
) -> str:
    """Counts per class as vertical bars, each labelled with its count.

    With `order`, every class is drawn, zero or not, so charts of different warehouses
    compare at a glance; without, the frame's own order.
    """
    if order is not None:
        frame = (
            pl.DataFrame({category: list(order)}, schema={category: pl.String})
            .join(frame, on=category, how="left")
            .with_columns(pl.col(count).fill_null(0))
        )
    frame = _tipped(frame, pl.col(category), count, unit)
    sort = list(order) if order is not None else list(frame[category])
    many = frame.height > 8 or max((len(label) for label in sort), default=0) > 8
    base = alt.Chart(frame).encode(
        x=alt.X(
            f"{category}:N",
            sort=sort,
            title=title,
            axis=alt.Axis(labelAngle=-35 if many else 0, labelLimit=140),
        ),
        y=alt.Y(f"{count}:Q", title=unit, axis=count_axis(frame[count].max())),
        description="tip:N",
    )
    chart = base.mark_bar(color=BAR) + base.mark_text(dy=-6, fontSize=10).encode(
        text=alt.Text(f"{count}:Q", format=",")
    )
    return svg(chart.properties(width=width, height=HEIGHT))


def time_bars(
    frame: pl.DataFrame, value: str, *, unit: str, title: str, tips: pl.Expr, color: str = BAR
) -> str:
    """One bar per period (`period`, a UTC day: the first of its day, week or month).

    Each bar spans its period exactly (`start` to `end`), so a missing period is a visible gap.
    """
    frame = _periods(frame, unit).with_columns(tip=tips)
    chart = (
        alt.Chart(frame)
        .mark_bar(color=color)
        .encode(
            x=alt.X("start:T", title=f"{unit} (UTC)", scale=alt.Scale(type="utc"),
                    axis=_time_axis(frame, unit)),
            x2="end:T",
            y=alt.Y(f"{value}:Q", title=title, axis=count_axis(frame[value].max())),
            y2=alt.datum(0),
            description="tip:N",
        )
        .properties(width=FULL_WIDTH, height=HEIGHT)
    )  # fmt: skip
    return svg(chart)


def small_multiples(frame: pl.DataFrame, *, unit: str) -> str:
    """The result count of each query over time, one panel per query, each its own y scale.

    A shared y scale would flatten every small query against the largest; a shared x keeps
    the panels' times comparable. Panels come in the frame's order (most results first).
    """
    frame = _periods(frame, unit).with_columns(
        tip=pl.format(
            "{} · {} {}: {} (last fetch {} UTC; {} in the {})",
            "series",
            pl.lit(unit),
            "period",
            counted("total_results", "results"),
            "last_fetch_at",
            counted("fetches", "fetches", "fetch"),
            pl.lit(unit),
        )
    )
    order = list(dict.fromkeys(frame["series"]))
    base = alt.Chart().encode(
        x=alt.X("start:T", title=None, scale=alt.Scale(type="utc"),
                axis=_time_axis(frame, unit, ticks=4, labelFontSize=9)),
        y=alt.Y("total_results:Q", title=None, scale=alt.Scale(zero=False),
                axis=count_axis(tickCount=3, labelFontSize=9)),
    )  # fmt: skip
    layered = alt.layer(
        base.mark_line(color=LINE, strokeWidth=1.5).encode(description="series:N"),
        base.mark_circle(color=LINE, size=14, opacity=1).encode(description="tip:N"),
        data=frame,
    ).properties(width=PANEL_WIDTH, height=PANEL_HEIGHT)
    chart = (
        layered.facet(
            facet=alt.Facet("series:N", sort=order, title=None,
                            header=alt.Header(labelFontSize=11, labelLimit=PANEL_WIDTH + 20,
                                              labelFontWeight="bold")),
            columns=PANEL_COLUMNS,
            spacing={"row": 14, "column": 22},
        )
        .resolve_scale(y="independent")
        .resolve_axis(x="independent")
    )  # fmt: skip
    return svg(chart)


def reasons(frame: pl.DataFrame) -> str:
    """Reject reasons as horizontal bars, most frequent first."""
    frame = _tipped(
        frame.with_columns(pl.col("reason").str.slice(0, 60)),
        pl.format("{} · {}", "stage", "reason"),
        "rejects",
        "rejected fragments",
    )
    chart = (
        alt.Chart(frame)
        .mark_bar(color=REJECT)
        .encode(
            x=alt.X("rejects:Q", title="rejected fragments",
                    axis=count_axis(frame["rejects"].max())),
            y=alt.Y("reason:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
            description="tip:N",
        )
        .properties(width=FULL_WIDTH - 320, height=max(40, 22 * frame.height))
    )  # fmt: skip
    return svg(chart)


def count_axis(highest: Any = None, **style: Any) -> alt.Axis:
    """An axis of counts: integer ticks labelled as integers (`COUNT_FORMAT`).

    Vega ticks a short span at halves (0, 0.5, 1) whatever `tickMinStep` says, so with
    `highest` (the largest count drawn) below five the chart asks for as many ticks as that
    (0, 1, 2); a fraction left where that cannot be known (small multiples, each panel its
    own scale) keeps its tick and loses its label.
    """
    if isinstance(highest, int) and highest < 5:
        style.setdefault("tickCount", max(highest, 1))
    return alt.Axis(
        format=COUNT_FORMAT,
        tickMinStep=1,
        labelExpr="datum.value % 1 ? '' : datum.label",
        **style,
    )


_DATE_FORMAT = {"day": "%b %d", "month": "%b %Y", "year": "%Y"}
_STEP = {"day": "1d", "week": "1w", "month": "1mo"}


def _periods(frame: pl.DataFrame, unit: str) -> pl.DataFrame:
    """`start` and `end` of each row's `period`, so a bar spans exactly its day, week or month."""
    start = pl.col("period").str.to_date("%Y-%m-%d")
    return frame.with_columns(start=start, end=start.dt.offset_by(_STEP[unit]))


def _time_axis(frame: pl.DataFrame, unit: str, *, ticks: int = 12, **style: Any) -> alt.Axis:
    """A UTC time axis ticking on whole days, months or years, about `ticks` labels at most.

    Vega's own ticks fall on hours for a short span, which a date format prints as the same
    day twice; ticking on calendar intervals keeps one label per day, month or year.
    """
    if frame.is_empty():
        return alt.Axis(**style)
    # In polars: the bar of a fetch on 9999-12-31 ends in year 10000, past Python's dates.
    days = frame.select((pl.col("end").max() - pl.col("start").min()).dt.total_days()).item()
    if days <= 3 * ticks:
        interval, step = "day", -(-days // ticks)
    elif days <= 31 * 3 * ticks:
        interval, step = "month", -(-days // (30 * ticks))
    else:
        interval, step = "year", 1
    return alt.Axis(
        format=_DATE_FORMAT[interval],
        tickCount={"interval": interval, "step": max(1, step)},
        labelOverlap=True,
        **style,
    )


def _tipped(frame: pl.DataFrame, label: pl.Expr, count: str, unit: str) -> pl.DataFrame:
    return frame.with_columns(tip=pl.format("{}: {}", label, counted(count, unit)))


def counted(column: str, plural: str, singular: str | None = None) -> pl.Expr:
    """`1 document`, `12,345 documents`: a count column with its noun, for tooltips."""
    one = singular or plural.removesuffix("s")
    noun = pl.when(pl.col(column) == 1).then(pl.lit(one)).otherwise(pl.lit(plural))
    return pl.format("{} {}", thousands(column), noun)


def thousands(column: str) -> pl.Expr:
    """An integer column as text with thousands separators (`12,345`), for tooltips."""
    return (
        pl.col(column)
        .cast(pl.Int64)
        .map_elements(lambda value: f"{value:,}", return_dtype=pl.String)
        .fill_null("–")
    )
