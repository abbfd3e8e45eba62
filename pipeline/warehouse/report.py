"""One self-contained HTML report over the warehouse marts, for people who do not write SQL.

Charts are drawn with altair and rendered to SVG by vl-convert (which bundles the Vega
engine), then inlined: the file needs no network, no JavaScript and no other file to open,
so it can be mailed, attached to a ticket or archived with the data it describes. Every
number comes from a mart (`dim_documents`, `fct_query_snapshots`, `rpt_rejects`,
`rpt_data_quality`), never from the lake directly, so the report and `listings sql` agree.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import polars as pl
import vl_convert

from pipeline.errors import ReportError
from pipeline.warehouse import database

CHART_WIDTH = 560
CHART_HEIGHT = 220
TOP_REASONS = 10
TOP_FINDINGS = 20
REQUIRED = ("dim_documents", "fct_query_snapshots", "rpt_rejects", "rpt_data_quality")

# The queries behind the report, one .sql file each, beside this module.
QUERIES = Path(__file__).with_name("report_queries")
# The class labels sizes.sql and ages.sql give, in the order the charts show them.
SIZE_ORDER = ("< 100 KB", "100 KB – 1 MB", "1 – 10 MB", "10 – 100 MB", "100 MB – 1 GB", "≥ 1 GB")

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


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, as small frames read from the marts."""

    totals: Mapping[str, object]
    sizes: pl.DataFrame
    ages: pl.DataFrame
    results_over_time: pl.DataFrame
    new_documents_per_day: pl.DataFrame
    reject_reasons: pl.DataFrame
    findings_by_kind: pl.DataFrame
    worst_findings: pl.DataFrame


def write(db: Path, out: Path) -> Path:
    """Write the report for a warehouse file; atomic, so a reader never sees half a file."""
    page = render(load(db))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out


