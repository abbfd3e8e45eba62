"""The benchmark kit's machinery on a tiny input: every row is there, the counts agree.

No timing assertions: speed is judged by `python -m benchmarks`, never by tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from benchmarks import kit
from benchmarks.__main__ import build_parser
from benchmarks.dataset import dataset
from benchmarks.stages import ALL_STAGES, STAGES

N_LISTINGS = 200


def test_kit_measures_every_stage_and_the_baseline_finds_the_pipelines_listings(
    tmp_path: Path,
) -> None:
    data = dataset(N_LISTINGS, seed=5, cache=tmp_path / "cache")
    assert data.files == len(data.page_files()) == N_LISTINGS // 10
    assert dataset(N_LISTINGS, seed=5, cache=tmp_path / "cache") == data  # cached, not redone

    result = kit.measure_size(data, tmp_path / "work", repeat=1)

    assert set(STAGES) <= set(ALL_STAGES)
    keys = ("floor", "regex", "baseline", "e2e", "e2e-snapshot", "e2e-workers", "rerun",
            "stages", "write-snapshot")  # fmt: skip
    for key in keys:
        assert key in result.rows, key
    for stage in ALL_STAGES:
        assert f"stage:{stage}" in result.rows, stage
    for key in ("floor", "baseline", "e2e", "e2e-snapshot", "e2e-workers", "rerun", "stages"):
        assert result.rows[key].peak_rss, key  # each measured in its own process
    assert result.listings["baseline"] == result.listings["e2e"] == N_LISTINGS
    assert result.listings["e2e, snapshot layout"] == N_LISTINGS
    assert result.listings["e2e, worker processes"] == N_LISTINGS
    assert result.listings["floor"] == result.listings["stages"] == N_LISTINGS
    assert result.rerun_new_listings == 0
    assert not (tmp_path / "work").exists()  # scratch lakes are removed

    text = kit.report(
        [result], started=datetime.now(UTC), load_before="n/a", command="python -m benchmarks"
    )
    for stage in STAGES:
        assert f"| stage: {stage} " in text, stage
    assert "## Targets (issue 5)" in text
    assert text.count("| PASS") + text.count("| FAIL") + text.count("| NOT MEASURED") == 6


def test_help_names_the_full_run() -> None:
    assert "--full" in build_parser().format_help()
