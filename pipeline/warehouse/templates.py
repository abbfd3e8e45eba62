"""The SQL project's templates: `{{ … }}` expressions and `{% if is_incremental() %}` blocks.

`Template` parses a model's or test's SQL once (its refs, sources, `changes()` and
`config(…)`) and renders the SQL DuckDB runs. Beside it, the quoting every warehouse module
uses (`quote`, `literal`), a vocabulary as an ENUM (`enum_type`) and a file's `-- grain:`
line. Part of the SQL-project runner (docs/warehouse.md, "The SQL project").
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import vocab
from pipeline.errors import ModelError

_EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_STRING = r"""\s*(?:'([^']*)'|"([^"]*)")\s*"""
_REF = re.compile(rf"ref\({_STRING}\)")
_SOURCE = re.compile(rf"source\({_STRING},{_STRING}\)")
_VAR = re.compile(rf"var\({_STRING}\)")
_ENUM = re.compile(rf"enum\({_STRING}\)")
_CONFIG = re.compile(r"config\((.*)\)", re.DOTALL)
_THIS = re.compile(r"this")
_CHANGES = re.compile(rf"changes\({_STRING}\)")
# dbt's one block form the models need: `{% if is_incremental() %} … {% else %} … {% endif %}`
_BLOCK = re.compile(
    r"\{%-?\s*if\s+is_incremental\(\)\s*-?%\}(.*?)"
    r"(?:\{%-?\s*else\s*-?%\}(.*?))?\{%-?\s*endif\s*-?%\}",
    re.DOTALL,
)
_STATEMENT = re.compile(r"\{%.*?%\}", re.DOTALL)
_GRAIN = re.compile(r"--\s*grain:\s*(\S.*)")


@dataclass(frozen=True)
class Template:
    """SQL with `{{ … }}` expressions, parsed once: what it refers to, and how it is set up."""

    path: Path
    text: str
    refs: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    config: Mapping[str, Any]
    changes: tuple[str, ...] = ()  # the models `{{ changes('…') }}` names (refs too)

    @classmethod
    def parse(cls, path: Path, text: str) -> Template:
        refs: list[str] = []
        sources: list[tuple[str, str]] = []
        changes: list[str] = []
        config: dict[str, Any] = {}
        _check_statements(path, text)
        for match in _EXPRESSION.finditer(text):
            expression = match.group(1)
            line = text.count("\n", 0, match.start()) + 1
            if ref := _REF.fullmatch(expression):
                refs.append(_string(ref, 1))
            elif source := _SOURCE.fullmatch(expression):
                sources.append((_string(source, 1), _string(source, 3)))
            elif _VAR.fullmatch(expression) or _THIS.fullmatch(expression):
                pass
            elif changed := _CHANGES.fullmatch(expression):
                changes.append(_string(changed, 1))
                refs.append(changes[-1])
            elif enum := _ENUM.fullmatch(expression):
                enum_type(_string(enum, 1), f"{path}:{line}")
            elif setup := _CONFIG.fullmatch(expression):
                config.update(_config_kwargs(setup.group(1), f"{path}:{line}"))
            else:
                raise ModelError(
                    f"{path}:{line}: cannot compile {{{{ {expression} }}}}: only ref('model'), "
                    "source('lake', 'table'), var('name'), enum('VOCABULARY'), this, "
                    "changes('model') and config(key=value) are supported"
                )
        return cls(
            path, text, tuple(dict.fromkeys(refs)), tuple(dict.fromkeys(sources)), config,
            tuple(dict.fromkeys(changes)),
        )  # fmt: skip

    def render(
        self,
        vars_: Mapping[str, Any],
        sources: Mapping[tuple[str, str], str],
        *,
        incremental: bool = False,
        this: str | None = None,
        scoped: Mapping[str, str] | None = None,
    ) -> str:
        """The SQL DuckDB runs: refs and sources become quoted relation names, config goes;
        `{% if is_incremental() %}` blocks keep their first branch when `incremental`, else
        their `{% else %}` branch (or nothing); `{{ this }}` is `this`, the model's own
        relation, and `{{ changes('m') }}` the relation `changes_relation('m')`; a
        `ref('m')` of a model in `scoped` becomes its query instead (a test's rows)."""

        def branch(match: re.Match[str]) -> str:
            return match.group(1) if incremental else (match.group(2) or "")

        def substitute(match: re.Match[str]) -> str:
            expression = match.group(1)
            if _THIS.fullmatch(expression):
                if this is None:
                    raise ModelError(f"{self.path}: {{{{ this }}}} outside a model")
                return quote(this)
            if changed := _CHANGES.fullmatch(expression):
                return quote(changes_relation(_string(changed, 1)))
            if ref := _REF.fullmatch(expression):
                name = _string(ref, 1)
                return scoped[name] if scoped and name in scoped else quote(name)
            if source := _SOURCE.fullmatch(expression):
                return quote(sources[(_string(source, 1), _string(source, 3))])
            if var := _VAR.fullmatch(expression):
                name = _string(var, 1)
                if name not in vars_:
                    line = self.text.count("\n", 0, match.start()) + 1
                    raise ModelError(
                        f"{self.path}:{line}: var('{name}') is not set in dbt_project.yml "
                        f"(known: {', '.join(sorted(vars_)) or 'none'})"
                    )
                return str(vars_[name])  # as dbt: the value's text, quoted where used
            if enum := _ENUM.fullmatch(expression):
                return enum_type(_string(enum, 1), str(self.path))
            return ""  # config(...)

        return _EXPRESSION.sub(substitute, _BLOCK.sub(branch, self.text)).strip()


