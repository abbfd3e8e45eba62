"""What the run summary prints: control characters from file names never reach the
terminal raw (pipeline/terminal.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import cli
from pipeline.terminal import escaped

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
