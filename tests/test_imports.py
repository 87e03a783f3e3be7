"""The modules of `helpers` form layers: no import cycle, lazy imports included.

A cycle hidden by an import inside a function still couples two modules both
ways (each must be understood to change the other), so the graph is built from
every import statement, wherever it sits. Private names (``_x``) stay inside
the module that defines them.
"""

import ast
from pathlib import Path

HELPERS = Path(__file__).resolve().parents[1] / "helpers"


def _imports(path: Path, package: str, modules: set[str]) -> list[tuple[str, str]]:
    """``(module, name)`` for each name imported from a sibling module; name "" for a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == package:
                    found.append((parts[1] if len(parts) > 1 else "__init__", ""))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != package:
                continue
            if len(parts) > 1:
                found += [(parts[1], alias.name) for alias in node.names]
            else:
                # `from helpers import engine` names a module; anything else comes from __init__.
                found += [
                    (alias.name, "") if alias.name in modules else ("__init__", alias.name)
                    for alias in node.names
                ]
    return found


def import_graph(root: Path) -> dict[str, dict[str, set[str]]]:
    """Module -> imported sibling module -> names taken from it ("" for the module itself)."""
    modules = {p.stem for p in root.glob("*.py")}
    graph: dict[str, dict[str, set[str]]] = {m: {} for m in modules}
    for m in modules:
        for target, name in _imports(root / f"{m}.py", root.name, modules):
            if target != m and target in modules:
                graph[m].setdefault(target, set()).add(name)
    return graph


def find_cycle(graph: dict[str, dict[str, set[str]]]) -> list[str] | None:
    """One import cycle as a closed path ``[a, b, ..., a]``, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for target in sorted(graph[m]):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def private_imports(graph: dict[str, dict[str, set[str]]]) -> list[str]:
    """``"a imports b._x"`` for each private name taken across modules."""
    return sorted(
        f"{m} imports {target}.{name}"
        for m, targets in graph.items()
        for target, names in targets.items()
        for name in names
        if name.startswith("_")
    )


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    root.mkdir()
    for name, text in files.items():
        (root / f"{name}.py").write_text(text)
    return root


def test_finds_a_cycle_hidden_in_a_function(tmp_path):
    root = _package(tmp_path, {
        "__init__": "",
        "a": "from pkg import b\n",
        "b": "def f():\n    from pkg.c import g\n",
        "c": "import numpy\n\ndef g():\n    import pkg.a\n",
    })
    assert find_cycle(import_graph(root)) == ["a", "b", "c", "a"]


def test_finds_no_cycle_in_layers(tmp_path):
    root = _package(tmp_path, {
        "__init__": "",
        "a": "from pkg import b, c\n",
        "b": "def f():\n    from pkg.c import g\n",
        "c": "import os\n",
    })
    assert find_cycle(import_graph(root)) is None


def test_finds_private_names_imported_across_modules(tmp_path):
    root = _package(tmp_path, {
        "__init__": "",
        "a": "from pkg.b import _secret, public\n",
        "b": "def _secret(): ...\ndef public(): ...\n",
    })
    assert private_imports(import_graph(root)) == ["a imports b._secret"]


def test_helpers_has_no_import_cycle():
    cycle = find_cycle(import_graph(HELPERS))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_helpers_imports_no_private_name_across_modules():
    assert private_imports(import_graph(HELPERS)) == []



#: Longest a helpers module may be: one idea a maintainer reads in one sitting.
MAX_LINES = 450


def test_no_helpers_module_is_longer_than_the_limit():
    long = {p.name: n for p in HELPERS.glob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split by idea): {long}"
