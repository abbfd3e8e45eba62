"""Fuzz tests: whatever the bytes, the tables keep docs/input-format.md §5's promises, a
corrupted listing on a generated page leaves its neighbours exactly as they were, a flood of
non-listing elements gives a bounded number of rejects, and whatever comments, case,
whitespace and semicolons a query holds, `listings sql`'s read-only check refuses it or
runs only reads (`tests.fuzz.sql`).

The budget comes from the hypothesis profile (`tests.fuzz.profile`): a few examples in the
normal suite, `FUZZ_EXAMPLES` each under `make fuzz`.
"""

from __future__ import annotations

import html as html_escape
import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pipeline.parse.bound import MAX_REJECTS_PER_PAGE
from render.api import render_json_page
from render.fields import default_pager
from render.html import render_html_page
from render.text import render_footer, render_listing
from tests.conftest import assert_listings_match
from tests.fuzz import batch_size, profile
from tests.fuzz.harness import COUNTS, check_batch, normalise_pages
from tests.fuzz.pages import (
    BAD_AGES,
    FETCH_TIMES,
    HUGE_NUMBERS,
    ODD_FIELDS,
    REAL_PAGES,
    OddTail,
    Page,
    amplified_pages,
    generated_pages,
    mutated_pages,
    odd_tails,
)
from tests.fuzz.sql import commented_queries
from tests.strategies import pages_, structured_pages_

pytestmark = pytest.mark.fuzz
# The neighbour tests draw one or two pages per example, a batch test dozens: they get
# this share of the profile's examples, so most of the time goes to the batch test.
NEIGHBOUR_SHARE = 0.25 if os.environ.get("FUZZ_PROFILE") == "fuzz" else 1.0


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[Page], datetime]:
    """`batch_size()` mutated pages, seeded from the committed pages and from one drawn
    set of documents in all three forms, and the run's fetch time."""
    seeds = [*REAL_PAGES, *draw(generated_pages())]
    n = draw(st.integers(*batch_size()))
    pages = draw(st.lists(mutated_pages(seeds), min_size=n, max_size=n))
    return pages, draw(st.sampled_from(FETCH_TIMES))


@profile()
@given(batches())
def test_mutated_pages_of_every_form_keep_every_invariant(batch) -> None:
    pages, fetched_at = batch
    frame, tables = normalise_pages(pages, fetched_at)
    check_batch(frame, tables)
    COUNTS["examples"] += 1


# --- Neighbours of a corrupted listing (generated pages) ----------------------------------


def _without_spans(rows: list[dict]) -> list[dict]:
    """Rows as compared across two renderings of a page: where they sit may differ."""
    return [
        {k: v for k, v in row.items() if k not in ("snapshot_id", "byte_start", "byte_end")}
        for row in rows
    ]


def _rows(tables, name: str) -> tuple[list[dict], list[dict]]:
    """(listings, rejects) of the file called `name`, in page order."""
    sid = tables.snapshots.filter(pl.col("source_path").str.ends_with(f"/{name}"))[
        "snapshot_id"
    ].item()
    mine = pl.col("snapshot_id") == sid
    return (
        tables.listings.filter(mine).sort("position").to_dicts(),
        tables.rejects.filter(mine).sort("byte_start").to_dicts(),
    )


