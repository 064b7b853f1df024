"""The shape of the package, read from its source: imports run one way (no cycle, the core never imports
the leaves above it), no module keeps mutable state, and functions stay small."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import PROJECT

PACKAGE = PROJECT / "broadsheet"
# Above the core, which never imports them: the command line, the long-lived preview and `watch`, the
# importers, the link checker and the publisher.
LEAVES = ("broadsheet.cli", "broadsheet.__main__", "broadsheet.live", "broadsheet.importer", "broadsheet.plaintext",
          "broadsheet.check", "broadsheet.deploy")
WORKER_STATE = "broadsheet.workers"  # the one module state: a worker process's job, set in the worker only
MOST_LINES, MOST_PARAMETERS = 40, 6


def modules() -> dict[str, ast.Module]:
    """Every module of the package by its dotted name, parsed."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PROJECT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


def imports(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The package's modules that a module imports anywhere (in functions and TYPE_CHECKING blocks too)."""
    package = name if (PACKAGE / Path(*name.split(".")[1:]) / "__init__.py").is_file() else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module in known and module != name}


def graph() -> dict[str, set[str]]:
    trees = modules()
    return {name: imports(name, tree, set(trees)) for name, tree in trees.items()}


def is_leaf(name: str) -> bool:
    return any(name == leaf or name.startswith(leaf + ".") for leaf in LEAVES)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle():
    edges = graph()
    # (a package's __init__ imports nothing of its own modules here; were it to, it would count as a cycle)
    assert cycles(edges) == []


def test_the_core_never_imports_the_command_line_the_preview_or_the_importers():
    wrong = sorted(f"{name} imports {other}" for name, others in graph().items() if not is_leaf(name)
                   for other in others if is_leaf(other))
    assert wrong == []


def test_the_finders_above_fail_on_a_cycle_and_on_a_leaf():
    # (the two tests above would pass on a graph they could not read: they are held to a made-up one)
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert is_leaf("broadsheet.live.site") and is_leaf("broadsheet.cli") and not is_leaf("broadsheet.pipeline")
    tree = ast.parse("from ..records import Article\nfrom .watch import OVERFLOW\nif X:\n    from ..cli import main\n")
    known = {"broadsheet.records", "broadsheet.live.watch", "broadsheet.cli"}
    assert imports("broadsheet.live.site", tree, known) == known


_MUTABLE = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
_MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque", "bytearray"}


def module_state(tree: ast.Module) -> list[str]:
    """Names a module binds at its top level to a mutable value, and `global` statements anywhere."""
    found = []
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        called = isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _MUTABLE_CALLS
        if isinstance(value, _MUTABLE) or called:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [ast.unparse(target) for target in targets]
    found += [f"global {', '.join(node.names)}" for node in ast.walk(tree) if isinstance(node, ast.Global)]
    return found


def test_no_module_keeps_mutable_state():
    state = {name: module_state(tree) for name, tree in modules().items() if name != WORKER_STATE}
    assert {name: found for name, found in state.items() if found} == {}
    assert module_state(ast.parse("A = {}\nB = (1, 2)\nC: list[int] = []\ndef f():\n    global D\n")) == \
        ["A", "C", "global D"]


def oversized(tree: ast.Module) -> list[str]:
    """Functions longer than MOST_LINES lines or taking more than MOST_PARAMETERS parameters (self aside)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            count = len(names) - (names[:1] in (["self"], ["cls"]))
            lines = node.end_lineno - node.lineno + 1 if node.end_lineno else 0
            if lines > MOST_LINES or count > MOST_PARAMETERS:
                found.append(f"{node.name} ({lines} lines, {count} parameters)")
    return found


def test_functions_are_small():
    assert {name: found for name, tree in modules().items() if (found := oversized(tree))} == {}
    assert oversized(ast.parse("def f(a, b, c, d, e, f, g):\n    pass\n")) == ["f (2 lines, 7 parameters)"]
