"""Model contracts (dbt's `config: {contract: {enforced: true}}`): what a model's YAML
declares its columns and their `data_type`s to be, held to the relation the build made.

`read_contract` reads a contract from a model's YAML entry (its `data_type`s rendered as dbt
renders them: Jinja with `var()`), `check` compares it with the built relation and raises
`ModelError` naming each column that differs. Called by `project.load_project` and
`runner.run`; the rules: dbt_like_sql/README.md, "Contracts".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from pipeline.errors import ModelError
from pipeline.warehouse.relations import column_types
from pipeline.warehouse.templates import quote

# dbt refuses an incremental model with an enforced contract that ignores schema changes.
ON_SCHEMA_CHANGE = ("append_new_columns", "fail")


@dataclass(frozen=True)
class Contract:
    """A model's declared columns, in the YAML's order, each with its `data_type` as
    rendered (a DuckDB type, before DuckDB spells it: `check` asks DuckDB)."""

    model: str
    columns: tuple[tuple[str, str], ...]
    declared_in: Path  # the model's YAML


def read_contract(
    path: Path, entry: Mapping[str, Any], vars_: Mapping[str, Any], materialized: str
) -> Contract | None:
    """The contract a model's YAML entry enforces (`config: {contract: {enforced: true}}`),
    or None. Every column it names needs a `data_type`; an incremental model also says
    `on_schema_change: fail` (or `append_new_columns`), as dbt requires."""
    config = entry.get("config") or {}
    contract = config.get("contract") or {}
    if not isinstance(contract, Mapping) or contract.get("enforced") is not True:
        return None
    model = str(entry.get("name"))
    if materialized == "incremental" and config.get("on_schema_change") not in ON_SCHEMA_CHANGE:
        raise ModelError(
            f"{path}: {model} is incremental with an enforced contract: its config says "
            f"on_schema_change: fail (or append_new_columns), as dbt requires"
        )
    columns: list[tuple[str, str]] = []
    for column in entry.get("columns") or []:
        type_ = column.get("data_type")
        if not isinstance(type_, str) or not type_.strip():
            raise ModelError(
                f"{path}: {model} enforces a contract, so column {column.get('name')!r} "
                "needs a data_type"
            )
        columns.append((column["name"], _rendered(path, model, type_, vars_)))
    if not columns:
        raise ModelError(f"{path}: {model} enforces a contract but declares no columns")
    return Contract(model, tuple(columns), path)


def _rendered(path: Path, model: str, text: str, vars_: Mapping[str, Any]) -> str:
    """A `data_type` as dbt reads it: Jinja, with `var()` the one function (dbt renders
    schema YAML with vars but not the project's macros, so `enum()` is not there)."""
    if "{" not in text:
        return text

    def var(name: str) -> Any:
        if name not in vars_:
            raise ModelError(f"{path}: {model}: data_type {text!r} names no var {name!r}")
        return vars_[name]

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        return environment.from_string(text).render(var=var)
    except jinja2.TemplateError as error:
        raise ModelError(f"{path}: {model}: data_type {text!r}: {error}") from None


def check(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Raise `ModelError` when the built relation's columns differ from the contract's:
    a declared column missing, one not declared, or another type (both as DuckDB spells
    them: the declared types are cast to, as dbt does). The column order counts too: dbt
    creates the columns in the YAML's order and `listings build` in the SQL's, so the two
    agree only if the YAML lists them in the SQL's order."""
    built = column_types(con, contract.model)
    wanted = _spelled(con, contract)
    problems = [f"{name}: missing (declared {type_}, not built)"
                for name, type_ in wanted.items() if name not in built]  # fmt: skip
    problems += [f"{name}: extra (built {type_}, not declared)"
                 for name, type_ in built.items() if name not in wanted]  # fmt: skip
    problems += [
        f"{name}: declared {type_}, built {built[name]}"
        for name, type_ in wanted.items()
        if name in built and built[name] != type_
    ]
    if not problems and list(built) != list(wanted):
        problems.append(f"column order: declared {', '.join(wanted)}; built {', '.join(built)}")
    if problems:
        raise ModelError(
            f"{contract.declared_in}: {contract.model} breaks its contract:\n  "
            + "\n  ".join(problems)
        )


def _spelled(con: duckdb.DuckDBPyConnection, contract: Contract) -> dict[str, str]:
    """The declared types as DuckDB spells them (`int8` is BIGINT): one `DESCRIBE` of
    `cast(null as TYPE)` per column, as dbt's `get_empty_schema_sql` does."""
    casts = ", ".join(f"CAST(NULL AS {type_}) AS {quote(name)}" for name, type_ in contract.columns)
    try:
        rows = con.execute(f"DESCRIBE SELECT {casts}").fetchall()
    except duckdb.Error as error:
        raise ModelError(
            f"{contract.declared_in}: {contract.model}: a data_type is no DuckDB type: {error}"
        ) from None
    return {row[0]: row[1] for row in rows}
