"""Whatever a sidecar holds, the page is read: a sidecar that cannot be used is ignored as a
whole with a `metadata_warning` naming why, and the fetch time falls back to the file name,
the options, the mtime (docs/input-format.md §4). Each of these used to stop the whole run
with a traceback (RecursionError, OverflowError, ValueError)."""

from __future__ import annotations

import errno
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline import vocab
from pipeline.ingest import metadata, read, reference, sources
from tests.conftest import SAMPLE

MTIME = 1_700_000_000
MTIME_TIME = datetime.fromtimestamp(MTIME, tz=UTC)
OPTION_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _page(folder: Path, sidecar: bytes | None = None, name: str = "page.txt") -> Path:
    path = folder / name
    path.write_bytes(SAMPLE.read_bytes())
    os.utime(path, (MTIME, MTIME))
    if sidecar is not None:
        Path(f"{path}.meta.json").write_bytes(sidecar)
    return path


def _read(path: Path, options: metadata.ReadOptions | None = None) -> dict:
    """The batch reader's row, checked against the per-file definition."""
    options = options or metadata.ReadOptions()
    got = read.read_batch([path], options)
    expected = pl.DataFrame([reference.read_one(path, options)], schema=vocab.READ_FRAME)
    assert_frame_equal(got.drop("read_seconds"), expected.drop("read_seconds"))
    return got.row(0, named=True)


DEEP = b"[" * 200_000 + b"]" * 200_000


@pytest.mark.parametrize(
    ("sidecar", "why"),
    [
        (DEEP, "JSON nested too deeply"),
        (b'{"url": ' + DEEP + b', "fetched_at": "2026-11-20T09:30:00Z"}', "JSON nested too deeply"),
        (
            b'{"url": "https://wenku.it/search?wd=x", "fetched_at": "9999-12-31T23:00:00-05:00"}',
            "'9999-12-31T23:00:00-05:00' is out of range in UTC",
        ),
        (
            b'{"url": "https://wenku.it/search?wd=x", "fetched_at": "0001-01-01T00:30:00+01:00"}',
            "'0001-01-01T00:30:00+01:00' is out of range in UTC",
        ),
        (
            b'{"url": "http://[::1/search?wd=x", "fetched_at": "2026-11-20T09:30:00Z"}',
            "Invalid IPv6 URL",
        ),
        (
            b'{"url": "https://wenku.it/search?wd=\\ud800", "fetched_at": "2026-11-20T09:30:00Z"}',
            "its url holds a lone surrogate (a \\ud800 escape): not text",
        ),
        (
            b'{"url": "https://wenku.it/", "fetched_at": "2026-11-20T09:30:00\\udcff"}',
            "Invalid isoformat string: '2026-11-20T09:30:00\\udcff'",
        ),
    ],
    ids=[
        "deep",
        "deep-url",
        "after-9999",
        "before-1",
        "bracket",
        "surrogate-url",
        "surrogate-time",
    ],
)
def test_a_sidecar_that_broke_the_run_is_ignored_with_a_warning(
    tmp_path: Path, sidecar: bytes, why: str
) -> None:
    row = _read(_page(tmp_path, sidecar))
    assert row["metadata_warning"] == f"sidecar page.txt.meta.json ignored: {why}"
    assert (row["fetched_at"], row["fetched_at_source"]) == (MTIME_TIME, "mtime")
    assert (row["url"], row["site"], row["query"], row["page"]) == (None, None, None, None)
    assert row["form"] == "text" and row["read_error"] is None


def test_a_sidecar_ignored_falls_back_to_the_options(tmp_path: Path) -> None:
    path = _page(tmp_path, b'{"fetched_at": "9999-12-31T23:00:00-05:00"}')
    row = _read(path, metadata.ReadOptions(fetched_at=OPTION_TIME, site="wenku.it"))
    assert (row["fetched_at"], row["fetched_at_source"], row["site"]) == (
        OPTION_TIME,
        "option",
        "wenku.it",
    )


@pytest.mark.parametrize(
    ("query", "page"),
    [("page=²", None), ("page=٣", 3), ("page=" + "1" * 5000, None), ("page=2147483648", None)],
    ids=["superscript", "arabic-indic", "5000-digits", "beyond-int32"],
)
def test_a_page_parameter_that_is_no_page_number_is_a_null_page(
    tmp_path: Path, query: str, page: int | None
) -> None:
    """`page=²` passed str.isdigit() and failed int(): the page is unknown, as for
    `page=abc`, and the rest of the URL still counts."""
    url = f"https://wenku.it/search?wd=k8s&{query}"
    path = _page(tmp_path, json.dumps({"url": url, "fetched_at": "2026-11-20T09:30:00Z"}).encode())
    row = _read(path)
    assert (row["site"], row["query"], row["page"]) == ("wenku.it", "k8s", page)
    assert (row["url"], row["metadata_warning"], row["fetched_at_source"]) == (url, None, "sidecar")


