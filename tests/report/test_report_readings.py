"""What the report's charts and tables let a reader read off: sizes in classes of one decade
each, a sentence where a chart would show only "not shown", counts on axes as integers, and
per query the documents whose rank moved most between their first and last sightings
(pipeline/report/page.py, charts.py, queries/sizes.sql and
rank_movement.sql)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.ingest import metadata
from pipeline.report import charts
from pipeline.report import data as report_data
from pipeline.report import page as report
from pipeline.run import run
from pipeline.warehouse import database
from render.fields import Document
from render.text import render_page

SVG = "{http://www.w3.org/2000/svg}"
GENERATED_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def card(page: Path, anchor: str) -> LexborNode:
    node = LexborHTMLParser(page.read_text(encoding="utf-8")).css_first(f"section#{anchor}")
    assert node is not None
    return node


def cells(node: LexborNode) -> list[list[str]]:
    return [[td.text() for td in tr.css("td")] for tr in node.css("tbody tr")]


def axis_labels(svg: str) -> list[list[str]]:
    """The labels of each axis of a chart, as drawn."""
    return [
        [text.text or "" for text in group.iter(f"{SVG}text")]
        for group in ET.fromstring(svg).iter(f"{SVG}g")
        if "role-axis-label" in (group.get("class") or "").split()
    ]


# --- a crawl whose ranks move ------------------------------------------------------------

DOCUMENTS = {
    name: Document(
        title=f"{name} 文档指南", description=f"关于 {name} 的说明", price=0, credit="码力",
        pages=10 + i, size_bytes=1_000_000 + 1_000 * i,
        uploaded_at=datetime(2026, 1, 1, tzinfo=UTC), score=400,
    )
    for i, name in enumerate("ABCDEFG")
}  # fmt: skip


def _page(raw: Path, query: str, day: int, order: str) -> None:
    """Page 1 of `query` fetched on 2026-11-`day`, listing the documents in `order`."""
    at = datetime(2026, 11, day, 9, 0, tzinfo=UTC)
    docs = [DOCUMENTS[name] for name in order]
    text = render_page(docs, at, total_results=len(docs), last_page=1,
                       title_layouts=["own_line"] * len(docs))  # fmt: skip
    path = raw / f"{query}-{day}.txt"
    path.write_text(text, encoding="utf-8")
    sidecar = {"url": f"https://wenku.it/search?wd={query}&page=1", "fetched_at": at.isoformat()}
    path.with_name(f"{path.name}.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Text pages only: `go` fetched on the 1st (A B C D E) and the 5th (D A B E C F), `k8s`
    on the 2nd (F G) and 6th (G F), `rust` once (A B). The warehouse's file."""
    root = tmp_path_factory.mktemp("crawl")
    raw = root / "raw"
    raw.mkdir()
    _page(raw, "go", 1, "ABCDE")
    _page(raw, "go", 5, "DABECF")
    _page(raw, "k8s", 2, "FG")
    _page(raw, "k8s", 6, "GF")
    _page(raw, "rust", 3, "AB")
    run.normalise_paths([raw], root / "lake", metadata.ReadOptions())
    database.build(root / "lake", root / "warehouse.duckdb")
    return root / "warehouse.duckdb"


@pytest.fixture(scope="module")
def crawl_page(crawl: Path) -> Path:
    return report.write(crawl, crawl.with_name("report.html"), generated_at=GENERATED_AT)


def test_each_query_lists_its_climbs_then_its_falls_largest_first(crawl_page: Path) -> None:
    movement = card(crawl_page, "rank-movement")
    blocks = movement.css("div.kind")
    assert [block.css_first("h4").text() for block in blocks] == [
        "go · wenku.it",  # its largest move (3 places) is larger than k8s' (1)
        "k8s · wenku.it",
    ]  # rust was fetched once: nothing in it can have moved
    go, k8s = (cells(block) for block in blocks)
    assert go == [
        ["D 文档指南", "▲ 3", "4 → 1", "2", "2026-11-01", "2026-11-05"],
        ["E 文档指南", "▲ 1", "5 → 4", "2", "2026-11-01", "2026-11-05"],
        ["C 文档指南", "▼ 2", "3 → 5", "2", "2026-11-01", "2026-11-05"],
        ["A 文档指南", "▼ 1", "1 → 2", "2", "2026-11-01", "2026-11-05"],
        ["B 文档指南", "▼ 1", "2 → 3", "2", "2026-11-01", "2026-11-05"],
    ]  # F, new on the 5th, was listed by one fetch only
    assert k8s == [
        ["G 文档指南", "▲ 1", "2 → 1", "2", "2026-11-02", "2026-11-06"],
        ["F 文档指南", "▼ 1", "1 → 2", "2", "2026-11-02", "2026-11-06"],
    ]
    sql = movement.css_first("details.sql pre code").text()
    assert sql.startswith(
        "-- pipeline/report/queries/rank_movement.sql\n-- $movers = 3\n-- $queries = 20\n"
    )


