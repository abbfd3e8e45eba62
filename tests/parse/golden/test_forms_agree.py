"""Golden test: the sample page in all its forms — text, HTML (served and browser-saved)
and search-API JSON — read in one batch, against the one truth they were written from.

Expected values are `sample_documents` (chosen by hand, see its docstring), never the
parser's output. Where a form carries a value, it must be the truth's; where two forms
carry one, they must agree; and every interval the text form gives holds the JSON's exact
point.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from pipeline.ingest import metadata, read
from pipeline.run import normalise
from tests.conftest import RAW, REPO, SAMPLE
from tests.parse.golden import sample_documents as truth

FIXTURES = Path(__file__).parent.parent / "fixtures"
FORMS = {
    "text": SAMPLE,
    "html": RAW / "wenku-search-page.html",
    "saved": FIXTURES / "wenku-search-page.saved.html",
    "json": RAW / "wenku-search-page.json",
}
OWN_LINE = {1, 8}  # the listings whose title stands on its own line in the text form


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> normalise.BatchTables:
    folder = tmp_path_factory.mktemp("forms")
    files = []
    for path in FORMS.values():
        for file in (path, path.with_name(path.name + ".meta.json")):
            shutil.copy(file, folder / file.name)
        files.append(folder / path.name)
    return normalise.normalise_batch(read.read_batch(files, metadata.ReadOptions()))


@pytest.fixture(scope="module")
def by_form(tables: normalise.BatchTables) -> dict[str, list[dict]]:
    paths = tables.snapshots.select(
        "snapshot_id", pl.col("source_path").str.extract(r"([^/]+)$").alias("name")
    )
    names = {path.name: form for form, path in FORMS.items()}
    rows = tables.listings.join(paths, on="snapshot_id").sort("name", "position")
    return {names[n]: group.to_dicts() for (n,), group in rows.group_by("name")}


def test_every_form_reads_ten_listings_and_rejects_nothing(tables, by_form) -> None:
    assert tables.rejects.height == 0
    assert {form: len(rows) for form, rows in by_form.items()} == dict.fromkeys(FORMS, 10)
    assert sorted(tables.snapshots["form"]) == ["html", "html", "json", "text"]


def test_structured_forms_give_the_exact_title_and_description(by_form) -> None:
    for form, source in (("html", "html"), ("saved", "html"), ("json", "json")):
        for row, doc in zip(by_form[form], truth.DOCUMENTS, strict=True):
            assert (row["title"], row["description"]) == (doc.title, doc.description), form
            assert row["title_source"] == source
            assert row["heading"] == doc.title + doc.description


def test_the_text_heading_is_the_truths_title_and_description(by_form) -> None:
    for row, doc in zip(by_form["text"], truth.DOCUMENTS, strict=True):
        between = "\n" if row["position"] in OWN_LINE else ""
        assert row["heading"] == doc.title + between + doc.description


def test_html_carries_the_site_id_family_and_the_text_forms_printed_values(by_form) -> None:
    printed = (
        "price",
        "pages",
        "size_text",
        "size_bytes",
        "size_bytes_min",
        "size_bytes_max",
        "age_text",
        "uploaded_at_min",
        "uploaded_at_max",
        "rating",
        "score",
        "credit",
    )
    for text, served, saved, doc in zip(
        by_form["text"], by_form["html"], by_form["saved"], truth.DOCUMENTS, strict=True
    ):
        for column in printed:
            assert served[column] == text[column] == saved[column], column
        assert served["document_id"] == saved["document_id"] == doc.document_id
        assert served["file_family"] == saved["file_family"] == doc.file_family
        assert served["price_ambiguous"] is False


def test_json_gives_exact_points_inside_every_text_interval(by_form) -> None:
    for text, api, doc in zip(by_form["text"], by_form["json"], truth.DOCUMENTS, strict=True):
        assert api["size_bytes"] == api["size_bytes_min"] == api["size_bytes_max"]
        assert api["size_bytes"] == doc.size_bytes
        assert text["size_bytes_min"] <= api["size_bytes"] <= text["size_bytes_max"]
        assert api["uploaded_at_min"] == api["uploaded_at_max"] == doc.created_at
        assert text["uploaded_at_min"] <= doc.created_at <= text["uploaded_at_max"]
        assert (api["rating"], api["score"]) == (text["rating"], text["score"])
        assert (api["price"], api["pages"]) == (doc.price, doc.pages)
        assert (api["document_id"], api["ext"], api["file_family"]) == (
            doc.document_id, doc.ext, doc.file_family
        )  # fmt: skip
        assert api["keywords"] == doc.keywords
        counts = ("view_count", "download_count", "favorite_count", "comment_count")
        assert [api[c] for c in counts] == [getattr(doc, c) for c in counts]
        assert api["price_text"] is api["size_text"] is api["credit"] is api["age_text"] is None


def test_page_facts_agree_across_forms(tables) -> None:
    facts = {
        form: row
        for row in tables.snapshots.iter_rows(named=True)
        for form, path in FORMS.items()
        if row["source_path"].endswith("/" + path.name)
    }
    assert {f: r["total_results"] for f, r in facts.items()} == dict.fromkeys(FORMS, 145)
    assert [facts[f]["last_page"] for f in ("text", "html", "saved")] == [truth.LAST_PAGE] * 3
    assert facts["json"]["last_page"] is None  # the API has no pager
    for form in ("html", "saved"):
        assert facts[form]["site_document_count"] == truth.SITE_DOCUMENT_COUNT
    for form in ("html", "saved", "json"):
        assert facts[form]["search_seconds"] == float(truth.SEARCH_SECONDS)
    assert facts["text"]["site_document_count"] is facts["text"]["search_seconds"] is None


def test_html_spans_hold_each_item_and_follow_each_other(tables, by_form) -> None:
    for form in ("html", "saved"):
        page = FORMS[form].read_bytes()
        previous_end = 0
        for row, doc in zip(by_form[form], truth.DOCUMENTS, strict=True):
            item = page[row["byte_start"] : row["byte_end"]].decode()
            assert item.startswith("<li")
            assert f'href="/document/{doc.document_id}"' in item
            assert row["byte_start"] >= previous_end
            previous_end = row["byte_end"]


def test_json_spans_are_each_documents_object(by_form) -> None:
    page = FORMS["json"].read_bytes()
    for row, doc in zip(by_form["json"], truth.DOCUMENTS, strict=True):
        assert json.loads(page[row["byte_start"] : row["byte_end"]])["id"] == str(doc.document_id)


def test_fixtures_live_in_the_repository() -> None:
    assert all(path.is_relative_to(REPO) and path.exists() for path in FORMS.values())


def test_a_saved_page_without_a_sidecar_names_its_own_url(tmp_path: Path) -> None:
    """A browser's "save as" marks the page `saved from url=…`: without a sidecar, the
    snapshot's url, site, query and page come from it; a sidecar still wins."""
    bare = tmp_path / "bare.html"
    shutil.copy(FORMS["saved"], bare)
    other = tmp_path / "named.html"
    shutil.copy(FORMS["saved"], other)
    sidecar = {
        "url": "https://mirror.example/search?wd=k8s&page=3",
        "fetched_at": "2026-11-20T09:30:00Z",
    }
    (tmp_path / "named.html.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
    tables = normalise.normalise_batch(read.read_batch([bare, other], metadata.ReadOptions()))
    facts = {
        Path(row["source_path"]).name: (row["url"], row["site"], row["query"], row["page"])
        for row in tables.snapshots.iter_rows(named=True)
    }
    assert facts == {
        "bare.html": (truth.URL, "wenku.it", truth.QUERY, 1),
        "named.html": (sidecar["url"], "mirror.example", "k8s", 3),
    }
    sites = tables.listings.group_by("snapshot_id").agg(pl.col("site").unique())
    assert sorted(s for (s,) in sites["site"].to_list()) == ["mirror.example", "wenku.it"]
