"""The practical floor for a Python-hosted job over these files (for the parser targets).

Read every page file in Python, put the texts in a polars frame (one row per file) and run
one regex that finds the listing tails, counting the matches per file. Nothing is parsed,
validated or written: any real pipeline does at least this much, so its time is the floor
the end-to-end time is compared with. Files are taken in the same byte-bounded batches as
`listings normalise`, so the floor's memory is bounded the same way.

Also timed on its own: the regex alone, on text already in memory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline import config
from pipeline.ingest import sources

# One listing tail, as loose as the pipeline's (any credit word, any unit, any age text),
# then its separator. Rust regex: no look-around, `[0-9]` rather than `\d`.
TAIL_RE = (
    r"[0-9]+ [^\s|0-9][^\s|]* \| [^|\n]*? 页 \| [0-9][0-9.]* ?[A-Za-z]+"
    r"(?: \| (?:[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}|[^|\n]*?[^|\n0-9. ]))?"
    r"[0-9]+(?:\.[0-9]+)?(?:\r?\n|[ \t]|$)"
)


@dataclass
class FloorResult:
    seconds: float  # read + frame + regex, all batches
    regex_seconds: float  # the regex alone, on the frames already in memory
    files: int
    listings: int  # tails found


def run_floor(files: list[Path], batch_bytes: int = config.DEFAULT_BATCH_BYTES) -> FloorResult:
    start = time.perf_counter()
    regex_seconds, listings = 0.0, 0
    for batch in sources.batches(files, batch_bytes):
        texts = [path.read_bytes().decode("utf-8") for path in batch]
        frame = pl.DataFrame({"text": texts}, schema={"text": pl.String})
        regex_start = time.perf_counter()
        counts = frame.select(pl.col("text").str.count_matches(TAIL_RE).alias("tails"))
        regex_seconds += time.perf_counter() - regex_start
        listings += int(counts["tails"].sum())
    return FloorResult(time.perf_counter() - start, regex_seconds, len(files), listings)
