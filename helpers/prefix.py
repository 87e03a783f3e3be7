"""Methods on the prefix tree: event-level Shapley values, occlusion and time-step masking.

Explained in chapter 4 (exact event-level Shapley values). Each method here runs a
recurrent model over the prefixes its perturbed copies share, each prefix once
(:mod:`helpers.prefix_tree`, the engine):

- event-level exact Shapley values (each time step one player): the ``2^T``
  coalitions form a binary tree over time, ``2^(T+1) - 2`` cell steps instead of
  ``T 2^T`` (:func:`exact_time_shapley`);
- occlusion and time-step masking: a perturbation that starts at step ``t``
  recomputes only from step ``t`` (:func:`occlusion_prefix`,
  :func:`mask_time_steps_prefix`);
- event-level KernelSHAP with TimeSHAP's pruning (Bento et al. 2021), steps older
  than a cut-off sharing one player (:func:`kernel_time_shap`).

Only models :func:`supports` accepts (LSTM layers fed by the input, then any
head) take this path; callers fall back to one forward pass per perturbed input.
The work is counted by :class:`count_cell_steps` (the engine's one counter).
"""

from __future__ import annotations

from math import comb

import numpy as np

import helpers  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)
from helpers import engine
from helpers.models import numpy_seed
from helpers.prefix_tree import (
    Walk,
    add,
    check,
    clock,
    occlusion_call,
    occlusion_width,
    outputs,
    supports,
)
from helpers.validation import check_positive_int, check_sequences, evaluate, resolve_target

__all__ = [
    "MAX_EXACT_STEPS",
    "PLAIN_BELOW",
    "count_cell_steps",
    "exact_time_shapley",
    "kernel_time_shap",
    "mask_time_steps_prefix",
    "masked_values",
    "occlusion_prefix",
    "pruning_cutoff",
    "shapley_from_values",
    "supports",
    "time_coalition_values",
]

#: Most time-step players :func:`exact_time_shapley` enumerates (2^22 coalitions per row).
MAX_EXACT_STEPS = 22

#: Occlusion and masking of fewer sequences than this run as one plain forward pass
#: over every copy. The shared path's call is padded to the smallest bucket of
#: sequences (8), each with all its copies, and saves only about half the cell steps
#: per sequence, so with fewer sequences its padding costs more than it saves.
PLAIN_BELOW = 8

#: The prefix path's work (``.steps`` node-steps, ``.head_rows``, ``.seconds`` per part)
#: is counted by the engine's one counter, under the name this module always had.
count_cell_steps = engine.count_evaluations


# --- event-level Shapley ----------------------------------------------------------------


