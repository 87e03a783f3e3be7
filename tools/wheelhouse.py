"""Wheels for a workshop room without internet: `python -m tools.wheelhouse`.

Explained in ``book/workshop.md`` ("An offline room"). ``make wheelhouse``
downloads, for every learner platform and Python version below, every wheel
that ``requirements.txt`` needs into ``wheelhouse/<platform>/``; ``make install
OFFLINE=1`` then installs from that folder with ``pip --no-index``. The
editable ``-e .`` line is built from source, so its build backend (setuptools)
is downloaded too. Beside the ranges it downloads the exact versions the
book was tested with (``pinned``: those installed where the wheelhouse is
made), which the student kit's ``requirements.txt`` names (``tools.kit``).
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
import subprocess
import sys
from pathlib import Path

#: Learner platforms: folder name -> the wheel platform tags pip may pick.
#: pip expands macOS tags to older releases itself, but not manylinux_2_x ones.
PLATFORMS: dict[str, list[str]] = {
    "linux-x86_64": [f"manylinux_2_{minor}_x86_64" for minor in range(28, 16, -1)]
    + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"],
    # macOS 12 is the oldest release TensorFlow publishes arm64 wheels for.
    "macos-arm64": ["macosx_12_0_arm64"],
    "windows-x86_64": ["win_amd64"],
}
PYTHONS = ["3.11", "3.12"]
#: How the set-up page (book/setup.md) and the student kit's README name each platform.
PLATFORM_NAMES = {
    "linux-x86_64": "Linux (x86-64)",
    "macos-arm64": "macOS 12 or newer on Apple silicon (arm64)",
    "windows-x86_64": "Windows (x86-64)",
}
#: What pip needs, besides the requirements, to build `-e .` with --no-index.
BUILD_REQUIREMENTS = ["setuptools>=68"]


def requirements(path: Path) -> list[str]:
    """The requirement lines of ``path`` to download: no comments, no ``-e .``, plus the build backend."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-e"):
            lines.append(line)
    return lines + BUILD_REQUIREMENTS


def requirement_names(lines: list[str]) -> list[str]:
    """The distribution names in requirement ``lines``, in order (comments and ``-e .`` skipped)."""
    names = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0])
    return names


def pinned(names: list[str]) -> list[str]:
    """``name==version`` for each of ``names`` as installed in this Python: what the book was tested with."""
    lines = []
    for name in names:
        try:
            lines.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            raise ValueError(f"expected {name!r} installed to pin its tested version, got no such package") from None
    return lines


def current_platform() -> str:
    """The ``PLATFORMS`` key of this machine; ``ValueError`` on any other."""
    system, machine = platform.system(), platform.machine().lower()
    key = {
        ("Linux", "x86_64"): "linux-x86_64",
        ("Darwin", "arm64"): "macos-arm64",
        ("Windows", "amd64"): "windows-x86_64",
    }.get((system, machine))
    if key is None:
        raise ValueError(f"expected one of {sorted(PLATFORMS)}, got {system} {machine}")
    return key


def download_command(plat: str, python: str, requirement_file: Path, dest: Path) -> list[str]:
    """The ``pip download`` command for one platform key and one ``"3.x"`` Python version."""
    if plat not in PLATFORMS:
        raise ValueError(f"expected a platform in {sorted(PLATFORMS)}, got {plat!r}")
    if not python.startswith("3.") or not python[2:].isdigit():
        raise ValueError(f"expected a Python version such as {PYTHONS[0]!r}, got {python!r}")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
    for tag in PLATFORMS[plat]:
        command += ["--platform", tag]
    return command + ["--python-version", python, "--implementation", "cp",
                      "-r", str(requirement_file), "--dest", str(dest)]


def folder_size(folder: Path) -> int:
    """Total bytes of the wheels in ``folder``."""
    return sum(p.stat().st_size for p in folder.glob("*.whl"))


def main(argv: list[str]) -> int:
    """``python -m tools.wheelhouse [DEST] [--current]``: download, then print sizes."""
    current = "--current" in argv
    args = [a for a in argv if a != "--current"]
    dest = Path(args[0] if args else "wheelhouse")
    root = Path(__file__).resolve().parents[1]
    dest.mkdir(parents=True, exist_ok=True)
    wanted = dest / "requirements-wheelhouse.txt"
    needed = root / "requirements.txt"
    wanted.write_text("\n".join(requirements(needed) + pinned(requirement_names(needed.read_text().splitlines()))) + "\n")
    plats = [current_platform()] if current else list(PLATFORMS)
    pythons = [f"{sys.version_info.major}.{sys.version_info.minor}"] if current else PYTHONS
    for plat in plats:
        for python in pythons:
            print(f"downloading wheels for {plat}, Python {python}", flush=True)
            subprocess.run(download_command(plat, python, wanted, dest / plat), check=True)
    for plat in plats:
        size = folder_size(dest / plat)
        print(f"{plat}: {size / 1e6:.0f} MB in {dest / plat}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
