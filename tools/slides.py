"""One reveal.js deck per chapter, offline: ``python -m tools.slides EXECUTED_DIR OUT_DIR``.

Explained in ``book/workshop.md`` ("Slides"); ``make book`` runs it on the
chapters the book build executed (``_build/jupyter_execute/notebooks``) and
writes the decks into the site (``_build/html/slides``). The decks are derived
from the chapters, so they stay in sync with them; one idea per slide:

- the question: the chapter's title and the first sentences of its opening;
- the learning objectives, as a box;
- per ``##`` section, the method: its heading and its lead (the first
  sentences of its first paragraph; the rest of the paragraph becomes speaker
  notes), then one slide per figure (the executed chapter's own PNG, the
  caption's first sentence under it, the whole caption in the notes) and one
  per pitfall;
- the exercises, by title, for the hands-on part;
- the key takeaways, each by its first sentence, a few per slide.

MyST markup is rendered for a reader, never shown raw: ``{glue:text}`` roles
become the value glued in the executed notebook, formatted as the chapter
formats it; ``{term}``, ``{doc}`` and ``{ref}`` become their text (a page's
title, an exercise's title); ``{cite}`` becomes "(Author year)" from
``book/references.bib``. reveal.js and MathJax are copied next to the decks
(from the installed ``sphinx-revealjs`` and ``sphinx-mathjax-offline``
packages), so a deck opens with no network. ``tests/test_slides_site.py``
renders every slide in Chromium at 1280 x 720 and fails on overflow or raw
syntax.
"""

from __future__ import annotations

