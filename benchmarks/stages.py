"""Per-stage time of `listings normalise`, by calling the pipeline's own stage functions.

Nothing is reimplemented: each stage is the pipeline function that does that work, called
batch by batch (the CLI's byte-bounded batches) with its real input, and timed alone.

| stage | what is timed |
| --- | --- |
| read | `sources.read_bytes` of every page file (the I/O alone) |
| decode | the rest of `read.read_batch`: decoding, sidecars, hashes, ids, the frame |
| split | `text.split_chunks` |
| extract | `text.parse_chunks` + `resolve_prices` + `split_titles` |
| derive | `tails.derive_fields` |
| validate | `schemas.split_valid(…, schemas.Listing)` (pandera) |
| validate other | `schemas.validate` of the Snapshot and Reject tables (pandera) |
| assemble | the rest of `normalise.normalise_batch` (footer, conform, joins, sorts) |
| write | `layout.write_batch` into an empty lake (the lake's one layout) |

`read` and the parse stages are timed on their own; `decode` and `assemble` are what
`read.read_batch` and `normalise.normalise_batch` cost beyond them (both are called in
full, so the remainders are measured, not guessed; `read_batch` decodes column-wise in
polars, so decoding cannot be timed apart from it), and the stage sum is what one
in-process pass of the pipeline costs.

`run_form_stages` times the parse stage of any input form (text, HTML, search-API JSON):
reading and normalising each batch once, without writing, with the parts inside that one
pass clocked as it runs (the per-page walk, the field rules, validation, assembly).
"""

from __future__ import annotations

import functools
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import polars as pl

from pipeline import config, parse, schemas
from pipeline.ingest import metadata, read, sources
from pipeline.lake import layout
from pipeline.lake.storage import Location
from pipeline.parse import api, html, tails, text
from pipeline.run import normalise

T = TypeVar("T")

STAGES = ("read", "decode", "split", "extract", "derive", "validate", "write")
ALL_STAGES = (
    "read", "decode", "split", "extract", "derive", "validate",
    "validate other", "assemble", "write",
)  # fmt: skip
PANDERA_STAGES = ("validate", "validate other")


