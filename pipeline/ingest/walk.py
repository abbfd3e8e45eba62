"""Find the snapshot files below local folders, with their sizes and modification times.

Every run starts here (`sources.Scan`). `start` runs the walk as a child process,
`python -m pipeline.ingest.walk FOLDER…`, on the other core while the run goes on, and
`Walk.result` collects it; hence the standard library only (docs/architecture.md,
"Start-up"). What the walk does not read (hidden entries, folders it cannot list, links to
folders walked already, paths too long to open) is returned as `Skipped`, for the run's
summary to name (docs/input-format.md §3.3).
"""

from __future__ import annotations

import os
import subprocess
import sys
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

SIDECAR_SUFFIX = ".meta.json"
# What a folder walk picks up, in any letter case (`PAGE.TXT` is the same form as
# `page.txt`); a file named explicitly is always read.
SNAPSHOT_SUFFIXES = (".txt", ".html", ".htm", ".json")
ENDINGS = SNAPSHOT_SUFFIXES + tuple(f"{suffix}.gz" for suffix in SNAPSHOT_SUFFIXES)

Found = dict[str, tuple[int, int]]  # path → (size in bytes, mtime in ns)
# What a walk passed over: (kind, the path and, where the system said why, the reason).
Skipped = list[tuple[str, str]]

# The kinds of `Skipped`, as the run's summary names them.
HIDDEN = "hidden"  # a dot-folder, or a dot-file named like a snapshot
UNREADABLE_FOLDER = "unreadable folder"
WALKED_ALREADY = "link to a folder walked already"  # a loop, or a second way in
LINK_NOT_FOLLOWED = "linked folder not followed"
TOO_LONG = "path too long"
BROKEN_LINK = "broken link"

# Paths at least this long (in bytes) cannot be opened by name (Linux's PATH_MAX; macOS
# has 1024, and its opens fail on their own). A character is at most 4 bytes in a file
# name, so shorter strings are never encoded to check.
PATH_MAX = 4096

# How `os.fsencode` and `os.fsdecode` turn names into bytes and back.
_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()


# Modification times are nanoseconds in 64 bits (the manifest's Int64, the walk's arrays),
# which end in 2262: a file stamped later (a broken archive, `touch -d @3e11`) is taken as
# stamped at the end of that range, the same by every reader of it, not a failed run.
_NS_MIN, _NS_MAX = -(2**63), 2**63 - 1


def mtime_ns(info: os.stat_result) -> int:
    """A stat's modification time in ns, within 64 bits (see `_NS_MAX`)."""
    return min(max(info.st_mtime_ns, _NS_MIN), _NS_MAX)


def clamp_ns(value: int) -> int:
    return min(max(value, _NS_MIN), _NS_MAX)


def is_snapshot_name(name: str) -> bool:
    lower = name.lower()
    return (
        lower.endswith(ENDINGS) and not name.startswith(".") and not lower.endswith(SIDECAR_SUFFIX)
    )


def _too_long(path: str) -> bool:
    return len(path) * 4 >= PATH_MAX and len(os.fsencode(path)) >= PATH_MAX


def _why(error: OSError) -> str:
    return error.strerror or str(error)


def walk(
    folder: str,
    found: Found,
    skipped: Skipped | None = None,
    *,
    follow_links: bool = True,
) -> None:
    """Add the snapshot files below `folder` to `found`, as plain path strings (a Path per
    file costs time and memory, and the file list grows with the input), and what was passed
    over to `skipped`.

    Symlinked files are read through. Symlinked folders are followed (unless
    `follow_links` is false) after every folder reachable without links, in path order,
    and a folder is walked once by its (device, inode): a link back up the tree or a second
    link to one folder is named in `skipped` instead of walked again, and which path a file
    is found under does not depend on the order the system lists a folder in.

    A file named like a snapshot is found even when it cannot be stat-ed through (a broken
    link, a link loop) or is no regular file (a FIFO): the reader turns it into a reject
    that names it. Each folder is listed through a descriptor, so each stat resolves one
    name relative to it instead of the whole path from the root; the walk keeps its own
    stack, so depth is no limit.
    """
    skipped = [] if skipped is None else skipped
    seen: set[tuple[int, int]] = set()
    links: list[str] = []
    _walk_tree([folder], found, skipped, seen, links, root=folder)
    while links:
        if not follow_links:
            skipped.extend((LINK_NOT_FOLLOWED, link) for link in sorted(links))
            return
        pending, links = sorted(links), []
        _walk_tree(pending, found, skipped, seen, links, root=None)


