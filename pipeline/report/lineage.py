"""The model graph as data, and in the formats other tools draw: Mermaid, Graphviz DOT, JSON.

`listings lineage` prints text by default (`Project.lineage`, unchanged since it was the only
form); a wiki or a README renders Mermaid, Graphviz renders DOT, and a script reads JSON. All
four come from the same `Graph`: the lake tables a project names as sources, its models and
its singular tests, with an edge from every relation to each model or test that reads it.
`docs_page` lays the same graph out as SVG.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.warehouse.project import LAYERS, Project
from pipeline.warehouse.templates import grain_of

FORMATS = ("text", "mermaid", "dot", "json")
SOURCE, MODEL, TEST = "source", "model", "test"


@dataclass(frozen=True)
class Node:
    """A lake table (`lake.listings`), a model, or a singular test."""

    id: str
    kind: str  # source, model or test
    layer: str  # "sources", a model's layer, or "tests"
    materialized: str | None = None  # a model's "view" or "table"
    grain: str | None = None  # a model's or a test's grain line
    severity: str | None = None  # a test's "error" or "warn"
    path: str | None = None


@dataclass(frozen=True)
class Graph:
    """Nodes in build order (sources, models, then tests); edges as (input, its reader)."""

    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]


def graph(project: Project, *, tests: bool = True) -> Graph:
    """The project's DAG; `tests=False` leaves the singular tests out (models and sources only)."""
    nodes: list[Node] = [
        Node(f"{source}.{table}", SOURCE, "sources") for source, table in project.sources
    ]
    edges: list[tuple[str, str]] = []
    for name in project.order():
        model = project.models[name]
        nodes.append(
            Node(name, MODEL, model.layer, model.materialized, model.grain, path=str(model.path))
        )
        edges.extend((ref, name) for ref in model.refs)
        edges.extend((f"{s}.{t}", name) for s, t in model.template.sources)
    for test in project.tests if tests else ():
        if test.model is None:
            grain = grain_of(test.template.text)
            path = str(test.template.path)
            nodes.append(Node(test.name, TEST, "tests", None, grain, test.severity, path))
            edges.extend((ref, test.name) for ref in test.refs)
            edges.extend((f"{s}.{t}", test.name) for s, t in test.template.sources)
    return Graph(tuple(nodes), tuple(edges))


def from_manifest(manifest: Mapping[str, Any], *, tests: bool = True) -> Graph:
    """The same graph as `graph`, of a manifest.json (`pipeline.warehouse.artifacts`): what
    the build that wrote a warehouse compiled, with no project read again."""
    nodes: list[Node] = [
        Node(f"{source['source_name']}.{source['identifier']}", SOURCE, "sources")
        for source in manifest.get("sources", {}).values()
    ]
    edges: list[tuple[str, str]] = []
    for node in manifest.get("nodes", {}).values():
        meta, name = node.get("meta", {}), node["name"]
        if node["resource_type"] == "model":
            nodes.append(Node(name, MODEL, meta.get("layer", ""), node["config"]["materialized"],
                              meta.get("grain"), path=meta.get("path")))  # fmt: skip
        elif tests and node["resource_type"] == "test" and not node.get("attached_node"):
            severity = str(node["config"]["severity"]).lower()
            nodes.append(Node(name, TEST, "tests", None, meta.get("grain"), severity,
                              meta.get("path")))  # fmt: skip
        else:
            continue
        edges.extend((ref["name"], name) for ref in node.get("refs", []))
        edges.extend((f"{s}.{t}", name) for s, t in node.get("sources", []))
    return Graph(tuple(nodes), tuple(edges))


def render(project: Project, form: str) -> str:
    """The graph in one of `FORMATS`; text is `Project.lineage()` exactly."""
    if form == "text":
        return project.lineage()
    renderers: dict[str, Callable[[Graph], str]] = {
        "mermaid": mermaid,
        "dot": dot,
        "json": to_json,
    }
    return renderers[form](graph(project))


def mermaid(dag: Graph) -> str:
    """A Mermaid flowchart, left to right, one subgraph per layer.

    Shapes say what a node is: a cylinder a lake table, rounded a view, a box a table, a
    hexagon a test; a dotted arrow leads into a test (it reads, it builds nothing).
    """
    ids = {node.id: _mermaid_id(node.id) for node in dag.nodes}
    lines = ["flowchart LR"]
    for layer, members in _by_layer(dag).items():
        lines.append(f"  subgraph {_mermaid_id(layer)}[{layer}]")
        for node in members:
            label = json.dumps(node.id)
            shape = {
                SOURCE: f"[({label})]",
                TEST: f"{{{{{label}}}}}",
            }.get(node.kind, f"({label})" if node.materialized == "view" else f"[{label}]")
            lines.append(f"    {ids[node.id]}{shape}")
        lines.append("  end")
    kinds = {node.id: node.kind for node in dag.nodes}
    for parent, child in dag.edges:
        arrow = "-.->" if kinds[child] == TEST else "-->"
        lines.append(f"  {ids[parent]} {arrow} {ids[child]}")
    return "\n".join(lines)


def dot(dag: Graph) -> str:
    """A Graphviz digraph, left to right, a cluster per layer (`dot -Tsvg` draws it)."""
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica", fontsize=11];',
    ]
    for layer, members in _by_layer(dag).items():
        lines.append(f"  subgraph {_dot_id('cluster_' + layer)} {{")
        lines.append(f"    label={_dot_id(layer)};")
        for node in members:
            style = {
                SOURCE: "shape=cylinder",
                TEST: "shape=hexagon, style=dashed",
            }.get(node.kind, "style=rounded" if node.materialized == "view" else "style=solid")
            lines.append(f"    {_dot_id(node.id)} [{style}];")
        lines.append("  }")
    kinds = {node.id: node.kind for node in dag.nodes}
    for parent, child in dag.edges:
        style = " [style=dashed]" if kinds[child] == TEST else ""
        lines.append(f"  {_dot_id(parent)} -> {_dot_id(child)}{style};")
    lines.append("}")
    return "\n".join(lines)


def to_json(dag: Graph) -> str:
    """`{"nodes": [...], "edges": [{"from": …, "to": …}]}`, for scripts."""
    return json.dumps(
        {
            "nodes": [asdict(node) for node in dag.nodes],
            "edges": [{"from": parent, "to": child} for parent, child in dag.edges],
        },
        ensure_ascii=False,
        indent=2,
    )


def _by_layer(dag: Graph) -> dict[str, list[Node]]:
    """Nodes grouped by layer, layers in the order the data flows."""
    order = ("sources", *LAYERS, "tests")
    grouped: dict[str, list[Node]] = {layer: [] for layer in order}
    for node in dag.nodes:
        grouped.setdefault(node.layer, []).append(node)
    return {layer: members for layer, members in grouped.items() if members}


def _mermaid_id(name: str) -> str:
    """A Mermaid node id: letters, digits and `_` only (`lake.listings` → `lake_listings`)."""
    return re.sub(r"\W", "_", name)


def _dot_id(name: str) -> str:
    """A DOT id, always quoted: names hold dots, and quoting any name is always valid."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
