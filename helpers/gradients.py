"""Gradient attributions: saliency and integrated gradients.

Explained in chapter 2 (sensitivity analysis). Every gradient goes through
:func:`input_gradients`, one traced ``tf.function`` with a fixed chunk shape
(like :func:`helpers.models.forward`), so a whole integration path for many
samples costs one trace and a few compiled calls.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

import helpers  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)
from helpers.models import CHUNK, chunked_calls, forward
from helpers.validation import check_baseline, check_model_input, check_positive_int

#: Most path points built in memory at once for integrated gradients.
MAX_ROWS = 1 << 16

_compiled: weakref.WeakKeyDictionary[keras.Model, dict] = weakref.WeakKeyDictionary()


def _compiled_gradient(model: keras.Model, n_steps: int, n_features: int):
    """A traced ``d sum(f(x)) / dx`` for chunks of shape ``(CHUNK, T, F)``."""
    cache = _compiled.setdefault(model, {})
    key = (n_steps, n_features)
    if key not in cache:
        spec = tf.TensorSpec(shape=(CHUNK, n_steps, n_features), dtype=tf.float32)

        @tf.function(input_signature=[spec], reduce_retracing=True)
        def grad(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                out = tf.reshape(model(x, training=False), (CHUNK, -1))
                # Rows are independent, so the gradient of the sum is each row's gradient.
                total = tf.reduce_sum(out[:, 0])
            return tape.gradient(total, x), tf.shape(out)[1]

        cache[key] = grad
    return cache[key]


def input_gradients(model: keras.Model, X: np.ndarray) -> np.ndarray:
    """The one chunked gradient pass: ``d f(x) / d x`` for ``(n, T, F)`` -> ``(n, T, F)`` float64."""
    X = check_model_input(model, X)
    n, T, F = X.shape
    out = np.empty((n, T, F), dtype=np.float64)
    if n == 0:
        return out
    grad = _compiled_gradient(model, T, F)
    for start, m, (g, width) in chunked_calls(grad, X):
        if int(width) != 1:
            raise ValueError(f"expected a model with one output per sequence, got {int(width)}")
        out[start : start + m] = g.numpy()[:m]
    return out


def saliency(model: keras.Model, X: np.ndarray, times_input: bool = False) -> np.ndarray:
    """Signed gradient saliency (Simonyan et al. 2014), ``(n, T, F)``; ``times_input`` gives gradient x input."""
    X = check_model_input(model, X)
    g = input_gradients(model, X)
    return g * X if times_input else g


def integrated_gradients(
    model: keras.Model,
    X: np.ndarray,
    baseline,
    steps: int = 64,
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """Integrated gradients (Sundararajan et al. 2017) from an explicit baseline: ``(n, T, F)``.

    ``(x - b) * mean_k grad f(b + a_k (x - b))`` with the midpoint rule,
    ``a_k = (k + 1/2) / steps``: ``steps`` gradients per sample, all samples x steps
    batched through :func:`input_gradients`. ``baseline`` as in
    :func:`helpers.validation.check_baseline`.
    """
    X = check_model_input(model, X)
    steps = check_positive_int(steps, "steps")
    n, T, F = X.shape
    B = np.broadcast_to(check_baseline(baseline, X, reference), X.shape)
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
    out = np.empty((n, T, F), dtype=np.float64)
    block = max(1, MAX_ROWS // steps)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        diff = X[lo:hi] - B[lo:hi]  # (m, T, F)
        path = B[lo:hi, None] + alphas[None, :, None, None] * diff[:, None]  # (m, steps, T, F)
        g = input_gradients(model, path.reshape(-1, T, F)).reshape(hi - lo, steps, T, F)
        out[lo:hi] = g.mean(axis=1) * diff
    return out


def completeness_gap(
    model: keras.Model,
    X: np.ndarray,
    attributions: np.ndarray,
    baseline,
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """``sum(attributions) - (f(x) - f(baseline))`` per sample: ``(n,)``; zero for a complete method."""
    X = check_model_input(model, X)
    A = np.asarray(attributions, dtype=np.float64)
    if A.shape != X.shape:
        raise ValueError(f"expected attributions of shape {X.shape} (like X), got {A.shape}")
    B = np.broadcast_to(check_baseline(baseline, X, reference), X.shape)
    y = forward(model, np.concatenate([X, B]))
    n = X.shape[0]
    return A.reshape(n, -1).sum(axis=1) - (y[:n] - y[n:])
