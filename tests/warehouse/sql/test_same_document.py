"""The same-document rule's one case table (tests/cases/same_document.py) against both of its
implementations: the title catalogue splits the text listing at the exact title exactly when
the two are the same document, and the warehouse keys the text listing as the sited document
exactly then (docs/input-format.md §3.2, "The same document")."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from pipeline.parse import catalogue
from tests.cases.same_document import CASES, DESCRIPTION, TITLE, Case, Sighting
from tests.warehouse.sql.conftest import T0, RunModels, listing, rows, snapshot

IDS = [case.name for case in CASES]
# The lake's types of what the catalogue reads (nulls would otherwise be typed as nothing).
TYPES = {"site": pl.String, "pages": pl.Int32, "size_bytes": pl.Int64, "size_bytes_min": pl.Int64,
         "size_bytes_max": pl.Int64, "heading": pl.String, "title": pl.String,
         "description": pl.String, "title_source": pl.String}  # fmt: skip


def _facts(sighting: Sighting) -> dict[str, Any]:
    low, high = sighting.size
    return {
        "site": sighting.site,
        "pages": sighting.pages,
        "size_bytes": low,
        "size_bytes_min": low,
        "size_bytes_max": high,
    }


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_catalogue_splits_at_a_title_of_the_same_document_only(case: Case) -> None:
    exact = {**_facts(case.exact), "title": TITLE, "description": DESCRIPTION,
             "title_source": "html"}  # fmt: skip
    text = {**_facts(case.text), "heading": case.text.heading, "title": None,
            "description": None, "title_source": "unknown"}  # fmt: skip
    table = catalogue.build(pl.DataFrame([exact], schema_overrides=TYPES).lazy())
    resolved = catalogue.resolve(pl.DataFrame([text], schema_overrides=TYPES), table)
    split = resolved.row(0, named=True)
    assert (split["title_source"] == "catalogue") is case.same
    if case.same:
        assert (split["title"], split["description"]) == (TITLE, DESCRIPTION)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_warehouse_keys_a_text_listing_as_the_same_document_only(
    case: Case, run_models: RunModels
) -> None:
    con, _ = run_models(
        "int_listings__document_keys",
        [
            snapshot("html", T0, form="html", site=case.exact.site),
            snapshot("text", T0, form="text", site=case.text.site),
        ],
        [
            listing("html", 1, TITLE + DESCRIPTION, T0, title=TITLE, description=DESCRIPTION,
                    title_source="html", document_id=2413, document_ref="2413",
                    **_facts(case.exact)),
            listing("text", 1, case.text.heading, T0, **_facts(case.text)),
        ],
    )  # fmt: skip
    keys = {
        row["snapshot_id"]: row["document_key"]
        for row in rows(con, "select snapshot_id, document_key from int_listings__document_keys")
    }
    assert (keys["text"] == keys["html"]) is case.same
