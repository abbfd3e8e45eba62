"""The benchmark kit: measure, compare with the floors, judge the targets, report.

For each input size (a corpus of `benchmarks.generate`: two years of daily fetches), every
timed run is a fresh child process (so its peak RSS is its own, read with `os.wait4`, plus
that of any workers it starts), repeated and reported as the median.

The parser section (judged against the parser targets):

- the floor (`benchmarks.floor`): read every file + one polars tail regex; and the regex
  alone on text already in memory;
- the careful pure-Python baseline (`benchmarks.baseline_re`);
- `listings normalise` end to end, the real CLI (`python -m pipeline.cli normalise`) with
  its default options, into a fresh lake each run: wall time including interpreter
  start-up; then the same on worker processes (`--workers`);
- a no-change rerun: the command again over the same input and the same lake (the CLI's
  summary must report 0 new listings once the manifest skips unchanged files);
- the per-stage breakdown (`benchmarks.stages`), in-process in its own child.

The warehouse section (`benchmarks.warehouse_kit`, judged against the lake and warehouse
targets) goes on from the lake the last end-to-end run wrote: incremental runs (the daily
run, lake only), daily runs with `--db`, file counts, `listings sql`, `listings build`,
bytes, `listings report` and `listings verify --no-sources`.

The daily-run targets (`benchmarks.daily_kit`, the issue's table, judged per size: 1 M
listings over 730 days, 10 M over 10 years) come from both sections' measurements.

The corpus is the mix users see (`benchmarks.generate`): own-line, glued and repeated
titles, HTML/JSON twins of some pages. The floor reads every page file (its regex counts the
text pages' tails); the baseline and the stages read the text pages only (the baseline
cannot read HTML or JSON; the stages are the text form's), and their rates are of those.

Sizes: `python -m benchmarks` runs 100 k listings over 730 days; `--full` adds 1 M;
`--10m` adds 10 M listings over 10 years (3,650 days, ~1 M files; generating it takes
~15-20 min on 2 cores, once, into the cache) measured once (`--repeat` does not apply) and
lean: the target rows only, no baseline, worker-process or stage rows. `make bench` runs
`--full`; the 10 M run is `.venv/bin/python -m benchmarks --full --10m` (about an hour).

The per-form section (`benchmarks.forms_kit`, reported, not judged): the same documents in
each input form (text, HTML as served and as saved, search-API JSON), `listings normalise`
end to end and the parse stage alone for each.

The floor, baseline and stage children report the time of their work, measured inside
them (interpreter start-up and imports excluded); the CLI rows are wall times.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchmarks import daily_kit, forms_kit, layouts_kit, warehouse_kit
from benchmarks.dataset import Dataset, warm
from benchmarks.measures import Row, Verdict, add, fmt_s, mb, passes
from benchmarks.proc import REPO, ChildFailed, ChildRun, run_child, run_job
from benchmarks.stages import ALL_STAGES, PANDERA_STAGES, STAGES
from pipeline.run.pool import default_workers

RESULTS = Path(__file__).with_name("RESULTS.md")
# Sections of RESULTS.md written by hand, which a new run carries over unchanged (a heading
# line starting with one of these: `## Every text layout in one lake (1.05 M listings)`).
KEPT_SECTIONS = (
    "## Measurements behind design choices",
    "## Every text layout in one lake",
    "## 10 M listings, measured by hand",
    "## dbt and the runner",
)
UNDER_TEST = ("pipeline", "dbt_like_sql")  # a run on uncommitted changes here says so

# The parser targets.
TARGET_FLOOR_SHARE = 0.5  # e2e throughput >= 50 % of the floor's
TARGET_BASELINE_SPEEDUP = 5.0  # e2e >= 5x the careful pure-Python parser
TARGET_PEAK_RSS = 1.5 * 2**30  # bytes
TARGET_RSS_GROWTH = 0.2  # 10x input: < 20 % more peak RSS
TARGET_RERUN_FILES = 100_000
TARGET_RERUN_S = 5.0
TARGET_VALIDATION_SHARE = 0.15
FULL_LISTINGS = 1_000_000
TEN_M_LISTINGS, TEN_M_DAYS = 10_000_000, 3650  # `--10m`: ten years of daily fetches
# The CLI summary's titles line ends with the step's seconds: `titles: … (…, 12.3 s)`.
TITLES_LINE = re.compile(r"^titles:.*?([0-9]+(?:\.[0-9]+)?) s\)\s*$", re.MULTILINE)


def _job(job: str, data: Dataset, out: Path | None, batch_bytes: int) -> tuple[ChildRun, dict]:
    args = [job, str(data.corpus), "--batch-bytes", str(batch_bytes)]
    if out is not None:
        args += ["--out", str(out)]
    return run_job(*args)


def titles_seconds(stdout: str) -> float | None:
    """The titles step's seconds from a CLI summary, None if it has no titles line."""
    found = TITLES_LINE.search(stdout)
    return float(found.group(1)) if found else None


