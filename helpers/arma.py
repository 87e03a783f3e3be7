"""ARMA inputs with a planted white box: time_interpret's rare-feature and rare-time experiments.

Explained in chapter 9 (learned masks and TIMING) and used by
``benchmarks/reproduce_arma.py``. Each feature of each sample is an ARMA series
with AR lag polynomial ``[2, 0.5, 0.2, 0.1]`` and MA polynomial ``[2]`` (zero lag
included, as statsmodels' ``ArmaProcess`` takes them), ``T = F = 50``. The white
box squares and sums the planted cells: in the rare-feature task 5 features
over the middle half of time, in the rare-time task 5 steps over the middle
half of the features (Crabbé & van der Schaar 2021; Enguehard 2023).
"""

from __future__ import annotations

import keras
import numpy as np
from scipy.signal import lfilter

AR = (2.0, 0.5, 0.2, 0.1)
MA = (2.0,)


def arma_inputs(n: int, *, T: int = 50, F: int = 50, seed: int = 0) -> np.ndarray:
    """``n`` ARMA samples, float32 ``(n, T, F)``: unit normal noise filtered along time."""
    noise = np.random.default_rng(seed).normal(size=(int(n), int(T), int(F)))
    return lfilter(MA, AR, noise, axis=1).astype(np.float32)


def planted(task: str, *, T: int = 50, F: int = 50, subset: int = 5, seed: int = 0) -> np.ndarray:
    """The truly salient cells, bool ``(T, F)``, shared by every sample (as in time_interpret).

    ``task``: ``"rare-feature"`` (``subset`` random features, steps ``T/4 .. 3T/4``) or
    ``"rare-time"`` (``subset`` consecutive random steps, features ``F/4 .. 3F/4``).
    """
    rng = np.random.default_rng(seed)
    truth = np.zeros((T, F), bool)
    if task == "rare-feature":
        truth[T // 4 : 3 * T // 4, rng.permutation(F)[:subset]] = True
    elif task == "rare-time":
        start = int(rng.integers(0, T - subset))
        truth[start : start + subset, F // 4 : 3 * F // 4] = True
    else:
        raise ValueError(f'expected task "rare-feature" or "rare-time", got {task!r}')
    return truth


def white_box(truth: np.ndarray, *, per_step: bool = False) -> keras.Model:
    """``f(x) = sum of x^2 over the planted cells``: a Keras model ``(n, T, F) -> (n, 1)``.

    ``per_step=True``: one output per time step, the sum over that step's planted
    cells, ``(n, T, F) -> (n, T)`` (time_interpret's ``Arma.get_white_box``, which
    its masks are trained to keep whole).
    """
    truth = np.asarray(truth, bool)
    if truth.ndim != 2:
        raise ValueError(f"expected planted cells of shape (T, F), got shape {truth.shape}")
    if not isinstance(per_step, bool):
        raise ValueError(f"expected per_step True or False, got {per_step!r}")
    weight = keras.ops.convert_to_tensor(truth.astype("float32"))
    inputs = keras.Input(truth.shape)
    if per_step:
        out = keras.layers.Lambda(
            lambda x: keras.ops.sum(keras.ops.square(x) * weight, axis=2), name="white_box"
        )(inputs)
    else:
        out = keras.layers.Lambda(
            lambda x: keras.ops.sum(keras.ops.square(x) * weight, axis=(1, 2))[:, None], name="white_box"
        )(inputs)
    return keras.Model(inputs, out)
