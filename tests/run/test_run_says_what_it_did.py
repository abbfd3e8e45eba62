"""A run with a warehouse says what it did: the build's data tests by status (and the rows of
any that warned), each stage after the batches on a line of its own, and, when it found
nothing new, that nothing changed, leaving the warehouse and the report as they were
(pipeline/run/summary.py, progress.py, outputs.py)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from rich.console import Console

from pipeline import cli
from pipeline.run import run
from pipeline.run.progress import BatchProgress
from pipeline.run.summary import FlaggedTest, RunSummary
from pipeline.warehouse import artifacts, increments
from pipeline.warehouse.project import load_project
from render.fields import Document
from render.text import render_page
from tests.conftest import REPO


def _outputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    return tmp_path / "lake", tmp_path / "w.duckdb", tmp_path / "r.html"


def _normalise(raw: Path, tmp_path: Path) -> list[str]:
    lake, db, report = _outputs(tmp_path)
    return ["normalise", str(raw), "--out", str(lake), "--db", str(db), "--report", str(report)]


def _files(*paths: Path) -> list[tuple[bytes, int]]:
    return [(path.read_bytes(), path.stat().st_mtime_ns) for path in paths]


def test_a_build_prints_its_tests_line_and_each_stage_on_a_line(
    raw_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, db, report = _outputs(tmp_path)
    assert cli.main(_normalise(raw_copy, tmp_path)) == 0
    out, err = capsys.readouterr()
    project = load_project()
    assert out.splitlines()[-3:] == [
        f"warehouse:      {db}",
        f"tests:          {len(project.tests)} passed",
        f"report:         {report}",
    ]
    lines = err.splitlines()
    # the bar (silent here: no terminal) gives way to the build's stage, whose lines follow
    # it (a lake table loaded, a model built, a test run), then to the report's
    assert lines[0] == f"building the warehouse {db}"
    assert lines[-1] == f"writing the report {report}"
    assert len(lines) == 2 + 3 + len(project.models) + len(project.tests)
    assert all(" of " in line and line.endswith(" s") for line in lines[1:-1])


def test_a_second_run_says_nothing_changed_and_leaves_both_outputs(
    raw_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake, db, report = _outputs(tmp_path)
    assert cli.main(_normalise(raw_copy, tmp_path)) == 0
    capsys.readouterr()
    before = _files(db, report)
    assert cli.main(_normalise(raw_copy, tmp_path)) == 0
    out, err = capsys.readouterr()
    assert out == (
        "snapshot files: 6 found, 0 new snapshots, 6 already in the lake\n"
        "nothing changed: no new or changed snapshot file; the lake, the warehouse and the "
        "report are as the last run left them\n"
        f"lake:           {lake} (rows in all: snapshots 6, listings 53, rejects 0; files per "
        "table: 1)\n"
        f"warehouse:      {db} (unchanged)\n"
        f"report:         {report} (unchanged)\n"
    )
    assert err == ""  # no stage: nothing was built or written
    assert _files(db, report) == before


def test_listings_run_with_nothing_new_starts_no_prefect_and_changes_nothing(
    raw_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The flow's run finds nothing new without starting Prefect (its start-up was most of
    such a run's 15 s): the same protocol decides, before the flow would start."""
    lake, db, report = _outputs(tmp_path)
    assert cli.main(_normalise(raw_copy, tmp_path)) == 0
    capsys.readouterr()
    before = _files(db, report)
    args = ["run", str(raw_copy), "--lake", str(lake), "--db", str(db), "--report", str(report)]
    code = (
        "import sys; from pipeline.cli.main import main; status = main(sys.argv[1:]); "
        "sys.exit(99 if 'prefect' in sys.modules else status)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True,
        encoding="utf-8", timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        "snapshot files: 6 found, 0 new snapshots, 6 already in the lake",
        "nothing changed: no new or changed snapshot file; the lake, the warehouse and the "
        "report are as the last run left them",
    ]
    assert done.stdout.splitlines()[-2:] == [
        f"warehouse:      {db} (unchanged)",
        f"report:         {report} (unchanged)",
    ]
    assert _files(db, report) == before


