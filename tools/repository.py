"""The book's repository address: the one setting, ``repository.url`` in ``_config.yml``.

Explained in ``book/setup.md`` ("Outside the repository"). The website's
repository and launch buttons (``book/_ext/offline_site.py``) and the set-up
cell of every chapter (``tools/first_cell.py``) read it from here; ``site``
derives the published website's address from it (GitHub Pages), where the
set-up cell in Colab installs the helpers wheel from. While the
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


def site(config: Path = CONFIG) -> str | None:
    """The published website's address, no trailing slash; None while there is no repository.

    ``html.baseurl`` in ``config`` when set (a custom domain), else the address
    GitHub Pages gives ``https://github.com/OWNER/NAME``: ``https://OWNER.github.io/NAME``.
    """
    url, _ = repository(config)
    if url is None:
        return None
    baseurl = ((yaml.safe_load(config.read_text()).get("html") or {}).get("baseurl") or "").rstrip("/")
    return baseurl or pages_address(url)


def pages_address(url: str) -> str:
    """The address GitHub Pages gives repository ``url`` (``https://github.com/OWNER/NAME``)."""
    parts = url.rstrip("/").removeprefix("https://").split("/")
    if parts[0] != "github.com" or len(parts) != 3:
        raise ValueError(f"expected html.baseurl in _config.yml for a repository outside GitHub, got {url!r}")
    owner, name = parts[1], parts[2].removesuffix(".git")
    pages = f"https://{owner.lower()}.github.io"
    return pages if name.lower() == f"{owner.lower()}.github.io" else f"{pages}/{name}"