class _CoalitionTree:
    """Time-step coalitions: step ``t`` from ``x`` if bit ``t`` of the key is set, else from ``b``.

    Leaves are the sorted keys ``r`` (bit ``T-1-t`` of ``r`` is step ``t``), so the leaves
    sharing a prefix form one range ``[lo, hi)`` and a node is one such range.
    Roots are pairs (sample ``i``, background row ``j``).
    """

    def __init__(self, X, B, r, target, T):
        self.X, self.B, self.r, self.target, self.T = X, B, r, target, T
        self.out = np.zeros((X.shape[0], len(r)))
        self.m = B.shape[0]
        self.full = len(r) == 2**T and bool(np.all(r == np.arange(2**T)))

    def children(self, t, meta):
        lo, hi = meta["lo"], meta["hi"]
        # A node's leaves share the bits of steps 0..t-1 and are sorted, so those with step t
        # from x start at the first key >= (that prefix, then bit t set).
        shift = self.T - 1 - t
        if self.full:  # every key present: the halves of a node's range
            mid = (lo + hi) // 2
        else:
            threshold = ((self.r[lo] >> (shift + 1)) << (shift + 1)) | (1 << shift)
            mid = np.clip(np.searchsorted(self.r, threshold), lo, hi)
        # Children in leaf order: each parent's bit-0 child (from b), then its bit-1 child (from x).
        parent = np.repeat(np.arange(len(lo)), 2)
        child_lo = np.stack([lo, mid], axis=1).ravel()
        child_hi = np.stack([mid, hi], axis=1).ravel()
        from_x = np.tile([False, True], len(lo))
        keep = child_hi > child_lo
        parent, child_lo, child_hi, from_x = parent[keep], child_lo[keep], child_hi[keep], from_x[keep]
        i, j = meta["i"][parent], meta["j"][parent]
        inputs = np.where(from_x[:, None], self.X[i, t], self.B[j, t])
        return parent, inputs, {"i": i, "j": j, "lo": child_lo, "hi": child_hi}

    def descend(self, t, depth, meta):
        """A full tree's nodes at level ``t``: inputs ``[b, x]`` of steps ``t..t+depth-1`` per node
        ``(nodes, 2 depth F)`` and the meta of their ``2^depth`` descendants each, in leaf order."""
        i, j, k = meta["i"], meta["j"], 1 << depth
        steps = np.stack([self.B[j, t : t + depth], self.X[i, t : t + depth]], axis=2)
        lo = meta["lo"][:, None] + np.arange(k) * ((meta["hi"] - meta["lo"]) // k)[:, None]
        child = {"i": np.repeat(i, k), "j": np.repeat(j, k), "lo": lo.ravel()}
        return steps.reshape(len(i), -1), {**child, "hi": child["lo"] + (meta["hi"][0] - meta["lo"][0]) // k}

    def collect(self, meta, y):
        i = meta["i"]
        v = y[np.arange(len(i)), self.target[i]] / self.m
        width = meta["hi"] - meta["lo"]  # > 1 only for repeated keys
        rows = np.repeat(i, width)
        cols = np.concatenate([np.arange(a, b) for a, b in zip(meta["lo"], meta["hi"])]) \
            if np.any(width != 1) else meta["lo"]
        np.add.at(self.out, (rows, cols), np.repeat(v, width))



def _sort_keys(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys ``r`` with step 0 as the most significant bit, sorted, and the order that sorts them."""
    T = masks.shape[1]
    r = (masks.astype(np.int64) << (T - 1 - np.arange(T))).sum(axis=1)
    order = np.argsort(r, kind="stable")
    return r[order], order


def masked_values(model, X: np.ndarray, background: np.ndarray, masks: np.ndarray,
                  target=None) -> np.ndarray:
    """``v(S) = mean_b f(x_S, b_rest)`` for time-step coalitions: ``masks`` bool ``(K, T)`` -> ``(n, K)``.

    ``X`` ``(n, T, F)``, ``background`` ``(m, T, F)``; step ``t`` comes from ``x`` where
    ``masks[:, t]``. Every distinct prefix of every coalition is stepped once.
    """
    chain, X, B = check(model, X, background, need_chain=False)
    n, T, F = X.shape
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 2 or masks.shape[1] != T:
        raise ValueError(f"expected masks of shape (K, {T}) (one column per time step), got {masks.shape}")
    target = resolve_target(model, X, target)
    if chain is None:  # not a model the prefix path runs: one forward row per masked input
        rows = np.where(masks[None, :, None, :, None], X[:, None, None], B[None, None])
        y = evaluate(model, rows.reshape(-1, T, F)).reshape(n, len(masks), B.shape[0], -1)
        return y[np.arange(n), :, :, target].mean(axis=2)
    r, order = _sort_keys(masks)
    values = _tree_values(model, chain, X, B, r, target)
    out = np.empty_like(values)
    out[:, order] = values
    return out


def _tree_values(model, chain, X, B, r, target) -> np.ndarray:
    n, T, F = X.shape
    m = B.shape[0]
    tree = _CoalitionTree(X, B, r, target, T)
    i, j = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    roots = {"i": i, "j": j, "lo": np.zeros(n * m, np.int64), "hi": np.full(n * m, len(r), np.int64)}
    if len(r):
        Walk(model, chain, tree, T, F).run(roots)
    return tree.out


def time_coalition_values(model, X: np.ndarray, background: np.ndarray, target=None) -> np.ndarray:
    """All ``2^T`` time-step coalitions: ``(n, T, F)``, ``(m, T, F)`` -> ``v`` ``(n, 2^T)``.

    ``v[:, k] = mean_b f(x_S, b_rest)`` with step ``t`` in ``S`` iff bit ``t`` of ``k`` is
    set (the order of :func:`helpers.shapley.coalition_masks`). Costs ``n m (2^(T+1) - 2)``
    node-steps (see :class:`count_cell_steps`) instead of ``n m T 2^T``.
    """
    chain, X, B = check(model, X, background)
    T = X.shape[1]
    _check_exact(T)
    target = resolve_target(model, X, target)
    r = np.arange(2**T, dtype=np.int64)  # already sorted: the tree's leaf order
    values = _tree_values(model, chain, X, B, r, target)
    return values[:, _bit_reverse(T)]


def _bit_reverse(T: int) -> np.ndarray:
    """Leaf position ``r`` of coalition ``k``: the ``T`` bits of ``k`` reversed."""
    k = np.arange(2**T, dtype=np.int64)
    r = np.zeros_like(k)
    for t in range(T):  # bit by bit: no (2^T, T) array
        r |= ((k >> t) & 1) << (T - 1 - t)
    return r


def _check_exact(T: int) -> None:
    if T > MAX_EXACT_STEPS:
        raise ValueError(
            f"expected at most {MAX_EXACT_STEPS} time steps for exact event-level Shapley values, "
            f"got T = {T} (2^{T} coalitions); use kernel_time_shap instead"
        )


def shapley_from_values(v: np.ndarray) -> np.ndarray:
    """Shapley values of every player from all coalition values: ``(n, 2^M) -> (n, M)``.

    ``v[:, k]`` is the value of the coalition whose members are the set bits of ``k``;
    ``phi_i = sum_S w(|S|) (v(S + i) - v(S))`` with ``w(s) = s! (M-s-1)! / M!``.
    """
    v = np.asarray(v, dtype=np.float64)
    M = int(np.log2(v.shape[1]))
    if v.ndim != 2 or v.shape[1] != 2**M:
        raise ValueError(f"expected v of shape (n, 2^M), got {v.shape}")
    w = np.array([1.0 / (M * comb(M - 1, s)) for s in range(M)])
    size = np.zeros(2**M, np.int64)
    for i in range(M):
        size += (np.arange(2**M) >> i) & 1
    phi = np.empty((v.shape[0], M))
    for i in range(M):
        # Coalitions as (high bits, bit i, low bits): bit i = 0 is S, bit i = 1 is S + i.
        pairs = v.reshape(v.shape[0], 2 ** (M - 1 - i), 2, 2**i)
        gain = pairs[:, :, 1] - pairs[:, :, 0]
        weight = w[size.reshape(2 ** (M - 1 - i), 2, 2**i)[:, 0]]
        phi[:, i] = (gain * weight).sum(axis=(1, 2))
    return phi


def exact_time_shapley(model, X: np.ndarray, *, background: np.ndarray, target=None) -> np.ndarray:
    """Exact event-level Shapley values (each time step one player): ``(n, T, F)``.

    ``X`` ``(n, T, F)``, ``background`` ``(m, T, F)``. A step's value belongs to the
    whole step, so it is broadcast over its ``F`` features (resolution ``"time"``):
    ``values[:, :, 0].sum(axis=1) == f(x) - E[f(background)]``.
    """
    chain, X, B = check(model, X, background)
    n, T, F = X.shape
    _check_exact(T)
    target = resolve_target(model, X, target)
    phi = np.zeros((n, T))
    step = max(1, (1 << 22) // 2**T)  # samples whose 2^T values stay within 32 MiB
    for lo in range(0, n, step):
        v = time_coalition_values(model, X[lo : lo + step], B, target[lo : lo + step])
        phi[lo : lo + step] = shapley_from_values(v)
    return np.repeat(phi[:, :, None], F, axis=2)


# --- occlusion and time-step masking ----------------------------------------------------


def _baseline(B, X: np.ndarray) -> np.ndarray:
    b = np.asarray(B, dtype=np.float32)
    try:
        return np.broadcast_to(b, X.shape)
    except ValueError:
        raise ValueError(
            f"expected a resolved baseline broadcastable to {X.shape} (T, F) or (n, T, F), got shape {b.shape}"
        ) from None


def occlusion_prefix(model, X: np.ndarray, B, window: int = 1, target=None) -> np.ndarray:
    """Occlusion sharing the unperturbed prefix: ``(n, T, F)``, equal to one forward per occluded copy.

    Cell ``(t, f)`` gets the mean of ``f(x) - f(x with feature f at steps p..p+window-1
    set to the baseline)`` over the windows containing it. ``B`` is the resolved
    baseline, broadcastable to ``X``. A window starting at ``p`` is stepped from ``p`` on.
    """
    chain, X, _ = check(model, X)
    n, T, F = X.shape
    window = check_positive_int(window, "window")
    if window > T:
        raise ValueError(f"expected window <= T = {T}, got {window}")
    B = _baseline(B, X)
    positions = T - window + 1
    y = _occlude(model, chain, X, B, window, [[f] for f in range(F)], positions, target)
    delta = (y[:, :1] - y[:, 1:]).reshape(n, positions, F)
    out, cover = np.zeros((n, T, F)), np.zeros(T)
    for p in range(positions):
        out[:, p : p + window] += delta[:, p, None, :]
        cover[p : p + window] += 1
    return out / cover[None, :, None]


def mask_time_steps_prefix(model, X: np.ndarray, B, target=None) -> np.ndarray:
    """``f(x) - f(x with every feature of step t set to the baseline)``: ``(n, T, F) -> (n, T)``."""
    chain, X, _ = check(model, X)
    n, T, F = X.shape
    B = _baseline(B, X)
    y = _occlude(model, chain, X, B, 1, [list(range(F))], T, target)
    return y[:, :1] - y[:, 1:]


def _occlude(model, chain, X, B, window, groups, positions, target) -> np.ndarray:
    """Outputs ``(n, 1 + positions * G)``: column 0 unperturbed, ``1 + p * G + g`` perturbed.

    Each sequence's copies are stepped beside it (:func:`helpers.prefix_tree.occlusion_call`):
    a copy whose perturbation starts at step ``p`` joins at ``p`` from the sequence's state.
    """
    n, T, F = X.shape
    target = resolve_target(model, X, target)
    G = len(groups)
    out = np.zeros((n, 1 + positions * G))
    if n == 0:
        return out
    member = np.zeros((G, F), bool)
    for g, feats in enumerate(groups):
        member[g, feats] = True
    if n < PLAIN_BELOW:
        return _occlude_plain(model, X, B, window, member, positions, target)
    width, per_call = occlusion_width(chain, T, G, positions)
    call = occlusion_call(model, chain, T, F, member, window, width)
    # A sequence here costs its copies' node-steps, not a forward row's T: pad less.
    steps = T + G * int((T - np.arange(min(width, positions))).sum())
    call_cost = max(1, round(engine.CALL_COST * T / steps))
    with clock("packing"):
        packed = np.concatenate([X.reshape(n, T * F), np.ascontiguousarray(B).reshape(n, T * F)], axis=1)
    rows = np.arange(n)
    for first in range(0, positions, width):
        starts = np.arange(first, min(positions, first + width))
        for lo in range(0, n, per_call):
            hi = min(n, lo + per_call)
            with clock("copies stepped beside their sequences, and head"):
                y = outputs(call, packed[lo:hi], np.full(hi - lo, first), call_cost=call_cost).reshape(hi - lo, 1 + width * G, -1)
            y = y[rows[: hi - lo], :, target[lo:hi]]  # (rows, 1 + width G)
            out[lo:hi, 0] = y[:, 0]
            out[lo:hi, 1 + first * G : 1 + (starts[-1] + 1) * G] = y[:, 1 : 1 + len(starts) * G]
    calls = -(-positions // width)  # each call steps the sequence itself from step 0
    add("steps", n * (calls * T + G * int((T - np.arange(positions)).sum())))
    add("head_rows", n * (calls + positions * G))
    add("rows", n * (calls + positions * G))
    return out


def _occlude_plain(model, X, B, window, member, positions, target) -> np.ndarray:
    """:func:`_occlude`'s outputs from one forward pass over every copy (few rows: fewer calls)."""
    n, T, F = X.shape
    G = len(member)
    with clock("copy building"):
        copies = np.repeat(X[None], 1 + positions * G, axis=0)  # (1 + positions G, n, T, F)
        for p in range(positions):
            for g in range(G):
                cells = np.s_[p : p + window, member[g]]
                copies[1 + p * G + g][(slice(None), *cells)] = B[(slice(None), *cells)]
    rows = copies.shape[0] * n
    add("steps", rows * T)
    add("head_rows", rows)
    with clock("plain forward"):
        y = evaluate(model, copies.reshape(rows, T, F)).reshape(copies.shape[0], n, -1)
    return y[:, np.arange(n), target].T  # (n, 1 + positions G)


# --- event-level KernelSHAP with TimeSHAP's pruning -------------------------------------


def pruning_cutoff(model, x: np.ndarray, background: np.ndarray, tolerance: float, target=None) -> int:
    """TimeSHAP's temporal-coalition pruning for one sequence ``x`` ``(T, F)``: the cut-off ``c``.

    For ``c = T-1, ..., 1`` the steps split into two players, older ``[0, c)`` and
    recent ``[c, T)``; the cut-off is the largest ``c`` whose older player's exact
    two-player Shapley value is at most ``tolerance`` in size (0: nothing pruned).
    Steps older than ``c`` then share one player.
    """
    x = check_sequences(np.asarray(x)[None])
    T = x.shape[1]
    tolerance = float(tolerance)
    if not np.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"expected a tolerance >= 0, got {tolerance!r}")
    cuts = np.arange(T - 1, 0, -1)
    older = np.arange(T)[None, :] < cuts[:, None]
    masks = np.concatenate([np.zeros((1, T), bool), np.ones((1, T), bool), older, ~older])
    v = masked_values(model, x, background, masks, target)[0]
    empty, full, v_old, v_recent = v[0], v[1], v[2 : 2 + len(cuts)], v[2 + len(cuts) :]
    phi_old = 0.5 * ((v_old - empty) + (full - v_recent))
    ok = np.flatnonzero(np.abs(phi_old) <= tolerance)
    return int(cuts[ok[0]]) if len(ok) else 0


def kernel_time_shap(model, X: np.ndarray, *, background: np.ndarray, target=None,
                     nsamples: int = 2048, prune: float | None = None, seed: int = 0) -> np.ndarray:
    """Event-level KernelSHAP (shap.KernelExplainer on time-step players): ``(n, T, F)``.

    ``prune=None``: each step is a player. ``prune=tol`` (TimeSHAP, Bento et al. 2021):
    steps older than :func:`pruning_cutoff` share one player, whose value is split
    evenly over its steps. Values are broadcast over features (resolution ``"time"``).
    Coalitions are evaluated with prefix sharing where :func:`supports` holds, else
    one forward row per masked input.
    """
    import shap

    chain, X, B = check(model, X, background, need_chain=False)
    n, T, F = X.shape
    nsamples = check_positive_int(nsamples, "nsamples")
    targets = resolve_target(model, X, target)
    out = np.zeros((n, T))
    for s in range(n):
        cut = 0 if prune is None else pruning_cutoff(model, X[s], B, prune, targets[s : s + 1])
        # Player 0 holds the pruned steps [0, cut) when cut > 1; then one player per step.
        owner = np.maximum(np.arange(T) - max(cut - 1, 0), 0)
        M = int(owner[-1]) + 1

        def value(z: np.ndarray, s=s, owner=owner) -> np.ndarray:
            masks = np.asarray(z, dtype=np.float64)[:, owner] > 0.5
            return masked_values(model, X[s : s + 1], B, masks, targets[s : s + 1])[0]

        explainer = shap.KernelExplainer(value, np.zeros((1, M)))
        with numpy_seed(seed):
            phi = explainer.shap_values(np.ones((1, M)), nsamples=nsamples, l1_reg=False, silent=True)
        phi = np.asarray(phi, dtype=np.float64).reshape(M)
        out[s] = phi[owner] / np.bincount(owner)[owner]
    return np.repeat(out[:, :, None], F, axis=2)
