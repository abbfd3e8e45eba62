"""Where snapshot bytes live: find files below local folders or fsspec URLs, stat, read.

`Scan` finds a run's files with their sizes and mtimes; `read_files` is step 1 of
`read.read_batch`: each file's bytes, size and mtime and its sidecar's bytes. Local files
are read with os-level calls on plain path strings, object stores through fsspec
(docs/architecture.md, "The data path").
"""

from __future__ import annotations

import errno
import os
import stat as stat_mode
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pipeline.errors import InputNotFoundError
from pipeline.ingest import walk
from pipeline.ingest.walk import SIDECAR_SUFFIX

if TYPE_CHECKING:
    import fsspec
    import polars as pl

# A local file (a Path, or a plain path string), or an fsspec URL: s3://bucket/raw/page.txt
Source = Path | str


def as_source(text: str | Path) -> Source:
    """A command-line argument as a source: an fsspec URL stays a string, else a Path."""
    return text if isinstance(text, str) and "://" in text else Path(text)


def as_text(path: str) -> str:
    """A path as text a table can hold: itself, unless its name has bytes that are not
    UTF-8, which Python keeps as lone surrogates (`os.fsdecode`) and neither Parquet nor
    polars can store; those bytes are written `\\xff` instead (docs/input-format.md §3.3).
    The file is still opened by its own name: only what is recorded changes.
    """
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        pass
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # surrogates no file name gives (JSON escapes): as escapes
        return path.encode("utf-8", "backslashreplace").decode("utf-8")


def is_local(source: Source) -> bool:
    """A Path, or a plain path string (what `discover` returns for local folders)."""
    return isinstance(source, Path) or "://" not in source


def _remote(source: Source) -> tuple[fsspec.AbstractFileSystem, str] | None:
    if is_local(source):
        return None
    import fsspec  # object stores only: a local run never pays for importing it

    fs, path = fsspec.core.url_to_fs(source)
    return fs, path


