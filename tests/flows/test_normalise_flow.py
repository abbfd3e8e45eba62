"""The Prefect flow over the sample folder, on a real (test-harness) Prefect API.

Only this module pays for Prefect: the harness starts once per session.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.lake import manifest
from pipeline.lake.storage import Location
from pipeline.vocab import TABLES
from tests.conftest import RAW, SAMPLE, lake_files


@pytest.mark.flow
def test_the_flow_runs_incrementally_and_reports(prefect_api: None, tmp_path: Path) -> None:
    """First run writes everything; a new file alone is processed next; then nothing."""
    from prefect.artifacts import Artifact

    from flows.normalise import normalise_flow
    from pipeline.warehouse import database

    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    extra = raw / SAMPLE.name
    held_back = tmp_path / SAMPLE.name
    extra.rename(held_back)
    lake_dir, db = tmp_path / "lake", tmp_path / "warehouse.duckdb"

    report = tmp_path / "report.html"
    first = normalise_flow(
        paths=[raw], lake_dir=lake_dir, db=db, batch_bytes=2048, report_path=report
    )
    assert first.report == str(report) and "<svg" in report.read_text(encoding="utf-8")
    # Three text pages (23 listings) and the real page's HTML and JSON forms (10 each).
    assert (first.files_found, first.snapshots, first.listings, first.rejects) == (5, 5, 43, 0)
    assert len(first.batches) == 5  # ~2 KB batches: the five pages run as five tasks
    # Five groups in one month are more than a few (compact.AUTO_SMALL_GROUPS): merged.
    assert first.compaction is not None and "merged 5 small groups into 1" in first.compaction
    assert database.query("select count(*) from listings", db=db).item() == 43
    table = Artifact.get("normalise-batches")
    assert table is not None and '"listings": 10' in str(table.data)
    markdown = Artifact.get("normalise-summary")
    assert markdown is not None and "| listings | 43 |" in str(markdown.data)

    held_back.rename(extra)
    second = normalise_flow(paths=[raw], lake_dir=lake_dir, db=db, report_path=report)
    assert (second.files_read, second.files_skipped, second.listings) == (1, 5, 10)
    assert database.query("select count(*) from listings", db=db).item() == 53

    third = normalise_flow(paths=[raw], lake_dir=lake_dir, db=db, report_path=report)
    assert (third.snapshots, third.files_skipped) == (0, 6)
    assert "0 new snapshots, 6 already in the lake" in third.render()

    assert third.files_per_table == 2  # the first run's merged group, one from the second
    rows = manifest.scan(lake_dir, "listings").collect().sort("snapshot_id", "position")
    refreshed = normalise_flow(
        paths=[raw], lake_dir=lake_dir, db=db, full_refresh=True, report_path=report
    )
    assert (refreshed.snapshots, refreshed.files_per_table) == (6, 1)  # one batch this time
    assert len(lake_files(lake_dir)) == 3  # the old groups are gone
    listings = manifest.scan(lake_dir, "listings").collect()
    assert listings.sort("snapshot_id", "position").equals(rows)


@pytest.mark.flow
def test_the_flow_writes_a_group_per_batch_task(prefect_api: None, tmp_path: Path) -> None:
    """Batch tasks write their own groups; the flow commits them; the retired `layout`
    parameter is accepted and ignored, so existing deployments keep running."""
    from flows.normalise import normalise_flow
    from pipeline.lake import manifest
    from pipeline.warehouse import database

    lake_dir, db = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    # 16 KB batches of the six sample files in name order (1271 + 3030, 32514, 17082 and
    # 12233 + 1857 bytes): four groups, not more than a few, so none is merged.
    summary = normalise_flow(
        paths=[RAW], lake_dir=lake_dir, db=db, batch_bytes=16384, report_path=None, layout="batch"
    )
    assert (summary.listings, len(summary.batches), summary.files_per_table) == (53, 4, 4)
    groups = set(manifest.load(Location.of(lake_dir))["data_file"])
    assert set(lake_files(lake_dir)) == {f"{t}/{g}.parquet" for t in TABLES for g in groups}
    assert all(g.startswith("fetched_month=2026-11/batch-") for g in groups)
    again = normalise_flow(paths=[RAW], lake_dir=lake_dir, db=db, report_path=None)
    assert again.snapshots == 0
    count = "select count(*), count(distinct (snapshot_id, position)) from listings"
    assert database.query(count, db=db).row(0) == (53, 53)
