"""`listings verify` names each way a lake can differ from its manifest, and only those.

A clean lake verifies clean; each corruption below (a truncated file, a deleted one, a
group copied and committed twice, a copy dropped into a partition, a hand-edited count, a
span that no longer covers its bytes, an unreadable manifest) is named by the check that
catches it, and what a crashed run leaves is reported as leftovers, not problems
(docs/lake.md, "Verifying a lake").
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from pipeline import cli
from pipeline.cli.exit_codes import ExitCode
from pipeline.ingest import metadata
from pipeline.lake import coverage, manifest, verify
from pipeline.lake.storage import Location
from pipeline.run import run
from pipeline.vocab import TABLES


@pytest.fixture
def lake(raw_copy: Path, tmp_path: Path) -> Path:
    """The sample folder normalised: 6 snapshots, 53 listings, one group."""
    out = tmp_path / "lake"
    run.normalise_paths([raw_copy], out, metadata.ReadOptions())
    return out


def _group(out: Path) -> str:
    (group,) = manifest.load(Location.of(out))["data_file"].unique()
    return group


def _problems(out: Path) -> list[tuple[str, str, str]]:
    return [(f.check, f.subject, f.detail) for f in verify.verify(out).problems]


def test_a_clean_lake_verifies_clean(lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done = verify.verify(lake)
    assert (done.problems, done.leftovers) == ([], [])
    assert done.checked == {
        "manifest_files": 1,
        "manifest_rows": 6,
        "groups": 1,
        "data_files": 3,
        "listings": 53,
        "rejects": 0,
        "snapshots": 6,
        "sources_checked": 4,  # the text-form pages; HTML and JSON spans skip markup
        "sources_missing": 0,
        "sources_changed": 0,
    }
    assert cli.main(["verify", str(lake)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"lake:      {lake}"
    assert out[1] == (
        "checked:   manifest 6 rows in 1 files; 3 data files in 1 groups; "
        "6 snapshots, 53 listings, 0 rejects"
    )
    assert out[3:5] == ["problems:  none", "leftovers: none"]
    assert out[5].startswith("result:    clean, in ")
    assert cli.main(["verify", "--lake", str(lake), "--no-sources"]) == 0
    assert "coverage:" not in capsys.readouterr().out


def test_a_truncated_file_is_unreadable(lake: Path) -> None:
    path = f"listings/{_group(lake)}.parquet"
    data = (lake / path).read_bytes()
    (lake / path).write_bytes(data[: len(data) // 2])
    ((check, subject, _),) = _problems(lake)
    assert (check, subject) == ("unreadable file", path)


def test_a_damaged_page_inside_a_file_is_unreadable(lake: Path) -> None:
    """The footer still parses; the column data does not."""
    path = f"snapshots/{_group(lake)}.parquet"
    data = bytearray((lake / path).read_bytes())
    data[8:400] = b"\xff" * 392  # the first pages, after the magic bytes and a header
    (lake / path).write_bytes(bytes(data))
    ((check, subject, _),) = _problems(lake)
    assert (check, subject) == ("unreadable file", path)


def test_a_deleted_file_is_missing(lake: Path) -> None:
    path = f"rejects/{_group(lake)}.parquet"
    (lake / path).unlink()
    assert _problems(lake) == [("missing file", path, "committed, not on disk")]


def test_a_group_copied_and_committed_twice_is_named_twice(lake: Path) -> None:
    group = _group(lake)
    copy = group.rsplit("/", 1)[0] + "/batch-00000000000000000000"
    for table in TABLES:
        shutil.copy(lake / table / f"{group}.parquet", lake / table / f"{copy}.parquet")
    where = Location.of(lake)
    rows = manifest.load(where)
    again = rows.with_columns(
        pl.lit(copy).alias("data_file"), (pl.col("source_path") + ".copy").alias("source_path")
    )
    manifest.commit(where, again)
    assert _problems(lake) == [
        (
            "manifest",
            f"{copy}, {group}",
            "6 snapshots are committed in each of these 2 groups (readers see their rows "
            "once per group)",
        ),
        (
            "duplicate listings",
            f"listings/{copy}.parquet, listings/{group}.parquet",
            "53 (snapshot_id, position) keys of 6 snapshots appear more than once",
        ),
    ]


def test_a_copy_dropped_into_a_partition_is_an_orphan(lake: Path) -> None:
    """A name the lake never writes is a problem; one it writes is a crash's leftover."""
    group = _group(lake)
    month = group.rsplit("/", 1)[0]
    source = lake / "listings" / f"{group}.parquet"
    shutil.copy(source, lake / "listings" / month / "backup.parquet")
    shutil.copy(source, lake / "listings" / month / "batch-11111111111111111111.parquet")
    done = verify.verify(lake)
    assert [(f.check, f.subject) for f in done.problems] == [
        ("orphan file", f"listings/{month}/backup.parquet")
    ]
    assert [(f.check, f.subject, f.detail) for f in done.leftovers] == [
        (
            "uncommitted file",
            f"listings/{month}/batch-11111111111111111111.parquet",
            "a group no commit names (a crashed run's, or the sources of a merge)",
        )
    ]


