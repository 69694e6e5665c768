"""The import graph: the three stages side by side over one ground floor, and no circles.

``reasonkit`` is the ground floor (errors, JSONL, artifacts, prompting, the answer parser, the
task generators); ``datacheck``, ``train`` and ``reasoneval`` stand on it and never on each other
(issue 28). ``scripts`` and ``benchmarks`` sit above everything and may import anything, so they
are not read here. Every import counts: module level, inside functions, under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GROUND = "reasonkit"
STAGES = ("datacheck", "train", "reasoneval")
PACKAGES = (GROUND, *STAGES)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every dotted name an import statement anywhere in ``tree`` brings in; for
    ``from a import b`` both ``a`` and ``a.b`` (the caller keeps whichever is a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """module -> the project modules it imports (the longest dotted prefix that is a module)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for dotted in imported_names(tree, name, path.name == "__init__.py"):
            parts = dotted.split(".")
            if parts[0] not in PACKAGES:
                continue
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts:
                targets.add(".".join(parts))
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def forbidden_arrows(graph: Mapping[str, set[str]]) -> list[str]:
    """Imports that run up from the ground floor or sideways between stages."""
    bad = []
    for module, targets in sorted(graph.items()):
        package = module.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other != package and other != GROUND:
                bad.append(f"{module} -> {target}")
    return bad


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(project_modules())


def test_the_graph_is_read_from_the_real_tree(graph: dict[str, set[str]]) -> None:
    # A graph read from nothing would pass every check below.
    assert {name.split(".")[0] for name in graph} == set(PACKAGES)
    assert "reasonkit.answers" in graph["train.rewards"]
    assert "reasonkit.errors" in graph["datacheck.cli"]
    assert "datacheck.dedup.lsh" in graph["datacheck.dedup.clusters"]
    assert "reasoneval.gguf" in graph["reasoneval.backends.checkpoint"]  # inside a function


def test_stages_stand_side_by_side_on_the_ground_floor(graph: dict[str, set[str]]) -> None:
    assert forbidden_arrows(graph) == []


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_the_checks_see_a_planted_cycle_and_a_sideways_arrow() -> None:
    planted = {
        "reasonkit.a": {"reasonkit.b"},
        "reasonkit.b": {"reasonkit.c"},
        "reasonkit.c": {"reasonkit.a", "reasoneval.x"},
        "reasoneval.x": {"reasonkit.a"},
        "train.t": {"datacheck.d", "reasonkit.a"},
        "datacheck.d": set(),
    }
    assert cycles(planted) == [["reasoneval.x", "reasonkit.a", "reasonkit.b", "reasonkit.c"]]
    assert forbidden_arrows(planted) == ["reasonkit.c -> reasoneval.x", "train.t -> datacheck.d"]
