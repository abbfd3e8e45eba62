"""`python -m tests.fuzz` (`make fuzz`): fuzz read + parse until enough pages have run.

Runs the fuzz tests of `test_fuzz.py` under the `fuzz` profile, round after round (each
round draws new examples), until at least `FUZZ_CASES` pages (default 100 000) went through
the reader and the parsers, then prints the cases run (pages, element-flood pages among
them, and queries through `listings sql`'s read-only guard), the seconds taken and the
failures.
A failing test is shrunk and reported by hypothesis (with a blob to reproduce it), the
round is finished and the run stops there; the exit status is 1 if any failed.

    FUZZ_CASES=2000 python -m tests.fuzz      # a quick round
    FUZZ_BATCH=64 FUZZ_MIN_BATCH=32 …        # most and fewest pages per example
    FUZZ_EXAMPLES=100 …                       # examples per test per round
"""

from __future__ import annotations

import os
import sys
import time
import traceback


def main() -> int:
    target = int(os.environ.get("FUZZ_CASES", "100000"))
    os.environ["FUZZ_PROFILE"] = "fuzz"
    os.environ.setdefault("FUZZ_BATCH", "64")
    os.environ.setdefault("FUZZ_MIN_BATCH", str(int(os.environ["FUZZ_BATCH"]) // 2))
    os.environ.setdefault("FUZZ_EXAMPLES", "100")

    from tests.fuzz import test_fuzz
    from tests.fuzz.harness import COUNTS

    tests = [getattr(test_fuzz, name) for name in dir(test_fuzz) if name.startswith("test_")]
    failed: dict[str, str] = {}
    started = time.perf_counter()
    rounds = 0
    # A failed test is not run again, and the others add few cases: stop at the round's end.
    while COUNTS["pages"] < target and not failed:
        rounds += 1
        for test in tests:
            if test.__name__ in failed:
                continue
            try:
                test()
            except Exception as error:  # hypothesis re-raises the shrunk failure
                failed[test.__name__] = f"{type(error).__name__}: {error}"
                traceback.print_exc()
        seconds = time.perf_counter() - started
        print(
            f"fuzz: round {rounds}: {COUNTS['pages']:,} cases (pages) in "
            f"{COUNTS['examples']:,} examples, {COUNTS['queries']:,} queries, {seconds:.0f} s",
            flush=True,
        )
    seconds = time.perf_counter() - started
    print(
        f"fuzz: {COUNTS['pages'] + COUNTS['queries']:,} cases ({COUNTS['pages']:,} pages "
        f"through read + parse, {COUNTS['amplified pages']:,} of them element floods; "
        f"{COUNTS['queries']:,} queries through the read-only guard) in "
        f"{COUNTS['examples']:,} examples, {seconds:.1f} s, {len(failed)} failures"
    )
    for name, error in failed.items():
        print(f"  FAILED {name}: {error.splitlines()[0][:200]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
