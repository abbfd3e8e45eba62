"""The HTML report: one self-contained file, every chart a real inline SVG drawing.

Here: what each section holds, to the number, over the sample pages (plus one unreadable
file, for a reject and a high finding), over a generated two-week corpus (the per-query
trend), over an empty warehouse and over a warehouse whose tests fail. That a browser draws
it is test_report_browser.py; how it looks, scripts/report_screenshots.py (docs/report/).
"""

from __future__ import annotations

import html
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from benchmarks import generate
from pipeline import cli
from pipeline.errors import DataTestFailure
from pipeline.ingest import metadata
from pipeline.report import data as report_data
from pipeline.report import html as report_html
from pipeline.report import page as report
from pipeline.run import run
from pipeline.warehouse import database
from pipeline.warehouse.project import DEFAULT_PROJECT, load_project
from tests.conftest import RAW, SAMPLE_FETCHED_AT, empty_lake, write_snapshot

GENERATED_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def build_sample(root: Path) -> Path:
    """The report over the sample folder plus one unreadable file; returns the HTML file."""
    raw = root / "raw"
    shutil.copytree(RAW, raw)  # the sample pages (the real one in 3 forms) and their sidecars
    write_snapshot(raw, "junk.txt", b"\x00\x01\x02", SAMPLE_FETCHED_AT)
    lake_dir, db = root / "lake", root / "warehouse.duckdb"
    run.normalise_paths([raw], lake_dir, metadata.ReadOptions())
    database.build(lake_dir, db)
    return report.write(db, root / "out" / "report.html", generated_at=GENERATED_AT)


# The sample is built in a folder named long on purpose: the unreadable file's path is then
# longer than the report's 50-character cell wherever pytest's temporary folder is, so the
# findings show the same elided path under any --basetemp.
LONG_FOLDER = "a-folder-whose-name-alone-is-longer-than-a-report-cell-of-50-characters"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample(tmp_path_factory.mktemp("report") / LONG_FOLDER)


@pytest.fixture(scope="module")
def page(sample: Path) -> str:
    return sample.read_text(encoding="utf-8")


def section(page: str, anchor: str) -> str:
    return page.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


def charts(html: str) -> list[str]:
    """The charts' SVG drawings (the per-query table's sparklines are not charts)."""
    return [
        svg
        for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)
        if 'class="spark"' not in svg
    ]


def marks(svg: str, kind: str) -> int:
    return svg.count(f'aria-roledescription="{kind}"')


def tips(svg: str) -> list[str]:
    return re.findall(r"<title>(.*?)</title>", svg)


def rows(html: str) -> list[list[str]]:
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", html)
        if "<td" in row
    ]


def text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


# --- the page as a whole -----------------------------------------------------------------


def test_the_report_loads_nothing_from_anywhere(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    for needle in ("<script", "<link", "<img", "<iframe", "src=", "@import", "url("):
        assert needle not in page
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # namespaces


def test_the_header_says_when_from_which_warehouse_and_lake_and_the_row_counts(
    sample: Path, page: str
) -> None:
    root = sample.parents[1]
    meta = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))
    assert meta["Generated"] == "2026-12-01 08:00:00 UTC"
    assert meta["Warehouse"].startswith(f"<code>{root / 'warehouse.duckdb'}</code> (built ")
    assert meta["Lake"] == f"<code>{root / 'lake'}</code> (as the build named it)"
    assert meta["Fetches"] == "2026-11-20 09:14 to 2026-11-22 03:45 UTC"
    tiles = re.findall(r'<div class="tile"><b>(.*?)</b><span>(.*?)</span>', page)
    assert tiles == [
        ("7", "snapshots (pages)"),
        ("53", "listings"),
        ("1", "rejected fragments"),
        ("33", "documents"),
        ("5", "queries"),
        ("5", "fetches (crawls)"),
        ("2", "sites"),
        ("5", "data-quality findings"),
        ("1", "high-severity findings"),
        (f"{len(load_project().tests)}/{len(load_project().tests)}",
         "data tests pass"),
    ]  # fmt: skip