def test_a_wrong_count_in_the_manifest_is_named_for_its_file_and_snapshot(lake: Path) -> None:
    where = Location.of(lake)
    rows = manifest.load(where)
    (part,) = (lake / "_manifest").glob("part-*.parquet")
    sample = rows.filter(pl.col("source_path").str.ends_with("wenku-search-page.txt"))
    (sid,) = sample["snapshot_id"]
    edited = rows.with_columns(
        pl.when(pl.col("snapshot_id") == sid)
        .then(pl.col("listing_count") + 1)
        .otherwise(pl.col("listing_count"))
        .alias("listing_count")
    )
    edited.write_parquet(part)
    group = _group(lake)
    assert _problems(lake) == [
        ("row count", f"listings/{group}.parquet", "53 rows, the manifest's counts say 54"),
        (
            "listings per snapshot",
            f"{sid} ({sample['source_path'][0]})",
            f"10 listings in {group}, the manifest says 11 and its snapshot row 10",
        ),
    ]


def test_a_span_that_no_longer_covers_its_bytes_is_named(lake: Path) -> None:
    """Coverage: the listings, footer and rejects of a text page hold every non-blank byte."""
    group = _group(lake)
    path = lake / "listings" / f"{group}.parquet"
    listings = pl.read_parquet(path)
    sample = manifest.load(Location.of(lake)).filter(
        pl.col("source_path").str.ends_with("wenku-search-page.txt")
    )
    (sid,) = sample["snapshot_id"]
    first = (pl.col("snapshot_id") == sid) & (pl.col("position") == 1)
    (start,) = listings.filter(first)["byte_start"]
    listings.with_columns(
        pl.when(first).then(pl.col("byte_start") + 5).otherwise("byte_start").alias("byte_start")
    ).write_parquet(path)
    assert _problems(lake) == [
        (
            "coverage",
            f"{sid} ({sample['source_path'][0]})",
            f"bytes {start:,}–{start + 5:,} are in no listing, footer or reject: 'Nacos'",
        )
    ]
    assert verify.verify(lake, sources=False).ok  # the check that needs the page


def test_a_changed_or_deleted_source_is_not_checked_but_counted(lake: Path) -> None:
    raw = lake.parent / "raw"
    (raw / "wenku-kubernetes-p1.txt").unlink()
    page = raw / "moredoc-demo-p1.txt"
    page.write_bytes(page.read_bytes() + b"changed")
    done = verify.verify(lake)
    assert done.ok
    assert {
        k: done.checked[k] for k in ("sources_checked", "sources_missing", "sources_changed")
    } == {
        "sources_checked": 2,
        "sources_missing": 1,
        "sources_changed": 1,
    }


