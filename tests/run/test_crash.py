"""A run killed at any moment loses and doubles nothing: the next run reconciles the lake.

docs/lake.md, "Crashes", is the contract: every change is committed after its files are
written, a full refresh switches the manifest in one write (an interrupted one is rolled
back by the next run), titles a crashed run left unresolved are resolved by the next run,
and the warehouse is rebuilt whenever it no longer describes the lake. The kill test
SIGKILLs `listings normalise` at seeded moments spread over its lake writes and deletes,
the end-of-run compaction included, reruns, and compares the lake with a clean run's.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline import cli
from pipeline.ingest import metadata
from pipeline.lake import compact, manifest, storage, verify
from pipeline.lake.storage import Location
from pipeline.run import run
from pipeline.vocab import TABLES
from pipeline.warehouse import database
from tests.conftest import RAW, REPO, raising

KEYS = {"snapshots": ["snapshot_id"], "listings": ["snapshot_id", "position"],
        "rejects": ["snapshot_id", "byte_start", "byte_end"]}  # fmt: skip
BATCH_BYTES = 2**20  # `--batch-mb 1`: five batches of the pages below


def _tables(lake: Path) -> dict[str, pl.DataFrame]:
    """Every table as the manifest commits it, in key order: what readers see."""
    return {t: manifest.scan(lake, t).collect().sort(KEYS[t]) for t in TABLES}


def _same(lake: Path, expected: dict[str, pl.DataFrame]) -> bool:
    return all(frame.equals(expected[t]) for t, frame in _tables(lake).items())


def _run(raw: Path, lake: Path, **settings: object) -> run.RunSummary:
    return run.normalise_paths([raw], lake, metadata.ReadOptions(), **settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """242 snapshot files: the six sample pages (text, HTML, JSON) fetched 40 times, three
    hours apart from 2026-10-28 (the last eight in November), and after the 13th and the
    26th fetch a 1 MiB file of NUL bytes (a reject, cheap to read). At 1 MiB per batch that
    is five batches (pages, filler, pages, filler, pages), all five touching October, so
    the run ends by compacting the month."""
    folder = tmp_path_factory.mktemp("pages")
    start = datetime(2026, 10, 28, tzinfo=UTC)

    def sidecar(path: Path, n: int, url: str) -> None:
        fetched = (start + timedelta(hours=3 * n)).isoformat()
        Path(f"{path}.meta.json").write_text(json.dumps({"url": url, "fetched_at": fetched}))

    for page in sorted(p for p in RAW.iterdir() if Path(f"{p}.meta.json").exists()):
        url = json.loads(Path(f"{page}.meta.json").read_text(encoding="utf-8"))["url"]
        for n in range(40):
            copy = folder / f"{n:03d}-{page.name}"
            shutil.copy(page, copy)
            sidecar(copy, n, url)
    for n in (12, 25):
        filler = folder / f"{n:03d}-zz-filler.txt"
        filler.write_bytes(bytes(BATCH_BYTES))
        sidecar(filler, n, "https://wenku.it/search?wd=filler&page=1")
    return folder


# A server that forks one `listings normalise` per line of stdin, killing it (SIGKILL) as
# it is about to make its Nth lake write or delete; "torn" first leaves half of the write
# in the temporary file an atomic write uses. Forking a warm interpreter (polars, pandera
# and the pipeline imported, nothing computed yet, so polars' thread pool does not exist to
# be copied) saves each kill the start-up a fresh `python -m pipeline.cli` pays.
_SERVER = r"""
import os, signal, sys, uuid
from pathlib import Path
import pipeline.run.run, pipeline.schemas
from pipeline.cli import main
from pipeline.lake import storage

real_write, real_remove = storage.Location.write_atomic, storage.Location.remove

