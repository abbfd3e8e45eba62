"""The sample report in a real browser: headless Chromium builds every chart and tooltip.

The other report tests read the file; this one holds it to what a browser makes of it: the
inline SVG parses into the same charts and marks, every mark keeps its tooltip, and nothing
is reported broken. Chromium is required, not optional: `make test` installs it
(scripts/ensure_chromium.sh), and a machine without it fails here saying how to install it,
rather than skipping silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.report import browser as report_browser
from tests.report.test_report import build_sample, charts, marks, tips


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample(tmp_path_factory.mktemp("report-browser"))


@pytest.fixture(scope="module")
def dom(sample: Path) -> str:
    try:
        report_browser.chromium()
    except report_browser.NoBrowserError as error:
        missing = f"{error}, or run `make test`, which installs it when missing"
    else:
        return report_browser.dom(sample)
    pytest.fail(missing, pytrace=False)


def test_chromium_draws_every_chart_with_every_mark_and_tooltip(sample: Path, dom: str) -> None:
    page = sample.read_text(encoding="utf-8")
    drawn, built = charts(page), charts(dom)
    assert len(built) == len(drawn) == 9
    for kind in ("bar", "text", "axis"):
        assert [marks(svg, kind) for svg in built] == [marks(svg, kind) for svg in drawn]
    assert [marks(svg, "bar") for svg in built] == [3, 3, 6, 8, 9, 9, 11, 4, 1]
    assert [len(tips(svg)) for svg in built] == [3, 3, 6, 8, 9, 9, 11, 4, 1]


def test_chromium_reports_nothing_broken(dom: str) -> None:
    visible = re.sub(r"<[^>]+>", " ", dom)
    for word in ("Error", "error:", "undefined", "NaN", "parsererror"):
        assert word not in visible
    assert "<parsererror" not in dom
    assert dom.count("<details") == 14 + 1  # the SQL behind each part, the passing tests
