"""The committed chapters: stripped of outputs, and shaped like the book's arc.

Executing them is nbval's job (`pytest --nbval-lax notebooks`) and the book
build's; this file checks what can be checked without a kernel.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    assert CHAPTERS, "no chapters found"
    for path in CHAPTERS:
        assert f"notebooks/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
    assert re.fullmatch(r"\d\d_[a-z_]+", CHAPTERS[0].stem)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    stored = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not stored, f"{path.name}: cells {stored} have stored outputs or execution counts"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_follows_the_arc(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "Learning objectives" in text
    assert re.search(r"\{admonition\} Pitfall", text), "no pitfall admonition"
    assert "## Key takeaways" in text
    assert len(re.findall(r"\{exercise\}", text)) >= 2, "fewer than two exercises"
    # Claims with numbers are backed by asserts that nbval runs.
    checks = [c for c in nb.cells if c.cell_type == "code" and "assert" in c.source]
    assert checks, "no assert cells back the chapter's claims"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_has_a_caption_and_alt_text(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "plt.show()" in cell.source:
            meta = cell.metadata.get("mystnb", {})
            assert meta.get("figure", {}).get("caption"), f"{path.name}: figure without caption:\n{cell.source[:200]}"
            assert meta.get("image", {}).get("alt"), f"{path.name}: figure without alt text:\n{cell.source[:200]}"


def test_book_configuration():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["only_build_toc_files"] is True
    assert config["execute"]["execute_notebooks"] == "cache"
    assert config["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert "sphinx_exercise" in config["sphinx"]["extra_extensions"]
    requirements = (ROOT / "requirements.txt").read_text().strip().splitlines()
    assert requirements[-1] == "-e ."


def test_workshop_timings_cover_every_chapter_in_the_book():
    """book/timings.csv is written by `python benchmarks/run.py chapters`; rerun it when chapters change."""
    import csv

    toc = (ROOT / "_toc.yml").read_text()
    in_book = set(re.findall(r"notebooks/(\d\d_[a-z_]+)", toc))
    with open(ROOT / "book" / "timings.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["chapter"] for r in rows} >= in_book
    assert all(float(r["cold run (s)"]) > 0 for r in rows)


def test_workshop_lists_only_real_exercises():
    workshop = (ROOT / "book" / "workshop.md").read_text()
    labels = set()
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        labels |= {m for c in nb.cells if c.cell_type == "markdown" for m in re.findall(r":label:\s*(ex-\S+)", c.source)}
    cited = set(re.findall(r"\{ref\}`(ex-[^`]+)`", workshop))
    assert cited and cited <= labels, f"workshop cites unknown exercises: {cited - labels}"


def test_which_method_sheet_is_in_the_book_and_linked_from_intro_and_workshop():
    toc = (ROOT / "_toc.yml").read_text()
    assert "book/which_method" in toc
    assert "{doc}`which_method`" in (ROOT / "book" / "intro.md").read_text()
    workshop = (ROOT / "book" / "workshop.md").read_text()
    assert "(which_method.md)" in workshop
    for path in re.findall(r"\]\((\.\./notebooks/[^)]+)\)", (ROOT / "book" / "which_method.md").read_text()):
        assert (ROOT / "book" / path).resolve().is_file(), f"which_method.md links a missing chapter: {path}"


def test_workshop_page_offers_the_student_zip_the_build_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("offline_site", ROOT / "book" / "_ext" / "offline_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert f'href="../{module.STUDENT_ZIP}"' in (ROOT / "book" / "workshop.md").read_text()