def test_a_run_rebuilds_a_warehouse_whose_models_changed_though_the_lake_did_not(
    raw_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, db, report = _outputs(tmp_path)
    config = run.RunConfig.of([raw_copy], lake, db=db, report=report)
    run.Run(config).run()
    checksum = increments.project_checksum
    monkeypatch.setattr(increments, "project_checksum", lambda p: f"edited {checksum(p)}")
    assert run.Run(config).unchanged() is None  # `listings run` would start the flow
    stages: list[str] = []
    again = run.Run(config, on_stage=stages.append).run()
    assert stages == [f"building the warehouse {db}", f"writing the report {report}"]
    assert not again.changed_nothing and not again.warehouse_kept and not again.report_kept
    assert again.tests == {"PASS": len(load_project().tests)}
    assert run.Run(config).unchanged() is not None  # built from the edited models now


def test_a_missing_report_is_written_again_from_the_warehouse_as_it_is(
    raw_copy: Path, tmp_path: Path
) -> None:
    lake, db, report = _outputs(tmp_path)
    config = run.RunConfig.of([raw_copy], lake, db=db, report=report)
    run.Run(config).run()
    built = _files(db)
    report.unlink()
    assert run.Run(config).unchanged() is None
    stages: list[str] = []
    again = run.Run(config, on_stage=stages.append).run()
    assert stages == [f"writing the report {report}"]
    assert (again.warehouse_kept, again.report_kept, again.changed_nothing) == (True, False, False)
    assert report.exists() and _files(db) == built
    assert "warehouse:      " in again.render() and again.tests == {}  # no test ran


def test_a_warned_test_is_counted_and_its_rows_printed_as_the_build_stored_them(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(sample_warehouse, db)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update _test_results set status = 'warn', failures = 4, failing_rows = ? "
            "where unique_id = 'assert_document_intervals_intersect'",
            ['[{"document_key": "k1", "heading": "Kubernetes 网络权威指南\\nCNI 插件与 Service '
             'and a heading far longer than a cell", "times_seen": 2}, '
             '{"document_key": "k2", "heading": null, "times_seen": 3}]'],
        )  # fmt: skip
        documents = artifacts.read(con)  # the outcome itself: the stored run_results.json
        assert documents is not None
        for result in documents[artifacts.RUN_RESULTS]["results"]:
            if result["unique_id"] == "test.listings.assert_document_intervals_intersect":
                result |= {"status": "warn", "failures": 4}
        artifacts.store(con, documents)
    counts, flagged = run.stored_tests(db)
    total = len(load_project().tests)
    assert counts == {"PASS": total - 1, "WARN": 1}
    summary = RunSummary("lake", warehouse=str(db), tests=counts, flagged_tests=flagged)
    assert summary.render().splitlines()[-5:] == [
        f"tests:          {total - 1} passed, 1 warned",
        "  WARN assert_document_intervals_intersect (dim_documents): 4 offending rows",
        "    document_key=k1, heading=Kubernetes 网络权威指南 CNI 插件与 Service and a…, "
        "times_seen=2",
        "    document_key=k2, heading=null, times_seen=3",
        f"    all 4: listings compile assert_document_intervals_intersect | listings sql --db "
        f"{db} -",
    ]
    assert f"; tests: {total - 1} passed, 1 warned" in summary.one_line()


def test_a_failed_test_with_every_row_shown_needs_no_hint() -> None:
    rows = pl.DataFrame({"fetch_id": ["f1"], "n": [2]})
    test = FlaggedTest("unique__x__fetch_id", "FAIL", "x", 1, rows, "w.duckdb")
    summary = RunSummary("lake", tests={"PASS": 3, "FAIL": 1}, flagged_tests=[test])
    assert summary.tests_line() == "3 passed, 1 failed"
    assert test.lines() == [
        "  FAIL unique__x__fetch_id (x): 1 offending row",
        "    fetch_id=f1, n=2",
    ]


def test_a_run_without_a_warehouse_that_finds_nothing_says_so_too() -> None:
    summary = RunSummary("lake", files_found=2, files_skipped=2)
    assert summary.render().splitlines() == [
        "snapshot files: 2 found, 0 new snapshots, 2 already in the lake",
        "nothing changed: no new or changed snapshot file; the lake is as the last run left them",
    ]
    assert summary.one_line().endswith("-> nothing changed in lake lake")
    assert "Nothing changed: no new or changed snapshot file; the lake is" in summary.markdown()


# --- the bar --------------------------------------------------------------------------


def test_without_a_terminal_only_the_stages_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with BatchProgress() as bar:
        bar.update(3, 6)
        bar.update(6, 6)
        bar.stage("building the warehouse w.duckdb")
        bar.stage("writing the report r.html")
    assert capsys.readouterr() == (
        "",
        "building the warehouse w.duckdb\nwriting the report r.html\n",
    )


def test_on_a_terminal_the_bar_is_closed_before_the_first_stage() -> None:
    """The bar is erased (it is transient) and never drawn again: nothing on screen says
    "normalising" while the warehouse builds."""
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80, color_system=None)
    with BatchProgress(console=console) as bar:
        bar.update(6, 6)
        bar.stage("building the warehouse w.duckdb")
        bar.update(6, 6)  # a late update draws nothing
        bar.stage("writing the report r.html")
    drawn, _, after = screen.getvalue().rpartition("\x1b[2K")  # the bar's last erase
    assert "normalising" in drawn and "6/6 files" in drawn
    assert after == "building the warehouse w.duckdb\nwriting the report r.html\n"


