"""`listings sql --lake` while a run writes the lake: it reads without the lake's lock, so
a run's manifest merge may delete the part files it has just listed, and a compaction the
data files its views name. Either way the lake is healthy and the query is answered from
the manifest read again (docs/lake.md, "Readers while a run writes"), never with a message
calling the manifest unreadable or advising `--full-refresh`.

The run's writes are made to happen at the worst moment by wrapping the reader's own steps,
so each race happens every time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.lake import compact, manifest
from pipeline.lake.storage import Location
from pipeline.run import run
from pipeline.warehouse import database
from tests.conftest import RAW

COUNT = "select (select count(*) from snapshots) || ' ' || (select count(*) from listings)"


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """The sample pages committed by three runs: three small groups in one month, three
    manifest parts and no merged manifest yet."""
    from pipeline.ingest import metadata

    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    pages = sorted(p for p in RAW.iterdir() if p.suffix in (".txt", ".html", ".json"))
    for n, chunk in enumerate((pages[:2], pages[2:4], pages[4:])):
        for page in chunk:
            shutil.copy(page, raw / page.name)
            sidecar = page.with_name(page.name + ".meta.json")
            if sidecar.exists():
                shutil.copy(sidecar, raw / sidecar.name)
        run.normalise_paths([raw], lake, metadata.ReadOptions())
        assert len(list((lake / "_manifest").glob("part-*.parquet"))) == n + 1
    return lake


def _count(lake: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(["sql", COUNT, "--lake", str(lake), "--format", "csv"])
    out, err = capsys.readouterr()
    return status, out.splitlines()[-1] if out else "", err


def test_a_manifest_merge_between_listing_and_reading_its_parts_is_read_again(
    lake: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _count(lake, capsys)
    assert expected[0] == 0 and expected[2] == ""
    listed = manifest._parts
    merged = []

    def merged_right_after_listing(where: Location) -> list[str]:
        found = listed(where)
        if found and not merged:  # a run ends now: its merge deletes the parts just listed
            merged.append(True)
            manifest.merge_parts(where)
        return found

    monkeypatch.setattr(manifest, "_parts", merged_right_after_listing)
    assert _count(lake, capsys) == expected
    assert merged and not list((lake / "_manifest").glob("part-*.parquet"))


def test_a_compaction_between_binding_and_reading_the_files_is_read_again(
    lake: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _count(lake, capsys)
    groups_before = manifest.load(Location.of(lake))["data_file"].n_unique()
    listed = manifest.committed_files
    compacted = []

    def compacted_right_after_listing(where: object) -> dict[str, list[str]]:
        found = listed(where)  # type: ignore[arg-type]
        if not compacted:  # a run compacts now: the files just listed are deleted
            compacted.append(compact.compact_lake(lake))
        return found

    monkeypatch.setattr(manifest, "committed_files", compacted_right_after_listing)
    assert _count(lake, capsys) == expected
    assert compacted[0].compaction.groups_merged == groups_before == 3
    assert database.query(COUNT, lake=lake).item() == expected[1]


def test_a_data_file_the_manifest_still_names_that_is_gone_is_the_error_it_is(
    lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only a file a writer replaced is read again: one the manifest still names is missing
    (`listings verify` says so), and the query fails once, naming it."""
    (missing, *_) = sorted((lake / "listings").rglob("*.parquet"))
    missing.unlink()
    status, _, err = _count(lake, capsys)
    assert status == 1
    assert err.startswith("listings sql: IO Error: No files found that match the pattern")
    assert str(missing) in err


def test_a_damaged_manifest_says_what_a_full_refresh_would_lose(
    lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    part = sorted((lake / "_manifest").glob("part-*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:100])
    status, _, err = _count(lake, capsys)
    assert status == 1 and len(err.splitlines()) == 1
    assert f"the manifest file _manifest/{part.name} is damaged (" in err
    assert f"`listings verify {lake}` shows what else is" in err
    assert "snapshots whose input files are gone are lost" in err
