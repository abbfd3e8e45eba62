"""The runner: a project compiles only when its refs resolve and form no cycle; a failing
data test fails the build and shows the offending rows; a warning does not."""

from __future__ import annotations

import re
import shutil
from fnmatch import fnmatch
from pathlib import Path

import pytest

from pipeline import vocab
from pipeline.errors import DataTestFailure, ModelError
from pipeline.warehouse import database, runner
from pipeline.warehouse.project import DEFAULT_PROJECT, load_project
from pipeline.warehouse.results import EVENT_WIDTH, SAMPLE_ROWS, Event
from tests.warehouse.sql.conftest import empty_lake

PROJECT_YML = "vars:\n  limit: 2\n"
SOURCES_YML = "sources:\n  - name: lake\n    tables:\n      - name: listings\n"


def write_project(root: Path, files: dict[str, str]) -> Path:
    """A project folder: dbt_project.yml, the lake source (`staging/_sources.yml`), plus
    `layer/name.sql` (and .yml) files."""
    (root / "staging").mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(PROJECT_YML, encoding="utf-8")
    (root / "staging" / "_sources.yml").write_text(SOURCES_YML, encoding="utf-8")
    (root / "macros").mkdir(exist_ok=True)
    shutil.copy(DEFAULT_PROJECT / "macros" / "strictly_true.sql", root / "macros")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def model(sql: str, materialized: str = "view", grain: str = "one row per thing") -> str:
    return f"-- grain: {grain}\n{{{{ config(materialized='{materialized}') }}}}\n{sql}\n"


def build_leftovers(db: Path) -> list[str]:
    """What a build may not leave beside the warehouse: its `.NAME.*.tmp` file, any `.wal`."""
    return sorted(
        p.name
        for p in db.parent.iterdir()
        if fnmatch(p.name, f".{db.name}.*.tmp") or p.name.endswith(".wal")
    )


def test_a_cycle_is_refused_naming_the_models_and_files(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "staging/a.sql": model("select * from {{ ref('b') }}"),
            "marts/b.sql": model("select * from {{ ref('a') }}", "table"),
        },
    )
    with pytest.raises(ModelError, match=r"models form a cycle: (a -> b -> a|b -> a -> b)"):
        load_project(root)


def test_an_unknown_ref_is_refused_naming_the_file_and_the_known_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a file below the working directory is named relative to it
    root = write_project(
        tmp_path,
        {
            "staging/stg.sql": model("select 1 as x"),
            "marts/m.sql": model("select * from {{ ref('stg_typo') }}", "table"),
        },
    )
    with pytest.raises(ModelError) as error:
        load_project(root)
    assert str(error.value) == ("marts/m.sql: ref('stg_typo') names no model (known: m, stg)")


def test_an_undeclared_source_is_refused(tmp_path: Path) -> None:
    root = write_project(
        tmp_path, {"staging/s.sql": model("select * from {{ source('lake', 'orders') }}")}
    )
    with pytest.raises(ModelError, match=r"source\('lake', 'orders'\) is not declared"):
        load_project(root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select 1\n", r"s\.sql:1: a model's first line states its grain"),
        ("-- grain: one row\nselect 1\n", r"needs a \{\{ config\(materialized='view'\) \}\}"),
        (model("select {{ run_query('x') }}"), r"s\.sql:3: cannot compile \{\{ run_query"),
        (
            model("select 1\n{% for x in y %}{% endfor %}"),
            r"s\.sql:4: cannot compile \{% for x in y %\}: the only block supported is",
        ),
        (
            model("select 1 from {{ changes('s') }}"),
            r"changes\('s'\) names a model that is neither incremental nor a staging view",
        ),
        (
            "-- grain: one row\n{{ config(materialized='incremental') }}\nselect 1\n",
            r"an incremental model names its unique_key",
        ),
        (
            "-- grain: one row\n{{ config(materialized='incremental', unique_key='k', "
            "keys_from={'t': ['a', 'b']}) }}\nselect 1 as k\n",
            r"keys_from maps a parent to the column\(s\) of its changes\(\) holding the",
        ),
        (
            "-- grain: one row\n{{ config(materialized='incremental', unique_key='k', "
            "keys_from={'t': 'a'}) }}\nselect 1 as k\n",
            r"keys_from names 't', whose changes\('t'\) the model does not read",
        ),
    ],
)
def test_a_model_without_grain_config_or_with_unknown_jinja_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    root = write_project(tmp_path, {"staging/s.sql": text})
    with pytest.raises(ModelError, match=message):
        load_project(root)


