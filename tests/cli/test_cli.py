"""The CLI: it normalises then queries, and wrong arguments, bad SQL or unreadable input
end in a message and the right exit status, never a traceback; no Prefect imported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline import cli
from tests.conftest import RAW, REPO, empty_lake


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    listings = Path(sys.executable).with_name("listings")
    command = [str(listings)] if listings.exists() else [sys.executable, "-m", "pipeline.cli"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def test_the_cli_normalises_then_queries(raw_copy: Path, tmp_path: Path) -> None:
    done = _run_cli("normalise", str(raw_copy), "--out", "lake", "--db", "w.duckdb", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "listings:" in done.stdout and "warehouse:" in done.stdout
    total = _run_cli(
        "sql",
        "select count(*) as n from listings",
        "--db",
        "w.duckdb",
        "--format",
        "csv",
        cwd=tmp_path,
    )
    assert total.returncode == 0, total.stderr
    expected = pl.read_parquet(tmp_path / "lake" / "listings" / "**" / "*.parquet").height
    assert total.stdout.split() == ["n", str(expected)]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["normalise", "x.txt"], 2, "the following arguments are required: --out"),
        (
            ["normalise", "x.txt", "--out", "l", "--fetched-at", "yesterday"],
            2,
            "not an ISO 8601 time: 'yesterday'",
        ),
        (["normalise", "missing.txt", "--out", "l"], 1, "missing.txt: no such file or folder"),
        (["sql", "select 1", "--db", "nope.duckdb"], 1, "no warehouse at nope.duckdb"),
        (["frobnicate"], 2, "unknown command 'frobnicate'; commands: normalise, sql,"),
    ],
)
def test_wrong_arguments_exit_non_zero_with_a_message(
    tmp_path: Path, capsys, args: list[str], code: int, message: str
) -> None:
    os.chdir(tmp_path)
    try:
        result = cli.main(args)
    except SystemExit as exit_:
        result = exit_.code
    err = capsys.readouterr().err
    assert result == code
    assert message in err
    assert "Traceback" not in err


def test_bad_sql_is_a_message_not_a_traceback(raw_copy: Path, tmp_path: Path) -> None:
    lake_dir = str(empty_lake(tmp_path))
    done = _run_cli("sql", "select nope from listings", "--lake", lake_dir, cwd=tmp_path)
    assert done.returncode == 1
    assert "nope" in done.stderr and "Traceback" not in done.stderr


def test_unreadable_input_among_good_ones_still_exits_zero(tmp_path: Path) -> None:
    """Bad data is rows in rejects, not an error: the run exits 0 while anything came out
    (exit 3, when every file was rejected, is tested with the CLI's manners)."""
    (tmp_path / "junk.txt").write_bytes(b"\x00\x01\x02")
    shutil.copy(RAW / "wenku-search-page.txt", tmp_path / "page.txt")
    done = _run_cli("normalise", "junk.txt", "page.txt", "--out", "lake", cwd=tmp_path)
    assert done.returncode == 0
    assert "listings:       10\nrejects:        1" in done.stdout
    assert "junk.txt: binary content" in done.stdout


def test_the_pipeline_package_never_imports_prefect() -> None:
    code = (
        "import sys, pipeline.cli, pipeline.run.normalise, pipeline.warehouse.database, "
        "pipeline.parse; "
        "sys.exit('prefect' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True)
    assert done.returncode == 0, done.stderr


def test_normalise_with_db_and_report_publishes_like_the_flow(
    raw_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI runs the flow's protocol: it builds the warehouse and writes the report when
    the run changed the lake, and leaves both alone (still naming them) when it did not."""
    lake, db, report = tmp_path / "lake", tmp_path / "w.duckdb", tmp_path / "r.html"
    args = ["normalise", str(raw_copy), "--out", str(lake)]
    args += ["--db", str(db), "--report", str(report)]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert f"warehouse:      {db}" in first and f"report:         {report}" in first
    built = (db.stat().st_mtime_ns, report.stat().st_mtime_ns)
    assert cli.main(args) == 0
    again = capsys.readouterr().out
    assert "0 new snapshots, 6 already in the lake" in again
    assert f"warehouse:      {db}" in again and f"report:         {report}" in again
    assert (db.stat().st_mtime_ns, report.stat().st_mtime_ns) == built


def test_a_problem_the_user_can_fix_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every `errors.ListingsError` reaches the user as `listings COMMAND: message`."""
    assert cli.main(["normalise", str(tmp_path / "gone"), "--out", str(tmp_path / "l")]) == 1
    gone = tmp_path / "gone"
    assert capsys.readouterr().err == f"listings normalise: {gone}: no such file or folder\n"
    assert cli.main(["compact", "--lake", str(tmp_path / "nolake")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"listings compact: {tmp_path / 'nolake'} is not a lake")


def test_a_report_without_a_warehouse_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["normalise", str(tmp_path), "--out", str(tmp_path / "l"), "--report", "r.html"]
    assert cli.main(args) == 2
    assert capsys.readouterr().err == (
        "listings normalise: --report needs --db (the report reads the warehouse)\n"
    )
    assert not (tmp_path / "l").exists()
