"""`listings build --select/--exclude` picks the models `dbt ls` (dbt-core 1.11) lists for the
same selectors on dbt_like_sql/: tags from the models' YAML, paths, depths, `@`, exclusion,
intersection and union."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pipeline.warehouse.project import DEFAULT_PROJECT, load_project

DBT = Path(sys.executable).with_name("dbt")
SELECTIONS = [
    ["--select", "tag:documents"],
    ["--select", "path:marts"],
    ["--select", "2+dim_documents"],
    ["--select", "@int_listings__keyed"],
    ["--select", "+fct_query_snapshots", "--exclude", "tag:documents"],
    ["--select", "tag:quality,path:marts"],
    ["--select", "+tag:fetches", "rpt_rejects", "--exclude", "path:staging"],
    ["--select", "path:staging+1,tag:report"],
]
# One process: dbt parses the project once, then runs one `dbt ls` per selection on that
# manifest (a process per `ls` costs 4 s of start-up and parsing each).
LIST = """
import json, sys
from dbt.cli.main import dbtRunner
common = sys.argv[2:]
parsed = dbtRunner().invoke(["parse", *common])
assert parsed.success, parsed.exception
runner = dbtRunner(manifest=parsed.result)
found = []
for selection in json.loads(sys.argv[1]):
    listed = runner.invoke(
        ["ls", *common, "--resource-type", "model", "--output", "name", "--quiet", *selection]
    )
    assert listed.success, listed.exception
    found.append(sorted(listed.result))
print("LISTED " + json.dumps(found))
"""


def _dbt_ls(selections: list[list[str]], target: Path) -> list[list[str]]:
    assert DBT.exists(), "dbt is part of the dev set-up: pip install -e '.[dbt]' (make test does)"
    env = {
        **os.environ,
        "DBT_DUCKDB_PATH": str(target / "ls.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    common = ["--project-dir", str(DEFAULT_PROJECT), "--profiles-dir", str(DEFAULT_PROJECT),
              "--target-path", str(target), "--log-path", str(target / "logs")]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", LIST, json.dumps(selections), *common],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "Deprecat" not in done.stdout, done.stdout[-4000:]
    (listed,) = [line for line in done.stdout.splitlines() if line.startswith("LISTED ")]
    return json.loads(listed.removeprefix("LISTED "))


def _runner(selection: list[str]) -> list[str]:
    """`Project.select` given the arguments as the CLI parses them."""
    exclude_at = selection.index("--exclude") if "--exclude" in selection else len(selection)
    select, exclude = selection[1:exclude_at], selection[exclude_at + 1 :]
    return sorted(load_project().select(select, exclude or None))


def test_the_runner_selects_what_dbt_ls_lists(tmp_path: Path) -> None:
    theirs = _dbt_ls(SELECTIONS, tmp_path)
    ours = [_runner(selection) for selection in SELECTIONS]
    assert all(ours), "each selection picks some model"
    assert dict(zip(map(" ".join, SELECTIONS), ours, strict=True)) == dict(
        zip(map(" ".join, SELECTIONS), theirs, strict=True)
    )
