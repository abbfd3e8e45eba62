"""The lake's manifest: which snapshots the lake holds, and in which group of files.

`LAKE/_manifest/manifest.parquet` plus part files (`commit`, merged by `merge_parts`): one
row per committed snapshot file naming its group (`data_file`). Readers take their file
lists from it (`committed_files`); files it does not name are deleted by `prune`. Beside
the commits lives a run's state: a full refresh's staging (`reset`, `switch_refresh`,
`roll_back_refresh`) and `titles-pending`. Why: docs/lake.md, "The manifest is the truth"
and "Crashes".
"""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from pathlib import Path

import polars as pl

from pipeline.errors import LakeError, NotALakeError, OldLayoutError
from pipeline.lake import layout
from pipeline.lake.storage import LakeLike, Location
from pipeline.vocab import TABLES

DIRNAME = "_manifest"
SCHEMA = {
    "content_sha256": pl.String,
    "source_path": pl.String,
    "byte_count": pl.Int64,
    "mtime_ns": pl.Int64,
    "snapshot_id": pl.String,
    "fetched_date": pl.String,
    "listing_count": pl.Int64,
    "reject_count": pl.Int64,
    "data_file": pl.String,
    "schema_version": pl.Int32,  # layout.SCHEMA_VERSION of the group's files
    # When the row was committed (ns since the epoch; null in manifests written before it
    # was recorded): which groups a crashed run committed (see `titles_pending_since`).
    "committed_ns": pl.Int64,
}


class ManifestUnreadableError(LakeError):
    """A manifest file cannot be read: the lake no longer knows which files it holds.

    `reason` is what reading it said (`verify` names it beside the file)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ManifestChangedError(LakeError):
    """A manifest file went between being listed and being read: a writer merged or
    replaced it. The lake is healthy; `load` lists the files again."""


def path(lake: Location) -> str:
    return lake.path(DIRNAME, "manifest.parquet")


PART_PREFIX = "part-"
PARTS_KEPT = 16  # parts a run leaves unmerged: each costs readers one small file read
KEY = ["snapshot_id", "source_path"]


def _parts(where: Location) -> list[str]:
    """Committed batches not merged into manifest.parquet yet, oldest first."""
    return where.glob(where.path(DIRNAME, f"{PART_PREFIX}*.parquet"))


def files(where: Location) -> list[str]:
    """Every file of the manifest: manifest.parquet (if any), then the parts in commit order."""
    base = path(where)
    return ([base] if where.exists(base) else []) + _parts(where)


def read_file(where: Location, file: str) -> pl.DataFrame:
    """One manifest file's rows (`ManifestUnreadableError` if it is damaged): for checking
    each on its own (`pipeline.lake.verify`)."""
    return _read(where, file)


# Manifest files already parsed, by their bytes' digest: a run loads the manifest several
# times (plan, titles, compaction, fingerprint), and parsing its files is most of a small
# daily run's manifest work. Keyed by content, never by name or mtime, so a rewritten file
# is always parsed again.
_PARSED: dict[bytes, pl.DataFrame] = {}
_PARSED_KEPT = 64


def _read(where: Location, file: str) -> pl.DataFrame:
    """One manifest file's rows; `ManifestChangedError` if it is gone (a writer merged it
    since it was listed), `ManifestUnreadableError` if it cannot be read or is damaged
    (truncated, not Parquet, columns missing or of another type), never a traceback."""
    name = file.removeprefix(where.root + "/")
    try:
        data = where.read_bytes(file)
    except FileNotFoundError:
        raise ManifestChangedError(
            f"{where.url}: the manifest file {name} went while it was being read (a run "
            "merged the manifest meanwhile): the lake is fine, read it again"
        ) from None
    except OSError as error:
        reason = _first_line(error)
        raise ManifestUnreadableError(
            f"{where.url}: the manifest file {name} cannot be read ({reason})", reason
        ) from None
    digest = hashlib.blake2b(data, digest_size=20).digest()
    if digest in _PARSED:
        return _PARSED[digest]
    try:
        frame = _parse(data)
    except pl.exceptions.PolarsError as error:
        raise _damaged(where, name, _first_line(error)) from None
    foreign = frame.filter(~pl.col("data_file").str.contains(layout.DATA_FILE).fill_null(False))
    if not foreign.is_empty():
        # A hand edit (`../listings/…`) would have readers open files outside the table.
        found = foreign["data_file"][0]
        raise _damaged(where, name, f"data_file {found!r} is no name the lake writes")
    if len(_PARSED) >= _PARSED_KEPT:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[digest] = frame
    return frame


def _damaged(where: Location, name: str, reason: str) -> ManifestUnreadableError:
    return ManifestUnreadableError(
        f"{where.url}: the manifest file {name} is damaged ({reason}), so the lake no "
        f"longer knows which files it holds. `listings verify {where.url}` shows what "
        f"else is; `listings normalise PATH… --out {where.url} --full-refresh` starts "
        "the lake over from the inputs under PATH…: the manifest is set aside and every "
        "data file deleted, so snapshots whose input files are gone are lost",
        reason,
    )


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _parse(data: bytes) -> pl.DataFrame:
    """A manifest file's bytes as rows of `SCHEMA` (columns older versions lacked added)."""
    frame = pl.read_parquet(io.BytesIO(data))
    if "data_file" not in frame.columns:  # written before the batch layout existed
        frame = frame.with_columns(pl.col("snapshot_id").alias("data_file"))
    if "schema_version" not in frame.columns:  # written before versions were recorded
        frame = frame.with_columns(pl.lit(1, pl.Int32).alias("schema_version"))
    if "committed_ns" not in frame.columns:  # written before commit times were recorded
        frame = frame.with_columns(pl.lit(None, pl.Int64).alias("committed_ns"))
    return frame.select(list(SCHEMA)).cast(SCHEMA)  # type: ignore[arg-type]