def test_its_sections_come_in_this_order(page: str) -> None:
    assert re.findall(r"<h2>(.*?)</h2>", page) == [
        "Queries",
        "Volume",
        "Documents",
        "Data quality",
    ]
    assert re.findall(r"<h3>(.*?)</h3>", page) == [
        "Results per query over time",
        "Per query",
        "Rank movement",
        "Listings fetched per day",
        "New documents per day",
        "Size",
        "Upload age",
        "Pages",
        "Price",
        "Rating",
        "File type",
        "Most-seen documents",
        "Data tests",
        "Data-quality findings by kind",
        "Reject reasons",
    ]


def test_every_chart_and_table_shows_the_sql_behind_it(page: str) -> None:
    cards = re.findall(r'<section class="card[^"]*" id="([^"]+)">(.*?)</section>', page, re.DOTALL)
    folded = [
        (anchor, sql)
        for anchor, body in cards
        for sql in re.findall(
            r'<details class="sql"><summary>SQL behind this</summary><pre><code>(.*?)</code>',
            body,
            flags=re.DOTALL,
        )
    ]
    assert [anchor for anchor, _ in folded] == [
        "results-per-query",
        "per-query",
        "rank-movement",
        "listings-per-period",
        "new-documents",
        "sizes",
        "ages",
        "pages",
        "prices",
        "ratings",
        "file_types",
        "most-seen",
        "findings",
        "rejects",
    ]
    shown = dict(folded)
    volume = (report_data.QUERIES / "volume.sql").read_text(encoding="utf-8").strip()
    assert shown["listings-per-period"] == (
        "-- pipeline/report/queries/volume.sql\n-- $unit = &#x27;day&#x27;\n"
        + volume.replace("'", "&#x27;").replace("<", "&lt;").replace(">", "&gt;")
    )


def test_every_chart_mark_has_a_tooltip(page: str) -> None:
    drawn = charts(page)
    assert len(drawn) == 9  # 2 volume, 6 distributions, reject reasons; no trend to draw
    for svg in drawn:
        shapes = sum(marks(svg, kind) for kind in ("bar", "circle", "line mark"))
        assert shapes > 0
        # axes and text (a bar's count, a title) are not shapes: the shapes carry the numbers
        assert len(tips(svg)) == shapes


# --- queries -----------------------------------------------------------------------------


def test_with_one_fetch_per_query_there_is_no_trend_and_it_says_where_the_counts_are(
    page: str,
) -> None:
    trend = section(page, "results-per-query")
    assert charts(trend) == []
    assert (
        "No query has a result count on two fetches yet, so there is no trend to draw: "
        "each query&#x27;s single count is in the table below." in trend
    )


def test_the_per_query_table_has_a_row_per_query_with_coverage_and_results(page: str) -> None:
    table = rows(section(page, "per-query"))
    assert [[text(cell) for cell in row] for row in table] == [
        ["kuberneteswenku.it", "1", "2026-11-20", "2026-11-20", "1 of 49 (2.0%)",
         "1 of 49 (2.0%)", "10", "487", "–", "one fetch"],
        ["云原生wenku.it", "1", "2026-11-20", "2026-11-20", "1 of 15 (6.7%)", "1 of 15 (6.7%)",
         "30", "145", "–", "one fetch"],
        ["数据库wenku.it", "1", "2026-11-21", "2026-11-21", "1 of 2 (50%)", "1 of 2 (50%)",
         "8", "18", "–", "one fetch"],
        ["golangmoredoc.example.org", "1", "2026-11-22", "2026-11-22", "1 of 1 (100%)",
         "1 of 1 (100%)", "5", "5", "–", "one fetch"],
        # the unreadable file's sidecar names a query; the page gave no footer, no count
        ["testwenku.it", "1", "2026-11-20", "2026-11-20", "1 of ?", "0 of ?", "0", "–", "–",
         "–"],
    ]  # fmt: skip


# --- volume ------------------------------------------------------------------------------


