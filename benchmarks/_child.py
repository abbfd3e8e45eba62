"""One measured job in a fresh process, so its peak RSS is its own: `python -m benchmarks._child`.

The kit starts one of these per timed run and reads the JSON line it prints. Each job
imports only what it needs (the pure-Python baseline never loads polars or pandera), so a
job's peak RSS is not inflated by another's libraries.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

SIDECAR_SUFFIX = ".meta.json"


def _page_files(folder: Path) -> list[Path]:
    # Same files as `read.discover` on generated input (page files, no sidecars or dot files).
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix == ".txt" and not path.name.startswith(".")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._child")
    parser.add_argument("job", choices=("floor", "baseline", "stages"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, help="output folder (baseline, stages)")
    parser.add_argument("--batch-bytes", type=int, required=True)
    parser.add_argument(
        "--no-snapshot-layout",
        action="store_true",
        help="stages: skip the (slow) snapshot-layout write, timed once at 1 M",
    )
    args = parser.parse_args(argv)
    files = _page_files(args.folder)
    result: dict[str, object]
    if args.job == "floor":
        from benchmarks.floor import run_floor

        floor = run_floor(files, args.batch_bytes)
        result = {
            "seconds": floor.seconds,
            "regex_seconds": floor.regex_seconds,
            "listings": floor.listings,
        }
    elif args.job == "baseline":
        from benchmarks.baseline_re import run_baseline

        baseline = run_baseline(files, args.out, args.batch_bytes)
        result = {
            "seconds": baseline.seconds,
            "listings": baseline.listings,
            "rejects": baseline.rejects,
        }
    else:
        from benchmarks.stages import run_stages

        start = time.perf_counter()
        stages, listings = run_stages(
            files, args.out, args.batch_bytes, snapshot_layout=not args.no_snapshot_layout
        )
        result = {
            "seconds": time.perf_counter() - start,
            "stages": stages,
            "listings": listings,
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