# Times `load` lists the manifest's files again when one went before it was read.
READ_ATTEMPTS = 5


def load(lake: Location) -> pl.DataFrame:
    """The committed rows (merged manifest and parts), or an empty manifest for a new lake.

    In no particular order: `merge_parts` sorts what it writes. Parts hold a few rows each,
    so they are applied as an update of the merged manifest's rows (a later commit wins)
    rather than by de-duplicating the whole manifest.

    Readers do not hold the lake's lock, so a run's merge may delete parts between their
    listing and their reading: then the files are listed and read again (the merged
    manifest holds their rows by then), up to `READ_ATTEMPTS` times.
    """
    attempt = 1
    while True:
        try:
            return _load(lake)
        except ManifestChangedError:
            if attempt == READ_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)  # a merge deletes its parts one by one: let it end
            attempt += 1


def _load(lake: Location) -> pl.DataFrame:
    base = [path(lake)] if lake.exists(path(lake)) else []
    parts = _parts(lake)
    if not base and not parts:
        return pl.DataFrame(schema=SCHEMA)
    committed = _read(lake, base[0]) if base else pl.DataFrame(schema=SCHEMA)
    if not parts:
        return committed
    updates = pl.concat([_read(lake, part) for part in parts]).unique(
        KEY, keep="last", maintain_order=True
    )
    return pl.concat([committed.join(updates, on=KEY, how="anti"), updates])


def require_lake(lake: LakeLike) -> Location:
    """The lake's location; `NotALakeError` if it has no manifest folder (a typo, or
    nothing normalised there yet), for commands that read a lake rather than create one."""
    where = Location.of(lake)
    if not where.exists(where.path(DIRNAME)):
        raise NotALakeError(
            f"{where.url} is not a lake: it has no {DIRNAME}/ folder (write one with "
            f"`listings normalise PATH --out {where.url}`)"
        )
    return where


def committed_files(lake: LakeLike) -> dict[str, list[str]]:
    """Every table's committed data files, as URIs DuckDB and polars open (see docs/lake.md).

    Readers bound to this list never see a crashed run's files or a compaction's leftovers,
    and never list a folder. Raises `NotALakeError` where there is no lake, and
    `OldLayoutError` for a lake still in a pre-monthly layout.
    """
    where = require_lake(lake)
    return files_of(where, load(where))


def files_of(where: Location, committed: pl.DataFrame) -> dict[str, list[str]]:
    """`committed_files` from manifest rows the caller has loaded (`load`)."""
    if layout_of(committed) not in (None, layout.LAYOUT):
        raise OldLayoutError(
            f"{where.url} is in the old per-day layout: convert it once with "
            f"`listings compact --lake {where.url}` (or any `listings normalise` into it)"
        )
    outdated = committed.filter(pl.col("schema_version") < layout.SCHEMA_VERSION)
    if not outdated.is_empty():
        missing = layout.additions_since(outdated["schema_version"].min())
        raise OldLayoutError(
            f"{where.url} holds {outdated['data_file'].n_unique()} groups of files written "
            f"by an older version of listings (without {missing}): upgrade it once with "
            f"`listings compact --lake {where.url}` (or any `listings normalise` into it)"
        )
    groups = sorted(committed["data_file"].unique().to_list())
    return {
        table: [where.uri(where.path(table, f"{group}.parquet")) for group in groups]
        for table in TABLES
    }


