"""The layering holds: import-linter's contracts (pyproject.toml, [tool.importlinter]) all pass.

`make test` runs `lint-imports` too; this keeps `pytest` alone just as strict. It runs the
venv's own `lint-imports` in a child process from the project root, as `make` does, so the
report it prints on failure is the one a developer sees there. About 0.5 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The console script beside the interpreter running the tests: .venv/bin/lint-imports.
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_the_import_contracts_are_kept() -> None:
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        pytest.fail(f"lint-imports: contracts broken\n{done.stdout}{done.stderr}", pytrace=False)


def test_no_module_of_ours_imports_itself_round_a_cycle() -> None:
    """The import graph of pipeline, flows and render is acyclic (grimp, import-linter's own
    graph, counts every import statement, in functions too): a module can be read, and
    moved, after everything it imports."""
    import grimp

    graph = grimp.build_graph("pipeline", "flows", "render", cache_dir=None)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(imported) == 1:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = 2

    for module in sorted(graph.modules):
        if module not in state:
            visit(module, [module])
    assert cycles == []
