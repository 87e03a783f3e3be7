"""The "which method when" sheet agrees with chapter 7's scoreboard and defines its terms.

The evidence is read, not copied: `book/seed_sweep.csv` (written by
`benchmarks/seed_sweep.py`, the five-seed scoreboard chapter 7 shows) decides
which methods the sheet may recommend and which it must warn against, and
chapter 7's own recommendations table is compared with the sheet's. Each check
is a function returning problems, so the tests can also feed it a broken sheet.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT / "book" / "which_method.md"
SWEEP = ROOT / "book" / "seed_sweep.csv"
CHAPTER_7 = ROOT / "notebooks" / "07_which_to_trust.ipynb"
GLOSSARY = ROOT / "book" / "glossary.md"
ROLE = re.compile(r"\{(\w+)\}`([^`]*)`")


def display(text: str) -> str:
    """Markdown with roles replaced by the text a reader sees."""
    def shown(m: re.Match) -> str:
        target = m.group(2)
        return re.sub(r"\s*<[^>]*>$", "", target) if m.group(1) != "glue:text" else "#"
    return ROLE.sub(shown, text)


def columns(markdown: str) -> list[dict[str, str]]:
    """Each table's body rows as dicts keyed by its header."""
    out, header = [], None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        if re.match(r"^\|[\s|:-]+\|$", line):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if header is None:
            header = [c.lower() for c in cells]
        else:
            out.append(dict(zip(header, cells)))
    return out


def named(text: str, methods: list[str]) -> list[str]:
    """The methods a piece of markdown names, in the order they first appear."""
    shown = display(text)
    found = []
    for name in methods:
        m = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", shown)
        if m:
            found.append((m.start(), name))
    return [name for _, name in sorted(found)]


def scoreboard(sweep: pd.DataFrame, chapter_7: str) -> dict:
    """Five-seed means as chapter 7 reads them: who beats random everywhere, and each metric's leader."""
    metrics = [c for c in sweep.columns if c not in ("seed", "method")]
    # Chapter 7's convention: deletion areas and CPP are better when lower.
    signed = sweep.groupby("method", sort=False)[metrics].mean()
    for m in metrics:
        if m.startswith("deletion") or m == "CPP":
            signed[m] = -signed[m]
    found = re.search(r"scale_dependent = \{([^}]*)\}", chapter_7)
    assert found, "chapter 7 no longer names its scale-dependent metrics (scale_dependent = {...})"
    scale_dependent = set(re.findall(r'"([^"]+)"', found.group(1)))
    others = [a for a in signed.index if a != "random"]
    beats = [a for a in others if (signed.loc[a] > signed.loc["random"]).all()]
    return {
        "methods": list(signed.index),
        "beats_random": beats,
        "fails": [a for a in others if a not in beats],
        "leaders": {m: signed[m].idxmax() for m in metrics if m not in scale_dependent},
    }


def chapter_7_recommendations(chapter_7: str) -> list[dict[str, str]]:
    """Chapter 7's table under "## Recommendations"."""
    part = chapter_7.split("## Recommendations", 1)[1].split("\n## ", 1)[0]
    return columns(part)


def warning_text(markdown: str) -> str:
    """The sheet's admonitions with class warning."""
    blocks = re.findall(r"```\{admonition\}.*?```", markdown, flags=re.S)
    return "\n".join(b for b in blocks if ":class: warning" in b)


def sheet_problems(sheet: str, board: dict, chapter_7: str) -> list[str]:
    """Where the sheet disagrees with the scoreboard or with chapter 7's recommendations."""
    problems = []
    rows = [r for r in columns(sheet) if "use" in r]
    if not rows:
        return ["the sheet has no table with a 'use' column"]
    methods = board["methods"]
    recommended = {name for r in rows for name in named(r["use"], methods)}
    warned = {name for r in rows for name in named(r.get("avoid", ""), methods)}
    warned |= set(named(warning_text(sheet), methods))
    for name in sorted(recommended - set(board["beats_random"])):
        problems.append(f"recommends {name!r}, which does not beat the random map under every metric")
    for metric, leader in board["leaders"].items():
        if leader not in recommended:
            problems.append(f"never recommends {leader!r}, the scoreboard's leader on {metric}")
    truth_leader = board["leaders"]["AUROC"]
    if not any(named(r["use"], methods)[:1] == [truth_leader] for r in rows):
        problems.append(f"no row puts {truth_leader!r}, the best against the planted cells, first")
    for name in board["fails"]:
        if name not in warned:
            problems.append(f"does not warn against {name!r}, which does not beat random under every metric")
    chapter_rows = chapter_7_recommendations(chapter_7)
    for r in chapter_rows:
        for name in named(r.get("use", ""), methods):
            if name not in recommended:
                problems.append(f"chapter 7 recommends {name!r} ({r['question']!r}); the sheet never does")
    overall = [r for r in rows if "overall" in r["you want to know"].lower()]
    across = [r for r in chapter_rows if "across a dataset" in r.get("question", "")]
    if len(overall) != 1 or len(across) != 1:
        problems.append("expected one 'overall' row in the sheet and one 'across a dataset' row in chapter 7")
    elif set(named(overall[0]["use"], methods)) != set(named(across[0]["use"], methods)):
        problems.append(f"features overall: the sheet says {named(overall[0]['use'], methods)}, "
                        f"chapter 7 {named(across[0]['use'], methods)}")
    return problems


