"""The benchmark kit on a tiny corpus: what the generator writes, and what the kit measures.

No timing assertions: speed is judged by `python -m benchmarks`, never by tests. The
generator's facts are checked exactly (same seed, same bytes; one folder per fetch day;
documents recurring with their age rendered at each fetch; the mix of title layouts and
HTML/JSON twins), and so are the kit's counts: every method finds the listings it reads,
the increments add what they hold, and the lake's files follow docs/lake.md (one group per
run and month, merged by `listings compact`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from benchmarks import daily_kit, generate, kit, warehouse_kit
from benchmarks.__main__ import build_parser
from benchmarks.dataset import Dataset, dataset
from benchmarks.generate import generate_corpus, pages_per_day
from benchmarks.measures import Row
from benchmarks.stages import ALL_STAGES, STAGES
from pipeline.ingest import metadata, sources, walk
from render.fields import render_age
from render.text import render_tail

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

    start = generate.corpus_start(DAYS)
    assert start + timedelta(days=DAYS) == generate.CORPUS_END  # every fetch in the past
    days = [(start + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(7)]
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
    # The text pages; the twins saved beside some of them: test_benchmarks_forms.py.
    pages = [p for p in generate_corpus(N_LISTINGS, seed=0, **TINY) if p.form == "text"]
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
    every = list(generate_corpus(2000, seed=0, days=30, increment_days=0))
    pages = [page for page in every if page.form == "text"]
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
    assert sum(len(page.doc_ids) for page in every) == 2000  # twins included
    assert len(days_seen) < sightings / 2  # most listings are documents seen before
    assert max(len(days) for days in days_seen.values()) >= 10
    recurring = [doc_id for doc_id, days in days_seen.items() if len(days) >= 10]
    assert any(len(ages[doc_id]) > 1 for doc_id in recurring)  # the age text moves on


def test_the_mix_is_what_users_crawl_own_line_glued_and_repeated_titles_and_twins() -> None:
    """The issue's mix, from a fixed seed: ~1/3 of the text listings with the title on its own
    line, ~10 % repeated, the rest glued; about one distinct document per three listings;
    HTML/JSON twins beside ~4 % of the text pages, showing ~10 % of the documents."""
    mix = generate.CorpusMix()
    for page in generate_corpus(20_000, seed=0, days=60, increment_days=0):
        mix.add(page, len(page.text.encode()))
    facts = mix.facts()

    assert facts["files"] == {"html": 39, "json": 50, "text": 1911}
    assert facts["twin_files"] == 89 and facts["listings"] == 20_000
    assert facts["text_listings"] == 19_110
    assert mix.text_layouts == {"own_line": 6310, "glued": 10875, "repeated": 1925}
    assert abs(facts["own_line_share"] - 1 / 3) < 0.01
    assert abs(facts["repeated_share"] - 0.1) < 0.01
    assert facts["documents"] == 6777  # documents recur: ~3 listings each
    assert facts["exact_title_documents"] == 3633
    assert facts["twin_documents"] == 813
    assert 0.08 < facts["twin_document_share"] < 0.13
    # Titles are nearly all distinct, as real ones are (the catalogue's titles are many).
    titles = {d.title for p in generate_corpus(20_000, seed=0, days=60, increment_days=0)
              for d in p.docs}  # fmt: skip
    assert len(titles) > 0.98 * facts["documents"]


def test_the_crawler_walks_more_queries_for_more_pages_a_day() -> None:
    assert generate.queries_for(10_000, 730) == len(generate.QUERIES)  # 100 k listings
    assert generate.queries_for(100_000, 730) == 55  # 1 M listings over two years
    assert generate.queries_for(1_000_000, 3650) == 110  # 10 M over ten years
    names = generate.QUERY_NAMES
    assert len(set(names)) == len(names) and not any(" " in name for name in names)


def test_generation_on_worker_processes_writes_the_same_files(tmp_path: Path) -> None:
    options = {"days": 20, "increment_days": 2, "twins": 0.2}
    one = generate.write_corpus(tmp_path / "one", 2000, seed=1, workers=1, **options)
    two = generate.write_corpus(tmp_path / "two", 2000, seed=1, workers=2, **options)
    assert [p.relative_to(tmp_path / "one") for p in one] == [
        p.relative_to(tmp_path / "two") for p in two
    ]
    for path in tmp_path.joinpath("one").rglob("*"):
        if path.is_file():
            twin = tmp_path / "two" / path.relative_to(tmp_path / "one")
            assert twin.read_bytes() == path.read_bytes(), path


def test_the_dataset_is_cached_and_laid_out_in_day_folders(tmp_path: Path) -> None:
    data = dataset(N_LISTINGS, seed=5, cache=tmp_path / "cache", **TINY)

    assert data.files == len(data.page_files()) == N_LISTINGS // 10  # twins included
    assert data.mix["listings"] == N_LISTINGS and data.generated_s is not None
    assert sorted(p.name for p in data.corpus.iterdir()) == [
        f"2026-10-{d}" for d in range(27, 32)
    ]  # DAYS days ending where every corpus ends, in the past
    assert data.increment_days == ("2026-11-01", "2026-11-02")
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
    # Every page's listings end to end; the text pages' for the readers of those only.
    text = data.text_listings
    assert result.listings == {"floor": text, "baseline": text, "e2e": N_LISTINGS,
                               "e2e, worker processes": N_LISTINGS, "stages": text}  # fmt: skip
    assert result.rerun_new_listings == 0
    assert len(result.titles) == 1  # the titles step read from the CLI summary (or None)

    w = result.warehouse
    assert w is not None
    new = INCREMENT_PAGES * 10
    assert [run.new_listings for run in w.increments] == [new] * INCREMENTS
    total = N_LISTINGS + INCREMENTS * new
    assert w.copy_rows == {"listings": total, "snapshots": total // 10, "rejects": 0}
    assert w.answers["listings sql"].split(",")[0] == str(total)
    assert w.answers["duckdb"].startswith(f"({total}, ")
    # docs/lake.md: the corpus's days are all in 2026-10, so one run writes one group (a file
    # per table); each incremental run (2026-11) adds one; `listings compact` merges the
    # increments' groups into one, a month's.
    assert w.files_one_run == {"listings": 1, "snapshots": 1, "rejects": 1}
    assert w.files_after_increments == {t: 1 + INCREMENTS for t in w.files_one_run}
    assert w.files_compacted == {t: 2 for t in w.files_one_run}
    for key in (
        "first-build",
        "sql",
        "sql-in",
        "duckdb",
        "duckdb-in",
        "build",
        "floor",
        "floor-memory",
        "report",
        "verify",
        "compact",
    ):
        assert key in w.rows, key
    assert w.rows["build"].peak_rss
    # The daily runs with --db: on a copy of the first run's lake, each updating the warehouse.
    assert [run.new_listings for run in w.db_runs] == [new] * INCREMENTS
    assert w.db_runs_updated == INCREMENTS
    assert w.lake_bytes and w.warehouse_bytes and w.verify_problems is None
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
    assert daily_kit.HEADING in text
    assert "| a daily run of 50 pages with `--db` (warehouse updated), < 5 s |" in text
    verdicts = text.count("| PASS") + text.count("| FAIL") + text.count("| NOT MEASURED")
    assert verdicts == 6 + 7 + 9  # parser, lake and warehouse, the daily run at 1 M


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


def test_a_new_report_carries_over_what_it_did_not_measure() -> None:
    """The per-form section (under --no-forms), the per-layout one (its own command) and the
    hand-written ones (a heading line may go on: `## Every text layout in one lake (…)`)."""
    forms = "## Throughput per input form\n\nforms table\n"
    layouts = "## Throughput per text layout\n\nlayouts table\n"
    kept = "## Measurements behind design choices\n\n- a choice\n"
    lake = "## Every text layout in one lake (1.05 M listings)\n\nby hand\n"
    old = (
        f"# Old\n\n### 1 listing\n\n{forms}\n{layouts}\n## Targets: parser\n\nold\n\n"
        f"## Reading these numbers\n\nreplaced\n\n{kept}\n{lake}"
    )
    new = "# New\n\n### 2 listings\n\n## Targets: parser\n\nnew\n"

    assert kit.carried_over(new, old, forms_measured=False) == (
        f"# New\n\n### 2 listings\n\n{forms}\n{layouts}\n## Targets: parser\n\nnew\n"
        f"\n{kept}\n{lake}"
    )
    measured = "# New\n\n### 2 listings\n\n## Throughput per input form\n\nnew forms\n\n"
    measured += "## Targets: parser\n\nnew\n"
    assert kit.carried_over(measured, old, forms_measured=True) == (
        "# New\n\n### 2 listings\n\n## Throughput per input form\n\nnew forms\n\n"
        f"{layouts}\n## Targets: parser\n\nnew\n\n{kept}\n{lake}"
    )


def test_the_titles_step_is_read_from_the_cli_summary() -> None:
    summary = (
        "listings:       1000\n"
        "titles:         600 text-form listings titled from a catalogue of 12,345 exact titles "
        "(3 files rewritten, 12.5 s)\n"
        "warehouse:      w.duckdb\n"
    )
    assert kit.titles_seconds(summary) == 12.5
    assert kit.titles_seconds("listings:       1000\n") is None


def _daily_warehouse(
    daily_s: float, db_s: float, updated: int, bytes_ratio: float, report_s: float, verify_s: float
) -> warehouse_kit.WarehouseResult:
    w = _warehouse(0, 1.0, 1.0, 25.0)  # build 2.5 × the floor, 1 GB
    w.increments = [warehouse_kit.IncrementRun(s, 2**28, 500, {}) for s in (0.5, daily_s, 9.0)]
    w.db_runs = [warehouse_kit.IncrementRun(s, 2**28, 500, {}) for s in (1.0, db_s, 20.0)]
    w.db_runs_updated = updated
    w.lake_bytes, w.warehouse_bytes = 10**9, int(bytes_ratio * 10**9)
    w.rows["report"] = Row("report", "report", [report_s], 2**29)
    w.rows["verify"] = Row("verify", "verify", [verify_s], 2**29)
    return w


def test_the_daily_run_verdicts_sit_exactly_on_each_sizes_targets(tmp_path: Path) -> None:
    base = dataset(N_LISTINGS, seed=5, cache=tmp_path / "cache", **TINY)
    one_m = replace(base, listings=1_000_000)
    ten_m = replace(base, listings=10_000_000)

    def verdicts(data: Dataset, first: daily_kit.FirstRun, w: warehouse_kit.WarehouseResult
                 ) -> list[str]:  # fmt: skip
        return [v.verdict for v in daily_kit.judge(data, first, w)]

    # 1 M: 0.3× the floor, titles 15 %, daily median 1.99 s, --db 4.99 s, build 2.5×, 3×,
    # report and verify 9.99 s. The slowest daily runs are over; the median decides.
    first = daily_kit.FirstRun(10.0, 3.0, 3 * 2**30, [1.5, None, 1.5])
    w = _daily_warehouse(1.99, 4.99, 3, 3.0, 9.99, 9.99)
    assert verdicts(one_m, first, w) == ["PASS", "PASS", "—"] + ["PASS"] * 7
    late = daily_kit.FirstRun(10.01, 3.0, None, [1.6])
    w = _daily_warehouse(2.0, 5.0, 3, 3.01, 10.0, 10.0)
    assert (
        verdicts(one_m, late, w)
        == ["FAIL", "FAIL", "—", "FAIL", "FAIL", "PASS", "PASS"] + ["FAIL"] * 3
    )
    # A --db run whose summary does not say the warehouse was updated does not pass.
    w = _daily_warehouse(1.0, 1.0, 2, 1.0, 1.0, 1.0)
    assert verdicts(one_m, first, w)[4] == "FAIL"
    # 10 M: the peak RSS of the first run ≤ 2 GB instead of the titles' share; daily < 4 s,
    # --db < 10 s, report < 30 s, verify < 60 s.
    w = _daily_warehouse(3.99, 9.99, 3, 3.0, 29.99, 59.99)
    first = daily_kit.FirstRun(10.0, 3.0, 2 * 2**30, [5.0])
    assert verdicts(ten_m, first, w) == ["PASS", "—"] + ["PASS"] * 8
    first = daily_kit.FirstRun(10.0, 3.0, 2 * 2**30 + 1, [None])
    assert verdicts(ten_m, first, _daily_warehouse(4.0, 10.0, 3, 3.0, 30.0, 60.0)) == [
        "PASS", "—", "FAIL", "FAIL", "FAIL", "PASS", "PASS", "PASS", "FAIL", "FAIL",
    ]  # fmt: skip
    # Below 1 M the 1 M targets apply, with a note; no titles line is not a pass.
    small = verdicts(base, daily_kit.FirstRun(10.0, 3.0, None, [None]), w)
    assert (
        small[1] == "NOT MEASURED"
        and small[0] == "PASS (target is for 1 M over 730 days: run --full)"
    )
    section = "\n".join(daily_kit.section([(one_m, daily_kit.judge(one_m, first, w))]))
    assert section.startswith(daily_kit.HEADING) and "(targets: 1 M over 730 days)" in section


def test_help_names_the_ten_million_run_and_the_daily_runs_with_the_warehouse() -> None:
    text = build_parser().format_help()
    assert "--10m" in text and "--db-days" in text
    args = build_parser().parse_args(["--10m", "--db-days", "3"])
    assert args.ten_m and args.db_days == 3
