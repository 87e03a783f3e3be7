"""Colab's install path: the set-up cell installs the helpers wheel from the website, then chapter 1 runs.

A locally served copy of the built site stands in for the published one, and
a fresh venv with only a Jupyter kernel stands in for Colab (a `google.colab`
module is put in place, as Colab has one). The set-up cell is the one
`tools.first_cell` generates, pointed at `http://127.0.0.1:PORT/`; its pip
finds the wheel there and the dependencies in this platform's wheelhouse.
`make site` runs it after `make book`, with WHEELHOUSE_PLATFORM_DIR set.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import threading
from pathlib import Path

import nbformat
import pytest

from tests import fresh_venv
from tools import first_cell, kit

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html"))
CHAPTER = ROOT / "notebooks" / "01_running_examples.ipynb"
FAKE_COLAB = 'import sys, types\nsys.modules["google.colab"] = types.ModuleType("google.colab")'

pytestmark = pytest.mark.skipif(
    not os.environ.get("WHEELHOUSE_PLATFORM_DIR") or not (SITE / "index.html").is_file(),
    reason="run by `make site` (needs the built site and this platform's wheelhouse)")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test's output stays the test's
        pass


@pytest.fixture
def served_site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_the_site_serves_the_wheel_the_cell_names():
    assert (SITE / kit.wheel_name()).is_file(), f"the build did not publish {kit.wheel_name()}"


def test_in_colab_chapter_one_installs_helpers_from_the_site_and_runs(served_site, tmp_path):
    wheels = (ROOT / os.environ["WHEELHOUSE_PLATFORM_DIR"]).resolve()
    bin_dir, env = fresh_venv.create(tmp_path)
    # Colab's base: a Jupyter kernel (and the notebook runner), nothing of the book's.
    env |= {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}
    base = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "ipykernel", "nbclient"],
                          env=env, capture_output=True, text=True, timeout=900)
    assert base.returncode == 0, base.stderr[-3000:]
    nb = nbformat.read(CHAPTER, as_version=4)
    cell = first_cell.first_cell("https://github.com/example-org/inside-the-lstm", "main", site=served_site)
    nb = first_cell.with_first_cell(nb, cell)
    nb.cells.insert(0, nbformat.v4.new_code_cell(FAKE_COLAB))
    notebook = tmp_path / CHAPTER.name
    nbformat.write(nb, notebook)
    cells = fresh_venv.run_notebook(bin_dir, env, notebook, tmp_path)
    fresh_venv.assert_ran(cells, bin_dir)
    installed = subprocess.run([str(bin_dir / "python"), "-m", "pip", "show", "inside-the-lstm-helpers"],
                               env=env, capture_output=True, text=True)
    assert "Version:" in installed.stdout, "helpers were not installed by the set-up cell"
