"""The raw-DuckDB floor for `listings build`: the core of its two big marts, and nothing else.

`listings build` loads the lake's tables, keys every listing (`int_listings__document_keys`),
folds the listings of each document into one row (`dim_documents`) and keeps one row per
document per snapshot (`fct_listing_appearances`); then it builds the small marts and runs the data
tests. This does only that core, in raw DuckDB on one-file Parquet copies of the lake's
`listings` and `snapshots`, so the benchmark kit can say how far the build is from what
DuckDB itself needs for the same work (the warehouse target: within 2.5×).

Honest in both directions:
- the same work: the document key is the model's expression, computed the model's way (each
  distinct heading normalised once, then md5 per listing); the keyed table holds the keys
  only, as the model's does, and the steps after it join the listings back; documents are
  grouped with first/last seen, sightings and both interval intersections; appearances are
  deduplicated per (snapshot, document) and joined to their snapshot. The tables are
  written to a fresh DuckDB file stored as the warehouse stores its tables
  (`WRITE_SETTINGS`, the listings in heading order, in the warehouse's storage format
  `STORAGE_VERSION`): writing a million listings is work any warehouse build does, and most
  of it at this size;
- nothing more: no staging casts, no fetch grouping, no latest title or query list, no small
  marts, no data tests, no row counts or renames.

`in_memory=True` keeps the tables in memory instead: the compute alone, a lower floor that
no build producing a file can reach (reported beside the other, not instead of it).

`python -m benchmarks.warehouse_floor LISTINGS.parquet SNAPSHOTS.parquet` prints the result.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

# How `pipeline.warehouse.database` stores the tables of a build (its `WRITE_SETTINGS`, where
# each is explained), the memory it gives DuckDB (`MEMORY_LIMIT`) and the storage format of a
# new warehouse file (`pipeline.config.STORAGE_VERSION`: the format decides which string
# compression the file may use, so the build and the floor write the same bytes' worth),
# copied rather than imported so this job loads DuckDB alone (no polars) and its peak RSS is
# DuckDB's; tests/warehouse/sql/test_warehouse_floor.py checks they agree. The build's memory
# limit is also the faster one for the file floor here: DuckDB's default (80 % of RAM) was
# slower and took far more memory (figures in benchmarks/RESULTS.md, "Measurements behind
# design choices").
WRITE_SETTINGS = {"preserve_insertion_order": "false"}
MEMORY_LIMIT = "1GB"
STORAGE_VERSION = "v1.3.0"

# The model's key (dbt_like_sql/macros/heading_key_text.sql and
# intermediate/int_listings__document_keys.sql): whitespace and
# separators out of the heading, then trailing digits, then md5 of it with the size, page
# count and credit word. tests/warehouse/sql/test_warehouse_floor.py checks both give the
# same keys.
HEADING_KEY_TEXT = r"regexp_replace(regexp_replace(heading, '[\s\pZ]+', '', 'g'), '[0-9]+$', '')"
DOCUMENT_KEY = (
    "left(md5(concat_ws(chr(31), headings.heading_key_text, cast(listings.size_bytes as varchar),"
    " coalesce(cast(listings.pages as varchar), '-'), listings.credit)), 16)"
)

STEPS = {
    "load": [
        # in heading order, as the warehouse stores it (`database.LOAD_ORDER`)
        "CREATE TABLE listings AS SELECT * FROM read_parquet($listings) ORDER BY heading",
        "CREATE TABLE snapshots AS SELECT * FROM read_parquet($snapshots)",
    ],
    "key": [
        f"""
        CREATE TABLE keyed AS
        WITH headings AS (
            SELECT heading, {HEADING_KEY_TEXT} AS heading_key_text
            FROM (SELECT DISTINCT heading FROM listings)
        )
        SELECT
            {DOCUMENT_KEY} AS document_key,
            listings.snapshot_id,
            listings.position
        FROM listings
        LEFT JOIN headings ON listings.heading = headings.heading
        """
    ],
    "documents": [
        """
        CREATE TABLE documents AS
        SELECT
            document_key,
            arg_max(heading, fetched_at) AS heading,
            min(fetched_at) AS first_seen_at,
            max(fetched_at) AS last_seen_at,
            count(DISTINCT snapshot_id) AS times_seen,
            max(uploaded_at_min) AS uploaded_at_min,
            min(uploaded_at_max) AS uploaded_at_max,
            max(size_bytes_min) AS size_bytes_min,
            min(size_bytes_max) AS size_bytes_max
        FROM keyed
        JOIN listings USING (snapshot_id, position)
        GROUP BY document_key
        """
    ],
    "appearances": [
        """
        CREATE TABLE appearances AS
        SELECT
            keyed.document_key,
            keyed.snapshot_id,
            keyed.position,
            snapshots.query,
            snapshots.page,
            count(*) OVER per_page AS times_listed_in_snapshot,
            snapshots.fetched_at,
            snapshots.fetched_at_source,
            listings.uploaded_at_min,
            listings.uploaded_at_max
        FROM keyed
        JOIN listings ON keyed.snapshot_id = listings.snapshot_id
            AND keyed.position = listings.position
        JOIN snapshots ON keyed.snapshot_id = snapshots.snapshot_id
        WINDOW per_page AS (PARTITION BY keyed.snapshot_id, keyed.document_key)
        QUALIFY row_number() OVER (per_page ORDER BY keyed.position) = 1
        """
    ],
}


@dataclass
class WarehouseFloor:
    """Seconds of the floor's work (no imports, no start-up) and the rows it made."""

    seconds: float
    steps: dict[str, float] = field(default_factory=dict)  # load, key, documents, appearances
    listings: int = 0
    documents: int = 0
    appearances: int = 0
    threads: int = 0
    memory_limit: str = ""
    in_memory: bool = False
    # steps that ran out of memory on every thread and were run again on one
    one_thread_steps: list[str] = field(default_factory=list)