@profile(NEIGHBOUR_SHARE)
@given(pages_(max_listings=6), odd_tails(self_ending=True), st.data())
def test_a_listing_with_an_odd_tail_leaves_its_text_neighbours_exact(
    page, tail: OddTail, data: st.DataObject
) -> None:
    """A listing with extreme or broken fields inserted among rendered ones: it is one
    listing or one reject of exactly its own text, and every other listing reads back as
    its truth (docs/input-format.md §1.7)."""
    docs, layouts, show_age, separator, fetched_at = page
    rendered = [
        render_listing(doc, fetched_at, title_layout=layout, show_age=aged)
        for doc, layout, aged in zip(docs, layouts, show_age, strict=True)
    ]
    odd = f"坏标题坏描述{tail.text}"
    at = data.draw(st.integers(0, len(rendered)), label="inserted before listing")
    text = separator.join([*rendered[:at], odd, *rendered[at:]]) + "\n"
    text += render_footer(99, default_pager(7))
    frame, tables = normalise_pages([Page("page.txt", text.encode())], fetched_at)
    check_batch(frame, tables)
    COUNTS["examples"] += 1

    listings, rejects = _rows(tables, "page.txt")
    own = [row for row in listings if row["position"] == at + 1]
    if own:
        assert rejects == []
        assert own[0]["heading"].startswith("坏标题坏描述")
        assert (own[0]["size_text"], own[0]["age_text"]) == (tail.size, tail.age)
    else:
        assert [(r["position"], r["fragment"]) for r in rejects] == [(at + 1, odd)]
    others = [row for row in listings if row["position"] != at + 1]
    assert [row["position"] for row in others] == [p for p in range(1, len(docs) + 2)
                                                   if p != at + 1]  # fmt: skip
    in_order = [{**row, "position": i} for i, row in enumerate(others, start=1)]
    assert_listings_match(in_order, docs, layouts, show_age, fetched_at)


@profile(NEIGHBOUR_SHARE)
@given(
    structured_pages_(max_listings=6),
    st.sampled_from(sorted(ODD_FIELDS)).flatmap(
        lambda field: st.tuples(st.just(field), st.sampled_from(ODD_FIELDS[field]))
    ),
    st.data(),
)
def test_a_document_with_an_odd_field_leaves_its_json_neighbours_exact(
    page, odd: tuple[str, object], data: st.DataObject
) -> None:
    """One document's field set to an extreme or mistyped value: the other documents read
    exactly as on the untouched page (which the property tests hold to its truth)."""
    docs, _, fetched_at = page
    if not docs:
        return
    at = data.draw(st.integers(0, len(docs) - 1), label="corrupted document")
    clean = render_json_page(docs, total_results=len(docs))
    body = json.loads(clean)
    body["document"][at][odd[0]] = odd[1]
    broken = json.dumps(body, ensure_ascii=False)
    assume(broken != clean)
    files = [Page("clean.json", clean.encode()), Page("broken.json", broken.encode())]
    frame, tables = normalise_pages(files, fetched_at)
    check_batch(frame, tables)
    COUNTS["examples"] += 1
    _assert_neighbours_unchanged(tables, "clean.json", "broken.json", at + 1)


def _assert_neighbours_unchanged(tables, clean: str, broken: str, position: int) -> None:
    clean_rows, clean_rejects = _rows(tables, clean)
    broken_rows, broken_rejects = _rows(tables, broken)
    assert clean_rejects == []
    assert len(broken_rejects) <= 1
    assert [r["position"] for r in broken_rejects] in ([], [position])
    keep = [row for row in clean_rows if row["position"] != position]
    kept = [row for row in broken_rows if row["position"] != position]
    assert _without_spans(kept) == _without_spans(keep)


_ITEM = re.compile(r"<li><h3 .*?</li>", re.S)


@st.composite
def odd_item_edits(draw: st.DrawFn) -> tuple[str, str]:
    """(a pattern inside a served HTML item, its odd replacement text)."""
    field = draw(st.sampled_from(["info", "age", "rating", "href"]))
    if field == "info":
        return r'(?<=<span class="float-right">)[^<]*', draw(odd_tails()).info
    if field == "age":
        return r'(?<=<span class="hidden-xs-only">)[^<]*', " | " + draw(st.sampled_from(BAD_AGES))
    if field == "rating":
        return r'(?<=<span class="el-rate__text">)[^<]*', draw(st.sampled_from(HUGE_NUMBERS))
    return r'(?<=href=")/document/[0-9]+', "/document/" + draw(st.sampled_from(HUGE_NUMBERS))


