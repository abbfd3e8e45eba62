"""Options several `listings` commands share, defined once so they read the same everywhere."""

from __future__ import annotations

import argparse
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline import config
from pipeline.ingest import sources

# A parser or an argument group: both have add_argument.
Adder = argparse.ArgumentParser | argparse._ArgumentGroup


def add_db(parser: Adder, what: str) -> None:
    """`--db PATH`, the warehouse file (default data/warehouse.duckdb)."""
    parser.add_argument(
        "--db",
        type=Path,
        default=config.DEFAULT_DB,
        metavar="PATH",
        help=f"{what} (default: %(default)s)",
    )


def add_report(parser: Adder, what: str) -> None:
    """`--report FILE`, the HTML report a flow run writes; `report_path` gives its default."""
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help=f"{what} (default: report.html beside --db, so each warehouse has its own)",
    )


def report_path(report: Path | None, db: Path) -> Path:
    """The report a run writes: `--report`, else report.html beside the warehouse."""
    return report if report is not None else db.with_name("report.html")


def add_lake(parser: Adder) -> None:
    """`--lake DIR`, the lake: a folder or an fsspec URL (default data/lake)."""
    parser.add_argument(
        "--lake",
        default=str(config.DEFAULT_LAKE),
        metavar="DIR",
        help="lake folder or fsspec URL such as s3://bucket/lake (default: %(default)s)",
    )


def add_paths(parser: Adder) -> None:
    """Snapshot files or folders, local or fsspec URLs; the committed samples by default."""
    parser.add_argument(
        "paths",
        nargs="*",
        type=sources.as_source,
        default=[config.DEFAULT_RAW],
        metavar="PATH",
        help=f"snapshot files or folders, local or fsspec URLs (default: {config.DEFAULT_RAW})",
    )


def add_batch_mb(parser: Adder, what: str) -> None:
    """`--batch-mb MB`: input is processed in batches of about this many MB of files."""
    parser.add_argument(
        "--batch-mb",
        type=int,
        default=config.DEFAULT_BATCH_BYTES // 2**20,
        metavar="MB",
        help=f"{what} (default: %(default)s)",
    )


def add_layout(parser: Adder) -> None:
    """`--layout`, retired: accepted so existing scripts keep running, and ignored.

    Lakes have one layout now (monthly files, docs/lake.md); `layout.retired_note` says so.
    """
    parser.add_argument("--layout", default=None, help=argparse.SUPPRESS)


def add_workers(parser: Adder) -> None:
    """`--workers N`: worker processes for batches (default: this one, overlapped)."""
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run batches on N worker processes, each batch 1/N of --batch-mb so memory stays "
        "about the same (default: 1 = this process, reading the next batch and writing the "
        "last while it parses one; on 2 cores that is as fast as 2 workers with 30%% less "
        "memory: try N > 1 on machines with more cores)",
    )


def _site_time_zone(value: str) -> tuple[str, str]:
    site, _, zone = value.partition("=")
    if not site or not zone:
        raise argparse.ArgumentTypeError(
            f"expected SITE=ZONE, e.g. wenku.it=Asia/Shanghai: {value!r}"
        )
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone {zone!r} (an IANA name)") from None
    return site.lower(), zone


def add_site_tz(parser: Adder) -> None:
    """`--site-tz SITE=ZONE`, repeatable: the zone a site prints absolute upload times in."""
    parser.add_argument(
        "--site-tz",
        type=_site_time_zone,
        action="append",
        default=[],
        metavar="SITE=ZONE",
        help="time zone a site prints absolute upload times in (DocHub's YYYY-MM-DD HH:MM), "
        f"e.g. wenku.it=Asia/Shanghai; repeatable (default for every site: "
        f"{config.DEFAULT_SITE_TIME_ZONE})",
    )


def add_max_page(parser: Adder) -> None:
    """`--max-page-mb N`: the largest page a run reads (decompressed)."""
    parser.add_argument(
        "--max-page-mb",
        type=float,
        default=config.MAX_PAGE_BYTES / 2**20,
        metavar="MB",
        help="largest page to read, decompressed: a larger file or a gzip that expands past "
        "it (a gzip bomb) is stopped there and recorded as a reject "
        "(default: %(default)g MiB)",
    )
