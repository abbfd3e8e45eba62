"""One batch of snapshot files: read → parse → validate → write.

Each step is a plain function over polars frames so the run, the Prefect flow, the tests
and the benchmarks call the same code. `normalise_batch` is the whole pure middle: it
turns the frame `read.read_batch` returns into the three lake tables, routing every
piece of input that is not a valid listing or the footer into `rejects` with a reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import polars as pl

from pipeline import parse
from pipeline.ingest import decode, read
from pipeline.ingest.metadata import ReadOptions, url_facts_frame
from pipeline.ingest.sources import Source
from pipeline.lake import layout, manifest
from pipeline.lake.storage import Location
from pipeline.run.summary import BatchReport


@dataclass
class BatchTables:
    """The three lake tables for one batch, already validated."""

    snapshots: pl.DataFrame
    listings: pl.DataFrame
    rejects: pl.DataFrame

    def as_dict(self) -> dict[str, pl.DataFrame]:
        return {"snapshots": self.snapshots, "listings": self.listings, "rejects": self.rejects}


def normalise_batch(snapshots_read: pl.DataFrame) -> BatchTables:
    """The pure middle of the pipeline: read frame → validated snapshots, listings, rejects.

    A snapshot is its bytes at its fetch time: two files with both the same (a file named
    twice, a folder given by two paths, a byte-identical copy with the same sidecar) are one
    snapshot, parsed once from the first of them; the batch's report names the others and
    the manifest records every path, so a rerun skips them all without reading.
    """
    # pandera is slow to import: a run with nothing new never needs it.
    from pipeline import schemas

    if snapshots_read["snapshot_id"].is_duplicated().any():  # rare: never copy the text else
        snapshots_read = snapshots_read.unique("snapshot_id", keep="first", maintain_order=True)
    parsed = parse.parse(snapshots_read)
    snapshots_read, parsed = _with_page_urls(snapshots_read, parsed)
    listing_rows = schemas.conform(parsed.listings, schemas.Listing)
    valid, failed = schemas.split_valid(listing_rows, schemas.Listing)
    valid, damaged = _holding_invalid_bytes(valid, decode.invalid_spans(snapshots_read))
    fragments = parsed.listings.select("snapshot_id", "position", "fragment")
    failed = failed.join(fragments, on=["snapshot_id", "position"], how="left")
    damaged = damaged.join(fragments, on=["snapshot_id", "position"], how="left")
    rejects = pl.concat(
        [
            parsed.rejects,
            failed.select(*parse.REJECT_COLUMNS[:5], stage=pl.lit("validate"), reason="reason"),
            damaged.select(*parse.REJECT_COLUMNS[:5], stage=pl.lit("read"), reason="reason"),
        ],
        how="vertical_relaxed",
    )
    # A page with no listing, no footer and nothing else is blank: say so, don't skip it.
    blank = (
        parsed.pages.join(valid, on="snapshot_id", how="anti")
        .join(rejects, on="snapshot_id", how="anti")
        .join(
            parsed.footers.filter(pl.col("total_results").is_not_null()),
            on="snapshot_id",
            how="anti",
        )
        .select(
            "snapshot_id",
            pl.lit(None, pl.Int32).alias("position"),
            pl.lit(0, pl.Int64).alias("byte_start"),
            pl.lit(0, pl.Int64).alias("byte_end"),
            pl.lit("").alias("fragment"),
            pl.lit("parse").alias("stage"),
            pl.lit("blank page: no listings and no footer").alias("reason"),
        )
    )
    rejects = (
        pl.concat([rejects, blank], how="vertical_relaxed")
        .join(snapshots_read.select("snapshot_id", "source_path"), on="snapshot_id", how="left")
        .pipe(schemas.conform, schemas.Reject)
        .sort("snapshot_id", "byte_start", "byte_end")
    )
    snapshots = (
        snapshots_read.join(parsed.footers, on="snapshot_id", how="left")
        .join(valid.group_by("snapshot_id").len("listing_count"), on="snapshot_id", how="left")
        .join(rejects.group_by("snapshot_id").len("reject_count"), on="snapshot_id", how="left")
        .with_columns(pl.col("listing_count", "reject_count").fill_null(0))
        .pipe(schemas.conform, schemas.Snapshot)
        .sort("snapshot_id")
    )
    # Derived from our own reading: a failure is a bug.
    schemas.validate(snapshots, schemas.Snapshot)
    schemas.validate(rejects, schemas.Reject)
    return BatchTables(
        snapshots=snapshots,
        listings=valid.sort("snapshot_id", "position"),
        rejects=rejects,
    )


def _holding_invalid_bytes(
    listings: pl.DataFrame, invalid: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Listings split into those clear of invalid UTF-8 bytes and those holding one.

    The reader keeps a page with a few invalid bytes, each read as U+0000 at its own offset
    (docs/input-format.md §3.3), so the listings around them survive. A listing holding one
    would carry a character the site never printed, so it becomes a reject naming the first
    bad byte instead: its bytes stay accounted for, its fields are not trusted.
    """
    if invalid.is_empty():
        return listings, listings.clear().with_columns(reason=pl.lit(None, pl.String))
    spans = listings.select("snapshot_id", "position", "byte_start", "byte_end")
    hits = (
        spans.join(invalid, on="snapshot_id", suffix="_bad")
        .filter(
            (pl.col("byte_start_bad") < pl.col("byte_end"))
            & (pl.col("byte_start") < pl.col("byte_end_bad"))
        )
        .group_by("snapshot_id", "position")
        .agg(pl.col("reason").sort_by("byte_start_bad").first())
    )
    keys = ["snapshot_id", "position"]
    return (
        listings.join(hits, on=keys, how="anti", maintain_order="left"),
        listings.join(hits, on=keys, how="inner", maintain_order="left"),
    )


