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

from helpers.validation import check_baseline, check_model_input


def temporal_saliency_rescaling(
    model,
    X: np.ndarray,
    explain: Callable[[object, np.ndarray], np.ndarray],
    baseline,
    reference: np.ndarray | None = None,
    threshold: float | None = None,
) -> np.ndarray:
    """TSR of ``explain(model, X) -> (n, T, F)``: ``(n, T, F)``, unsigned.

    Time relevance ``D_t = sum |R(x) - R(x with step t masked)|``; feature relevance
    ``d_tf = sum |R(x) - R(x with cell (t, f) masked)|`` at steps with ``D_t`` above
    ``threshold`` (default: the sample's mean ``D_t``), zero elsewhere; the result is
    ``D_t * d_tf``. Masked cells take the baseline (as in
    :func:`helpers.validation.check_baseline`). Costs ``1 + T + (selected steps) * F``
    explanations per sample, in two batched calls of ``explain``.
    """
    X = check_model_input(model, X)
    n, T, F = X.shape
    B = np.broadcast_to(check_baseline(baseline, X, reference), X.shape)
    if threshold is not None and not np.isfinite(threshold):
        raise ValueError(f"expected a finite threshold or None, got {threshold}")

    def run(batch: np.ndarray) -> np.ndarray:
        R = np.asarray(explain(model, batch), dtype=np.float64)
        if R.shape != batch.shape:
            raise ValueError(f"expected explain to return shape {batch.shape}, got {R.shape}")
        return R

    # Stage 1: the original and T time-masked copies of every sample.
    copies = np.repeat(X[:, None], T + 1, axis=1)  # (n, T + 1, T, F)
    steps = np.arange(T)
    copies[:, steps + 1, steps, :] = B[:, steps, :]
    R = run(copies.reshape(-1, T, F)).reshape(n, T + 1, T, F)
    original = R[:, 0]
    time_relevance = np.abs(R[:, 1:] - original[:, None]).sum(axis=(2, 3))  # (n, T)
    cut = time_relevance.mean(axis=1, keepdims=True) if threshold is None else threshold
    selected = time_relevance > cut  # (n, T)

    # Stage 2: one copy per feature at every selected step.
    rows, ts = np.nonzero(selected)
    out = np.zeros((n, T, F))
    if rows.size:
        cell = np.repeat(X[rows][:, None], F, axis=1)  # (s, F, T, F)
        feats, r = np.arange(F), np.arange(rows.size)[:, None]
        cell[r, feats, ts[:, None], feats] = B[rows[:, None], ts[:, None], feats]
        Rc = run(cell.reshape(-1, T, F)).reshape(rows.size, F, T, F)
        feature_relevance = np.abs(Rc - original[rows][:, None]).sum(axis=(2, 3))  # (s, F)
        out[rows, ts] = time_relevance[rows, ts][:, None] * feature_relevance
    return out
