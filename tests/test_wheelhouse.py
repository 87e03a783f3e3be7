"""The offline room: `make wheelhouse` downloads every wheel, and a fresh venv installs from it with no index.

`make wheelhouse-test` downloads this platform's wheels (cheap once pip's cache
holds them) and runs this file with WHEELHOUSE_PLATFORM_DIR set.
"""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

from tools import wheelhouse

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = ["helpers", "tensorflow", "keras", "numpy", "shap", "sklearn", "matplotlib", "aeon", "pandas",
           "jupyterlab", "jupyterlab_myst", "ipykernel", "nbval", "jupyter_book", "sphinx_exercise", "pytest",
           "hypothesis", "playwright", "ruff"]


def test_requirements_drop_the_editable_line_and_add_its_build_backend(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("# comment\nnumpy>=1.26,<3  # arrays\n\n-e .\n")
    assert wheelhouse.requirements(path) == ["numpy>=1.26,<3", "setuptools>=68"]


def test_every_learner_platform_and_python_has_a_binary_only_download():
    for plat in ("linux-x86_64", "macos-arm64", "windows-x86_64"):
        for python in ("3.11", "3.12"):
            command = wheelhouse.download_command(plat, python, Path("r.txt"), Path("out"))
            assert "--only-binary=:all:" in command and command[command.index("--python-version") + 1] == python
            tags = [command[i + 1] for i, a in enumerate(command) if a == "--platform"]
            assert tags == wheelhouse.PLATFORMS[plat]
    # pip does not expand manylinux_2_x tags: TensorFlow's manylinux_2_27 wheel must be listed.
    assert "manylinux_2_27_x86_64" in wheelhouse.PLATFORMS["linux-x86_64"]


@pytest.mark.parametrize("plat, python", [("solaris-sparc", "3.11"), ("linux-x86_64", "311")])
def test_bad_platform_or_python_is_refused(plat, python):
    with pytest.raises(ValueError, match="expected"):
        wheelhouse.download_command(plat, python, Path("r.txt"), Path("out"))


def test_this_machine_is_a_learner_platform():
    assert wheelhouse.current_platform() in wheelhouse.PLATFORMS


@pytest.mark.skipif(not os.environ.get("WHEELHOUSE_PLATFORM_DIR"), reason="run by `make wheelhouse-test`")
def test_fresh_venv_installs_from_the_wheelhouse_with_no_index(tmp_path):
    wheels = ROOT / os.environ["WHEELHOUSE_PLATFORM_DIR"]
    assert any(wheels.glob("tensorflow-*.whl")), f"no TensorFlow wheel in {wheels}"
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # Only the wheelhouse: no index, no pip configuration, no find-links from the environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")} | {"PIP_CONFIG_FILE": os.devnull}
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--find-links",
                              str(wheels), "-r", "requirements.txt"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=1800)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    program = f"import importlib\nfor name in {IMPORTS!r}:\n    importlib.import_module(name)\nprint('imported')"
    result = subprocess.run([str(python), "-c", program], cwd=tmp_path, env=env | {"TF_CPP_MIN_LOG_LEVEL": "3"},
                            capture_output=True, text=True, timeout=600)
    assert result.stdout.strip() == "imported", result.stderr[-3000:]
