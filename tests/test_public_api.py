"""`import pipeline` is the notebook API: five names, a quick start that runs as written, and
an import that costs nothing until a name is used."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

import pipeline
from pipeline.lake.manifest import scan
from pipeline.run.run import normalise_paths
from pipeline.warehouse.database import build, connect, query
from tests.conftest import RAW, REPO
from tests.test_notebooks import snippet


def _quick_start() -> str:
    """The code block of pipeline/__init__.py's docstring."""
    doc = inspect.getdoc(pipeline) or ""
    lines = doc.split("Quick start", 1)[1].split("\n\n")[1]
    return textwrap.dedent(lines) + "\n"


def test_the_public_names_are_the_stage_functions() -> None:
    assert sorted(pipeline.__all__) == ["build", "connect", "normalise", "query", "scan"]
    assert (pipeline.normalise, pipeline.scan, pipeline.build) == (normalise_paths, scan, build)
    assert (pipeline.connect, pipeline.query) == (connect, query)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = pipeline.nothing  # type: ignore[attr-defined]


def test_the_notebook_doc_leads_with_the_docstring_quick_start() -> None:
    assert snippet("The quick start: `import pipeline`") == _quick_start()


def test_the_quick_start_runs_as_written_on_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(RAW, tmp_path / "data" / "raw")
    monkeypatch.chdir(tmp_path)
    lines = _quick_start().splitlines()
    namespace: dict[str, object] = {}
    exec("\n".join(lines[:-1]), namespace)  # import, normalise, scan, build
    documents = eval(lines[-1].split("  #")[0], namespace)  # the last line's value
    assert isinstance(documents, pl.DataFrame)
    assert documents.height == 33
    assert pipeline.scan("data/lake", "listings").select(pl.len()).collect().item() == 53


def test_importing_pipeline_loads_nothing_of_ours_nor_polars() -> None:
    code = (
        "import sys, pipeline\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pipeline.', 'polars', 'duckdb'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
