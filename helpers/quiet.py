"""Start TensorFlow without log noise: the set-up cell of every chapter calls it.

Explained in ``book/setup.md`` ("A clean run"). TensorFlow's C++ libraries
write to the process's stderr while they load and when they first look for a
GPU (the oneDNN banner, "Could not find cuda drivers", "failed call to
cuInit"). Those lines are printed before TensorFlow reads
``TF_CPP_MIN_LOG_LEVEL``, so the variable alone cannot hide them, and Jupyter
copies everything written to stderr into the cell. ``start_tensorflow`` sets
the variables, then imports TensorFlow and lists its devices with stderr
pointed at the null device, and restores stderr afterwards.
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager

#: Environment set before TensorFlow loads. Level 3 also hides C++ ERROR lines
#: such as "NodeDef mentions attribute use_unbounded_threadpool", which report
#: version skew inside TensorFlow that a reader can do nothing about.
TF_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "KERAS_BACKEND": "tensorflow",
    # oneDNN reorders float sums between runs; switching it off keeps numbers repeatable.
    "TF_ENABLE_ONEDNN_OPTS": "0",
}


@contextmanager
def stderr_silenced():
    """Point file descriptor 2 at the null device for the duration of the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(null)
        os.close(saved)


def start_tensorflow() -> bool:
    """Import TensorFlow quietly; False when it was already imported (too late to hide its start-up lines)."""
    # shap imports tqdm.auto, which warns in a notebook without ipywidgets; the
    # book silences shap's progress bars, so the warning has nothing to say.
    warnings.filterwarnings("ignore", message="IProgress not found")
    if "tensorflow" in sys.modules:
        return False
    for name, value in TF_ENVIRONMENT.items():
        os.environ[name] = value
    with stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
        # The first op creates the device; cuInit is called there on Linux.
        tf.constant(0.0).numpy()
    return True
