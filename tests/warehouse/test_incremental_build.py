"""An updated warehouse is the warehouse a full rebuild gives, table by table, row for row.

A lake is built in increments that exercise what an update must get right: new snapshots of
a generated crawl (with HTML/JSON twins), a text page whose documents an HTML page and an API
page later identify (the text listings are keyed again: by the site's id, then by the uuid
the API pairs it with), a page fetched late that joins two crawls of a query into one (fetch
ids change), a crawl older than every other of its query (the next one's comparison
changes), unreadable files (rejects, findings) on one day, a compaction (rows move, nothing
changes) and a resolve-titles (history is rewritten: the next build is whole). After each,
`listings build` updates the warehouse, and every table is compared with a fresh full build
(docs/warehouse.md, "Incremental builds").
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from benchmarks import generate
from pipeline import cli
from pipeline.warehouse import database
from pipeline.warehouse.artifacts import ARTIFACTS_TABLE
from pipeline.warehouse.results import RESULTS_TABLE
from tests.conftest import RAW, SAMPLE, SAMPLE_FETCHED_AT, write_snapshot

REFRESHED = "build:     rebuilt whole (--full-refresh)"


def differences(updated: Path, full: Path) -> dict[str, tuple[int, int, int]]:
    """Per table: (rows, rows only in the updated warehouse, rows only in the full one)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{updated}' AS updated (READ_ONLY)")
        con.execute(f"ATTACH '{full}' AS full_build (READ_ONLY)")
        tables = [
            f'"{schema}"."{name}"' if schema != "main" else name
            for schema, name in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "WHERE database_name = 'full_build' "
                "AND table_name NOT IN ('_lake', ?, ?) ORDER BY schema_name, table_name",
                # the tests' outcomes hold their times, and an update's tests read its rows
                [RESULTS_TABLE, ARTIFACTS_TABLE],
            ).fetchall()
        ]
        found = {}
        for table in tables:
            a, b = f"updated.{table}", f"full_build.{table}"
            count = "SELECT count(*) FROM (FROM {} EXCEPT ALL FROM {})"
            [(only_a,)] = con.execute(count.format(a, b)).fetchall()
            [(only_b,)] = con.execute(count.format(b, a)).fetchall()
            [(rows,)] = con.execute(f"SELECT count(*) FROM {b}").fetchall()
            found[table] = (rows, only_a, only_b)
        return found
    finally:
        con.close()


def _copy_page(page: Path, folder: Path, *, fetched_at: str | None = None, name: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or page.name)
    shutil.copy(page, target)
    sidecar = json.loads(page.with_name(page.name + ".meta.json").read_text(encoding="utf-8"))
    if fetched_at is not None:
        sidecar["fetched_at"] = fetched_at
    target.with_name(target.name + ".meta.json").write_text(json.dumps(sidecar), encoding="utf-8")


