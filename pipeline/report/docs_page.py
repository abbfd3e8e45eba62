"""`listings docs`: one self-contained HTML page describing every lake table and model.

Every relation with its layer, materialisation, grain, description, columns (type and
meaning), tests and SQL, under the lineage graph laid out here as inline SVG, all read from
a manifest.json (`catalogue`): the one the warehouse's build stored when `--db` names one,
else the project's, typed by its views over empty lake tables in memory. Its one script is
the search box (`SEARCH_SCRIPT`); why, and the rest of the design: docs/warehouse.md.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipeline import atomic
from pipeline.errors import ReportError
from pipeline.lake import layout
from pipeline.report import catalogue, lineage
from pipeline.warehouse import artifacts, database, docs, runner
from pipeline.warehouse.project import LAYERS, Project, load_project
from pipeline.warehouse.relations import create_relation

# The graph's geometry, in SVG user units (pixels at 100 %).
NODE_WIDTH, NODE_HEIGHT = 210, 42
COLUMN_GAP, ROW_GAP = 64, 16
WAYPOINT_HEIGHT = 6  # the room an edge passing through a column takes there
MARGIN, HEADER = 16, 28
# A column type longer than this many characters is folded when it is an ENUM: the layouts'
# ENUM alone is 250 characters, on one line in a column of types.
LONG_TYPE = 40
# Fill per layer; a view's border is dashed (it is a query, not stored rows).
LAYER_COLOURS = {
    docs.SOURCE_LAYER: "#eceff1",
    "staging": "#e3f2fd",
    "intermediate": "#ede7f6",
    "marts": "#e8f5e9",
}


def write(out: Path, *, db: Path | None = None, project: Project | None = None) -> Path:
    """Write the page to `out` (beside it under a temporary name, then renamed); return `out`.

    With a warehouse at `db`, the page draws the manifest.json its build stored in it
    (`artifacts.read`): the models, columns, types, tests and SQL that warehouse holds; a
    warehouse built before builds stored it raises `ReportError` (rebuild it). Without one,
    the manifest of `project` (default: `load_project()`), typed by an empty in-memory build.
    """
    if db is not None and db.is_file():
        con = database.connect(db, read_only=True)
        try:
            documents = artifacts.read(con) or {}
        finally:
            con.close()
        if artifacts.MANIFEST not in documents:
            raise ReportError(
                f"{db} holds no {artifacts.MANIFEST}: it was built before builds stored their "
                "run artifacts. Rebuild it (`listings build`) to document it, or leave out "
                "--db to document the project"
            )
        found = documents[artifacts.MANIFEST]
        types_from = f"the warehouse {db}"
    else:
        found = project_manifest(project or load_project())
        missing = f" (no warehouse at {db})" if db is not None else ""
        types_from = f"the project's models over empty lake tables{missing}"
    page = render(catalogue.read(found), types_from=types_from)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out, page)
    return out


def project_manifest(project: Project) -> dict[str, Any]:
    """The manifest.json a build of `project` would store, its columns typed by
    `empty_build`: the page of a project without a warehouse."""
    con = empty_build(project)
    try:
        described = docs.catalogue(project, docs.built_columns(con))
    finally:
        con.close()
    return artifacts.manifest(artifacts.Recorder(), project, project.vars, described)


def empty_build(project: Project) -> duckdb.DuckDBPyConnection:
    """An in-memory database holding the lake tables, empty, and every model as a view.

    Views are enough to know each model's columns and types; no model's query runs.
    """
    con = database.connect()
    for table in dict.fromkeys(project.sources.values()):
        schema = {**layout.file_schema(table), layout.PARTITION: pl.String}
        con.register("_empty", pl.DataFrame(schema=schema).to_arrow())
        try:
            create_relation(con, table, "table", "SELECT * FROM _empty")
        finally:
            con.unregister("_empty")
    runner.create_macros(con, project)
    for name in project.order():
        create_relation(con, name, "view", project.compile(name))
    return con


def render(found: catalogue.Catalogue, *, types_from: str) -> str:
    """The page's HTML."""
    relations = found.relations
    by_name = {relation.name: relation for relation in relations}
    read_by: dict[str, list[str]] = {relation.name: [] for relation in relations}
    for relation in relations:
        for parent in relation.reads:
            read_by.setdefault(parent, []).append(relation.name)
    sections = []
    for layer, title in (
        (docs.SOURCE_LAYER, "Lake tables (sources)"),
        *((layer, layer.capitalize()) for layer in LAYERS),
    ):
        members = [r for r in relations if r.layer == layer]
        if members:
            articles = "\n".join(
                _relation(r, found, read_by.get(r.name, []), by_name) for r in members
            )
            sections.append(
                f'<section id="layer-{_e(layer)}">\n<h2>{_e(title)}</h2>\n{articles}\n</section>'
            )
    if found.singular:
        items = "\n".join(_singular_test(t) for t in found.singular)
        sections.append(
            f'<section id="singular-tests">\n<h2>Singular tests</h2>\n{items}\n</section>'
        )
    contents = "".join(
        f'<li><a href="#rel-{_e(r.name)}">{_e(r.name)}</a> <span class="muted">'
        f"{_e(r.layer)}</span></li>"
        for r in relations
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>listings warehouse: tables, models and columns</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>listings warehouse: tables, models and columns</h1>
<p>Every lake table and every <code>dbt_like_sql</code> model, in build order: what it holds
(its grain), what each column means, the tests that guard it and its SQL. The same
descriptions are in the warehouse as comments (<code>duckdb_tables()</code>,
<code>duckdb_columns()</code>). Column types from {_e(types_from)}.</p>
</header>
<p class="search"><label for="search">Find models and columns</label>
<input id="search" type="search" autocomplete="off" spellcheck="false"
placeholder="a name or words of a description: size_bytes, upload time">
<output id="search-count" for="search" class="muted"></output></p>
<nav><h2>Contents</h2><ol class="toc">{contents}</ol></nav>
<section id="lineage">
<h2>Lineage</h2>
<p class="muted">Lake tables, then staging, intermediate and marts; an arrow runs from what a
model reads to the model. A dashed border is a view. Click a box for its section.</p>
{lineage_svg(found.graph, found.source_relation)}
</section>
{chr(10).join(sections)}
<script>{SEARCH_SCRIPT}</script>
</body>
</html>
"""


def _relation(
    relation: docs.Relation,
    found: catalogue.Catalogue,
    read_by: Sequence[str],
    by_name: Mapping[str, docs.Relation],
) -> str:
    model = found.code.get(relation.name)
    facts = [
        ("layer", _e(relation.layer)),
        ("materialised", _e(relation.materialized)),
    ]
    if relation.grain:
        facts.append(("grain", _e(relation.grain)))
    facts.append(("defined in", f"<code>{_e(relation.path)}</code>"))
    if relation.reads:
        facts.append(("reads", _links(relation.reads)))
    if read_by:
        facts.append(("read by", _links(read_by)))
    facts_html = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    rows = "\n".join(_column_row(relation.name, c, by_name) for c in relation.columns)
    tests = ""
    if relation.tests:
        items = "".join(
            f'<li><code>{_e(t.name)}</code> <span class="muted">{_e(t.severity)}'
            f"{', column ' + _e(t.column) if t.column else ''}"
            f"{', singular test' if t.model is None else ''}</span></li>"
            for t in relation.tests
        )
        tests = f'<h4>Tests</h4><ul class="tests">{items}</ul>'
    sql = ""
    if model is not None:
        sql = (
            f"<details><summary>SQL ({_e(model.path)})</summary>"
            f"<pre><code>{_e(model.raw_code.strip())}</code></pre></details>"
            "<details><summary>Compiled SQL, as the build runs it "
            f"(<code>listings compile {_e(relation.name)}</code>)</summary>"
            f"<pre><code>{_e(model.compiled_code)}</code></pre></details>"
        )
    description = _prose(relation.description) or '<span class="muted">No description.</span>'
    return f"""<article class="relation {_e(relation.layer)}" id="rel-{_e(relation.name)}">
<h3>{_e(relation.name)} <span class="badge">{_e(relation.materialized)}</span></h3>
<p class="description">{description}</p>
<dl>{facts_html}</dl>
<table class="columns">
<thead><tr><th>column</th><th>type</th><th>description</th><th>tests</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
{tests}
{sql}
</article>"""


def _column_row(relation: str, column: docs.Column, by_name: Mapping[str, docs.Relation]) -> str:
    origin = ""
    if column.described_by in by_name:  # inherited from the relation it was read from
        origin = f' <span class="muted">(as in {_links([column.described_by])})</span>'
    tests = ", ".join(_e(t.name.split("__", 1)[0]) for t in column.tests)
    return (
        f'<tr id="col-{_e(relation)}-{_e(column.name)}"><td><code>{_e(column.name)}</code></td>'
        f"<td>{_type(column.type)}</td>"
        f"<td>{_prose(column.description)}{origin}</td><td>{tests}</td></tr>"
    )


def _type(type_: str) -> str:
    """A column's type as the page shows it: as DuckDB names it, except a long ENUM (or a
    list of one), which shows its count of values, `ENUM(12 values)[]`, with the values
    folded beneath it and the whole type as its tooltip."""
    values, lists = _enum_values(type_)
    if values is None or len(type_) <= LONG_TYPE:
        return f"<code>{_e(type_)}</code>"
    shown = f"ENUM({len(values)} values){'[]' * lists}"
    listed = "".join(f"<li><code>{_e(value)}</code></li>" for value in values)
    return (
        f'<details class="enum"><summary title="{_e(type_)}"><code>{shown}</code></summary>'
        f"<ol>{listed}</ol></details>"
    )


def _enum_values(type_: str) -> tuple[list[str] | None, int]:
    """An ENUM type's values, read by DuckDB's own type parser, and how many lists deep it
    is (`ENUM('a', 'b')[]`: 1); (None, 0) for any other type."""
    try:
        parsed = duckdb.sqltype(type_)
    except duckdb.Error:
        return None, 0
    lists = 0
    while parsed.id == "list":
        parsed, lists = parsed.child, lists + 1
    if parsed.id != "enum":
        return None, 0
    return list(dict(parsed.children)["values"]), lists


def _singular_test(test: catalogue.TestNode) -> str:
    grain = test.grain
    return f"""<article class="test" id="test-{_e(test.name)}">
