"""The contract: pandera models of the three lake tables, and the split into valid and rejects.

The models are the contract analysts read: one field per column, each with its unit in the
name and its checks beside it. Checks are vectorised expressions (element-wise checks are
slow on a million rows). A row that fails a check is not dropped silently: `split_valid`
hands it back with the names of the failed checks, and the caller writes it to `rejects`.
"""

from __future__ import annotations

from typing import Annotated

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from pipeline.vocab import (
    FETCHED_AT_SOURCES,
    FILE_FAMILIES,
    FORMS,
    LAYOUTS,
    PAGE_TYPES,
    REJECT_STAGES,
    TITLE_SOURCES,
)

UtcTime = Annotated[pl.Datetime, "us", "UTC"]


class Listing(pa.DataFrameModel):
    """One row per listing on a results page."""

    snapshot_id: str = pa.Field(description="The page it was seen on (snapshots.snapshot_id).")
    position: pl.Int32 = pa.Field(ge=1, description="1-based place on the page.")
    byte_start: pl.Int64 = pa.Field(ge=0, description="Where its text starts in the page.")
    byte_end: pl.Int64 = pa.Field(ge=1, description="Where it ends (exclusive).")
    heading: str = pa.Field(
        str_length={"min_value": 1}, description="The whole TITLE+DESCRIPTION text."
    )
    title: str = pa.Field(nullable=True, description="Only where the boundary is known.")
    description: str = pa.Field(nullable=True, description="Only where the boundary is known.")
    title_source: str = pa.Field(isin=list(TITLE_SOURCES), description="How the title was found.")
    price: pl.Int64 = pa.Field(ge=0, nullable=True, description="In the site's credits.")
    price_text: str = pa.Field(
        nullable=True, description="The digits printed before CREDIT; null in API JSON."
    )
    price_ambiguous: bool = pa.Field(description="The run had more than one digit.")
    credit: str = pa.Field(
        nullable=True, description="The site's word for its credits (码力, 魔豆, 金币)."
    )
    pages: pl.Int32 = pa.Field(ge=1, nullable=True, description="Null for `-`.")
    size_text: str = pa.Field(nullable=True, description="SIZE as printed; null in API JSON.")
    size_bytes: pl.Int64 = pa.Field(ge=0, description="Shown value × 1024^unit, rounded.")
    size_bytes_min: pl.Int64 = pa.Field(ge=0, description="Least byte count printing as size_text.")
    size_bytes_max: pl.Int64 = pa.Field(ge=0, description="Most byte count printing as size_text.")
    age_text: str = pa.Field(nullable=True, description="AGE as printed; null when hidden.")
    uploaded_at_min: UtcTime = pa.Field(nullable=True, description="Earliest upload (inclusive).")
    uploaded_at_max: UtcTime = pa.Field(nullable=True, description="Latest upload (inclusive).")
    rating: pl.Float64 = pa.Field(ge=0, le=5, description="score / 100 as printed.")
    score: pl.Int32 = pa.Field(ge=0, le=500, description="The site's raw score, rating × 100.")
    rating_anomaly: bool = pa.Field(description="Rating below 1: no 1-5 star vote gives it.")
    site: str = pa.Field(nullable=True, description="Host the page came from, where known.")
    fetched_at: UtcTime = pa.Field(description="When the page was rendered (= fetched).")
    # Facts only the HTML and API JSON forms carry (null in the text form); added after
    # the columns above, so older files gain them as nulls (docs/lake.md, "Older lakes").
    document_id: pl.Int64 = pa.Field(
        ge=1, nullable=True, description="The site's document id (HTML link, API `id`)."
    )
    file_family: str = pa.Field(
        isin=list(FILE_FAMILIES), nullable=True, description="The icon's family: pdf, word, …"
    )
    ext: str = pa.Field(nullable=True, description="The file's extension with its dot (API).")
    keywords: str = pa.Field(nullable=True, description="The document's keywords (API).")
    view_count: pl.Int64 = pa.Field(ge=0, nullable=True, description="Views (API).")
    download_count: pl.Int64 = pa.Field(ge=0, nullable=True, description="Downloads (API).")
    favorite_count: pl.Int64 = pa.Field(ge=0, nullable=True, description="Favourites (API).")
    comment_count: pl.Int64 = pa.Field(ge=0, nullable=True, description="Comments (API).")
    # Added in schema version 3 (older files gain it from document_id, docs/lake.md).
    document_ref: str = pa.Field(
        nullable=True,
        str_matches=r"^[0-9A-Za-z_-]+$",
        description=(
            "The document's id as the site prints it in its link or the API's key "
            "(`/document/<ref>`): the numeric id, or the uuid newer sites use instead."
        ),
    )

    class Config:
        strict = True
        ordered = True
        unique = ("snapshot_id", "position")

    @pa.dataframe_check(name="size_bytes_min <= size_bytes <= size_bytes_max")
    def sizes_ordered(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("size_bytes").is_between(pl.col("size_bytes_min"), pl.col("size_bytes_max"))
        )

    @pa.dataframe_check(name="uploaded_at_min <= uploaded_at_max <= fetched_at")
    def upload_interval_ordered(cls, data: PolarsData) -> pl.LazyFrame:
        both_null = pl.col("uploaded_at_min").is_null() & pl.col("uploaded_at_max").is_null()
        ordered = (pl.col("uploaded_at_min") <= pl.col("uploaded_at_max")) & (
            pl.col("uploaded_at_max") <= pl.col("fetched_at")
        )
        return data.lazyframe.select(both_null | ordered.fill_null(False))

    @pa.dataframe_check(name="a numeric document_ref is document_id or a 16-digit uuid")
    def document_ref_is_the_id(cls, data: PolarsData) -> pl.LazyFrame:
        # A uuid is 16 hex digits, and now and then all of them are decimal ones.
        numeric = pl.col("document_ref").str.contains(r"^[0-9]+$") & (
            pl.col("document_ref").str.len_chars() != 16
        )
        agrees = pl.col("document_ref") == pl.col("document_id").cast(pl.String)
        return data.lazyframe.select(
            (pl.col("document_id").is_null() | ~numeric | agrees).fill_null(True)
        )

    @pa.dataframe_check(name="byte_start < byte_end")
    def span_ordered(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("byte_start") < pl.col("byte_end"))


