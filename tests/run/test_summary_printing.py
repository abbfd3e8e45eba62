"""What the run summary prints: many copies of a page are one note, and control characters
from file names never reach the terminal raw (pipeline/terminal.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.ingest import metadata
from pipeline.run import run
from pipeline.run.summary import COPIES_NAMED, SAME_SNAPSHOT, BatchReport, RunSummary
from pipeline.terminal import escaped


def _copies(raw_copy: Path, count: int) -> Path:
    page = raw_copy / "wenku-search-page.txt"
    for i in range(count):
        for suffix in ("", ".meta.json"):
            shutil.copy(f"{page}{suffix}", raw_copy / f"zz-copy-{i:03}.txt{suffix}")
    return page


def test_many_copies_of_a_page_are_one_note_with_a_count_and_examples(
    raw_copy: Path, tmp_path: Path
) -> None:
    page = _copies(raw_copy, 40)
    summary = run.normalise_paths([raw_copy], tmp_path / "lake", metadata.ReadOptions())
    notes = [line for line in summary.render().splitlines() if line.startswith("note:")]
    assert notes == [
        "note: 40 files repeat a snapshot another file gave (same bytes, same fetch time), "
        f"each read once: {raw_copy / 'zz-copy-000.txt'} (as {page}), "
        f"{raw_copy / 'zz-copy-001.txt'} (as {page}), {raw_copy / 'zz-copy-002.txt'} (as {page}) "
        f"and {40 - COPIES_NAMED} more"
    ]
    assert len(summary.messages()) == 40  # every one is still in the report's messages


def test_a_few_copies_are_each_noted() -> None:
    messages = [f"raw/{i}.txt: " + SAME_SNAPSHOT.format("raw/a.txt") for i in range(3)]
    summary = RunSummary("lake", batches=[BatchReport(1, 4, 1, 1, 1, 0, messages=messages)])
    assert summary.notes() == messages


NAME = "evil\x1b]0;pwned\x07\x1b[2J\r\u202etxt.gnp\x9b.txt"


def test_control_characters_in_a_file_name_are_escaped_in_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / NAME).write_bytes(b"\x00binary")
    assert cli.main(["normalise", str(raw), "--out", str(tmp_path / "lake")]) == 3
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out and "\x9b" not in out
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J\\r\\u202etxt.gnp\\x9b.txt" in out


def test_escaped_writes_controls_as_python_does_and_keeps_other_text() -> None:
    assert escaped("a\tb\nc\x7f\u2028中文 é") == "a\\tb\\nc\\x7f\\u2028中文 é"
