"""Every number in a chapter's prose is computed by the chapter, not typed.

A decimal number or a percentage in a markdown cell must come from the code
through myst-nb's glue (``{glue:text}`name:.2f` ``), so it cannot go stale.
What the text defines itself (a setting, a constant in a defining equation)
is listed in ALLOWED with the reason. See CONTRIBUTING.md, "Numbers in prose".
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tools import lab

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Numbers the text defines itself, per chapter: (number as typed, why allowed).
ALLOWED: dict[str, dict[str, str]] = {
    "01_running_examples": {
        "1.0": "coefficient of the stock target, defined by its equation",
        "0.5": "coefficient of the stock target, defined by its equation",
        "0.6": "coefficient of the stock target, defined by its equation",
        "0.1": "noise scale of the stock target, defined by its equation",
        "1.1": "the article's perturbation factor, a setting it defines",
    },
    "09_learned_masks": {
        "0.781": "ExtremalMask's AUR on HMM state in time_interpret, a quoted published number",
        "0.012": "ExtremalMask's AUR on HMM state in the TIMING paper's re-run, a quoted published number",
        "0.02": "the reproduction's tolerance for IG and occlusion, a target the text sets",
        "0.05": "the reproduction's tolerance for the learned masks, a target the text sets",
    },
    "04_shap": {
        "0.6": "coefficient of the volume term, from the stock target's equation",
        "1.0": "weight of open@t, from the stock target's equation",
        "0.5": "weight of close@t-2 in the target's equation; AUROC's chance "
        "level; the adding baseline's value, set in the code",
        "98%": "the range the code takes: 1st to 99th percentile",
        "0.01": "TimeSHAP's pruning tolerance, a setting the code chooses",
    },
    "05_hidden_states": {
        "0.5": "mean of U[0, 1] in the standardisation the text writes out; "
        "AUROC's chance level",
        "0.1": "saturation threshold (shut), the definition the text adopts",
        "0.9": "saturation threshold (open), the definition the text adopts",
        "0.2": "t / T at step 1: the limit on R² the text derives",
        "0.4": "t / T at step 2: the limit on R² the text derives",
    },
    "06_lstm_relevance": {
        "0.1": "epsilon = 0.1, an LRP rule setting the chapter tries",
    },
    "02_sensitivity": {
        "1.1": "the article's perturbation factor, a setting it defines",
        "0.1": "the perturbation size the chapter sets (size=0.1 std)",
        "1.5": "coefficient of the stock target, defined by its equation",
        "0.5": "stock target coefficient; the adding task's marker "
        "threshold; the AUROC of chance",
    },
    "03_attention": {
        "0.2": "1/5, the uniform weight over five days, defined by its equation",
    },
    "07_which_to_trust": {
        "0.8": "lag-one correlation of the box task's AR(1) background, a "
        "setting (ar_coef=0.8)",
        "0.1": "feature sensitivity's perturbation size, a line-up setting",
        "0.001": "LRP's epsilon, a line-up setting",
        "0.5": "chance level of AUROC and of a random deletion area, by "
        "definition; the sanity check's pass threshold, a setting",
        "1.2": "the removal benchmark's goal, a setting",
        "0.99": "benchmark ratio quoted with its date and machine",
        "0.93": "benchmark ratio quoted with its date and machine",
        "1.28": "benchmark ratio quoted with its date and machine",
    },
    "08_your_model": {
        "0.5": "the sanity check's pass threshold, a setting; chance level "
        "of a random deletion area, by definition",
        "1.5": "size of the planted bump in standard deviations, a setting",
    },
    "10_troubleshooting": {
        "0.1": "TimeSHAP's pruning tolerance, quoted from its error message",
    },
}

# Chapters not yet converted, with the reason; strict, so a mark must go as
# soon as its chapter passes. Empty: every chapter is converted.
PENDING: dict[str, str] = {}

NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?%|(?<![\w.])\d+\.\d+(?![\w])")
# References such as "Fig 2.4" or "Exercise 6.1" name things, not quantities.
REFERENCE = re.compile(
    r"(?:Fig\.?|Figure|figure|Section|section|Exercise|exercise|Table|table"
    r"|chapter|Chapter|§|Python|shap|Keras|version|v)\s*$"
)


FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*(\{[^}]*\})?(.*)$")


def strip_code_fences(markdown: str) -> str:
    """Drop code fences whole; keep a directive's body, drop its fence lines.

    A directive's body ({admonition}, {exercise}, {solution}) is prose the
    reader sees; its options (``:class: tip``) are not.
    """
    kept, stack = [], []  # stack of (fence, is_code)
    for line in markdown.splitlines():
        match = FENCE.match(line)
        if match and stack and match.group(1) == stack[-1][0] \
                and not match.group(2) and not match.group(3).strip():
            stack.pop()
            continue
        if stack and stack[-1][1]:
            continue  # inside code
        if match:
            stack.append((match.group(1), match.group(2) is None))
            continue
        if stack and re.match(r"^\s*:[\w-]+:", line):
            continue  # a directive option
        kept.append(line)
    return "\n".join(kept)


def prose_numbers(markdown: str) -> list[str]:
    """Typed numbers in one markdown cell, after glue roles and code are cut."""
    text = re.sub(r"\{glue(?::\w+)?\}`[^`]*`", " ", markdown)
    text = strip_code_fences(text)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    found = []
    for match in NUMBER.finditer(text):
        if REFERENCE.search(text[max(0, match.start() - 12):match.start()]):
            continue
        found.append(match.group(0).replace(" ", ""))
    return found


def typed_numbers(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    allowed = ALLOWED.get(path.stem, {})
    bad = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or lab.is_lab_only(cell):
            continue  # JupyterLab-only copies of captions and glossary
        for number in prose_numbers(cell.source):
            if number.rstrip("%") not in allowed and number not in allowed:
                bad.append(f"cell {index}: {number}")
    return bad


def test_prose_numbers_finds_typed_and_skips_glued():
    cell = (
        "R² is {glue:text}`r2:.3f`, the baseline 0.42 and 17% of it; "
        "see Fig 2.4 and `perturbation_size=0.1`, $x = 0.5$."
    )
    assert prose_numbers(cell) == ["0.42", "17%", "0.5"]


def test_prose_numbers_reads_directive_bodies_not_code():
    cell = (
        "```{admonition} Pitfall\n:class: tip\nIt fails 25% of the time.\n"
        "```\n\n```python\nsize = 0.37\n```\n"
    )
    assert prose_numbers(cell) == ["25%"]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            p,
            marks=pytest.mark.xfail(strict=True, reason=PENDING[p.stem]),
        )
        if p.stem in PENDING
        else p
        for p in CHAPTERS
    ],
    ids=lambda p: p.stem,
)
def test_every_prose_number_is_glued(path):
    bad = typed_numbers(path)
    assert not bad, (
        f"{path.name}: typed numbers in the prose (glue them from the code, "
        f"or add a definition to ALLOWED with a reason): {bad}"
    )


def glued_names(code: str) -> list[re.Pattern]:
    """Names glued in code, as patterns: an f-string name matches any fill."""
    patterns = []
    for fstring, name in re.findall(
        r"""glue\(\s*(f?)["']([^"']+)["']""", code
    ):
        parts = re.split(r"\{[^}]*\}", name) if fstring else [name]
        patterns.append(
            re.compile("[\\w-]+".join(re.escape(p) for p in parts) + "$")
        )
    return patterns


def test_glued_names_match_plain_and_fstring_glue():
    code = 'glue("r2", 1)\nfor k in ks:\n    glue(f"del_{k}", 2)'
    patterns = glued_names(code)
    assert any(p.match("del_fs") for p in patterns)
    assert any(p.match("r2") for p in patterns)
    assert not any(p.match("ins_fs") for p in patterns)


def test_glued_names_are_defined_in_the_chapter():
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        patterns = glued_names(code)
        used = set(re.findall(r"\{glue(?::\w+)?\}`([\w-]+)", md))
        for name in used:
            assert any(p.match(name) for p in patterns), (
                f"{path.name}: {{glue}} {name!r} is never glued in a code cell"
            )
