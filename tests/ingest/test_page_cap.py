"""A page has a size cap: a gzip that expands past it (a "bomb") is stopped in the stream,
a plain file over it is not decoded, and either becomes a read reject naming the cap while
the rest of the batch is read (docs/input-format.md §3.3)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.ingest import metadata, read, reference
from tests.conftest import REPO, SAMPLE

MIB = 2**20


def _bomb(path: Path, mebibytes: int) -> None:
    """A gzip file of `mebibytes` MiB of `a`, streamed: a few hundred KB on disk."""
    chunk = b"a" * MIB
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    with path.open("wb") as out:
        for _ in range(mebibytes):
            out.write(packer.compress(chunk))
        out.write(packer.flush())


def test_a_gzip_bomb_is_a_read_reject_naming_the_cap(tmp_path: Path) -> None:
    _bomb(tmp_path / "bomb.txt.gz", 80)
    (tmp_path / "page.txt").write_bytes(SAMPLE.read_bytes())
    options = metadata.ReadOptions()
    frame = read.read_batch([tmp_path / "bomb.txt.gz", tmp_path / "page.txt"], options)
    bomb, page = frame.sort("source_path").iter_rows(named=True)
    assert bomb["read_error"] == (
        "page too large: it decompresses to more than 64 MiB, the cap per page (a gzip bomb? "
        "raise the cap with --max-page-mb)"
    )
    assert bomb["text"] is None and bomb["form"] == "unreadable"
    assert page["read_error"] is None and page["form"] == "text"
    # The oracle reads it the same way.
    assert reference.read_one(tmp_path / "bomb.txt.gz", options)["read_error"] == bomb["read_error"]


def test_a_page_under_the_cap_still_reads_and_a_truncated_gzip_is_corrupt(tmp_path: Path) -> None:
    packed = gzip.compress(SAMPLE.read_bytes(), mtime=0)
    (tmp_path / "whole.txt.gz").write_bytes(packed)
    (tmp_path / "cut.txt.gz").write_bytes(packed[: len(packed) // 2])
    frame = read.read_batch(
        [tmp_path / "whole.txt.gz", tmp_path / "cut.txt.gz"], metadata.ReadOptions()
    )
    cut, whole = frame.sort("source_path").iter_rows(named=True)
    assert whole["text"] == SAMPLE.read_text(encoding="utf-8")
    assert cut["read_error"].startswith("corrupt gzip: ")


def test_the_cap_is_an_option_and_applies_to_plain_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "big.txt").write_bytes(b"x" * (2 * MIB))
    (raw / "page.txt").write_bytes(SAMPLE.read_bytes())
    argv = ["normalise", str(raw), "--out", str(tmp_path / "lake"), "--max-page-mb", "1"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "page too large: it is larger than 1 MiB, the cap per page" in out
    assert "listings:       10" in out


_CHILD = """
import resource, sys
from pathlib import Path
from pipeline.ingest import metadata, read
read.read_batch([Path(sys.argv[1])], metadata.ReadOptions())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _peak_mib(path: Path) -> int:
    """Peak memory of a fresh process that reads `path` as a batch."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return int(done.stdout.strip())


def test_reading_a_large_bomb_keeps_memory_near_the_cap(tmp_path: Path) -> None:
    """256 MiB behind a small file: decompressing it whole took 1.86 GB to read before the
    cap. Compared with the same process reading a 1 MiB gzip page, so the interpreter's own
    size (which varies with the environment) does not count."""
    _bomb(tmp_path / "bomb.txt.gz", 256)
    _bomb(tmp_path / "small.txt.gz", 1)
    grown = _peak_mib(tmp_path / "bomb.txt.gz") - _peak_mib(tmp_path / "small.txt.gz")
    # The cap (64 MiB) and one decompressed chunk, with room for allocator slack.
    assert grown < 200, grown
