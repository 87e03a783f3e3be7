"""Gradient attributions: saliency and integrated gradients.

Explained in chapter 2 (sensitivity analysis). Every gradient goes through
:func:`input_gradients`, one traced pass of :mod:`helpers.engine` per model and
input shape, so a whole integration path for many samples costs one trace and a
few compiled calls; gradient rows are counted like forward rows. Gradients are
of the explained output as computed (the probability, for a softmax classifier).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from helpers import engine
from helpers.models import evaluate, pick
from helpers.validation import check_positive_int, check_seed, resolve_baseline, resolve_inputs

_NO_GRADIENT = "expected a model differentiable with respect to its input"


def _no_gradient(model: keras.Model) -> str:
    return (
        f"{_NO_GRADIENT}, got {model.name!r} whose output has no gradient path to X "
        "(an argmax, rounding or integer cast?); use a perturbation method (occlusion, "
        "kernel_shap) instead"
    )


def _gradient_call(model: keras.Model, shape: tuple[int, int]):
    def make(x, target):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = model(x, training=False)
            out = tf.reshape(out, (tf.shape(out)[0], -1))
            # Rows are independent, so the gradient of the sum is each row's gradient.
            total = tf.reduce_sum(tf.gather(out, target, axis=1, batch_dims=1))
        g = tape.gradient(total, x)
        if g is None:
            raise ValueError(_no_gradient(model))
        return g

    return engine.compiled(model, "gradient", shape, make)


def gradient_rows(model: keras.Model, X: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``d f_target(x) / d x`` for checked float32 ``X`` ``(n, T, F)`` and targets ``(n,)``: float64."""
    out = np.empty(X.shape, dtype=np.float64)
    call = _gradient_call(model, X.shape[1:])
    try:
        for start, m, g in engine.run(call, X, targets, count="gradient_rows"):
            out[start : start + m] = g.numpy()[:m]
    except Exception as error:
        # TensorFlow re-raises an error from inside the traced function wrapped in a
        # dump of the traced code; the reader needs only the library's own sentence.
        if _NO_GRADIENT not in str(error):
            raise
        raise ValueError(_no_gradient(model)) from None
    return out


def input_gradients(model: keras.Model, X, *, target=None) -> np.ndarray:
    """The one chunked gradient pass: ``d f(x) / d x``, ``(n, T, F) -> (n, T, F)`` float64 (0 on padded steps)."""
    X, valid, targets = resolve_inputs(model, X, target)
    return gradient_rows(model, X, targets) * valid[:, :, None]


def saliency(model: keras.Model, X, *, target=None, times_input: bool = False) -> np.ndarray:
    """Signed gradient saliency (Simonyan et al. 2014), ``(n, T, F)``; ``times_input`` gives gradient x input."""
    X, valid, targets = resolve_inputs(model, X, target)
    g = gradient_rows(model, X, targets) * valid[:, :, None]
    return g * X if times_input else g


def integrated_gradients(
    model: keras.Model, X, *, baseline, target=None, steps: int = 64, reference=None
) -> np.ndarray:
    """Integrated gradients (Sundararajan et al. 2017) from an explicit baseline: ``(n, T, F)``.

    ``(x - b) * mean_k grad f(b + a_k (x - b))`` with the midpoint rule,
    ``a_k = (k + 1/2) / steps``: ``steps`` gradients per sample, batched through the
    engine. ``baseline``: see :func:`helpers.validation.resolve_baseline`; padded
    steps keep their values along the path, so they get exactly 0.
    """
    X, valid, targets = resolve_inputs(model, X, target)
    steps = check_positive_int(steps, "steps")
    n, T, F = X.shape
    B = resolve_baseline(baseline, X, reference, valid=valid)
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
    out = np.zeros((n, T, F), dtype=np.float64)
    for lo, hi in engine.blocks(n, steps):
        diff = X[lo:hi] - B[lo:hi]  # (m, T, F)
        path = B[lo:hi, None] + alphas[None, :, None, None] * diff[:, None]  # (m, steps, T, F)
        g = gradient_rows(model, path.reshape(-1, T, F), np.repeat(targets[lo:hi], steps))
        out[lo:hi] = g.reshape(hi - lo, steps, T, F).mean(axis=1) * diff
    return out


