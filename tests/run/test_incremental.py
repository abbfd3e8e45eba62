"""Incremental runs: only new or changed files are processed; runs on one lake serialise."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline import errors
from pipeline.ingest import metadata
from pipeline.lake import lock, manifest
from pipeline.lake.storage import Location
from pipeline.run import run
from pipeline.run.summary import RunSummary
from pipeline.warehouse import database
from tests.conftest import REPO, SAMPLE, lake_files, raising


def _run(raw: Path, out: Path, **kwargs) -> RunSummary:
    return run.normalise_paths([raw], out, metadata.ReadOptions(), **kwargs)


def test_a_new_file_is_the_only_one_processed(raw_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    assert _run(raw_copy, out).snapshots == 6
    shutil.copy(SAMPLE, raw_copy / "again.txt")
    (raw_copy / "again.txt.meta.json").write_text(
        '{"url": "https://wenku.it/search?wd=x&page=3", "fetched_at": "2026-11-21T00:00:00Z"}'
    )
    second = _run(raw_copy, out)
    assert (second.files_found, second.files_read, second.files_skipped) == (7, 1, 6)
    assert second.lake_rows["snapshots"] == 7


def test_the_same_snapshot_under_another_name_is_not_new(raw_copy: Path, tmp_path: Path) -> None:
    """Identity is the snapshot: the same bytes with the same fetch time are in the lake."""
    out = tmp_path / "lake"
    _run(raw_copy, out)
    shutil.copy(SAMPLE, raw_copy / "copy.txt")
    shutil.copy(raw_copy / f"{SAMPLE.name}.meta.json", raw_copy / "copy.txt.meta.json")
    second = _run(raw_copy, out)
    assert (second.files_read, second.files_skipped) == (0, 7)


def test_a_changed_file_is_processed_again(raw_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    _run(raw_copy, out)
    page = raw_copy / SAMPLE.name
    page.write_text(page.read_text(encoding="utf-8").replace("共 145 条", "共 146 条"))
    second = _run(raw_copy, out)
    assert (second.files_read, second.snapshots) == (1, 1)
    # The page's HTML and JSON forms (also `共 145 条`) are other snapshots: look at the text.
    totals = database.query(
        "select total_results from snapshots where query = '云原生' and form = 'text' order by 1",
        lake=out,
    )["total_results"].to_list()
    assert totals == [145, 146]  # the changed bytes are another snapshot; the old one stays


def test_a_full_refresh_drops_snapshots_whose_input_is_gone(raw_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    _run(raw_copy, out)
    (raw_copy / SAMPLE.name).unlink()
    assert _run(raw_copy, out).lake_rows["snapshots"] == 6  # incremental keeps history
    refreshed = _run(raw_copy, out, full_refresh=True)
    assert refreshed.lake_rows == {"snapshots": 5, "listings": 43, "rejects": 0}


def test_a_second_run_waits_for_the_lock(tmp_path: Path) -> None:
    messages: list[str] = []
    with (
        lock.locked(Location.of(tmp_path)),
        pytest.raises(errors.LakeBusyError, match=r"gave up after 0\.3 s"),
        lock.locked(Location.of(tmp_path), timeout_s=0.3, on_wait=messages.append),
    ):
        pass
    assert messages == [f"lake {tmp_path} is locked by pid {os.getpid()}: waiting for it to finish"]


def test_two_concurrent_runs_leave_the_lake_of_one_clean_run(
    raw_copy: Path, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "pipeline.cli", "normalise", str(raw_copy), "--out"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    runs = [
        subprocess.Popen(
            [*command, str(tmp_path / "lake")],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    new = sorted(int(out.split(" new snapshots")[0].split()[-1]) for out, _ in outputs)
    assert new == [0, 6]
    clean = _run(raw_copy, tmp_path / "clean")
    assert lake_files(tmp_path / "lake") == lake_files(tmp_path / "clean")
    assert clean.lake_rows["listings"] == 53


def test_each_batch_commits_a_part_and_a_run_merges_them_once_they_pile_up(
    raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit writes only its batch's rows; a crash keeps every part committed so far."""
    out = tmp_path / "lake"
    monkeypatch.setattr(run, "finish", raising(OSError("crash")))
    with pytest.raises(OSError, match="crash"):
        _run(raw_copy, out, batch_bytes=1)  # one file per batch: six commits, no merge
    parts = sorted((out / "_manifest").glob("part-*.parquet"))
    assert len(parts) == 6 and not Path(manifest.path(Location.of(out))).exists()
    assert [len(pl.read_parquet(p)) for p in parts] == [1] * 6
    assert manifest.load(Location.of(out)).height == 6
    monkeypatch.undo()

    again = _run(raw_copy, out)
    assert (again.files_read, again.files_skipped) == (0, 6)  # the parts were enough
    assert len(list((out / "_manifest").glob("part-*.parquet"))) == 6  # a few: left as they are
    monkeypatch.setattr(manifest, "PARTS_KEPT", 3)
    _run(raw_copy, out)
    assert sorted(p.name for p in (out / "_manifest").glob("*.parquet")) == ["manifest.parquet"]
    assert manifest.load(Location.of(out)).height == 6


