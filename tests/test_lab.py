"""A chapter in JupyterLab (with jupyterlab-myst) reads as it does on the site.

Starts JupyterLab on a free localhost port, with a random token, on a
temporary copy of one chapter (nothing is written into the repository), and
opens it in Debian's chromium through Playwright, as ``tests/test_site.py``
does. No cell is executed. Skips when chromium is missing unless
REQUIRE_BROWSER=1 (CI). What jupyterlab-myst cannot do is listed in
``book/setup.md`` ("Reading in JupyterLab"); for those, the checks hold the
degraded behaviour it documents, so they fail loudly the day it changes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.browser import CHROMIUM_ARGS, chromium_path
from tools import lab

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "03_attention.ipynb"
SHOTS = Path(os.environ.get("LAB_SHOTS", "/tmp/inside-the-lstm-lab"))
# No news pop-up over the page; every cell in the DOM (no lazy windowing).
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


def test_chapters_carry_the_lab_metadata():
    """`python -m tools.lab notebooks` has been run (kernel, solutions,
    captions, glossary, references)."""
    stale = [str(p) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
             if lab.for_lab(nbformat.read(p, as_version=4), p.stem)
             != nbformat.read(p, as_version=4)]
    assert not stale, f"run `python -m tools.lab notebooks`; stale: {stale}"


def test_solution_cells_span_start_to_end():
    nb = nbformat.read(ROOT / "notebooks" / CHAPTER, as_version=4)
    cells = lab.solution_cells(nb)
    assert cells, "expected solution cells in the chapter"
    for i in cells:
        assert "{solution-start}" not in nb.cells[i].source
    assert "{solution-end}" in nb.cells[cells[-1]].source


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    browser_path = chromium_path()
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("lab")
    work, home = tmp / "work", tmp / "home"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / CHAPTER, work / CHAPTER)
    for name, value in SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), os.urandom(16).hex()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    log = open(tmp / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser",
         "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={work}", "--allow-root"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(360):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited; see {tmp / 'lab.log'}")
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 180 s")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browser_path,
                                        args=CHROMIUM_ARGS)
            pg = browser.new_page(viewport={"width": 1280, "height": 900})
            pg.goto(f"{base}/lab/tree/{CHAPTER}?token={token}")
            pg.wait_for_selector(".jp-MarkdownCell .myst", timeout=120_000)
            # The kernel connects after the cells render; its metadata is
            # what would mark the notebook modified.
            pg.wait_for_selector(".jp-Notebook-ExecutionIndicator"
                                 "[data-status='idle']", timeout=120_000)
            time.sleep(2)
            SHOTS.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(SHOTS / "lab-open.png"))
            yield pg
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_opening_does_not_mark_the_notebook_modified(page):
    nb = nbformat.read(ROOT / "notebooks" / CHAPTER, as_version=4)
    ours = lab.kernel_metadata()["language_info"]["version"]
    if nb.metadata["language_info"]["version"] != ours:
        pytest.skip(f"this Python ({ours}) is not the book's "
                    f"({nb.metadata['language_info']['version']}); the "
                    "kernel rewrites language_info (book/setup.md)")
    tab = page.locator(".lm-TabBar-tab", has_text=CHAPTER)
    assert tab.count() == 1
    assert "jp-mod-dirty" not in (tab.get_attribute("class") or "")


def test_solutions_are_collapsed_until_opened(page):
    nb = nbformat.read(ROOT / "notebooks" / CHAPTER, as_version=4)
    cells = lab.solution_cells(nb)
    # The first solution's closing cell holds its answer in prose.
    answer = next(nb.cells[i].source.splitlines() for i in cells
                  if "{solution-end}" in nb.cells[i].source)
    # A collapsed cell shows its first line only; the second stays hidden.
    text = page.locator(".jp-MarkdownCell .myst",
                        has_text=answer[1].strip()[:30]).first
    assert not text.is_visible(), f"solution line shown: {answer[1]!r}"
    assert page.locator(".jp-Placeholder").count() >= len(cells)
    bar = page.locator(".jp-Placeholder", has_text=answer[0][:25]).first
    bar.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "lab-solution-closed.png"))
    bar.locator(".jp-Placeholder-content").click()
    text.wait_for(state="visible", timeout=10_000)
    page.screenshot(path=str(SHOTS / "lab-solution-open.png"))


def _chapter():
    return nbformat.read(ROOT / "notebooks" / CHAPTER, as_version=4)


def _site_text(nb) -> str:
    return "\n".join(c.source for c in nb.cells
                     if c.cell_type == "markdown" and not lab.is_lab_only(c))


def test_lab_cells_are_what_the_site_skips():
    """myst-nb drops cells tagged remove-cell before parsing them: the site
    (text, figure numbers, glossary, bibliography) never sees these."""
    nb = _chapter()
    extra = [c for c in nb.cells if lab.is_lab_only(c)]
    assert extra and all(c.cell_type == "markdown"
                         and "remove-cell" in c.metadata["tags"]
                         for c in extra)


def _settled(read, tries: int = 20):
    """``read()``, retried while the cells it reads are being re-rendered."""
    from playwright.sync_api import Error

    for attempt in range(tries):
        try:
            return read()
        except Error:
            if attempt == tries - 1:
                raise
            time.sleep(0.5)


def test_citations_read_as_a_reference(page):
    """jupyterlab-myst 2.7 resolves no citation: every {cite} key shows as
    itself, marked "Citation Not Found" (its src/myst.ts passes an empty
    `cite` table; src/transforms/citations.ts marks each cite an error). The
    chapter's References cell (JupyterLab only) gives each key its
    author-year citation and entry, from book/references.bib."""
    nb = _chapter()
    keys = lab.cited_keys(_site_text(nb))
    assert keys
    shown = page.locator(".jp-MarkdownCell [title='Citation Not Found']")
    assert set(shown.all_inner_texts()) >= set(keys)
    for key in keys:
        item = page.locator(".jp-MarkdownCell li").filter(
            has=page.locator("code", has_text=key))
        # jupyterlab-myst re-renders every cell after a cell opens (the
        # solution test): read the list once it has settled.
        text = _settled(lambda item=item: item.inner_text()
                        if item.count() == 1 else None)
        assert text is not None, key
        assert lab.author_year(key) in text, (key, text)
    _settled(lambda: page.locator(".jp-MarkdownCell li").filter(
        has=page.locator("code", has_text=keys[0]))
        .scroll_into_view_if_needed())
    page.screenshot(path=str(SHOTS / "lab-references.png"))


def test_glossary_terms_resolve(page):
    """Each {term} resolves to the chapter's glossary (JupyterLab only); its
    card shows the definition, not the bare label."""
    nb = _chapter()
    assert lab.term_targets(_site_text(nb))
    term = page.locator(".jp-MarkdownCell a.hover-link",
                        has_text="attention weights").first
    _settled(term.scroll_into_view_if_needed)
    _settled(term.hover)
    definition = lab.glossary_entries()["attention weights"].splitlines()[1]
    card = page.locator(".hover-card-content").last
    card.wait_for(state="visible", timeout=10_000)
    page.screenshot(path=str(SHOTS / "lab-term.png"))
    text = " ".join(card.inner_text().replace("\u2019", "'").split())
    assert definition.strip()[:40] in text, text
    assert "term-attention weights" not in text  # the unresolved card


def test_figure_captions_are_visible(page):
    """Each figure's caption (cell metadata, which JupyterLab does not show)
    follows its cell, numbered as on the site (JupyterLab only)."""
    nb = _chapter()
    captions = [lab.figure_caption(c) for c in nb.cells
                if lab.figure_caption(c)]
    assert captions
    shown = page.locator(".jp-MarkdownCell p", has_text="Fig. 3.")
    # MyST typesets quotes, as the site does.
    texts = [" ".join(t.replace("\u2019", "'").split())
             for t in shown.all_inner_texts()]
    assert texts == [f"Fig. 3.{n} {c}" for n, c in enumerate(captions, 1)]
    for i in range(len(captions)):
        _settled(shown.nth(i).scroll_into_view_if_needed)
        assert _settled(shown.nth(i).is_visible)
    page.screenshot(path=str(SHOTS / "lab-caption.png"))
