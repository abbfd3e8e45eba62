"""Generated input for the benchmarks, cached on disk by its generator arguments.

`dataset(n, seed, cache)` returns the folder `benchmarks.generate.write_corpus` writes for
those arguments (the corpus under `raw/`, one folder per fetch day, and the increments
under `increments/`), generating it only when the cache does not hold a complete copy: the
large corpus takes a while to generate, and a rerun of the kit should measure the pipeline,
not the generator. A folder is complete once its marker is written, and it is generated
under a temporary name and renamed into place, so an interrupted run never leaves a half
folder that looks usable.

A corpus can be generated in each input form (`generate.FORMS`); the text form's folder
name has no form in it, the others' do, with their own version:
`corpus-v3-html-saved.v2-100000-…`. The text corpus the kit measures is the mix users see
(`generate`: own-line, glued and repeated titles, HTML/JSON twins of some pages); one with
another twin share than its form's default says so (`…-twins-0-…`: the per-form section's
text corpus, the same crawl as the other forms'). The marker keeps what the corpus holds
(`generate.CorpusMix.facts`: files and bytes by form, distinct documents, title layouts,
twins) and how long generating it took.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import generate
from pipeline.ingest import sources

DEFAULT_CACHE = Path(__file__).with_name("out")  # git-ignored
MARKER = ".complete.json"  # a dot file: `sources.discover` skips it
# Bumped whenever the generator's output changes, so a cache never serves stale pages
# (3: the catalogue-heavy mix: ~1/3 own-line titles, distinct titles, many more documents,
# HTML/JSON twins; 4: a corpus of any length ends where the 730-day one does, in the past).
GENERATOR_VERSION = 4
# The same for the HTML and JSON forms alone (2: slides' descriptions start with the title
# the text form repeats), so the text corpora's caches stay valid.
STRUCTURED_FORMS_VERSION = 2


@dataclass(frozen=True)
class Dataset:
    """A generated corpus and its increments, and what they hold."""

    root: Path
    listings: int  # in the corpus
    seed: int
    files: int  # page files of the corpus, sidecars not counted
    bytes: int  # bytes of those page files, sidecars not counted
    days: int  # fetch days of the corpus, one folder each
    increment_days: tuple[str, ...]  # the increments' fetch days (YYYY-MM-DD), in order
    increment_pages: int  # page files in each increment
    form: str = "text"  # one of generate.FORMS
    mix: dict[str, Any] = field(default_factory=dict, compare=False)  # CorpusMix.facts()
    generated_s: float | None = field(default=None, compare=False)  # None: not recorded

    @property
    def text_listings(self) -> int:
        """Listings on the corpus's text pages (those the floor's regex, the baseline and
        the stage breakdown read): all of them unless the corpus has twins."""
        return int(self.mix.get("text_listings", self.listings if self.form == "text" else 0))

    @property
    def twin_files(self) -> int:
        return int(self.mix.get("twin_files", 0))

    @property
    def text_megabytes(self) -> float:
        text = self.mix.get("bytes", {}).get("text")
        return self.megabytes if text is None else text / 2**20

    def describe(self) -> str:
        """What the corpus holds, in a sentence for the report."""
        mix = self.mix
        if not mix.get("documents"):
            return ""
        listings = mix["listings"]
        parts = [
            f"{mix['documents']:,} distinct documents ({mix['documents'] / listings:.0%} of "
            "the listings: documents recur)",
            f"{mix['exact_title_documents']:,} of them shown with an exact title somewhere",
        ]
        if mix.get("text_listings"):
            parts.append(
                f"text listings' titles {mix['own_line_share']:.1%} on their own line, "
                f"{mix['repeated_share']:.1%} repeated, the rest glued"
            )
        if self.twin_files:
            forms = ", ".join(
                f"{n:,} {form}" for form, n in mix["files"].items() if form != self.form
            )
            parts.append(
                f"{self.twin_files:,} HTML/JSON twin pages ({forms}) showing "
                f"{mix['twin_documents']:,} documents ({mix['twin_document_share']:.1%})"
            )
        took = f"; generated in {self.generated_s:,.0f} s" if self.generated_s else ""
        return "; ".join(parts) + took

    @property
    def megabytes(self) -> float:
        return self.bytes / 2**20

    @property
    def corpus(self) -> Path:
        """The crawler's raw folder as the backfill left it: `raw/YYYY-MM-DD/…`."""
        return self.root / generate.CORPUS_DIR

    def increment(self, i: int) -> Path:
        """The folder of the i-th increment (0-based): the pages of one later day."""
        return self.root / generate.INCREMENTS_DIR / self.increment_days[i]

    def page_files(self) -> list[str]:
        return sources.discover([self.corpus])


