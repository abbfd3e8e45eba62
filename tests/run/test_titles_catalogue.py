"""The title catalogue kept in the lake (`_catalogue/catalogue.parquet`, docs/lake.md "The
title catalogue"): each run updates it from the listings committed since it was written,
reading only those, and it is always the catalogue of the whole lake, row for row; what it
cannot trust (no file, a damaged one, another history, other rules, no commit times) it
rebuilds from the whole lake."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from benchmarks import generate
from pipeline.ingest import metadata
from pipeline.lake import compact, layout, manifest, verify
from pipeline.lake.storage import Location
from pipeline.parse import catalogue
from pipeline.run import run, titles
from pipeline.run.summary import RunSummary
from tests.conftest import RAW, SAMPLE

# A generated crawl: 60 text pages over 3 days (2024-11-01…03), then 5 days of 6 pages,
# all in one month, so the fourth increment's run compacts the month's five small groups.
LISTINGS, DAYS, INCREMENT_DAYS, INCREMENT_PAGES = 600, 3, 6, 6
CATALOGUE_READ = [*catalogue.SOURCE_COLUMNS, "snapshot_id"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    generate.write_corpus(
        root,
        LISTINGS,
        days=DAYS,
        increment_days=INCREMENT_DAYS,
        increment_pages=INCREMENT_PAGES,
    )
    return root


def _increments(corpus: Path) -> list[Path]:
    return sorted((corpus / generate.INCREMENTS_DIR).iterdir())


def _normalise(paths: list[Path], lake: Path | str, **settings: bool) -> RunSummary:
    return run.normalise_paths(paths, lake, metadata.ReadOptions(), **settings)


def _how(summary: RunSummary) -> str:
    """How the run had its catalogue, from its `titles:` line (`… (N files rewritten,
    catalogue HOW, 0.1 s)`)."""
    assert summary.titles is not None
    found = re.search(r" files rewritten, catalogue (.+), [0-9.]+ s\)$", summary.titles)
    assert found, summary.titles
    return found.group(1)


def _reference(where: Location) -> pl.DataFrame:
    """The catalogue of the whole lake, read without the kept one's code path: every
    committed listings file, whole, through the layout's reader."""
    groups = manifest.load(where)["data_file"].unique().sort().to_list()
    files = [layout.file_path(where, "listings", group) for group in groups]
    return catalogue.build(layout.read_files(where, "listings", files).lazy())


def _kept(lake: Path | str) -> titles.Kept:
    """The kept catalogue, checked to be the whole lake's, row for row and in order."""
    where = Location.of(lake)
    kept = titles.read_kept(where)
    assert kept is not None
    assert_frame_equal(kept.rows, _reference(where))
    assert kept.history == manifest.history(where)
    assert kept.rules == titles.rules()
    return kept


def _latest(lake: Path | str) -> int:
    latest = manifest.load(Location.of(lake))["committed_ns"].max()
    assert isinstance(latest, int)
    return latest


@dataclass
class Reads:
    """What the catalogue read listings from: (files, columns) per read, and the manifest
    as each read saw it (a run's compaction commits after its titles)."""

    calls: list[tuple[list[str], list[str]]] = field(default_factory=list)
    manifests: list[pl.DataFrame] = field(default_factory=list)

    def clear(self) -> None:
        self.calls.clear()
        self.manifests.clear()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    seen = Reads()
    real = titles.read_listings

    def spy(lake: Location, paths: list[str], columns: list[str]) -> Iterator[pl.LazyFrame]:
        seen.calls.append((list(paths), list(columns)))
        seen.manifests.append(manifest.load(lake))
        return real(lake, paths, columns)

    monkeypatch.setattr(titles, "read_listings", spy)
    return seen


def _listings_files(lake: Path | str, groups: list[str]) -> list[str]:
    return [layout.file_path(Location.of(lake), "listings", group) for group in sorted(groups)]


def _groups_after(committed: pl.DataFrame, since: int) -> list[str]:
    return sorted(committed.filter(pl.col("committed_ns") > since)["data_file"].unique())


