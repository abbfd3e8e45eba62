"""Timed child processes: wall time and the peak RSS of a whole process tree.

Every timed run of the kit is a fresh process started here, so its peak RSS is its own
(read with `os.wait4`) plus, sampled, that of any worker processes it starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class ChildFailed(RuntimeError):
    pass


@dataclass
class ChildRun:
    wall_s: float
    peak_rss: int  # bytes
    stdout: str
    returncode: int = 0


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TREE_SAMPLE_S = 0.05


def tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants, now (Linux /proc).

    A sum of RSS counts shared library pages once per process, so for a pool of workers
    it is an upper bound on the memory the run really holds.
    """
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(parents.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * _PAGE
        except OSError:
            continue
    return total


def run_child(args: list[str], *, ok: tuple[int, ...] = (0,)) -> ChildRun:
    """Run a command from the repository root; its wall time and its peak RSS.

    An exit status outside `ok` raises ChildFailed (with the end of its stderr); one in it
    is the run's `returncode`.

    Peak RSS is the larger of the child's own maximum (`os.wait4` returns the usage of
    exactly that child) and the highest sum over its process tree sampled every
    TREE_SAMPLE_S, so a run that spawns worker processes is charged for all of them.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=err)
        tree_peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal tree_peak
            while not stop.wait(TREE_SAMPLE_S):
                tree_peak = max(tree_peak, tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        if Path("/proc").is_dir():
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        stop.set()
        if sampler.is_alive():
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if proc.returncode not in ok:
            stderr = err.read().decode("utf-8", "replace")
            raise ChildFailed(f"{' '.join(args)} exited {proc.returncode}:\n{stderr[-3000:]}")
    own_peak = usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux
    return ChildRun(wall, max(own_peak, tree_peak), stdout, proc.returncode)


def run_job(job: str, *args: str) -> tuple[ChildRun, dict]:
    """One `benchmarks._child` job in a fresh process, and the JSON line it printed last."""
    run = run_child([sys.executable, "-m", "benchmarks._child", job, *args])
    return run, json.loads(run.stdout.strip().splitlines()[-1])
