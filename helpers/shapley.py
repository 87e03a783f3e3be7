"""Shapley values for sequences: exact enumeration, KernelSHAP and GradientSHAP.

Explained in chapter 4 (SHAP on sequences). The players are the input's cells
(``players="cell"``), its time steps (``"time"``) or its features
(``"feature"``); padded steps are never players and get exactly 0. The value of
a coalition ``S`` is the interventional one shap uses with an independent
masker: ``v(S) = mean_b f(x_S, b_rest)``, the explained output (the probability,
for a softmax classifier: outputs as computed, never logits) averaged over
background rows ``b`` with the players outside ``S`` taken from ``b``. Every
model row goes through the one engine; :func:`kernel_shap` wraps shap's
KernelExplainer with the reshaping a sequence model needs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from math import comb

import keras
import numpy as np

from helpers import engine, prefix
from helpers.levels import LEVELS, aggregate  # noqa: F401  (aggregate re-exported)
from helpers.models import evaluate, numpy_seed, pick  # noqa: F401  (numpy_seed re-exported)
from helpers.validation import (
    check_positive_int,
    check_seed,
    mask_value,
    resolve_background,
    resolve_inputs,
    resolve_target,
)

#: Most players exact Shapley will enumerate: 2^16 coalitions per background row.
MAX_EXACT_FEATURES = 16


def check_background(model: keras.Model, background, n_steps: int | None = None) -> np.ndarray:
    """``background`` as float32 ``(m, T, F)`` rows for the model (see ``resolve_background``)."""
    from helpers.validation import model_shape

    T, F = model_shape(model)
    return resolve_background(
        background, (T if n_steps is None else n_steps, F), mask_value=mask_value(model)
    )


def expected_value(model: keras.Model, background, *, target=None) -> float:
    """``E[f(b)]`` over ``(m, T, F)`` background rows: the value of the empty coalition."""
    B = check_background(model, background)
    targets = resolve_target(model, B, target)
    return float(pick(evaluate(model, B), targets).mean())


def coalition_masks(n_players: int) -> np.ndarray:
    """All ``2^M`` coalitions as a bool ``(2^M, M)`` array; row ``k`` holds the bits of ``k``."""
    n_players = check_positive_int(n_players, "n_players")
    if n_players > MAX_EXACT_FEATURES:
        raise ValueError(
            f"expected at most {MAX_EXACT_FEATURES} players (2^{MAX_EXACT_FEATURES} coalitions), "
            f"got {n_players} (2^{n_players} coalitions would need "
            f"{2.0**n_players * n_players / 2**30:.3g} GiB)"
        )
    k = np.arange(2**n_players, dtype=np.int64)
    return ((k[:, None] >> np.arange(n_players)) & 1).astype(bool)


def shapley_coefficients(masks: np.ndarray) -> np.ndarray:
    """Coefficients ``C`` ``(2^M, M)`` with ``phi = v @ C`` for coalition values ``v`` ``(2^M,)``.

    ``C[S, i] = w(|S| - 1)`` if ``i`` is in ``S`` else ``-w(|S|)``, with the Shapley
    weight ``w(s) = s! (M - s - 1)! / M!`` (Shapley 1953).
    """
    masks = np.asarray(masks)
    if masks.ndim != 2 or masks.dtype != bool:
        raise ValueError(f"expected masks as a bool array (2^M, M), got dtype {masks.dtype} and shape {masks.shape}")
    M = masks.shape[1]
    w = np.array([1.0 / (M * comb(M - 1, s)) for s in range(M)] + [0.0])
    size = masks.sum(axis=1)
    return np.where(masks, w[np.maximum(size - 1, 0)][:, None], -w[size][:, None])


@functools.lru_cache(maxsize=4)
def _game(n_players: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks and Shapley coefficients for ``n_players``, built once per size (read-only)."""
    masks = coalition_masks(n_players)
    coeff = shapley_coefficients(masks)
    masks.flags.writeable = False
    coeff.flags.writeable = False
    return masks, coeff


def player_cells(valid: np.ndarray, n_features: int, players: str = "cell") -> np.ndarray:
    """Which cells each player holds: bool ``(P, T * F)`` for one ``valid`` ``(T,)`` pattern."""
    if players not in LEVELS:
        raise ValueError(f"expected players in {LEVELS}, got {players!r}")
    T, F = len(valid), n_features
    cells = np.repeat(np.asarray(valid, bool), F)  # (T * F,) row-major (t, f)
    if players == "cell":
        G = np.eye(T * F, dtype=bool)[cells]
    elif players == "time":
        G = np.repeat(np.eye(T, dtype=bool), F, axis=1)[valid]
    else:
        G = np.tile(np.eye(F, dtype=bool), (1, T)) & cells[None]
    return G


