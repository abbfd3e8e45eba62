"""The batch layout: same rows as the snapshot layout, fewer files, and still no duplicates.

A batch file cannot be rewritten in place by a later run (the next batch holds other
snapshots), so these tests pin the two things that stand in for that: the manifest names
the file holding each snapshot, and files it does not name are deleted before a run writes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from pipeline import cli, lake, manifest, normalise, read
from tests.conftest import SAMPLE, lake_files, raising

KEYS = {"snapshots": ["snapshot_id"], "listings": ["snapshot_id", "position"],
        "rejects": ["snapshot_id", "byte_start", "byte_end"]}  # fmt: skip


def _run(raw: Path, out: Path, **kwargs) -> normalise.RunSummary:
    return normalise.normalise_paths([raw], out, read.ReadOptions(), **kwargs)


def _table(out: Path, table: str) -> pl.DataFrame:
    """A lake table as analysts read it: every Parquet file under the table's folder."""
    return pl.read_parquet(out / table / "**/*.parquet", hive_partitioning=True).sort(KEYS[table])


def _names(out: Path) -> set[str]:
    return {Path(name).name for name in lake_files(out)}


def test_the_batch_layout_holds_the_same_rows_in_fewer_files(
    raw_copy: Path, tmp_path: Path
) -> None:
    per_snapshot = _run(raw_copy, tmp_path / "snap")
    batched = _run(raw_copy, tmp_path / "batch", layout="batch")
    assert (per_snapshot.layout, batched.layout) == ("snapshot", "batch")
    assert batched.lake_rows == per_snapshot.lake_rows == {
        "snapshots": 4, "listings": 33, "rejects": 0
    }  # fmt: skip
    for table in lake.TABLES:
        assert _table(tmp_path / "batch", table).equals(_table(tmp_path / "snap", table)), table
    # One batch here, four fetch dates: one file per table and date (empty rejects too).
    committed = manifest.load(tmp_path / "batch")
    assert committed["data_file"].n_unique() == 1
    name = committed["data_file"][0]
    assert _names(tmp_path / "batch") == {f"{name}.parquet"}
    dates = sorted(committed["fetched_date"].unique())
    assert sorted(lake_files(tmp_path / "batch")) == sorted(
        f"{table}/fetched_date={date}/{name}.parquet"
        for table in lake.TABLES
        for date in dates
    )
    assert len(lake_files(tmp_path / "snap")) == 3 * 4  # one file per snapshot and table


def test_a_rebuild_of_the_same_input_writes_the_same_files(raw_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    _run(raw_copy, out, layout="batch")
    first = lake_files(out)
    again = _run(raw_copy, out, full_refresh=True)
    assert (again.layout, again.files_read) == ("batch", 4)
    assert lake_files(out) == first  # same batch name, same bytes: nothing doubled


def test_new_files_go_to_a_new_batch_file_and_rows_stay_unique(
    raw_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    _run(raw_copy, out, layout="batch")
    shutil.copy(SAMPLE, raw_copy / "again.txt")
    (raw_copy / "again.txt.meta.json").write_text(
        '{"url": "https://wenku.it/search?wd=x&page=3", "fetched_at": "2026-11-21T00:00:00Z"}'
    )
    second = _run(raw_copy, out)  # no --layout: the lake's own layout is kept
    assert (second.layout, second.files_read) == ("batch", 1)
    assert manifest.load(out)["data_file"].n_unique() == 2
    listings = _table(out, "listings")
    assert listings.height == 43
    assert listings.select("snapshot_id", "position").is_duplicated().sum() == 0


def test_files_a_crashed_run_never_committed_are_removed_before_the_next_writes(
    raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between a batch's files and its manifest row must not duplicate rows later.

    The second run processes the same snapshots in other batches (other file names), so
    only the clean-up at its start keeps the first run's orphans from doubling them.
    """
    out = tmp_path / "lake"
    monkeypatch.setattr(
        normalise, "commit", raising(OSError("disk full while committing the manifest"))
    )
    with pytest.raises(OSError, match="disk full"):
        _run(raw_copy, out, layout="batch", batch_bytes=1)  # one file per batch
    orphans = _names(out)
    assert len(orphans) == 1 and manifest.load(out).is_empty()  # written, never committed
    monkeypatch.undo()

    rerun = _run(raw_copy, out, layout="batch")
    assert rerun.files_removed == 3  # the orphan batch's listings, rejects, snapshots files
    assert not orphans & _names(out)
    assert _table(out, "listings").height == 33
    assert _table(out, "snapshots")["snapshot_id"].is_unique().all()


def test_changing_a_lakes_layout_takes_a_full_refresh(
    raw_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lake"
    _run(raw_copy, out)
    shutil.copy(SAMPLE, raw_copy / "again.txt")  # something new, so the run would write
    with pytest.raises(manifest.LayoutError, match="uses the snapshot layout"):
        _run(raw_copy, out, layout="batch")
    code = cli.main(["normalise", str(raw_copy), "--out", str(out), "--layout", "batch"])
    assert code == 1
    assert "needs --full-refresh" in capsys.readouterr().err

    switched = _run(raw_copy, out, layout="batch", full_refresh=True)
    assert switched.lake_rows["snapshots"] == 5
    assert all(name.startswith(lake.BATCH_PREFIX) for name in _names(out))
    back = _run(raw_copy, out, layout="snapshot", full_refresh=True)
    assert back.lake_rows == switched.lake_rows
    assert not any(name.startswith(lake.BATCH_PREFIX) for name in _names(out))
    assert _table(out, "listings").height == 43


def test_a_manifest_from_before_the_batch_layout_still_loads(
    raw_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    _run(raw_copy, out)
    old = manifest.load(out).drop("data_file")
    old.write_parquet(manifest.path(out))
    loaded = manifest.load(out)
    assert loaded["data_file"].to_list() == loaded["snapshot_id"].to_list()
    assert manifest.layout_of(loaded) == "snapshot"
    assert _run(raw_copy, out).files_read == 0


def test_orphans_of_a_first_run_that_never_committed_go_even_if_the_layout_is_not_repeated(
    raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing committed yet, so the manifest cannot say the lake was meant to be batched."""
    out = tmp_path / "lake"
    monkeypatch.setattr(normalise, "commit", raising(OSError("crash")))
    with pytest.raises(OSError, match="crash"):
        _run(raw_copy, out, layout="batch")
    orphans = lake_files(out)
    assert orphans and all(Path(f).name.startswith(lake.BATCH_PREFIX) for f in orphans)
    monkeypatch.undo()

    rerun = _run(raw_copy, out)  # no --layout: a new lake's default, the snapshot layout
    assert (rerun.layout, rerun.files_removed) == ("snapshot", len(orphans))
    assert not any(name.startswith(lake.BATCH_PREFIX) for name in _names(out))
    assert _table(out, "listings").height == 33
