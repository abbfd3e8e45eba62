"""Few large files however the lake grows: groups per month, compaction, crashes, old lakes.

docs/lake.md is the contract these tests pin: a run writes one group of files per batch and
month, a month's small groups are merged once there are more than a few, every change is a
manifest commit made after its files are written, and whatever a crash leaves behind the
next run deletes before readers bound to the manifest could ever see it twice.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline import cli, errors, parse
from pipeline.ingest import metadata, read, sources
from pipeline.lake import compact, layout, lock, manifest
from pipeline.lake.storage import Location
from pipeline.run import normalise, run
from pipeline.run.summary import RunSummary
from pipeline.vocab import TABLES
from pipeline.warehouse import database
from tests.conftest import RAW, REPO, SAMPLE, lake_files
from tests.parse.golden import sample_documents as truth

KEYS = {"snapshots": ["snapshot_id"], "listings": ["snapshot_id", "position"],
        "rejects": ["snapshot_id", "byte_start", "byte_end"]}  # fmt: skip
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def _run(raw: Path, out: Path, **kwargs) -> RunSummary:
    return run.normalise_paths([raw], out, metadata.ReadOptions(), **kwargs)


def _add_page(raw: Path, n: int, fetched_at: datetime) -> None:
    """The sample page fetched again at another time: a new snapshot of 10 listings."""
    shutil.copy(SAMPLE, raw / f"page-{n:03d}.txt")
    sidecar = {"url": "https://wenku.it/search?wd=x&page=1", "fetched_at": fetched_at.isoformat()}
    (raw / f"page-{n:03d}.txt.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")


def _table(out: Path, table: str) -> pl.DataFrame:
    """A table as the manifest committed it, in key order."""
    return manifest.scan(out, table).collect().sort(KEYS[table])


def _groups(out: Path) -> list[str]:
    return sorted(manifest.load(Location.of(out))["data_file"].unique())


def _lake_of_small_groups(tmp_path: Path, runs: int) -> tuple[Path, Path]:
    """A lake built by `runs` runs of one new page each, a day apart, all in 2026-11."""
    raw, out = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir(parents=True)
    for n in range(runs):
        _add_page(raw, n, T0 + timedelta(days=n))
        _run(raw, out)
    return raw, out


def test_a_batch_spanning_two_months_writes_one_file_per_table_and_month(
    raw_copy: Path, tmp_path: Path
) -> None:
    _add_page(raw_copy, 1, datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    out = tmp_path / "lake"
    summary = _run(raw_copy, out)
    (name,) = {Path(f).name for f in lake_files(out)}
    assert sorted(lake_files(out)) == sorted(
        f"{table}/fetched_month={month}/{name}"
        for table in TABLES
        for month in ("2026-10", "2026-11")
    )
    assert summary.files_per_table == 2
    october = pl.read_parquet(out / "listings" / "fetched_month=2026-10" / name)
    assert october["fetched_date"].unique().to_list() == [datetime(2026, 10, 31).date()]
    assert october.height == 10


def test_rows_in_a_file_follow_fetch_time(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    for n, hours in enumerate((30, 2, 17)):  # discovered in name order, fetched out of it
        _add_page(raw, n, T0 + timedelta(hours=hours))
    _run(raw, out)
    (file,) = (out / "listings" / "fetched_month=2026-11").iterdir()
    listings = pl.read_parquet(file)
    assert listings["fetched_at"].is_sorted()
    assert (
        listings.group_by("snapshot_id", maintain_order=True)
        .agg(pl.col("position").is_sorted().alias("ordered"))["ordered"]
        .all()
    )


def test_a_month_is_merged_once_it_holds_more_than_a_few_small_groups(tmp_path: Path) -> None:
    raw, out = _lake_of_small_groups(tmp_path, compact.AUTO_SMALL_GROUPS)
    assert len(_groups(out)) == compact.AUTO_SMALL_GROUPS  # a few: left alone
    before = _table(out, "listings")

    _add_page(raw, 99, T0 + timedelta(days=20))
    fifth = _run(raw, out)
    assert fifth.compaction is not None and "merged 5 small groups into 1" in fifth.compaction
    (group,) = _groups(out)
    assert group.startswith("fetched_month=2026-11/merged-")
    assert sorted(lake_files(out)) == [f"{t}/{group}.parquet" for t in sorted(TABLES)]
    after = _table(out, "listings")
    assert after.height == before.height + 10 == 50
    assert after.select("snapshot_id", "position").is_duplicated().sum() == 0
    assert after.filter(pl.col("snapshot_id").is_in(before["snapshot_id"].implode())).equals(before)
    assert manifest.row_counts(manifest.load(Location.of(out))) == {
        "snapshots": 5, "listings": 50, "rejects": 0
    }  # fmt: skip
    merged = pl.read_parquet(out / "listings" / f"{group}.parquet")
    assert merged["fetched_at"].is_sorted()


def test_incremental_runs_keep_the_file_count_bounded(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "lake"
    raw.mkdir()
    counts = []
    for n in range(12):
        _add_page(raw, n, T0 + timedelta(days=n))
        counts.append(_run(raw, out).files_per_table)
    assert counts == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]
    assert _table(out, "listings").height == 120


def test_listings_compact_merges_every_month_with_two_small_groups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw, out = _lake_of_small_groups(tmp_path, 3)
    _add_page(raw, 50, datetime(2026, 12, 5, tzinfo=UTC))  # December: one group only
    _run(raw, out)
    before = {table: _table(out, table) for table in TABLES}
    assert cli.main(["compact", "--lake", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "merged 3 small groups into 1 in 1 month(s): 2026-11" in printed
    assert "files:     4 → 2 per table" in printed
    assert [g.split("/")[0] for g in _groups(out)] == [
        "fetched_month=2026-11",
        "fetched_month=2026-12",
    ]
    for table, rows in before.items():
        assert _table(out, table).equals(rows), table
    assert cli.main(["compact", "--lake", str(out)]) == 0
    assert "nothing to merge" in capsys.readouterr().out


def test_compaction_packs_groups_into_outputs_of_at_most_the_target(tmp_path: Path) -> None:
    _, out = _lake_of_small_groups(tmp_path, 4)
    sizes = compact.groups(Location.of(out), manifest.load(Location.of(out)))["bytes"].to_list()
    target = sizes[0] + sizes[1]  # room for two groups per output
    with lock.locked(Location.of(out)):
        done = compact.compact(Location.of(out), more_than=1, target_bytes=target)
    assert (done.groups_merged, done.groups_written) == (4, 2)
    assert len(_groups(out)) == 2
    assert _table(out, "listings").height == 40


def test_the_same_runs_write_the_same_bytes(tmp_path: Path) -> None:
    """Names come from content and rows have one order: reruns are byte-identical."""
    raw, out = _lake_of_small_groups(tmp_path, 6)
    first = out.rename(tmp_path / "first")
    shutil.rmtree(raw)  # the same file names again (they are in the snapshots table)
    _, second = _lake_of_small_groups(tmp_path, 6)
    assert lake_files(first) == lake_files(second)
    assert len(lake_files(first)) == 2 * 3


_CRASH = """
import os, signal, sys
from pipeline.ingest import metadata
from pipeline.lake import manifest
from pipeline.run import run

