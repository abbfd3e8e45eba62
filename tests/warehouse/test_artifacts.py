"""A build writes run_results.json and manifest.json in dbt's shape into its target folder and
keeps the same documents in the warehouse (`_artifacts`); a failed build's stay with its
failed file. Their entries have the keys real dbt's have for the same project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.errors import DataTestFailure, ModelError
from pipeline.warehouse import artifacts, database
from pipeline.warehouse.project import DEFAULT_PROJECT, Project, load_project
from tests.warehouse.sql.test_runner import model, write_project
from tests.warehouse.test_dbt_build import _dbt_build

RESULT_TYPES = {
    "status": str, "timing": list, "thread_id": str, "execution_time": float,
    "adapter_response": dict, "message": (str, type(None)), "failures": (int, type(None)),
    "unique_id": str, "compiled": bool, "compiled_code": str,
    "relation_name": (str, type(None)), "batch_results": type(None),
}  # fmt: skip
NODE_TYPES = {
    "unique_id": str, "resource_type": str, "name": str, "package_name": str, "path": str,
    "original_file_path": str, "fqn": list, "depends_on": dict, "config": dict,
    "description": str, "columns": dict, "raw_code": str, "compiled_code": str, "tags": list,
}  # fmt: skip


def _files(target: Path) -> dict[str, Any]:
    return {
        name: json.loads((target / name).read_text(encoding="utf-8"))
        for name in (artifacts.RUN_RESULTS, artifacts.MANIFEST)
    }


def _stored(db: Path) -> dict[str, Any] | None:
    with duckdb.connect(str(db), read_only=True) as con:
        return artifacts.read(con)


@pytest.fixture(scope="module")
def sample(sample_warehouse: Path) -> tuple[Project, dict[str, Any], dict[str, Any]]:
    """The project, and the sample build's run_results and manifest (its target folder)."""
    found = _files(sample_warehouse.parent / artifacts.TARGET)
    return load_project(), found[artifacts.RUN_RESULTS], found[artifacts.MANIFEST]


def test_the_warehouse_stores_what_the_target_folder_holds(sample_warehouse: Path) -> None:
    stored = _stored(sample_warehouse)
    assert stored == _files(sample_warehouse.parent / artifacts.TARGET)


def test_run_results_has_dbts_shape_a_result_per_model_and_test(
    sample: tuple[Project, dict[str, Any], dict[str, Any]],
) -> None:
    project, run_results, _ = sample
    assert list(run_results) == ["metadata", "results", "elapsed_time", "args"]
    metadata = run_results["metadata"]
    assert metadata["dbt_schema_version"] == artifacts.RUN_RESULTS_SCHEMA
    assert isinstance(metadata["generated_at"], str) and metadata["generated_at"].endswith("Z")
    assert isinstance(metadata["invocation_id"], str)
    assert isinstance(run_results["elapsed_time"], float)
    assert run_results["args"]["which"] == "build"
    by_id = {result["unique_id"]: result for result in run_results["results"]}
    assert set(by_id) == {f"model.listings.{name}" for name in project.models} | {
        f"test.listings.{test.name}" for test in project.tests
    }
    for unique_id, result in by_id.items():
        assert set(result) == set(RESULT_TYPES), unique_id
        for key, type_ in RESULT_TYPES.items():
            assert isinstance(result[key], type_), (unique_id, key)
        assert [step["name"] for step in result["timing"]] == ["compile", "execute"]
        assert all(set(step) == {"name", "started_at", "completed_at"} for step in result["timing"])
        if unique_id.startswith("model."):
            assert (result["status"], result["message"], result["failures"]) == ("success", "OK",
                                                                                 None)  # fmt: skip
        else:
            assert (result["status"], result["failures"]) == ("pass", 0)
    dim = by_id["model.listings.dim_documents"]
    assert dim["relation_name"] == '"main"."dim_documents"'
    assert dim["compiled_code"] == project.compile("dim_documents")


