"""The daily-run targets: what a user who runs the pipeline every day sees, per size.

The targets (2 cores; ratios measured in one run of the kit):

| measure | at 1 M over 730 days | at 10 M over 10 years |
| --- | --- | --- |
| `listings normalise` first run vs read+regex floor | ≥ 0.3×, titles ≤ 15 % | ≥ 0.3×, RSS ≤ 2 GB |
| a daily run of 50 pages, lake only | < 2 s | < 4 s |
| a daily run of 50 pages with `--db` (warehouse updated) | < 5 s | < 10 s |
| `listings build` from scratch vs the raw-DuckDB floor | ≤ 2.5×, RSS ≤ 2 GB | ≤ 2.5×, RSS ≤ 2 GB |
| warehouse file vs lake bytes | ≤ 3× | ≤ 3× |
| `listings report` / `verify --no-sources` | < 10 s / < 10 s | < 30 s / < 60 s |

Every figure comes from the other sections' measurements (`kit.measure_size`,
`warehouse_kit.measure_warehouse`): the first run is the parser section's end-to-end run
into a fresh lake (its titles step read from the CLI summary's `titles: … (N s)` line), the
daily runs are the warehouse section's (lake only: the increments; with `--db`: the series
on a copy of the lake), the build, bytes, report and verify its rows. A size of 10 M
listings or more is judged against the 10 M column, a smaller one against the 1 M column
(below 1 M with a note that the target is for 1 M). A daily run is judged by its median over
the days measured; the slowest is shown beside it. A row whose measure was not taken says
NOT MEASURED, never PASS.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from benchmarks.dataset import Dataset
from benchmarks.measures import Verdict, mb, passes
from benchmarks.warehouse_kit import WarehouseResult

HEADING = "## Targets: the daily run, per size"
GB = 2**30


@dataclass(frozen=True)
class Scale:
    """One column of the targets table."""

    name: str
    listings: int
    floor_share: float  # first run's throughput ≥ this share of the floor's
    titles_share: float | None  # the titles step ≤ this share of the first run
    first_run_rss: int | None  # bytes
    daily_s: float  # a daily run of 50 pages, lake only, < this
    daily_db_s: float  # the same with --db, < this
    build_ratio: float  # `listings build` ≤ this × the raw-DuckDB floor
    build_rss: int
    bytes_ratio: float  # warehouse file ≤ this × the lake's bytes
    report_s: float
    verify_s: float


ONE_M = Scale("1 M over 730 days", 1_000_000, 0.3, 0.15, None, 2.0, 5.0, 2.5, 2 * GB, 3.0,
              10.0, 10.0)  # fmt: skip
TEN_M = Scale("10 M over 10 years", 10_000_000, 0.3, None, 2 * GB, 4.0, 10.0, 2.5, 2 * GB, 3.0,
              30.0, 60.0)  # fmt: skip


def scale_for(listings: int) -> Scale:
    return TEN_M if listings >= TEN_M.listings else ONE_M


@dataclass
class FirstRun:
    """The parser section's end-to-end runs (fresh lake) and their floor, at one size."""

    seconds: float  # median wall time
    floor_seconds: float
    peak_rss: int | None
    titles_seconds: list[float | None]  # each run's titles step (None: no `titles:` line)

    @property
    def titles(self) -> float | None:
        """Median seconds of the titles step, None if no run reported one."""
        known = [t for t in self.titles_seconds if t is not None]
        return statistics.median(known) if known else None


def _pick(ok: bool | None, note: str) -> str:
    return "NOT MEASURED" if ok is None else passes(ok, note)


def _daily(runs: list[float], limit: float) -> tuple[bool | None, str]:
    if not runs:
        return None, "not measured"
    median, slowest = statistics.median(runs), max(runs)
    over = sum(s >= limit for s in runs)
    return median < limit, (
        f"median {median:.2f} s, slowest {slowest:.2f} s over {len(runs)} days"
        + (f" ({over} of them ≥ {limit:g} s)" if over else "")
    )


