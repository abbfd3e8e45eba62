"""`listings verify`, `compact` and `resolve-titles`: the lake's own commands.

Argument parsing and printing only; the work is in `pipeline.lake` (`verify`, `compact`)
and `pipeline.run.titles`. `main.build_parser` adds each command. A lake that verifies with
problems exits `ExitCode.VERIFY_PROBLEMS`, one that is no lake `ERROR` (docs/lake.md).
"""

from __future__ import annotations

import argparse
import sys

from pipeline import config
from pipeline.cli import options
from pipeline.cli.exit_codes import ExitCode

Subparsers = argparse._SubParsersAction


def add_verify(commands: Subparsers) -> None:
    """`listings verify [LAKE]`: re-read a lake against its manifest."""
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


def add_compact(commands: Subparsers) -> None:
    """`listings compact --lake DIR`: merge small files, convert an older lake."""
    compact_ = commands.add_parser(
        "compact",
        help="merge the lake's small files into large ones; convert an older lake",
        description=(
            "Merge every month's small groups of files into files of up to 128 MiB, sorted "
            "by fetch time (a run does this by itself for the months it wrote once they hold "
            "more than a few small groups). A lake in the older per-day layout is converted "
            "first. Each merge is committed in the manifest before the old files go, so a "
            "crash never loses or doubles a row; the next run deletes what was left behind."
        ),
    )
    options.add_lake(compact_)
    compact_.set_defaults(handler=_compact)


def add_resolve_titles(commands: Subparsers) -> None:
    """`listings resolve-titles --lake DIR`: re-split old text-form titles by the catalogue."""
    resolve = commands.add_parser(
        "resolve-titles",
        help="title old text-form listings from every exact title the lake has seen",
        description=(
            "Rebuild the catalogue of exact titles (a title on its own line, a repeated one, "
            "the HTML and API JSON forms') from every listing in the lake, and split each "
            "text-form listing whose title/description boundary is unknown where its heading "
            "starts with a catalogue title of the same document (same page count, size "
            "intervals that meet): title_source becomes 'catalogue'. A run does this by itself "
            "for the snapshots it adds; run this after adding HTML or JSON snapshots so older "
            "text snapshots learn their titles too. Without such evidence nothing is split."
        ),
    )
    options.add_lake(resolve)
    resolve.set_defaults(handler=_resolve_titles)


def _compact(args: argparse.Namespace) -> ExitCode:
    from pipeline.lake import compact
    from pipeline.run import progress

    done = compact.compact_lake(args.lake, on_message=progress.BatchProgress().say)
    print(done.render())
    return ExitCode.OK


def _resolve_titles(args: argparse.Namespace) -> ExitCode:
    from pipeline.run import progress, titles

    done = titles.resolve_lake(args.lake, on_message=progress.BatchProgress().say)
    print(f"lake:   {args.lake}\ntitles: {done.render()}")
    return ExitCode.OK


def _verify(args: argparse.Namespace) -> ExitCode:
    from pipeline.lake import verify
    from pipeline.run import progress

    if args.lake and args.lake_option and args.lake != args.lake_option:
        print(
            f"listings verify: two lakes given ({args.lake} and --lake {args.lake_option}): "
            "name one",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    lake = args.lake or args.lake_option or str(config.DEFAULT_LAKE)
    done = verify.verify(lake, sources=not args.no_sources, on_message=progress.BatchProgress().say)
    print(done.render(exit_status=ExitCode.VERIFY_PROBLEMS))
    return ExitCode.OK if done.ok else ExitCode.VERIFY_PROBLEMS
