"""What a manifest.json (`pipeline.warehouse.artifacts`) describes, as `listings docs` draws it:
the lake tables and models with their columns and tests (`docs.Relation`s), each model's
SQL, the singular tests and the lineage graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.report import lineage
from pipeline.warehouse import docs


@dataclass(frozen=True)
class TestNode:
    """A data test as the manifest describes it (`docs.TestLike`)."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    severity: str
    model: str | None  # the model a generic test is declared on
    column: str | None
    refs: tuple[str, ...]  # the models it reads
    path: str
    raw_code: str
    grain: str


@dataclass(frozen=True)
class ModelCode:
    """A model's SQL as written and as the build ran it, and its file."""

    path: str
    raw_code: str
    compiled_code: str


@dataclass(frozen=True)
class Catalogue:
    """Everything the docs page shows, read from one manifest."""

    relations: list[docs.Relation]  # lake tables, then models in build order
    code: dict[str, ModelCode]  # by model
    singular: list[TestNode]
    graph: lineage.Graph  # without the tests
    source_relation: dict[str, str]  # a lineage source id (`lake.listings`) -> its table


def read(manifest: Mapping[str, Any]) -> Catalogue:
    """The catalogue of a manifest.json (as `artifacts.manifest` writes it)."""
    sources = manifest.get("sources", {})
    nodes = manifest.get("nodes", {})
    names = {uid: node["name"] for uid, node in nodes.items()}
    names |= {uid: source["identifier"] for uid, source in sources.items()}
    tests = [_test(node, names) for node in nodes.values() if node["resource_type"] == "test"]
    models = [node for node in nodes.values() if node["resource_type"] == "model"]
    relations = [
        docs.Relation(
            source["identifier"],
            docs.SOURCE_LAYER,
            "table",
            "",
            source["description"],
            _columns(source, ()),
            (),
            (),
            source.get("meta", {}).get("path", source["path"]),
        )
        for source in sources.values()
    ]
    for node in models:
        name, meta = node["name"], node.get("meta", {})
        declared = [t for t in tests if t.model == name]
        relations.append(
            docs.Relation(
                name,
                meta.get("layer", ""),
                node["config"]["materialized"],
                meta.get("grain", ""),
                node["description"],
                _columns(node, declared),
                tuple(names[uid] for uid in node["depends_on"]["nodes"] if uid in names),
                tuple(t for t in tests if t.model == name or (t.model is None and name in t.refs)),
                meta.get("path", node["original_file_path"]),
            )
        )
    code = {
        node["name"]: ModelCode(
            node.get("meta", {}).get("path", node["original_file_path"]),
            node["raw_code"],
            node.get("compiled_code") or "",
        )
        for node in models
    }
    source_relation = {
        f"{source['source_name']}.{source['identifier']}": source["identifier"]
        for source in sources.values()
    }
    return Catalogue(
        relations,
        code,
        [t for t in tests if t.model is None],
        lineage.from_manifest(manifest, tests=False),
        source_relation,
    )


def _test(node: Mapping[str, Any], names: Mapping[str, str]) -> TestNode:
    attached = node.get("attached_node")
    refs = tuple(names[uid] for uid in node["depends_on"]["nodes"] if uid.startswith("model."))
    meta = node.get("meta", {})
    return TestNode(
        node["name"],
        str(node["config"]["severity"]).lower(),
        names.get(attached) if attached else None,
        node.get("column_name"),
        refs,
        meta.get("path", node["original_file_path"]),
        node["raw_code"],
        meta.get("grain") or "",
    )


def _columns(node: Mapping[str, Any], tests: tuple[TestNode, ...] | list[TestNode]) -> tuple[
    docs.Column, ...
]:  # fmt: skip
    return tuple(
        docs.Column(
            column["name"],
            column.get("data_type") or "",
            column.get("description") or "",
            column.get("meta", {}).get("described_by", ""),
            tuple(t for t in tests if t.column == column["name"]),
        )
        for column in node.get("columns", {}).values()
    )
