"""Shared helpers: run the real pipeline over files written into a temporary folder."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import Phase, settings

from pipeline.ingest import metadata, read, walk
from pipeline.parse.layouts import layout as layout_record
from pipeline.run import normalise, run
from render.fields import DEFAULT_TEXT_LAYOUT, Document, render_size
from render.text import render_heading

# No test depends on the clock: hypothesis' per-example deadline (200 ms) fails an example
# that a busy machine merely slowed, so it is off. `HYPOTHESIS_PROFILE=quick` while coding:
# report the first failing example instead of spending minutes shrinking it (the default
# profile shrinks, for the clearest report).
settings.register_profile("listings", deadline=None)
settings.register_profile(
    "quick", deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "listings"))

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "data" / "raw"
SAMPLE = RAW / "wenku-search-page.txt"
SAMPLE_FETCHED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def write_snapshot(
    folder: Path, name: str, content: str | bytes, fetched_at: datetime | None = None
) -> Path:
    """A snapshot file, with a sidecar giving its fetch time when one is passed."""
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    if fetched_at is not None:
        sidecar = path.with_name(path.name + walk.SIDECAR_SUFFIX)
        sidecar.write_text(
            json.dumps(
                {
                    "url": "https://wenku.it/search?wd=test&page=1",
                    "fetched_at": fetched_at.isoformat(),
                }
            ),
            encoding="utf-8",
        )
    return path


def empty_lake(folder: Path) -> Path:
    """A lake with nothing committed: what normalising an empty folder leaves behind."""
    lake = folder / "empty-lake"
    (folder / "no-input").mkdir(parents=True, exist_ok=True)
    run.normalise_paths([folder / "no-input"], lake, metadata.ReadOptions())
    return lake


@pytest.fixture(autouse=True)
def _working_directory_restored() -> Iterator[None]:
    """Each test starts in the folder the suite started in: a test that changes directory
    (the CLI resolves relative paths such as the default data/raw against it) must not move
    the tests that follow it on the same worker."""
    before = os.getcwd()
    yield
    os.chdir(before)


@pytest.fixture(scope="session")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lake of `data/raw` (6 snapshots, 53 listings), normalised once for the session.

    Shared: a test may read it or take its lock, never change it (copy it first)."""
    lake = tmp_path_factory.mktemp("sample") / "lake"
    run.normalise_paths([RAW], lake, metadata.ReadOptions())
    return lake


@pytest.fixture(scope="session")
def sample_warehouse(sample_lake: Path) -> Path:
    """The warehouse built over `sample_lake`, once for the session; read it, never change it."""
    from pipeline.warehouse import database  # duckdb: only for the tests that ask for it

    db = sample_lake.with_name("warehouse.duckdb")
    database.build(sample_lake, db)
    return db


def raising(error: BaseException) -> Callable[..., None]:
    """A stand-in for any function that fails with `error`: simulates a crash mid-run."""

    def fail(*_: object, **__: object) -> None:
        raise error

    return fail