def test_a_warning_from_the_data_is_printed_with_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One document whose second page says it was uploaded after the first page was
    fetched: its upload intervals cannot meet, and the build's intervals test warns."""
    raw = tmp_path / "raw"
    raw.mkdir()
    doc = Document(title="Kubernetes 网络权威指南", description="CNI 插件与 Service 实现",
                   price=0, credit="码力", pages=12, size_bytes=1_500_000,
                   uploaded_at=datetime(2024, 2, 1, tzinfo=UTC), score=400)  # fmt: skip
    replaced = replace(doc, uploaded_at=datetime(2024, 3, 9, tzinfo=UTC))
    for day, shown in ((1, doc), (10, replaced)):
        fetched_at = datetime(2024, 3, day, 9, 0, tzinfo=UTC)
        page = render_page([shown], fetched_at, total_results=1, last_page=1,
                           title_layouts=["own_line"])  # fmt: skip
        (raw / f"k8s-{day}.txt").write_text(page, encoding="utf-8")
        sidecar = {"url": "https://wenku.it/search?wd=k8s&page=1",
                   "fetched_at": fetched_at.isoformat()}  # fmt: skip
        (raw / f"k8s-{day}.txt.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
    _, db, _ = _outputs(tmp_path)
    args = ["normalise", str(raw), "--out", str(tmp_path / "lake"), "--db", str(db)]
    assert cli.main(args) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        [(key,)] = con.sql("select document_key from dim_documents").fetchall()
    total = len(load_project().tests)
    assert capsys.readouterr().out.splitlines()[-4:] == [
        f"warehouse:      {db}",
        f"tests:          {total - 1} passed, 1 warned",
        "  WARN assert_document_intervals_intersect (dim_documents): 1 offending row",
        f"    document_key={key}, heading=Kubernetes 网络权威指南 CNI 插件与 Service 实现, "
        "times_seen=2, uploaded_at_min=2024-03-08T09:00:01+00:00, "
        "uploaded_at_max=2024-02-01T09:00:00+00:00, size_bytes_min=1494221, "
        "size_bytes_max=1504706",
    ]
