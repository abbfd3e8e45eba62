"""How an analyst reads the data: the lake with polars or pandas, the warehouse with DuckDB.

Run from the project root after `make run` (or pass the lake folder and warehouse file):

    python examples/notebook_example.py [LAKE_DIR] [WAREHOUSE]

Each step is what a notebook cell would hold. Nothing here writes: the warehouse is opened
read-only, so any number of notebooks can read it while nobody rebuilds it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl

import pipeline


def main(lake: Path = Path("data/lake"), db: Path = Path("data/warehouse.duckdb")) -> None:
    # 0. The project's own five names (`import pipeline`, docs/notebooks.md's quick start):
    #    `scan` reads a lake table exactly as its manifest committed it, `query` runs
    #    read-only SQL on the warehouse and returns polars.
    committed = pipeline.scan(lake, "listings").select(pl.len()).collect().item()
    documents = pipeline.query("select count(*) as documents from dim_documents", db=db)
    print(f"committed listings: {committed}; documents: {documents.item()} (import pipeline)")

    # 1. The lake with polars, lazily: hive_partitioning turns the `fetched_month=…` folder
    #    names into a column (a filter on it skips whole files), and every file holds a
    #    `fetched_date` column sorted by fetch time (a filter on it skips row groups).
    #    `pipeline.lake.scan(lake, "listings")` reads exactly what the manifest committed.
    listings = pl.scan_parquet(f"{lake}/listings/**/*.parquet", hive_partitioning=True)
    snapshots = pl.scan_parquet(f"{lake}/snapshots/**/*.parquet", hive_partitioning=True)
    per_query = (
        listings.join(snapshots.select("snapshot_id", "query"), on="snapshot_id")
        .group_by("query")
        .agg(
            pl.len().alias("listings"),
            pl.col("size_bytes").median().alias("median_size_bytes"),
            # ages are intervals: the upload time lies between these two bounds
            pl.col("uploaded_at_min").min().alias("oldest_upload_at_min"),
        )
        .sort("listings", descending=True)
        .collect()
    )
    print("listings per query (polars over the lake):")
    print(per_query)

    # 2. The same files with pandas (through pyarrow), for the pandas toolbox: pyarrow's
    #    dtypes keep the lake's types, so `pages` (null where a page prints no count) stays
    #    an integer column; pandas' own would make it float64.
    frame = pd.read_parquet(
        lake / "listings", columns=["credit", "price", "rating", "pages"], dtype_backend="pyarrow"
    )
    print("\nmean rating by credit word (pandas over the lake):")
    print(frame.groupby("credit")["rating"].mean().round(2).to_string())

    # 3. The warehouse with DuckDB, read-only: the marts answer the analyst's questions.
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")  # timestamps come back in UTC
        narrowest = con.sql(
            """
            select left(heading, 30) as heading, times_seen, uploaded_at_min,
                   uploaded_at_max, round(uploaded_window_hours, 2) as window_hours
            from dim_documents
            where uploaded_window_hours is not null
            order by uploaded_window_hours, document_key
            limit 5
            """
        ).pl()
        print("\ndocuments with the narrowest known upload window (DuckDB marts):")
        print(narrowest)
        fetches = con.sql(
            "select query, fetch_started_at, total_results, new_documents "
            "from fct_query_snapshots order by fetch_started_at"
        ).df()  # a pandas DataFrame straight from DuckDB
        print("\nfetches per query (DuckDB → pandas):")
        print(fetches.to_string(index=False))


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:3]))
