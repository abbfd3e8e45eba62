"""What a run did: per-batch reports and the run summary, as text, markdown and table rows.

The CLI prints `render()`; the Prefect flow publishes `batch_rows()` as a table artifact and
`markdown()` as a markdown artifact, so people see the same numbers either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from pipeline.terminal import escaped

SLOWEST_SHOWN = 5
SKIPPED_NAMED = 3  # paths named per kind of skip; the rest are counted
CELL_CHARS = 40  # a flagged test's row shows each value up to this many characters
# The data tests' statuses (as the build stores them, upper-cased) and how the tests line
# says them, in its order: `tests: 43 passed, 1 warned`.
TEST_STATUS_WORDS = {"PASS": "passed", "WARN": "warned", "FAIL": "failed"}


def reject_reasons(rejects: pl.DataFrame) -> dict[str, int]:
    """Rejects counted by reason, up to its first colon (the reason's kind)."""
    counts = rejects.group_by(pl.col("reason").str.split(":").list.first()).len()
    return dict(counts.iter_rows())


# The note for a file holding a snapshot another file of the run already gave ({}: that file).
SAME_SNAPSHOT = "the same snapshot as {} (same bytes, same fetch time): read once"
_SAME_BEFORE, _SAME_AFTER = SAME_SNAPSHOT.split("{}")
# More copies than this are one note: their count and the first few.
COPIES_NAMED = 3


@dataclass
class BatchReport:
    """One batch of files: what went in, what came out, how long it took."""

    batch: int
    files: int
    bytes: int
    snapshots: int
    listings: int
    rejects: int
    seconds: float = 0.0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    slowest_reads: list[tuple[str, float]] = field(default_factory=list)

    @classmethod
    def of(
        cls, batch: int, snapshots_read: pl.DataFrame, tables: dict[str, pl.DataFrame]
    ) -> BatchReport:
        reasons = reject_reasons(tables["rejects"])
        first = pl.col("source_path").first().over("snapshot_id", order_by="source_path")
        copy = pl.format(SAME_SNAPSHOT, first)
        problems = snapshots_read.select(
            "source_path",
            pl.when(pl.col("source_path") != first)
            .then(copy)
            .otherwise(pl.coalesce("read_error", "metadata_warning"))
            .alias("problem"),
        ).filter(pl.col("problem").is_not_null())
        slowest = snapshots_read.top_k(SLOWEST_SHOWN, by="read_seconds").select(
            "source_path", "read_seconds"
        )
        return cls(
            batch=batch,
            files=snapshots_read.height,
            bytes=int(snapshots_read["byte_count"].sum()),
            snapshots=tables["snapshots"].height,
            listings=tables["listings"].height,
            rejects=tables["rejects"].height,
            reject_reasons=reasons,
            messages=[f"{path}: {problem}" for path, problem in problems.iter_rows()],
            slowest_reads=list(slowest.iter_rows()),
        )


@dataclass(frozen=True)
class FlaggedTest:
    """A data test that warned or failed in the run's build, as the build stored it
    (`pipeline.report.data_tests`): what the summary prints about it."""

    name: str
    status: str  # WARN or FAIL
    model: str  # the model it is declared on, or what a singular test reads
    offending_rows: int
    examples: pl.DataFrame  # its first offending rows, as the report shows them
    warehouse: str  # the warehouse it ran on: where to see every row

    def lines(self) -> list[str]:
        """The test, its first rows (a row a line, `column=value`), and, when it found more
        than those, how to see them all."""
        lines = [
            f"  {self.status} {self.name} ({self.model}): {self.offending_rows:,} offending "
            + ("row" if self.offending_rows == 1 else "rows")
        ]
        lines += [
            "    " + ", ".join(f"{column}={_cell(value)}" for column, value in row.items())
            for row in self.examples.iter_rows(named=True)
        ]
        if self.offending_rows > self.examples.height:
            lines.append(
                f"    all {self.offending_rows:,}: listings compile {self.name} | "
                f"listings sql --db {self.warehouse} -"
            )
        return lines


def _cell(value: object) -> str:
    """A value of a flagged test's row on one line, clipped to `CELL_CHARS` characters."""
    text = "null" if value is None else " ".join(str(value).split())
    return text if len(text) <= CELL_CHARS else f"{text[: CELL_CHARS - 1]}…"


@dataclass
class RunSummary:
    """A whole run: the batches, what was skipped as already in the lake, where output is."""

    lake_dir: str
    files_found: int = 0
    files_skipped: int = 0
    full_refresh: bool = False
    files_removed: int = 0  # leftover lake files deleted before the run wrote
    conversion: str | None = None  # how an older lake was converted, if it was
    compaction: str | None = None  # what the end-of-run compaction merged, if anything
    titles: str | None = None  # what the catalogue titled among the new listings
    # What the folder walk passed over, as (kind, path): hidden entries, unreadable folders…
    skipped: list[tuple[str, str]] = field(default_factory=list)
    months_written: set[str] = field(default_factory=set)
    files_per_table: int | None = None
    batches: list[BatchReport] = field(default_factory=list)
    lake_rows: dict[str, int] = field(default_factory=dict)
    warehouse: str | None = None
    report: str | None = None
    # The warehouse (report) already described the lake, so the run left it as it was.
    warehouse_kept: bool = False
    report_kept: bool = False
    # The data tests of the run's build as it stored them: how many ended in each status
    # (`TEST_STATUS_WORDS`), and each that did not pass; empty when nothing was built.
    tests: dict[str, int] = field(default_factory=dict)
    flagged_tests: list[FlaggedTest] = field(default_factory=list)

    def _total(self, name: str) -> int:
        return sum(getattr(b, name) for b in self.batches)

    @property
    def files_read(self) -> int:
        return self._total("files")

    @property
    def snapshots(self) -> int:
        return self._total("snapshots")

    @property
    def listings(self) -> int:
        return self._total("listings")

    @property
    def rejects(self) -> int:
        return self._total("rejects")

    def reject_reasons(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for batch in self.batches:
            for reason, count in batch.reject_reasons.items():
                counts[reason] = counts.get(reason, 0) + count
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def slowest_reads(self) -> list[tuple[str, float]]:
        reads = [r for b in self.batches for r in b.slowest_reads]
        return sorted(reads, key=lambda r: -r[1])[:SLOWEST_SHOWN]

    def messages(self) -> list[str]:
        return [m for b in self.batches for m in b.messages]

    def skipped_line(self) -> str | None:
        """What the folder walk passed over, counted by kind (most first) and named:
        `2 hidden (raw/.a.txt, raw/.git), 1 unreadable folder (raw/x: Permission denied)`.
        None when nothing was."""
        if not self.skipped:
            return None
        by_kind: dict[str, list[str]] = {}
        for kind, path in self.skipped:
            by_kind.setdefault(kind, []).append(path)
        parts = []
        for kind, paths in sorted(by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            named = ", ".join(paths[:SKIPPED_NAMED])
            more = len(paths) - SKIPPED_NAMED
            parts.append(f"{len(paths)} {kind} ({named}{f', {more} more' if more > 0 else ''})")
        return ", ".join(parts)

    @property
    def changed_nothing(self) -> bool:
        """The run found no new or changed snapshot file and left the lake, and the
        warehouse and report it was given, as they were."""
        lake_same = not (
            self.files_read or self.full_refresh or self.conversion or self.compaction
            or self.titles
        )  # fmt: skip
        return (
            lake_same
            and (self.warehouse is None or self.warehouse_kept)
            and (self.report is None or self.report_kept)
        )

    def unchanged_line(self) -> str:
        """What a run that changed nothing says it left as it was."""
        kept = ["the lake"]
        kept += [name for name, path in (("the warehouse", self.warehouse),
                                         ("the report", self.report)) if path]  # fmt: skip
        listed = kept[0] if len(kept) == 1 else f"{', '.join(kept[:-1])} and {kept[-1]}"
        verb = "is" if len(kept) == 1 else "are"
        return f"no new or changed snapshot file; {listed} {verb} as the last run left them"

    def tests_line(self) -> str | None:
        """`43 passed, 1 warned`: the build's data tests counted by status (passed always,
        the others when they happened); None when the run built nothing."""
        if not self.tests:
            return None
        return ", ".join(
            f"{self.tests.get(status, 0)} {word}"
            for status, word in TEST_STATUS_WORDS.items()
            if status == "PASS" or self.tests.get(status)
        )

    def render(self) -> str:
        """The plain-text summary the CLI and `make run` print, control characters in
        names escaped (`terminal.escaped`)."""
        lines = [
            f"snapshot files: {self.files_found} found, {self.snapshots} new snapshots, "
            f"{self.files_skipped} already in the lake"
            + (" (full refresh)" if self.full_refresh else ""),
        ]
        if self.changed_nothing:
            lines.append(f"nothing changed: {self.unchanged_line()}")
        else:
            lines += [
                f"read:           {self.files_read} files, "
                f"{self._total('bytes'):,} bytes in {len(self.batches)} batches",
                f"listings:       {self.listings}",
                f"rejects:        {self.rejects}",
            ]
            lines.extend(f"  {count:>6}  {reason}" for reason, count in self.reject_reasons())
        if self.lake_rows:
            rows = ", ".join(f"{name} {count}" for name, count in self.lake_rows.items())
            lines.append(
                f"lake:           {self.lake_dir} (rows in all: {rows}; "
                f"files per table: {self.files_per_table})"
            )
        if self.conversion:
            lines.append(f"converted:      {self.conversion}")
        if self.compaction:
            lines.append(f"compacted:      {self.compaction}")
        if self.titles:
            lines.append(f"titles:         {self.titles}")
        if self.files_removed:
            lines.append(f"removed:        {self.files_removed} leftover lake files")
        unchanged = " (unchanged)"
        if self.warehouse:
            lines.append(f"warehouse:      {self.warehouse}{unchanged * self.warehouse_kept}")
        if tests := self.tests_line():
            lines.append(f"tests:          {tests}")
            lines += [line for test in self.flagged_tests for line in test.lines()]
        if self.report:
            lines.append(f"report:         {self.report}{unchanged * self.report_kept}")
        if skipped := self.skipped_line():
            lines.append(f"skipped:        {skipped}")
        lines.extend(f"note: {note}" for note in self.notes())
        return "\n".join(map(escaped, lines))

    def notes(self) -> list[str]:
        """`messages()` as the summary prints them: more than `COPIES_NAMED` files that
        repeat a snapshot are one note, their count and the first few (20,000 copies of
        a folder were 20,000 lines)."""
        messages = self.messages()
        copies = [m for m in messages if _SAME_BEFORE in m and m.endswith(_SAME_AFTER)]
        if len(copies) <= COPIES_NAMED:
            return messages
        pairs = [
            copy.removesuffix(_SAME_AFTER).split(f": {_SAME_BEFORE}", 1)
            for copy in copies[:COPIES_NAMED]
        ]
        named = ", ".join(f"{path} (as {first})" for path, first in pairs)
        aggregated = (
            f"{len(copies)} files repeat a snapshot another file gave (same bytes, same "
            f"fetch time), each read once: {named} and {len(copies) - COPIES_NAMED} more"
        )
        repeated = set(copies)
        return [aggregated, *(m for m in messages if m not in repeated)]

    def one_line(self, ended: datetime | None = None) -> str:
        """The run in one line, for a served process's output (one line per scheduled run):
        when it ended (default: now), what it found, what it added, where it wrote."""
        at = (ended or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        wrote = [f"lake {self.lake_dir}"]
        wrote += [
            f"{what} {path}"
            for what, path in (("warehouse", self.warehouse), ("report", self.report))
            if path
        ]
        where = (
            f"nothing changed in {', '.join(wrote)}" if self.changed_nothing else ", ".join(wrote)
        )
        tests = f"; tests: {line}" if (line := self.tests_line()) else ""
        return escaped(
            f"{at} run: {self.files_found} files found, {self.files_skipped} already in "
            f"the lake, {self.snapshots} new snapshots ({self.listings} listings, "
            f"{self.rejects} rejects) -> {where}{tests}"
        )

    def batch_rows(self) -> list[dict[str, object]]:
        """One row per batch, for a table artifact."""
        return [
            {
                "batch": b.batch,
                "files": b.files,
                "bytes": b.bytes,
                "listings": b.listings,
                "rejects": b.rejects,
                "seconds": round(b.seconds, 3),
            }
            for b in self.batches
        ]

    def markdown(self) -> str:
        """Totals, reject reasons by count, the slowest files, and where the output is."""
        lines = [
            "# Normalise run",
            "",
            "| | |",
            "| --- | ---: |",
            f"| snapshot files found | {self.files_found} |",
            f"| already in the lake (skipped) | {self.files_skipped} |",
            f"| new snapshots | {self.snapshots} |",
            f"| listings | {self.listings} |",
            f"| rejects | {self.rejects} |",
            f"| batches | {len(self.batches)} |",
            f"| seconds in batches | {sum(b.seconds for b in self.batches):.2f} |",
            "",
            "## Reject reasons",
            "",
        ]
        reasons = self.reject_reasons()
        lines += ["| reason | rejects |", "| --- | ---: |"] if reasons else ["none"]
        lines += [f"| {reason} | {count} |" for reason, count in reasons]
        lines += ["", "## Slowest files to read", ""]
        slow = self.slowest_reads()
        lines += ["| file | seconds |", "| --- | ---: |"] if slow else ["none read"]
        lines += [f"| `{path}` | {seconds:.4f} |" for path, seconds in slow]
        lines += ["", "## Output", "", f"- lake: `{self.lake_dir}`"]
        if self.lake_rows:
            lines += [f"  - {name}: {count} rows" for name, count in self.lake_rows.items()]
        if self.files_per_table is not None:
            lines.append(f"  - files per table: {self.files_per_table}")
        lines += [f"  - {what}" for what in (self.conversion, self.compaction, self.titles) if what]
        if skipped := self.skipped_line():
            lines.append(f"- skipped by the folder walk: {skipped}")
        unchanged = " (unchanged)"
        if self.warehouse:
            lines.append(f"- warehouse: `{self.warehouse}`{unchanged * self.warehouse_kept}")
        if tests := self.tests_line():
            lines.append(f"  - data tests: {tests}")
        if self.report:
            lines.append(f"- report: `{self.report}`{unchanged * self.report_kept}")
        if self.changed_nothing:
            lines += ["", f"Nothing changed: {self.unchanged_line()}."]
        for test in self.flagged_tests:
            lines += ["", f"## {test.status}: `{test.name}`", ""]
            lines += [f"    {line.strip()}" for line in test.lines()]
        return "\n".join(lines) + "\n"
