"""Options several `listings` commands share, defined once so they read the same everywhere."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline import config
from pipeline.errors import OutputPathError

if TYPE_CHECKING:  # `source` imports it when an argument is parsed: --help never pays for it
    from pipeline.ingest.sources import Source

# A parser or an argument group: both have add_argument.
Adder = argparse.ArgumentParser | argparse._ArgumentGroup


def positive_int(value: str) -> int:
    """An argparse type: a whole number above zero (a count or a size, never 0 or less)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value!r}")
    return number


def positive_float(value: str) -> float:
    """An argparse type: a number above zero (a size in MB)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0: {value!r}")
    return number


def _known_protocol(text: str) -> str:
    """`text` if it is a local path or an fsspec URL whose every protocol fsspec can open.

    Checked at parse time, so a typo (`s4://…`) or a missing package (`gcs://` without
    gcsfs) is a message before anything starts, never a traceback mid-run.
    """
    if "://" not in text:
        return text
    import fsspec  # only for URLs: local paths never pay for it
    from fsspec.core import split_protocol

    for link in text.split("::"):
        protocol = split_protocol(link)[0]
        if protocol is None:
            continue
        try:
            fsspec.get_filesystem_class(protocol)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"unknown protocol {protocol!r} in {text!r} (a folder, or an fsspec URL such "
                "as s3://bucket/lake)"
            ) from None
        except ImportError as error:
            raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None
    return text


def timestamp(value: str) -> datetime:
    """An ISO 8601 time given as an option (`--fetched-at`, `--now`), as aware UTC."""
    from pipeline.ingest import metadata

    try:
        return metadata.parse_timestamp(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {value!r} (e.g. 2026-11-20T09:30:00Z)"
        ) from None


def lake_location(text: str) -> str:
    """An argparse type for a lake: a folder or an fsspec URL with a known protocol."""
    return _known_protocol(text)


def source(text: str) -> Source:
    """An argparse type for an input file or folder: a path or an fsspec URL."""
    from pipeline.ingest import sources

    return sources.as_source(_known_protocol(text))


def _croniter() -> ModuleType:
    """The croniter that Prefect schedules with (vendored in Prefect), loaded on its own.

    Importing `prefect` would fix its settings before `flows.serve` sets PREFECT_API_URL,
    so the vendored module is loaded from its file; it needs only pytz and dateutil.
    """
    found = importlib.util.find_spec("prefect")
    assert found is not None and found.submodule_search_locations  # a dependency
    path = Path(found.submodule_search_locations[0], "_vendor", "croniter", "croniter.py")
    spec = importlib.util.spec_from_file_location("_listings_croniter", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cron(value: str) -> str:
    """An argparse type: a cron expression Prefect accepts (its `validate_cron_string`).

    Checked at parse time: `listings serve` would otherwise start a Prefect server first
    and fail inside it. Prefect refuses croniter's random and hashed forms (R, H) too.
    """
    if not _croniter().croniter.is_valid(value) or any(
        field.casefold() in ("r", "h") for field in value.split()
    ):
        raise argparse.ArgumentTypeError(
            f'not a cron expression: {value!r} (five fields, e.g. "0 * * * *" for hourly)'
        )
    return value


def refuse_folder(path: Path | None, option: str) -> None:
    """Raise `errors.OutputPathError` when the file an option names is a folder.

    A file written beside itself under a temporary name and renamed would otherwise put the
    temporary file in the folder's parent (`/` for a top-level folder) and then fail.
    """
    if path is not None and path.is_dir():
        raise OutputPathError(f"{option} {path} is a folder: give a file path")


def refuse_output(
    path: Path | None, option: str, *, db: Path | None = None, lakes: Sequence[str] = ()
) -> None:
    """Raise `errors.OutputPathError` unless a command may write the file `option` names: not
    a folder (`refuse_folder`), not the warehouse `db` (built or not yet), not any other
    DuckDB database, and not inside a lake (one of `lakes`, which may not exist yet, or any
    folder above the path holding a lake's `_manifest/`): files there are the lake's.
    """
    if path is None:
        return
    refuse_folder(path, option)
    from pipeline.lake.manifest import DIRNAME  # polars: only for commands that write files
    from pipeline.warehouse.database import is_duckdb_file  # duckdb, likewise

    target = path.expanduser().resolve()
    replaces = "writing there would replace it, so nothing was written; give another path"
    if db is not None and target == db.expanduser().resolve():
        raise OutputPathError(f"{option} {path} is the warehouse (--db {db}): {replaces}")
    if is_duckdb_file(target):
        raise OutputPathError(f"{option} {path} is a DuckDB database: {replaces}")
    named = {Path(lake).expanduser().resolve(): lake for lake in lakes if "://" not in lake}
    for folder in target.parents:
        if folder in named or (folder / DIRNAME).is_dir():
            raise OutputPathError(
                f"{option} {path} is inside the lake {named.get(folder, folder)}: a lake holds "
                "only the files its manifest names, so nothing was written; give a path "
                "outside it"
            )


def refuse_file_as_lake(lake: str, option: str) -> None:
    """Raise `errors.OutputPathError` when a local lake path is an existing file."""
    if "://" not in lake and Path(lake).exists() and not Path(lake).is_dir():
        raise OutputPathError(f"{option} {lake} is a file, not a lake folder: give a folder")


def add_db(parser: Adder, what: str) -> None:
    """`--db PATH`, the warehouse file (default data/warehouse.duckdb)."""
    parser.add_argument(
        "--db",
        type=Path,
        default=config.DEFAULT_DB,
        metavar="PATH",
        help=f"{what} (default: %(default)s)",
    )


def add_db_or_lake(parser: argparse.ArgumentParser, db: str, lake: str) -> None:
    """`--db PATH` or `--lake DIR` (a folder or fsspec URL), never both: what a command reads."""
    target = parser.add_mutually_exclusive_group()
    add_db(target, db)
    target.add_argument("--lake", type=lake_location, metavar="DIR", help=lake)


def storage_version(value: str) -> str:
    """An argparse type: a DuckDB storage version ('v1.3.0', 'latest'), checked by DuckDB
    (imported only when the option is given)."""
    from pipeline.errors import ListingsError
    from pipeline.warehouse import files

    try:
        return files.check_storage_version(value)
    except ListingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_target_path(parser: Adder) -> None:
    """`--target-path DIR`: where a build writes run_results.json and manifest.json."""
    parser.add_argument(
        "--target-path",
        type=Path,
        metavar="DIR",
        help="folder the build writes its run_results.json and manifest.json into, in dbt's "
        "shape (default: target/ beside the warehouse file; the warehouse keeps a copy: "
        'docs/warehouse.md, "Run artifacts")',
    )


def target_path_set(folder: Path | None) -> contextlib.AbstractContextManager[None]:
    """Within the block, `folder` (`--target-path`) is where every build the command runs
    writes its artifacts (set in the environment, where the flow's build reads it)."""
    return config.environment_set(config.TARGET_PATH_ENV, str(folder) if folder else None)


def add_storage_version(parser: Adder) -> None:
    """`--storage-version VERSION`: the DuckDB storage format of a new warehouse file."""
    parser.add_argument(
        "--storage-version",
        type=storage_version,
        metavar="VERSION",
        help="DuckDB storage format to write a new warehouse file in, named by the oldest "
        "DuckDB release to open it (v1.2.0), or latest for DuckDB's newest; a warehouse in "
        "another format is rebuilt whole (default: "
        f"${config.STORAGE_VERSION_ENV}, else {config.STORAGE_VERSION}: DuckDB 1.3 and later "
        "open it; v1.0.0 for DuckDB 1.0 to 1.2, ~31 %% larger; docs/warehouse.md)",
    )


def storage_version_set(version: str | None) -> contextlib.AbstractContextManager[None]:
    """Within the block, `version` (`--storage-version`) is the storage version of every
    warehouse file the command writes: set in the environment (`config.STORAGE_VERSION_ENV`),
    where the run's build, which the flow calls too, reads it; restored after."""
    return config.environment_set(config.STORAGE_VERSION_ENV, version)


def add_report(parser: Adder, what: str) -> None:
    """`--report FILE`, the HTML report a flow run writes; `report_path` gives its default."""
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help=f"{what} (default: report.html beside --db, so each warehouse has its own; not "
        "the --db itself, another DuckDB database or a file inside a lake)",
    )


def report_path(report: Path | None, db: Path) -> Path:
    """The report a run writes: `--report`, else report.html beside the warehouse."""
    return report if report is not None else db.with_name("report.html")


def add_lake(parser: Adder) -> None:
    """`--lake DIR`, the lake: a folder or an fsspec URL (default data/lake)."""
    parser.add_argument(
        "--lake",
        type=lake_location,
        default=str(config.DEFAULT_LAKE),
        metavar="DIR",
        help="lake folder or fsspec URL such as s3://bucket/lake (default: %(default)s)",
    )


def add_paths(parser: Adder) -> None:
    """Snapshot files or folders, local or fsspec URLs; the committed samples by default."""
    parser.add_argument(
        "paths",
        nargs="*",
        type=source,
        default=[config.DEFAULT_RAW],
        metavar="PATH",
        help=f"snapshot files or folders, local or fsspec URLs (default: {config.DEFAULT_RAW})",
    )


def add_batch_mb(parser: Adder, what: str) -> None:
    """`--batch-mb MB`: input is processed in batches of about this many MB of files."""
    parser.add_argument(
        "--batch-mb",
        type=positive_int,
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
        type=positive_int,
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
    from pipeline.ingest.metadata import site_name

    return site_name(site) or site, zone


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
        type=positive_float,
        default=config.MAX_PAGE_BYTES / 2**20,
        metavar="MB",
        help="largest page to read, decompressed: a larger file or a gzip that expands past "
        "it (a gzip bomb) is stopped there and recorded as a reject "
        "(default: %(default)g MiB); a page gives at most 1001 parse rejects (adjacent "
        "ones of one reason are one; past 1000 the rest of its listings is one), so its "
        "memory grows with its size, not its junk",
    )
