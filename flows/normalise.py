"""The main job: normalise snapshot files into the lake, then rebuild the warehouse.

The flow only sequences `pipeline` calls as tasks; run it with `make run` or
`python -m flows.normalise [PATH ...]`. Without PREFECT_API_URL it runs on Prefect's
temporary local server (no setup, ~15-25 s of start-up).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prefect import flow, task

from pipeline import config, lake, normalise, read, warehouse


@task(name="discover snapshots")
def discover(paths: list[Path]) -> list[Path]:
    return read.discover(paths)


# One task per batch of files (bounded by bytes), not per file: thousands of small files
# must not become thousands of task runs.
process_batch = task(normalise.process_batch, name="normalise batch")


@task(name="build warehouse")
def build_warehouse(lake_dir: Path, db: Path) -> dict[str, int]:
    return warehouse.build(lake_dir, db)


@flow(name="normalise-snapshots", log_prints=True)
def normalise_flow(
    paths: list[Path] | None = None,
    lake_dir: Path = config.DEFAULT_LAKE,
    db: Path = config.DEFAULT_DB,
    options: read.ReadOptions | None = None,
    batch_bytes: int = config.DEFAULT_BATCH_BYTES,
) -> normalise.RunSummary:
    """Read every snapshot under `paths`, write the lake, build the warehouse, summarise."""
    files = discover(paths or [config.DEFAULT_RAW])
    summary = normalise.RunSummary(lake_dir=str(lake_dir))
    for batch in read.batches(files, batch_bytes):
        summary.merge(process_batch(batch, lake_dir, options or read.ReadOptions()))
    build_warehouse(lake_dir, db)
    summary.lake_rows = lake.row_counts(lake_dir)
    summary.warehouse = str(db)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flows.normalise",
        description="Run the normalise flow (Prefect) over snapshot files; defaults to the "
        f"committed samples in {config.DEFAULT_RAW}.",
    )
    parser.add_argument("paths", nargs="*", type=Path, default=[config.DEFAULT_RAW])
    parser.add_argument("--lake", type=Path, default=config.DEFAULT_LAKE)
    parser.add_argument("--db", type=Path, default=config.DEFAULT_DB)
    args = parser.parse_args(argv)
    summary = normalise_flow(paths=args.paths, lake_dir=args.lake, db=args.db)
    print(summary.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
