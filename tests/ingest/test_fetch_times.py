"""Fetch times a run cannot believe: after the run started (beyond a day's slack) or before
2000 (docs/input-format.md §4). Whichever source gives one — a sidecar, the file name,
`--fetched-at` — it is a `metadata_warning` naming it and why, and the next source gives
the fetch time; the mtime, the last resort, is taken as the run's start when it is later,
and kept (with the warning) when it is older. A year-9999 sidecar used to be accepted, and
then `listings report` crashed on it (`year 10000 is out of range`).

Every run here is given its start: no test depends on the clock.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline import vocab
from pipeline.ingest import metadata, read, reference
from tests.conftest import SAMPLE

STARTED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MTIME = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
OPTION = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
RUN = metadata.ReadOptions(run_started_at=STARTED)
AFTER = "is after the run started (2026-11-25T12:00:00Z)"


def _page(folder: Path, fetched_at: str | None = None, name: str = "page.txt") -> Path:
    path = folder / name
    path.write_bytes(SAMPLE.read_bytes())
    if fetched_at is not None:
        sidecar = {"url": "https://wenku.it/search?wd=x&page=1", "fetched_at": fetched_at}
        Path(f"{path}.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
    os.utime(path, (MTIME.timestamp(), MTIME.timestamp()))
    return path


def _read(path: Path, options: metadata.ReadOptions) -> dict:
    """The batch reader's row, held to the per-file definition and to the plan's identity."""
    got = read.read_batch([path], options)
    expected = pl.DataFrame([reference.read_one(path, options)], schema=vocab.READ_FRAME)
    assert_frame_equal(got.drop("read_seconds"), expected.drop("read_seconds"))
    row = got.row(0, named=True)
    identity = read.identify(path, options, os.stat(path).st_mtime_ns)
    assert identity.snapshot_id == row["snapshot_id"]
    return row


@pytest.mark.parametrize(
    ("sidecar", "why"),
    [
        ("9999-12-31T12:00:00Z", f"9999-12-31T12:00:00Z {AFTER}"),
        ("2026-11-26T12:00:01Z", f"2026-11-26T12:00:01Z {AFTER}"),
        ("1999-12-31T23:59:59Z", "1999-12-31T23:59:59Z is before 2000"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z is before 2000"),
    ],
    ids=["year-9999", "a-day-and-a-second-after", "before-2000", "year-1"],
)
def test_a_sidecar_time_not_believed_falls_back_with_a_warning(
    tmp_path: Path, sidecar: str, why: str
) -> None:
    row = _read(_page(tmp_path, sidecar), RUN)
    assert (row["fetched_at"], row["fetched_at_source"]) == (MTIME, "mtime")
    assert row["metadata_warning"] == (
        f"sidecar page.txt.meta.json fetched_at {why}: fetch time from the file's mtime instead"
    )
    # The rest of the sidecar counts: only its time was not believed.
    assert (row["site"], row["query"], row["page"]) == ("wenku.it", "x", 1)


def test_a_day_after_the_start_is_still_believed(tmp_path: Path) -> None:
    """A scraper's clock ahead of the run's, or a local time written as UTC."""
    row = _read(_page(tmp_path, "2026-11-26T12:00:00Z"), RUN)
    assert (row["fetched_at"], row["fetched_at_source"]) == (STARTED + timedelta(days=1), "sidecar")
    assert row["metadata_warning"] is None


def test_each_source_not_believed_is_named_and_the_next_one_used(tmp_path: Path) -> None:
    path = _page(tmp_path, "9999-12-31T12:00:00Z", name="page_20991231T000000Z.txt")
    options = metadata.ReadOptions(fetched_at=OPTION, run_started_at=STARTED)
    row = _read(path, options)
    assert (row["fetched_at"], row["fetched_at_source"]) == (OPTION, "option")
    assert row["metadata_warning"] == (
        f"sidecar page_20991231T000000Z.txt.meta.json fetched_at 9999-12-31T12:00:00Z {AFTER}; "
        f"the time in the file name 2099-12-31T00:00:00Z {AFTER}: fetch time from "
        "--fetched-at instead"
    )


def test_a_fetched_at_option_not_believed_falls_back_to_the_mtime(tmp_path: Path) -> None:
    options = metadata.ReadOptions(
        fetched_at=datetime(9999, 12, 31, tzinfo=UTC), run_started_at=STARTED
    )
    row = _read(_page(tmp_path), options)
    assert (row["fetched_at"], row["fetched_at_source"]) == (MTIME, "mtime")
    assert row["metadata_warning"] == (
        f"--fetched-at 9999-12-31T00:00:00Z {AFTER}: fetch time from the file's mtime instead"
    )


def test_an_mtime_after_the_start_is_taken_as_the_start(tmp_path: Path) -> None:
    path = _page(tmp_path)
    later = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
    os.utime(path, (later, later))
    row = _read(path, RUN)
    assert (row["fetched_at"], row["fetched_at_source"]) == (STARTED, "mtime")
    assert row["metadata_warning"] == (
        f"the file's mtime 2100-01-01T00:00:00Z {AFTER}: fetch time from the run's start instead"
    )


def test_an_mtime_before_2000_is_kept_with_a_warning(tmp_path: Path) -> None:
    path = _page(tmp_path)
    os.utime(path, (0, 0))
    row = _read(path, RUN)
    assert (row["fetched_at"], row["fetched_at_source"]) == (
        datetime(1970, 1, 1, tzinfo=UTC),
        "mtime",
    )
    assert row["metadata_warning"] == (
        "the file's mtime 1970-01-01T00:00:00Z is before 2000: kept, as nothing else gives one"
    )


def test_without_a_start_every_time_is_believed_as_before(tmp_path: Path) -> None:
    """Reading files outside a run (a notebook, the parser's own tests): nothing to judge by."""
    row = _read(_page(tmp_path, "9999-12-31T12:00:00Z"), metadata.ReadOptions())
    assert (row["fetched_at"], row["fetched_at_source"]) == (
        datetime(9999, 12, 31, 12, tzinfo=UTC),
        "sidecar",
    )
    assert row["metadata_warning"] is None


def test_listings_normalise_judges_by_its_start_and_the_report_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI gives the run its start (`metadata.run_start`, the clock, here a given time)."""
    from pipeline import cli
    from pipeline.lake import manifest

    monkeypatch.setattr(metadata, "run_start", lambda: STARTED)
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    _page(raw, "9999-12-31T12:00:00Z")
    db, out = tmp_path / "w.duckdb", tmp_path / "report.html"
    args = ["normalise", str(raw), "--out", str(lake), "--db", str(db), "--report", str(out)]
    assert cli.main(args) == 0
    assert f"report:         {out}" in capsys.readouterr().out
    snapshots = manifest.scan(lake, "snapshots").collect()
    assert snapshots.select("fetched_at", "fetched_at_source", "metadata_warning").rows() == [
        (
            MTIME,
            "mtime",
            f"sidecar page.txt.meta.json fetched_at 9999-12-31T12:00:00Z {AFTER}: fetch time "
            "from the file's mtime instead",
        )
    ]