def test_the_manifest_has_dbts_shape_every_model_test_and_source(
    sample: tuple[Project, dict[str, Any], dict[str, Any]],
) -> None:
    project, _, manifest = sample
    assert manifest["metadata"]["dbt_schema_version"] == artifacts.MANIFEST_SCHEMA
    assert {"nodes", "sources", "macros", "parent_map", "child_map"} <= set(manifest)
    nodes = manifest["nodes"]
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model"}
    tests = {uid: n for uid, n in nodes.items() if n["resource_type"] == "test"}
    assert len(models) + len(tests) == len(nodes)
    assert list(models) == [f"model.listings.{name}" for name in project.order()]
    assert list(tests) == [f"test.listings.{test.name}" for test in project.tests]
    for unique_id, node in nodes.items():
        assert node["unique_id"] == unique_id and node["package_name"] == "listings"
        for key, type_ in NODE_TYPES.items():
            assert isinstance(node[key], type_), (unique_id, key)
    for name, found in project.models.items():
        node = models[f"model.listings.{name}"]
        sources = [f"source.listings.{s}.{t}" for s, t in dict.fromkeys(found.template.sources)]
        assert node["depends_on"]["nodes"] == [
            *(f"model.listings.{ref}" for ref in dict.fromkeys(found.refs)), *sources
        ]  # fmt: skip
        assert node["config"]["materialized"] == found.materialized
        assert node["description"] == found.described.description
        assert node["original_file_path"] == f"{found.layer}/{name}.sql"
        assert manifest["parent_map"][node["unique_id"]] == node["depends_on"]["nodes"]
    for test in project.tests:
        node = tests[f"test.listings.{test.name}"]
        assert node["config"]["severity"] == test.severity
        assert [uid.rsplit(".", 1)[-1] for uid in node["depends_on"]["nodes"]
                if uid.startswith("model.")] == list(dict.fromkeys(test.refs))  # fmt: skip
        assert node.get("attached_node") == (test.model and f"model.listings.{test.model}")
    assert set(manifest["sources"]) == {
        f"source.listings.{s}.{t}" for s, t in project.sources
    }  # fmt: skip
    listings = manifest["sources"]["source.listings.lake.listings"]["columns"]
    assert listings["heading"]["description"] and listings["heading"]["data_type"] == "VARCHAR"
    # every edge both ways
    for child, parents in manifest["parent_map"].items():
        for parent in parents:
            assert child in manifest["child_map"][parent]


