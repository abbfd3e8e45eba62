"""docs/notebooks.md held to the code: its pandas snippet, run as written over the sample lake,
keeps an integer column with nulls an integer, and the identities it states are the keys
the lake's schemas and the marts declare (examples/notebook_example.py, which runs the other
snippets, is tests/warehouse/sql/test_sample_warehouse.py's)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from pipeline import schemas
from pipeline.warehouse.project import load_project
from tests.conftest import REPO

DOC = REPO / "docs" / "notebooks.md"


def _tokens() -> list:
    return MarkdownIt().parse(DOC.read_text(encoding="utf-8"))


def snippet(section: str) -> str:
    """The Python code block under the `## {section}` heading."""
    tokens, under = _tokens(), None
    for at, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            under = tokens[at + 1].content
        elif token.type == "fence" and token.info == "python" and under == section:
            return token.content
    raise AssertionError(f"no python block under ## {section} in {DOC}")


def bullet(starting: str) -> str:
    """The text of the list item whose paragraph starts with `starting`, its lines joined."""
    for token in _tokens():
        if token.type == "inline" and token.content.startswith(starting):
            return token.content.replace("\n", " ")
    raise AssertionError(f"no list item starting {starting!r} in {DOC}")


def test_the_pandas_snippet_reads_integer_columns_with_nulls_as_integers(
    sample_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "lake").symlink_to(sample_lake, target_is_directory=True)
    monkeypatch.chdir(tmp_path)  # the snippet reads data/lake, as from the project's root
    cell: dict[str, object] = {}
    exec(snippet("pandas"), cell)  # the documentation's own code, as written
    frame = cell["frame"]
    assert isinstance(frame, pd.DataFrame)
    assert {column: str(dtype) for column, dtype in frame.dtypes.items()} == {
        "credit": "large_string[pyarrow]",
        "price": "int64[pyarrow]",
        "rating": "double[pyarrow]",
        "pages": "int32[pyarrow]",  # pandas' default: float64, its 2 nulls NaN
    }
    pages = frame["pages"]
    assert (len(pages), int(pages.isna().sum()), int(pages.sum())) == (53, 2, 5_767)
    assert sorted(pages.dropna().tolist())[-3:] == [512, 612, 628]


def test_the_identities_it_states_are_the_keys_the_code_declares() -> None:
    snapshot_key = [
        name for name, column in schemas.Snapshot.to_schema().columns.items() if column.unique
    ]
    listing_key = schemas.Listing.Config.unique
    project = load_project()
    document_key = project.models["dim_documents"].unique_key
    assert (snapshot_key, listing_key, document_key) == (
        ["snapshot_id"],
        ("snapshot_id", "position"),
        ("document_key",),
    )
    assert "document_key" in project.models["fct_listing_appearances"].described.columns
    stated = bullet("**What identifies what.**")
    assert f"A *snapshot* is its `{snapshot_key[0]}`: a hash of the file's bytes," in stated
    assert f"A *listing* is `({', '.join(listing_key)})`:" in stated
    assert f"A *document* is its `{document_key[0]}` (one row of `dim_documents`;" in stated
