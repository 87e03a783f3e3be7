"""The installed package stands alone: everything `helpers` imports is declared.

`pip install inside-the-lstm-helpers` (Colab, the learners' kit) brings only the
dependencies in pyproject.toml and what they require in turn. A module that
`helpers` imports (at the top or inside a function) must come from that set,
or from the standard library. Book tooling (nbformat, nbconvert, jinja2, yaml)
lives in `tools/`, outside the package, for this reason.
"""

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "helpers"
DIST = "inside-the-lstm-helpers"
# Imported only inside a function that first checks it is running in IPython,
# which then is already loaded; a plain `python` never reaches the import.
ONLY_INSIDE_IPYTHON = {"IPython"}


def imported_top_level_modules(path: Path) -> set[str]:
    """Every top-level module name a file imports, wherever the import sits."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_closure(dist: str) -> set[str]:
    """The distributions `pip install dist` brings: its requirements, recursively."""
    seen, todo = set(), [dist]
    while todo:
        name = _canonical(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" in requirement:
                continue
            todo.append(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0])
    return seen


def test_every_import_of_helpers_is_declared_or_standard_library():
    closure = dependency_closure(DIST)
    provided_by = metadata.packages_distributions()
    undeclared = {}
    for path in sorted(HELPERS.glob("*.py")):
        for module in imported_top_level_modules(path):
            if module in sys.stdlib_module_names or module in {"helpers", "__future__"}:
                continue
            if module in ONLY_INSIDE_IPYTHON:
                continue
            dists = {_canonical(d) for d in provided_by.get(module, [])}
            if not dists & closure:
                undeclared.setdefault(module, []).append(path.name)
    assert not undeclared, f"imported by helpers but not brought by {DIST}'s dependencies: {undeclared}"


@pytest.mark.parametrize("tool", ["first_cell", "repository", "slides", "student", "wheelhouse"])
def test_book_tooling_is_outside_the_installed_package(tool):
    assert not (HELPERS / f"{tool}.py").exists(), f"helpers/{tool}.py belongs in tools/"
    assert (ROOT / "tools" / f"{tool}.py").exists()


def test_the_check_can_fail():
    # pytest is what the tests need and the package must not bring (nbformat,
    # the tooling's, now comes with myst-nb, which the chapters' glue needs).
    assert "pytest" in imported_top_level_modules(Path(__file__))
    assert not {_canonical(d) for d in metadata.packages_distributions()["pytest"]} & dependency_closure(DIST)
