"""Flow tests share one Prefect test harness per session (it costs ~15-20 s to start)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Before Prefect is imported: a throwaway home, and the quiet defaults `flows` sets.
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    import flows  # noqa: F401, I001
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
