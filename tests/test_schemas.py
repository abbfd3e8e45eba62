"""`schemas.validate`: an empty table still has its schema checked; a full one its values."""

from __future__ import annotations

import pandera.errors
import polars as pl
import pytest

from pipeline import schemas, vocab


def _empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=schemas.polars_schema(schemas.Reject))


def test_an_empty_table_with_the_right_schema_passes() -> None:
    schemas.validate(_empty_rejects(), schemas.Reject)


def test_an_empty_table_with_a_wrong_schema_fails() -> None:
    with pytest.raises(pandera.errors.SchemaError):
        schemas.validate(_empty_rejects().drop("reason"), schemas.Reject)
    with pytest.raises(pandera.errors.SchemaError):
        schemas.validate(_empty_rejects().with_columns(pl.col("byte_start").cast(pl.Int32)),
                         schemas.Reject)  # fmt: skip


def test_a_table_with_rows_has_its_values_checked() -> None:
    row = {"snapshot_id": "s", "source_path": "p", "position": None, "byte_start": 0,
           "byte_end": 1, "fragment": "x", "stage": "nonsense", "reason": "r"}  # fmt: skip
    frame = pl.DataFrame([row], schema=schemas.polars_schema(schemas.Reject))
    with pytest.raises(pandera.errors.SchemaError, match="isin"):
        schemas.validate(frame, schemas.Reject)


# Schema version 3: listings.document_ref, snapshots.layout and page_type.
UUID = "a1b2c3d4e5f60718"


def _listings(*refs: tuple[int | None, str | None]) -> pl.DataFrame:
    """Valid listings, one per (document_id, document_ref), the rest of each row plain."""
    from tests.warehouse.sql.conftest import T0, listing

    rows = [
        listing("s1", n, f"heading {n}", T0, document_id=i, document_ref=ref)
        for n, (i, ref) in enumerate(refs, 1)
    ]
    return pl.DataFrame(rows, schema=schemas.polars_schema(schemas.Listing), orient="row")


def _snapshots(layout: str | None, page_type: str | None) -> pl.DataFrame:
    from tests.warehouse.sql.conftest import T0, snapshot

    row = snapshot("s1", T0, listing_count=0, layout=layout, page_type=page_type)
    return pl.DataFrame([row], schema=schemas.polars_schema(schemas.Snapshot), orient="row")


def test_the_version_3_columns_are_appended_at_the_end() -> None:
    """Columns are only ever added at the end: files of every version line up."""
    assert list(schemas.polars_schema(schemas.Listing))[-2:] == ["comment_count", "document_ref"]
    assert list(schemas.polars_schema(schemas.Snapshot))[-3:] == [
        "search_seconds",
        "layout",
        "page_type",
    ]
    assert schemas.polars_schema(schemas.Listing)["document_ref"] == pl.String
    assert schemas.polars_schema(schemas.Snapshot)["layout"] == pl.String


def test_listings_linked_by_uuid_or_numeric_id_validate() -> None:
    frame = _listings(
        (None, UUID), (2413, UUID), (2413, "2413"), (None, None), (7, None),
        (2413, "0000000000000000"),  # a uuid of decimal digits only
    )  # fmt: skip
    schemas.validate(frame, schemas.Listing)
    valid, failed = schemas.split_valid(frame, schemas.Listing)
    assert (valid.height, failed.height) == (6, 0)


def test_a_numeric_ref_other_than_the_id_or_a_ref_no_link_prints_is_rejected() -> None:
    frame = _listings((2413, "2414"), (1, "a/b"), (None, ""), (3, "3"))
    valid, failed = schemas.split_valid(frame, schemas.Listing)
    assert valid["position"].to_list() == [4]
    assert failed.select("position", "reason").rows() == [
        (
            1,
            "schema check failed: Listing a numeric document_ref is document_id or a 16-digit uuid",
        ),
        (2, "schema check failed: document_ref str_matches('^[0-9A-Za-z_-]+$')"),
        (3, "schema check failed: document_ref str_matches('^[0-9A-Za-z_-]+$')"),
    ]


def test_a_snapshot_takes_every_layout_and_page_type_of_the_vocabulary_or_null() -> None:
    for layout in (*vocab.LAYOUTS, None):
        for page_type in (*vocab.PAGE_TYPES, None):
            schemas.validate(_snapshots(layout, page_type), schemas.Snapshot)


def test_isin_rejects_a_layout_or_page_type_outside_the_vocabulary() -> None:
    with pytest.raises(pandera.errors.SchemaError, match=r"isin.*layout|layout.*isin"):
        schemas.validate(_snapshots("moredoc-1999", vocab.PAGE_TYPES[0]), schemas.Snapshot)
    with pytest.raises(pandera.errors.SchemaError, match=r"isin.*page_type|page_type.*isin"):
        schemas.validate(_snapshots(vocab.LAYOUTS[0], "homepage"), schemas.Snapshot)