<h3>{_e(test.name)} <span class="badge">{_e(test.severity)}</span></h3>
<p class="description">{_e(grain)}</p>
<dl><dt>reads</dt><dd>{_links(test.refs)}</dd>
<dt>defined in</dt><dd><code>{_e(test.path)}</code></dd></dl>
<details><summary>SQL</summary><pre><code>{_e(test.raw_code.strip())}</code></pre></details>
</article>"""


def _links(names: Iterable[str]) -> str:
    return ", ".join(f'<a href="#rel-{_e(name)}"><code>{_e(name)}</code></a>' for name in names)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_BACKTICKED = re.compile(r"`([^`]+)`")


def _prose(text: str) -> str:
    """A description as HTML: escaped, with its `code` spans (markdown's backticks) as code."""
    return _BACKTICKED.sub(r"<code>\1</code>", _e(text))


@dataclass
class _Slot:
    """A place in a column of the drawing: a node's box, or a waypoint of a longer edge."""

    id: str
    column: int
    node: lineage.Node | None = None  # None for a waypoint
    target: str = ""  # the relation a node's box links to
    y: float = 0.0  # top of the box, or the waypoint's line

    @property
    def height(self) -> float:
        return NODE_HEIGHT if self.node is not None else WAYPOINT_HEIGHT


def lineage_svg(dag: lineage.Graph, source_relation: Mapping[str, str]) -> str:
    """The lineage graph as inline SVG, laid out in columns by layer.

    Columns run sources → staging → intermediate → marts; a model that reads a model of its
    own layer goes one column further right, so every arrow points rightwards. An edge that
    spans several columns passes through a waypoint in each column between, which takes a
    place of its own there, so it runs between boxes, never behind one. Within a column,
    boxes and waypoints sit in the order of the mean height of what leads into them (the
    barycentre heuristic of layered drawing: few crossings, no layout library).
    """
    ranks = {layer: rank for rank, layer in enumerate((docs.SOURCE_LAYER, *LAYERS))}
    parents: dict[str, list[str]] = {node.id: [] for node in dag.nodes}
    for parent, child in dag.edges:
        parents[child].append(parent)
    key: dict[str, tuple[int, int]] = {}
    for node in dag.nodes:  # build order: what a node reads comes before it
        same = [key[p][1] + 1 for p in parents[node.id] if key[p][0] == ranks[node.layer]]
        key[node.id] = (ranks[node.layer], max(same, default=0))
    keys = sorted(set(key.values()))
    slots = {
        node.id: _Slot(
            node.id, keys.index(key[node.id]), node, source_relation.get(node.id, node.id)
        )
        for node in dag.nodes
    }
    routes: list[list[str]] = []  # each edge as the slots it passes, parent first
    inputs: dict[str, list[str]] = {slot: [] for slot in slots}
    for number, (parent, child) in enumerate(dag.edges):
        route = [parent]
        for column in range(slots[parent].column + 1, slots[child].column):
            waypoint = f"{number}@{column}"
            slots[waypoint] = _Slot(waypoint, column)
            inputs[waypoint] = [route[-1]]
            route.append(waypoint)
        inputs[child].append(route[-1])
        routes.append([*route, child])
    columns: list[list[_Slot]] = [[] for _ in keys]
    for slot in slots.values():
        columns[slot.column].append(slot)
    for members in columns:  # left to right: what leads in is placed already
        members.sort(key=lambda s: _mean(slots[i].y + slots[i].height / 2 for i in inputs[s.id]))
        y = 0.0
        for slot in members:
            slot.y, y = y, y + slot.height + ROW_GAP
    tallest = max(sum(s.height + ROW_GAP for s in members) - ROW_GAP for members in columns)
    for members in columns:  # centre each column on the tallest
        height = sum(s.height + ROW_GAP for s in members) - ROW_GAP
        for slot in members:
            slot.y += MARGIN + HEADER + (tallest - height) / 2

    def x_of(column: int) -> float:
        return MARGIN + column * (NODE_WIDTH + COLUMN_GAP)

    labels = []
    for layer, rank in ranks.items():
        xs = [x_of(i) for i, (layer_rank, _) in enumerate(keys) if layer_rank == rank]
        if xs:
            centre = (min(xs) + max(xs) + NODE_WIDTH) / 2
            labels.append(
                f'<text class="layer" x="{centre:g}" y="{MARGIN + 14}" '
                f'text-anchor="middle">{_e(layer)}</text>'
            )
    edges = [_edge(route, slots, x_of) for route in routes]
    boxes = [_box(slot, x_of(slot.column)) for slot in slots.values() if slot.node is not None]
    width = x_of(len(keys)) - COLUMN_GAP + MARGIN
    height = MARGIN * 2 + HEADER + tallest
    model_count = sum(node.kind == lineage.MODEL for node in dag.nodes)
    return f"""<svg xmlns="http://www.w3.org/2000/svg" class="lineage" role="img" \
viewBox="0 0 {width:g} {height:g}" width="{width:g}" height="{height:g}">
<title>Lineage: {model_count} models, {len(dag.edges)} dependencies</title>
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" \
markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#78909c"/>\
</marker></defs>
{chr(10).join(labels)}
<g class="edges">
{chr(10).join(edges)}
</g>
<g class="nodes">
{chr(10).join(boxes)}
</g>
</svg>"""


def _mean(values: Iterable[float]) -> float:
    found = list(values)
    return sum(found) / len(found) if found else 0.0


def _edge(route: Sequence[str], slots: Mapping[str, _Slot], x_of: Callable[[int], float]) -> str:
    """One dependency: a curve from box to box, straight across each waypoint's column."""
    first, last = slots[route[0]], slots[route[-1]]
    x, y = x_of(first.column) + NODE_WIDTH, first.y + first.height / 2
    path = [f"M{x:g},{y:g}"]
    for step in route[1:]:
        slot = slots[step]
        x2, y2 = x_of(slot.column), slot.y + slot.height / 2
        end = x2 - 2 if slot is last else x2  # the arrowhead's tip touches the box
        bend = (x2 - x) / 2
        path.append(f"C{x + bend:g},{y:g} {x2 - bend:g},{y2:g} {end:g},{y2:g}")
        x, y = x2, y2
        if slot is not last:
            x += NODE_WIDTH
            path.append(f"L{x:g},{y:g}")
    return (
        f'<path class="edge" data-from="{_e(route[0])}" data-to="{_e(route[-1])}" '
        f'd="{" ".join(path)}" marker-end="url(#arrow)"/>'
    )


def _box(slot: _Slot, x: float) -> str:
    """A node: its name and what it is, linking to its section of the page."""
    node = slot.node
    assert node is not None
    dash = ' stroke-dasharray="5 3"' if node.materialized == "view" else ""
    sub = f"{node.layer}, {node.materialized}" if node.kind == lineage.MODEL else "lake table"
    return (
        f'<a href="#rel-{_e(slot.target)}"><g class="node {_e(node.kind)}" '
        f'data-id="{_e(node.id)}"><title>{_e(node.grain or slot.target)}</title>'
        f'<rect x="{x:g}" y="{slot.y:g}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6" '
        f'fill="{LAYER_COLOURS[node.layer]}"{dash}/>'
        f'<text x="{x + 10:g}" y="{slot.y + 17:g}" class="name">{_e(node.id)}</text>'
        f'<text x="{x + 10:g}" y="{slot.y + 33:g}" class="sub">{_e(sub)}</text></g></a>'
    )


# The search box: each word typed must appear in a relation's name or description (then
# all its columns show) or in a column's row (name, type, description: then that row shows);
# what matches nothing is hidden, and the contents list follows. `?q=words` in the page's
# address fills the box, so a search can be linked to.
SEARCH_SCRIPT = """
(() => {
  const box = document.getElementById("search");
  const count = document.getElementById("search-count");
  const articles = [...document.querySelectorAll("article.relation, article.test")];
  const text = (node) => (node ? node.textContent.toLowerCase() : "");
  function filter() {
    const words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    const matches = (haystack) => words.every((word) => haystack.includes(word));
    let relations = 0, columns = 0;
    for (const article of articles) {
      const whole = matches(text(article.querySelector("h3")) + " "
                            + text(article.querySelector(".description")));
      let rows = 0;
      for (const row of article.querySelectorAll("table.columns tbody tr")) {
        row.hidden = !(whole || matches(text(row)));
        rows += row.hidden ? 0 : 1;
      }
      article.hidden = !(whole || rows);
      relations += article.hidden ? 0 : 1;
      columns += whole ? 0 : rows;
      const entry = document.querySelector(`.toc a[href="#${article.id}"]`);
      if (entry) entry.parentElement.hidden = article.hidden;
    }
    for (const section of document.querySelectorAll("section[id^=layer-], #singular-tests")) {
      section.hidden = !section.querySelector("article:not([hidden])");
    }
    count.value = words.length
      ? `${relations} of ${articles.length} match`
        + (columns ? ` (${columns} column${columns === 1 ? "" : "s"})` : "")
      : "";
  }
  box.addEventListener("input", filter);
  box.value = new URLSearchParams(location.search).get("q") || "";
  filter();
})();
"""

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: #1f2933; margin: 0 auto; max-width: 1240px; padding: 0 24px 48px; }
h1 { font-size: 1.6em; margin: 24px 0 8px; }
h2 { font-size: 1.3em; border-bottom: 1px solid #cfd8dc; padding-bottom: 4px; margin-top: 40px; }
h3 { font-size: 1.1em; margin: 28px 0 4px; }
h4 { margin: 12px 0 4px; }
code, pre { font: 13px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: #f5f7f8; padding: 10px 12px; overflow-x: auto; border-radius: 4px; }
.muted { color: #607d8b; }
.badge { font-size: 0.75em; font-weight: normal; background: #eceff1; border-radius: 10px;
  padding: 1px 8px; vertical-align: middle; }
.toc { columns: 3; padding-left: 20px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dt { color: #607d8b; }
dd { margin: 0; }
table.columns { border-collapse: collapse; width: 100%; margin: 8px 0; }
table.columns th, table.columns td { border-bottom: 1px solid #e0e6e9; padding: 4px 8px;
  text-align: left; vertical-align: top; }
table.columns th { background: #f5f7f8; }
table.columns td:nth-child(2) { white-space: nowrap; color: #455a64; }
article.relation, article.test { border-left: 4px solid #cfd8dc; padding-left: 16px; }
article.staging { border-color: #90caf9; }
article.intermediate { border-color: #b39ddb; }
article.marts { border-color: #a5d6a7; }
svg.lineage { max-width: 100%; height: auto; display: block; margin: 8px 0; }
svg .layer { font: 600 13px system-ui, sans-serif; fill: #455a64; }
svg .node rect { stroke: #78909c; stroke-width: 1.2; }
svg .node:hover rect { stroke: #1f2933; stroke-width: 2; }
svg .name { font: 12px ui-monospace, Menlo, Consolas, monospace; fill: #1f2933; }
svg .sub { font: 11px system-ui, sans-serif; fill: #607d8b; }
svg .edge { fill: none; stroke: #90a4ae; stroke-width: 1.3; }
.search { margin: 16px 0 0; }
.search input { font: inherit; width: 28em; max-width: 100%; padding: 4px 8px; margin: 0 8px; }
details.enum summary { cursor: pointer; }
details.enum ol { margin: 4px 0; padding-left: 24px; white-space: normal; }
"""
