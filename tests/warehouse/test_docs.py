"""Descriptions reach the warehouse: `listings build` writes every table's, view's and
column's description (a model's YAML, `dbt_like_sql/staging/_sources.yml`, the contract in
`pipeline/schemas.py`) as a DuckDB comment, which any client sees in `duckdb_tables()`,
`duckdb_views()` and `duckdb_columns()`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import cli, schemas
from pipeline.errors import ModelError
from pipeline.warehouse import database, docs, runner
from pipeline.warehouse.project import load_project
from pipeline.warehouse.results import RESULT_COLUMNS
from tests.warehouse.sql.test_runner import model, write_project

LAKE_TITLE = (
    "The document's title, only where the page itself shows where it ends; else null. The "
    "text form glues TITLE and DESCRIPTION together with nothing between them, and a boundary "
    "is never invented (docs/input-format.md §1.1): so for most text-form listings title and "
    "description are null and heading holds the whole text (title_source 'unknown'). HTML and "
    "API JSON pages always give it; a text-form listing gets it from a line break, from the "
    "title repeated at the start of its description, or from an exact title seen for the same "
    "document on another page (the catalogue; `listings resolve-titles` applies titles "
    "learned later)."
)
LAKE_TITLE_SOURCE = (
    "How the end of the title was found: own_line (the heading holds a line break), "
    "repetition (the title repeated at the start of the description), catalogue (an exact "
    "title seen for the same document on another page, such as its HTML form), html or json "
    "(separate fields in those forms), unknown (no evidence: a text-form listing whose title "
    "is glued to its description; title and description are null). unknown is the usual case "
    "for text-form listings, since a boundary is never invented (docs/input-format.md §1.1); "
    "known_title is reserved, unused."
)
MART_TITLE = (
    "The title, at the latest sighting that showed one (any sighting may); null when no "
    "sighting showed where the title ends. The text form glues TITLE and DESCRIPTION "
    "together with nothing between them, and a boundary is never invented "
    "(docs/input-format.md §1.1): a document seen only in text-form listings usually has no "
    "title here, and heading holds its text. "
    "An HTML or API JSON page of it, or its title learned from one (`listings "
    "resolve-titles`), fills it in."
)


@pytest.fixture
def built(sample_lake: Path, sample_warehouse: Path) -> tuple[Path, Path]:
    return sample_lake, sample_warehouse


def comments(db: Path, sql: str) -> dict[str, str | None]:
    return dict(database.query(sql, db=db).rows())


def test_a_build_comments_tables_views_and_columns_with_their_descriptions(
    built: tuple[Path, Path],
) -> None:
    _, db = built
    tables = comments(db, "select table_name, comment from duckdb_tables()")
    views = comments(db, "select view_name, comment from duckdb_views() where not internal")
    assert tables["dim_documents"] == (
        "One row per document, with its history and intersected intervals. Columns described "
        '"at the latest sighting" are that one sighting\'s (the latest snapshot showing the '
        "document, its first place on that page); the rest are aggregates of every sighting. "
        "Grain: one row per document seen in any snapshot (document_key)."
    )
    assert tables["listings"] == (
        "One row per listing on a results page, in any of the page's forms (text, HTML, API "
        "JSON). Loaded from the lake's committed Parquet files at the last build."
    )
    assert views["stg_lake__snapshots"] == (
        "One row per snapshot file read, as the lake holds it. Grain: one row per snapshot "
        "file read (one results page of one query at one moment)."
    )
    assert tables["_lake"] == (
        "The lake this warehouse was built from (the report names it), and what the next "
        "build compares to decide whether it may update the warehouse instead of rebuilding it."
    )
    columns = dict(
        database.query(
            "select table_name || '.' || column_name, comment from duckdb_columns() "
            "where not internal",
            db=db,
        ).rows()
    )
    # the lake tables: sources.yml where it says more, else the contract (schemas.py)
    assert columns["listings.title"] == LAKE_TITLE
    assert columns["listings.title_source"] == LAKE_TITLE_SOURCE
    assert columns["listings.heading"] == "The whole TITLE+DESCRIPTION text."
    assert columns["rejects.byte_end"] == "Where the fragment ends (exclusive)."
    # a model's YAML, on a view's column and a table's
    assert columns["stg_lake__listings.is_rating_anomaly"] == (
        "A rating below 1, which no 1-5 star vote gives (the lake's rating_anomaly)."
    )
    assert columns["dim_documents.title"] == MART_TITLE
    # a column passed through unchanged says what its source says
    assert columns["stg_lake__listings.title"] == LAKE_TITLE
    assert columns["int_listings__keyed.title_source"] == LAKE_TITLE_SOURCE
    assert (
        columns["fct_listing_appearances.document_key"]
        == (columns["int_listings__keyed.document_key"])
    )


def test_the_documents_columns_from_the_latest_sighting_say_so_alike(
    built: tuple[Path, Path],
) -> None:
    """One sighting's values (a price, a heading) read differently from every sighting's
    aggregate (an interval, a count): each says which it is, in the same words."""
    _, db = built
    said = database.query(
        "select column_name from duckdb_columns() where table_name = 'dim_documents' "
        "and comment like '%at the latest sighting%' order by column_index",
        db=db,
    )["column_name"].to_list()
    assert said == [
        "site", "heading", "title", "file_family", "ext", "credit", "pages", "size_text",
        "latest_price", "latest_rating",
    ]  # fmt: skip


def test_every_table_view_and_column_of_the_warehouse_has_a_comment(
    built: tuple[Path, Path],
) -> None:
    _, db = built
    assert (
        database.query(
            """
        select 'table ' || table_name as what from duckdb_tables() where comment is null
        union all
        select 'view ' || view_name from duckdb_views() where not internal and comment is null
        union all
        select table_name || '.' || column_name from duckdb_columns()
        where not internal and comment is null
        """,
            db=db,
        ).to_dicts()
        == []
    )
    assert (
        database.query("select count(*) from duckdb_columns() where not internal", db=db).item()
        # schema version 3 added 9: document_ref in listings, its staging view, the keyed
        # listings, dim_documents and fct_listing_appearances; layout and page_type in
        # snapshots and its staging view; incremental builds 10: int_listings__document_keys
        # (6), location, history, schema_version and project_checksum in _lake; display titles
        # 4: display_title and is_display_title_guessed in dim_documents and the appearances;
        # problems by site 4: site and query in rpt_rejects and rpt_data_quality; the tests'
        # outcomes 13 (_test_results, relation_name for store_failures included); the run
        # artifacts 2 (_artifacts); the failing rows the duplicate-listing test keeps
        # (store_failures: fct_listing_appearances' 23 columns, in main_dbt_test__audit)
        == 315
    )


def test_a_select_build_comments_the_models_it_rebuilt_again(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """`CREATE OR REPLACE` drops a relation's comments: a partial build must write them."""
    lake_dir, db = built
    copy = tmp_path / "w.duckdb"
    shutil.copy(db, copy)
    args = ["--lake", str(lake_dir), "--db", str(copy), "--select", "dim_documents+"]
    assert cli.main(["build", *args]) == 0
    assert (
        database.query(
            "select comment from duckdb_columns() where table_name = 'dim_documents' "
            "and column_name = 'title'",
            db=copy,
        ).item()
        == MART_TITLE
    )
    assert (
        database.query(
            "select count(*) from duckdb_columns() where not internal and comment is null", db=copy
        ).item()
        == 0
    )


