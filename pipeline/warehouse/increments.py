"""What a warehouse was built from, and whether a build may update it instead of rebuilding.

The `_lake` table records a build's inputs (`State`: the lake's URL, history token and schema
version, the project's checksum, `project_checksum`); the next build updates in place when
they are unchanged and every snapshot it holds is still committed (`assess`), else rebuilds
and says why (`why_rebuild`, `why_reformat`). Why: docs/warehouse.md, "Incremental builds".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb
import polars as pl

from pipeline.warehouse import files
from pipeline.warehouse.project import Project

# Bumped when what a build stores changes in a way the project's SQL does not show (how the
# lake tables are loaded): warehouses built before are then rebuilt, never updated.
STATE_VERSION = 1
STATE_TABLE = "_lake"


@dataclass(frozen=True)
class State:
    """What a warehouse was built from (one row of `_lake`)."""

    url: str  # as the build was given it (the report shows it)
    location: str  # the lake's absolute path or URL: what the next build compares
    history: str
    schema_version: int
    project_checksum: str

    def row_sql(self) -> tuple[str, list[object]]:
        """The `SELECT` that makes `_lake` of this state, and its parameters."""
        return (
            "SELECT ?::VARCHAR AS url, ?::VARCHAR AS location, ?::VARCHAR AS history, "
            "?::INTEGER AS schema_version, ?::VARCHAR AS project_checksum",
            [self.url, self.location, self.history, self.schema_version, self.project_checksum],
        )


def project_checksum(project: Project | None) -> str:
    """A digest of the macros and of every model as a build compiles it, whole and
    incremental ('' without a project)."""
    if project is None:
        return ""
    digest = hashlib.sha256(f"state {STATE_VERSION}\n".encode())
    for name, sql in sorted(project.macros.items()):
        digest.update(f"macro {name}\n{sql}\n".encode())
    for name in project.order():
        model = project.models[name]
        for incremental in (False, True):
            sql = model.template.render(
                project.vars, project.sources, incremental=incremental, this=name
            )
            digest.update(f"{name} {model.materialized}\n{sql}\n".encode())
    return digest.hexdigest()


def assess(
    con: duckdb.DuckDBPyConnection | None,
    wanted: State,
    committed: pl.DataFrame,
    storage_version: str,
) -> tuple[str | None, pl.DataFrame | None]:
    """(why the warehouse `con` is open on must be rebuilt whole, None), or, when the lake
    only gained snapshots since it was built and its file is in the storage format of
    `storage_version`, (None, the manifest's rows (one per snapshot) of the snapshots it
    lacks).

    `con` is None for a file DuckDB cannot open. The warehouse's snapshots are compared with
    the manifest's in DuckDB: only the few new ones come back.
    """
    if con is None:
        return why_rebuild(None, wanted, 0), None
    try:
        state = recorded(con)
        if state is None:
            return why_rebuild(None, wanted, 0), None
        # the ids as a list parameter, not a registered frame: that would import pyarrow
        # (0.2 s), which nothing else in a daily run needs
        con.execute(
            "CREATE OR REPLACE TEMP TABLE __committed AS "
            "SELECT unnest(?::VARCHAR[]) AS snapshot_id",
            [committed["snapshot_id"].to_list()],
        )
        try:
            gone = con.execute(
                "SELECT count(*) FROM snapshots ANTI JOIN __committed USING (snapshot_id)"
            ).fetchall()[0][0]
            new = con.execute(
                "SELECT DISTINCT snapshot_id FROM __committed "
                "ANTI JOIN snapshots USING (snapshot_id)"
            ).fetchall()
        finally:
            con.execute("DROP TABLE IF EXISTS temp.__committed")
        arrived = (
            committed.filter(pl.col("snapshot_id").is_in([id_ for (id_,) in new]))
            .unique("snapshot_id", keep="first", maintain_order=True)
            .select("snapshot_id", "data_file")
        )
        why = why_rebuild(state, wanted, gone) or why_reformat(con, storage_version)
    except duckdb.Error:
        return why_rebuild(None, wanted, 0), None
    return (why, None) if why is not None else (None, arrived)


def recorded(con: duckdb.DuckDBPyConnection) -> State | None:
    """The state the warehouse `con` is open on records; None for a file that records none
    (built by an earlier version, or not a warehouse at all): such a warehouse is rebuilt."""
    columns = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema()",
            [STATE_TABLE],
        ).fetchall()
    }
    if not {"url", "location", "history", "schema_version", "project_checksum"} <= columns:
        return None
    row = con.execute(
        f"SELECT url, location, history, schema_version, project_checksum FROM {STATE_TABLE}"
    ).fetchall()
    return State(*row[0]) if len(row) == 1 else None


def why_rebuild(recorded_state: State | None, wanted: State, gone: int) -> str | None:
    """Why the warehouse must be rebuilt whole, or None when the lake only gained snapshots
    (`gone`: how many snapshots the warehouse holds that the lake no longer commits)."""
    if recorded_state is None:
        return "the warehouse records no build state (a new file, or an earlier version's)"
    if recorded_state.location != wanted.location:
        return f"it was built from another lake ({recorded_state.location})"
    if recorded_state.schema_version != wanted.schema_version:
        return "the lake's schema changed"
    if recorded_state.history != wanted.history:
        return "the lake rewrote rows it had committed (a full refresh, resolve-titles, …)"
    if recorded_state.project_checksum != wanted.project_checksum:
        return "the models' SQL changed"
    if gone:
        return f"{gone:,} snapshots it holds are no longer in the lake"
    return None


def why_reformat(con: duckdb.DuckDBPyConnection, storage_version: str) -> str | None:
    """Why the warehouse `con` is open on must be written anew for its storage format, or
    None when its file is in the one a new file of `storage_version` gets. DuckDB never
    converts a file's format, so an update would keep one the user no longer asks for."""
    stored = files.storage_format(con)
    if files.same_format(stored, storage_version):
        return None
    return f"its file is in DuckDB's storage format {stored}; this build writes {storage_version}"
