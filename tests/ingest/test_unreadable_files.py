"""A file that cannot be read is a reject with its reason, never a hang or a crash: a FIFO
among the inputs (named, or as a sidecar) used to block the run forever in `open` while it
held the lake's lock, so every later run waited too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl

from pipeline.lake import manifest
from tests.conftest import REPO, SAMPLE


def _normalise(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child with a deadline: a hang fails the test instead of blocking it."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "normalise", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_fifo_named_as_input_is_a_reject_and_the_run_goes_on(tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "page.txt")
    os.mkfifo(raw / "pipe.txt")
    done = _normalise(str(raw / "page.txt"), str(raw / "pipe.txt"), "--out", str(lake))
    assert done.returncode == 0, done.stderr
    assert "listings:       10" in done.stdout
    rejects = manifest.scan(lake, "rejects").collect()
    assert rejects.select("source_path", "stage", "reason").rows() == [
        (
            str(raw / "pipe.txt"),
            "read",
            "cannot read the file: not a regular file (a FIFO, socket or device): not read",
        )
    ]
    # The next run skips it (same size and mtime) rather than trying again.
    again = _normalise(str(raw / "page.txt"), str(raw / "pipe.txt"), "--out", str(lake))
    assert "0 new snapshots, 2 already in the lake" in again.stdout


def test_a_fifo_as_a_sidecar_is_a_metadata_warning(tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "page.txt")
    os.mkfifo(raw / "page.txt.meta.json")
    done = _normalise(str(raw), "--out", str(lake))
    assert done.returncode == 0, done.stderr
    snapshots = manifest.scan(lake, "snapshots").collect()
    assert snapshots["listing_count"].to_list() == [10]
    assert snapshots["metadata_warning"].to_list() == [
        "sidecar page.txt.meta.json not read: not a regular file (a FIFO, socket or device): "
        "not read"
    ]
    assert snapshots.select(pl.col("fetched_at_source")).item() == "mtime"
