"""The benchmark kit on a tiny corpus: what the generator writes, and what the kit measures.

No timing assertions: speed is judged by `python -m benchmarks`, never by tests. The
generator's facts are checked exactly (same seed, same bytes; one folder per fetch day;
documents recurring with their age rendered at each fetch), and so are the kit's counts:
every method finds the same listings, the increments add what they hold, and the lake's
files follow docs/lake.md (one group per run and month, merged by `listings compact`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from benchmarks import generate, kit, warehouse_kit
from benchmarks.__main__ import build_parser
from benchmarks.dataset import dataset
from benchmarks.generate import generate_corpus, pages_per_day
from benchmarks.measures import Row
from benchmarks.stages import ALL_STAGES, STAGES
from pipeline.ingest import metadata, sources, walk
from pipeline.parse.render import render_age, render_tail

N_LISTINGS = 200  # 20 pages
DAYS = 5
INCREMENTS = 2
INCREMENT_PAGES = 5
TINY = {"days": DAYS, "increment_days": INCREMENTS, "increment_pages": INCREMENT_PAGES}
NAME = re.compile(r"^wenku\.it-(?P<query>.+)-p(?P<page>[0-9]+)\.txt$")


def test_same_seed_same_pages_and_another_seed_other_pages() -> None:
    first = list(generate_corpus(N_LISTINGS, seed=3, **TINY))
    again = list(generate_corpus(N_LISTINGS, seed=3, **TINY))
    other = list(generate_corpus(N_LISTINGS, seed=4, **TINY))

    assert [(p.path, p.text, p.sidecar) for p in first] == [
        (p.path, p.text, p.sidecar) for p in again
    ]
    assert [p.text for p in first] != [p.text for p in other]
    # The corpus does not depend on how many increments follow it.
    corpus = [p for p in first if p.part == generate.CORPUS_DIR]
    alone = list(generate_corpus(N_LISTINGS, seed=3, days=DAYS, increment_days=0))
    assert [(p.path, p.text) for p in alone] == [(p.path, p.text) for p in corpus]


def test_pages_are_spread_over_consecutive_days_then_one_increment_a_day() -> None:
    pages = list(generate_corpus(N_LISTINGS, seed=0, **TINY))
    per_folder: dict[tuple[str, str], int] = defaultdict(int)
    for page in pages:
        per_folder[(page.part, page.day)] += 1

    days = [(generate.CORPUS_START + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(7)]
    assert list(per_folder) == [
        *((generate.CORPUS_DIR, day) for day in days[:DAYS]),
        *((generate.INCREMENTS_DIR, day) for day in days[DAYS:]),
    ]
    assert [per_folder[("raw", day)] for day in days[:DAYS]] == [4] * DAYS
    assert [per_folder[("increments", day)] for day in days[DAYS:]] == [INCREMENT_PAGES] * 2
    assert pages_per_day(100_000, 730)[:3] == [136, 137, 137]
    assert sum(pages_per_day(100_000, 730)) == 100_000
    assert {len(page.doc_ids) for page in pages} == {10}


def test_a_page_is_saved_as_a_crawler_saves_it() -> None:
    pages = list(generate_corpus(N_LISTINGS, seed=0, **TINY))
    previous = None
    crawl_pages: dict[tuple[str, str], list[int]] = defaultdict(list)
    for page in pages:
        name = NAME.match(page.name)
        assert name, page.name
        fetched_at = metadata.parse_timestamp(page.sidecar["fetched_at"])
        assert fetched_at.strftime("%Y-%m-%d") == page.day  # the UTC day is the folder
        assert page.sidecar["url"] == (
            f"https://wenku.it/search?wd={quote(name['query'])}&page={name['page']}"
        )
        if previous is not None and previous[0] == (page.day, name["query"]):
            gap = (fetched_at - previous[1]).total_seconds()
            assert generate.PAGE_GAP_S[0] <= gap <= generate.PAGE_GAP_S[1]  # seconds apart
        assert previous is None or fetched_at > previous[1]
        previous = ((page.day, name["query"]), fetched_at)
        crawl_pages[(page.day, name["query"])].append(int(name["page"]))
    # Each crawl walks its query from page 1, page by page; no query twice a day.
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in crawl_pages.values())


def test_documents_recur_with_their_age_rendered_at_each_fetch() -> None:
    pages = list(generate_corpus(2000, seed=0, days=30, increment_days=0))
    days_seen: dict[int, set[str]] = defaultdict(set)
    ages: dict[int, set[str]] = defaultdict(set)
    for page in pages:
        fetched_at = metadata.parse_timestamp(page.sidecar["fetched_at"])
        for doc_id, doc in zip(page.doc_ids, page.docs, strict=True):
            days_seen[doc_id].add(page.day)
            # The tail as the site renders it at this fetch (narrow layouts drop the age).
            tails = (render_tail(doc, fetched_at), render_tail(doc, fetched_at, show_age=False))
            assert any(tail in page.text for tail in tails)
            ages[doc_id].add(render_age(fetched_at, doc.uploaded_at))
    sightings = sum(len(page.doc_ids) for page in pages)
    assert sightings == 2000
    assert len(days_seen) < sightings / 3  # most listings are documents seen before
    assert max(len(days) for days in days_seen.values()) >= 10
    recurring = [doc_id for doc_id, days in days_seen.items() if len(days) >= 10]
    assert any(len(ages[doc_id]) > 1 for doc_id in recurring)  # the age text moves on


def test_the_dataset_is_cached_and_laid_out_in_day_folders(tmp_path: Path) -> None:
    data = dataset(N_LISTINGS, seed=5, cache=tmp_path / "cache", **TINY)

    assert data.files == len(data.page_files()) == N_LISTINGS // 10
    assert sorted(p.name for p in data.corpus.iterdir()) == [
        f"2024-11-0{d}" for d in range(1, DAYS + 1)
    ]
    assert data.increment_days == ("2024-11-06", "2024-11-07")
    assert len(sources.discover([data.increment(1)])) == INCREMENT_PAGES
    sidecar = Path(data.page_files()[0] + walk.SIDECAR_SUFFIX)
    assert set(json.loads(sidecar.read_text(encoding="utf-8"))) == {"url", "fetched_at"}
    assert dataset(N_LISTINGS, seed=5, cache=tmp_path / "cache", **TINY) == data  # cached


def test_kit_measures_every_row_and_every_reader_counts_the_same_rows(tmp_path: Path) -> None:
    data = dataset(N_LISTINGS, seed=5, cache=tmp_path / "cache", **TINY)

    result = kit.measure_size(data, tmp_path / "work", repeat=1)

    assert set(STAGES) <= set(ALL_STAGES)
    for key in ("floor", "regex", "baseline", "e2e", "e2e-workers", "rerun", "stages"):
        assert key in result.rows, key
    for stage in ALL_STAGES:
        assert f"stage:{stage}" in result.rows, stage
    for key in ("floor", "baseline", "e2e", "e2e-workers", "rerun", "stages"):
        assert result.rows[key].peak_rss, key  # each measured in its own process
    assert set(result.listings.values()) == {N_LISTINGS}
    assert result.rerun_new_listings == 0

    w = result.warehouse
    assert w is not None
    new = INCREMENT_PAGES * 10
    assert [run.new_listings for run in w.increments] == [new] * INCREMENTS
    total = N_LISTINGS + INCREMENTS * new
    assert w.copy_rows == {"listings": total, "snapshots": total // 10, "rejects": 0}
    assert w.answers["listings sql"].split(",")[0] == str(total)
    assert w.answers["duckdb"].startswith(f"({total}, ")
    # docs/lake.md: every day here is in 2024-11, so one run writes one group (a file per
    # table); each incremental run adds one; `listings compact` merges them into one.
    assert w.files_one_run == {"listings": 1, "snapshots": 1, "rejects": 1}
    assert w.files_after_increments == {t: 1 + INCREMENTS for t in w.files_one_run}
    assert w.files_compacted == w.files_one_run
    for key in (
        "sql",
        "sql-in",
        "duckdb",
        "duckdb-in",
        "build",
        "floor",
        "floor-memory",
        "compact",
    ):
        assert key in w.rows, key
    assert w.rows["build"].peak_rss
    assert w.floor_facts["listings"] == w.floor_facts["appearances"] == total
    assert 0 < w.floor_facts["documents"] < total  # documents recur
    assert not (tmp_path / "work").exists()  # scratch lakes are removed

    text = kit.report(
        [result], started=datetime.now(UTC), load_before="n/a", command="python -m benchmarks"
    )
    for stage in STAGES:
        assert f"| stage: {stage} " in text, stage
    assert "## Targets: parser" in text
    assert "## Targets: lake and warehouse" in text
    assert "#### Warehouse" in text
    verdicts = text.count("| PASS") + text.count("| FAIL") + text.count("| NOT MEASURED")
    assert verdicts == 6 + 7


def _warehouse(
    files_added: int, slowest_s: float, sql_s: float, build_s: float
) -> warehouse_kit.WarehouseResult:
    one = {"listings": 48, "snapshots": 48, "rejects": 48}
    w = warehouse_kit.WarehouseResult(one)
    after = {t: n + files_added for t, n in one.items()}
    w.increments = [warehouse_kit.IncrementRun(1.0, 2**28, 500, one)] * 29
    w.increments.append(warehouse_kit.IncrementRun(slowest_s, 2**28, 500, after))
    rows = {"sql": sql_s, "duckdb": 0.5, "duckdb-in": 0.05, "build": build_s, "floor": 10.0}
    w.rows = {key: Row(key, key, [s], 2**30) for key, s in rows.items()}
    w.rows["floor-wall"] = Row("floor-wall", "floor-wall", [10.5])
    return w


def test_the_warehouse_verdicts_sit_exactly_on_the_targets(tmp_path: Path) -> None:
    data = dataset(N_LISTINGS, seed=5, cache=tmp_path / "cache", **TINY)
    full = N_LISTINGS  # judge this tiny input as if it were the full size

    def verdicts(w: warehouse_kit.WarehouseResult) -> list[str]:
        judged = warehouse_kit.judge(w, data, floor_s=3.0, e2e_s=10.0, full=full)
        return [v.verdict for v in judged]

    # 12 files added, 2.99 s, sql = 3 × 0.5 + 0.5, build = 2.5 × 10, e2e = 0.3× the floor.
    assert verdicts(_warehouse(12, 2.99, 2.0, 25.0)) == ["PASS"] * 7
    assert verdicts(_warehouse(13, 3.0, 2.01, 25.01)) == ["PASS"] + ["FAIL"] * 4 + ["PASS"] * 2


def test_help_names_the_full_run() -> None:
    assert "--full" in build_parser().format_help()


def test_a_new_report_keeps_the_hand_written_sections_of_the_old_one(tmp_path: Path) -> None:
    """The figures behind design choices are written by hand: a new run must not erase them."""
    old = tmp_path / "RESULTS.md"
    kept = "## Measurements behind design choices\n\n- **a choice** (`module`): 1.0 s.\n"
    old.write_text(f"# Benchmarks\n\n## Targets: parser\n\n| x |\n\n{kept}", encoding="utf-8")
    assert kit.kept_sections(old) == "\n" + kept
    old.write_text(f"# Benchmarks\n\n{kept}\n## Later\n\ntext\n", encoding="utf-8")
    assert kit.kept_sections(old) == "\n" + kept
    assert kit.kept_sections(tmp_path / "missing.md") == ""