def _walk_tree(
    folders: list[str],
    found: Found,
    skipped: Skipped,
    seen: set[tuple[int, int]],
    links: list[str],
    root: str | None,
) -> None:
    """Walk `folders` and every folder below them that is not a link (those go to `links`)."""
    stack = list(reversed(folders))
    while stack:
        folder = stack.pop()
        try:
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as error:
            if folder == root and isinstance(error, FileNotFoundError):
                raise  # the folder asked for is gone: the caller says so
            skipped.append((UNREADABLE_FOLDER, f"{folder}: {_why(error)}"))
            continue
        try:
            info = os.fstat(descriptor)
            if (info.st_dev, info.st_ino) in seen:
                skipped.append((WALKED_ALREADY, folder))
                continue
            seen.add((info.st_dev, info.st_ino))
            prefix = folder if folder.endswith(os.sep) else folder + os.sep
            # Names up to this long make paths short enough to open (see `_too_long`).
            short = (PATH_MAX - 1) // 4 - len(prefix)
            with os.scandir(descriptor) as entries:
                for entry in entries:
                    # The common entries first, decided from the folder listing alone: a
                    # regular file named like a snapshot is stat-ed, another (a sidecar) is
                    # not a snapshot. The rest, rare, go through `_visit`.
                    name = entry.name
                    lower = name.lower()
                    snapshot = lower.endswith(ENDINGS) and not lower.endswith(SIDECAR_SUFFIX)
                    if entry.is_file(follow_symlinks=False) and len(name) <= short:
                        if not snapshot:
                            continue
                        if name[0] != ".":
                            info = entry.stat(follow_symlinks=False)
                            found[prefix + name] = (info.st_size, mtime_ns(info))
                            continue
                    _visit(entry, prefix + name, found, skipped, stack, links)
        except OSError as error:  # the listing itself failed part way (EIO)
            skipped.append((UNREADABLE_FOLDER, f"{folder}: {_why(error)}"))
        finally:
            os.close(descriptor)


def _visit(
    entry: os.DirEntry[str],
    path: str,
    found: Found,
    skipped: Skipped,
    stack: list[str],
    links: list[str],
) -> None:
    """One folder entry: found, walked (now or, for a link, later), skipped, or ignored."""
    name = entry.name
    lower = name.lower()
    snapshot = lower.endswith(ENDINGS) and not lower.endswith(SIDECAR_SUFFIX)
    if name[0] == ".":
        if snapshot or _is_dir(entry):
            skipped.append((HIDDEN, path))
        return
    if _too_long(path):
        if snapshot or _is_dir(entry):
            skipped.append((TOO_LONG, path))
        return
    try:
        is_dir = entry.is_dir()
    except OSError:  # a link loop: not a folder one can enter
        is_dir = False
    if is_dir:
        (links if entry.is_symlink() else stack).append(path)
        return
    if snapshot:
        try:
            info = entry.stat()
        except OSError:  # a broken link or a loop: the reader names it in a reject
            info = entry.stat(follow_symlinks=False)
        found[path] = (info.st_size, mtime_ns(info))
    elif entry.is_symlink() and not os.path.exists(path):
        skipped.append((BROKEN_LINK, path))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


