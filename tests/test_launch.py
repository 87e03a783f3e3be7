"""Chapters that stand alone: the repository setting, the set-up cell, Binder, the buttons.

See tools/repository.py, tools/first_cell.py and book/_ext/offline_site.py.
The built site is checked in tests/test_site_links.py.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from tools import first_cell, kit
from tools.repository import PLACEHOLDER_URL, repository, site

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REAL = "https://github.com/example-org/inside-the-lstm"


def config_with(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "_config.yml"
    path.write_text(f"title: t\nrepository:\n  url: {url}\n  branch: main\n")
    return path


def test_placeholder_and_empty_addresses_mean_no_repository(tmp_path):
    assert repository(config_with(tmp_path, PLACEHOLDER_URL)) == (None, "main")
    assert repository(config_with(tmp_path, '""')) == (None, "main")
    assert repository(config_with(tmp_path, REAL + "/")) == (REAL, "main")


def test_a_non_https_address_is_refused(tmp_path):
    with pytest.raises(ValueError, match="https:// address, got 'git@github.com:a/b'"):
        repository(config_with(tmp_path, "git@github.com:a/b"))


@pytest.mark.parametrize("url", [None, REAL])
def test_generated_cell_is_lint_clean_python_with_short_lines(url, tmp_path):
    source = first_cell.cell_source(url, "main")
    compile(source, "first_cell", "exec")
    assert max(len(line) for line in source.splitlines()) <= 79
    (tmp_path / "cell.py").write_text(source)
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", "E,F,W,B",
                           "--ignore", "E402", str(tmp_path / "cell.py")], capture_output=True, text=True)
    assert ruff.returncode == 0, ruff.stdout
    joined = re.sub(r'"\n +"', "", source)  # long strings are split into adjacent literals
    assert (REAL in joined) == (url is not None) and PLACEHOLDER_URL not in joined


def run_cell_without_helpers(source: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the cell in a Python that cannot import helpers (-S: no site-packages) and show its error as IPython does."""
    program = (
        f"try:\n    exec(compile({source!r}, 'cell', 'exec'))\n"
        "except Exception as error:\n"
        "    print('\\n'.join(error._render_traceback_()) if hasattr(error, '_render_traceback_') else repr(error))\n"
    )
    return subprocess.run([sys.executable, "-S", "-c", program], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_outside_the_repository_the_cell_stops_with_one_line(tmp_path):
    result = run_cell_without_helpers(first_cell.cell_source(None, "main"), tmp_path)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("helpers not found: clone"), result.stdout + result.stderr
    assert "make install" in lines[0]


def test_with_a_repository_the_stop_line_says_what_to_pip_install(tmp_path):
    result = run_cell_without_helpers(first_cell.cell_source(REAL, "main"), tmp_path)
    lines = result.stdout.strip().splitlines()
    wheel = f"https://example-org.github.io/inside-the-lstm/{kit.wheel_name()}"
    assert len(lines) == 1 and f"pip install {wheel}`" in lines[0], result.stdout + result.stderr


@pytest.mark.parametrize("url, baseurl, expected", [
    (REAL, None, "https://example-org.github.io/inside-the-lstm"),
    ("https://github.com/Example-Org/example-org.github.io", None, "https://example-org.github.io"),
    (REAL, "https://lstm.example.net/", "https://lstm.example.net"),
    (PLACEHOLDER_URL, "https://lstm.example.net", None),
])
def test_the_site_address_follows_github_pages_or_the_base_url(tmp_path, url, baseurl, expected):
    path = config_with(tmp_path, url)
    if baseurl:
        path.write_text(path.read_text() + f"html:\n  baseurl: {baseurl}\n")
    assert site(path) == expected


def test_a_repository_outside_github_needs_a_base_url(tmp_path):
    with pytest.raises(ValueError, match="expected html.baseurl"):
        site(config_with(tmp_path, "https://gitlab.com/a/b"))


def test_in_colab_the_cell_installs_the_wheel_from_the_site():
    source = first_cell.cell_source(REAL, "main", site="http://127.0.0.1:8123/")
    assert '"google.colab" in sys.modules' in source
    assert "".join(json.loads(s) for s in re.findall(r'^ +(".*")\)?$', source.split("wheel = (")[1].split(
        "subprocess.run")[0], re.M)) == f"http://127.0.0.1:8123/{kit.wheel_name()}"


def test_inside_a_clone_the_cell_finds_helpers_from_a_subfolder():
    # -S: no site-packages, so only the cell's upward search can find helpers.
    source = first_cell.cell_source(None, "main").replace("_ = start_tensorflow()", "")
    program = f"exec(compile({source!r}, 'cell', 'exec'))\nimport helpers\nprint(helpers.__file__)"
    result = subprocess.run([sys.executable, "-S", "-c", program], cwd=ROOT / "notebooks",
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == str(ROOT / "helpers" / "__init__.py"), result.stderr


def test_generator_inserts_once_before_the_first_code_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("x = 1")])
    cell = first_cell.first_cell(None, "main")
    once = first_cell.with_first_cell(nb, cell)
    twice = first_cell.with_first_cell(once, cell)
    assert [c.source for c in twice.cells] == ["# T", cell.source, "x = 1"]
    assert first_cell.generated_cell_of(twice).metadata["tags"] == ["remove-cell"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_starts_with_the_generated_cell(chapter):
    """Fails until `python -m tools.first_cell notebooks` has been run (and after the setting changes)."""
    nb = nbformat.read(chapter, as_version=4)
    current = first_cell.generated_cell_of(nb)
    assert current is not None, f"{chapter.name}: run `python -m tools.first_cell notebooks`"
    expected = first_cell.first_cell(*repository(), site=site()).source
    assert current.source == expected, f"{chapter.name}: stale set-up cell"


def load_extension():
    spec = importlib.util.spec_from_file_location("offline_site", ROOT / "book" / "_ext" / "offline_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("url, buttons", [(PLACEHOLDER_URL, False), (REAL, True)])
def test_buttons_only_with_a_real_repository(tmp_path, url, buttons):
    config_with(tmp_path, url)
    options = {"repository_url": url, "use_repository_button": True,
               "launch_buttons": {"binderhub_url": "https://mybinder.org"}}
    config = SimpleNamespace(html_theme_options=dict(options))
    load_extension()._hide_buttons_without_repository(SimpleNamespace(confdir=str(tmp_path)), config)
    assert ("repository_url" in config.html_theme_options) == buttons
    assert config.html_theme_options["use_repository_button"] == buttons
    assert bool(config.html_theme_options["launch_buttons"]) == buttons


def test_binder_builds_from_the_repository_as_it_is():
    # repo2docker reads requirements.txt at the root (its `-e .` line is installed
    # after the repository is copied in) and the Python version from runtime.txt.
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    assert (ROOT / "runtime.txt").read_text().strip() == "python-3.11"
    assert "jupyterlab-myst" in (ROOT / "requirements.txt").read_text()
