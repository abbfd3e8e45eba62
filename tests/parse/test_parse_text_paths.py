"""The fast paths of parse_text agree with the plain definitions they replace."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from pipeline.parse import text

LISTINGS = (
    "深入 Istio 入门\n讲义 0 码力 | 8 页 | 15.75 KB | 7 小时前3\n"
    "Helm 指南Helm 指南 第一部分 12 码力 | - 页 | 0 Bytes4.5\n"
    "无标题文本 007 码力 | 3 页 | 1.00 MB | 2024-01-02 03:044\n"
    "共 3 条 - 1 - 2"
)


def _pages(*texts: str) -> pl.DataFrame:
    return pl.DataFrame({"snapshot_id": [f"s{i}" for i in range(len(texts))], "text": texts})


def test_marker_in_page_takes_the_chunk_regex_path_with_the_same_cut() -> None:
    """A page holding the cut marker is cut by CHUNK_RE: same chunks, spans and rest."""
    marked = LISTINGS.replace("讲义", "讲\x00义")
    chunks, rest = text.split_chunks(_pages(LISTINGS, marked))
    expected = chunks.filter(pl.col("snapshot_id") == "s0").drop("snapshot_id")
    got = chunks.filter(pl.col("snapshot_id") == "s1").drop("snapshot_id")
    assert got.height == expected.height == 3
    assert got["chunk"].to_list() == [
        c.replace("讲义", "讲\x00义") for c in expected["chunk"].to_list()
    ]
    assert rest["rest"].to_list() == ["共 3 条 - 1 - 2"] * 2
    assert expected["chunk"].to_list() == _regex_chunks(LISTINGS)


def _regex_chunks(page: str) -> list[str]:
    return pl.select(pl.lit(page).str.extract_all(text.CHUNK_RE)).item().to_list()


def test_pre_split_chunks_parse_like_bare_chunks() -> None:
    """parse_chunks on split_chunks' output equals parse_chunks on the raw chunks alone."""
    chunks, _ = text.split_chunks(_pages(LISTINGS))
    bare = chunks.select("snapshot_id", "chunk", "position", "chunk_bytes", "chunk_offset")
    assert_frame_equal(text.parse_chunks(chunks), text.parse_chunks(bare))


def test_repetition_search_stops_at_the_head_limit() -> None:
    """X + X is found while X's second copy starts inside the searched head, not after."""
    limit = 2 * text.MAX_REPEATED_TITLE_CHARS - text.MIN_REPEATED_TITLE_CHARS
    inside = "abcd" + "x" * (limit - 4)  # the copy's opening ends on the head's last char
    outside = inside + "x"  # one char later: the opening no longer fits in the head
    frame = pl.DataFrame({"heading": [inside * 2 + " rest", outside * 2 + " rest"]})
    titles = text.split_titles(frame)
    assert titles["title_source"].to_list() == ["repetition", "unknown"]
    assert titles["title"].to_list() == [inside, None]
    assert titles["description"][0] == inside + " rest"


def test_a_repeated_first_word_is_no_title_boundary() -> None:
    """`Cache Cache …` opens with `Cache ` repeated, but a title never ends in whitespace:
    glued, the heading stays unknown (no invented boundary); repeated, the whole title wins."""
    title, description = "Cache Cache Design When Request", "降低延迟的几种做法"
    frame = pl.DataFrame({"heading": [title + description, title + title + description]})
    titles = text.split_titles(frame)
    assert titles["title_source"].to_list() == ["unknown", "repetition"]
    assert titles["title"].to_list() == [None, title]
    assert titles["description"].to_list() == [None, title + description]
