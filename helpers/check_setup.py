"""Check that this machine can run the book: `python -m helpers.check_setup`.

Used at the start of a workshop (see ``book/workshop.md``): prints the versions
of the required packages, whether JupyterLab runs and renders the chapters'
MyST markup (the jupyterlab-myst extension), whether TensorFlow sees a GPU (the
book does not need one), and how long a small LSTM takes to train here, and
says what is missing and how to fix it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import re
import subprocess
import sys
import time

#: (import name, distribution name, why the book needs it)
REQUIRED = [
    ("tensorflow", "tensorflow", "the models (with Keras 3)"),
    ("keras", "keras", "Keras 3, the model API"),
    ("numpy", "numpy", "arrays"),
    ("shap", "shap", "chapter 4, SHAP"),
    ("sklearn", "scikit-learn", "chapter 5, PCA, t-SNE and probes"),
    ("matplotlib", "matplotlib", "every figure"),
    ("myst_nb", "myst-nb", "the chapters' numbers, glued into the text"),
    ("jupyterlab", "jupyterlab", "running the chapters (`make lab`)"),
    ("jupyterlab_myst", "jupyterlab-myst", "exercises and notes rendered in JupyterLab"),
]
#: Needed in a clone of the repository only (the student kit leaves them out).
FOR_AUTHORS = [
    ("jupyter_book", "jupyter-book", "building the website"),
    ("nbval", "nbval", "running the chapters as tests"),
]
FIX = ("run `make install` in the repository (or `pip install -r requirements.txt`; "
       "in the student kit, its README's install command)")


def package_report() -> tuple[list[str], list[str]]:
    """Lines describing each required package, and the names that are missing."""
    lines, missing = [], []
    for module, dist, why in REQUIRED:
        try:
            importlib.import_module(module)
            version = importlib.metadata.version(dist)
            lines.append(f"  ok       {dist:16} {version:12} {why}")
        except Exception as error:  # a broken install fails in many ways; report it plainly
            missing.append(dist)
            lines.append(f"  MISSING  {dist:16} {'-':12} {why} ({type(error).__name__}: {error})")
    for module, dist, why in FOR_AUTHORS:
        if importlib.util.find_spec(module) is None:
            lines.append(f"  absent   {dist:16} {'-':12} {why} (not needed to run the chapters)")
        else:
            lines.append(f"  ok       {dist:16} {importlib.metadata.version(dist):12} {why}")
    return lines, missing


def jupyter_report() -> list[str]:
    """Problems with JupyterLab and its MyST extension, each with its fix (empty when fine)."""
    command = [sys.executable, "-m", "jupyter", "labextension", "list"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        return [f"`jupyter labextension list` did not run ({error}). To fix: {FIX}."]
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # drop colour codes
    if result.returncode != 0:
        return [f"`jupyter labextension list` failed: {text.strip()[-300:]}. To fix: {FIX}."]
    myst = [line for line in text.splitlines() if "jupyterlab-myst" in line and " v" in line]
    if not myst:
        return [f"JupyterLab does not list the jupyterlab-myst extension: exercises and notes "
                f"would show as raw text. To fix: {FIX}."]
    if "enabled" not in myst[0] or "OK" not in myst[0] or "not compatible" in text:
        detail = " ".join(text[text.find('"jupyterlab-myst@'):].split()) if '"jupyterlab-myst@' in text else myst[0]
        return [f"jupyterlab-myst cannot load in this JupyterLab: {detail[:300]}. "
                f"To fix: {FIX} (requirements.txt pins JupyterLab to a version the extension supports)."]
    return []


def keras_major() -> int:
    """The installed Keras major version (the book needs 3)."""
    return int(importlib.metadata.version("keras").split(".")[0])


def time_small_lstm(n: int = 1000, epochs: int = 3) -> float:
    """Seconds to train a 32-unit LSTM on ``n`` stock windows for ``epochs`` epochs."""
    from helpers import data, models

    task = data.make_stock_task(n=n)
    X = data.Standardizer().fit_transform(task.X_train)
    model = models.build_lstm(5, 3, units=32)
    start = time.perf_counter()
    models.fit(model, X, task.y_train, epochs=epochs)
    return time.perf_counter() - start


def main() -> int:
    """Print the report; return 0 when the book can run here, 1 otherwise."""
    print(f"Python {sys.version.split()[0]} ({sys.executable})")
    if sys.version_info < (3, 10):  # noqa: UP036  (the check is for people on older Pythons)
        print(f"  Python 3.10 or newer is needed, got {sys.version_info.major}.{sys.version_info.minor}")
        return 1
    lines, missing = package_report()
    print("Packages:")
    print("\n".join(lines))
    if missing:
        print(f"\nMissing or broken: {', '.join(missing)}. To fix: {FIX}.")
        return 1
    if keras_major() < 3:
        print(f"\nKeras {importlib.metadata.version('keras')} is too old: the book needs Keras 3. To fix: {FIX}.")
        return 1
    problems = jupyter_report()
    print("Jupyter: " + ("JupyterLab with jupyterlab-myst: ok" if not problems else "PROBLEM"))
    if problems:
        print("\n".join(problems))
        return 1
    from helpers.quiet import start_tensorflow

    start_tensorflow()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    print(f"GPU: {'found ' + str(len(gpus)) if gpus else 'none (fine: the book runs on a CPU)'}")
    seconds = time_small_lstm()
    verdict = "fine" if seconds < 30 else "slow: expect chapters to take several minutes"
    print(f"Training a small LSTM (1000 sequences, 3 epochs): {seconds:.1f} s ({verdict})")
    print("\nAll set: open JupyterLab (`make lab` in the repository, `python -m jupyter lab` "
          "in the student kit), open a chapter and choose Run All.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
