"""Chapter 6 speed: LRP and contextual decomposition as ratios to one forward pass.

Each method explains N sequences of the adding problem's shape (T=20, F=2) on an
untrained LSTM of 32 units, and a stacked one (32 then 16 units). Each row is the
method's CPU time (``time.process_time``, all threads) divided by one call of
``helpers.models.forward`` on the same N sequences, both timed in this run, best
of alternated repeats after a warm-up. Goal: <= 10x for LRP and for one CD split;
the per-step CD map (T splits, one vectorised pass over N * T rows) is reported.
"""

from __future__ import annotations

import numpy as np
from timing import best_pair, row

import helpers  # noqa: F401
from helpers import lstm_relevance as lr
from helpers import models

N, T, F = 512, 20, 2
REPEATS = 5
GOAL = 10.0




def run() -> list[dict]:
    """One row per method and model: time / one forward call over the same N sequences."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, T, F)).astype(np.float32)
    half = np.arange(T) < T // 2
    rows = []
    for label, model in (
        ("LSTM(32)", models.build_lstm(T, F, units=32, seed=0)),
        ("LSTM(32, 16)", models.build_stacked_lstm(T, F, units=(32, 16), seed=0)),
    ):
        base = lambda m=model: models.forward(m, X)  # noqa: E731
        cases = [
            ("LRP", lambda m=model: lr.lrp(m, X), GOAL),
            ("CD, one set of steps", lambda m=model: lr.contextual_decomposition(m, X, half), GOAL),
            (f"CD per step ({T} sets)", lambda m=model: lr.cd_scores(m, X), None),
        ]
        for name, fn, target in cases:
            seconds, forward = best_pair(fn, base, REPEATS)
            rows.append(row(f"{name}, {label}, N={N}: time / one forward call", seconds / forward, target))
    return rows


if __name__ == "__main__":
    for row in run():
        status = "pass" if row["passed"] else "FAIL"
        print(f"{row['benchmark']:<70} {row['measured']:>9} (target {row['target']}) {status}")
