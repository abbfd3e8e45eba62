"""Defaults shared by the CLI and the flow: where the sample input and the outputs live."""

from __future__ import annotations

from pathlib import Path

DEFAULT_RAW = Path("data/raw")
DEFAULT_LAKE = Path("data/lake")
DEFAULT_DB = Path("data/warehouse.duckdb")
DEFAULT_REPORT = Path("data/report.html")
# Bounded batches keep memory flat however much input there is: a run holds at most three
# batches (one read ahead, one parsed, one being written; with worker processes, one per
# worker at batch / workers each). Measured (batch layout, one process, 1 M / 100 k
# listings): 32 MB 8.7-8.9 s at 0.81-0.86 GB / 0.67 GB (+20-27 %: the 100 k input is two
# batches, so it never fills the pipeline); 24 MB 9.0 s at 0.73 GB / 0.61-0.63 GB (+16-19 %);
# 20 MB 9.3-9.6 s at 0.67-0.68 GB / 0.59-0.61 GB. 24 MB keeps memory flat for ~2 % of time.
DEFAULT_BATCH_BYTES = 24 * 2**20
