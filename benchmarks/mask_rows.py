"""Chapter 7's scoreboard rows for Dynamask, ExtremalMask and TIMING: writes book/mask_rows.csv.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/mask_rows.py [--seeds 0 1 2 3 4]

Not a benchmark (`run.py` runs only `bench_*.py`), and chapter 7 is not
edited here: this script scores the new methods with chapter 7's columns on
its box task, built as `seed_sweep.py` builds it (LSTM of 32 units, 8 epochs,
training seed per row, the first 24 test sequences, training-mean baseline).
Columns: AUROC / AUP / AUR against the planted block (cells); deletion AUC
(training mean, 11 fractions); CPD and CPP (k = 10, ROAD baseline); the
weight-randomisation sanity check (seed 0 only, 6 sequences); evaluations
and CPU milliseconds per explanation (seed 0, after a one-sequence warm-up).
Integrated gradients is repeated so each row can be checked against
`book/seed_sweep.csv` (same seed, same model). Settings of the new methods:
TIMING 32 steps, 2 segments of 1-5 steps; Dynamask keep ratios 0.1-0.4, 300
epochs; ExtremalMask 500 epochs. The stock and adding tasks are not run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers import checks, data, engine, gradients, masks, models, removal, scores  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N, N_SANITY, K = 24, 6, 10


def lineup(mean: np.ndarray) -> dict:
    return {
        "integrated gradients": lambda m, X: gradients.integrated_gradients(m, X, baseline=mean, steps=32),
        "TIMING": lambda m, X: gradients.timing(m, X, baseline=mean, steps=32, n_segments=2, segment_length=(1, 5)),
        "Dynamask": lambda m, X: masks.dynamask(m, X, keep=(0.1, 0.2, 0.3, 0.4), epochs=300),
        "ExtremalMask": lambda m, X: masks.extremal_mask(m, X, epochs=500),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--csv", type=Path, default=ROOT / "book" / "mask_rows.csv")
    args = parser.parse_args(argv)
    box = data.make_box_task(background="ar", ar_coef=0.8, seed=0)
    scaler = data.Standardizer().fit(box.X_train)
    train, test = scaler.transform(box.X_train), scaler.transform(box.X_test)
    X, rel = test[:N], box.planted_test[:N]
    rows = []
    for seed in args.seeds:
        model = models.build_lstm(20, 5, units=32, seed=seed)
        models.fit(model, train, box.y_train, epochs=8, batch_size=128, learning_rate=1e-2, seed=seed)
        for name, explain in lineup(train.mean(axis=0)).items():
            explain(model, X[:1])  # tracing is not charged
            with engine.count_evaluations() as counter:
                start = time.process_time()
                A = explain(model, X)
                seconds = time.process_time() - start
            row = {
                "seed": seed, "method": name,
                "AUROC": scores.auroc(A, rel), "AUP": scores.aup(A, rel), "AUR": scores.aur(A, rel),
                "deletion AUC (mean)": checks.deletion_curve(model, X, A, baseline="mean", reference=train,
                                                             fractions=11).auc(),
                "CPD": removal.cumulative_prediction_difference(model, X, A, baseline="road", k=K),
                "CPP": removal.cumulative_prediction_preservation(model, X, A, baseline="road", k=K),
                "evaluations per explanation": counter.evaluations / N,
                "CPU ms per explanation": 1e3 * seconds / N,
            }
            if seed == args.seeds[0]:
                sanity = checks.sanity_check(model, X[:N_SANITY], explain, threshold=0.5)
                row["sanity"] = f"{'passed' if sanity.passed else 'FAILED'} ({sanity.median[-1]:+.2f})"
            rows.append(row)
            print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    table = pd.DataFrame(rows)
    with open(args.csv, "w") as f:
        f.write(f"# made by: PYTHONPATH=$PWD .venv/bin/python benchmarks/mask_rows.py "
                f"--seeds {' '.join(map(str, args.seeds))} (see its docstring)\n")
        table.to_csv(f, index=False, float_format="%.6f")
    print(table.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