def judge(data: Dataset, first: FirstRun, w: WarehouseResult | None) -> list[Verdict]:
    """Every row of the targets table at this size, measured and judged."""
    scale = scale_for(data.listings)
    note = f" (target is for {scale.name}: run --full)" if data.listings < scale.listings else ""
    verdicts: list[Verdict] = []

    def row(target: str, measured: str, ok: bool | None) -> None:
        verdicts.append(Verdict(target, measured, _pick(ok, note)))

    share = first.floor_seconds / first.seconds
    row(
        f"`listings normalise`, first run, ≥ {scale.floor_share:g}× the read + regex floor",
        f"{share:.2f}× (first run {first.seconds:.2f} s, floor {first.floor_seconds:.2f} s)",
        share >= scale.floor_share,
    )
    titles = first.titles
    titles_text = (
        "no `titles:` line in the CLI summary"
        if titles is None
        else f"{titles:.2f} s of {first.seconds:.2f} s = {titles / first.seconds:.1%}"
    )
    if scale.titles_share is not None:
        row(
            f"the titles step ≤ {scale.titles_share:.0%} of the first run",
            titles_text,
            None if titles is None else titles / first.seconds <= scale.titles_share,
        )
    else:
        verdicts.append(Verdict("the titles step's share of the first run", titles_text, "—"))
    rss = f"{mb(first.peak_rss)} (process tree)"
    if scale.first_run_rss is not None:
        row(
            f"`listings normalise`, first run, peak RSS ≤ {scale.first_run_rss / GB:g} GB",
            rss,
            None if first.peak_rss is None else first.peak_rss <= scale.first_run_rss,
        )
    else:
        verdicts.append(Verdict("`listings normalise`, first run, peak RSS", rss, "—"))
    if w is None:
        verdicts.append(Verdict("the daily run, the warehouse", "--no-warehouse", "NOT MEASURED"))
        return verdicts
    ok, text = _daily([r.seconds for r in w.increments], scale.daily_s)
    row(f"a daily run of 50 pages, lake only, < {scale.daily_s:g} s", text, ok)
    ok, text = _daily([r.seconds for r in w.db_runs], scale.daily_db_s)
    if w.db_runs and w.db_runs_updated < len(w.db_runs):
        text += f"; the warehouse updated in only {w.db_runs_updated} of them"
        ok = False
    row(f"a daily run of 50 pages with `--db` (warehouse updated), < {scale.daily_db_s:g} s",
        text, ok)  # fmt: skip
    if "build" in w.rows and "floor" in w.rows:
        build, floor = w.rows["build"].seconds, w.rows["floor"].seconds
        row(
            f"`listings build` from scratch ≤ {scale.build_ratio:g}× the raw-DuckDB floor",
            f"{build / floor:.2f}× (build {build:.2f} s, floor {floor:.2f} s)",
            build <= scale.build_ratio * floor,
        )
    else:
        row(f"`listings build` from scratch ≤ {scale.build_ratio:g}× the raw-DuckDB floor",
            f"floor: {w.floor_missing or 'not measured'}", None)  # fmt: skip
    build_rss = w.rows["build"].peak_rss if "build" in w.rows else None
    row(
        f"`listings build` peak RSS ≤ {scale.build_rss / GB:g} GB",
        f"{mb(build_rss)} (process tree)",
        None if build_rss is None else build_rss <= scale.build_rss,
    )
    if w.warehouse_bytes is not None and w.lake_bytes:
        ratio = w.warehouse_bytes / w.lake_bytes
        row(
            f"warehouse file ≤ {scale.bytes_ratio:g}× the lake's bytes",
            f"{ratio:.2f}× ({mb(w.warehouse_bytes)} for {mb(w.lake_bytes)} of Parquet)",
            ratio <= scale.bytes_ratio,
        )
    else:
        row(f"warehouse file ≤ {scale.bytes_ratio:g}× the lake's bytes", "not measured", None)
    for key, command, limit in (
        ("report", "`listings report`", scale.report_s),
        ("verify", "`listings verify --no-sources`", scale.verify_s),
    ):
        if key in w.rows:
            seconds = w.rows[key].seconds
            extra = "; it found problems (see the warehouse section)" if (
                key == "verify" and w.verify_problems
            ) else ""  # fmt: skip
            row(f"{command} < {limit:g} s", f"{seconds:.2f} s{extra}", seconds < limit)
        else:
            row(f"{command} < {limit:g} s", "not measured", None)
    return verdicts


def section(judged: list[tuple[Dataset, list[Verdict]]]) -> list[str]:
    """The targets section: a table per size, largest first."""
    lines = [HEADING, ""]
    lines.append(
        "The issue's targets for a user's daily run, each size judged against its column "
        "(1 M listings over 730 days; 10 M over 10 years); a daily run by its median over "
        "the days measured, the slowest beside it. The 1 M column is measured by "
        "`python -m benchmarks --full` (`make bench`), the 10 M one by "
        "`python -m benchmarks --full --10m` (10 M listings over 3,650 days, ~1 M files, "
        "measured once, the target rows only)."
    )
    for data, verdicts in sorted(judged, key=lambda item: -item[0].listings):
        lines += [
            "",
            f"### {data.listings:,} listings over {data.days:,} days "
            f"(targets: {scale_for(data.listings).name})",
            "",
            "| target | measured | verdict |",
            "| --- | --- | --- |",
        ]
        lines += [f"| {v.target} | {v.measured} | {v.verdict} |" for v in verdicts]
    return lines
