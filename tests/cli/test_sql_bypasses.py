"""Issue 21: SQL that hides a write from a lexer other than DuckDB's. DuckDB nests `/* … */`
and ends a `--` comment at `\\r`; a check that read the text its own way saw a harmless
`explain select 1` or `pragma version` where DuckDB ran `explain analyze copy … to` or
`pragma import_database`. Every such query must be refused with nothing written, and should
a write ever pass the check, DuckDB's sandbox must still refuse it."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import cli
from pipeline.warehouse import read_only
from tests.conftest import lake_files

EXPLAIN_COPY = "explain analyze copy (select 42) to 'OUT.csv'"
IMPORT = "pragma import_database('DIR')"
# The issue's four working bypasses: a nested comment, or `-- c\r`, hiding the payload.
BYPASSES = [
    (f"/* /* */ explain select 1 -- */ {EXPLAIN_COPY}", "EXPLAIN"),
    (f"/* /* */ pragma version -- */ {IMPORT}", "PRAGMA"),
    (f"-- c\r{EXPLAIN_COPY} /*\nexplain select 1 -- */", "EXPLAIN"),
    (f"-- c\r{IMPORT} /*\npragma version -- */", "PRAGMA"),
]


@pytest.fixture
def target(request: pytest.FixtureRequest, sample_lake: Path, sample_warehouse: Path) -> list[str]:
    if request.param == "lake":
        return ["--lake", str(sample_lake)]
    return ["--db", str(sample_warehouse)]


@contextlib.contextmanager
def _workspace() -> Iterator[Path]:
    """A fresh current folder holding `DIR`, a database export whose schema.sql writes
    `IMPORTED.csv` when `pragma import_database('DIR')` runs it."""
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        here = Path(folder).resolve()
        (here / "DIR").mkdir()
        (here / "DIR" / "schema.sql").write_text(
            f"COPY (SELECT 42 AS x) TO '{here / 'IMPORTED.csv'}';\n", encoding="utf-8"
        )
        (here / "DIR" / "load.sql").write_text("", encoding="utf-8")
        yield here


def _state(here: Path, target: list[str]) -> tuple[object, ...]:
    """Every file of the workspace, and of the lake or the warehouse queried."""
    files = {path: path.read_bytes() for path in sorted(here.rglob("*")) if path.is_file()}
    where = Path(target[1])
    return files, lake_files(where) if target[0] == "--lake" else where.read_bytes()


def _run(query: str, target: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with _workspace() as here:
        before = _state(here, target)
        status = cli.main(["sql", query, *target])
        err = capsys.readouterr().err
        assert _state(here, target) == before, f"{query!r} changed something"
    return status, err


@pytest.mark.parametrize("target", ["lake", "db"], indirect=True)
@pytest.mark.parametrize(("query", "kind"), BYPASSES)
def test_the_issues_bypasses_are_refused(
    capsys: pytest.CaptureFixture[str], target: list[str], query: str, kind: str
) -> None:
    status, err = _run(query, target, capsys)
    assert status == 1
    assert err.startswith(f"listings sql: `listings sql` is read-only: statement 1 of 1 is {kind}")


@pytest.mark.parametrize("target", ["lake", "db"], indirect=True)
@pytest.mark.parametrize("query", [query for query, _ in BYPASSES if "\r" not in query])
def test_the_bypasses_from_a_shared_file_are_refused(
    capsys: pytest.CaptureFixture[str], target: list[str], query: str, tmp_path: Path
) -> None:
    theirs = tmp_path / "theirs.sql"
    # The `\r` forms cannot come this way: a file (or stdin) is read as text, `\r` as `\n`.
    theirs.write_text(query, encoding="utf-8")
    with _workspace() as here:
        before = _state(here, target)
        assert cli.main(["sql", "-f", str(theirs), *target]) == 1
        assert _state(here, target) == before
    assert "is read-only" in capsys.readouterr().err


# Writes a check must refuse, each with the harmless statement a wrong lexer would see.
WRITES = [
    ("copy (select 42 as x) to 'OUT.csv'", "select 1"),
    ("export database 'EXPORTED'", "select 1"),
    ("attach 'NEW.duckdb' as n", "select 1"),
    ("install json", "select 1"),
    ("set enable_external_access = true", "select 1"),
    ("create table t as select 42", "select 1"),
    (IMPORT, "pragma version"),
]
VERBS = [
    "",
    "explain analyze ",
    "explain analyse ",
    "explain (analyze) ",
    "explain (format json, analyze) ",
]
SPACE = st.sampled_from([" ", "\n", "\t", "\r\n", "\r", "  \n "])


def _cased(text: str, case: str) -> str:
    return {"lower": text.lower(), "upper": text.upper(), "title": text.title()}.get(case, text)


@st.composite
def hidden_writes(draw: st.DrawFn) -> str:
    """A write, perhaps under EXPLAIN ANALYZE, hidden behind comments DuckDB lexes its own
    way (nested to some depth, or ended by `\\r`), in any case, spacing and semicolons."""
    write, decoy = draw(st.sampled_from(WRITES))
    verb = draw(st.sampled_from(VERBS)) if decoy == "select 1" else ""
    case = draw(st.sampled_from(["as is", "lower", "upper", "title"]))
    if verb:
        decoy = "explain select 1"
    payload = _cased(verb, case) + write
    decoy = _cased(decoy, case)
    gap = draw(SPACE)
    form = draw(st.sampled_from(["nested", "cr", "plain"]))
    if form == "nested":
        depth = draw(st.integers(1, 4))
        hidden = "/*" * depth + " */" * (depth - 1) + f"{gap}{decoy} -- */{gap}{payload}"
    elif form == "cr":
        hidden = f"-- c\r{payload}{gap}/*\n{decoy} -- */"
    else:
        hidden = payload
    before = draw(st.sampled_from(["", ";", "select 1;", f"{decoy};{gap}"]))
    after = draw(st.sampled_from(["", ";", ";;", f";{gap}select 2"]))
    return before + draw(SPACE) + hidden + after


@pytest.mark.parametrize("target", ["lake", "db"], indirect=True)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=hidden_writes())
def test_a_hidden_write_is_refused_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], target: list[str], query: str
) -> None:
    status, err = _run(query, target, capsys)
    assert status == 1, f"{query!r} ran"
    assert err.startswith("listings sql: ")


DENIED = "Permission Error: Cannot access "
LOCKED = "Invalid Input Error: Cannot change configuration option"


@pytest.mark.parametrize("target", ["lake", "db"], indirect=True)
@pytest.mark.parametrize(
    ("write", "refusal"),
    [
        ("copy (select 42 as x) to 'OUT.csv'", DENIED),
        ("explain analyze copy (select 42 as x) to 'OUT.csv'", DENIED),
        ("export database 'EXPORTED'", DENIED),
        ("attach 'NEW.duckdb' as n", DENIED),
        ("install json", DENIED),
        (IMPORT, DENIED),
        ("set enable_external_access = true", LOCKED),
        ("reset allowed_directories", LOCKED),
    ],
)
def test_duckdbs_sandbox_refuses_a_write_that_passed_the_check(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    target: list[str],
    write: str,
    refusal: str,
) -> None:
    """The second wall: with the check turned off, DuckDB itself refuses the write."""
    monkeypatch.setattr(read_only, "reads_only", lambda con, statement: True)
    status, err = _run(write, target, capsys)
    assert status == 1
    assert err.startswith(f"listings sql: {refusal}")