class Scan:
    """Snapshot files under the given files and folders (local or fsspec URLs), with their
    sizes in bytes and modification times in ns: what `run.plan.new_files` compares.

    One pass: a local folder is listed and its snapshot files stat-ed as it goes
    (`walk.walk`), and an object store's listing already carries both facts, so
    no file is stat-ed twice. A missing path raises InputNotFoundError (a FileNotFoundError)
    at once. With
    `in_child`, local folders are walked by a child process (`walk.start`) while
    the caller goes on, until `files` or `result`.
    """

    def __init__(
        self, paths: Iterable[Source], *, in_child: bool = False, follow_links: bool = True
    ) -> None:
        self._found: dict[str, tuple[int, int]] = {}
        self._skipped: walk.Skipped = []
        folders: list[str] = []
        for source in map(as_source, paths):
            remote = _remote(source)
            if remote is not None:
                fs, root = remote
                if fs.isdir(root):
                    self._find(fs, root)
                elif fs.isfile(root):
                    self._found[str(source)] = stat(source)
                else:
                    raise InputNotFoundError(f"{source}: no such file or folder")
            elif source.is_dir():
                folders.append(os.fspath(source))
            else:  # a file, or a FIFO, device, broken link or link loop named explicitly
                try:
                    self._found[os.fspath(source)] = stat(source)
                except OSError:  # not even a name on disk: a typo, said at once
                    raise InputNotFoundError(f"{source}: no such file or folder") from None
        self._child = (
            walk.start(folders, follow_links=follow_links) if in_child and folders else None
        )
        if self._child is None:
            for folder in folders:
                walk.walk(folder, self._found, self._skipped, follow_links=follow_links)

    def _find(self, fs: fsspec.AbstractFileSystem, root: str) -> None:
        """The snapshot objects below `root` in a store, by the walk's rules: a key below a
        hidden "folder" (`raw/.git/…`) is not read, and that folder is named once."""
        hidden: set[str] = set()
        for path, info in fs.find(root, detail=True).items():
            parts = path[len(root) :].strip("/").split("/")
            name = parts[-1]
            dotted = next((i for i, part in enumerate(parts[:-1]) if part.startswith(".")), None)
            if dotted is not None:
                folder = "/".join([root.rstrip("/"), *parts[: dotted + 1]])
                if folder not in hidden:
                    hidden.add(folder)
                    self._skipped.append((walk.HIDDEN, fs.unstrip_protocol(folder)))
            elif walk.is_snapshot_name(name):
                self._found[fs.unstrip_protocol(path)] = _size_mtime(info)
            elif name.startswith(".") and walk.is_snapshot_name(name[1:] or "x"):
                self._skipped.append((walk.HIDDEN, fs.unstrip_protocol(path)))

    def files(self) -> tuple[list[str], pl.DataFrame]:
        """The files found, in no order: their paths, and one row per path in the same order
        with `source_path` (the path as text, `as_text`), `byte_count` and `mtime_ns`.

        Columns, not a row per file: a run compares 100 000s of them with the manifest.
        """
        if self._child is not None:
            walked = self._child.result()
            self._child = None
            self._skipped.extend(walked.skipped)
            if not self._found:  # one walk: no path can be found twice
                return walked.paths, _files(walked.paths, walked.sizes, walked.mtimes)
            facts = zip(walked.sizes, walked.mtimes, strict=True)
            self._found.update(zip(walked.paths, facts, strict=True))
        paths = list(self._found)
        facts = self._found.values()
        return paths, _files(paths, [size for size, _ in facts], [mtime for _, mtime in facts])

    def result(self) -> tuple[list[Source], list[int], list[int]]:
        """(paths sorted, their sizes, their mtimes in ns)."""
        paths, files = self.files()
        order = sorted(range(len(paths)), key=paths.__getitem__)
        sizes, mtimes = files["byte_count"].to_list(), files["mtime_ns"].to_list()
        return [paths[i] for i in order], [sizes[i] for i in order], [mtimes[i] for i in order]

    @property
    def skipped(self) -> walk.Skipped:
        """What the folder walks passed over, as (kind, path) sorted (after `result`), with
        paths as text (`as_text`), ready to print or store."""
        return sorted((kind, as_text(path)) for kind, path in self._skipped)

    def cancel(self) -> None:
        """Stop a child walk that is no longer wanted (the run failed before `result`)."""
        if self._child is not None:
            self._child.cancel()


def _files(paths: list[str], sizes: Iterable[int], mtimes: Iterable[int]) -> pl.DataFrame:
    # Imported here: the CLI reads its arguments through this module, before it starts the
    # walk (`walk.prestart`), and polars would delay that.
    import polars as pl

    return pl.DataFrame(
        {
            "source_path": pl.Series([as_text(path) for path in paths], dtype=pl.String),
            "byte_count": pl.Series(sizes, dtype=pl.Int64),
            "mtime_ns": pl.Series(mtimes, dtype=pl.Int64),
        }
    )


def scan(paths: Iterable[Source]) -> tuple[list[Source], list[int], list[int]]:
    """`Scan(paths).result()`: the snapshot files, sorted, with sizes and mtimes."""
    return Scan(paths).result()


def discover(paths: Iterable[Source]) -> list[Source]:
    """Snapshot files under the given files and folders (local or fsspec URLs), sorted."""
    return scan(paths)[0]


def stat(source: Source) -> tuple[int, int]:
    """(size in bytes, modification time in ns) of a local file or a remote object.

    A local name that cannot be followed (a broken link, a link loop) gives the link's own:
    a file the walk found that way is read as a reject, and its next run compares the same
    facts, so it skips it instead of recording it again.
    """
    remote = _remote(source)
    if remote is None:
        try:
            info = os.stat(source)
        except OSError:
            info = os.lstat(source)
        return info.st_size, walk.mtime_ns(info)
    fs, path = remote
    return _size_mtime(fs.info(path))


