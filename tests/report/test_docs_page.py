"""`listings docs`: one self-contained page with every lake table and model, its columns
(type and meaning), tests and SQL, and the lineage drawn as inline SVG."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipeline import cli
from pipeline.errors import ReportError
from pipeline.report import docs_page
from pipeline.warehouse import artifacts
from pipeline.warehouse.project import LAYERS, load_project
from tests.warehouse.sql.test_runner import model, write_project

SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = "/usr/bin/chromium"


class _Anchors(HTMLParser):
    """Every id on the page, every in-page link, and every URL it would load."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        href = found.get("href") or ""
        if href.startswith("#"):
            self.links.append(href[1:])
        elif href or found.get("src"):
            self.loads.append(href or str(found["src"]))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real project's page, without a warehouse (types from an empty build)."""
    out = tmp_path_factory.mktemp("docs") / "docs.html"
    docs_page.write(out, db=out.with_name("absent.duckdb"))
    return out.read_text(encoding="utf-8")


def test_every_model_and_lake_table_has_its_section_with_columns_tests_and_sql(
    page: str,
) -> None:
    project = load_project()
    sections = re.findall(r'<article class="relation (\w+)" id="rel-(\w+)">', page)
    assert sections == [
        ("sources", "snapshots"),
        ("sources", "listings"),
        ("sources", "rejects"),
        # by layer, each in build order
        *sorted(
            ((project.models[name].layer, name) for name in project.order()),
            key=lambda entry: LAYERS.index(entry[0]),
        ),
    ]
    dim = page[page.index('id="rel-dim_documents"') : page.index('id="rel-fct_listing_appear')]
    assert "<dt>materialised</dt><dd>incremental</dd>" in dim
    assert "<dt>grain</dt><dd>one row per document seen in any snapshot (document_key)</dd>" in dim
    assert (
        "One row per document, with its history and intersected intervals." in dim
    )  # its description
    # a column: name, type, description (backticks as code), its tests
    assert (
        '<tr id="col-dim_documents-document_key"><td><code>document_key</code></td>'
        "<td><code>VARCHAR</code></td><td>The document the listing shows: 16 hex digits"
    ) in dim
    assert "<td>unique, not_null</td></tr>" in dim
    assert (
        "a boundary is never invented (docs/input-format.md §1.1): a document seen only in "
        "text-form listings usually has no title here"
    ) in dim
    assert "(<code>listings resolve-titles</code>)" in dim
    assert "<li><code>unique__dim_documents__document_key</code>" in dim
    assert "<li><code>assert_document_intervals_intersect</code>" in dim  # a singular test
    assert "relationships__fct_listing_appearances" not in dim  # declared on that model
    assert "<dt>defined in</dt><dd><code>dbt_like_sql/marts/dim_documents.sql</code></dd>" in dim
    assert html.escape("arg_max(title, fetched_at) filter (where title is not null)") in dim
    assert "from &quot;int_listings__keyed&quot;" in dim  # the compiled SQL
    assert '<article class="test" id="test-assert_listing_counts_match_the_lake">' in page
    assert (
        "Column types from the project&#x27;s models over empty lake tables (no warehouse" in page
    )


def test_the_lineage_svg_has_a_node_per_model_and_an_edge_per_dependency(page: str) -> None:
    project = load_project()
    svg = ET.fromstring(page[page.index("<svg") : page.index("</svg>") + len("</svg>")])
    nodes = [g for g in svg.iter(f"{SVG}g") if "node" in (g.get("class") or "").split()]
    assert sorted(g.get("data-id") for g in nodes if g.get("class") == "node model") == sorted(
        project.models
    )
    assert [g.get("data-id") for g in nodes if g.get("class") == "node source"] == [
        "lake.snapshots",
        "lake.listings",
        "lake.rejects",
    ]
    edges = [p for p in svg.iter(f"{SVG}path") if p.get("class") == "edge"]
    dependencies = sorted(
        [(ref, m.name) for m in project.models.values() for ref in m.refs]
        + [(f"{s}.{t}", m.name) for m in project.models.values() for s, t in m.template.sources]
    )
    assert sorted((p.get("data-from"), p.get("data-to")) for p in edges) == dependencies
    assert len(edges) == 21
    # every box links to its section, and an edge never points leftwards
    boxes = {g.get("data-id"): float(g.find(f"{SVG}rect").get("x")) for g in nodes}
    assert all(boxes[p.get("data-from")] < boxes[p.get("data-to")] for p in edges)


