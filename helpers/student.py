"""Generate learner copies of the chapters: solutions become stubs.

Used by the workshop (see ``book/workshop.md``); run as
``python -m helpers.student notebooks student``. Code cells between a
``{solution-start}`` and its ``{solution-end}`` become one cell that raises
``NotImplementedError`` (tagged ``raises-exception``); solution prose is dropped.
Student notebooks are generated, never edited by hand.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

START = re.compile(r"\{solution-start\}\s*(\S+)")
END = re.compile(r"\{solution-end\}")


def solution_blocks(nb: nbformat.NotebookNode) -> dict[str, list[int]]:
    """Map each exercise label to the indices of its solution code cells."""
    blocks: dict[str, list[int]] = {}
    label = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            start, end = START.search(cell.source), END.search(cell.source)
            if start:
                if label is not None:
                    raise ValueError(f"expected {{solution-end}} for {label!r} before cell {i}, got a new start")
                label = start.group(1)
                blocks[label] = []
            if end:
                if label is None:
                    raise ValueError(f"expected a {{solution-start}} before the {{solution-end}} in cell {i}")
                label = None
        elif label is not None and cell.cell_type == "code":
            blocks[label].append(i)
    if label is not None:
        raise ValueError(f"expected a {{solution-end}} for {label!r}, got the end of the notebook")
    return blocks


def stub_cell(label: str) -> nbformat.NotebookNode:
    """The cell a learner fills in for exercise ``label``."""
    source = (
        f"# Exercise {label}: write your solution here, then run the cell.\n"
        f'raise NotImplementedError("exercise {label}: your solution goes here")'
    )
    return nbformat.v4.new_code_cell(
        source, metadata={"tags": ["raises-exception"], "student_stub": label}
    )


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with each solution replaced by one stub and outputs cleared."""
    blocks = solution_blocks(nb)
    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    label = None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and START.search(cell.source):
            label = START.search(cell.source).group(1)
            out.cells.append(stub_cell(label))
            if not blocks[label]:
                out.cells.pop()  # a prose-only solution leaves no stub
            continue
        if label is not None:
            if cell.cell_type == "markdown" and END.search(cell.source):
                label = None
            continue
        cell = nbformat.from_dict(dict(cell))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        out.cells.append(cell)
    return out


def generate(source_dir: Path, target_dir: Path) -> list[Path]:
    """Write a student copy of every ``*.ipynb`` in ``source_dir`` to ``target_dir``."""
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(source_dir.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        target = target_dir / path.name
        nbformat.write(student_version(nb), target)
        written.append(target)
    return written


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python -m helpers.student SOURCE_DIR TARGET_DIR")
    for path in generate(Path(argv[0]), Path(argv[1])):
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
