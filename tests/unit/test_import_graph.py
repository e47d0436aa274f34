"""No import circles between the project's own modules (issue 20).

The graph: one node per module of the project's packages (kernel, ledger, allocation, trading,
compliance, identity, storage, app, web; every ``.py`` file under them, subpackages included),
one edge per import statement that names another of those modules, read with `ast` from the
source (nothing is imported). What counts as an edge:

- ``import a.b.c`` and ``from a.b.c import name``: an edge to ``a.b.c`` (or, when ``a.b.c`` is
  not a module of ours, to the longest prefix that is);
- ``from a.b import c`` where ``a.b.c`` is a module (a submodule imported by name): an edge to
  ``a.b.c``; otherwise to ``a.b`` (a name its ``__init__`` defines);
- relative imports resolved against the importing module's package;
- no edge to a module's own enclosing packages: Python imports those first anyway, and a
  package ``__init__`` that imports its own submodules is the normal shape, not a circle.

Imports inside ``if TYPE_CHECKING:`` never run and are left out. Imports inside functions
(deferred: they run when the function is first called, usually to keep start-up light or to
reach a heavy optional dependency) are counted separately:

- `test_no_cycle_among_module_level_imports`: the graph of imports that run when a module is
  imported (module body and class bodies, ``try`` blocks included). A cycle here makes the
  result depend on which module is imported first, so none is allowed.
- `test_no_cycle_when_deferred_imports_count`: the same graph plus every import inside a
  function. A circle that only closes through a deferred import does not fail at start-up,
  but it is the same tangle (two modules each needing the other, as `app.cli` and
  `app.allocation_cli` once did); none is allowed either, but for the circles listed in
  `KNOWN_DEFERRED` (each with how to break it; an entry that no longer closes a circle fails
  the test, so the list only shrinks).

A failure lists each circle as ``a (line N) -> b (line M) -> ... -> a``, the line being the
import statement in the module on its left.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("kernel", "ledger", "allocation", "trading", "compliance", "identity", "storage",
            "notices", "simulation",
            "app", "web")


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int
    deferred: bool  # inside a function body


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> source file, for every ``.py`` file under the packages."""
    out: dict[str, Path] = {}
    for package in packages:
        base = root / package
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            if "__pycache__" in rel.parts or not all(p.isidentifier() for p in rel.parts):
                continue
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _statements(node: ast.AST, deferred: bool = False
                ) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement under `node` that can run, with whether it is deferred."""
    children: Iterable[ast.AST] = ast.iter_child_nodes(node)
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        children = node.orelse  # the body runs only under a type checker
    for child in children:
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, deferred
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _statements(child, True)
        else:
            yield from _statements(child, deferred)


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """`name` if it is one of our modules, else its longest prefix that is, else None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def edges_of(module: str, modules: dict[str, Path]) -> list[Edge]:
    path = modules[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    ancestors = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    out: list[Edge] = []
    for stmt, deferred in _statements(tree):
        targets: list[str | None] = []
        if isinstance(stmt, ast.Import):
            targets = [_resolve(alias.name, modules) for alias in stmt.names]
        else:
            if stmt.level:
                base_parts = package.split(".")
                base_parts = base_parts[:len(base_parts) - (stmt.level - 1)]
                base = ".".join([*base_parts, *([stmt.module] if stmt.module else [])])
            else:
                base = stmt.module or ""
            for alias in stmt.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in modules else _resolve(base, modules))
        for target in targets:
            if target is None or target == module or target in ancestors:
                continue
            out.append(Edge(module, target, stmt.lineno, deferred))
    return out


def import_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES, *,
                 deferred: bool) -> dict[str, dict[str, Edge]]:
    """importer -> imported -> the first import statement making that edge."""
    modules = module_files(root, packages)
    graph: dict[str, dict[str, Edge]] = {m: {} for m in modules}
    for module in modules:
        for edge in edges_of(module, modules):
            if edge.deferred and not deferred:
                continue
            graph[module].setdefault(edge.imported, edge)
    return graph


def strongly_connected(graph: dict[str, dict[str, Edge]]) -> list[list[str]]:
    """Tarjan's components with more than one module (iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                        out.append(sorted(component))
    return sorted(out)


def shortest_cycle(graph: dict[str, dict[str, Edge]], component: list[str]) -> list[Edge]:
    """A shortest circle through the component's first module, as its edges."""
    members = set(component)
    start = component[0]
    came: dict[str, Edge] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target, edge in sorted(graph[node].items()):
            if target not in members:
                continue
            if target == start:
                path = [edge]
                while path[0].importer != start:
                    path.insert(0, came[path[0].importer])
                return path
            if target not in came:
                came[target] = edge
                queue.append(target)
    raise AssertionError(f"{component} is not strongly connected")


def describe(cycle: list[Edge]) -> str:
    steps = [f"{e.importer} (line {e.line}{', in a function' if e.deferred else ''})"
             for e in cycle]
    return " -> ".join([*steps, cycle[0].importer])


