"""Parse throughput on a generated batch: `python -m benchmarks.bench_parse [--listings N]`.

Generates N listings (seeded, rendered by the site's rules) into page files with sidecars,
then times each stage of `listings normalise` on them, median of --repeat runs, and writes
the table to benchmarks/RESULTS.md. Speed targets live here, never in unit tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from benchmarks.generate import write_batch
from pipeline import lake, normalise, read

RESULTS = Path(__file__).with_name("RESULTS.md")


def _median_seconds(step: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(n_listings: int, repeat: int, workdir: Path) -> list[tuple[str, float, int, int]]:
    """(stage, median seconds, listings, bytes) for read, parse+validate, write, end to end."""
    raw = workdir / "raw"
    files = write_batch(raw, n_listings, seed=0)
    files = [f for f in files if not f.name.endswith(read.SIDECAR_SUFFIX)]
    size = sum(f.stat().st_size for f in files)
    options = read.ReadOptions()

    read_s, snapshots_read = _median_seconds(lambda: read.read_batch(files, options), repeat)
    parse_s, tables = _median_seconds(
        lambda: normalise.normalise_batch(snapshots_read),
        repeat,  # type: ignore[arg-type]
    )
    assert isinstance(tables, normalise.BatchTables)
    listings = tables.listings.height
    if tables.rejects.height:
        print(f"warning: {tables.rejects.height} rejects in generated input")
        print(tables.rejects.group_by("reason").len().sort("len", descending=True).head(5))

    def write() -> None:
        shutil.rmtree(workdir / "lake", ignore_errors=True)
        lake.write_snapshots(workdir / "lake", tables.as_dict())

    write_s, _ = _median_seconds(write, repeat)

    def end_to_end() -> None:
        shutil.rmtree(workdir / "lake2", ignore_errors=True)
        normalise.normalise_paths([raw], workdir / "lake2", options)

    total_s, _ = _median_seconds(end_to_end, repeat)
    return [
        ("read + decode", read_s, listings, size),
        ("parse + validate (vectorised)", parse_s, listings, size),
        ("write Parquet (3 files / snapshot)", write_s, listings, size),
        ("end to end (`listings normalise`)", total_s, listings, size),
    ]


def render(rows: list[tuple[str, float, int, int]], files: int, repeat: int) -> str:
    lines = [
        "# Benchmark: parse throughput",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}, polars "
        f"{pl.__version__}, {os.cpu_count()} cores; {rows[0][2]:,} listings in {files:,} "
        "page files "
        f"({rows[0][3] / 2**20:.1f} MB), median of {repeat}.",
        "",
        "| stage | seconds | listings/s | MB/s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for stage, seconds, listings, size in rows:
        lines.append(
            f"| {stage} | {seconds:.2f} | {listings / seconds:,.0f} | "
            f"{size / 2**20 / seconds:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_parse", description=__doc__)
    parser.add_argument("--listings", type=int, default=100_000, help="default: %(default)s")
    parser.add_argument("--repeat", type=int, default=3, help="runs per stage (median)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="listings-bench-") as tmp:
        rows = run(args.listings, args.repeat, Path(tmp))
        files = sum(1 for _ in (Path(tmp) / "raw").glob("*.txt"))
    report = render(rows, files, args.repeat)
    print(report)
    if not args.no_write:
        RESULTS.write_text(report, encoding="utf-8")
        print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
