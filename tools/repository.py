"""The book's repository address: the one setting, ``repository.url`` in ``_config.yml``.

Explained in ``book/setup.md`` ("Outside the repository"). The website's
repository and launch buttons (``book/_ext/offline_site.py``) and the set-up
cell of every chapter (``tools/first_cell.py``) read it from here. While the
address is the placeholder below, the book has no public home yet: the site
shows no repository or launch buttons and the set-up cell installs nothing.
"""

from __future__ import annotations

from pathlib import Path

import yaml

#: The address the configuration ships with until the book is published.
PLACEHOLDER_URL = "https://github.com/inside-the-lstm/inside-the-lstm"
CONFIG = Path(__file__).resolve().parents[1] / "_config.yml"


def repository(config: Path = CONFIG) -> tuple[str | None, str]:
    """``(url, branch)`` from ``config``; ``url`` is None while it is the placeholder or empty."""
    settings = yaml.safe_load(config.read_text()).get("repository") or {}
    url = (settings.get("url") or "").rstrip("/")
    branch = settings.get("branch") or "main"
    if not url or url == PLACEHOLDER_URL:
        return None, branch
    if not url.startswith("https://"):
        raise ValueError(f"expected repository.url to be an https:// address, got {url!r}")
    return url, branch