def test_the_largest_moves_are_kept_per_query_and_the_queries_by_their_largest(
    crawl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_data, "MOVERS", 1)
    monkeypatch.setattr(report_data, "MOVING_QUERIES", 1)
    page = report.write(crawl, tmp_path / "r.html", generated_at=GENERATED_AT)
    movement = card(page, "rank-movement")
    assert [cells(block) for block in movement.css("div.kind")] == [
        [
            ["D 文档指南", "▲ 3", "4 → 1", "2", "2026-11-01", "2026-11-05"],
            ["C 文档指南", "▼ 2", "3 → 5", "2", "2026-11-01", "2026-11-05"],
        ]
    ]
    assert (
        movement.css_first("p.caption")
        .text()
        .endswith(
            "up to 1 climbing and 1 falling, largest move first. A document listed by one fetch "
            "only has not moved. Shown: the 1 query with the largest moves, of 2 with a move."
        )
    )


def test_where_no_rank_has_moved_the_report_says_so(sample_warehouse: Path, tmp_path: Path) -> None:
    """The sample: every query fetched once (its page in three forms at one moment)."""
    page = report.write(sample_warehouse, tmp_path / "r.html", generated_at=GENERATED_AT)
    movement = card(page, "rank-movement")
    assert movement.css("table") == []
    assert movement.css_first("p.empty").text() == (
        "No document has changed its rank in a query yet: a rank moves between two fetches of "
        "the same query that both list the document."
    )


# --- distributions -----------------------------------------------------------------------


def test_a_distribution_of_only_not_shown_is_a_sentence_not_a_chart(crawl_page: Path) -> None:
    """Text pages show no file type: one bar "not shown (text pages)" told nothing."""
    file_types = card(crawl_page, "file_types")
    assert file_types.css("svg") == []
    assert file_types.css_first("p.empty").text() == (
        "No page showed a file type: the 7 documents were seen on text pages only, which show none."
    )
    assert len(card(crawl_page, "sizes").css("svg")) == 1  # what pages did show is drawn


@pytest.mark.parametrize(
    ("sizes", "classes"),
    [
        # each class one decade of the number the site shows, in its unit (KB = 1,024 B)
        ([1, 9, 10, 99, 100, 1023, 1024, 10239, 10240, 102399, 102400, 1048575, 1048576],
         [("1 – 10 B", 2), ("10 – 100 B", 2), ("100 B – 1 KB", 2), ("1 – 10 KB", 2),
          ("10 – 100 KB", 2), ("100 KB – 1 MB", 2), ("1 – 10 MB", 1)]),
        # every decade between the smallest and the largest, empty or not; 0 B and an
        # unknown size apart
        ([0, 5 * 2**20, 3 * 2**40, None],
         [("0 B", 1), ("1 – 10 MB", 1), ("10 – 100 MB", 0), ("100 MB – 1 GB", 0),
          ("1 – 10 GB", 0), ("10 – 100 GB", 0), ("100 GB – 1 TB", 0), ("1 – 10 TB", 1),
          ("unknown", 1)]),
        ([None], [("unknown", 1)]),
        ([], []),
    ],
)  # fmt: skip
def test_size_classes_are_one_decade_each(
    sizes: list[int | None], classes: list[tuple[str, int]]
) -> None:
    with duckdb.connect() as con:
        con.execute("create table dim_documents (size_bytes bigint)")
        for size in sizes:
            con.execute("insert into dim_documents values (?)", [size])
        sql = (report_data.QUERIES / "sizes.sql").read_text(encoding="utf-8")
        assert con.sql(sql).fetchall() == classes


# --- axes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "labels"),
    [
        ([0, 700, 1500], ["0", "500", "1,000", "1,500"]),  # not 0k, 0.5k, 1k, 1.5k
        ([0, 1], ["0", "1"]),  # not 0, 0.5, 1
        ([2, 1], ["0", "1", "2"]),
        ([0, 1_250_000], ["0", "200,000", "400,000", "600,000", "800,000", "1,000,000",
                          "1,200,000"]),
    ],
)  # fmt: skip
def test_count_axes_print_integers(counts: list[int], labels: list[str]) -> None:
    frame = pl.DataFrame({"class": [f"c{i}" for i in range(len(counts))], "documents": counts})
    svg = charts.bars(frame, "class", "documents", order=None, title="class")
    assert axis_labels(svg) == [list(frame["class"]), labels]


def test_every_count_axis_of_the_sample_report_prints_integers(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    page = report.write(sample_warehouse, tmp_path / "r.html", generated_at=GENERATED_AT)
    drawn = [
        svg.html or ""
        for svg in LexborHTMLParser(page.read_text(encoding="utf-8")).css("svg")
        if "spark" not in (svg.attributes.get("class") or "")
    ]
    counts = [
        labels
        for svg in drawn
        for axis in ET.fromstring(svg).iter(f"{SVG}g")
        if "role-axis" in (axis.get("class") or "").split()
        and "linear scale" in (axis.get("aria-label") or "")
        for labels in axis_labels(ET.tostring(axis, encoding="unicode"))
    ]
    assert len(counts) == 8  # the two volume charts and six distributions (no reject here)
    for labels in counts:
        assert labels == [f"{int(label.replace(',', '')):,}" for label in labels]
