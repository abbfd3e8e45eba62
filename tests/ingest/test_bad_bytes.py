"""One invalid byte in a UTF-8 page used to make the whole page undecodable, every listing
on it a part of one reject. The page is read as UTF-8 with each invalid byte as U+0000
(one byte, so every offset stays the file's own), and the snapshot names where they are
(docs/input-format.md §3.3)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from pipeline import vocab
from pipeline.ingest import decode, metadata, read, reference
from pipeline.run import normalise
from tests.conftest import SAMPLE, SAMPLE_FETCHED_AT, write_snapshot

RAW = SAMPLE.read_bytes()
AT = RAW.index(b"CurveFS") + 3  # inside listing 10's heading: `Cur|veFS方案设计`


def _read(folder: Path, files: dict[str, bytes]) -> pl.DataFrame:
    """The batch reader's frame, checked against the per-file definition."""
    paths = [write_snapshot(folder, n, data, SAMPLE_FETCHED_AT) for n, data in files.items()]
    options = metadata.ReadOptions()
    got = read.read_batch(paths, options)
    expected = pl.DataFrame(
        [reference.read_one(p, options) for p in paths], schema=vocab.READ_FRAME
    )
    assert_frame_equal(got.drop("read_seconds"), expected.drop("read_seconds"))
    return got


def _spans(tables: normalise.BatchTables) -> list[tuple[int, int, int]]:
    return tables.listings.select("position", "byte_start", "byte_end").rows()


def test_one_invalid_byte_keeps_the_pages_listings_at_their_own_offsets(tmp_path: Path) -> None:
    damaged = RAW[:AT] + b"\xff" + RAW[AT:]
    frame = _read(tmp_path, {"clean.txt": RAW, "damaged.txt": damaged})
    clean_row, damaged_row = frame.sort("source_path").iter_rows(named=True)
    assert damaged_row["read_error"] is None and damaged_row["form"] == "text"
    assert damaged_row["metadata_warning"] == (
        f"invalid UTF-8 at byte {AT} (1 byte): each byte read as U+0000, the rest of the page kept"
    )
    assert damaged_row["text"].encode() == damaged.replace(b"\xff", b"\x00")
    clean = normalise.normalise_batch(
        frame.filter(pl.col("source_path") == clean_row["source_path"])
    )
    tables = normalise.normalise_batch(
        frame.filter(pl.col("source_path").str.ends_with("damaged.txt"))
    )
    assert tables.snapshots.select("listing_count", "reject_count").rows() == [(9, 1)]
    # Offsets are into the file's own bytes: the nine listings before the byte are where
    # they were; the tenth holds it, so it is a reject over its own bytes (one more).
    assert _spans(tables) == _spans(clean)[:9]
    (_, start, end) = _spans(clean)[9]
    assert tables.rejects.select(
        "position", "byte_start", "byte_end", "stage", "reason"
    ).rows() == [(10, start, end + 1, "read", f"invalid UTF-8 at byte {AT}")]
    assert start <= AT < end
    assert decode.invalid_spans(frame).rows() == [
        (damaged_row["snapshot_id"], AT, AT + 1, f"invalid UTF-8 at byte {AT}")
    ]


def test_offsets_count_in_the_text_the_parsers_see(tmp_path: Path) -> None:
    """With a BOM and CRLF line ends, the offset is into the BOM-less LF text (§3.3), and a
    cut-off three-byte character is two invalid bytes; the sidecar's warning comes first."""
    text = RAW[:AT] + b"\xe4\xb8" + RAW[AT:]
    crlf = b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n")
    frame = _read(tmp_path, {"crlf.txt": crlf})
    assert frame["metadata_warning"].to_list() == [
        f"invalid UTF-8 at byte {AT} (2 bytes): each byte read as U+0000, the rest of the page kept"
    ]
    (tmp_path / "broken.txt.meta.json").write_text("{")
    path = tmp_path / "broken.txt"
    path.write_bytes(crlf)
    row = read.read_batch([path], metadata.ReadOptions()).row(0, named=True)
    assert row["metadata_warning"].startswith("sidecar broken.txt.meta.json ignored: ")
    assert row["metadata_warning"].endswith(
        f"; invalid UTF-8 at byte {AT} (2 bytes): each byte read as U+0000, the rest of the "
        "page kept"
    )


