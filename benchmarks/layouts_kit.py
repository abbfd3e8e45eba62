"""The kit's per-layout section: listings/s of the text form in each layout it reads.

The same generated crawl (one seed, `generate.generate_corpus`) is printed in every layout
the text form reads (`render.text.TEXT_LAYOUTS`: titles on their own line a third of the time,
pages flattened further, hidden ages, as the generator draws them) and each is parsed
in-process, after the imports:

- `text.parse_pages`, the text parser alone: layout detection, then the layout's
  vectorised rules;
- `normalise.normalise_batch`, the whole parse stage (validation and assembly included);
- `text.detect_layouts` alone, to show what telling the layouts apart costs next to the
  parse it serves (the target: at most 10 % on today's layout, moredoc-web-2024-07).

Median of `repeat` runs, the layouts interleaved. `python -m benchmarks.layouts_kit`
prints the section and, unless `--no-write`, puts it into benchmarks/RESULTS.md in place
of the old one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from benchmarks import forms_kit
from benchmarks.generate import generate_corpus
from pipeline import vocab
from pipeline.ingest import metadata
from pipeline.parse import text
from pipeline.run import normalise
from render.fields import DEFAULT_TEXT_LAYOUT
from render.text import TEXT_LAYOUTS

HEADING = "## Throughput per text layout"
RESULTS = Path(__file__).with_name("RESULTS.md")


def read_frame(pages: list[tuple[str, datetime, str]]) -> pl.DataFrame:
    """A batch as `read.read_batch` gives it, built in memory: (text, fetched_at, url)."""
    rows = []
    for n, (content, fetched_at, url) in enumerate(pages):
        raw = content.encode("utf-8")
        rows.append({
            "snapshot_id": metadata.snapshot_id(raw, fetched_at),
            "source_path": f"page-{n}.txt",
            "byte_count": len(raw),
            "mtime_ns": 0,
            "content_sha256": metadata.content_hash(raw),
            "fetched_at": fetched_at,
            "fetched_at_source": "sidecar",
            "url": url,
            "site": "wenku.it",
            "query": None,
            "page": None,
            "form": "text",
            "read_error": None,
            "metadata_warning": None,
            "text": content,
            "fragment": None,
            "read_seconds": 0.0,
        })  # fmt: skip
    return pl.DataFrame(rows, schema=vocab.READ_FRAME)


def corpus(layout: str, n_listings: int, seed: int) -> pl.DataFrame:
    pages = [
        (page.text, datetime.fromisoformat(page.sidecar["fetched_at"]).astimezone(UTC),
         page.sidecar["url"])
        for page in generate_corpus(
            n_listings, seed=seed, text_layout=layout, increment_days=0, increment_pages=0
        )
    ]  # fmt: skip
    return read_frame(pages)


def _seconds(step: Callable[[pl.DataFrame], object], pages: pl.DataFrame) -> float:
    start = time.perf_counter()
    step(pages)
    return time.perf_counter() - start


def measure(n_listings: int, repeat: int, seed: int) -> dict[str, dict[str, object]]:
    frames = {layout: corpus(layout, n_listings, seed) for layout in TEXT_LAYOUTS}
    times: dict[str, dict[str, list[float]]] = {
        layout: {"detect": [], "parse": [], "stage": []} for layout in TEXT_LAYOUTS
    }
    counts: dict[str, int] = {}
    share: dict[str, float] = {}
    for _ in range(repeat):
        for layout, frame in frames.items():
            pages = frame.select("snapshot_id", "site", "fetched_at", "url", "text")
            times[layout]["detect"].append(_seconds(text.detect_layouts, pages))
            times[layout]["parse"].append(_seconds(text.parse_pages, pages))
            start = time.perf_counter()
            tables = normalise.normalise_batch(frame)
            times[layout]["stage"].append(time.perf_counter() - start)
            counts[layout] = tables.listings.height
            # A page whose sizes all print alike trimmed or not (or with no time shown)
            # is the same text in a sibling layout, and may be detected as that one.
            detected = tables.snapshots["layout"].value_counts(sort=True).rows()
            if tables.rejects.height or tables.listings.height != frame.height * 10:
                raise AssertionError(
                    f"{layout}: {tables.listings.height} listings, "
                    f"{tables.rejects.height} rejects, detected {detected}"
                )
            share[layout] = sum(n for name, n in detected if name == layout) / frame.height
    return {
        layout: {
            "megabytes": frames[layout]["byte_count"].sum() / 1e6,
            "listings": counts[layout],
            "detected": share[layout],
            **{k: statistics.median(v) for k, v in spent.items()},
        }
        for layout, spent in times.items()
    }


def section(results: dict[str, dict[str, object]], *, n_listings: int, repeat: int,
            seed: int, measured: str) -> list[str]:  # fmt: skip
    lines = [
        HEADING,
        "",
        measured,
        "",
        f"{n_listings:,} generated listings (seed {seed}, `benchmarks.generate` with "
        "`text_layout`) printed in each layout the text form reads (docs/input-format.md §0), "
        "parsed in-process after the imports: `text.parse_pages` (detection + the layout's "
        "rules), the whole parse stage `normalise.normalise_batch` (validation and assembly "
        "included), and `text.detect_layouts` alone; detection is its share of the text "
        f"parse. Median of {repeat} runs, the layouts interleaved.",
        "",
        "| layout | input MB | text parse s | listings/s | parse stage s | listings/s "
        "| detection s | detection / parse | pages detected as it |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for layout, r in results.items():
        n, parse, stage, detect = r["listings"], r["parse"], r["stage"], r["detect"]
        lines.append(
            f"| {layout} | {r['megabytes']:.1f} | {parse:.2f} | {n / parse:,.0f} | {stage:.2f} "
            f"| {n / stage:,.0f} | {detect:.3f} | {detect / parse:.1%} | {r['detected']:.1%} |"
        )
    today = results[DEFAULT_TEXT_LAYOUT.name]
    share = today["detect"] / today["parse"]
    verdict = "met" if share <= 0.10 else "NOT met"
    lines += ["", "Every page parsed with no reject; a page not detected as its own layout "
              "is one its sibling prints byte for byte (every size has two nonzero decimals, "
              "so trimmed or not is the same text; or no listing shows its time).", "",
              f"Detection on {DEFAULT_TEXT_LAYOUT.name}: {share:.1%} of the text parse "
              f"(target ≤ 10 %: {verdict})."]  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.layouts_kit",
        description="listings/s of the text form in each layout it reads, and the cost of "
        "detecting the layout; writes its section of benchmarks/RESULTS.md",
    )
    parser.add_argument("--listings", type=int, default=50_000, help="default: %(default)s")
    parser.add_argument("--repeat", type=int, default=3, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    parser.add_argument("--results", type=Path, default=RESULTS, help="default: %(default)s")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    print(f"generating {args.listings:,} listings in {len(TEXT_LAYOUTS)} layouts …",
          file=sys.stderr, flush=True)  # fmt: skip
    results = measure(args.listings, args.repeat, args.seed)
    measured = f"Measured {datetime.now(UTC):%Y-%m-%d} with `python -m benchmarks.layouts_kit`."
    lines = section(results, n_listings=args.listings, repeat=args.repeat, seed=args.seed,
                    measured=measured)  # fmt: skip
    new = "\n".join(lines) + "\n"
    print(new)
    if not args.no_write:
        old = args.results.read_text(encoding="utf-8") if args.results.exists() else ""
        args.results.write_text(with_section(old, new), encoding="utf-8")
    return 0


def existing_section(text_: str) -> str | None:
    """This section of a RESULTS.md text, from its heading to the next `## ` heading (the
    blank line before that included), or None: `python -m benchmarks` carries it over."""
    start = text_.find(f"\n{HEADING}\n")
    if start < 0:
        return None
    end = text_.find("\n## ", start + len(HEADING) + 2)
    return text_[start + 1 : end + 1 if end >= 0 else len(text_)]


def with_section(text_: str, new: str) -> str:
    """RESULTS.md with this section replaced (or added after the per-form section)."""
    start = text_.find(f"\n{HEADING}\n")
    if start >= 0:
        end = text_.find("\n## ", start + len(HEADING) + 2)
        rest = text_[end + 1 :] if end >= 0 else ""
        return text_[: start + 1] + new + ("\n" + rest if rest else "")
    old = forms_kit.existing_section(text_)
    if old is not None:
        at = text_.find(old) + len(old)
        return text_[:at].rstrip("\n") + "\n\n" + new + "\n" + text_[at:].lstrip("\n")
    return (text_.rstrip("\n") + "\n\n" if text_.strip() else "") + new


if __name__ == "__main__":
    raise SystemExit(main())
