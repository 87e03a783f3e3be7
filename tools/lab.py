"""Notebook metadata that makes a chapter read in JupyterLab as on the site.

Explained in ``book/setup.md`` ("Reading in JupyterLab"). Two things the
website does not need but JupyterLab does, both stored as metadata only, so
the chapters' text and the site are unchanged:

* ``kernelspec`` and ``language_info`` as the book's kernel reports them.
  JupyterLab writes the running kernel's values into the notebook when it
  connects; if they differ from the file, the notebook is marked modified the
  moment it opens and closing it asks to save.
* Each solution's cells (between ``{solution-start}`` and ``{solution-end}``)
  carry ``jupyter.source_hidden`` / ``outputs_hidden``: jupyterlab-myst
  renders each cell on its own, so the site's dropdown, which spans cells,
  shows in JupyterLab as an empty box above an open solution. Hidden cells
  show as a collapsed bar that opens on a click. The site ignores these keys.

``python -m tools.lab notebooks`` rewrites the chapters; ``--check`` only
lists those that are stale (``tests/test_lab.py`` runs it).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat

from tools.student import END, START


def kernel_metadata() -> dict:
    """The ``kernelspec`` and ``language_info`` this environment's ipykernel reports."""
    from ipykernel.ipkernel import IPythonKernel
    from ipykernel.kernelspec import get_kernel_dict

    spec = get_kernel_dict()
    return {
        "kernelspec": {"display_name": spec["display_name"],
                       "language": spec["language"], "name": "python3"},
        "language_info": copy.deepcopy(IPythonKernel.language_info),
    }


def solution_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of the cells inside each solution, its closing cell included."""
    inside, found = False, []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and START.search(cell.source):
            inside = True
            continue
        if inside:
            found.append(i)
            if cell.cell_type == "markdown" and END.search(cell.source):
                inside = False
    return found


def for_lab(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with the JupyterLab metadata set (cells unchanged)."""
    nb = copy.deepcopy(nb)
    nb.metadata.update(kernel_metadata())
    hidden = set(solution_cells(nb))
    for i, cell in enumerate(nb.cells):
        jupyter = dict(cell.metadata.get("jupyter", {}))
        for key in ("source_hidden", "outputs_hidden"):
            jupyter.pop(key, None)
        if i in hidden:
            jupyter["source_hidden"] = True
            if cell.cell_type == "code":
                jupyter["outputs_hidden"] = True
        if jupyter:
            cell.metadata["jupyter"] = jupyter
        else:
            cell.metadata.pop("jupyter", None)
    return nb


def main(argv: list[str]) -> int:
    check = "--check" in argv
    folders = [Path(a) for a in argv if a != "--check"] or [Path("notebooks")]
    stale = []
    for path in sorted(p for f in folders for p in f.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        new = for_lab(nb)
        if new == nb:
            continue
        stale.append(path)
        if not check:
            nbformat.write(new, path)
    verb = "stale" if check else "updated"
    for path in stale:
        print(f"{verb}: {path}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
