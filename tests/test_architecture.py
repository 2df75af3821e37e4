"""The shape of the package: which ``sim`` modules import which (issue 21, one home per mechanism).

The import graph is read from the source with :mod:`ast`, never by importing: every ``import``
statement counts, at module level or inside a function (a function-level import is still a
dependency; it only hides a cycle until the function runs). :func:`import_graph` is the shared
helper: further tests of the architecture (e.g. that mechanism phase modules do not import one
another) read the same graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

SIM_DIR = Path(__file__).resolve().parent.parent / "sim"
PACKAGE = "sim"


def _module_name(path: Path) -> str:
    """``sim/a/b.py`` -> ``sim.a.b``; ``sim/a/__init__.py`` -> ``sim.a``."""
    parts = list(path.relative_to(SIM_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sim_modules() -> dict[str, Path]:
    """Every module and package of ``sim`` by dotted name."""
    return {_module_name(p): p for p in sorted(SIM_DIR.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of the dotted ``name`` that is a ``sim`` module (``sim.a.f`` ->
    ``sim.a`` when ``f`` is a function of ``sim/a.py``), or None outside ``sim``."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The ``sim`` modules that ``module`` imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(_resolve(alias.name, modules))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from .a import x, from ..a import x
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # ``from sim import jit`` imports the module sim.jit; ``from sim.cli import
            # main`` imports sim.cli (main is no module): each name resolves on its own.
            for alias in node.names:
                found.add(_resolve(f"{source}.{alias.name}", modules))
    found.discard(None)
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    """{module: the set of ``sim`` modules it imports}, for every module of ``sim``.

    Only explicit imports are edges: importing ``sim.a.b`` also runs ``sim/__init__.py`` and
    ``sim/a/__init__.py``, but that is Python's doing, not a dependency one module chose (and
    a package ``__init__`` that imports nothing back cannot close a cycle that way).
    """
    modules = sim_modules()
    return {m: _imports(m, p, modules) for m, p in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) through each strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(v: str) -> None:  # Tarjan's algorithm; the graph is small, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1 or v in graph.get(v, ()):
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            connect(v)

    cycles = []
    for group in groups:
        start = min(group)
        # Shortest way back to ``start`` inside the group (breadth first).
        came_from = {start: None}
        queue, end = [start], None
        while queue and end is None:
            v = queue.pop(0)
            for w in sorted(graph.get(v, ())):
                if w == start:
                    end = v
                    break
                if w in group and w not in came_from:
                    came_from[w] = v
                    queue.append(w)
        path = []  # walked backwards from the last step to start
        v = end
        while v is not None:
            path.append(v)
            v = came_from[v]
        cycles.append([*reversed(path), start])
    return sorted(cycles)


def test_the_graph_is_read():
    """The parser sees the imports it must (else an empty graph would pass the cycle test)."""
    graph = import_graph()
    assert "sim.model" in graph and "sim.dashboard.market" in graph
    assert "sim.jit" in graph["sim.model"]  # from sim import jit
    assert "sim.wom.phase" in graph["sim.model"]  # from sim.wom.phase import WordOfMouth
    assert "sim.model" in graph["sim.dashboard.market"]  # from sim.model import ...
    assert "sim.figures" in graph["sim.study"]  # a function-level `from sim import figures`
    assert "sim.dashboard.views" in graph["sim.dashboard.app"]  # from sim.dashboard import views


def test_find_cycles_finds_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_sim():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles among sim modules:\n" + "\n".join(
        "  " + " -> ".join(c) for c in cycles)


def test_every_form_of_import_resolves(tmp_path):
    src = tmp_path / "app.py"
    src.write_text("from . import views\n"
                   "from .market import Scene\n"
                   "from .. import kernels\n"
                   "import sim.model\n"
                   "from sim import api, __version__\n"
                   "import numpy\n"
                   "def f():\n"
                   "    from sim.study import paired_difference\n")
    names = ["sim", "sim.dashboard", "sim.dashboard.app", "sim.dashboard.views",
             "sim.dashboard.market", "sim.kernels", "sim.model", "sim.api", "sim.study"]
    modules = {m: Path() for m in names}
    assert _imports("sim.dashboard.app", src, modules) == {
        "sim.dashboard.views", "sim.dashboard.market", "sim.kernels", "sim.model", "sim.api",
        "sim.study", "sim"}  # `from sim import __version__` reads the package itself
