"""`listings sql` as good as DuckDB's shell: PIVOT without `IN` runs, errors name the lines
of the SQL as given, EXPLAIN prints its plan, tables count every row, the `line`,
`markdown` and `ndjson` formats and `--timer`, a hint for a model named over `--lake` (whose
binding shows the lake's tables only), `listings describe` with each column's comment, and
exit status 141 whenever the reader of stdout leaves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline import cli
from pipeline.cli import sql
from pipeline.warehouse.project import load_project
from tests.conftest import REPO, lake_files

# The sample lake's listings by fetch day and title source (data/raw: 53 listings).
PIVOTED = [
    "fetched_date,catalogue,html,json,own_line,repetition,unknown",
    "2026-11-20,7,10,10,3,2,8",
    "2026-11-21,0,0,0,0,1,7",
    "2026-11-22,0,0,0,1,0,4",
]
PIVOT = "pivot listings on title_source using count(*) group by fetched_date order by fetched_date"


@pytest.fixture
def db(sample_warehouse: Path) -> Path:
    return sample_warehouse


@pytest.fixture(params=["lake", "db"])
def target(request: pytest.FixtureRequest, sample_lake: Path, sample_warehouse: Path) -> list[str]:
    if request.param == "lake":
        return ["--lake", str(sample_lake)]
    return ["--db", str(sample_warehouse)]


def _sql(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(["sql", *args])
    out, err = capsys.readouterr()
    return status, out, err


# --- PIVOT without IN -----------------------------------------------------------------------


def test_a_pivot_without_in_returns_the_pivoted_rows(
    target: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """DuckDB expands it into two statements (a temporary ENUM of the values, then the
    query): a MULTI statement, which runs when its text is a query."""
    status, out, err = _sql([PIVOT, *target, "--format", "csv"], capsys)
    assert (status, out.splitlines(), err) == (0, PIVOTED, "")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("with p as (pivot listings on title_source using count(*)) select count(*) as n from p",
         ["n", "53"]),
        ("select count(*) as n from (pivot listings on title_source using count(*));", ["n", "53"]),
        (f"{PIVOT} -- a comment\n;  ;", PIVOTED),
    ],
)  # fmt: skip
def test_a_pivot_without_in_inside_a_query_runs(
    query: str, expected: list[str], db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _sql([query, "--db", str(db), "--format", "csv"], capsys)
    assert (status, out.splitlines()) == (0, expected)


@pytest.mark.parametrize(
    ("query", "refusal"),
    [
        ("copy (pivot listings on site using count(*)) to '{here}/out.csv'", "is MULTI (copy"),
        ("create table t as pivot listings on site using count(*)", "is MULTI (create"),
        ("explain analyze pivot listings on site using count(*)", "is MULTI (explain"),
        ("explain (analyze) copy (pivot listings on site using count(*)) to '{here}/out.csv'",
         "is MULTI (explain"),
        ("insert into listings by name (pivot listings on site using count(*))",
         "is MULTI (insert"),
        ("select 1; copy (pivot listings on site using count(*)) to '{here}/out.csv'",
         "statement 2 of 2 is MULTI (copy"),
        # Text that would close the subquery the check parses a MULTI in: it is no statement.
        ("select 1) p; copy (pivot listings on site using count(*)) to '{here}/out.csv'; "
         "select * from (select 1", "Parser Error: syntax error at or near \")\""),
    ],
)  # fmt: skip
def test_a_write_holding_a_pivot_without_in_is_refused(
    query: str,
    refusal: str,
    tmp_path: Path,
    target: list[str],
    sample_lake: Path,
    db: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = (lake_files(sample_lake), db.read_bytes())
    status, out, err = _sql([query.format(here=tmp_path), *target], capsys)
    assert (status, out) == (1, "")
    assert err.startswith("listings sql: ") and refusal in err
    assert list(tmp_path.iterdir()) == []
    assert (lake_files(sample_lake), db.read_bytes()) == before


# --- Errors name the lines of the SQL as given ----------------------------------------------


@pytest.mark.parametrize("form", ["table", "csv"])
@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("select 'a'::int", "LINE 1: select 'a'::int\n                  ^^^^^"),
        ("select 1 as x,\n 'a'::int as y", "LINE 2:  'a'::int as y\n            ^^^^^"),
        ("select 1 as x;\nselect 'a'::int", "LINE 2: select 'a'::int\n                  ^^^^^"),
        ("\n\n-- why\nselect 1 as x; select\n'a'::int", "LINE 5: 'a'::int\n           ^^^^^"),
        # Line 10: one digit more, the caret one column further.
        ("select 1 as x;" + "\n" * 9 + "select 'a'::int",
         "LINE 10: select 'a'::int\n                   ^^^^^"),
    ],
)  # fmt: skip
def test_an_error_names_the_line_of_the_sql_as_given(
    query: str, where: str, form: str, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _sql([query, "--db", str(db), "--format", form], capsys)
    assert (status, err) == (
        1,
        f"listings sql: Conversion Error: Could not convert string 'a' to INT32\n\n{where}\n",
    )


def test_a_syntax_error_names_the_line_as_given(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _sql(["select 1;\n\nselec 2", "--db", str(db)], capsys)
    assert (status, err) == (
        1,
        'listings sql: Parser Error: syntax error at or near "selec"\n\nLINE 3: selec 2\n'
        "        ^^^^^\n",
    )


# --- EXPLAIN, tables, formats, --timer ------------------------------------------------------


def test_explain_prints_the_plan_as_lines(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _sql(["explain select count(*) from listings", "--db", str(db)], capsys)
    assert status == 0
    assert "\\n" not in out
    assert out.splitlines()[0].startswith("╭─ ") and out.endswith("╯\n\n")


def test_a_long_result_is_drawn_with_its_last_rows_and_its_exact_count(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """DuckDB's Python renderer reads at most 10 000 rows: it said `? rows (>9999 rows, 6
    shown)` and drew rows 9997 to 9999 as the last."""
    query = "select range as n from range(20000)"
    status, out, _ = _sql([query, "--db", str(db), "--max-rows", "6"], capsys)
    assert (status, out) == (
        0,
        "┌───────────┐\n"
        "│     n     │\n"
        "│   int64   │\n"
        "├───────────┤\n"
        "│         0 │\n"
        "│         1 │\n"
        "│         2 │\n"
        "│         · │\n"
        "│         · │\n"
        "│         · │\n"
        "│     19997 │\n"
        "│     19998 │\n"
        "│     19999 │\n"
        "└───────────┘\n"
        " 20000 rows \n"
        "  (6 shown) \n"
        "\n",
    )


def test_a_result_larger_than_memory_allows_is_drawn_and_counted(db: Path) -> None:
    """A table holds at most its drawn rows' worth: 8 GB of result under a 4 GiB address
    space (held whole, it ran out of memory) is drawn with its exact count."""
    import resource

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    query = "select range as n, repeat('x', 1000) as pad from range(8000000)"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "sql", query, "--db", str(db)],
        capture_output=True, text=True, encoding="utf-8", preexec_fn=limited, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[-2].split()[:4] == ["8000000", "rows", "(50", "shown)"]


def test_a_wide_long_result_keeps_its_column_count_in_place(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    columns = ", ".join(f"repeat('x', 10) || range as c{n}" for n in range(12))
    query = f"select {columns} from range(33000)"
    status, out, _ = _sql([query, "--db", str(db), "--max-rows", "4", "--max-width", "80"], capsys)
    assert status == 0
    assert out.splitlines()[-2:] == [
        "  33000 rows (4 shown)                                 12 columns (4 shown)",
        "",
    ]


@pytest.mark.parametrize(("total", "footer"), [(12, ["   12 rows ", "  (4 shown) "]), (3, [])])
def test_a_short_result_is_counted_by_duckdb_itself(
    total: int, footer: list[str], db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = f"select range as n from range({total})"
    status, out, _ = _sql([query, "--db", str(db), "--max-rows", "4"], capsys)
    lines = out.splitlines()
    closing = max(index for index, line in enumerate(lines) if line.startswith("└"))
    assert (status, lines[closing + 1 :]) == (0, [*footer, ""])


QUERY = (
    "select position, title, price, fetched_at, null as gone from (values "
    "(1, '数据库系统概论（第5版）', 5, timestamptz '2026-11-20 09:14:37+00'), "
    "(2, null, 3, timestamptz '2026-11-20 09:14:37.5+00')) as listing(position, title, price, "
    "fetched_at)"
)


def test_line_writes_a_column_a_line(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _sql([QUERY + "; select 1 as n", "--db", str(db), "--format", "line"], capsys)
    assert (status, out) == (
        0,
        "  position = 1\n"
        "     title = 数据库系统概论（第5版）\n"
        "     price = 5\n"
        "fetched_at = 2026-11-20 09:14:37+00\n"
        "      gone = NULL\n"
        "\n"
        "  position = 2\n"
        "     title = NULL\n"
        "     price = 3\n"
        "fetched_at = 2026-11-20 09:14:37.5+00\n"
        "      gone = NULL\n"
        "\n"
        "    n = 1\n",
    )


def test_markdown_writes_a_github_table(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = QUERY.replace("null as gone", "'a|b' as piped")
    status, out, _ = _sql([query, "--db", str(db), "--format", "markdown"], capsys)
    assert (status, out) == (
        0,
        "| position | title                   | price | fetched_at               | piped |\n"
        "|---------:|-------------------------|------:|--------------------------|-------|\n"
        "|        1 | 数据库系统概论（第5版） |     5 | 2026-11-20 09:14:37+00   | a\\|b  |\n"
        "|        2 | NULL                    |     3 | 2026-11-20 09:14:37.5+00 | a\\|b  |\n",
    )


def test_ndjson_writes_an_object_a_line_with_iso_times(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _sql(
        [QUERY + "; select 1 as n", "--db", str(db), "--format", "ndjson"], capsys
    )
    rows = [json.loads(line) if line else None for line in out.splitlines()]
    assert (status, rows) == (
        0,
        [
            {"position": 1, "title": "数据库系统概论（第5版）", "price": 5,
             "fetched_at": "2026-11-20T09:14:37+00:00", "gone": None},
            {"position": 2, "title": None, "price": 3,
             "fetched_at": "2026-11-20T09:14:37.500+00:00", "gone": None},
            None,  # a blank line between results
            {"n": 1},
        ],
    )  # fmt: skip


def test_timer_prints_each_statements_run_time_on_stderr(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter([10.0, 10.25, 10.25, 11.5, 11.5])
    monkeypatch.setattr(sql, "CLOCK", lambda: next(ticks))
    status, out, err = _sql(
        ["select 1 as a; select 2 as b", "--db", str(db), "--format", "csv", "--timer"], capsys
    )
    assert (status, out, err) == (0, "a\n1\n\nb\n2\n", "Run Time: 0.250 s\nRun Time: 1.250 s\n")


def test_the_help_names_the_new_formats_and_the_timer(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["sql", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "{table,csv,json,parquet,line,markdown,ndjson}" in text
    assert "line (a column a line, name = value, as DuckDB's .mode line)" in text
    assert "--timer after each statement, print `Run Time: 0.012 s`" in text
    assert "PIVOT with or without IN" in text


# --- --lake: models and the binding's own table ---------------------------------------------


def test_a_model_named_over_a_lake_says_where_models_are(
    sample_lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "select 1;\nselect * from dim_documents"
    status, _, err = _sql([query, "--lake", str(sample_lake)], capsys)
    assert (status, err.splitlines()) == (
        1,
        [
            "listings sql: Catalog Error: Table with name dim_documents does not exist!",
            'Did you mean "duckdb_columns"?',
            "dim_documents is a model of the warehouse (dbt_like_sql/), not a table of the "
            "lake: --lake reads the lake's tables only (listings, rejects, snapshots). Build "
            "the warehouse with `listings build --lake DIR --db PATH` and query it with --db "
            "PATH (or without --lake: data/warehouse.duckdb)",
        ],
    )


def test_a_missing_table_that_is_no_model_gets_no_hint(
    sample_lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _sql(["select * from dim_documentz", "--lake", str(sample_lake)], capsys)
    assert status == 1 and "model" not in err


@pytest.mark.parametrize(
    "query",
    [
        "show tables",
        "select table_name as name from information_schema.tables order by 1",
        "select table_name as name from duckdb_tables() union all "
        "select view_name from duckdb_views() where not internal order by 1",
    ],
)
def test_a_lake_shows_its_three_tables_only(
    query: str, sample_lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _sql([query, "--lake", str(sample_lake), "--format", "csv"], capsys)
    assert (status, out) == (0, "name\nlistings\nrejects\nsnapshots\n")


# --- listings describe ----------------------------------------------------------------------


def test_describe_shows_each_columns_comment(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The comment the build wrote on every column, in the mart's order: for `site`, its
    description in dbt_like_sql/marts/dim_documents.yml."""
    status = cli.main(["describe", "dim_documents", "--db", str(db), "--format", "json"])
    shown = json.loads(capsys.readouterr().out)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.sql(
            "select column_name, data_type as column_type, comment from duckdb_columns() "
            "where table_name = 'dim_documents' order by column_index"
        ).fetchall()
    described = load_project().models["dim_documents"].described.columns
    assert status == 0
    assert [tuple(row.values()) for row in shown] == stored
    site = next(row for row in shown if row["column_name"] == "site")
    assert site == {"column_name": "site", "column_type": "VARCHAR", "comment": described["site"]}


def test_describe_of_a_model_over_a_lake_says_where_models_are(
    sample_lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["describe", "dim_documents", "--lake", str(sample_lake)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("listings describe: Catalog Error: Table with name dim_documents")
    assert "dim_documents is a model of the warehouse" in err


# --- The reader of stdout going away --------------------------------------------------------


def _readers(command: list[str], tries: int) -> Iterator[tuple[int, bytes]]:
    """Run `command` `tries` times, each time reading its first line and closing the pipe:
    its exit status and stderr."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(tries):
        reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert reader.stdout is not None and reader.stderr is not None
        reader.stdout.readline()
        reader.stdout.close()
        status = reader.wait(timeout=120)
        yield status, reader.stderr.read()
        reader.stderr.close()


@pytest.mark.parametrize("form", ["csv", "parquet", "markdown"])
def test_a_reader_leaving_midway_ends_with_141_every_time(form: str, db: Path) -> None:
    """The output (megabytes) overflows the pipe, so the reader leaves in the middle of a
    write: a write to a pipe whose reader left writes part and reports no error, and
    Python then drops the rest, which ended in exit status 0."""
    listings = Path(sys.executable).with_name("listings")
    query = "select range as n, 'row ' || range as text from range(300000)"
    command = [str(listings), "sql", query, "--db", str(db), "--format", form]
    assert list(_readers(command, tries=3)) == [(141, b"")] * 3
