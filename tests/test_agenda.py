"""The workshop agenda (`book/workshop.md`) covers every section of what it schedules, and its minutes add up.

For every chapter a slot schedules, each `##` section of the notebook is marked
present, hands-on or skip exactly once, and no section is named that the
chapter does not have. An exercise assigned in a slot must not depend on a
skipped section (the section where the helpers it calls are first used). Each
agenda's slot minutes (talk, hands-on, buffer, break) add up to the slot and
the session; the buffer is at least ten minutes; the set-up slot's hands-on
time allows two runs of the set-up check as measured by
`benchmarks/bench_setup.py` (`book/setup_timing.csv`); every slot has a
question for the room; every scheduled chapter has instructor notes. The
checks are one function returning problems, also run on agendas broken on
purpose.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKSHOP = ROOT / "book" / "workshop.md"
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SESSION = 180  # minutes: the page offers a three-hour workshop
MIN_BUFFER = 10  # minutes of slack per agenda
SETUP_RUNS = 2  # the set-up check once, and again after a fix
MINUTES = ("talk", "hands-on", "buffer", "break")
HEADER = "| time | slot | talk | hands-on | buffer | break | run (s) |"
LABELS = ("Present", "Hands-on", "Skip", "Ask")
ITALIC = re.compile(r"(?<![*\w])\*(?!\*)([^*]+?)\*(?![*\w])")


def clock(text: str) -> int:
    hours, minutes = text.split(":")
    return 60 * int(hours) + int(minutes)


def agendas(page: str) -> list[list[dict]]:
    """Every agenda table: its rows as dicts, the total row last."""
    tables, lines = [], page.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != HEADER:
            continue
        rows = []
        for row in lines[i + 2:]:
            if not row.startswith("|"):
                break
            cells = [c.strip() for c in row.strip("|").split("|")]
            start, end = (clock(t) for t in cells[0].split("-"))
            entry = {"start": start, "end": end, "slot": cells[1], "run": cells[6]}
            entry.update({name: int(cells[2 + k]) for k, name in enumerate(MINUTES)})
            rows.append(entry)
        tables.append(rows)
    return tables


def slot_details(page: str) -> dict[str, dict[str, str]]:
    """Each slot's `**title**` paragraph and its `- **Label:** text` bullets, whitespace collapsed."""
    details, lines = {}, page.splitlines()
    for i, line in enumerate(lines):
        title = re.fullmatch(r"\*\*([^*]+)\*\*", line.strip())
        if not title or i + 1 >= len(lines) or not lines[i + 1].startswith("- **"):
            continue
        bullets, current = {}, None
        for row in lines[i + 1:]:
            if not row.strip():
                break
            label = re.match(r"- \*\*([\w-]+):\*\*\s*(.*)", row)
            if label:
                current = label.group(1)
                bullets[current] = label.group(2)
            elif current:
                bullets[current] += " " + row.strip()
        details[title.group(1)] = bullets
    return details


def chapter_facts() -> dict[str, dict]:
    """Per chapter number: its `##` headings, its exercises' texts, and the section where each helper is first used."""
    helper_functions = {m.group(1) for path in (ROOT / "helpers").glob("*.py")
                        for m in re.finditer(r"^def ([a-z]\w*)\(", path.read_text(), re.M)}
    facts = {}
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        headings, exercises, first_use, section = [], {}, {}, None
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("## "):
                        section = line[3:].strip()
                        headings.append(section)
                label = re.search(r":label:\s*(ex-\S+)", cell.source)
                if label:
                    exercises[label.group(1)] = cell.source
            elif section not in (None, "Exercises"):
                for name in helper_functions:
                    if name not in first_use and re.search(rf"\b{name}\(", cell.source):
                        first_use[name] = section
        facts[path.stem[:2].lstrip("0")] = {
            "stem": path.stem, "headings": headings, "exercises": exercises,
            "first_use": first_use, "helpers": helper_functions,
        }
    return facts


