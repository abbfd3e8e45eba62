"""Generated input for the benchmarks, cached on disk by (listings, seed).

`dataset(n, seed, cache)` returns the folder of page files (with sidecars) that
`benchmarks.generate.write_batch` writes for that (n, seed), generating it only when the
cache does not hold a complete copy: 1 M listings take about a minute to generate, and a
rerun of the kit should measure the pipeline, not the generator. A folder is complete
once its marker is written, and it is generated under a temporary name and renamed into
place, so an interrupted run never leaves a half folder that looks usable.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.generate import write_batch
from pipeline import read

DEFAULT_CACHE = Path(__file__).with_name("out")  # git-ignored
MARKER = ".complete.json"  # a dot file: `read.discover` skips it


@dataclass(frozen=True)
class Dataset:
    """A folder of generated page files and what it holds."""

    root: Path
    listings: int
    seed: int
    files: int  # page files, sidecars not counted
    bytes: int  # bytes of the page files, sidecars not counted

    @property
    def megabytes(self) -> float:
        return self.bytes / 2**20

    def page_files(self) -> list[Path]:
        return read.discover([self.root])


def dataset_dir(cache: Path, n_listings: int, seed: int) -> Path:
    return cache / "data" / f"listings-{n_listings}-seed-{seed}"


def dataset(n_listings: int, seed: int = 0, cache: Path = DEFAULT_CACHE) -> Dataset:
    """The cached dataset for (n_listings, seed), generated first if missing or incomplete."""
    root = dataset_dir(cache, n_listings, seed)
    marker = root / MARKER
    if marker.exists():
        facts = json.loads(marker.read_text(encoding="utf-8"))
        return Dataset(root, n_listings, seed, facts["files"], facts["bytes"])
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    start = time.perf_counter()
    written = write_batch(tmp, n_listings, seed=seed)
    pages = [path for path in written if not path.name.endswith(read.SIDECAR_SUFFIX)]
    facts = {
        "listings": n_listings,
        "seed": seed,
        "files": len(pages),
        "bytes": sum(path.stat().st_size for path in pages),
        "generated_s": round(time.perf_counter() - start, 1),
    }
    (tmp / MARKER).write_text(json.dumps(facts) + "\n", encoding="utf-8")
    tmp.rename(root)
    return Dataset(root, n_listings, seed, facts["files"], facts["bytes"])


def warm(data: Dataset) -> None:
    """Read every page file and sidecar once, so every timed run starts with a warm cache."""
    for path in data.root.iterdir():
        if path.is_file():
            path.read_bytes()
