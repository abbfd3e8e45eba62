"""A build reads a committed state of the lake and never destroys what is not a warehouse:
it waits for a run holding the lake's lock, refuses a `--db` that is a folder or a file
that is not DuckDB (in `build`, `normalise --db` and `run --db`), and clears what killed
builds of the same warehouse left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.errors import LakeBusyError, OutputPathError
from pipeline.lake import lock
from pipeline.lake.storage import Location
from pipeline.warehouse import database
from pipeline.warehouse.results import Event
from tests.conftest import RAW, REPO

NOTES = b"my notes, not a warehouse\n"
SAMPLE_ROWS = {"snapshots": 6, "listings": 53, "rejects": 0}


@pytest.fixture
def lake(sample_lake: Path) -> Path:
    """The sample lake; tests only read it (and take its lock)."""
    return sample_lake


def _not_a_warehouse(db: Path) -> str:
    return (
        f"{db} exists and is not a DuckDB database: a build would overwrite it, so nothing "
        "was written; give another path or remove the file"
    )


def test_a_build_waits_for_the_lakes_lock_then_loads_what_was_committed(
    lake: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    listings = Path(sys.executable).with_name("listings")
    command = [str(listings), "build", "--lake", str(lake), "--db", str(db)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with lock.locked(Location.of(lake)):
        build = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert build.stderr is not None
        waiting = build.stderr.readline()
        time.sleep(1.0)
        assert build.poll() is None  # still waiting
        assert not db.exists()
    out, err = build.communicate(timeout=120)
    assert waiting == (
        f"listings build: lake {lake} is locked by pid {os.getpid()}: waiting for it to finish\n"
    )
    assert build.returncode == 0, err
    assert f"lake:      {lake} (snapshots 6, listings 53, rejects 0 rows)\n" in out
    assert database.query("select count(*) from dim_documents", db=db).item() == 33


def test_the_lock_is_held_while_loading_and_released_before_the_models(
    lake: Path, tmp_path: Path
) -> None:
    """Loading reads the manifest and its files under the lock; the models and tests run
    after it is released, so a normalise waits only for the load."""
    held: dict[str, bool] = {}

    def probe(event: Event) -> None:
        if event.step in held:
            return
        try:
            with lock.locked(Location.of(lake), timeout_s=0):
                held[event.step] = False
        except LakeBusyError:
            held[event.step] = True

    built = database.rebuild(lake, tmp_path / "w.duckdb", on_event=probe)
    assert built.lake_rows == SAMPLE_ROWS
    assert held == {"load": True, "model": False, "test": False}


@pytest.mark.parametrize("command", ["build", "normalise", "run"])
def test_a_db_that_is_not_duckdb_is_refused_and_kept(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(NOTES)
    args = {
        "build": ["build", "--lake", str(lake), "--db", str(notes)],
        "normalise": ["normalise", str(RAW), "--out", str(tmp_path / "l"), "--db", str(notes)],
        "run": ["run", "--lake", str(tmp_path / "l"), "--db", str(notes)],
    }[command]
    assert cli.main(args) == 1
    assert capsys.readouterr().err == f"listings {command}: {_not_a_warehouse(notes)}\n"
    assert notes.read_bytes() == NOTES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_short_file_is_not_taken_for_a_warehouse(lake: Path, tmp_path: Path) -> None:
    short = tmp_path / "w.duckdb"
    short.write_bytes(b"DUCK")
    with pytest.raises(OutputPathError, match="is not a DuckDB database"):
        database.build(lake, short)
    assert short.read_bytes() == b"DUCK"


def test_an_empty_file_holds_nothing_to_lose_and_is_replaced(lake: Path, tmp_path: Path) -> None:
    empty = tmp_path / "w.duckdb"
    empty.touch()
    assert database.build(lake, empty, select=["dim_documents"]) == SAMPLE_ROWS
    assert database.query("select count(*) from dim_documents", db=empty).item() == 33
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target", "w.duckdb"]


def test_a_warehouse_is_rebuilt_over_its_previous_build(lake: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    database.build(lake, db)
    assert database.build(lake, db, select=["dim_documents"]) == SAMPLE_ROWS


@pytest.mark.parametrize("command", ["build", "normalise"])
def test_a_db_that_is_a_folder_is_refused_and_nothing_is_written(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    folder = tmp_path / "top"
    folder.mkdir()
    args = {
        "build": ["build", "--lake", str(lake), "--db", str(folder)],
        "normalise": ["normalise", str(RAW), "--out", str(tmp_path / "l"), "--db", str(folder)],
    }[command]
    assert cli.main(args) == 1
    assert capsys.readouterr().err == (
        f"listings {command}: {folder} is a folder, not a warehouse file: give a file path "
        f"such as {folder / 'warehouse.duckdb'}\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["top"]
    assert list(folder.iterdir()) == []


def test_a_report_into_a_folder_is_refused_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "top"
    folder.mkdir()
    assert cli.main(["report", "--db", str(tmp_path / "w.duckdb"), "--out", str(folder)]) == 1
    assert (
        capsys.readouterr().err
        == f"listings report: --out {folder} is a folder: give a file path\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["top"]


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_build_clears_what_killed_builds_of_its_warehouse_left(
    lake: Path, tmp_path: Path
) -> None:
    dead, hexa, hexb = _dead_pid(), "a" * 32, "b" * 32
    left = [
        f".w.duckdb.{dead}-{hexa}.tmp",
        f".w.duckdb.{dead}-{hexa}.tmp.wal",
        f".w.duckdb.{hexb}.tmp",  # an earlier version's name, without a pid
        f".w.duckdb.{hexb}.tmp.wal",
    ]
    kept = [
        f".w.duckdb.{os.getpid()}-{hexa}.tmp",  # a build still running (this process)
        f".other.duckdb.{dead}-{hexa}.tmp",  # another warehouse's
        f".w.duckdb.{dead}-notours.tmp",
        "w.duckdb.tmp",
        "notes.txt",
    ]
    for name in left + kept:
        (tmp_path / name).write_bytes(b"x")
    spill = tmp_path / f".w.duckdb.{dead}-{hexa}.tmp.tmp"  # DuckDB's spill folder
    spill.mkdir()
    (spill / "block").write_bytes(b"x")
    database.build(lake, tmp_path / "w.duckdb")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "target", "w.duckdb"])
