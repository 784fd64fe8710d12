"""No import cycles inside ml/ or detector/: every module can be understood (and imported)
without the modules that import it.

Imports are read with `ast` (nothing is imported), those inside functions included: a cycle
hidden in a function still ties two modules together. RQ jobs are enqueued by dotted path, so
the services never import the job module that imports them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.imports import ROOT, imported_names, module_name

PACKAGES = ("ml", "detector")


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def import_graph() -> dict[str, set[str]]:
    found = modules()
    graph = {}
    for name, path in found.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        targets = imported_names(tree, name, path.name == "__init__.py")
        # A module's own packages have run before it: naming them closes no cycle.
        parents = {name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)}
        graph[name] = {t for t in targets - parents if t in found and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search, three colours)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_the_project_modules():
    graph = import_graph()
    assert {"ml.evaluate", "ml.training.checkpoints"} <= graph["ml.training.card"]
    assert "ml.training.trainer" in graph["ml.training"]  # relative and package imports
    assert "ml.errors" in graph["ml.models.cards"]


def test_ml_and_detector_have_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None),
    ],
)
def test_cycles_are_found(graph, expected):
    assert find_cycle(graph) == expected