class Snapshot(pa.DataFrameModel):
    """One row per snapshot file read: one results page at one moment."""

    snapshot_id: str = pa.Field(
        unique=True,
        description="Hash of the bytes, fetched_at and the sidecar's URL where there is one.",
    )
    source_path: str = pa.Field(description="The file as given to the run.")
    byte_count: pl.Int64 = pa.Field(ge=0, description="Size of the file on disk.")
    content_sha256: str = pa.Field(str_length=64, description="Hash of the file's bytes.")
    fetched_at: UtcTime = pa.Field(description="When the page was fetched.")
    fetched_at_source: str = pa.Field(
        isin=list(FETCHED_AT_SOURCES), description="mtime means approximate."
    )
    url: str = pa.Field(nullable=True, description="From the sidecar, else the page's own.")
    site: str = pa.Field(nullable=True, description="URL host, else the --site option.")
    query: str = pa.Field(nullable=True, description="The search words (`wd`).")
    page: pl.Int32 = pa.Field(ge=1, nullable=True, description="Results page number.")
    form: str = pa.Field(isin=list(FORMS), description="text, html, json, or unreadable.")
    total_results: pl.Int64 = pa.Field(ge=0, nullable=True, description="Footer `共 N 条`.")
    last_page: pl.Int32 = pa.Field(ge=1, nullable=True, description="Highest pager number.")
    footer_byte_start: pl.Int64 = pa.Field(ge=0, nullable=True)
    footer_byte_end: pl.Int64 = pa.Field(ge=0, nullable=True)
    listing_count: pl.Int32 = pa.Field(ge=0, description="Valid listings written.")
    reject_count: pl.Int32 = pa.Field(ge=0, description="Reject rows written.")
    read_error: str = pa.Field(nullable=True, description="Why the file is unreadable.")
    metadata_warning: str = pa.Field(nullable=True, description="E.g. a broken sidecar.")
    # Page facts only the HTML and API JSON forms carry (null in the text form).
    site_document_count: pl.Int64 = pa.Field(
        ge=0, nullable=True, description="Documents on the whole site (HTML search tips)."
    )
    search_seconds: pl.Float64 = pa.Field(
        ge=0, nullable=True, description="The site's search time (HTML tips, API `spend`)."
    )
    # Added in schema version 3: null for unreadable files and for rows of older lakes.
    layout: str = pa.Field(
        isin=list(LAYOUTS),
        nullable=True,
        description="The template layout the page was detected as (vocab.LAYOUTS).",
    )
    page_type: str = pa.Field(
        isin=list(PAGE_TYPES),
        nullable=True,
        description="Search-result or category page (vocab.PAGE_TYPES).",
    )

    class Config:
        strict = True
        ordered = True


