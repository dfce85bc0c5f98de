"""The layers import one way (app -> demos -> core) and no package imports itself round in a circle.

The graph is read from the source with `ast`, not by importing: every import statement counts, at the top
of a module, inside a function, or under `if TYPE_CHECKING:`, because each is a dependency a reader has to
follow. `from package import name` is an edge to the submodule when `name` is one, else to the package.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import seqviz

ROOT = Path(seqviz.__file__).resolve().parent  # the seqviz package folder


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, e.g. "seqviz.core.generate"
    target: str  # imported seqviz module
    where: str  # "seqviz/core/generate.py:29", for the failure message


def module_files() -> dict[str, Path]:
    """Every seqviz module by dotted name; a package is its __init__.py."""
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def import_targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, modules) -> list[str]:
    """The seqviz modules one import statement in `module` loads."""
    if isinstance(node, ast.Import):
        return [_nearest_module(alias.name, modules) for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: the package of `module`, up level - 1 more
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    names = [f"{base}.{alias.name}" for alias in node.names]
    submodules = [name for name in names if name in modules]
    attributes = len(submodules) < len(names)  # names defined in `base` itself
    return submodules + ([_nearest_module(base, modules)] if attributes else [])


def import_graph() -> list[Edge]:
    modules = module_files()
    edges = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                targets = import_targets(module, path.name == "__init__.py", node, modules)
                where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
                edges += [Edge(module, t, where) for t in dict.fromkeys(targets) if t and t != module]
    return edges


def _nearest_module(name: str, modules: dict[str, Path]) -> str | None:
    """`name` if it is a seqviz module, else its nearest enclosing one (`name` is an attribute of it)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def cycles(edges: list[Edge], within: str) -> list[list[Edge]]:
    """One cycle (as its edges) through each strongly connected group of modules under `within`."""
    inside = [e for e in edges if _under(e.source, within) and _under(e.target, within)]
    out: dict[str, list[Edge]] = {}
    for e in inside:
        out.setdefault(e.source, []).append(e)
    found, seen = [], set()
    for start in sorted(out):
        path = _path_back(start, out)
        if path and frozenset(e.source for e in path) not in seen:
            seen.add(frozenset(e.source for e in path))
            found.append(path)
    return found


def _path_back(start: str, out: dict[str, list[Edge]]) -> list[Edge] | None:
    """Edges of a shortest path from `start` back to itself (breadth first), or None."""
    parents: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for e in out.get(node, []):
                if e.target == start:
                    path = [e]
                    while path[0].source != start:
                        path.insert(0, parents[path[0].source])
                    return path
                if e.target not in parents:
                    parents[e.target] = e
                    following.append(e.target)
        frontier = following
    return None


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _describe(path: list[Edge]) -> str:
    return " -> ".join(f"{e.source} ({e.where})" for e in path) + f" -> {path[-1].target}"


def test_the_graph_sees_function_level_imports():
    # seqviz/__init__.py imports seqviz.core at the top; seqviz.core imports modelfile inside __getattr__
    edges = {(e.source, e.target) for e in import_graph()}
    assert ("seqviz", "seqviz.core") in edges
    assert ("seqviz.core", "seqviz.core.modelfile") in edges


def test_no_import_cycles_within_core_or_demos():
    edges = import_graph()
    found = [_describe(c) for package in ("seqviz.core", "seqviz.demos") for c in cycles(edges, package)]
    assert not found, "import cycles:\n" + "\n".join(found)


def test_layers_import_one_way():
    forbidden = {"seqviz.core": ("seqviz.demos", "seqviz.app"), "seqviz.demos": ("seqviz.app",)}
    wrong = [
        f"{e.where}: {e.source} imports {e.target}"
        for e in import_graph()
        for layer, above in forbidden.items()
        if _under(e.source, layer) and any(_under(e.target, a) for a in above)
    ]
    assert not wrong, "a lower layer imports a higher one:\n" + "\n".join(wrong)