def test_volume_and_new_documents_have_a_bar_per_fetch_day_with_its_numbers(page: str) -> None:
    (fetched,) = charts(section(page, "listings-per-period"))
    assert marks(fetched, "bar") == 3
    assert tips(fetched) == [
        "day 2026-11-20: 40 listings on 5 pages in 3 fetches",
        "day 2026-11-21: 8 listings on 1 page in 1 fetch",
        "day 2026-11-22: 5 listings on 1 page in 1 fetch",
    ]
    (new,) = charts(section(page, "new-documents"))
    assert tips(new) == [
        "day 2026-11-20: 20 new documents",
        "day 2026-11-21: 8 new documents",
        "day 2026-11-22: 5 new documents",
    ]


# --- documents ---------------------------------------------------------------------------


def test_the_size_chart_has_a_bar_per_decade_labelled_with_its_count(page: str) -> None:
    """One bar per decade from the smallest size to the largest (1.07 GB), an empty one
    included; the one empty file apart."""
    (sizes,) = charts(section(page, "sizes"))
    assert marks(sizes, "bar") == 6
    assert re.findall(r">([\d,]+)</text>", sizes.split("role-mark", 2)[-1]) == [
        "1", "3", "19", "9", "0", "1",
    ]  # 33 documents (53 listings)  # fmt: skip
    assert tips(sizes) == [
        "0 B: 1 document",
        "100 KB – 1 MB: 3 documents",
        "1 – 10 MB: 19 documents",
        "10 – 100 MB: 9 documents",
        "100 MB – 1 GB: 0 documents",
        "1 – 10 GB: 1 document",
    ]


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        ("ages", ["&lt; 1 day: 4 documents", "1 – 7 days: 2 documents", "1 – 4 weeks: 2 documents",
                  "1 – 3 months: 2 documents", "3 – 12 months: 17 documents",
                  "1 – 2 years: 3 documents", "≥ 2 years: 2 documents", "unknown: 1 document"]),
        ("pages", ["1: 0 documents", "2 – 10: 0 documents", "11 – 20: 4 documents",
                   "21 – 50: 12 documents", "51 – 100: 4 documents", "101 – 200: 2 documents",
                   "201 – 500: 6 documents", "&gt; 500: 3 documents", "unknown: 2 documents"]),
        ("prices", ["free: 32 documents", "1: 0 documents", "2: 0 documents",
                    "3 – 5: 1 document", "6 – 10: 0 documents", "11 – 20: 0 documents",
                    "21 – 50: 0 documents", "&gt; 50: 0 documents", "unknown: 0 documents"]),
        ("ratings", ["&lt; 1 (anomaly): 1 document", "1.0: 0 documents", "1.5: 0 documents",
                     "2.0: 0 documents", "2.5: 0 documents", "3.0: 21 documents",
                     "3.5: 3 documents", "4.0: 4 documents", "4.5: 2 documents",
                     "5.0: 2 documents", "unknown: 0 documents"]),
        # text pages show no file type: their documents are counted apart, not guessed
        ("file_types", ["pdf: 8 documents", "docx: 1 document", "pptx: 1 document",
                        "not shown (text pages): 23 documents"]),
    ],
)  # fmt: skip
def test_each_distribution_has_a_bar_per_class_in_order(
    page: str, anchor: str, expected: list[str]
) -> None:
    (chart,) = charts(section(page, anchor))
    assert marks(chart, "bar") == len(expected)
    assert tips(chart) == expected


def test_the_most_seen_documents_come_first(page: str) -> None:
    table = [[text(cell) for cell in row] for row in rows(section(page, "most-seen"))]
    assert len(table) == report_data.MOST_SEEN
    assert table[0] == [
        "深入 Kubernetes 的无人区-蚂蚁金服双十一的调度系统", "wenku.it", "pdf", "19", "0", "3",
        "3", "1", "2026-11-20", "2026-11-20",
    ]  # fmt: skip
    assert [row[6] for row in table] == ["3"] * 10 + ["1"] * 5  # snapshots seen, most first


# --- data quality ------------------------------------------------------------------------


