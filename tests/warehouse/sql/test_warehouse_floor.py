"""The raw-DuckDB floor does the build's core work: the same keys, the same documents and
appearances, stored the way the warehouse stores its tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from benchmarks import warehouse_floor
from pipeline import config
from pipeline.warehouse import database
from tests.warehouse.sql.conftest import DAY, T0, listing, snapshot

HEADING = "MySQL 实战\n索引与事务"
SNAPSHOTS = [snapshot("s1", T0), snapshot("s2", T0 + DAY, query="数据库")]
LISTINGS = [
    # one document four times: on its own line, flattened, glued with digits the price may
    # have taken, and listed twice on one page; and a second document
    listing("s1", 1, HEADING, T0),
    listing("s1", 2, "MySQL 实战 索引与事务 2021", T0),
    listing("s2", 1, "MySQL 实战索引与事务", T0 + DAY),
    listing("s2", 2, "MySQL 实战　索引与事务", T0 + DAY),  # an ideographic space
    listing("s2", 3, "Redis 设计与实现", T0 + DAY),
]


@pytest.fixture
def built(run_models, tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, tuple[Path, Path]]:
    """The models built on the rows, and one-file Parquet copies of the same lake tables."""
    con, _ = run_models("rpt_data_quality", SNAPSHOTS, LISTINGS)  # dim and fct upstream
    paths = tmp_path / "listings.parquet", tmp_path / "snapshots.parquet"
    for table, path in zip(("listings", "snapshots"), paths, strict=True):
        con.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
    return con, paths


def test_the_floor_keys_every_listing_as_the_model_does(built) -> None:
    con, copies = built
    floor = database.connect()
    files = {"$listings": f"'{copies[0]}'", "$snapshots": f"'{copies[1]}'"}
    for sql in [*warehouse_floor.STEPS["load"], *warehouse_floor.STEPS["key"]]:
        for name, path in files.items():
            sql = sql.replace(name, path)
        floor.execute(sql)
    query = "select snapshot_id, position, document_key from {} order by 1, 2"
    keys = floor.sql(query.format("keyed")).fetchall()
    assert keys == con.sql(query.format("int_listings__keyed")).fetchall()
    assert len({key for *_, key in keys}) == 2


@pytest.mark.parametrize("in_memory", [False, True])
def test_the_floor_makes_the_documents_and_appearances_the_models_make(
    built, in_memory: bool
) -> None:
    con, copies = built
    floor = warehouse_floor.run_warehouse_floor(*copies, threads=1, in_memory=in_memory)
    counts = "select (select count(*) from dim_documents), (select count(*) from {})"
    assert con.sql(counts.format("fct_listing_appearances")).fetchall() == [(2, 3)]
    assert (floor.listings, floor.documents, floor.appearances) == (5, 2, 3)
    assert list(floor.steps) == ["load", "key", "documents", "appearances"]
    assert floor.seconds == sum(floor.steps.values())
    assert (floor.threads, floor.in_memory) == (1, in_memory)


def test_the_floor_stores_its_tables_as_the_warehouse_does() -> None:
    assert warehouse_floor.WRITE_SETTINGS == database.WRITE_SETTINGS
    assert warehouse_floor.MEMORY_LIMIT == config.DUCKDB_MEMORY_LIMIT
    assert warehouse_floor.STORAGE_VERSION == config.STORAGE_VERSION
