"""One measured job in a fresh process, so its peak RSS is its own: `python -m benchmarks._child`.

The kit starts one of these per timed run and reads the JSON line it prints. Each job
imports only what it needs (the pure-Python baseline never loads polars or pandera, the
DuckDB jobs never load polars), so a job's peak RSS is not inflated by another's libraries.

Jobs and their FOLDER: `floor` reads every page file under it (a corpus, walked
recursively as `sources.discover` does: text, HTML and JSON), `baseline` and `stages` its
text pages (the baseline cannot read the other forms; the stages are the text form's);
`forms` reads and normalises the
page files of any form under it (`sources.discover` itself), without writing; `copy`
writes one-file copies of a lake's tables into --out; `sql` runs `listings sql … --lake
FOLDER` in-process; `duckdb-count` runs the same query on the one-file copy in FOLDER;
`warehouse-floor` runs `benchmarks.warehouse_floor` on the copies in FOLDER.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import time
from pathlib import Path

SIDECAR_SUFFIX = ".meta.json"
TABLES = ("listings", "snapshots", "rejects")
COUNT_SQL = "select count(*), avg(size_bytes) from listings"
PAGE_SUFFIXES = (".txt", ".html", ".json")  # what the generator writes, every form


def _page_files(folder: Path, suffixes: tuple[str, ...] = (".txt",)) -> list[Path]:
    # Same files as `sources.discover` on generated input (page files of these suffixes, no
    # sidecars or dot files), in the same order (sorted as strings).
    found = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if name.endswith(suffixes)
        and not name.endswith(SIDECAR_SUFFIX)
        and not name.startswith(".")
    )
    return [Path(path) for path in found]


def copy_path(folder: Path, table: str) -> Path:
    """Where the `copy` job puts a table's one-file copy."""
    return folder / f"{table}.parquet"


def duckdb_count_script(copy: Path) -> str:
    """Python for `python -c`: COUNT_SQL on the one-file copy of listings, printed."""
    target = str(copy).replace("'", "''")
    return (
        "import duckdb\n"
        "con = duckdb.connect()\n"
        f"con.execute(\"create view listings as select * from read_parquet('{target}')\")\n"
        f"print(con.sql({COUNT_SQL!r}).fetchall()[0])\n"
    )


def _copy(lake: Path, out: Path) -> dict[str, object]:
    """One Parquet file per table with every row a glob over the lake's table sees."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    rows: dict[str, int] = {}
    start = time.perf_counter()
    for table in TABLES:
        glob = str(lake / table / "**" / "*.parquet").replace("'", "''")
        target = str(copy_path(out, table)).replace("'", "''")
        source = f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"
        con.execute(f"COPY (SELECT * FROM {source}) TO '{target}' (FORMAT parquet)")
        rows[table] = con.sql(f"SELECT count(*) FROM read_parquet('{target}')").fetchall()[0][0]
    return {"seconds": time.perf_counter() - start, "rows": rows}


def _sql(lake: Path) -> dict[str, object]:
    """`listings sql COUNT_SQL --lake LAKE` in this process, timed after the imports."""
    from pipeline import cli

    buffer = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(buffer):
        code = cli.main(["sql", COUNT_SQL, "--lake", str(lake), "--format", "csv"])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"listings sql exited {code}")
    return {"seconds": seconds, "result": buffer.getvalue().strip().splitlines()[-1]}


def _duckdb_count(copies: Path) -> dict[str, object]:
    """COUNT_SQL on the one-file copy, in this process, timed after `import duckdb`.

    The same statements as `duckdb_count_script`, which the kit runs in a fresh process.
    """
    import duckdb

    target = str(copy_path(copies, "listings")).replace("'", "''")
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"create view listings as select * from read_parquet('{target}')")
    result = con.sql(COUNT_SQL).fetchall()[0]
    return {"seconds": time.perf_counter() - start, "result": str(result)}


def _warehouse_floor(copies: Path, in_memory: bool) -> dict[str, object]:
    from benchmarks.warehouse_floor import run_warehouse_floor

    start = time.perf_counter()
    floor = run_warehouse_floor(
        copy_path(copies, "listings"), copy_path(copies, "snapshots"), in_memory=in_memory
    )
    result = {"seconds": time.perf_counter() - start}
    result.update({k: v for k, v in vars(floor).items() if isinstance(v, int | float | str | dict)})
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._child")
    parser.add_argument(
        "job",
        choices=(
            "floor", "baseline", "stages", "forms", "copy", "sql", "duckdb-count",
            "warehouse-floor",
        ),
    )  # fmt: skip
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, help="output folder (baseline, stages, copy)")
    parser.add_argument("--batch-bytes", type=int, help="floor, baseline, stages, forms")
    parser.add_argument(
        "--in-memory", action="store_true", help="warehouse-floor: tables in memory, no file"
    )
    args = parser.parse_args(argv)
    result: dict[str, object]
    if args.job == "floor":
        from benchmarks.floor import run_floor

        floor = run_floor(_page_files(args.folder, PAGE_SUFFIXES), args.batch_bytes)
        result = {
            "seconds": floor.seconds,
            "regex_seconds": floor.regex_seconds,
            "listings": floor.listings,
        }
    elif args.job == "baseline":
        from benchmarks.baseline_re import run_baseline

        baseline = run_baseline(_page_files(args.folder), args.out, args.batch_bytes)
        result = {
            "seconds": baseline.seconds,
            "listings": baseline.listings,
            "rejects": baseline.rejects,
        }
    elif args.job == "stages":
        from benchmarks.stages import run_stages

        start = time.perf_counter()
        stages, listings = run_stages(_page_files(args.folder), args.out, args.batch_bytes)
        result = {
            "seconds": time.perf_counter() - start,
            "stages": stages,
            "listings": listings,
        }
    elif args.job == "forms":
        from benchmarks.stages import run_form_stages
        from pipeline.ingest import sources

        parts, listings = run_form_stages(sources.discover([args.folder]), args.batch_bytes)
        result = {"seconds": parts["total"], "parts": parts, "listings": listings}
    elif args.job == "copy":
        result = _copy(args.folder, args.out)
    elif args.job == "sql":
        result = _sql(args.folder)
    elif args.job == "duckdb-count":
        result = _duckdb_count(args.folder)
    else:
        result = _warehouse_floor(args.folder, args.in_memory)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
