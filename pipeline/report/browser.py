"""Open a report in headless Chromium: a screenshot to look at, the DOM a browser builds.

The one place that starts a browser: for `scripts/report_screenshots.py` (PNGs in
docs/report/) and the test holding the sample report to rendering in a real browser.
Debian's `chromium` is the browser (`fonts-noto-cjk` draws CJK titles); every run gets a
fresh profile and no network service, so nothing but the file is loaded or left behind.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from pipeline.errors import ListingsError

INSTALL = "apt-get install -y chromium"
TIMEOUT_S = 180
# Quiet and hermetic: no first-run pages, no update or sync traffic, no QUIC probing.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class NoBrowserError(ListingsError):
    """No Chromium on PATH."""


def chromium() -> str:
    """The Chromium executable, or `NoBrowserError` saying how to install it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise NoBrowserError(f"no chromium on PATH: install it with `{INSTALL}`")
    return found


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 4000) -> Path:
    """A `width` x `height` screenshot of a local HTML file (the top of a longer page)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(f"--screenshot={png.resolve()}", f"--window-size={width},{height}", page=page)
    return png


def dom(page: Path, *, budget_ms: int = 5000) -> str:
    """The document as the browser holds it once loaded (after any script ran): `--dump-dom`."""
    return _run("--dump-dom", f"--virtual-time-budget={budget_ms}", page=page)


def _run(*args: str, page: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        done = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            encoding="utf-8",  # the DOM as Chromium writes it, whatever the locale
            timeout=TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        raise ListingsError(f"chromium exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done.stdout