def measured_runs() -> dict[str, str]:
    with open(ROOT / "book" / "timings.csv") as f:
        return {r["chapter"]: r["cold run (s)"] for r in csv.DictReader(f)}


def setup_seconds() -> float:
    with open(ROOT / "book" / "setup_timing.csv") as f:
        return float(next(csv.DictReader(f))["cold run (s)"])


def instructor_notes(page: str) -> set[str]:
    notes = page.split("## Instructor notes", 1)[-1].split("\n## ", 1)[0]
    return set(re.findall(r"^\*\*Chapter (\d+)\b", notes, re.M))


def chapter_notes(page: str, number: str) -> str:
    """One chapter's paragraph of instructor notes (empty if it has none)."""
    notes = page.split("## Instructor notes", 1)[-1].split("\n## ", 1)[0]
    found = re.search(rf"^\*\*Chapter {number}\b.*?(?=\n\n|\Z)", notes, re.M | re.S)
    return found.group(0) if found else ""


def minute_problems(table: list[dict], setup: float, session: int | None) -> list[str]:
    problems, *slots, total = [[], *table]
    name = f"agenda ending {total['end'] // 60}:{total['end'] % 60:02d}"
    if total["slot"] != "total":
        return [f"{name}: the last row is not the total"]
    for before, after in zip([None, *slots], slots):
        if (before["end"] if before else 0) != after["start"]:
            problems.append(f"{name}: {after['slot']} does not start where the slot before it ends")
    for slot in slots + [total]:
        if sum(slot[m] for m in MINUTES) != slot["end"] - slot["start"]:
            problems.append(f"{name}: {slot['slot']}: talk + hands-on + buffer + break "
                            f"!= {slot['end'] - slot['start']} minutes")
    for m in MINUTES:
        if sum(s[m] for s in slots) != total[m]:
            problems.append(f"{name}: the {m} column does not add up to its total")
    if slots and total["end"] != slots[-1]["end"]:
        problems.append(f"{name}: the total's span is not the session's")
    if session is not None and total["end"] - total["start"] != session:
        problems.append(f"{name}: lasts {total['end'] - total['start']} minutes, not {session}")
    if total["buffer"] < MIN_BUFFER:
        problems.append(f"{name}: {total['buffer']} minutes of buffer, fewer than {MIN_BUFFER}")
    setups = [s for s in slots if "set-up" in s["slot"].lower()]
    if not setups:
        problems.append(f"{name}: no set-up slot")
    need = SETUP_RUNS * math.ceil(setup / 60)
    for s in setups:
        if s["hands-on"] < need:
            problems.append(f"{name}: {s['slot']} has {s['hands-on']} hands-on minutes; "
                            f"{SETUP_RUNS} runs of the set-up check ({setup:.0f} s each) need {need}")
    return problems


def section_problems(title: str, bullets: dict[str, str], chapter: dict) -> list[str]:
    problems, marked = [], {}
    for label in ("Present", "Hands-on", "Skip"):
        if label not in bullets:
            problems.append(f"{title}: no '{label}' line")
        for name in ITALIC.findall(bullets.get(label, "")):
            if name in marked:
                problems.append(f"{title}: section {name!r} is marked both {marked[name]} and {label}")
            marked[name] = label
    for name in marked:
        if name not in chapter["headings"]:
            problems.append(f"{title}: names a section {chapter['stem']} does not have: {name!r}")
    for heading in chapter["headings"]:
        if heading not in marked:
            problems.append(f"{title}: section {heading!r} is neither present, hands-on nor skip")
    for label in re.findall(r"\{ref\}`(ex-[^`]+)`", bullets.get("Hands-on", "")):
        if label not in chapter["exercises"]:
            problems.append(f"{title}: assigns {label}, which is not an exercise of {chapter['stem']}")
            continue
        calls = re.findall(r"`[\w.]*?(\w+)(?:\(|`)", chapter["exercises"][label])
        for call in calls:
            section = chapter["first_use"].get(call)
            if call in chapter["helpers"] and section and marked.get(section) == "Skip":
                problems.append(f"{title}: assigns {label}, which uses {call} from the skipped section {section!r}")
    return problems


