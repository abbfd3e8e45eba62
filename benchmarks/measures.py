"""What the kit's sections share: a timed row, a verdict, and how numbers are printed."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass
class Row:
    """One measured case: every run's seconds, and the highest peak RSS over them."""

    key: str
    label: str
    runs: list[float]
    peak_rss: int | None = None  # bytes

    @property
    def seconds(self) -> float:
        return statistics.median(self.runs)


def add(rows: dict[str, Row], key: str, label: str, seconds: float, rss: int | None = None) -> None:
    """Record one run of `key` (the row is created on its first run)."""
    row = rows.setdefault(key, Row(key, label, []))
    row.runs.append(seconds)
    if rss is not None:
        row.peak_rss = max(row.peak_rss or 0, rss)


@dataclass
class Verdict:
    target: str
    measured: str
    verdict: str


def passes(ok: bool, scaled: str = "") -> str:
    """PASS or FAIL, with `scaled` appended (a note that the target is for another size)."""
    return ("PASS" if ok else "FAIL") + scaled


def mb(size: int | None) -> str:
    return "—" if size is None else f"{size / 2**20:,.0f} MB"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 1 else f"{seconds:.2f}"
