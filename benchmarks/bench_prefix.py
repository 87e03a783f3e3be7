"""Prefix sharing against one forward pass over every perturbed input, timed in the same run.

Models: one LSTM of 32 units and a linear read-out, two features (the adding
problem's shape). Rows:

- event-level exact Shapley values at T = 16, one baseline: ``prefix.exact_time_shapley``
  against today's path, one forward row per coalition (``2^16`` rows of 16 steps);
- occlusion at T = 20 (window 1) of ``N_OCCLUSION`` sequences: ``prefix.occlusion_prefix``
  against one forward pass over all ``1 + T F`` occluded copies of each;
- node-steps per coalition (counted by ``prefix.count_cell_steps``, not timed) against
  the ``2 (2^T - 1) / 2^T`` of a binary tree and the ``T`` of today's path, and occlusion's
  node-steps against the forward path's row-steps;
- event-level exact Shapley for one sequence at T = 20, one baseline: time and the
  peak of Python-allocated memory (``tracemalloc``; TensorFlow's own buffers are not
  in it).

Timings are CPU seconds (``timing.best_pair``), interleaved, best of ``REPEATS``,
so a busy machine disturbs the ratios less. Per-part CPU seconds of one run
(``prefix.count_cell_steps().seconds``: for Shapley the subtrees and the leaves
with the head; for occlusion the packing and the one call that steps each
sequence's copies beside it, head included) are reported as fractions of the
forward path's time. For occlusion, time per counted node-step against the
forward path's time per row-step is reported too: below 1 where the call's
shared input term saves more than its bookkeeping costs.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
from timing import best_pair

from helpers import models, prefix, shapley

F, UNITS = 2, 32
N_OCCLUSION = 1024
REPEATS = 5


def _profiled(fn) -> tuple[float, object]:
    """``(CPU seconds, counter)`` of one run of ``fn`` inside ``prefix.count_cell_steps``."""
    with prefix.count_cell_steps() as counter:
        start = time.process_time()
        fn()
        total = time.process_time() - start
    return total, counter


def _parts(name: str, total: float, seconds: dict[str, float], ratio: float) -> list[dict]:
    """One report row per part of the prefix path's work, as a share of the forward path's time.

    ``ratio`` is the prefix path's time over the forward path's; each part's share of the
    profiled run (CPU seconds) is scaled by it, and the rest (checks, Python) is "other".
    """
    shares = {part: s / total for part, s in seconds.items()}
    shares["other"] = 1.0 - sum(shares.values())
    return [
        {"benchmark": f"{name}: {part} / forward path", "measured": round(ratio * share, 3),
         "target": "report", "passed": True}
        for part, share in shares.items()
    ]


def _shapley_rows(T: int) -> list[dict]:
    model = models.build_lstm(T, F, units=UNITS, seed=0)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(1, T, F)).astype(np.float32)
    b = rng.uniform(size=(1, T, F)).astype(np.float32)
    masks = shapley.coalition_masks(T)
    rows = np.where(masks[:, :, None], x[0][None], b[0][None])  # (2^T, T, F), built once

    def today() -> np.ndarray:
        v = models.forward(model, rows)[None]
        return np.repeat(prefix.shapley_from_values(v)[:, :, None], F, axis=2)

    def ours() -> np.ndarray:
        return prefix.exact_time_shapley(model, x, background=b)

    t_ours, t_today = best_pair(ours, today, REPEATS)
    diff = float(np.abs(ours() - today()).max())
    total, counter = _profiled(ours)
    per = counter.steps / 2**T
    speedup = t_today / t_ours
    return [
        {
            "benchmark": f"event-level exact Shapley T={T}, 1 baseline: speed-up over a forward per coalition",
            "measured": round(speedup, 2),
            "target": ">= 6",
            "passed": bool(speedup >= 6.0),
        },
        *_parts(f"exact Shapley T={T}", total, getattr(counter, "seconds", {}), t_ours / t_today),
        {
            "benchmark": f"event-level exact Shapley T={T}: max |difference| from the forward path",
            "measured": diff,
            "target": "<= 1e-5",
            "passed": bool(diff <= 1e-5),
        },
        {
            "benchmark": f"node-steps per coalition, T={T} (binary tree 2(2^T-1)/2^T; forward path T={T})",
            "measured": round(per, 4),
            "target": f"== {2 * (2**T - 1) / 2**T:.4f}",
            "passed": bool(counter.steps == 2 * (2**T - 1)),
        },
    ]


def _occlusion_rows(T: int) -> list[dict]:
    model = models.build_lstm(T, F, units=UNITS, seed=0)
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(N_OCCLUSION, T, F)).astype(np.float32)
    baseline = np.zeros((T, F), np.float32)
    copies = np.repeat(X[None], 1 + T * F, axis=0)  # (1 + T F, n, T, F), built once
    for t in range(T):
        for f in range(F):
            copies[1 + t * F + f, :, t, f] = 0.0
    copies = copies.reshape(-1, T, F)

    def forward_all() -> np.ndarray:
        return models.forward(model, copies)

    def ours() -> np.ndarray:
        return prefix.occlusion_prefix(model, X, baseline)

    t_ours, t_forward = best_pair(ours, forward_all, REPEATS)
    y, values = forward_all(), ours()
    y = y.reshape(1 + T * F, N_OCCLUSION)
    reference = (y[0] - y[1:]).T.reshape(N_OCCLUSION, T, F)
    diff = float(np.abs(values - reference).max())
    ratio = t_ours / t_forward
    total, counter = _profiled(ours)
    steps = counter.steps / (copies.shape[0] * T)  # against the forward path's row-steps
    return [
        {
            "benchmark": f"occlusion T={T}, {N_OCCLUSION} sequences: time / one forward over all occluded copies",
            "measured": round(ratio, 3),
            "target": "<= 0.58",
            "passed": bool(ratio <= 0.58),
        },
        *_parts(f"occlusion T={T}", total, getattr(counter, "seconds", {}), ratio),
        {
            "benchmark": f"occlusion T={T}: time per node-step / forward's time per row-step",
            "measured": round(ratio / steps, 3),
            "target": "report",
            "passed": True,
        },
        {
            "benchmark": f"occlusion T={T}: node-steps / forward row-steps (counted; (T+1)/2T + 1/2TF ideal)",
            "measured": round(steps, 3),
            "target": f"== {(T + F * T * (T + 1) / 2) / ((1 + T * F) * T):.3f}",
            "passed": bool(counter.steps == N_OCCLUSION * (T + F * T * (T + 1) // 2)),
        },
        {
            "benchmark": f"occlusion T={T}: max |difference| from the forward path",
            "measured": diff,
            "target": "<= 1e-5",
            "passed": bool(diff <= 1e-5),
        },
    ]


def _large_rows(T: int) -> list[dict]:
    model = models.build_lstm(T, F, units=UNITS, seed=0)
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(1, T, F)).astype(np.float32)
    b = np.zeros((1, T, F), np.float32)
    prefix.exact_time_shapley(model, x[:, :T], background=b)  # trace
    tracemalloc.start()
    start = time.perf_counter()
    values = prefix.exact_time_shapley(model, x, background=b)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    gap = abs(values[0, :, 0].sum() - (models.forward(model, x)[0] - models.forward(model, b)[0]))
    return [
        {
            "benchmark": f"event-level exact Shapley T={T}, one sequence, 1 baseline: seconds",
            "measured": round(seconds, 2),
            "target": "<= 60",
            "passed": bool(seconds <= 60 and gap <= 1e-4),
        },
        {
            "benchmark": f"event-level exact Shapley T={T}: peak Python memory (MiB)",
            "measured": round(peak, 1),
            "target": "<= 512",
            "passed": bool(peak <= 512),
        },
    ]


def run() -> list[dict]:
    """Exact event-level Shapley (T=16, T=20), occlusion (T=20) and counted node-steps."""
    return _shapley_rows(16) + _occlusion_rows(20) + _large_rows(20)


if __name__ == "__main__":
    for result in run():
        print(f"{result['benchmark']:90} {result['measured']:>10} {result['target']:>10}")
