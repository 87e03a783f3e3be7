"""The student kit stands alone: unzip it, follow its README offline, and chapter 1 runs.

`make wheelhouse-test` downloads this platform's wheels and runs this file with
WHEELHOUSE_PLATFORM_DIR set; without it only the fast checks run (`make unit`).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests import fresh_venv
from tools import kit, wheelhouse

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "01_running_examples.ipynb"


@pytest.fixture(scope="module")
def kit_zip(tmp_path_factory):
    return kit.write_kit(ROOT / "notebooks", tmp_path_factory.mktemp("kit") / "kit.zip")


def test_the_zip_holds_notebooks_wheel_pinned_requirements_and_readme(kit_zip):
    with zipfile.ZipFile(kit_zip) as archive:
        names = set(archive.namelist())
        requirements = archive.read(f"{kit.FOLDER}/requirements.txt").decode().split()
    chapters = {f"{kit.FOLDER}/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert chapters <= names
    wheels = [n for n in names if n.startswith(f"{kit.FOLDER}/wheels/")]
    assert len(wheels) == 1 and wheels[0].endswith("-py3-none-any.whl")
    assert f"{kit.FOLDER}/README.md" in names
    # Every line is an exact pin; helpers last, at the version of the wheel beside it.
    assert all("==" in line for line in requirements)
    assert requirements[-1] == f"inside-the-lstm-helpers=={Path(wheels[0]).name.split('-')[1]}"


def test_the_wheel_holds_every_helpers_module(kit_zip, tmp_path):
    with zipfile.ZipFile(kit_zip) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".whl")]
        (tmp_path / "h.whl").write_bytes(archive.read(name))
    with zipfile.ZipFile(tmp_path / "h.whl") as wheel:
        inside = {n for n in wheel.namelist() if n.startswith("helpers/")}
    assert inside == {f"helpers/{p.name}" for p in (ROOT / "helpers").glob("*.py")}
    assert not (ROOT / "build").exists(), "the wheel build must not write into the checkout"


def test_pins_are_the_installed_versions_and_inside_the_ranges():
    from importlib.metadata import version

    pins = dict(line.split("==") for line in kit.requirement_lines())
    assert {"tensorflow", "keras", "shap", "jupyterlab", "jupyterlab-myst", "ipykernel"} <= set(pins)
    assert pins["tensorflow"] == version("tensorflow")
    # The wheelhouse downloads the same pins, so an offline install can find them.
    ranges = wheelhouse.requirement_names((ROOT / "requirements.txt").read_text().splitlines())
    assert set(pins) - {"inside-the-lstm-helpers"} <= set(ranges)


def test_pinning_an_absent_package_is_refused():
    with pytest.raises(ValueError, match="expected 'no-such-pkg-xyz' installed"):
        wheelhouse.pinned(["no-such-pkg-xyz"])


def test_an_empty_notebook_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"expected chapters \(\*.ipynb\)"):
        kit.write_kit(tmp_path, tmp_path / "kit.zip")


def offline_section(text: str) -> str:
    return text.split("## Which Python, which platform")[1].split("\n## ")[0]


def test_the_setup_page_states_exactly_what_the_wheelhouse_covers():
    section = offline_section((ROOT / "book" / "setup.md").read_text())
    claim = " ".join(section.split("covers exactly")[1].split(". ")[0].split())
    pythons = re.findall(r"Python (\d\.\d+) and (\d\.\d+)", claim)
    assert pythons and list(pythons[0]) == wheelhouse.PYTHONS, claim
    named = re.findall(r"\*\*([^*]+)\*\*", claim)[1:]  # the first bold names the Pythons
    assert named == [wheelhouse.PLATFORM_NAMES[p] for p in wheelhouse.PLATFORMS], claim
    # What it says is missing is missing.
    assert "Intel Macs" in section and not any("x86_64" in tag for tag in wheelhouse.PLATFORMS["macos-arm64"])


def test_the_setup_page_check_can_fail():
    text = (ROOT / "book" / "setup.md").read_text().replace("Python 3.11 and 3.12", "Python 3.10 and 3.12")
    claim = offline_section(text).split("covers exactly")[1]
    assert list(re.findall(r"Python (\d\.\d+) and (\d\.\d+)", claim)[0]) != wheelhouse.PYTHONS


def readme_command(readme: str, marker: str) -> list[str]:
    """The README's one command line that contains ``marker``, split as a shell would."""
    [line] = [line for line in readme.splitlines() if line.startswith("python -m") and marker in line]
    return shlex.split(line)


def test_the_readme_has_one_install_per_path_and_the_lab_command():
    text = kit.readme()
    assert readme_command(text, "--no-index")[-2:] == ["-r", "requirements.txt"]
    assert "--no-index" not in readme_command(text, "--find-links wheels -r")
    assert readme_command(text, "jupyter lab") == ["python", "-m", "jupyter", "lab"]


@pytest.mark.skipif(not os.environ.get("WHEELHOUSE_PLATFORM_DIR"), reason="run by `make wheelhouse-test`")
def test_unzipped_kit_installs_offline_and_runs_chapter_one(kit_zip, tmp_path):
    wheels = (ROOT / os.environ["WHEELHOUSE_PLATFORM_DIR"]).resolve()
    empty = tmp_path / "learner"
    empty.mkdir()
    with zipfile.ZipFile(kit_zip) as archive:
        archive.extractall(empty)
    folder = empty / kit.FOLDER
    bin_dir, env = fresh_venv.create(tmp_path)
    python = str(bin_dir / "python")
    install = readme_command((folder / "README.md").read_text(), "--no-index")
    install = [python if a == "python" else str(wheels) if a == kit.WHEELHOUSE_WORD else a for a in install]
    result = subprocess.run(install + ["--quiet"], cwd=folder, env=env, capture_output=True, text=True,
                            timeout=1800)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    check = subprocess.run([python, "-m", "helpers.check_setup"], cwd=folder, env=env,
                           capture_output=True, text=True, timeout=900)
    assert check.returncode == 0 and "All set" in check.stdout, check.stdout[-3000:] + check.stderr[-2000:]

    fresh_venv.assert_ran(fresh_venv.run_notebook(bin_dir, env, folder / CHAPTER, tmp_path), bin_dir)
