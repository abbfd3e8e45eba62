"""Screenshots of the HTML report at two sizes, to judge by eye how it reads.

Builds the report from scratch twice, in a temporary folder (raw → lake → warehouse →
report), and saves a PNG of each in docs/report/:

- sample.png: the committed sample pages (`data/raw/`): 53 listings, 4 queries, one fetch
  each, the case where a trend has nothing to draw;
- 20k.png: 20 000 generated listings over two years of daily crawls of 12 queries
  (`benchmarks.dataset`, cached in benchmarks/out/), the case of many queries and periods;
- empty.png: a warehouse built from a lake with nothing in it.

Needs Chromium (`apt-get install -y chromium fonts-noto-cjk`: the fonts draw the CJK
titles). Takes about a minute, most of it normalising the 20 000 listings.

    .venv/bin/python scripts/report_screenshots.py            # → docs/report/*.png
    .venv/bin/python scripts/report_screenshots.py --keep /tmp/reports   # keep the HTML too
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the benchmarks package (the corpus generator) is not installed

from benchmarks import dataset  # noqa: E402
from pipeline.ingest import metadata  # noqa: E402
from pipeline.report import browser as report_browser  # noqa: E402
from pipeline.report import page as report  # noqa: E402
from pipeline.run import run  # noqa: E402
from pipeline.warehouse import database  # noqa: E402

OUT = REPO / "docs" / "report"
LARGE = 20_000  # listings in the large case


def build(raw: Path, work: Path, name: str) -> Path:
    """raw → lake → warehouse → report under `work/name`; returns the HTML file."""
    started = time.perf_counter()
    lake, db = work / name / "lake", work / name / "warehouse.duckdb"
    run.normalise_paths([raw], lake, metadata.ReadOptions())
    database.build(lake, db)
    page = report.write(db, work / name / "report.html")
    print(f"{name}: report built in {time.perf_counter() - started:.1f} s: {page}", flush=True)
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    parser.add_argument("--keep", type=Path, help="build here and keep it (default: a temp dir)")
    parser.add_argument("--height", type=int, default=4000, help="screenshot height in pixels")
    args = parser.parse_args(argv)
    report_browser.chromium()  # fail before the builds if there is no browser
    with tempfile.TemporaryDirectory(prefix="report-screenshots-") as tmp:
        work = args.keep or Path(tmp)
        (work / "nothing").mkdir(parents=True, exist_ok=True)
        large = dataset.dataset(LARGE).corpus
        cases = {
            "sample": REPO / "data" / "raw",
            "20k": large,
            "empty": work / "nothing",
        }
        for name, raw in cases.items():
            page = build(raw, work, name)
            height = 1200 if name == "empty" else args.height
            png = report_browser.screenshot(page, args.out / f"{name}.png", height=height)
            print(f"{name}: {png}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
