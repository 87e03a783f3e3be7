"""Notebook metadata that makes a chapter read in JupyterLab as on the site.

Explained in ``book/setup.md`` ("Reading in JupyterLab"). What the website
does not need but JupyterLab does. The first two are metadata only; the rest
are markdown cells tagged ``remove-cell`` and ``lab-only``, which myst-nb
skips before parsing (the site, its figure numbers and its warnings are
unchanged) and which this tool rewrites from their sources every run:

* ``kernelspec`` and ``language_info`` as the book's kernel reports them.
  JupyterLab writes the running kernel's values into the notebook when it
  connects; if they differ from the file, the notebook is marked modified the
  moment it opens and closing it asks to save.
* Each solution's cells (between ``{solution-start}`` and ``{solution-end}``)
  carry ``jupyter.source_hidden`` / ``outputs_hidden``: jupyterlab-myst
  renders each cell on its own, so the site's dropdown, which spans cells,
  shows in JupyterLab as an empty box above an open solution. Hidden cells
  show as a collapsed bar that opens on a click. The site ignores these keys.
* After each figure cell, its caption (``mystnb.figure.caption``, numbered as
  the site numbers it): JupyterLab shows no cell metadata.
* At the end, the chapter's glossary terms as a ``{glossary}`` (entries copied
  from ``book/glossary.md``, with the terms those entries use), so each
  ``{term}`` resolves and its card shows the definition.
* At the end, the chapter's references, each as its key, the author-year
  citation and the entry, from ``book/references.bib``: jupyterlab-myst 2.7
  resolves no citation (each shows its key, marked "Citation Not Found").

``python -m tools.lab notebooks`` rewrites the chapters; ``--check`` only
lists those that are stale (``tests/test_lab.py`` runs it).
"""

from __future__ import annotations

import copy
import functools
import re
import sys
from pathlib import Path

import nbformat
import yaml

from tools.student import END, START