def completeness_gap(
    model: keras.Model, X, attributions, *, baseline, target=None, reference=None
) -> np.ndarray:
    """``sum(attributions) - (f(x) - f(baseline))`` per sample: ``(n,)``; zero for a complete method."""
    X, valid, targets = resolve_inputs(model, X, target)
    A = np.asarray(attributions, dtype=np.float64)
    if A.shape != X.shape:
        raise ValueError(f"expected attributions of shape {X.shape} (like X), got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"expected finite attributions, got {int(A.size - np.isfinite(A).sum())} NaN or inf")
    n = X.shape[0]
    if n == 0:
        return np.zeros(0)
    B = resolve_baseline(baseline, X, reference, valid=valid)
    y = pick(evaluate(model, np.concatenate([X, B])), np.tile(targets, 2))
    return A.reshape(n, -1).sum(axis=1) - (y[:n] - y[n:])


def _kept_path_attribution(model, X, valid, targets, B, keep_masks, steps: int) -> np.ndarray:
    """IG along paths where cells with ``keep_masks`` ``(n, steps, T, F)`` hold their real values.

    Each cell averages the gradients of only the steps where it moved along the
    path, so with nothing kept this is integrated gradients exactly.
    """
    n, T, F = X.shape
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
    out = np.zeros((n, T, F), dtype=np.float64)
    for lo, hi in engine.blocks(n, steps):
        diff = X[lo:hi] - B[lo:hi]
        M = keep_masks[lo:hi].astype(np.float32)
        path = B[lo:hi, None] + alphas[None, :, None, None] * diff[:, None]
        path = M * X[lo:hi, None] + (1.0 - M) * path
        g = gradient_rows(model, path.reshape(-1, T, F), np.repeat(targets[lo:hi], steps))
        g = g.reshape(hi - lo, steps, T, F)
        moved = (1.0 - M).sum(axis=1)
        out[lo:hi] = ((1.0 - M) * g).sum(axis=1) / np.maximum(moved, 1.0) * diff
    return out * valid[:, :, None]


def timing(
    model: keras.Model,
    X,
    *,
    baseline,
    steps: int = 50,
    n_segments: int = 2,
    segment_length: tuple[int, int] = (1, 5),
    seed: int = 0,
    target=None,
    reference=None,
) -> np.ndarray:
    """TIMING (temporality-aware integrated gradients, ICML 2025): ``(n, T, F)``.

    At each of ``steps`` path points, ``n_segments`` random segments (one feature,
    ``segment_length`` consecutive steps, lengths drawn uniformly in the closed
    range) keep their real values while the rest follows the straight IG path;
    a cell's attribution averages its gradients over the steps where it moved.
    ``n_segments=0`` is integrated gradients. Completeness does not hold
    (chapter 9 measures the gap).
    """
    X, valid, targets = resolve_inputs(model, X, target)
    steps = check_positive_int(steps, "steps")
    if isinstance(n_segments, bool) or not isinstance(n_segments, (int, np.integer)) or n_segments < 0:
        raise ValueError(f"expected n_segments a non-negative int, got {n_segments!r}")
    try:
        lo_len, hi_len = (int(v) for v in segment_length)
    except (TypeError, ValueError):
        raise ValueError(f"expected segment_length (low, high) ints, got {segment_length!r}") from None
    if not 1 <= lo_len <= hi_len:
        raise ValueError(f"expected segment_length (low, high) with 1 <= low <= high, got {segment_length!r}")
    seed = check_seed(seed)
    n, T, F = X.shape
    B = resolve_baseline(baseline, X, reference, valid=valid)
    rng = np.random.default_rng(seed)
    M = np.zeros((n, steps, T, F), dtype=bool)
    if n_segments and T:
        shape = (n, steps, int(n_segments))
        length = rng.integers(lo_len, hi_len + 1, size=shape)
        start = rng.integers(0, T, size=shape)
        feature = rng.integers(0, F, size=shape)
        t = np.arange(T)[None, None, None, :]
        inside = (t >= start[..., None]) & (t < (start + length)[..., None])  # (n, steps, S, T)
        onehot = np.eye(F, dtype=bool)[feature]  # (n, steps, S, F)
        M = (inside[..., :, None] & onehot[..., None, :]).any(axis=2)
    return _kept_path_attribution(model, X, valid, targets, B, M, steps)


def random_point_ig(
    model: keras.Model, X, *, baseline, steps: int = 50, p: float = 0.1, seed: int = 0,
    target=None, reference=None,
) -> np.ndarray:
    """The TIMING paper's random-point ablation: each cell keeps its real value with probability ``p`` per step.

    ``(n, T, F)`` -> ``(n, T, F)``; ``p=0`` is integrated gradients (chapter 9).
    """
    X, valid, targets = resolve_inputs(model, X, target)
    steps = check_positive_int(steps, "steps")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"expected p a probability in [0, 1), got {p!r}")
    seed = check_seed(seed)
    B = resolve_baseline(baseline, X, reference, valid=valid)
    M = np.random.default_rng(seed).random((X.shape[0], steps, *X.shape[1:])) < p
    return _kept_path_attribution(model, X, valid, targets, B, M, steps)