def test_models_build_in_dependency_order_as_their_config_says(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "marts/wide.sql": model("select x, x * 10 as y from {{ ref('base') }}", "table"),
            "staging/base.sql": model(
                "select * from range({{ var('limit') }}) as t(x)", grain="one row per x"
            ),
        },
    )
    con = database.connect()
    result = runner.run(con, load_project(root))
    assert [(name, kind, n) for name, kind, n, _ in result.built] == [
        ("base", "view", None),  # a view is not counted: that would run it
        ("wide", "table", 2),
    ]
    # and the outcomes of its data tests (none here)
    assert con.sql(
        "select table_name, table_type from information_schema.tables order by 1"
    ).fetchall() == [("_test_results", "BASE TABLE"), ("base", "VIEW"), ("wide", "BASE TABLE")]
    assert con.sql("select count(*) from _test_results").fetchall() == [(0,)]


FAILING = {
    "staging/people.sql": model(
        "select * from (values (1, 'ann'), (2, null), (3, null)) as t(id, name)"
    ),
    "staging/people.yml": (
        "models:\n  - name: people\n    columns:\n      - name: name\n        tests: [not_null]\n"
    ),
}


def test_a_failing_data_test_fails_the_run_showing_the_offending_rows(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, FAILING))
    with pytest.raises(DataTestFailure) as error:
        runner.run(database.connect(), project)
    (failure,) = error.value.failures
    assert failure.test.name == "not_null__people__name"
    assert failure.failing_count == 2
    assert failure.sample.to_dicts() == [{"id": 2, "name": None}, {"id": 3, "name": None}]
    assert "ERROR not_null__people__name" in str(error.value)
    assert "2 offending row(s)" in str(error.value)


def test_a_warning_test_reports_its_rows_and_the_run_goes_on(tmp_path: Path) -> None:
    files = {
        **FAILING,
        "tests/assert_names_known.sql": (
            "-- grain: one row per person without a name\n{{ config(severity='warn') }}\n"
            "select id from {{ ref('people') }} where name is null\n"
        ),
    }
    files["staging/people.yml"] = ""
    result = runner.run(database.connect(), load_project(write_project(tmp_path, files)))
    assert [(r.test.name, r.failing_count) for r in result.warnings] == [("assert_names_known", 2)]
    assert "tests: 0 passed, 1 warned, 0 failed" in result.render()


def test_generic_tests_compile_for_every_kind(tmp_path: Path) -> None:
    """dbt's shape (`data_tests:`, `arguments:`, `config:`): its four built-ins, and the
    project's own `strictly_true`, a `{% test %}` macro both tools read."""
    files = {
        "staging/kinds.sql": model("select * from (values (1, 'a'), (2, 'b')) as t(id, kind)"),
        "marts/things.sql": model(
            "select * from (values (1, 1), (2, 1), (3, 2)) as t(id, kind_id)", "table"
        ),
        "marts/things.yml": """
models:
  - name: things
    data_tests:
      - unique:
          arguments: {column_name: "(id, kind_id)"}
      - strictly_true:
          arguments: {expression: id >= kind_id}
    columns:
      - name: id
        data_tests: [unique, not_null]
      - name: kind_id
        data_tests:
          - accepted_values:
              arguments: {values: [1, 2]}
          - relationships:
              arguments: {to: "ref('kinds')", field: id}
""",
    }
    result = runner.run(database.connect(), load_project(write_project(tmp_path, files)))
    assert sorted((r.test.name, r.passed) for r in result.tests) == [
        ("accepted_values__things__kind_id", True),
        ("not_null__things__id", True),
        ("relationships__things__kind_id__id", True),
        ("strictly_true__things__id_kind_id", True),
        ("unique__things__id", True),
        ("unique__things__id__kind_id", True),
    ]