def _timed(totals: dict[str, float], stage: str, step: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = step()
    totals[stage] += time.perf_counter() - start
    return result


def _extract(chunks: pl.DataFrame, pages: pl.DataFrame) -> pl.DataFrame:
    return (
        text.parse_chunks(chunks)
        .join(pages.select("snapshot_id", "site", "fetched_at"), on="snapshot_id", how="left")
        .pipe(text.resolve_prices)
        .pipe(text.split_titles)
    )


def run_stages(
    files: list[Path],
    lake_dir: Path,
    batch_bytes: int = config.DEFAULT_BATCH_BYTES,
) -> tuple[dict[str, float], int]:
    """(seconds per stage over all batches, valid listings) for one pass over `files`."""
    shutil.rmtree(lake_dir, ignore_errors=True)
    lake = Location.of(lake_dir)
    options = metadata.ReadOptions()
    t = dict.fromkeys(ALL_STAGES, 0.0)
    listings = 0
    for batch in sources.batches(files, batch_bytes):
        raw = _timed(t, "read", lambda batch=batch: [sources.read_bytes(path) for path in batch])
        del raw
        start = time.perf_counter()
        snapshots_read = read.read_batch(batch, options)
        t["decode"] += time.perf_counter() - start

        pages = snapshots_read.filter(
            (pl.col("form") == "text") & pl.col("text").is_not_null()
        ).select("snapshot_id", "site", "fetched_at", "text")
        texts = pages.select("snapshot_id", "text")
        chunks, _ = _timed(t, "split", lambda texts=texts: text.split_chunks(texts))
        extracted = _timed(t, "extract", lambda c=chunks, p=pages: _extract(c, p))
        derived = _timed(t, "derive", lambda e=extracted: tails.derive_fields(e))
        # The facts only other forms carry, as nulls, as `parse.parse` gives them.
        facts = [pl.lit(None, dtype).alias(name) for name, dtype in parse.LISTING_FACTS.items()
                 if name not in derived.columns]  # fmt: skip
        candidates = schemas.conform(
            derived.filter(pl.col("parse_error").is_null()).with_columns(facts), schemas.Listing
        )
        _timed(t, "validate", lambda c=candidates: schemas.split_valid(c, schemas.Listing))
        del chunks, extracted, derived, candidates

        start = time.perf_counter()
        tables = normalise.normalise_batch(snapshots_read)
        t["assemble"] += time.perf_counter() - start

        def validate_other(tables: normalise.BatchTables = tables) -> None:
            schemas.validate(tables.snapshots, schemas.Snapshot)
            schemas.validate(tables.rejects, schemas.Reject)

        _timed(t, "validate other", validate_other)
        _timed(t, "write", lambda tables=tables: layout.write_batch(lake, tables.as_dict()))
        listings += tables.listings.height
    # Remainders: read_batch re-reads and re-decodes; normalise_batch re-runs every parse
    # stage and both validations. What is left over is their own work.
    t["decode"] = max(t["decode"] - t["read"], 0.0)
    parsed = sum(t[s] for s in ("split", "extract", "derive", "validate", "validate other"))
    t["assemble"] = max(t["assemble"] - parsed, 0.0)
    return t, listings


# --- any input form: the parse stage alone --------------------------------------------------

FORM_PARTS = ("read", "walk", "fields", "validate", "validate other", "assemble")
# The functions timed inside `normalise_batch`, by the part they are charged to: each form's
# per-page Python step (the one step that is not vectorised: the HTML tree walk, lexbor
# through selectolax, and the JSON document walk, the standard library's decoder; the text
# form has none, it is polars from the start), the whole of `parse.parse`, and pandera.
_CLOCKED = (
    (html, "extract_pages", "walk"),
    (api, "extract_pages", "walk"),
    (parse, "parse", "parse"),
    (schemas, "split_valid", "validate"),
    (schemas, "validate", "validate other"),
)


@contextmanager
def _clocked(totals: dict[str, float]) -> Iterator[None]:
    """While inside, each `_CLOCKED` function adds its time to its part in `totals`.

    The pipeline's modules call these through their module (`parse.parse`,
    `schemas.split_valid`, `extract_pages` a global of its own module), so wrapping the
    module attribute times the very calls `normalise_batch` makes: one pass, no call twice.
    """
    originals = [(module, name, getattr(module, name)) for module, name, _ in _CLOCKED]

    def clock(function: Callable[..., T], part: str) -> Callable[..., T]:
        @functools.wraps(function)
        def timed(*args: object, **kwargs: object) -> T:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[part] += time.perf_counter() - start

        return timed

    try:
        for (module, name, function), (_, _, part) in zip(originals, _CLOCKED, strict=True):
            setattr(module, name, clock(function, part))
        yield
    finally:
        for module, name, function in originals:
            setattr(module, name, function)


def run_form_stages(
    files: list[sources.Source], batch_bytes: int = config.DEFAULT_BATCH_BYTES
) -> tuple[dict[str, float], int]:
    """(seconds per part, valid listings) of reading and normalising `files`, any form.

    What a run does to a batch before it writes, once: `read.read_batch` then
    `normalise.normalise_batch`; their sum is the `total`. The parts inside it are timed
    as it runs (`_clocked`): the per-page walk of the forms that have one (`walk`), the
    rest of `parse.parse` (`fields`: the polars field rules), `schemas.split_valid` of the
    listings (`validate`), `schemas.validate` of the snapshots and rejects (`validate
    other`), and what `normalise_batch` costs beyond those (`assemble`). They add up to the
    total.
    """
    options = metadata.ReadOptions()
    t = dict.fromkeys((*FORM_PARTS, "parse", "normalise"), 0.0)
    listings = 0
    with _clocked(t):
        for batch in sources.batches(files, batch_bytes):
            snapshots_read = _timed(t, "read", lambda b=batch: read.read_batch(b, options))
            tables = _timed(t, "normalise", lambda s=snapshots_read: normalise.normalise_batch(s))
            listings += tables.listings.height
            del snapshots_read, tables
    t["fields"] = t["parse"] - t["walk"]
    t["assemble"] = t["normalise"] - t["parse"] - t["validate"] - t["validate other"]
    t["total"] = t["read"] + t["normalise"]
    return t, listings
