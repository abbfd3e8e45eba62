"""`python -m benchmarks`: the benchmark kit in one run (parser, lake and warehouse); see
benchmarks/kit.py."""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import forms_kit, kit, warehouse_kit
from benchmarks.dataset import DEFAULT_CACHE, dataset
from benchmarks.generate import CORPUS_DAYS, FORMS
from pipeline.cli import options

DEFAULT_LISTINGS = 100_000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "On a generated corpus of two years of daily fetches (the mix users see: own-line, "
            "glued and repeated titles, HTML/JSON twins of some pages): time the floor (read + "
            "one polars regex), a careful pure-Python parser, `listings normalise` end to end "
            "(its titles step from the summary) and a no-change rerun, each in a fresh process "
            "(median seconds, listings/s, MB/s, peak RSS, ratio to the floor), plus a "
            "per-stage breakdown; then the warehouse section: files per table after one run "
            "and after 30 daily runs of 50 pages (lake only), daily runs with --db, "
            "`listings sql` count against DuckDB on a one-file copy, `listings build` against "
            "a raw-DuckDB floor, warehouse bytes against the lake's, `listings report`, "
            "`listings verify --no-sources`. Judge the sections' targets and the daily-run "
            "targets per size (1 M over 730 days, 10 M over 10 years). Then, "
            "per input form (the same documents as text, HTML as served and as saved, and "
            "search-API JSON): `listings normalise` end to end and the parse stage alone "
            "(listings/s, MB/s, peak RSS; reported, not judged). Print the tables and write "
            "them to benchmarks/RESULTS.md. Generated input is cached under --cache."
        ),
        epilog=(
            "examples:\n"
            "  python -m benchmarks                 # 100k listings (10k files over 730 days)\n"
            "  python -m benchmarks --full          # 100k and 1M listings (100k files)\n"
            "  python -m benchmarks --full --10m    # and 10M over 10 years (~1M files; ~1 h)\n"
            "  python -m benchmarks --listings 2000 --repeat 1 --no-write   # a quick look\n"
            "  python -m benchmarks --forms-only    # the per-form section alone, into RESULTS.md\n"
            "  python -m benchmarks --forms-only --forms html,json --form-listings 10000 "
            "--no-write"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help=f"also run {kit.FULL_LISTINGS:,} listings (~530 MB, 100k files over 730 days; "
        "generating it takes ~1 min once, the runs ~10x the default's)",
    )
    parser.add_argument(
        "--10m",
        dest="ten_m",
        action="store_true",
        help=f"also run {kit.TEN_M_LISTINGS:,} listings over {kit.TEN_M_DAYS:,} days (ten "
        "years, ~1M files, ~6 GB of pages, ~12 GB on disk; generating it takes ~15-20 min on "
        "2 cores, once): measured once, the target rows only (no baseline, worker-process or "
        "stage rows)",
    )
    parser.add_argument(
        "--listings",
        type=int,
        action="append",
        metavar="N",
        help=f"listings to generate and measure; repeatable (default: {DEFAULT_LISTINGS:,})",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=CORPUS_DAYS,
        help="fetch days of the --listings and --full corpora (default: %(default)s)",
    )
    parser.add_argument(
        "--db-days",
        type=int,
        default=warehouse_kit.DB_DAYS,
        metavar="N",
        help="daily runs with --db to measure, each updating the warehouse (default: "
        "%(default)s of the 30 increment days; 0: none)",
    )
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default: 0)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per measurement, median (default: 3)"
    )
    options.add_batch_mb(parser, "batch size for every contender, the CLI's by default")
    parser.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help="where generated input and scratch lakes live (default: benchmarks/out)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=kit.RESULTS,
        help="report file (default: benchmarks/RESULTS.md)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; keep RESULTS.md")
    parser.add_argument(
        "--no-warehouse",
        action="store_true",
        help="skip the warehouse section: the parser rows only",
    )
    forms = parser.add_argument_group("per input form")
    forms.add_argument(
        "--forms-only",
        action="store_true",
        help="measure only the per-form section and replace just that section of --results "
        "(the rest of the file is kept as it is)",
    )
    forms.add_argument(
        "--no-forms",
        action="store_true",
        help="skip the per-form section (a written report carries the old one over, with "
        "its own date)",
    )
    forms.add_argument(
        "--forms",
        type=_forms,
        default=FORMS,
        metavar="F,F",
        help=f"input forms to measure, comma-separated (default: {','.join(FORMS)})",
    )
    forms.add_argument(
        "--form-listings",
        type=int,
        default=DEFAULT_LISTINGS,
        metavar="N",
        help=f"listings per form (default: {DEFAULT_LISTINGS:,}: 54 MB as text, 161 MB as "
        "served HTML, 328 MB as saved HTML, 73 MB as JSON; generating the three non-text "
        "corpora takes ~2 min once)",
    )
    return parser


