"""What every warehouse relation and column means, gathered once, written where analysts look.

`catalogue` joins `pipeline/schemas.py`'s descriptions (read from its source), the lake
tables' in `dbt_like_sql/staging/_sources.yml` and each model's `NAME.yml`; a column a model's
YAML leaves out inherits the description of the column it reads. `listings build` writes it
as DuckDB comments (`write_comments`), `listings docs` draws it (`report.docs_page`). Why:
docs/warehouse.md, "The SQL project".
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import duckdb

from pipeline import vocab
from pipeline.warehouse.declarations import Described
from pipeline.warehouse.project import Project
from pipeline.warehouse.results import (
    ARTIFACT_COLUMNS,
    ARTIFACTS_TABLE,
    RESULT_COLUMNS,
    RESULTS_TABLE,
)
from pipeline.warehouse.templates import literal, quote

# The pandera model behind each lake table (as `lake.layout.file_schema` pairs them).
LAKE_MODELS = vocab.TABLE_MODELS
SOURCE_LAYER = "sources"


class TestLike(Protocol):
    """What the docs show of a data test: a project's `DataTest`, or a manifest's test node
    as `pipeline.report.catalogue` reads it."""

    __test__ = False  # not a pytest test class, despite the name

    @property
    def name(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def model(self) -> str | None: ...
    @property
    def column(self) -> str | None: ...
    @property
    def refs(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Column:
    """One column: its type (DuckDB's name for it, "" when unknown) and what it means."""

    name: str
    type: str
    description: str
    described_by: str  # where the description comes from: a file, or the relation inherited
    tests: tuple[TestLike, ...] = ()


@dataclass(frozen=True)
class Relation:
    """A lake table or a model, as the docs show it and the comments describe it."""

    name: str
    layer: str  # "sources" for a lake table, else the model's layer
    materialized: str  # "table" or "view"
    grain: str  # "" for a lake table: its description states it
    description: str
    columns: tuple[Column, ...]
    reads: tuple[str, ...]  # relations it is built from
    tests: tuple[TestLike, ...]  # generic tests declared on it, singular tests reading it
    path: str  # the file that defines it

    @property
    def comment(self) -> str:
        """The relation's comment in the warehouse: its description, then its grain."""
        grain = f"Grain: {self.grain}." if self.grain else ""
        return " ".join(part for part in (self.description, grain) if part)


Columns = Mapping[str, Sequence[tuple[str, str]]]  # relation -> [(column, type)] in order


def catalogue(project: Project | None, columns: Columns) -> list[Relation]:
    """Every lake table, then every model in build order, with its columns described.

    `columns` says which columns each relation has, with their types (`built_columns` of a
    warehouse); a relation it does not name gets the columns its YAML names, untyped.
    Without a project (a build of the lake tables alone) the lake tables are described by
    the contract alone.
    """
    contract = lake_contract()
    relations: dict[str, Relation] = {}
    tables = project.sources.values() if project is not None else LAKE_MODELS
    for table in dict.fromkeys(tables):
        yml = project.source_docs.get(table) if project is not None else None
        yml = yml or Described()
        documented, fields = contract.get(table, ("", {}))
        described = []
        for name, type_ in _columns_of(table, columns, yml, fields):
            if yml.columns.get(name):
                described.append(Column(name, type_, yml.columns[name], yml.declared_in))
            else:
                described.append(Column(name, type_, fields.get(name, ""), SCHEMAS_FILE))
        relations[table] = Relation(
            table,
            SOURCE_LAYER,
            "table",
            "",
            yml.description or documented,
            tuple(described),
            (),
            (),
            f"{SCHEMAS_FILE} ({LAKE_MODELS.get(table, table)})",
        )
    for name in project.order() if project is not None else ():
        model = project.models[name]
        reads = (*model.refs, *(project.sources[source] for source in model.template.sources))
        yml_path = str(model.path.with_suffix(".yml"))
        described = []
        for column, type_ in _columns_of(name, columns, model.described, {}):
            text, origin = model.described.columns.get(column, ""), yml_path
            if not text:
                text, origin = _inherited(column, reads, relations)
            tests = tuple(t for t in project.tests if t.model == name and t.column == column)
            described.append(Column(column, type_, text, origin, tests))
        relations[name] = Relation(
            name,
            model.layer,
            model.materialized,
            model.grain,
            model.described.description,
            tuple(described),
            reads,
            tuple(
                t for t in project.tests if t.model == name or (t.model is None and name in t.refs)
            ),
            shown_path(project, model.path),
        )
    return list(relations.values())


def shown_path(project: Project, path: Path) -> str:
    """A project file as the reader of the docs knows it: `dbt_like_sql/marts/x.sql`,
    wherever the command ran (`project.Project.relative_path`)."""
    return project.relative_path(path)


def _columns_of(
    relation: str,
    columns: Columns,
    yml: Described,
    fields: Mapping[str, str],
) -> list[tuple[str, str]]:
    if relation in columns:
        return list(columns[relation])
    return [(name, "") for name in dict.fromkeys([*fields, *yml.columns])]


def _inherited(
    column: str, reads: Sequence[str], relations: Mapping[str, Relation]
) -> tuple[str, str]:
    """The description of the first same-named column, among what a model reads, that has one."""
    for parent in reads:
        for candidate in relations[parent].columns if parent in relations else ():
            if candidate.name == column and candidate.description:
                return candidate.description, parent
    return "", ""


def built_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """Each table's and view's columns with their DuckDB types, in the warehouse's order."""
    found: dict[str, list[tuple[str, str]]] = {}
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = current_schema() "
        "AND NOT internal ORDER BY table_name, column_index"
    ).fetchall()
    for relation, column, type_ in rows:
        found.setdefault(relation, []).append((column, type_))
    return found


