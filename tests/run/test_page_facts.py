"""Schema version 3's columns, plumbed: what a parser gives per page (`layout`, `page_type`
on its footer row) and per listing (`document_ref`) reaches the lake's snapshots and
listings and the warehouse; a parser that gives none of them leaves nulls (parse.PAGE_FACTS,
LISTING_FACTS), and an unreadable file has no layout."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline import parse, vocab
from pipeline.ingest import metadata
from pipeline.lake import manifest
from pipeline.run import run
from pipeline.warehouse import database
from tests.conftest import SAMPLE, write_snapshot
from tests.conftest import SAMPLE_FETCHED_AT as T0

PAGE = SAMPLE.read_text(encoding="utf-8")
# any names of the vocabularies: they may still change
LAYOUT, PAGE_TYPE = vocab.LAYOUTS[-1], vocab.PAGE_TYPES[-1]
UUID = "a1b2c3d4e5f60718"


@pytest.fixture
def text_parser_with_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The text parser, its pages detected as LAYOUT/PAGE_TYPE and its first listing linked
    by a uuid: what the parsers that record them will give."""
    parse_pages = parse.PARSERS["text"]

    def with_facts(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        listings, footers, rejects = parse_pages(pages)
        ref = pl.when(pl.col("position") == 1).then(pl.lit(UUID))
        listings = listings.with_columns(ref.alias("document_ref"))
        footers = footers.with_columns(layout=pl.lit(LAYOUT), page_type=pl.lit(PAGE_TYPE))
        return listings, footers, rejects

    monkeypatch.setitem(parse.PARSERS, "text", with_facts)


def test_a_parsers_layout_page_type_and_document_ref_reach_the_lake_and_warehouse(
    text_parser_with_facts: None, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write_snapshot(raw, "page.txt", PAGE, T0)
    write_snapshot(raw, "junk.txt", b"\x00\x01\x02 not a page", T0)
    lake, db = tmp_path / "lake", tmp_path / "w.duckdb"
    run.normalise_paths([raw], lake, metadata.ReadOptions())

    snapshots = manifest.scan(lake, "snapshots").collect().sort("source_path")
    assert snapshots.select("form", "layout", "page_type").rows() == [
        ("unreadable", None, None),
        ("text", LAYOUT, PAGE_TYPE),
    ]
    listings = manifest.scan(lake, "listings").collect().sort("position")
    assert listings["document_ref"].to_list() == [UUID] + [None] * 9
    assert listings["document_id"].null_count() == 10

    database.build(lake, db)
    assert database.query(
        "select form::varchar, layout::varchar, page_type::varchar from stg_lake__snapshots "
        "order by source_path",
        db=db,
    ).rows() == [("unreadable", None, None), ("text", LAYOUT, PAGE_TYPE)]
    # the uuid keys its document: document_ref set, document_id null, in both marts
    assert database.query(
        "select document_ref, document_id, times_seen from dim_documents "
        "where document_ref is not null",
        db=db,
    ).rows() == [(UUID, None, 1)]
    assert database.query(
        f"select position from fct_listing_appearances where document_ref = '{UUID}'", db=db
    ).rows() == [(1,)]


def test_a_parser_giving_none_of_them_leaves_nulls(
    normalise_texts, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse_pages = parse.PARSERS["text"]

    def without_facts(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        listings, footers, rejects = parse_pages(pages)
        return (
            listings.drop("document_ref", strict=False),
            footers.drop("layout", "page_type", strict=False),
            rejects,
        )

    monkeypatch.setitem(parse.PARSERS, "text", without_facts)
    tables = normalise_texts({"page.txt": PAGE})
    assert tables.snapshots.select("layout", "page_type").rows() == [(None, None)]
    assert tables.listings["document_ref"].null_count() == 10
