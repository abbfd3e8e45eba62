"""`listings verify`: re-read a lake against its manifest and report what does not hold.

`verify` runs the checks in order: the manifest itself, a crashed run's state, the table
folders, every committed file (on disk, readable, its schema and row count); then the rows
per snapshot (`snapshot_rows`) and, unless told not to, the sources' coverage (`coverage`).
Problems and leftovers come back as a `Verification`, which renders the report. Every
check and why it exists: docs/lake.md, "Verifying a lake".
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl
import pyarrow.parquet as pq

from pipeline.lake import coverage, layout, lock, manifest, snapshot_rows
from pipeline.lake.storage import LakeLike, Location
from pipeline.vocab import TABLES

# Findings printed per check; the rest are counted.
SHOWN_PER_CHECK = 20

# Names the lake writes (relative to the lake): a group's file, in the monthly layout or an
# older per-day one, and a temporary file of an atomic write (`storage.write_atomic`).
_TABLES = "|".join(TABLES)
_GROUP_FILE = re.compile(
    rf"^({_TABLES})/({layout.MONTHLY_DATA_FILE}|fetched_date=\d{{4}}-\d{{2}}-\d{{2}}/[^/]+)"
    r"\.parquet$"
)
_TEMPORARY = re.compile(r"/\.[^/]+\.[0-9a-f]{32}\.tmp$")

# Per table: the columns verify reads from every committed file (all columns are decoded
# once, without being kept, to prove each file readable to the end).
_KEY_COLUMNS = {
    "listings": ["snapshot_id", "position", "byte_start", "byte_end"],
    "rejects": ["snapshot_id", "byte_start", "byte_end"],
    "snapshots": [
        "snapshot_id", "source_path", "byte_count", "content_sha256", "form",
        "footer_byte_start", "footer_byte_end", "listing_count", "reject_count",
    ],
}  # fmt: skip
_FILE = snapshot_rows.FILE  # the committed file a row was read from


@dataclass(frozen=True)
class Finding:
    """One thing that does not hold: which check, about what, and what is wrong."""

    check: str
    subject: str
    detail: str

    def render(self) -> str:
        return f"{self.subject}: {self.detail}"


@dataclass
class Verification:
    """What `verify` found: problems (the lake is not what its manifest says), leftovers
    (what the next run tidies), and how much it checked."""

    lake: str
    problems: list[Finding] = field(default_factory=list)
    leftovers: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self, shown: int = SHOWN_PER_CHECK, *, exit_status: int | None = None) -> str:
        """The report: what was checked, then findings grouped by check, with counts; the
        verdict names `exit_status`, the caller's status for problems, when given."""
        c = self.checked
        lines = [
            f"lake:      {self.lake}",
            f"checked:   manifest {c.get('manifest_rows', 0):,} rows in "
            f"{c.get('manifest_files', 0)} files; {c.get('data_files', 0):,} data files in "
            f"{c.get('groups', 0):,} groups; {c.get('snapshots', 0):,} snapshots, "
            f"{c.get('listings', 0):,} listings, {c.get('rejects', 0):,} rejects",
        ]
        if "sources_checked" in c:
            lines.append(
                f"coverage:  {c['sources_checked']:,} text-form sources re-read "
                f"({c.get('sources_missing', 0):,} not found, "
                f"{c.get('sources_changed', 0):,} changed since they were read: not checked)"
            )
        lines += _grouped("problems: ", self.problems, shown)
        lines += _grouped("leftovers:", self.leftovers, shown, " (the next run tidies them)")
        verdict = "clean" if self.ok else f"{len(self.problems):,} problems"
        if not self.ok and exit_status is not None:
            verdict += f" (exit {int(exit_status)})"
        lines.append(f"result:    {verdict}, in {self.seconds:.1f} s")
        return "\n".join(lines)