point, raw, out = sys.argv[1:]
real_commit = manifest.commit

def commit(where, rows, **how):
    merging = bool(rows["data_file"].str.contains("/merged-").any())
    if merging and point == "before-commit":
        os.kill(os.getpid(), signal.SIGKILL)
    real_commit(where, rows, **how)
    if merging and point == "before-delete":
        os.kill(os.getpid(), signal.SIGKILL)

manifest.commit = commit
run.normalise_paths([raw], out, metadata.ReadOptions())
"""


@pytest.mark.parametrize("point", ["before-commit", "before-delete"])
def test_a_compaction_killed_at_any_point_loses_and_doubles_nothing(
    tmp_path: Path, point: str
) -> None:
    raw, out = _lake_of_small_groups(tmp_path, compact.AUTO_SMALL_GROUPS)
    _add_page(raw, 99, T0 + timedelta(days=20))
    killed = subprocess.run(
        [sys.executable, "-c", _CRASH, point, str(raw), str(out)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr
    # Both the merged group and its five sources are on disk now: 6 groups' files.
    assert len(lake_files(out)) == 6 * 3
    committed = _table(out, "listings")  # what the manifest shows: every row once
    assert committed.height == 50
    assert committed.select("snapshot_id", "position").is_duplicated().sum() == 0
    expected_groups = 5 if point == "before-commit" else 1
    assert len(_groups(out)) == expected_groups

    tidy = _run(raw, out)  # nothing new: the run only tidies up
    assert (tidy.snapshots, tidy.files_removed) == (0, 3 if point == "before-commit" else 15)
    assert len(lake_files(out)) == 3 * expected_groups
    assert _table(out, "listings").equals(committed)
    if point == "before-commit":
        with lock.locked(Location.of(out)):
            compact.compact(Location.of(out))
        assert len(_groups(out)) == 1 and _table(out, "listings").equals(committed)


def _old_lake(raw: Path, out: Path, old_layout: str) -> None:
    """A lake as earlier versions wrote it: `fetched_date=YYYY-MM-DD` folders, one file per
    snapshot (`snapshot`) or per date and batch (`batch`), no `fetched_date` column."""
    snapshots_read = read.read_batch(sources.discover([raw]), metadata.ReadOptions())
    tables = normalise.normalise_batch(snapshots_read).as_dict()
    day = pl.col("fetched_at").dt.strftime("%Y-%m-%d").alias("fetched_date")
    dated = tables["snapshots"].select("snapshot_id", day)
    name = (
        pl.col("snapshot_id") if old_layout == "snapshot" else pl.lit("batch-0123456789abcdef0123")
    )
    rows = (
        manifest.rows_for(snapshots_read, tables["snapshots"], "x")
        .drop("data_file")
        .join(dated.select("snapshot_id", name.alias("data_file")), on="snapshot_id")
    )
    files = dated.with_columns(name.alias("data_file"))
    for table in TABLES:
        frame = tables[table].join(files, on="snapshot_id")
        parts = frame.partition_by("fetched_date", "data_file", as_dict=True)
        for date, stem in files.select("fetched_date", "data_file").unique().iter_rows():
            part = parts.get((date, stem), frame.clear())  # empty files were written too
            folder = out / table / f"fetched_date={date}"
            folder.mkdir(parents=True, exist_ok=True)
            part.drop("fetched_date", "data_file").write_parquet(folder / f"{stem}.parquet")
    (out / "_manifest").mkdir()
    rows.write_parquet(out / "_manifest" / "manifest.parquet")


@pytest.mark.parametrize("old_layout", ["snapshot", "batch"])
def test_an_old_lake_is_converted_once_by_the_next_run(
    raw_copy: Path, tmp_path: Path, old_layout: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old, fresh = tmp_path / "old", tmp_path / "fresh"
    _old_lake(raw_copy, old, old_layout)
    assert manifest.layout_of(manifest.load(Location.of(old))) == old_layout
    with pytest.raises(errors.OldLayoutError, match=f"listings compact --lake {old}"):
        database.query("select count(*) from listings", lake=old)

    assert cli.main(["normalise", str(raw_copy), "--out", str(old)]) == 0
    captured = capsys.readouterr()
    assert f"converting lake {old} from the per-day {old_layout} layout" in captured.err
    assert f"converted:      converted from the per-day {old_layout} layout" in captured.out
    assert "0 new snapshots, 6 already in the lake" in captured.out
    _run(raw_copy, fresh)
    # A conversion moves rows, it does not change them: the earlier version never titled the
    # 7 unknown text titles from the catalogue, and a run titles only the listings it adds.
    # `resolve-titles` brings them to older snapshots (docs/input-format.md §1.1).
    titled = ["title", "description", "title_source"]
    assert _table(old, "listings").drop(titled).equals(_table(fresh, "listings").drop(titled))
    assert cli.main(["resolve-titles", "--lake", str(old)]) == 0
    assert "7 text-form listings titled from a catalogue" in capsys.readouterr().out
    for table in TABLES:
        assert _table(old, table).equals(_table(fresh, table)), table
    assert not list(old.glob("*/fetched_date=*"))
    assert all(g.startswith("fetched_month=2026-11/merged-") for g in _groups(old))
    assert _run(raw_copy, old).conversion is None  # once


def _compact_killed_at_manifest_write(out: Path) -> None:
    """`listings compact` in a child killed (SIGKILL) the moment it would rewrite the
    manifest: every new file is in place, nothing is committed."""
    script = (
        "import os, signal, sys\n"
        "from pipeline.lake import compact, manifest\n"
        "manifest.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "compact.compact_lake(sys.argv[1])\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script, str(out)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr


def test_a_conversion_killed_before_its_commit_leaves_the_old_lake(
    raw_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    _old_lake(raw_copy, out, "snapshot")
    before = lake_files(out)
    _compact_killed_at_manifest_write(out)
    assert manifest.layout_of(manifest.load(Location.of(out))) == "snapshot"
    assert set(before) < set(lake_files(out))  # the old files, plus the unnamed new ones
    assert cli.main(["compact", "--lake", str(out)]) == 0
    assert manifest.layout_of(manifest.load(Location.of(out))) == layout.LAYOUT
    assert _table(out, "listings").height == 53  # the six sample snapshots' listings


def test_the_retired_layout_option_is_accepted_and_ignored(
    raw_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lake"
    assert cli.main(["normalise", str(raw_copy), "--out", str(out), "--layout", "batch"]) == 0
    assert "--layout batch is retired and ignored" in capsys.readouterr().err
    assert manifest.layout_of(manifest.load(Location.of(out))) == layout.LAYOUT


def test_compacting_a_path_that_is_not_a_lake_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["compact", "--lake", str(tmp_path / "typo")]) == 1
    assert "is not a lake" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


@pytest.fixture
def text_raw(tmp_path: Path) -> Path:
    """The sample folder's text-form pages only (4 snapshots, 33 listings): all a version
    without the HTML/JSON parsers could have put in a lake."""
    target = tmp_path / "text-raw"
    target.mkdir()
    for page in RAW.glob("*.txt"):
        for file in (page, page.with_name(page.name + ".meta.json")):
            shutil.copy(file, target / file.name)
    return target


def _version_1_lake(raw: Path, out: Path) -> None:
    """A lake as the version before the HTML/JSON columns wrote it: the same files without
    those columns, and manifest rows without `schema_version`."""
    _run(raw, out)
    facts = {"listings": parse.LISTING_FACTS, "snapshots": parse.PAGE_FACTS, "rejects": {}}
    for table, added in facts.items():
        # Only the facts the lake keeps (a page's own URL fills `url` and is not stored).
        columns = [name for name in added if name in layout.file_schema(table)]
        for file in (out / table).rglob("*.parquet"):
            pl.read_parquet(file, hive_partitioning=False).drop(columns).write_parquet(file)
    for file in (out / "_manifest").glob("*.parquet"):
        pl.read_parquet(file).drop("schema_version").write_parquet(file)


def test_a_lake_an_older_version_wrote_is_upgraded_once_by_the_next_run(
    text_raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, fresh = tmp_path / "old", tmp_path / "fresh"
    _version_1_lake(text_raw, old)
    with pytest.raises(errors.OldLayoutError, match=f"listings compact --lake {old}"):
        database.query("select count(*) from listings", lake=old)
    capsys.readouterr()

    assert cli.main(["normalise", str(text_raw), "--out", str(old)]) == 0
    captured = capsys.readouterr()
    assert f"upgrading lake {old}: 1 groups written by an older version" in captured.err
    assert "upgraded 1 groups of files written by an older version" in captured.out
    _run(text_raw, fresh)
    for table in TABLES:
        # what the page was detected as is the reading's: an upgrade cannot know it
        unknown = [c for c in VERSION_3_PAGE_FACTS if c in layout.file_schema(table)]
        assert _table(old, table).drop(unknown).equals(_table(fresh, table).drop(unknown)), table
    assert set(manifest.load(Location.of(old))["schema_version"]) == {layout.SCHEMA_VERSION}
    assert database.query("select count(document_id) from listings", lake=old).rows() == [(0,)]
    assert database.query(
        "select count(document_ref), count(layout), count(page_type) "
        "from listings join snapshots using (snapshot_id)",
        lake=old,
    ).rows() == [(0, 0, 0)]
    assert _run(text_raw, old).conversion is None  # once


# The snapshot columns version 3 added: a fresh run records them, an upgrade leaves them null.
VERSION_3_PAGE_FACTS = ("layout", "page_type")


def _version_2_lake(raw: Path, out: Path) -> None:
    """A lake as version 2 wrote it: the same files without document_ref, layout and
    page_type, and manifest rows saying version 2."""
    _run(raw, out)
    dropped = {"listings": ["document_ref"], "snapshots": list(VERSION_3_PAGE_FACTS)}
    for table, columns in dropped.items():
        for file in (out / table).rglob("*.parquet"):
            pl.read_parquet(file, hive_partitioning=False).drop(columns).write_parquet(file)
    for file in (out / "_manifest").glob("*.parquet"):
        pl.read_parquet(file).with_columns(
            pl.lit(2, pl.Int32).alias("schema_version")
        ).write_parquet(file)


def test_a_version_2_lake_is_upgraded_once_with_document_ref_from_document_id(
    raw_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, fresh = tmp_path / "old", tmp_path / "fresh"
    _version_2_lake(raw_copy, old)
    with pytest.raises(
        errors.OldLayoutError,
        match="without listings.document_ref, snapshots.layout and snapshots.page_type\\): "
        f"upgrade it once with `listings compact --lake {old}`",
    ):
        database.query("select count(*) from listings", lake=old)
    capsys.readouterr()

    assert cli.main(["normalise", str(raw_copy), "--out", str(old)]) == 0
    captured = capsys.readouterr()
    assert (
        f"upgrading lake {old}: 1 groups written by an older version gain "
        "listings.document_ref, snapshots.layout and snapshots.page_type (document_ref from "
        "document_id, the other new columns null for their rows): once"
    ) in captured.err
    assert (
        "upgraded 1 groups of files written by an older version to the current columns "
        "(version 3, adding listings.document_ref, snapshots.layout and snapshots.page_type; "
    ) in captured.out
    assert set(manifest.load(Location.of(old))["schema_version"]) == {3}

    listings = _table(old, "listings")
    # the real page's ten documents, in its HTML and its JSON form: the id as text
    ids = sorted(str(doc.document_id) for doc in truth.DOCUMENTS) * 2
    assert sorted(listings["document_ref"].drop_nulls().to_list()) == sorted(ids)
    assert listings.filter(pl.col("document_id").is_null())["document_ref"].null_count() == 33
    assert listings.filter(
        pl.col("document_ref") != pl.col("document_id").cast(pl.String)
    ).is_empty()
    snapshots = _table(old, "snapshots")
    assert snapshots.height == 6
    assert snapshots.select(pl.col(VERSION_3_PAGE_FACTS).null_count()).row(0) == (6, 6)

    # every other column as a fresh run writes it
    _run(raw_copy, fresh)
    for table in TABLES:
        unknown = [c for c in (*VERSION_3_PAGE_FACTS, "document_ref")
                   if c in layout.file_schema(table)]  # fmt: skip
        assert _table(old, table).drop(unknown).equals(_table(fresh, table).drop(unknown)), table
    assert _run(raw_copy, old).conversion is None  # once
    assert compact.compact_lake(old).conversion.groups_upgraded == 0


def test_an_upgrade_killed_before_its_commit_is_finished_by_the_next_compaction(
    text_raw: Path, tmp_path: Path
) -> None:
    out = tmp_path / "lake"
    _version_1_lake(text_raw, out)
    _compact_killed_at_manifest_write(out)
    assert set(manifest.load(Location.of(out))["schema_version"]) == {1}
    assert cli.main(["compact", "--lake", str(out)]) == 0
    assert set(manifest.load(Location.of(out))["schema_version"]) == {layout.SCHEMA_VERSION}
    assert _table(out, "listings").height == 33
