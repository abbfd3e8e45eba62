"""`listings serve`: run the normalise flow on a cron schedule with Prefect's `serve`.

Without PREFECT_API_URL it starts a local `prefect server start` on 127.0.0.1 (port
`config.SERVE_PORT` or `--port`), waits until it is healthy, serves, and stops it on Ctrl-C
or SIGTERM; with it, it serves against that server. Nothing here imports Prefect at module
level: Prefect reads its settings at import. Why: docs/architecture.md, "The flows".
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import flows  # noqa: F401  (quiet, hermetic Prefect defaults before any Prefect import)
from pipeline import config
from pipeline.errors import ServeError

HEALTH_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def check_port(port: int) -> None:
    """Raise `ServeError` when `port` on 127.0.0.1 is taken: another server (or another
    `listings serve`) is on it, and starting Prefect there would fail after a long wait."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise ServeError(
                f"port {port} on 127.0.0.1 is taken ({error.strerror}): another Prefect "
                "server or `listings serve` may be running; give --port"
            ) from None


def wait_healthy(api_url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> None:
    """Block until the server answers /health, or raise after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"Prefect server at {api_url} not healthy after {timeout_s} s")
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def local_server(log_path: Path, port: int | None = None) -> Iterator[str]:
    """A `prefect server start` on 127.0.0.1 for as long as the block runs; yields its API URL.

    On `port`, or on any free port (tests, which may run beside a real one)."""
    port = _free_port() if port is None else port
    prefect = Path(sys.executable).with_name("prefect")
    command = [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        wait_healthy(api_url)
        yield api_url
    finally:
        stop(server)


def _serve(cron: str, parameters: dict[str, object], name: str) -> None:
    from flows.normalise import normalise_flow

    normalise_flow.serve(name=name, cron=cron, parameters=parameters)


def serve(
    cron: str,
    paths: list[Path | str],
    lake_dir: str,
    db: Path,
    report: Path,
    *,
    port: int = config.SERVE_PORT,
    name: str = "normalise-scheduled",
) -> None:
    """Serve the flow on `cron` until interrupted; start a local server if none is set.

    Every path is made absolute first: a served run starts in another working directory."""
    parameters: dict[str, object] = {
        "paths": [str(p.resolve()) if isinstance(p, Path) else p for p in paths],
        "lake_dir": lake_dir if "://" in lake_dir else str(Path(lake_dir).resolve()),
        "db": str(db.resolve()),
        "report_path": str(report.resolve()),
    }

    def _terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    os.environ[config.SERVED_ENV] = "1"
    try:
        if os.environ.get("PREFECT_API_URL"):
            _serve(cron, parameters, name)
        else:
            check_port(port)
            log = Path(os.environ["PREFECT_HOME"]) / "server.log"
            print(f"starting a local Prefect server (log: {log}) ...", file=sys.stderr)
            with local_server(log, port) as api_url:
                os.environ["PREFECT_API_URL"] = api_url
                print(f"Prefect UI: {api_url.removesuffix('/api')}", file=sys.stderr)
                _serve(cron, parameters, name)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
