"""The CLI's manners: a wrong argument exits 2 (argparse) and a problem with the user's
files exits 1, each with a one-line message and nothing written; a reader that closes the
pipe ends the command quietly; a full disk says where and what to do. Never a traceback."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline import cli
from pipeline.cli import analyst, options
from pipeline.ingest import sources
from pipeline.lake import layout
from pipeline.lake.storage import Location
from pipeline.run import normalise
from pipeline.warehouse import database
from tests.conftest import RAW, REPO, SAMPLE


@pytest.fixture
def lake(sample_lake: Path) -> Path:
    return sample_lake


def _exit(args: list[str]) -> int:
    """`cli.main`'s status, also when argparse exits (a wrong argument)."""
    try:
        return cli.main(args)
    except SystemExit as exit_:
        return int(exit_.code or 0)


def _last_line(err: str) -> str:
    assert "Traceback" not in err
    return err.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["normalise", "foo://x", "--out", "lake"],
            "listings normalise: error: argument PATH: unknown protocol 'foo' in 'foo://x' "
            "(a folder, or an fsspec URL such as s3://bucket/lake)",
        ),
        (
            ["normalise", "raw", "--out", "foo://x"],
            "listings normalise: error: argument --out: unknown protocol 'foo' in 'foo://x' "
            "(a folder, or an fsspec URL such as s3://bucket/lake)",
        ),
        (
            ["sql", "select 1", "--lake", "foo://x"],
            "listings sql: error: argument --lake: unknown protocol 'foo' in 'foo://x' "
            "(a folder, or an fsspec URL such as s3://bucket/lake)",
        ),
        (
            ["build", "--lake", "simplecache::foo://x"],
            "listings build: error: argument --lake: unknown protocol 'foo' in "
            "'simplecache::foo://x' (a folder, or an fsspec URL such as s3://bucket/lake)",
        ),
        (
            ["serve", "--cron", "not a cron"],
            "listings serve: error: argument --cron: not a cron expression: 'not a cron' "
            '(five fields, e.g. "0 * * * *" for hourly)',
        ),
        (
            ["serve", "--cron", "H * * * *"],  # croniter's hashed form: Prefect refuses it
            "listings serve: error: argument --cron: not a cron expression: 'H * * * *' "
            '(five fields, e.g. "0 * * * *" for hourly)',
        ),
        (
            ["normalise", "raw", "--out", "lake", "--workers", "0"],
            "listings normalise: error: argument --workers: must be 1 or more: '0'",
        ),
        (
            ["normalise", "raw", "--out", "lake", "--workers", "-1"],
            "listings normalise: error: argument --workers: must be 1 or more: '-1'",
        ),
        (
            ["normalise", "raw", "--out", "lake", "--batch-mb", "0"],
            "listings normalise: error: argument --batch-mb: must be 1 or more: '0'",
        ),
        (
            ["run", "--batch-mb", "-5"],
            "listings run: error: argument --batch-mb: must be 1 or more: '-5'",
        ),
        (
            ["normalise", "raw", "--out", "lake", "--batch-mb", "1.5"],
            "listings normalise: error: argument --batch-mb: not a whole number: '1.5'",
        ),
        (
            ["normalise", "raw", "--out", "lake", "--max-page-mb", "0"],
            "listings normalise: error: argument --max-page-mb: must be more than 0: '0'",
        ),
        (
            ["run", "--max-page-mb", "-1"],
            "listings run: error: argument --max-page-mb: must be more than 0: '-1'",
        ),
    ],
)
def test_a_wrong_argument_exits_2_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    os.chdir(tmp_path)
    assert _exit(args) == 2
    assert _last_line(capsys.readouterr().err) == message
    assert list(tmp_path.iterdir()) == []


