"""Reproduce time_interpret's ARMA white-box table with this book's methods.

`python benchmarks/reproduce_arma.py [--quick] [--csv PATH]` prints our AUP / AUR
beside the published means (5 folds of 10 samples; `--quick`: 1 fold) and
writes them as CSV. Data, white box and metrics follow time_interpret
(`tint/datasets/arma.py`, `tint/metrics/white_box/`); the code is ours.

The committed table, `book/arma_reproduction.csv` (chapter 9 reads it), was made by

    PYTHONPATH=$PWD .venv/bin/python benchmarks/reproduce_arma.py --quick --csv book/arma_reproduction.csv

(its first line records the command; 1 fold: drop --quick for all 5).
Closing note (fold 0; AUP / AUR, ours vs published): integrated gradients and
occlusion meet the +-0.02 targets on both tasks; the learned masks meet
+-0.05: rare-feature Dynamask 0.952 / 0.656 (0.956 / 0.656), ExtremalMask
0.992 / 0.757 (0.992 / 0.756); rare-time Dynamask 0.901 / 0.623 (0.903 /
0.652), ExtremalMask 0.992 / 0.823 (0.993 / 0.820); 99 s on 2 cores. All
5 folds (777 s, with other work on the machine): within the targets except
rare-feature Dynamask's AUP, 0.899 / 0.648 (0.956 / 0.656); rare-time
Dynamask 0.901 / 0.637, ExtremalMask 0.991 / 0.757 and 0.992 / 0.816.
Matching time_interpret's settings alone left the masks far off (Dynamask
0.626 / 0.417 on rare-feature, see `benchmarks/arma_causes.py`); what closed
the gap is following its code at commit ba93221 in form: the white box gives
one output per step and the masks keep all of them with a plain MSE
(`target="all"`, `relative=False`); Dynamask's mask starts at 0.5 and is
clipped to [0, 1] after each step (`init="clip"`), its blur replaces the cell
(`blur="replace"`, width 2 (1 - m)), one keep ratio (least summed error)
serves all samples (`tolerance=None`); ExtremalMask's network adds to the
mask (`network="mask"`, a bidirectional GRU of F units, unit-norm, then a
linear layer), removed cells go to 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers import arma, gradients, masks, perturbation, scores  # noqa: E402

#: time_interpret's experiments/arma results.csv (mean of 5 folds): (AUP, AUR).
PUBLISHED = {
    ("rare-feature", "integrated_gradients"): (1.00, 0.135),
    ("rare-feature", "occlusion"): (1.00, 0.134),
    ("rare-feature", "dynamask"): (0.956, 0.656),
    ("rare-feature", "extremal_mask"): (0.992, 0.756),
    ("rare-time", "integrated_gradients"): (1.00, 0.126),
    ("rare-time", "occlusion"): (1.00, 0.125),
    ("rare-time", "dynamask"): (0.903, 0.652),
    ("rare-time", "extremal_mask"): (0.993, 0.820),
}
TOLERANCE = {"integrated_gradients": 0.02, "occlusion": 0.02, "dynamask": 0.05, "extremal_mask": 0.05}
#: time_interpret sweeps keep ratios 0.001 .. 0.050 in steps of 0.001; we sweep its top,
#: 0.030 .. 0.050, to fit the time budget. The rows of a sweep train independently, and the
#: summed error falls as the ratio grows up to a plateau (from about 0.036 on fold 0 and 0.040
#: on fold 4, rare-feature, where the least-error choice lands), so smaller ratios are not chosen.
KEEP = tuple(np.round(np.arange(0.030, 0.0505, 0.001), 3))


def explain(name: str, model, per_step, X: np.ndarray) -> np.ndarray:
    """One method's map ``(n, T, F)`` with time_interpret's settings (experiments/arma/main.py)."""
    # time_interpret scores |IG| and |occlusion|.
    if name == "integrated_gradients":
        return np.abs(gradients.integrated_gradients(model, X, baseline="zeros", steps=50))
    if name == "occlusion":
        # time_interpret's baseline: each sample's mean over time, per feature.
        mean = np.broadcast_to(X.mean(axis=1, keepdims=True), X.shape)
        return np.abs(perturbation.occlusion(model, X, baseline=mean))
    # The masks keep every per-step output of the white box, with a plain (not relative) MSE.
    if name == "dynamask":
        return masks.dynamask(
            per_step, X, keep=KEEP, epochs=1000, seed=0, target="all", relative=False, init="clip",
            blur="replace", sigma_max=2.0, learning_rate=0.001, area_weight=1.0, area_dilation=1000.0,
            tolerance=None,
        )
    return masks.extremal_mask(
        per_step, X, epochs=2000, seed=0, target="all", relative=False, network="mask",
        hidden=X.shape[2], learning_rate=0.01, size_weight=1.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 fold instead of 5")
    parser.add_argument("--only", nargs="+", choices=list(TOLERANCE), default=list(TOLERANCE))
    parser.add_argument("--tasks", nargs="+", choices=["rare-feature", "rare-time"],
                        default=["rare-feature", "rare-time"])
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args(argv)
    folds = 1 if args.quick else 5
    rows = []
    start = time.perf_counter()
    for task in args.tasks:
        values = {name: [] for name in args.only}
        for fold in range(folds):
            X = arma.arma_inputs(10, seed=fold)
            truth = arma.planted(task, seed=fold)
            model, per_step = arma.white_box(truth), arma.white_box(truth, per_step=True)
            full = np.broadcast_to(truth, X.shape)
            for name in args.only:
                A = explain(name, model, per_step, X)
                values[name].append((scores.tint_aup(A, full), scores.tint_aur(A, full)))
        for name, pairs in values.items():
            ours = np.mean(pairs, axis=0)
            pub = PUBLISHED[(task, name)]
            ok = all(abs(o - p) <= TOLERANCE[name] for o, p in zip(ours, pub))
            rows.append((task, name, float(ours[0]), pub[0], float(ours[1]), pub[1], ok))
    print(f"{'experiment':13} {'method':21} {'AUP':>6} {'pub':>6} {'AUR':>6} {'pub':>6}  within")
    for task, name, a, pa, r, pr, ok in rows:
        print(f"{task:13} {name:21} {a:6.3f} {pa:6.3f} {r:6.3f} {pr:6.3f}  {'yes' if ok else 'NO'}")
    print(f"{folds} fold(s), {time.perf_counter() - start:.0f} s")
    if args.csv is not None:
        with open(args.csv, "w") as fp:
            command = " ".join(["benchmarks/reproduce_arma.py", *(argv if argv is not None else sys.argv[1:])])
            fp.write(f"# made by: PYTHONPATH=$PWD .venv/bin/python {command} ({folds} fold(s)); "
                     "read by notebooks/09_learned_masks.ipynb\n")
            fp.write("experiment,method,aup,aup_published,aur,aur_published,within_target\n")
            for task, name, a, pa, r, pr, ok in rows:
                fp.write(f"{task},{name},{a:.4f},{pa},{r:.4f},{pr},{ok}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
