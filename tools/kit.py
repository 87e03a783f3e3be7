"""The student kit: one zip a learner unzips and installs, online or from a wheelhouse.

Linked from ``book/workshop.md`` ("Getting the notebooks"); the website build
writes it (``book/_ext/offline_site.py``) and ``make student`` writes the same
zip to ``student/``. Inside one folder it holds the student copies of the
chapters (``tools.student``), the ``helpers`` package as a wheel built here, a
``requirements.txt`` pinned to the versions the book was tested with (those
installed where the kit is made, the same pins the wheelhouse downloads:
``tools.wheelhouse.pinned``) and a README whose two commands install and open
JupyterLab. ``tests/test_kit.py`` follows that README in an empty folder.
Run as ``python -m tools.kit NOTEBOOK_DIR ZIP``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest brings tomli, the same parser
    import tomli as tomllib

from tools import student, wheelhouse

ROOT = Path(__file__).resolve().parents[1]
FOLDER = "inside-the-lstm-student"
#: Besides what ``helpers`` imports (pyproject's dependencies): running the chapters.
LAB = ["jupyterlab", "jupyterlab-myst", "ipykernel"]
#: The README's offline install names the instructor's folder with this word.
WHEELHOUSE_WORD = "WHEELHOUSE"

README = """\
# Inside the LSTM: the student kit

The chapters of *Inside the LSTM* as exercise notebooks (each solution is a
stub for you to fill in), the book's `helpers` package (`wheels/`), and the
exact versions the book was tested with (`requirements.txt`). You need Python
{pythons} on {platforms}.

Open a terminal in this folder. We recommend a virtual environment first:
`python -m venv .venv`, then `source .venv/bin/activate` (macOS, Linux) or
`.venv\\Scripts\\activate` (Windows).

## 1. Install

With internet:

```bash
python -m pip install --find-links wheels -r requirements.txt
```

Without internet, from the folder of wheels your instructor hands out for your
platform (for example `../wheelhouse/linux-x86_64`; put its path in place of
`{word}`):

```bash
python -m pip install --no-index --find-links wheels --find-links {word} -r requirements.txt
```

## 2. Open JupyterLab

```bash
python -m jupyter lab
```

Open `01_running_examples.ipynb` and choose *Run All*.

## If something looks wrong

`python -m helpers.check_setup` prints the versions it finds, checks that
JupyterLab renders the notebooks' exercises and notes (jupyterlab-myst), times
a small LSTM, and says what to fix.
"""


def project(pyproject: Path = ROOT / "pyproject.toml") -> dict:
    """The ``[project]`` table of the checkout's ``pyproject.toml`` (name, version, dependencies)."""
    return tomllib.loads(pyproject.read_text())["project"]


def requirement_lines() -> list[str]:
    """The kit's pinned ``requirements.txt`` lines: helpers' dependencies, JupyterLab, then helpers itself."""
    table = project()
    names = wheelhouse.requirement_names(table["dependencies"])
    return wheelhouse.pinned(names + LAB) + [f"{table['name']}=={table['version']}"]


def wheel_name() -> str:
    """The file name of the helpers wheel ``build_wheel`` writes (the site serves it under this name)."""
    table = project()
    return f"{table['name'].replace('-', '_')}-{table['version']}-py3-none-any.whl"


def readme() -> str:
    """The kit's README, naming the Pythons and platforms the wheelhouse covers."""
    platforms = [wheelhouse.PLATFORM_NAMES[p] for p in wheelhouse.PLATFORMS]
    return README.format(pythons=" or ".join(wheelhouse.PYTHONS),
                         platforms=", ".join(platforms[:-1]) + " or " + platforms[-1], word=WHEELHOUSE_WORD)


def build_wheel(dest: Path, source: Path = ROOT) -> Path:
    """Build the ``helpers`` wheel into ``dest`` with no network; returns the ``.whl`` path.

    The build runs on a copy of ``pyproject.toml`` and ``helpers/`` so setuptools'
    ``build/`` and ``*.egg-info`` folders never land in the checkout.
    """
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copy(source / "pyproject.toml", work)
        shutil.copytree(source / "helpers", work / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
        # No build isolation: the installed setuptools builds it, so no index is needed.
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                                 "--no-build-isolation", ".", "-w", str(work / "out")],
                                cwd=work, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"building the helpers wheel failed:\n{result.stdout}{result.stderr}")
        [wheel] = (work / "out").glob("*.whl")
        target = dest / wheel.name
        shutil.copy(wheel, target)
    return target


def write_kit(notebook_dir: Path, target: Path, wheel: Path | None = None) -> Path:
    """Write the kit zip ``target`` from the chapters in ``notebook_dir``; builds the wheel unless given."""
    if not any(notebook_dir.glob("*.ipynb")):
        raise ValueError(f"expected chapters (*.ipynb) in {notebook_dir}, got none")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        notebooks = student.generate(notebook_dir, work / "notebooks")
        wheel = wheel or build_wheel(work / "wheels")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in notebooks:
                archive.write(path, f"{FOLDER}/{path.name}")
            archive.write(wheel, f"{FOLDER}/wheels/{wheel.name}")
            archive.writestr(f"{FOLDER}/requirements.txt", "\n".join(requirement_lines()) + "\n")
            archive.writestr(f"{FOLDER}/README.md", readme())
    return target


def main(argv: list[str]) -> int:
    """``python -m tools.kit NOTEBOOK_DIR ZIP``: write the kit and print its size."""
    if len(argv) != 2:
        raise SystemExit("usage: python -m tools.kit NOTEBOOK_DIR ZIP")
    target = write_kit(Path(argv[0]), Path(argv[1]))
    print(f"wrote {target} ({target.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
