"""README's `make test` sets up what the suite needs: Chromium, a far time zone, a long temp path.

`scripts/ensure_chromium.sh` is run here on a PATH of stand-ins (`id`, `sudo`, `apt-get`,
`chromium`), so each of its branches is taken without touching the machine: already there,
installed as root, installed through sudo, and the three ways it stops with the command to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "ensure_chromium.sh"
BASH = shutil.which("bash") or "/bin/bash"
INSTALLING = "make test: installing Debian's chromium for the browser tests (apt-get)…\n"
MISSING = "chromium is missing: the browser tests need Debian's chromium. "
UPDATE = "apt-get update -qq DEBIAN_FRONTEND=noninteractive"
INSTALL = "apt-get install -y -qq chromium DEBIAN_FRONTEND=noninteractive"


def fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


def machine(tmp_path: Path, *, uid: int, sudo: bool, apt: str | None) -> Path:
    """Stand-ins to be the whole PATH; `apt`: None (no apt-get), "works", "fails", "elsewhere"
    (installs chromium into a folder not on PATH)."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "log"
    fake(bin_, "id", f'[ "$1" = -u ] && echo {uid}')
    os.symlink(shutil.which("env") or "/usr/bin/env", bin_ / "env")
    if sudo:
        fake(bin_, "sudo", f'echo "sudo $*" >> "{log}"; exec "$@"')
    if apt is not None:
        ending = {
            "works": f'[ "$1" = install ] && printf "#!/bin/sh\\n" > "{bin_}/chromium"'
            f' && /bin/chmod +x "{bin_}/chromium"; exit 0',
            "elsewhere": "exit 0",
            "fails": "exit 100",
        }[apt]
        fake(
            bin_,
            "apt-get",
            f'echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> "{log}"\n{ending}',
        )
    return bin_


def ensure(bin_: Path) -> tuple[int, str, str, list[str]]:
    """Exit status, stdout, stderr and the stand-ins' log of one run of the script."""
    done = subprocess.run(
        [BASH, str(SCRIPT)],
        env={"PATH": str(bin_)},
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=60,
    )
    log = bin_.parent / "log"
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return done.returncode, done.stdout, done.stderr, calls


def test_chromium_on_path_is_enough_and_nothing_is_said_or_run(tmp_path: Path) -> None:
    bin_ = machine(tmp_path, uid=1000, sudo=True, apt="works")
    fake(bin_, "chromium", "exit 0")
    assert ensure(bin_) == (0, "", "", [])


def test_root_installs_it_with_apt_get(tmp_path: Path) -> None:
    bin_ = machine(tmp_path, uid=0, sudo=False, apt="works")
    assert ensure(bin_) == (0, INSTALLING, "", [UPDATE, INSTALL])
    assert (bin_ / "chromium").exists()


def test_a_user_with_sudo_installs_it_through_sudo(tmp_path: Path) -> None:
    bin_ = machine(tmp_path, uid=1000, sudo=True, apt="works")
    env = "sudo env DEBIAN_FRONTEND=noninteractive apt-get"
    assert ensure(bin_) == (
        0,
        INSTALLING,
        "",
        [f"{env} update -qq", UPDATE, f"{env} install -y -qq chromium", INSTALL],
    )


def test_a_user_without_sudo_is_told_the_one_command_and_nothing_runs(tmp_path: Path) -> None:
    bin_ = machine(tmp_path, uid=1000, sudo=False, apt="works")
    assert ensure(bin_) == (
        1,
        "",
        MISSING + "Installing it needs root, and there is no sudo: run "
        "`su -c 'apt-get update && apt-get install -y chromium'`, then `make test` again.\n",
        [],
    )


def test_a_machine_without_apt_get_is_told_to_put_chromium_on_path(tmp_path: Path) -> None:
    bin_ = machine(tmp_path, uid=0, sudo=False, apt=None)
    assert ensure(bin_) == (
        1,
        "",
        MISSING + "No apt-get here: install Chromium so that `chromium` is on PATH, "
        "then run `make test` again.\n",
        [],
    )


@pytest.mark.parametrize(
    ("uid", "sudo", "command"),
    [
        (0, False, "apt-get update && apt-get install -y chromium"),
        (1000, True, "sudo sh -c 'apt-get update && apt-get install -y chromium'"),
    ],
)
def test_a_failed_install_stops_with_the_command_to_run(
    tmp_path: Path, uid: int, sudo: bool, command: str
) -> None:
    bin_ = machine(tmp_path, uid=uid, sudo=sudo, apt="fails")
    code, out, err, calls = ensure(bin_)
    assert (code, out, err) == (
        1,
        INSTALLING,
        MISSING + f"Installing it failed (above): run `{command}`, then `make test` again.\n",
    )
    assert calls[-1] == UPDATE  # the update failed: no install was tried


def test_an_install_that_leaves_chromium_off_path_says_so(tmp_path: Path) -> None:
    bin_ = machine(tmp_path, uid=0, sudo=False, apt="elsewhere")
    assert ensure(bin_) == (
        1,
        INSTALLING,
        MISSING + "apt-get installed it, but `chromium` is not on PATH: add /usr/bin to PATH, "
        "then run `make test` again.\n",
        [UPDATE, INSTALL],
    )


def test_make_test_sets_up_chromium_then_runs_the_suite_far_from_utc_under_a_long_path() -> None:
    """What CI runs (`.ci/run` is `make test` and nothing else), as make would run it."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert [line for line in ci if line and not line.startswith("#")] == [
        "set -euo pipefail",
        'cd "$(dirname "$0")/.."',
        "exec make test",
    ]
    done = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "--old-file=.venv/.installed", "test"],
        cwd=REPO,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
        timeout=60,
    )
    commands = done.stdout.splitlines()
    assert commands[0] == "bash scripts/ensure_chromium.sh"
    long = "a-long-temporary-folder-so-that-no-test-depends-on-how-long-its-paths-are"
    basetemp = REPO / ".pytest-tmp" / long
    assert commands[-2:] == [
        f"mkdir -p {basetemp.parent}/",  # on a fresh clone: pytest makes no parent folder
        f"TZ=Asia/Shanghai .venv/bin/python -m pytest -n auto --basetemp={basetemp}",
    ]
    assert len(str(basetemp)) > 50  # longer than any report cell: every path in it is elided