def test_a_cron_is_checked_without_importing_prefect() -> None:
    """Prefect fixes its settings when imported; `serve` sets PREFECT_API_URL later."""
    code = (
        "import sys; from pipeline.cli import options; "
        "assert options.cron('*/15 * * * *') == '*/15 * * * *'; "
        "sys.exit('prefect' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True)
    assert done.returncode == 0, done.stderr


def test_normalise_into_a_file_is_refused_and_the_file_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.chdir(tmp_path)
    Path("notes.txt").write_text("mine", encoding="utf-8")
    assert cli.main(["normalise", str(RAW), "--out", "notes.txt"]) == 1
    assert capsys.readouterr().err == (
        "listings normalise: --out notes.txt is a file, not a lake folder: give a folder\n"
    )
    assert Path("notes.txt").read_text(encoding="utf-8") == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_report_into_a_folder_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.chdir(tmp_path)
    Path("top").mkdir()
    args = ["normalise", str(RAW), "--out", "lake", "--db", "w.duckdb", "--report", "top"]
    assert cli.main(args) == 1
    assert (
        capsys.readouterr().err
        == "listings normalise: --report top is a folder: give a file path\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["top"]


def test_duckdb_running_out_of_disk_says_what_to_do(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    message = 'IO Error: Could not write file "w.duckdb": No space left on device'

    def full(*_: object, **__: object) -> None:
        raise duckdb.IOException(message)

    monkeypatch.setattr(database, "rebuild", full)
    assert cli.main(["build", "--lake", str(lake), "--db", str(tmp_path / "w.duckdb")]) == 1
    assert capsys.readouterr().err == f"listings build: {message}; rerun after freeing space\n"


def test_sql_out_into_a_folder_is_refused(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["sql", "select 1", "--lake", str(lake), "--format", "csv", "--out", str(tmp_path)]
    assert cli.main(args) == 1
    assert (
        capsys.readouterr().err == f"listings sql: --out {tmp_path} is a folder: give a file path\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_reader_closing_the_pipe_ends_the_command_quietly(lake: Path, tmp_path: Path) -> None:
    """`listings build … | head -1`: the build prints a line per step as it finishes, so
    the next line meets the closed pipe; exit 141 as if killed by SIGPIPE, nothing on
    stderr (no traceback, no "Exception ignored" at exit), and no warehouse half-written."""
    listings = Path(sys.executable).with_name("listings")
    db = tmp_path / "w.duckdb"
    command = [str(listings), "build", "--lake", str(lake), "--db", str(db)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert reader.stdout is not None and reader.stderr is not None
    assert b"OK loaded table snapshots" in reader.stdout.readline()
    reader.stdout.close()
    assert reader.wait(timeout=120) == 141
    assert reader.stderr.read() == b""
    assert list(tmp_path.iterdir()) == []


def test_a_build_whose_reader_left_stops_and_writes_nothing(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def closed_pipe(_: object) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(analyst, "_print_event", closed_pipe)
    db = tmp_path / "w.duckdb"
    assert cli.main(["build", "--lake", str(lake), "--db", str(db)]) == 141
    assert capsys.readouterr().err == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_is_a_message_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def full(lake: Location, frame: object, path: str) -> None:
        raise OSError(code, os.strerror(code), path)

    monkeypatch.setattr(layout, "write_parquet", full)
    assert cli.main(["normalise", str(RAW), "--out", str(tmp_path / "lake")]) == 1
    line = _last_line(capsys.readouterr().err)
    assert line.startswith(f"listings normalise: {os.strerror(code)} writing {tmp_path / 'lake'}/")
    assert line.endswith(".parquet: rerun after freeing space")


def test_a_full_disk_is_found_behind_the_error_that_wraps_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def wrapped(_: object) -> int:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/data/w.duckdb")
        except OSError as error:
            raise RuntimeError("task failed") from error

    monkeypatch.setattr(analyst, "_lineage", wrapped)
    assert cli.main(["lineage"]) == 1
    assert capsys.readouterr().err == (
        "listings lineage: No space left on device writing /data/w.duckdb: "
        "rerun after freeing space\n"
    )


def test_positive_numbers_are_what_they_say() -> None:
    assert options.positive_int("3") == 3
    assert options.positive_float("0.5") == 0.5


def test_ctrl_c_ends_the_run_with_130_and_the_rerun_finishes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the third batch parses: the first stays committed (the second was being
    written), the message says so without a traceback, and the rerun reads the rest."""
    real = normalise.normalise_batch
    calls: list[int] = []

    def interrupted_on_third(snapshots_read):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(snapshots_read)

    monkeypatch.setattr(normalise, "normalise_batch", interrupted_on_third)
    monkeypatch.setattr(sources, "batches", lambda todo, _bytes, _sizes: ([f] for f in todo))
    out = tmp_path / "lake"
    args = ["normalise", str(RAW), "--out", str(out)]
    assert cli.main(args) == 130
    assert _last_line(capsys.readouterr().err) == (
        "listings normalise: interrupted; only completed work was committed, rerun to finish"
    )
    monkeypatch.undo()
    assert cli.main(args) == 0
    summary = capsys.readouterr().out
    assert summary.startswith("snapshot files: 6 found, 5 new snapshots, 1 already in the lake\n")
    assert "(rows in all: snapshots 6, listings 53, rejects 0;" in summary


def test_version_names_the_package_and_the_engines(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert _exit(["--version"]) == 0
    python = ".".join(map(str, sys.version_info[:3]))
    assert capsys.readouterr().out == (
        f"listings {version('listings')} (python {python}, polars {version('polars')}, "
        f"pyarrow {version('pyarrow')}, pandera {version('pandera')}, "
        f"duckdb {version('duckdb')}, prefect {version('prefect')})\n"
    )


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("nromalise", "did you mean 'normalise'?"),
        ("biuld", "did you mean 'build'?"),
        ("frob", "commands: normalise, sql, run, serve, compact, resolve-titles, build, "),
    ],
)
def test_a_mistyped_command_names_the_close_matches(
    typed: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit([typed, "x"]) == 2
    assert _last_line(capsys.readouterr().err).startswith(
        f"listings: error: unknown command {typed!r}; {hint}"
    )


@pytest.mark.parametrize("command", [[], ["normalise"], ["sql"], ["build"], ["run"]])
def test_help_imports_none_of_the_data_stack(command: list[str]) -> None:
    """`--help` answers before polars, DuckDB, Prefect and the rest are imported: they take
    most of a second to load, and every command imports what it needs when it runs."""
    script = (
        "import sys\n"
        "from pipeline.cli import main\n"
        "try:\n"
        f"    main({[*command, '--help']!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('polars', 'pyarrow', 'pandera', 'duckdb', 'prefect', 'fsspec', 'pandas')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.startswith("usage: listings")
    assert done.stderr == "[]\n"


def test_a_command_runs_as_if_pandas_were_not_installed(tmp_path: Path) -> None:
    """pandera imports pandas when it can, which slows every run's start; no command uses
    it, so a command does not import it. The run still validates and writes its lake, and
    the process imports pandas once the command is done."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "page.txt")  # a folder: walked by the child begun early
    script = (
        "import sys\n"
        "from pipeline.cli import main\n"
        f"status = main(['normalise', {str(raw)!r}, '--out', {str(tmp_path / 'lake')!r}])\n"
        "during = 'pandas' in sys.modules\n"
        "import pandas\n"
        "print(status, during, 'pandera' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert "listings:       10\nrejects:        0\n" in done.stdout
    assert done.stderr.splitlines()[-1] == "0 False True"
    listings = f"{tmp_path}/lake/listings/**/*.parquet"
    assert duckdb.sql(f"select count(*) from read_parquet('{listings}')").fetchall() == [(10,)]


def test_an_error_message_draws_control_characters_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error quoting a file name prints it as the summary does (`terminal`): an escape
    sequence in the name is shown, not run by the terminal; the message keeps its lines."""
    missing = tmp_path / "page\x1b[2J\u202e.txt"
    assert cli.main(["normalise", str(missing), "--out", str(tmp_path / "lake")]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err
    assert _last_line(err) == (
        f"listings normalise: {tmp_path}/page\\x1b[2J\\u202e.txt: no such file or folder"
    )


def test_a_run_where_every_file_was_rejected_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run itself worked (the rejects are in the lake), but a scheduler should notice
    that nothing usable came out: a documented status, and a hint."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("hello world\nnot a page\n", encoding="utf-8")
    (raw / "b.txt").write_text("nothing here either\n", encoding="utf-8")
    assert cli.main(["normalise", str(raw), "--out", str(tmp_path / "lake")]) == 3
    out, err = capsys.readouterr()
    assert "listings:       0\nrejects:        2\n" in out
    assert _last_line(err) == (
        "listings normalise: the 2 files read gave no listing, only rejects: were they "
        "search-result pages of a moredoc/DocHub site? The reasons are above and in the "
        "rejects table."
    )