def test_accepted_values_reads_a_vocabulary_as_a_var_never_copying_it(tmp_path: Path) -> None:
    """`values: "{{ var('PAGE_TYPES') }}"` takes `pipeline.vocab.PAGE_TYPES` at build time
    (dbt reads the copy in dbt_project.yml's vars), so YAML never copies a vocabulary."""
    first, *_ = vocab.PAGE_TYPES
    files = {
        "marts/pages.sql": model(
            f"select * from (values ('{first}'), ('nonsense'), (null)) as t(page_type)", "table"
        ),
        "marts/pages.yml": (
            "models:\n  - name: pages\n    columns:\n      - name: page_type\n"
            "        data_tests:\n          - accepted_values:\n              arguments:\n"
            "                values: \"{{ var('PAGE_TYPES') }}\"\n"
        ),
    }
    project = load_project(write_project(tmp_path, files))
    (test,) = project.tests
    compiled = project.compile(test.name)
    assert f"not in ({', '.join(repr(v) for v in vocab.PAGE_TYPES)})" in compiled
    with pytest.raises(DataTestFailure) as error:
        runner.run(database.connect(), project)
    (failure,) = error.value.failures
    assert failure.sample.to_dicts() == [{"value_field": "nonsense", "n_records": 1}]

    files["marts/pages.yml"] = files["marts/pages.yml"].replace("PAGE_TYPES", "PAGE_KINDS")
    with pytest.raises(
        ModelError,
        match=r"pages.yml: accepted_values on pages.page_type: values: "
        r"\"\{\{ var\('PAGE_KINDS'\) \}\}\" is neither a list nor a list var",
    ):
        load_project(write_project(tmp_path, files))


def test_unique_ignores_nulls_as_dbts_does_and_strictly_true_fails_them_by_its_name(
    tmp_path: Path,
) -> None:
    """The runner's tests mean what dbt's mean: `unique` passes two NULLs (not_null is the
    test for them); the project's `strictly_true` fails a row whose expression is NULL,
    which is why it is not called dbt_utils' expression_is_true (which passes it)."""
    files = {
        "marts/m.sql": model("select * from (values (1), (null), (null)) as t(v)", "table"),
        "marts/m.yml": (
            "models:\n  - name: m\n    columns:\n      - name: v\n        data_tests:\n"
            "          - unique\n          - strictly_true:\n"
            "              arguments: {expression: v >= 1}\n"
            "              config: {severity: warn}\n"
        ),
    }
    result = runner.run(database.connect(), load_project(write_project(tmp_path, files)))
    assert [(r.test.name, r.status, r.failing_count) for r in result.tests] == [
        ("unique__m__v", "PASS", 0),
        ("strictly_true__m__v_1", "WARN", 2),
    ]


def test_a_tests_config_narrows_its_rows_sets_its_thresholds_and_keeps_its_failures(
    tmp_path: Path,
) -> None:
    """dbt's test configs: `where` narrows what the test reads, `warn_if`/`error_if` judge
    the count of failing rows, `store_failures` keeps them in main_dbt_test__audit.<test>."""
    files = {
        "marts/m.sql": model("select * from range(10) as t(n)", "table"),
        "marts/m.yml": """
models:
  - name: m
    data_tests:
      - strictly_true:
          arguments: {expression: n < 5}
          config: {where: "n < 7", error_if: ">2", warn_if: ">0", store_failures: true}
      - strictly_true:
          arguments: {expression: n < 8}
          config: {error_if: ">=3"}
      - strictly_true:
          arguments: {expression: n < 0}
          config: {where: "n > 100"}
""",
    }
    con = database.connect()
    project = load_project(write_project(tmp_path, files))
    result = runner.run(con, project)
    assert [(r.test.name, r.status, r.failing_count) for r in result.tests] == [
        ("strictly_true__m__n_5", "WARN", 2),  # 5 and 6: where n < 7; not > 2
        ("strictly_true__m__n_8", "WARN", 2),  # 8 and 9: not >= 3, but != 0
        ("strictly_true__m__n_0", "PASS", 0),
    ]
    kept = con.sql('select n from "main_dbt_test__audit"."strictly_true__m__n_5" order by n')
    assert kept.fetchall() == [(5,), (6,)]
    stored = con.sql("select unique_id, status, relation_name from _test_results").fetchall()
    assert stored[0] == (
        "strictly_true__m__n_5",
        "warn",
        '"main_dbt_test__audit"."strictly_true__m__n_5"',
    )
    assert stored[1][2] is None
    files["marts/m.yml"] = files["marts/m.yml"].replace('error_if: ">=3"', 'error_if: "lots"')
    with pytest.raises(ModelError, match=r"warn_if/error_if is a comparison with a number"):
        load_project(write_project(tmp_path, files))