class Reject(pa.DataFrameModel):
    """One row per piece of input that is not a valid listing or the footer."""

    snapshot_id: str = pa.Field()
    source_path: str = pa.Field()
    position: pl.Int32 = pa.Field(ge=1, nullable=True, description="Listing place, if any.")
    byte_start: pl.Int64 = pa.Field(ge=0)
    byte_end: pl.Int64 = pa.Field(ge=0)
    fragment: str = pa.Field(description="The rejected text (a preview for unreadable files).")
    stage: str = pa.Field(isin=list(REJECT_STAGES), description="read, parse or validate.")
    reason: str = pa.Field(str_length={"min_value": 1}, description="Why, naming the check.")

    class Config:
        strict = True
        ordered = True


def polars_schema(model: type[pa.DataFrameModel]) -> pl.Schema:
    """The model's columns as a polars schema, in order: one source of truth for dtypes."""
    columns = model.to_schema().columns
    return pl.Schema({name: column.dtype.type for name, column in columns.items()})


def conform(frame: pl.DataFrame, model: type[pa.DataFrameModel]) -> pl.DataFrame:
    """Select and cast the model's columns in its order (missing columns are a bug: raise)."""
    schema = polars_schema(model)
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def validate(frame: pl.DataFrame, model: type[pa.DataFrameModel]) -> None:
    """Raise unless `frame` satisfies `model`: for tables derived from our own reading.

    A frame with no rows has only its schema to check: validating it as a LazyFrame checks
    columns and dtypes alone, much faster than validating the empty frame itself (most
    batches reject nothing).
    """
    model.validate(frame.lazy() if frame.is_empty() else frame)


def split_valid(
    frame: pl.DataFrame, model: type[pa.DataFrameModel]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(valid rows, failed rows with a `reason` naming each failed check).

    Schema-level failures (a missing column, a wrong dtype) have no row index: they are
    bugs in this code, not bad data, so they raise instead of rejecting a whole batch.
    """
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        if cases["index"].null_count():
            raise
        reasons = cases.group_by(pl.col("index").cast(pl.UInt32)).agg(
            pl.format("schema check failed: {} {}", pl.col("column"), pl.col("check"))
            .unique()
            .sort()
            .str.join("; ")
            .alias("reason")
        )
        indexed = frame.with_row_index("index")
        failed = indexed.join(reasons, on="index", how="inner").drop("index")
        valid = indexed.join(reasons, on="index", how="anti").drop("index")
        return valid, failed
    return frame, frame.head(0).with_columns(pl.lit(None, pl.String).alias("reason"))
