"""Defaults shared by the CLI and the flow: where the sample input and the outputs live."""

from __future__ import annotations

from pathlib import Path

DEFAULT_RAW = Path("data/raw")
DEFAULT_LAKE = Path("data/lake")
DEFAULT_DB = Path("data/warehouse.duckdb")
DEFAULT_REPORT = Path("data/report.html")
# Bounded batches keep memory flat however much input there is. Measured on 100 k listings
# (53 MB): 64 MB batches 18-19 s at 1.15 GB peak RSS (1.43 GB at 1 M listings, close to the
# 1.5 GB budget); 32 MB 19.7 s at 0.71 GB; 16 MB 20-26 s at 0.53 GB. Time is mostly file
# creation and noisy here; 32 MB halves memory for about the same time.
DEFAULT_BATCH_BYTES = 32 * 2**20