def test_every_data_test_passes_on_the_sample(page: str) -> None:
    tests = section(page, "data-tests")
    total = len(load_project().tests)
    assert f"{total} tests from <code>dbt_like_sql/</code>: {total} pass, 0 warn, 0 fail." in tests
    assert f"<summary>{total} passing tests</summary>" in tests
    assert tests.count('<span class="badge PASS">PASS</span>') == total


def test_findings_are_grouped_by_kind_worst_first_with_examples(sample: Path, page: str) -> None:
    findings = section(page, "findings")
    kinds = [text(kind) for kind in re.findall(r"<h4>(.*?)</h4>", findings)]
    assert kinds == [
        "high unreadable snapshot · 1 finding on 1 subject, last seen 2026-11-20 09:30 UTC",
        "low ambiguous price · 3 findings on 3 subjects, last seen 2026-11-21 14:02 UTC",
        "low rating below 1 · 1 finding on 1 subject, last seen 2026-11-20 09:30 UTC",
    ]
    examples = [[text(cell) for cell in row] for row in rows(findings)]
    assert [row[0] for row in examples] == ["snapshot"] + ["document"] * 4
    # a snapshot is named by its path's last 49 characters after an ellipsis, the whole path
    # its tooltip (a short path shows whole: the test below)
    junk = html.escape(str(sample.parents[1] / "raw" / "junk.txt"))
    assert rows(findings)[0][2] == (
        f'<span title="{junk}">…-than-a-report-cell-of-50-characters/raw/junk.txt</span>'
    )
    assert examples[0][3] == "binary content: NUL bytes, not a text page"
    assert examples[4][3] == "a rating no 1-5 star vote gives; latest 0.03"


@pytest.mark.parametrize(
    ("path", "cell"),
    [
        ("/tmp/r/raw/junk.txt", "/tmp/r/raw/junk.txt"),
        ("/" + "d" * 60 + "/raw/junk.txt",
         f'<span title="/{"d" * 60}/raw/junk.txt">…{"d" * 36}/raw/junk.txt</span>'),
    ],
)  # fmt: skip
def test_a_long_path_keeps_its_end_and_a_short_one_shows_whole(path: str, cell: str) -> None:
    assert report_html.clipped(50, keep_end=True)(path) == cell


def test_the_unreadable_file_is_the_one_reject_reason_its_bytes_shown_as_pictures(
    page: str,
) -> None:
    rejects = section(page, "rejects")
    (chart,) = charts(rejects)
    assert tips(chart) == ["read · binary content: NUL bytes, not a text page: 1 rejected fragment"]
    assert rows(rejects) == [["read", "binary content: NUL bytes, not a text page", "1", "␀␁␂"]]


# --- trends, at more than one fetch per query --------------------------------------------


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse of 1 200 generated listings: 12 queries crawled over 10 days."""
    root = tmp_path_factory.mktemp("crawled")
    # A seed whose crawl fetches one of the 12 queries on one day only (数据库).
    generate.write_corpus(root / "corpus", 1200, seed=19, days=10, increment_days=0)
    run.normalise_paths([root / "corpus" / "raw"], root / "lake", metadata.ReadOptions())
    database.build(root / "lake", root / "warehouse.duckdb")
    return root / "warehouse.duckdb"


def latest_counts(db: Path) -> list[tuple[str, int, int]]:
    """Each query fetched twice or more: name, latest result count, days with a fetch."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(
            "select query || ' · ' || site, arg_max(total_results, fetch_started_at), "
            "count(distinct cast(fetch_started_at at time zone 'UTC' as date)) "
            "from fct_query_snapshots "
            "group by all having count(*) >= 2 order by 2 desc, 1"
        ).fetchall()


def point_tips(db: Path, series: str) -> list[str]:
    """The tooltips a query's points should carry, from fct_query_snapshots by UTC day."""
    with duckdb.connect(str(db), read_only=True) as con:
        days = con.sql(
            "select strftime(cast(fetch_started_at at time zone 'UTC' as date), '%Y-%m-%d'), "
            "arg_max(total_results, fetch_started_at), "
            "strftime(max(fetch_started_at) at time zone 'UTC', '%Y-%m-%d %H:%M'), count(*) "
            "from fct_query_snapshots where query || ' · ' || site = ? group by 1 order by 1",
            params=[series],
        ).fetchall()
    return [
        f"{series} · day {day}: {results:,} results (last fetch {last} UTC; "
        f"{fetches} fetch{'es' if fetches > 1 else ''} in the day)"
        for day, results, last, fetches in days
    ]


