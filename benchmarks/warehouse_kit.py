"""The warehouse section of the kit: a lake that stays fast as it grows.

On the lake one `listings normalise` of the corpus wrote (two years of daily fetches, see
`benchmarks.generate`), each timed in a fresh process like the parser rows:

- files per table after that one run, and after 30 incremental runs on top: each is what
  a scheduled user runs, `listings normalise RAW --out LAKE` over the whole raw folder
  (the corpus and every day's folder so far), the manifest skipping what it holds: the
  daily run of 50 pages, lake only;
- the daily run with the warehouse: on a copy of the lake as the first run left it, a
  warehouse built once (`listings build`, timed: a build from scratch after the first
  run), then `db_days` daily runs of `listings normalise RAW --out COPY --db WAREHOUSE`,
  each updating the warehouse (the summary's `warehouse:` line says it did);
- `listings sql "COUNT_SQL" --lake LAKE`, against DuckDB on a one-file copy of the same
  rows (copies written by DuckDB from the lake's files after the runs): wall times of
  fresh processes (`python -c` for DuckDB), and the query alone in-process for both;
- `listings build --lake LAKE --db DB` into a fresh warehouse file: wall time and peak RSS
  of the process tree, against the raw-DuckDB floor (`benchmarks.warehouse_floor`: the
  core of `dim_documents` and `fct_listing_appearances`) on the one-file copies;
- the warehouse file's bytes against the lake's (the Parquet files its manifest commits);
- `listings report --db DB` on that warehouse and `listings verify --no-sources LAKE`;
- `listings compact --lake LAKE` (on-demand compaction), when the CLI has it.

The end-to-end `listings normalise` row and its floor are the parser section's
(`benchmarks.kit`); this section judges them against the lake and warehouse targets' share
of the floor (`TARGET_E2E_FLOOR_SHARE`).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._child import COUNT_SQL, TABLES, copy_path, duckdb_count_script
from benchmarks.dataset import Dataset
from benchmarks.measures import Row, Verdict, add, fmt_s, mb, passes
from benchmarks.proc import ChildFailed, ChildRun, run_child, run_job

# The lake and warehouse targets, for 1 M listings over 730 fetch days.
TARGET_FILES_PER_TABLE = 100  # after one run of the whole corpus
TARGET_INCREMENT_FILES = 12  # added per table by all 30 incremental runs together
TARGET_INCREMENT_S = 3.0  # each incremental run
TARGET_SQL_RATIO = 3.0  # `listings sql` count ≤ 3× DuckDB on a one-file copy …
TARGET_SQL_STARTUP_S = 0.5  # … + 0.5 s of start-up
TARGET_BUILD_RATIO = 2.5  # `listings build` ≤ 2.5× the raw-DuckDB floor
TARGET_BUILD_RSS = 2 * 2**30
TARGET_E2E_FLOOR_SHARE = 0.3  # `listings normalise` ≥ 0.3× the floor's throughput
DB_DAYS = 10  # daily runs with --db measured (each updates the warehouse)


@dataclass
class IncrementRun:
    seconds: float
    peak_rss: int
    new_listings: int
    files: dict[str, int]  # per table, after the run


@dataclass
class WarehouseResult:
    files_one_run: dict[str, int]
    increments: list[IncrementRun] = field(default_factory=list)
    rows: dict[str, Row] = field(default_factory=dict)
    copy_rows: dict[str, int] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)  # COUNT_SQL's result, per reader
    files_compacted: dict[str, int] | None = None  # None: no `listings compact` to run
    floor_facts: dict[str, object] = field(default_factory=dict)
    floor_missing: str | None = None  # why the raw-DuckDB floor was not measured
    db_runs: list[IncrementRun] = field(default_factory=list)  # daily runs with --db
    db_runs_updated: int = 0  # of them, those whose summary says the warehouse was updated
    lake_bytes: int | None = None  # the committed Parquet files' bytes after the increments
    warehouse_bytes: int | None = None  # the warehouse file a build from scratch wrote
    verify_problems: str | None = None  # what `listings verify --no-sources` reported, if any

    @property
    def files_after_increments(self) -> dict[str, int]:
        return self.increments[-1].files if self.increments else self.files_one_run

    @property
    def files_added(self) -> dict[str, int]:
        after = self.files_after_increments
        return {t: after[t] - self.files_one_run[t] for t in TABLES}

    def seconds(self, key: str) -> float:
        return self.rows[key].seconds


def lake_files(lake: Path) -> dict[str, int]:
    """Parquet files per table, as a glob over `LAKE/TABLE/**/*.parquet` finds them."""
    return {
        table: sum(1 for path in (lake / table).rglob("*.parquet") if not path.name.startswith("."))
        for table in TABLES
    }


def lake_bytes(lake: Path) -> int:
    """Bytes of the Parquet files the lake's manifest commits (every table), or, if the
    manifest cannot be read here, of every Parquet file under the table folders."""
    try:
        from pipeline.lake import manifest

        committed = manifest.committed_files(str(lake))
        paths = [path for files in committed.values() for path in files]
        return sum(os.path.getsize(path.removeprefix("file://")) for path in paths)
    except Exception:  # the lake's internals may change under the kit: fall back to a glob
        return sum(
            path.stat().st_size
            for table in TABLES
            for path in (lake / table).rglob("*.parquet")
            if not path.name.startswith(".")
        )


def file_bytes(db: Path) -> int:
    """A DuckDB file's bytes, with its write-ahead log if one is left."""
    wal = db.with_name(db.name + ".wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


def has_command(name: str) -> bool:
    try:
        run_child(cli(name, "--help"))
    except ChildFailed:
        return False
    return True


def measure_warehouse(
    data: Dataset,
    lake: Path,
    work: Path,
    normalise: Callable[..., tuple[ChildRun, int]],
    *,
    repeat: int = 3,
    db_days: int = DB_DAYS,
    say: Callable[[str], None] = lambda message: None,
) -> WarehouseResult:
    """Every measurement of this section, on `lake` as one run of the corpus left it.

    `normalise(paths, lake, *options)` runs `listings normalise PATHS --out LAKE OPTIONS`
    in a fresh process (the kit's own, so both sections run the CLI alike). The lake is
    changed (increments, compaction); scratch files go under `work`. `db_days` daily runs
    with `--db` are measured on a copy of the lake (0: none).
    """
    result = WarehouseResult(lake_files(lake))
    n = len(data.increment_days)
    db_days = min(db_days, n)
    lake_db, daily_db = work / "lake-db", work / "daily.duckdb"
    if db_days:
        say("copy of the lake for the daily runs with --db; its warehouse, built once")
        shutil.copytree(lake, lake_db)
        run = run_child(cli("build", "--lake", str(lake_db), "--db", str(daily_db)))
        add(result.rows, "first-build", "`listings build` after the first run (from scratch)",
            run.wall_s, run.peak_rss)  # fmt: skip
    for i in range(n):
        say(f"incremental run {i + 1}/{n} ({data.increment_days[i]})")
        paths = [data.corpus, *(data.increment(j) for j in range(i + 1))]
        run, new = normalise(paths, lake)
        result.increments.append(IncrementRun(run.wall_s, run.peak_rss, new, lake_files(lake)))
    for i in range(db_days):
        say(f"daily run with --db {i + 1}/{db_days} ({data.increment_days[i]})")
        paths = [data.corpus, *(data.increment(j) for j in range(i + 1))]
        run, new = normalise(paths, lake_db, "--db", str(daily_db))
        result.db_runs.append(IncrementRun(run.wall_s, run.peak_rss, new, {}))
        result.db_runs_updated += bool(re.search(r"^warehouse:", run.stdout, re.MULTILINE))
    shutil.rmtree(lake_db, ignore_errors=True)
    for stale in work.glob("daily.duckdb*"):
        stale.unlink()

    copies = work / "one-file"
    say("one-file copies of the lake's tables")
    _, out = run_job("copy", str(lake), "--out", str(copies))
    result.copy_rows = out["rows"]
    copy = copy_path(copies, "listings")
    for i in range(repeat):
        say(f"count: listings sql, DuckDB on the copy {i + 1}/{repeat}")
        run = run_child(cli("sql", COUNT_SQL, "--lake", str(lake), "--format", "csv"))
        add(result.rows, "sql", "`listings sql` count (fresh process)", run.wall_s, run.peak_rss)
        result.answers["listings sql"] = run.stdout.strip().splitlines()[-1]
        run, out = run_job("sql", str(lake))
        add(result.rows, "sql-in", "the same in-process (after imports)", out["seconds"])
        run = run_child([sys.executable, "-c", duckdb_count_script(copy)])
        add(result.rows, "duckdb", "DuckDB on the one-file copy (fresh `python -c`)",
            run.wall_s, run.peak_rss)  # fmt: skip
        result.answers["duckdb"] = run.stdout.strip()
        run, out = run_job("duckdb-count", str(copies))
        add(result.rows, "duckdb-in", "the same in-process (after `import duckdb`)",
            out["seconds"])  # fmt: skip

    db = work / "warehouse.duckdb"
    for i in range(repeat):
        say(f"listings build {i + 1}/{repeat}")
        for stale in work.glob("warehouse*.duckdb*"):
            stale.unlink()
        run = run_child(cli("build", "--lake", str(lake), "--db", str(db)))
        add(result.rows, "build", "`listings build` (fresh warehouse file)", run.wall_s,
            run.peak_rss)  # fmt: skip
    result.warehouse_bytes = file_bytes(db)
    result.lake_bytes = lake_bytes(lake)
    report = work / "report.html"
    for i in range(repeat):
        say(f"listings report {i + 1}/{repeat}")
        run = run_child(cli("report", "--db", str(db), "--out", str(report)))
        add(result.rows, "report", "`listings report` (on that warehouse)", run.wall_s,
            run.peak_rss)  # fmt: skip
    for i in range(repeat):
        say(f"listings verify --no-sources {i + 1}/{repeat}")
        # Exit 3: problems found, listed on stdout; timed all the same, and reported.
        run = run_child(cli("verify", "--no-sources", str(lake)), ok=(0, 3))
        add(result.rows, "verify", "`listings verify --no-sources` (the lake)", run.wall_s,
            run.peak_rss)  # fmt: skip
        if run.returncode:
            result.verify_problems = run.stdout.strip()[-1000:] or f"exit {run.returncode}"
    for i in range(repeat):
        say(f"raw-DuckDB floor {i + 1}/{repeat}")
        try:
            run, out = run_job("warehouse-floor", str(copies))
        except ChildFailed as error:
            result.floor_missing = str(error).splitlines()[-1]
            break
        add(result.rows, "floor", "raw-DuckDB floor (`benchmarks.warehouse_floor`, its work)",
            float(out["seconds"]), run.peak_rss)  # fmt: skip
        add(result.rows, "floor-wall", "the floor's process, wall (start-up included)",
            run.wall_s)  # fmt: skip
        result.floor_facts = out
        run, out = run_job("warehouse-floor", str(copies), "--in-memory")
        add(result.rows, "floor-memory", "the floor with its tables in memory (compute alone)",
            float(out["seconds"]), run.peak_rss)  # fmt: skip

    if has_command("compact"):
        say("listings compact")
        run = run_child(cli("compact", "--lake", str(lake)))
        add(result.rows, "compact", "`listings compact` (after the incremental runs)",
            run.wall_s, run.peak_rss)  # fmt: skip
        result.files_compacted = lake_files(lake)
    shutil.rmtree(copies, ignore_errors=True)
    return result


# --- reporting -------------------------------------------------------------------------


def _ratio(row: Row, base: Row | None) -> str:
    return "—" if base is None or base.seconds <= 0 else f"{row.seconds / base.seconds:.2f}"


def table(w: WarehouseResult, data: Dataset) -> list[str]:
    """The warehouse section's tables for one size."""
    incs = [run.seconds for run in w.increments]
    bases = {
        "sql": "duckdb", "sql-in": "duckdb-in", "build": "floor", "floor-wall": "floor",
        "floor-memory": "floor",
    }  # fmt: skip
    repeat = len(w.rows["build"].runs) if "build" in w.rows else 0
    lines = [
        f"#### Warehouse: the lake after one run over {data.days} fetch days, then "
        f"{len(w.increments)} incremental runs of {data.increment_pages} pages",
        "",
        f"Median of {repeat} run{'s' if repeat != 1 else ''} (the incremental runs: one "
        "series, one run a day); peak RSS of the process tree, the highest over the runs. "
        "SQL, build and compaction run on the lake as the incremental runs left it.",
        "",
        "| case | seconds | peak RSS | × its reference |",
        "| --- | ---: | ---: | ---: |",
    ]
    if incs:
        lines.append(
            f"| incremental run (`listings normalise` over corpus + days so far), median "
            f"of {len(incs)} | {fmt_s(statistics.median(incs))} | "
            f"{mb(max(r.peak_rss for r in w.increments))} | — |"
        )
        lines.append(f"| incremental run, slowest | {fmt_s(max(incs))} | — | — |")
    if w.db_runs:
        dbs = [run.seconds for run in w.db_runs]
        lines.append(
            f"| daily run with `--db` (the warehouse updated), median of {len(dbs)} | "
            f"{fmt_s(statistics.median(dbs))} | {mb(max(r.peak_rss for r in w.db_runs))} | — |"
        )
        lines.append(f"| daily run with `--db`, slowest | {fmt_s(max(dbs))} | — | — |")
    for key, row in w.rows.items():
        base = w.rows.get(bases.get(key, ""))
        lines.append(f"| {row.label} | {fmt_s(row.seconds)} | {mb(row.peak_rss)} | "
                     f"{_ratio(row, base)} |")  # fmt: skip
    lines += [
        "",
        "References: `listings sql` ÷ DuckDB on the one-file copy, like for like (fresh "
        "process ÷ fresh process, in-process ÷ in-process); the target compares the fresh "
        "processes' wall times, as the targets measured DuckDB's 0.6 s, and the in-process pair "
        "shows what the lake's files cost a query alone. `listings build` (a fresh process, "
        "start-up included) ÷ the raw-DuckDB floor's work on the one-file copies, writing its "
        "tables to a DuckDB file stored as the warehouse stores them (what the target "
        "compares); the in-memory floor, a bound no build that writes a file can reach, is "
        "beside it.",
        "",
        "| Parquet files | " + " | ".join(TABLES) + " |",
        "| --- |" + " ---: |" * len(TABLES),
        "| after one run of the corpus | "
        + " | ".join(f"{w.files_one_run[t]:,}" for t in TABLES)
        + " |",
        f"| after {len(w.increments)} incremental runs | "
        + " | ".join(f"{w.files_after_increments[t]:,}" for t in TABLES)
        + " |",
        "| added by the incremental runs | "
        + " | ".join(f"{w.files_added[t]:+,}" for t in TABLES)
        + " |",
    ]
    if w.files_compacted is not None:
        lines.append("| after `listings compact` | "
                     + " | ".join(f"{w.files_compacted[t]:,}" for t in TABLES) + " |")  # fmt: skip
    new = sum(r.new_listings for r in w.increments)
    copy_rows = ", ".join(f"{t} {n:,}" for t, n in w.copy_rows.items())
    lines += [
        "",
        f"Incremental runs, seconds each: {', '.join(f'{s:.2f}' for s in incs) or '—'}; new "
        f"listings in all: {new:,}. One-file copies: {copy_rows}. COUNT_SQL "
        f"(`{COUNT_SQL}`) answered "
        + "; ".join(f"{who}: `{answer}`" for who, answer in w.answers.items())
        + ".",
    ]
    if w.db_runs:
        lines += [
            "",
            f"Daily runs with `--db` (a copy of the lake as the first run left it, its "
            f"warehouse built once, then one run a day), seconds each: "
            f"{', '.join(f'{run.seconds:.2f}' for run in w.db_runs)}; the summary said the "
            f"warehouse was updated in {w.db_runs_updated} of {len(w.db_runs)}.",
        ]
    if w.warehouse_bytes is not None and w.lake_bytes:
        lines += [
            "",
            f"Bytes: the warehouse file of a build from scratch {mb(w.warehouse_bytes)}, the "
            f"lake's committed Parquet files {mb(w.lake_bytes)} "
            f"({w.warehouse_bytes / w.lake_bytes:.2f}×).",
        ]
    if w.verify_problems:
        lines += ["", f"`listings verify --no-sources` found problems: {w.verify_problems}"]
    if w.floor_facts:
        facts = w.floor_facts
        steps = facts.get("steps") or {}
        lines += [
            "",
            f"The floor keyed {facts.get('listings', 0):,} listings into "
            f"{facts.get('documents', 0):,} documents ({facts.get('appearances', 0):,} "
            f"appearances), DuckDB threads {facts.get('threads')}, memory limit "
            f"{facts.get('memory_limit')}; its steps: "
            + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in steps.items())
            + "."
            + (
                " Out of memory on every thread, run on one: "
                + ", ".join(facts["one_thread_steps"])
                + " (the one-file copy's wide rows sorted within the build's memory limit)."
                if facts.get("one_thread_steps")
                else ""
            ),
        ]
    if w.floor_missing:
        lines += ["", f"Raw-DuckDB floor not measured: {w.floor_missing}"]
    return lines


