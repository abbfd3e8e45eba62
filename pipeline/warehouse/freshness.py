"""Source freshness (dbt's `dbt source freshness`): how old each source table's newest row
is, against the `freshness:` its sources YAML declares.

`declared` reads each table's `loaded_at_field` and `freshness: {warn_after, error_after}`
(a source's apply to its tables unless a table says otherwise; `freshness: null` turns it
off), `check` queries `max(loaded_at_field)` in a warehouse or over a lake and judges its
age, and `write_sources_json` writes dbt's `sources.json` artifact. `listings freshness`
(pipeline/cli/freshness.py) calls them; dbt_like_sql/README.md, "Source freshness".
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline import atomic
from pipeline.errors import ModelError
from pipeline.warehouse import declarations
from pipeline.warehouse.project import LAYERS, Project
from pipeline.warehouse.results import EVENT_WIDTH
from pipeline.warehouse.templates import quote

PERIODS = ("minute", "hour", "day")  # dbt's
STATUSES = ("pass", "warn", "error", "runtime error")  # dbt's, in sources.json
SOURCES_JSON = "sources.json"
SCHEMA_VERSION = "https://schemas.getdbt.com/dbt/sources/v3.json"


@dataclass(frozen=True)
class Threshold:
    """`{count: 2, period: day}`: an age a source may reach."""

    count: int
    period: str

    @property
    def age(self) -> timedelta:
        return timedelta(**{f"{self.period}s": self.count})

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "period": self.period}


@dataclass(frozen=True)
class Freshness:
    """A source table's freshness: the column saying when a row was loaded, and the ages
    past which it warns and errs (either may be absent, as in dbt)."""

    source: str
    table: str
    relation: str  # what the table resolves to in the warehouse (and over a lake)
    loaded_at_field: str
    warn_after: Threshold | None
    error_after: Threshold | None
    filter: str | None = None  # dbt's `filter:`: a WHERE clause on the rows read

    @property
    def name(self) -> str:
        return f"{self.source}.{self.table}"

    def status(self, age: timedelta) -> str:
        """dbt's rule: error past error_after, else warn past warn_after, else pass."""
        if self.error_after is not None and age > self.error_after.age:
            return "error"
        if self.warn_after is not None and age > self.warn_after.age:
            return "warn"
        return "pass"

    def criteria(self) -> dict[str, Any]:
        return {
            "warn_after": self.warn_after.as_json() if self.warn_after else {},
            "error_after": self.error_after.as_json() if self.error_after else {},
            "filter": self.filter,
        }


@dataclass(frozen=True)
class Result:
    """One table's freshness at `now`: its newest row's time, its age and status."""

    freshness: Freshness
    now: datetime
    max_loaded_at: datetime | None  # None: no row (dbt: a runtime error)
    seconds: float

    @property
    def age(self) -> timedelta | None:
        return None if self.max_loaded_at is None else self.now - self.max_loaded_at

    @property
    def status(self) -> str:
        return "runtime error" if self.age is None else self.freshness.status(self.age)

    def render(self, index: int, total: int) -> str:
        """A dbt-style line: `  1 of 1 PASS freshness of lake.snapshots .... 0.4 days ago`."""
        word = {"pass": "PASS", "warn": "WARN", "error": "ERROR STALE"}.get(self.status, "ERROR")
        head = f"{index:>3} of {total} {word} freshness of {self.freshness.name} "
        field = self.freshness.loaded_at_field
        if self.age is None:
            tail = f"no rows: max({field}) is null"
        else:
            assert self.max_loaded_at is not None
            tail = (
                f"max({field}) {self.max_loaded_at.isoformat()}, "
                f"{self.age / timedelta(days=1):.1f} days ago"
            )
        return f"{head}{'.' * max(3, EVENT_WIDTH - len(head))} {tail}"

    def as_json(self, project_name: str) -> dict[str, Any]:
        """The result as dbt's sources.json writes it."""
        unique_id = f"source.{project_name}.{self.freshness.source}.{self.freshness.table}"
        if self.max_loaded_at is None or self.age is None:
            return {
                "unique_id": unique_id,
                "error": f"max({self.freshness.loaded_at_field}) is null: no rows",
                "status": "runtime error",
            }
        return {
            "unique_id": unique_id,
            "max_loaded_at": self.max_loaded_at.isoformat(),
            "snapshotted_at": self.now.isoformat(),
            "max_loaded_at_time_ago_in_s": self.age.total_seconds(),
            "status": self.status,
            "criteria": self.freshness.criteria(),
            "adapter_response": {},
            "timing": [],
            "thread_id": "main",
            "execution_time": self.seconds,
        }


