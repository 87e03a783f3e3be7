"""The built site's search finds the troubleshooting page for the errors readers paste.

Reads Sphinx's search index (`_build/html/searchindex.js`, written by `make book`)
and runs each query the way the page's search does: split into words, lowercase,
stem with Sphinx's English stemmer, drop stop words, and keep the pages that
contain every remaining word in their text or titles. Skips when no site is built.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html"))
INDEX = SITE / "searchindex.js"
PAGE = "notebooks/10_troubleshooting"
QUERIES = ["shap_TensorListStack", "cudnn RNN backward"]


def load_index(path: Path) -> dict:
    """The JSON object inside ``Search.setIndex(...)``."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index("(") + 1, text.rindex(")")
    return json.loads(text[start:end])


def search(index: dict, query: str) -> set[str]:
    """Docnames whose words or title words contain every stemmed query word."""
    from sphinx.search.en import SearchEnglish

    language = SearchEnglish({})
    words = [w.lower() for w in re.findall(r"\w+", query)]
    stems = [language.stem(w) for w in words if w not in language.stopwords]
    if not stems:
        raise ValueError(f"expected a query with searchable words, got {query!r}")
    docnames = index["docnames"]
    found = None
    for stem in stems:
        hits = set()
        for table in ("terms", "titleterms"):
            docs = index.get(table, {}).get(stem, [])
            hits |= {docs} if isinstance(docs, int) else set(docs)
        found = hits if found is None else found & hits
    return {docnames[i] for i in found}


def test_search_helper_finds_only_pages_with_every_word():
    index = {
        "docnames": ["a", "b"],
        "terms": {"cudnn": [0, 1], "rnn": 0, "backward": [0]},
        "titleterms": {"shap_tensorliststack": 1},
    }
    assert search(index, "cudnn RNN backward") == {"a"}
    assert search(index, "shap_TensorListStack") == {"b"}
    assert search(index, "cudnn shap_TensorListStack") == {"b"}
    assert search(index, "missing") == set()


@pytest.mark.parametrize("query", QUERIES)
def test_site_search_finds_the_troubleshooting_page(query):
    if not INDEX.is_file():
        pytest.skip(f"no {INDEX}: run `make book` first")
    index = load_index(INDEX)
    assert PAGE in index["docnames"], f"{PAGE} is not in the built site"
    assert PAGE in search(index, query), f"searching {query!r} does not find {PAGE}"
