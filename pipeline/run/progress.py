"""A progress bar for long runs, on stderr, only when a person is watching (a terminal)."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class BatchProgress:
    """Files done out of files to do; silent when stderr is not a terminal (CI, cron, pipes)."""

    def __init__(self, label: str = "normalising") -> None:
        self._console = Console(stderr=True)
        self._bar = Progress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
            disable=not sys.stderr.isatty(),
        )
        self._task = self._bar.add_task(label, total=None)

    def __enter__(self) -> BatchProgress:
        self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def update(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)

    def say(self, message: str) -> None:
        """A message that must be seen even without a terminal (e.g. waiting for a lock)."""
        print(message, file=sys.stderr)
