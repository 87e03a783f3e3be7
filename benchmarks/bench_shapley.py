"""Exact Shapley values for 15 cells: against shap's Exact explainer and against a bare forward pass.

Timed in one run on the chapter-4 model shape (stock task: T=5 days, F=3 features,
one LSTM of 32 units), one window, ``N_BACKGROUND`` background rows. shap's
``explainers.Exact`` is timed twice: driving the model through ``model.predict``
as seed 000 wraps it (``wrapped_predict``), and driving it through the same
batched ``helpers.models.forward`` (which shows how much of the gain is the
forward pass). Fast timings are interleaved and the best of ``REPEATS`` kept, so a
busy shared machine disturbs the ratios less.
"""

from __future__ import annotations

import time

import numpy as np
import shap

from helpers import models, shapley

T, F, UNITS = 5, 3, 32
N_BACKGROUND = 5
REPEATS = 7


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


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

    def forward_rows(flat: np.ndarray) -> np.ndarray:
        return models.forward(model, np.asarray(flat, np.float32).reshape(-1, T, F))

    def wrapped_predict(flat: np.ndarray) -> np.ndarray:  # seed 000's wrapper, made 2-D
        return model.predict(np.asarray(flat, np.float32).reshape(-1, T, F), verbose=0).flatten()

    masker = shap.maskers.Independent(background.reshape(N_BACKGROUND, M), max_samples=N_BACKGROUND)
    shap_forward = shap.explainers.Exact(forward_rows, masker)
    shap_predict = shap.explainers.Exact(wrapped_predict, masker)
    x_flat = X.reshape(1, M)

    # Warm up the one-off costs: tracing the forward pass, numba compiling shap's loops,
    # building Keras' predict function.
    models.forward(model, rows[: models.CHUNK])
    warm = background[:1].copy()
    warm[0, 0, :2] += 1.0  # two cells vary: four coalitions
    shap_forward(warm.reshape(1, M), silent=True)
    shap_predict(warm.reshape(1, M), silent=True)
    shapley.exact_shapley(model, X, background=background[:1])

    best = {"forward": np.inf, "exact": np.inf, "shap_forward": np.inf}
    for _ in range(REPEATS):
        t, _ = _timed(lambda: models.forward(model, rows))
        best["forward"] = min(best["forward"], t)
        t, ours = _timed(lambda: shapley.exact_shapley(model, X, background=background))
        best["exact"] = min(best["exact"], t)
        t, reference = _timed(lambda: shap_forward(x_flat, silent=True))
        best["shap_forward"] = min(best["shap_forward"], t)
    t_shap_predict, reference_predict = _timed(lambda: shap_predict(x_flat, silent=True))

    ours = ours.reshape(1, M)
    max_diff = float(
        max(np.abs(ours - reference.values).max(), np.abs(ours - reference_predict.values).max())
    )
    speedup_predict = t_shap_predict / best["exact"]
    speedup_forward = best["shap_forward"] / best["exact"]
    overhead = best["exact"] / best["forward"]
    cells = f"15 cells, {N_BACKGROUND} background rows"
    return [
        {
            "benchmark": f"exact_shapley speed-up over shap.explainers.Exact on model.predict ({cells})",
            "measured": round(speedup_predict, 2),
            "target": ">= 5",
            "passed": bool(speedup_predict >= 5.0),
        },
        {
            "benchmark": f"exact_shapley speed-up over shap.explainers.Exact on models.forward ({cells})",
            "measured": round(speedup_forward, 2),
            "target": ">= 1",
            "passed": bool(speedup_forward >= 1.0),
        },
        {
            "benchmark": "exact_shapley max |difference| from shap.explainers.Exact",
            "measured": max_diff,
            "target": "<= 1e-5",
            "passed": bool(max_diff <= 1e-5),
        },
        {
            "benchmark": f"exact_shapley time / one forward pass over the same 2^15 x {N_BACKGROUND} rows",
            "measured": round(overhead, 3),
            "target": "<= 1.3",
            "passed": bool(overhead <= 1.3),
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
