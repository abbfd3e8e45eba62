"""The lake's three tables are named once, in `pipeline.vocab.TABLE_MODELS`: the writer's
order, the pandera models, the warehouse's load order and the SQL project's `lake` source
all follow it (dbt_like_sql/staging/_sources.yml cannot import Python: it is held to it)."""

from __future__ import annotations

import pandera.polars as pa

from pipeline import schemas, vocab
from pipeline.lake import layout
from pipeline.warehouse import database, docs
from pipeline.warehouse.project import load_project


def test_the_tables_and_their_models_are_one_declaration() -> None:
    assert vocab.TABLES == tuple(vocab.TABLE_MODELS) == ("listings", "rejects", "snapshots")
    for table, model in vocab.TABLE_MODELS.items():
        assert issubclass(getattr(schemas, model), pa.DataFrameModel)
        assert (
            layout.file_schema(table).names()[:3]
            == list(schemas.polars_schema(getattr(schemas, model)))[:3]
        )
    assert docs.LAKE_MODELS is vocab.TABLE_MODELS


def test_the_warehouse_loads_and_sorts_exactly_the_lake_tables() -> None:
    assert sorted(database.LAKE_TABLES) == sorted(database.LOAD_ORDER) == sorted(vocab.TABLES)
    assert database.LAKE_TABLES[0] == "snapshots"


def test_the_sql_projects_lake_source_declares_exactly_the_lake_tables() -> None:
    sources = load_project().sources
    assert {source for source, _ in sources} == {"lake"}
    assert sorted(sources.values()) == sorted(vocab.TABLES)