def agenda_problems(page: str, facts: dict, runs: dict[str, str], setup: float) -> list[str]:
    """Every way the page's agendas disagree with the chapters, the measurements and the rules above."""
    tables, details = agendas(page), slot_details(page)
    if not tables:
        return ["no agenda table"]
    problems = []
    for k, table in enumerate(tables):
        problems += minute_problems(table, setup, SESSION if k == 0 else None)
        slots = [s for s in table[:-1] if s["slot"] != "Break"]
        scheduled = {}
        for slot in slots:
            bullets = details.get(slot["slot"])
            if bullets is None:
                problems.append(f"{slot['slot']}: no slot description (**{slot['slot']}** and its bullets)")
                continue
            if not bullets.get("Ask", "").rstrip().endswith("?"):
                problems.append(f"{slot['slot']}: no question for the room ('Ask:' ending in '?')")
            number = re.match(r"Chapter (\d+),", slot["slot"])
            if not number:
                continue
            if number.group(1) not in facts:
                problems.append(f"{slot['slot']}: there is no chapter {number.group(1)}")
                continue
            chapter = facts[number.group(1)]
            scheduled[number.group(1)] = bullets
            if slot["run"] != runs.get(chapter["stem"]):
                problems.append(f"{slot['slot']}: run (s) {slot['run']!r} is not the measured "
                                f"{runs.get(chapter['stem'])!r} of book/timings.csv")
            problems += section_problems(slot["slot"], bullets, chapter)
        if "7" in scheduled and "6" not in scheduled:
            if "see chapter 6, second half-day" not in " ".join(scheduled["7"].values()):
                problems.append("chapter 7 is taught without chapter 6, and its slot does not say that the "
                                "LRP and CD rows are 'see chapter 6, second half-day'")
            if "see chapter 6, second half-day" not in " ".join(chapter_notes(page, "7").split()):
                problems.append("chapter 7's instructor notes do not say 'see chapter 6, second half-day'")
            if not any(re.match(r"Chapter 6,", s["slot"]) for t in tables[k + 1:] for s in t):
                problems.append("chapter 7's LRP and CD rows point to a second half-day that does not teach chapter 6")
        missing = set(scheduled) - instructor_notes(page)
        if missing:
            problems.append(f"no instructor notes for chapters {sorted(missing)}")
    return problems


@pytest.fixture(scope="module")
def inputs() -> dict:
    return {"page": WORKSHOP.read_text(), "facts": chapter_facts(), "runs": measured_runs(),
            "setup": setup_seconds()}


def problems_of(inputs: dict, page: str | None = None, setup: float | None = None) -> list[str]:
    return agenda_problems(page if page is not None else inputs["page"], inputs["facts"], inputs["runs"],
                           setup if setup is not None else inputs["setup"])


def test_the_agenda_covers_every_section_and_its_minutes_add_up(inputs):
    assert problems_of(inputs) == []


def test_the_agenda_schedules_chapters_1_to_8(inputs):
    slots = {m for t in agendas(inputs["page"]) for s in t for m in re.findall(r"Chapter (\d+),", s["slot"])}
    assert slots >= {str(n) for n in range(1, 9)}, "chapters 1 to 8 each have a slot"


def test_the_set_up_time_is_a_measurement(inputs):
    assert inputs["setup"] > 0
    assert ":file: setup_timing.csv" in inputs["page"], "the page shows the measured set-up time"


# The checks themselves, on agendas broken on purpose.

def broken(inputs: dict, old: str, new: str) -> list[str]:
    assert old in inputs["page"], old
    return problems_of(inputs, inputs["page"].replace(old, new, 1))


def test_a_section_left_out_is_caught(inputs):
    problems = broken(inputs, "*Cost* (each", "Cost (each")
    assert any("'Cost' is neither present, hands-on nor skip" in p for p in problems), problems


