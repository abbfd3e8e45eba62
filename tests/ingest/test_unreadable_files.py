"""A file that cannot be read is a reject with its reason, never a hang or a crash: a FIFO
among the inputs (named, or as a sidecar) used to block the run forever in `open` while it
held the lake's lock, so every later run waited too; a link loop, a name that is not UTF-8
stopped the run with a traceback (docs/input-format.md §5)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline.ingest import metadata, read
from pipeline.lake import manifest
from pipeline.run import run
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


def _rejects(lake: Path) -> list[tuple[str, str, str]]:
    rejects = manifest.scan(lake, "rejects").collect().sort("source_path")
    return rejects.select("source_path", "stage", "reason").rows()


LOOP = "cannot read the file: Too many levels of symbolic links"


def test_a_link_loop_in_a_folder_is_a_reject_and_the_run_goes_on(tmp_path: Path) -> None:
    """`ln -s loop.txt loop.txt` in the input folder stopped the walk with a traceback."""
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "page.txt")
    (raw / "loop.txt").symlink_to("loop.txt")
    done = _normalise(str(raw), "--out", str(lake))
    assert done.returncode == 0, done.stderr
    assert "listings:       10" in done.stdout
    assert _rejects(lake) == [(str(raw / "loop.txt"), "read", LOOP)]
    again = _normalise(str(raw), "--out", str(lake))
    assert "0 new snapshots, 2 already in the lake" in again.stdout


def test_a_link_loop_named_as_input_is_a_reject_not_a_missing_input(tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "page.txt")
    (raw / "loop.txt").symlink_to("loop.txt")
    done = _normalise(str(raw / "loop.txt"), str(raw / "page.txt"), "--out", str(lake))
    assert done.returncode == 0, done.stderr
    assert _rejects(lake) == [(str(raw / "loop.txt"), "read", LOOP)]
    # A name that is not there at all is still a mistake, said at once.
    missing = _normalise(str(raw / "typo.txt"), "--out", str(lake))
    assert missing.returncode == 1
    assert (
        missing.stderr.strip() == f"listings normalise: {raw / 'typo.txt'}: no such file or folder"
    )


def test_a_file_failing_with_eio_is_a_reject(tmp_path: Path) -> None:
    """/proc/self/mem reads fail with EIO at offset 0: the kind of error a dying disk gives."""
    lake = tmp_path / "lake"
    shutil.copy(SAMPLE, tmp_path / "page.txt")
    done = _normalise("/proc/self/mem", str(tmp_path / "page.txt"), "--out", str(lake))
    assert done.returncode == 0, done.stderr
    assert "listings:       10" in done.stdout
    assert _rejects(lake) == [
        ("/proc/self/mem", "read", "cannot read the file: Input/output error")
    ]


def test_a_file_name_that_is_not_utf8_is_read_and_recorded_with_escapes(tmp_path: Path) -> None:
    """`\\xff.txt` made every table unwritable (polars and Parquet hold UTF-8 only): its page
    is read, and its name is recorded with the byte written `\\xff`."""
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "page.txt")
    shutil.copy(SAMPLE, raw / os.fsdecode(b"\xff-copy.txt"))  # no sidecar: its own fetch time
    os.utime(raw / os.fsdecode(b"\xff-copy.txt"), (1_700_000_000, 1_700_000_000))
    done = _normalise(str(raw), "--out", str(lake))
    assert done.returncode == 0, done.stderr
    assert "listings:       20" in done.stdout
    snapshots = manifest.scan(lake, "snapshots").collect().sort("source_path")
    assert snapshots.select("source_path", "listing_count", "fetched_at_source").rows() == [
        (f"{raw}/\\xff-copy.txt", 10, "mtime"),
        (f"{raw}/page.txt", 10, "mtime"),
    ]
    again = _normalise(str(raw), "--out", str(lake))
    assert "0 new snapshots, 2 already in the lake" in again.stdout


def test_a_file_deleted_between_the_walk_and_the_read_is_a_reject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "a-gone.txt")
    shutil.copy(SAMPLE, raw / "b-page.txt")
    real_read_batch = read.read_batch

    def deleting_first(paths: list, options: metadata.ReadOptions) -> pl.DataFrame:
        (raw / "a-gone.txt").unlink()  # after the walk found it, before it is read
        return real_read_batch(paths, options)

    monkeypatch.setattr(read, "read_batch", deleting_first)
    summary = run.normalise_paths([raw], lake, metadata.ReadOptions())
    assert (summary.files_found, summary.snapshots, summary.listings) == (2, 2, 10)
    assert _rejects(lake) == [
        (str(raw / "a-gone.txt"), "read", "cannot read the file: No such file or directory")
    ]


def test_a_file_stamped_after_2262_is_read_as_stamped_then(tmp_path: Path) -> None:
    """Nanoseconds in 64 bits end in April 2262: such an mtime stopped the walk (its arrays)
    and would not fit the manifest. It is taken as the last moment 64 bits hold, which is
    after the run started: the fetch time is the run's start (docs/input-format.md §4)."""
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "far.txt")
    os.utime(raw / "far.txt", ns=(2**63 + 10**18, 2**63 + 10**18))
    assert os.stat(raw / "far.txt").st_mtime_ns > 2**63 - 1
    done = _normalise(str(raw), "--out", str(lake))
    assert done.returncode == 0, done.stderr
    assert "listings:       10" in done.stdout
    snapshots = manifest.scan(lake, "snapshots").collect()
    ((source, started, warning),) = snapshots.select(
        "fetched_at_source", "fetched_at", "metadata_warning"
    ).rows()
    assert source == "mtime"
    assert warning == (
        "the file's mtime 2262-04-11T23:47:16Z is after the run started "
        f"({started.isoformat().replace('+00:00', 'Z')}): fetch time from the run's start "
        "instead"
    )
    again = _normalise(str(raw), "--out", str(lake))
    assert "0 new snapshots, 1 already in the lake" in again.stdout
