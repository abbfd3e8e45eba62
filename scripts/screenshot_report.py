"""Render the HTML report in headless Chromium and save a PNG, to see that the charts draw.

Not part of CI (CI has no browser): run it after changing pipeline/report.py and look at
the picture. Needs Debian's `chromium` (apt-get install -y chromium fonts-noto-cjk).

    python scripts/screenshot_report.py data/report.html /tmp/report.png
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def screenshot(page: Path, png: Path, width: int = 1100, height: int = 3200) -> Path:
    """Take a full-height screenshot of a local HTML file; raises if Chromium fails."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("no chromium on PATH: apt-get install -y chromium fonts-noto-cjk")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={png.resolve()}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("report", type=Path, help="the HTML report")
    parser.add_argument("png", type=Path, help="where to write the screenshot")
    args = parser.parse_args(argv)
    print(screenshot(args.report, args.png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
