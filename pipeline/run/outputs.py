"""The files a run writes besides the lake (`--db`, `--report`): kept out of its own input,
and kept as they are while they still describe the lake.

`skip_own_outputs` takes them off the plan's list (`OWN_OUTPUT` in the summary);
`warehouse_current` and `report_current` say whether a run that changed nothing may keep
them. Why: docs/architecture.md, "A run"; docs/warehouse.md, "Runs that change nothing".
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from pipeline.ingest.sources import Source, file_name
from pipeline.lake import layout, manifest
from pipeline.lake.storage import Location
from pipeline.run.plan import Plan

OWN_OUTPUT = "output of this run"


def _local(source: Source) -> Path | None:
    text = str(source)
    return None if "://" in text else Path(text).resolve()


def own_outputs(db: Path | None, report: Path | None) -> list[Path | None]:
    """What a run writes besides the lake: the warehouse, the report, and the run artifacts
    (JSON, which a run reads as input too) its build writes into the target folder."""
    if db is None:
        return [db, report]
    from pipeline.warehouse import artifacts  # duckdb: only for a run that builds

    folder = artifacts.target_folder(db)
    return [db, report, folder / artifacts.RUN_RESULTS, folder / artifacts.MANIFEST]


def skip_own_outputs(planned: Plan, outputs: Sequence[Path | None]) -> Plan:
    """`planned` without the files named in `outputs` (the run's warehouse and report),
    each named in the summary's `skipped` and no longer counted as found."""
    own = {path.resolve() for path in outputs if path is not None}
    if not own:
        return planned
    # Only a file named like an output is resolved: a first run plans 100 000s of files,
    # and resolving a path is a system call per folder in it.
    names = {path.name for path in own}
    keep = [file_name(source) not in names or _local(source) not in own for source in planned.todo]
    if all(keep):
        return planned
    summary = planned.summary
    for source, kept in zip(planned.todo, keep, strict=True):
        if not kept:
            summary.skipped.append((OWN_OUTPUT, str(source)))
            summary.files_found -= 1
    todo = [source for source, kept in zip(planned.todo, keep, strict=True) if kept]
    sizes = [size for size, kept in zip(planned.sizes, keep, strict=True) if kept]
    return Plan(summary, todo, sizes)


def _warehouse_record(lake: Location, db: Path) -> str:
    key = hashlib.sha256(str(db.resolve()).encode()).hexdigest()[:16]
    return lake.path(manifest.DIRNAME, "warehouses", key)


def warehouse_state(lake: Location, db: Path) -> str | None:
    """The manifest fingerprint the warehouse at `db` was last built from by a run, if any."""
    record = _warehouse_record(lake, db)
    if not db.exists() or not lake.exists(record):
        return None
    return lake.read_bytes(record).decode(errors="replace").strip()


def record_warehouse_state(lake: Location, db: Path, state: str | None) -> None:
    """Remember which lake state the warehouse at `db` now describes."""
    if state is not None:
        lake.write_atomic(_warehouse_record(lake, db), state.encode())


def warehouse_current(lake: Location, db: Path, lake_state: str | None) -> bool:
    """Whether a build would leave the warehouse at `db` as it is: a run built it from the
    lake as `lake_state` (`manifest.fingerprint`) has it, and what it records having been
    built from (`increments.recorded`: the lake, its history and schema, the models' SQL)
    and its file's storage format are what a build would use now. Otherwise a build changes
    it: after new snapshots, a change of the models' SQL, `--storage-version`.

    A warehouse that cannot be opened now (another process is writing it) is not current:
    the build that follows waits for it and decides.
    """
    if lake_state is None or warehouse_state(lake, db) != lake_state:
        return False
    import duckdb  # only a run with a warehouse pays for it

    from pipeline.errors import ModelError
    from pipeline.warehouse import files, increments
    from pipeline.warehouse.project import load_project

    try:
        project = load_project()
    except ModelError:
        return False  # the build says what is wrong with the project
    # as `database.rebuild` states what it builds from
    wanted = increments.State(
        lake.url, lake.uri(lake.root), manifest.history(lake), layout.SCHEMA_VERSION,
        increments.project_checksum(project),
    )  # fmt: skip
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return False
    try:
        recorded = increments.recorded(con)
        return (
            increments.why_rebuild(recorded, wanted, 0) is None
            and increments.why_reformat(con, files.storage_version()) is None
        )
    except duckdb.Error:
        return False
    finally:
        con.close()


def report_current(report: Path, db: Path) -> bool:
    """Whether the report at `report` was written from the warehouse at `db` as it is: it
    exists and is no older than it. A report is written whole under a temporary name and
    renamed into place (`atomic.write_text`), so one that exists is complete; a run that
    stopped between its build and its report leaves one older than the warehouse, which
    the next run writes again."""
    try:
        return report.stat().st_mtime_ns >= db.stat().st_mtime_ns
    except FileNotFoundError:
        return False
