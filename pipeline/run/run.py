"""The one run protocol: lock → plan → execute → commit each batch → finish → publish.

`Run` (set up by `RunConfig`) is what `listings normalise`, the Prefect flow and `listings
serve` run: reconcile a crashed run's leftovers, plan, commit each batch as it lands,
compact, then rebuild the warehouse and report only if they no longer describe the lake
(`pipeline.run.outputs`; `unchanged` asks before anything starts). The flow overrides its
seams, never the order. Why: docs/architecture.md, "A run"; docs/lake.md, "Crashes".
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipeline import config
from pipeline.ingest import sources
from pipeline.ingest.metadata import ReadOptions
from pipeline.ingest.sources import Source
from pipeline.lake import compact, layout, lock, manifest
from pipeline.lake.storage import LakeLike, Location
from pipeline.run import execute, plan, titles
from pipeline.run.normalise import BatchResult
from pipeline.run.outputs import (
    own_outputs,
    record_warehouse_state,
    report_current,
    skip_own_outputs,
    warehouse_current,
)
from pipeline.run.plan import Plan
from pipeline.run.summary import SAME_SNAPSHOT, FlaggedTest, RunSummary, reject_reasons
from pipeline.vocab import TABLES

if TYPE_CHECKING:  # the warehouse (duckdb) loads only when a run publishes one
    from pipeline.warehouse.results import OnEvent

Say = Callable[[str], None]


@dataclass(frozen=True)
class RunConfig:
    """What a run is asked to do, decided once from the CLI's flags or the flow's parameters."""

    paths: tuple[Source, ...]
    lake: Location
    read_options: ReadOptions = field(default_factory=ReadOptions)
    batch_bytes: int = config.DEFAULT_BATCH_BYTES
    workers: int = 1
    full_refresh: bool = False
    db: Path | None = None  # the warehouse to rebuild after the run, if any
    report: Path | None = None  # the HTML report to write after the warehouse, if any
    follow_links: bool = True  # walk into symlinked folders (each folder once)

    @classmethod
    def of(cls, paths: Sequence[Source | str], lake: LakeLike, **settings: object) -> RunConfig:
        """A configuration from plain values: paths and the lake as a user gives them."""
        return cls(
            paths=tuple(sources.as_source(p) for p in paths),
            lake=Location.of(lake),
            **settings,  # type: ignore[arg-type]
        )


class Run:
    """One run of the protocol over a `RunConfig`; `run()` returns its summary.

    `on_progress(files_done, files_total)` follows the batches, `on_message(text)` says
    what must be seen (waiting for another run's lock, converting an older lake),
    `on_stage(text)` each stage after the batches (`building the warehouse PATH`, `writing
    the report PATH`), and `on_event` hears each warehouse table, model and data test as it
    finishes.
    """

    def __init__(
        self,
        settings: RunConfig,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        on_message: Say | None = None,
        on_event: OnEvent | None = None,
        on_stage: Say | None = None,
    ) -> None:
        self.config = settings
        self.on_progress = on_progress
        self.on_message = on_message
        self.on_event = on_event
        self.on_stage = on_stage

    def run(self) -> RunSummary:
        settings = self.config
        lake = settings.lake
        with lock.locked(lake, on_wait=self.on_message):
            reconcile(lake, full_refresh=settings.full_refresh, say=self._say)
            planned = skip_own_outputs(self.plan(), own_outputs(settings.db, settings.report))
            summary, total = planned.summary, len(planned.todo)
            if settings.full_refresh:
                # The plan began the refresh (`manifest.reset`): its groups get names of
                # their own, so none overwrites a file the lake it replaces still names.
                self.config = settings = replace(
                    settings, lake=replace(lake, generation=refresh_generation(lake))
                )
            started_ns = time.time_ns()
            if planned.todo:
                manifest.mark_titles_pending(lake)
            self._progress(0, total)
            results = self.execute(planned)
            # Close the generator here even when a commit fails: left to the garbage
            # collector, its thread pools would shut down at an arbitrary moment (seen:
            # inside another thread's start-up, holding a lock the shutdown needs).
            seen = pl.DataFrame(schema=SEEN)
            with closing(results):
                for result in results:
                    result, seen = drop_repeats(settings.lake, result, seen)
                    commit(lake, summary, result, staged=settings.full_refresh)
                    self._progress(summary.files_read, total)
            summary.batches.sort(key=lambda report: report.batch)
            if settings.full_refresh:
                manifest.switch_refresh(lake)
                summary.files_removed += manifest.prune(lake, keep=set())
            committed = resolve_pending_titles(lake, summary, started_ns)
            finish(lake, summary, committed)
            if settings.db is not None:  # only `publish` compares it
                self.lake_state = manifest.fingerprint(manifest.load(lake))
        self.publish(summary)
        return summary

    def unchanged(self) -> RunSummary | None:
        """The summary of this run if it has nothing to do, without doing the rest: no new
        or changed input file, no titles left to resolve, not a full refresh, and a
        warehouse and report (if configured) that already describe the lake. None when
        there is work, having changed nothing but what every run tidies first (`reconcile`,
        the plan's leftovers), so that `run()` then does it all.

        `listings run` asks this before it starts Prefect, whose start-up is most of the
        time of a run with nothing new (benchmarks/RESULTS.md).
        """
        settings = self.config
        if settings.full_refresh:
            return None
        lake = settings.lake
        with lock.locked(lake, on_wait=self.on_message):
            reconcile(lake, full_refresh=False, say=self._say)
            planned = skip_own_outputs(self.plan(), own_outputs(settings.db, settings.report))
            if planned.todo or manifest.titles_pending_since(lake) is not None:
                return None
            summary = finish(lake, planned.summary)
            if settings.db is not None:
                self.lake_state = manifest.fingerprint(manifest.load(lake))
        db, out = settings.db, settings.report
        if db is not None and not self._outputs_current(db, out):
            return None
        if db is not None:
            summary.warehouse, summary.warehouse_kept = str(db), True
        if out is not None:
            summary.report, summary.report_kept = str(out), True
        return summary

    # The seams: each step as one call, so the flow can run it as a task.

    def plan(self) -> Plan:
        settings = self.config
        return plan.plan(
            settings.paths,
            settings.lake,
            settings.read_options,
            full_refresh=settings.full_refresh,
            on_message=self.on_message,
            follow_links=settings.follow_links,
        )

    def execute(self, planned: Plan) -> Iterator[BatchResult]:
        settings = self.config
        return execute.execute(
            planned.todo,
            planned.sizes,
            settings.lake,
            settings.read_options,
            batch_bytes=settings.batch_bytes,
            workers=settings.workers,
        )

    def build_warehouse(self, db: Path) -> None:
        from pipeline.warehouse import database

        database.build(self.config.lake, db, on_event=self.on_event)

    def write_report(self, db: Path, out: Path) -> Path:
        from pipeline.report import page as report  # altair is heavy: only when a report is asked

        return report.write(db, out)

    def publish(self, summary: RunSummary) -> None:
        """Rebuild the warehouse and write the report, unless they already describe the lake.

        With nothing new, the warehouse and the report built by the last run that changed
        the lake are still right: a run that found no new file rebuilds neither, and its
        summary says they were kept (`outputs.warehouse_current`, `outputs.report_current`).
        A build's data tests go to the summary as the build stored them (`stored_tests`).
        """
        db, out = self.config.db, self.config.report
        if db is None:
            return
        lake = self.config.lake
        built = False
        if (
            summary.snapshots
            or summary.full_refresh
            or not warehouse_current(lake, db, self.lake_state)
        ):
            self._stage(f"building the warehouse {db}")
            self.build_warehouse(db)
            record_warehouse_state(lake, db, self.lake_state)
            summary.tests, summary.flagged_tests = stored_tests(db)
            built = True
        summary.warehouse, summary.warehouse_kept = str(db), not built
        if out is None:
            return
        if built or not report_current(out, db):
            self._stage(f"writing the report {out}")
            summary.report = str(self.write_report(db, out))
        else:
            summary.report, summary.report_kept = str(out), True

    def _outputs_current(self, db: Path, out: Path | None) -> bool:
        """Whether `publish` would leave the warehouse at `db` and the report at `out`."""
        current = warehouse_current(self.config.lake, db, self.lake_state)
        return current and (out is None or report_current(out, db))

    def _progress(self, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total)

    def _say(self, text: str) -> None:
        if self.on_message is not None:
            self.on_message(text)

    def _stage(self, text: str) -> None:
        if self.on_stage is not None:
            self.on_stage(text)

    # The manifest's fingerprint once the run is done (`manifest.fingerprint`): what the
    # warehouse must have been built from to describe the lake.
    lake_state: str | None = None


def reconcile(lake: Location, *, full_refresh: bool, say: Say) -> None:
    """Before planning, undo what a crashed run left that the plan's tidying cannot.

    An unreadable manifest stops the run with a message (`ManifestUnreadableError`),
    unless the run is a full refresh: that starts the lake over, after saying so, with the
    unreadable files kept aside (without a manifest no data file can be told from a
    crashed run's leftover, so none of them can be kept). A full refresh that was
    interrupted before its switch is rolled back: the lake is as it was before it, and its
    files are deleted as leftovers by the plan. Temporary files of manifest writes that
    died go too (the plan tidies the data folders' own).
    """
    try:
        manifest.load(lake)
    except manifest.ManifestUnreadableError:
        if not full_refresh:
            raise
        folder = manifest.set_aside(lake)
        say(
            f"the manifest of lake {lake.url} is unreadable: this full refresh starts the lake "
            f"over from its inputs (the unreadable manifest files are kept in {folder}/, "
            "every data file goes)"
        )
    manifest.remove_temporary(lake)
    staged = manifest.roll_back_refresh(lake)
    if staged:
        say(
            f"a full refresh of lake {lake.url} was interrupted before its switch: rolled "
            f"back ({staged} snapshots it had staged are dropped), the lake is as it was "
            "before it"
        )


def refresh_generation(lake: Location) -> str:
    """The generation a full refresh writes under: from the groups of the lake it replaces
    (none for an empty lake), so the same runs still write the same names."""
    groups = sorted(manifest.load(lake)["data_file"].unique().to_list())
    if not groups:
        return ""
    return hashlib.sha256("\n".join(groups).encode()).hexdigest()[:12]


def resolve_pending_titles(
    lake: Location, summary: RunSummary, started_ns: int
) -> pl.DataFrame | None:
    """Split the unknown titles of every group committed since the titles mark: this run's
    new text-form listings, and those of a run that crashed before resolving them, get the
    titles the lake has seen (`titles.resolve_titles`); then drop the mark. A crashed run's
    groups may have been read meanwhile (`listings build`): resolving them rewrites history.
    Returns the manifest it loaded (None if there was nothing to resolve): resolving titles
    rewrites listings files, never the manifest, so it is still the lake's.
    """
    since = manifest.titles_pending_since(lake)
    if since is None:
        return None
    committed = manifest.load(lake)
    groups = manifest.groups_committed_since(committed, since)
    if groups:
        resolution = titles.resolve_titles(
            lake, groups, rewrites_history=since < started_ns, committed=committed
        )
        summary.titles = resolution.render()
    manifest.titles_resolved(lake)
    return committed


def stored_tests(db: Path) -> tuple[dict[str, int], list[FlaggedTest]]:
    """The data tests the build that wrote the warehouse at `db` stored, as the summary
    shows them: how many ended in each status, and each that did not pass with its first
    offending rows, read as the report reads them (`pipeline.report.data_tests.read`)."""
    from pipeline.report import data_tests
    from pipeline.warehouse import database

    con = database.connect(db, read_only=True)
    try:
        outcomes = data_tests.read(con).outcomes
    finally:
        con.close()
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    flagged = [
        FlaggedTest(o.name, o.status, o.model, o.offending_rows, o.examples, str(db))
        for o in outcomes
        if o.status != "PASS"
    ]
    return counts, flagged


# Each snapshot a run has committed: the group holding it and the first file it came from.
SEEN = {"snapshot_id": pl.String, "first_file": pl.String, "first_path": pl.String}


def drop_repeats(
    lake: Location, result: BatchResult, seen: pl.DataFrame
) -> tuple[BatchResult, pl.DataFrame]:
    """A batch's result without the snapshots an earlier batch of the run already gave, and
    `seen` (`SEEN`) with the batch's own added.

    A copy of a file (same bytes, same fetch time) farther from it than a batch is read
    again in another batch; committed as it is, its rows would be in the lake twice. So the
    (uncommitted) group is rewritten without them, as compaction rewrites groups, and the
    copy's manifest rows point at the first file's group: the next run skips it too.
    """
    rows = result.manifest_rows
    repeats = rows.join(seen, on="snapshot_id", how="inner")
    if not repeats.is_empty():
        old = rows["data_file"].unique().to_list()
        repeat = pl.col("snapshot_id").is_in(repeats["snapshot_id"].implode())
        frames = {
            table: layout.read_files(lake, table, [layout.file_path(lake, table, f) for f in old])
            .filter(~repeat)
            .drop(layout.DATE_COLUMN)
            for table in TABLES
        }
        kept = rows.filter(~repeat)
        if not kept.is_empty():
            name = layout.batch_name(frames["snapshots"], lake.generation)
            month = pl.col("fetched_date").str.slice(0, 7)
            layout.write_group(lake, frames, name)
            kept = kept.with_columns(layout.data_file_of(month, name).alias("data_file"))
        moved = repeats.with_columns(pl.col("first_file").alias("data_file")).select(rows.columns)
        rows = pl.concat([kept, moved])
        for data_file in old:  # never committed: no reader can have them
            for table in TABLES:
                lake.remove(layout.file_path(lake, table, data_file))
        report = result.report
        report.snapshots = frames["snapshots"].height
        report.listings = frames["listings"].height
        report.rejects = frames["rejects"].height
        report.reject_reasons = reject_reasons(frames["rejects"])
        notes = repeats.select(pl.format("{}: " + SAME_SNAPSHOT, "source_path", "first_path"))
        report.messages += notes.to_series().to_list()
        result = BatchResult(report, rows)
    firsts = (
        rows.sort("source_path")
        .unique("snapshot_id", keep="first", maintain_order=True)
        .join(seen, on="snapshot_id", how="anti")
        .select("snapshot_id", first_file="data_file", first_path="source_path")
    )
    return result, pl.concat([seen, firsts])


def commit(
    lake: Location, summary: RunSummary, result: BatchResult, *, staged: bool = False
) -> None:
    """Record a written batch in the manifest (after its data) and in the summary;
    `staged`: in a full refresh's staging, until its switch."""
    manifest.commit(lake, result.manifest_rows, staged=staged)
    summary.batches.append(result.report)
    months = result.manifest_rows.select(layout.month_of(pl.col("data_file")).unique())
    summary.months_written.update(months.to_series().to_list())


def finish(
    lake: Location, summary: RunSummary, committed: pl.DataFrame | None = None
) -> RunSummary:
    """Merge the small groups of the months this run wrote into, if they have piled up
    (`compact.AUTO_SMALL_GROUPS`), merge the manifest's parts if they have piled up
    (`manifest.PARTS_KEPT`), count rows and files. `committed`: the manifest, if the caller
    has it loaded since the last commit."""
    if committed is None:
        committed = manifest.load(lake)
    if summary.months_written:
        merged = compact.compact(
            lake,
            months=summary.months_written,
            more_than=compact.AUTO_SMALL_GROUPS,
            committed=committed,
        )
        if merged:
            summary.compaction = merged.render()
            committed = None  # it committed: read the manifest again
    committed = manifest.merge_parts(lake, more_than=manifest.PARTS_KEPT, committed=committed)
    summary.lake_rows = manifest.row_counts(committed)
    summary.files_per_table = committed["data_file"].n_unique()
    return summary


def normalise_paths(
    paths: Sequence[Source],
    lake: LakeLike = config.DEFAULT_LAKE,
    options: ReadOptions | None = None,
    *,
    batch_bytes: int = config.DEFAULT_BATCH_BYTES,
    full_refresh: bool = False,
    workers: int = 1,
    on_batch: Callable[[int, int], None] | None = None,
    on_wait: Say | None = None,
) -> RunSummary:
    """Normalise every new or changed snapshot under `paths` into the lake: a `Run` with
    no warehouse, for notebooks and scripts (`pipeline.normalise`). `options` default to
    `ReadOptions()`: fetch times from sidecars, file names or mtimes. See `Run` for the
    callbacks."""
    settings = RunConfig.of(
        paths,
        lake,
        read_options=options if options is not None else ReadOptions(),
        batch_bytes=batch_bytes,
        full_refresh=full_refresh,
        workers=workers,
    )
    return Run(settings, on_progress=on_batch, on_message=on_wait).run()
