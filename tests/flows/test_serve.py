"""`listings serve --cron` runs the flow on schedule against a real Prefect server.

Bounded in time: the test starts the server and the served process, waits at most a few
minutes for one scheduled run to write the lake, then stops both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.lake import manifest
from tests.conftest import RAW, REPO

SCHEDULED_RUN_TIMEOUT_S = 180


@pytest.mark.flow
def test_a_scheduled_run_writes_the_lake(tmp_path: Path) -> None:
    from flows.serve import local_server, stop

    raw, lake_dir = tmp_path / "raw", tmp_path / "lake"
    shutil.copytree(RAW, raw)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFECT_HOME": str(tmp_path / "home")}
    os.environ["PREFECT_HOME"] = env["PREFECT_HOME"]
    with local_server(tmp_path / "server.log") as api_url:
        env["PREFECT_API_URL"] = api_url
        served = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipeline.cli",
                "serve",
                "--cron",
                "* * * * *",
                str(raw),
                "--lake",
                str(lake_dir),
                "--db",
                str(tmp_path / "w.duckdb"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        output: list[str] = []
        reader = threading.Thread(
            target=lambda: output.extend(line.decode() for line in served.stdout or ()),
            daemon=True,
        )
        reader.start()
        try:
            deadline = time.monotonic() + SCHEDULED_RUN_TIMEOUT_S
            # A run commits to the lake, builds the warehouse, writes the report beside the
            # warehouse (not ./data/report.html, whatever lake it serves), then prints its
            # one line.
            while not any(" run: " in line for line in output):
                assert served.poll() is None, "".join(output)
                assert time.monotonic() < deadline, "no scheduled run ended in time"
                time.sleep(1)
        finally:
            stop(served)
            reader.join(timeout=10)
    runs = [line.rstrip("\n") for line in output if " run: " in line]
    outputs, tests = runs[0].rsplit("; tests: ", 1)
    assert outputs.endswith(
        " run: 6 files found, 0 already in the lake, 6 new snapshots (53 listings, 0 rejects) "
        f"-> lake {lake_dir}, warehouse {tmp_path / 'w.duckdb'}, report {tmp_path / 'report.html'}"
    ), "".join(output)
    # Every data test of the project passed on the sample (however many the project has).
    assert tests.endswith(" passed") and tests.removesuffix(" passed").isdigit(), tests
    assert (tmp_path / "report.html").exists()
    assert manifest.scan(lake_dir, "listings").collect().height == 53
    assert (tmp_path / "w.duckdb").exists()
    assert not (tmp_path / "data").exists()
    assert served.returncode is not None
