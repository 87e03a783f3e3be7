"""tools.slides: the rule that derives a deck from a chapter, MyST rendered for readers, decks that open offline.

The decks rendered in a browser (fit at 1280 x 720, no raw markup) are tests/test_slides_site.py.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools import slides

ROOT = Path(__file__).resolve().parents[1]
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import\s+["']?(?:https?:)?//""")
# What a reader must never see: MyST roles and directives, fences, Markdown emphasis or links left as text.
RAW = re.compile(r"\{[\w:-]+\}|:class:|:label:|`{3}|:{3}|\*\*|\]\(")
TAKEAWAYS = [f"Takeaway {i} is short. Its detail goes to the notes." for i in range(1, 7)]


def glue_output(name: str, value: str) -> nbformat.NotebookNode:
    """The output myst-nb's ``glue(name, value, display=False)`` leaves in an executed notebook."""
    prefix = "application/papermill.record/"
    return nbformat.v4.new_output("display_data", data={prefix + "text/plain": value},
                                  metadata={"scrapbook": {"name": name, "mime_prefix": prefix}})


def chapter_like() -> nbformat.NotebookNode:
    figure = nbformat.v4.new_code_cell("plt.show()", metadata={"mystnb": {
        "figure": {"caption": "What to see first. Then the {term}`detail <relevance>`."},
        "image": {"alt": "A square."}}})
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]
    printed = nbformat.v4.new_code_cell("print(1)")
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n"), glue_output("auc", "0.91234")]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A chapter\n\nWhy it matters, with $x^2$. A second sentence.\n\nMore detail."),
        nbformat.v4.new_markdown_cell("```{admonition} Learning objectives\n:class: tip\nAfter this you can\n- one\n```"),
        nbformat.v4.new_code_cell("import numpy"),
        nbformat.v4.new_markdown_cell(
            "## A section\n\nThe lead, with a {term}`baseline <baseline>` {cite}`adebayo2018sanity`, "
            "scores {glue:text}`auc:.2f`; see {doc}`02_other`."),
        printed,
        figure,
        nbformat.v4.new_code_cell("plt.show()", metadata={"tags": ["remove-cell"]}, outputs=figure.outputs),
        nbformat.v4.new_markdown_cell("````{admonition} Pitfall: a trap\n:class: warning\nDo **not**.\n\n"
                                      "```python\nx = 1\n```\n````"),
        nbformat.v4.new_markdown_cell("Plain prose is skipped.\n\n## Steps\n\nIt has two steps:\n\n1. one;\n2. two."),
        nbformat.v4.new_markdown_cell("## Exercises\n\n````{exercise} Try it\n:label: ex-try\n\nDo {ref}`ex-try`.\n````"),
        nbformat.v4.new_markdown_cell("## Key takeaways\n\n" + "\n".join(f"- {t}" for t in TAKEAWAYS)),
        nbformat.v4.new_markdown_cell("**Only in JupyterLab**:\n\n- a line the site skips",
                                      metadata={"tags": ["remove-cell", "lab-only"]}),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def context(nb: nbformat.NotebookNode) -> slides.Context:
    labels, titles = slides.references({"01_probe": nb, "02_other": nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# The other chapter")])})
    return slides.Context(slides.glued(nb), slides.bibliography(), labels, titles)


def text(html: str) -> str:
    """What a slide shows, as one line: block elements separated by a space, inline ones joined."""
    spaced = re.sub(r"</?(?:h\d|p|li|ul|ol|div|table|tr|td|th)\b[^>]*>", " ", html)
    return " ".join(re.sub(r"<[^>]+>", "", spaced).split())


def test_the_rule_gives_question_objectives_sections_figures_pitfalls_exercises_and_takeaways():
    nb = chapter_like()
    deck = slides.chapter_slides(nb, context(nb), page="../notebooks/01_probe.html", number=1)
    assert [s.kind for s in deck] == ["title", "objectives", "section", "figure", "pitfall", "section", "list",
                                      "list", "list"]
    title, objectives, section, figure, pitfall, steps, exercises, first, second = deck
    assert text(title.body) == r"Inside the LSTM, chapter 1 A chapter Read the chapter Why it matters, with \(x^2\). A second sentence."
    assert 'href="../notebooks/01_probe.html"' in title.body
    assert text(objectives.body) == "Learning objectives After this you can one"
    assert text(section.body) == ("A section The lead, with a baseline (Adebayo et al. 2018), scores 0.91; "
                                  "see The other chapter.")
    assert f'src="data:image/png;base64,{PNG}"' in figure.body and 'alt="A square."' in figure.body
    assert text(figure.body).endswith("What to see first.") and "detail" in figure.notes
    assert "<strong>not</strong>" in pitfall.body and "x = 1\n</code></pre>" in pitfall.body
    assert text(steps.body) == "Steps It has two steps: one; two." and "<ol>" in steps.body
    assert text(exercises.body) == "Exercises Try it"
    assert text(first.body) == "Key takeaways (1/2) " + " ".join(t.split(". ")[0] + "." for t in TAKEAWAYS[:4])
    assert "Its detail goes to the notes." in first.notes and text(second.body).startswith("Key takeaways (2/2)")
    for slide in deck:
        assert not RAW.search(text(slide.body)), slide.body
        assert "the site skips" not in slide.body + slide.notes


def test_a_lead_that_introduces_something_long_ends_there():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "# T\n\nQ.\n\n## S\n\nThe table:\n\n| a | b |\n|---|---|\n| 1 | 2 |")])
    deck = slides.chapter_slides(nb, context(nb))
    assert text(deck[1].body) == "S The table."  # not "The table:" with nothing after it and "<table" not in deck[1].body


