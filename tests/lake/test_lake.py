"""The lake: month partitions, atomic idempotent writes, what DuckDB reads of it, clear errors."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipeline import errors
from pipeline.ingest import metadata
from pipeline.lake import layout, manifest
from pipeline.lake.storage import Location
from pipeline.run import run
from pipeline.vocab import TABLES
from pipeline.warehouse import database
from tests.conftest import SAMPLE, empty_lake, lake_files


def test_the_lake_is_hive_partitioned_by_month_one_group_per_batch(
    raw_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    run.normalise_paths([raw_copy / SAMPLE.name], out, metadata.ReadOptions())
    fetched_at = metadata.parse_timestamp("2026-11-20T09:30:00Z")
    sidecar = json.loads((raw_copy / f"{SAMPLE.name}.meta.json").read_text(encoding="utf-8"))
    sid = metadata.snapshot_id(SAMPLE.read_bytes(), fetched_at, sidecar["url"])
    # A run's group is named by its snapshots and the files they came from.
    name = layout.group_name(layout.BATCH_PREFIX, [f"{sid}\t{raw_copy / SAMPLE.name}"])
    assert sorted(lake_files(out)) == [
        f"{t}/fetched_month=2026-11/{name}.parquet" for t in sorted(TABLES)
    ]
    listings = pl.read_parquet(out / "listings" / "**" / "*.parquet", hive_partitioning=True)
    assert listings.columns == [*layout.file_schema("listings").names(), "fetched_month"]
    assert listings.select("fetched_date", "fetched_month").unique().rows() == [
        (date(2026, 11, 20), "2026-11")
    ]


def test_a_rerun_leaves_byte_identical_files_and_no_duplicates(
    raw_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    first = run.normalise_paths([raw_copy], out, metadata.ReadOptions())
    before = lake_files(out)
    second = run.normalise_paths([raw_copy], out, metadata.ReadOptions())
    assert lake_files(out) == before
    assert first.lake_rows == second.lake_rows
    assert (second.files_found, second.files_skipped, second.snapshots) == (6, 6, 0)
    assert "0 new snapshots, 6 already in the lake" in second.render()
    refreshed = run.normalise_paths([raw_copy], out, metadata.ReadOptions(), full_refresh=True)
    assert (refreshed.files_skipped, refreshed.snapshots) == (0, 6)
    # A full refresh names its groups apart from the lake it replaces (docs/lake.md,
    # "Crashes"): the same bytes under new names, the old files gone.
    refreshed_files = lake_files(out)
    assert set(refreshed_files).isdisjoint(before)
    assert sorted(refreshed_files.values()) == sorted(before.values())
    counts = database.query(
        "select count(*) as n, count(distinct (snapshot_id, position)) as d from listings",
        lake=out,
    ).row(0)
    assert counts[0] == counts[1] == first.listings


def test_no_temporary_file_survives_a_failed_write(tmp_path: Path, monkeypatch) -> None:
    """A crash half-way through writing leaves neither a partial file nor a temp file."""
    target = tmp_path / "t" / "x.parquet"

    def explode(self: Path, data: bytes) -> int:
        with open(self, "wb") as handle:
            handle.write(data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", explode)
    with pytest.raises(OSError, match="disk full"):
        layout.write_parquet(Location.of(tmp_path), pl.DataFrame({"a": [1]}), str(target))
    assert list(target.parent.iterdir()) == []


def test_files_the_manifest_does_not_name_are_invisible_to_readers(
    raw_copy: Path, tmp_path: Path
) -> None:
    """A crashed run's group (written, never committed) shows in neither reader."""
    out, db = tmp_path / "lake", tmp_path / "w.duckdb"
    run.normalise_paths([raw_copy / SAMPLE.name], out, metadata.ReadOptions())
    (committed,) = (out / "listings" / "fetched_month=2026-11").iterdir()
    for table in TABLES:  # a full copy of the group under another name: a stray group
        source = out / table / "fetched_month=2026-11" / committed.name
        shutil.copy(source, source.with_name("batch-00000000000000000000.parquet"))
    database.build(out, db)
    query = "select count(*) as n from listings"
    assert database.query(query, lake=out).item() == 10
    assert database.query(query, db=db).item() == 10
    assert manifest.scan(out, "listings").collect().height == 10


def test_a_path_that_is_not_a_lake_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(errors.NotALakeError, match="is not a lake: it has no _manifest/ folder"):
        database.query("select 1", lake=tmp_path / "typo")


def test_the_warehouse_counts_match_the_lake(raw_copy: Path, tmp_path: Path) -> None:
    out, db = tmp_path / "lake", tmp_path / "w.duckdb"
    summary = run.normalise_paths([raw_copy], out, metadata.ReadOptions())
    counts = database.build(out, db)
    assert counts == summary.lake_rows
    types = database.query(
        "select typeof(fetched_date), typeof(uploaded_at_min), typeof(size_bytes) "
        "from listings limit 1",
        db=db,
    ).row(0)
    assert types == ("DATE", "TIMESTAMP WITH TIME ZONE", "BIGINT")


def test_an_empty_lake_still_has_typed_tables(tmp_path: Path) -> None:
    result = database.query(
        "select count(*), typeof(max(size_bytes)) from listings", lake=empty_lake(tmp_path)
    )
    assert result.row(0) == (0, "BIGINT")
