"""Typed for analysts: closed vocabularies are DuckDB ENUMs in the warehouse (Categorical in
polars, category in pandas), and the lake and the warehouse agree on time: both UTC, so
their frames join without a time-zone cast (docs/notebooks.md)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline import lake, vocab
from pipeline.errors import ModelError
from pipeline.warehouse import database
from pipeline.warehouse.templates import Template


@pytest.fixture
def built(sample_lake: Path, sample_warehouse: Path) -> tuple[Path, Path]:
    return sample_lake, sample_warehouse


def _enum(values: tuple[str, ...]) -> str:
    return "ENUM(" + ", ".join(f"'{v}'" for v in values) + ")"


def test_closed_vocabularies_are_enums_from_staging_on(built: tuple[Path, Path]) -> None:
    _, db = built
    types = dict(
        database.query(
            "select table_name || '.' || column_name, data_type from duckdb_columns() "
            "where table_name like 'stg_lake__%' and data_type like 'ENUM%'",
            db=db,
        ).rows()
    )
    assert types == {
        "stg_lake__listings.title_source": _enum(vocab.TITLE_SOURCES),
        "stg_lake__listings.file_family": _enum(vocab.FILE_FAMILIES),
        "stg_lake__snapshots.form": _enum(vocab.FORMS),
        "stg_lake__snapshots.fetched_at_source": _enum(vocab.FETCHED_AT_SOURCES),
        "stg_lake__snapshots.layout": _enum(vocab.LAYOUTS),
        "stg_lake__snapshots.page_type": _enum(vocab.PAGE_TYPES),
        "stg_lake__rejects.stage": _enum(vocab.REJECT_STAGES),
    }
    frame = database.query("select form, title_source from int_listings__keyed", db=db)
    assert frame.schema == {"form": pl.Categorical(), "title_source": pl.Categorical()}
    assert sorted(frame["form"].unique().cast(pl.String)) == ["html", "json", "text"]


def test_an_enum_of_no_vocabulary_is_a_model_error(tmp_path: Path) -> None:
    path = tmp_path / "m.sql"
    with pytest.raises(ModelError, match=r"m.sql:2: enum\('COLOURS'\) names no vocabulary"):
        Template.parse(path, "select\n cast(x as {{ enum('COLOURS') }}) as x")
    text = "select cast(x as {{ enum('REJECT_STAGES') }}) as x"
    assert Template.parse(path, text).render({}, {}) == (
        "select cast(x as ENUM('read', 'parse', 'validate')) as x"
    )


def test_the_lake_and_the_warehouse_join_on_their_times(built: tuple[Path, Path]) -> None:
    """The lake's times are `datetime[μs, UTC]`; the warehouse's, read through
    `database.connect` (or any connection that sets TimeZone to UTC, as docs/notebooks.md
    says), are the same type, so a join on them needs no cast."""
    lake_dir, db = built
    from_lake = lake.scan(lake_dir, "snapshots").select("snapshot_id", "fetched_at").collect()
    query = "select snapshot_id, fetched_at, listing_count from snapshots"
    with database.connect(db) as con:
        from_warehouse = con.sql(query).pl()
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        from_notebook = con.sql(query).pl()
    assert from_lake.schema["fetched_at"] == pl.Datetime("us", "UTC")
    for frame in (from_warehouse, from_notebook):
        assert frame.schema["fetched_at"] == from_lake.schema["fetched_at"]
        joined = from_lake.join(frame, on=["snapshot_id", "fetched_at"])
        assert joined.height == 6
        assert joined["listing_count"].sum() == 53
