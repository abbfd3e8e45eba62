"""An update works on the warehouse itself, in one transaction: what failures, crashes and
readers see (docs/warehouse.md, "Every build is atomic").

A failed test rolls the update back (the failed build is kept beside the warehouse, made
again on a copy); a process killed before the commit leaves the warehouse as it was, and the
next build updates it; a reader holding the file open makes the update work on a copy
instead, and keeps reading the file it opened; a reader opening the file during an update
waits for it; a full build replacing a file whose update crashed after its commit drops
that update's log with it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.errors import DataTestFailure
from pipeline.ingest import metadata
from pipeline.run import run
from pipeline.warehouse import database, files
from pipeline.warehouse.project import DEFAULT_PROJECT, Project, load_project
from pipeline.warehouse.results import Event
from tests.conftest import REPO, SAMPLE, SAMPLE_FETCHED_AT, write_snapshot
from tests.warehouse.test_incremental_build import differences

LATER = SAMPLE_FETCHED_AT + timedelta(hours=5)


def _grown(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse of the sample page's lake, and the lake grown by a later crawl of it."""
    lake, db = tmp_path / "lake", tmp_path / "w.duckdb"
    first, later = tmp_path / "raw", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    write_snapshot(first, SAMPLE.name, SAMPLE.read_bytes(), SAMPLE_FETCHED_AT)
    run.normalise_paths([first], lake, metadata.ReadOptions())
    database.build(lake, db)
    write_snapshot(later, "later.txt", SAMPLE.read_bytes(), LATER)
    run.normalise_paths([later], lake, metadata.ReadOptions())
    return lake, db


def _snapshots(db: Path) -> int:
    return int(database.query("select count(*) from snapshots", db=db).item())


def _state(db: Path) -> tuple[object, ...]:
    return tuple(database.query("select * from _lake", db=db).row(0))


def _with_test(tmp_path: Path, name: str, sql: str) -> Project:
    """The project with one more singular test (tests do not change what a build stores, so
    a warehouse built without it is still updated)."""
    root = tmp_path / "project"
    shutil.copytree(DEFAULT_PROJECT, root)
    (root / "tests" / f"{name}.sql").write_text(sql, encoding="utf-8")
    return load_project(root)


def test_an_update_that_fails_a_test_is_rolled_back_and_kept_beside_it(tmp_path: Path) -> None:
    lake, db = _grown(tmp_path)
    before, state = _snapshots(db), _state(db)
    project = _with_test(
        tmp_path,
        "assert_no_later_crawl",
        "-- grain: one row per later crawl\n{{ config(severity='error') }}\n"
        "select * from {{ ref('stg_lake__snapshots') }} where source_path like '%later%'\n",
    )
    events: list[Event] = []
    with pytest.raises(DataTestFailure, match="assert_no_later_crawl"):
        database.rebuild(lake, db, project=project, on_event=events.append)
    # it ran once in place (the copy that keeps the failed build runs quietly)
    assert [e.name for e in events if e.status == "FAIL"] == ["assert_no_later_crawl"]
    assert [e.step for e in events if e.step in ("load", "append")] == ["append"] * 3
    assert (_snapshots(db), _state(db)) == (before, state)
    assert _snapshots(db.with_name("w.failed.duckdb")) == before + 1
    assert sorted(p.name for p in tmp_path.iterdir() if "duckdb" in p.name) == [
        "w.duckdb", "w.failed.duckdb",
    ]  # fmt: skip
    built = database.rebuild(lake, db)  # the project without the failing test
    assert (built.incremental, built.snapshots_added, _snapshots(db)) == (True, 1, before + 1)


# The build in a child process, killed (as by a power cut) once its models and tests ran,
# before the update is committed.
KILLED_BEFORE_COMMIT = """
import os, signal, sys
from pathlib import Path
from pipeline.warehouse import database, runner

real = runner.run

def run_then_die(*args, **kwargs):
    real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

runner.run = run_then_die
database.rebuild(sys.argv[1], Path(sys.argv[2]))
"""


def test_an_update_killed_before_its_commit_leaves_the_warehouse_as_it_was(
    tmp_path: Path,
) -> None:
    lake, db = _grown(tmp_path)
    before, state = _snapshots(db), _state(db)
    child = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_COMMIT, str(lake), str(db)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert child.returncode == -9, child.stderr
    # it worked on the warehouse itself: no copy was left behind, nor a log to replay
    assert sorted(p.name for p in tmp_path.iterdir() if "duckdb" in p.name) == ["w.duckdb"]
    assert (_snapshots(db), _state(db)) == (before, state)
    built = database.rebuild(lake, db)
    assert (built.incremental, built.snapshots_added) == (True, 1)
    full = tmp_path / "full.duckdb"
    database.build(lake, full)
    assert {t: d for t, d in differences(db, full).items() if d[1] or d[2]} == {}


# A reader in another process: it opens the warehouse, counts, waits for a line, counts again.
READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = "select count(*) from snapshots"
print(con.execute(count).fetchall()[0][0], flush=True)
sys.stdin.readline()
print(con.execute(count).fetchall()[0][0], flush=True)
"""


def test_a_warehouse_a_reader_holds_open_is_updated_on_a_copy(tmp_path: Path) -> None:
    lake, db = _grown(tmp_path)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert reader.stdin is not None and reader.stdout is not None
    try:
        seen = int(reader.stdout.readline())
        built = database.rebuild(lake, db)
        assert (built.incremental, built.snapshots_added) == (True, 1)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert int(reader.stdout.readline()) == seen  # the file it opened, as it was
    finally:
        reader.kill()
        reader.wait()
    assert _snapshots(db) == seen + 1
    assert sorted(p.name for p in tmp_path.iterdir() if "duckdb" in p.name) == ["w.duckdb"]


# A writer in another process holding the warehouse for a second, as an update does.
HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(1.5)
"""


def test_a_reader_opening_the_warehouse_during_an_update_waits_for_it(
    tmp_path: Path, sample_warehouse: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copyfile(sample_warehouse, db)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE)
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline() == b"held\n"
        started = time.monotonic()
        assert database.query("select count(*) from dim_documents", db=db).item() == 33
        assert time.monotonic() - started > 0.5
    finally:
        holder.kill()
        holder.wait()
    with pytest.raises(duckdb.IOException, match="Could not set lock"):
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE)
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        try:
            files.connect_read_only(db, lambda path: duckdb.connect(str(path)), wait_s=0.2)
        finally:
            holder.kill()
            holder.wait()


# An update that committed, then died before DuckDB wrote its changes into the file: they
# are in the write-ahead log beside it.
COMMITTED_THEN_KILLED = """
import os, signal, sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET checkpoint_threshold = '1GB'")
con.execute("DELETE FROM snapshots")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_full_build_replacing_a_crashed_updates_file_drops_its_log(tmp_path: Path) -> None:
    lake, db = _grown(tmp_path)
    child = subprocess.run(
        [sys.executable, "-c", COMMITTED_THEN_KILLED, str(db)], capture_output=True, timeout=60
    )
    assert child.returncode == -9
    assert files.wal(db).exists()
    assert _snapshots(db) == 0  # the log is the warehouse's: DuckDB replays it
    built = database.rebuild(lake, db, full_refresh=True)
    assert built.rebuilt_because == "--full-refresh"
    assert not files.wal(db).exists()
    assert _snapshots(db) == 2
