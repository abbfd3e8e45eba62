"""Bad input: each case handled as docs/input-format.md §5 says, the run goes on, nothing is
lost."""

from __future__ import annotations

import codecs
import gzip
import random

import polars as pl

from pipeline.ingest import decode, metadata
from tests.conftest import SAMPLE, assert_nothing_lost

PAGE = SAMPLE.read_text(encoding="utf-8")


def _one(tables, name_fragment: str = "") -> tuple[dict, pl.DataFrame, pl.DataFrame]:
    snapshot = tables.snapshots.row(0, named=True)
    sid = snapshot["snapshot_id"]
    return (
        snapshot,
        tables.listings.filter(pl.col("snapshot_id") == sid),
        tables.rejects.filter(pl.col("snapshot_id") == sid),
    )


def test_an_empty_file_is_one_reject_and_the_others_still_parse(normalise_texts) -> None:
    tables = normalise_texts({"a-empty.txt": b"", "b-good.txt": PAGE})
    assert tables.listings.height == 10
    empty = tables.snapshots.filter(pl.col("source_path").str.ends_with("a-empty.txt")).row(
        0, named=True
    )
    assert empty["form"] == "unreadable"
    assert empty["read_error"] == "empty file (0 bytes)"
    rejects = tables.rejects.filter(pl.col("snapshot_id") == empty["snapshot_id"])
    assert rejects.select("stage", "reason", "byte_start", "byte_end").rows() == [
        ("read", "empty file (0 bytes)", 0, 0)
    ]


def test_random_bytes_are_one_reject_with_a_preview(normalise_texts) -> None:
    noise = random.Random(7).randbytes(4096)
    snapshot, listings, rejects = _one(normalise_texts({"noise.txt": noise}))
    assert listings.height == 0
    assert snapshot["form"] == "unreadable"
    assert rejects.height == 1
    reject = rejects.row(0, named=True)
    assert reject["stage"] == "read"
    assert reject["reason"].startswith(("binary content", "undecodable"))
    assert (reject["byte_start"], reject["byte_end"]) == (0, 4096)
    assert len(reject["fragment"]) > 0


def test_a_page_truncated_mid_tail_keeps_the_complete_listings(normalise_texts) -> None:
    """Cut inside the last tail: nine listings, the partial tenth rejected, no footer."""
    cut = PAGE.index("| 619.32 KB") + len("| 619.3")
    text = PAGE[:cut]
    snapshot, listings, rejects = _one(normalise_texts({"cut.txt": text}))
    assert listings.height == 9
    assert snapshot["total_results"] is None and snapshot["last_page"] is None
    assert rejects.height == 1
    reject = rejects.row(0, named=True)
    assert reject["fragment"].startswith("CurveFS方案设计")
    assert reject["fragment"].endswith("| 14 页 | 619.3")
    assert reject["reason"] == (
        "text after the last listing has no tail and no footer (page truncated?)"
    )
    assert_nothing_lost(normalise_texts({"cut.txt": text}), snapshot["snapshot_id"], text)


def test_an_unknown_size_unit_rejects_that_listing_only(normalise_texts) -> None:
    """`7.64 QB` is no unit the site prints: listing 4 is rejected, listing 5 keeps its text."""
    text = PAGE.replace("7.64 MB", "7.64 QB")
    tables = normalise_texts({"pb.txt": text})
    snapshot, listings, rejects = _one(tables)
    assert listings["position"].to_list() == [1, 2, 3, 5, 6, 7, 8, 9, 10]
    reject = rejects.row(0, named=True)
    assert rejects.height == 1
    assert reject["position"] == 4
    assert reject["stage"] == "parse"
    assert reject["reason"].startswith("unknown size '7.64 QB'")
    assert reject["fragment"].startswith("sealos 以 kubernetes")
    assert reject["fragment"].endswith("0 码力 | 29 页 | 7.64 QB | 9 月前3")
    fifth = listings.filter(pl.col("position") == 5).row(0, named=True)
    assert fifth["heading"].startswith("深入 Kubernetes 的无人区")
    assert_nothing_lost(tables, snapshot["snapshot_id"], text)


def test_a_listing_without_the_age_block_still_parses(normalise_texts) -> None:
    """Narrow layouts hide ` | AGE`: the rating follows the size; the interval is unknown."""
    text = PAGE.replace("| 2.18 MB | 6 月前3", "| 2.18 MB3")
    tables = normalise_texts({"narrow.txt": text})
    snapshot, listings, rejects = _one(tables)
    assert listings.height == 10 and rejects.height == 0
    row = listings.filter(pl.col("position") == 5).row(0, named=True)
    assert (row["age_text"], row["uploaded_at_min"], row["uploaded_at_max"]) == (None, None, None)
    assert (row["size_bytes"], row["rating"]) == (2285896, 3.0)
    assert_nothing_lost(tables, snapshot["snapshot_id"], text)