def comment_sql(relations: Sequence[Relation], kinds: Mapping[str, str]) -> list[str]:
    """`COMMENT ON` statements for every relation `kinds` holds ("table" or "view") and every
    described column of it; a relation or column without a description keeps none."""
    statements = []
    for relation in relations:
        kind = kinds.get(relation.name)
        if kind is None:
            continue
        name = quote(relation.name)
        if relation.comment:
            statements.append(f"COMMENT ON {kind.upper()} {name} IS {literal(relation.comment)};")
        statements.extend(
            f"COMMENT ON COLUMN {name}.{quote(column.name)} IS {literal(column.description)};"
            for column in relation.columns
            if column.description
        )
    return statements


def write_comments(
    con: duckdb.DuckDBPyConnection,
    project: Project | None,
    *,
    only: Collection[str] | None = None,
    in_transaction: bool = False,
) -> tuple[int, float]:
    """Write the catalogue into `con` as comments; returns (statements, seconds).

    Every relation present gets its comment again, not only what this build made: `CREATE
    OR REPLACE` drops a relation's comments, and a `--select` build starts from a copy of
    the last warehouse, whose other relations keep theirs anyway. An update names what it
    created (`only`): the tables it updated and the views it kept keep their comments.
    Each statement changes the catalogue only, no data; they run as one batch in one
    transaction (the caller's, `in_transaction`), since each committed on its own costs a
    commit apiece (at a million listings: about 0.1 s for the ~260 statements in one
    transaction, 0.7 s or more committed one by one).
    """
    started = time.perf_counter()
    if only is not None and not only:
        return 0, time.perf_counter() - started
    kinds = relation_kinds(con)
    if only is not None:
        kinds = {name: kind for name, kind in kinds.items() if name in only}
    statements = comment_sql(
        [
            *catalogue(project, built_columns(con)),
            BUILD_RELATION,
            RESULTS_RELATION,
            ARTIFACTS_RELATION,
        ],
        kinds,
    )
    if statements and in_transaction:
        con.execute("\n".join(statements))
    elif statements:
        con.begin()
        try:
            con.execute("\n".join(statements))
        except BaseException:
            con.rollback()
            raise
        con.commit()
    return len(statements), time.perf_counter() - started


def relation_kinds(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each table's and view's name, with which of the two it is (COMMENT ON needs to know)."""
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = current_schema()"
    ).fetchall()
    return {name: "view" if kind == "VIEW" else "table" for name, kind in rows}


SCHEMAS_FILE = "pipeline/schemas.py"
# The tables a build adds besides the lake's and the models': the lake it read
# (`database.bind_lake`), and its data tests' outcomes (`results.store_results`).
BUILD_RELATION = Relation(
    "_lake",
    "build",
    "table",
    "",
    "The lake this warehouse was built from (the report names it), and what the next build "
    "compares to decide whether it may update the warehouse instead of rebuilding it.",
    (
        Column("url", "VARCHAR", "The lake's folder or fsspec URL, as the build was given it.", ""),
        Column(
            "location",
            "VARCHAR",
            "The lake's absolute path or URL: what the next build "
            "compares, whichever folder it is run from.",
            "",
        ),
        Column(
            "history",
            "VARCHAR",
            "The lake's history token at the build: it changes "
            "whenever the lake rewrites rows it had committed.",
            "",
        ),
        Column("schema_version", "INTEGER", "The lake's schema version at the build.", ""),
        Column(
            "project_checksum",
            "VARCHAR",
            "A digest of the models' SQL as the build compiled it.",
            "",
        ),
    ),
    (),
    (),
    "pipeline/warehouse/increments.py",
)
RESULTS_RELATION = Relation(
    RESULTS_TABLE,
    "build",
    "table",
    "one row per data test the build that wrote the warehouse ran",
    "The data tests' outcomes, as the build that wrote this warehouse ran them (the report "
    "reads them; a failed build kept for inspection holds its failures). An update runs each "
    "test on the rows it changed (is_incremental).",
    tuple(Column(name, type_, text, "") for name, type_, text in RESULT_COLUMNS),
    (),
    (),
    "pipeline/warehouse/results.py",
)
ARTIFACTS_RELATION = Relation(
    ARTIFACTS_TABLE,
    "build",
    "table",
    "one row per document: run_results.json and manifest.json",
    "The run artifacts, in dbt's shape, of the build that wrote this warehouse (the same "
    "documents it wrote into its target folder): the report reads the tests' outcomes from "
    "run_results.json, `listings docs` the models, columns and tests from manifest.json.",
    tuple(Column(name, type_, text, "") for name, type_, text in ARTIFACT_COLUMNS),
    (),
    (),
    "pipeline/warehouse/artifacts.py",
)


@cache
def lake_contract() -> dict[str, tuple[str, dict[str, str]]]:
    """Each lake table's docstring and its columns' `description`s, read from schemas.py.

    Read from the source with `ast`, not by importing pandera (see the module's docstring);
    tests hold it to what pandera itself reports. A field without a description has "".
    """
    spec = importlib.util.find_spec("pipeline.schemas")
    assert spec is not None and spec.origin is not None  # part of this package
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    contract = {}
    for table, class_name in LAKE_MODELS.items():
        node = classes[class_name]
        docstring = inspect.cleandoc(ast.get_docstring(node) or "").split("\n\n")[0]
        fields = {}
        for statement in node.body:
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(statement.value, ast.Call)
            ):
                fields[statement.target.id] = next(
                    (
                        str(keyword.value.value)
                        for keyword in statement.value.keywords
                        if keyword.arg == "description" and isinstance(keyword.value, ast.Constant)
                    ),
                    "",
                )
        contract[table] = (" ".join(docstring.split()), fields)
    return contract
