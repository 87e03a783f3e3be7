"""Removal metrics as the field now uses them: CPD / CPP, top-k removal, the ROAD baseline.

Explained in chapter 7 (which explanation to trust). Removing a map's top-k
cells all at once lets positive and negative contributions cancel, so a map
that ranks the cells badly can still move the prediction most (the cancel-out
trap, TIMING, ICML 2025). The cumulative prediction difference (CPD) removes
cells one at a time, highest ranked first, and adds up the change at every
step, so nothing cancels; its mirror, the cumulative prediction preservation
(CPP), removes the lowest ranked first. Reference: ``drumpt/TIMING``,
``real/cumulative_difference.py``.

The per-step change is the L1 norm of the change in the model's outputs (the
paper's formula; the reference code averages over classes instead, which is
the same divided by the number of outputs). With ``target=`` only that output
counts. Every metric here uses this one definition.

Removed cells take a baseline: any form :func:`helpers.validation.resolve_baseline`
takes, or ``"road"`` / :class:`ROAD`: noisy linear imputation from the cell's kept
time neighbours (Rong et al., ICML 2022), so the shape of the removed region
carries less of the answer than a constant would.
"""

from __future__ import annotations

import numpy as np

from helpers import engine
from helpers.scores import deletion_order

#: Removal orders: by ``|attribution|`` (the field's default) or by the signed value.
ORDERS = ("abs", "signed")