def judge(w: WarehouseResult, data: Dataset, *, floor_s: float, e2e_s: float,
          full: int) -> list[Verdict]:  # fmt: skip
    """The lake and warehouse targets against what was measured at this size (they are for
    `full`)."""
    at = f"at {data.listings:,} listings"
    scaled = "" if data.listings >= full else " (target is for 1 M: run --full)"
    most = max(w.files_one_run.values())
    added = max(w.files_added.values())
    incs = [run.seconds for run in w.increments]
    slowest = max(incs) if incs else float("nan")
    sql, duck, duck_in = w.seconds("sql"), w.seconds("duckdb"), w.seconds("duckdb-in")
    sql_bound = TARGET_SQL_RATIO * duck + TARGET_SQL_STARTUP_S
    strict_bound = TARGET_SQL_RATIO * duck_in + TARGET_SQL_STARTUP_S
    build, build_rss = w.seconds("build"), w.rows["build"].peak_rss or 0
    verdicts = [
        Verdict(
            "≤ 100 Parquet files per table after one run",
            f"{most:,} {at} ("
            + ", ".join(f"{t} {n:,}" for t, n in w.files_one_run.items())
            + f"; {data.days} fetch days)",
            passes(most <= TARGET_FILES_PER_TABLE, scaled),
        ),
        Verdict(
            "30 incremental runs of 50 pages add ≤ 12 files per table in all",
            f"{added:+,} at most ("
            + ", ".join(f"{t} {n:+,}" for t, n in w.files_added.items())
            + f") over {len(w.increments)} runs",
            passes(added <= TARGET_INCREMENT_FILES and len(w.increments) >= 30, scaled),
        ),
        Verdict(
            "each incremental run < 3 s",
            f"slowest {slowest:.2f} s, median "
            f"{statistics.median(incs) if incs else float('nan'):.2f} s {at}",
            passes(slowest < TARGET_INCREMENT_S, scaled),
        ),
        Verdict(
            "`listings sql` count ≤ 3× DuckDB on a one-file copy (+ 0.5 s start-up)",
            f"{sql:.2f} s against ≤ {sql_bound:.2f} s = 3 × {duck:.2f} s (DuckDB in a fresh "
            f"`python -c`, the wall times compared) + 0.5 s; stricter, DuckDB's query alone: "
            f"≤ {strict_bound:.2f} s = 3 × {duck_in:.3f} s + 0.5 s "
            f"({'met' if sql <= strict_bound else 'not met'})",
            passes(sql <= sql_bound, scaled),
        ),
    ]
    if "floor" in w.rows:
        floor = w.seconds("floor")
        memory = (
            f"; {build / w.seconds('floor-memory'):.2f}× the floor with tables in memory"
            if "floor-memory" in w.rows
            else ""
        )
        verdicts.append(
            Verdict(
                "`listings build` ≤ 2.5× the raw-DuckDB floor",
                f"{build / floor:.2f}× {at} (build {build:.2f} s, wall with start-up; floor "
                f"{floor:.2f} s of work, {w.seconds('floor-wall'):.2f} s as a process{memory})",
                passes(build <= TARGET_BUILD_RATIO * floor, scaled),
            )
        )
    else:
        verdicts.append(
            Verdict(
                "`listings build` ≤ 2.5× the raw-DuckDB floor",
                f"build {build:.2f} s {at}; floor: {w.floor_missing}",
                "NOT MEASURED",
            )
        )
    verdicts += [
        Verdict(
            "`listings build` peak RSS ≤ 2 GB",
            f"{mb(build_rss)} {at} (process tree)",
            passes(build_rss <= TARGET_BUILD_RSS, scaled),
        ),
        Verdict(
            "`listings normalise` end to end ≥ 0.3× the floor's throughput",
            f"{floor_s / e2e_s:.2f}× {at} (e2e {e2e_s:.2f} s, floor {floor_s:.2f} s); "
            "memory flatness: see the parser targets' row",
            passes(floor_s / e2e_s >= TARGET_E2E_FLOOR_SHARE, scaled),
        ),
    ]
    return verdicts
