"""Defaults shared by the CLI and the flow: where the sample input and the outputs live."""

from __future__ import annotations

from pathlib import Path

DEFAULT_RAW = Path("data/raw")
DEFAULT_LAKE = Path("data/lake")
DEFAULT_DB = Path("data/warehouse.duckdb")
DEFAULT_REPORT = Path("data/report.html")
# Bounded batches keep memory flat however much input there is; with worker processes
# each worker takes batches of DEFAULT_BATCH_BYTES / workers, so the total stays about one
# batch. Measured on 1 M listings, batch layout, 2 workers: 32 / 48 / 64 MB took 8.4-9.0 /
# 8.4-8.7 / 8.5-8.8 s at 1.15 / 1.3 / 1.4 GB peak (whole process tree): time hardly moves,
# memory does. (One process, snapshot layout, 100 k listings: 64 / 32 / 16 MB took
# 18-19 / 19.7 / 20-26 s at 1.15 / 0.71 / 0.53 GB.)
DEFAULT_BATCH_BYTES = 32 * 2**20
