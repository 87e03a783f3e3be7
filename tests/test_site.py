"""The built website in a real browser: every page loads, works offline, is accessible,
and reads well on a 1280-px desktop and a 390-px phone.

Needs `_build/html` (run `make book` first) and Debian's `chromium`; Playwright
drives the system browser through `executable_path`, since it cannot download
its own here. Locally the test skips with a message when chromium is missing;
in CI (REQUIRE_BROWSER=1) a missing browser is a failure. `SITE_DIR` points the
test at another build (a scratch copy).

Figure text size: `helpers.plotting` writes each figure's smallest font size
(points) and its DPI into the PNG's text chunks when the figure is rendered.
On the page, text drawn at `pt` points is `pt / 72 * dpi` image pixels high and
is shown at `displayed width / natural width` of that, in CSS pixels.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest

from tests.browser import launched

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html"))
DESKTOP, PHONE = 1280, 390
MIN_TEXT_PX = 9.0  # smallest figure text on a desktop or phone page, in CSS pixels
FONT_KEY, DPI_KEY = "inside-the-lstm:smallest-font-pt", "inside-the-lstm:dpi"
# Build-machine details that must never reach a page through a cell's output.
LEAKS = ("Traceback", "site-packages", ".venv")
SERIOUS = {"serious", "critical"}


def _pages() -> list[str]:
    if not SITE.is_dir():
        return []
    # The slide decks are not book pages (no menu, fixed 1280 x 720): tests/test_slides_site.py checks them.
    skipped = {"_static", "slides"}
    return sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html") if not skipped & set(p.relative_to(SITE).parts))


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no website in {SITE}: run `make book` before the site test")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@pytest.fixture(scope="module")
def browser():
    with launched() as b:
        yield b


def test_site_has_the_expected_pages():
    pages = _pages()
    assert "book/intro.html" in pages and "index.html" in pages
    assert "book/setup.html" in pages
    assert any(p.startswith("notebooks/01_") for p in pages)


def _chapters() -> list[str]:
    return sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("chapter", _chapters())
def test_chapter_page_offers_download_and_launch_buttons(chapter):
    """Learners take a chapter away as a notebook; Binder and Colab once the book has a public home.

    While ``repository.url`` is the placeholder (``tools.repository``), the page must
    offer no launch button at all: it would lead to an address that does not exist.
    """
    from tools.repository import PLACEHOLDER_URL, repository

    page = SITE / "notebooks" / f"{chapter}.html"
    if not page.is_file():
        pytest.fail(f"no page {page}: run `make book` before the site test")
    html = page.read_text(encoding="utf-8")
    download = f"../_sources/notebooks/{chapter}.ipynb"
    assert f'href="{download}"' in html, f"{chapter}: no download-notebook button"
    assert (page.parent / download).resolve().is_file(), f"{chapter}: {download} is not in the site"
    repo, _ = repository()
    services = ("https://mybinder.org/v2/gh/", "https://colab.research.google.com/github/")
    if repo is None:
        slug = urlparse(PLACEHOLDER_URL).path.strip("/")
        for service in services:
            assert service not in html, f"{chapter}: a launch button to {service} with no public repository"
        assert slug not in html, f"{chapter}: links the placeholder repository {PLACEHOLDER_URL}"
        return
    slug = urlparse(repo).path.strip("/")
    for service in services:
        expected = f"{service}{slug}/"
        assert expected in html and f"notebooks/{chapter}.ipynb" in html, (
            f"{chapter}: no launch button to {expected}...notebooks/{chapter}.ipynb"
        )


@pytest.mark.parametrize("page_path", _pages() or ["index.html"])
def test_page_in_browser(server, browser, page_path):
    from axe_playwright_python.sync_playwright import Axe

    url = urljoin(server, page_path)
    console_errors, outside, failed = [], [], []
    context = browser.new_context()
    page = context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.status == 200, f"{page_path}: HTTP {response and response.status}"

    broken_images = page.evaluate(
        "Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"
    )
    links = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    # Judge the page's own requests before axe runs: axe's CSS preloading resolves
    # @import paths against the page instead of the stylesheet and fetches wrong URLs.
    console_errors, outside, failed = list(console_errors), list(outside), list(failed)
    results = Axe().run(page, options={"resultTypes": ["violations"], "preload": False})
    context.close()

    assert not outside, f"{page_path} requested resources beyond 127.0.0.1: {outside}"
    assert not failed, f"{page_path} failed requests: {failed}"
    assert not console_errors, f"{page_path} console errors: {console_errors}"
    assert not broken_images, f"{page_path} images failed to load: {broken_images}"

    missing = []
    for link in links:
        target, _ = urldefrag(link)
        if not target.startswith(server):
            continue
        rel = urlparse(target).path.lstrip("/")
        local = SITE / rel
        if local.is_dir():
            local = local / "index.html"
        if not local.exists():
            missing.append(link)
    assert not missing, f"{page_path} links to missing pages: {missing}"

    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]
    assert not bad, f"{page_path} accessibility violations: {bad}"


def _toc_pages() -> list[str]:
    """Every page the table of contents lists, as site paths (``notebooks/01_x.html``)."""
    import yaml

    # The book the site was built from: <root>/_build/html -> <root>/_toc.yml.
    toc = yaml.safe_load((SITE.parents[1] / "_toc.yml").read_text())
    files = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(str(Path(node["file"]).with_suffix("")) + ".html")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    return files


def _png_text(path: Path) -> dict[str, str]:
    """The tEXt chunks of a PNG file."""
    from PIL import Image

    with Image.open(path) as image:
        return {k: v for k, v in image.info.items() if isinstance(v, str)}


def _open(browser, server, page_path: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.route(
        "**/*",
        lambda r: r.continue_() if urlparse(r.request.url).hostname in (None, "127.0.0.1") else r.abort(),
    )
    page.goto(urljoin(server, page_path), wait_until="networkidle")
    return context, page


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("page_path", _pages() or ["index.html"])
def test_page_reads_without_sideways_scrolling_or_leaks(server, browser, page_path, width):
    """No page scrolls sideways; on desktop no code cell does; no traceback or path leaks."""
    context, page = _open(browser, server, page_path, width)
    try:
        overflow = page.evaluate(
            "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
        )
        text = page.evaluate("document.body.innerText")
        outputs = page.evaluate(
            "Array.from(document.querySelectorAll('div.cell_output')).map(e => e.innerText).join('\\n')"
        )
        wide_code = page.evaluate(
            """Array.from(document.querySelectorAll('div.cell_input pre'))
                 .filter(p => p.scrollWidth > p.clientWidth + 1)
                 .map(p => p.innerText.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), ''))"""
        )
    finally:
        context.close()
    assert overflow <= 1, f"{page_path} at {width} px scrolls sideways by {overflow} px"
    assert "Traceback" not in text, f"{page_path} shows a traceback"
    leaks = [word for word in LEAKS if word in outputs]
    assert not leaks, f"{page_path}: cell outputs show {leaks}"
    if width == DESKTOP:
        assert not wide_code, f"{page_path}: code cells scroll sideways at {width} px: {wide_code}"


@pytest.mark.parametrize("page_path", _pages() or ["index.html"])
def test_phone_menu_opens_and_lists_every_chapter(server, browser, page_path):
    """At 390 px the visible menu button opens the navigation with every page of the book."""
    context, page = _open(browser, server, page_path, PHONE)
    try:
        buttons = page.locator(".primary-toggle")
        visible = [i for i in range(buttons.count()) if buttons.nth(i).is_visible()]
        assert visible, f"{page_path}: no visible menu button at {PHONE} px"
        buttons.nth(visible[0]).click()
        dialog = page.locator("#pst-primary-sidebar-modal")
        dialog.wait_for(state="visible", timeout=5000)
        assert page.evaluate("document.querySelector('#pst-primary-sidebar-modal').open")
        hrefs = page.evaluate(
            """Array.from(document.querySelectorAll('#pst-primary-sidebar-modal nav a'))
                 .filter(a => a.getClientRects().length > 0).map(a => a.href)"""
        )
    finally:
        context.close()
    listed = {urlparse(h).path.lstrip("/") for h in hrefs}
    missing = [p for p in _toc_pages() if p not in listed and p != "book/intro.html"]
    assert not missing, f"{page_path}: the phone menu does not list {missing}"


def _small_figure_text(browser, server, page_path: str, width: int) -> list[str]:
    """The figures of ``page_path`` whose smallest text is below 9 CSS px at ``width``."""
    context, page = _open(browser, server, page_path, width)
    try:
        images = page.evaluate(
            """Array.from(document.querySelectorAll('div.cell_output img')).map(i => ({
                 src: i.src, natural: i.naturalWidth, shown: i.getBoundingClientRect().width}))"""
        )
    finally:
        context.close()
    small = []
    for image in images:
        path = SITE / unquote(urlparse(image["src"]).path.lstrip("/"))
        meta = _png_text(path)
        assert FONT_KEY in meta and DPI_KEY in meta, (
            f"{page_path}: {path.name} has no font metadata (draw it with helpers.plotting)"
        )
        px = float(meta[FONT_KEY]) / 72 * float(meta[DPI_KEY]) * image["shown"] / image["natural"]
        if px < MIN_TEXT_PX:
            small.append(f"{path.name}: {px:.1f} px")
    return small


FIGURE_PAGES = [p for p in _pages() if p.startswith("notebooks/")] or ["index.html"]


@pytest.mark.parametrize("page_path", FIGURE_PAGES)
def test_figure_text_is_readable_on_desktop(server, browser, page_path):
    """Every figure's smallest text is at least 9 CSS px on a 1280-px page."""
    small = _small_figure_text(browser, server, page_path, DESKTOP)
    assert not small, f"{page_path}: figure text below {MIN_TEXT_PX} CSS px: {small}"


@pytest.mark.parametrize("page_path", FIGURE_PAGES)
def test_figure_text_is_readable_on_a_phone(server, browser, page_path):
    """At 390 px too: figures keep a readable width and scroll in their own box (custom.css)."""
    small = _small_figure_text(browser, server, page_path, PHONE)
    assert not small, f"{page_path}: figure text below {MIN_TEXT_PX} CSS px at {PHONE} px: {small}"