ROOT = Path(__file__).resolve().parents[1]
LAB_ONLY = "lab-only"
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]*)`")
TERM = re.compile(r"\{term\}`([^`]*)`")


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


def is_lab_only(cell: nbformat.NotebookNode) -> bool:
    """Whether ``cell`` is one this tool writes for JupyterLab (the site skips it)."""
    return LAB_ONLY in cell.metadata.get("tags", [])


def _lab_cell(cell_id: str, source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(
        source, metadata={"tags": ["remove-cell", LAB_ONLY]})
    cell["id"] = cell_id  # fixed, so that a re-run changes nothing
    return cell


def cited_keys(text: str) -> list[str]:
    """The ``{cite}`` keys in ``text``, first use first, each once."""
    keys = [k.strip() for body in CITE.findall(text) for k in body.split(",")]
    return list(dict.fromkeys(k for k in keys if k))


def term_targets(text: str) -> list[str]:
    """The glossary terms ``{term}`` roles in ``text`` point to (lower case)."""
    found = []
    for body in TERM.findall(text):
        match = re.match(r"^(.+?)<([^<>]+)>$", body)
        found.append((match.group(2) if match else body).strip().lower())
    return list(dict.fromkeys(found))


@functools.cache
def glossary_entries() -> dict[str, str]:
    """Each term of ``book/glossary.md`` (lower case) to its entry as written."""
    text = (ROOT / "book" / "glossary.md").read_text()
    body = re.search(r"^```\{glossary\}\n(.*?)^```", text, re.M | re.S).group(1)
    entries, terms, lines = {}, [], []
    for line in body.splitlines() + [""]:
        if line and not line[0].isspace():
            if lines and any(x.startswith(" ") for x in lines):
                for term in terms:
                    entries[term] = "\n".join(lines).strip("\n")
                terms, lines = [], []
            terms.append(line.strip().lower())
        lines.append(line)
    if terms:
        for term in terms:
            entries[term] = "\n".join(lines).strip("\n")
    return entries


def as_definitions(entry: str) -> str:
    """A ``book/glossary.md`` entry (Sphinx's indented form) as MyST definition
    list items, the only form a ``{glossary}`` in jupyterlab-myst reads."""
    lines = entry.splitlines()
    terms = [line.strip() for line in lines if line and not line[0].isspace()]
    body = lines[len(terms):]
    first = next(i for i, line in enumerate(body) if line.strip())
    body[first] = ": " + body[first].strip()
    return "\n\n".join(t + "\n" + "\n".join(body) for t in terms)


def glossary_for(text: str) -> list[str]:
    """Glossary entries for the terms ``text`` uses and those the entries use."""
    entries, todo, chosen = glossary_entries(), term_targets(text), []
    while todo:
        term = todo.pop(0)
        entry = entries.get(term)
        if entry is None or entry in chosen:
            continue
        chosen.append(entry)
        todo += term_targets(entry)
    order = list(dict.fromkeys(entries.values()))
    return sorted(chosen, key=order.index)  # as book/glossary.md lists them


@functools.cache
def _bibliography():
    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin

    db = parse_file(str(ROOT / "book" / "references.bib"))
    style = find_plugin("pybtex.style.formatting", "unsrt")()
    return db, style


def author_year(key: str) -> str:
    """``Jain and Wallace (2019)``, as the site's author-year citations read."""
    from pybtex.richtext import Text

    db, _ = _bibliography()
    entry = db.entries[key]
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [Text.from_latex(" ".join(p.prelast_names + p.last_names))
             .render_as("text") for p in people]
    if not names:
        who = Text.from_latex(entry.fields.get("title", key)).render_as("text")
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who} ({entry.fields.get('year', 'n.d.')})"


def reference_lines(keys: list[str]) -> list[str]:
    """One markdown line per key: the key, its author-year citation, the entry."""
    db, style = _bibliography()
    formatted = style.format_entries([db.entries[k] for k in keys])
    return [f"- `{e.key}`: **{author_year(e.key)}**. "
            + " ".join(e.text.render_as("markdown").split())
            for e in formatted]


@functools.cache
def chapter_numbers() -> dict[str, int]:
    """Notebook stem to its number on the site (the ``numbered`` part of ``_toc.yml``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    numbers = {}
    for part in toc.get("parts", []):
        if part.get("numbered"):
            for chapter in part.get("chapters", []):
                numbers[Path(chapter["file"]).stem] = len(numbers) + 1
    return numbers


def figure_caption(cell: nbformat.NotebookNode) -> str | None:
    """The caption the site shows under ``cell``'s figure, or None."""
    if cell.cell_type != "code" or {"remove-cell", "remove-output"} & set(
            cell.metadata.get("tags", [])):
        return None
    return cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")


def lab_cells(nb: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose JupyterLab-only cells are written afresh."""
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if not is_lab_only(c)]
    number, out, figures = chapter_numbers().get(stem), [], 0
    for cell in cells:
        out.append(cell)
        caption = figure_caption(cell)
        if caption is None:
            continue
        figures += 1
        name = cell.metadata["mystnb"]["figure"].get("name", f"fig-{figures}")
        label = f"Fig. {number}.{figures}" if number else "Figure"
        out.append(_lab_cell(f"lab-{name}"[:64],
                             f"**{label}** {caption}"))
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    glossary = glossary_for(text)
    if glossary:
        out.append(_lab_cell("lab-glossary", (
            "**Glossary** (shown in JupyterLab only; on the website these "
            "terms link to its Glossary page)\n\n```{glossary}\n"
            + "\n\n".join(map(as_definitions, glossary)) + "\n```")))
    keys = cited_keys(text + "\n" + "\n".join(glossary))
    if keys:
        out.append(_lab_cell("lab-references", (
            "**References** (shown in JupyterLab only, which cannot resolve "
            "a citation: it shows the key, marked \"Citation Not Found\"; on "
            "the website a citation reads as author and year)\n\n"
            + "\n".join(reference_lines(sorted(keys))))))
    nb.cells = out
    return nb


def for_lab(nb: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` (the chapter ``stem``) with the JupyterLab metadata and cells."""
    nb = lab_cells(nb, stem)
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
        new = for_lab(nb, path.stem)
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