def declared(project: Project) -> list[Freshness]:
    """Every source table with a freshness block, in the YAML's order."""
    found: list[Freshness] = []
    for path in sorted(p for layer in LAYERS for p in (project.root / layer).glob("*.yml")):
        for source in declarations.read_yaml(path).get("sources") or []:
            for table in source.get("tables") or []:
                key = (source.get("name"), table.get("name"))
                freshness = _freshness(path, source, table, project.sources[key])
                if freshness is not None:
                    found.append(freshness)
    return found


def _freshness(
    path: Path, source: Mapping[str, Any], table: Mapping[str, Any], relation: str
) -> Freshness | None:
    block = table["freshness"] if "freshness" in table else source.get("freshness")
    if block is None:
        return None
    name = f"{source.get('name')}.{table.get('name')}"
    if not isinstance(block, Mapping) or not {"warn_after", "error_after"} & set(block):
        raise ModelError(f"{path}: {name}: freshness takes warn_after and/or error_after")
    field = table.get("loaded_at_field") or source.get("loaded_at_field")
    if not isinstance(field, str) or not field:
        raise ModelError(f"{path}: {name} has a freshness block but no loaded_at_field")
    warn, error = (_threshold(path, name, block.get(key)) for key in ("warn_after", "error_after"))
    filter_ = block.get("filter")
    return Freshness(str(source["name"]), str(table["name"]), relation, field, warn, error,
                     str(filter_) if filter_ else None)  # fmt: skip


def _threshold(path: Path, name: str, value: Any) -> Threshold | None:
    if value is None:
        return None
    fields = value if isinstance(value, Mapping) else {}
    count, period = fields.get("count"), fields.get("period")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0 or period not in PERIODS:
        raise ModelError(f"{path}: {name}: a freshness threshold is {{count: N, period: "
                         f"{'|'.join(PERIODS)}}} (found {value!r})")  # fmt: skip
    return Threshold(count, period)


def check(
    tables: Sequence[Freshness],
    now: datetime,
    *,
    db: Path | None = None,
    lake: Any = None,
) -> list[Result]:
    """Each table's newest `loaded_at_field` in the warehouse `db` (or over `lake`'s
    committed files), judged at `now` (aware)."""
    from pipeline.warehouse import database  # duckdb: only when a check runs

    results = []
    for table in tables:
        where = f" WHERE {table.filter}" if table.filter else ""
        sql = (
            f"SELECT max({quote(table.loaded_at_field)})::TIMESTAMPTZ AS max_loaded_at "
            f"FROM {quote(table.relation)}{where}"
        )
        started = time.perf_counter()
        newest = database.query(sql, db=db, lake=lake).item()
        seconds = time.perf_counter() - started
        results.append(Result(table, now, _utc(newest), seconds))
    return results


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def write_sources_json(
    target: Path, project: Project, results: Sequence[Result], elapsed: float
) -> Path:
    """dbt's `sources.json` in `target` (made if missing), replaced whole; its path."""
    target.mkdir(parents=True, exist_ok=True)
    name = project.name
    document = {
        "metadata": {
            "dbt_schema_version": SCHEMA_VERSION,
            "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "invocation_id": str(uuid.uuid4()),
            "env": {},
        },
        "results": [result.as_json(name) for result in results],
        "elapsed_time": elapsed,
    }
    path = target / SOURCES_JSON
    atomic.write_text(path, json.dumps(document, indent=2) + "\n")
    return path
