"""One run at a time per lake: an OS file lock locally, a lease object on object stores.

Writers take `LAKE/_manifest/.lock` (a second run waits and says so); on a lake the user may
only read, writers stop with `errors.LakeReadOnlyError` and readers that lock only to see a
committed state (`reading`: the warehouse build, `verify`) read it unlocked. docs/lake.md,
"Readers while a run writes" and "A lake you may only read", has the why.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pipeline.errors import LakeBusyError, LakeReadOnlyError
from pipeline.lake.manifest import DIRNAME
from pipeline.lake.storage import Location


@contextmanager
def locked(
    lake: Location,
    *,
    timeout_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the lake's exclusive lock; wait for it (forever by default) if another run has it.

    Local lakes use an OS file lock, released even if the process dies. Object stores have
    no such lock: there a lease object is taken instead (see `_leased`). A lake that cannot
    be written raises `errors.LakeReadOnlyError` before anything is done.
    """
    take = _leased if not lake.is_local else _flocked
    with ExitStack() as held:
        try:
            held.enter_context(take(lake, timeout_s=timeout_s, on_wait=on_wait))
        except OSError as error:
            if not _refused(error):
                raise
            reason = error.strerror or str(error)
            raise LakeReadOnlyError(
                f"lake {lake.url} cannot be written ({reason}): this command changes it; run "
                "it where the lake is writable (sql --lake, build and verify read it as it is)",
                reason,
            ) from None
        yield


@contextmanager
def reading(lake: Location, *, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """The lake's lock, for reading a committed state of it; waits for a run that holds it.

    A lake the user may only read (a read-only mount, an object store with read-only
    credentials) cannot be locked: it is read without the lock, and `on_wait` says so.
    """
    with ExitStack() as held:
        try:
            held.enter_context(locked(lake, on_wait=on_wait))
        except LakeReadOnlyError as error:
            if on_wait is not None:
                on_wait(f"lake {lake.url} cannot be locked ({error.reason}): reading it unlocked")
        yield


def _refused(error: OSError) -> bool:
    """Whether the system refused a write for good: no permission, or a read-only mount."""
    return isinstance(error, PermissionError) or error.errno == errno.EROFS


@contextmanager
def _flocked(
    lake: Location,
    *,
    timeout_s: float | None,
    on_wait: Callable[[str], None] | None,
) -> Iterator[None]:
    """The OS file lock on `LAKE/_manifest/.lock`, naming its holder inside."""
    lock_file = Path(lake.path(DIRNAME, ".lock"))
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            if on_wait:
                on_wait(f"lake {lake.url} is locked by {holder}: waiting for it to finish")
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise LakeBusyError(
                            f"lake {lake.url} is locked by {holder}; gave up after {timeout_s} s"
                        ) from None
                    time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


LEASE_SECONDS = 3600.0


@contextmanager
def _leased(
    lake: Location,
    *,
    timeout_s: float | None,
    on_wait: Callable[[str], None] | None,
) -> Iterator[None]:
    """Best-effort lock on an object store: a lease object naming its holder and expiry.

    Wait while another run's unexpired lease exists; write ours, read it back to confirm
    it is ours (the last writer wins the race), delete it when done. A crashed run's lease
    expires after LEASE_SECONDS.
    """
    lease = lake.path(DIRNAME, "lease")
    me = f"pid {os.getpid()}@{socket.gethostname()}/{uuid.uuid4().hex[:8]}"
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    told = False
    while True:
        holder, expires = _read_lease(lake, lease)
        if holder is None or expires < time.time():
            lake.write_atomic(lease, f"{me}\n{time.time() + LEASE_SECONDS}".encode())
            if _read_lease(lake, lease)[0] == me:
                break
            continue
        if on_wait and not told:
            on_wait(f"lake {lake.url} is leased by {holder}: waiting for it to finish")
            told = True
        if deadline is not None and time.monotonic() > deadline:
            raise LakeBusyError(f"lake {lake.url} is leased by {holder}; gave up")
        time.sleep(1.0)
    try:
        yield
    finally:
        lake.remove(lease)


def _read_lease(lake: Location, lease: str) -> tuple[str | None, float]:
    if not lake.exists(lease):
        return None, 0.0
    holder, _, expires = lake.read_bytes(lease).decode().partition("\n")
    return holder, float(expires or 0)
