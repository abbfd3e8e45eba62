"""What `listings sql --out`, `docs` and `report` leave on a full disk: the old file, or
none, and no temporary file."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

from pipeline import cli


class _FullDisk(io.RawIOBase):
    """A file that takes a few bytes, then says the disk is full."""

    def __init__(self, real: IO[Any]) -> None:
        self.real = real

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.real.write(bytes(data)[:3] if not isinstance(data, str) else data[:3])
        self.real.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.real.name)

    def close(self) -> None:
        self.real.close()
        super().close()


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it, and every file then opened for writing through pathlib fills the disk
    after 3 bytes."""
    real_open = Path.open

    def opened(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> IO[Any]:
        handle = real_open(self, mode, *args, **kwargs)
        return _FullDisk(handle) if "w" in mode else handle  # type: ignore[return-value]

    return lambda: monkeypatch.setattr(Path, "open", opened)


@pytest.mark.parametrize("form", ["csv", "json", "parquet"])
def test_sql_out_on_a_full_disk_keeps_the_old_file_and_leaves_no_temporary(
    sample_warehouse: Path, tmp_path: Path, full_disk: Callable[[], None], form: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = tmp_path / f"q.{form}"
    out.write_bytes(b"the old result\n")  # written before the disk filled
    full_disk()
    status = cli.main(
        ["sql", "select 1 as a", "--db", str(sample_warehouse), "--format", form, "--out", str(out)]
    )
    assert status == 1
    assert "No space left on device" in capsys.readouterr().err
    assert out.read_bytes() == b"the old result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_docs_on_a_full_disk_leaves_no_temporary_file(
    tmp_path: Path, full_disk: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "docs.html"
    full_disk()
    assert cli.main(["docs", "--db", str(tmp_path / "none.duckdb"), "--out", str(out)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_report_on_a_full_disk_leaves_no_temporary_file(
    sample_warehouse: Path,
    tmp_path: Path,
    full_disk: Callable[[], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "report.html"
    full_disk()
    assert cli.main(["report", "--db", str(sample_warehouse), "--out", str(out)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
