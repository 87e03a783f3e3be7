"""The one way the browser tests start Chromium (site, slide decks, JupyterLab).

Playwright drives Debian's `chromium` through `executable_path`, since it cannot
download its own browser here. Without chromium a test skips with a message;
in CI (REQUIRE_BROWSER=1) a missing browser is a failure. Not a test module.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import pytest

# Chromium's background services would try to phone home; these flags stop them.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]


def chromium_path() -> str:
    """The system chromium; skips the test without one (fails it in CI)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    message = "Debian's chromium is not installed (apt-get install chromium); `make test` installs it as root"
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


@contextlib.contextmanager
def launched() -> Iterator:
    """A headless Chromium browser (Playwright's ``Browser``), closed on exit."""
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
