"""The README's exit status table lists exactly `ExitCode`: every status, by name."""

from __future__ import annotations

from pipeline.cli.exit_codes import ExitCode
from tests.conftest import readme_table

HEADER = ["status", "name", "meaning"]


def test_the_readme_lists_every_exit_status_by_name() -> None:
    rows = readme_table(HEADER)
    assert all(len(row) == 3 and row[2] for row in rows), rows  # each with a meaning
    listed = {(int(status), name.strip("`")) for status, name, _ in rows}
    assert listed == {(int(code), name) for name, code in ExitCode.__members__.items()}
    assert len(rows) == len(listed)  # none twice


def test_every_status_is_below_256_and_the_signals_are_the_shells() -> None:
    assert all(0 <= code < 256 for code in ExitCode)
    assert ExitCode.INTERRUPTED == 128 + 2  # SIGINT
    assert ExitCode.READER_GONE == 128 + 13  # SIGPIPE


def test_listings_help_names_every_status() -> None:
    from pipeline.cli.main import EPILOG

    said = EPILOG.split("exit status:", 1)[1]
    assert all(f" {int(code)} " in f" {said} ".replace("\n", " ") for code in ExitCode)