def test_select_with_a_plus_takes_the_model_and_everything_downstream(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "staging/a.sql": model("select 1 as x"),
            "staging/b.sql": model("select 2 as x"),
            "intermediate/c.sql": model("select * from {{ ref('a') }}"),
            "marts/d.sql": model("select * from {{ ref('c') }}, {{ ref('b') }}", "table"),
        },
    )
    project = load_project(root)
    assert project.select(["c+"]) == ["c", "d"]
    assert project.select(["+c"]) == ["a", "c"]
    assert project.select(None) == ["a", "b", "c", "d"]
    with pytest.raises(ModelError, match="--select e: no model named 'e'"):
        project.select(["e"])


def test_a_failed_build_leaves_the_warehouse_as_it_was_and_keeps_the_failure(
    tmp_path: Path,
) -> None:
    good = load_project(
        write_project(tmp_path / "good", {"marts/m.sql": model("select 1 as x", "table")})
    )
    bad = load_project(write_project(tmp_path / "bad", FAILING))
    db, lake_dir = tmp_path / "w.duckdb", empty_lake(tmp_path / "lake")
    database.build(lake_dir, db, project=good)
    assert build_leftovers(db) == []
    with pytest.raises(DataTestFailure):
        database.build(lake_dir, db, project=bad)
    assert database.query("select * from m", db=db).to_dicts() == [{"x": 1}]
    failed = tmp_path / "w.failed.duckdb"
    assert database.query("select count(*) from people", db=failed).item() == 3
    assert build_leftovers(db) == []


def test_the_real_project_states_every_grain_and_orders_staging_first() -> None:
    project = load_project()
    order = project.order()
    assert order[:3] == ["stg_lake__listings", "stg_lake__rejects", "stg_lake__snapshots"]
    assert {
        "dim_documents",
        "fct_listing_appearances",
        "fct_query_snapshots",
        "rpt_rejects",
        "rpt_data_quality",
    } <= set(order)
    assert all(m.grain.startswith("one row per") for m in project.models.values())
    # staging only renames and casts (a view costs nothing); what several models and tests
    # read is computed once, as a table (or an incremental one, a table updated in place);
    # the keyed listings are a view (keys joined to the lake's columns: no text stored twice)
    assert {name: m.materialized for name, m in project.models.items()} == {
        "stg_lake__listings": "view",
        "stg_lake__rejects": "view",
        "stg_lake__snapshots": "view",
        "int_listings__document_keys": "incremental",
        "int_listings__keyed": "view",
        "int_snapshots__fetches": "incremental",
        "dim_documents": "incremental",
        "fct_listing_appearances": "incremental",
        "fct_query_snapshots": "incremental",
        "rpt_data_quality": "incremental",
        "rpt_rejects": "incremental",
    }


