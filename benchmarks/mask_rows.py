"""Chapter 7's scoreboard rows for Dynamask, ExtremalMask and TIMING (box task).

`python benchmarks/mask_rows.py [--csv PATH]` rebuilds chapter 7's box task and
LSTM with the chapter's settings and scores the new methods with its columns:
AUROC / AUPRC against the planted block, deletion AUC (fresh draws), and the
weight-randomisation sanity check. Integrated gradients is repeated as a check
that the setting matches the chapter.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers import checks, data, gradients, masks, models, scores  # noqa: E402

N, N_SANITY = 24, 6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args(argv)
    box = data.make_box_task(background="ar", ar_coef=0.8, seed=0)
    scaler = data.Standardizer().fit(box.X_train)
    train, test = scaler.transform(box.X_train), scaler.transform(box.X_test)
    model = models.build_lstm(20, 5, units=32, seed=0)
    models.fit(model, train, box.y_train, epochs=8, batch_size=128, learning_rate=1e-2, seed=0)
    X, rel = test[:N], box.relevance_test[:N]
    mean = train.mean(axis=0)
    methods = {
        "integrated gradients": lambda m, X: gradients.integrated_gradients(m, X, baseline=mean, steps=32),
        "TIMING": lambda m, X: gradients.timing(m, X, baseline=mean, steps=32, n_segments=2, segment_length=(1, 5)),
        "Dynamask": lambda m, X: masks.dynamask(m, X, keep=(0.1, 0.2, 0.3, 0.4), epochs=300),
        "ExtremalMask": lambda m, X: masks.extremal_mask(m, X, epochs=500),
    }
    fresh = scaler.transform(data.box_background(1000, 20, 5, "ar", ar_coef=0.8, seed=1))
    rows = []
    for name, explain in methods.items():
        A = explain(model, X)
        deletion = checks.deletion_curve(model, X, A, "draw", reference=fresh, fractions=21, seed=0).auc()
        sanity = checks.sanity_check(model, X[:N_SANITY], explain, threshold=0.5)
        rows.append((name, scores.auroc(A, rel), scores.auprc(A, rel), deletion, bool(sanity.passed),
                     " ".join(f"{m:+.2f}" for m in sanity.median)))
    print(f"{'method':22} {'AUROC':>6} {'AUPRC':>6} {'deletion':>8}  sanity")
    for name, a, p, d, ok, med in rows:
        print(f"{name:22} {a:6.3f} {p:6.3f} {d:8.3f}  {'passed' if ok else 'FAILED'} ({med})")
    if args.csv is not None:
        with open(args.csv, "w") as fp:
            fp.write("method,box_auroc,box_auprc,deletion_auc,sanity_passed,sanity_median_by_step\n")
            for name, a, p, d, ok, med in rows:
                fp.write(f"{name},{a:.4f},{p:.4f},{d:.4f},{ok},{med}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
