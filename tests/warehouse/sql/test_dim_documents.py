"""dim_documents: one row per document, its history, and intervals intersected across snapshots."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from tests.warehouse.sql.conftest import DAY, MONTH, SECOND, T0, listing, rows, snapshot

T1 = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
T2 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)  # a calendar month (31 days) later
HEADING = "Kubernetes 网络权威指南\nCNI 插件与 Service 实现"


def test_two_snapshots_a_month_apart_narrow_the_upload_interval_to_their_overlap(
    run_models,
) -> None:
    """`1 月前` on Oct 1 and `2 月前` on Nov 1: each window is 30 days, the overlap 29."""
    month_ago = {"uploaded_at_min": T1 - 2 * MONTH + SECOND, "uploaded_at_max": T1 - MONTH}
    two_months_ago = {"uploaded_at_min": T2 - 3 * MONTH + SECOND, "uploaded_at_max": T2 - 2 * MONTH}
    con, _ = run_models(
        "dim_documents",
        [snapshot("s1", T1), snapshot("s2", T2, query="网络")],
        [
            listing("s1", 1, HEADING, T1, age_text="1 月前", **month_ago),
            listing("s2", 3, HEADING, T2, age_text="2 月前", **two_months_ago),
        ],
    )
    assert rows(
        con,
        "select times_seen, first_seen_at, last_seen_at, queries, uploaded_at_min, "
        "uploaded_at_max, uploaded_window_hours, upload_intervals_seen, "
        "is_upload_interval_empty from dim_documents",
    ) == [
        {
            "times_seen": 2,
            "first_seen_at": T1,
            "last_seen_at": T2,
            "queries": ["kubernetes", "网络"],
            # the later lower bound (Nov 1 − 90 d + 1 s) and the earlier upper bound (Oct 1 − 30 d)
            "uploaded_at_min": datetime(2026, 8, 3, 9, 30, 1, tzinfo=UTC),
            "uploaded_at_max": datetime(2026, 9, 1, 9, 30, tzinfo=UTC),
            "uploaded_window_hours": 29 * 24.0,
            "upload_intervals_seen": 2,
            "is_upload_interval_empty": False,
        }
    ]


def test_one_snapshot_keeps_its_own_interval_a_30_day_month_being_720_hours(run_models) -> None:
    con, _ = run_models(
        "dim_documents",
        [snapshot("s1", T1)],
        [
            listing(
                "s1",
                1,
                HEADING,
                T1,
                age_text="1 月前",
                uploaded_at_min=T1 - 2 * MONTH + SECOND,
                uploaded_at_max=T1 - MONTH,
            )
        ],
    )
    assert rows(con, "select uploaded_window_hours, times_seen from dim_documents") == [
        {"uploaded_window_hours": 720.0, "times_seen": 1}
    ]


def test_contradicting_ages_give_an_empty_interval_that_is_flagged_and_reported(
    run_models,
) -> None:
    """`1 天前` twice, ten days apart: no upload time fits both. The build warns, not fails."""
    later = T0 + 10 * DAY
    con, result = run_models(
        "rpt_data_quality",
        [snapshot("s1", T0), snapshot("s2", later)],
        [
            listing("s1", 1, HEADING, T0, age_days=(1, 2), age_text="1 天前"),
            listing("s2", 1, HEADING, later, age_days=(1, 2), age_text="1 天前"),
        ],
    )
    document = rows(
        con,
        "select document_key, uploaded_at_min, uploaded_at_max, uploaded_window_hours, "
        "is_upload_interval_empty, is_size_interval_empty from dim_documents",
    )
    key = document[0]["document_key"]
    assert document == [
        {
            "document_key": key,
            "uploaded_at_min": later - 2 * DAY + SECOND,
            "uploaded_at_max": T0 - DAY,
            "uploaded_window_hours": None,
            "is_upload_interval_empty": True,
            "is_size_interval_empty": False,
        }
    ]
    warned = {r.test.name: r for r in result.warnings}
    assert list(warned) == ["assert_document_intervals_intersect"]
    assert warned["assert_document_intervals_intersect"].failing_count == 1
    assert warned["assert_document_intervals_intersect"].sample["document_key"].to_list() == [key]
    assert rows(con, "select finding, severity, subject_id, magnitude from rpt_data_quality") == [
        {
            "finding": "upload interval empty",
            "severity": "high",
            "subject_id": key,
            "magnitude": (9 * 86400 + 1) / 3600,  # nine days and a second apart
        }
    ]


def test_size_bounds_seen_differently_narrow_to_their_overlap(run_models) -> None:
    """While the printed size is part of the key, every sighting has the same bounds (the lake
    derives them from the size text); once a site id is the key, bounds may differ, and the
    size interval is their overlap like the upload interval."""
    later = T0 + DAY
    con, result = run_models(
        "dim_documents",
        [snapshot("s1", T0), snapshot("s2", later)],
        [
            listing("s1", 1, HEADING, T0),  # 1.50 MB: 1 567 622 - 1 578 106 bytes
            listing("s2", 1, HEADING, later, size_bytes_min=1570000, size_bytes_max=1580000),
        ],
    )
    assert rows(
        con, "select size_bytes_min, size_bytes_max, is_size_interval_empty from dim_documents"
    ) == [{"size_bytes_min": 1570000, "size_bytes_max": 1578106, "is_size_interval_empty": False}]
    assert result.warnings == []


def test_the_size_is_the_exact_one_where_the_bounds_meet_not_the_latest_rounded_one(
    run_models,
) -> None:
    """An API row gives 13 450 517 bytes; a text page a day later prints `12.83 MB`
    (13 453 230, bounds 13 447 988 - 13 458 472): the size is the exact one, inside its
    interval, though the text page is the latest sighting."""
    later = T0 + DAY
    con, result = run_models(
        "dim_documents",
        [snapshot("api", T0, form="json"), snapshot("text", later)],
        [
            listing("api", 1, HEADING, T0, document_id=2413, document_ref="2413",
                    size_text=None, size_bytes=13450517, size_bytes_min=13450517,
                    size_bytes_max=13450517),
            listing("text", 1, HEADING, later, document_id=2413, document_ref="2413",
                    size_text="12.83 MB", size_bytes=13453230, size_bytes_min=13447988,
                    size_bytes_max=13458472),
        ],
    )  # fmt: skip
    assert rows(
        con, "select size_text, size_bytes, size_bytes_min, size_bytes_max from dim_documents"
    ) == [{"size_text": "12.83 MB", "size_bytes": 13450517, "size_bytes_min": 13450517,
           "size_bytes_max": 13450517}]  # fmt: skip
    assert all(r.passed for r in result.tests)


def test_the_latest_point_is_clamped_into_the_interval_and_kept_where_it_is_empty(
    run_models,
) -> None:
    """Bounds that meet part-way: the latest point, above the shared upper bound, becomes
    that bound; sightings that contradict each other keep the latest point (none fits)."""
    later = T0 + DAY
    con, _ = run_models(
        "dim_documents",
        [snapshot("s1", T0), snapshot("s2", later)],
        [
            listing("s1", 1, HEADING, T0, document_ref="7", document_id=7,
                    size_bytes=1568000, size_bytes_min=1567622, size_bytes_max=1570000),
            listing("s2", 1, HEADING, later, document_ref="7", document_id=7),  # 1 572 864
            listing("s1", 2, "另一个文档", T0, document_ref="8", document_id=8,
                    size_bytes=100, size_bytes_min=100, size_bytes_max=100),
            listing("s2", 2, "另一个文档", later, document_ref="8", document_id=8,
                    size_bytes=200, size_bytes_min=200, size_bytes_max=200),
        ],
    )  # fmt: skip
    assert rows(
        con,
        "select document_id, size_bytes, size_bytes_min, size_bytes_max, "
        "is_size_interval_empty from dim_documents order by document_id",
    ) == [
        {"document_id": 7, "size_bytes": 1570000, "size_bytes_min": 1567622,
         "size_bytes_max": 1570000, "is_size_interval_empty": False},
        {"document_id": 8, "size_bytes": 200, "size_bytes_min": 200, "size_bytes_max": 100,
         "is_size_interval_empty": True},
    ]  # fmt: skip


def test_the_key_ignores_whitespace_and_digits_the_glued_price_may_have_taken(run_models) -> None:
    """The same listing rendered on its own line, flattened, and with `2021` + `0 码力` read
    as price 20210: one document, keyed by md5 of the heading without them and the rest."""
    later = T0 + DAY
    con, _ = run_models(
        "dim_documents",
        [snapshot("s1", T0), snapshot("s2", later), snapshot("s3", later + DAY)],
        [
            listing(
                "s1",
                1,
                "MySQL 实战\n索引与事务 2021",
                T0,
                price=0,
                price_text="20210",
                price_ambiguous=True,
            ),
            listing(
                "s2",
                1,
                "MySQL 实战 索引与事务",
                later,
                price=20210,
                price_text="20210",
                price_ambiguous=True,
            ),
            listing("s3", 1, "MySQL 实战索引与事务 2021", later + DAY),
        ],
    )
    expected = hashlib.md5(
        "\x1f".join(["MySQL实战索引与事务", "1572864", "12", "码力"]).encode()
    ).hexdigest()[:16]
    assert rows(
        con, "select document_key, times_seen, is_price_ambiguous_seen from dim_documents"
    ) == [{"document_key": expected, "times_seen": 3, "is_price_ambiguous_seen": True}]


def test_documents_differing_in_size_pages_or_credit_are_different_documents(run_models) -> None:
    con, _ = run_models(
        "dim_documents",
        [snapshot("s1", T0)],
        [
            listing("s1", 1, HEADING, T0),
            listing("s1", 2, HEADING, T0, pages=None),
            listing("s1", 3, HEADING, T0, credit="魔豆"),
            listing(
                "s1",
                4,
                HEADING,
                T0,
                size_text="1.51 MB",
                size_bytes=1583350,
                size_bytes_min=1578108,
                size_bytes_max=1588592,
            ),
        ],
    )
    assert rows(con, "select count(*) as documents from dim_documents") == [{"documents": 4}]


def test_the_latest_sighting_gives_the_current_price_rating_and_the_latest_known_title(
    run_models,
) -> None:
    later = T0 + DAY
    con, _ = run_models(
        "dim_documents",
        [snapshot("s1", T0), snapshot("s2", later)],
        [
            listing("s1", 1, HEADING, T0, title="Kubernetes 网络权威指南", rating=4.5, score=450),
            listing("s2", 1, HEADING, later, rating=4.0, score=400, price=5, price_text="5"),
        ],
    )
    assert rows(con, "select title, latest_price, latest_rating from dim_documents") == [
        {"title": "Kubernetes 网络权威指南", "latest_price": 5, "latest_rating": 4.0}
    ]


# A document's site reference (schema version 3): the id as the page's link prints it.
UUID = "a1b2c3d4e5f60718"


def _site_key(site: str, ref: str) -> str:
    return hashlib.md5("\x1f".join(["site id", site, ref]).encode()).hexdigest()[:16]


def test_a_document_linked_only_by_a_uuid_is_keyed_by_site_and_ref(run_models) -> None:
    """Two HTML pages linking it by its uuid (no numeric id anywhere) and a text page whose
    listing agrees with it: one document; the same uuid on another site is another one."""
    days = [T0 + n * DAY for n in range(4)]
    con, _ = run_models(
        "rpt_data_quality",  # dim_documents and fct_listing_appearances upstream
        [
            snapshot("h1", days[0], form="html"),
            snapshot("h2", days[1], form="html"),
            snapshot("t1", days[2]),
            snapshot("o1", days[3], form="html", site="other.example"),
        ],
        [
            listing("h1", 1, HEADING, days[0], document_ref=UUID, title_source="html"),
            listing("h2", 4, HEADING, days[1], document_ref=UUID, title_source="html"),
            listing("t1", 2, HEADING, days[2]),
            listing("o1", 1, HEADING, days[3], document_ref=UUID, site="other.example"),
        ],
    )
    assert rows(
        con,
        "select document_key, site, document_ref, document_id, times_seen, forms_seen "
        "from dim_documents order by site",
    ) == [
        {"document_key": _site_key("other.example", UUID), "site": "other.example",
         "document_ref": UUID, "document_id": None, "times_seen": 1, "forms_seen": ["html"]},
        {"document_key": _site_key("wenku.it", UUID), "site": "wenku.it",
         "document_ref": UUID, "document_id": None, "times_seen": 3,
         "forms_seen": ["text", "html"]},
    ]  # fmt: skip
    assert rows(
        con,
        "select snapshot_id, document_key, document_ref from fct_listing_appearances "
        "order by snapshot_id",
    ) == [
        {"snapshot_id": "h1", "document_key": _site_key("wenku.it", UUID), "document_ref": UUID},
        {"snapshot_id": "h2", "document_key": _site_key("wenku.it", UUID), "document_ref": UUID},
        {"snapshot_id": "o1", "document_key": _site_key("other.example", UUID),
         "document_ref": UUID},
        {"snapshot_id": "t1", "document_key": _site_key("wenku.it", UUID), "document_ref": UUID},
    ]  # fmt: skip


def test_a_numeric_id_an_api_row_pairs_with_a_uuid_is_that_uuids_document(run_models) -> None:
    """An old page links /document/2413, the API gives id 2413 with uuid U, a newer page
    links /document/U: one document, known by U, its numeric id kept."""
    days = [T0 + n * DAY for n in range(3)]
    con, _ = run_models(
        "rpt_data_quality",  # dim_documents and fct_listing_appearances upstream
        [
            snapshot("old", days[0], form="html"),
            snapshot("api", days[1], form="json"),
            snapshot("new", days[2], form="html"),
        ],
        [
            listing("old", 1, HEADING, days[0], document_id=2413, document_ref="2413"),
            listing("api", 1, HEADING, days[1], document_id=2413, document_ref=UUID),
            listing("new", 1, HEADING, days[2], document_ref=UUID),
        ],
    )
    assert rows(
        con, "select document_key, document_ref, document_id, times_seen from dim_documents"
    ) == [
        {"document_key": _site_key("wenku.it", UUID), "document_ref": UUID,
         "document_id": 2413, "times_seen": 3}
    ]  # fmt: skip
    assert rows(
        con,
        "select snapshot_id, document_ref, document_id from int_listings__keyed "
        "order by snapshot_id",
    ) == [
        {"snapshot_id": "api", "document_ref": UUID, "document_id": 2413},
        {"snapshot_id": "new", "document_ref": UUID, "document_id": None},
        {"snapshot_id": "old", "document_ref": UUID, "document_id": 2413},
    ]


def test_a_numeric_id_keys_as_its_text_with_or_without_its_ref(run_models) -> None:
    """A numeric ref is the id as text, so the key is the one the id alone gave before refs
    were recorded: lakes upgraded to version 3 (ref from id) keep their document keys."""
    con, _ = run_models(
        "dim_documents",
        [snapshot("s1", T0, form="html"), snapshot("s2", T0 + DAY, form="json")],
        [
            listing("s1", 1, HEADING, T0, document_id=2413, document_ref="2413"),
            listing("s2", 1, HEADING, T0 + DAY, document_id=2413),  # a parser giving no ref
            listing("s2", 2, "Redis 设计与实现", T0 + DAY, document_id=77),
        ],
    )
    assert rows(
        con,
        "select document_key, document_ref, document_id, times_seen from dim_documents "
        "order by document_id",
    ) == [
        {"document_key": _site_key("wenku.it", "77"), "document_ref": "77",
         "document_id": 77, "times_seen": 1},
        {"document_key": _site_key("wenku.it", "2413"), "document_ref": "2413",
         "document_id": 2413, "times_seen": 2},
    ]  # fmt: skip
