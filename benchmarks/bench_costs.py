"""Chapter 7's cost column: each method's time per batch of explanations, in forward calls.

The chapter's line-up (`helpers.compare.lineup`, the chapter's settings) on untrained
models of the box task's shape (T=20, F=5: an LSTM, and an LSTM with attention for
the attention row), explaining N=24 sequences. Each row is the time to explain the N
sequences divided by one call of `helpers.models.forward` on the same N sequences,
both timed in this run as CPU seconds of this process (``time.process_time``, all
threads, so other processes' load matters less), best of alternated repeats; costly
methods run once after a warm-up. The row's name carries the model
evaluations per explanation, counted as in the chapter. Exact Shapley runs on a
stock-shaped model (T=5, F=3, 4 sequences), the only shape where it is feasible.
LRP and contextual decomposition (chapter 6) unroll the LSTM in NumPy, outside the
engine: their rows name the unrolls per explanation (LRP 2, CD one per step, T)
and give their time as a ratio to one forward call over the same N sequences,
like every other row. They run on the plain LSTM only (``Method.supports``).

Targets: the perturbation methods and the deletion curve build every copy of every
sequence as one array, so they must cost about one forward call over the same rows
(<= 1.5): their rows divide by a call of `forward` on the N sequences repeated as
many times as the method evaluates each. (Before the engine's chunks followed the
input size, one call on N sequences padded to 4,096 rows, so the plain ratio hid
this.) The rest are reported against one forward call on the N sequences.
"""

from __future__ import annotations

import numpy as np
from timing import best_pair, row

import helpers  # noqa: F401
from helpers import checks, compare, models

N, T, F = 24, 20, 5
SETTINGS = dict(baseline="mean", ig_steps=32, background_size=5, kernel_nsamples=256,
                gradient_nsamples=64)
BATCHED = ("feature sensitivity", "occlusion", "time-step masking")
CHEAP_REPEATS, COSTLY_REPEATS = 7, 1




def run() -> list[dict]:
    """Time every method of the chapter's line-up; one row per method, plus the deletion curve."""
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(500, T, F)).astype(np.float32)
    X = reference[:N]
    lstm = models.build_lstm(T, F, units=32, seed=0)
    attention = models.build_attention_lstm(T, F, units=16, seed=0)

    rows = []
    for name, method in compare.lineup(reference, **SETTINGS).items():
        model = attention if method.needs_attention else lstm
        if not method.supports(model):
            continue
        _, cost = compare.measure(method, model, X)  # counts evaluations; warms up
        costly = cost.forward > 1000 or cost.gradients > 32  # measure() has warmed these up
        # A batched method is held to one forward call over the rows it evaluates.
        floor_rows = np.repeat(X, round(cost.forward), axis=0) if name in BATCHED else X
        seconds, base = best_pair(lambda m=method, mod=model: m.explain(mod, X),
                                   lambda mod=model, rows=floor_rows: models.forward(mod, rows),
                                   COSTLY_REPEATS if costly else CHEAP_REPEATS, CHEAP_REPEATS,
                                   warmup=not costly)
        counted = (f"{cost.passes:,.0f} NumPy unrolls/explanation" if method.lstm_only
                   else f"{cost.evaluations:,.0f} evaluations/explanation")
        floor = "one forward call over the same rows" if name in BATCHED else "one forward call"
        rows.append(row(
            f"{name} ({counted}): time / {floor}",
            seconds / base, 1.5 if name in BATCHED else None,
        ))

    small = models.build_lstm(5, 3, units=32, seed=0)
    small_ref = rng.normal(size=(500, 5, 3)).astype(np.float32)
    exact = compare.lineup(small_ref, **SETTINGS, exact=True)["exact Shapley"]
    Xs = small_ref[:4]
    _, cost = compare.measure(exact, small, Xs)
    seconds, base = best_pair(lambda: exact.explain(small, Xs), lambda: models.forward(small, Xs),
                               COSTLY_REPEATS, CHEAP_REPEATS, warmup=False)
    rows.append(row(
        f"exact Shapley, T=5 F=3 ({cost.evaluations:,.0f} evaluations/explanation): "
        "time / one forward call", seconds / base, None,
    ))

    attribution = rng.normal(size=X.shape)
    copies = np.repeat(X, 21, axis=0)
    t_deletion, t_same_rows = best_pair(
        lambda: checks.deletion_curve(lstm, X, attribution, baseline="draw", reference=reference,
                                          fractions=21),
        lambda: models.forward(lstm, copies), CHEAP_REPEATS)
    rows.append(row(f"deletion curve (21 fractions x {N}) / one forward call over the same rows",
                     t_deletion / t_same_rows, 1.5))
    return rows


if __name__ == "__main__":
    for row in run():
        status = "pass" if row["passed"] else "FAIL"
        print(f"{row['benchmark']:<90} {row['measured']:>9} (target {row['target']}) {status}")
