"""`--storage-version` on the commands that write a warehouse: `build`, `normalise --db`, `run`.

`build` hands it to the build; `normalise` and `run` build through the run protocol (and the
flow), which read it from the environment (`config.STORAGE_VERSION_ENV`) that the option sets
for the command alone. An unknown version is a wrong argument (exit 2) before anything runs.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli, config
from tests.conftest import RAW
from tests.warehouse.test_storage_version import stored


def test_build_writes_the_version_asked_and_rebuilds_whole_to_change_it(
    sample_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "warehouse.duckdb"
    build = ["build", "--lake", str(sample_lake), "--db", str(db)]
    assert cli.main([*build, "--storage-version", "latest"]) == 0
    assert stored(db) == "v2.0.0+"
    capsys.readouterr()
    assert cli.main(build) == 0
    lines = capsys.readouterr().out.splitlines()
    assert stored(db) == "v1.3.0+"
    assert (
        "build:     rebuilt whole (its file is in DuckDB's storage format v2.0.0+; this build "
        "writes v1.3.0)"
    ) in lines
    assert cli.main(build) == 0
    assert "build:     updated (0 new snapshots)" in capsys.readouterr().out.splitlines()
    assert os.environ.get(config.STORAGE_VERSION_ENV) is None


def test_normalise_with_db_writes_the_version_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "warehouse.duckdb"
    args = ["normalise", str(RAW), "--out", str(tmp_path / "lake"), "--db", str(db)]
    assert cli.main([*args, "--storage-version", "v1.2.0"]) == 0
    assert stored(db) == "v1.2.0+"
    assert os.environ.get(config.STORAGE_VERSION_ENV) is None  # set for the command alone


def test_run_builds_with_the_version_asked_in_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str | None] = []

    def flow(**_: Any) -> types.SimpleNamespace:  # the flow's warehouse task reads this
        seen.append(os.environ.get(config.STORAGE_VERSION_ENV))
        return types.SimpleNamespace(render=lambda: "", files_read=0, listings=0, rejects=0)

    fake = types.ModuleType("flows.normalise")
    fake.with_dask = lambda address: flow  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "flows.normalise", fake)
    monkeypatch.setenv(config.STORAGE_VERSION_ENV, "v1.0.0")
    args = ["run", "--lake", str(tmp_path / "lake"), "--db", str(tmp_path / "w.duckdb")]
    assert cli.main([*args, "--storage-version", "latest"]) == 0
    assert cli.main(args) == 0
    assert seen == ["latest", "v1.0.0"]
    assert os.environ[config.STORAGE_VERSION_ENV] == "v1.0.0"  # restored


@pytest.mark.parametrize(
    "args",
    [
        ["build", "--storage-version", "1.2.0"],
        ["normalise", str(RAW), "--out", "lake", "--db", "w.duckdb", "--storage-version", "1.2.0"],
        ["run", "--storage-version", "1.2.0"],
    ],
)
def test_an_unknown_version_is_a_wrong_argument(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(args)
    assert exited.value.code == 2
    assert (
        capsys.readouterr()
        .err.splitlines()[-1]
        .endswith(
            "argument --storage-version: '1.2.0' is not a DuckDB storage version: give a DuckDB "
            "release such as v1.3.0 or v1.4.0 (the oldest DuckDB to open the warehouse), or latest"
        )
    )


def test_normalise_refuses_a_storage_version_without_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["normalise", str(RAW), "--out", str(tmp_path / "lake"), "--storage-version", "latest"]
    assert cli.main(args) == 2
    assert capsys.readouterr().err == (
        "listings normalise: --storage-version needs --db (it is the warehouse's format)\n"
    )
    assert not (tmp_path / "lake").exists()
