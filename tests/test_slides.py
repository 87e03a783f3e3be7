"""tools.slides: the cell rule, and decks that build and open with no network."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tools import slides

ROOT = Path(__file__).resolve().parents[1]
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import\s+["']?(?:https?:)?//""")


def chapter_like() -> nbformat.NotebookNode:
    figure = nbformat.v4.new_code_cell("plt.show()", metadata={"mystnb": {"figure": {"caption": "What to see."}}})
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]
    printed = nbformat.v4.new_code_cell("print(1)")
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A chapter\n\nWhy it matters, with $x^2$.\n\nMore detail."),
        nbformat.v4.new_markdown_cell("**Learning objectives**\n\n- one"),
        nbformat.v4.new_code_cell("import numpy"),
        nbformat.v4.new_markdown_cell("## A section\n\nFirst, with a {term}`baseline <baseline>` {cite}`x`.\n\nSecond."),
        printed,
        figure,
        nbformat.v4.new_markdown_cell("```{admonition} Pitfall: a trap\n:class: warning\nDo not.\n```"),
        nbformat.v4.new_markdown_cell("Plain prose is skipped."),
        nbformat.v4.new_markdown_cell("## Key takeaways\n\n- all of it"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_the_rule_keeps_titles_objectives_sections_figures_pitfalls_and_takeaways():
    deck = slides.deck_notebook(chapter_like())
    kinds = [(c.cell_type, c.metadata["slideshow"]["slide_type"]) for c in deck.cells]
    assert kinds == [("markdown", "slide"), ("markdown", "slide"), ("markdown", "slide"), ("code", "subslide"),
                     ("markdown", "notes"), ("markdown", "subslide"), ("markdown", "slide")]
    text = [c.source for c in deck.cells]
    assert text[0] == "# A chapter\n\nWhy it matters, with $x^2$."
    assert text[2] == "## A section\n\nFirst, with a baseline."
    assert text[5] == "**Pitfall: a trap**\n\nDo not."
    assert deck.cells[3].outputs[0]["data"]["image/png"] == PNG


def assert_offline(out: Path) -> None:
    for deck in out.glob("*.slides.html"):
        html = deck.read_text()
        assert not REMOTE.search(html), f"{deck.name} loads {REMOTE.search(html).group(0)!r}"
        for local in re.findall(r"""(?:src|href)="((?:reveal\.js|mathjax)/[^"]+)\"""", html):
            assert (out / local).is_file(), f"{deck.name} needs {local}, not in {out}"
    for css in (out / slides.REVEAL).rglob("*.css"):
        assert not REMOTE.search(css.read_text()), f"{css} loads a remote resource"


def test_decks_build_offline_from_a_figure_chapter_and_a_real_chapter(tmp_path):
    source = tmp_path / "executed"
    source.mkdir()
    nbformat.write(chapter_like(), source / "00_probe.ipynb")
    real = sorted((ROOT / "notebooks").glob("*.ipynb"))[0]
    nbformat.write(nbformat.read(real, as_version=4), source / real.name)
    out = tmp_path / "slides"
    assert slides.main([str(source), str(out)]) == 0
    decks = sorted(p.name for p in out.glob("*.slides.html"))
    assert decks == ["00_probe.slides.html", f"{real.stem}.slides.html"]
    assert "data:image/png;base64," + PNG in (out / "00_probe.slides.html").read_text()
    assert (out / "reveal.js" / "dist" / "reveal.js").is_file() and (out / "mathjax" / "tex-chtml.js").is_file()
    assert_offline(out)


def test_a_missing_asset_package_is_named():
    with pytest.raises(ValueError, match="expected no-such-dist installed"):
        slides.package_folder("no-such-dist", "static")
