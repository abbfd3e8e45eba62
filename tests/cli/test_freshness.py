"""`listings freshness`: the snapshots' newest fetched_at against the sources YAML's
warn_after (2 days) and error_after (7 days), in the warehouse or over the lake, at an
explicit --now; one dbt-style line per table, exit 0 for pass and warn, 1 for error, and
dbt's sources.json. The sample lake's newest page was fetched 2026-11-22T03:45:00Z."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.cli.exit_codes import ExitCode

NEWEST = "2026-11-22T03:45:00+00:00"


@pytest.mark.parametrize(
    ("now", "status", "word", "code"),
    [
        ("2026-11-23T03:45:00Z", "pass", "PASS", ExitCode.OK),
        ("2026-11-24T03:45:00Z", "pass", "PASS", ExitCode.OK),  # 2 days exactly: not past
        ("2026-11-24T03:45:01Z", "warn", "WARN", ExitCode.OK),
        ("2026-11-29T03:45:01Z", "error", "ERROR STALE", ExitCode.SOURCE_STALE),
    ],
)
def test_the_warehouses_snapshots_pass_warn_or_err_by_their_age(
    sample_warehouse: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    now: str,
    status: str,
    word: str,
    code: ExitCode,
) -> None:
    target = tmp_path / "target"
    argv = ["freshness", "--db", str(sample_warehouse), "--now", now, "--target-path", str(target)]
    assert cli.main(argv) == code
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"  1 of 1 {word} freshness of lake.snapshots ...")
    assert line.endswith(f" max(fetched_at) {NEWEST}, {line.rsplit(', ', 1)[1]}")
    (result,) = json.loads((target / "sources.json").read_text(encoding="utf-8"))["results"]
    assert result["unique_id"] == "source.listings.lake.snapshots"
    assert result["status"] == status
    assert result["max_loaded_at"] == NEWEST
    assert result["snapshotted_at"] == now.replace("Z", "+00:00")
    assert result["criteria"] == {
        "warn_after": {"count": 2, "period": "day"},
        "error_after": {"count": 7, "period": "day"},
        "filter": None,
    }


def test_the_lake_is_read_the_same_and_sources_json_goes_beside_the_default_warehouse(
    sample_lake: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no warehouse here: --lake reads the lake itself
    argv = ["freshness", "--lake", str(sample_lake), "--now", "2026-11-22T15:45:00+00:00"]
    with pytest.raises(SystemExit) as error:  # one or the other
        cli.main([*argv, "--db", "w.duckdb"])
    assert error.value.code == ExitCode.USAGE
    capsys.readouterr()
    assert cli.main(argv) == ExitCode.OK
    assert "0.5 days ago" in capsys.readouterr().out
    # target/ beside the default --db (data/warehouse.duckdb)
    sources = json.loads((tmp_path / "data/target/sources.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in sources["results"]] == ["pass"]


def test_a_missing_warehouse_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "none.duckdb"
    assert cli.main(["freshness", "--db", str(db), "--now", "2026-11-22T00:00:00Z"]) == 1
    assert f"no warehouse at {db}" in capsys.readouterr().err
    assert not (tmp_path / "target").exists()
