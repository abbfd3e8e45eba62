"""Run fuzzed pages through the real reader and middle, and check what must always hold.

`normalise_pages` writes the pages to an in-memory fsspec folder (`memory://`, which the
reader takes like any object store, docs/input-format.md §3.3 and README "Runs") and runs
`read.read_batch` then `normalise.normalise_batch`, exactly as a run does.
`check_batch` then holds the tables to docs/input-format.md §5 whatever the input was:

- nothing escapes: no exception, and no Rust panic (a `BaseException` in Python);
- one snapshot row per distinct snapshot, with listing and reject counts that match;
- every row of the three tables passes its pandera model;
- per snapshot, listing, footer and reject spans lie inside the text, on character
  boundaries, and never overlap; in the text form they also cover every non-blank byte,
  and each reject's fragment is exactly its span's text (in JSON, each non-empty one's);
  an HTML listing's span opens at an `<li` tag or at its link (or is one byte: an item
  the text search cannot place, docs/input-format.md §3.1).
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import fsspec
import polars as pl

from pipeline import schemas
from pipeline.ingest import metadata, read
from pipeline.run import normalise
from tests.fuzz.pages import Page

# Pages run and examples checked since the process started (`python -m tests.fuzz` prints
# them). Pages are the cases: one example is a batch of them.
COUNTS: Counter[str] = Counter()


class EscapedError(AssertionError):
    """Something the pipeline raised (or a Rust panic) instead of rejecting the input."""


def normalise_pages(
    pages: Sequence[Page],
    fetched_at: datetime,
    sidecars: Sequence[bytes | None] | None = None,
) -> tuple[pl.DataFrame, normalise.BatchTables]:
    """(the read frame, the tables) for one batch of in-memory files.

    `fetched_at` is the run's `--fetched-at`; a page's sidecar (its `.meta.json` bytes),
    where given, takes precedence as usual.
    """
    fs = fsspec.filesystem("memory")
    root = f"/fuzz-{uuid.uuid4().hex}"
    paths = []
    for i, page in enumerate(pages):
        path = f"{root}/{i}/{page.name}"
        fs.pipe_file(path, page.data)
        sidecar = sidecars[i] if sidecars else None
        if sidecar is not None:
            fs.pipe_file(path + ".meta.json", sidecar)
        paths.append(f"memory://{path}")
    options = metadata.ReadOptions(fetched_at=fetched_at, site="wenku.it")
    try:
        frame = read.read_batch(paths, options)
        tables = normalise.normalise_batch(frame)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # a pyo3 PanicException is a BaseException
        raise EscapedError(f"{type(error).__name__} escaped the pipeline: {error}") from error
    finally:
        fs.rm(root, recursive=True)
    COUNTS["pages"] += len(pages)
    return frame, tables


def _spans(tables: normalise.BatchTables) -> dict[str, list[tuple[int, int, str | None]]]:
    """Every snapshot's accounted spans: (start, end, the fragment a reject claims)."""
    found: dict[str, list[tuple[int, int, str | None]]] = {}
    listings = tables.listings.select("snapshot_id", "byte_start", "byte_end")
    for sid, start, end in listings.iter_rows():
        found.setdefault(sid, []).append((start, end, None))
    footers = tables.snapshots.select("snapshot_id", "footer_byte_start", "footer_byte_end")
    for sid, start, end in footers.drop_nulls().iter_rows():
        found.setdefault(sid, []).append((start, end, None))
    rejects = tables.rejects.select("snapshot_id", "byte_start", "byte_end", "fragment")
    for sid, start, end, fragment in rejects.iter_rows():
        found.setdefault(sid, []).append((start, end, fragment))
    return found


def check_batch(frame: pl.DataFrame, tables: normalise.BatchTables) -> None:
    """Hold one batch's tables to the invariants in the module's docstring."""
    snapshots = tables.snapshots
    assert sorted(snapshots["snapshot_id"]) == sorted(frame["snapshot_id"].unique())
    # `normalise_batch` raises unless its snapshots and rejects pass their models (that
    # would escape as an EscapedError); its listings are the rows that passed: checked again.
    schemas.validate(tables.listings, schemas.Listing)
    listed = tables.listings.group_by("snapshot_id").len("n")
    rejected = tables.rejects.group_by("snapshot_id").len("n")
    counted = snapshots.select(
        "snapshot_id", "listing_count", "reject_count"
    ).join(listed, on="snapshot_id", how="left").join(
        rejected, on="snapshot_id", how="left", suffix="_rejects"
    )  # fmt: skip
    for sid, listing_count, reject_count, n, n_rejects in counted.iter_rows():
        assert (listing_count, reject_count) == (n or 0, n_rejects or 0), sid

    texts = dict(frame.unique("snapshot_id").select("snapshot_id", "text").iter_rows())
    spans = _spans(tables)
    headings = dict(
        ((sid, start), heading)
        for sid, start, heading in tables.listings.select(
            "snapshot_id", "byte_start", "heading"
        ).iter_rows()
    )
    for sid, form, byte_count in snapshots.select("snapshot_id", "form", "byte_count").iter_rows():
        text = texts[sid]
        own = sorted(spans.get(sid, []))
        if form == "unreadable":
            assert [(s, e) for s, e, _ in own] == [(0, byte_count)], (sid, own)
            continue
        _check_spans(text, form, own, {k[1]: v for k, v in headings.items() if k[0] == sid})


def _check_spans(
    text: str, form: str, spans: list[tuple[int, int, str | None]], headings: dict[int, str]
) -> None:
    data = text.encode("utf-8")
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        assert end <= start, f"overlapping spans in a {form} page: {spans}"
    for start, end, fragment in spans:
        assert 0 <= start <= end <= len(data), (form, start, end, len(data))
        held = data[start:end].decode("utf-8")  # raises off a character boundary
        if form == "text" and fragment is not None:
            assert held == fragment, (start, end, held, fragment)
        if form == "text" and fragment is None and start in headings:
            assert held.startswith(headings[start]), (held, headings[start])
        if form == "json" and fragment is not None and end > start:
            assert held == fragment, (start, end, held[:200], fragment[:200])
        if form == "html" and fragment is None and start in headings:
            # A listing's span opens at the `<li` tag before its link, or at the link
            # where the text as read has no such tag; an item the text search cannot
            # place at all holds the one byte after the previous item (§3.1).
            opens = held[:3].lower() == "<li" or held[:4].lower() == "href"
            assert opens or end - start == 1, held[:80]
    if form != "text":
        return
    # Only whitespace may fall outside every span (docs/input-format.md §5).
    cursor = 0
    for start, end, _ in [*spans, (len(data), len(data), None)]:
        gap = data[cursor:start].decode("utf-8")
        assert gap.isspace() or not gap, f"bytes {cursor}-{start} lost: {gap[:80]!r}"
        cursor = max(cursor, end)
