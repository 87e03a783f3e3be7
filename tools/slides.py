"""One reveal.js deck per chapter, offline: ``python -m tools.slides EXECUTED_DIR OUT_DIR``.

Explained in ``book/workshop.md`` ("Slides"); ``make slides`` runs it on the
chapters the book build executed (``_build/jupyter_execute/notebooks``). The
rule that picks the cells: the chapter's title, its learning objectives, each
``##`` section heading with its first paragraph, every pitfall, every figure
(its output only, its caption as speaker notes) and the key takeaways;
everything else is skipped. Decks are
written with ``nbconvert``'s reveal exporter and a template that loads
reveal.js and MathJax from copies next to the decks (from the installed
``sphinx-revealjs`` and ``sphinx-mathjax-offline`` packages), so a deck opens
with no network.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import sys
from pathlib import Path

import nbformat

REVEAL = "reveal.js"
MATHJAX = "mathjax"
THEME = "white"
OUTPUT_ONLY = "slides-output-only"
ROLE = re.compile(r"\{(?:term|doc|ref|numref|eq)\}`([^`<]*?)\s*(?:<[^>]*>)?`")
CITE = re.compile(r"\s*\{cite(?::\w+)?\}`[^`]*`")
PITFALL = re.compile(r"[`:]{3,}\s*\{admonition\}\s*(Pitfall[^\n]*)\n(.*?)\n?[`:]{3,}\s*$", re.S)

TEMPLATE = """{%- extends 'reveal/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']]},
  options: {enableMenu: false},
};
</script>
<script src="MATHJAX/tex-chtml.js"></script>
{%- endblock html_head_js_mathjax -%}
{% block footer_js %}
<script src="{{ reveal_url_prefix }}/dist/reveal.js"></script>
<script src="{{ reveal_url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({
  controls: true, progress: true, history: true, hash: true,
  transition: "{{ reveal_transition }}",
  width: {{ reveal_width }}, height: {{ reveal_height }},
  plugins: [RevealNotes],
});
Reveal.on('slidechanged', function () {
  if (window.MathJax && MathJax.typesetPromise) { MathJax.typesetPromise(); }
});
</script>
{% endblock footer_js %}
""".replace("MATHJAX", MATHJAX)


def plain_markdown(text: str) -> str:
    """MyST markup that nbconvert cannot render, as plain Markdown (roles to their text, citations dropped)."""
    text = CITE.sub("", text)
    return ROLE.sub(lambda m: m.group(1), text)


def heading_and_first_paragraph(text: str) -> str:
    """The cell's first heading and the paragraph after it."""
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    return "\n\n".join(blocks[:2])


def slide_cell(cell: nbformat.NotebookNode) -> tuple[str, str | None]:
    """``(slide_type, new_source)`` for one cell; ``"skip"`` drops it from the deck."""
    if cell.cell_type == "markdown":
        text = cell.source
        first = text.lstrip().splitlines()[0] if text.strip() else ""
        if "Learning objectives" in text or first.startswith("## Key takeaways"):
            return "slide", plain_markdown(text)
        pitfall = PITFALL.search(text)
        if pitfall:
            title, body = pitfall.groups()
            body = "\n".join(line for line in body.splitlines() if not line.startswith(":"))
            return "subslide", plain_markdown(f"**{title.strip()}**\n\n{body.strip()}")
        if first.startswith("# ") or first.startswith("## "):
            return "slide", plain_markdown(heading_and_first_paragraph(text))
        return "skip", None
    figures = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    if figures:
        return "subslide", None
    return "skip", None


def deck_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with reveal.js slide types set by the rule above; figures keep only their images."""
    out = nbformat.from_dict(dict(nb))
    cells = []
    for cell in out.cells:
        kind, source = slide_cell(cell)
        if kind == "skip":
            continue
        cell = nbformat.from_dict(dict(cell))
        cell.metadata["slideshow"] = {"slide_type": kind}
        if source is not None:
            cell.source = source
        cells.append(cell)
        if cell.cell_type == "code":
            cell.metadata.setdefault("tags", []).append(OUTPUT_ONLY)
            cell.outputs = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
            if caption:  # speaker notes: press S in the deck
                cells.append(nbformat.v4.new_markdown_cell(plain_markdown(caption),
                                                           metadata={"slideshow": {"slide_type": "notes"}}))
    out.cells = cells
    return out


def package_folder(distribution: str, suffix: str) -> Path:
    """The installed folder of ``distribution`` whose path ends with ``suffix``; ValueError when absent."""
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        path = str(file).replace("\\", "/")
        if f"/{suffix}/" in f"/{path}":
            root = path[: path.index(suffix) + len(suffix)]
            return Path(file.locate()).parents[len(Path(path).parts) - len(Path(root).parts) - 1]
    raise ValueError(f"expected {distribution} installed with {suffix}/ (run `make install`), got none")


def copy_assets(out_dir: Path) -> None:
    """reveal.js (dist and notes plugin) and MathJax (TeX to CHTML) next to the decks."""
    reveal = package_folder("sphinx-revealjs", "_static/revealjs")
    # Only the white theme: it loads its font from the copy; "simple" and others fetch web fonts.
    for part in ("dist/reveal.js", "dist/reveal.css", f"dist/theme/{THEME}.css", "dist/theme/fonts/source-sans-pro",
                 "plugin/notes", "LICENSE"):
        source, target = reveal / part, out_dir / REVEAL / part
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.map"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    mathjax = package_folder("sphinx-mathjax-offline", "static/mathjax")
    shutil.copytree(mathjax, out_dir / MATHJAX, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("sre", "*-full*.js", "*svg*.js", "mml-*.js", "node-main.js"))


def write_deck(nb: nbformat.NotebookNode, name: str, out_dir: Path) -> Path:
    """Write the deck of one chapter to ``out_dir/<name>.slides.html``."""
    from jinja2 import DictLoader
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config({"TagRemovePreprocessor": {"enabled": True, "remove_input_tags": [OUTPUT_ONLY]}})
    exporter = SlidesExporter(config=config, extra_loaders=[DictLoader({"offline.html.j2": TEMPLATE})],
                              template_file="offline.html.j2")
    exporter.reveal_url_prefix = REVEAL
    exporter.reveal_theme = THEME
    body, _ = exporter.from_notebook_node(deck_notebook(nb), resources={"metadata": {"name": name}})
    target = out_dir / f"{name}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


def main(argv: list[str]) -> int:
    """Write one deck per notebook of ``argv[0]`` into ``argv[1]``."""
    if len(argv) != 2:
        raise SystemExit("usage: python -m tools.slides EXECUTED_DIR OUT_DIR")
    source, out_dir = Path(argv[0]), Path(argv[1])
    chapters = sorted(source.glob("*.ipynb"))
    if not chapters:
        raise SystemExit(f"no notebooks in {source}: run `make book` first")
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out_dir)
    for path in chapters:
        print(f"wrote {write_deck(nbformat.read(path, as_version=4), path.stem, out_dir)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
