"""read → parse → validate → write, for one batch of snapshot files.

Each step is a plain function over polars frames so the Prefect flow, the CLI, the tests
and the benchmarks call the same code. `normalise_batch` is the whole pure middle: it
turns the frame `read.read_batch` returns into the three lake tables, routing every
piece of input that is not a valid listing or the footer into `rejects` with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline import config, lake, read, schemas
from pipeline.parse_text import parse_pages

_UNPARSED_FORMS = {
    "html": "HTML snapshot: only the text form is parsed so far",
    "json": "JSON snapshot: only the text form is parsed so far",
}


@dataclass
class BatchTables:
    """The three lake tables for one batch, already validated."""

    snapshots: pl.DataFrame
    listings: pl.DataFrame
    rejects: pl.DataFrame

    def as_dict(self) -> dict[str, pl.DataFrame]:
        return {"snapshots": self.snapshots, "listings": self.listings, "rejects": self.rejects}


@dataclass
class RunSummary:
    """What a run did, for people (printed) and for tools (returned by the flow)."""

    files_read: int = 0
    bytes_read: int = 0
    snapshots: int = 0
    listings: int = 0
    rejects: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    lake_dir: str = ""
    lake_rows: dict[str, int] = field(default_factory=dict)
    warehouse: str | None = None

    @classmethod
    def of_batch(cls, snapshots_read: pl.DataFrame, tables: BatchTables) -> RunSummary:
        reasons = tables.rejects.group_by(pl.col("reason").str.split(":").list.first()).len()
        problems = snapshots_read.filter(
            pl.col("read_error").is_not_null() | pl.col("metadata_warning").is_not_null()
        ).select("source_path", pl.coalesce("read_error", "metadata_warning"))
        return cls(
            files_read=snapshots_read.height,
            bytes_read=int(snapshots_read["byte_count"].sum()),
            snapshots=tables.snapshots.height,
            listings=tables.listings.height,
            rejects=tables.rejects.height,
            reject_reasons=dict(reasons.iter_rows()),
            messages=[f"{path}: {problem}" for path, problem in problems.iter_rows()],
        )

    def merge(self, other: RunSummary) -> None:
        self.files_read += other.files_read
        self.bytes_read += other.bytes_read
        self.snapshots += other.snapshots
        self.listings += other.listings
        self.rejects += other.rejects
        for reason, count in other.reject_reasons.items():
            self.reject_reasons[reason] = self.reject_reasons.get(reason, 0) + count
        self.messages.extend(other.messages)

    def render(self) -> str:
        lines = [
            f"files read:  {self.files_read} ({self.bytes_read:,} bytes)",
            f"snapshots:   {self.snapshots}",
            f"listings:    {self.listings}",
            f"rejects:     {self.rejects}",
        ]
        for reason, count in sorted(self.reject_reasons.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {count:>6}  {reason}")
        if self.lake_rows:
            rows = ", ".join(f"{name} {count}" for name, count in self.lake_rows.items())
            lines.append(f"lake:        {self.lake_dir} ({rows} rows in all)")
        if self.warehouse:
            lines.append(f"warehouse:   {self.warehouse} (views: snapshots, listings, rejects)")
        lines.extend(f"note: {message}" for message in self.messages)
        return "\n".join(lines)


def _read_rejects(snapshots: pl.DataFrame) -> pl.DataFrame:
    """Unreadable files, and forms this parser does not read yet, as whole-file rejects."""
    unparsed = pl.col("form").replace_strict(_UNPARSED_FORMS, default=None)
    return snapshots.filter(pl.col("read_error").is_not_null() | unparsed.is_not_null()).select(
        "snapshot_id",
        pl.lit(None, pl.Int32).alias("position"),
        pl.lit(0, pl.Int64).alias("byte_start"),
        pl.when(pl.col("text").is_null())
        .then(pl.col("byte_count"))
        .otherwise(pl.col("text").str.len_bytes().cast(pl.Int64))
        .alias("byte_end"),
        pl.coalesce("fragment", "text").alias("fragment"),
        pl.lit("read").alias("stage"),
        pl.coalesce("read_error", unparsed).alias("reason"),
    )


def _listing_rejects(listings: pl.DataFrame, stage: str, reason: str) -> pl.DataFrame:
    return listings.select(
        "snapshot_id",
        "position",
        "byte_start",
        "byte_end",
        "fragment",
        pl.lit(stage).alias("stage"),
        pl.col(reason).alias("reason"),
    )


def normalise_batch(snapshots_read: pl.DataFrame) -> BatchTables:
    """The pure middle of the pipeline: read frame → validated snapshots, listings, rejects."""
    text_pages = snapshots_read.filter(
        (pl.col("form") == "text") & pl.col("text").is_not_null()
    ).select("snapshot_id", "site", "fetched_at", "text")
    parsed, footers, footer_rejects = parse_pages(text_pages)

    bad_parse = parsed.filter(pl.col("parse_error").is_not_null())
    candidates = parsed.filter(pl.col("parse_error").is_null())
    listing_rows = schemas.conform(candidates, schemas.Listing)
    valid, failed = schemas.split_valid(listing_rows, schemas.Listing)
    failed = failed.join(
        candidates.select("snapshot_id", "position", "fragment"),
        on=["snapshot_id", "position"],
        how="left",
    )
    rejects = pl.concat(
        [
            _read_rejects(snapshots_read),
            _listing_rejects(bad_parse, "parse", "parse_error"),
            footer_rejects.select(
                "snapshot_id",
                pl.lit(None, pl.Int32).alias("position"),
                "byte_start",
                "byte_end",
                "fragment",
                pl.lit("parse").alias("stage"),
                "reason",
            ),
            _listing_rejects(failed, "validate", "reason"),
        ],
        how="vertical_relaxed",
    )
    # A page with no listing, no footer and nothing else is blank: say so, don't skip it.
    blank = (
        text_pages.join(valid, on="snapshot_id", how="anti")
        .join(rejects, on="snapshot_id", how="anti")
        .join(footers.filter(pl.col("total_results").is_not_null()), on="snapshot_id", how="anti")
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
        snapshots_read.join(footers, on="snapshot_id", how="left")
        .join(valid.group_by("snapshot_id").len("listing_count"), on="snapshot_id", how="left")
        .join(rejects.group_by("snapshot_id").len("reject_count"), on="snapshot_id", how="left")
        .with_columns(pl.col("listing_count", "reject_count").fill_null(0))
        .pipe(schemas.conform, schemas.Snapshot)
        .sort("snapshot_id")
    )
    schemas.Snapshot.validate(snapshots)  # derived from our own reading: a failure is a bug
    schemas.Reject.validate(rejects)
    return BatchTables(
        snapshots=snapshots,
        listings=valid.sort("snapshot_id", "position"),
        rejects=rejects,
    )


def process_batch(files: list[Path], lake_dir: Path, options: read.ReadOptions) -> RunSummary:
    """One batch end to end: read the files, normalise them, write their lake files."""
    snapshots_read = read.read_batch(files, options)
    tables = normalise_batch(snapshots_read)
    lake.write_snapshots(lake_dir, tables.as_dict())
    return RunSummary.of_batch(snapshots_read, tables)


def normalise_paths(
    paths: Sequence[Path],
    lake_dir: Path,
    options: read.ReadOptions,
    *,
    batch_bytes: int = config.DEFAULT_BATCH_BYTES,
    on_batch: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Read, parse, validate and write every snapshot under `paths`, batch by batch.

    `on_batch(files_done, files_total)` reports progress after each batch.
    """
    files = read.discover(paths)
    summary = RunSummary(lake_dir=str(lake_dir))
    for batch in read.batches(files, batch_bytes):
        summary.merge(process_batch(batch, lake_dir, options))
        if on_batch:
            on_batch(summary.files_read, len(files))
    summary.lake_rows = lake.row_counts(lake_dir)
    return summary
