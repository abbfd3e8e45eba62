"""`listings lineage --format text|mermaid|dot|json`: one graph (lake tables, models,
singular tests), drawn for people (text, the default and unchanged), wikis (Mermaid),
Graphviz (DOT) and scripts (JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.report import lineage
from pipeline.warehouse.project import Project, load_project
from tests.warehouse.sql.test_runner import model, write_project

FILES = {
    "staging/stg.sql": model("select * from {{ source('lake', 'listings') }}"),
    "marts/facts.sql": model("select * from {{ ref('stg') }}", "table", "one row per fact"),
    "tests/assert_facts_exist.sql": (
        "-- grain: one row per missing fact\n{{ config(severity='warn') }}\n"
        "select * from {{ ref('facts') }} where false\n"
    ),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)  # files below the working directory are named relative to it
    return load_project(write_project(tmp_path, FILES))


def test_text_is_the_default_and_what_it_always_was(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lineage"]) == 0
    default = capsys.readouterr().out
    assert cli.main(["lineage", "--format", "text"]) == 0
    assert capsys.readouterr().out == default == load_project().lineage() + "\n"


def test_text_of_a_small_project(project: Project) -> None:
    assert lineage.render(project, "text") == (
        "staging/stg (view) <- lake.listings\n"
        "    grain: one row per thing\n"
        "marts/facts (table) <- stg\n"
        "    grain: one row per fact\n"
        "tests/assert_facts_exist (warn) <- facts"
    )


def test_mermaid_draws_layers_as_subgraphs_and_tests_with_dotted_arrows(
    project: Project,
) -> None:
    assert lineage.render(project, "mermaid") == (
        "flowchart LR\n"
        "  subgraph sources[sources]\n"
        '    lake_listings[("lake.listings")]\n'
        "  end\n"
        "  subgraph staging[staging]\n"
        '    stg("stg")\n'
        "  end\n"
        "  subgraph marts[marts]\n"
        '    facts["facts"]\n'
        "  end\n"
        "  subgraph tests[tests]\n"
        '    assert_facts_exist{{"assert_facts_exist"}}\n'
        "  end\n"
        "  lake_listings --> stg\n"
        "  stg --> facts\n"
        "  facts -.-> assert_facts_exist"
    )


def test_dot_draws_layers_as_clusters(project: Project) -> None:
    assert lineage.render(project, "dot") == (
        "digraph lineage {\n"
        "  rankdir=LR;\n"
        '  node [shape=box, fontname="Helvetica", fontsize=11];\n'
        '  subgraph "cluster_sources" {\n'
        '    label="sources";\n'
        '    "lake.listings" [shape=cylinder];\n'
        "  }\n"
        '  subgraph "cluster_staging" {\n'
        '    label="staging";\n'
        '    "stg" [style=rounded];\n'
        "  }\n"
        '  subgraph "cluster_marts" {\n'
        '    label="marts";\n'
        '    "facts" [style=solid];\n'
        "  }\n"
        '  subgraph "cluster_tests" {\n'
        '    label="tests";\n'
        '    "assert_facts_exist" [shape=hexagon, style=dashed];\n'
        "  }\n"
        '  "lake.listings" -> "stg";\n'
        '  "stg" -> "facts";\n'
        '  "facts" -> "assert_facts_exist" [style=dashed];\n'
        "}"
    )


def test_json_lists_nodes_and_edges(project: Project, tmp_path: Path) -> None:
    assert json.loads(lineage.render(project, "json")) == {
        "nodes": [
            {"id": "lake.listings", "kind": "source", "layer": "sources", "materialized": None,
             "grain": None, "severity": None, "path": None},
            {"id": "stg", "kind": "model", "layer": "staging", "materialized": "view",
             "grain": "one row per thing", "severity": None,
             "path": "staging/stg.sql"},
            {"id": "facts", "kind": "model", "layer": "marts", "materialized": "table",
             "grain": "one row per fact", "severity": None,
             "path": "marts/facts.sql"},
            {"id": "assert_facts_exist", "kind": "test", "layer": "tests", "materialized": None,
             "grain": "one row per missing fact", "severity": "warn",
             "path": "tests/assert_facts_exist.sql"},
        ],
        "edges": [
            {"from": "lake.listings", "to": "stg"},
            {"from": "stg", "to": "facts"},
            {"from": "facts", "to": "assert_facts_exist"},
        ],
    }  # fmt: skip


def test_the_real_project_in_json_has_a_node_per_model_and_an_edge_per_dependency(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["lineage", "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    project = load_project()
    models_ = [n["id"] for n in found["nodes"] if n["kind"] == "model"]
    assert models_ == project.order()
    assert [n["id"] for n in found["nodes"] if n["kind"] == "source"] == [
        "lake.snapshots",
        "lake.listings",
        "lake.rejects",
    ]
    assert [n["id"] for n in found["nodes"] if n["kind"] == "test"] == [
        "assert_document_intervals_intersect",
        "assert_listing_counts_match_the_lake",
    ]
    # 18 model reads of models, 3 of lake tables, 3 by the singular tests
    assert len(found["edges"]) == 24
    assert {"from": "fct_listing_appearances", "to": "fct_query_snapshots"} in found["edges"]
    # the appearances carry their document's display title
    assert {"from": "dim_documents", "to": "fct_listing_appearances"} in found["edges"]


def test_an_unknown_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["lineage", "--format", "svg"])
    assert exit_.value.code == 2
    assert "argument --format: invalid choice: 'svg'" in capsys.readouterr().err
