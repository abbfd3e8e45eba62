"""The flow on a Dask cluster gives the same lake as the local thread runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import RAW, lake_files


@pytest.mark.flow
def test_a_dask_cluster_gives_the_same_lake(prefect_api: None, tmp_path: Path) -> None:
    from distributed import LocalCluster
    from prefect.settings import PREFECT_API_URL

    from flows.normalise import normalise_flow, with_dask

    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    local = normalise_flow(
        paths=[raw],
        lake_dir=tmp_path / "local",
        db=tmp_path / "l.duckdb",
        batch_bytes=4096,
        report_path=None,
    )
    # Workers are separate processes: they must reach the harness's API, not start their own.
    os.environ["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    try:
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            on_dask = with_dask(cluster.scheduler_address)(
                paths=[raw],
                lake_dir=tmp_path / "dask",
                db=tmp_path / "d.duckdb",
                batch_bytes=4096,
                report_path=None,
            )
    finally:
        del os.environ["PREFECT_API_URL"]
    assert on_dask.listings == local.listings == 53
    assert len(on_dask.batches) == len(local.batches) > 1
    assert lake_files(tmp_path / "dask") == lake_files(tmp_path / "local")