@pytest.mark.parametrize("role", ["{glue:text}`missing:.2f`", "{numfig}`x`"])
def test_markup_the_decks_cannot_render_is_an_error_naming_it(role):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# T\n\nSee {role}.")])
    with pytest.raises(ValueError, match="missing|numfig"):
        slides.chapter_slides(nb, context(nb))


def test_citations_read_as_on_the_site():
    nb = nbformat.v4.new_notebook()
    ctx = context(nb)
    assert ctx.inline("Ismail et al. {cite}`ismail2020benchmarking` show") == "Ismail et al. (2020) show"
    assert ctx.inline("{cite:t}`crabbe2021explaining`") == "Crabbé and van der Schaar (2021)"
    assert ctx.inline("x {cite}`bach2015pixel,arras2017explaining`") == "x (Bach et al. 2015; Arras et al. 2017)"


def test_blocks_keep_nested_fences_whole():
    source = "Para one\nstill one.\n\n````{exercise} E\n:label: e\n\nBody.\n\n```python\nx\n```\n````\n## H\nAfter."
    assert slides.blocks("Intro:\n- a\n- b\n2020. Not a list") == ["Intro:", "- a\n- b\n2020. Not a list"]
    assert slides.blocks("Wrapped in\n2020. Not a list") == ["Wrapped in\n2020. Not a list"]
    assert slides.blocks(source) == ["Para one\nstill one.", source[source.index("````"):source.index("\n## H")],
                                     "## H", "After."]
    found = slides.directive(slides.blocks(source)[1])
    assert (found.name, found.argument, found.options) == ("exercise", "E", {"label": "e"})
    assert found.body.startswith("Body.") and found.body.endswith("```")


SENTENCE = st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta"]), min_size=1, max_size=30).map(
    lambda ws: " ".join(ws).capitalize() + ".")


@given(st.lists(SENTENCE, min_size=1, max_size=12), st.integers(0, 80))
def test_lead_splits_a_paragraph_at_a_sentence_within_its_budget(sentences, budget):
    paragraph = " ".join(sentences)
    shown, rest = slides.lead(paragraph, budget)
    assert " ".join(filter(None, [shown, rest])) == paragraph
    assert shown.endswith(".") and shown.startswith(sentences[0])
    if shown != sentences[0]:  # one sentence always shows, however long
        assert slides.words(shown) <= budget


@given(st.lists(st.text("ab ", min_size=1, max_size=40).filter(str.strip), max_size=20),
       st.integers(1, 80), st.integers(1, 6))
def test_chunks_keep_order_and_limits(items, max_words, max_items):
    groups = slides.chunks(items, max_words, max_items)
    assert [i for g in groups for i in g] == items
    for group in groups:
        assert 1 <= len(group) <= max_items
        assert len(group) == 1 or slides.words(" ".join(group)) <= max_words


