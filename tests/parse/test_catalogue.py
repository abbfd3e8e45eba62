"""Titles from the catalogue: exact titles seen anywhere in the lake split the text form's
unknown boundaries, with evidence that it is the same document, and never without it."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipeline import cli
from pipeline.ingest import metadata
from pipeline.lake import manifest
from pipeline.parse import catalogue
from pipeline.run import run, titles
from tests.conftest import RAW, SAMPLE
from tests.parse.golden import sample_documents as truth

FIXTURES = Path(__file__).parent / "fixtures"


def _copy(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for file in (path, path.with_name(path.name + ".meta.json")):
        shutil.copy(file, folder / file.name)
    return folder / path.name


def _text_listings(lake: Path) -> pl.DataFrame:
    snapshots = manifest.scan(lake, "snapshots").filter(pl.col("form") == "text")
    return (
        manifest.scan(lake, "listings")
        .join(snapshots.select("snapshot_id"), on="snapshot_id")
        .sort("position")
        .collect()
    )


def _normalise(paths: list[Path], lake: Path) -> run.RunSummary:
    return run.normalise_paths(paths, lake, metadata.ReadOptions())


def test_with_only_the_text_form_nothing_is_split_without_evidence(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _normalise([_copy(SAMPLE, tmp_path / "text")], lake)
    sources = _text_listings(lake)["title_source"].to_list()
    # The page's own evidence only: two own-line titles and one repetition.
    assert sources.count("unknown") == 7 and "catalogue" not in sources


def test_resolve_titles_after_the_html_form_recovers_all_ten_text_titles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = tmp_path / "lake"
    _normalise([_copy(SAMPLE, tmp_path / "text")], lake)
    _normalise([_copy(RAW / "wenku-search-page.html", tmp_path / "html")], lake)
    assert cli.main(["resolve-titles", "--lake", str(lake)]) == 0
    assert "7 text-form listings titled from a catalogue of" in capsys.readouterr().out
    text = _text_listings(lake)
    assert "unknown" not in text["title_source"].to_list()
    assert text["title"].to_list() == [doc.title for doc in truth.DOCUMENTS]
    assert text["description"].to_list() == [doc.description for doc in truth.DOCUMENTS]
    assert text["title_source"].value_counts(sort=True).rows() == [
        ("catalogue", 7), ("own_line", 2), ("repetition", 1)
    ]  # fmt: skip
    # Rebuilding again changes nothing.
    assert cli.main(["resolve-titles", "--lake", str(lake)]) == 0
    assert "(0 files rewritten" in capsys.readouterr().out


def test_a_run_titles_its_new_text_listings_from_what_the_lake_has_seen(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _normalise([_copy(RAW / "wenku-search-page.json", tmp_path / "json")], lake)
    summary = _normalise([_copy(SAMPLE, tmp_path / "text")], lake)
    assert summary.titles is not None and summary.titles.startswith("7 text-form listings")
    assert _text_listings(lake)["title"].to_list() == [doc.title for doc in truth.DOCUMENTS]


def _listing(
    heading: str, pages: int, low: int, high: int, source: str = "unknown", site: str = "wenku.it"
) -> dict:
    return {"heading": heading, "title": None, "description": None, "title_source": source,
            "site": site, "pages": pages, "size_bytes_min": low,
            "size_bytes_max": high}  # fmt: skip


def test_a_title_of_another_document_does_not_split_a_heading() -> None:
    """`Kube` is a prefix of `Kubernetes …`: only the same document (pages, sizes) counts."""
    known = pl.DataFrame(
        [{**_listing("Kubex", 12, 100, 200, "html"), "title": "Kube", "description": "x"}]
    )
    table = catalogue.build(known.lazy())
    unknown = pl.DataFrame(
        [_listing("Kubernetes 权威指南", 30, 100, 200), _listing("Kube权威指南", 12, 150, 250)]
    )
    resolved = catalogue.resolve(unknown, table)
    assert resolved["title"].to_list() == [None, "Kube"]
    assert resolved["description"].to_list() == [None, "权威指南"]
    assert resolved["title_source"].to_list() == ["unknown", "catalogue"]


def test_the_longest_title_of_the_same_document_wins_and_an_empty_rest_needs_evidence() -> None:
    seen = pl.DataFrame(
        [
            {**_listing("", 5, 10, 20, "json"), "title": "Cache", "description": "a"},
            {**_listing("", 5, 10, 20, "json"), "title": "Cache Cache Design", "description": "b"},
            {**_listing("", 7, 10, 20, "json"), "title": "Solo", "description": ""},
        ]
    )
    table = catalogue.build(seen.lazy())
    unknown = pl.DataFrame(
        [
            _listing("Cache Cache Design When Request", 5, 15, 15),
            _listing("Cache Cache Design", 5, 15, 15),  # nothing left after the longest
            _listing("Solo", 7, 15, 15),  # that document's description is empty
        ]
    )
    resolved = catalogue.resolve(unknown, table)
    assert resolved.select("title", "description").rows() == [
        ("Cache Cache Design", "When Request"),
        ("Cache", "Cache Design"),
        ("Solo", ""),
    ]


@pytest.mark.parametrize("chunk_rows", [1, titles.RESOLVE_CHUNK_ROWS])
def test_groups_resolved_one_by_one_or_together_come_out_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    """The lake's groups are resolved in chunks of rows against one sorted catalogue: a
    chunk of one group each and one chunk of all give the same titles."""
    lake = tmp_path / "lake"
    _normalise([_copy(SAMPLE, tmp_path / "text")], lake)
    later = tmp_path / "later" / "wenku-again.txt"
    later.parent.mkdir()
    shutil.copy(SAMPLE, later)
    later.with_name(later.name + ".meta.json").write_text(
        '{"url": "https://wenku.it/search?wd=k8s", "fetched_at": "2026-11-21T09:30:00Z"}'
    )
    _normalise([later], lake)
    _normalise([_copy(RAW / "wenku-search-page.html", tmp_path / "html")], lake)
    monkeypatch.setattr(titles, "RESOLVE_CHUNK_ROWS", chunk_rows)
    done = titles.resolve_lake(lake)
    assert (done.listings_split, done.files_rewritten) == (14, 2)
    text = _text_listings(lake).sort("snapshot_id", "position")
    assert text["title"].to_list() == [doc.title for doc in truth.DOCUMENTS] * 2


# Few titles (prefixes of each other, one too long), documents and sources, so that parts
# share entries, differ only in an empty description, or add titles between others'.
_SIGHTING = st.fixed_dictionaries(
    {
        "title": st.sampled_from(["a", "ab", "abc", "b", "ba", "", "x" * 201, None]),
        "title_source": st.sampled_from(["own_line", "html", "json", "catalogue", "unknown"]),
        "description": st.sampled_from([None, "", "d"]),
        "site": st.sampled_from([None, "a.example", "b.example"]),
        "pages": st.sampled_from([None, 1, 2]),
        "size_bytes_min": st.sampled_from([None, 10, 20]),
        "size_bytes_max": st.sampled_from([None, 20, 30]),
    }
)
_SIGHTINGS_SCHEMA = {
    "title": pl.String, "title_source": pl.String, "description": pl.String, "site": pl.String,
    "pages": pl.Int32, "size_bytes_min": pl.Int64, "size_bytes_max": pl.Int64,
}  # fmt: skip


def _catalogue_of(rows: list[dict]) -> pl.DataFrame:
    return catalogue.build(pl.DataFrame(rows, schema=_SIGHTINGS_SCHEMA).lazy())


@given(st.lists(st.lists(_SIGHTING, max_size=25), min_size=1, max_size=4))
def test_a_catalogue_merged_part_by_part_is_the_catalogue_of_all_the_listings(
    parts: list[list[dict]],
) -> None:
    """What a lake's kept catalogue relies on (pipeline.run.titles): merging the catalogues
    of the listings committed since, one run after another, gives `build` over them all,
    row for row and in its order; so does one union of them all."""
    whole = _catalogue_of([row for part in parts for row in part])
    merged = _catalogue_of(parts[0])
    for part in parts[1:]:
        merged = catalogue.merge(merged, _catalogue_of(part))
    assert_frame_equal(merged, whole)
    assert_frame_equal(catalogue.union([_catalogue_of(part) for part in parts]), whole)


def test_merging_a_known_entry_only_learns_that_its_description_can_be_empty() -> None:
    seen = _catalogue_of([
        {**_listing("", 5, 10, 20, "json"), "title": "Cache", "description": "a"},
        {**_listing("", 5, 10, 20, "json"), "title": "Solo", "description": "b"},
    ])  # fmt: skip
    again = _catalogue_of([{**_listing("", 5, 10, 20, "html"), "title": "Solo", "description": ""}])
    assert catalogue.merge(seen, again).rows() == [
        ("Cache", "wenku.it", 5, 10, 20, False), ("Solo", "wenku.it", 5, 10, 20, True)
    ]  # fmt: skip
    assert catalogue.merge(seen, seen.clear()) is seen


def _rule(listing: dict, entries: list[dict]) -> tuple[str, str] | None:
    """docs/input-format.md §1.1 read literally, one listing at a time: the longest title of
    an entry of the same document (§3.2: the same site, the same page count, size intervals
    that meet) that the heading starts with, leaving a description unless the entry's is
    known to be empty."""
    best = None
    for entry in entries:
        if (entry["site"] or "") != (listing["site"] or ""):
            continue
        sizes = (listing["size_bytes_min"], listing["size_bytes_max"], entry["size_bytes_min"],
                 entry["size_bytes_max"])  # fmt: skip
        if entry["pages"] != listing["pages"] or None in sizes:
            continue
        if not (sizes[0] <= sizes[3] and sizes[2] <= sizes[1]):
            continue
        if not listing["heading"].startswith(entry["title"]):
            continue
        rest = listing["heading"][len(entry["title"]) :].lstrip()
        if rest == "" and not entry["description_empty"]:
            continue
        if best is None or len(entry["title"]) > len(best[0]):
            best = (entry["title"], rest)
    return best


# Sizes from exact points to intervals spanning many scales, so that intervals meet at one
# byte, inside one another, and across the buckets `resolve` first matches them by.
_LOW = st.sampled_from([None, 0, 1, 5, 1000, 1023, 1024, 5000, 2**20, 2**40, 2**63 - 2])
_WIDTH = st.sampled_from([0, 1, 23, 1000, 2**20, 2**41])


@st.composite
def _sized(draw: st.DrawFn) -> dict:
    low = draw(_LOW)
    high = None if low is None else min(low + draw(_WIDTH), 2**63 - 1)
    return {
        "pages": draw(st.sampled_from([None, 1, 2])),
        "low": low,
        "high": high,
        "site": draw(st.sampled_from([None, "a.example", "b.example"])),
    }


_WORD = st.text(alphabet="ab c", max_size=6)


@given(
    st.lists(st.tuples(_WORD, st.booleans(), _sized()), max_size=12),
    st.lists(st.tuples(_WORD, _sized()), min_size=1, max_size=12),
)
def test_resolve_splits_every_heading_as_the_rule_says(
    seen: list[tuple[str, bool, dict]], headings: list[tuple[str, dict]]
) -> None:
    """`resolve`'s vectorised search (by document first, by scale buckets of the sizes)
    against the rule applied one listing and one entry at a time."""
    sightings = [
        {**_listing("", **sized), "title": title, "title_source": "html",
         "description": "" if empty else "d"}
        for title, empty, sized in seen
    ]  # fmt: skip
    table = catalogue.build(pl.DataFrame(sightings, schema=_SIGHTINGS_SCHEMA).lazy())
    unknown = pl.DataFrame(
        [_listing(heading, **sized) for heading, sized in headings],
        schema={**_SIGHTINGS_SCHEMA, "heading": pl.String},
    )
    resolved = catalogue.resolve(unknown, table)
    # A lookup built once gives what the catalogue itself gives.
    assert catalogue.resolve(unknown, catalogue.lookup(table)).equals(resolved)
    entries = table.to_dicts()
    expected = [_rule(listing, entries) for listing in unknown.to_dicts()]
    got = [
        (row["title"], row["description"]) if row["title_source"] == "catalogue" else None
        for row in resolved.to_dicts()
    ]
    assert got == expected
