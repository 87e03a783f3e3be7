"""Perturbation-based sensitivity: change the input, watch the prediction move.

Explained in chapter 2 (sensitivity analysis). Every method builds all perturbed
copies of a block of samples as one array and evaluates them through the one
engine (:func:`helpers.models.evaluate`), never ``model.predict`` once per
perturbation. All return ``(n, T, F)`` in output units, positive where the input
pushes the explained output up (the probability, for a softmax classifier);
padded steps are never perturbed and get exactly 0.
"""

from __future__ import annotations

import numpy as np

from helpers import engine, levels, prefix
from helpers.models import evaluate, pick
from helpers.validation import check_positive_int, resolve_baseline, resolve_inputs

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


def predict_copies(model, copies: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The explained output of ``k`` copies of ``m`` samples: ``(k, m, T, F), (m,) -> (k, m)``."""
    k, m, T, F = copies.shape
    y = evaluate(model, copies.reshape(-1, T, F))
    return pick(y, np.tile(targets, k)).reshape(k, m)


def feature_sensitivity(
    model,
    X,
    *,
    feature: int | None = None,
    size: float = 0.1,
    mode: str = "relative",
    scale: np.ndarray | None = None,
    target=None,
) -> np.ndarray:
    """The LSTM article's method, batched: ``f(x with one feature perturbed at every step) - f(x)``.

    ``(n, T, F) -> (n, T, F)``: each feature's change, repeated over its (valid) steps
    (resolution ``"feature"``); with ``feature`` given, only that feature is non-zero.
    ``mode="relative"`` multiplies the feature by ``1 + size`` (the seed; it does nothing
    to values near zero, so little on standardised data); ``mode="additive"`` adds
    ``size`` standard deviations of the feature (``scale``, ``(F,)``, or from ``X``).
    Signed like occlusion: positive where the input pushes the output up.
    """
    X, valid, targets = resolve_inputs(model, X, target)
    n, T, F = X.shape
    size = _check_number(size, "size")
    if mode not in MODES:
        raise ValueError(f"expected mode in {MODES}, got {mode!r}")
    features = list(range(F)) if feature is None else [_check_feature(feature, F)]
    if mode == "additive":
        if scale is None:
            std = X[valid].std(axis=0) if valid.any() else np.ones(F)
            scale = np.where(std > 0, std, 1.0)
        scale = np.asarray(scale, dtype=np.float64)
        if scale.shape != (F,) or not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            raise ValueError(f"expected scale of shape ({F},) with positive finite entries, got shape {scale.shape}: {scale}")
    per_feature = np.zeros((n, F))
    k = len(features)
    for lo, hi in engine.blocks(n, k + 1):
        copies = np.repeat(X[lo:hi][None], k + 1, axis=0)  # copy 0 is the original
        keep = valid[lo:hi]
        for j, f in enumerate(features, start=1):
            cell = copies[j, :, :, f]
            moved = cell * np.float32(1.0 + size) if mode == "relative" else cell + np.float32(size * scale[f])
            copies[j, :, :, f] = np.where(keep, moved, cell)
        y = predict_copies(model, copies, targets[lo:hi])
        per_feature[lo:hi, features] = (y[1:] - y[0]).T
    return levels.broadcast(per_feature, (n, T, F), "time") * valid[:, :, None]


def occlusion(
    model, X, *, baseline, window: int = 1, reference=None, target=None, prefix_sharing: bool = True
) -> np.ndarray:
    """Occlusion (Zeiler & Fergus 2014): ``f(x) - f(x with cells replaced by the baseline)``, ``(n, T, F)``.

    With ``window=1`` each cell ``(t, f)`` is replaced on its own. With ``window=w``
    a block of ``w`` consecutive steps of one feature is replaced at each of the
    ``T - w + 1`` positions, and each cell gets the mean change over the blocks that
    contain it. ``baseline``: see :func:`helpers.validation.resolve_baseline`.
    LSTM models on unpadded input (``prefix.supports``) recompute each copy only from
    its first occluded step (:func:`helpers.prefix.occlusion_prefix`; equal within
    float32 rounding); ``prefix_sharing=False`` forces one forward pass per copy.
    """
    X, valid, targets = resolve_inputs(model, X, target)
    n, T, F = X.shape
    window = check_positive_int(window, "window")
    if window > T:
        raise ValueError(f"expected window <= T = {T}, got {window}")
    B = resolve_baseline(baseline, X, reference, valid=valid)
    if prefix_sharing and valid.all() and prefix.supports(model):
        return prefix.occlusion_prefix(model, X, B, window, targets)
    positions = T - window + 1
    per_sample = positions * F + 1
    out = np.zeros((n, T, F))
    cover = np.zeros((T, 1))
    for p in range(positions):
        cover[p : p + window] += 1
    for lo, hi in engine.blocks(n, per_sample):
        copies = np.repeat(X[lo:hi][None], per_sample, axis=0)  # (positions * F + 1, m, T, F)
        j = 1
        for p in range(positions):
            for f in range(F):
                copies[j, :, p : p + window, f] = B[lo:hi, p : p + window, f]
                j += 1
        y = predict_copies(model, copies, targets[lo:hi])
        delta = (y[0] - y[1:]).reshape(positions, F, hi - lo)  # f(x) - f(occluded)
        for p in range(positions):
            out[lo:hi, p : p + window, :] += delta[p].T[:, None, :]
    return out / cover[None] * valid[:, :, None]


def mask_time_steps(
    model, X, *, baseline, reference=None, target=None, prefix_sharing: bool = True
) -> np.ndarray:
    """``f(x) - f(x with every feature of step t replaced by the baseline)``, repeated over features.

    ``(n, T, F) -> (n, T, F)`` (resolution ``"time"``: each feature of step ``t`` holds
    that step's change; ``levels.aggregate(values, "feature") / F`` gives ``(n, T)``).
    LSTM models on unpadded input share the unmasked prefix, as in :func:`occlusion`.
    """
    X, valid, targets = resolve_inputs(model, X, target)
    n, T, F = X.shape
    B = resolve_baseline(baseline, X, reference, valid=valid)
    if prefix_sharing and valid.all() and prefix.supports(model):
        per_step = prefix.mask_time_steps_prefix(model, X, B, targets)
        return levels.broadcast(per_step, (n, T, F), "feature")
    per_step = np.zeros((n, T))
    for lo, hi in engine.blocks(n, T + 1):
        copies = np.repeat(X[lo:hi][None], T + 1, axis=0)  # (T + 1, m, T, F)
        for t in range(T):
            copies[t + 1, :, t, :] = B[lo:hi, t, :]
        y = predict_copies(model, copies, targets[lo:hi])
        per_step[lo:hi] = (y[0] - y[1:]).T
    return levels.broadcast(per_step * valid, (n, T, F), "feature")


def noise_sensitivity(
    model, X, *, sigma: float = 0.1, n_draws: int = 32, seed: int = 0, target=None
) -> np.ndarray:
    """Mean ``|f(x + noise in one cell) - f(x)|`` over ``n_draws`` Gaussian draws: ``(n, T, F)``.

    Noise of standard deviation ``sigma`` (input units) is added to one cell at a
    time; the result is unsigned and in output units. For small ``sigma`` it
    approaches ``sigma * sqrt(2 / pi) * |gradient|``. Seeded: the same ``seed``
    gives the same draws. Padded steps get no noise and 0.
    """
    from helpers.validation import check_seed

    X, valid, targets = resolve_inputs(model, X, target)
    n, T, F = X.shape
    sigma = _check_number(sigma, "sigma", positive=True)
    n_draws = check_positive_int(n_draws, "n_draws")
    rng = np.random.default_rng(check_seed(seed))
    cells = T * F
    out = np.zeros((n, T, F))
    y0 = pick(evaluate(model, X), targets)
    for lo, hi in engine.blocks(n, cells * n_draws):
        m = hi - lo
        noise = (sigma * rng.standard_normal((m, cells, n_draws))).astype(np.float32)
        noise *= np.repeat(valid[lo:hi], F, axis=1)[:, :, None]
        copies = np.repeat(X[lo:hi].reshape(m, 1, 1, cells), cells, axis=1)
        copies = np.repeat(copies, n_draws, axis=2)  # (m, cells, draws, cells)
        idx = np.arange(cells)
        copies[:, idx, :, idx] += noise.transpose(1, 0, 2)
        rows = copies.reshape(-1, T, F)
        y = pick(evaluate(model, rows), np.repeat(targets[lo:hi], cells * n_draws))
        y = y.reshape(m, cells, n_draws)
        out[lo:hi] = np.abs(y - y0[lo:hi, None, None]).mean(axis=2).reshape(m, T, F)
    return out * valid[:, :, None]