def cycles(graph: dict[str, dict[str, Edge]],
           known: Iterable[frozenset[str]] = ()) -> list[str]:
    """Each tangle (strongly connected set of modules) not in `known`, as one of its circles
    and, when the tangle is larger than that circle, all its modules."""
    out = []
    for component in strongly_connected(graph):
        if frozenset(component) in set(known):
            continue
        cycle = shortest_cycle(graph, component)
        extra = (f"  (the tangle: {', '.join(component)})"
                 if len(component) > len(cycle) else "")
        out.append(describe(cycle) + extra)
    return out


#: Circles that close only through an import inside a function, in modules this test's
#: author did not own; each is to be broken by its owner, then removed from here (the test
#: fails while an entry no longer matches a tangle, so the list cannot go stale).
KNOWN_DEFERRED: dict[frozenset[str], str] = {}


def test_no_cycle_among_module_level_imports() -> None:
    found = cycles(import_graph(deferred=False))
    assert not found, "import circles (module level):\n" + "\n".join(found)


def test_no_cycle_when_deferred_imports_count() -> None:
    graph = import_graph(deferred=True)
    found = cycles(graph, KNOWN_DEFERRED)
    assert not found, "import circles (counting imports inside functions):\n" + "\n".join(found)
    tangles = {frozenset(c) for c in strongly_connected(graph)}
    stale = [", ".join(sorted(k)) for k in KNOWN_DEFERRED if k not in tangles]
    assert not stale, f"no longer a circle, remove from KNOWN_DEFERRED: {stale}"


# the graph builder itself, on the project and on a small tree with known circles ------------

def test_the_graph_sees_the_project_s_imports() -> None:
    graph = import_graph(deferred=True)
    assert len(graph) > 100
    # `from app import allocation_cli, ledger_cli, ...`: submodules imported by name
    assert {"app.allocation_cli", "app.ledger_cli"} <= set(graph["app.cli"])
    assert not graph["app.cli"]["app.allocation_cli"].deferred
    # `from kernel.errors import DomainError`: the module, not the package
    assert "kernel.errors" in graph["app.cli"]
    module_level = import_graph(deferred=False)
    assert set(module_level["app.cli"]) < set(graph["app.cli"])  # app.cli defers most


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_circle_is_found_and_named(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "p/__init__.py": "from p import a  # a package importing its own module: no circle\n",
        "p/a.py": "import p.b\n",
        "p/b.py": "from . import c\n",
        "p/c.py": "\n\nfrom p.a import thing\n",
        "p/d.py": "def later():\n    from p import e\n",
        "p/e.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import p.d\n"
                  "from p.d import later\n",
        "p/f.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import p.g\n",
        "p/g.py": "import p.f\n",
        "q/__init__.py": "",
        "q/x.py": "from p.sub import y\n",
        "p/sub/__init__.py": "",
        "p/sub/y.py": "from q import x\n",
    })
    eager = import_graph(tmp_path, ("p", "q"), deferred=False)
    assert cycles(eager) == [
        "p.a (line 1) -> p.b (line 1) -> p.c (line 3) -> p.a",
        "p.sub.y (line 1) -> q.x (line 1) -> p.sub.y",
    ]
    lazy = import_graph(tmp_path, ("p", "q"), deferred=True)
    assert "p.d (line 2, in a function) -> p.e (line 4) -> p.d" in cycles(lazy)
    assert not any("p.d" in c for c in cycles(lazy, [frozenset({"p.d", "p.e"})]))
    # a TYPE_CHECKING import is no edge: p.f and p.g form no circle
    assert "p.g" not in eager["p.f"] and not any("p.f" in c for c in cycles(lazy))


def test_a_larger_tangle_is_named_in_full(tmp_path: Path) -> None:
    _tree(tmp_path, {"t/__init__.py": "", "t/a.py": "import t.b\nimport t.c\n",
                     "t/b.py": "import t.a\n", "t/c.py": "import t.a\n"})
    assert cycles(import_graph(tmp_path, ("t",), deferred=False)) == [
        "t.a (line 1) -> t.b (line 1) -> t.a  (the tangle: t.a, t.b, t.c)"]


@pytest.mark.parametrize("source, expected", [
    ("from .. import ledger_x\n", "pkg.ledger_x"),
    ("from ..ledger_x import name\n", "pkg.ledger_x"),
    ("from . import sibling\n", "pkg.sub.sibling"),
    ("import pkg.sub.sibling as s\n", "pkg.sub.sibling"),
    ("from pkg.sub.sibling import missing_module\n", "pkg.sub.sibling"),
])
def test_relative_and_aliased_imports_resolve(tmp_path: Path, source: str,
                                              expected: str) -> None:
    _tree(tmp_path, {"pkg/__init__.py": "", "pkg/ledger_x.py": "", "pkg/sub/__init__.py": "",
                     "pkg/sub/sibling.py": "", "pkg/sub/here.py": source})
    graph = import_graph(tmp_path, ("pkg",), deferred=False)
    assert set(graph["pkg.sub.here"]) == {expected}