def test_each_model_and_test_is_reported_as_it_finishes_with_its_outcome(tmp_path: Path) -> None:
    files = {**FAILING, "tests/assert_names_known.sql": (
        "-- grain: one row per person without a name\n{{ config(severity='warn') }}\n"
        "select id from {{ ref('people') }} where name is null\n"
    )}  # fmt: skip
    events: list[Event] = []
    with pytest.raises(DataTestFailure):
        runner.run(
            database.connect(),
            load_project(write_project(tmp_path, files)),
            on_event=events.append,
        )
    assert [(e.step, e.index, e.total, e.name, e.status, e.rows) for e in events] == [
        ("model", 1, 1, "people", "OK", None),  # a view: not counted
        ("test", 1, 2, "not_null__people__name", "FAIL", 2),
        ("test", 2, 2, "assert_names_known", "WARN", 2),
    ]
    lines = [event.render() for event in events]
    assert lines[0].startswith("  1 of 1 OK created view people ......")
    assert lines[0].endswith(". " + f"{events[0].seconds:.2f} s")  # a view: no row count
    assert lines[1].startswith("  1 of 2 FAIL 2 not_null__people__name ......")
    assert lines[2].startswith("  2 of 2 WARN 2 assert_names_known ......")
    assert all(len(line.rsplit(" ", 2)[0]) >= EVENT_WIDTH for line in lines)


def test_a_model_that_fails_to_build_is_reported_before_the_error(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"staging/broken.sql": model("select * from nowhere")})
    events: list[Event] = []
    with pytest.raises(ModelError, match="building broken failed"):
        runner.run(database.connect(), load_project(root), on_event=events.append)
    assert [(e.name, e.status) for e in events] == [("broken", "ERROR")]
    assert events[0].render().startswith("  1 of 1 ERROR creating view broken ....")


def test_a_test_counts_every_offending_row_and_keeps_a_sample_of_ten(tmp_path: Path) -> None:
    files = {
        "staging/numbers.sql": model("select * from range(25) as t(n)"),
        "staging/numbers.yml": (
            "models:\n  - name: numbers\n    tests:\n"
            "      - strictly_true:\n          arguments: {expression: n < 0}\n"
            "          config: {severity: warn}\n"
        ),
    }
    result = runner.run(database.connect(), load_project(write_project(tmp_path, files)))
    (warned,) = result.warnings
    assert warned.failing_count == 25
    assert warned.sample.columns == ["n"]
    assert warned.sample.height == SAMPLE_ROWS == 10


