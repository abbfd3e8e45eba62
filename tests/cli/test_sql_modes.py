"""`listings sql` behaves like DuckDB's shell: SQL from an argument, a file or stdin, every
statement's result drawn by DuckDB's renderer, and one time format in CSV and JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest

from pipeline import cli
from pipeline.cli import sql, sql_output
from pipeline.warehouse import database

FETCHES = "select fetched_at from snapshots order by fetched_at limit 2"
# The sample's first two fetch times (data/raw/*.meta.json), as both formats write them.
ISO = ["2026-11-20T09:14:37+00:00", "2026-11-20T09:30:00+00:00"]


@pytest.fixture
def db(sample_warehouse: Path) -> Path:
    return sample_warehouse


def _sql(args: list[str], db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(["sql", *args, "--db", str(db)])
    out, err = capsys.readouterr()
    return status, out, err


def test_every_statements_result_is_shown_in_order(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _sql(["select 1 as first; select 2 as second"], db, capsys)
    assert status == 0
    assert out == (
        "┌───────┐\n│ first │\n│ int32 │\n├───────┤\n│     1 │\n└───────┘\n\n"
        "┌────────┐\n│ second │\n│ int32  │\n├────────┤\n│      2 │\n└────────┘\n\n"
    )


def test_sql_from_a_file_and_from_stdin_runs_the_same(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "select count(*) as listings from listings;\nselect count(*) as rejects from rejects;"
    file = tmp_path / "counts.sql"
    file.write_text(query, encoding="utf-8")
    from_file = _sql(["-f", str(file), "--format", "csv"], db, capsys)
    monkeypatch.setattr("sys.stdin", io.StringIO(query))
    from_stdin = _sql(["-", "--format", "csv"], db, capsys)
    assert from_file == from_stdin == (0, "listings\n53\n\nrejects\n0\n", "")


def test_csv_and_json_write_one_iso_8601_time(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, csv_out, _ = _sql([FETCHES, "--format", "csv"], db, capsys)
    _, json_out, _ = _sql([FETCHES, "--format", "json"], db, capsys)
    assert csv_out.splitlines() == ["fetched_at", *ISO]
    assert [row["fetched_at"] for row in json.loads(json_out)] == ISO
    # Read back, both are the same UTC instants as the warehouse holds.
    back = pl.read_csv(io.StringIO(csv_out), try_parse_dates=True)
    assert back.schema["fetched_at"] == pl.Datetime("us", "UTC")
    assert back["fetched_at"].to_list() == database.query(FETCHES, db=db)["fetched_at"].to_list()


def test_a_time_without_a_zone_has_no_offset() -> None:
    frame = pl.DataFrame({"at": ["2026-11-20 09:14:37.5"]}).with_columns(
        pl.col("at").str.to_datetime()
    )
    assert sql_output.iso_times(frame)["at"].to_list() == ["2026-11-20T09:14:37.500"]


def test_out_takes_one_result(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.csv"
    status, _, err = _sql(["select 1 as a; select 2 as b", "--out", str(out)], db, capsys)
    assert status == 1
    assert err == (
        "listings sql: --out and --format parquet write one result, and statement "
        "'select 2 as b' gives a second: run it on its own\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["   "], "listings sql: no SQL given\n"),
        (["-f", "missing.sql"], "listings sql: cannot read the SQL: [Errno 2] No such file or "),
    ],
)
def test_no_sql_is_a_message(
    args: list[str], message: str, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _sql(args, db, capsys)
    assert status == 1
    assert err.startswith(message)


def test_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["sql", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: data/warehouse.duckdb)" in text
    assert "output format (default: table)" in text
    assert f"first and last halves (default: {sql.MAX_ROWS})" in text
    assert f"{sql.WIDTH_WHEN_PIPED} when stdout is not one" in text


CELLS = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "a=b", None]


def test_safe_csv_quotes_text_cells_that_start_like_a_formula() -> None:
    frame = pl.DataFrame({"text": CELLS, "number": [-1] * len(CELLS)})
    safe = sql_output.formulas_quoted(frame)
    assert safe["text"].to_list() == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "plain", "a=b", None,
    ]  # fmt: skip
    assert safe["number"].to_list() == [-1] * len(CELLS)


def test_sql_safe_csv_writes_formulas_as_text_and_by_default_keeps_values(
    sample_warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "select '=HYPERLINK(''http://x'')' as title, -2 as price"
    base = ["sql", query, "--db", str(sample_warehouse), "--format", "csv"]
    assert cli.main(base) == 0
    assert capsys.readouterr().out == "title,price\n=HYPERLINK('http://x'),-2\n"
    assert cli.main([*base, "--safe-csv"]) == 0
    assert capsys.readouterr().out == "title,price\n'=HYPERLINK('http://x'),-2\n"


def test_sql_help_names_the_formula_risk(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["sql", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--safe-csv" in text and "formula" in text


# A title with a terminal escape, an 8-bit CSI, a bidi override and an invalid byte (read as
# U+0000, pipeline/ingest/decode.py); a list holding one; a column named with one.
HOSTILE = (
    "select 'a' || chr(27) || '[2J' || chr(155) || chr(8238) || 'b' || chr(0) || chr(13) "
    "as \"t\u202e\", ['x' || chr(8238)] as l, 1 as n"
)


def test_sql_tables_escape_every_control_character(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _sql([HOSTILE], db, capsys)
    assert status == 0
    drawn = "".join(char for char in out if not 0x2500 <= ord(char) <= 0x257F)  # box lines
    assert not [char for char in drawn if char != "\n" and (ord(char) < 0x20 or
                                                             0x7F <= ord(char) < 0xA0)]  # fmt: skip
    assert "\u202e" not in drawn
    assert "a\\e[2J\\x9b\\u202eb\\0\\r" in drawn  # DuckDB escapes C0 its way, we the rest
    assert "[x\\u202e]" in drawn and "t\\u202e" in drawn


def test_escaping_leaves_plain_results_and_explain_as_duckdb_draws_them(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _sql(["select 'plain' as t, 2 as n"], db, capsys)
    assert out == (
        "┌─────────┬───────┐\n│    t    │   n   │\n│ varchar │ int32 │\n├─────────┼───────┤\n"
        "│ plain   │     2 │\n└─────────┴───────┘\n\n"
    )
    status, out, _ = _sql(["explain select 1"], db, capsys)
    assert (status, out) == (0, PLAN)


# `explain select 1`: DuckDB's plan, its lines as they are (not a cell holding `\n`), then
# the blank line every result ends with.
PLAN = (
    "╭─ Projection ───╮\n"
    "│ Projections: 1 │\n"
    "│ ~1 row         │\n"
    "╰────────┬───────╯\n"
    "╭─ Dummy Scan ───╮\n"
    "╰────────────────╯\n"
    "\n"
)
