"""Generate learner copies of the chapters: solutions become stubs.

Used by the workshop (see ``book/workshop.md``); run as
``python -m tools.student notebooks student``. Code cells between a
``{solution-start}`` and its ``{solution-end}`` become one cell that raises
``NotImplementedError`` (tagged ``raises-exception``); solution prose is dropped.
``assert`` statements are removed everywhere (they back the book's claims in
the tests, but would give results away and can halt a learner's run on another
CPU or library version); a cell left with nothing but comments is dropped.
``make student`` also packs the copies into one zip for the workshop page.
Student notebooks are generated, never edited by hand.
"""

from __future__ import annotations

import ast
import re
import sys
import zipfile
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


def without_asserts(source: str) -> str:
    """``source`` with every ``assert`` statement removed (a nested one becomes ``pass``)."""
    if "assert" not in source:
        return source
    try:
        tree = ast.parse(source)
    except SyntaxError as error:  # IPython magics: refuse rather than leak an assert
        raise ValueError(f"expected plain Python in a cell with an assert, got {error.msg}:\n{source}") from None
    lines = source.splitlines()
    for node in sorted((n for n in ast.walk(tree) if isinstance(n, ast.Assert)), key=lambda n: -n.lineno):
        first = lines[node.lineno - 1]
        indent = first[: len(first) - len(first.lstrip())]
        if node.col_offset != len(indent):
            raise ValueError(f"expected an assert on a line of its own, got {first.strip()!r}")
        lines[node.lineno - 1 : node.end_lineno] = [] if not indent else [indent + "pass"]
    return "\n".join(lines).strip("\n")


def is_empty_code(source: str) -> bool:
    """True when ``source`` holds only blank lines and comments."""
    return all(not line.strip() or line.strip().startswith("#") for line in source.splitlines())


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
            cell.source = without_asserts(cell.source)
            if is_empty_code(cell.source):
                continue
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


def write_zip(notebooks: list[Path], target: Path, folder: str = "inside-the-lstm-student") -> Path:
    """Pack ``notebooks`` into the zip ``target``, inside one ``folder``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in notebooks:
            archive.write(path, f"{folder}/{path.name}")
    return target


def main(argv: list[str]) -> None:
    """``python -m tools.student SOURCE_DIR TARGET_DIR [ZIP]``."""
    if len(argv) not in (2, 3):
        raise SystemExit("usage: python -m tools.student SOURCE_DIR TARGET_DIR [ZIP]")
    written = generate(Path(argv[0]), Path(argv[1]))
    for path in written:
        print(f"wrote {path}")
    if len(argv) == 3:
        print(f"wrote {write_zip(written, Path(argv[2]))}")


if __name__ == "__main__":
    main(sys.argv[1:])
