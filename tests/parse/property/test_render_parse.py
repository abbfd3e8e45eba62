"""Property tests: render random truths by the site's rules, parse them back, compare.

Every parsed field must contain the truth: exact fields equal it, sizes and ages are
bounds that hold it, and those bounds are *tight* (one byte or one second further out
renders differently). Titles are only claimed where the layout proves them.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.layouts_kit import read_frame
from pipeline.parse import fields
from pipeline.run import normalise
from render.fields import default_pager, render_age, render_size
from render.text import TEXT_LAYOUTS, render_footer, render_listing, render_page
from tests.conftest import assert_listings_match, assert_nothing_lost
from tests.strategies import age_seconds, fetched_ats, layout_pages, pages_, sizes

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _normalise_text(text: str, fetched_at) -> normalise.BatchTables:
    """The real pipeline middle over one in-memory page (read.py's row, minus the file)."""
    return normalise.normalise_batch(read_frame([(text, fetched_at, None)]))


@SETTINGS
@given(pages_())
def test_a_rendered_page_parses_back_to_its_truth(page) -> None:
    docs, layouts, show_age, separator, fetched_at = page
    total, last_page = 10 * len(docs) + 3, 7
    text = render_page(
        docs,
        fetched_at,
        total_results=total,
        last_page=last_page,
        separator=separator,
        title_layouts=layouts,
        show_age=show_age,
    )
    tables = _normalise_text(text, fetched_at)

    assert tables.rejects.height == 0, tables.rejects.to_dicts()
    assert tables.listings.height == len(docs)
    snapshot = tables.snapshots.row(0, named=True)
    assert (snapshot["total_results"], snapshot["last_page"]) == (total, last_page)
    assert_nothing_lost(tables, snapshot["snapshot_id"], text)

    rows = tables.listings.sort("position").to_dicts()
    assert_listings_match(rows, docs, layouts, show_age, fetched_at)


@SETTINGS
@given(layout_pages())
def test_a_page_of_every_text_layout_parses_back_to_its_truth(page) -> None:
    """Rendered by any layout's rules (docs/input-format.md §0), a page is detected as that
    layout and every listing reads back to its truth; DocHub's footer has no total."""
    layout, docs, titles, show_age, separator, fetched_at = page
    total, last_page = 10 * len(docs) + 3, 7
    text = render_page(
        docs, fetched_at, total_results=total, last_page=last_page, separator=separator,
        title_layouts=titles, show_age=show_age, layout=layout,
    )  # fmt: skip
    tables = _normalise_text(text, fetched_at)

    rejected = tables.rejects.select("position", "fragment", "reason").rows()
    assert tables.rejects.height == 0, rejected
    snapshot = tables.snapshots.row(0, named=True)
    # Layouts that print this page alike cannot be told apart, and need not be: a page
    # whose sizes all have two nonzero decimals is the same text trimmed or not.
    same_text = snapshot["layout"] in TEXT_LAYOUTS and text == render_page(
        docs, fetched_at, total_results=total, last_page=last_page, separator=separator,
        title_layouts=titles, show_age=show_age, layout=snapshot["layout"],
    )  # fmt: skip
    assert snapshot["layout"] == layout or same_text, snapshot["layout"]
    assert snapshot["page_type"] == "search"
    shown_total = None if layout.startswith("dochub") else total
    assert (snapshot["total_results"], snapshot["last_page"]) == (shown_total, last_page)
    assert_nothing_lost(tables, snapshot["snapshot_id"], text)
    rows = tables.listings.sort("position").to_dicts()
    assert_listings_match(rows, docs, titles, show_age, fetched_at, layout)


def _size_bounds(texts: list[str]) -> list[tuple[int, int, int]]:
    frame = pl.DataFrame({"t": texts}).select(fields.size_fields(pl.col("t"))[:3])
    return frame.rows()


@settings(max_examples=300, deadline=None)
@given(st.lists(sizes(), min_size=1, max_size=50))
def test_size_bounds_are_every_byte_count_that_renders_the_same(truths: list[int]) -> None:
    """min and max render as the text; one byte further out does not."""
    texts = [render_size(b) for b in truths]
    for b, text, (point, low, high) in zip(truths, texts, _size_bounds(texts), strict=True):
        assert low <= b <= high
        assert low <= point <= high
        assert render_size(low) == text and render_size(high) == text
        assert low == 0 or render_size(low - 1) != text
        # The site's sizes end at 2**63 - 1 (docs/input-format.md §1.3): no byte past it.
        assert high == fields.MAX_SIZE_BYTES or render_size(high + 1) != text


@settings(max_examples=300, deadline=None)
@given(fetched_ats(), st.lists(age_seconds(), min_size=1, max_size=50))
def test_age_intervals_are_every_upload_time_that_renders_the_same(fetched_at, diffs) -> None:
    """min and max render as the age text; one second further out does not."""
    second = timedelta(seconds=1)
    uploads = [fetched_at - timedelta(seconds=d) for d in diffs]
    texts = [render_age(fetched_at, u) for u in uploads]
    frame = pl.DataFrame({"age": texts, "fetched_at": [fetched_at] * len(texts)}).select(
        fields.age_fields(pl.col("age"), pl.col("fetched_at").dt.cast_time_unit("us"))
    )
    for upload, text, (low, high, error) in zip(uploads, texts, frame.rows(), strict=True):
        assert error is None
        assert low <= upload <= high
        assert render_age(fetched_at, low) == text and render_age(fetched_at, high) == text
        assert render_age(fetched_at, low - second) != text
        assert high == fetched_at or render_age(fetched_at, high + second) != text


# Sizes no byte count renders, as a broken page shows them: ending in a unit word, or a
# bare token without one (`5`, `619.3`, `MB5`), which ends its listing only because the
# age block follows it (docs/input-format.md §1.7).
_BAD_SIZES = st.one_of(
    st.sampled_from(["NaN GB", "-1 KB", "1e309 MB", "12.83MB", "1,024.00 KB", "∞ TB", "? B"]),
    st.from_regex(r"[0-9a-zA-Z.,+\-]{1,8}( ?[A-Za-z]{1,5})", fullmatch=True).filter(
        lambda size: not _renders(size)
    ),
    st.sampled_from(["5", "619.3", "12,83", "-1", "MB5", "12.83MB3", "0"]),
    st.from_regex(r"[0-9a-zA-Z.,+\-]{0,7}[0-9.,+\-]", fullmatch=True),
)


def _renders(size: str) -> bool:
    return _size_bounds([size])[0][0] is not None


@settings(SETTINGS, max_examples=60)
@given(pages_(), _BAD_SIZES, st.data())
def test_a_corrupted_tail_between_two_listings_is_one_reject_and_its_neighbours_parse(
    page, bad_size: str, data: st.DataObject
) -> None:
    """A listing whose size breaks the rules ends where its tail ends: a reject of its own
    bytes, never merged into the next listing (which keeps its own title and fields). That
    holds for a bare size too, since an age block follows it (before the fix a bare size
    merged the listing into the next one)."""
    docs, layouts, show_age, separator, fetched_at = page
    rendered = [
        render_listing(doc, fetched_at, title_layout=layout, show_age=aged)
        for doc, layout, aged in zip(docs, layouts, show_age, strict=True)
    ]
    bad = f"坏描述0 码力 | 12 页 | {bad_size} | 9 月前3"
    at = data.draw(st.integers(0, len(rendered)), label="inserted before listing")
    body = separator.join([*rendered[:at], bad, *rendered[at:]]) + "\n"
    text = body + render_footer(99, default_pager(7))
    tables = _normalise_text(text, fetched_at)

    assert tables.rejects.select("fragment").to_series().to_list() == [bad]
    assert tables.rejects["reason"].to_list() == [
        f"unknown size '{bad_size}': expected N.NN B|KB|MB|GB|TB|PB|EB|ZB|YB or 0 Bytes"
    ]
    assert tables.listings.height == len(docs)
    # Positions are places on the page: the rejected listing keeps its own.
    assert tables.rejects["position"].to_list() == [at + 1]
    rows = tables.listings.sort("position").to_dicts()
    places = [p for p in range(1, len(docs) + 2) if p != at + 1]
    assert [row["position"] for row in rows] == places
    in_order = [{**row, "position": i} for i, row in enumerate(rows, start=1)]
    assert_listings_match(in_order, docs, layouts, show_age, fetched_at)