def _size_mtime(details: dict) -> tuple[int, int]:
    """(size, mtime in ns) from an fsspec info dict: stores name the time differently."""
    modified = details.get("LastModified") or details.get("mtime") or details.get("created")
    if isinstance(modified, datetime):
        mtime_ns = int(modified.timestamp() * 1e9)
    else:
        mtime_ns = int(float(modified or 0) * 1e9)
    return int(details["size"]), walk.clamp_ns(mtime_ns)


def read_bytes(source: Source) -> bytes:
    remote = _remote(source)
    if remote is None:
        return read_local(os.fspath(source))[0]
    fs, path = remote
    return bytes(fs.cat_file(path))


def file_name(source: Source) -> str:
    return source.name if isinstance(source, Path) else source.rsplit("/", 1)[-1]


# No sidecar there. A link loop is not among them: it is a sidecar that cannot be read, and
# says so in `metadata_warning`.
_MISSING_ERRNOS = (errno.ENOENT, errno.ENOTDIR, errno.EBADF)

# Non-blocking: opening a FIFO (`mkfifo x.txt`) for reading would otherwise wait forever
# for a writer, holding the lake's lock; it is refused after the open instead (it has no
# effect on regular files).
_O_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


class NotRegularFileError(OSError):
    """A FIFO, socket, device or folder where a snapshot or sidecar file was expected: not
    read."""


def _regular(fd: int, path: str) -> os.stat_result:
    info = os.fstat(fd)
    if not stat_mode.S_ISREG(info.st_mode):
        kind = "a directory" if stat_mode.S_ISDIR(info.st_mode) else "a FIFO, socket or device"
        raise NotRegularFileError(errno.EINVAL, f"not a regular file ({kind}): not read", path)
    return info


# A sidecar holds a URL and a time; more than this is no sidecar, and is not read whole.
MAX_SIDECAR_BYTES = 1 << 20
_SIDECAR_BYTES = 4095  # read in one go up to this size


def _read_fd(fd: int, expected: int, limit: int | None = None) -> bytes:
    """All bytes of an open file, in one read when it holds at most `expected` bytes.

    A regular file's read returns fewer bytes than asked only at its end, so asking for one more
    than expected and getting less is the whole file; otherwise read on until EOF, or until
    more than `limit` bytes are in (then `limit` + 1 of them are returned).
    """
    data = os.read(fd, expected + 1)
    if len(data) <= expected:
        return data
    chunks, size = [data], len(data)
    while (limit is None or size <= limit) and (chunk := os.read(fd, 1 << 20)):
        chunks.append(chunk)
        size += len(chunk)
    whole = b"".join(chunks)
    return whole if limit is None else whole[: limit + 1]


def read_local(path: str) -> tuple[bytes, int]:
    """(bytes, mtime in ns) of a local file with one open: os-level calls on a str path.

    Path objects and buffered file objects cost more than reading a page itself (figures in
    benchmarks/RESULTS.md, "Measurements behind design choices"); this is read_bytes + stat
    without them.
    """
    fd = os.open(path, _O_READ)
    try:
        info = _regular(fd, path)
        return _read_fd(fd, info.st_size), walk.mtime_ns(info)
    finally:
        os.close(fd)


def read_local_sidecar(path: str) -> bytes | None:
    """A local sidecar's bytes, or None when there is none: one open, no exists() first.

    At most `MAX_SIDECAR_BYTES` + 1 bytes are read: a larger file is not a sidecar, and
    `metadata.parse_sidecar` says so without it ever being in memory whole.
    """
    try:
        fd = os.open(path, _O_READ)
    except OSError as error:
        if error.errno in _MISSING_ERRNOS:
            return None
        raise
    try:
        _regular(fd, path)
        # A sidecar (a URL, a time) fits one read.
        return _read_fd(fd, _SIDECAR_BYTES, MAX_SIDECAR_BYTES)
    finally:
        os.close(fd)


