"""The Prefect flow over the sample folder, on a real (test-harness) Prefect API.

Only this module pays for Prefect: the harness starts once per session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RAW


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Before Prefect is imported: a throwaway home, and the quiet defaults `flows` sets.
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    import flows  # noqa: F401, I001
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.mark.flow
def test_the_flow_writes_the_lake_and_the_warehouse(prefect_api: None, tmp_path: Path) -> None:
    from flows.normalise import normalise_flow
    from pipeline import warehouse

    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    lake_dir, db = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    summary = normalise_flow(paths=[raw], lake_dir=lake_dir, db=db)
    assert summary.files_read == 4
    assert summary.rejects == 0
    assert summary.listings == summary.lake_rows["listings"] == 33
    assert warehouse.query("select count(*) from listings", db=db).item() == 33
    assert "listings:    33" in summary.render()

    again = normalise_flow(paths=[raw], lake_dir=lake_dir, db=db)
    assert again.lake_rows == summary.lake_rows