def test_the_kept_catalogue_is_the_whole_lakes_after_runs_a_compaction_and_resolve_titles(
    corpus: Path, tmp_path: Path, reads: Reads
) -> None:
    lake = tmp_path / "lake"
    first = _normalise([corpus / generate.CORPUS_DIR], lake)
    assert _how(first) == "rebuilt from the whole lake: none kept yet"
    kept = _kept(lake)
    assert kept.watermark == _latest(lake)
    assert kept.history == manifest.history(Location.of(lake)) != ""  # its first commit's
    hows, added, compacted = [], [], []
    for day in _increments(corpus):
        before = kept
        reads.clear()
        summary = _normalise([day], lake)
        kept = _kept(lake)
        hows.append(_how(summary))
        added.append(kept.rows.height - before.rows.height)
        # Only the listings committed since the last catalogue: their files, the columns
        # `catalogue.build` reads and snapshot_id.
        assert before.watermark is not None
        (seen,) = reads.manifests
        new_groups = _groups_after(seen, before.watermark)
        assert reads.calls == [(_listings_files(lake, new_groups), CATALOGUE_READ)]
        # A run compacts after its titles: its merge commits after the catalogue's watermark.
        compacted.append(summary.compaction is not None)
        assert (kept.watermark == _latest(lake)) is not compacted[-1]
    # The corpus's days end in 2026-10; the increments' are 2026-11: five small groups there
    assert compacted == [False, False, False, False, True, False]
    assert hows == [
        f"updated from {files} new files: +{n:,} entries"
        for files, n in zip([1, 1, 1, 1, 1, 2], added, strict=True)
    ]  # the sixth run reads the merged group the fifth one's compaction committed too
    assert sum(added) > 0  # the increments brought titles the lake had not seen

    resolved = titles.resolve_lake(lake)
    assert resolved.catalogue == "rebuilt from the whole lake: every group re-titled"
    kept = _kept(lake)
    assert kept.history not in ("", before.history)  # resolve-titles rewrote history first
    assert kept.watermark == _latest(lake)

    # A run after it updates the rebuilt catalogue; the sample's text listings are titled
    # from the HTML and JSON forms of the same page, committed in the same run.
    both = tmp_path / "both"
    shutil.copytree(RAW, both)
    summary = _normalise([both], lake)
    kept_after = _kept(lake)
    assert _how(summary) == (
        f"updated from 1 new files: +{kept_after.rows.height - kept.rows.height:,} entries"
    )
    assert summary.titles is not None and summary.titles.startswith("7 text-form listings")
    sample = manifest.scan(lake, "snapshots").filter(pl.col("source_path").str.ends_with(
        SAMPLE.name)).select("snapshot_id")  # fmt: skip
    sources = manifest.scan(lake, "listings").join(sample, on="snapshot_id").collect()
    assert sources["title_source"].value_counts(sort=True).rows() == [
        ("catalogue", 7), ("own_line", 2), ("repetition", 1)
    ]  # fmt: skip


def test_compaction_alone_adds_nothing_and_the_next_run_reads_only_the_moved_rows_files(
    corpus: Path, tmp_path: Path, reads: Reads
) -> None:
    """`listings compact` re-commits moved rows: the next run reads the merged group (only
    those snapshots' rows) and its own, and the catalogue is unchanged by the move."""
    lake = tmp_path / "lake"
    days = _increments(corpus)
    _normalise([corpus / generate.CORPUS_DIR], lake)
    for day in days[:2]:
        _normalise([day], lake)
    before = _kept(lake)
    done = compact.compact_lake(lake)
    # the corpus's group (2026-10) stays; the increments' two (2026-11) become one
    assert done.files_before == 3 and done.files_after == 2
    reads.clear()
    summary = _normalise([days[2]], lake)
    assert before.watermark is not None
    moved_and_new = _groups_after(manifest.load(Location.of(lake)), before.watermark)
    assert len(moved_and_new) == 2
    assert reads.calls == [(_listings_files(lake, moved_and_new), CATALOGUE_READ)]
    kept = _kept(lake)
    alone = _reference_of_groups(lake, [g for g in moved_and_new if "/merged-" not in g])
    new_entries = alone.join(before.rows, on=catalogue.ENTRY, how="anti", nulls_equal=True)
    assert kept.rows.height == before.rows.height + new_entries.height
    assert _how(summary) == f"updated from 2 new files: +{new_entries.height:,} entries"