@pytest.mark.parametrize("how", ["a folder twice", "a file and its folder", "a copy"])
def test_the_same_snapshot_twice_in_a_run_is_read_once_and_noted(
    raw_copy: Path, tmp_path: Path, how: str
) -> None:
    """One snapshot reached through two paths, or a byte-identical copy with the same
    sidecar, is one snapshot: no crash, no duplicate rows, a note naming both files, and a
    rerun skips both without reading them."""
    page = raw_copy / "wenku-search-page.txt"
    if how == "a folder twice":
        paths = [raw_copy, Path(os.path.relpath(raw_copy))]
    elif how == "a file and its folder":
        paths = [raw_copy, Path(os.path.relpath(page))]
    else:
        for suffix in ("", ".meta.json"):
            shutil.copy(f"{page}{suffix}", raw_copy / f"copy.txt{suffix}")
        paths = [raw_copy]
    out = tmp_path / "lake"
    first = run.normalise_paths(paths, out, metadata.ReadOptions())
    assert (first.snapshots, first.listings) == (6, 53)
    assert first.lake_rows == {"snapshots": 6, "listings": 53, "rejects": 0}
    notes = [m for m in first.messages() if "the same snapshot as" in m]
    assert len(notes) == (6 if how == "a folder twice" else 1)
    listings = manifest.scan(out, "listings").collect()
    assert listings.select("snapshot_id", "position").is_duplicated().sum() == 0
    again = run.normalise_paths(paths, out, metadata.ReadOptions())
    assert (again.files_read, again.files_skipped) == (0, first.files_found)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_copy_in_another_batch_is_dropped_before_its_commit(
    raw_copy: Path, tmp_path: Path, workers: int
) -> None:
    """Batches of one file put a page and its copy (same bytes, same sidecar) in different
    batches: the later batch is rewritten without the repeat, so no row is in the lake
    twice, and the copy is noted and skipped by the next run."""
    page = raw_copy / "wenku-search-page.txt"
    for suffix in ("", ".meta.json"):
        shutil.copy(f"{page}{suffix}", raw_copy / f"zz-copy.txt{suffix}")
    out = tmp_path / "lake"
    first = _run(raw_copy, out, batch_bytes=1, workers=workers)
    assert (first.files_read, first.snapshots, first.listings) == (7, 6, 53)
    assert first.lake_rows == {"snapshots": 6, "listings": 53, "rejects": 0}
    assert [m for m in first.messages() if "the same snapshot as" in m] == [
        f"{raw_copy / 'zz-copy.txt'}: the same snapshot as {page} (same bytes, same fetch "
        "time): read once"
    ]
    for table, rows in (("listings", 53), ("snapshots", 6)):
        assert manifest.scan(out, table).collect().height == rows
    # The copy's batch never overwrote the first file's group: its row names the first file.
    paths = manifest.scan(out, "snapshots").collect()["source_path"].to_list()
    assert str(page) in paths and str(raw_copy / "zz-copy.txt") not in paths
    files = lake_files(out)
    assert len(files) == 3 * len(manifest.load(Location.of(out))["data_file"].unique())
    again = _run(raw_copy, out)
    assert (again.files_read, again.files_skipped) == (0, 7)
