"""The errors a stage raises when the user's request cannot be done as asked.

Every one is a `ListingsError`, whose message says what went wrong and what to do; the CLI
turns any of them into that message and exit status 1, never a traceback. Bad *data* is
not an error: it becomes rows in `rejects` and the run goes on. Anything else that escapes
(a `KeyError`, a pandera `SchemaError` on our own frames) is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class ListingsError(Exception):
    """A problem with the user's input, lake, warehouse or SQL project (not a bug)."""


class InputNotFoundError(ListingsError, FileNotFoundError):
    """A path given as input names no file or folder."""


class LakeError(ListingsError):
    """The lake cannot be used as asked; the message says why and what to do."""


class NotALakeError(LakeError):
    """The path holds no lake (no `_manifest/`): a typo, or nothing normalised there yet."""


class OldLayoutError(LakeError):
    """The lake is in a layout from before monthly files and has to be converted first."""


class LakeBusyError(LakeError):
    """Another run holds the lake's lock and the caller chose not to wait (long enough)."""


class LakeReadOnlyError(LakeError):
    """The lake cannot be written (a read-only mount, another user's files, read-only
    credentials), so its lock cannot be taken: commands that change it stop, readers read
    it unlocked. `reason` is what the system said."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ModelError(ListingsError):
    """The SQL project cannot be compiled or built; the message names the file and problem."""


class _Rendered(Protocol):
    def render(self) -> str: ...


class DataTestFailure(ModelError):
    """One or more data tests of severity `error` returned rows."""

    def __init__(self, failures: Sequence[_Rendered]) -> None:
        self.failures = list(failures)
        super().__init__(
            f"{len(self.failures)} data test(s) failed:\n\n"
            + "\n\n".join(result.render() for result in self.failures)
        )


class ReportError(ListingsError):
    """The warehouse lacks what the report reads (e.g. built without the models)."""


class ReadOnlyQueryError(ListingsError):
    """A query for `listings sql` holds a statement that could change something (a file, a
    database, a setting): refused before any of its statements runs."""


class OutputPathError(ListingsError):
    """An output path names a folder, or a file that is not what would be written there
    (a `--db` that is not a DuckDB database): refused before anything is written."""


class ServeError(ListingsError):
    """`listings serve` cannot start as asked (its UI's port is taken, say)."""
