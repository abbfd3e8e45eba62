"""The docs page's search box, as headless Chromium runs it (`?q=` in the address fills the
box), and its long ENUM types shown as a count of values with the values folded beneath
(pipeline/report/docs_page.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline import vocab
from pipeline.report import docs_page

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real project's page, without a warehouse (types from an empty build)."""
    out = tmp_path_factory.mktemp("docs") / "docs.html"
    return docs_page.write(out, db=out.with_name("absent.duckdb"))


def searched(page: Path, query: str, tmp_path: Path) -> LexborHTMLParser:
    """The page as Chromium holds it once loaded with `?q=query`: its script has run."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"{CHROMIUM} is not installed: this test opens the docs page in headless "
            "Chromium; `make test` installs it when missing (apt-get install -y chromium)"
        )
    done = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom", f"{page.as_uri()}?q={quote(query)}",
        ],
        capture_output=True, text=True, encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return LexborHTMLParser(done.stdout)


def shown(dom: LexborHTMLParser) -> dict[str, list[str]]:
    """Each relation left visible, with the names of its columns left visible."""
    return {
        article.attributes["id"] or "": [
            row.css_first("td code").text()
            for row in article.css("table.columns tbody tr")
            if "hidden" not in row.attributes
        ]
        for article in dom.css("article")
        if "hidden" not in article.attributes
    }


def count(dom: LexborHTMLParser) -> str:
    node = dom.css_first("#search-count")
    assert node is not None
    return node.text()


def test_a_column_name_finds_the_relations_holding_it_and_only_those_columns(
    page: Path, tmp_path: Path
) -> None:
    dom = searched(page, "size_bytes", tmp_path)
    assert shown(dom) == {
        "rel-listings": ["size_bytes", "size_bytes_min", "size_bytes_max"],
        "rel-stg_lake__listings": ["size_bytes", "size_bytes_min", "size_bytes_max"],
        "rel-int_listings__keyed": ["size_bytes", "size_bytes_min", "size_bytes_max"],
        "rel-dim_documents": ["size_bytes", "size_bytes_min", "size_bytes_max"],
        "rel-fct_listing_appearances": ["size_bytes_min", "size_bytes_max"],
    }
    assert count(dom) == "5 of 16 match (14 columns)"
    toc = [li.css_first("a").text() for li in dom.css(".toc li") if "hidden" not in li.attributes]
    assert toc == ["listings", "stg_lake__listings", "int_listings__keyed", "dim_documents",
                   "fct_listing_appearances"]  # fmt: skip
    hidden = [s.attributes["id"] for s in dom.css("section") if "hidden" in s.attributes]
    assert hidden == ["singular-tests"]  # no singular test matches; every layer has a match


def test_a_model_name_shows_the_model_whole(page: Path, tmp_path: Path) -> None:
    dom = searched(page, "RPT_REJECTS", tmp_path)  # case does not matter
    found = shown(dom)
    assert list(found) == ["rel-rpt_rejects"]
    assert len(found["rel-rpt_rejects"]) == len(dom.css("#rel-rpt_rejects table.columns tbody tr"))
    assert count(dom) == "1 of 16 match"


def test_every_word_must_match_a_name_or_description(page: Path, tmp_path: Path) -> None:
    """The browser's result is the rule applied to the page as written."""
    dom = searched(page, "upload  time", tmp_path)
    static = LexborHTMLParser(page.read_text(encoding="utf-8"))

    def matches(*nodes: LexborNode | None) -> bool:
        text = " ".join(node.text().lower() for node in nodes if node is not None)
        return all(word in text for word in ("upload", "time"))

    expected = {}
    for article in static.css("article"):
        whole = matches(article.css_first("h3"), article.css_first(".description"))
        rows = [
            row.css_first("td code").text()
            for row in article.css("table.columns tbody tr")
            if whole or matches(row)
        ]
        if whole or rows:
            expected[article.attributes["id"]] = rows
    assert shown(dom) == expected
    assert expected["rel-dim_documents"] == [
        "uploaded_at_min", "uploaded_at_max", "upload_intervals_seen", "is_upload_interval_empty",
    ]  # fmt: skip


def test_an_empty_search_hides_nothing(page: Path, tmp_path: Path) -> None:
    dom = searched(page, "", tmp_path)
    assert dom.css("[hidden]") == []
    assert count(dom) == ""


def test_a_long_enum_shows_its_count_of_values_and_folds_them(page: Path) -> None:
    dom = LexborHTMLParser(page.read_text(encoding="utf-8"))

    def type_cell(column: str) -> LexborNode:
        cell = dom.css_first(f"tr#col-{column} td:nth-child(2)")
        assert cell is not None
        return cell

    layout = type_cell("stg_lake__snapshots-layout")
    enum = "ENUM(" + ", ".join(f"'{name}'" for name in vocab.LAYOUTS) + ")"
    assert layout.css_first("summary").text() == f"ENUM({len(vocab.LAYOUTS)} values)"
    assert layout.css_first("summary").attributes["title"] == enum
    assert [li.text() for li in layout.css("details ol li")] == list(vocab.LAYOUTS)
    forms = type_cell("dim_documents-forms_seen")  # a list of an ENUM
    assert forms.css_first("summary").text() == f"ENUM({len(vocab.FORMS)} values)[]"
    # a short ENUM reads whole where it stands
    severity = type_cell("rpt_data_quality-severity")
    assert severity.html == "<td><code>ENUM('high', 'medium', 'low')</code></td>"
