"""The report's HTML pieces: the page, sections, tables, sparklines, and how values print.

Plain HTML and CSS, no script: `<details>` folds what a first reading skips (the SQL behind
a chart, the passing tests), `<title>` elements give tooltips. Every text from the data is
escaped here, once, so a title holding `<` or `&` cannot break the page.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

SPARK_WIDTH = 100
SPARK_HEIGHT = 22
SPARK_POINTS = 60  # a longer trend is thinned to this many points, first and last kept

Cell = Callable[[Any], str]  # renders one value of a column as HTML


def esc(value: object) -> str:
    return html.escape(fmt(value))


def fmt(value: object) -> str:
    """A value as the report prints it: thousands separators, UTC minutes, `–` for nothing."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value).replace("\n", " ").translate(_VISIBLE)


# C0 control characters (a binary fragment's NUL bytes) as their Unicode pictures (␀, ␁):
# visible, and not characters HTML forbids.
_VISIBLE = {code: 0x2400 + code for code in range(32) if chr(code) not in "\t\n"} | {0x7F: 0x2421}


def plural(count: int | None, noun: str, nouns: str | None = None) -> str:
    """`1 finding`, `3 findings` (`nouns` where adding an s is wrong)."""
    word = noun if count == 1 else (nouns or f"{noun}s")
    return f"{fmt(count)} {word}"


def clipped(limit: int, *, keep_end: bool = False) -> Cell:
    """A cell showing at most `limit` characters; the whole text is its tooltip.

    `keep_end` keeps the end instead of the start: a file path says most at its end.
    """

    def cell(value: object) -> str:
        text = fmt(value)
        if len(text) <= limit:
            return html.escape(text)
        shown = f"…{text[1 - limit :]}" if keep_end else f"{text[: limit - 1]}…"
        return f'<span title="{html.escape(text)}">{html.escape(shown)}</span>'

    return cell


def day(value: object) -> str:
    """A time as its UTC day; the minute is the tooltip (narrow columns in wide tables)."""
    if not isinstance(value, datetime):
        return esc(value)
    return f'<span class=nowrap title="{value:%Y-%m-%d %H:%M} UTC">{value:%Y-%m-%d}</span>'


def when(value: object) -> str:
    """A time to the minute, kept on one line."""
    return f"<span class=nowrap>{esc(value)}</span>"


def table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    cells: dict[str, Cell] | None = None,
    numeric: Sequence[str] = (),
    css: str = "",
) -> str:
    """A table of `rows` (dicts) showing `columns` as (key, heading) pairs."""
    if not rows:
        return ""
    cells = cells or {}
    head = "".join(
        f"<th{' class=num' if key in numeric else ''}>{html.escape(label)}</th>"
        for key, label in columns
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if key in numeric else ''}>{cells.get(key, esc)(row.get(key))}</td>"
            for key, _ in columns
        )
        + "</tr>"
        for row in rows
    )
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(
    anchor: str, title: str, caption: str, body: str, *, sql: str | None = None, css: str = ""
) -> str:
    """One chart or table with its heading, what it shows, and the SQL behind it, folded."""
    folded = (
        '<details class="sql"><summary>SQL behind this</summary>'
        f"<pre><code>{html.escape(sql)}</code></pre></details>"
        if sql
        else ""
    )
    klass = f"card {css}".strip()
    return (
        f'<section class="{klass}" id="{anchor}"><h3>{html.escape(title)}</h3>'
        f'<p class="caption">{caption}</p>{body}{folded}</section>'
    )


def group(anchor: str, title: str, parts: Sequence[str], *, grid: bool = False) -> str:
    """A heading over sections; `grid` sets them two to a row."""
    inner = "".join(parts)
    if grid:
        inner = f'<div class="grid">{inner}</div>'
    return f'<section class="group" id="{anchor}"><h2>{html.escape(title)}</h2>{inner}</section>'


def empty(message: str) -> str:
    return f'<p class="empty">{html.escape(message)}</p>'


def badge(text: str, kind: str) -> str:
    return f'<span class="badge {kind}">{html.escape(text)}</span>'


