"""`listings verify`: re-read a lake against its manifest and report what does not hold.

The manifest is the lake's truth (docs/lake.md): readers take their file lists from it and
trust its counts. Nothing checks that truth while the lake is used, so a file truncated by
a full disk, deleted by hand, copied into a partition or a hand-edited manifest would go
unnoticed until a query returned wrong numbers. `verify` re-reads everything the manifest
commits and says, one line per finding, what differs:

- the manifest: every file of it readable, no key twice, each snapshot in one group;
- every committed data file: on disk, readable to the last page, the schema of its table
  (at its group's version), as many rows as the manifest's counts say;
- every committed snapshot: one snapshot row, its listings and rejects where the manifest
  puts them, no (snapshot_id, position) twice, no rows of snapshots nobody committed;
- every text-form snapshot whose source file is still there with the same bytes: its
  listing, footer and reject spans cover every non-blank byte (nothing parsed was lost;
  docs/input-format.md, offsets of the decoded text);
- the table folders: no Parquet file the lake would never write.

What a crashed or running writer legitimately leaves (an uncommitted group, a merge's
sources, a temporary file, a full refresh's staging, titles not resolved yet) is reported
apart as *leftovers*: the next run deletes or finishes them, and readers bound to the
manifest never see them. Every check runs over whole tables at once (polars), so a lake of
a million listings verifies in seconds (the figure is in docs/lake.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl
import pyarrow.parquet as pq

from pipeline.lake import layout, lock, manifest
from pipeline.lake.storage import LakeLike, Location
from pipeline.vocab import TABLES

# Findings printed per check; the rest are counted.
SHOWN_PER_CHECK = 20
# Source pages re-read at a time for the coverage check (~5 KB each: ~100 MB of text).
PAGES_PER_CHUNK = 20_000

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
_FILE = "__file"  # the committed file a row was read from: `<table>/<data_file>.parquet`


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
        self.check_snapshots(committed, tables, readable)
        if sources:
            self.check_coverage(committed, tables, readable)
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

    # --- snapshots ---------------------------------------------------------------------

    def check_snapshots(
        self,
        committed: pl.DataFrame,
        tables: dict[str, pl.DataFrame],
        readable: dict[str, list[str]],
    ) -> None:
        """Each committed snapshot against the rows the files hold for it."""
        per = committed.unique(["snapshot_id", "data_file"]).select(
            "snapshot_id",
            "data_file",
            pl.col("source_path").alias("manifest_path"),
            "listing_count",
            "reject_count",
        )
        self.result.checked["snapshots"] = per["snapshot_id"].n_unique()
        read_groups = {
            table: pl.Series([p.split("/", 1)[1].removesuffix(".parquet") for p in paths])
            for table, paths in readable.items()
        }
        snapshots, listings, rejects = (tables[t] for t in ("snapshots", "listings", "rejects"))
        committed_ids = per.select("snapshot_id").unique()
        named = {"snapshots": snapshots, "listings": listings, "rejects": rejects}

        # Rows of snapshots no commit names (counted per file: a stray copy names many).
        for table, frame in named.items():
            stray = frame.join(committed_ids, on="snapshot_id", how="anti")
            for path, n, ids in (
                stray.group_by(_FILE)
                .agg(pl.len(), pl.col("snapshot_id").n_unique())
                .sort(_FILE)
                .iter_rows()
            ):
                self.problem(
                    "rows of uncommitted snapshots",
                    path,
                    f"{n:,} {table} rows of {ids:,} snapshots that no commit names",
                )

        # Snapshot rows: exactly one per committed snapshot, in its group.
        rows = snapshots.group_by("snapshot_id", "data_file").agg(
            pl.len().alias("rows"),
            pl.col("listing_count").first().alias("row_listing_count"),
            pl.col("reject_count").first().alias("row_reject_count"),
        )
        counted = {
            name: frame.group_by("snapshot_id", "data_file").len(f"{name}_rows")
            for name, frame in (("listings", listings), ("rejects", rejects))
        }
        joined = (
            per.join(rows, on=["snapshot_id", "data_file"], how="left")
            .join(counted["listings"], on=["snapshot_id", "data_file"], how="left")
            .join(counted["rejects"], on=["snapshot_id", "data_file"], how="left")
            .with_columns(pl.col("rows", "listings_rows", "rejects_rows").fill_null(0))
        )
        # Only where the group's files were read: a missing file is reported once, above.
        read = pl.col("data_file").is_in(read_groups["snapshots"].implode())
        for sid, path, rows_ in (
            joined.filter(read & (pl.col("rows") != 1))
            .select("snapshot_id", "manifest_path", "rows")
            .sort("snapshot_id")
            .iter_rows()
        ):
            detail = (
                "no snapshot row in its group's file"
                if rows_ == 0
                else f"{rows_} snapshot rows in its group's file"
            )
            self.problem("snapshot rows", f"{sid} ({path})", detail)
        for table in ("listings", "rejects"):
            read = pl.col("data_file").is_in(read_groups[table].implode())
            singular = table.removesuffix("s")
            mismatched = joined.filter(
                read
                & (
                    (pl.col(f"{table}_rows") != pl.col(f"{singular}_count"))
                    | (
                        pl.col(f"row_{singular}_count").is_not_null()
                        & (pl.col(f"row_{singular}_count") != pl.col(f"{table}_rows"))
                    )
                )
            ).sort("snapshot_id")
            for sid, group, path, said, row_said, found in mismatched.select(
                "snapshot_id",
                "data_file",
                "manifest_path",
                f"{singular}_count",
                f"row_{singular}_count",
                f"{table}_rows",
            ).iter_rows():
                self.problem(
                    f"{table} per snapshot",
                    f"{sid} ({path})",
                    f"{found:,} {table} in {group}, the manifest says {said:,}"
                    + ("" if row_said is None else f" and its snapshot row {row_said:,}"),
                )

        # Rows of a committed snapshot in a group the manifest does not put it in.
        placed = per.select("snapshot_id", "data_file")
        for table, frame in named.items():
            elsewhere = frame.join(committed_ids, on="snapshot_id", how="semi").join(
                placed, on=["snapshot_id", "data_file"], how="anti"
            )
            for path, n, ids in (
                elsewhere.group_by(_FILE)
                .agg(pl.len(), pl.col("snapshot_id").n_unique())
                .sort(_FILE)
                .iter_rows()
            ):
                self.problem(
                    "rows in the wrong group",
                    path,
                    f"{n:,} {table} rows of {ids:,} snapshots the manifest puts in other groups",
                )

        # One listing key once in the whole lake (counted first: almost always none).
        key = pl.struct("snapshot_id", "position")
        if listings.select(key.n_unique()).item() == listings.height:
            return
        twice = (
            listings.filter(key.is_duplicated())
            .group_by("snapshot_id", "position")
            .agg(pl.col(_FILE).sort())
        )
        for files, n, ids in (
            twice.group_by(pl.col(_FILE).list.join(", "))
            .agg(pl.len(), pl.col("snapshot_id").n_unique())
            .sort(_FILE)
            .iter_rows()
        ):
            self.problem(
                "duplicate listings",
                files,
                f"{n:,} (snapshot_id, position) keys of {ids:,} snapshots appear more than once",
            )

    # --- coverage ----------------------------------------------------------------------

    def check_coverage(
        self,
        committed: pl.DataFrame,
        tables: dict[str, pl.DataFrame],
        readable: dict[str, list[str]],
    ) -> None:
        """Every non-blank byte of each text-form page lies in a listing, the footer or a
        reject (docs/input-format.md: offsets of the decoded text, UTF-8, CRLF as LF).
        Only pages whose group was read whole: a file reported above is not reported again
        as lost bytes."""
        groups = [
            {path.split("/", 1)[1].removesuffix(".parquet") for path in paths}
            for paths in readable.values()
        ]
        whole = sorted(set.intersection(*groups))
        pages = (
            tables["snapshots"]
            .filter((pl.col("form") == "text") & pl.col("data_file").is_in(whole))
            .unique("snapshot_id", keep="first")
            .join(
                committed.select("snapshot_id", "source_path", "mtime_ns"),
                on=["snapshot_id", "source_path"],
                how="left",
            )
            .sort("snapshot_id")
        )
        spans = pl.concat(
            [
                tables["listings"].select("snapshot_id", "byte_start", "byte_end"),
                tables["rejects"].select("snapshot_id", "byte_start", "byte_end"),
                pages.select(
                    "snapshot_id",
                    pl.col("footer_byte_start").alias("byte_start"),
                    pl.col("footer_byte_end").alias("byte_end"),
                ).drop_nulls(),
            ]
        )
        checked = missing = changed = 0
        # A chunk of pages at a time: their text in memory, not the whole corpus's.
        for chunk in pages.iter_slices(PAGES_PER_CHUNK):
            texts, gone, other = _page_bytes(chunk)
            checked, missing, changed = checked + texts.height, missing + gone, changed + other
            if texts.is_empty():
                continue
            mine = spans.join(texts.select("snapshot_id"), on="snapshot_id", how="semi")
            for sid, path, start, end, text in _uncovered(texts, mine).iter_rows():
                self.problem(
                    "coverage",
                    f"{sid} ({path})",
                    f"bytes {start:,}–{end:,} are in no listing, footer or reject: "
                    f"{_preview(text)}",
                )
        self.result.checked |= {
            "sources_checked": checked,
            "sources_missing": missing,
            "sources_changed": changed,
        }


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


def _page_bytes(pages: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """The decoded bytes of each text-form page whose source is still there unchanged:
    (snapshot_id, source_path, text as Binary), and how many were missing or changed.

    A local file with the size and mtime the manifest recorded is taken as unchanged, as a
    run's plan does; any other is hashed and compared with the recorded hash. The decoded
    text is `reference.decode`'s (the definition): for a plain UTF-8 page that is its bytes
    without a BOM and with CRLF as LF, checked for the whole batch at once; other pages
    (gzip, GB18030, invalid bytes) go through the definition itself.
    """
    from pipeline.ingest import decode, reference

    ids, paths, bodies = [], [], []
    missing = changed = 0
    for sid, path, size, sha, mtime_ns in pages.select(
        "snapshot_id", "source_path", "byte_count", "content_sha256", "mtime_ns"
    ).iter_rows():
        read = _source_bytes(path)
        if read is None:
            missing += 1
            continue
        raw, mtime = read
        same_stat = mtime is not None and mtime == mtime_ns and len(raw) == size
        if not same_stat and (len(raw) != size or hashlib.sha256(raw).hexdigest() != sha):
            changed += 1
            continue
        ids.append(sid)
        paths.append(path)
        bodies.append(raw)
    frame = pl.DataFrame(
        {"snapshot_id": ids, "source_path": paths, "raw": bodies},
        schema={"snapshot_id": pl.String, "source_path": pl.String, "raw": pl.Binary},
    )
    frame = frame.with_columns(decode.utf8(frame["raw"]).alias("utf8"))
    plain = (
        ~pl.col("raw").bin.starts_with(b"\x1f\x8b")
        & ~pl.col("raw").bin.contains(b"\x00")
        & pl.col("utf8").is_not_null()
        # CR-only line ends (`decode.lf_line_ends`) go through the definition.
        & (pl.col("raw").bin.contains(b"\n") | ~pl.col("raw").bin.contains(b"\r"))
    )
    text = (
        pl.col("utf8")
        .str.strip_prefix("\ufeff")
        .str.replace_all("\r\n", "\n", literal=True)
        .cast(pl.Binary)
    )
    frame = frame.with_columns(pl.when(plain).then(text).alias("text"))
    rest = frame.filter(pl.col("text").is_null())
    if not rest.is_empty():
        decoded = [reference.decode(raw)[0] for raw in rest["raw"].to_list()]
        fixed = rest.with_columns(
            pl.Series("text", [None if t is None else t.encode("utf-8") for t in decoded])
        ).filter(pl.col("text").is_not_null())  # unreadable now: it changed since, or the reader
        changed += rest.height - fixed.height
        frame = pl.concat([frame.filter(pl.col("text").is_not_null()), fixed])
    return frame.select("snapshot_id", "source_path", "text").sort("snapshot_id"), missing, changed


def _source_bytes(path: str) -> tuple[bytes, int | None] | None:
    """A source file's bytes and (local files) mtime in ns; None if it is gone or
    unreadable now. Local files in one open, as a run reads them (`sources.read_local`),
    by the name the file system gives them (`os_name`)."""
    from pipeline.ingest import sources

    try:
        if "://" in path:
            import fsspec

            with fsspec.open(path, "rb") as handle:
                return bytes(handle.read()), None
        try:
            return sources.read_local(path)
        except FileNotFoundError:
            if (named := os_name(path)) == path:
                raise
            return sources.read_local(named)
    except (OSError, ValueError):
        return None


# `sources.as_text` records each byte of a file name that is not UTF-8 as `\xHH` (always
# 80-ff: ASCII bytes are UTF-8).
_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")


def os_name(recorded: str) -> str:
    """A local `source_path` as the file system names the file: each `\\xHH` that
    `sources.as_text` wrote for a byte that is not UTF-8 back as that byte (the lone
    surrogate `os.fsdecode` gives it). A name that holds such text itself is tried as it
    is first (`_source_bytes`)."""
    return _ESCAPED_BYTE.sub(lambda byte: chr(0xDC00 + int(byte[1], 16)), recorded)


def _uncovered(texts: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
    """Runs of page bytes outside every span that hold more than whitespace:
    (snapshot_id, source_path, start, end, bytes).

    Pages are laid end to end (each at its offset), so one running maximum over all spans
    sorted by position finds every gap without a per-page window; a gap is checked by its
    bytes only where it is not blank.
    """
    pages = texts.with_columns(pl.col("text").bin.size().cast(pl.Int64).alias("length"))
    pages = pages.with_columns((pl.col("length").cum_sum() - pl.col("length")).alias("offset"))
    placed = (
        spans.join(pages.select("snapshot_id", "offset", "length"), on="snapshot_id")
        .with_columns(
            (pl.col("offset") + pl.col("byte_start").clip(0, pl.col("length"))).alias("at"),
            (pl.col("offset") + pl.col("byte_end").clip(0, pl.col("length"))).alias("to"),
        )
        .sort("at", "to")
    )
    # Ends reached so far (from the start of the page, not the page before it).
    reached = pl.max_horizontal(pl.col("to").cum_max().shift(1, fill_value=0), pl.col("offset"))
    inner = placed.select(
        "snapshot_id",
        (reached - pl.col("offset")).alias("start"),
        (pl.col("at") - pl.col("offset")).alias("end"),
    ).filter(pl.col("end") > pl.col("start"))
    ends = placed.group_by("snapshot_id").agg((pl.col("to") - pl.col("offset")).max().alias("end"))
    tails = (
        pages.join(ends, on="snapshot_id", how="left")
        .select(
            "snapshot_id",
            pl.col("end").fill_null(0).alias("start"),
            pl.col("length").alias("end"),
        )
        .filter(pl.col("end") > pl.col("start"))
    )
    gaps = pl.concat([inner, tails]).join(
        pages.select("snapshot_id", "source_path", "text"), on="snapshot_id"
    )
    cut = pl.col("text").bin.slice(pl.col("start"), pl.col("end") - pl.col("start"))
    # Almost every gap is a newline or a few spaces: those are told apart from their hex
    # digits (ASCII whitespace, as Python's str.isspace sees it); the rest are decoded in
    # Python, with its idea of blank (the parsers'), which takes in U+3000 and the like.
    ascii_blank = pl.col("text").bin.encode("hex").str.contains(r"^(?:0[9a-d]|1[c-f]|20)*$")
    candidates = gaps.select(
        "snapshot_id", "source_path", "start", "end", cut.alias("text")
    ).filter(~ascii_blank)
    blank = [_is_blank(value) for value in candidates["text"].to_list()]
    return candidates.filter(~pl.Series(blank, dtype=pl.Boolean)).sort("snapshot_id", "start")


def _is_blank(data: bytes) -> bool:
    try:
        return not data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


def _preview(data: bytes, limit: int = 40) -> str:
    text = data.decode("utf-8", "replace")
    return repr(text if len(text) <= limit else text[:limit] + "…")
