"""A run never reads what it writes itself: a warehouse or report inside an input folder is
skipped and named in the summary (pipeline/run/outputs.py)."""

from __future__ import annotations

from pathlib import Path

from pipeline.ingest import metadata
from pipeline.run import run
from pipeline.run.outputs import OWN_OUTPUT


def test_a_report_and_warehouse_in_the_input_folder_are_skipped(
    raw_copy: Path, tmp_path: Path
) -> None:
    db, report = raw_copy / "w.json", raw_copy / "report.html"  # names a page could have
    lake = tmp_path / "lake"

    def once(**settings: object) -> run.RunSummary:
        config = run.RunConfig.of([raw_copy], lake, db=db, report=report, **settings)
        return run.Run(config).run()

    first = once()
    assert db.exists() and report.exists()
    again = once(full_refresh=True)  # reads every input again, the outputs now among them
    for summary in (first, again):
        assert (summary.files_found, summary.snapshots, summary.rejects) == (6, 6, 0)
    target = raw_copy / "target"  # the build's run artifacts (JSON, a form a run reads)
    own = [db, report, target / "run_results.json", target / "manifest.json"]
    assert sorted(again.skipped) == sorted((OWN_OUTPUT, str(path)) for path in own)
    assert f"skipped:        4 {OWN_OUTPUT} (" in again.render()
    # For a run that does not write them they are files like any other.
    plain = run.normalise_paths([raw_copy], tmp_path / "other", metadata.ReadOptions())
    assert plain.files_found == 10  # 6 pages, the warehouse, the report, 2 artifacts