def test_an_unreadable_manifest_is_a_problem_not_a_traceback(
    lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (part,) = (lake / "_manifest").glob("part-*.parquet")
    part.write_bytes(b"not parquet")
    assert cli.main(["verify", str(lake)]) == ExitCode.VERIFY_PROBLEMS == 3
    out = capsys.readouterr().out
    assert f"  manifest (1)\n    _manifest/{part.name}: unreadable (" in out
    assert "result:    1 problems (exit 3)" in out


def test_a_crashed_runs_leftovers_are_not_problems(lake: Path, raw_copy: Path) -> None:
    """An uncommitted group, a temporary file, a full refresh never switched, titles never
    resolved: the next run tidies each, so the lake verifies with leftovers, exit 0."""
    where = Location.of(lake)
    group = _group(lake)
    month = group.rsplit("/", 1)[0]
    for table in TABLES:
        shutil.copy(
            lake / table / f"{group}.parquet",
            lake / table / month / "merged-22222222222222222222.parquet",
        )
    (lake / "listings" / month / ".x.parquet.0123456789abcdef0123456789abcdef.tmp").write_bytes(
        b"half"
    )
    manifest.reset(where)  # a full refresh begun, then killed
    manifest.mark_titles_pending(where)
    done = verify.verify(lake)
    assert done.ok
    assert [(f.check, f.subject) for f in done.leftovers] == [
        ("interrupted full refresh", "_manifest/refresh/"),
        ("titles not resolved", done.leftovers[1].subject),
        ("uncommitted file", f"listings/{month}/.x.parquet.0123456789abcdef0123456789abcdef.tmp"),
        ("uncommitted file", f"listings/{month}/merged-22222222222222222222.parquet"),
        ("uncommitted file", f"rejects/{month}/merged-22222222222222222222.parquet"),
        ("uncommitted file", f"snapshots/{month}/merged-22222222222222222222.parquet"),
    ]
    assert done.leftovers[1].subject.startswith("0 groups committed since ")
    tidy = run.normalise_paths([raw_copy], lake, metadata.ReadOptions())
    assert tidy.files_removed == 4
    done = verify.verify(lake)
    assert (done.problems, done.leftovers) == ([], [])


def test_verifying_a_path_that_is_not_a_lake_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verify", str(tmp_path / "typo")]) == 1
    assert capsys.readouterr().err.startswith(f"listings verify: {tmp_path / 'typo'} is not a lake")


def test_sources_whose_names_are_not_utf8_are_re_read(raw_copy: Path, tmp_path: Path) -> None:
    """A run records such a name with `\\xHH` for each byte that is not UTF-8
    (`sources.as_text`); verify opens the file by its own name, and a page with CR-only line
    ends through the definition, instead of counting them as not found."""
    folder = os.fsencode(raw_copy)
    for page in ("wenku-kubernetes-p1.txt", "moredoc-demo-p1.txt"):
        for suffix in ("", ".meta.json"):
            old = os.path.join(folder, os.fsencode(page + suffix))
            os.rename(old, os.path.join(folder, b"\xff\xfe-" + os.fsencode(page + suffix)))
    cr_only = raw_copy / "wenku-search-page.txt"
    cr_only.write_bytes(cr_only.read_bytes().replace(b"\n", b"\r"))
    out = tmp_path / "lake"
    run.normalise_paths([raw_copy], out, metadata.ReadOptions())
    paths = manifest.load(Location.of(out))["source_path"].to_list()
    assert sum("\\xff\\xfe-" in path for path in paths) == 2
    done = verify.verify(out)
    assert done.ok, done.render()
    assert (done.checked["sources_checked"], done.checked["sources_missing"]) == (4, 0)
    assert coverage.os_name(r"raw/\xffa\x41.txt") == "raw/\udcffa\\x41.txt"
