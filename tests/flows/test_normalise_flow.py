"""The Prefect flow over the sample folder, on a real (test-harness) Prefect API.

Only this module pays for Prefect: the harness starts once per session.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import RAW, SAMPLE, lake_files


@pytest.mark.flow
def test_the_flow_runs_incrementally_and_reports(prefect_api: None, tmp_path: Path) -> None:
    """First run writes everything; a new file alone is processed next; then nothing."""
    from prefect.artifacts import Artifact

    from flows.normalise import normalise_flow
    from pipeline import warehouse

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
    assert (first.files_found, first.snapshots, first.listings, first.rejects) == (3, 3, 23, 0)
    assert len(first.batches) == 3  # ~2 KB batches: the three pages run as three tasks
    assert warehouse.query("select count(*) from listings", db=db).item() == 23
    table = Artifact.get("normalise-batches")
    assert table is not None and '"listings": 10' in str(table.data)
    markdown = Artifact.get("normalise-summary")
    assert markdown is not None and "| listings | 23 |" in str(markdown.data)

    held_back.rename(extra)
    second = normalise_flow(paths=[raw], lake_dir=lake_dir, db=db, report_path=report)
    assert (second.files_read, second.files_skipped, second.listings) == (1, 3, 10)
    assert warehouse.query("select count(*) from listings", db=db).item() == 33

    third = normalise_flow(paths=[raw], lake_dir=lake_dir, db=db, report_path=report)
    assert (third.snapshots, third.files_skipped) == (0, 4)
    assert "0 new snapshots, 4 already in the lake" in third.render()

    before = lake_files(lake_dir)
    refreshed = normalise_flow(
        paths=[raw], lake_dir=lake_dir, db=db, full_refresh=True, report_path=report
    )
    assert refreshed.snapshots == 4
    assert lake_files(lake_dir) == before


@pytest.mark.flow
def test_the_flow_writes_the_batch_layout_when_asked(prefect_api: None, tmp_path: Path) -> None:
    """`--layout batch` through the flow: one batch file name per task, same rows, no dupes."""
    from flows.normalise import normalise_flow
    from pipeline import manifest, warehouse

    lake_dir, db = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    summary = normalise_flow(
        paths=[RAW], lake_dir=lake_dir, db=db, batch_bytes=2048, report_path=None, layout="batch"
    )
    assert (summary.layout, summary.listings, len(summary.batches)) == ("batch", 33, 4)
    names = {Path(name).name for name in lake_files(lake_dir)}
    assert names == {f"{name}.parquet" for name in manifest.load(lake_dir)["data_file"]}
    assert len(names) == 4 and all(n.startswith("batch-") for n in names)
    again = normalise_flow(paths=[RAW], lake_dir=lake_dir, db=db, report_path=None)
    assert (again.layout, again.snapshots) == ("batch", 0)  # the lake keeps its layout
    count = "select count(*), count(distinct (snapshot_id, position)) from listings"
    assert warehouse.query(count, db=db).row(0) == (33, 33)
