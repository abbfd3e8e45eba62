"""listings: search-result snapshots → a Parquet lake → a DuckDB warehouse (docs/architecture.md).

Quick start, from a notebook or a script in the project folder:

    import pipeline
    pipeline.normalise(["data/raw"], "data/lake")          # snapshots → the lake
    pipeline.scan("data/lake", "listings").collect()       # a table, as the manifest committed it
    pipeline.build("data/lake", "data/warehouse.duckdb")   # the lake → the warehouse's marts
    pipeline.query("select * from dim_documents", db="data/warehouse.duckdb")  # → polars

`connect(db)` opens a warehouse read-only with the settings `listings` uses. Each name is
imported on first use, so `import pipeline` stays cheap (the file walk's child process
starts from it on the standard library alone).
"""

from __future__ import annotations

import importlib
from typing import Any

# name → (module, attribute): where each public name lives. Imported by name on first use,
# never by an import statement here: the walk's contract (pyproject.toml) holds this file
# to the standard library.
_PUBLIC = {
    "normalise": ("pipeline.run.run", "normalise_paths"),
    "scan": ("pipeline.lake.manifest", "scan"),
    "build": ("pipeline.warehouse.database", "build"),
    "connect": ("pipeline.warehouse.database", "connect"),
    "query": ("pipeline.warehouse.database", "query"),
}

__all__ = ["build", "connect", "normalise", "query", "scan"]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
