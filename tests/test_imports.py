"""The package has no import cycle among its module-level imports (issue 18).

Every module of symparams/ is read with `ast` (never imported), and each `import`/`from ... import`
it runs when it is imported -- in its body, a class body, an `if` or `try` at the top, but not in a
function, nor under `if TYPE_CHECKING:` -- becomes an edge to the module it loads: the named module,
the packages on the way to it (their `__init__` runs first, unless the importer is inside them), and
for `from PKG import name` the submodule `PKG.name` where one exists. A cycle among these edges is a
module that may run before what it imports has finished.

Imports inside functions run on use, after every module has loaded, so a cycle through one is no
fault; `module_graph(function_level=True)` includes them, for finding such cycles when asked.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "symparams"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _type_checking(test) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(body, function_level: bool):
    """The import statements `body` runs (function bodies too when `function_level`)."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if function_level:
                yield from _imports(node.body, function_level)
        elif isinstance(node, ast.If) and _type_checking(node.test):
            yield from _imports(node.orelse, function_level)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    yield from _imports(inner, function_level)


def _with_packages(importer: str, target: str) -> set[str]:
    """`target` and the packages whose __init__ runs on the way to it (not the importer's own)."""
    parts, out = target.split("."), set()
    for n in range(1, len(parts) + 1):
        name = ".".join(parts[:n])
        if name in MODULES and not (importer == name or importer.startswith(name + ".")):
            out.add(name)
    return out


def _targets(importer: str, node) -> set[str]:
    if isinstance(node, ast.Import):
        return set().union(*[_with_packages(importer, a.name) for a in node.names])
    if node.level:
        base = importer.split(".") if _is_package(importer) else importer.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    out = _with_packages(importer, source)
    for alias in node.names:
        if f"{source}.{alias.name}" in MODULES:
            out |= _with_packages(importer, f"{source}.{alias.name}")
    return out


def module_graph(function_level: bool = False) -> dict[str, set[str]]:
    """module -> the package modules it imports (at import time, or also inside functions)."""
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name] = set().union(*[_targets(name, n) for n in _imports(tree.body, function_level)]) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_reader_sees_the_imports_it_should():
    graph = module_graph()
    assert "symparams.units" in graph["symparams.accounting"]
    assert "symparams.catalog" in graph["symparams.blocks"]           # a package's __init__ runs first
    assert "symparams.catalog.registry" in graph["symparams.blocks"]
    assert "symparams.table" not in graph["symparams.memory"]
    assert "symparams.errors" in module_graph(function_level=True)["symparams.commands.summary"]


def _described(found) -> str:
    return "import cycles at module level: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_import_cycle_among_module_level_imports():
    found = cycles(module_graph())
    assert not found, _described(found)


def test_the_floor_modules_import_nothing_of_the_package_but_errors():
    graph = module_graph(function_level=True)
    for floor in ("symparams.errors", "symparams.units", "symparams.printing"):
        assert graph[floor] <= {"symparams.errors"}, (floor, graph[floor])