def _forms(value: str) -> tuple[str, ...]:
    forms = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [f for f in forms if f not in FORMS]
    if unknown or not forms:
        raise argparse.ArgumentTypeError(
            f"unknown form(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMS)}"
        )
    return forms


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.forms_only and args.no_forms:
        parser.error("--forms-only and --no-forms exclude each other")
    if args.form_listings <= 0 or args.form_listings % 10:
        parser.error("--form-listings must be a positive multiple of 10 (full pages)")
    if args.days < 1 or args.db_days < 0:
        parser.error("--days must be at least 1 and --db-days at least 0")
    # (listings, fetch days, lean): the 10 M size is measured lean and once.
    sizes = {(n, args.days, False) for n in args.listings or [DEFAULT_LISTINGS]}
    if args.full:
        sizes.add((kit.FULL_LISTINGS, args.days, False))
    if args.ten_m:
        sizes.add((kit.TEN_M_LISTINGS, kit.TEN_M_DAYS, True))
    started, load_before = datetime.now(UTC), kit.load()
    command = shlex.join(["python", "-m", "benchmarks", *(argv or sys.argv[1:])])
    if args.forms_only:
        forms = _measure_forms(args)
        section = kit.forms_section(
            forms, started=started, load_before=load_before, command=command
        )
        print(section)
        if not args.no_write:
            old = args.results.read_text(encoding="utf-8") if args.results.exists() else ""
            args.results.write_text(kit.with_forms_section(old, section), encoding="utf-8")
            print(f"per-form section written to {args.results}", file=sys.stderr)
        return 0
    results = []
    for n, days, lean in sorted(sizes):
        print(f"input: {n:,} listings over {days:,} days (seed {args.seed})", file=sys.stderr,
              flush=True)  # fmt: skip
        data = dataset(n, args.seed, args.cache, days=days)
        if data.generated_s:
            print(f"  corpus: {data.describe()}", file=sys.stderr, flush=True)
        work = args.cache / "work" / f"listings-{n}-over-{days}d-seed-{args.seed}"
        result = kit.measure_size(
            data,
            work,
            repeat=1 if lean else args.repeat,
            batch_bytes=args.batch_mb * 2**20,
            warehouse=not args.no_warehouse,
            db_days=args.db_days,
            lean=lean,
            log=True,
        )
        # Every page's listings end to end; the text pages' by the text-only readers.
        expected = {name: data.listings if name.startswith("e2e") else data.text_listings
                    for name in result.listings}  # fmt: skip
        if result.listings != expected:
            print(f"warning: listing counts differ: found {result.listings}, expected "
                  f"{expected}", file=sys.stderr)  # fmt: skip
        results.append(result)
    forms = None if args.no_forms else _measure_forms(args)
    text = kit.report(
        results, started=started, load_before=load_before, command=command, forms=forms
    )
    print(text)
    if not args.no_write:
        old = args.results.read_text(encoding="utf-8") if args.results.exists() else ""
        text = kit.carried_over(text, old, forms_measured=forms is not None)
        args.results.write_text(text, encoding="utf-8")
        print(f"written to {args.results}", file=sys.stderr)
    return 0


def _measure_forms(args: argparse.Namespace) -> forms_kit.FormsResult:
    """The per-form section: a corpus of --form-listings in each of --forms, measured."""
    datasets = []
    for form in args.forms:
        print(
            f"input: {args.form_listings:,} listings as {form} (seed {args.seed})",
            file=sys.stderr,
            flush=True,
        )
        # No twins: every form is the same crawl, only the rendering differs.
        datasets.append(dataset(args.form_listings, args.seed, args.cache, form=form, twins=0.0))
    work = args.cache / "work" / f"forms-{args.form_listings}-seed-{args.seed}"
    return kit.measure_forms(
        datasets, work, repeat=args.repeat, batch_bytes=args.batch_mb * 2**20, log=True
    )


if __name__ == "__main__":
    raise SystemExit(main())