def test_a_catalogue_read_a_few_files_at_a_time_is_the_one_read_at_once(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalogue built from many listings files (a first run's, a rebuild's) scans them
    `SCAN_FILES` at a time to bound its memory: the union of the scans' catalogues is the
    catalogue of them all, row for row and in order, for every chunk size."""
    lake = tmp_path / "lake"
    _normalise([corpus / generate.CORPUS_DIR], lake)
    for day in _increments(corpus)[:3]:
        _normalise([day], lake)
    where = Location.of(lake)
    committed = manifest.load(where)
    assert committed["data_file"].n_unique() == 4
    whole = titles.lake_catalogue(where, committed)
    assert_frame_equal(whole, _reference(where))
    for files in (1, 3):
        monkeypatch.setattr(titles, "SCAN_FILES", files)
        assert_frame_equal(titles.lake_catalogue(where, committed), whole)


def _reference_of_groups(lake: Path, groups: list[str]) -> pl.DataFrame:
    files = _listings_files(lake, groups)
    return catalogue.build(layout.read_files(Location.of(lake), "listings", files).lazy())


def _garbage(where: Location, kept: titles.Kept) -> None:
    where.write_atomic(titles.path(where), b"not a parquet file")


def _truncated(where: Location, kept: titles.Kept) -> None:
    data = where.read_bytes(titles.path(where))
    where.write_atomic(titles.path(where), data[: len(data) // 2])


def _out_of_order(where: Location, kept: titles.Kept) -> None:
    titles.write_kept(where, kept.rows.reverse(), kept.history, kept.watermark)


def _no_commit_times(where: Location, kept: titles.Kept) -> None:
    titles.write_kept(where, kept.rows, kept.history, None)


def _from_a_later_lake(where: Location, kept: titles.Kept) -> None:
    assert kept.watermark is not None
    titles.write_kept(where, kept.rows, kept.history, kept.watermark + 10**15)


def _deleted(where: Location, kept: titles.Kept) -> None:
    where.remove(titles.path(where))


def _history_rewritten(where: Location, kept: titles.Kept) -> None:
    manifest.rewrite_history(where)  # as a conversion, an upgrade or a crashed run's titles do


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_deleted, "none kept yet"),
        (_garbage, "it was unreadable"),
        (_truncated, "it was unreadable"),
        (_out_of_order, "it was unreadable"),
        (_history_rewritten, "the lake's history changed"),
        (_no_commit_times, "commit times unknown"),
        (_from_a_later_lake, "commit times unknown"),
    ],
)
def test_a_catalogue_the_run_cannot_trust_is_rebuilt_from_the_whole_lake(
    corpus: Path,
    tmp_path: Path,
    change: Callable[[Location, titles.Kept], None],
    why: str,
    reads: Reads,
) -> None:
    lake = tmp_path / "lake"
    days = _increments(corpus)
    _normalise([corpus / generate.CORPUS_DIR], lake)
    _normalise([days[0]], lake)
    where = Location.of(lake)
    change(where, _kept(lake))
    reads.clear()
    summary = _normalise([days[1]], lake)
    assert _how(summary) == f"rebuilt from the whole lake: {why}"
    groups = manifest.load(where)["data_file"].unique().to_list()
    assert reads.calls == [(_listings_files(lake, groups), list(catalogue.SOURCE_COLUMNS))]
    kept = _kept(lake)
    assert kept.watermark == _latest(lake)
    # …and kept again: the next run updates it.
    assert _how(_normalise([days[2]], lake)).startswith("updated from 1 new files: +")
    _kept(lake)


def test_a_catalogue_kept_under_other_rules_is_rebuilt(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version that changes what makes an entry (here the longest title catalogued)
    must not add to entries made by the old rules."""
    lake = tmp_path / "lake"
    days = _increments(corpus)
    _normalise([corpus / generate.CORPUS_DIR], lake)
    old = _kept(lake)
    monkeypatch.setattr(catalogue, "MAX_TITLE_CHARS", 28)  # the corpus's titles: 20 to 44
    summary = _normalise([days[0]], lake)
    assert _how(summary) == "rebuilt from the whole lake: kept under other rules"
    kept = _kept(lake)  # the reference is built under the same (new) rules
    lengths = kept.rows["title"].str.len_chars()
    assert lengths.max() == 28 and old.rows["title"].str.len_chars().max() > 28


def test_a_full_refresh_rebuilds_the_catalogue_of_the_lake_it_switched_to(
    corpus: Path, tmp_path: Path
) -> None:
    """The refresh switches (a new history) before it resolves titles: the catalogue of the
    dropped snapshots must not survive in the kept one."""
    lake = tmp_path / "lake"
    raw = corpus / generate.CORPUS_DIR
    _normalise([raw], lake)
    for day in _increments(corpus)[:3]:
        _normalise([day], lake)
    before = _kept(lake)
    refreshed = _normalise([raw], lake, full_refresh=True)
    assert _how(refreshed) == "rebuilt from the whole lake: the lake's history changed"
    kept = _kept(lake)
    assert kept.history != before.history
    gone = before.rows.join(kept.rows, on=catalogue.ENTRY, how="anti", nulls_equal=True)
    assert gone.height == before.rows.height - kept.rows.height > 0


def test_a_lake_started_over_in_its_folder_never_inherits_the_old_lakes_catalogue(
    corpus: Path, tmp_path: Path
) -> None:
    """A user deletes `_manifest/` to start over and leaves `_catalogue/`: the new lake's
    first commit gives it a history token of its own, so the old titles are not merged in."""
    lake = tmp_path / "lake"
    _normalise([corpus / generate.CORPUS_DIR], lake)
    old = _kept(lake)
    shutil.rmtree(lake / manifest.DIRNAME)
    summary = _normalise([_increments(corpus)[0]], lake)
    assert _how(summary) == "rebuilt from the whole lake: the lake's history changed"
    kept = _kept(lake)  # the new lake's own catalogue, row for row
    assert kept.history not in ("", old.history)
    assert kept.rows.height < old.rows.height


def test_verify_ignores_the_catalogue_and_a_run_deletes_its_dead_temporary_files(
    corpus: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    days = _increments(corpus)
    _normalise([corpus / generate.CORPUS_DIR], lake)
    dead = lake / titles.DIRNAME / f".{titles.FILENAME}.{'0' * 32}.tmp"
    dead.write_bytes(b"half a catalogue")
    checked = verify.verify(lake, sources=False)
    assert (checked.problems, checked.leftovers) == ([], [])
    _normalise([days[0]], lake)
    assert sorted(p.name for p in (lake / titles.DIRNAME).iterdir()) == [titles.FILENAME]


def test_on_an_object_store_the_kept_catalogue_reads_only_new_files_too(
    corpus: Path, reads: Reads
) -> None:
    import fsspec

    url = "memory://titles-catalogue/lake"
    fs = fsspec.filesystem("memory")
    if fs.exists("/titles-catalogue"):
        fs.rm("/titles-catalogue", recursive=True)
    try:
        days = _increments(corpus)
        first = _normalise([corpus / generate.CORPUS_DIR], url)
        assert _how(first) == "rebuilt from the whole lake: none kept yet"
        before = _kept(url)
        reads.clear()
        summary = _normalise([days[0]], url)
        kept = _kept(url)
        assert _how(summary) == (
            f"updated from 1 new files: +{kept.rows.height - before.rows.height:,} entries"
        )
        where = Location.of(url)
        assert before.watermark is not None
        new = manifest.load(where).filter(pl.col("committed_ns") > before.watermark)
        (group,) = new["data_file"].unique()
        assert reads.calls == [([layout.file_path(where, "listings", group)], CATALOGUE_READ)]
    finally:
        fs.rm("/titles-catalogue", recursive=True)
