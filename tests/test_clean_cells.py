"""tests/clean_cells.py: nbval fails a cell that writes to stderr, and passes a quiet one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_nbval(tmp_path: Path, *sources: str) -> subprocess.CompletedProcess:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "probe.ipynb")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "-p", "tests.clean_cells",
         "--rootdir", str(tmp_path), str(tmp_path / "probe.ipynb")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


def test_quiet_cells_pass(tmp_path):
    result = run_nbval(tmp_path, "x = 1", "print('stdout is fine')")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


@pytest.mark.parametrize(
    "noise, shown",
    [
        ("import warnings\nwarnings.warn('careful')", "UserWarning: careful"),
        ("import os\nos.write(2, b'I0000 a C++ log line\\n')", "a C++ log line"),
        ("import logging\nlogging.getLogger('x').warning('logged')", "logged"),
    ],
    ids=["python-warning", "file-descriptor-2", "logging"],
)
def test_a_cell_writing_to_stderr_fails(tmp_path, noise, shown):
    result = run_nbval(tmp_path, "x = 1", noise)
    assert result.returncode == 1, result.stdout
    assert "1 failed, 1 passed" in result.stdout
    assert "wrote to stderr" in result.stdout and shown in result.stdout
