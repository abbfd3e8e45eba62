"""The exit statuses of `listings`, one `IntEnum`: every handler returns one of these.

The README's "Exit status" table lists them (tests/cli/test_exit_codes.py holds the two
equal); `listings --help` ends with the same list. Why each exists: docs/architecture.md,
"Errors and exit statuses".
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a `listings` command's exit status tells a script."""

    OK = 0  # done
    ERROR = 1  # a problem with the user's files, lake, query or SQL project: a message says which
    SOURCE_STALE = 1  # freshness: a source table is older than its error_after (as dbt's)
    USAGE = 2  # a wrong argument (argparse's own status, and the checks argparse cannot make)
    ALL_REJECTED = 3  # normalise/run read files but every one was rejected: no listing came out
    VERIFY_PROBLEMS = 3  # verify found problems (a lake it could not verify at all is ERROR)
    INTERRUPTED = 130  # 128 + SIGINT: stopped by Ctrl-C; only completed work was committed
    READER_GONE = 141  # 128 + SIGPIPE: the reader of stdout went away (`listings … | head`)
