"""Prefect flows over `pipeline`: they sequence its steps and add orchestration, nothing else.

Importing this package sets quiet, hermetic Prefect defaults (local temporary server, state
under the project's `.prefect/`, no telemetry) unless the environment already says otherwise,
so `python -m flows.normalise` works outside `make` too.
"""

from __future__ import annotations

import os
from pathlib import Path

_DEFAULTS = {
    "PREFECT_HOME": str(Path.cwd() / ".prefect"),
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "DO_NOT_TRACK": "1",
}
for _name, _value in _DEFAULTS.items():
    os.environ.setdefault(_name, _value)
