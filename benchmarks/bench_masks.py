"""Cost of the learned masks and TIMING as a ratio to integrated gradients on the same inputs.

Chapter 9. CPU seconds, alternated with IG in the same run (see ``timing.py``);
reported, with no target: a mask trains for hundreds of steps by design.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import best_pair, row  # noqa: E402

from helpers import gradients, masks, models  # noqa: E402


def run() -> list[dict]:
    model = models.build_lstm(20, 5, units=16, seed=0)
    X = np.random.default_rng(0).normal(size=(16, 20, 5)).astype(np.float32)

    def ig():
        return gradients.integrated_gradients(model, X, baseline="zeros", steps=50)

    methods = {
        "TIMING": lambda: gradients.timing(model, X, baseline="zeros", steps=50, n_segments=2),
        "Dynamask (5 keeps, 300 epochs)": lambda: masks.dynamask(model, X, epochs=300),
        "ExtremalMask (500 epochs)": lambda: masks.extremal_mask(model, X, epochs=500),
    }
    rows = []
    for name, fn in methods.items():
        seconds, base = best_pair(fn, ig, repeats=1, base_repeats=3)
        rows.append(row(f"{name} / integrated gradients (CPU time)", seconds / base, None))
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