def test_the_contract_read_from_source_is_what_pandera_reports() -> None:
    """docs reads schemas.py with `ast` (a build must not pay pandera's import): it must
    find exactly the descriptions and docstrings pandera itself holds."""
    expected = {}
    for table, model_ in (
        ("snapshots", schemas.Snapshot),
        ("listings", schemas.Listing),
        ("rejects", schemas.Reject),
    ):
        columns = model_.to_schema().columns
        expected[table] = (
            " ".join((model_.__doc__ or "").split()),
            {name: column.description or "" for name, column in columns.items()},
        )
    assert docs.lake_contract() == expected


def test_a_yaml_description_wins_and_a_passed_through_column_inherits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a file below the working directory is named relative to it
    root = write_project(
        tmp_path,
        {
            "staging/stg.sql": model("select * from {{ source('lake', 'listings') }}"),
            "staging/stg.yml": (
                "models:\n  - name: stg\n    description: Staged.\n    columns:\n"
                "      - name: b\n        description: B, staged.\n"
            ),
            "marts/wide.sql": model("select a, b, 1 as c from {{ ref('stg') }}", "table"),
            "staging/_sources.yml": (
                "sources:\n  - name: lake\n    tables:\n      - name: listings\n"
                "        description: The lake's listings.\n        columns:\n"
                "          - name: a\n            description: A, from the lake.\n"
            ),
        },
    )
    project = load_project(root)
    columns = {
        "listings": [("a", "INTEGER"), ("b", "INTEGER")],
        "stg": [("a", "INTEGER"), ("b", "INTEGER")],
        "wide": [("a", "INTEGER"), ("b", "INTEGER"), ("c", "INTEGER")],
    }
    found = {
        relation.name: [(c.name, c.description, c.described_by) for c in relation.columns]
        for relation in docs.catalogue(project, columns)
    }
    assert found == {
        "listings": [
            ("a", "A, from the lake.", "_sources.yml"),
            ("b", "", "pipeline/schemas.py"),  # not a column of the contract: nothing
        ],
        "stg": [
            ("a", "A, from the lake.", "listings"),
            ("b", "B, staged.", "staging/stg.yml"),
        ],
        "wide": [
            ("a", "A, from the lake.", "stg"),
            ("b", "B, staged.", "stg"),
            ("c", "", ""),
        ],
    }