def sidecar_bytes(source: Source) -> bytes | None:
    if is_local(source):
        return read_local_sidecar(f"{source}{SIDECAR_SUFFIX}")
    sidecar = as_source(f"{source}{SIDECAR_SUFFIX}")
    remote = _remote(sidecar)
    if remote is None or not remote[0].exists(remote[1]):
        return None
    fs, path = remote
    return bytes(fs.cat_file(path, start=0, end=MAX_SIDECAR_BYTES + 1))


class Files(NamedTuple):
    """A batch of snapshot files as `read_files` read them: a list per fact, in the paths'
    order, and the facts the read frame keeps as they are, as columns (`frame`)."""

    frame: pl.DataFrame  # source_path, byte_count, mtime_ns, read_seconds (time spent here)
    paths: list[Source]
    names: list[str]  # each path as text (`as_text`): its source_path
    raws: list[bytes]  # b"" for a file that could not be read
    mtimes: list[int]
    sidecars: list[bytes | None]  # None: no sidecar, or the file itself was not read
    sidecar_errors: list[OSError | None]  # a sidecar that is there but cannot be read
    failures: list[str | None]  # why a file could not be read at all: its `read_error`


def read_files(paths: Iterable[Source]) -> Files:
    """Step 1 of `read.read_batch`: each file's bytes, size and mtime, and its sidecar's
    bytes, file by file. A file that cannot be read is not an error here: it has a
    `failures` entry, and the next steps give it a row saying so."""
    import polars as pl  # see `_files`

    rows = [_read_file(path) for path in paths]
    columns = zip(*rows, strict=True) if rows else [()] * 9
    read, names, raws, sizes, mtimes, sidecars, sidecar_errors, failures, seconds = map(
        list, columns
    )
    frame = pl.DataFrame(
        {
            "source_path": pl.Series(names, dtype=pl.String),
            "byte_count": pl.Series(sizes, dtype=pl.Int64),
            "mtime_ns": pl.Series(mtimes, dtype=pl.Int64),
            "read_seconds": pl.Series(seconds, dtype=pl.Float64),
        }
    )
    return Files(frame, read, names, raws, mtimes, sidecars, sidecar_errors, failures)


def _read_file(path: Source) -> tuple[object, ...]:
    """One `Files` row: path, name, bytes, size, mtime, sidecar bytes, sidecar error,
    failure, seconds."""
    started = time.perf_counter()
    where = str(path)  # what to open: a name with non-UTF-8 bytes keeps them
    local = is_local(path)
    try:
        if local:
            raw, mtime_ns = read_local(where)
        else:
            _, mtime_ns = stat(path)
            raw = read_bytes(path)
    except OSError as error:  # a FIFO, no permission, EIO, deleted since it was found
        # Size and mtime as the file system has them where it still answers (the link's
        # own for a broken link), so the next run skips the file unless it changes.
        try:
            size, mtime_ns = stat(path)
        except OSError:
            size, mtime_ns = 0, 0
        failure = as_text(f"cannot read the file: {error.strerror or error}")
        return (path, as_text(where), b"", size, mtime_ns, None, None, failure,
                time.perf_counter() - started)  # fmt: skip
    sidecar, sidecar_error = None, None
    try:
        sidecar = read_local_sidecar(where + SIDECAR_SUFFIX) if local else sidecar_bytes(path)
    except OSError as error:
        sidecar_error = error
    return (path, as_text(where), raw, len(raw), mtime_ns, sidecar, sidecar_error, None,
            time.perf_counter() - started)  # fmt: skip


def batches(
    paths: list[Source], max_bytes: int, sizes: list[int] | None = None
) -> Iterator[list[Source]]:
    """Group files into batches of at most `max_bytes` on disk (at least one file each).

    `sizes` (bytes per path, when the caller has them) saves a stat per file.
    """
    batch: list[Source] = []
    size = 0
    lengths = sizes if sizes is not None else (stat(path)[0] for path in paths)
    for path, length in zip(paths, lengths, strict=True):
        if batch and size + length > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += length
    if batch:
        yield batch