def sparkline(values: Sequence[int | None] | None) -> str:
    """A tiny line of a series, no axes: its shape at a glance; the tooltip gives its ends."""
    points = [v for v in values or () if v is not None]
    if len(points) < 2:
        return '<span class="muted">one fetch</span>' if points else "–"
    if len(points) > SPARK_POINTS:
        step = (len(points) - 1) / (SPARK_POINTS - 1)
        points = [points[round(i * step)] for i in range(SPARK_POINTS)]
    low, high = min(points), max(points)
    spread = (high - low) or 1
    xy = " ".join(
        f"{i * (SPARK_WIDTH - 4) / (len(points) - 1) + 2:.1f},"
        f"{SPARK_HEIGHT - 2 - (v - low) * (SPARK_HEIGHT - 4) / spread:.1f}"
        for i, v in enumerate(points)
    )
    tip = f"{points[0]:,} → {points[-1]:,} (low {low:,}, high {high:,})"
    return (
        f'<svg class="spark" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" '
        f'viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" role="img" aria-label="{tip}">'
        f"<title>{tip}</title>"
        f'<polyline points="{xy}" fill="none" stroke="#3b6ea5" stroke-width="1.5"/></svg>'
    )


def page(*, header: str, body: str) -> str:
    return _PAGE.replace("{header}", header).replace("{body}", body)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Listings report</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
         sans-serif; margin: 1.5rem auto; max-width: 1000px; color: #1d2733; padding: 0 1rem;
         line-height: 1.4; }
  h1 { margin-bottom: 0.4rem; }
  h2 { margin: 2.2rem 0 0.2rem; padding-bottom: 0.2rem; border-bottom: 2px solid #d8dee6; }
  h3 { margin: 1.4rem 0 0.2rem; font-size: 1.05rem; }
  code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
              font-size: 0.8rem; }
  .meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem;
          margin: 0 0 1rem; font-size: 0.9rem; }
  .meta dt { color: #5a6675; }
  .meta dd { margin: 0; overflow-wrap: anywhere; }
  .tiles { display: grid; grid-template-columns: repeat(5, 1fr); gap: 0.6rem; }
  .tile { border: 1px solid #d8dee6; border-radius: 6px; padding: 0.5rem 0.7rem; }
  .tile b { display: block; font-size: 1.35rem; }
  .tile span { color: #5a6675; font-size: 0.8rem; }
  nav { margin-top: 1rem; font-size: 0.9rem; }
  nav a { margin-right: 1rem; }
  .caption { color: #5a6675; font-size: 0.88rem; margin: 0 0 0.5rem; }
  .empty { font-style: italic; color: #5a6675; }
  .muted { color: #8a95a3; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1.5rem; }
  .grid .card { min-width: 0; }
  .alert { border: 2px solid #b5523b; background: #fbf1ee; border-radius: 6px;
           padding: 0.8rem 1rem; margin: 1rem 0; }
  .alert h2 { border: 0; margin: 0 0 0.4rem; color: #8c3520; }
  table { border-collapse: collapse; margin-top: 0.5rem; font-size: 0.8rem; width: 100%; }
  th, td { border-bottom: 1px solid #e3e8ee; padding: 0.25rem 0.45rem; text-align: left;
           vertical-align: top; }
  th { background: #f3f6f9; font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.num { white-space: nowrap; }
  td { overflow-wrap: break-word; }
  .nowrap { white-space: nowrap; }
  details { margin: 0.4rem 0; }
  details.sql summary, details.more summary { color: #3b6ea5; cursor: pointer;
                                              font-size: 0.82rem; }
  details pre { background: #f6f8fa; border: 1px solid #e3e8ee; border-radius: 4px;
                padding: 0.6rem; overflow-x: auto; white-space: pre; }
  .badge { display: inline-block; border-radius: 3px; padding: 0 0.35rem; font-size: 0.75rem;
           font-weight: 600; color: #fff; background: #5a6675; }
  .badge.PASS, .badge.low { background: #3d7a4f; }
  .badge.WARN, .badge.medium { background: #b07d12; }
  .badge.FAIL, .badge.high { background: #b5523b; }
  .kind { margin-top: 0.9rem; }
  .kind h4 { margin: 0; font-size: 0.92rem; }
  svg { max-width: 100%; height: auto; }
  svg.spark { vertical-align: middle; }
  svg [role="graphics-symbol"]:hover { opacity: 0.6; }
</style>
</head>
<body>
{header}
{body}
</body>
</html>
"""
