"""A progress bar for long runs, on stderr, only when a person is watching (a terminal).

The bar counts the files a run normalises; what comes after them (building the warehouse,
writing the report) is a stage of its own: the bar is closed and the stage said on a line
(`stage`), so the screen never shows "normalising 6/6 files" while the warehouse builds.
"""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class BatchProgress:
    """Files done out of files to do; silent when stderr is not a terminal (CI, cron, pipes)."""

    def __init__(self, label: str = "normalising", *, console: Console | None = None) -> None:
        # `console`: where to draw instead of stderr, if a terminal (tests draw into text)
        terminal = sys.stderr.isatty() if console is None else console.is_terminal
        self._console = console or Console(stderr=True)
        self._bar = Progress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
            disable=not terminal,
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

    def stage(self, message: str) -> None:
        """The files are done and the run moves on (`building the warehouse PATH`, `writing
        the report PATH`): the bar is closed (it leaves nothing behind) and the stage said on
        a line of its own, with or without a terminal: what follows it (the build's lines)
        belongs to it."""
        self._bar.stop()
        print(message, file=self._console.file, flush=True)