class ROAD:
    """Noisy linear imputation of removed cells from their kept time neighbours (ROAD, chapter 7).

    Each removed cell equals the mean of its valid time neighbours (``t - 1``,
    ``t + 1``), removed neighbours solved jointly, per feature; then Gaussian noise
    of standard deviation ``noise`` (input units) is added to imputed cells. A
    feature with no kept valid cell takes 0. Ends of a removed run hold the
    nearest kept value, so a straight line is imputed exactly between kept cells.
    """

    def __init__(self, noise: float = 0.01, seed: int = 0):
        from helpers.validation import check_seed

        if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
            raise ValueError(f"expected noise as a number >= 0, got {noise!r}")
        self.noise, self.seed = float(noise), check_seed(seed)

    def __repr__(self) -> str:
        return f"ROAD(noise={self.noise}, seed={self.seed})"

    def fill(self, X: np.ndarray, removed: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """``X`` ``(m, T, F)`` with ``removed`` cells ``(m, T, F)`` imputed; ``valid`` ``(m, T)``.

        Padded (invalid) steps are never removed and are no one's neighbour.
        """
        X = np.asarray(X, dtype=np.float64)
        m, T, F = X.shape
        removed = np.asarray(removed, bool) & valid[:, :, None]
        # One T x T system per (copy, feature): x_t - mean(neighbours) = 0 where removed.
        cols = np.moveaxis(X, 2, 1).reshape(-1, T)  # (m F, T)
        gone = np.moveaxis(removed, 2, 1).reshape(-1, T)
        ok = np.repeat(valid, F, axis=0)
        left = np.zeros_like(ok)
        left[:, 1:] = ok[:, :-1]
        right = np.zeros_like(ok)
        right[:, :-1] = ok[:, 1:]
        degree = left.astype(np.float64) + right
        keep = ok & ~gone
        solvable = keep.any(axis=1) & gone.any(axis=1)
        out = np.where(gone, 0.0, cols)
        if solvable.any():
            c, g, d = cols[solvable], gone[solvable], np.maximum(degree[solvable], 1.0)
            lf, rt = left[solvable], right[solvable]
            A = np.broadcast_to(np.eye(T), (len(c), T, T)).copy()
            idx = np.arange(T - 1)
            A[:, idx + 1, idx] -= np.where(g[:, 1:] & lf[:, 1:], 1.0 / d[:, 1:], 0.0)
            A[:, idx, idx + 1] -= np.where(g[:, :-1] & rt[:, :-1], 1.0 / d[:, :-1], 0.0)
            rhs = np.where(g, 0.0, c)
            out[solvable] = np.linalg.solve(A, rhs[:, :, None])[:, :, 0]
        out = np.moveaxis(out.reshape(m, F, T), 1, 2)
        if self.noise > 0:
            rng = np.random.default_rng([self.seed, 1])
            out = out + np.where(removed, rng.normal(0.0, self.noise, out.shape), 0.0)
        return np.where(removed, out, X).astype(np.float32)


def resolve_removal(baseline, X: np.ndarray, reference, valid: np.ndarray):
    """A :class:`ROAD` (for ``"road"`` or a ``ROAD``) or the float32 baseline ``(n, T, F)``."""
    from helpers.validation import resolve_baseline

    if isinstance(baseline, ROAD):
        return baseline
    if isinstance(baseline, str) and baseline == "road":
        return ROAD()
    return resolve_baseline(baseline, X, reference, valid)


def remove(X: np.ndarray, removed: np.ndarray, replacement, valid: np.ndarray) -> np.ndarray:
    """Copies of ``X`` ``(m, T, F)`` with ``removed`` cells replaced (a baseline ``(m, T, F)`` or ROAD)."""
    if isinstance(replacement, ROAD):
        return replacement.fill(X, removed, valid)
    return np.where(removed, replacement, X).astype(np.float32)


def _inputs(model, X, attributions, baseline, reference, target, valid, order, k):
    from helpers.validation import format_inputs, resolve_target

    if order not in ORDERS:
        raise ValueError(f"expected order in {ORDERS}, got {order!r}")
    X, padded = format_inputs(model, X)
    n, T, F = X.shape
    if n == 0:
        raise ValueError(f"expected at least one sequence in X, got shape {X.shape}")
    A = np.asarray(attributions, dtype=np.float64)
    if A.shape != X.shape:
        raise ValueError(f"expected attributions of shape {X.shape} (like X), got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("expected finite attributions, got NaN or infinity")
    if valid is not None:
        v = np.asarray(valid)
        if v.dtype != bool or v.shape != (n, T):
            raise ValueError(f"expected valid as a bool array of shape ({n}, {T}), got {v.dtype} {v.shape}")
        padded = padded & v
    if isinstance(k, bool) or not isinstance(k, (int, np.integer, float)):
        raise ValueError(f"expected k as a count of cells >= 1 or a fraction in (0, 1], got {k!r}")
    steps = int(k) if isinstance(k, (int, np.integer)) else int(round(k * T * F)) if 0 < k <= 1 else 0
    if steps < 1 or steps > T * F:
        raise ValueError(f"expected k from 1 to {T * F} cells (or a fraction in (0, 1]), got {k!r}")
    targets = None if target is None else resolve_target(model, X, target)
    return X, A, padded, resolve_removal(baseline, X, reference, padded), targets, steps


def _key(A: np.ndarray, order: str, largest: bool) -> np.ndarray:
    """A non-negative key whose decreasing order is the removal order."""
    a = np.abs(A) if order == "abs" else A
    lo, hi = a.min(), a.max()
    return (a - lo) if largest else (hi - a)


def _step_changes(model, X, A, valid, replacement, targets, steps, largest, order, seed, only_ends=False):
    """Per-sample L1 output change at each removal step: ``(n, steps)`` (or ``(n, 1)`` top-k at once)."""
    from helpers.models import evaluate

    n, T, F = X.shape
    M = T * F
    ranking = deletion_order(_key(A, order, largest), seed, valid)  # padded cells last
    rank = np.empty((n, M), dtype=np.int64)
    np.put_along_axis(rank, ranking, np.arange(M)[None], axis=1)
    counts = np.array([0, steps]) if only_ends else np.arange(steps + 1)
    K = len(counts)
    out = np.empty((n, K - 1))
    # Every step of a block is one set of rows through the engine, not one call per step.
    for lo, hi in engine.blocks(n, K):
        removed = (rank[lo:hi, None, :] < counts[None, :, None]).reshape(-1, T, F)
        copies = remove(np.repeat(X[lo:hi], K, axis=0), removed, _rows(replacement, lo, hi, K),
                        np.repeat(valid[lo:hi], K, axis=0))
        y = evaluate(model, copies).reshape(hi - lo, K, -1)
        if targets is not None:
            y = np.take_along_axis(y, targets[lo:hi, None, None], axis=2)
        out[lo:hi] = np.abs(np.diff(y, axis=1)).sum(axis=2)
    return out


def _rows(replacement, lo: int, hi: int, K: int):
    if isinstance(replacement, ROAD):
        return replacement
    return np.repeat(replacement[lo:hi], K, axis=0)


def _cumulative(largest, model, X, attributions, baseline, k, target, valid, order, reference,
                seed, per_sample):
    X, A, valid, B, targets, steps = _inputs(model, X, attributions, baseline, reference, target,
                                             valid, order, k)
    d = _step_changes(model, X, A, valid, B, targets, steps, largest, order, seed).sum(axis=1)
    return d if per_sample else float(d.mean())


def cumulative_prediction_difference(
    model, X, attributions: np.ndarray, *, baseline, k=0.2, target=None, valid=None,
    order: str = "abs", reference=None, seed: int = 0, per_sample: bool = False,
):
    """CPD (chapter 7): remove cells one at a time, highest ranked first; sum the output change.

    ``X`` ``(n, T, F)`` (or ragged), ``attributions`` ``(n, T, F)``. ``k``: the number of
    steps (cells), or a fraction of the ``T * F`` cells. ``order="abs"`` ranks by
    ``|attribution|``, ``"signed"`` by the signed value (the reference code's order).
    ``baseline``: ``"road"``, a :class:`ROAD`, or any form of
    :func:`helpers.validation.resolve_baseline` (``"mean"`` needs ``reference``).
    ``valid`` ``(n, T)`` marks further cells that never count (padded steps never do).
    Returns the mean over samples (float) or, with ``per_sample=True``, ``(n,)``;
    higher is better. Costs ``n * (k + 1)`` forward rows.
    """
    return _cumulative(True, model, X, attributions, baseline, k, target, valid, order, reference,
                       seed, per_sample)


def cumulative_prediction_preservation(
    model, X, attributions: np.ndarray, *, baseline, k=0.2, target=None, valid=None,
    order: str = "abs", reference=None, seed: int = 0, per_sample: bool = False,
):
    """CPP (chapter 7): :func:`cumulative_prediction_difference`, lowest ranked first; lower is better.

    Same arguments and shapes; padded cells still come last, so they never count.
    """
    return _cumulative(False, model, X, attributions, baseline, k, target, valid, order, reference,
                       seed, per_sample)


def top_k_removal(
    model, X, attributions: np.ndarray, *, baseline, k=0.2, target=None, valid=None,
    order: str = "abs", reference=None, seed: int = 0, per_sample: bool = False,
):
    """Remove the top ``k`` cells all at once: the L1 output change ``|f(x) - f(x without them)|``.

    The metric that can cancel out (chapter 7): contributions of opposite sign removed
    together offset each other. Same arguments and shapes as
    :func:`cumulative_prediction_difference`; costs ``2 n`` forward rows.
    """
    X, A, valid, B, targets, steps = _inputs(model, X, attributions, baseline, reference, target,
                                             valid, order, k)
    d = _step_changes(model, X, A, valid, B, targets, steps, True, order, seed, only_ends=True)[:, 0]
    return d if per_sample else float(d.mean())