def child(kill_at, torn, args):
    count = 0
    def due():
        nonlocal count
        count += 1
        return count == kill_at
    def write_atomic(self, path, data):
        if due():
            if torn:
                target = Path(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
                tmp.write_bytes(data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        real_write(self, path, data)
    def remove(self, path):
        if due():
            os.kill(os.getpid(), signal.SIGKILL)
        real_remove(self, path)
    storage.Location.write_atomic = write_atomic
    storage.Location.remove = remove
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    os._exit(main(args))

for line in sys.stdin:
    kill_at, torn, *args = line.rstrip("\n").split("\t")
    pid = os.fork()
    if pid == 0:
        child(int(kill_at), torn == "1", args)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""


class Killer:
    """The fork server: `normalise(k, torn, args)` runs the CLI, killed at its kth op."""

    def __init__(self) -> None:
        self.server = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, kill_at: int, torn: bool, args: list[str]) -> int:
        assert self.server.stdin is not None and self.server.stdout is not None
        self.server.stdin.write("\t".join([str(kill_at), str(int(torn)), *args]) + "\n")
        self.server.stdin.flush()
        return int(self.server.stdout.readline())

    def close(self) -> None:
        assert self.server.stdin is not None
        self.server.stdin.close()
        self.server.wait(timeout=60)


@pytest.fixture
def killer() -> Killer:
    server = Killer()
    yield server
    server.close()


def _traced(raw: Path, lake: Path, monkeypatch: pytest.MonkeyPatch, **settings: object):
    """A run that records each lake write and delete it makes, and which the end-of-run
    compaction made: (summary, ops, the op numbers inside the compaction)."""
    ops: list[str] = []
    compacting: list[int] = []
    write, remove, merge = storage.Location.write_atomic, storage.Location.remove, compact.compact

    def traced_write(self: Location, path: str, data: bytes) -> None:
        ops.append(f"write {path}")
        write(self, path, data)

    def traced_remove(self: Location, path: str) -> None:
        ops.append(f"remove {path}")
        remove(self, path)

    def traced_compact(*args: object, **kwargs: object) -> compact.Compaction:
        first = len(ops) + 1
        done = merge(*args, **kwargs)  # type: ignore[arg-type]
        compacting.extend(range(first, len(ops) + 1))
        return done

    with monkeypatch.context() as patch:
        patch.setattr(storage.Location, "write_atomic", traced_write)
        patch.setattr(storage.Location, "remove", traced_remove)
        patch.setattr(compact, "compact", traced_compact)
        summary = _run(raw, lake, batch_bytes=BATCH_BYTES, **settings)
    return summary, ops, compacting


def test_normalise_killed_at_20_moments_then_rerun_leaves_a_clean_runs_lake(
    pages: Path, tmp_path: Path, killer: Killer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean, ops, compacting = _traced(pages, tmp_path / "clean", monkeypatch)
    assert (clean.snapshots, clean.listings, clean.rejects, len(clean.batches)) == (242, 2120, 2, 5)
    assert clean.compaction is not None and "merged 5 small groups into 1" in clean.compaction
    # The merge: its 3 files, its commit, the 5 old groups' 15 files deleted. Before it,
    # the titles write the lake's title catalogue (`_catalogue/catalogue.parquet`) once, and
    # the first commit the lake's history token (`_manifest/history`).
    assert (len(ops), len(compacting), compacting[-1]) == (50, 19, 50)
    expected = _tables(tmp_path / "clean")

    # 20 moments: 14 over the whole run, 6 inside the compaction; every third one tears
    # the write it interrupts.
    pick = random.Random(12)
    before = range(1, compacting[0])
    moments = sorted(pick.sample(before, 14)) + sorted(pick.sample(compacting, 6))
    outcomes = []
    for i, kill_at in enumerate(moments):
        lake = tmp_path / f"lake-{i}"
        args = ["normalise", str(pages), "--out", str(lake), "--batch-mb", "1"]
        assert killer.run(kill_at, i % 3 == 0, args) == -9, (kill_at, ops[kill_at - 1])
        rerun = _run(pages, lake, batch_bytes=BATCH_BYTES)
        checked = verify.verify(lake)
        outcomes.append(
            (
                kill_at,
                rerun.lake_rows == clean.lake_rows,
                _same(lake, expected),
                checked.ok and not checked.leftovers,
            )
        )
    assert [o for o in outcomes if not all(o[1:])] == []
    assert len(outcomes) == 20


def test_a_full_refresh_killed_at_any_moment_is_all_or_nothing(
    pages: Path, tmp_path: Path, killer: Killer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers see the old lake or the new one, never a mix, at every kill; the next run
    rolls an unswitched refresh back, and a refresh run again finishes it."""
    raw = tmp_path / "raw"
    shutil.copytree(pages, raw)
    old = tmp_path / "old"
    _run(raw, old, batch_bytes=BATCH_BYTES)
    for gone in raw.glob("00[0-9]-*"):  # ten fetches' pages deleted since
        gone.unlink()
    new = tmp_path / "new"
    shutil.copytree(old, new)
    refreshed, ops, _ = _traced(raw, new, monkeypatch, full_refresh=True)
    assert refreshed.lake_rows == {"snapshots": 182, "listings": 1590, "rejects": 2}
    before, after = _tables(old), _tables(new)

    # Which lake readers see, by its rows (titles aside: a run killed after its switch has
    # not split its text titles yet, and the next run does).
    untitled = ["title", "description", "title_source"]

    def state(lake: Path) -> str:
        now = {t: frame.drop(untitled, strict=False) for t, frame in _tables(lake).items()}
        for name, tables in (("old", before), ("new", after)):
            if all(now[t].equals(tables[t].drop(untitled, strict=False)) for t in now):
                return name
        return "mixed"

    # Five moments, one in each fifth of the refresh's lake writes and deletes.
    pick = random.Random(7)
    fifth = len(ops) // 5
    moments = [pick.randrange(1 + k * fifth, 1 + (k + 1) * fifth) for k in range(5)]
    seen = []
    for i, kill_at in enumerate(moments):
        lake = tmp_path / f"lake-{i}"
        shutil.copytree(old, lake)
        args = ["normalise", str(raw), "--out", str(lake), "--batch-mb", "1", "--full-refresh"]
        assert killer.run(kill_at, i % 2 == 0, args) == -9
        seen.append(state(lake))
        _run(raw, lake, batch_bytes=BATCH_BYTES)  # incremental: rolls back, or finds it done
        assert _same(lake, before if seen[-1] == "old" else after), (kill_at, seen)
        assert verify.verify(lake).ok
    # old until the switch, new after it; never a mix (which fifth holds the switch depends
    # on how many writes precede it)
    assert seen == sorted(seen, key=["old", "new"].index)
    assert seen[0] == "old" and seen[-1] == "new"
    _run(raw, lake, batch_bytes=BATCH_BYTES, full_refresh=True)
    assert _same(lake, after)


def test_titles_a_crashed_run_left_unresolved_are_resolved_by_the_next_run(
    raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = tmp_path / "clean"
    _run(raw_copy, clean)
    lake = tmp_path / "lake"
    monkeypatch.setattr(run, "resolve_pending_titles", raising(OSError("killed")))
    with pytest.raises(OSError, match="killed"):
        _run(raw_copy, lake)
    monkeypatch.undo()
    titled = pl.col("title_source") == "catalogue"
    assert manifest.scan(lake, "listings").filter(titled).collect().height == 0
    (leftover,) = verify.verify(lake).leftovers
    assert leftover.check == "titles not resolved"
    again = _run(raw_copy, lake)
    assert again.snapshots == 0
    assert again.titles is not None and again.titles.startswith("7 text-form listings titled")
    assert _same(lake, _tables(clean))
    assert _run(raw_copy, lake).titles is None  # once


def test_the_warehouse_is_rebuilt_when_a_crashed_run_changed_the_lake(
    raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, db = tmp_path / "lake", tmp_path / "w.duckdb"
    later = raw_copy.parent / "later"
    later.mkdir()
    page = raw_copy / "wenku-search-page.txt"
    for suffix in ("", ".meta.json"):
        shutil.move(f"{page}{suffix}", later / f"{page.name}{suffix}")
    assert cli.main(["normalise", str(raw_copy), "--out", str(lake), "--db", str(db)]) == 0
    monkeypatch.setattr(run, "finish", raising(OSError("killed")))
    with pytest.raises(OSError, match="killed"):
        _run(raw_copy, lake)  # nothing new: the warehouse stays as it is
    with pytest.raises(OSError, match="killed"):
        run.normalise_paths([raw_copy, later], lake, metadata.ReadOptions())
    monkeypatch.undo()
    count = "select count(*) from listings"
    assert (database.query(count, db=db).item(), database.query(count, lake=lake).item()) == (
        43,
        53,
    )
    args = ["normalise", str(raw_copy), str(later), "--out", str(lake), "--db", str(db)]
    assert cli.main(args) == 0  # nothing new to read, but the warehouse is behind the lake
    assert database.query(count, db=db).item() == 53
    built = db.stat().st_mtime_ns
    assert cli.main(args) == 0
    assert db.stat().st_mtime_ns == built  # and describes it now: left alone


def test_an_unreadable_manifest_is_a_message_and_a_full_refresh_starts_over(
    raw_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = tmp_path / "lake"
    _run(raw_copy, lake)
    expected = _tables(lake)
    (part,) = (lake / "_manifest").glob("part-*.parquet")
    part.write_bytes(part.read_bytes()[:100])  # truncated by a full disk, say
    args = ["normalise", str(raw_copy), "--out", str(lake)]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith(f"listings normalise: {lake}: the manifest file _manifest/{part.name}")
    assert f"--out {lake} --full-refresh` starts the lake over from the inputs" in err
    assert "snapshots whose input files are gone are lost" in err
    assert cli.main(["sql", "select count(*) from listings", "--lake", str(lake)]) == 1
    capsys.readouterr()

    assert cli.main([*args, "--full-refresh"]) == 0
    err = capsys.readouterr().err
    assert (
        f"the manifest of lake {lake} is unreadable: this full refresh starts the lake over" in err
    )
    assert _same(lake, expected)
    (aside,) = (lake / "_manifest").glob("unreadable-*")
    assert [p.name for p in aside.iterdir()] == [part.name]
    assert verify.verify(lake).ok and not verify.verify(lake).leftovers


def test_an_interrupted_full_refresh_leaves_readers_the_old_lake(
    raw_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lake = tmp_path / "lake"
    _run(raw_copy, lake, batch_bytes=1)
    before = _tables(lake)
    (raw_copy / "wenku-search-page.txt").unlink()
    commits = 0
    real = manifest.commit

    def commit_then_die(*args: object, **kwargs: object) -> None:
        nonlocal commits
        real(*args, **kwargs)  # type: ignore[arg-type]
        commits += 1
        if commits == 2:
            raise OSError("killed")

    monkeypatch.setattr(manifest, "commit", commit_then_die)
    with pytest.raises(OSError, match="killed"):
        _run(raw_copy, lake, batch_bytes=1, full_refresh=True)
    monkeypatch.undo()
    assert _same(lake, before)  # two batches staged, none visible
    assert database.query("select count(*) from snapshots", lake=lake).item() == 6

    messages: list[str] = []
    rolled = run.normalise_paths([raw_copy], lake, metadata.ReadOptions(), on_wait=messages.append)
    assert messages == [
        f"a full refresh of lake {lake} was interrupted before its switch: rolled back (2 "
        "snapshots it had staged are dropped), the lake is as it was before it"
    ]
    assert (rolled.snapshots, rolled.lake_rows["snapshots"]) == (0, 6)
    assert _same(lake, before)
    refreshed = _run(raw_copy, lake, full_refresh=True)
    assert refreshed.lake_rows == {"snapshots": 5, "listings": 43, "rejects": 0}
    assert verify.verify(lake).ok
