"""`listings`: the parser, `main`, and the error handling every command shares.

The commands live by room: `run_commands` (normalise, run, serve), `lake_commands` (verify,
compact, resolve-titles), `analyst` (build, lineage, compile, docs, report, describe),
`freshness` and `sql`; `build_parser` adds them in the order `--help` lists them. `main`
turns what a command raises into a message and an `exit_codes.ExitCode`
(docs/architecture.md, "Errors and exit statuses").
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Iterator, Sequence

from pipeline.cli import analyst, freshness, lake_commands, run_commands, sql
from pipeline.cli.exit_codes import ExitCode
from pipeline.errors import ListingsError
from pipeline.terminal import escaped_lines

Subparsers = argparse._SubParsersAction

# Commands import what only they need (normalise: pandera and rich; sql and build: duckdb),
# so each command, and `listings --help`, starts without paying for the others.

EPILOG = """\
examples:
  listings normalise data/raw --out data/lake
  listings normalise page.txt --out /tmp/lake --fetched-at 2026-11-20T09:30:00Z --site wenku.it
  listings sql "select title, size_bytes, uploaded_at_min from listings limit 5"
  listings sql "select reason, count(*) from rejects group by 1" --lake /tmp/lake

tables: snapshots (one row per page file), listings (one row per listing), rejects
(every fragment that is not a listing or the footer, with the reason).

exit status: 0 done; 1 a problem with your files, lake, query or SQL project (the message
says which), or freshness found a source table past its error_after; 2 a wrong argument;
3 normalise/run read files but every one was rejected (no listing came out; the rejects
table says why), or verify found problems; 130 interrupted; 141 the reader of stdout went
away.
"""


class _Version(argparse.Action):
    """`--version`: this package's version and the engines' it runs on.

    Read from the installed packages' metadata when asked, so neither building the parser
    nor `--version` imports them.
    """

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings,
            dest=argparse.SUPPRESS,
            default=argparse.SUPPRESS,
            nargs=0,
            help="print the version of listings and of the libraries it runs on, then exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib import metadata as installed

        def version(name: str) -> str | None:
            try:
                return installed.version(name)
            except installed.PackageNotFoundError:
                return None

        engines = ", ".join(
            f"{name} {found}" for name in ENGINES if (found := version(name)) is not None
        )
        python = ".".join(map(str, sys.version_info[:3]))
        print(f"listings {version('listings')} (python {python}, {engines})")
        parser.exit()


ENGINES = ("polars", "pyarrow", "pandera", "duckdb", "prefect")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="listings",
        description=(
            "Turn saved moredoc/DocHub search-result pages (snapshots) into typed, validated "
            "Parquet tables, and query them with DuckDB."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # The order `listings --help` lists them in.
    run_commands.add_normalise(commands)
    sql.add_command(commands)
    run_commands.add_run(commands)
    run_commands.add_serve(commands)
    lake_commands.add_compact(commands)
    lake_commands.add_resolve_titles(commands)
    analyst.add_commands(commands)
    freshness.add_command(commands)
    lake_commands.add_verify(commands)
    return parser


def _check_command(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """A mistyped command exits 2 naming the close matches (`nromalise` → `normalise`).

    argparse before Python 3.14 only lists every command, which hides the one meant.
    """
    if not argv or argv[0].startswith("-"):
        return
    commands = next(a for a in parser._actions if isinstance(a, Subparsers)).choices
    if argv[0] in commands:
        return
    close = difflib.get_close_matches(argv[0], list(commands), n=3, cutoff=0.6)
    hint = (
        f"did you mean {' or '.join(map(repr, close))}?"
        if close
        else f"commands: {', '.join(commands)}"
    )
    parser.error(f"unknown command {argv[0]!r}; {hint}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `listings` command line `argv` (default: `sys.argv[1:]`); its exit status."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    _check_command(parser, argv)
    args = parser.parse_args(argv)
    try:
        with _pandas_left_out():
            status = ExitCode(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit as an ignored exception
        return status
    except ListingsError as error:
        # A message may quote a file name or a page's text: drawn escaped (`terminal`).
        print(f"listings {args.command}: {escaped_lines(str(error))}", file=sys.stderr)
        return ExitCode.ERROR
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        # Every writer commits whole steps only (docs/lake.md), so stopping is always safe.
        print(
            f"\nlistings {args.command}: interrupted; only completed work was committed, "
            "rerun to finish",
            file=sys.stderr,
        )
        return ExitCode.INTERRUPTED
    except Exception as error:
        full = _disk_full(error)
        if full is None:
            raise
        where = f" writing {full.filename}" if full.filename else ""
        print(
            f"listings {args.command}: {full.strerror or 'no space left'}{where}: "
            "rerun after freeing space",
            file=sys.stderr,
        )
        return ExitCode.ERROR


class _NoPandas(importlib.abc.MetaPathFinder):
    """Finds `pandas` as missing, as in an install without it."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@contextlib.contextmanager
def _pandas_left_out() -> Iterator[None]:
    """Run a command as if pandas were not installed, unless it is imported already.

    No command uses pandas (it is a dev dependency, for the notebook example), but pandera
    imports it whenever it is installed, which more than doubles the time every run spends
    importing pandera (docs/architecture.md, "Start-up"). Only the command's own imports see
    pandas missing: the finder goes when the command returns.
    """
    if "pandas" in sys.modules:
        yield
        return
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def _reader_gone() -> ExitCode:
    """`listings … | head -1`: the reader left, so stop quietly, as a Unix tool does.

    Standard output goes to devnull so Python's flush at exit cannot fail again (the
    Python docs' "Note on SIGPIPE", in the `signal` module).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (captured): nothing to flush
        pass
    return ExitCode.READER_GONE


def _disk_full(error: BaseException) -> OSError | None:
    """The out-of-space (or quota) OSError behind `error`, however deep it was wrapped."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError) and current.errno in DISK_FULL:
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


if __name__ == "__main__":
    sys.exit(main())
