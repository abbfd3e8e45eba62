"""The HTML report over a warehouse (`listings report`, a run's `data/report.html`).

This module decides what the page shows and in which order; `data` runs the queries in
`queries/` (`data_tests` reads the data tests' outcomes the build stored), `charts` draws
static SVG, `html` writes the page's pieces. One self-contained file, no script: why, in
docs/warehouse.md, "The report and the docs page".
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipeline import atomic
from pipeline.report import charts
from pipeline.report import data as report_data
from pipeline.report import html as h
from pipeline.report.data import (
    FINDING_EXAMPLES,
    MAX_QUERY_ROWS,
    MOST_SEEN,
    ReportData,
    Result,
    load,
)
from pipeline.report.data_tests import TestRun
from pipeline.warehouse.artifacts import ARTIFACTS_TABLE, RUN_RESULTS

__all__ = ["load", "render", "write"]


def write(db: Path, out: Path, *, generated_at: datetime | None = None) -> Path:
    """Write the report for a warehouse file; atomic, so a reader never sees half a file."""
    page = render(load(db, generated_at=generated_at))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out, page)
    return out


def render(data: ReportData) -> str:
    """The whole HTML page as one string: inline CSS, inline SVG charts, escaped text."""
    if data.is_empty:
        body = _quality(data, only_tests=True)
    else:
        body = "".join((_queries(data), _volume(data), _documents(data), _quality(data)))
    return h.page(header=_header(data), body=body)


def _header(data: ReportData) -> str:
    about, totals = data.provenance, data.totals
    span = (
        f"{h.fmt(totals['first_fetch_at'])} to {h.fmt(totals['last_fetch_at'])} UTC"
        if totals["first_fetch_at"] is not None
        else "no fetches"
    )
    built = about.warehouse_built_at
    meta = [
        ("Generated", f"{about.generated_at:%Y-%m-%d %H:%M:%S} UTC"),
        ("Warehouse", f"<code>{html.escape(str(about.warehouse))}</code>"
                      + (f" (built {built:%Y-%m-%d %H:%M} UTC)" if built else "")),
        ("Lake", _lake(data)),
        ("Fetches", html.escape(span)),
    ]  # fmt: skip
    tests = data.tests
    tiles = [
        (totals["snapshots"], "snapshots (pages)"),
        (totals["listings"], "listings"),
        (totals["rejects"], "rejected fragments"),
        (totals["documents"], "documents"),
        (totals["queries"], "queries"),
        (totals["fetches"], "fetches (crawls)"),
        (totals["sites"], "sites"),
        (totals["findings"], "data-quality findings"),
        (totals["high_findings"], "high-severity findings"),
        (
            f"{tests.count('PASS')}/{len(tests.outcomes)}",
            "data tests pass" + (f", {tests.count('WARN')} warn" if tests.count("WARN") else "")
            + (f", {tests.count('FAIL')} fail" if tests.count("FAIL") else ""),
        ),
    ]  # fmt: skip
    nav = (
        ""
        if data.is_empty
        else "<nav>"
        + "".join(
            f'<a href="#{anchor}">{label}</a>'
            for anchor, label in (
                ("queries", "Queries"),
                ("volume", "Volume"),
                ("documents", "Documents"),
                ("quality", "Data quality"),
            )
        )
        + "</nav>"
    )
    return (
        "<header><h1>Listings report</h1>"
        '<dl class="meta">'
        + "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in meta)
        + "</dl>"
        + (_empty_warehouse(data) if data.is_empty else "")
        + '<div class="tiles">'
        + "".join(
            f'<div class="tile"><b>{h.esc(value)}</b><span>{html.escape(label)}</span></div>'
            for value, label in tiles
        )
        + f"</div>{nav}</header>"
    )


def _lake(data: ReportData) -> str:
    lake = data.provenance.lake
    if lake is None:
        return '<span class="muted">not recorded (the warehouse predates it)</span>'
    return f"<code>{html.escape(lake)}</code> (as the build named it)"


def _empty_warehouse(data: ReportData) -> str:
    lake = data.provenance.lake
    where = (
        f"the lake at <code>{html.escape(lake)}</code>"
        if lake is not None
        else "a lake it does not record"
    )
    return (
        '<div class="alert" id="empty"><h2>This warehouse is empty — was the lake path right?</h2>'
        f"<p>It was built from {where}, which held no snapshots at the time. If that is not "
        "the lake your runs write to, rebuild from the right one: "
        "<code>listings build --lake DIR --db "
        f"{html.escape(str(data.provenance.warehouse))}</code>, then "
        "<code>listings report</code> again. If it is, no run has committed a snapshot to it "
        "yet: <code>listings normalise INPUT --out DIR</code> fills it.</p></div>"
    )


# --- queries -----------------------------------------------------------------------------


def _queries(data: ReportData) -> str:
    trend = data["results_per_query"]
    frame = trend.frame
    if frame.is_empty():
        body = h.empty(
            "No query has a result count on two fetches yet, so there is no trend to draw: "
            "each query's single count is in the table below."
        )
        more = ""
    else:
        body = charts.small_multiples(frame, unit=data.trend_unit)
        drawn, wanted = frame["series"].n_unique(), frame["panels_wanted"][0]
        more = (
            f" The {drawn} with the most results are drawn; the other {wanted - drawn} are in "
            "the table below."
            if wanted > drawn
            else ""
        )
    chart = h.section(
        "results-per-query",
        "Results per query over time",
        html.escape(
            "The site's result count (footer 共 N 条) of each query, one panel per query with "
            f"its own scale, largest first; a point per {data.trend_unit} (the last fetch in "
            "it). Queries fetched once have no line: see the table. Point at a point for its "
            f"numbers.{more}"
        ),
        body,
        sql=trend.query.shown,
    )
    listing = data["queries"]
    rows = listing.frame.to_dicts()
    for row in rows:
        row["name"] = (
            f"<b>{h.esc(row['query'])}</b><br><span class=muted>{h.esc(row['site'])}</span>"
        )
        row["coverage"] = _coverage(row["last_crawl_pages"], row["last_page"])
        row["ever"] = _coverage(row["pages_ever_seen"], row["last_page"])
        row["change"] = _change(row["first_results"], row["latest_results"], row["fetches"])
    shown = (
        f" The {MAX_QUERY_ROWS} with the most results are listed."
        if len(rows) >= MAX_QUERY_ROWS
        else ""
    )
    table = h.section(
        "per-query",
        "Per query",
        html.escape(
            "Each query of each site: its crawls, how many of the pages its last footer "
            "announced (last_page) the last crawl and all crawls together covered, and its "
            f"result count from the first fetch to the latest.{shown}"
        ),
        h.table(
            rows,
            [
                ("name", "Query · site"),
                ("fetches", "Fetches"),
                ("first_fetch_at", "First fetch"),
                ("last_fetch_at", "Last fetch"),
                ("coverage", "Pages, last crawl"),
                ("ever", "Pages, all crawls"),
                ("listings_seen", "Listings"),
                ("latest_results", "Results now"),
                ("change", "Since first fetch"),
                ("trend", "Trend"),
            ],
            cells={
                "trend": h.sparkline,
                "name": str,
                "first_fetch_at": h.day,
                "last_fetch_at": h.day,
            },
            numeric=("fetches", "listings_seen", "latest_results", "change", "coverage", "ever"),
        ),
        sql=listing.query.shown,
    )
    return h.group("queries", "Queries", [chart, table, _rank_movement(data["rank_movement"])])


def _rank_movement(movement: Result) -> str:
    """Per query, the documents that climbed or fell most between their first and last
    sightings: a block per query (its heading, then its movers, climbs first)."""
    frame = movement.frame
    if frame.is_empty():
        body = h.empty(
            "No document has changed its rank in a query yet: a rank moves between two "
            "fetches of the same query that both list the document."
        )
        shown = ""
    else:
        blocks = []
        for (site, query), movers in frame.partition_by(
            "site", "query", as_dict=True, maintain_order=True
        ).items():
            rows = movers.to_dicts()
            for row in rows:
                row["move"] = _move(row["places_climbed"])
                row["span"] = f"{row['first_rank']:,} → {row['last_rank']:,}"
            blocks.append(
                f'<div class="kind"><h4>{html.escape(str(query))} · '
                f'<span class="muted">{html.escape(str(site))}</span></h4>'
                + h.table(
                    rows,
                    [
                        ("document", "Document"),
                        ("move", "Moved"),
                        ("span", "Rank, first → last"),
                        ("fetches", "Fetches"),
                        ("first_seen_at", "First seen"),
                        ("last_seen_at", "Last seen"),
                    ],
                    cells={
                        "document": h.clipped(70),
                        "first_seen_at": h.day,
                        "last_seen_at": h.day,
                    },
                    numeric=("move", "span", "fetches"),
                )
                + "</div>"
            )
        body = "".join(blocks)
        moving, drawn = frame["queries_moving"][0], len(blocks)
        shown = (
            f" Shown: the {h.plural(drawn, 'query', 'queries')} with the largest moves, of "
            f"{moving} with a move."
            if moving > drawn
            else ""
        )
    return h.section(
        "rank-movement",
        "Rank movement",
        html.escape(
            "Per query, the documents that climbed or fell most in its results between the "
            "first fetch that listed them and the last: their rank over all pages then and "
            f"now, up to {report_data.MOVERS} climbing and {report_data.MOVERS} falling, largest "
            "move first. A "
            f"document listed by one fetch only has not moved.{shown}"
        ),
        body,
        sql=movement.query.shown,
    )


def _move(places: int) -> str:
    """`▲ 3` for a climb of three places, `▼ 2` for a fall of two."""
    return f"{'▲' if places > 0 else '▼'} {abs(places):,}"


def _coverage(seen: int | None, last_page: int | None) -> str:
    if seen is None:
        return "–"
    if not last_page:
        return f"{seen:,} of ?"
    share = min(seen / last_page, 1)
    return (
        f"{seen:,} of {last_page:,} ({share:.1%})"
        if share < 0.1
        else (f"{seen:,} of {last_page:,} ({share:.0%})")
    )


def _change(first: int | None, latest: int | None, fetches: int) -> str:
    if first is None or latest is None or fetches < 2:
        return "–"
    delta = latest - first
    if not first:
        return f"{delta:+,}"
    return f"{delta:+,} ({delta / first:+.0%})"


# --- volume ------------------------------------------------------------------------------


def _volume(data: ReportData) -> str:
    unit = data.unit
    volume = data["volume"]
    fetched = h.section(
        "listings-per-period",
        f"Listings fetched per {unit}",
        html.escape(
            f"Listings on the pages fetched each {unit} (UTC), all queries together. A gap is "
            f"a {unit} without a fetch; a sudden drop usually means the crawler changed."
        ),
        charts.time_bars(
            volume.frame,
            "listings",
            unit=unit,
            title="listings",
            tips=pl.format(
                "{} {}: {} on {} in {}",
                pl.lit(unit),
                "period",
                charts.counted("listings", "listings"),
                charts.counted("pages", "pages"),
                charts.counted("fetches", "fetches", "fetch"),
            ),
        ),
        sql=volume.query.shown,
    )
    new = data["new_documents"]
    first_seen = h.section(
        "new-documents",
        f"New documents per {unit}",
        html.escape(f"Documents by the {unit} (UTC) they were first seen in any snapshot."),
        charts.time_bars(
            new.frame,
            "new_documents",
            unit=unit,
            title="new documents",
            tips=pl.format(
                "{} {}: {}",
                pl.lit(unit),
                "period",
                charts.counted("new_documents", "new documents", "new document"),
            ),
        ),
        sql=new.query.shown,
    )
    return h.group("volume", "Volume", [fetched, first_seen])


# --- documents ---------------------------------------------------------------------------


def _documents(data: ReportData) -> str:
    def distribution(
        name: str,
        title: str,
        caption: str,
        category: str,
        order: tuple[str, ...] | None,
        x: str,
        *,
        none_shown: str,
        missing: str = "unknown",
    ) -> str:
        """A distribution's bars; a sentence instead when every document is in its
        `missing` class (`none_shown`, told how many): one bar saying nothing is known
        is no chart."""
        result = data[name]
        frame = result.frame
        total = frame["documents"].sum()
        if total and frame.filter(pl.col(category) == missing)["documents"].sum() == total:
            body = h.empty(none_shown.format(documents=h.plural(total, "document")))
        else:
            body = charts.bars(frame, category, "documents", order=order, title=x)
        return h.section(name, title, html.escape(caption), body, sql=result.query.shown)

    grid = [
        distribution("sizes", "Size",
                     "By size as last shown, a class per decade in the site's units "
                     "(KB = 1,024 bytes), from the smallest size to the largest; an empty file "
                     "(0 B) apart.",
                     "size_class", None, "size",
                     none_shown="No page showed the size of any of the {documents}."),
        distribution("ages", "Upload age",
                     "Age at the last sighting, from the middle of the upload interval "
                     "intersected across every snapshot; unknown where the page hid the age or "
                     "the snapshots contradict each other.",
                     "age_class", charts.AGE_ORDER, "age",
                     none_shown="The upload age of none of the {documents} is known: their "
                                "pages hid it, or their snapshots contradict each other."),
        distribution("pages", "Pages", "By page count as last shown.",
                     "pages_class", charts.PAGES_ORDER, "pages",
                     none_shown="No page showed the page count of any of the {documents}."),
        distribution("prices", "Price", "By price as last shown, in the site's credits.",
                     "price_class", charts.PRICE_ORDER, "price",
                     none_shown="No page showed the price of any of the {documents}."),
        distribution("ratings", "Rating",
                     "By rating as last shown, in half stars (3.5 holds 3.5 up to 4); below 1 "
                     "is a rating no vote gives.",
                     "rating_class", charts.RATING_ORDER, "rating",
                     none_shown="No page showed the rating of any of the {documents}."),
        distribution("file_types", "File type",
                     "By the extension an HTML or API JSON page showed; text pages show none.",
                     "file_type", None, "file type",
                     none_shown="No page showed a file type: the {documents} were seen on "
                                "text pages only, which show none.",
                     missing="not shown (text pages)"),
    ]  # fmt: skip
    seen = data["most_seen_documents"]
    most_seen = h.section(
        "most-seen",
        "Most-seen documents",
        html.escape(
            f"The {MOST_SEEN} documents seen in the most snapshots: what the site ranks high, "
            "fetch after fetch."
        ),
        h.table(
            seen.frame.to_dicts(),
            [
                ("document", "Document"),
                ("site", "Site"),
                ("file_type", "Type"),
                ("pages", "Pages"),
                ("price", "Price"),
                ("rating", "Rating"),
                ("times_seen", "Snapshots"),
                ("queries", "Queries"),
                ("first_seen_at", "First seen"),
                ("last_seen_at", "Last seen"),
            ],
            cells={"document": h.clipped(70), "first_seen_at": h.day, "last_seen_at": h.day},
            numeric=("pages", "price", "rating", "times_seen", "queries"),
        ),
        sql=seen.query.shown,
    )
    return h.group("documents", "Documents", grid, grid=True) + most_seen


# --- data quality ------------------------------------------------------------------------


def _quality(data: ReportData, *, only_tests: bool = False) -> str:
    parts = [_tests(data.tests)]
    if not only_tests:
        parts += [_findings(data["findings_by_kind"], data["finding_examples"]), _rejects(data)]
    return h.group("quality", "Data quality", parts)


def _tests(tests: TestRun) -> str:
    if tests.problem is not None:
        return h.section("data-tests", "Data tests", html.escape(tests.problem), "")
    rows: list[dict[str, Any]] = [
        {**outcome.__dict__, "badge": h.badge(outcome.status, outcome.status)}
        for outcome in tests.outcomes
    ]
    columns = [
        ("badge", "Status"),
        ("name", "Test"),
        ("model", "Model"),
        ("severity", "Severity"),
        ("offending_rows", "Offending rows"),
    ]
    cells = {"badge": str, "name": h.clipped(70)}
    flagged = [row for row in rows if row["status"] != "PASS"]
    passing = [row for row in rows if row["status"] == "PASS"]
    details = "".join(
        f'<details class="more"><summary>{html.escape(o.name)}: '
        f"{h.plural(o.offending_rows, 'offending row')}, declared in {html.escape(o.path)}"
        "</summary>"
        + (
            h.table(o.examples.to_dicts(), [(c, c) for c in o.examples.columns])
            if o.examples.height
            else ""
        )
        + (
            f"<p>Every failing row is kept in <code>{html.escape(o.kept_in)}</code>: "
            f"<code>listings sql &quot;select * from {html.escape(o.kept_in)}&quot;</code></p>"
            if o.kept_in
            else ""
        )
        + f"<pre><code>{html.escape(o.sql)}</code></pre></details>"
        for o in tests.outcomes
        if o.status in ("WARN", "FAIL")
    )
    summary = (
        f"{len(tests.outcomes)} tests from <code>dbt_like_sql/</code>: "
        f"{tests.count('PASS')} pass, {tests.count('WARN')} warn, {tests.count('FAIL')} fail"
        f". As the build that wrote this warehouse ran them ({tests.seconds:.1f} s) and stored "
        f"them in it (<code>{RUN_RESULTS}</code>, in <code>{ARTIFACTS_TABLE}</code>)"
        + (
            f"; it updated the warehouse, so {tests.incremental} of them read only the rows "
            "it changed"
            if tests.incremental
            else ""
        )
        + ". A warning flags the input (bad data is never a reason to withhold the "
        "warehouse); a failure, a broken pipeline invariant."
    )
    body = h.table(flagged, columns, cells=cells, numeric=("offending_rows",)) + details
    if passing:
        body += (
            f'<details class="more"><summary>{len(passing)} passing tests</summary>'
            + h.table(passing, columns, cells=cells, numeric=("offending_rows",))
            + "</details>"
        )
    return h.section("data-tests", "Data tests", summary, body)


def _findings(kinds: Result, examples: Result) -> str:
    if kinds.frame.is_empty():
        body = h.empty("No findings: nothing in the data contradicts itself.")
    else:
        by_kind = examples.frame.partition_by("finding", as_dict=True, maintain_order=True)
        blocks = []
        for kind in kinds.frame.iter_rows(named=True):
            shown = by_kind.get((kind["finding"],), pl.DataFrame()).to_dicts()
            for row in shown:  # a snapshot is named by its file, whose end says most
                clip = h.clipped(50, keep_end=row["subject_kind"] == "snapshot")
                row["label"] = clip(row["subject_label"])
            blocks.append(
                '<div class="kind"><h4>'
                + h.badge(kind["severity"], kind["severity"])
                + f" {html.escape(kind['finding'])} · {h.plural(kind['findings'], 'finding')} "
                f"on {h.plural(kind['subjects'], 'subject')}, last seen "
                f"{h.fmt(kind['last_seen_at'])} UTC</h4>"
                + h.table(
                    shown,
                    [
                        ("subject_kind", "Subject"),
                        ("subject_id", "Id"),
                        ("label", "What"),
                        ("detail", "Detail"),
                        ("seen_at", "Seen (UTC)"),
                    ],
                    cells={
                        "label": str,
                        "detail": h.clipped(160),
                        "seen_at": h.when,
                    },
                )
                + "</div>"
            )
        body = "".join(blocks)
    return h.section(
        "findings",
        "Data-quality findings by kind",
        html.escape(
            "From rpt_data_quality, worst severity first: how many of each kind, and its "
            f"{FINDING_EXAMPLES} worst examples (largest contradiction first). Bad data is "
            "flagged, never silently fixed."
        ),
        body,
        sql=f"{kinds.query.shown}\n\n{examples.query.shown}",
    )


def _rejects(data: ReportData) -> str:
    result = data["reject_reasons"]
    if result.frame.is_empty():
        body = h.empty("No rejected fragments: every byte went to a listing or a footer.")
    else:
        body = charts.reasons(result.frame) + h.table(
            result.frame.to_dicts(),
            [("stage", "Stage"), ("reason", "Reason"), ("rejects", "Fragments"),
             ("example_fragment", "Example")],
            cells={"example_fragment": h.clipped(90)},
            numeric=("rejects",),
        )  # fmt: skip
    return h.section(
        "rejects",
        "Reject reasons",
        "Fragments of snapshots that were not a listing or the footer, by reason.",
        body,
        sql=result.query.shown,
    )
