"""`listings verify`'s coverage check: a text-form page's bytes are all accounted for.

Re-reads each text-form snapshot's source file that is still there with the bytes the
manifest recorded, and reports every run of non-blank bytes that no listing, footer or
reject span covers (nothing parsed was lost). `verify` runs it after the lake's own checks,
on the groups it read whole; docs/lake.md has the why and the figures.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import polars as pl

# Source pages re-read at a time (~5 KB each: ~100 MB of text).
PAGES_PER_CHUNK = 20_000


def check(
    committed: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
    readable: dict[str, list[str]],
    problem: Callable[[str, str, str], None],
) -> dict[str, int]:
    """Every non-blank byte of each text-form page lies in a listing, the footer or a
    reject (docs/input-format.md: offsets of the decoded text, UTF-8, CRLF as LF), each
    finding told to `problem(check, subject, detail)`; the counts of sources checked,
    missing and changed. Only pages whose group was read whole (`readable`): a file the
    lake checks reported is not reported again as lost bytes."""
    groups = [
        {path.split("/", 1)[1].removesuffix(".parquet") for path in paths}
        for paths in readable.values()
    ]
    whole = sorted(set.intersection(*groups))
    pages = (
        tables["snapshots"]
        .filter((pl.col("form") == "text") & pl.col("data_file").is_in(whole))
        .unique("snapshot_id", keep="first")
        .join(
            committed.select("snapshot_id", "source_path", "mtime_ns"),
            on=["snapshot_id", "source_path"],
            how="left",
        )
        .sort("snapshot_id")
    )
    spans = pl.concat(
        [
            tables["listings"].select("snapshot_id", "byte_start", "byte_end"),
            tables["rejects"].select("snapshot_id", "byte_start", "byte_end"),
            pages.select(
                "snapshot_id",
                pl.col("footer_byte_start").alias("byte_start"),
                pl.col("footer_byte_end").alias("byte_end"),
            ).drop_nulls(),
        ]
    )
    checked = missing = changed = 0
    # A chunk of pages at a time: their text in memory, not the whole corpus's.
    for chunk in pages.iter_slices(PAGES_PER_CHUNK):
        texts, gone, other = _page_bytes(chunk)
        checked, missing, changed = checked + texts.height, missing + gone, changed + other
        if texts.is_empty():
            continue
        mine = spans.join(texts.select("snapshot_id"), on="snapshot_id", how="semi")
        for sid, path, start, end, text in _uncovered(texts, mine).iter_rows():
            problem(
                "coverage",
                f"{sid} ({path})",
                f"bytes {start:,}–{end:,} are in no listing, footer or reject: {_preview(text)}",
            )
    return {"sources_checked": checked, "sources_missing": missing, "sources_changed": changed}


def _page_bytes(pages: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """The decoded bytes of each text-form page whose source is still there unchanged:
    (snapshot_id, source_path, text as Binary), and how many were missing or changed.

    A local file with the size and mtime the manifest recorded is taken as unchanged, as a
    run's plan does; any other is hashed and compared with the recorded hash. The decoded
    text is `reference.decode`'s (the definition): for a plain UTF-8 page that is its bytes
    without a BOM and with CRLF as LF, checked for the whole batch at once; other pages
    (gzip, GB18030, invalid bytes) go through the definition itself.
    """
    from pipeline.ingest import decode, reference

    ids, paths, bodies = [], [], []
    missing = changed = 0
    for sid, path, size, sha, mtime_ns in pages.select(
        "snapshot_id", "source_path", "byte_count", "content_sha256", "mtime_ns"
    ).iter_rows():
        read = _source_bytes(path)
        if read is None:
            missing += 1
            continue
        raw, mtime = read
        same_stat = mtime is not None and mtime == mtime_ns and len(raw) == size
        if not same_stat and (len(raw) != size or hashlib.sha256(raw).hexdigest() != sha):
            changed += 1
            continue
        ids.append(sid)
        paths.append(path)
        bodies.append(raw)
    frame = pl.DataFrame(
        {"snapshot_id": ids, "source_path": paths, "raw": bodies},
        schema={"snapshot_id": pl.String, "source_path": pl.String, "raw": pl.Binary},
    )
    frame = frame.with_columns(decode.utf8(frame["raw"]).alias("utf8"))
    plain = (
        ~pl.col("raw").bin.starts_with(b"\x1f\x8b")
        & ~pl.col("raw").bin.contains(b"\x00")
        & pl.col("utf8").is_not_null()
        # CR-only line ends (`decode.lf_line_ends`) go through the definition.
        & (pl.col("raw").bin.contains(b"\n") | ~pl.col("raw").bin.contains(b"\r"))
    )
    text = (
        pl.col("utf8")
        .str.strip_prefix("\ufeff")
        .str.replace_all("\r\n", "\n", literal=True)
        .cast(pl.Binary)
    )
    frame = frame.with_columns(pl.when(plain).then(text).alias("text"))
    rest = frame.filter(pl.col("text").is_null())
    if not rest.is_empty():
        decoded = [reference.decode(raw)[0] for raw in rest["raw"].to_list()]
        fixed = rest.with_columns(
            pl.Series("text", [None if t is None else t.encode("utf-8") for t in decoded])
        ).filter(pl.col("text").is_not_null())  # unreadable now: it changed since, or the reader
        changed += rest.height - fixed.height
        frame = pl.concat([frame.filter(pl.col("text").is_not_null()), fixed])
    return frame.select("snapshot_id", "source_path", "text").sort("snapshot_id"), missing, changed


def _source_bytes(path: str) -> tuple[bytes, int | None] | None:
    """A source file's bytes and (local files) mtime in ns; None if it is gone or
    unreadable now. Local files in one open, as a run reads them (`sources.read_local`),
    by the name the file system gives them (`os_name`)."""
    from pipeline.ingest import sources

    try:
        if "://" in path:
            import fsspec

            with fsspec.open(path, "rb") as handle:
                return bytes(handle.read()), None
        try:
            return sources.read_local(path)
        except FileNotFoundError:
            if (named := os_name(path)) == path:
                raise
            return sources.read_local(named)
    except (OSError, ValueError):
        return None


# `sources.as_text` records each byte of a file name that is not UTF-8 as `\xHH` (always
# 80-ff: ASCII bytes are UTF-8).
_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")


def os_name(recorded: str) -> str:
    """A local `source_path` as the file system names the file: each `\\xHH` that
    `sources.as_text` wrote for a byte that is not UTF-8 back as that byte (the lone
    surrogate `os.fsdecode` gives it). A name that holds such text itself is tried as it
    is first (`_source_bytes`)."""
    return _ESCAPED_BYTE.sub(lambda byte: chr(0xDC00 + int(byte[1], 16)), recorded)


def _uncovered(texts: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
    """Runs of page bytes outside every span that hold more than whitespace:
    (snapshot_id, source_path, start, end, bytes).

    Pages are laid end to end (each at its offset), so one running maximum over all spans
    sorted by position finds every gap without a per-page window; a gap is checked by its
    bytes only where it is not blank.
    """
    pages = texts.with_columns(pl.col("text").bin.size().cast(pl.Int64).alias("length"))
    pages = pages.with_columns((pl.col("length").cum_sum() - pl.col("length")).alias("offset"))
    placed = (
        spans.join(pages.select("snapshot_id", "offset", "length"), on="snapshot_id")
        .with_columns(
            (pl.col("offset") + pl.col("byte_start").clip(0, pl.col("length"))).alias("at"),
            (pl.col("offset") + pl.col("byte_end").clip(0, pl.col("length"))).alias("to"),
        )
        .sort("at", "to")
    )
    # Ends reached so far (from the start of the page, not the page before it).
    reached = pl.max_horizontal(pl.col("to").cum_max().shift(1, fill_value=0), pl.col("offset"))
    inner = placed.select(
        "snapshot_id",
        (reached - pl.col("offset")).alias("start"),
        (pl.col("at") - pl.col("offset")).alias("end"),
    ).filter(pl.col("end") > pl.col("start"))
    ends = placed.group_by("snapshot_id").agg((pl.col("to") - pl.col("offset")).max().alias("end"))
    tails = (
        pages.join(ends, on="snapshot_id", how="left")
        .select(
            "snapshot_id",
            pl.col("end").fill_null(0).alias("start"),
            pl.col("length").alias("end"),
        )
        .filter(pl.col("end") > pl.col("start"))
    )
    gaps = pl.concat([inner, tails]).join(
        pages.select("snapshot_id", "source_path", "text"), on="snapshot_id"
    )
    cut = pl.col("text").bin.slice(pl.col("start"), pl.col("end") - pl.col("start"))
    # Almost every gap is a newline or a few spaces: those are told apart from their hex
    # digits (ASCII whitespace, as Python's str.isspace sees it); the rest are decoded in
    # Python, with its idea of blank (the parsers'), which takes in U+3000 and the like.
    ascii_blank = pl.col("text").bin.encode("hex").str.contains(r"^(?:0[9a-d]|1[c-f]|20)*$")
    candidates = gaps.select(
        "snapshot_id", "source_path", "start", "end", cut.alias("text")
    ).filter(~ascii_blank)
    blank = [_is_blank(value) for value in candidates["text"].to_list()]
    return candidates.filter(~pl.Series(blank, dtype=pl.Boolean)).sort("snapshot_id", "start")


def _is_blank(data: bytes) -> bool:
    try:
        return not data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


def _preview(data: bytes, limit: int = 40) -> str:
    text = data.decode("utf-8", "replace")
    return repr(text if len(text) <= limit else text[:limit] + "…")