def _with_page_urls(
    snapshots_read: pl.DataFrame, parsed: parse.Parsed
) -> tuple[pl.DataFrame, parse.Parsed]:
    """Where no sidecar gave a URL, the page's own (an HTML page saved by a browser names
    it): url, and the site, query and page it gives where those are still unknown."""
    named = parsed.footers.filter(pl.col("page_url").is_not_null()).join(
        snapshots_read.filter(pl.col("url").is_null()).select("snapshot_id"), on="snapshot_id"
    )
    if named.is_empty():
        return snapshots_read, parsed
    facts = pl.concat(
        [named.select("snapshot_id", "page_url"), url_facts_frame(named["page_url"], None)],
        how="horizontal",
    ).rename({"site": "_site", "query": "_query", "page": "_page"})
    filled = snapshots_read.join(facts, on="snapshot_id", how="left", maintain_order="left")
    snapshots_read = filled.with_columns(
        pl.coalesce("url", "page_url").alias("url"),
        pl.coalesce("site", "_site").alias("site"),
        pl.coalesce("query", "_query").alias("query"),
        pl.coalesce("page", "_page").cast(pl.Int32).alias("page"),
    ).drop("page_url", "_site", "_query", "_page")
    sites = snapshots_read.select("snapshot_id", pl.col("site").alias("_site"))
    listings = (
        parsed.listings.join(sites, on="snapshot_id", how="left", maintain_order="left")
        .with_columns(pl.coalesce("site", "_site").alias("site"))
        .drop("_site")
    )
    return snapshots_read, parse.Parsed(parsed.pages, listings, parsed.footers, parsed.rejects)


@dataclass
class BatchResult:
    """A written batch: its report, and the manifest rows that commit it."""

    report: BatchReport
    manifest_rows: pl.DataFrame


def write_batch(
    batch: int,
    snapshots_read: pl.DataFrame,
    tables: BatchTables,
    lake: Location,
    *,
    started: float | None = None,
) -> BatchResult:
    """Write a normalised batch's lake files as a new group; the caller commits it.

    The report's seconds run from `started` (when the batch's work began; default: now)
    to the moment its files are written.
    """
    started = time.perf_counter() if started is None else started
    name = layout.write_batch(lake, tables.as_dict())
    report = BatchReport.of(batch, snapshots_read, tables.as_dict())
    report.seconds = time.perf_counter() - started
    return BatchResult(report, manifest.rows_for(snapshots_read, tables.snapshots, name))


def process_batch(
    batch: int, files: list[Source], lake: Location, options: ReadOptions
) -> BatchResult:
    """One batch end to end: read the files, normalise them, write their lake files."""
    started = time.perf_counter()
    snapshots_read = read.read_batch(files, options)
    tables = normalise_batch(snapshots_read)
    return write_batch(batch, snapshots_read, tables, lake, started=started)