class Walk:
    """A walk of some folders running in a child process; `result` waits for it."""

    def __init__(self, folders: Sequence[str], *, follow_links: bool = True) -> None:
        env = dict(os.environ)
        home = str(Path(__file__).resolve().parents[2])  # so the child finds `pipeline`
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [home, env.get("PYTHONPATH")]))
        mode = "follow" if follow_links else "no-follow"
        self._child = subprocess.Popen(
            [sys.executable, "-m", "pipeline.ingest.walk", mode, *folders],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )

    def result(self) -> Walked:
        """The files found and what was skipped; raises OSError with the child's message if
        the walk failed."""
        out, err = self._child.communicate()
        if self._child.returncode != 0:
            message = err.decode(errors="replace").strip().splitlines()
            raise OSError(
                f"listing the input failed: {message[-1] if message else 'no reason given'}"
            )
        return decode(out)

    def cancel(self) -> None:
        if self._child.poll() is None:
            self._child.kill()
        self._child.communicate()


# Walks begun early (`prestart`), each waiting for the `start` of the same folders.
_early: dict[tuple[tuple[str, ...], bool], Walk] = {}


def prestart(folders: Sequence[str], *, follow_links: bool = True) -> None:
    """Begin the walk of `folders` now, for a later `start` of the same folders to take.

    A command that will walk its input starts the child first thing, before its own slow
    imports, so the walk is done by the time the run asks for it. What the walk found is a
    snapshot of the folders at this moment, as any walk's is of the moment it ran.
    """
    key = (tuple(folders), follow_links)
    if folders and key not in _early:
        _early[key] = Walk(folders, follow_links=follow_links)


def drop_early() -> None:
    """Stop the early walks no `start` took (the command ended before it walked)."""
    while _early:
        _early.popitem()[1].cancel()


def start(folders: Sequence[str], *, follow_links: bool = True) -> Walk:
    """The walk of `folders`: the one `prestart` began, else a new one."""
    early = _early.pop((tuple(folders), follow_links), None)
    return early if early is not None else Walk(folders, follow_links=follow_links)


def encode(found: Found, skipped: Skipped | None = None) -> bytes:
    """The counts, then the sizes and the mtimes as arrays of 64-bit integers, then the
    paths and the skipped (kind, path) pairs, all NUL-separated (a path may hold any byte
    but NUL) and encoded as `os.fsencode` does, in one call: cheap to write and to read
    back at 100 000 files."""
    skipped = skipped or []
    names = [*found, *(part for pair in skipped for part in pair)]
    paths = "\0".join(names).encode(_FS_ENCODING, _FS_ERRORS)
    sizes = array("q", (size for size, _ in found.values()))
    mtimes = array("q", (mtime for _, mtime in found.values()))
    return b"%d %d\n" % (len(found), len(skipped)) + sizes.tobytes() + mtimes.tobytes() + paths


class Walked(NamedTuple):
    """A walk's result as columns: the paths found, their sizes and mtimes (ns) in the
    same order, and what was skipped."""

    paths: list[str]
    sizes: array[int]
    mtimes: array[int]
    skipped: Skipped


def decode(data: bytes) -> Walked:
    head, _, body = data.partition(b"\n")
    count, skips = map(int, head.split())
    width = array("q").itemsize * count
    sizes, mtimes = array("q"), array("q")
    sizes.frombytes(body[:width])
    mtimes.frombytes(body[width : 2 * width])
    rest = body[2 * width :]
    names = rest.decode(_FS_ENCODING, _FS_ERRORS).split("\0") if count or skips else []
    pairs = names[count:]
    return Walked(names[:count], sizes, mtimes, list(zip(pairs[::2], pairs[1::2], strict=True)))


def main(arguments: Sequence[str]) -> int:
    mode, *folders = arguments
    found: Found = {}
    skipped: Skipped = []
    for folder in folders:
        walk(folder, found, skipped, follow_links=mode == "follow")
    sys.stdout.buffer.write(encode(found, skipped))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