def test_a_page_count_of_zero_fails_the_schema_and_names_the_check(normalise_texts) -> None:
    text = PAGE.replace("| 22 页 |", "| 0 页 |")
    tables = normalise_texts({"zero.txt": text})
    _, listings, rejects = _one(tables)
    assert listings.height == 9
    reject = rejects.row(0, named=True)
    assert (reject["position"], reject["stage"]) == (2, "validate")
    assert reject["reason"] == "schema check failed: pages greater_than_or_equal_to(1)"
    assert reject["fragment"].startswith("24-云原生中间件之道-高磊")


def test_a_rating_above_five_fails_the_schema(normalise_texts) -> None:
    text = PAGE.replace("| 1.71 MB | 6 月前3", "| 1.71 MB | 6 月前7")
    _, listings, rejects = _one(normalise_texts({"seven.txt": text}))
    assert listings.height == 9
    reasons = rejects["reason"].to_list()
    assert reasons == [
        "schema check failed: rating less_than_or_equal_to(5); "
        "schema check failed: score less_than_or_equal_to(500)"
    ]


def test_an_age_the_site_cannot_print_is_rejected(normalise_texts) -> None:
    """`75 分钟前` never happens: over an hour the site prints hours."""
    text = PAGE.replace("| 4.39 MB | 6 月前3", "| 4.39 MB | 75 分钟前3")
    _, listings, rejects = _one(normalise_texts({"age.txt": text}))
    assert listings.height == 9
    assert rejects["reason"].to_list() == [
        "age '75 分钟前' cannot be rendered by the site's age rules"
    ]


def test_text_before_the_footer_without_a_tail_is_rejected(normalise_texts) -> None:
    text = PAGE.replace("共 145 条", "广告:立即下载客户端\n共 145 条")
    tables = normalise_texts({"ad.txt": text})
    snapshot, listings, rejects = _one(tables)
    assert listings.height == 10
    assert snapshot["total_results"] == 145
    assert rejects.select("fragment", "reason").rows() == [
        ("广告:立即下载客户端", "text before the footer has no listing tail (truncated listing?)")
    ]
    assert_nothing_lost(tables, snapshot["snapshot_id"], text)


def test_a_blank_page_is_recorded_not_skipped(normalise_texts) -> None:
    snapshot, listings, rejects = _one(normalise_texts({"blank.txt": "\n \n\t\n"}))
    assert listings.height == 0
    assert snapshot["form"] == "text"
    assert rejects["reason"].to_list() == ["blank page: no listings and no footer"]


def test_an_html_page_that_is_no_results_page_is_rejected_and_an_empty_api_page_is_valid(
    normalise_texts,
) -> None:
    """HTML without the result list is not a search page: one reject saying so. An API
    response with no documents is a valid page with 0 listings (the gateway omits the empty
    list, docs/input-format.md §3.2)."""
    tables = normalise_texts(
        {"page.html": "<html><body><li>x</li></body></html>", "page.json": '{"total": 0}'}
    )
    by_form = dict(
        zip(tables.snapshots["form"], tables.snapshots.iter_rows(named=True), strict=True)
    )
    assert by_form["html"]["reject_count"] == 1 and by_form["json"]["reject_count"] == 0
    assert by_form["json"]["total_results"] == 0 and by_form["json"]["listing_count"] == 0
    assert tables.rejects["reason"].to_list() == [
        "HTML page has no search result list (div.search-result): not a results page"
    ]


def test_encodings_and_compression_give_the_same_listings(normalise_texts) -> None:
    """UTF-8 with BOM, GB18030, CRLF and gzip all decode to the same ten listings."""
    variants = {
        "bom.txt": b"\xef\xbb\xbf" + PAGE.encode("utf-8"),
        "gb.txt": PAGE.replace("⼀", "一").encode("gb18030"),
        "crlf.txt": PAGE.replace("\n", "\r\n").encode("utf-8"),
        "gz.txt.gz": gzip.compress(PAGE.encode("utf-8"), mtime=0),
    }
    tables = normalise_texts(variants)
    assert tables.rejects.height == 0
    per_file = tables.listings.group_by("snapshot_id").agg(
        pl.col("size_bytes").sort_by("position"), pl.col("title_source").sort_by("position")
    )
    assert per_file.height == 4
    assert per_file["size_bytes"].list.len().to_list() == [10] * 4
    assert per_file.select(pl.col("size_bytes", "title_source").n_unique()).row(0) == (1, 1)