def glossary_terms(glossary: str) -> set[str]:
    """Every term the glossary defines (an entry may define several, one per line)."""
    block = glossary.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    return {line.strip() for line in block.splitlines() if line.strip() and not line[0].isspace()}


def term_problems(sheet: str, terms: set[str]) -> list[str]:
    """{term} roles that resolve nowhere, and glossary terms the sheet uses without ever linking."""
    lower = {t.lower() for t in terms}
    targets = set()
    for role, body in ROLE.findall(sheet):
        if role == "term":
            target = (re.search(r"<([^>]*)>$", body) or re.match(r"(.*)", body)).group(1).strip()
            targets.add(target.lower())
    problems = [f"{{term}} {t!r} is not in the glossary" for t in sorted(targets - lower)]
    plain = ROLE.sub(" ", sheet)
    plain = re.sub(r"\]\([^)]*\)", "]", plain)  # link targets are not prose
    for term in sorted(lower, key=len, reverse=True):  # "hidden state" before "state"
        pattern = rf"(?<![\w-]){re.escape(term)}s?(?![\w-])"
        if re.search(pattern, plain, flags=re.I):
            if term not in targets:
                problems.append(f"uses the glossary term {term!r} without linking it once")
            plain = re.sub(pattern, " ", plain, flags=re.I)
    return problems


@pytest.fixture(scope="module")
def texts() -> dict:
    nb = nbformat.read(CHAPTER_7, as_version=4)
    chapter_7 = "\n".join(c.source for c in nb.cells)
    sweep = pd.read_csv(SWEEP, comment="#")
    return {"sheet": SHEET.read_text(), "chapter_7": chapter_7,
            "board": scoreboard(sweep, chapter_7), "terms": glossary_terms(GLOSSARY.read_text())}


def test_the_sweep_has_what_the_sheet_is_checked_against(texts):
    board = texts["board"]
    assert "random" in board["methods"] and len(board["methods"]) >= 10
    assert board["beats_random"] and board["fails"] and "AUROC" in board["leaders"]


def test_the_sheet_agrees_with_the_scoreboard_and_chapter_7(texts):
    assert sheet_problems(texts["sheet"], texts["board"], texts["chapter_7"]) == []


def test_every_term_resolves_and_every_glossary_term_used_is_linked(texts):
    assert term_problems(texts["sheet"], texts["terms"]) == []


# The checks themselves, on sheets broken on purpose.

def broken(texts, old: str, new: str) -> str:
    assert old in texts["sheet"], old
    return texts["sheet"].replace(old, new, 1)


def test_recommending_a_method_that_fails_against_random_is_caught(texts):
    sheet = broken(texts, "| {term}`saliency`, checked", "| {term}`attention weights` and {term}`saliency`, checked")
    problems = sheet_problems(sheet, texts["board"], texts["chapter_7"])
    assert any("recommends 'attention'" in p for p in problems), problems


def test_dropping_the_leader_is_caught(texts):
    sheet = texts["sheet"].replace("{term}`saliency`", "{term}`occlusion`")
    problems = sheet_problems(sheet, texts["board"], texts["chapter_7"])
    assert any("never recommends 'saliency'" in p for p in problems), problems
    assert any("puts 'saliency'" in p for p in problems), problems


def test_a_missing_warning_is_caught(texts):
    sheet = texts["sheet"].replace("hidden-state change", "the state")
    problems = sheet_problems(sheet, texts["board"], texts["chapter_7"])
    assert any("warn against 'hidden-state change'" in p for p in problems), problems


def test_different_advice_on_features_overall_is_caught(texts):
    sheet = broken(texts, "mean \\|{term}`integrated gradients`\\| or \\|{term}`KernelSHAP`\\| per feature",
                   "mean \\|{term}`occlusion`\\| per feature")
    problems = sheet_problems(sheet, texts["board"], texts["chapter_7"])
    assert any(p.startswith("features overall") for p in problems), problems


def test_an_unknown_or_unlinked_term_is_caught(texts):
    sheet = broken(texts, "{term}`signal-take-all`", "{term}`signal take all`")
    assert any("'signal take all' is not in the glossary" in p for p in term_problems(sheet, texts["terms"]))
    sheet = broken(texts, "{term}`signal-take-all`", "signal-take-all")
    assert any("'signal-take-all' without linking" in p for p in term_problems(sheet, texts["terms"]))
