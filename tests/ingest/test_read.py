"""Reading snapshot files: metadata sources in the order of docs/input-format.md §4, ids,
decoding (§3.3)."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline import vocab
from pipeline.ingest import metadata, read, reference, sources, walk
from tests.conftest import SAMPLE, write_snapshot

OPTION_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SIDECAR_TIME = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _row(path: Path, **options) -> dict:
    return read.read_batch([path], metadata.ReadOptions(**options)).row(0, named=True)


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
    first = metadata.snapshot_id(raw, SIDECAR_TIME)
    assert first == metadata.snapshot_id(raw, SIDECAR_TIME)
    assert first != metadata.snapshot_id(raw, OPTION_TIME)
    assert first != metadata.snapshot_id(raw + b" ", SIDECAR_TIME)


def test_folders_are_walked_for_snapshots_but_not_sidecars_or_notes(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt.gz", "c.html", "d.json", "notes.md", ".hidden.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "a.txt.meta.json").write_text("{}")
    found = sources.discover([tmp_path])
    assert [Path(p).name for p in found] == ["a.txt", "b.txt.gz", "c.html", "d.json"]
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        sources.discover([tmp_path / "missing"])


def test_a_walk_in_a_child_process_finds_what_the_walk_in_this_one_finds(tmp_path: Path) -> None:
    """The run walks its input in a child (`pipeline.scan`): same files, sizes, mtimes and
    skips, whatever the names hold; symlinked files are read through, a symlinked folder
    already walked is named instead of walked twice, a dot-folder is named as hidden."""
    (tmp_path / "day" / "x.txt").mkdir(parents=True)  # a folder named like a page
    for name in ("a.txt", "day/b.txt.gz", "day/x.txt/c.htm", "day/页 1.txt", ".dot/e.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name * 3)
    (tmp_path / os.fsdecode(b"day/bad-\xff.txt")).write_bytes(b"not UTF-8 in the name")
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    (tmp_path / "linked-day").symlink_to(tmp_path / "day", target_is_directory=True)
    (tmp_path / "a.txt.meta.json").write_text("{}")
    here_scan, child_scan = sources.Scan([tmp_path]), sources.Scan([tmp_path], in_child=True)
    here, child = here_scan.result(), child_scan.result()
    assert child == here
    assert (
        child_scan.skipped
        == here_scan.skipped
        == [
            ("hidden", f"{tmp_path}/.dot"),
            ("link to a folder walked already", f"{tmp_path}/linked-day"),
        ]
    )
    names = [p.removeprefix(f"{tmp_path}/") for p in here[0]]
    assert names == sorted(
        ["a.txt", "day/b.txt.gz", os.fsdecode(b"day/bad-\xff.txt"), "day/x.txt/c.htm",
         "day/页 1.txt", "link.txt"]
    )  # fmt: skip
    assert here[1][names.index("link.txt")] == (tmp_path / "a.txt").stat().st_size
    assert here[2] == [os.stat(p).st_mtime_ns for p in here[0]]


def test_a_child_walk_that_fails_says_why(tmp_path: Path) -> None:
    child = walk.start([str(tmp_path / "gone")])
    with pytest.raises(OSError, match=r"listing the input failed: .*No such file or directory"):
        child.result()


def test_a_walk_begun_early_is_the_one_a_scan_of_its_folders_takes(tmp_path: Path) -> None:
    """`walk.prestart` (what `listings normalise` does before its imports) starts the child;
    a scan of the same folders collects that child instead of starting another, and a
    walk no scan took is stopped by `drop_early`."""
    (tmp_path / "a.txt").write_text("x")
    walk.prestart([str(tmp_path)])
    early = walk._early[((str(tmp_path),), True)]
    scan = sources.Scan([tmp_path], in_child=True)
    assert scan._child is early and not walk._early
    assert scan.result()[0] == [f"{tmp_path}/a.txt"]
    walk.prestart([str(tmp_path / "other")])
    untaken = walk._early[((str(tmp_path / "other"),), True)]
    walk.drop_early()
    assert not walk._early and untaken._child.returncode is not None


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
    text, why = reference.decode(raw)
    assert text is None
    assert why.startswith(error)


GB_PAGE = "云原生 实践\r\n共 3 条\r\n".encode("gb18030")
CONTENTS = {
    "plain.txt": "标题\n描述 0 码力 | 3 页\n".encode(),
    "bom.txt": b"\xef\xbb\xbf" + "页\r\n".encode(),
    "two-boms.txt": b"\xef\xbb\xbf\xef\xbb\xbfx",
    "crlf.txt": b"a\r\nb\rc\r\n",
    "gb.txt": GB_PAGE,
    "gb-bom.txt": b"\xef\xbb\xbf" + GB_PAGE,
    "page.txt.gz": gzip.compress(b"<li>x</li>"),
    "bad.txt.gz": b"\x1f\x8bnot gzip",
    "empty.txt": b"",
    "nul.txt": b"a\x00b",
    "controls.txt": b"\x01\x02 page",
    "few-controls.txt": b"\x01" + b"x" * 200,
    "undecodable.txt": b"\xff\xfe\xff\xfe",
    "undecodable-controls.txt": b"\xff\x01\x02",
    "surrogate.txt": b"ok \xed\xa0\x80",
    "overlong.txt": b"ok \xc0\xaf",
    "ideographic-space.txt": ("\u3000\x1c <html>" + "x" * 200).encode(),
    "blank.txt": b" \n\t\r\n",
    "brace.txt": b'\n {"total": 1}',
    "named.html": b"plain words",
    "named.JSON": b"<b>html wins over the name</b>",
    "upper.HTM.GZ": gzip.compress(b"{}"),
    "stamp_20250101T081500Z.txt": b"x",
    # Names that say no form are sniffed (docs/input-format.md §3.3).
    "unnamed-html": b"\n <!DOCTYPE html><p>x</p>",
    "unnamed-json.dat": b' {"document": []}',
    "unnamed-title": "<<深入理解计算机系统>>\n".encode(),
    "unnamed-cut-json": b'{"document": [1, ',
    "not-a-stamp_20251399T999999Z.txt": b"x",
}
URLS = [
    "https://WenKu.IT/search?wd=a+b%20c&page=3",
    "https://wenku.it/search?page=0&wd=x",
    "https://wenku.it/search?page=&page=2&wd=&wd=y",
    "https://wenku.it/search?w%64=z&p%61ge=4",
    "https://wenku.it/search?wd=%E4%BA%91&page=%32",
    "https://wenku.it/search?page=abc&wd=%ZZ",
    "https://wenku.it/search?page=1234567890",
    "https://wenku.it/search?page=007",
    "https://wenku.it/search?page=+5",
    "https://wenku.it/search?page=\u0663",
    "https://wenku.it/search?wd=数据库&page=2",
    "https://wenku.it/search?wd=a;page=3",
    "https://wenku.it/search?wd=a=b&page=1#frag",
    "https://user@Host.example:8080/p?wd=q#frag?page=9",
    "https://wenku.it#x?wd=no",
    "https://wenku.it?wd=yes",
    "//wenku.it/search?wd=x",
    "wenku.it/search?wd=x",
    "https://[::1]/search?wd=x",
    "https:///search?wd=x",
    " https://wenku.it/?wd=lead",
    "https://wenku.it/se\tarch?w\td=tab",
    "mailto:someone@example.org",
    "",
]
SIDECARS = [
    *({"url": url, "fetched_at": "2026-11-20T09:30:00+08:00"} for url in URLS),
    {"url": "https://wenku.it/s?wd=" + "long" * 1500, "fetched_at": "2026-11-20T09:30:00Z"},
    {"url": 7, "fetched_at": "2026-11-20T09:30:00"},
    {"fetched_at": "2026-11-20 09:30"},
    {"url": "https://wenku.it/?wd=x", "fetched_at": "yesterday"},
    {"url": "https://wenku.it/?wd=x", "fetched_at": None},
    {"url": "https://wenku.it/?wd=x"},
    [1, 2],
    b"{not json",
    b'{"url": "\xff"}',
]


@pytest.mark.parametrize("options", [{}, {"fetched_at": OPTION_TIME, "site": "opt.example"}])
def test_a_batch_reads_every_file_as_read_one_does(tmp_path: Path, options: dict) -> None:
    """read_batch works column-wise over the batch; read_one is the per-file definition."""
    paths = [write_snapshot(tmp_path, name, content) for name, content in CONTENTS.items()]
    for i, sidecar in enumerate(SIDECARS):
        path = write_snapshot(tmp_path, f"side-{i:02}.txt", f"page {i}")
        data = sidecar if isinstance(sidecar, bytes) else json.dumps(sidecar).encode()
        Path(f"{path}{walk.SIDECAR_SUFFIX}").write_bytes(data)
        paths.append(path)
    for path in paths:
        os.utime(path, (1_700_000_000.7, 1_700_000_000.7))
    want = metadata.ReadOptions(**options)
    expected = pl.DataFrame(
        [reference.read_one(path, want) for path in paths], schema=vocab.READ_FRAME
    )
    got = read.read_batch(paths, want)
    assert got.schema == expected.schema
    assert_frame_equal(got.drop("read_seconds"), expected.drop("read_seconds"))
    assert got["read_seconds"].min() > 0


def test_a_page_number_beyond_int32_is_no_page(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, "page.txt", "x")
    sidecar = {"url": "https://wenku.it/search?wd=x&page=99999999999"}
    Path(f"{path}{walk.SIDECAR_SUFFIX}").write_text(json.dumps(sidecar), encoding="utf-8")
    row = _row(path)
    assert (row["site"], row["query"], row["page"]) == ("wenku.it", "x", None)
