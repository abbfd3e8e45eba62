"""The files a run writes besides the lake (`--db`, `--report`), kept out of its own input.

A report written into an input folder (`listings normalise raw --db w.duckdb --report
raw/report.html`) is an `.html` file there, and the next run would read it as a snapshot
page, reject it whole and count it as input. `skip_own_outputs` takes such files off the
plan's list and names them in the summary's `skipped` line (`OWN_OUTPUT`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.ingest.sources import Source, file_name
from pipeline.run.plan import Plan

OWN_OUTPUT = "output of this run"


def _local(source: Source) -> Path | None:
    text = str(source)
    return None if "://" in text else Path(text).resolve()


def skip_own_outputs(planned: Plan, outputs: Sequence[Path | None]) -> Plan:
    """`planned` without the files named in `outputs` (the run's warehouse and report),
    each named in the summary's `skipped` and no longer counted as found."""
    own = {path.resolve() for path in outputs if path is not None}
    if not own:
        return planned
    # Only a file named like an output is resolved: a first run plans 100 000s of files,
    # and resolving a path is a system call per folder in it.
    names = {path.name for path in own}
    keep = [
        file_name(source) not in names or _local(source) not in own for source in planned.todo
    ]
    if all(keep):
        return planned
    summary = planned.summary
    for source, kept in zip(planned.todo, keep, strict=True):
        if not kept:
            summary.skipped.append((OWN_OUTPUT, str(source)))
            summary.files_found -= 1
    todo = [source for source, kept in zip(planned.todo, keep, strict=True) if kept]
    sizes = [size for size, kept in zip(planned.sizes, keep, strict=True) if kept]
    return Plan(summary, todo, sizes)
