"""A manifest names only files the lake writes (`layout.DATA_FILE`): a hand-edited
`data_file` such as `../listings/…` is a damaged manifest, so no reader opens a file outside
the table it reads (it made `sql --lake` count a listings file as snapshots)."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from pipeline import cli
from pipeline.lake import layout, manifest
from pipeline.lake.storage import Location

COUNT = "select count(*) from snapshots"


@pytest.fixture
def lake(sample_lake: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "lake"
    shutil.copytree(sample_lake, copy)
    return copy


def _edit(lake: Path, data_file: pl.Expr) -> Path:
    """Every part of the manifest with its `data_file` replaced; the part edited first."""
    parts = sorted((lake / "_manifest").glob("*.parquet"))
    for part in parts:
        frame = pl.read_parquet(part)
        frame.with_columns(data_file.alias("data_file")).write_parquet(part)
    return parts[0]


@pytest.mark.parametrize(
    "edit",
    [
        pl.lit("../listings/") + pl.col("data_file"),  # another table's file
        pl.col("data_file").str.replace("/", "/../../../"),  # out of the lake
        pl.lit("/etc/passwd"),
        pl.lit(None, pl.String),
    ],
    ids=["other-table", "dot-dot", "absolute", "null"],
)
def test_a_data_file_the_lake_never_writes_is_a_damaged_manifest(
    lake: Path, edit: pl.Expr, capsys: pytest.CaptureFixture[str]
) -> None:
    part = _edit(lake, edit)
    status = cli.main(["sql", COUNT, "--lake", str(lake), "--format", "csv"])
    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert f"the manifest file _manifest/{part.name} is damaged (data_file " in err
    assert "is no name the lake writes)" in err
    with pytest.raises(manifest.ManifestUnreadableError):
        manifest.load(Location.of(lake))


def test_the_names_the_lake_writes_pass(sample_lake: Path) -> None:
    names = manifest.load(Location.of(sample_lake))["data_file"]
    assert names.str.contains(layout.DATA_FILE).all()
    group = layout.group_name(layout.MERGED_PREFIX, ["a"])
    older = ["0123456789abcdef0123", "batch-0123456789abcdef0123"]
    assert (
        pl.Series([layout.data_file("2026-11", group), *older]).str.contains(layout.DATA_FILE).all()
    )
