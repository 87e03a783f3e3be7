"""Exact Shapley values for 15 cells: against shap's Exact explainer and against a bare forward pass.

Ratios are timed in one run on the chapter-4 model shape (stock task: T=5 days, F=3
features, one LSTM of 32 units). Each time is the best of a few repeats, so a busy
shared machine disturbs the ratios less.
"""

from __future__ import annotations

import time

import numpy as np
import shap

from helpers import models, shapley

T, F, UNITS = 5, 3, 32
N_BACKGROUND = 10
REPEATS = 3


def _best_time(fn, repeats: int = REPEATS) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def run() -> list[dict]:
    """Time exact_shapley, shap.explainers.Exact and one forward pass over the same rows."""
    model = models.build_lstm(T, F, units=UNITS, seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1, T, F)).astype(np.float32)
    background = rng.standard_normal((N_BACKGROUND, T, F)).astype(np.float32)
    M = T * F

    # The same 2^15 x |background| masked rows exact_shapley evaluates, built once.
    masks = shapley.coalition_masks(M)
    rows = np.where(
        masks[:, None, :], X.reshape(1, 1, M), background.reshape(1, N_BACKGROUND, M)
    ).reshape(-1, T, F)

    def predict(flat: np.ndarray) -> np.ndarray:
        return models.forward(model, np.asarray(flat, np.float32).reshape(-1, T, F))

    masker = shap.maskers.Independent(background.reshape(N_BACKGROUND, M), max_samples=N_BACKGROUND)
    explainer = shap.explainers.Exact(predict, masker)
    # Warm up: trace the forward pass and let numba compile shap's Exact loops (one-off costs).
    models.forward(model, rows[: models.CHUNK])
    warm = background[:1].copy()
    warm[0, 0, :2] += 1.0  # two cells vary: four coalitions
    explainer(warm.reshape(1, M), silent=True)
    shapley.exact_shapley(model, X, background[:1])

    t_forward, _ = _best_time(lambda: models.forward(model, rows))
    t_exact, ours = _best_time(lambda: shapley.exact_shapley(model, X, background))
    t_shap, reference = _best_time(lambda: explainer(X.reshape(1, M), silent=True), repeats=1)
    max_diff = float(np.abs(ours.reshape(1, M) - reference.values).max())

    return [
        {
            "benchmark": f"exact_shapley speed-up over shap.explainers.Exact (15 cells, {N_BACKGROUND} background rows)",
            "measured": round(t_shap / t_exact, 2),
            "target": ">= 5",
            "passed": bool(t_shap / t_exact >= 5.0),
        },
        {
            "benchmark": "exact_shapley max |difference| from shap.explainers.Exact",
            "measured": max_diff,
            "target": "<= 1e-5",
            "passed": bool(max_diff <= 1e-5),
        },
        {
            "benchmark": f"exact_shapley time / one forward pass over the same 2^15 x {N_BACKGROUND} rows",
            "measured": round(t_exact / t_forward, 3),
            "target": "<= 1.3",
            "passed": bool(t_exact / t_forward <= 1.3),
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
