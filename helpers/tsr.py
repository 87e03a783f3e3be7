"""Temporal Saliency Rescaling (Ismail et al. 2020): separate "when" from "which feature".

Explained in chapter 7 (which explanation to trust). A gradient map of a
recurrent network mixes up time and feature importance. TSR asks the
attribution method itself: how much does the whole map change when one time
step is masked (time relevance)? Then, only at the steps that matter, how much
does it change when one cell is masked (feature relevance)? The product is the
rescaled map. Every masked copy of every sample is explained in one call.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from helpers import engine
from helpers.validation import format_inputs, resolve_baseline, resolve_target


def temporal_saliency_rescaling(
    model,
    X: np.ndarray,
    explain: Callable[..., np.ndarray],
    *,
    baseline,
    reference: np.ndarray | None = None,
    threshold: float | None = None,
    target=None,
) -> np.ndarray:
    """TSR of ``explain(model, X) -> (n, T, F)``: ``(n, T, F)``, unsigned.

    Time relevance ``D_t = sum |R(x) - R(x with step t masked)|``; feature relevance
    ``d_tf = sum |R(x) - R(x with cell (t, f) masked)|`` at steps with ``D_t`` above
    ``threshold`` (default: the sample's mean ``D_t`` over its unpadded steps), zero
    elsewhere; the result is ``D_t * d_tf``. Masked cells take the baseline (as in
    :func:`helpers.validation.resolve_baseline`); padded steps of a ragged or masked
    ``X`` are never masked and get 0. Costs ``1 + T + (selected steps) * F``
    explanations per sample, in blocks of samples within the engine's row budget
    (:func:`helpers.engine.blocks`), so memory does not grow with ``n``.

    ``target`` (as in :func:`helpers.validation.resolve_target`) is resolved once on
    ``X`` and passed on as ``explain(model, copies, target=...)``, one int per copy,
    so every masked copy explains its own sample's output; with ``target=None``
    ``explain`` is called as ``explain(model, copies)``.
    """
    if not callable(explain):
        raise ValueError(f"expected explain as a function (model, X) -> (n, T, F), got {explain!r}")
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float, np.integer, np.floating))
        or not np.isfinite(threshold)
    ):
        raise ValueError(f"expected a finite threshold (a number) or None, got {threshold!r}")
    X, valid = format_inputs(model, X)
    n, T, F = X.shape
    if n == 0:
        raise ValueError(f"expected at least one sequence in X, got shape {X.shape}")
    B = resolve_baseline(baseline, X, reference, valid)
    targets = None if target is None else resolve_target(model, X, target)

    def run(batch: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if targets is None:
            R = explain(model, batch)
        else:
            R = explain(model, batch, target=targets[rows])
        R = np.asarray(R, dtype=np.float64)
        if R.shape != batch.shape:
            raise ValueError(f"expected explain to return shape {batch.shape}, got {R.shape}")
        if not np.all(np.isfinite(R)):
            bad = int(R.size - np.isfinite(R).sum())
            raise ValueError(f"expected explain to return finite values, got {bad} NaN or inf entries")
        return R

    # Stage 1: the original and T time-masked copies of every sample, a block at a time.
    original = np.empty((n, T, F))
    time_relevance = np.empty((n, T))
    steps = np.arange(T)
    for lo, hi in engine.blocks(n, T + 1):
        copies = np.repeat(X[lo:hi, None], T + 1, axis=1)  # (b, T + 1, T, F)
        copies[:, steps + 1, steps, :] = B[lo:hi, steps, :]
        R = run(copies.reshape(-1, T, F), np.repeat(np.arange(lo, hi), T + 1)).reshape(hi - lo, T + 1, T, F)
        original[lo:hi] = R[:, 0]
        time_relevance[lo:hi] = np.abs(R[:, 1:] - R[:, :1]).sum(axis=(2, 3))
        del copies, R
    time_relevance[~valid] = 0.0
    if threshold is None:
        cut = time_relevance.sum(axis=1, keepdims=True) / np.maximum(valid.sum(axis=1, keepdims=True), 1)
    else:
        cut = threshold
    selected = (time_relevance > cut) & valid  # (n, T)

    # Stage 2: one copy per feature at every selected step, a block of steps at a time.
    rows, ts = np.nonzero(selected)
    out = np.zeros((n, T, F))
    feats = np.arange(F)
    for lo, hi in engine.blocks(rows.size, F):
        r, t = rows[lo:hi], ts[lo:hi]
        cell = np.repeat(X[r][:, None], F, axis=1)  # (s, F, T, F)
        k = np.arange(hi - lo)[:, None]
        cell[k, feats, t[:, None], feats] = B[r[:, None], t[:, None], feats]
        Rc = run(cell.reshape(-1, T, F), np.repeat(r, F)).reshape(hi - lo, F, T, F)
        feature_relevance = np.abs(Rc - original[r][:, None]).sum(axis=(2, 3))  # (s, F)
        out[r, t] = time_relevance[r, t][:, None] * feature_relevance
        del cell, Rc
    return out
