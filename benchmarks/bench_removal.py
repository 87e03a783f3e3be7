"""CPD, CPP and the ROAD baseline against one deletion curve on the same inputs, timed in the same run.

Model: one LSTM of 32 units on the box task's shape (T=20, F=5), untrained;
N=64 sequences, a random attribution, the training-mean baseline. The deletion
curve uses 11 fractions (the chapter's setting, 11 rows per sequence); CPD and
CPP take k=10 one-cell steps (11 rows per sequence), so the ratio measures the
overhead of building the cumulative copies and the per-step differences, not a
different number of rows. ROAD rows time the same deletion curve and CPD with
noisy linear imputation (one small linear solve per copy and feature) against
the mean-baseline deletion curve. CPU seconds of this process, best of
alternated repeats (``timing.best_pair``).

Target: CPD and CPP <= 1.2x one deletion curve; the ROAD rows are reported.
"""

from __future__ import annotations

import numpy as np
from timing import best_pair, row

import helpers  # noqa: F401
from helpers import checks, models, removal

N, T, F, K = 64, 20, 5, 10
REPEATS = 7


def run() -> list[dict]:
    """Rows: CPD, CPP, ROAD deletion curve and ROAD CPD, each / one mean-baseline deletion curve."""
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(500, T, F)).astype(np.float32)
    X = reference[:N]
    A = rng.normal(size=X.shape)
    model = models.build_lstm(T, F, units=32, seed=0)

    def deletion(baseline="mean"):
        return checks.deletion_curve(model, X, A, baseline=baseline, reference=reference, fractions=K + 1)

    def cumulative(fn, baseline="mean"):
        return fn(model, X, A, baseline=baseline, reference=reference, k=K)

    cases = {
        f"CPD, k={K} (11 rows/sequence): time / one deletion curve (11 fractions)":
            (lambda: cumulative(removal.cumulative_prediction_difference), 1.2),
        f"CPP, k={K}: time / one deletion curve": (
            lambda: cumulative(removal.cumulative_prediction_preservation), 1.2),
        "deletion curve with ROAD: time / one mean-baseline deletion curve": (
            lambda: deletion("road"), None),
        f"CPD with ROAD, k={K}: time / one mean-baseline deletion curve": (
            lambda: cumulative(removal.cumulative_prediction_difference, "road"), None),
    }
    rows = []
    for name, (fn, target) in cases.items():
        seconds, base = best_pair(fn, deletion, REPEATS)
        rows.append(row(name, seconds / base, target))
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