def _dochub_page(clock: str) -> str:
    """A DocHub search page as a browser's innerText gives it (docs/input-format.md §0):
    title, description, `4.5 分` on its own line, then the tail ending in the local minute,
    and the bootstrap pager."""
    return (
        "Go 语言实战\nGo 语言的并发模型与工程实践\n4.5 分\n"
        f"0 金币 | 254 页 | 1.12 KB | {clock}\n"
        "数据库系统概念\n第七版\n3.0 分\n5 金币 | 12 页 | 2.00 MB | 2022-12-01 08:00\n"
        "1\n2\n>>\n..2\n"
    )


def test_a_dochub_absolute_time_is_that_minute_in_the_sites_time_zone(normalise_texts) -> None:
    """`2023-01-05 12:30` is the site's local minute: Asia/Shanghai (UTC+8) by default."""
    snapshot, listings, rejects = _one(
        normalise_texts({"dochub.txt": _dochub_page("2023-01-05 12:30")})
    )
    assert rejects.height == 0
    assert (snapshot["layout"], snapshot["last_page"]) == ("dochub-2018-08-11", 2)
    row = listings.filter(pl.col("position") == 1).row(0, named=True)
    assert (row["rating"], row["price"], row["size_bytes_min"], row["size_bytes_max"]) == (
        4.5,
        0,
        1142,
        1152,  # Go's %.2f: 1152 bytes (1.125 KB exactly) rounds to even
    )
    assert str(row["uploaded_at_min"]) == "2023-01-05 04:30:00+00:00"
    assert str(row["uploaded_at_max"]) == "2023-01-05 04:30:59+00:00"


def test_a_site_time_zone_is_configurable_per_site_and_dst_widens_the_minute(
    normalise_texts,
) -> None:
    """A site named with its zone reads its clock times there; a clock time a DST change
    repeats spans both readings, and one it skips is no time at all: a reject."""
    # The pages' sidecars name wenku.it: that site is given New York's clock here.
    options = metadata.ReadOptions(time_zones=(("wenku.it", "America/New_York"),))
    times = {"a.txt": "2023-01-05 12:30", "b.txt": "2023-11-05 01:30", "c.txt": "2023-03-12 02:30"}
    pages = {name: _dochub_page(clock) for name, clock in times.items()}
    tables = normalise_texts(pages, options=options)
    rows = {
        name: tables.listings.join(tables.snapshots, on="snapshot_id")
        .filter(pl.col("source_path").str.ends_with(name) & (pl.col("position") == 1))
        .select("uploaded_at_min", "uploaded_at_max")
        for name in times
    }
    assert [str(v) for v in rows["a.txt"].row(0)] == [
        "2023-01-05 17:30:00+00:00",
        "2023-01-05 17:30:59+00:00",
    ]
    assert [str(v) for v in rows["b.txt"].row(0)] == [  # EDT 05:30Z, then EST 06:30Z
        "2023-11-05 05:30:00+00:00",
        "2023-11-05 06:30:59+00:00",
    ]
    assert rows["c.txt"].height == 0
    (reason,) = tables.rejects.filter(pl.col("source_path").str.ends_with("c.txt"))[
        "reason"
    ].to_list()
    assert "age '2023-03-12 02:30' cannot be rendered" in reason


def test_cr_only_line_ends_give_the_same_listings_as_lf(normalise_texts) -> None:
    """Classic Mac OS line ends: each CR is a line end (one byte for one, so the spans are
    the file's own), not one line of run-together listings rejected as wrong ages."""
    tables = normalise_texts({"lf.txt": PAGE, "cr.txt": PAGE.replace("\n", "\r")})
    assert tables.rejects.height == 0
    per_file = (
        tables.listings.sort("position")
        .group_by("snapshot_id", maintain_order=True)
        .agg(pl.col("title", "size_bytes", "byte_start", "byte_end"))
    )
    assert per_file.height == 2
    assert per_file.drop("snapshot_id").n_unique() == 1


def test_utf16_pages_are_rejected_as_utf16_not_as_binary(normalise_texts) -> None:
    ascii_page = "<html><body><p>Kubernetes in Action</p></body></html>\n"
    tables = normalise_texts({
        "le-bom.txt": codecs.BOM_UTF16_LE + PAGE.encode("utf-16-le"),
        "be-bom.html": codecs.BOM_UTF16_BE + PAGE.encode("utf-16-be"),
        "le.html": ascii_page.encode("utf-16-le"),
        "be.json": '{"document": []}'.encode("utf-16-be"),
        "binary.txt": b"\x00\x01binary\x00",
    })  # fmt: skip
    reasons = dict(
        tables.rejects.select(
            pl.col("source_path").str.split("/").list.last(), "reason"
        ).iter_rows()
    )
    assert reasons == {
        **dict.fromkeys(["le-bom.txt", "be-bom.html", "le.html", "be.json"], decode.UTF16),
        "binary.txt": decode.NUL_BYTES,
    }
