"""Chapter 2 speed: batched occlusion and integrated gradients, as ratios measured in one run.

- occlusion (N=64, T=5, F=3) against the seed's loop of one ``model.predict`` per
  perturbation (timed on a few samples and scaled per perturbation): >= 200x faster;
- occlusion against one compiled forward pass over the same N*T*F inputs: <= 1.3x;
- integrated gradients (64 steps) against one batched gradient pass over the same
  N*64 path points: <= 1.3x.

Times are CPU seconds of this process (all its threads, ``time.process_time``), best of
many alternated repeats: on a shared machine wall-clock time mostly measures the
other jobs, CPU time measures the work.
"""

from __future__ import annotations

import time

import numpy as np

import helpers  # noqa: F401
from helpers.gradients import input_gradients, integrated_gradients
from helpers.models import build_lstm, forward
from helpers.perturbation import occlusion

N, T, F, STEPS = 64, 5, 3, 64
SEED_SAMPLES = 2  # samples the slow loop is timed on; its cost is scaled per perturbation


def _best_pair(fn_a, fn_b, repeats: int = 12, inner: int = 3) -> tuple[float, float]:
    """Best CPU time per call of two functions, alternated after a warm-up (fair on a shared machine)."""
    fn_a(), fn_b()
    best_a = best_b = float("inf")
    for _ in range(repeats):
        for fn, which in ((fn_a, "a"), (fn_b, "b")):
            start = time.process_time()
            for _ in range(inner):
                fn()
            elapsed = (time.process_time() - start) / inner
            if which == "a":
                best_a = min(best_a, elapsed)
            else:
                best_b = min(best_b, elapsed)
    return best_a, best_b


def _seed_loop(model, X: np.ndarray) -> np.ndarray:
    """Occlusion the seed's way: one ``model.predict`` per perturbed copy (original once per sample)."""
    out = np.zeros(X.shape)
    for i in range(X.shape[0]):
        x = X[i : i + 1]
        original = model.predict(x, verbose=0)[0, 0]
        for t in range(T):
            for f in range(F):
                perturbed = x.copy()
                perturbed[0, t, f] = 0.0
                out[i, t, f] = original - model.predict(perturbed, verbose=0)[0, 0]
    return out


def run() -> list[dict]:
    """Time the three comparisons; return one row per ratio."""
    model = build_lstm(T, F, units=32, seed=0)
    X = np.random.default_rng(0).normal(size=(N, T, F)).astype(np.float32)
    copies = np.repeat(X, T * F, axis=0)  # N*T*F inputs, the size of occlusion's work
    alphas = ((np.arange(STEPS) + 0.5) / STEPS).astype(np.float32)
    path = (alphas[None, :, None, None] * X[:, None]).reshape(-1, T, F)  # zero baseline

    # The seed's loop, timed once on a few samples (it is slow) after one warm-up predict.
    model.predict(X[:1], verbose=0)
    start = time.process_time()
    _seed_loop(model, X[:SEED_SAMPLES])
    per_perturbation = (time.process_time() - start) / (SEED_SAMPLES * T * F)
    seed_total = per_perturbation * N * T * F

    t_occlusion, t_forward = _best_pair(
        lambda: occlusion(model, X, baseline="zeros"), lambda: forward(model, copies)
    )
    t_ig, t_grad = _best_pair(
        lambda: integrated_gradients(model, X, baseline="zeros", steps=STEPS),
        lambda: input_gradients(model, path),
    )

    speedup = seed_total / t_occlusion
    rows = [
        {
            "benchmark": f"occlusion N={N} T={T} F={F}: speed-up over seed predict loop",
            "measured": round(speedup, 1),
            "target": ">= 200",
            "passed": bool(speedup >= 200),
        },
        {
            "benchmark": "occlusion / one forward pass over N*T*F inputs",
            "measured": round(t_occlusion / t_forward, 3),
            "target": "<= 1.3",
            "passed": bool(t_occlusion / t_forward <= 1.3),
        },
        {
            "benchmark": f"integrated gradients ({STEPS} steps) / one gradient pass over N*{STEPS} inputs",
            "measured": round(t_ig / t_grad, 3),
            "target": "<= 1.3",
            "passed": bool(t_ig / t_grad <= 1.3),
        },
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        status = "pass" if row["passed"] else "FAIL"
        print(f"{row['benchmark']:<75} {row['measured']:>9} (target {row['target']}) {status}")
