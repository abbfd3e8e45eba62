"""Defaults shared by the CLI, the flow and the stages, and every `LISTINGS_*` variable.

The bottom layer (it imports nothing of ours). Each environment variable is named here as a
`*_ENV` constant and read by a small function when its value is used, never at import, so a
test or a caller that sets one takes effect at once; the README's "Environment variables"
table lists them (tests/test_config.py holds the two equal).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

DEFAULT_RAW = Path("data/raw")
DEFAULT_LAKE = Path("data/lake")
DEFAULT_DB = Path("data/warehouse.duckdb")
DEFAULT_REPORT = Path("data/report.html")
# Bounded batches keep memory flat however much input there is: a run holds at most three
# batches (one read ahead, one parsed, one being written; with worker processes, one per
# worker at batch / workers each). 24 MB is the measured trade: larger batches let peak
# memory grow more with the input (a small input fills fewer batches than a run holds),
# smaller ones only cost time (benchmarks/RESULTS.md, "Measurements behind design choices").
DEFAULT_BATCH_BYTES = 24 * 2**20

# The time zone a site prints absolute upload times in (DocHub's `YYYY-MM-DD HH:MM`) when the
# run names none for it (`--site-tz SITE=ZONE`): the sites in question are Chinese
# (docs/input-format.md §3.4).
DEFAULT_SITE_TIME_ZONE = "Asia/Shanghai"

# The largest page a run reads, decompressed: a gzip "bomb" (255 KB expanding to 256 MiB) is
# stopped after this many bytes instead of filling memory, and so is a plain file this large.
# Real results pages are well under 1 MiB; `--max-page-mb` raises it.
MAX_PAGE_BYTES = 64 * 2**20

# The port of the local Prefect server (and its UI) that `listings serve` starts when no
# PREFECT_API_URL is set: Prefect's own default, and stable, so a bookmark keeps working.
SERVE_PORT = 4200

# The DuckDB storage format a build writes a new warehouse file in: the oldest that holds
# everything a warehouse uses (ENUM types, comments, and the dictionary + FSST string
# compression that keeps the file within 3x the lake's Parquet bytes), so DuckDB 1.3 and every
# later version open the file, not DuckDB 2 alone (docs/warehouse.md, "Which DuckDB opens the
# warehouse"). `--storage-version` or the environment variable chooses another ('v1.0.0' for
# DuckDB 1.0 to 1.2, at ~31 % more bytes; 'latest': DuckDB's newest).
STORAGE_VERSION = "v1.3.0"
# DuckDB's resources for a connection (`warehouse.database.configure`): sized for `listings
# build` at a million listings within a 2 GB peak RSS on a 2-core machine; the environment
# overrides them on bigger machines. Threads: 0 is one per core.
DUCKDB_MEMORY_LIMIT = "1GB"
# How long a reader, a copy or a rename waits for an update holding the warehouse file: an
# update takes seconds; a file held longer is held by someone else's client, not by a build.
WAREHOUSE_WAIT_S = 60.0

# --- environment variables: each read when its value is used ---------------------------

STORAGE_VERSION_ENV = "LISTINGS_DUCKDB_STORAGE_VERSION"
DUCKDB_MEMORY_LIMIT_ENV = "LISTINGS_DUCKDB_MEMORY_LIMIT"
DUCKDB_THREADS_ENV = "LISTINGS_DUCKDB_THREADS"
WAREHOUSE_WAIT_S_ENV = "LISTINGS_WAREHOUSE_WAIT_S"
# The Dask scheduler `listings run` sends its batches to when `--dask-address` is not given.
DASK_ADDRESS_ENV = "LISTINGS_DASK_ADDRESS"
# Set by `listings serve` for the flow runs it serves (they inherit it): each prints one line
# when it ends, as a served process that only ever printed its start-up leaves people guessing.
SERVED_ENV = "LISTINGS_SERVED"
# The folder a build writes its run artifacts to (`--target-path`; `listings run` hands its
# option to the build through it). Unset: `target/` beside the warehouse file.
TARGET_PATH_ENV = "LISTINGS_TARGET_PATH"


def duckdb_storage_version() -> str:
    """The storage version a new warehouse file is written in when no command names one:
    `STORAGE_VERSION_ENV`, else `STORAGE_VERSION` (checked by `warehouse.files`)."""
    return os.environ.get(STORAGE_VERSION_ENV) or STORAGE_VERSION


def duckdb_memory_limit() -> str:
    """DuckDB's memory limit (`DUCKDB_MEMORY_LIMIT_ENV`, else `DUCKDB_MEMORY_LIMIT`)."""
    return os.environ.get(DUCKDB_MEMORY_LIMIT_ENV, DUCKDB_MEMORY_LIMIT)


def duckdb_threads() -> int:
    """DuckDB's threads (`DUCKDB_THREADS_ENV`; unset or 0: one per core)."""
    return int(os.environ.get(DUCKDB_THREADS_ENV, "0")) or os.cpu_count() or 1


def warehouse_wait_s() -> float:
    """Seconds to wait for an update holding the warehouse (`WAREHOUSE_WAIT_S_ENV`)."""
    return float(os.environ.get(WAREHOUSE_WAIT_S_ENV, WAREHOUSE_WAIT_S))


def dask_address() -> str | None:
    """The Dask scheduler's address from the environment (`DASK_ADDRESS_ENV`), or None."""
    return os.environ.get(DASK_ADDRESS_ENV)


def served() -> bool:
    """Whether this process is a flow run that `listings serve` started (`SERVED_ENV`)."""
    return bool(os.environ.get(SERVED_ENV))


def target_path() -> str | None:
    """The run artifacts' folder from the environment (`TARGET_PATH_ENV`), or None."""
    return os.environ.get(TARGET_PATH_ENV) or None


@contextlib.contextmanager
def environment_set(name: str, value: str | None) -> Iterator[None]:
    """Within the block the environment variable `name` is `value` (None: as it was), for
    this process and those it starts; restored after."""
    if value is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
