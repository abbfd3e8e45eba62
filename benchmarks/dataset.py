"""Generated input for the benchmarks, cached on disk by its generator arguments.

`dataset(n, seed, cache)` returns the folder `benchmarks.generate.write_corpus` writes for
those arguments (the corpus under `raw/`, one folder per fetch day, and the increments
under `increments/`), generating it only when the cache does not hold a complete copy: the
large corpus takes a while to generate, and a rerun of the kit should measure the pipeline,
not the generator. A folder is complete once its marker is written, and it is generated
under a temporary name and renamed into place, so an interrupted run never leaves a half
folder that looks usable.

A corpus can be generated in each input form (`generate.FORMS`); the text form's folder
name has no form in it (the name it had before the other forms existed, so caches stay
valid), the others' do, with their own version: `corpus-v2-html-saved.v2-100000-…`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import generate
from pipeline.ingest import sources

DEFAULT_CACHE = Path(__file__).with_name("out")  # git-ignored
MARKER = ".complete.json"  # a dot file: `sources.discover` skips it
# Bumped whenever the generator's output changes, so a cache never serves stale pages.
GENERATOR_VERSION = 2
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
) -> Path:
    kind = "" if form == "text" else f"{form}.v{STRUCTURED_FORMS_VERSION}-"
    name = (
        f"corpus-v{GENERATOR_VERSION}-{kind}{n_listings}-over-{days}d"
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
) -> Dataset:
    """The cached dataset for these arguments, generated first if missing or incomplete."""
    if form not in generate.FORMS:
        raise ValueError(f"form must be one of {generate.FORMS}, got {form!r}")
    root = dataset_dir(cache, n_listings, seed, days, increment_days, increment_pages, form)
    marker = root / MARKER
    if not marker.exists():
        tmp = root.with_name(root.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        start = time.perf_counter()
        written = generate.write_corpus(
            tmp,
            n_listings,
            seed=seed,
            form=form,
            days=days,
            increment_days=increment_days,
            increment_pages=increment_pages,
        )
        corpus = [p for p in written if p.parts[len(tmp.parts)] == generate.CORPUS_DIR]
        increments = tmp / generate.INCREMENTS_DIR
        facts = {
            "listings": n_listings,
            "seed": seed,
            "form": form,
            "files": len(corpus),
            "bytes": sum(path.stat().st_size for path in corpus),
            "days": days,
            "increment_days": sorted(os.listdir(increments)) if increments.is_dir() else [],
            "increment_pages": increment_pages,
            "generated_s": round(time.perf_counter() - start, 1),
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
    )


def warm(data: Dataset) -> None:
    """Read every page file and sidecar once, so every timed run starts with a warm cache."""
    for folder, _, names in os.walk(data.root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                handle.read()
