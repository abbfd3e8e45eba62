"""SQL unit tests: small lake tables in an in-memory DuckDB, the real models, exact rows.

The models name lake tables only through `{{ source('lake', …) }}`, so a test binds its own
tiny `snapshots` / `listings` / `rejects` tables, typed exactly like the lake (from the
pandera models), and runs the real dbt_like_sql project over them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from pipeline import schemas
from pipeline.lake import manifest
from pipeline.warehouse import database, runner
from pipeline.warehouse.project import Project, load_project
from pipeline.warehouse.results import RunResult

T0 = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
MONTH = 30 * DAY  # the site's month


def snapshot(snapshot_id: str, fetched_at: datetime, **columns: Any) -> dict[str, Any]:
    """A snapshot row: one page of query `kubernetes` on wenku.it unless told otherwise."""
    return {
        "snapshot_id": snapshot_id,
        "source_path": f"raw/{snapshot_id}.txt",
        "byte_count": 1000,
        "content_sha256": "0" * 64,
        "fetched_at": fetched_at,
        "fetched_at_source": "sidecar",
        "url": None,
        "site": "wenku.it",
        "query": "kubernetes",
        "page": 1,
        "form": "text",
        "total_results": 100,
        "last_page": 10,
        "footer_byte_start": None,
        "footer_byte_end": None,
        "listing_count": None,  # filled in from the listings given with it
        "reject_count": 0,
        "read_error": None,
        "metadata_warning": None,
        **columns,
    }


def listing(
    snapshot_id: str,
    position: int,
    heading: str,
    fetched_at: datetime,
    *,
    age_days: tuple[int, int] | None = None,
    **columns: Any,
) -> dict[str, Any]:
    """A listing row; `age_days=(n, n + 1)` means `n 天前`: fetched − (n+1) d < upload ≤ − n d."""
    uploaded = (
        (fetched_at - age_days[1] * DAY + SECOND, fetched_at - age_days[0] * DAY)
        if age_days
        else (None, None)
    )
    return {
        "snapshot_id": snapshot_id,
        "position": position,
        "byte_start": position * 100,
        "byte_end": position * 100 + 99,
        "heading": heading,
        "title": None,
        "description": None,
        "title_source": "unknown",
        "price": 0,
        "price_text": "0",
        "price_ambiguous": False,
        "credit": "码力",
        "pages": 12,
        "size_text": "1.50 MB",
        "size_bytes": 1572864,
        "size_bytes_min": 1567622,
        "size_bytes_max": 1578106,
        "age_text": None,
        "uploaded_at_min": uploaded[0],
        "uploaded_at_max": uploaded[1],
        "rating": 3.0,
        "score": 300,
        "rating_anomaly": False,
        "site": "wenku.it",
        "fetched_at": fetched_at,
        **columns,
    }


def reject(snapshot_id: str, byte_start: int, reason: str, **columns: Any) -> dict[str, Any]:
    return {
        "snapshot_id": snapshot_id,
        "source_path": f"raw/{snapshot_id}.txt",
        "position": None,
        "byte_start": byte_start,
        "byte_end": byte_start + 10,
        "fragment": f"fragment at {byte_start}",
        "stage": "parse",
        "reason": reason,
        **columns,
    }


def empty_lake(path: Path) -> Path:
    """A lake with nothing committed yet: what a run leaves when it found no input."""
    (path / manifest.DIRNAME).mkdir(parents=True, exist_ok=True)
    return path


def bind_tables(
    con: duckdb.DuckDBPyConnection,
    snapshots: Iterable[Mapping[str, Any]],
    listings: Iterable[Mapping[str, Any]] = (),
    rejects: Iterable[Mapping[str, Any]] = (),
) -> None:
    """Create the three lake tables on `con`, typed as the lake types them."""
    listings = list(listings)
    snapshots = [
        {
            **row,
            "listing_count": row["listing_count"]
            if row["listing_count"] is not None
            else sum(1 for x in listings if x["snapshot_id"] == row["snapshot_id"]),
        }
        for row in snapshots
    ]
    for name, rows, model in (
        ("snapshots", snapshots, schemas.Snapshot),
        ("listings", listings, schemas.Listing),
        ("rejects", list(rejects), schemas.Reject),
    ):
        frame = pl.DataFrame(rows, schema=schemas.polars_schema(model), orient="row")
        con.register(f"_{name}", frame.to_arrow())
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _{name}")
        con.unregister(f"_{name}")


MODELS = {"snapshots": schemas.Snapshot, "listings": schemas.Listing, "rejects": schemas.Reject}


def append_tables(
    con: duckdb.DuckDBPyConnection,
    snapshots: Iterable[Mapping[str, Any]],
    listings: Iterable[Mapping[str, Any]] = (),
    rejects: Iterable[Mapping[str, Any]] = (),
) -> dict[str, str]:
    """Append rows to the lake tables `bind_tables` made, as an update does, each table's new
    rows also kept apart: what `runner.run(…, incremental=True, appended=…)` takes."""
    appended = {}
    for name, rows_ in (("snapshots", snapshots), ("listings", listings), ("rejects", rejects)):
        frame = pl.DataFrame(list(rows_), schema=schemas.polars_schema(MODELS[name]), orient="row")
        con.register("_rows", frame.to_arrow())
        con.execute(f"CREATE TEMP TABLE appended_{name} AS SELECT * FROM _rows")
        con.unregister("_rows")
        con.execute(f"INSERT INTO {name} SELECT * FROM appended_{name}")
        appended[name] = f"appended_{name}"
    return appended


@pytest.fixture(scope="session")
def project() -> Project:
    return load_project()


RunModels = Callable[..., tuple[duckdb.DuckDBPyConnection, RunResult]]


@pytest.fixture
def run_models(project: Project) -> Iterable[RunModels]:
    """Bind the given lake rows, build `+model` (it and its upstream), return (con, result)."""
    connections: list[duckdb.DuckDBPyConnection] = []

    def run(
        model: str,
        snapshots: Iterable[Mapping[str, Any]],
        listings: Iterable[Mapping[str, Any]] = (),
        rejects: Iterable[Mapping[str, Any]] = (),
        **vars_: Any,
    ) -> tuple[duckdb.DuckDBPyConnection, RunResult]:
        con = database.connect()
        connections.append(con)
        bind_tables(con, snapshots, listings, rejects)
        return con, runner.run(con, project, select=[f"+{model}"], vars_=vars_)

    yield run
    for con in connections:
        con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """A query's rows as dicts, for exact comparisons."""
    return con.sql(sql).pl().to_dicts()
