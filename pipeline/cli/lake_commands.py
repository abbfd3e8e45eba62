"""`listings verify`: the lake's own commands, apart from the run and the analyst's.

Argument parsing and printing only; the work is in `pipeline.lake.verify`. Kept apart from
`main` (as `analyst` is) so the lake's commands grow without touching the ingestion side:
`main.build_parser` calls `add_commands`. A lake that cannot be verified at all (not a
lake) exits 1 with a one-line message, like every command; a lake that verifies with
problems prints its report and exits `verify.EXIT_PROBLEMS` (3), so scripts can tell a
damaged lake from a mistyped path.
"""

from __future__ import annotations

import argparse
import sys

from pipeline import config


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the lake's subcommands on the `listings` parser."""
    verify = commands.add_parser(
        "verify",
        help="check every committed file of a lake against its manifest",
        description=(
            "Re-read everything the lake's manifest commits and report, one line per "
            "finding grouped by check, what does not hold: manifest files unreadable or "
            "committing a snapshot twice; data files missing, unreadable, of another schema "
            "or row count; snapshots without their snapshot row, with other listing or "
            "reject counts, rows in the wrong group or twice; Parquet files in the table "
            "folders the lake never writes; and, where a text-form snapshot's source file is "
            "still there unchanged, bytes its listings, footer and rejects do not cover. What "
            "a crashed run leaves (uncommitted files, a refresh never switched, titles not "
            "resolved) is listed as leftovers: the next run tidies them. The lake's lock is "
            "held while it reads (a run writing the lake is waited for); a lake that cannot "
            "be written (a read-only mount) is read without it. Exit status: 0 clean "
            "(leftovers allowed), 3 problems found, 1 not a lake."
        ),
    )
    verify.add_argument(
        "lake",
        nargs="?",
        metavar="LAKE",
        help=f"lake folder or fsspec URL (default: {config.DEFAULT_LAKE}, or --lake)",
    )
    verify.add_argument("--lake", dest="lake_option", metavar="DIR", help="the same as LAKE")
    verify.add_argument(
        "--no-sources",
        action="store_true",
        help="do not re-read the snapshot files for the coverage check (only the lake)",
    )
    verify.set_defaults(handler=_verify)


def _verify(args: argparse.Namespace) -> int:
    from pipeline.lake import verify
    from pipeline.run import progress

    if args.lake and args.lake_option and args.lake != args.lake_option:
        print(
            f"listings verify: two lakes given ({args.lake} and --lake {args.lake_option}): "
            "name one",
            file=sys.stderr,
        )
        return 2
    lake = args.lake or args.lake_option or str(config.DEFAULT_LAKE)
    done = verify.verify(lake, sources=not args.no_sources, on_message=progress.BatchProgress().say)
    print(done.render())
    return 0 if done.ok else verify.EXIT_PROBLEMS
