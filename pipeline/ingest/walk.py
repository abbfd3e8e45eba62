"""Find the snapshot files below local folders, with their sizes and modification times.

Every run starts here: a run pointed at a raw folder of 100 000 pages lists and stats all of
them to learn which are new (`plan.new_files`), system calls and Python work that grow with
the folder, before it has parsed anything. The same run must also import pandera, which is
slow, before it validates anything. Both hold the interpreter's lock, so threads cannot
overlap them; a child process can. `start` runs the walk as
`python -m pipeline.ingest.walk FOLDER…` on the other core while the run goes on, and
`Walk.result` collects it. This module imports nothing but the standard library, so the
child starts at once (figures in benchmarks/RESULTS.md, "Measurements behind design
choices").
"""

from __future__ import annotations

import os
import subprocess
import sys
from array import array
from collections.abc import Sequence
from pathlib import Path

SIDECAR_SUFFIX = ".meta.json"
# What a folder walk picks up; a file named explicitly is always read.
SNAPSHOT_SUFFIXES = (".txt", ".html", ".htm", ".json")
ENDINGS = SNAPSHOT_SUFFIXES + tuple(f"{suffix}.gz" for suffix in SNAPSHOT_SUFFIXES)

Found = dict[str, tuple[int, int]]  # path → (size in bytes, mtime in ns)


def is_snapshot_name(name: str) -> bool:
    return name.endswith(ENDINGS) and not name.startswith(".") and not name.endswith(SIDECAR_SUFFIX)


def walk(folder: str, found: Found) -> None:
    """Add the snapshot files below `folder` to `found`, as plain path strings (a Path per
    file costs time and memory, and the file list grows with the input). Like os.walk,
    symlinked folders are not entered; symlinked files are read through.

    The folder is listed through a descriptor, so each stat resolves one name relative to
    it instead of the whole path from the root.
    """
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        prefix = folder if folder.endswith(os.sep) else folder + os.sep
        with os.scandir(descriptor) as entries:
            for entry in entries:
                name = entry.name
                if (
                    name.endswith(ENDINGS)
                    and not name.endswith(SIDECAR_SUFFIX)
                    and name[0] != "."
                    and entry.is_file()
                ):
                    info = entry.stat()
                    found[prefix + name] = (info.st_size, info.st_mtime_ns)
                elif entry.is_dir() and not entry.is_symlink():
                    walk(prefix + name, found)
    finally:
        os.close(descriptor)


class Walk:
    """A walk of some folders running in a child process; `result` waits for it."""

    def __init__(self, folders: Sequence[str]) -> None:
        env = dict(os.environ)
        home = str(Path(__file__).resolve().parents[2])  # so the child finds `pipeline`
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [home, env.get("PYTHONPATH")]))
        self._child = subprocess.Popen(
            [sys.executable, "-m", "pipeline.ingest.walk", *folders],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )

    def result(self) -> Found:
        """The files found; raises OSError with the child's message if the walk failed."""
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


def start(folders: Sequence[str]) -> Walk:
    return Walk(folders)


def encode(found: Found) -> bytes:
    """The paths NUL-separated (a path may hold any byte but NUL), then the sizes and the
    mtimes as arrays of 64-bit integers: cheap to write and to read back at 100 000 files."""
    paths = b"\0".join(os.fsencode(path) for path in found)
    sizes = array("q", (size for size, _ in found.values()))
    mtimes = array("q", (mtime for _, mtime in found.values()))
    return b"%d\n" % len(found) + sizes.tobytes() + mtimes.tobytes() + paths


def decode(data: bytes) -> Found:
    head, _, body = data.partition(b"\n")
    count = int(head)
    width = array("q").itemsize * count
    sizes, mtimes = array("q"), array("q")
    sizes.frombytes(body[:width])
    mtimes.frombytes(body[width : 2 * width])
    paths = [os.fsdecode(path) for path in body[2 * width :].split(b"\0")] if count else []
    return dict(zip(paths, zip(sizes, mtimes, strict=True), strict=True))


def main(folders: Sequence[str]) -> int:
    found: Found = {}
    for folder in folders:
        walk(folder, found)
    sys.stdout.buffer.write(encode(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
