"""A file a command writes (`sql --out`, `report --out`, `docs --out`, `--report`) is never
the warehouse, any other DuckDB database, or a file inside a lake: such a path is refused
before anything runs, with one line and exit 1 as for an output that is a folder. Each of
these used to replace the warehouse (or the lake's manifest) and exit 0.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.lake import manifest
from pipeline.lake.storage import Location
from tests.conftest import RAW


@pytest.fixture
def built(sample_lake: Path, sample_warehouse: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the sample lake and its warehouse, which a failing test may overwrite."""
    lake, db = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    shutil.copytree(sample_lake, lake)
    manifest.merge_parts(Location.of(lake))  # `_manifest/manifest.parquet`, for docs to hit
    shutil.copy(sample_warehouse, db)
    return lake, db


def _refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(args) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    return err.rstrip("\n")


def _state(lake: Path, db: Path) -> tuple[dict[str, bytes], bytes]:
    """Every file of the lake (its manifest included) and the warehouse, as bytes."""
    files = {str(p.relative_to(lake)): p.read_bytes() for p in lake.rglob("*") if p.is_file()}
    return files, db.read_bytes()


def _unchanged(lake: Path, db: Path, before: tuple[dict[str, bytes], bytes]) -> None:
    assert _state(lake, db) == before


@pytest.mark.parametrize(
    "command",
    [
        ["sql", "select 1", "--db", "{db}", "--format", "csv", "--out", "{db}"],
        ["report", "--db", "{db}", "--out", "{db}"],
        ["docs", "--db", "{db}", "--out", "{db}"],
    ],
    ids=["sql", "report", "docs"],
)
def test_an_output_onto_the_warehouse_is_refused(
    built: tuple[Path, Path], command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    lake, db = built
    before = _state(lake, db)
    args = [part.format(lake=lake, db=db) for part in command]
    assert _refused(args, capsys) == (
        f"listings {args[0]}: --out {db} is the warehouse (--db {db}): writing there would "
        "replace it, so nothing was written; give another path"
    )
    _unchanged(lake, db, before)


def test_an_output_onto_any_duckdb_database_is_refused(
    built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake, db = built
    other = tmp_path / "other.db"
    shutil.copy(db, other)
    before = other.read_bytes()
    args = ["sql", "select 1", "--lake", str(lake), "--format", "csv", "--out", str(other)]
    assert _refused(args, capsys) == (
        f"listings sql: --out {other} is a DuckDB database: writing there would replace it, "
        "so nothing was written; give another path"
    )
    assert other.read_bytes() == before


def test_an_output_that_is_the_db_not_built_yet_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`normalise --db W --report W`: the run would build W, then the report replace it."""
    db = tmp_path / "w.duckdb"
    lake = tmp_path / "lake"
    args = ["normalise", str(RAW), "--out", str(lake), "--db", str(db), "--report", str(db)]
    err = _refused(args, capsys)
    assert err == (
        f"listings normalise: --report {db} is the warehouse (--db {db}): writing there "
        "would replace it, so nothing was written; give another path"
    )
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "inside"),
    [
        (["docs", "--db", "{db}", "--out", "{lake}/_manifest/manifest.parquet"], "{lake}"),
        (["report", "--db", "{db}", "--out", "{lake}/listings/report.html"], "{lake}"),
        (
            [
                "sql",
                "select 1",
                "--lake",
                "{lake}",
                "--format",
                "csv",
                "--out",
                "{lake}/_manifest/part-1.parquet",
            ],
            "{lake}",
        ),
        (["sql", "select 1", "--db", "{db}", "--format", "csv", "--out", "{lake}/q.csv"], "{lake}"),
    ],
    ids=["docs-onto-the-manifest", "report", "sql-lake", "sql-db"],
)
def test_an_output_inside_a_lake_is_refused(
    built: tuple[Path, Path], command: list[str], inside: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lake, db = built
    before = _state(lake, db)
    args = [part.format(lake=lake, db=db) for part in command]
    err = _refused(args, capsys)
    out = args[args.index("--out") + 1]
    assert err == (
        f"listings {args[0]}: --out {out} is inside the lake {inside.format(lake=lake)}: "
        "a lake holds only the files its manifest names, so nothing was written; give a path "
        "outside it"
    )
    _unchanged(lake, db, before)
    assert not (lake / "q.csv").exists() and not (lake / "listings" / "report.html").exists()


def test_a_report_inside_the_lake_a_run_writes_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lake named by the command counts before it exists: nothing is written."""
    lake, db = tmp_path / "lake", tmp_path / "w.duckdb"
    report = lake / "report.html"
    args = ["normalise", str(RAW), "--out", str(lake), "--db", str(db), "--report", str(report)]
    err = _refused(args, capsys)
    assert err == (
        f"listings normalise: --report {report} is inside the lake {lake}: a lake holds only "
        "the files its manifest names, so nothing was written; give a path outside it"
    )
    assert sorted(tmp_path.iterdir()) == []


def test_other_outputs_are_written(
    built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake, _ = built
    out = tmp_path / "q.csv"
    assert cli.main(["sql", "select 1 as x", "--lake", str(lake), "--out", str(out),
                     "--format", "csv"]) == 0  # fmt: skip
    assert out.read_text(encoding="utf-8") == "x\n1\n"
    capsys.readouterr()