def layout_of(committed: pl.DataFrame) -> str | None:
    """The lake's layout as its manifest shows it; None for a lake with nothing committed.

    `layout.LAYOUT` names groups by their month folder (`fetched_month=…/name`); older lakes
    named a per-day file by snapshot id (`snapshot`) or batch (`batch`), under
    `fetched_date=YYYY-MM-DD/` folders.
    """
    if committed.is_empty():
        return None
    names = committed["data_file"]
    if bool(names.str.starts_with(f"{layout.PARTITION}=").all()):
        return layout.LAYOUT
    return "batch" if bool(names.str.starts_with(layout.BATCH_PREFIX).any()) else "snapshot"


def data_paths(committed: pl.DataFrame) -> set[str]:
    """Every data file the manifest names, relative to the lake, in whichever layout."""
    if committed.is_empty():
        return set()
    monthly = pl.col("data_file").str.starts_with(f"{layout.PARTITION}=")
    stem = (
        pl.when(monthly)
        .then(pl.col("data_file"))
        .otherwise(pl.format("fetched_date={}/{}", "fetched_date", "data_file"))
    )
    stems = committed.select(stem.unique())["data_file"].to_list()
    return {f"{table}/{s}.parquet" for table in TABLES for s in stems}


def rows_for(snapshots_read: pl.DataFrame, snapshots: pl.DataFrame, name: str) -> pl.DataFrame:
    """Manifest rows for a group that has just been written (read frame + snapshots table).

    One row per file read, so a second file holding a snapshot already in the group (a
    copy, or the same file by another path) is recorded too and skipped by the next run.
    `name` is the group's; each snapshot's `data_file` adds the folder of its month.
    """
    at = pl.col("fetched_at")
    return snapshots_read.select(
        "snapshot_id", "content_sha256", "source_path", "byte_count", "mtime_ns"
    ).join(
        snapshots.select(
            "snapshot_id",
            layout.day(at).cast(pl.String).alias("fetched_date"),
            "listing_count",
            "reject_count",
            layout.data_file_of(layout.month(at), name).alias("data_file"),
            pl.lit(layout.SCHEMA_VERSION, pl.Int32).alias("schema_version"),
            pl.lit(None, pl.Int64).alias("committed_ns"),  # stamped by `commit`
        ),
        on="snapshot_id",
    )


def row_counts(committed: pl.DataFrame) -> dict[str, int]:
    """Rows per lake table, from the manifest (`load`): no need to open any data file.

    The manifest records each committed snapshot's listing and reject counts; a snapshot
    seen under two file names is counted once, as the lake holds it once.
    """
    committed = committed.unique("snapshot_id")
    return {
        "snapshots": committed.height,
        "listings": int(committed["listing_count"].sum()),
        "rejects": int(committed["reject_count"].sum()),
    }


def commit(lake: Location, rows: pl.DataFrame, *, staged: bool = False) -> None:
    """Add a batch's rows (after its data files are written), as one atomic part file.

    Part names sort in commit order (nanosecond clock first), so `load` lets a later
    commit win; the random tail keeps two writers from ever sharing a name. Every row is
    stamped with the commit's time (`committed_ns`). `staged`: a full refresh's commit,
    invisible to readers until `switch_refresh`. A lake's first commit gives it a history
    token (`history`) if it has none, so a lake started over in the same folder never
    shares one with what was derived from the old lake.
    """
    if not lake.exists(lake.path(DIRNAME, _HISTORY)):
        rewrite_history(lake)
    now = time.time_ns()
    frame = (
        rows.with_columns(pl.lit(now, pl.Int64).alias("committed_ns"))
        .select(list(SCHEMA))
        .cast(SCHEMA)  # type: ignore[arg-type]
        .sort(KEY)
    )
    name = f"{PART_PREFIX}{now:020d}-{uuid.uuid4().hex[:8]}.parquet"
    folder = (DIRNAME, REFRESH_DIRNAME) if staged else (DIRNAME,)
    layout.write_parquet(lake, frame, lake.path(*folder, name))


