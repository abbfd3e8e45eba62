"""Document identity across forms: the site's id where a form shows one, and a text-form
listing joined to the document seen in HTML/JSON when heading, pages and size agree; then
dim_documents intersects the text intervals with the exact points, and a point outside an
interval is a data-quality finding (docs/input-format.md §3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.ingest import metadata
from pipeline.run import run
from pipeline.warehouse import database
from tests.conftest import RAW, SAMPLE
from tests.parse.golden import sample_documents as truth

FIXTURES = Path(__file__).parents[2] / "parse" / "fixtures"


def _warehouse(tmp_path: Path, *, shift_first_upload_days: int = 0) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in (SAMPLE, RAW / "wenku-search-page.html", RAW / "wenku-search-page.json"):
        for file in (path, path.with_name(path.name + ".meta.json")):
            shutil.copy(file, raw / file.name)
    if shift_first_upload_days:
        api = raw / "wenku-search-page.json"
        page = json.loads(api.read_text(encoding="utf-8"))
        page["document"][0]["created_at"] = "2025-01-01T00:00:00Z"  # years before `9 月前`
        api.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "warehouse.duckdb"
    run.normalise_paths([raw], tmp_path / "lake", metadata.ReadOptions())
    database.build(tmp_path / "lake", db)
    return db


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _warehouse(tmp_path_factory.mktemp("identity"))


def test_each_document_is_one_row_seen_in_all_three_forms(db: Path) -> None:
    rows = database.query(
        "select document_id, file_family, forms_seen, times_seen, title from dim_documents "
        "where document_id is not null order by document_id",
        db=db,
    ).rows()
    expected = sorted(truth.DOCUMENTS, key=lambda doc: doc.document_id)
    # forms_seen is an ENUM list: in the form vocabulary's order (vocab.FORMS).
    assert rows == [
        (doc.document_id, doc.file_family, ["text", "html", "json"], 3, doc.title)
        for doc in expected
    ]


def test_the_text_intervals_shrink_to_the_apis_exact_points(db: Path) -> None:
    """The size's point is the exact size too, not a page's rounded one: the latest
    sighting (the three forms share their fetch time) prints a size, and `12.83 MB` is
    13 453 230 bytes where the API says 13 450 517."""
    rows = database.query(
        "select document_id, size_bytes_min, size_bytes_max, uploaded_at_min, uploaded_at_max, "
        "is_upload_interval_empty, size_bytes, size_text from dim_documents "
        "where document_id is not null order by document_id",
        db=db,
    ).rows()
    expected = sorted(truth.DOCUMENTS, key=lambda doc: doc.document_id)
    assert [r[:3] for r in rows] == [(d.document_id, d.size_bytes, d.size_bytes) for d in expected]
    assert [(r[3], r[4]) for r in rows] == [(d.created_at, d.created_at) for d in expected]
    assert not any(r[5] for r in rows)
    assert [r[6] for r in rows] == [d.size_bytes for d in expected]
    assert (13_450_517, "12.83 MB") in [(r[6], r[7]) for r in rows]


def test_an_exact_point_outside_a_text_interval_is_a_data_quality_finding(
    tmp_path: Path,
) -> None:
    db = _warehouse(tmp_path, shift_first_upload_days=1)
    first = truth.DOCUMENTS[0].document_id
    flagged = database.query(
        "select document_id from dim_documents where is_upload_interval_empty", db=db
    ).rows()
    assert flagged == [(first,)]
    findings = database.query(
        "select count(*) from rpt_data_quality where finding = 'upload interval empty'", db=db
    ).rows()
    assert findings == [(1,)]