def _grouped(title: str, findings: list[Finding], shown: int, note: str = "") -> list[str]:
    if not findings:
        return [f"{title} none"]
    by_check: dict[str, list[Finding]] = {}
    for finding in findings:
        by_check.setdefault(finding.check, []).append(finding)
    lines = [f"{title} {len(findings):,} in {len(by_check)} checks{note}"]
    for check, group in by_check.items():
        lines.append(f"  {check} ({len(group):,})")
        lines += [f"    {finding.render()}" for finding in group[:shown]]
        if len(group) > shown:
            lines.append(f"    … and {len(group) - shown:,} more")
    return lines


def verify(
    where: LakeLike,
    *,
    sources: bool = True,
    on_message: Callable[[str], None] | None = None,
) -> Verification:
    """Check a lake against its manifest (see the module's docstring); `sources=False`
    skips re-reading the snapshot files for the coverage check.

    Holds the lake's lock while it reads, so a run cannot commit or compact under it (it
    waits for one, saying so through `on_message`); a lake the user may only read is read
    unlocked, as nothing can write it then either (`lock.reading`). `NotALakeError` where
    there is no lake.
    """
    lake = manifest.require_lake(where)
    started = time.perf_counter()
    with lock.reading(lake, on_wait=on_message):
        done = _Verifier(lake).run(sources=sources)
    done.seconds = time.perf_counter() - started
    return done