def lake_files(root: Path) -> dict[str, bytes]:
    """A local lake's table files and their bytes (the manifest aside): for equality checks."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*.parquet"))
        if not p.relative_to(root).parts[0].startswith("_")
    }


def covered_spans(tables: normalise.BatchTables, snapshot_id: str) -> list[tuple[int, int]]:
    """Every [start, end) byte span the pipeline accounted for in one snapshot, sorted."""
    spans = [
        *tables.listings.filter(pl.col("snapshot_id") == snapshot_id)
        .select("byte_start", "byte_end")
        .iter_rows(),
        *tables.rejects.filter(pl.col("snapshot_id") == snapshot_id)
        .select("byte_start", "byte_end")
        .iter_rows(),
        *tables.snapshots.filter(pl.col("snapshot_id") == snapshot_id)
        .select("footer_byte_start", "footer_byte_end")
        .drop_nulls()
        .iter_rows(),
    ]
    return sorted(spans)


def assert_nothing_lost(tables: normalise.BatchTables, snapshot_id: str, text: str) -> None:
    """Spans do not overlap, and every non-blank byte lies inside one of them."""
    data = text.encode("utf-8")
    spans = covered_spans(tables, snapshot_id)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, f"overlapping spans {spans}"
    covered = bytearray(len(data))
    for start, end in spans:
        covered[start:end] = b"\x01" * (end - start)
    lost = [i for i, byte in enumerate(data) if not covered[i] and not chr(byte).isspace()]
    assert not lost, f"bytes not accounted for at {lost[:10]}: {data[lost[0] : lost[0] + 40]!r}"


def _readings(price_text: str, after_space: bool = False) -> set[int]:
    """Every price the glued digit run can mean: its suffixes without a leading zero; after
    whitespace not the whole run (a trimmed description cannot end in that whitespace)."""
    first = 1 if after_space and len(price_text) > 1 else 0
    return {
        int(price_text[i:])
        for i in range(first, len(price_text))
        if i == len(price_text) - 1 or price_text[i] != "0"
    }


def assert_listings_match(
    rows: list[dict],
    docs: Sequence[Document],
    layouts: Sequence[str],
    show_age: Sequence[bool],
    fetched_at: datetime,
    page_layout: str = DEFAULT_TEXT_LAYOUT.name,
) -> None:
    """Each parsed listing holds its rendered truth: exact fields equal, bounds contain.

    Where the glued price is ambiguous the truth must be one of the run's readings and the
    heading must give the page's digits back; titles only where the layout proves them.
    `page_layout` is the layout the page was rendered in (docs/input-format.md §0).
    """
    record = layout_record(page_layout)
    for position, (row, doc, layout, aged) in enumerate(
        zip(rows, docs, layouts, show_age, strict=True), start=1
    ):
        assert row["position"] == position
        # Price: the truth is one of the run's readings; heading + price is the page's text.
        # A rating before the tail keeps price and heading apart: no glued run to read.
        glued = record.rating == "after"
        run = row["price_text"]
        before_run = (render_heading(doc, layout) + str(doc.price))[: -len(run)]
        readings = _readings(run, after_space=before_run[-1:].isspace()) if glued else {int(run)}
        assert doc.price in readings
        assert row["price_ambiguous"] is (len(readings) > 1)
        if not row["price_ambiguous"]:
            assert row["price"] == doc.price
        truth_heading = render_heading(doc, layout)
        assert row["heading"] + str(row["price"]) == truth_heading + str(doc.price)
        assert row["credit"] == doc.credit
        assert row["pages"] == doc.pages
        assert row["size_bytes_min"] <= doc.size_bytes <= row["size_bytes_max"]
        assert row["size_text"] == render_size(doc.size_bytes, record.size)
        if aged and record.time != "constant":
            uploaded = doc.uploaded_at or fetched_at  # the site shows 刚刚 for a missing time
            if record.time == "minute":  # the site's minute: the truth's, not its second
                uploaded = uploaded.replace(second=0)
            assert row["uploaded_at_min"] <= uploaded <= row["uploaded_at_max"]
            if record.time == "relative":
                assert row["uploaded_at_max"] <= fetched_at
        else:
            assert row["uploaded_at_min"] is None and row["uploaded_at_max"] is None
        assert row["score"] == doc.score
        assert row["rating"] == doc.score / 100
        assert row["rating_anomaly"] is (doc.score < 100)
        expected_source = {"own_line": "own_line", "repeated": "repetition"}.get(layout, "unknown")
        assert row["title_source"] == expected_source
        if expected_source == "unknown":
            assert row["title"] is None and row["description"] is None
        else:
            assert row["title"] == doc.title
            truth_description = (
                doc.description if layout == "own_line" else (doc.title + doc.description)
            )
            assert row["description"] + str(row["price"]) == truth_description + str(doc.price)


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A private copy of data/raw/ that a test may add to, change or delete from."""
    target = tmp_path / "raw"
    shutil.copytree(RAW, target)
    return target


@pytest.fixture
def normalise_texts(tmp_path: Path) -> Callable[..., normalise.BatchTables]:
    """Normalise {name: content} written as snapshot files (same fetch time for all)."""

    def run(
        files: dict[str, str | bytes],
        fetched_at: datetime = SAMPLE_FETCHED_AT,
        options: metadata.ReadOptions | None = None,
    ):
        paths = [write_snapshot(tmp_path, name, c, fetched_at) for name, c in files.items()]
        options = options or metadata.ReadOptions()
        return normalise.normalise_batch(read.read_batch(paths, options))

    return run


def readme_table(header: Sequence[str]) -> list[list[str]]:
    """The body rows of the README's table whose header cells are `header`, each cell's
    Markdown source (`` `OK` `` keeps its backticks), read by markdown-it's parser."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt().enable("table").parse((REPO / "README.md").read_text(encoding="utf-8"))
    rows: list[list[str]] | None = None  # the rows of the table being read
    for token in tokens:
        if token.type == "table_open":
            rows = []
        elif token.type == "tr_open" and rows is not None:
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(token.content.strip())
        elif token.type == "table_close" and rows is not None:
            if rows and rows[0] == list(header):
                return rows[1:]
            rows = None
    raise AssertionError(f"README.md has no table headed {' | '.join(header)}")
