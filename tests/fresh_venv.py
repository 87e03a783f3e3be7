"""A learner's machine for the kit and hosted-install tests: a fresh venv, offline pip, a notebook run.

Used by tests/test_kit.py and tests/test_hosted.py.
"""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import nbformat

#: Appended to the notebook: which Python ran it and where helpers came from.
PROBE = "import helpers, sys; print(sys.executable); print(helpers.__file__)"
RUN = """\
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells.append(nbformat.v4.new_code_cell(sys.argv[4]))
NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
               resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, sys.argv[2])
"""


def create(folder: Path) -> tuple[Path, dict[str, str]]:
    """A fresh venv in ``folder``: its bin folder, and an environment with no way back to the checkout.

    No PYTHONPATH, no pip configuration or index settings, no Jupyter paths:
    only what a machine with nothing but Python would have.
    """
    venv.create(folder / "venv", with_pip=True)
    bin_dir = folder / "venv" / ("Scripts" if os.name == "nt" else "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "JUPYTER"))}
    env |= {"PIP_CONFIG_FILE": os.devnull, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "JUPYTER_DATA_DIR": str(folder / "jupyter-data")}
    return bin_dir, env


def run_notebook(bin_dir: Path, env: dict[str, str], notebook: Path, cwd: Path) -> list[dict]:
    """Execute ``notebook`` on the venv's own kernel in ``cwd``; returns its cells with outputs."""
    out = cwd / f"executed-{notebook.name}"
    run = subprocess.run([str(bin_dir / "python"), "-c", RUN, str(notebook), str(out), str(cwd), PROBE],
                         cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-3000:]
    return nbformat.read(out, as_version=4).cells  # nbformat joins multi-line sources and texts


def assert_ran(cells: list[dict], bin_dir: Path) -> None:
    """No error but a stub's or an announced one, and the kernel was the venv's with its own helpers."""
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        if "student_stub" in cell["metadata"]:
            assert [e["ename"] for e in errors] == ["NotImplementedError"], cell["source"]
        elif "raises-exception" not in cell["metadata"].get("tags", []):
            assert not errors, f"{errors[0]['ename']}: {errors[0]['evalue']} in\n{cell['source']}"
    executable, helpers_file = "".join(o.get("text", "") for o in cells[-1]["outputs"]).split()
    assert Path(executable).parent == bin_dir, executable
    assert Path(helpers_file).is_relative_to(bin_dir.parent), helpers_file