class _Verifier:
    """The checks, in order; each adds findings and feeds the next what it read."""

    def __init__(self, lake: Location) -> None:
        self.lake = lake
        self.result = Verification(lake.url)

    def problem(self, check: str, subject: str, detail: str) -> None:
        self.result.problems.append(Finding(check, subject, detail))

    def leftover(self, check: str, subject: str, detail: str) -> None:
        self.result.leftovers.append(Finding(check, subject, detail))

    def relative(self, path: str) -> str:
        return path.removeprefix(self.lake.root + "/")

    def run(self, *, sources: bool) -> Verification:
        committed = self.check_manifest()
        if committed is None:
            return self.result
        staged = self.check_run_state(committed)
        present = {self.relative(p) for t in TABLES for p in layout.table_files(self.lake, t)}
        self.check_folders(present, committed, staged)
        if manifest.layout_of(committed) not in (None, layout.LAYOUT):
            return self.result  # reported as outdated: its files are checked once converted
        files = self.check_files(committed, present)
        tables, readable = self.read_tables(files)
        self.result.checked["snapshots"] = snapshot_rows.check(
            committed, tables, readable, self.problem
        )
        if sources:
            self.result.checked |= coverage.check(committed, tables, readable, self.problem)
        return self.result

    # --- the manifest ------------------------------------------------------------------

    def check_manifest(self) -> pl.DataFrame | None:
        """Each manifest file on its own (so a damaged one is named), then the rows they
        commit together: None if any is unreadable, as nothing else can be judged then."""
        lake = self.lake
        files = manifest.files(lake)
        self.result.checked["manifest_files"] = len(files)
        readable = True
        for file in files:
            try:
                rows = manifest.read_file(lake, file)
            except manifest.ManifestUnreadableError as error:
                self.problem("manifest", self.relative(file), f"unreadable ({error.reason})")
                readable = False
                continue
            twice = rows.filter(pl.struct(manifest.KEY).is_duplicated())
            for snapshot_id, source_path in twice.select(manifest.KEY).unique().iter_rows():
                self.problem(
                    "manifest",
                    self.relative(file),
                    f"commits snapshot {snapshot_id} from {source_path} more than once",
                )
        if not readable:
            return None
        committed = manifest.load(lake)
        self.result.checked["manifest_rows"] = committed.height
        groups = (
            committed.group_by("snapshot_id")
            .agg(pl.col("data_file").unique().sort())
            .filter(pl.col("data_file").list.len() > 1)
            .group_by("data_file")
            .agg(pl.len().alias("n"))
            .sort("data_file")
        )
        for names, n in groups.iter_rows():
            self.problem(
                "manifest",
                ", ".join(names),
                f"{n} snapshots are committed in each of these {len(names)} groups "
                "(readers see their rows once per group)",
            )
        old = manifest.layout_of(committed)
        if old not in (None, layout.LAYOUT):
            self.problem(
                "outdated",
                "the whole lake",
                f"in the per-day {old} layout, which readers refuse: `listings compact "
                f"--lake {lake.url}` converts it",
            )
        outdated = committed.filter(pl.col("schema_version") < layout.SCHEMA_VERSION)
        if not outdated.is_empty():
            self.problem(
                "outdated",
                f"{outdated['data_file'].n_unique()} groups",
                f"written by an older version (schema version < {layout.SCHEMA_VERSION}), "
                f"which readers refuse: `listings compact --lake {lake.url}` upgrades them",
            )
        return committed

    def check_run_state(self, committed: pl.DataFrame) -> pl.DataFrame:
        """A full refresh that never switched, titles never resolved: leftovers of a
        crashed run that the next run undoes or finishes. Returns the staged rows."""
        lake = self.lake
        staged = pl.DataFrame(schema=manifest.SCHEMA)
        if manifest.refresh_started(lake):
            with contextlib.suppress(manifest.ManifestUnreadableError):
                staged = manifest.load_staged(lake)
            self.leftover(
                "interrupted full refresh",
                f"{manifest.DIRNAME}/{manifest.REFRESH_DIRNAME}/",
                f"{staged['snapshot_id'].n_unique()} snapshots staged, never switched in: "
                "the next run rolls it back",
            )
        since = manifest.titles_pending_since(lake)
        if since is not None:
            groups = manifest.groups_committed_since(committed, since)
            when = datetime.fromtimestamp(since / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            self.leftover(
                "titles not resolved",
                f"{len(groups)} groups committed since {when}",
                "a run stopped before splitting their text-form titles at the catalogue: "
                "the next run does",
            )
        return staged

    # --- files -------------------------------------------------------------------------

    def check_folders(
        self, present: set[str], committed: pl.DataFrame, staged: pl.DataFrame
    ) -> None:
        """Files under the table folders that the manifest does not name."""
        named = manifest.data_paths(committed)
        staged_files = manifest.data_paths(staged)
        for path in sorted(present - named):
            if path in staged_files:
                self.leftover(
                    "uncommitted file", path, "written by a full refresh that never switched"
                )
            elif _TEMPORARY.search("/" + path):
                self.leftover("uncommitted file", path, "a temporary file of a write that died")
            elif _GROUP_FILE.match(path):
                self.leftover(
                    "uncommitted file",
                    path,
                    "a group no commit names (a crashed run's, or the sources of a merge)",
                )
            else:
                self.problem(
                    "orphan file",
                    path,
                    "in a table folder but not a file the lake writes: globs over the "
                    "folder read it (readers bound to the manifest do not)",
                )

    def check_files(self, committed: pl.DataFrame, present: set[str]) -> dict[str, list[str]]:
        """Every committed file: on disk, its footer readable, its schema, its row count.
        Returns each table's files that passed (relative paths) for the content checks."""
        lake = self.lake
        expected = _expected_rows(committed)
        versions = dict(
            committed.group_by("data_file").agg(pl.col("schema_version").min()).iter_rows()
        )
        schemas = {table: layout.file_schema(table) for table in TABLES}
        good: dict[str, list[str]] = {table: [] for table in TABLES}
        self.result.checked["groups"] = expected["data_file"].n_unique()
        self.result.checked["data_files"] = expected.height
        for table, group, rows in expected.select("table", "data_file", "rows").iter_rows():
            path = f"{table}/{group}.parquet"
            if path not in present:
                self.problem("missing file", path, "committed, not on disk")
                continue
            try:
                with lake.fs.open(lake.path(path), "rb") as handle:
                    on_disk = pq.read_metadata(handle).num_rows
                    handle.seek(0)
                    schema = pl.read_parquet_schema(handle)
            except Exception as error:  # any way a footer can fail to parse
                self.problem("unreadable file", path, _reason(error))
                continue
            wrong = _schema_problem(schema, schemas[table], versions[group])
            if wrong:
                self.problem("schema", path, wrong)
                continue
            if on_disk != rows:
                self.problem(
                    "row count", path, f"{on_disk:,} rows, the manifest's counts say {rows:,}"
                )
            good[table].append(path)
        return good

    def read_tables(
        self, files: dict[str, list[str]]
    ) -> tuple[dict[str, pl.DataFrame], dict[str, list[str]]]:
        """Decode every column of every file, keeping only the key columns, so a damaged
        page is found, not just a damaged footer; a file that fails is named and left out.
        Returns the key columns per table (with each row's file and group) and the files
        read. One file at a time: memory stays about one file's worth."""
        tables, readable = {}, {}
        for table, paths in files.items():
            schema = layout.file_schema(table)
            columns = _KEY_COLUMNS[table]
            empty = {c: schema[c] for c in columns} | {_FILE: pl.String, "data_file": pl.String}
            frames = [pl.DataFrame(schema=empty)]
            readable[table] = []
            for path in paths:
                try:
                    whole = self._read_file(path)
                except Exception as error:  # any way a page can fail to decode
                    self.problem("unreadable file", path, _reason(error))
                    continue
                group = path.split("/", 1)[1].removesuffix(".parquet")
                frames.append(
                    whole.select(columns).with_columns(
                        pl.lit(path).alias(_FILE), pl.lit(group).alias("data_file")
                    )
                )
                readable[table].append(path)
            tables[table] = pl.concat(frames, how="vertical_relaxed")
            self.result.checked[table] = tables[table].height
        return tables, readable

    def _read_file(self, path: str) -> pl.DataFrame:
        if self.lake.is_local:
            return pl.read_parquet(self.lake.path(path), hive_partitioning=False)
        return pl.read_parquet(io.BytesIO(self.lake.read_bytes(self.lake.path(path))))


def _expected_rows(committed: pl.DataFrame) -> pl.DataFrame:
    """Rows each committed file must hold (table, data_file, rows), from the counts the
    manifest records per snapshot (a snapshot read from two paths counts once)."""
    if committed.is_empty():
        return pl.DataFrame(schema={"table": pl.String, "data_file": pl.String, "rows": pl.Int64})
    per_group = (
        committed.unique(["snapshot_id", "data_file"])
        .group_by("data_file")
        .agg(
            pl.len().cast(pl.Int64).alias("snapshots"),
            pl.col("listing_count").sum().alias("listings"),
            pl.col("reject_count").sum().alias("rejects"),
        )
    )
    return (
        per_group.unpivot(index="data_file", variable_name="table", value_name="rows")
        .select("table", "data_file", pl.col("rows").cast(pl.Int64))
        .sort("data_file", "table")
    )


def _schema_problem(schema: pl.Schema, expected: pl.Schema, version: int) -> str | None:
    """How a file's columns differ from its table's at its version, or None."""
    if version >= layout.SCHEMA_VERSION:
        if schema == expected:
            return None
        missing = [name for name in expected if name not in schema]
        extra = [name for name in schema if name not in expected]
        retyped = [
            f"{name} is {schema[name]}, not {dtype}"
            for name, dtype in expected.items()
            if name in schema and schema[name] != dtype
        ]
        parts = [
            f"missing {', '.join(missing)}" if missing else "",
            f"unknown {', '.join(extra)}" if extra else "",
            "; ".join(retyped),
        ]
        said = "; ".join(part for part in parts if part)
        return f"not the table's schema: {said or 'columns in another order'}"
    # An older version's file holds a subset of today's columns (compact.upgrade adds the
    # rest); it must not hold one today's version does not know.
    unknown = [name for name in schema if name not in expected]
    retyped = [name for name in schema if name in expected and schema[name] != expected[name]]
    if unknown or retyped:
        return f"columns no version of the table has: {', '.join(unknown + retyped)}"
    return None


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]
