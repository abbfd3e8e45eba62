"""dbt's node selection syntax over a project's models, for `Project.select` and `--select`.

Graph operators (`+m`, `m+`, `2+m`, `m+1`, `@m`), methods (`tag:`, `path:`, `file:`, `fqn:`;
method-less: a model's name, or a path when it holds a `/`, a file when it ends `.sql`),
spaces or several selectors for a union, a comma for an intersection, and `exclude`. The
syntax: dbt_like_sql/README.md, "Selecting models".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import ModelError


class Project(Protocol):
    """What selection reads of a `project.Project` (named structurally: project.py imports
    this module)."""

    @property
    def root(self) -> Path: ...

    @property
    def name(self) -> str: ...

    @property
    def models(self) -> Mapping[str, Any]: ...

    def order(self) -> list[str]: ...

    def children(self) -> dict[str, set[str]]: ...


# dbt's own pattern (dbt/graph/selector_spec.py): `@`, `N+` before, `method:`, `+N` after.
_SELECTOR = re.compile(
    r"(?P<at>@)?(?P<parents>(?P<up>\d*)\+)?(?:(?P<method>[\w.]+):)?(?P<value>.*?)"
    r"(?P<children>\+(?P<down>\d*))?"
)
METHODS = ("fqn", "tag", "path", "file")
# The one-line summary `--help` shows.
SYNTAX = (
    "dbt's syntax: NAME, +NAME (and upstream), NAME+ (and downstream), 2+NAME, NAME+1, "
    "@NAME, tag:T, path:marts[/FILE.sql]; spaces make a union, commas an intersection"
)


def select(
    project: Project, selectors: Iterable[str] | None, exclude: Iterable[str] | None = None
) -> list[str]:
    """The models `selectors` name (all, when none) less those `exclude` names, in build order.

    Several selectors (or one holding spaces) are a union; `a,b` is the models both `a` and
    `b` select. A part naming no model, tag or path raises `ModelError` naming what exists;
    a selection that only comes out empty (an empty intersection, all excluded) is `[]`.
    """
    order = project.order()
    graph = _Graph(project)
    tokens = _tokens(selectors)
    chosen = set().union(*(graph.token("--select", t) for t in tokens)) if tokens else set(order)
    for token in _tokens(exclude):
        chosen -= graph.token("--exclude", token)
    return [name for name in order if name in chosen]


def _tokens(selectors: Iterable[str] | None) -> list[str]:
    return [token for selector in selectors or () for token in selector.split()]


class _Graph:
    """The models' edges and what the methods match on, for one selection."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.order = project.order()
        self.parents = {name: set(model.refs) for name, model in project.models.items()}
        self.children = project.children()

    def token(self, option: str, token: str) -> set[str]:
        """One selector: the intersection of its comma-separated parts."""
        parts = token.split(",")
        if not all(parts):
            raise ModelError(f"{option} {token}: an empty part between commas")
        found = self.part(option, token, parts[0])
        for part in parts[1:]:
            found &= self.part(option, token, part)
        return found

    def part(self, option: str, token: str, part: str) -> set[str]:
        """One method and value with its graph operators."""
        spec = _SELECTOR.fullmatch(part)
        assert spec is not None  # every part matches: each group is optional
        value = spec["value"]
        if spec["at"] and spec["children"]:
            raise ModelError(f"{option} {token}: '@' and a '+' after the name do not combine")
        method = spec["method"] or _default_method(value)
        if method not in METHODS:
            raise ModelError(
                f"{option} {token}: unknown method {method!r} (methods: {', '.join(METHODS)})"
            )
        if not value:
            raise ModelError(f"{option} {token}: names no model, tag or path")
        direct = getattr(self, f"_{method}")(option, token, value)
        found = set(direct)
        if spec["parents"]:
            found |= self._walk(direct, self.parents, _depth(spec["up"]))
        if spec["children"]:
            found |= self._walk(direct, self.children, _depth(spec["down"]))
        if spec["at"]:
            below = direct | self._walk(direct, self.children, None)
            found |= below | self._walk(below, self.parents, None)
        return found

    @staticmethod
    def _walk(start: set[str], edges: Mapping[str, set[str]], depth: int | None) -> set[str]:
        """What `edges` reach from `start` in at most `depth` steps (any number: None)."""
        seen: set[str] = set()
        frontier = set(start)
        step = 0
        while frontier and (depth is None or step < depth):
            frontier = {nxt for name in frontier for nxt in edges[name]} - seen
            seen |= frontier
            step += 1
        return seen

    def _fqn(self, option: str, token: str, value: str) -> set[str]:
        """dbt's fully qualified name: the model's name, or `project.name`; `*` globs."""
        found = {
            name
            for name in self.order
            if _fqn_matches(value, [name]) or _fqn_matches(value, [self.project.name, name])
        }
        if not found:
            folder = (self.project.root / value).is_dir() and "/" not in value
            hint = f"; a folder's models are path:{value}" if folder else ""
            raise ModelError(
                f"{option} {token}: no model named {value!r} (models: {', '.join(self.order)})"
                + hint
            )
        return found

    def _tag(self, option: str, token: str, value: str) -> set[str]:
        models = self.project.models
        found = {name for name in self.order if any(fnmatch(t, value) for t in models[name].tags)}
        if not found:
            tags = sorted({tag for model in models.values() for tag in model.tags})
            raise ModelError(
                f"{option} {token}: no model tagged {value!r} (tags: {', '.join(tags) or 'none'})"
            )
        return found

    def _path(self, option: str, token: str, value: str) -> set[str]:
        """Models whose SQL or YAML file is at `value` or under it (relative to the project
        folder; a glob matches too), as dbt's `path:`."""
        root = self.project.root.resolve()
        pattern = value.strip("/")
        try:
            paths = {path.relative_to(root) for path in root.glob(pattern)}
        except (ValueError, IndexError, NotImplementedError):  # ".", an absolute path
            paths = {Path()} if pattern in ("", ".") else set()
        found = set()
        for name in self.order:
            sql = self.project.models[name].path.resolve().relative_to(root)
            yml = sql.with_suffix(".yml")  # its YAML declares it (`model_entry` checks)
            if sql in paths or yml in paths or any(p in paths for p in sql.parents):
                found.add(name)
        if not found:
            folders = sorted({str(m.path.resolve().parent.relative_to(root))
                              for m in self.project.models.values()})  # fmt: skip
            raise ModelError(
                f"{option} {token}: no model file at or under {value!r} in {self.project.root} "
                f"(folders: {', '.join(folders) or 'none'})"
            )
        return found

    def _file(self, option: str, token: str, value: str) -> set[str]:
        models = self.project.models
        found = {name for name in self.order
                 if fnmatch(models[name].path.name, value) or fnmatch(name, value)}  # fmt: skip
        if not found:
            raise ModelError(
                f"{option} {token}: no model file named {value!r} (models: {', '.join(self.order)})"
            )
        return found


def _default_method(value: str) -> str:
    """dbt's: a path when the value holds a `/`, a file name when it ends `.sql`, else fqn."""
    if "/" in value:
        return "path"
    if value.lower().endswith(".sql"):
        return "file"
    return "fqn"


def _depth(digits: str) -> int | None:
    return int(digits) if digits else None


def _fqn_matches(value: str, fqn: list[str]) -> bool:
    """dbt's `is_selected_node`: the leaf's name, or the fqn's leading parts, the rest of it
    matching a glob from the first part with a wildcard."""
    if fqn[-1] == value:
        return True
    parts = value.split(".")
    if len(parts) > len(fqn):
        return False
    for index, part in enumerate(parts):
        if any(wildcard in part for wildcard in "*?[]"):
            rest = ".".join(parts[index:])
            leaf = len(parts) == 1 and fnmatch(fqn[-1], rest)  # a bare glob: the name alone
            return leaf or fnmatch(".".join(fqn[index:]), rest)
        if fqn[index] != part:
            return False
    return True
