"""The slide decks in the built site, in Chromium at 1280 x 720 (`make book` writes them; `make site` runs this).

For every chapter: its deck is in `_build/html/slides/` and linked from the
workshop page; every slide, rendered by reveal.js with MathJax typeset, fits
inside the 1280 x 720 slide (no element outside it, no text scrolling inside
its box) and shows no raw MyST or Markdown (`{role}`, `:class:`, fences,
`**`, `](`, unrendered TeX); its images load, its links resolve and nothing
is fetched from beyond the local server. Like tests/test_site.py it drives
Debian's chromium, skips when it is missing unless REQUIRE_BROWSER=1, and
reads `SITE_DIR` for a build elsewhere.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from tests.browser import launched

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html"))
SLIDES = SITE / "slides"
WIDTH, HEIGHT = 1280, 720
# Unrendered TeX is a pair of dollars or a \( \[ left as text; a lone "$0" is a price.
RAW = re.compile(r"\{[\w:-]+\}`?|:class:|`{3}|:{3}|\*\*|\]\(|\$[^$\s][^$\n]*\$|\\\(|\\\[|<[a-z]+[ >]")

MEASURE = """(i) => {
  Reveal.slide(i);
  const slide = Reveal.getCurrentSlide();
  const frame = document.querySelector('.reveal .slides').getBoundingClientRect();
  const outside = [], scrolled = [];
  for (const el of slide.querySelectorAll('*')) {
    if (el.closest('aside.notes, mjx-assistive-mml')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.bottom > frame.bottom + 1 || r.right > frame.right + 1 || r.top < frame.top - 1 || r.left < frame.left - 1) {
      outside.push(el.tagName + ' ' + Math.round(r.bottom - frame.bottom) + 'px below, '
                   + Math.round(r.right - frame.right) + 'px right: ' + (el.innerText || el.alt || '').slice(0, 50));
    }
    if (el.scrollHeight > el.clientHeight + 1 && getComputedStyle(el).overflowY !== 'visible'
        || el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') {
      scrolled.push(el.tagName + ': ' + (el.innerText || '').slice(0, 50));
    }
  }
  const clone = slide.cloneNode(true);
  clone.querySelectorAll('aside.notes, mjx-container, mjx-assistive-mml').forEach(e => e.remove());
  return {outside, scrolled, text: clone.textContent,
          title: (slide.querySelector('h1, h2, h3, .box-title') || {}).textContent || ''};
}"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


def _chapters() -> list[str]:
    return sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def server():
    if not SLIDES.is_dir():
        pytest.fail(f"no decks in {SLIDES}: run `make book` before the slide test")
    handler = functools.partial(QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with launched() as b:
        yield b


def test_the_workshop_page_links_every_deck():
    page = SITE / "book" / "workshop.html"
    if not page.is_file():
        pytest.fail(f"no {page}: run `make book` before the slide test")
    hrefs = set(re.findall(r'href="(\.\./slides/[^"#]*\.slides\.html)"', page.read_text(encoding="utf-8")))
    missing = [c for c in _chapters() if f"../slides/{c}.slides.html" not in hrefs]
    assert not missing, f"the workshop page links no deck for {missing}"
    broken = [h for h in hrefs if not (page.parent / h).resolve().is_file()]
    assert not broken, f"the workshop page links decks that are not in the site: {broken}"


def look(browser, url: str) -> dict:
    """Open the deck at ``url`` at 1280 x 720 and measure every slide; record requests that fail or leave the host."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    seen: dict = {"errors": [], "outside": [], "failed": []}
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: seen["failed"].append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def route(r):
        if r.request.url.startswith(("data:", "blob:")) or urlparse(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            seen["outside"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(url, wait_until="networkidle")
        page.wait_for_function("window.Reveal && Reveal.isReady() && window.MathJax && MathJax.startup")
        page.evaluate("MathJax.startup.promise")
        page.evaluate("Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
        seen["slides"] = [page.evaluate(MEASURE, i) for i in range(page.evaluate("Reveal.getTotalSlides()"))]
        seen["images"] = page.evaluate(
            "Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0, i.alt])")
        seen["links"] = page.evaluate("Array.from(document.querySelectorAll('.slides a[href]')).map(a => a.href)")
    finally:
        context.close()
    return seen


def problems(slides: list[dict]) -> list[str]:
    """What is wrong with each measured slide: overflow, scrolling inside it, raw markup in its text."""
    found = []
    for i, slide in enumerate(slides):
        where = f"slide {i + 1} ({slide['title'].strip()[:40]!r})"
        if slide["outside"]:
            found.append(f"{where} overflows 1280 x 720: {slide['outside'][:3]}")
        if slide["scrolled"]:
            found.append(f"{where} scrolls inside: {slide['scrolled'][:3]}")
        raw = RAW.search(slide["text"])
        if raw:
            start = max(raw.start() - 30, 0)
            found.append(f"{where} shows raw markup {raw.group(0)!r}: ...{slide['text'][start:raw.end() + 30]!r}")
    return found


@pytest.mark.parametrize("chapter", _chapters())
def test_every_slide_fits_and_shows_no_raw_markup(server, browser, chapter):
    deck = SLIDES / f"{chapter}.slides.html"
    assert deck.is_file(), f"no deck {deck}: `make book` writes one per chapter"
    seen = look(browser, urljoin(server, f"slides/{chapter}.slides.html"))
    titles = [s["title"] for s in seen["slides"]]
    assert len(titles) >= 4, f"{chapter}: {len(titles)} slides; expected the title, objectives, sections, takeaways"
    assert any("Key takeaways" in t for t in titles), f"{chapter}: no takeaways slide"
    assert not seen["outside"], f"{chapter}: the deck requested resources beyond 127.0.0.1: {seen['outside']}"
    assert not seen["failed"] and not seen["errors"], f"{chapter}: {seen['failed']} {seen['errors']}"
    images = seen["images"]
    assert all(ok for ok, _ in images), f"{chapter}: images failed to load: {[a for ok, a in images if not ok]}"
    assert all(alt for _, alt in images), f"{chapter}: a figure without alt text"
    for link in seen["links"]:  # the chapter's page; links to issue trackers and papers stay as written
        if urlparse(link).hostname == "127.0.0.1":
            path = urlparse(link).path.lstrip("/")
            assert (SITE / path).is_file(), f"{chapter}: the deck links {path}, not in the site"
    found = problems(seen["slides"])
    assert not found, f"{chapter}:\n" + "\n".join(found)


def test_the_measure_catches_overflow_and_raw_markup(browser, tmp_path):
    """The check above can fail: a deck with a too-long slide and raw MyST is caught, a good slide is not."""
    from tools import slides

    deck = [slides.Slide("<h2>Fine</h2><p>One idea.</p>", "section"),
            slides.Slide("<h2>Too long</h2>" + "<p>Words and more words.</p>" * 30, "section"),
            slides.Slide("<h2>Raw</h2><p>See {term}`x` and :class: tip.</p>", "section"),
            slides.Slide('<h2>Wide</h2><pre style="overflow:auto">' + "x" * 400 + "</pre>", "section")]
    slides.copy_assets(tmp_path)
    (tmp_path / "bad.slides.html").write_text(slides.page("Bad", deck), encoding="utf-8")
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        seen = look(browser, f"http://127.0.0.1:{httpd.server_address[1]}/bad.slides.html")
    finally:
        httpd.shutdown()
    found = problems(seen["slides"])
    assert [f.split(" (")[0] for f in found] == ["slide 2", "slide 3", "slide 4"], found
    assert "overflows" in found[0] and "raw markup" in found[1] and "scrolls inside" in found[2]
