"""Fuzzing the reader and the three parsers: mutated real and generated pages, batch by batch.

Every drawn page goes through the real entry point (`read.read_batch` over in-memory files,
then `normalise.normalise_batch`), and the tables that come out must keep the invariants of
docs/input-format.md §5 whatever the bytes (`harness.check_batch`). The short budget runs in
the normal suite; `make fuzz` (`python -m tests.fuzz`) runs at least 100 000 pages.

Two hypothesis profiles, chosen by `FUZZ_PROFILE`: `fuzz-suite` (the default: a few
examples, a few seconds) and `fuzz` (`FUZZ_EXAMPLES` examples each). One example is a batch
of pages, because one `normalise_batch` costs ~0.1 s whatever its size (mostly the schema
checks): pages, not examples, are the cases counted.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW_DRAWS = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

settings.register_profile(
    "fuzz-suite",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "4")),
    deadline=None,
    suppress_health_check=_SLOW_DRAWS,
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=_SLOW_DRAWS,
    print_blob=True,
)


def profile(share: float = 1.0) -> settings:
    """The settings the fuzz tests run under (`FUZZ_PROFILE`, default `fuzz-suite`), with
    `share` of its examples (at least one): a test of one or two pages per example takes
    as long per example as one of a whole batch, and adds few cases."""
    base = settings.get_profile(os.environ.get("FUZZ_PROFILE", "fuzz-suite"))
    return settings(base, max_examples=max(1, round(base.max_examples * share)))


def batch_size() -> tuple[int, int]:
    """The fewest and most pages per example (`FUZZ_MIN_BATCH`, `FUZZ_BATCH`): bigger
    batches spread the fixed cost further; smaller ones shrink a failure further."""
    most = int(os.environ.get("FUZZ_BATCH", "12"))
    return min(int(os.environ.get("FUZZ_MIN_BATCH", "1")), most), most