def load(db: Path) -> ReportData:
    """Read the report's numbers from the marts on a read-only connection."""
    con = database.connect(db, read_only=True)
    try:
        present = {row[0] for row in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        missing = [name for name in REQUIRED if name not in present]
        if missing:
            raise ReportError(
                f"{db} has no {', '.join(missing)}: build the models first (`listings build`)"
            )

        def frame(name: str, **params: object) -> pl.DataFrame:
            sql = (QUERIES / f"{name}.sql").read_text(encoding="utf-8")
            return con.sql(sql, params=params or None).pl()

        totals = frame("totals").row(0, named=True)
        sizes = frame("sizes")
        ages = frame("ages")
        results_over_time = frame("results_over_time")
        new_documents_per_day = frame("new_documents_per_day")
        reject_reasons = frame("reject_reasons", limit=TOP_REASONS)
        findings_by_kind = frame("findings_by_kind")
        worst_findings = frame("worst_findings", limit=TOP_FINDINGS)
    finally:
        con.close()
    return ReportData(
        totals,
        sizes,
        ages,
        results_over_time,
        new_documents_per_day,
        reject_reasons,
        findings_by_kind,
        worst_findings,
    )


def render(data: ReportData) -> str:
    """The whole HTML page as one string: inline CSS, inline SVG charts, escaped text."""
    totals = data.totals
    span = (
        f"{_fmt(totals['first_fetch_at'])} to {_fmt(totals['last_fetch_at'])} (UTC)"
        if totals["first_fetch_at"] is not None
        else "no snapshots yet"
    )
    tiles = "".join(
        f'<div class="tile"><b>{_fmt(totals[key])}</b><span>{label}</span></div>'
        for key, label in (
            ("snapshots", "snapshots"),
            ("listings", "listings"),
            ("documents", "documents"),
            ("queries", "queries"),
            ("fetches", "fetches"),
            ("sites", "sites"),
            ("rejects", "rejected fragments"),
            ("high_findings", "high-severity findings"),
        )
    )
    sections = [
        _section(
            "Document sizes",
            "Documents by size class (size as last shown; classes by powers of ten).",
            _bar_chart(data.sizes, "size_class", "documents", SIZE_ORDER, "Size"),
        ),
        _section(
            "Upload age",
            "Documents by age at their last sighting, from the middle of the upload interval "
            "intersected across every snapshot; unknown where the page hid the age or the "
            "snapshots contradict each other.",
            _bar_chart(data.ages, "age_class", "documents", AGE_ORDER, "Age"),
        ),
        _section(
            "Results per query over time",
            "The site's result count (footer `共 N 条`) at each fetch of each query.",
            _line_chart(data.results_over_time),
        ),
        _section(
            "New documents per day",
            "Documents by the UTC day they were first seen in any snapshot.",
            _bar_chart(
                data.new_documents_per_day,
                "first_seen_date",
                "new_documents",
                None,
                "First seen (UTC day)",
            ),
        ),
        _section(
            "Top reject reasons",
            "Fragments of snapshots that were not a listing or the footer, by reason.",
            _reasons_chart(data.reject_reasons) + _table(data.reject_reasons),
        ),
        _section(
            "Worst data-quality findings",
            "From rpt_data_quality: high severity first, then by how far the data "
            "contradicts itself. Bad data is flagged, never silently fixed.",
            _table(data.findings_by_kind) + _table(data.worst_findings),
        ),
    ]
    return _PAGE.format(span=html.escape(span), tiles=tiles, sections="\n".join(sections))


def svg(chart: alt.TopLevelMixin) -> str:
    """An altair chart as an inline SVG element, rendered offline by vl-convert."""
    rendered = vl_convert.vegalite_to_svg(chart.to_dict())
    start = rendered.find("<svg")
    return rendered[start:] if start >= 0 else rendered


def _bar_chart(
    frame: pl.DataFrame, category: str, count: str, order: Sequence[str] | None, title: str
) -> str:
    if frame.is_empty():
        return _empty("No documents yet.")
    if order is not None:
        # every class, zero or not, so charts of different lakes compare at a glance
        frame = (
            pl.DataFrame({category: list(order)})
            .join(frame, on=category, how="left")
            .with_columns(pl.col(count).fill_null(0))
        )
    chart = (
        alt.Chart(frame)
        .mark_bar(color="#3b6ea5")
        .encode(
            x=alt.X(
                f"{category}:N",
                sort=list(order) if order else None,
                title=title,
                axis=alt.Axis(labelAngle=0 if order else -40),
            ),
            y=alt.Y(f"{count}:Q", title=count.replace("_", " "), axis=alt.Axis(tickMinStep=1)),
            tooltip=[category, count],
        )
        .properties(width=CHART_WIDTH, height=CHART_HEIGHT)
    )
    labels = chart.mark_text(dy=-6, fontSize=11).encode(text=f"{count}:Q")
    return svg(chart + labels)


def _line_chart(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return _empty("No fetch has a result count yet.")
    chart = (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(size=60))
        .encode(
            x=alt.X("fetched_at:T", title="Fetch started (UTC)"),
            y=alt.Y("total_results:Q", title="results", scale=alt.Scale(zero=True)),
            color=alt.Color("query:N", title="Query · site"),
            tooltip=["query", "fetched_at", "total_results"],
        )
        .properties(width=CHART_WIDTH, height=CHART_HEIGHT)
    )
    return svg(chart)


def _reasons_chart(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return _empty("No rejected fragments: every byte went to a listing or a footer.")
    chart = (
        alt.Chart(frame.with_columns(pl.col("reason").str.slice(0, 60)))
        .mark_bar(color="#b5523b")
        .encode(
            x=alt.X("rejects:Q", title="rejected fragments", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("reason:N", sort="-x", title=None),
            tooltip=["stage", "reason", "rejects"],
        )
        .properties(width=CHART_WIDTH - 160, height=max(60, 24 * frame.height))
    )
    return svg(chart)


def _table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return ""
    head = "".join(f"<th>{html.escape(name)}</th>" for name in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(value))}</td>" for value in row) + "</tr>"
        for row in frame.iter_rows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _section(title: str, caption: str, body: str) -> str:
    return (
        f"<section><h2>{html.escape(title)}</h2>"
        f'<p class="caption">{html.escape(caption)}</p>{body}</section>'
    )


def _empty(message: str) -> str:
    return f'<p class="empty">{html.escape(message)}</p>'


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")  # type: ignore[union-attr]
    return str(value).replace("\n", " ")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Listings report</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
         sans-serif; margin: 2rem auto; max-width: 1000px; color: #1d2733; padding: 0 1rem; }}
  h1 {{ margin-bottom: 0.2rem; }}
  .span {{ color: #5a6675; margin-top: 0; }}
  .tiles {{ display: grid; grid-template-columns: repeat(4, 1fr); gap: 0.75rem; }}
  .tile {{ border: 1px solid #d8dee6; border-radius: 6px; padding: 0.6rem 0.8rem; }}
  .tile b {{ display: block; font-size: 1.5rem; }}
  .tile span {{ color: #5a6675; font-size: 0.85rem; }}
  section {{ margin-top: 2rem; }}
  .caption {{ color: #5a6675; font-size: 0.9rem; }}
  .empty {{ font-style: italic; color: #5a6675; }}
  table {{ border-collapse: collapse; margin-top: 0.8rem; font-size: 0.82rem; width: 100%; }}
  th, td {{ border-bottom: 1px solid #e3e8ee; padding: 0.3rem 0.5rem; text-align: left;
           vertical-align: top; }}
  th {{ background: #f3f6f9; }}
  svg {{ max-width: 100%; height: auto; }}
</style>
</head>
<body>
<h1>Listings report</h1>
<p class="span">Snapshots fetched {span}</p>
<div class="tiles">{tiles}</div>
{sections}
</body>
</html>
"""
