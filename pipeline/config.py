"""Defaults shared by the CLI and the flow: where the sample input and the outputs live."""

from __future__ import annotations

from pathlib import Path

DEFAULT_RAW = Path("data/raw")
DEFAULT_LAKE = Path("data/lake")
DEFAULT_DB = Path("data/warehouse.duckdb")
DEFAULT_REPORT = Path("data/report.html")
# Bounded batches keep memory flat however much input there is.
DEFAULT_BATCH_BYTES = 64 * 2**20
