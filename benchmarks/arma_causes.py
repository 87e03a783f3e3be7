"""Why our Dynamask and ExtremalMask miss time_interpret's ARMA figures: one fold, settings moved one at a time.

`python benchmarks/arma_causes.py [--task rare-feature]` prints AUP / AUR of
`reproduce_arma.py`'s settings beside runs that move one setting towards
time_interpret's `experiments/arma/main.py` (Dynamask: one keep ratio of 0.05,
which its minimum-loss choice over 0.001-0.05 picks; Gaussian width 2; area
weight 1 growing to 1000; 1000 epochs. ExtremalMask: 2000 epochs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers import arma, masks, scores  # noqa: E402

RUNS = {
    "dynamask, ours (5 keeps, 300 epochs)": lambda m, X: masks.dynamask(
        m, X, keep=(0.01, 0.02, 0.03, 0.04, 0.05), epochs=300),
    "dynamask, keep 0.05 only": lambda m, X: masks.dynamask(m, X, keep=0.05, epochs=300),
    "dynamask, keep 0.05, tint's width and area weights": lambda m, X: masks.dynamask(
        m, X, keep=0.05, epochs=300, sigma_max=2.0, area_weight=1.0, area_dilation=1000.0),
    "dynamask, as above, 1000 epochs": lambda m, X: masks.dynamask(
        m, X, keep=0.05, epochs=1000, sigma_max=2.0, area_weight=1.0, area_dilation=1000.0),
    "extremal_mask, 600 epochs (ours)": lambda m, X: masks.extremal_mask(m, X, epochs=600),
    "extremal_mask, 2000 epochs (tint's)": lambda m, X: masks.extremal_mask(m, X, epochs=2000),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="rare-feature")
    parser.add_argument("--only", default="", help="run names containing this text")
    args = parser.parse_args(argv)
    X = arma.arma_inputs(10, seed=0)
    truth = arma.planted(args.task, seed=0)
    model = arma.white_box(truth)
    full = np.broadcast_to(truth, X.shape)
    for name, run in RUNS.items():
        if args.only not in name:
            continue
        start = time.perf_counter()
        A = run(model, X)
        exact0 = float((A < 1e-6).mean())
        print(f"{args.task:13} {name:52} AUP {scores.tint_aup(A, full):.3f} AUR {scores.tint_aur(A, full):.3f}"
              f"  cells below 1e-6: {exact0:.2f}  ({time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