def test_comments_quote_names_and_text_and_say_view_or_table(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "staging/odd.sql": model("""select 1 as "it's ""odd\"\"\""""),
            "staging/odd.yml": (
                'models:\n  - name: odd\n    description: "The site\'s; DROP TABLE x; --"\n'
                "    columns:\n      - name: 'it''s \"odd\"'\n"
                '        description: It\'s "odd".\n'
            ),
            "marts/t.sql": model("select 2 as n", "table"),
        },
    )
    project = load_project(root)
    con = database.connect()
    runner.run(con, project)
    count, _ = docs.write_comments(con, project)
    # the view and its column; t, without a description, its grain; the tests' outcomes
    # (_test_results) and their 13 columns
    assert count == 3 + 1 + len(RESULT_COLUMNS) == 17
    assert con.sql(
        "select view_name, comment from duckdb_views() where not internal"
    ).fetchall() == [("odd", "The site's; DROP TABLE x; -- Grain: one row per thing.")]
    assert con.sql(
        "select table_name, column_name, comment from duckdb_columns() where not internal "
        "and table_name <> '_test_results' order by 1"
    ).fetchall() == [("odd", 'it\'s "odd"', 'It\'s "odd".'), ("t", "n", None)]
    assert con.sql(
        "select table_name, comment from duckdb_tables() where table_name <> '_test_results'"
    ).fetchall() == [("t", "Grain: one row per thing.")]


def test_a_source_the_sources_yaml_does_not_declare_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lake tables are declared once, by the `sources:` YAML beside the models (dbt's
    place): a model naming any other is refused, naming what is declared."""
    monkeypatch.chdir(tmp_path)  # a file below the working directory is named relative to it
    root = write_project(
        tmp_path, {"staging/s.sql": model("select * from {{ source('lake', 'orders') }}")}
    )
    with pytest.raises(ModelError) as error:
        load_project(root)
    assert str(error.value) == (
        "staging/s.sql: source('lake', 'orders') is not declared in the sources: YAML "
        "(declared: lake.listings)"
    )