def test_each_query_fetched_twice_gets_a_panel_largest_first_a_point_per_day(
    crawled: Path, tmp_path: Path
) -> None:
    page = report.write(crawled, tmp_path / "r.html").read_text(encoding="utf-8")
    expected = latest_counts(crawled)
    assert len(expected) == 11  # of 12 queries; one was crawled on one day only
    (panels,) = charts(section(page, "results-per-query"))
    titles = re.findall(r"aria-label=\"Title text '([^']*)'\"", panels)
    assert titles == [query for query, _, _ in expected]
    assert marks(panels, "circle") == sum(days for _, _, days in expected)
    lines = re.findall(
        r'aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="line', panels
    )
    assert lines == titles  # a line per panel, its tooltip the query
    top = expected[0][0]
    assert [tip for tip in tips(panels) if tip.startswith(f"{top} · day ")] == point_tips(
        crawled, top
    )
    spark = section(page, "per-query").count('class="spark"')
    assert spark == 11  # every trend in the table too; the query fetched once has none


def test_beyond_the_panel_limit_the_rest_are_named_in_the_table(
    crawled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_data, "MAX_PANELS", 5)
    page = report.write(crawled, tmp_path / "r.html").read_text(encoding="utf-8")
    trend = section(page, "results-per-query")
    assert marks(charts(trend)[0], "line mark") == 5
    assert "The 5 with the most results are drawn; the other 6 are in the table below." in trend


# --- other warehouses --------------------------------------------------------------------


def test_a_failing_test_is_listed_first_with_its_rows_and_sql(sample: Path, tmp_path: Path) -> None:
    """A failed build kept for inspection: its report says which test failed, and on what,
    as the build stored it (a project whose fetches list one fetch twice)."""
    broken = tmp_path / "dbt_like_sql"
    shutil.copytree(DEFAULT_PROJECT, broken)
    fetches = broken / "marts" / "fct_query_snapshots.sql"
    fetches.write_text(
        fetches.read_text(encoding="utf-8").replace(
            "select * from final",
            "select * from final union all (select * from final order by fetch_id limit 1)",
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataTestFailure):
        database.build(
            sample.parents[1] / "lake", tmp_path / "warehouse.duckdb",
            project=load_project(broken),
        )  # fmt: skip
    db = tmp_path / "warehouse.failed.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("drop table _lake")  # a warehouse built before the lake was recorded
        [(twice,)] = con.sql("select min(fetch_id) from fct_query_snapshots").fetchall()
    page = report.write(db, tmp_path / "r.html").read_text(encoding="utf-8")
    meta = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))
    assert meta["Lake"] == '<span class="muted">not recorded (the warehouse predates it)</span>'
    tests = section(page, "data-tests")
    total = len(load_project().tests)
    assert f": {total - 1} pass, 0 warn, 1 fail." in tests
    flagged = tests.split("<details", 1)[0]
    assert [[text(cell) for cell in row] for row in rows(flagged)] == [
        ["FAIL", "unique__fct_query_snapshots__fetch_id", "fct_query_snapshots", "error", "1"]
    ]
    assert (
        "<summary>unique__fct_query_snapshots__fetch_id: 1 offending row, declared in "
        "dbt_like_sql/marts/fct_query_snapshots.yml</summary>" in tests
    )
    # the offending row the build found, and the query that finds it
    examples = tests.split("<summary>unique__fct_query_snapshots__fetch_id", 1)[1]
    assert rows(examples.split("<pre>", 1)[0]) == [[twice, "2"]]
    sql = load_project().compile("unique__fct_query_snapshots__fetch_id").strip()
    assert tests.split("<pre><code>", 1)[1].split("</code>", 1)[0] == html.escape(sql)


