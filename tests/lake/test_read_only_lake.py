"""A lake the user may only read (a read-only mount, another user's files): commands that
only read it (`verify`, `build`, `sql --lake`) read it without the lake's lock, saying so;
commands that change it (`normalise`, `compact`, `resolve-titles`) stop with one line and
exit 1. Each writer, and `verify`, used to end in a traceback (`OSError: [Errno 30]
Read-only file system: '…/_manifest/.lock'`).

The lake is made read-only for real: a read-only bind mount where the tests run as root
(root writes through any file mode), file modes otherwise.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.ingest import metadata
from pipeline.run import run
from tests.conftest import lake_files

# What the system says to a write: a read-only mount as root, file modes otherwise.
REFUSED = "Read-only file system" if os.geteuid() == 0 else "Permission denied"


def _writable(folder: Path) -> bool:
    probe = folder / f".probe-{uuid.uuid4().hex}"
    try:
        probe.touch()
    except OSError:
        return False
    probe.unlink()
    return True


@pytest.fixture
def read_only_lake(raw_copy: Path, tmp_path: Path) -> Iterator[Path]:
    """The sample lake, read-only: its files as a normal lake, no write of any kind."""
    lake = tmp_path / "lake"
    run.normalise_paths([raw_copy], lake, metadata.ReadOptions())
    if os.geteuid() != 0:
        for folder, _, names in os.walk(lake):
            for name in [*names, "."]:
                path = Path(folder, name)
                path.chmod(path.stat().st_mode & ~0o222)
        try:
            if _writable(lake / "_manifest"):
                pytest.skip("file modes do not stop writes here")
            yield lake
        finally:
            for folder, _, names in os.walk(lake):
                for name in [*names, "."]:
                    path = Path(folder, name)
                    path.chmod(path.stat().st_mode | 0o200)
        return
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    made = subprocess.run(["mount", "--bind", str(lake), str(mounted)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"no read-only mount here: {made.stderr.decode().strip()}")
    try:
        subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(mounted)], check=True, capture_output=True
        )
        if _writable(mounted / "_manifest"):
            pytest.skip("the read-only mount takes writes")
        yield mounted
    finally:
        subprocess.run(["umount", str(mounted)], check=True)


@pytest.mark.parametrize(
    "command",
    [
        ["compact", "--lake", "{lake}"],
        ["resolve-titles", "--lake", "{lake}"],
        ["normalise", "{raw}", "--out", "{lake}"],
        ["normalise", "{raw}", "--out", "{lake}", "--full-refresh"],
    ],
    ids=["compact", "resolve-titles", "normalise", "full-refresh"],
)
def test_a_command_that_changes_the_lake_stops_with_one_line(
    read_only_lake: Path,
    raw_copy: Path,
    command: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = lake_files(read_only_lake)
    args = [part.format(lake=read_only_lake, raw=raw_copy) for part in command]
    assert cli.main(args) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"listings {args[0]}: lake {read_only_lake} cannot be written ({REFUSED}): this "
        "command changes it; run it where the lake is writable (sql --lake, build and "
        "verify read it as it is)\n"
    )
    assert lake_files(read_only_lake) == before


def test_verify_reads_a_read_only_lake_unlocked(
    read_only_lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verify", str(read_only_lake)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == f"lake:      {read_only_lake}"
    assert "clean" in out
    assert err == f"lake {read_only_lake} cannot be locked ({REFUSED}): reading it unlocked\n"


def test_build_and_sql_read_a_read_only_lake(
    read_only_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "w.duckdb"
    assert cli.main(["build", "--lake", str(read_only_lake), "--db", str(db)]) == 0
    assert "reading it unlocked" in capsys.readouterr().err
    query = "select count(*) from listings"
    assert cli.main(["sql", query, "--lake", str(read_only_lake), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "53"
