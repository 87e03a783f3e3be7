"""Perturbation-based sensitivity: change the input, watch the prediction move.

Explained in chapter 2 (sensitivity analysis). Every method builds all perturbed
copies of all samples as one array and evaluates them with
:func:`helpers.models.forward` in large batches (never ``model.predict`` once per
perturbation). Signed results are in prediction units and positive where the
input pushes the prediction up.
"""

from __future__ import annotations

import numpy as np

from helpers.models import forward
from helpers.validation import check_baseline, check_model_input, check_positive_int

#: Most perturbed sequences built in memory at once (then evaluated by ``forward``).
MAX_ROWS = 1 << 16

MODES = ("relative", "additive")


def _check_number(value, name: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"expected a number for {name}, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0):
        kind = "a positive finite number" if positive else "a finite number"
        raise ValueError(f"expected {kind} for {name}, got {value!r}")
    return value


def _check_feature(feature, n_features: int) -> int:
    if isinstance(feature, bool) or not isinstance(feature, (int, np.integer)):
        raise ValueError(f"expected a feature index in [0, {n_features}), got {feature!r}")
    if not 0 <= feature < n_features:
        raise ValueError(f"expected a feature index in [0, {n_features}), got {feature}")
    return int(feature)


def _full_baseline(baseline, X: np.ndarray, reference) -> np.ndarray:
    """The baseline as a float32 ``(n, T, F)`` view (one row per sample)."""
    b = check_baseline(baseline, X, reference)
    return np.broadcast_to(b, X.shape)


def _blocks(n: int, rows_per_sample: int):
    """Sample ranges whose perturbed copies fit in ``MAX_ROWS`` rows."""
    size = max(1, MAX_ROWS // max(rows_per_sample, 1))
    for start in range(0, n, size):
        yield start, min(n, start + size)


def feature_sensitivity(
    model,
    X: np.ndarray,
    feature: int | None = None,
    size: float = 0.1,
    mode: str = "relative",
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """Seed 000's method, batched: ``f(x with one feature perturbed at every step) - f(x)``.

    ``(n, T, F) -> (n, F)`` for all features, or ``(n,)`` for one ``feature``.
    ``mode="relative"`` multiplies the feature by ``1 + size`` (the seed; it does
    nothing to values near zero, so little on standardised data);
    ``mode="additive"`` adds ``size`` standard deviations of the feature
    (``scale``, ``(F,)``, or computed from ``X``). Signed; the seed reports ``abs``.
    """
    X = check_model_input(model, X)
    n, T, F = X.shape
    size = _check_number(size, "size")
    if mode not in MODES:
        raise ValueError(f"expected mode in {MODES}, got {mode!r}")
    features = list(range(F)) if feature is None else [_check_feature(feature, F)]
    if mode == "additive":
        if scale is None:
            std = X.reshape(-1, F).std(axis=0)
            scale = np.where(std > 0, std, 1.0)
        scale = np.asarray(scale, dtype=np.float64)
        if scale.shape != (F,) or not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            raise ValueError(
                f"expected scale of shape ({F},) with positive finite entries, got {scale.shape} "
                f"{scale if scale.size <= 8 else ''}"
            )
    if n == 0:
        return np.zeros((0, len(features))) if feature is None else np.zeros(0)
    k = len(features)
    out = np.empty((n, k))
    for lo, hi in _blocks(n, k + 1):
        x = X[lo:hi]
        copies = np.repeat(x[None], k + 1, axis=0)  # (k + 1, m, T, F); copy 0 is the original
        for j, f in enumerate(features, start=1):
            if mode == "relative":
                copies[j, :, :, f] *= np.float32(1.0 + size)
            else:
                copies[j, :, :, f] += np.float32(size * scale[f])
        y = forward(model, copies.reshape(-1, T, F)).reshape(k + 1, hi - lo)
        out[lo:hi] = (y[1:] - y[0]).T
    return out if feature is None else out[:, 0]


def occlusion(
    model, X: np.ndarray, baseline, window: int = 1, reference: np.ndarray | None = None
) -> np.ndarray:
    """Occlusion (Zeiler & Fergus 2014): ``f(x) - f(x with cells replaced by the baseline)``, ``(n, T, F)``.

    With ``window=1`` each cell ``(t, f)`` is replaced on its own. With ``window=w``
    a block of ``w`` consecutive steps of one feature is replaced at each of the
    ``T - w + 1`` positions, and each cell gets the mean change over the blocks that
    contain it. ``baseline``: ``"zeros"``, ``"mean"`` (of ``reference``), a number,
    or an array broadcastable to ``(T, F)`` (or ``X``'s shape).
    """
    X = check_model_input(model, X)
    n, T, F = X.shape
    window = check_positive_int(window, "window")
    if window > T:
        raise ValueError(f"expected window <= T = {T}, got {window}")
    B = _full_baseline(baseline, X, reference)
    positions = T - window + 1
    per_sample = positions * F + 1
    out = np.zeros((n, T, F))
    cover = np.zeros((T, 1))
    for p in range(positions):
        cover[p : p + window] += 1
    for lo, hi in _blocks(n, per_sample):
        m = hi - lo
        x, b = X[lo:hi], B[lo:hi]
        copies = np.repeat(x[None], per_sample, axis=0)  # (positions * F + 1, m, T, F)
        j = 1
        for p in range(positions):
            for f in range(F):
                copies[j, :, p : p + window, f] = b[:, p : p + window, f]
                j += 1
        y = forward(model, copies.reshape(-1, T, F)).reshape(per_sample, m)
        delta = (y[0] - y[1:]).reshape(positions, F, m)  # f(x) - f(occluded)
        for p in range(positions):
            out[lo:hi, p : p + window, :] += delta[p].T[:, None, :]
    return out / cover[None]


def mask_time_steps(
    model, X: np.ndarray, baseline, reference: np.ndarray | None = None
) -> np.ndarray:
    """``f(x) - f(x with every feature of step t replaced by the baseline)``: ``(n, T, F) -> (n, T)``."""
    X = check_model_input(model, X)
    n, T, F = X.shape
    B = _full_baseline(baseline, X, reference)
    out = np.zeros((n, T))
    for lo, hi in _blocks(n, T + 1):
        m = hi - lo
        copies = np.repeat(X[lo:hi][None], T + 1, axis=0)  # (T + 1, m, T, F)
        for t in range(T):
            copies[t + 1, :, t, :] = B[lo:hi, t, :]
        y = forward(model, copies.reshape(-1, T, F)).reshape(T + 1, m)
        out[lo:hi] = (y[0] - y[1:]).T
    return out


def noise_sensitivity(
    model, X: np.ndarray, sigma: float = 0.1, n_draws: int = 32, seed: int = 0
) -> np.ndarray:
    """Mean ``|f(x + noise in one cell) - f(x)|`` over ``n_draws`` Gaussian draws: ``(n, T, F)``.

    Noise of standard deviation ``sigma`` (input units) is added to one cell at a
    time; the result is unsigned and in prediction units. For small ``sigma`` it
    approaches ``sigma * sqrt(2 / pi) * |gradient|``. Seeded: the same ``seed``
    gives the same draws.
    """
    X = check_model_input(model, X)
    n, T, F = X.shape
    sigma = _check_number(sigma, "sigma", positive=True)
    n_draws = check_positive_int(n_draws, "n_draws")
    rng = np.random.default_rng(seed)
    cells = T * F
    out = np.zeros((n, T, F))
    y0 = forward(model, X)
    for lo, hi in _blocks(n, cells * n_draws):
        m = hi - lo
        noise = (sigma * rng.standard_normal((m, cells, n_draws))).astype(np.float32)
        copies = np.repeat(X[lo:hi].reshape(m, 1, 1, cells), cells, axis=1)
        copies = np.repeat(copies, n_draws, axis=2)  # (m, cells, draws, cells)
        idx = np.arange(cells)
        copies[:, idx, :, idx] += noise.transpose(1, 0, 2)
        y = forward(model, copies.reshape(-1, T, F)).reshape(m, cells, n_draws)
        out[lo:hi] = np.abs(y - y0[lo:hi, None, None]).mean(axis=2).reshape(m, T, F)
    return out
