"""Writing a local file atomically: a temporary file beside it, renamed into place.

Readers and crashes see the old file or the new one, never half of one, and a write that
fails (a full disk) leaves neither a partial target nor its temporary file behind. The
lake's own writes (`lake.storage.Location.write_atomic`), `listings sql --out`, the report
and the docs page all write through `write_bytes`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

TMP_SUFFIX = ".tmp"


def temporary_name(target: Path) -> Path:
    """The hidden temporary file `target` is written to first: `.NAME.<hex>.tmp` beside it
    (unique, so two writers never share one)."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}{TMP_SUFFIX}")


def write_bytes(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically; on any failure the temporary file goes."""
    tmp = temporary_name(target)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(target: Path, text: str) -> None:
    """`write_bytes` of `text` in UTF-8."""
    write_bytes(target, text.encode("utf-8"))