def with_glue(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` with a made-up value for every name its prose glues, as if executed."""
    names = {m.split(":")[0] for c in nb.cells if c.cell_type == "markdown"
             for m in re.findall(r"\{glue(?::\w+)?\}`([^`]*)`", c.source)}
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [glue_output(name, "1.0") for name in sorted(names)]
    nb.cells.append(cell)
    return nb


@functools.cache
def book_references() -> tuple[dict[str, str], dict[str, str]]:
    return slides.references({p.stem: nbformat.read(p, as_version=4) for p in (ROOT / "notebooks").glob("*.ipynb")})


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_chapter_gives_a_deck_with_its_parts_and_no_raw_markup(path):
    nb = with_glue(nbformat.read(path, as_version=4))
    labels, titles = book_references()
    deck = slides.chapter_slides(nb, slides.Context(slides.glued(nb), slides.bibliography(), labels, titles))
    kinds = [s.kind for s in deck]
    assert kinds[:2] == ["title", "objectives"] and kinds.count("section") >= 3 and kinds[-1] == "list"
    assert "Key takeaways" in deck[-1].body
    for slide in deck:
        shown = re.sub(r"\\\(.*?\\\)|\\\[.*?\\\]", "", text(slide.body))  # TeX is MathJax's to render
        assert not RAW.search(shown), f"{path.stem}: {RAW.search(shown).group(0)!r} in {shown[:200]}"
        assert slides.words(shown) <= 130, f"{path.stem}: a slide of {slides.words(shown)} words: {shown[:200]}"


def test_the_workshop_page_links_a_deck_per_chapter():
    page = (ROOT / "book" / "workshop.md").read_text()
    missing = [p.stem for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
               if f'href="../slides/{p.stem}.slides.html"' not in page]
    assert not missing, f"book/workshop.md links no deck for {missing}"


def assert_offline(out: Path) -> None:
    for deck in out.glob("*.slides.html"):
        html = deck.read_text()
        assert not REMOTE.search(html), f"{deck.name} loads {REMOTE.search(html).group(0)!r}"
        for local in re.findall(r"""(?:src|href)="((?:reveal\.js|mathjax)/[^"]+)\"""", html):
            assert (out / local).is_file(), f"{deck.name} needs {local}, not in {out}"
    for css in (out / slides.REVEAL).rglob("*.css"):
        assert not REMOTE.search(css.read_text()), f"{css} loads a remote resource"


def test_decks_build_offline_one_per_notebook(tmp_path):
    source = tmp_path / "executed"
    source.mkdir()
    nbformat.write(chapter_like(), source / "01_probe.ipynb")
    real = sorted((ROOT / "notebooks").glob("*.ipynb"))[0]
    nbformat.write(with_glue(nbformat.read(real, as_version=4)), source / real.name)
    out = tmp_path / "slides"
    assert slides.main([str(source), str(out)]) == 0
    decks = sorted(p.name for p in out.glob("*.slides.html"))
    assert decks == sorted(["01_probe.slides.html", f"{real.stem}.slides.html"])
    assert "data:image/png;base64," + PNG in (out / "01_probe.slides.html").read_text()
    assert (out / "reveal.js" / "dist" / "reveal.js").is_file() and (out / "mathjax" / "tex-chtml.js").is_file()
    assert_offline(out)


def test_no_executed_notebooks_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="expected executed notebooks in"):
        slides.main([str(tmp_path), str(tmp_path / "out")])


def test_a_missing_asset_package_is_named():
    with pytest.raises(ValueError, match="expected no-such-dist installed"):
        slides.package_folder("no-such-dist", "static")


def test_glued_values_come_from_the_build_cache_when_the_written_copy_lacks_them(tmp_path):
    # myst-nb writes _build/jupyter_execute without glue outputs; the
    # jupyter-cache keeps them, and the decks must read them from there.
    import nbformat
    from jupyter_cache import get_cache

    from tools.slides import cached_glue

    executed = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('glue("r2", 0.9876, display=False)', execution_count=1)
    cell.outputs = [nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/text/plain": "0.9876"},
        metadata={"scrapbook": {"name": "r2", "mime_prefix": "application/papermill.record/"}},
    )]
    executed.cells = [cell]
    executed.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "chapter.ipynb"
    nbformat.write(executed, path)
    cache_dir = tmp_path / ".jupyter_cache"
    get_cache(str(cache_dir)).cache_notebook_file(str(path), check_validity=False)

    stripped = nbformat.read(path, as_version=4)
    stripped.cells[0].outputs = []
    assert cached_glue(stripped, cache_dir) == {"r2": "0.9876"}
    assert cached_glue(stripped, tmp_path / "no-cache") == {}
    other = nbformat.read(path, as_version=4)
    other.cells[0].source = "x = 1"
    assert cached_glue(other, cache_dir) == {}
