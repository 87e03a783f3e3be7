"""A newcomer's `make book` log is clean: no kernel start-up warning per chapter.

The build executes each chapter through myst-nb's cache mode (jupyter-cache's
single_nb_execution); the kernel inherits the build's environment, where the
Makefile sets IPYTHONDIR to a profile holding book/_kernel's config.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "book" / "_kernel" / "ipython_kernel_config.py"
WARNING = "Kernel is running over TCP without encryption"
EXECUTE = """\
import nbformat
from jupyter_cache.executors.utils import single_nb_execution
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
result = single_nb_execution(nb, cwd=".", timeout=120, allow_errors=False)
print("executed", result.err, nb.cells[0].outputs[0]["text"].strip())
"""


def execute_like_the_build(tmp_path: Path, profile: Path | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "IPYTHONDIR"}
    env["IPYTHONDIR"] = str(profile) if profile else str(tmp_path / "bare")
    return subprocess.run([sys.executable, "-c", EXECUTE], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def build_profile(tmp_path):
    """The IPython folder `make book` prepares, made the Makefile's way."""
    recipe = (ROOT / "Makefile").read_text().split("\nbook:")[1].split("\n\n")[0]
    folder = re.search(r"^KERNEL_PROFILE := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert "cp book/_kernel/ipython_kernel_config.py $(KERNEL_PROFILE)/profile_default/" in recipe
    assert "IPYTHONDIR=$(CURDIR)/$(KERNEL_PROFILE) $(BIN)/jupyter-book build" in recipe
    assert folder.startswith("_build/")  # generated, never committed
    profile = tmp_path / "ipython"
    (profile / "profile_default").mkdir(parents=True)
    shutil.copy(CONFIG, profile / "profile_default")
    return profile


def test_the_build_s_kernels_start_without_the_tcp_warning(tmp_path, build_profile):
    result = execute_like_the_build(tmp_path, build_profile)
    assert "executed None 42" in result.stdout, result.stdout + result.stderr
    assert WARNING not in result.stderr + result.stdout, result.stderr


def test_without_the_profile_the_warning_appears(tmp_path):
    """The check above can fail: a kernel without the build's profile logs the warning."""
    result = execute_like_the_build(tmp_path, None)
    assert "executed None 42" in result.stdout, result.stdout + result.stderr
    assert WARNING in result.stderr, "ipykernel no longer warns: book/_kernel's config may be dropped"
