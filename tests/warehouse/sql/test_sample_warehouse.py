"""The committed sample pages end to end: lake → warehouse with every mart → the CLI."""

from __future__ import annotations

import re
import runpy
import shutil
from pathlib import Path

import polars as pl
import pytest

from pipeline import cli
from pipeline.cli import sql
from pipeline.ingest import metadata
from pipeline.run import run
from pipeline.warehouse import database
from tests.conftest import RAW, REPO


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(lake, warehouse) over the six sample snapshots, built once for the module."""
    root = tmp_path_factory.mktemp("sample")
    raw = root / "raw"
    shutil.copytree(RAW, raw)  # the sample pages (the real one in 3 forms) and their sidecars
    lake_dir, db = root / "lake", root / "warehouse.duckdb"
    run.normalise_paths([raw], lake_dir, metadata.ReadOptions())
    database.build(lake_dir, db)
    return lake_dir, db


def test_the_warehouse_holds_the_lake_views_and_every_mart(built: tuple[Path, Path]) -> None:
    _, db = built
    counts = database.query(
        """
        select
            (select count(*) from listings) as listings,
            (select count(*) from dim_documents) as documents,
            (select count(*) from fct_listing_appearances) as appearances,
            (select count(*) from fct_query_snapshots) as fetches,
            (select count(*) from rpt_rejects) as reject_rows,
            (select count(*) from rpt_data_quality) as findings
        """,
        db=db,
    ).to_dicts()
    # 53 listings: 23 documents seen once and the real page's 10 seen in three forms (text,
    # HTML, JSON), so 33 documents and 53 appearances (one per document and snapshot); 4
    # queries fetched once each (the three forms share query and fetch time); no rejects;
    # 3 ambiguous prices and 1 rating below 1 (per document) are the sample's known quirks
    assert counts == [
        {
            "listings": 53,
            "documents": 33,
            "appearances": 53,
            "fetches": 4,
            "reject_rows": 0,
            "findings": 4,
        }
    ]


def test_the_real_page_ranks_its_listings_one_to_ten(built: tuple[Path, Path]) -> None:
    """In each of its three forms, and each document at the same rank in all three."""
    _, db = built
    ranks = database.query(
        "select list(overall_rank order by overall_rank) as ranks "
        "from fct_listing_appearances where query = '云原生' group by snapshot_id",
        db=db,
    )["ranks"].to_list()
    assert ranks == [list(range(1, 11))] * 3
    per_document = database.query(
        "select count(*) as forms, count(distinct overall_rank) as ranks "
        "from fct_listing_appearances where query = '云原生' group by document_key",
        db=db,
    ).rows()
    assert per_document == [(3, 1)] * 10


def test_a_rank_question_needs_no_join_and_a_guessed_title_says_so(
    built: tuple[Path, Path],
) -> None:
    """19 of the 33 documents were only ever seen in text pages that glue the title to the
    description: each shows the start of its heading behind the guess marker."""
    _, db = built
    assert database.query(
        "select is_display_title_guessed, count(*) from dim_documents group by 1 order by 1",
        db=db,
    ).rows() == [(False, 14), (True, 19)]
    assert database.query(
        "select overall_rank, display_title, is_display_title_guessed "
        "from fct_listing_appearances where site = 'wenku.it' and query = '数据库' "
        "order by overall_rank limit 4",
        db=db,
    ).rows() == [
        (11, "≈ MySQL 8.0 InnoDB 存储引擎原理表空间、段、区…", True),
        (12, "≈ PostgreSQL 14 内核揭秘堆表与 TOAST 机制…", True),
        (13, "分布式数据库 TiDB 架构与实践", False),
        (14, "≈ Redis 设计与实现简单动态字符串 SDS 链表 字典与渐…", True),
    ]


def test_listings_sql_prints_a_table_of_documents(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, db = built
    assert cli.main(["sql", "select * from dim_documents limit 5", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # DuckDB's renderer: one line a row however wide the mart, the columns left out counted.
    # Border, names, types, rule, 5 rows, border, the counts, a blank line.
    assert lines[0].startswith("┌") and len(lines) == 4 + 5 + 3 and lines[-1] == ""
    assert max(map(len, lines)) <= sql.WIDTH_WHEN_PIPED
    assert lines[-2].split()[:2] == ["5", "rows"]
    assert lines[-2].endswith("shown)") and "32 columns (" in lines[-2]


def test_listings_sql_writes_parquet_to_a_file(built: tuple[Path, Path], tmp_path: Path) -> None:
    _, db = built
    out = tmp_path / "fetches.parquet"
    code = cli.main(
        [
            "sql",
            "select query, total_results from fct_query_snapshots order by query",
            "--db",
            str(db),
            "--format",
            "parquet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert pl.read_parquet(out).to_dicts() == [
        {"query": "golang", "total_results": 5},
        {"query": "kubernetes", "total_results": 487},
        {"query": "云原生", "total_results": 145},
        {"query": "数据库", "total_results": 18},
    ]


def test_listings_build_select_rebuilds_a_mart_and_what_follows_it(
    built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake_dir, db = built
    copy = tmp_path / "w.duckdb"
    shutil.copy(db, copy)
    args = ["--lake", str(lake_dir), "--db", str(copy), "--select", "fct_listing_appearances+"]
    code = cli.main(["build", *args])
    out = capsys.readouterr().out
    assert code == 0
    built_models = [line.split()[6] for line in out.splitlines() if " OK created " in line]
    assert built_models == ["fct_listing_appearances", "fct_query_snapshots", "rpt_data_quality"]
    assert "failed" in out and ", 0 failed" in out


def test_listings_lineage_prints_each_model_with_its_inputs_and_grain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["lineage"]) == 0
    out = capsys.readouterr().out
    assert "staging/stg_lake__listings (view) <- lake.listings" in out
    assert (
        "marts/fct_query_snapshots (incremental) <- int_snapshots__fetches, fct_listing_appearances"
        in out
    )
    assert "    grain: one row per document seen in any snapshot (document_key)" in out


def test_listings_build_prints_a_line_per_lake_table_model_and_test_as_it_goes(
    built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake_dir, _ = built
    assert cli.main(["build", "--lake", str(lake_dir), "--db", str(tmp_path / "w.duckdb")]) == 0
    lines = capsys.readouterr().out.splitlines()
    step = re.compile(r" *(\d+) of (\d+) (OK|PASS|WARN \d+) (.+?) \.{3,} (.*)\d\.\d\d s")
    steps = [match.groups() for line in lines if (match := step.fullmatch(line))]
    loads, built_models, tests = steps[:3], steps[3:14], steps[14:]
    assert loads == [
        ("1", "3", "OK", "loaded table snapshots", "6 rows  "),
        ("2", "3", "OK", "loaded table listings", "53 rows  "),
        ("3", "3", "OK", "loaded table rejects", "0 rows  "),
    ]
    assert [(n, total, status, what) for n, total, status, what, _ in built_models[:7]] == [
        ("1", "11", "OK", "created view stg_lake__listings"),
        ("2", "11", "OK", "created view stg_lake__rejects"),
        ("3", "11", "OK", "created view stg_lake__snapshots"),
        ("4", "11", "OK", "created incremental int_listings__document_keys"),
        ("5", "11", "OK", "created incremental int_snapshots__fetches"),
        ("6", "11", "OK", "created incremental rpt_rejects"),
        ("7", "11", "OK", "created view int_listings__keyed"),
    ]
    assert built_models[7][3:] == ("created incremental dim_documents", "33 rows  ")
    assert [int(n) for n, *_ in tests] == list(range(1, 53))
    assert {total for _, total, *_ in tests} == {"52"}
    assert ("PASS", "unique__dim_documents__document_key", "") in [t[2:] for t in tests]
    assert len(steps) == 3 + 11 + 52
    assert "tests: 52 passed, 0 warned, 0 failed" in lines


def test_the_notebook_example_runs_on_the_sample_lake_and_warehouse(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/notebooks.md points analysts at this script: it must keep working."""
    lake_dir, db = built
    example = runpy.run_path(str(REPO / "examples" / "notebook_example.py"))
    example["main"](lake_dir, db)
    out = capsys.readouterr().out
    assert out.startswith("committed listings: 53; documents: 33 (import pipeline)\n")
    assert "listings per query (polars over the lake):\nshape: (4, 4)" in out
    # 码力: 28 text listings (ratings sum 90.28) and the real page's 10 in HTML (27.03);
    # the JSON form prints no credit word (null), so pandas leaves its 10 out
    assert "(pandas over the lake):\ncredit\n码力    3.09\n魔豆     3.7" in out
    assert "documents with the narrowest known upload window (DuckDB marts):\nshape: (5, 5)" in out
    assert "fetches per query (DuckDB → pandas):" in out
