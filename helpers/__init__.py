"""The small library behind *Inside the LSTM*.

Each module holds one idea and names the chapter that explains it. Importing the
package quiets TensorFlow's C++ logging before TensorFlow is first imported, so
executed pages show no log noise.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# oneDNN reorders float sums between runs; switching it off keeps numbers repeatable.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__all__ = [
    "attention",
    "compare",
    "data",
    "evaluation",
    "gradients",
    "hidden",
    "models",
    "perturbation",
    "plotting",
    "shapley",
    "tsr",
]
