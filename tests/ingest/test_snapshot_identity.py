"""A snapshot is its bytes, its fetch time and its sidecar URL (docs/input-format.md §4):
two empty result pages fetched at one moment for two queries are byte for byte the same,
and were one snapshot, so one query's page was lost. Without a URL a snapshot keeps the id
it always had, and a lake written before the URL counted is recognised, never doubled."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from pipeline.ingest import metadata
from pipeline.lake import manifest
from pipeline.run import run

FETCHED_AT = "2026-11-20T09:30:00Z"
EMPTY_PAGE = "共 0 条\n"  # no listings: the page says nothing of its query


def _page(folder: Path, name: str, query: str | None, text: str = EMPTY_PAGE) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    sidecar: dict[str, str] = {"fetched_at": FETCHED_AT}
    if query is not None:
        sidecar["url"] = f"https://wenku.it/search?wd={query}&page=1"
    Path(f"{path}.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path


def _normalise(raw: Path, lake: Path) -> run.RunSummary:
    return run.normalise_paths([raw], lake, metadata.ReadOptions())


def _queries(lake: Path) -> list[tuple[str | None, str]]:
    snapshots = manifest.scan(lake, "snapshots").collect()
    return sorted(snapshots.select("query", "source_path").rows(), key=str)


def test_the_same_bytes_and_time_for_two_queries_are_two_snapshots(tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    alpha = _page(raw, "alpha.txt", "alpha")
    beta = _page(raw, "beta.txt", "beta")
    first = _normalise(raw, lake)
    assert (first.files_found, first.snapshots) == (2, 2)
    assert _queries(lake) == [("alpha", str(alpha)), ("beta", str(beta))]
    second = _normalise(raw, lake)
    assert (second.snapshots, second.files_skipped) == (0, 2)


def test_a_copy_with_the_same_sidecar_is_still_one_snapshot(tmp_path: Path) -> None:
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    _page(raw, "a.txt", "alpha")
    _page(raw, "b-copy.txt", "alpha")
    summary = _normalise(raw, lake)
    assert (summary.files_found, summary.snapshots) == (2, 1)
    assert summary.messages() == [
        f"{raw / 'b-copy.txt'}: the same snapshot as {raw / 'a.txt'} (same bytes, same fetch "
        "time): read once"
    ]


def test_the_id_without_a_url_is_the_one_it_always_was(tmp_path: Path) -> None:
    raw = EMPTY_PAGE.encode()
    moment = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    old = hashlib.sha256(raw + b"\n" + moment.isoformat().encode()).hexdigest()[:20]
    assert metadata.snapshot_id(raw, moment) == old
    assert metadata.snapshot_id(raw, moment, None) == old
    with_url = metadata.snapshot_id(raw, moment, "https://wenku.it/search?wd=alpha")
    assert (
        with_url
        == (
            hashlib.sha256(
                raw + b"\n" + moment.isoformat().encode() + b"\nhttps://wenku.it/search?wd=alpha"
            ).hexdigest()[:20]
        )
    )
    assert metadata.identities(raw, moment, "https://wenku.it/search?wd=alpha") == (
        hashlib.sha256(raw).hexdigest(),
        with_url,
        old,
    )
    # A file without a sidecar URL is stored under the old id: old lakes match it.
    lake = tmp_path / "lake"
    (tmp_path / "raw").mkdir()
    _page(tmp_path / "raw", "page.txt", None)
    _normalise(tmp_path / "raw", lake)
    assert manifest.scan(lake, "snapshots").collect()["snapshot_id"].to_list() == [old]


@pytest.fixture
def old_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A lake written by a version whose ids left the URL out: alpha's page in it."""
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    _page(raw, "alpha.txt", "alpha")
    hashes = metadata.hashes
    with monkeypatch.context() as patch:
        patch.setattr(metadata, "hashes", lambda data, moment, url=None: hashes(data, moment))
        _normalise(raw, lake)
    return raw, lake


def test_an_old_lake_is_not_doubled_when_a_page_with_a_url_is_touched(
    old_lake: tuple[Path, Path],
) -> None:
    """A touched file is identified again: its new id is not in the old lake, its id without
    the URL is, with the same URL, so it is the page the lake holds."""
    raw, lake = old_lake
    os.utime(raw / "alpha.txt", (1_700_000_000, 1_700_000_000))
    again = _normalise(raw, lake)
    assert (again.files_found, again.snapshots, again.files_skipped) == (1, 0, 1)
    assert manifest.scan(lake, "snapshots").collect().height == 1


def test_an_old_lake_does_not_hide_another_querys_page_behind_its_own(
    old_lake: tuple[Path, Path],
) -> None:
    """beta's id without the URL is alpha's old id; the old lake's snapshot has alpha's URL,
    so beta is new."""
    raw, lake = old_lake
    beta = _page(raw, "beta.txt", "beta")
    again = _normalise(raw, lake)
    assert (again.snapshots, again.files_skipped) == (1, 1)
    assert _queries(lake) == [("alpha", str(raw / "alpha.txt")), ("beta", str(beta))]
    snapshots = manifest.scan(lake, "snapshots").collect()
    assert snapshots.select(pl.col("snapshot_id").n_unique()).item() == 2