import base64
import functools
import html
import importlib.metadata
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "book" / "references.bib"
REVEAL = "reveal.js"
MATHJAX = "mathjax"
THEME = "white"
WIDTH, HEIGHT = 1280, 720
#: Text budgets, in words, that keep a slide inside 1280 x 720 at the deck's font size.
LEAD_WORDS, LIST_WORDS, LIST_ITEMS, BOX_WORDS = 60, 70, 4, 80
SKIPPED_SECTIONS = ("Exercises", "Key takeaways", "References")
ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
LABELLED = re.compile(r"^(.*?)\s*<([^>]*)>$", re.S)
FENCE = re.compile(r"^\s*([`:]{3,})\s*(\{[\w:-]+\})?\s*(.*)$")
# A sentence ends at . ! or ?, perhaps closing emphasis ("**Truth.** Does ..."), before a capital.
SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?]\*)|(?<=[.!?]\*\*))\s+(?=[A-Z*_`\"])")
LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s+")
INTERRUPTS = re.compile(r"^(?:[-*+]|1[.)])\s+")


@dataclass
class Slide:
    """One ``<section>`` of a deck: its inner HTML, its class and its speaker notes (HTML)."""

    body: str
    kind: str
    notes: str = ""


@dataclass
class Directive:
    """A fenced MyST directive: ``name`` (``admonition``, ``exercise``, ...), its argument, options and body."""

    name: str
    argument: str
    options: dict[str, str]
    body: str


def blocks(text: str) -> list[str]:
    """Top-level Markdown blocks of ``text``: headings, fenced blocks (kept whole), and runs of non-blank lines."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence:
            marker = fence.group(1)
            j = i + 1
            while j < len(lines) and not re.fullmatch(rf"\s*{re.escape(marker[0])}{{{len(marker)},}}\s*", lines[j]):
                j += 1
            out.append("\n".join(lines[i : j + 1]))
            i = j + 1
        elif line.startswith("#"):
            out.append(line)
            i += 1
        elif not line.strip():
            i += 1
        else:
            j = i + 1
            # A list starting right under a paragraph line is its own block, as in CommonMark.
            while (j < len(lines) and lines[j].strip() and not lines[j].startswith("#") and not FENCE.match(lines[j])
                   and (is_list(lines[i]) or not INTERRUPTS.match(lines[j]))):
                j += 1
            out.append("\n".join(lines[i:j]))
            i = j
    return out


def directive(block: str) -> Directive | None:
    """The directive a fenced block holds, or None for anything else (a code fence included)."""
    lines = block.splitlines()
    match = FENCE.match(lines[0]) if lines else None
    if not match or not match.group(2):
        return None
    body = lines[1:-1] if len(lines) > 1 and re.fullmatch(r"\s*[`:]{3,}\s*", lines[-1]) else lines[1:]
    options = {}
    while body and re.match(r"^:[\w-]+:", body[0]):
        key, _, value = body.pop(0)[1:].partition(":")
        options[key] = value.strip()
    return Directive(match.group(2).strip("{}"), match.group(3).strip(), options, "\n".join(body).strip())


def glued(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Every value the executed ``nb`` glued (myst-nb's ``glue``), as its ``text/plain`` repr, by name."""
    values = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if not record:
                continue
            prefix = record.get("mime_prefix", "")
            text = output.get("data", {}).get(prefix + "text/plain")
            if text is not None:
                values[record["name"]] = text
    return values


@functools.lru_cache(maxsize=4)
def bibliography(path: Path = BIB) -> dict[str, tuple[str, str]]:
    """``key -> (authors, year)`` for every entry of ``references.bib``, authors as the book cites them."""
    from pybtex.database import parse_file
    from pybtex.richtext import Text

    def plain(latex: str) -> str:
        return Text.from_latex(latex).render_as("text")

    entries = {}
    for key, entry in parse_file(str(path)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [plain(" ".join(p.prelast_names + p.last_names)) for p in people]
        if not names:
            authors = plain(entry.fields.get("title", key))
        elif len(names) == 1:
            authors = names[0]
        elif len(names) == 2:
            authors = f"{names[0]} and {names[1]}"
        else:
            authors = f"{names[0]} et al."
        entries[key] = (authors, entry.fields.get("year", "n.d."))
    return entries


class Context:
    """What the roles of one chapter resolve against: its glued values, the bibliography, labels and page titles."""

    def __init__(self, glue: dict[str, str], bib: dict[str, tuple[str, str]], labels: dict[str, str],
                 titles: dict[str, str]):
        self.glue, self.bib, self.labels, self.titles = glue, bib, labels, titles

    def role(self, match: re.Match) -> str:
        """The reader's text for one ``{name}`content``` role; ValueError for a role the decks do not know."""
        name, content = match.groups()
        labelled = LABELLED.match(content)
        text, target = (labelled.group(1), labelled.group(2)) if labelled else ("", content)
        if name.startswith("glue"):
            from myst_nb.core.variables import format_plain_text

            key, _, spec = target.partition(":")
            if key not in self.glue:
                raise ValueError(f"expected a glued value {key!r} in the executed chapter, got none")
            return format_plain_text(self.glue[key], spec)
        if name.startswith("cite"):
            cited = [self.bib.get(k.strip(), (k.strip(), "")) for k in target.split(",")]
            before = " ".join(match.string[: match.start()].split())
            if len(cited) == 1 and before.endswith(cited[0][0]):
                return f"({cited[0][1]})"  # "Ismail et al. {cite}`x`": the prose already names them
            if name == "cite:t":
                return "; ".join(f"{a} ({y})" for a, y in cited)
            return "(" + "; ".join(f"{a} {y}".strip() for a, y in cited) + ")"
        if name in ("term", "math"):
            return text or target
        if name in ("doc", "ref", "numref", "eq"):
            return text or self.titles.get(Path(target).name) or self.labels.get(target) or target
        raise ValueError(f"expected a role the slides know (glue, cite, term, doc, ref), got {{{name}}}")

    def inline(self, text: str) -> str:
        """``text`` with every MyST role replaced by what a reader of the site sees."""
        return ROLE.sub(self.role, text)


def _markdown():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    def math(content: str, options: dict) -> str:
        # MathJax typesets \( \) and \[ \] in the browser; the TeX stays escaped until then.
        left, right = (r"\[", r"\]") if options.get("display_mode") else (r"\(", r"\)")
        return left + html.escape(content) + right

    return MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, double_inline=True, renderer=math)


MARKDOWN = _markdown()


def to_html(text: str, inline: bool = False) -> str:
    """Markdown (roles already replaced) as HTML; ``inline`` drops the paragraph around one line."""
    return MARKDOWN.renderInline(text) if inline else MARKDOWN.render(text)


def words(text: str) -> int:
    """How many words ``text`` shows: the budget unit of a slide."""
    return len(text.split())


def lead(paragraph: str, budget: int = LEAD_WORDS) -> tuple[str, str]:
    """``(lead, rest)``: the paragraph's first sentences (at least one, then up to ``budget`` words), and the rest."""
    sentences = SENTENCE_END.split(" ".join(paragraph.split()))
    taken = [sentences[0]]
    for sentence in sentences[1:]:
        if words(" ".join(taken)) >= budget / 2 or words(" ".join([*taken, sentence])) > budget:
            break
        taken.append(sentence)
    return " ".join(taken), " ".join(sentences[len(taken):])


def list_items(block: str) -> list[str]:
    """The items of a Markdown list block, each joined onto one line."""
    items: list[str] = []
    for line in block.splitlines():
        if LIST_ITEM.match(line):
            items.append(LIST_ITEM.sub("", line, count=1).strip())
        elif items and line.strip():
            items[-1] += " " + line.strip()
    return items


def is_list(block: str) -> bool:
    """Whether ``block`` is a Markdown list."""
    return bool(LIST_ITEM.match(block))


def chunks(items: list[str], max_words: int = LIST_WORDS, max_items: int = LIST_ITEMS) -> list[list[str]]:
    """``items`` in consecutive groups of at most ``max_items`` and (unless one item alone) ``max_words``."""
    groups: list[list[str]] = [[]]
    for item in items:
        group = groups[-1]
        if group and (len(group) >= max_items or words(" ".join([*group, item])) > max_words):
            groups.append([])
        groups[-1].append(item)
    return [g for g in groups if g]


def bullet_list(items: list[str], ordered: bool = False) -> str:
    """An HTML list of Markdown items."""
    tag = "ol" if ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{to_html(i, inline=True)}</li>" for i in items) + f"</{tag}>"


def figure(cell: nbformat.NotebookNode, heading: str, ctx: Context) -> Slide | None:
    """The slide of a figure cell (its PNG, alt text and caption), or None when the cell drew none."""
    pngs = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    if not pngs:
        return None
    meta = cell.metadata.get("mystnb", {})
    caption = ctx.inline(meta.get("figure", {}).get("caption", ""))
    alt = ctx.inline(meta.get("image", {}).get("alt", "")) or lead(caption)[0] or heading
    png = pngs[-1].replace("\n", "") if isinstance(pngs[-1], str) else base64.b64encode(pngs[-1]).decode()
    first = lead(caption, budget=0)[0] if caption else ""
    body = (f"<h3>{to_html(heading, inline=True)}</h3>"
            f'<img class="figure" alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'
            + (f'<p class="caption">{to_html(first, inline=True)}</p>' if first else ""))
    return Slide(body, "figure", to_html(caption) if caption else "")


def box(title: str, body: str, kind: str, ctx: Context) -> Slide:
    """An admonition as a styled box: its title and body; a long body by first sentences, whole in the notes."""
    text = ctx.inline(body)
    parts = [b for b in blocks(text) if directive(b) is None]
    if words(text) > BOX_WORDS:
        parts = [bullet_list([lead(i, budget=0)[0] for i in list_items(b)], ordered=bool(re.match(r"\d", b)))
                 if is_list(b) else to_html(lead(b, budget=0)[0]) for b in parts if not b.startswith(("```", "|"))]
    else:
        parts = [to_html(b) for b in parts]
    notes = to_html(text) if words(text) > BOX_WORDS else ""
    return Slide(f'<div class="box {kind}"><p class="box-title">{to_html(title, inline=True)}</p>'
                 + "".join(parts) + "</div>", kind, notes)


def settle(slide: Slide | None, block: str | None, ctx: Context) -> None:
    """Finish a lead that ends with ":": show the list it introduces if short, else end the sentence there."""
    if slide is None:
        return None
    shown = re.sub(r"<[^>]+>", " ", slide.body)
    if block is not None and is_list(block) and words(shown) + words(block) <= LEAD_WORDS + LIST_WORDS:
        slide.body += bullet_list(list_items(ctx.inline(block)), ordered=bool(re.match(r"\d", block)))
    else:
        slide.body = re.sub(r":</p>$", ".</p>", slide.body)
    return None


def chapter_slides(nb: nbformat.NotebookNode, ctx: Context, page: str = "", number: int | None = None) -> list[Slide]:
    """The deck of one executed chapter, by the rule in this module's docstring.

    ``page`` is the chapter's web page relative to the deck (a "Read the chapter" link), or "";
    ``number`` the chapter's number, shown above its title.
    """
    kicker = "Inside the LSTM" + (f", chapter {number}" if number is not None else "")
    slides: list[Slide] = []
    section = ""  # the current ## heading ("" before the first one)
    wants_lead = False
    takeaways: list[str] = []
    exercises: list[str] = []
    introduces: Slide | None = None  # a slide whose lead ends with ":", waiting for its list
    for cell in nb.cells:
        if cell.cell_type == "code":
            introduces = settle(introduces, None, ctx)
            hidden = {"remove-cell", "remove-output"} & set(cell.metadata.get("tags", []))
            if section and section not in SKIPPED_SECTIONS and not hidden:  # what the site shows, no more
                slide = figure(cell, section, ctx)
                if slide is not None:
                    slides.append(slide)
            continue
        if cell.cell_type != "markdown" or "remove-cell" in cell.metadata.get("tags", []):
            continue  # the site skips it (tools/lab.py's JupyterLab-only cells)
        for block in blocks(cell.source):
            introduces = settle(introduces, block, ctx)
            heading = re.match(r"^(#{1,6})\s+(.*)$", block)
            found = directive(block)
            if heading and len(heading.group(1)) == 1 and not slides:
                title = ctx.inline(heading.group(2))
                link = f'<p class="read"><a href="{page}">Read the chapter</a></p>' if page else ""
                slides.append(Slide(f'<p class="kicker">{kicker}</p><h1>{to_html(title, inline=True)}</h1>{link}',
                                    "title"))
                wants_lead = True
            elif heading and len(heading.group(1)) == 2:
                section = ctx.inline(heading.group(2)).strip()
                wants_lead = section not in SKIPPED_SECTIONS
                if wants_lead:
                    slides.append(Slide(f"<h2>{to_html(section, inline=True)}</h2>", "section"))
            elif found is not None:
                title = found.argument
                if found.name == "admonition" and title.startswith("Learning objective"):
                    slides.append(box(title, found.body, "objectives", ctx))
                elif found.name == "admonition" and title.startswith("Pitfall") and section not in SKIPPED_SECTIONS:
                    slides.append(box(title, found.body, "pitfall", ctx))
                elif found.name == "exercise":
                    exercises.append(ctx.inline(title))
            elif section == "Key takeaways" and is_list(block):
                takeaways.extend(list_items(ctx.inline(block)))
            elif wants_lead and not heading and not is_list(block) and not block.lstrip().startswith(("|", "<", "$$")):
                shown, rest = lead(ctx.inline(block))
                # The chapter's question sits under its title; a section's lead under its heading.
                slides[-1].body += f'<p class="lead">{to_html(shown, inline=True)}</p>'
                slides[-1].notes = to_html(rest) if rest else ""
                wants_lead = False
                # A title slide asks the question only; a section's lead may show the list it introduces.
                introduces = slides[-1] if shown.endswith(":") and not rest else None
                if introduces is not None and introduces.kind == "title":
                    introduces = settle(introduces, None, ctx)
    settle(introduces, None, ctx)
    if exercises:
        slides.append(Slide("<h2>Exercises</h2>" + bullet_list(exercises, ordered=True), "list",
                            "<p>Hands-on: the exercises are in the chapter, solutions hidden below each.</p>"))
    groups = chunks([lead(t, budget=0)[0] for t in takeaways])
    for n, group in enumerate(groups, 1):
        numbered = f" ({n}/{len(groups)})" if len(groups) > 1 else ""
        start = sum(len(g) for g in groups[: n - 1])
        notes = bullet_list(takeaways[start : start + len(group)])
        slides.append(Slide(f"<h2>Key takeaways{numbered}</h2>" + bullet_list(group), "list", notes))
    return slides


STYLE = """
:root { --r-main-font-size: 30px; }
.reveal h1, .reveal h2, .reveal h3 { text-transform: none; }
.reveal p.kicker { font-size: 0.8em; color: #555; }
.reveal h1 { font-size: 1.9em; } .reveal h2 { font-size: 1.45em; } .reveal h3 { font-size: 1.0em; }
.reveal p, .reveal li { text-align: left; line-height: 1.3; }
.reveal section.title h1, .reveal section.title p { text-align: center; }
.reveal p.lead { font-size: 1.05em; }
.reveal section.section h2 { margin-bottom: 0.8em; }
.reveal img.figure { display: block; margin: 0.2em auto; max-width: 100%; max-height: 530px; }
.reveal section.figure h3 { margin: 0 0 0.2em; }
.reveal p.caption { font-size: 0.72em; text-align: center; color: #333; margin: 0.3em 0 0; }
.reveal .box { border-left: 10px solid #1a6fb0; background: #eef4fa; padding: 0.4em 1em; font-size: 0.9em; }
.reveal .box.pitfall { border-color: #b5451b; background: #fbf0ea; }
.reveal .box-title { font-weight: bold; margin: 0.2em 0 0.4em; }
.reveal ul, .reveal ol { display: block; margin-left: 1.2em; }
.reveal li { margin: 0.25em 0; }
.reveal code { font-size: 0.9em; background: #f3f3f3; padding: 0 0.15em; }
.reveal a { color: #1a5c99; text-decoration: underline; }
"""


def page(title: str, slides: list[Slide]) -> str:
    """A self-contained reveal.js deck (assets relative to it) of ``slides``."""
    sections = "\n".join(
        f'<section class="{s.kind}">{s.body}'
        + (f'<aside class="notes">{s.notes}</aside>' if s.notes else "") + "</section>"
        for s in slides
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} (slides)</title>
<link rel="stylesheet" href="{REVEAL}/dist/reveal.css">
<link rel="stylesheet" href="{REVEAL}/dist/theme/{THEME}.css">
<style>{STYLE}</style>
<script>
window.MathJax = {{
  tex: {{inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']]}},
  options: {{enableMenu: false}},
}};
</script>
<script src="{MATHJAX}/tex-chtml.js"></script>
</head>
<body>
<div class="reveal"><div class="slides">
{sections}
</div></div>
<script src="{REVEAL}/dist/reveal.js"></script>
<script src="{REVEAL}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({{
  controls: true, progress: true, history: true, hash: true, center: true,
  width: {WIDTH}, height: {HEIGHT}, plugins: [RevealNotes],
}});
</script>
</body>
</html>
"""


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


def title_of(nb: nbformat.NotebookNode) -> str:
    """The chapter's ``#`` heading, roles left as written (for labels and page titles)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def references(chapters: dict[str, nbformat.NotebookNode]) -> tuple[dict[str, str], dict[str, str]]:
    """``(labels, titles)``: exercise labels to their titles, page names to their titles (chapters and book/)."""
    labels, titles = {}, {}
    for stem, nb in chapters.items():
        titles[stem] = title_of(nb)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for block in blocks(cell.source):
                found = directive(block)
                if found is not None and found.name == "exercise" and "label" in found.options:
                    labels[found.options["label"]] = found.argument
    for md in (ROOT / "book").glob("*.md"):
        first = next((line[2:].strip() for line in md.read_text().splitlines() if line.startswith("# ")), md.stem)
        titles.setdefault(md.stem, first)
    return labels, titles


def cached_glue(nb: nbformat.NotebookNode, cache: Path) -> dict[str, str]:
    """The values ``nb`` glued, read from the book build's jupyter-cache.

    myst-nb moves glued values out of the notebooks it writes to
    ``_build/jupyter_execute``; the cache keeps the executed notebook whole.
    Empty when the cache is absent or holds no run of this notebook's code.
    """
    if not cache.is_dir():
        return {}
    from jupyter_cache import get_cache

    try:
        record = get_cache(str(cache)).match_cache_notebook(nb)
    except KeyError:
        return {}
    return glued(get_cache(str(cache)).get_cache_bundle(record.pk).nb)


def write_decks(source: Path, out_dir: Path, site_pages: str = "../notebooks",
                cache: Path | None = None) -> list[Path]:
    """One deck per notebook of ``source`` in ``out_dir/<stem>.slides.html``, with reveal.js and MathJax beside them.

    ``site_pages`` is where the chapters' web pages sit relative to the decks.
    Glued values come from the notebooks themselves and from the build's
    jupyter-cache (``cache``, by default ``_build/.jupyter_cache`` beside
    ``_build/jupyter_execute/notebooks``).
    """
    if cache is None:
        cache = source.resolve().parents[1] / ".jupyter_cache"
    paths = sorted(source.glob("*.ipynb"))
    if not paths:
        raise ValueError(f"expected executed notebooks in {source} (run `make book`), got none")
    chapters = {p.stem: nbformat.read(p, as_version=4) for p in paths}
    labels, titles = references(chapters)
    bib = bibliography()
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out_dir)
    written = []
    for stem, nb in chapters.items():
        ctx = Context({**cached_glue(nb, cache), **glued(nb)}, bib, labels, titles)
        number = int(stem[:2]) if stem[:2].isdigit() else None
        slides = chapter_slides(nb, ctx, page=f"{site_pages}/{stem}.html" if site_pages else "", number=number)
        target = out_dir / f"{stem}.slides.html"
        target.write_text(page(re.sub(r"[*`]", "", ctx.inline(title_of(nb))) or stem, slides), encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    """Write one deck per notebook of ``argv[0]`` into ``argv[1]``."""
    if len(argv) != 2:
        raise SystemExit("usage: python -m tools.slides EXECUTED_DIR OUT_DIR")
    try:
        written = write_decks(Path(argv[0]), Path(argv[1]))
    except ValueError as error:
        raise SystemExit(str(error)) from None
    print(f"wrote {len(written)} decks into {argv[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
