"""The HTML report: one self-contained file whose charts are real, inline SVG drawings.

Whether the page *looks* right is checked by eye with scripts/screenshot_report.py (headless
Chromium; CI has no browser). Here: nothing is fetched from a network, and every chart holds
the marks its data calls for.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.ingest import metadata
from pipeline.run import run
from pipeline.warehouse import database, report
from tests.conftest import RAW, SAMPLE_FETCHED_AT, empty_lake, write_snapshot


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The report over the sample folder plus one unreadable file (a reject)."""
    root = tmp_path_factory.mktemp("report")
    raw = root / "raw"
    shutil.copytree(RAW, raw)  # the sample pages (the real one in 3 forms) and their sidecars
    write_snapshot(raw, "junk.txt", b"\x00\x01\x02", SAMPLE_FETCHED_AT)
    lake_dir, db = root / "lake", root / "warehouse.duckdb"
    run.normalise_paths([raw], lake_dir, metadata.ReadOptions())
    database.build(lake_dir, db)
    out = report.write(db, root / "out" / "report.html")
    return out.read_text(encoding="utf-8")


def charts(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)


def marks(svg: str, kind: str) -> int:
    return svg.count(f'aria-roledescription="{kind}"')


def test_the_report_loads_nothing_from_anywhere(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    for needle in ("<script", "<link", "<img", "<iframe", "src=", "@import", "url("):
        assert needle not in page
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # namespaces


def test_it_draws_five_charts_in_the_order_of_its_sections(page: str) -> None:
    titles = re.findall(r"<h2>(.*?)</h2>", page)
    assert titles == [
        "Document sizes",
        "Upload age",
        "Results per query over time",
        "New documents per day",
        "Top reject reasons",
        "Worst data-quality findings",
    ]
    assert len(charts(page)) == 5
    assert all(len(svg) > 2000 and "role-mark" in svg for svg in charts(page))


def test_the_size_chart_has_a_bar_per_size_class_labelled_with_its_count(page: str) -> None:
    sizes = charts(page)[0]
    assert marks(sizes, "bar") == 6
    labels = re.findall(r">(\d+)</text>", sizes.split("role-mark", 2)[-1])
    assert labels == ["1", "3", "19", "9", "0", "1"]  # 33 documents (53 listings)
    for size_class in ("&lt; 100 KB", "1 – 10 MB", "≥ 1 GB"):
        assert size_class in sizes


def test_the_age_chart_has_a_bar_per_age_class(page: str) -> None:
    assert marks(charts(page)[1], "bar") == 8


def test_results_over_time_has_a_point_per_fetch_and_a_legend_entry_per_query(page: str) -> None:
    results = charts(page)[2]
    assert marks(results, "point") == 4
    for query in (
        "kubernetes · wenku.it",
        "云原生 · wenku.it",
        "数据库 · wenku.it",
        "golang · moredoc.example.org",
    ):
        assert query in results


def test_new_documents_per_day_has_a_bar_per_first_seen_day(page: str) -> None:
    assert marks(charts(page)[3], "bar") == 3  # 2026-11-20, -21, -22


def test_the_unreadable_file_shows_as_a_reject_reason_and_a_high_finding(page: str) -> None:
    assert marks(charts(page)[4], "bar") == 1
    findings = page.split("<h2>Worst data-quality findings</h2>", 1)[1]
    first_row = re.search(r"<tbody><tr>(.*?)</tr>", findings.split("</table>", 1)[1]).group(1)
    assert re.findall(r"<td>(.*?)</td>", first_row)[:3] == [
        "high",
        "unreadable snapshot",
        "snapshot",
    ]


def test_listings_report_needs_the_models(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "views-only.duckdb"
    database.build(empty_lake(tmp_path), db, with_models=False)
    assert cli.main(["report", "--db", str(db), "--out", str(tmp_path / "r.html")]) == 1
    assert "has no dim_documents, fct_query_snapshots, rpt_rejects, rpt_data_quality" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "r.html").exists()


def test_listings_report_on_an_empty_warehouse_writes_a_page_without_charts(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    db = tmp_path / "w.duckdb"
    database.build(empty_lake(tmp_path), db)
    assert cli.main(["report", "--db", str(db), "--out", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert charts(page) == []
    assert "no snapshots yet" in page and "No documents yet." in page
