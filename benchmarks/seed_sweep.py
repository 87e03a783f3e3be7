"""Chapter 7's five-training-seed scoreboard, precomputed: writes book/seed_sweep.csv.

Run from the repository root (about five minutes on a quiet 2-core machine):

    PYTHONPATH=$PWD .venv/bin/python benchmarks/seed_sweep.py

Not a benchmark (`run.py` runs only `bench_*.py`). The box task of chapter 7
(the same data, seed 0) trains the chapter's LSTM and LSTM + attention with
training seeds 0 to 4, with the chapter's settings (8 epochs; the attention
model on the first 2,000 rows). For every seed, every method of the line-up
explains the same 24 test sequences and is scored by: AUROC, AUP and AUR against
the planted block (cells); the deletion AUC with three replacements (the
training mean, zeros, ROAD imputation; 11 fractions); CPD and CPP (k = 10 cells,
ROAD baseline). One CSV row per (seed, method). Chapter 7 reads the file
instead of training 10 models while it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import helpers  # noqa: F401
from helpers import checks, compare, data, models, removal, scores

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "book" / "seed_sweep.csv"
SEEDS, N, K = (0, 1, 2, 3, 4), 24, 10
SETTINGS = dict(baseline="mean", ig_steps=32, background_size=5, kernel_nsamples=256,
                gradient_nsamples=64)
HEADER = ("# made by: PYTHONPATH=$PWD .venv/bin/python benchmarks/seed_sweep.py "
          "(see its docstring); read by notebooks/07_which_to_trust.ipynb\n")


def scoreboard(model, attention_model, X, relevance, reference, seed: int) -> list[dict]:
    """One row of every metric per method for one training seed."""
    rows = []
    for name, method in compare.lineup(reference, **SETTINGS).items():
        model_used = attention_model if method.needs_attention else model
        if not method.supports(model_used):
            continue
        A = method.explain(model_used, X)

        def deletion(baseline, A=A, m=model_used):
            return checks.deletion_curve(m, X, A, baseline=baseline, reference=reference, fractions=11).auc()

        rows.append({
            "seed": seed, "method": name,
            "AUROC": scores.auroc(A, relevance), "AUP": scores.aup(A, relevance),
            "AUR": scores.aur(A, relevance),
            "deletion AUC (mean)": deletion("mean"), "deletion AUC (zeros)": deletion("zeros"),
            "deletion AUC (ROAD)": deletion(removal.ROAD()),
            "CPD": removal.cumulative_prediction_difference(model_used, X, A, baseline="road", k=K),
            "CPP": removal.cumulative_prediction_preservation(model_used, X, A, baseline="road", k=K),
        })
    return rows


def main() -> int:
    box = data.make_box_task(background="ar", ar_coef=0.8, seed=0)
    scaler = data.Standardizer().fit(box.X_train)
    train, test = scaler.transform(box.X_train), scaler.transform(box.X_test)
    rows = []
    for seed in SEEDS:
        lstm = models.build_lstm(20, 5, units=32, seed=seed)
        models.fit(lstm, train, box.y_train, epochs=8, batch_size=128, learning_rate=1e-2, seed=seed)
        att = models.build_attention_lstm(20, 5, units=16, seed=seed)
        models.fit(att, train[:2000], box.y_train[:2000], epochs=8, batch_size=128,
                   learning_rate=1e-2, seed=seed)
        r2 = models.r2_score(box.y_test, models.forward(lstm, test))
        print(f"seed {seed}: LSTM test R^2 {r2:.3f}", flush=True)
        rows += scoreboard(lstm, att, test[:N], box.planted_test[:N], train, seed)
    table = pd.DataFrame(rows)
    with open(OUT, "w") as f:
        f.write(HEADER)
        table.to_csv(f, index=False, float_format="%.6f")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(table)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
