"""The warehouse and the lake open in the DuckDB, polars and pandas an analyst already has.

A build writes the warehouse in DuckDB's v1.3.0 storage format (`config.STORAGE_VERSION`), so
the DuckDB 1.x shell from the package registry (`duckdb-cli`, 1.5.6) opens a freshly built
sample warehouse and finds every relation, row, ENUM type and comment DuckDB 2 finds, while it
refuses one in DuckDB 2's newest format with the message docs/notebooks.md quotes. The lake's
Parquet files read with the same types and values in that shell, in DuckDB 1.x and polars 1.x
for Python, and in pyarrow and pandas. The 1.x readers are pinned in requirements-compat.txt
and installed by `make` into .venv/compat, apart from the venv's duckdb 2 and polars 2, so
they run here in subprocesses. A reader that is missing fails with the command that installs
it: nothing is skipped (docs/warehouse.md, "Which DuckDB opens the warehouse").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from markdown_it import MarkdownIt

from pipeline.lake import layout, manifest
from pipeline.lake.storage import Location
from pipeline.warehouse import database
from pipeline.warehouse.project import load_project
from tests.conftest import REPO

COMPAT = Path(sys.prefix) / "compat"  # .venv/compat: the Makefile's COMPAT
SHELL = COMPAT / "duckdb_cli" / "duckdb"  # the shell's binary, as `pip install duckdb-cli` ships it
INSTALL = (
    "`make .venv/.installed` installs them (or: .venv/bin/python -m pip install --no-deps "
    "--target .venv/compat -r requirements-compat.txt)"
)
LAKE_TABLES = ("snapshots", "listings", "rejects")
# The sample lake (data/raw): one file per table, all of November 2026.
SAMPLE_ROWS = {"snapshots": 6, "listings": 53, "rejects": 0}

# What each reader makes of each type the lake's files hold (`layout.file_schema`, polars').
# A new type in the lake fails here until it is checked against every reader.
READ_AS = {
    "String": {"pyarrow": "large_string", "duckdb": "VARCHAR", "polars": "String"},
    "Int32": {"pyarrow": "int32", "duckdb": "INTEGER", "polars": "Int32"},
    "Int64": {"pyarrow": "int64", "duckdb": "BIGINT", "polars": "Int64"},
    "Float64": {"pyarrow": "double", "duckdb": "DOUBLE", "polars": "Float64"},
    "Boolean": {"pyarrow": "bool", "duckdb": "BOOLEAN", "polars": "Boolean"},
    "Date": {"pyarrow": "date32[day]", "duckdb": "DATE", "polars": "Date"},
    "Datetime(time_unit='us', time_zone='UTC')": {
        "pyarrow": "timestamp[us, tz=UTC]",
        "duckdb": "TIMESTAMP WITH TIME ZONE",
        "polars": "Datetime(time_unit='us', time_zone='UTC')",
    },
}


def pinned(package: str) -> str:
    """The version requirements-compat.txt pins `package` to."""
    for line in (REPO / "requirements-compat.txt").read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if name.strip() == package:
            return version.strip()
    raise AssertionError(f"requirements-compat.txt pins no {package}")


def need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(
            f"{path} is missing: the DuckDB 1.x and polars 1.x readers are not installed. {INSTALL}"
        )
    return path


def shell(sql: str, db: Path | None = None) -> list[dict[str, Any]]:
    """The rows of `sql` as the DuckDB 1.x shell returns them (`-json`), in UTC, on `db`
    opened read-only (as docs/notebooks.md tells analysts) or in memory."""
    opened = ["-readonly", str(db)] if db is not None else []
    done = subprocess.run(
        [str(need(SHELL)), *opened, "-json", "-c", "SET TimeZone = 'UTC'", "-c", sql],
        capture_output=True, text=True, encoding="utf-8", check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else []


def old_python(script: str, *args: str) -> Any:
    """What `script` prints (JSON) run by this Python with only the 1.x readers importable:
    `-S` leaves the venv's site-packages (duckdb 2, polars 2) out."""
    need(COMPAT / "duckdb")
    need(COMPAT / "polars")
    done = subprocess.run(
        [sys.executable, "-S", "-c", script, *args],
        env={**os.environ, "PYTHONPATH": str(COMPAT)},
        capture_output=True, text=True, encoding="utf-8", check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# DuckDB 1.x for Python: each statement's rows, as the shell's `-json` gives them.
DUCKDB_1 = """
import json, sys
import duckdb
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
results = []
for sql in sys.argv[1:]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    results.append([dict(zip(names, row)) for row in cursor.fetchall()])
print(json.dumps({"version": duckdb.__version__, "results": results}))
"""

# polars 1.x: rows, types and non-null counts of each file.
POLARS_1 = """
import json, sys
import polars as pl
files = {}
for path in sys.argv[1:]:
    frame = pl.read_parquet(path, hive_partitioning=False)
    files[path] = {
        "rows": frame.height,
        "types": {name: str(dtype) for name, dtype in frame.schema.items()},
        "non_null": {name: frame.height - frame[name].null_count() for name in frame.columns},
    }
print(json.dumps({"version": pl.__version__, "files": files}))
"""


def literal(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def duckdb_reads(source: str) -> tuple[str, str]:
    """The two statements a DuckDB reading is made of: the columns' types, and the row count
    with each column's non-null count."""
    return (
        f"DESCRIBE SELECT * FROM {source}",
        f'SELECT count(*) AS "__rows", count(COLUMNS(*)) FROM {source}',
    )


def reading_of(described: list[dict[str, Any]], counted: list[dict[str, Any]]) -> dict[str, Any]:
    (counts,) = counted
    rows = counts.pop("__rows")
    types = {row["column_name"]: row["column_type"] for row in described}
    return {"rows": rows, "types": types, "non_null": counts}


def committed_file(lake: Path, table: str) -> str:
    (file,) = manifest.committed_files(Location.of(lake))[table]
    return file


def expected(file: str, table: str, reader: str) -> dict[str, Any]:
    """The reading every reader must give of `file`: the lake's types as `reader` names them,
    and the rows and non-null counts polars 2 (which wrote the file) reads."""
    schema = layout.file_schema(table)
    frame = pl.read_parquet(file, hive_partitioning=False)
    assert frame.schema == schema
    if reader == "pandas":
        types = {
            name: f"{READ_AS[str(dtype)]['pyarrow']}[pyarrow]" for name, dtype in schema.items()
        }
    else:
        types = {name: READ_AS[str(dtype)][reader] for name, dtype in schema.items()}
    return {
        "rows": SAMPLE_ROWS[table],
        "types": types,
        "non_null": {name: frame.height - frame[name].null_count() for name in frame.columns},
    }


def test_the_older_readers_are_the_pinned_1x_releases() -> None:
    done = subprocess.run(
        [str(need(SHELL)), "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.stdout.startswith(f"v{pinned('duckdb-cli')} ")
    script = (
        "import json, duckdb, polars; print(json.dumps([duckdb.__version__, polars.__version__]))"
    )
    assert old_python(script) == [pinned("duckdb"), pinned("polars")]
    assert [pinned(name).split(".")[0] for name in ("duckdb-cli", "duckdb", "polars")] == ["1"] * 3


def test_the_duckdb_1_shell_reads_every_relation_of_a_fresh_sample_warehouse(
    sample_warehouse: Path,
) -> None:
    project = load_project()
    marts = {name for name, model in project.models.items() if model.layer == "marts"}
    con = database.connect(sample_warehouse)  # DuckDB 2, read-only, in UTC
    try:
        relations = [
            name
            for (name,) in con.sql(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' ORDER BY table_name"
            ).fetchall()
        ]
        # every relation's rows and a digest of their text: the same rows, not only as many
        every = " UNION ALL ".join(
            f"SELECT {literal(name)} AS relation, count(*) AS \"rows\", "
            f"md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)) AS digest FROM \"{name}\" t"
            for name in relations
        ) + " ORDER BY relation"  # fmt: skip
        catalogue = (
            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
            "WHERE NOT internal ORDER BY ALL"
        )
        commented = (
            "SELECT table_name AS name, comment FROM duckdb_tables() WHERE NOT internal "
            "UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE NOT internal "
            "ORDER BY ALL"
        )
        wanted = {sql: con.sql(sql).pl().to_dicts() for sql in (every, catalogue, commented)}
    finally:
        con.close()

    assert marts and marts <= set(relations) and set(LAKE_TABLES) <= set(relations)
    read = {sql: shell(sql, sample_warehouse) for sql in wanted}
    assert read == wanted
    counts = {row["relation"]: row["rows"] for row in read[every]}
    assert {table: counts[table] for table in LAKE_TABLES} == SAMPLE_ROWS
    assert all(counts[mart] > 0 for mart in marts - {"rpt_rejects"})  # the sample has no reject
    enums = {(row["table_name"], row["column_name"]) for row in read[catalogue]
             if row["data_type"].startswith("ENUM(")}  # fmt: skip
    assert ("dim_documents", "file_family") in enums and ("rpt_rejects", "stage") in enums
    assert all(row["comment"] for row in read[commented] if row["name"] in marts)


def test_the_duckdb_1_shell_refuses_duckdb_2s_newest_format(
    sample_lake: Path, tmp_path: Path
) -> None:
    db = tmp_path / "latest.duckdb"
    database.build(sample_lake, db, storage_version="latest")
    done = subprocess.run(
        [str(need(SHELL)), "-readonly", str(db), "-c", "SELECT count(*) FROM dim_documents"],
        capture_output=True, text=True, encoding="utf-8", check=False, timeout=120,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.splitlines()[0] == (
        "IO Error: Trying to read a database file with version number 69, but we can only "
        "read versions between 64 and 68."
    )


def test_the_duckdb_1_shell_reads_the_lake_by_its_glob(sample_lake: Path) -> None:
    for table in LAKE_TABLES:
        source = (
            f"read_parquet({literal(sample_lake / table / '**' / '*.parquet')}, "
            "hive_partitioning = true)"
        )
        described, counted = (shell(sql) for sql in duckdb_reads(source))
        want = expected(committed_file(sample_lake, table), table, "duckdb")
        want["types"][layout.PARTITION] = "VARCHAR"
        want["non_null"][layout.PARTITION] = want["rows"]
        assert reading_of(described, counted) == want, table


def read_with(reader: str, files: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each table's file as `reader` reads it: rows, column types, non-null counts."""
    if reader == "pyarrow":
        readings = {}
        for table, file in files.items():
            arrow = pq.ParquetFile(file).read()
            readings[table] = {
                "rows": arrow.num_rows,
                "types": {field.name: str(field.type) for field in arrow.schema},
                "non_null": {name: len(c) - c.null_count
                             for name, c in zip(arrow.column_names, arrow.columns, strict=True)},
            }  # fmt: skip
        return readings
    if reader == "pandas":
        readings = {}
        for table, file in files.items():
            frame = pd.read_parquet(file, dtype_backend="pyarrow")
            readings[table] = {
                "rows": len(frame),
                "types": {name: str(dtype) for name, dtype in frame.dtypes.items()},
                "non_null": {name: int(count) for name, count in frame.count().items()},
            }
        return readings
    if reader == "polars 1.x":
        done = old_python(POLARS_1, *files.values())
        return {table: done["files"][file] for table, file in files.items()}
    sources = [
        f"read_parquet({literal(file)}, hive_partitioning = false)" for file in files.values()
    ]
    statements = [sql for source in sources for sql in duckdb_reads(source)]
    if reader == "duckdb 1.x":
        results = old_python(DUCKDB_1, *statements)["results"]
    else:  # the DuckDB 1.x shell
        results = [shell(sql) for sql in statements]
    return {table: reading_of(results[2 * index], results[2 * index + 1])
            for index, table in enumerate(files)}  # fmt: skip


@pytest.mark.parametrize(
    ("reader", "types"),
    [
        ("pyarrow", "pyarrow"),
        ("pandas", "pandas"),
        ("duckdb 1.x", "duckdb"),
        ("duckdb 1.x shell", "duckdb"),
        ("polars 1.x", "polars"),
    ],
)
def test_each_reader_reads_a_lake_file_with_the_lakes_types_and_values(
    sample_lake: Path, reader: str, types: str
) -> None:
    files = {table: committed_file(sample_lake, table) for table in LAKE_TABLES}
    readings = read_with(reader, files)
    for table, file in files.items():
        assert readings[table] == expected(file, table, types), table


def test_the_notebook_docs_shell_session_runs_in_the_1x_shell(sample_warehouse: Path) -> None:
    doc = REPO / "docs" / "notebooks.md"
    tokens, under, blocks = MarkdownIt().parse(doc.read_text(encoding="utf-8")), None, {}
    for at, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            under = tokens[at + 1].content
        elif token.type == "fence" and under == "The DuckDB shell, or the DuckDB your tool bundles":
            blocks[token.info] = token.content
    assert blocks["sh"] == "duckdb -readonly data/warehouse.duckdb\n"
    done = subprocess.run(
        [str(need(SHELL)), "-readonly", str(sample_warehouse), "-csv", "-c", blocks["sql"]],
        capture_output=True, text=True, encoding="utf-8", check=False, timeout=120,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    con = database.connect(sample_warehouse)
    try:
        sites = con.sql("SELECT site, count(*) FROM dim_documents GROUP BY ALL ORDER BY ALL")
        wanted = [f"{site},{count}" for site, count in sites.fetchall()]
    finally:
        con.close()
    lines = done.stdout.splitlines()
    assert sorted(lines[1 : 1 + len(wanted)]) == wanted
