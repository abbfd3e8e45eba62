"""Per-stage time of `listings normalise`, by calling the pipeline's own stage functions.

Nothing is reimplemented: each stage is the pipeline function that does that work, called
batch by batch (the CLI's byte-bounded batches) with its real input, and timed alone.

| stage | what is timed |
| --- | --- |
| read | `Path.read_bytes` of every page file |
| decode | `read.decode` of those bytes |
| metadata | the rest of `read.read_batch` (sidecars, hashes, ids, the frame) |
| split | `parse_text.split_chunks` |
| extract | `parse_text.parse_chunks` + `resolve_prices` + `split_titles` |
| derive | `parse_text.derive_fields` |
| validate | `schemas.split_valid(…, schemas.Listing)` (pandera) |
| validate other | `schemas.Snapshot.validate` + `schemas.Reject.validate` (pandera) |
| assemble | the rest of `normalise.normalise_batch` (footer, conform, joins, sorts) |
| write | `lake.write_snapshots` into an empty lake |
| write, proposed | not the pipeline: the same tables as one file per table, date and batch |

`read`, `decode` and the parse stages are timed on their own; `metadata` and `assemble`
are what `read.read_batch` and `normalise.normalise_batch` cost beyond them (both are
called in full, so the remainders are measured, not guessed), and the stage sum is what
one in-process pass of the pipeline costs.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import config, lake, normalise, parse_text, read, schemas

T = TypeVar("T")

STAGES = ("read", "decode", "split", "extract", "derive", "validate", "write")
ALL_STAGES = (
    "read", "decode", "metadata", "split", "extract", "derive", "validate",
    "validate other", "assemble", "write",
)  # fmt: skip
PANDERA_STAGES = ("validate", "validate other")
PROPOSED_WRITE = "write, proposed"
PARTITION = "fetched_date"  # the lake's partition column (README: What comes out)


def _timed(totals: dict[str, float], stage: str, step: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = step()
    totals[stage] += time.perf_counter() - start
    return result


def _extract(chunks: pl.DataFrame, pages: pl.DataFrame) -> pl.DataFrame:
    return (
        parse_text.parse_chunks(chunks)
        .join(pages.select("snapshot_id", "site", "fetched_at"), on="snapshot_id", how="left")
        .pipe(parse_text.resolve_prices)
        .pipe(parse_text.split_titles)
    )


def _write_file(table: pa.Table, path: Path) -> None:
    # The lake's encoder settings (snappy, no dictionaries, encoded in memory), then an
    # atomic rename, as `lake.write_snapshots` does for each of its files.
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, compression="snappy", use_dictionary=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buffer.getvalue().to_pybytes())
    os.replace(tmp, path)


def write_per_batch(out: Path, tables: dict[str, pl.DataFrame], batch_no: int) -> None:
    """A proposal, not the pipeline: each table of a batch as one file per fetched date.

    Same rows, same encoder settings, same partitions; only the file count differs (3 per
    batch and date instead of 3 per snapshot). Timed to put a number on the design change
    the write stage needs. Self-contained on purpose: it must not follow `pipeline.lake`'s
    internals as they change.
    """
    date = pl.col("fetched_at").dt.strftime("%Y-%m-%d").alias(PARTITION)
    dates = tables["snapshots"].select("snapshot_id", date)
    for name, frame in tables.items():
        dated = frame.join(dates, on="snapshot_id", how="left", maintain_order="left")
        for (fetched_date,), part in dated.partition_by(PARTITION, as_dict=True).items():
            path = out / name / f"{PARTITION}={fetched_date}" / f"batch-{batch_no:06d}.parquet"
            _write_file(part.drop(PARTITION).to_arrow(), path)


def run_stages(
    files: list[Path], lake_dir: Path, batch_bytes: int = config.DEFAULT_BATCH_BYTES
) -> tuple[dict[str, float], int]:
    """(seconds per stage over all batches, valid listings) for one pass over `files`.

    The keys are ALL_STAGES plus PROPOSED_WRITE (which is not part of the pipeline).
    """
    proposed_dir = lake_dir.with_name(lake_dir.name + "-proposed")
    shutil.rmtree(lake_dir, ignore_errors=True)
    shutil.rmtree(proposed_dir, ignore_errors=True)
    options = read.ReadOptions()
    t = dict.fromkeys((*ALL_STAGES, PROPOSED_WRITE), 0.0)
    listings = 0
    for batch_no, batch in enumerate(read.batches(files, batch_bytes)):
        raw = _timed(t, "read", lambda batch=batch: [path.read_bytes() for path in batch])
        _timed(t, "decode", lambda raw=raw: [read.decode(data) for data in raw])
        del raw
        start = time.perf_counter()
        snapshots_read = read.read_batch(batch, options)
        t["metadata"] += time.perf_counter() - start

        pages = snapshots_read.filter(
            (pl.col("form") == "text") & pl.col("text").is_not_null()
        ).select("snapshot_id", "site", "fetched_at", "text")
        texts = pages.select("snapshot_id", "text")
        chunks, _ = _timed(t, "split", lambda texts=texts: parse_text.split_chunks(texts))
        extracted = _timed(t, "extract", lambda c=chunks, p=pages: _extract(c, p))
        derived = _timed(t, "derive", lambda e=extracted: parse_text.derive_fields(e))
        candidates = schemas.conform(
            derived.filter(pl.col("parse_error").is_null()), schemas.Listing
        )
        _timed(t, "validate", lambda c=candidates: schemas.split_valid(c, schemas.Listing))
        del chunks, extracted, derived, candidates

        start = time.perf_counter()
        tables = normalise.normalise_batch(snapshots_read)
        t["assemble"] += time.perf_counter() - start

        def validate_other(tables: normalise.BatchTables = tables) -> None:
            schemas.Snapshot.validate(tables.snapshots)
            schemas.Reject.validate(tables.rejects)

        _timed(t, "validate other", validate_other)
        _timed(t, "write", lambda tables=tables: lake.write_snapshots(lake_dir, tables.as_dict()))
        _timed(
            t,
            PROPOSED_WRITE,
            lambda tables=tables, n=batch_no: write_per_batch(proposed_dir, tables.as_dict(), n),
        )
        listings += tables.listings.height
    # Remainders: read_batch re-reads and re-decodes; normalise_batch re-runs every parse
    # stage and both validations. What is left over is their own work.
    t["metadata"] = max(t["metadata"] - t["read"] - t["decode"], 0.0)
    parsed = sum(t[s] for s in ("split", "extract", "derive", "validate", "validate other"))
    t["assemble"] = max(t["assemble"] - parsed, 0.0)
    return t, listings
