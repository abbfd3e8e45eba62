"""The per-layout part of the benchmark kit on a tiny corpus: the generator prints the
same crawl in every layout the text form reads, each parses back whole, and the section
renders. No timing assertions, as in test_benchmarks_smoke.py.
"""

from __future__ import annotations

import re

from benchmarks import layouts_kit
from benchmarks.generate import generate_corpus
from render.text import TEXT_LAYOUTS


def test_every_layout_prints_the_same_documents_and_the_kit_reads_them_all() -> None:
    crawls = {
        layout: list(generate_corpus(200, seed=5, text_layout=layout, increment_days=0))
        for layout in TEXT_LAYOUTS
    }
    ids = {layout: [p.doc_ids for p in pages] for layout, pages in crawls.items()}
    assert len({tuple(v) for v in ids.values()}) == 1  # one crawl, printed seven ways
    # DocHub's rating stands on its own line before each tail; moredoc-web's follows it.
    rating_line = re.compile(r"(?m)^[0-9]\.[0-9] 分$")
    assert all(len(rating_line.findall(p.text)) == 10 for p in crawls["dochub-2018-08-11"])
    assert not any(rating_line.search(p.text) for p in crawls["moredoc-web-2024-07"])
    # measure() raises unless every page parses with no reject and all its listings.
    results = layouts_kit.measure(200, repeat=1, seed=5)
    assert list(results) == list(TEXT_LAYOUTS)
    assert {r["listings"] for r in results.values()} == {200}
    assert results["moredoc-web-2024-07"]["detected"] == 1.0
    lines = layouts_kit.section(results, n_listings=200, repeat=1, seed=5, measured="now")
    assert lines[0] == layouts_kit.HEADING
    rows = tuple(f"| {name} |" for name in TEXT_LAYOUTS)
    assert sum(line.startswith(rows) for line in lines) == len(TEXT_LAYOUTS)
