"""Golden tests on the text-form sample pages in data/raw/, against their truth.

The whole folder is normalised as one batch, as `make run` does, so the glued-price
evidence is the site's own unambiguous prices across its pages. The folder also holds the
real page's HTML and JSON forms (checked against their own truth in `test_forms_agree.py`):
the rules below are the text form's, so they look at the text-form snapshots.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.ingest import metadata, read, sources
from pipeline.run import normalise
from tests.conftest import RAW, assert_listings_match, assert_nothing_lost
from tests.parse.golden import sample_documents
from tests.parse.golden.sample_truth import PAGES


@pytest.fixture(scope="module")
def tables() -> normalise.BatchTables:
    snapshots_read = read.read_batch(sources.discover([RAW]), metadata.ReadOptions())
    return normalise.normalise_batch(snapshots_read)


@pytest.fixture(scope="module")
def text_listings(tables: normalise.BatchTables) -> pl.DataFrame:
    """The listings of the text-form snapshots: the real page and the three rendered ones."""
    text = tables.snapshots.filter(pl.col("form") == "text").select("snapshot_id")
    return tables.listings.join(text, on="snapshot_id", how="semi")


def test_the_sample_folder_parses_without_rejects(
    tables: normalise.BatchTables, text_listings: pl.DataFrame
) -> None:
    real_page = len(sample_documents.DOCUMENTS)  # 10, in each of the three forms
    assert tables.rejects.height == 0
    assert sorted(tables.snapshots["form"]) == ["html", "json", "text", "text", "text", "text"]
    assert text_listings.height == real_page + sum(len(p.documents) for p in PAGES.values())
    assert tables.listings.height == text_listings.height + 2 * real_page == 53


@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_rendered_page_gives_back_its_truth(tables: normalise.BatchTables, name: str) -> None:
    truth = PAGES[name]
    snapshot = tables.snapshots.filter(pl.col("source_path").str.ends_with(name)).row(0, named=True)
    assert snapshot["fetched_at"] == truth.fetched_at
    assert snapshot["fetched_at_source"] == "sidecar"
    assert snapshot["url"] == truth.url
    assert (snapshot["total_results"], snapshot["last_page"]) == (
        truth.total_results,
        truth.last_page,
    )
    rows = (
        tables.listings.filter(pl.col("snapshot_id") == snapshot["snapshot_id"])
        .sort("position")
        .to_dicts()
    )
    assert_listings_match(
        rows, truth.documents, truth.title_layouts, truth.show_age, truth.fetched_at
    )
    # With the site's evidence in the batch, every price comes out exact, ambiguous or not.
    assert [row["price"] for row in rows] == [doc.price for doc in truth.documents]
    text = Path(RAW / name).read_text(encoding="utf-8")
    assert_nothing_lost(tables, snapshot["snapshot_id"], text)


def test_queries_and_pages_come_from_the_sidecar_url(tables: normalise.BatchTables) -> None:
    facts = tables.snapshots.select("site", "query", "page").sort("query").rows()
    assert facts == [
        ("moredoc.example.org", "golang", 1),
        ("wenku.it", "kubernetes", 1),
        *[("wenku.it", "云原生", 1)] * 3,  # the real page as text, HTML and API JSON
        ("wenku.it", "数据库", 2),
    ]


def test_the_sample_pages_cover_the_rules_the_issue_names(text_listings: pl.DataFrame) -> None:
    """`1 年前`, `刚刚`, KB and GB sizes, `-` pages and other credits are all present."""
    listings = text_listings
    ages = set(listings["age_text"].drop_nulls())
    assert {"1 年前", "刚刚"} <= ages
    units = set(listings["size_text"].str.extract(r" (\w+)$"))
    assert {"KB", "MB", "GB", "Bytes"} <= units
    assert listings["pages"].null_count() >= 1
    assert set(listings["credit"]) == {"码力", "魔豆"}
    assert listings["age_text"].null_count() >= 1