def dataset_dir(
    cache: Path,
    n_listings: int,
    seed: int,
    days: int,
    increment_days: int,
    increment_pages: int,
    form: str = "text",
    twins: float | None = None,
) -> Path:
    kind = "" if form == "text" else f"{form}.v{STRUCTURED_FORMS_VERSION}-"
    share = generate.default_twins(form) if twins is None else twins
    mixed = "" if share == generate.default_twins(form) else f"-twins-{share:g}"
    name = (
        f"corpus-v{GENERATOR_VERSION}-{kind}{n_listings}-over-{days}d{mixed}"
        f"-inc-{increment_days}x{increment_pages}-seed-{seed}"
    )
    return cache / "data" / name


def dataset(
    n_listings: int,
    seed: int = 0,
    cache: Path = DEFAULT_CACHE,
    *,
    form: str = "text",
    days: int = generate.CORPUS_DAYS,
    increment_days: int = generate.INCREMENT_DAYS,
    increment_pages: int = generate.INCREMENT_PAGES,
    twins: float | None = None,
    workers: int | None = None,
) -> Dataset:
    """The cached dataset for these arguments, generated first if missing or incomplete.

    `twins`: the share of page fetches also saved as HTML or JSON (default: the form's,
    `generate.default_twins`); `workers`: processes to generate on (default:
    `generate.default_workers`; the pages are the same whatever it is)."""
    if form not in generate.FORMS:
        raise ValueError(f"form must be one of {generate.FORMS}, got {form!r}")
    root = dataset_dir(cache, n_listings, seed, days, increment_days, increment_pages, form, twins)
    marker = root / MARKER
    if not marker.exists():
        tmp = root.with_name(root.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        start = time.perf_counter()
        mix = generate.CorpusMix()
        generate.write_corpus(
            tmp,
            n_listings,
            seed=seed,
            form=form,
            workers=workers,
            mix=mix,
            days=days,
            increment_days=increment_days,
            increment_pages=increment_pages,
            twins=twins,
        )
        increments = tmp / generate.INCREMENTS_DIR
        held = mix.facts()
        facts = {
            "listings": n_listings,
            "seed": seed,
            "form": form,
            "files": sum(held["files"].values()),
            "bytes": sum(held["bytes"].values()),
            "days": days,
            "increment_days": sorted(os.listdir(increments)) if increments.is_dir() else [],
            "increment_pages": increment_pages,
            "generated_s": round(time.perf_counter() - start, 1),
            "mix": held,
        }
        (tmp / MARKER).write_text(json.dumps(facts) + "\n", encoding="utf-8")
        tmp.rename(root)
    facts = json.loads(marker.read_text(encoding="utf-8"))
    return Dataset(
        root,
        n_listings,
        seed,
        facts["files"],
        facts["bytes"],
        facts["days"],
        tuple(facts["increment_days"]),
        facts["increment_pages"],
        facts.get("form", "text"),  # caches written before the forms existed are text
        facts.get("mix", {}),
        facts.get("generated_s"),
    )


def warm(data: Dataset) -> None:
    """Read every page file and sidecar once, so every timed run starts with a warm cache."""
    for folder, _, names in os.walk(data.root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                handle.read()