def normalise(paths: list[Path], lake: Path, batch_bytes: int, *extra: str) -> tuple[ChildRun, int]:
    """`listings normalise PATHS --out LAKE` in a fresh process; its run and new listings."""
    args = [sys.executable, "-m", "pipeline.cli", "normalise", *map(str, paths)]
    args += ["--out", str(lake), "--batch-mb", str(max(batch_bytes // 2**20, 1)), *extra]
    run = run_child(args)
    found = re.search(r"^listings:\s+([0-9,]+)", run.stdout, re.MULTILINE)
    if not found and re.search(r"^nothing changed: ", run.stdout, re.MULTILINE):
        return run, 0  # a run that found nothing new says so instead of counting
    if not found:
        raise ChildFailed(f"no listing count in the CLI's summary:\n{run.stdout[-2000:]}")
    return run, int(found.group(1).replace(",", ""))


@dataclass
class SizeResult:
    data: Dataset
    repeat: int
    rows: dict[str, Row] = field(default_factory=dict)
    listings: dict[str, int] = field(default_factory=dict)  # found by each method
    rerun_new_listings: int | None = None  # what the no-change rerun wrote anew (expect 0)
    warehouse: warehouse_kit.WarehouseResult | None = None
    titles: list[float | None] = field(default_factory=list)  # each e2e run's titles step
    lean: bool = False  # the target rows only: no baseline, worker-process or stage rows

    @property
    def first_run(self) -> daily_kit.FirstRun:
        e2e = self.rows["e2e"]
        return daily_kit.FirstRun(e2e.seconds, self.seconds("floor"), e2e.peak_rss, self.titles)

    def add(self, key: str, label: str, seconds: float, rss: int | None = None) -> None:
        add(self.rows, key, label, seconds, rss)

    def seconds(self, key: str) -> float:
        return self.rows[key].seconds


STAGE_LABELS = {
    "read": "stage: read (file bytes)",
    "decode": "stage: decode + metadata (rest of `read.read_batch`)",
    "split": "stage: split (`split_chunks`)",
    "extract": "stage: extract (`parse_chunks`, `resolve_prices`, `split_titles`)",
    "derive": "stage: derive (`derive_fields`)",
    "validate": "stage: validate (`split_valid`, Listing)",
    "validate other": "stage: validate other (Snapshot, Reject)",
    "assemble": "stage: assemble (rest of `normalise_batch`)",
    "write": "stage: write (`lake.write_batch`)",
}


def measure_size(
    data: Dataset,
    work: Path,
    *,
    repeat: int = 3,
    batch_bytes: int = 64 * 2**20,
    warehouse: bool = True,
    db_days: int = warehouse_kit.DB_DAYS,
    lean: bool = False,
    log: bool = False,
) -> SizeResult:
    """Every measurement for one dataset; scratch output goes under `work` (removed after).

    `lean`: only what the targets need (floor, end to end, no-change rerun, the warehouse
    section), not the baseline, the worker processes or the stages (for the 10 M size).
    `db_days`: daily runs with `--db` to measure (`warehouse_kit.measure_warehouse`)."""
    result = SizeResult(data, repeat, lean=lean)

    def say(message: str) -> None:
        if log:
            print(f"  [{data.listings:,}] {message}", file=sys.stderr, flush=True)

    def run_normalise(paths: list[Path], lake: Path, *extra: str) -> tuple[ChildRun, int]:
        return normalise(paths, lake, batch_bytes, *extra)

    warm(data)
    work.mkdir(parents=True, exist_ok=True)
    lake, workers_lake = work / "lake", work / "lake-workers"
    try:
        for i in range(repeat):
            say(f"floor {i + 1}/{repeat}")
            run, out = _job("floor", data, None, batch_bytes)
            result.add("floor", "floor: read files + one polars tail regex", out["seconds"],
                       run.peak_rss)  # fmt: skip
            result.add("regex", "floor: the regex alone, text in memory", out["regex_seconds"])
            result.listings["floor"] = out["listings"]
        for i in range(0 if lean else repeat):
            say(f"baseline {i + 1}/{repeat}")
            shutil.rmtree(work / "baseline", ignore_errors=True)
            run, out = _job("baseline", data, work / "baseline", batch_bytes)
            result.add("baseline", "baseline: careful pure-Python `re` → Parquet",
                       out["seconds"], run.peak_rss)  # fmt: skip
            result.listings["baseline"] = out["listings"]
        shutil.rmtree(work / "baseline", ignore_errors=True)
        for i in range(repeat):
            say(f"listings normalise {i + 1}/{repeat}")
            shutil.rmtree(lake, ignore_errors=True)
            run, count = run_normalise([data.corpus], lake)
            result.add("e2e", "`listings normalise`, end to end (fresh lake)", run.wall_s,
                       run.peak_rss)  # fmt: skip
            result.listings["e2e"] = count
            result.titles.append(titles_seconds(run.stdout))
        workers = str(default_workers())
        for i in range(0 if lean else repeat):
            say(f"listings normalise --workers {workers} {i + 1}/{repeat}")
            shutil.rmtree(workers_lake, ignore_errors=True)
            run, count = run_normalise([data.corpus], workers_lake, "--workers", workers)
            result.add("e2e-workers", f"the same on worker processes, `--workers {workers}`",
                       run.wall_s, run.peak_rss)  # fmt: skip
            result.listings["e2e, worker processes"] = count
        shutil.rmtree(workers_lake, ignore_errors=True)
        for i in range(repeat):
            say(f"no-change rerun {i + 1}/{repeat}")
            run, count = run_normalise([data.corpus], lake)
            result.add("rerun", "no-change rerun (same input, same lake)", run.wall_s,
                       run.peak_rss)  # fmt: skip
            result.rerun_new_listings = count
        for i in range(0 if lean else repeat):
            say(f"stages {i + 1}/{repeat}")
            run, out = _job("stages", data, work / "stages-lake", batch_bytes)
            for stage in ALL_STAGES:
                result.add(f"stage:{stage}", STAGE_LABELS[stage], out["stages"][stage])
            result.add("stages", "sum of the stages (one in-process pass)",
                       sum(out["stages"][s] for s in ALL_STAGES), run.peak_rss)  # fmt: skip
            result.listings["stages"] = out["listings"]
        shutil.rmtree(work / "stages-lake", ignore_errors=True)
        if warehouse:
            # Goes on from the lake of the last end-to-end run (and its no-change reruns).
            result.warehouse = warehouse_kit.measure_warehouse(
                data, lake, work, run_normalise, repeat=repeat, db_days=db_days, say=say
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def measure_forms(
    datasets: list[Dataset],
    work: Path,
    *,
    repeat: int = 3,
    batch_bytes: int = 64 * 2**20,
    log: bool = False,
) -> forms_kit.FormsResult:
    """The per-form section: one dataset per input form (`forms_kit.measure_forms`)."""
    return forms_kit.measure_forms(
        datasets, work, normalise, repeat=repeat, batch_bytes=batch_bytes, log=log
    )


# --- judging and reporting ---------------------------------------------------------------


# Rows that read the text pages only (the baseline and the stages), and so are rated on
# the text pages' listings and bytes.
TEXT_ONLY_ROWS = ("baseline", "stages")


def _rated(result: SizeResult, key: str) -> tuple[int, float]:
    """The listings and megabytes a row's rate is of: the text pages' for the rows that
    read only those, every page file's otherwise."""
    data = result.data
    if key in TEXT_ONLY_ROWS or key.startswith("stage:"):
        return data.text_listings, data.text_megabytes
    return data.listings, data.megabytes


def table(result: SizeResult) -> list[str]:
    """The markdown table for one size."""
    data = result.data
    floor = result.seconds("floor")
    twins = (
        f"; {data.twin_files:,} of them HTML/JSON twins of text pages" if data.twin_files else ""
    )
    lines = [
        f"### {data.listings:,} listings in {data.files:,} page files ({data.megabytes:.1f} MB, "
        f"{data.days:,} fetch days{twins})",
        "",
    ]
    if described := data.describe():
        lines += [f"The corpus: {described}.", ""]
    lines += [
        f"Median of {result.repeat} run{'s' if result.repeat > 1 else ''}; peak RSS is the "
        "highest over the runs of that row's own process (stage rows share one process: see "
        "the sum row). `decode` and `assemble` are remainders (a whole call less the stages "
        "timed inside it): within noise they can read 0."
        + (
            f" The baseline and stage rows read the text pages only ({data.text_listings:,} "
            f"listings, {data.text_megabytes:.1f} MB) and are rated on those."
            if data.text_listings != data.listings and not result.lean
            else ""
        )
        + (
            " Lean run: the target rows only (no baseline, worker-process or stage rows)."
            if result.lean
            else ""
        ),
        "",
        "| case | seconds | listings/s | MB/s | peak RSS | × floor time |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result.rows.values():
        s = row.seconds
        listings, megabytes = _rated(result, row.key)
        rate = f"{listings / s:,.0f}" if s > 0 else "—"
        mbs = f"{megabytes / s:,.1f}" if s > 0 else "—"
        lines.append(
            f"| {row.label} | {fmt_s(s)} | {rate} | {mbs} | {mb(row.peak_rss)} | {s / floor:.2f} |"
        )
    counts = ", ".join(f"{name} {count:,}" for name, count in result.listings.items())
    titles = result.first_run.titles
    lines += [
        "",
        f"Listings found: {counts}; new listings written by the no-change rerun: "
        f"{result.rerun_new_listings}."
        + (
            " The floor counts the text pages' listing tails only."
            if data.text_listings != data.listings
            else ""
        ),
        "",
        "Titles step of the end-to-end runs (the CLI summary's `titles:` line), seconds each: "
        + (
            ", ".join("—" if t is None else f"{t:.2f}" for t in result.titles)
            + (f"; median {titles / result.seconds('e2e'):.1%} of the run" if titles else "")
            if result.titles
            else "—"
        )
        + ".",
    ]
    return lines


def where_time_goes(result: SizeResult) -> list[str]:
    if "stages" not in result.rows:
        return []
    total = result.seconds("stages")
    shares = sorted(((result.seconds(f"stage:{s}"), s) for s in ALL_STAGES), reverse=True)
    parts = ", ".join(f"{stage} {100 * s / total:.0f} %" for s, stage in shares if s > 0)
    e2e, floor = result.seconds("e2e"), result.seconds("floor")
    return [
        f"Where the time goes at {result.data.listings:,} listings (share of the stage sum, "
        f"{total:.2f} s): {parts}. End to end: {e2e:.2f} s, {floor / e2e:.0%} of the floor's "
        "throughput.",
    ]


def judge(results: list[SizeResult]) -> list[Verdict]:
    """The parser targets against what was measured, honestly: unmeasured is not a pass.

    Judged on the sizes measured with every row (a lean size, 10 M, has no baseline, worker
    or stage rows: its figures are the daily-run targets')."""
    results = sorted((r for r in results if not r.lean), key=lambda r: r.data.listings)
    if not results:
        return [Verdict("the parser targets", "no size measured with every row",
                        "NOT MEASURED")]  # fmt: skip
    big, small = results[-1], results[0]
    at = f"at {big.data.listings:,} listings"
    scaled = "" if big.data.listings >= FULL_LISTINGS else " (target is for 1 M: run --full)"
    e2e, floor, base = big.seconds("e2e"), big.seconds("floor"), big.seconds("baseline")
    verdicts = [
        Verdict(
            "end to end ≥ 50 % of the floor's throughput (1 M listings)",
            f"{floor / e2e:.1%} {at} (e2e {e2e:.2f} s, floor {floor:.2f} s)",
            passes(floor / e2e >= TARGET_FLOOR_SHARE, scaled),
        ),
        Verdict(
            "end to end ≥ 5× the careful pure-Python parser (1 M listings)",
            f"{base / e2e:.2f}× {at} (baseline {base:.2f} s)",
            passes(base / e2e >= TARGET_BASELINE_SPEEDUP, scaled),
        ),
    ]
    peak = max(r.rows["e2e"].peak_rss or 0 for r in results)
    pooled_peak = max(r.rows["e2e-workers"].peak_rss or 0 for r in results)
    verdicts.append(
        Verdict(
            "peak RSS ≤ 1.5 GB (end to end)",
            f"{mb(peak)} (highest over the sizes run); on worker processes "
            f"{mb(pooled_peak)} (all processes summed)",
            ("PASS" if peak <= TARGET_PEAK_RSS else "FAIL") + scaled,
        )
    )
    if big.data.listings >= 10 * small.data.listings:

        def growth(key: str) -> tuple[float, int, int]:
            low, high = small.rows[key].peak_rss or 1, big.rows[key].peak_rss or 0
            return high / low - 1, low, high

        default, low, high = growth("e2e")
        pooled, pooled_low, pooled_high = growth("e2e-workers")
        verdicts.append(
            Verdict(
                "flat memory: 10× the input → < 20 % more peak RSS",
                f"{default:+.0%} ({mb(low)} → {mb(high)}, "
                f"{big.data.listings // small.data.listings}× the input); on worker processes: "
                f"{pooled:+.0%} ({mb(pooled_low)} → {mb(pooled_high)}; the smaller input is "
                "too small to start them)",
                "PASS" if default < TARGET_RSS_GROWTH else "FAIL",
            )
        )
    else:
        verdicts.append(
            Verdict(
                "flat memory: 10× the input → < 20 % more peak RSS",
                "needs two sizes 10× apart",
                "NOT MEASURED (run --full)",
            )
        )
    rerun, files = big.seconds("rerun"), big.data.files
    if files >= TARGET_RERUN_FILES:
        verdicts.append(
            Verdict(
                "no-change rerun over 100 000 files < 5 s",
                f"{rerun:.2f} s over {files:,} files",
                "PASS" if rerun < TARGET_RERUN_S else "FAIL",
            )
        )
    else:
        projected = rerun * TARGET_RERUN_FILES / files
        verdicts.append(
            Verdict(
                "no-change rerun over 100 000 files < 5 s",
                f"{rerun:.2f} s over {files:,} files; at most ≈ {projected:.0f} s over 100 000 "
                "if it grew linearly (it does not all: start-up is a fixed part)",
                "NOT MEASURED (run --full)",
            )
        )
    pandera = sum(big.seconds(f"stage:{s}") for s in PANDERA_STAGES)
    verdicts.append(
        Verdict(
            "validation (pandera) < 15 % of end to end",
            f"{pandera / e2e:.1%} {at} ({pandera:.2f} s of {e2e:.2f} s)",
            "PASS" if pandera / e2e < TARGET_VALIDATION_SHARE else "FAIL",
        )
    )
    return verdicts


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB RAM"
    except OSError:
        pass
    return "RAM unknown"


def machine() -> str:
    import duckdb
    import pandera
    import polars
    import pyarrow

    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {_ram()}; {platform.system()} "
        f"{platform.release()} {platform.machine()}; {platform.python_implementation()} "
        f"{platform.python_version()}, polars {polars.__version__}, pyarrow "
        f"{pyarrow.__version__}, pandera {pandera.__version__}, duckdb {duckdb.__version__}"
    )


def revision() -> str:
    """The measured code: commit, and whether the code under test has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *UNDER_TEST],
            cwd=REPO, capture_output=True, text=True,
        )  # fmt: skip
    except OSError:
        return "unknown (no git)"
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    changed = " + uncommitted changes in " + ", ".join(f"{d}/" for d in UNDER_TEST)
    return head.stdout.strip() + (changed if dirty.stdout else "")


def load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"
    except OSError:
        return "unknown"


def kept_sections(results_file: Path) -> str:
    """The hand-written sections (`KEPT_SECTIONS`) of an existing report, to append to a new
    one: a new run re-measures what the kit measures, not the figures behind design choices."""
    if not results_file.exists():
        return ""
    return kept_text(results_file.read_text(encoding="utf-8"))


def kept_text(text: str) -> str:
    """`kept_sections` of a report's text."""
    kept = []
    for heading in KEPT_SECTIONS:
        found = re.search(rf"\n{re.escape(heading)}(?: [^\n]*)?\n", text)
        if found is None:
            continue
        start = found.start()
        end = text.find("\n## ", found.end() - 1)
        kept.append(text[start : end if end >= 0 else len(text)].rstrip("\n") + "\n")
    return "".join(kept)


def carried_over(new: str, old: str, *, forms_measured: bool) -> str:
    """The report to write: `new` with what this run did not measure taken from the `old`
    report: its per-form section unless measured now (`--no-forms`), its per-layout section
    (`python -m benchmarks.layouts_kit` measures it) after the per-form one, and the
    hand-written sections at the end."""
    section = None if forms_measured else forms_kit.existing_section(old)
    if section is not None:
        new = with_forms_section(new, section)
    layouts = layouts_kit.existing_section(old)
    if layouts is not None:
        new = layouts_kit.with_section(new, layouts.rstrip("\n") + "\n")
    return new + kept_text(old)


def measured(*, started: datetime, load_before: str, command: str) -> str:
    """When, where and how a section was measured, for a section that may be re-taken alone."""
    return (
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine()}; code {revision()}; load average "
        f"(1/5/15 min) before / after: {load_before} → {load()}; command: `{command}`."
    )


def forms_section(
    forms: forms_kit.FormsResult, *, started: datetime, load_before: str, command: str
) -> str:
    """The per-form section as text, ready for `forms_kit.with_section`."""
    stamp = measured(started=started, load_before=load_before, command=command)
    return "\n".join(forms_kit.section(forms, measured=stamp)) + "\n"


def with_forms_section(text: str, section: str) -> str:
    """A report with its per-form section replaced by (or given) `section`: before the
    targets, else before the hand-written sections."""
    return forms_kit.with_section(text, section, ("## Targets: parser", *KEPT_SECTIONS))


def report(
    results: list[SizeResult],
    *,
    started: datetime,
    load_before: str,
    command: str,
    forms: forms_kit.FormsResult | None = None,
) -> str:
    """The whole report; the per-form section (when `forms` was measured) before the targets."""
    results = sorted(results, key=lambda r: r.data.listings)
    lines = [
        "# Benchmarks: `listings normalise` and the warehouse against their floors",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- code: {revision()}",
        f"- load average (1/5/15 min) before / after: {load_before} → {load()}",
        f"- command: `{command}`",
        "- input: generated by `benchmarks.generate` (seeded; page cache warm): the corpus is "
        "full pages of 10 listings spread over consecutive daily crawls of many queries "
        "(12 at 100 k listings, more for more pages a day), saved as "
        "`raw/YYYY-MM-DD/<site>-<query>-p<N>.txt` + `.meta.json`; documents recur across "
        "days, about one distinct document per three listings; titles on their own line in "
        "~1/3 of the text listings, repeated in ~10 %, glued in the rest; beside ~4 % of the "
        "text pages an HTML or API JSON twin of the same results (`.html`/`.json` + sidecar), "
        "showing ~10 % of the documents; then one increment of 50 pages (twins included) per "
        "later day, `increments/YYYY-MM-DD/`",
        "",
        "Rows: the floor = read every page file in Python + one polars regex counting listing "
        "tails, one row per file; the baseline = `benchmarks/baseline_re.py`, a careful "
        "per-listing `re` parser writing Parquet with pyarrow directly (no pandas: stricter than "
        "the pandas reference baseline the parser targets were set against, which took 51 s "
        "at 1 M listings); "
        "the `listings` rows are wall times of the real CLI (default options) in a fresh "
        "process (start-up included); the other rows time the work inside their own process. "
        "“× floor time” is seconds ÷ the floor's seconds (2.00 = half its throughput).",
        "",
    ]
    for result in results:
        lines += [*table(result), "", *where_time_goes(result), ""]
        if result.warehouse is not None:
            lines += [*warehouse_kit.table(result.warehouse, result.data), ""]
    if forms is not None:
        stamp = measured(started=started, load_before=load_before, command=command)
        lines += [*forms_kit.section(forms, measured=stamp), ""]
    lines += [
        "## Targets: parser",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {v.target} | {v.measured} | {v.verdict} |" for v in judge(results)]
    # These targets were set for 1 M listings: judged at the largest size up to that.
    upto = [r for r in results if r.data.listings <= FULL_LISTINGS] or results
    big = upto[-1]
    if big.warehouse is not None:
        verdicts = warehouse_kit.judge(
            big.warehouse,
            big.data,
            floor_s=big.seconds("floor"),
            e2e_s=big.seconds("e2e"),
            full=FULL_LISTINGS,
        )
        lines += [
            "",
            f"## Targets: lake and warehouse, judged at {big.data.listings:,} listings",
            "",
            "| target | measured | verdict |",
            "| --- | --- | --- |",
        ]
        lines += [f"| {v.target} | {v.measured} | {v.verdict} |" for v in verdicts]
    judged = [(r.data, daily_kit.judge(r.data, r.first_run, r.warehouse)) for r in results]
    lines += ["", *daily_kit.section(judged)]
    lines += [
        "",
        "Numbers taken while other work shares the machine are noisy: compare the load "
        "averages above, and re-take final numbers on a quiet machine.",
    ]
    return "\n".join(lines) + "\n"


__all__ = [
    "STAGES",
    "SizeResult",
    "forms_section",
    "judge",
    "measure_forms",
    "measure_size",
    "report",
    "run_child",
    "table",
    "with_forms_section",
]
