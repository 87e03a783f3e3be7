"""The built site (`make book` first): no link to an address that does not exist, and the student download works.

Run after the book build by `make site`, like tests/test_site.py.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from tools.repository import PLACEHOLDER_URL, repository

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html"))
PAGES = sorted(HTML.rglob("*.html"))
STUDENT_ZIP = "inside-the-lstm-student.zip"

pytestmark = pytest.mark.skipif(not PAGES, reason="no built site: run `make book` first")


def test_no_page_links_to_the_placeholder_address():
    linked = [p.relative_to(HTML) for p in PAGES if PLACEHOLDER_URL in p.read_text(errors="replace")]
    assert not linked, f"pages link to the placeholder {PLACEHOLDER_URL}: {linked[:5]}"


def test_launch_buttons_only_with_a_real_repository():
    url, _ = repository()
    chapters = sorted((HTML / "notebooks").glob("*.html"))
    assert chapters
    text = chapters[0].read_text()
    for service in ("mybinder.org", "colab.research.google.com"):
        assert (service in text) == (url is not None), f"{service} in {chapters[0].name}: expected {url is not None}"


def test_workshop_page_offers_the_student_notebooks_as_one_working_download():
    page = HTML / "book" / "workshop.html"
    hrefs = re.findall(r'href="([^"]*' + re.escape(STUDENT_ZIP) + ')"', page.read_text())
    assert hrefs, "the workshop page has no link to the student notebooks"
    target = (page.parent / hrefs[0]).resolve()
    assert target.is_file(), f"{hrefs[0]} does not resolve to a file in the site"
    chapters = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    with zipfile.ZipFile(target) as archive:
        names = [n for n in archive.namelist() if n.endswith(".ipynb")]
        assert sorted(Path(n).name for n in names) == chapters
        # The kit around them (tests/test_kit.py installs it and runs chapter 1).
        assert {"README.md", "requirements.txt"} <= {Path(n).name for n in archive.namelist()}
        assert any(n.endswith("-py3-none-any.whl") for n in archive.namelist())
        for name in names:
            nb = nbformat.reads(archive.read(name).decode(), as_version=4)
            assert not any("assert " in c.source for c in nb.cells if c.cell_type == "code"), name