@profile(NEIGHBOUR_SHARE)
@given(structured_pages_(max_listings=6), odd_item_edits(), st.data())
def test_an_item_with_an_odd_field_leaves_its_html_neighbours_exact(
    page, edit: tuple[str, str], data: st.DataObject
) -> None:
    docs, show_age, fetched_at = page
    if not docs:
        return
    at = data.draw(st.integers(0, len(docs) - 1), label="corrupted item")
    clean = render_html_page(
        docs, fetched_at, total_results=len(docs), last_page=1, site_document_count=9,
        show_age=show_age,
    )  # fmt: skip
    items = list(_ITEM.finditer(clean))
    assert len(items) == len(docs)
    item = items[at]
    pattern, replacement = edit
    changed = re.sub(pattern, html_escape.escape(replacement, quote=False), item.group(), count=1)
    broken = clean[: item.start()] + changed + clean[item.end() :]
    # Same bytes, same fetch time: one snapshot (an item without an age has none to edit).
    assume(broken != clean)
    files = [Page("clean.html", clean.encode()), Page("broken.html", broken.encode())]
    frame, tables = normalise_pages(files, fetched_at)
    check_batch(frame, tables)
    COUNTS["examples"] += 1
    _assert_neighbours_unchanged(tables, "clean.html", "broken.html", at + 1)


# --- Element-count amplification (pipeline/parse/bound.py) --------------------------------


@profile(NEIGHBOUR_SHARE)
@given(amplified_pages(), st.sampled_from(FETCH_TIMES))
def test_a_flood_of_non_listing_elements_gives_a_bounded_number_of_rejects(
    page: Page, fetched_at: datetime
) -> None:
    """Thousands of `<li>`, array items or broken tails on one page: every invariant holds,
    and the page's parse rejects stay within the bound (docs/input-format.md §5)."""
    frame, tables = normalise_pages([page], fetched_at)
    check_batch(frame, tables)
    COUNTS["examples"] += 1
    COUNTS["amplified pages"] += 1
    # The bound is on what parsing makes of the page (docs/input-format.md §5): a listing
    # parsed before the cut and refused by the schema (say, uploaded after the fetch) is a
    # reject of the validate stage, one per such listing, as on any page.
    parse_rejects = tables.rejects.filter(pl.col("stage") == "parse").height
    assert parse_rejects <= MAX_REJECTS_PER_PAGE + 1 + BOUND_SLACK, (page.name, parse_rejects)


# Rejects a page may have besides its listings' (the footer's, the text around the list).
BOUND_SLACK = 2


# --- The read-only guard against commented SQL (pipeline/warehouse/read_only.py) ---------


def _sql_playground() -> tuple[Path, Path]:
    """(a warehouse to query, a folder to watch): made once per process. The folder holds
    an `import` database whose schema.sql would write a file, for `pragma import_database`."""
    import duckdb

    root = Path(tempfile.mkdtemp(prefix="fuzz-sql-"))
    out = root / "out"
    (out / "import").mkdir(parents=True)
    (out / "import" / "schema.sql").write_text(f"copy (select 1) to '{out}/imported.csv';\n")
    (out / "import" / "load.sql").write_text("")
    db = root / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table listings as select 1 as position")
    return db, out


_PLAYGROUND: list[tuple[Path, Path]] = []


def _state(db: Path, out: Path) -> tuple[list[str], bytes]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*")), db.read_bytes()


# A query takes ~40 ms, a batch of pages seconds: queries get more examples.
@profile(2.5)
@given(commented_queries())
def test_commented_sql_is_refused_or_harmless(query: str) -> None:
    """The guard alone (`database.each_result`: the check, no sandbox behind it) either
    refuses the query or runs only reads: no file appears, the warehouse is unchanged."""
    import duckdb

    from pipeline.errors import ReadOnlyQueryError
    from pipeline.warehouse import database

    if not _PLAYGROUND:
        _PLAYGROUND.append(_sql_playground())
    db, out = _PLAYGROUND[0]
    sql = query.replace("{out}", str(out))
    before = _state(db, out)
    try:
        for _, result in database.each_result(sql, db=db):
            if result is not None:
                result.pl()
    except (ReadOnlyQueryError, duckdb.Error):
        pass
    COUNTS["queries"] += 1
    assert _state(db, out) == before, sql