def _groups(valid: np.ndarray, targets: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """Samples that share a padding pattern and a target: ``(indices, valid (T,), target)``."""
    keys = np.concatenate([valid.astype(np.int64), targets[:, None]], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    for g, key in enumerate(unique):
        yield np.flatnonzero(inverse.reshape(-1) == g), key[:-1].astype(bool), int(key[-1])


def _values(model, X: np.ndarray, B: np.ndarray, keep: np.ndarray, target: int) -> np.ndarray:
    """``v(S) = mean_b f(x_S, b_rest)``: ``(n, K)`` for cell masks ``keep`` ``(K, T * F)``."""
    n, T, F = X.shape
    m, K = B.shape[0], keep.shape[0]
    x2, b2 = X.reshape(n, -1), B.reshape(m, -1)
    out = np.empty((n, K))

    def fill(i0, i1, k0, k1):
        rows = np.where(keep[None, k0:k1, None], x2[i0:i1, None, None], b2[None, None])  # (s, k, m, M)
        y = evaluate(model, rows.reshape(-1, T, F))[:, target]
        out[i0:i1, k0:k1] = y.reshape(i1 - i0, k1 - k0, m).mean(axis=2)

    if K * m <= engine.MAX_ROWS:
        for i0, i1 in engine.blocks(n, K * m):
            fill(i0, i1, 0, K)
    else:
        for i in range(n):
            for k0, k1 in engine.blocks(K, m):
                fill(i, i + 1, k0, k1)
    return out


def coalition_values(model, X, background, masks, *, target=None) -> np.ndarray:
    """``v(S) = mean_b f(x_S, b_rest)`` for every sample and cell mask: ``(n, K)`` for masks ``(K, T*F)``."""
    X, valid, targets = resolve_inputs(model, X, target)
    n, T, F = X.shape
    B = resolve_background(background, (T, F), mask_value=mask_value(model))
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 2 or masks.shape[1] != T * F:
        raise ValueError(f"expected masks of shape (K, {T * F}) = (K, T * F), got {masks.shape}")
    out = np.empty((n, masks.shape[0]))
    for idx, pattern, target_ in _groups(valid, targets):
        padded = ~np.repeat(pattern, F)
        out[idx] = _values(model, X[idx], B, masks | padded[None], target_)
    return out


def exact_shapley(
    model, X, *, background, target=None, players: str = "cell", prefix_sharing: bool = True
) -> np.ndarray:
    """Exact interventional Shapley values over all ``2^P`` coalitions of players: ``(n, T, F)``.

    Costs ``n * 2^P * m`` model rows (``P = T * F`` cells, ``T`` steps or ``F`` features;
    ``m`` background rows), built as masked arrays and pushed through the engine. Each
    sample's player values sum to ``f(x) - E[f(background)]`` (background padded like
    ``x``); a time or feature player's value is repeated over its cells. With
    ``players="time"``, unpadded input and an LSTM model (``prefix.supports``), the
    coalitions share prefixes (:func:`helpers.prefix.exact_time_shapley`, up to
    ``prefix.MAX_EXACT_STEPS`` steps); ``prefix_sharing=False`` forces the plain path.
    """
    X, valid, targets = resolve_inputs(model, X, target)
    n, T, F = X.shape
    B = resolve_background(background, (T, F), mask_value=mask_value(model))
    if players not in LEVELS:
        raise ValueError(f"expected players in {LEVELS}, got {players!r}")
    if (
        prefix_sharing
        and players == "time"
        and T <= prefix.MAX_EXACT_STEPS
        and valid.all()
        and prefix.supports(model)
    ):
        return prefix.exact_time_shapley(model, X, background=B, target=targets)
    out = np.zeros((n, T, F))
    for idx, pattern, target_ in _groups(valid, targets):
        G = player_cells(pattern, F, players)
        if G.shape[0] > MAX_EXACT_FEATURES:
            raise ValueError(
                f"expected at most {MAX_EXACT_FEATURES} players for exact Shapley values, got "
                f"{G.shape[0]} ({players} players of T * F = {T} * {F}; 2^{G.shape[0]} coalitions); "
                "use kernel_shap (sampled coalitions) or gradient_shap (expected gradients) instead"
            )
        masks, coeff = _game(G.shape[0])
        keep = (masks.astype(np.int64) @ G.astype(np.int64) > 0) | ~G.any(axis=0)[None]
        phi = _values(model, X[idx], B, keep, target_) @ coeff  # (k, P)
        out[idx] = (phi @ G).reshape(len(idx), T, F)
    return out


def kernel_shap(
    model,
    X,
    *,
    background,
    target=None,
    nsamples: int = 2048,
    seed: int = 0,
    players: str = "cell",
    l1_reg: bool | str | float = False,
    prune: float | None = None,
) -> np.ndarray:
    """KernelSHAP (Lundberg & Lee 2017) over cells, steps or features: ``(n, T, F)``.

    Wraps ``shap.KernelExplainer`` on the flattened valid cells (grouped into players);
    padded steps stay padded and get 0. ``l1_reg`` is off unless asked for (shap >= 0.47
    defaults to ``"num_features(10)"``, which zeroes all but ten players).
    ``nsamples >= 2^P - 2`` enumerates every coalition and gives the exact values;
    the base value is :func:`expected_value`. ``prune=tol`` (``players="time"`` on
    unpadded input only): TimeSHAP's pruning, steps older than a cut-off share one
    player (:func:`helpers.prefix.kernel_time_shap`; its coalitions share prefixes).
    """
    import shap
    from shap.utils._legacy import DenseData

    L1_FORMS = '"auto", "aic", "bic", "num_features(k)", a number, True or False'
    bad_l1 = isinstance(l1_reg, str) and not (
        l1_reg in ("auto", "aic", "bic") or (l1_reg.startswith("num_features(") and l1_reg.endswith(")"))
    )
    if bad_l1 or not isinstance(l1_reg, (bool, int, float, str)):
        raise ValueError(f"expected l1_reg as one of shap's forms ({L1_FORMS}), got {l1_reg!r}")
    X, valid, targets = resolve_inputs(model, X, target)
    n, T, F = X.shape
    B = resolve_background(background, (T, F), mask_value=mask_value(model))
    nsamples = check_positive_int(nsamples, "nsamples")
    seed = check_seed(seed)
    if players not in LEVELS:
        raise ValueError(f"expected players in {LEVELS}, got {players!r}")
    if prune is not None:
        if players != "time":
            raise ValueError(f'expected players="time" with prune= (TimeSHAP pruning of time steps), got players={players!r}')
        if not valid.all():
            raise ValueError("expected unpadded sequences with prune= (TimeSHAP pruning), got padded steps in X")
        if l1_reg is not False:
            raise ValueError(f"expected l1_reg=False with prune=, got l1_reg={l1_reg!r}")
        return prefix.kernel_time_shap(model, X, background=B, target=targets, nsamples=nsamples, prune=prune, seed=seed)
    out = np.zeros((n, T, F))
    for idx, pattern, target_ in _groups(valid, targets):
        G = player_cells(pattern, F, players)
        cols = np.flatnonzero(G.any(axis=0))
        template = X[idx[0]].reshape(-1)  # padded cells hold mask_value in every sample

        def predict(rows, cols=cols, template=template, target_=target_):
            full = np.repeat(template[None], len(rows), axis=0)
            full[:, cols] = rows
            return evaluate(model, full.reshape(-1, T, F))[:, target_]

        groups = [np.searchsorted(cols, np.flatnonzero(g)) for g in G]
        data = DenseData(B.reshape(len(B), -1)[:, cols], [str(p) for p in range(len(G))], groups)
        explainer = shap.KernelExplainer(predict, data)
        with numpy_seed(seed):
            phi = explainer.shap_values(
                X[idx].reshape(len(idx), -1)[:, cols], nsamples=nsamples, l1_reg=l1_reg, silent=True
            )
        phi = np.asarray(phi, dtype=np.float64).reshape(len(idx), len(G))
        out[idx] = (phi @ G).reshape(len(idx), T, F)
    return out


def gradient_shap(model, X, *, background, target=None, nsamples: int = 200, seed: int = 0) -> np.ndarray:
    """GradientSHAP (expected gradients, as ``shap.GradientExplainer`` draws them): ``(n, T, F)``.

    For each sample, ``nsamples`` draws of a background row ``b`` and ``a ~ U(0, 1)``
    (the same draws as shap's with ``rseed=seed``); the value is the mean of
    ``grad f(b + a (x - b)) * (x - b)``. Sums to ``f(x) - E[f(background)]`` only in
    expectation. Padded steps take ``x``'s values in every ``b``, so they get 0.
    """
    from helpers.gradients import gradient_rows

    X, valid, targets = resolve_inputs(model, X, target)
    n, T, F = X.shape
    B = resolve_background(background, (T, F), mask_value=mask_value(model))
    nsamples = check_positive_int(nsamples, "nsamples")
    rs = np.random.RandomState(check_seed(seed))  # noqa: NPY002  (shap's legacy draws)
    draws = np.array([(rs.choice(len(B)), rs.uniform()) for _ in range(n * nsamples)]).reshape(n, nsamples, 2)
    out = np.zeros((n, T, F))
    for lo, hi in engine.blocks(n, nsamples):
        rows = draws[lo:hi, :, 0].astype(np.int64)
        a = draws[lo:hi, :, 1, None, None]
        x = X[lo:hi, None]
        b = np.where(valid[lo:hi, None, :, None], B[rows], x)  # (m, nsamples, T, F)
        path = (a * x + (1 - a) * b).astype(np.float32)
        delta = (x - b).astype(np.float32)
        g = gradient_rows(model, path.reshape(-1, T, F), np.repeat(targets[lo:hi], nsamples))
        out[lo:hi] = (g.reshape(delta.shape) * delta).mean(axis=1)
    return out


def cell_labels(feature_names: Sequence[str], time_names: Sequence[str]) -> list[str]:
    """Labels ``feature@time`` for the ``T * F`` cells in row-major ``(T, F)`` order, e.g. ``close@t-1``."""
    return [f"{f}@{t}" for t in time_names for f in feature_names]