def _build(lake: Path, db: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert cli.main(["build", "--lake", str(lake), "--db", str(db), *extra]) == 0
    out = capsys.readouterr().out
    return next((line for line in out.splitlines() if line.startswith("build:")), "")


def _normalise(folder: Path, lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # exit 3: the run rejected input (the junk steps' unreadable files)
    expected = 3 if folder.name.endswith("-junk") else 0
    assert cli.main(["normalise", str(folder), "--out", str(lake)]) == expected
    capsys.readouterr()


def test_an_updated_warehouse_equals_a_full_rebuild_after_every_increment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    generate.write_corpus(corpus, 800, days=12, increment_days=2, twins=0.2, workers=1)
    lake, db, full = tmp_path / "lake", tmp_path / "w.duckdb", tmp_path / "full.duckdb"
    _normalise(corpus / generate.CORPUS_DIR, lake, capsys)
    assert _build(lake, db, capsys) == ""  # a new warehouse: built whole, nothing to say

    steps = tmp_path / "steps"
    # the sample page as text first: its listings are keyed by what the text shows ...
    _copy_page(SAMPLE, steps / "1-text")
    # ... then its HTML twin (links by numeric id) and its API twin (pairs ids with uuids)
    _copy_page(RAW / "wenku-search-page.html", steps / "2-html")
    _copy_page(RAW / "wenku-search-page.json", steps / "3-json")
    # a later crawl of the sample's query (50 minutes on: a fetch of its own), then a page
    # fetched between the two, within the fetch gap of both: they become one fetch
    _copy_page(SAMPLE, steps / "4-later", fetched_at="2026-11-20T10:20:00Z", name="later.txt")
    _copy_page(SAMPLE, steps / "5-between", fetched_at="2026-11-20T09:55:00Z", name="mid.txt")
    # a crawl of the query before all of them arrives last: the fetch after it is unchanged
    # itself, but now has a fetch before it (fct_query_snapshots redoes it)
    _copy_page(SAMPLE, steps / "6-earlier", fetched_at="2026-11-20T08:00:00Z", name="early.txt")
    # an unreadable file (a reject, a finding), then another of the same day (counted again)
    for name, junk in (("7-junk", b"\x00\x01\x02"), ("8-junk", b"\x00\x01\x02\x03")):
        (steps / name).mkdir()
        write_snapshot(steps / name, f"{name}.txt", junk, SAMPLE_FETCHED_AT)
    increments = sorted((corpus / generate.INCREMENTS_DIR).iterdir())
    folders = [increments[0], *sorted(steps.iterdir()), *increments[1:]]
    for folder in folders:
        _normalise(folder, lake, capsys)
        added = _build(lake, db, capsys)
        assert added.startswith("build:     updated ("), (folder.name, added)
        full.unlink(missing_ok=True)
        assert _build(lake, full, capsys) == ""
        found = differences(db, full)
        assert {t: d for t, d in found.items() if d[1] or d[2]} == {}, folder.name
        assert found["listings"][0] > 0

    # the sample's text listings were keyed again by the uuid the API pairs their ids with
    keys = database.query(
        "select count(distinct document_ref) from int_listings__keyed k join snapshots s "
        "using (snapshot_id) where s.source_path like '%wenku-search-page.txt'",
        db=db,
    ).item()
    assert keys == 10
    # and the three crawls of its query are one fetch
    fetches = database.query(
        "select count(distinct fetch_id) from int_snapshots__fetches join snapshots "
        "using (snapshot_id) where source_path similar to '.*/(wenku-search-page|later|mid)\\.txt'",
        db=db,
    ).item()
    assert fetches == 1

    # compaction moves rows and keeps history: still an update, still equal
    assert cli.main(["compact", "--lake", str(lake)]) == 0
    capsys.readouterr()
    assert _build(lake, db, capsys) == "build:     updated (0 new snapshots)"
    assert _build(lake, full, capsys, "--full-refresh") == REFRESHED
    assert all(not (d[1] or d[2]) for d in differences(db, full).values())

    # resolve-titles rewrites committed rows: the next build is whole, and says why
    assert cli.main(["resolve-titles", "--lake", str(lake)]) == 0
    capsys.readouterr()
    assert _build(lake, db, capsys) == (
        "build:     rebuilt whole (the lake rewrote rows it had committed (a full refresh, "
        "resolve-titles, …))"
    )
    assert _build(lake, full, capsys, "--full-refresh") == REFRESHED
    assert all(not (d[1] or d[2]) for d in differences(db, full).values())


def test_a_changed_model_or_another_lake_rebuilds_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    _copy_page(SAMPLE, raw)
    lake, other, db = tmp_path / "lake", tmp_path / "other", tmp_path / "w.duckdb"
    _normalise(raw, lake, capsys)
    _normalise(raw, other, capsys)
    _build(lake, db, capsys)
    assert _build(lake, db, capsys) == "build:     updated (0 new snapshots)"
    # the same lake named from another folder is the same lake
    monkeypatch.chdir(tmp_path / "raw")
    assert _build(Path("../lake"), db, capsys) == "build:     updated (0 new snapshots)"
    assert _build(other, db, capsys) == (
        f"build:     rebuilt whole (it was built from another lake ({lake.resolve()}))"
    )
    con = duckdb.connect(str(db))
    con.execute("UPDATE _lake SET project_checksum = 'an older project'")
    con.close()
    assert _build(other, db, capsys) == "build:     rebuilt whole (the models' SQL changed)"
    assert _build(other, db, capsys, "--full-refresh") == REFRESHED
