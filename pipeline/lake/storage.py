"""Where the lake lives: a local folder or any fsspec URL (`s3://bucket/lake`, `memory://…`).

fsspec does the talking to object stores; this module only adds the two things the lake
needs on top: an atomic write (a temporary file renamed into place locally; a single PUT on
an object store, which readers see whole or not at all) and paths DuckDB and pyarrow can
read. Credentials and endpoints come from the environment, as fsspec's backends expect
(`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, …).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

from pipeline import atomic


@dataclass(frozen=True)
class Location:
    """A folder on some filesystem: the fsspec filesystem, and the folder's path on it."""

    fs: fsspec.AbstractFileSystem
    root: str
    url: str
    # Salts the names of the groups written through this location (`layout.batch_name`). A
    # full refresh writes under a generation of its own, so none of its files takes the
    # name, and overwrites the bytes, of a group the manifest it replaces still names: until
    # its switch that lake must stay whole (docs/lake.md, "Crashes").
    generation: str = ""
    _made: set[Path] = field(default_factory=set, compare=False, repr=False)

    @classmethod
    def of(cls, where: str | Path | Location) -> Location:
        if isinstance(where, Location):
            return where
        text = str(where)
        if "://" not in text:
            text = str(Path(text).resolve())
        fs, root = fsspec.core.url_to_fs(text)
        return cls(fs=fs, root=root.rstrip("/"), url=str(where))

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def uri(self, path: str) -> str:
        """A path as a URL that DuckDB (with this filesystem registered) or fsspec opens."""
        if self.is_local:
            return path
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        return f"{protocol}://{path}"

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(path))

    def glob(self, pattern: str) -> list[str]:
        return sorted(self.fs.glob(pattern))

    def find(self, prefix: str) -> list[str]:
        """Every file below a folder (prefix), sorted; none if it does not exist."""
        return sorted(self.fs.find(prefix))

    def sizes(self, paths: list[str]) -> dict[str, int]:
        """Size in bytes of each path (one stat each; a HEAD request on object stores)."""
        if self.is_local:
            return {path: os.stat(path).st_size for path in paths}
        return {path: int(self.fs.size(path)) for path in paths}

    def read_bytes(self, path: str) -> bytes:
        return bytes(self.fs.cat_file(path))

    def remove(self, path: str) -> None:
        if self.fs.exists(path):
            self.fs.rm_file(path)

    def write_atomic(self, path: str, data: bytes) -> None:
        """Readers and crashes see the old object or the new one, never half of one."""
        if not self.is_local:
            self.fs.pipe_file(path, data)  # one PUT: atomic on object stores
            return
        target = Path(path)
        if target.parent not in self._made:  # one mkdir per folder, not per file
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        atomic.write_bytes(target, data)


# Where a lake is, as a user or a caller from outside the lake package names it: a folder,
# an fsspec URL, or a Location already. Entry points take this and make it a Location once;
# everything inside takes the Location.
LakeLike = str | Path | Location