def test_the_page_is_self_contained_and_its_links_resolve(page: str) -> None:
    anchors = _Anchors()
    anchors.feed(page)
    assert anchors.loads == []  # nothing fetched: no script, stylesheet, image or font
    assert "@import" not in page and "url(http" not in page
    # one script, inline: the search box (test_docs_page_search.py)
    assert page.count("<script") == page.count("<script>") == 1
    assert len(anchors.ids) == len(set(anchors.ids))
    assert set(anchors.links) - set(anchors.ids) == set()


def test_with_a_warehouse_the_page_draws_the_manifest_its_build_stored(
    tmp_path: Path, sample_warehouse: Path
) -> None:
    """Models, columns, types, descriptions and tests come from the manifest.json the build
    stored in the warehouse (`_artifacts`), not from the project read again."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(sample_warehouse, db)
    with duckdb.connect(str(db)) as con:
        documents = artifacts.read(con)
        assert documents is not None
        node = documents[artifacts.MANIFEST]["nodes"]["model.listings.dim_documents"]
        node["description"] = "As the stored manifest says."
        node["columns"]["document_key"]["data_type"] = "DECIMAL(9,2)"
        artifacts.store(con, documents)
    page = docs_page.write(tmp_path / "with.html", db=db).read_text(encoding="utf-8")
    assert "As the stored manifest says." in page
    row = '<tr id="col-dim_documents-document_key"><td><code>document_key</code></td>'
    assert f"{row}<td><code>DECIMAL(9,2)</code></td>" in page
    assert f"Column types from the warehouse {db}." in page
    project = docs_page.write(tmp_path / "project.html").read_text(encoding="utf-8")
    assert "As the stored manifest says." not in project
    assert f"{row}<td><code>VARCHAR</code></td>" in project


def test_a_warehouse_without_stored_artifacts_is_to_rebuild(
    tmp_path: Path, sample_warehouse: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copyfile(sample_warehouse, db)
    with duckdb.connect(str(db)) as con:
        con.execute("drop table _artifacts")
    with pytest.raises(ReportError, match=r"holds no manifest.json: .* Rebuild it"):
        docs_page.write(tmp_path / "page.html", db=db)


def test_column_types_come_from_an_empty_build_without_a_warehouse(tmp_path: Path) -> None:
    project = load_project(
        write_project(tmp_path / "project", {"marts/facts.sql": model("select 1 as x", "table")})
    )
    empty = docs_page.write(tmp_path / "without.html", project=project).read_text(encoding="utf-8")
    row = '<tr id="col-facts-x"><td><code>x</code></td><td><code>{}</code></td>'
    assert row.format("INTEGER") in empty


def test_listings_docs_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "site" / "docs.html"
    assert cli.main(["docs", "--out", str(out), "--db", str(tmp_path / "none.duckdb")]) == 0
    assert capsys.readouterr().out == f"docs: {out}\n"
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert [p.name for p in out.parent.iterdir()] == ["docs.html"]  # no temporary file left
    assert cli.main(["docs", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"listings docs: --out {tmp_path} is a folder: give a file path\n"
    )


def test_chromium_renders_the_page_with_every_section_and_the_graph(
    page: str, tmp_path: Path
) -> None:
    """The page as a browser builds it, with the network off: nothing it needs is missing."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"{CHROMIUM} is not installed: this test opens the docs page in headless "
            "Chromium; `make test` installs it when missing (apt-get install -y chromium)"
        )
    path = tmp_path / "docs.html"
    path.write_text(page, encoding="utf-8")
    done = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom", path.as_uri(),
        ],
        capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    dom = done.stdout
    project = load_project()
    for name in [*project.models, "snapshots", "listings", "rejects"]:
        assert f'id="rel-{name}"' in dom
    assert dom.count('class="node model"') == len(project.models) == 11
    assert dom.count('class="edge"') == 21
    assert "<title>Lineage: 11 models, 21 dependencies</title>" in dom