def test_a_section_that_does_not_exist_is_caught(inputs):
    problems = broken(inputs, "*Several\n  heads*", "*Several heads*; *Multi-head attention*")
    assert any("does not have: 'Multi-head attention'" in p for p in problems), problems


def test_a_section_marked_twice_is_caught(inputs):
    problems = broken(inputs, "- **Skip:** *Noise*;", "- **Skip:** *Occlusion: one cell at a time*; *Noise*;")
    assert any("marked both Present and Skip" in p for p in problems), problems


def test_skipping_the_section_an_assigned_exercise_needs_is_caught(inputs):
    page = inputs["page"].replace("*Probes: what can be read out of $h_t$*; ", "", 1)
    page = page.replace("- **Skip:** *Trajectories", "- **Skip:** *Probes: what can be read out of $h_t$*; "
                        "*Trajectories", 1)
    problems = problems_of(inputs, page)
    assert any("ex-05-final-sum, which uses linear_probe" in p for p in problems), problems


def test_minutes_that_do_not_add_up_are_caught(inputs):
    problems = broken(inputs, "| Chapter 2, sensitivity | 12 |", "| Chapter 2, sensitivity | 13 |")
    assert any("Chapter 2, sensitivity: talk + hands-on" in p for p in problems), problems
    assert any("talk column does not add up" in p for p in problems), problems


def test_too_little_buffer_is_caught(inputs):
    page = inputs["page"]
    # The run column holds measured seconds (book/timings.csv), read rather than typed here.
    ch2, ch4, ch7 = (measured_runs()[c] for c in ("02_sensitivity", "04_shap", "07_which_to_trust"))
    for old, new in [(f"| 12 | 15 | 3 | 0 | {ch2} |", f"| 12 | 18 | 0 | 0 | {ch2} |"),
                     (f"| 12 | 15 | 3 | 0 | {ch4} |", f"| 12 | 18 | 0 | 0 | {ch4} |"),
                     (f"| 12 | 10 | 3 | 0 | {ch7} |", f"| 12 | 13 | 0 | 0 | {ch7} |"),
                     ("| 0:00-3:00 | total | 66 | 76 | 18 |", "| 0:00-3:00 | total | 66 | 85 | 9 |")]:
        assert old in page, old
        page = page.replace(old, new, 1)
    problems = problems_of(inputs, page)
    assert any("9 minutes of buffer" in p for p in problems), problems
    assert not any("does not add up" in p or "talk + hands-on" in p for p in problems), problems


def test_a_set_up_slot_shorter_than_the_measured_check_is_caught(inputs):
    problems = problems_of(inputs, setup=600.0)
    assert any("Welcome and set-up has 10 hands-on minutes" in p for p in problems), problems


def test_a_slot_without_a_question_is_caught(inputs):
    problems = broken(inputs, "- **Ask:** Zeros or the training mean", "- **Note:** Zeros or the training mean")
    assert any("Chapter 2, sensitivity: no question" in p for p in problems), problems


def test_a_wrong_run_time_is_caught(inputs):
    ch7 = measured_runs()["07_which_to_trust"]
    problems = broken(inputs, f"| 12 | 10 | 3 | 0 | {ch7} |", f"| 12 | 10 | 3 | 0 | {int(ch7) + 1} |")
    assert any("is not the measured" in p for p in problems), problems


def test_chapter_7_without_chapter_6_must_say_so(inputs):
    problems = broken(inputs, "decomposition: see chapter 6, second half-day)", "decomposition)")
    assert any("its slot does not say" in p for p in problems), problems
    problems = broken(inputs, "*see\nchapter 6, second half-day*", "chapter 6")
    assert any("instructor notes do not say" in p for p in problems), problems


def test_missing_instructor_notes_are_caught(inputs):
    problems = broken(inputs, "**Chapter 6** (second half-day). Demo live", "Demo live")
    assert any("no instructor notes for chapters ['6']" in p for p in problems), problems
