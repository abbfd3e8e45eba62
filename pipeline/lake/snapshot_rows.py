"""`listings verify`'s row checks: each committed snapshot against the rows its files hold.

One snapshot row per snapshot, its listings and rejects in the group the manifest names and
as many as it counts, no (snapshot_id, position) twice, no rows of snapshots nobody
committed. Whole tables at once (polars); `verify` runs it on the files it read whole.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

FILE = "__file"  # the committed file a row was read from: `<table>/<data_file>.parquet`


def check(
    committed: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
    readable: dict[str, list[str]],
    problem: Callable[[str, str, str], None],
) -> int:
    """Each committed snapshot against the rows the files hold for it, each finding told to
    `problem(check, subject, detail)`; how many snapshots the manifest commits. `tables`
    are the rows read from the files in `readable` (each table's), with their file in
    `FILE`."""
    per = committed.unique(["snapshot_id", "data_file"]).select(
        "snapshot_id",
        "data_file",
        pl.col("source_path").alias("manifest_path"),
        "listing_count",
        "reject_count",
    )
    snapshots_committed = per["snapshot_id"].n_unique()
    read_groups = {
        table: pl.Series([p.split("/", 1)[1].removesuffix(".parquet") for p in paths])
        for table, paths in readable.items()
    }
    snapshots, listings, rejects = (tables[t] for t in ("snapshots", "listings", "rejects"))
    committed_ids = per.select("snapshot_id").unique()
    named = {"snapshots": snapshots, "listings": listings, "rejects": rejects}

    # Rows of snapshots no commit names (counted per file: a stray copy names many).
    for table, frame in named.items():
        stray = frame.join(committed_ids, on="snapshot_id", how="anti")
        for path, n, ids in (
            stray.group_by(FILE)
            .agg(pl.len(), pl.col("snapshot_id").n_unique())
            .sort(FILE)
            .iter_rows()
        ):
            problem(
                "rows of uncommitted snapshots",
                path,
                f"{n:,} {table} rows of {ids:,} snapshots that no commit names",
            )

    # Snapshot rows: exactly one per committed snapshot, in its group.
    rows = snapshots.group_by("snapshot_id", "data_file").agg(
        pl.len().alias("rows"),
        pl.col("listing_count").first().alias("row_listing_count"),
        pl.col("reject_count").first().alias("row_reject_count"),
    )
    counted = {
        name: frame.group_by("snapshot_id", "data_file").len(f"{name}_rows")
        for name, frame in (("listings", listings), ("rejects", rejects))
    }
    joined = (
        per.join(rows, on=["snapshot_id", "data_file"], how="left")
        .join(counted["listings"], on=["snapshot_id", "data_file"], how="left")
        .join(counted["rejects"], on=["snapshot_id", "data_file"], how="left")
        .with_columns(pl.col("rows", "listings_rows", "rejects_rows").fill_null(0))
    )
    # Only where the group's files were read: a missing file is reported once, above.
    read = pl.col("data_file").is_in(read_groups["snapshots"].implode())
    for sid, path, rows_ in (
        joined.filter(read & (pl.col("rows") != 1))
        .select("snapshot_id", "manifest_path", "rows")
        .sort("snapshot_id")
        .iter_rows()
    ):
        detail = (
            "no snapshot row in its group's file"
            if rows_ == 0
            else f"{rows_} snapshot rows in its group's file"
        )
        problem("snapshot rows", f"{sid} ({path})", detail)
    for table in ("listings", "rejects"):
        read = pl.col("data_file").is_in(read_groups[table].implode())
        singular = table.removesuffix("s")
        mismatched = joined.filter(
            read
            & (
                (pl.col(f"{table}_rows") != pl.col(f"{singular}_count"))
                | (
                    pl.col(f"row_{singular}_count").is_not_null()
                    & (pl.col(f"row_{singular}_count") != pl.col(f"{table}_rows"))
                )
            )
        ).sort("snapshot_id")
        for sid, group, path, said, row_said, found in mismatched.select(
            "snapshot_id",
            "data_file",
            "manifest_path",
            f"{singular}_count",
            f"row_{singular}_count",
            f"{table}_rows",
        ).iter_rows():
            problem(
                f"{table} per snapshot",
                f"{sid} ({path})",
                f"{found:,} {table} in {group}, the manifest says {said:,}"
                + ("" if row_said is None else f" and its snapshot row {row_said:,}"),
            )

    # Rows of a committed snapshot in a group the manifest does not put it in.
    placed = per.select("snapshot_id", "data_file")
    for table, frame in named.items():
        elsewhere = frame.join(committed_ids, on="snapshot_id", how="semi").join(
            placed, on=["snapshot_id", "data_file"], how="anti"
        )
        for path, n, ids in (
            elsewhere.group_by(FILE)
            .agg(pl.len(), pl.col("snapshot_id").n_unique())
            .sort(FILE)
            .iter_rows()
        ):
            problem(
                "rows in the wrong group",
                path,
                f"{n:,} {table} rows of {ids:,} snapshots the manifest puts in other groups",
            )

    # One listing key once in the whole lake (counted first: almost always none).
    key = pl.struct("snapshot_id", "position")
    if listings.select(key.n_unique()).item() == listings.height:
        return snapshots_committed
    twice = (
        listings.filter(key.is_duplicated())
        .group_by("snapshot_id", "position")
        .agg(pl.col(FILE).sort())
    )
    for files, n, ids in (
        twice.group_by(pl.col(FILE).list.join(", "))
        .agg(pl.len(), pl.col("snapshot_id").n_unique())
        .sort(FILE)
        .iter_rows()
    ):
        problem(
            "duplicate listings",
            files,
            f"{n:,} (snapshot_id, position) keys of {ids:,} snapshots appear more than once",
        )
    return snapshots_committed