def test_a_url_that_cannot_be_taken_apart_gives_no_facts() -> None:
    """A page's own URL (an HTML page names it) reaches `url_facts` unchecked."""
    assert metadata.url_facts("http://[::1/search?wd=x", "opt.example") == {
        "url": "http://[::1/search?wd=x",
        "site": "opt.example",
        "query": None,
        "page": None,
    }


def test_a_sidecar_with_a_utf8_bom_is_read_normally(tmp_path: Path) -> None:
    sidecar = {"url": "https://wenku.it/search?wd=k8s&page=2", "fetched_at": "2026-11-20T09:30Z"}
    row = _read(_page(tmp_path, b"\xef\xbb\xbf" + json.dumps(sidecar).encode()))
    assert row["metadata_warning"] is None
    assert (row["fetched_at"], row["fetched_at_source"]) == (
        datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        "sidecar",
    )
    assert (row["query"], row["page"]) == ("k8s", 2)


def test_a_sidecar_that_is_a_folder_is_a_warning(tmp_path: Path) -> None:
    path = _page(tmp_path)
    Path(f"{path}.meta.json").mkdir()
    row = _read(path)
    assert row["metadata_warning"] == (
        "sidecar page.txt.meta.json not read: not a regular file (a directory): not read"
    )
    assert row["fetched_at_source"] == "mtime"


def test_a_sidecar_that_is_a_link_loop_is_a_warning_not_no_sidecar(tmp_path: Path) -> None:
    path = _page(tmp_path)
    Path(f"{path}.meta.json").symlink_to(f"{path}.meta.json")
    row = _read(path)
    assert row["metadata_warning"] == (
        "sidecar page.txt.meta.json not read: Too many levels of symbolic links"
    )


def test_an_unreadable_sidecar_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No permission to read it (simulated: tests may run as root, who reads anything)."""
    path = _page(tmp_path, b'{"fetched_at": "2026-11-20T09:30:00Z"}')
    real_open = os.open

    def refusing(name: str, *args: object, **kwargs: object) -> int:
        if str(name).endswith(".meta.json"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)
    row = _read(path)
    assert row["metadata_warning"] == "sidecar page.txt.meta.json not read: Permission denied"
    assert row["fetched_at_source"] == "mtime"


def test_a_sidecar_too_large_to_be_one_is_not_read_whole(tmp_path: Path) -> None:
    sidecar = b'{"url": "' + b"x" * sources.MAX_SIDECAR_BYTES + b'"}'
    row = _read(_page(tmp_path, sidecar))
    assert row["metadata_warning"] == (
        "sidecar page.txt.meta.json ignored: larger than 1 MiB, not a sidecar"
    )
    assert len(sources.read_local_sidecar(f"{tmp_path / 'page.txt'}.meta.json")) == (
        sources.MAX_SIDECAR_BYTES + 1
    )


def test_an_out_of_range_time_is_a_value_error() -> None:
    """What `--fetched-at` reports as a usage error rather than a traceback."""
    with pytest.raises(ValueError, match="out of range in UTC"):
        metadata.parse_timestamp("9999-12-31T23:00:00-05:00")


def test_a_fetch_time_without_an_offset_is_taken_as_utc_with_a_warning(tmp_path: Path) -> None:
    sidecar = {"url": "https://wenku.it/search?wd=k8s", "fetched_at": "2026-11-20T09:30:00"}
    row = _read(_page(tmp_path, json.dumps(sidecar).encode()))
    assert (row["fetched_at"], row["fetched_at_source"]) == (
        datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        "sidecar",
    )
    assert row["metadata_warning"] == (
        "sidecar page.txt.meta.json fetched_at '2026-11-20T09:30:00' has no UTC offset: taken "
        "as UTC (a local time would be off by its zone's offset; write it with Z or +HH:MM)"
    )
    with_offset = {**sidecar, "fetched_at": "2026-11-20T17:30:00+08:00"}
    assert _read(_page(tmp_path, json.dumps(with_offset).encode()))["metadata_warning"] is None


@pytest.mark.parametrize(
    "url", ["https://WENKU.IT./search?wd=k8s", "https://Wenku.It/search?wd=k8s&page=1"]
)
def test_a_host_in_capitals_or_with_its_trailing_dot_is_the_same_site(
    tmp_path: Path, url: str
) -> None:
    sidecar = {"url": url, "fetched_at": "2026-11-20T09:30Z"}
    row = _read(_page(tmp_path, json.dumps(sidecar).encode()))
    assert (row["site"], row["query"]) == ("wenku.it", "k8s")


def test_site_and_site_tz_options_name_a_site_the_same_way(tmp_path: Path) -> None:
    options = metadata.ReadOptions(site="WENKU.IT.")
    assert _read(_page(tmp_path), options)["site"] == "wenku.it"
    from pipeline.cli import options as cli_options

    assert cli_options._site_time_zone("WENKU.IT.=Asia/Tokyo") == ("wenku.it", "Asia/Tokyo")