def changes_relation(model: str) -> str:
    """The temporary table an incremental build keeps of the rows `model` changed."""
    return f"__changes__{model}"


def inserted_relation(model: str) -> str:
    """The temporary table an update keeps of the rows it inserted into `model`: all the
    model's rows of every key it changed (the generic tests read these)."""
    return f"__inserted__{model}"


def _check_statements(path: Path, text: str) -> None:
    """Refuse any `{% … %}` but the `is_incremental()` block (and say where)."""
    for match in _STATEMENT.finditer(_BLOCK.sub("", text)):
        line = text.count("\n", 0, match.start()) + 1
        raise ModelError(
            f"{path}:{line}: cannot compile {match.group(0)}: the only block supported is "
            "{% if is_incremental() %} … {% else %} … {% endif %}"
        )


def _config_kwargs(arguments: str, where: str) -> dict[str, Any]:
    """`config(…)`'s keyword arguments, read by Python's own parser: literals only (strings,
    or lists of strings such as `unique_key=['snapshot_id', 'position']`)."""
    try:
        call = ast.parse(f"config({arguments})", mode="eval").body
        assert isinstance(call, ast.Call) and not call.args
        return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    except (SyntaxError, ValueError, AssertionError):
        raise ModelError(
            f"{where}: config(…) takes keyword arguments with literal values, "
            f"such as config(materialized='table') (found config({arguments.strip()}))"
        ) from None


def enum_type(vocabulary: str, where: str) -> str:
    """`{{ enum('FORMS') }}`: a DuckDB ENUM of a closed vocabulary of `pipeline.vocab`.

    The values are the ones the lake's schema admits, in the vocabulary's order (which is
    the order ENUM values sort in), written once in Python and never copied into SQL: a
    value added there reaches the warehouse at the next build. A lake value outside it
    fails the build's cast loudly rather than becoming NULL.
    """
    values = vocabulary_values(vocabulary, f"{where}: enum('{vocabulary}')")
    return f"ENUM({', '.join(map(literal, values))})"


def vocabulary_values(vocabulary: str, named: str) -> tuple[str, ...]:
    """The values of a closed vocabulary of `pipeline.vocab` (`{{ enum('FORMS') }}`,
    `accepted_values: {vocabulary: FORMS}`); `named` says where, for the error a name that
    is no vocabulary raises."""
    values = getattr(vocab, vocabulary, None)
    if not isinstance(values, tuple) or not all(isinstance(v, str) for v in values):
        raise ModelError(
            f"{named} names no vocabulary of pipeline.vocab "
            "(a tuple of strings such as FORMS or TITLE_SOURCES)"
        )
    return values


def vocabulary_vars() -> dict[str, list[str]]:
    """Every closed vocabulary of `pipeline.vocab` as a var (`{{ var('FORMS') }}`): the
    values accepted_values tests and dbt's `enum()` read."""
    return {
        name: list(values)
        for name, values in vars(vocab).items()
        if name.isupper() and isinstance(values, tuple) and all(isinstance(v, str) for v in values)
    }


def grain_of(text: str) -> str | None:
    """What a model's (or singular test's) first line says it holds: `-- grain: …`."""
    grain = _GRAIN.fullmatch(text.split("\n", 1)[0].strip())
    return grain.group(1) if grain else None


def _string(match: re.Match[str], group: int) -> str:
    """A quoted argument, whichever quotes it used (groups come in single/double pairs)."""
    value = match.group(group)
    return value if value is not None else match.group(group + 1)


def quote(identifier: str) -> str:
    """A SQL identifier, double-quoted (quotes doubled): any model or column name is safe."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A Python value as a SQL literal (strings quoted, quotes doubled)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
