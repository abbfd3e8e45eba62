"""Every `LISTINGS_*` environment variable is named in `pipeline.config`, read there when its
value is used (not at import), and listed in the README's table."""

from __future__ import annotations

import re

import pytest

from pipeline import config
from tests.conftest import REPO, readme_table

HEADER = ["variable", "default", "what it sets"]


def _declared() -> set[str]:
    return {value for name, value in vars(config).items() if name.endswith("_ENV")}


def _documented() -> list[str]:
    return [name.strip("`") for name, *_ in readme_table(HEADER)]


def test_the_readme_lists_exactly_the_variables_config_declares() -> None:
    documented = _documented()
    assert len(documented) == len(set(documented))
    assert set(documented) == _declared()
    assert all(name.startswith("LISTINGS_") for name in documented)


def test_no_other_module_names_a_listings_variable() -> None:
    """Reading one elsewhere would bypass config (and could read it at import again)."""
    named = re.compile(r"LISTINGS_[A-Z_]+")
    elsewhere = {
        str(path.relative_to(REPO)): sorted(set(named.findall(path.read_text(encoding="utf-8"))))
        for folder in ("pipeline", "flows")
        for path in (REPO / folder).rglob("*.py")
        if path != REPO / "pipeline" / "config.py"
    }
    assert {path: names for path, names in elsewhere.items() if names} == {}


def test_each_variable_is_read_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _declared():
        monkeypatch.delenv(name, raising=False)
    assert config.duckdb_memory_limit() == config.DUCKDB_MEMORY_LIMIT
    assert config.duckdb_threads() >= 1
    assert config.duckdb_storage_version() == config.STORAGE_VERSION
    assert config.warehouse_wait_s() == config.WAREHOUSE_WAIT_S
    assert config.dask_address() is None
    assert not config.served()
    monkeypatch.setenv(config.DUCKDB_MEMORY_LIMIT_ENV, "3GB")
    monkeypatch.setenv(config.DUCKDB_THREADS_ENV, "5")
    monkeypatch.setenv(config.STORAGE_VERSION_ENV, "v1.0.0")
    monkeypatch.setenv(config.WAREHOUSE_WAIT_S_ENV, "0.5")
    monkeypatch.setenv(config.DASK_ADDRESS_ENV, "tcp://scheduler:8786")
    monkeypatch.setenv(config.SERVED_ENV, "1")
    assert config.duckdb_memory_limit() == "3GB"
    assert config.duckdb_threads() == 5
    assert config.duckdb_storage_version() == "v1.0.0"
    assert config.warehouse_wait_s() == 0.5
    assert config.dask_address() == "tcp://scheduler:8786"
    assert config.served()


def test_a_connection_takes_the_memory_limit_set_after_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.warehouse import database

    monkeypatch.setenv(config.DUCKDB_MEMORY_LIMIT_ENV, "512MB")
    monkeypatch.setenv(config.DUCKDB_THREADS_ENV, "1")
    con = database.connect()
    try:
        limit, threads = con.execute(
            "select current_setting('memory_limit'), current_setting('threads')"
        ).fetchone()
    finally:
        con.close()
    assert threads == 1
    assert limit.replace(" ", "").upper() in {"512.0MIB", "488.2MIB", "512MB", "488.2MB"}