def merge_parts(
    lake: Location, *, more_than: int = 0, committed: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Merge the part files into manifest.parquet (written atomically, sorted), then drop
    them, once there are more than `more_than`; return the committed rows (`load`'s, or
    `committed` if the caller has just loaded them)."""
    parts = _parts(lake)
    committed = load(lake) if committed is None else committed
    if len(parts) <= more_than:
        return committed
    committed = committed.sort(KEY)
    layout.write_parquet(lake, committed, path(lake))
    for part in parts:
        lake.remove(part)
    return committed


def replace(lake: Location, rows: pl.DataFrame) -> None:
    """Make `rows` the whole manifest in one atomic write (a layout conversion's commit).

    Parts must be merged first: they load after manifest.parquet, so a leftover part's
    older rows would win over the new ones.
    """
    if _parts(lake):
        raise RuntimeError("manifest.replace with unmerged parts: call merge_parts first")
    rewrite_history(lake)
    frame = rows.select(list(SCHEMA)).cast(SCHEMA).sort(KEY)  # type: ignore[arg-type]
    layout.write_parquet(lake, frame, path(lake))


# A full refresh commits here (`commit(staged=True)`) until `switch_refresh` makes its rows
# the whole manifest in one write; until then readers, and a crash, see the lake as it was.
REFRESH_DIRNAME = "refresh"
_REFRESH_MARKER = "started"


def _staged_parts(lake: Location) -> list[str]:
    return lake.glob(lake.path(DIRNAME, REFRESH_DIRNAME, f"{PART_PREFIX}*.parquet"))


def refresh_started(lake: Location) -> bool:
    """Whether a full refresh has begun and not switched or been rolled back: a crashed one
    when no run holds the lock."""
    marker = lake.path(DIRNAME, REFRESH_DIRNAME, _REFRESH_MARKER)
    return lake.exists(marker) or bool(_staged_parts(lake))


def reset(lake: Location) -> None:
    """Begin a full refresh: from now on the run commits into the refresh's staging area.

    The committed manifest and its files stay as they are, for readers and for a crash,
    until `switch_refresh`; a refresh that never gets there is undone by
    `roll_back_refresh`. Any earlier refresh's staging is discarded first.
    """
    roll_back_refresh(lake)
    marker = lake.path(DIRNAME, REFRESH_DIRNAME, _REFRESH_MARKER)
    lake.write_atomic(marker, str(time.time_ns()).encode())


def load_staged(lake: Location) -> pl.DataFrame:
    """The rows a full refresh has committed so far (a later commit wins)."""
    parts = _staged_parts(lake)
    if not parts:
        return pl.DataFrame(schema=SCHEMA)
    return pl.concat([_read(lake, part) for part in parts]).unique(
        KEY, keep="last", maintain_order=True
    )


def switch_refresh(lake: Location) -> pl.DataFrame:
    """Make a full refresh's rows the whole manifest, in one atomic write; return them.

    The committed parts are folded into manifest.parquet first (that changes nothing a
    reader sees), so the switch is the single write of manifest.parquet: a crash before it
    leaves the old lake, after it the new one. The staging goes after the switch; a crash
    before that is tidied by `roll_back_refresh`, which then finds nothing to undo.
    """
    staged = load_staged(lake)
    merge_parts(lake)
    replace(lake, staged)
    _drop_staging(lake)
    return staged


def roll_back_refresh(lake: Location) -> int | None:
    """Undo a full refresh that did not switch: drop its staged commits (its files are then
    named by nothing, and the next prune deletes them). Returns how many snapshots it had
    staged (0 if it staged none, or had switched already and only its staging was left),
    None if no refresh had begun."""
    if not refresh_started(lake):
        return None
    staged = load_staged(lake)
    switched = False
    if not staged.is_empty():
        columns = ["snapshot_id", "source_path", "data_file"]
        live = load(lake).select(columns).sort(columns)
        switched = live.equals(staged.select(columns).sort(columns))
    _drop_staging(lake)
    return 0 if switched else staged["snapshot_id"].n_unique()


def _drop_staging(lake: Location) -> None:
    """Parts first, the marker last: a crash in between still shows a refresh to undo."""
    for part in _staged_parts(lake):
        lake.remove(part)
    lake.remove(lake.path(DIRNAME, REFRESH_DIRNAME, _REFRESH_MARKER))


def prune(lake: Location, keep: set[str]) -> int:
    """Delete data files that are not in `keep` (paths relative to the lake); how many.

    A file the manifest names, or a full refresh's staged commits, is never deleted,
    whatever `keep` says: a full refresh keeps the lake it replaces until its switch
    (docs/lake.md, "Crashes"), and no caller's stale view may cost committed rows. Empty
    partition folders go too (local lakes: object stores have no folders).
    """
    keep = keep | data_paths(load(lake)) | data_paths(load_staged(lake))
    root = lake.path("")
    stale = [
        file
        for table in TABLES
        for file in layout.table_files(lake, table)
        if file.removeprefix(root) not in keep
    ]
    for file in stale:
        lake.remove(file)
    if lake.is_local:
        for table in TABLES:
            top = Path(lake.path(table))
            for folder in sorted(top.glob("*=*"), reverse=True) if top.is_dir() else []:
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
    return len(stale)


def remove_temporary(lake: Location) -> int:
    """Delete the temporary files of manifest writes that died (`storage.write_atomic`
    names them `.<name>.<random>.tmp`); how many. Readers never look at them, but nothing
    else would ever delete them. The caller holds the lake's lock."""
    stale = [
        *lake.glob(lake.path(DIRNAME, ".*.tmp")),
        *lake.glob(lake.path(DIRNAME, REFRESH_DIRNAME, ".*.tmp")),
    ]
    for file in stale:
        lake.remove(file)
    return len(stale)


def set_aside(lake: Location) -> str:
    """Move every manifest file into `_manifest/unreadable-<time>/` (kept for inspection,
    never read again): a full refresh over an unreadable manifest starts the lake over.
    Returns the folder, relative to the lake."""
    folder = f"{DIRNAME}/unreadable-{time.time_ns()}"
    for file in [path(lake), *_parts(lake)]:
        if lake.exists(file):
            name = file.rsplit("/", 1)[-1]
            lake.write_atomic(lake.path(folder, name), lake.read_bytes(file))
            lake.remove(file)
    _drop_staging(lake)
    return folder


# A run that commits groups writes this first and deletes it once their titles are resolved
# (pipeline.run.titles): a crash in between leaves it, and the next run resolves the titles
# of every group committed since (docs/lake.md, "Crashes").
_TITLES_PENDING = "titles-pending"


def titles_pending_since(lake: Location) -> int | None:
    """When the earliest run whose titles are not resolved yet started (ns), or None."""
    marker = lake.path(DIRNAME, _TITLES_PENDING)
    if not lake.exists(marker):
        return None
    text = lake.read_bytes(marker).decode(errors="replace").strip()
    return int(text) if text.isdigit() else 0  # unreadable: every group is due


def mark_titles_pending(lake: Location) -> int:
    """Say that this run is about to commit groups whose titles it resolves at its end; an
    earlier crashed run's mark is kept (its groups are still due). Returns the mark."""
    since = titles_pending_since(lake)
    if since is None:
        since = time.time_ns()
        lake.write_atomic(lake.path(DIRNAME, _TITLES_PENDING), str(since).encode())
    return since


def titles_resolved(lake: Location) -> None:
    """Every group committed since the mark has its titles: forget the mark."""
    lake.remove(lake.path(DIRNAME, _TITLES_PENDING))


def groups_committed_since(committed: pl.DataFrame, since: int) -> list[str]:
    """The groups holding rows committed at or after `since` (ns), sorted."""
    recent = committed.filter(pl.col("committed_ns") >= since)
    return sorted(recent["data_file"].unique().to_list())


# The lake's history token: a random name, replaced *before* anything rewrites rows already
# committed (a full refresh's switch, a conversion or upgrade, titles learned for older
# groups), so a reader that keeps a derived copy of the lake (the warehouse, the title
# catalogue) can tell "rows were only added since I read it" from "history changed". A merge
# of groups (compaction) moves rows without changing them and keeps the token.
_HISTORY = "history"


def history(lake: Location) -> str:
    """The lake's history token ('' for a lake with nothing committed yet, or committed by a
    version of listings that gave no token before rows were rewritten)."""
    marker = lake.path(DIRNAME, _HISTORY)
    if not lake.exists(marker):
        return ""
    return lake.read_bytes(marker).decode(errors="replace").strip()


def rewrite_history(lake: Location) -> str:
    """Say that committed rows are about to change: a new history token. Returns it."""
    token = uuid.uuid4().hex
    lake.write_atomic(lake.path(DIRNAME, _HISTORY), token.encode())
    return token


def fingerprint(committed: pl.DataFrame) -> str:
    """A digest of what the manifest commits (rows in key order, commit times aside): equal
    digests, equal lakes for readers bound to the manifest. A warehouse records the one it
    was built from, so a run can tell whether it still describes the lake."""
    columns = [name for name in SCHEMA if name != "committed_ns"]
    rows = committed.select(columns).sort(KEY).hash_rows(seed=0)
    return hashlib.sha256(" ".join(map(str, rows.to_list())).encode()).hexdigest()[:32]


def scan(lake: LakeLike, table: str) -> pl.LazyFrame:
    """A table as the manifest committed it, for notebooks: `scan("data/lake", "listings")`.

    Unlike a glob, it never shows a crashed run's files or a compaction's leftovers.
    """
    files = committed_files(lake)[table]
    if not files:
        return pl.LazyFrame(schema={**layout.file_schema(table), layout.PARTITION: pl.String})
    return pl.scan_parquet(files, hive_partitioning=True)