def _tests_section_after(sample: Path, tmp_path: Path, change: str) -> str:
    """The report's data-tests section for a copy of the sample warehouse, `change` (SQL)
    made to it after its build."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sample.parents[1] / "warehouse.duckdb", db)
    with duckdb.connect(str(db)) as con:
        con.execute(change)
    return section(report.write(db, tmp_path / "r.html").read_text(encoding="utf-8"), "data-tests")


def test_the_tests_are_the_builds_not_run_again_by_the_report(sample: Path, tmp_path: Path) -> None:
    """A row changed after the build would fail a test run now: the report shows what the
    build found, as `listings build` printed it."""
    tests = _tests_section_after(
        sample, tmp_path, "insert into dim_documents select * from dim_documents limit 1"
    )
    total = len(load_project().tests)
    assert f"{total} tests from <code>dbt_like_sql/</code>: {total} pass, 0 warn, 0 fail. " in tests
    assert "As the build that wrote this warehouse ran them (" in tests
    assert (
        "and stored them in it (<code>run_results.json</code>, in <code>_artifacts</code>). "
        "A warning flags" in tests
    )


def test_the_outcomes_are_read_from_the_stored_run_results(sample: Path, tmp_path: Path) -> None:
    """The report reads each test's status and count from run_results.json as the build
    stored it (`_artifacts`), its severity and model from manifest.json."""
    tests = _tests_section_after(
        sample, tmp_path,
        "update _artifacts set body = replace(body::varchar, "
        "'\"status\": \"pass\", \"timing\"', '\"status\": \"warn\", \"timing\"')::json "
        "where name = 'run_results.json'",
    )  # fmt: skip
    total = len(load_project().tests)
    assert f"{total} tests from <code>dbt_like_sql/</code>: 0 pass, {total} warn, 0 fail. " in tests


def test_a_warehouse_built_before_builds_stored_their_tests_says_so(
    sample: Path, tmp_path: Path
) -> None:
    tests = _tests_section_after(sample, tmp_path, "drop table _artifacts")
    assert text(tests.split('<p class="caption">', 1)[1].split("</p>", 1)[0]) == (
        "This warehouse holds no data-test results: it was built before builds stored their "
        "run artifacts (run_results.json). Rebuild it (`listings build`) to see them here."
    )


def test_an_empty_warehouse_says_so_and_names_its_lake(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    lake, db, out = empty_lake(tmp_path), tmp_path / "w.duckdb", tmp_path / "r.html"
    database.build(lake, db)
    assert cli.main(["report", "--db", str(db), "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"report: {out}\n"
    page = out.read_text(encoding="utf-8")
    assert charts(page) == []
    alert = page.split('<div class="alert" id="empty">', 1)[1].split("</div>", 1)[0]
    assert text(alert) == (
        "This warehouse is empty — was the lake path right?"
        f"It was built from the lake at {lake}, which held no snapshots at the time. If that "
        "is not the lake your runs write to, rebuild from the right one: listings build "
        f"--lake DIR --db {db.resolve()}, then listings report again. If it is, no run has "
        "committed a snapshot to it yet: listings normalise INPUT --out DIR fills it."
    )
    assert re.findall(r"<h[23]>(.*?)</h[23]>", page) == [
        "This warehouse is empty — was the lake path right?",
        "Data quality",
        "Data tests",
    ]


def test_listings_report_needs_the_models(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "views-only.duckdb"
    database.build(empty_lake(tmp_path), db, with_models=False)
    assert cli.main(["report", "--db", str(db), "--out", str(tmp_path / "r.html")]) == 1
    assert (
        "has no dim_documents, fct_listing_appearances, fct_query_snapshots, rpt_rejects, "
        "rpt_data_quality: build the models first (`listings build`)"
    ) in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


# --- pieces ------------------------------------------------------------------------------


def test_text_from_the_data_is_escaped_and_long_text_clipped_with_the_whole_as_tooltip() -> None:
    cells = {"title": report_html.clipped(8)}
    table = report_html.table(
        [{"title": "<script>x</script>", "n": 1234}], [("title", "T"), ("n", "N")], cells=cells,
        numeric=("n",),
    )  # fmt: skip
    assert table == (
        "<table><thead><tr><th>T</th><th class=num>N</th></tr></thead><tbody><tr>"
        '<td><span title="&lt;script&gt;x&lt;/script&gt;">&lt;script…</span></td>'
        "<td class=num>1,234</td></tr></tbody></table>"
    )


def test_a_sparkline_thins_a_long_trend_and_keeps_its_ends() -> None:
    line = report_html.sparkline([*range(100, 200), None])
    assert line.count(",") - line.count(", ") == report_html.SPARK_POINTS  # one per x,y
    assert "<title>100 → 199 (low 100, high 199)</title>" in line
    assert report_html.sparkline([5]) == '<span class="muted">one fetch</span>'
    assert report_html.sparkline(None) == "–"


@pytest.mark.parametrize(
    ("first", "last", "volume", "trend"),
    [
        ("2026-11-01", "2026-11-20", "day", "day"),
        ("2026-01-01", "2026-04-01", "day", "week"),
        ("2025-11-01", "2026-10-31", "week", "week"),
        ("2024-11-01", "2026-10-31", "week", "month"),
        ("2022-01-01", "2026-10-31", "month", "month"),
    ],
)
def test_time_charts_draw_days_weeks_or_months_by_the_span(
    first: str, last: str, volume: str, trend: str
) -> None:
    start, end = datetime.fromisoformat(first), datetime.fromisoformat(last)
    assert report_data.period_unit(start, end, volume=True) == volume
    assert report_data.period_unit(start, end, volume=False) == trend


def test_a_fetch_in_year_9999_is_drawn(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A run believes no fetch time after its start (docs/input-format.md §4), but a lake
    written before it judged them, or by a notebook reading files outside a run, may hold any
    time up to 9999-12-31: the report draws it. The bar after 9999-12-31 ends in year 10000,
    which crashed the time axis, so every report of that warehouse failed."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    page = (RAW / "wenku-search-page.txt").read_bytes()
    write_snapshot(raw, "far.txt", page, datetime(9999, 12, 31, 12, tzinfo=UTC))
    lake, db, out = tmp_path / "lake", tmp_path / "w.duckdb", tmp_path / "r.html"
    run.normalise_paths([raw], lake, metadata.ReadOptions())
    database.build(lake, db)
    assert cli.main(["report", "--db", str(db), "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"report: {out}\n"
    volume = section(out.read_text(encoding="utf-8"), "listings-per-period")
    assert len(charts(volume)) == 1
    assert "month 9999-12-01: 10 listings" in volume


def test_a_test_that_keeps_its_failing_rows_names_their_table(sample: Path, tmp_path: Path) -> None:
    """`store_failures`: the build keeps every failing row in main_dbt_test__audit, and the
    report says where, with the query that reads them (it shows only a few itself)."""
    project = tmp_path / "dbt_like_sql"
    shutil.copytree(DEFAULT_PROJECT, project)
    declared = project / "marts" / "fct_listing_appearances.yml"
    declared.write_text(
        declared.read_text(encoding="utf-8").replace(
            "expression: times_listed_in_snapshot = 1", "expression: times_listed_in_snapshot = 2"
        ),
        encoding="utf-8",
    )
    db = tmp_path / "warehouse.duckdb"
    database.build(sample.parents[1] / "lake", db, project=load_project(project))
    name = "strictly_true__fct_listing_appearances__times_listed_in_snapshot_2"
    table = f'"main_dbt_test__audit"."{name}"'
    with duckdb.connect(str(db), read_only=True) as con:
        [(kept,)] = con.sql(f"select count(*) from {table}").fetchall()
        [(appearances,)] = con.sql("select count(*) from fct_listing_appearances").fetchall()
    assert kept == appearances > 3  # every row, where the report shows three
    tests = section(report.write(db, tmp_path / "r.html").read_text(encoding="utf-8"), "data-tests")
    assert (
        f"<p>Every failing row is kept in <code>{html.escape(table)}</code>: "
        f"<code>listings sql &quot;select * from {html.escape(table)}&quot;</code></p>" in tests
    )
