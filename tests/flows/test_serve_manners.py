"""`listings serve` manners that need no server: a stable port that is checked before
Prefect starts, and the one line each served run prints."""

from __future__ import annotations

import signal
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import cli, config
from pipeline.ingest import metadata
from pipeline.run import run
from tests.conftest import RAW


def test_a_taken_port_is_a_message_before_any_server_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import serve

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(serve, "local_server", pytest.fail)  # must not be reached
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # serve's SIGTERM handler
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--cron", "0 * * * *", str(RAW), "--lake", str(tmp_path / "lake")]
        assert cli.main([*args, "--db", str(tmp_path / "w.duckdb"), "--port", str(port)]) == 1
    monkeypatch.delenv(config.SERVED_ENV, raising=False)
    assert capsys.readouterr().err == (
        f"listings serve: port {port} on 127.0.0.1 is taken (Address already in use): another "
        "Prefect server or `listings serve` may be running; give --port\n"
    )


def test_the_default_port_is_prefects_own_and_stable(capsys: pytest.CaptureFixture[str]) -> None:

    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    assert "(default: 4200, Prefect's own;" in " ".join(capsys.readouterr().out.split())
    assert config.SERVE_PORT == 4200


def test_the_help_says_the_local_server_is_unauthenticated(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "The local server has no authentication" in text
    assert "on a shared machine set PREFECT_API_URL" in text
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8").split())
    assert "has no authentication: on a shared machine" in readme


def test_a_served_run_is_one_line(tmp_path: Path) -> None:
    summary = run.normalise_paths([RAW], tmp_path / "lake", metadata.ReadOptions())
    summary.warehouse = "/srv/w.duckdb"
    ended = datetime(2026, 11, 30, 19, 5, 1, tzinfo=UTC)
    assert summary.one_line(ended) == (
        "2026-11-30T19:05:01Z run: 6 files found, 0 already in the lake, 6 new snapshots "
        f"(53 listings, 0 rejects) -> lake {tmp_path / 'lake'}, warehouse /srv/w.duckdb"
    )