@pytest.fixture(scope="module")
def dbt_artifacts(
    sample_lake: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Real dbt's run_results and manifest of the same project over the sample lake."""
    folder = tmp_path_factory.mktemp("dbt-artifacts")
    db = folder / "dbt.duckdb"
    database.rebuild(sample_lake, db, with_models=False)
    _dbt_build(db, folder / "target")
    found = _files(folder / "target")
    return found[artifacts.RUN_RESULTS], found[artifacts.MANIFEST]


def _first(entries: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(entry for key, entry in entries.items() if key.startswith(prefix))


def test_the_entries_have_the_keys_of_dbts_own(
    sample: tuple[Project, dict[str, Any], dict[str, Any]],
    dbt_artifacts: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _, ours_results, ours = sample
    theirs_results, theirs = dbt_artifacts
    assert set(ours_results) == set(theirs_results)
    assert set(ours_results["metadata"]) == set(theirs_results["metadata"])
    ours_by = {r["unique_id"]: r for r in ours_results["results"]}
    theirs_by = {r["unique_id"]: r for r in theirs_results["results"]}
    for unique_id in ("model.listings.dim_documents", "model.listings.stg_lake__listings"):
        assert set(ours_by[unique_id]) == set(theirs_by[unique_id])
    assert set(_first(ours_by, "test.")) == set(_first(theirs_by, "test."))
    assert set(ours) == set(theirs)
    assert set(ours["metadata"]) == set(theirs["metadata"])
    for unique_id in ("model.listings.dim_documents", "test.listings.assert_document_intervals_"
                      "intersect"):  # fmt: skip
        assert set(ours["nodes"][unique_id]) == set(theirs["nodes"][unique_id]), unique_id
        assert set(ours["nodes"][unique_id]["config"]) == set(
            theirs["nodes"][unique_id]["config"]
        )  # fmt: skip
    generic = _first(ours["nodes"], "test.listings.unique__dim_documents")
    assert set(generic) == set(_first(theirs["nodes"], "test.listings.unique_dim_documents_"))
    source = "source.listings.lake.listings"
    assert set(ours["sources"][source]) == set(theirs["sources"][source])
    ours_column = ours["nodes"]["model.listings.dim_documents"]["columns"]["site"]
    theirs_column = theirs["nodes"]["model.listings.dim_documents"]["columns"]["site"]
    assert set(ours_column) == set(theirs_column)
    assert set(next(iter(ours["macros"].values()))) == set(
        theirs["macros"]["macro.listings.test_strictly_true"]
    )  # fmt: skip
    # the same graph: dbt's parents of every model (its test ids carry a hash: models only)
    for unique_id, parents in theirs["parent_map"].items():
        if unique_id.startswith("model."):
            assert sorted(ours["parent_map"][unique_id]) == sorted(parents), unique_id


def test_a_failed_build_keeps_its_artifacts_with_its_failed_file(
    sample_lake: Path, sample_warehouse: Path, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    shutil.copytree(DEFAULT_PROJECT, root)
    (root / "tests" / "assert_no_documents.sql").write_text(
        "-- grain: one row per document\nselect * from {{ ref('dim_documents') }}\n",
        encoding="utf-8",
    )
    db = tmp_path / "w.duckdb"
    shutil.copyfile(sample_warehouse, db)
    before = _stored(db)
    with pytest.raises(DataTestFailure):
        database.rebuild(sample_lake, db, project=load_project(root))
    assert _stored(db) == before  # the warehouse, and what it says of itself, unchanged
    failed = _stored(db.with_name("w.failed.duckdb"))
    assert failed is not None and failed != before
    assert failed == _files(tmp_path / artifacts.TARGET)  # the target folder: the last build
    results = {r["unique_id"]: r for r in failed[artifacts.RUN_RESULTS]["results"]}
    assert results["test.listings.assert_no_documents"]["status"] == "fail"
    assert results["test.listings.assert_no_documents"]["failures"] > 0
    assert "test.listings.assert_no_documents" in failed[artifacts.MANIFEST]["nodes"]


def test_a_model_that_fails_to_build_is_an_error_with_its_message(
    sample_lake: Path, tmp_path: Path
) -> None:
    root = write_project(
        tmp_path / "project",
        {
            "staging/fine.sql": model("select heading from {{ source('lake', 'listings') }}"),
            "marts/broken.sql": model("select no_such_column from {{ ref('fine') }}", "table"),
        },
    )
    db = tmp_path / "w.duckdb"
    with pytest.raises(ModelError):
        database.rebuild(sample_lake, db, project=load_project(root),
                         target_path=tmp_path / "elsewhere")  # fmt: skip
    assert not db.exists() and not (tmp_path / artifacts.TARGET).exists()
    found = _files(tmp_path / "elsewhere")
    assert found == _stored(db.with_name("w.failed.duckdb"))
    statuses = {
        r["unique_id"]: (r["status"], "no_such_column" in (r["message"] or ""))
        for r in found[artifacts.RUN_RESULTS]["results"]
    }
    assert statuses == {
        "model.listings.fine": ("success", False),
        "model.listings.broken": ("error", True),
    }


def test_listings_build_takes_the_target_path(
    sample_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline import cli

    lake = tmp_path / "lake"
    shutil.copytree(sample_lake, lake)
    db, target = tmp_path / "w.duckdb", tmp_path / "out" / "artifacts"
    assert cli.main(["build", "--lake", str(lake), "--db", str(db),
                     "--target-path", str(target)]) == 0  # fmt: skip
    capsys.readouterr()
    assert _files(target) == _stored(db)
    assert not (tmp_path / artifacts.TARGET).exists()