def test_an_unknown_generic_test_is_refused_naming_the_known_kinds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each kind is a template in pipeline/warehouse/generic_tests/: a typo names them all.

    A file below the working directory is named relative to it: the test runs in the
    project's folder, so the message is the same wherever pytest's temporary folder is
    (`make test`'s --basetemp lies below the repository, where the suite runs)."""
    monkeypatch.chdir(tmp_path)
    files = {
        "staging/people.sql": FAILING["staging/people.sql"],
        "staging/people.yml": (
            "models:\n  - name: people\n    columns:\n      - name: name\n        tests: [uniqe]\n"
        ),
    }
    with pytest.raises(ModelError) as error:
        load_project(write_project(tmp_path, files))
    assert str(error.value) == (
        "staging/people.yml: unknown test 'uniqe' on people.name (known: "
        "accepted_values, not_null, relationships, strictly_true, unique)"
    )


def test_an_update_tests_the_rows_it_changed_and_the_appended_snapshots(tmp_path: Path) -> None:
    """An incremental model's generic tests read the rows whose key the update changed; a
    staging view's, the appended rows; rows that passed before are not read. The view is
    kept, not created again."""
    incremental = (
        "-- grain: one row per id\n"
        "{{ config(materialized='incremental', unique_key='id') }}\n"
        "select id, v from {{ ref('stg') }}\n"
        "{% if is_incremental() %}where id not in (select id from {{ this }}){% endif %}\n"
    )
    warn_null = "        tests: [{not_null: {severity: warn}}]\n"
    yml = "models:\n  - name: NAME\n    columns:\n      - name: v\n" + warn_null
    root = write_project(
        tmp_path,
        {
            "staging/stg.sql": model("select * from {{ source('lake', 'listings') }}"),
            "staging/stg.yml": yml.replace("NAME", "stg"),
            "marts/m.sql": incremental,
            "marts/m.yml": yml.replace("NAME", "m"),
        },
    )
    project = load_project(root)
    con = database.connect()
    con.execute("create table listings as select * from (values ('s1', 1, null), ('s1', 2, 'a'))"
                " as t(snapshot_id, id, v)")  # fmt: skip
    first = runner.run(con, project)
    assert [(r.test.name, r.failing_count) for r in first.tests] == [
        ("not_null__stg__v", 1),
        ("not_null__m__v", 1),
    ]
    con.execute("create temp table appended as select * from (values ('s2', 3, 'b'), "
                "('s3', 4, null)) as t(snapshot_id, id, v)")  # fmt: skip
    con.execute("insert into listings select * from appended")
    events: list[Event] = []
    update = runner.run(
        con, project, incremental=True, appended={"listings": "appended"}, on_event=events.append
    )
    assert [(e.step, e.name) for e in events][:2] == [("keep", "stg"), ("update", "m")]
    # id 1's null passed before as a warning and is not read again; the new null is found
    assert [(r.test.name, r.failing_count) for r in update.tests] == [
        ("not_null__stg__v", 1),
        ("not_null__m__v", 1),
    ]
    assert con.sql("select count(*) from m").fetchall() == [(4,)]
    assert update.tests[1].sample["id"].to_list() == [4]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("create or replace macro twice(x) as x * 2", None),
        ("create or replace macro twice(n) as table select n * 2 as y", None),
        ("create table twice as select 1", "returns one `create or replace macro"),
        ("create or replace macro twice(x) as x * 2; select 1", "returns one `create"),
        ("create or replace macro twice(x as", "does not run"),
    ],
)
def test_an_on_run_start_hook_creates_one_duckdb_macro(
    tmp_path: Path, text: str, error: str | None
) -> None:
    """dbt_project.yml's `on-run-start: ["{{ create_twice() }}"]` calls a macro of macros/
    returning one statement that creates a DuckDB macro: DuckDB itself checks it."""
    root = write_project(
        tmp_path,
        {
            "macros/twice.sql": f"{{% macro create_twice() %}}\n{text}\n{{% endmacro %}}\n",
            "marts/m.sql": model("select 1"),
        },
    )
    (root / "dbt_project.yml").write_text('on-run-start: ["{{ create_twice() }}"]\n')
    if error is None:
        assert load_project(root).macros == {"create_twice": text}
    else:
        with pytest.raises(ModelError, match=re.escape(error)):
            load_project(root)


def test_a_singular_test_reads_what_its_incremental_block_says_in_an_update(
    tmp_path: Path,
) -> None:
    """In an update a singular test runs with its is_incremental() blocks on, reading the
    changes it names; `--test-only` and full builds run it whole."""
    root = write_project(
        tmp_path,
        {
            "staging/stg.sql": model("select * from {{ source('lake', 'listings') }}"),
            "marts/m.sql": (
                "-- grain: one row per id\n"
                "{{ config(materialized='incremental', unique_key='id') }}\n"
                "select id from {{ ref('stg') }}\n"
                "{% if is_incremental() %}where id not in (select id from {{ this }}){% endif %}\n"
            ),
            "tests/assert_every_id.sql": (
                "-- grain: one row per id\n{{ config(severity='warn') }}\n"
                "select id from {{ ref('m') }}\n{% if is_incremental() %}"
                "where id in (select id from {{ changes('m') }}){% endif %}\n"
            ),
        },
    )
    project = load_project(root)
    con = database.connect()
    con.execute("create table listings as select * from range(3) as t(id)")
    assert [r.failing_count for r in runner.run(con, project).tests] == [3]
    con.execute("create temp table appended as select 7 as id")
    con.execute("insert into listings select * from appended")
    update = runner.run(con, project, incremental=True, appended={"listings": "appended"})
    assert [r.failing_count for r in update.tests] == [1]
    assert [r.failing_count for r in runner.run_tests(con, project)[0].tests] == [4]
