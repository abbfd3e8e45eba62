"""Reading snapshot files: metadata sources in the spec's order, ids, decoding."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import read
from tests.conftest import SAMPLE, write_snapshot

OPTION_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SIDECAR_TIME = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _row(path: Path, **options) -> dict:
    return read.read_batch([path], read.ReadOptions(**options)).row(0, named=True)


def test_a_sidecar_wins_over_the_name_and_the_options(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, "p_20250101T000000Z.txt", "x", SIDECAR_TIME)
    row = _row(path, fetched_at=OPTION_TIME, site="other.example")
    assert (row["fetched_at"], row["fetched_at_source"]) == (SIDECAR_TIME, "sidecar")
    assert (row["site"], row["query"], row["page"]) == ("wenku.it", "test", 1)


def test_a_timestamp_in_the_file_name_comes_next(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, "wenku_k8s_p2_20250101T081500Z.txt", "x")
    row = _row(path, fetched_at=OPTION_TIME)
    assert row["fetched_at"] == datetime(2025, 1, 1, 8, 15, tzinfo=UTC)
    assert row["fetched_at_source"] == "filename"


def test_then_the_option_then_the_mtime_marked_approximate(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, "page.txt", "x")
    os.utime(path, (1_700_000_000.7, 1_700_000_000.7))
    assert _row(path, fetched_at=OPTION_TIME)["fetched_at_source"] == "option"
    row = _row(path, site="wenku.it")
    assert (row["fetched_at_source"], row["site"]) == ("mtime", "wenku.it")
    assert row["fetched_at"] == datetime.fromtimestamp(1_700_000_000, tz=UTC)


def test_a_broken_sidecar_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, "page.txt", "x")
    path.with_name("page.txt.meta.json").write_text("{not json", encoding="utf-8")
    row = _row(path, fetched_at=OPTION_TIME)
    assert row["fetched_at_source"] == "option"
    assert row["metadata_warning"].startswith("sidecar page.txt.meta.json ignored:")


def test_the_snapshot_id_follows_the_bytes_and_the_fetch_time() -> None:
    raw = SAMPLE.read_bytes()
    first = read.snapshot_id(raw, SIDECAR_TIME)
    assert first == read.snapshot_id(raw, SIDECAR_TIME)
    assert first != read.snapshot_id(raw, OPTION_TIME)
    assert first != read.snapshot_id(raw + b" ", SIDECAR_TIME)


def test_folders_are_walked_for_snapshots_but_not_sidecars_or_notes(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt.gz", "c.html", "d.json", "notes.md", ".hidden.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "a.txt.meta.json").write_text("{}")
    assert [p.name for p in read.discover([tmp_path])] == ["a.txt", "b.txt.gz", "c.html", "d.json"]
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        read.discover([tmp_path / "missing"])


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", "empty file (0 bytes)"),
        (b"abc\x00def", "binary content: NUL bytes, not a text page"),
        (b"\x1f\x8bnot gzip at all", "corrupt gzip"),
        (b"\xff\xfe\xff\xfe", "undecodable: neither UTF-8 nor GB18030"),
        (b"\x01\x02\x03 page", "binary content: 3 control bytes in 8"),
    ],
)
def test_unreadable_bytes_say_why(raw: bytes, error: str) -> None:
    text, why = read.decode(raw)
    assert text is None
    assert why.startswith(error)