def run_warehouse_floor(
    listings_parquet: Path,
    snapshots_parquet: Path,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    in_memory: bool = False,
) -> WarehouseFloor:
    """Run the floor's steps in a fresh DuckDB (a temporary file unless `in_memory`).

    `threads` defaults to DuckDB's (one per core, as the build's). `memory_limit` defaults
    to the build's for a file; in memory, to DuckDB's own (80 % of RAM), since the tables
    alone outgrow the build's limit there and would spill.
    """
    with tempfile.TemporaryDirectory(prefix="warehouse-floor-") as folder:
        con = (
            duckdb.connect(":memory:")
            if in_memory
            else duckdb.connect(
                str(Path(folder) / "floor.duckdb"),
                config={"storage_compatibility_version": STORAGE_VERSION},
            )
        )
        # DuckDB 2 checkpoints an in-memory database once its log passes
        # `checkpoint_threshold`, compressing what it holds: after a large load that is long
        # work which leaves nothing behind in memory (figures in benchmarks/RESULTS.md).
        settings = (
            {"checkpoint_threshold": "'1TB'"}
            if in_memory
            else {**WRITE_SETTINGS, "memory_limit": _literal(MEMORY_LIMIT)}
        )
        if threads is not None:
            settings["threads"] = str(int(threads))
        if memory_limit is not None:
            settings["memory_limit"] = _literal(memory_limit)
        for name, value in settings.items():
            con.execute(f"SET {name} = {value}")
        files = {"$listings": _literal(str(listings_parquet)),
                 "$snapshots": _literal(str(snapshots_parquet))}  # fmt: skip
        steps: dict[str, float] = {}
        one_thread: list[str] = []
        for step, statements in STEPS.items():
            started = time.perf_counter()
            for sql in statements:
                for name, path in files.items():
                    sql = sql.replace(name, path)
                try:
                    con.execute(sql)
                except duckdb.OutOfMemoryException:
                    # Sorting the one-file copy's wide rows on every thread can outgrow
                    # the memory limit (its row groups are read whole, one per thread);
                    # on one thread it fits. Said in the result, never hidden.
                    threads = con.sql("SELECT current_setting('threads')").fetchall()[0][0]
                    con.execute("SET threads = 1")
                    con.execute(sql)
                    one_thread.append(step)
                    con.execute(f"SET threads = {int(threads)}")
            steps[step] = time.perf_counter() - started
        counts = {
            table: con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in ("listings", "documents", "appearances")
        }
        used = dict(
            con.sql(
                "SELECT name, value FROM duckdb_settings() "
                "WHERE name IN ('threads', 'memory_limit')"
            ).fetchall()
        )
        con.close()
    return WarehouseFloor(
        seconds=sum(steps.values()),
        steps=steps,
        threads=int(used["threads"]),
        memory_limit=used["memory_limit"],
        in_memory=in_memory,
        one_thread_steps=one_thread,
        **counts,
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warehouse_floor")
    parser.add_argument("listings", type=Path, help="one-file Parquet copy of the listings")
    parser.add_argument("snapshots", type=Path, help="one-file Parquet copy of the snapshots")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--memory-limit", metavar="SIZE", help="e.g. 1GB")
    parser.add_argument("--in-memory", action="store_true", help="no file: the compute alone")
    args = parser.parse_args(argv)
    floor = run_warehouse_floor(
        args.listings,
        args.snapshots,
        threads=args.threads,
        memory_limit=args.memory_limit,
        in_memory=args.in_memory,
    )
    print(asdict(floor))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