def test_many_spans_are_counted_after_the_first_few(tmp_path: Path) -> None:
    lines = RAW.split(b"\n")
    for k in (0, 4, 8, 12, 16):
        lines[k] += b"\xff\xfe\xff"  # three bytes no character starts with, before a line end
    frame = _read(tmp_path, {"many.txt": b"\n".join(lines)})
    ends = [len(b"\n".join(lines[: k + 1])) - 3 for k in (0, 4, 8)]
    assert frame["metadata_warning"].to_list() == [
        f"invalid UTF-8 at byte {ends[0]} (3 bytes), byte {ends[1]} (3 bytes), byte {ends[2]} "
        "(3 bytes) and 2 more spans (15 bytes in all): each byte read as U+0000, the rest of "
        "the page kept"
    ]


def test_an_ascii_page_with_one_bad_byte_is_read(tmp_path: Path) -> None:
    """No valid non-ASCII byte to tell UTF-8 by, and no GB18030 page either."""
    line = b"Title  description 0 credits | 3 pages | 1.00 KB | 3 days 4\n"
    frame = _read(tmp_path, {"ascii.txt": line * 9 + line.replace(b"pages", b"p\xffges")})
    assert frame["read_error"].to_list() == [None]
    at = len(line) * 9 + line.index(b"ages")
    assert frame["metadata_warning"].to_list() == [
        f"invalid UTF-8 at byte {at} (1 byte): each byte read as U+0000, the rest of the page kept"
    ]


def test_a_gb18030_page_is_still_read_as_gb18030(tmp_path: Path) -> None:
    """Mostly ASCII (markup) with a little Chinese: its invalid bytes as UTF-8 are under 1%
    of the page, but they are all its non-ASCII bytes, so it is no damaged UTF-8 page."""
    page = ("<p>" + "x" * 5000 + "云原生 实践</p>\n").encode("gb18030")
    frame = _read(tmp_path, {"gb.html": page})
    assert frame["metadata_warning"].to_list() == [None]
    assert frame["text"].str.contains("云原生 实践").to_list() == [True]


def test_a_page_with_more_invalid_bytes_than_one_percent_is_still_undecodable(
    tmp_path: Path,
) -> None:
    page = b"\xff\xfe" * 10 + "页".encode() * 500
    frame = _read(tmp_path, {"noise.txt": page})
    assert frame["read_error"].to_list() == ["undecodable: neither UTF-8 nor GB18030"]
    assert frame["metadata_warning"].to_list() == [None]


def test_in_html_the_listing_holding_the_byte_is_the_one_rejected(tmp_path: Path) -> None:
    """The HTML parser would drop the U+0000 from the title without a trace; the listing
    whose `<li>` holds the byte is a reject instead, and the other nine are kept."""
    html = (Path(__file__).parents[2] / "data/raw/wenku-search-page.html").read_bytes()
    at = html.index(b"CurveFS") + 3
    frame = _read(tmp_path, {"damaged.html": html[:at] + b"\xff" + html[at:]})
    tables = normalise.normalise_batch(frame)
    assert tables.snapshots.select("listing_count", "reject_count").rows() == [(9, 1)]
    ((start, end, stage, reason),) = tables.rejects.select(
        "byte_start", "byte_end", "stage", "reason"
    ).rows()
    assert (stage, reason) == ("read", f"invalid UTF-8 at byte {at}")
    assert start <= at < end
    assert "CurveFS" not in "".join(tables.listings["title"].to_list())
