"""The report's charts at the size of a long crawl: ten years of monthly points for the
60 query panels the report draws at most (pipeline/report/charts.py, `svg`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import polars as pl

from pipeline.report import charts
from pipeline.report.data import MAX_PANELS

SVG = "{http://www.w3.org/2000/svg}"


def test_sixty_query_panels_over_ten_years_of_months_draw_every_point() -> None:
    """7,200 points, over altair's 5,000-row guard: every one is drawn, with its tooltip."""
    months = [f"{2016 + m // 12}-{m % 12 + 1:02d}-01" for m in range(120)]
    frame = pl.DataFrame(
        {
            "series": [f"query {q:02d}" for q in range(MAX_PANELS) for _ in months],
            "period": months * MAX_PANELS,
            "total_results": [q * 1000 + m for q in range(MAX_PANELS) for m in range(120)],
            "last_fetch_at": [datetime(2026, 10, 31, tzinfo=UTC)] * (MAX_PANELS * 120),
            "fetches": [30] * (MAX_PANELS * 120),
        }
    )
    svg = charts.small_multiples(frame, unit="month")
    tips = [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}title")]
    points = [tip for tip in tips if " · month " in tip]
    assert len(points) == 7_200
    assert points[0].startswith("query 00 · month 2016-01-01: 0 results")
