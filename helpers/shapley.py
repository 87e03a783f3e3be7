"""Shapley values for sequences: exact enumeration, KernelSHAP and GradientSHAP.

Explained in chapter 4 (SHAP on sequences). Every cell ``(t, f)`` of a ``(T, F)``
input is one player. The value of a coalition ``S`` is the interventional one
shap uses with an independent masker: ``v(S) = mean_b f(x_S, b_rest)``, the model
averaged over background rows ``b`` with the cells outside ``S`` taken from ``b``.
:func:`exact_shapley` computes it for all ``2^(T*F)`` coalitions through
:func:`helpers.models.forward`; :func:`kernel_shap` and :func:`gradient_shap`
wrap shap's explainers with the reshaping and defaults a sequence model needs.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator, Sequence
from math import comb
from typing import NamedTuple

import keras
import numpy as np

import helpers  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)
from helpers.models import forward
from helpers.validation import check_model_input, check_positive_int, model_shape

#: Most cells exact Shapley will enumerate: 2^16 coalitions per background row.
MAX_EXACT_FEATURES = 16

#: Masked rows built per call to :func:`forward` (a few hundred thousand keeps calls large).
MAX_ROWS = 1 << 18


class KernelShap(NamedTuple):
    """What :func:`kernel_shap` returns: unpack as ``values, expected_value = kernel_shap(...)``.

    ``values`` is ``(n, T, F)``; ``expected_value`` is ``E[f(background)]``, so each
    sample's values sum to ``f(x) - expected_value``.
    """

    values: np.ndarray
    expected_value: float


def check_background(model: keras.Model, background) -> np.ndarray:
    """Return ``background`` as finite float32 ``(m, T, F)`` rows with the model's ``T`` and ``F``."""
    T, F = model_shape(model)
    B = np.asarray(background)
    if B.ndim != 3 or B.shape[1:] != (T, F) or B.shape[0] == 0:
        raise ValueError(
            f"expected background of shape (m, {T}, {F}) with m >= 1 rows of sequences "
            f"for this model, got shape {B.shape}"
        )
    return check_model_input(model, B, name="background")


def expected_value(model: keras.Model, background) -> float:
    """``E[f(b)]`` over ``(m, T, F)`` background rows: the value of the empty coalition."""
    return float(forward(model, check_background(model, background)).mean())


def coalition_masks(n_players: int) -> np.ndarray:
    """All ``2^M`` coalitions as a bool ``(2^M, M)`` array; row ``k`` holds the bits of ``k``."""
    n_players = check_positive_int(n_players, "n_players")
    k = np.arange(2**n_players, dtype=np.int64)
    return ((k[:, None] >> np.arange(n_players)) & 1).astype(bool)


def shapley_coefficients(masks: np.ndarray) -> np.ndarray:
    """Coefficients ``C`` ``(2^M, M)`` with ``phi = v @ C`` for coalition values ``v`` ``(2^M,)``.

    ``C[S, i] = w(|S| - 1)`` if ``i`` is in ``S`` else ``-w(|S|)``, with the Shapley
    weight ``w(s) = s! (M - s - 1)! / M!`` (Shapley 1953).
    """
    M = masks.shape[1]
    w = np.array([1.0 / (M * comb(M - 1, s)) for s in range(M)] + [0.0])
    size = masks.sum(axis=1)
    return np.where(masks, w[np.maximum(size - 1, 0)][:, None], -w[size][:, None])


def exact_shapley(model: keras.Model, X: np.ndarray, background) -> np.ndarray:
    """Exact interventional Shapley values over all ``2^(T*F)`` coalitions: ``(n, T, F)``.

    ``X`` is ``(n, T, F)``, ``background`` ``(m, T, F)``. Costs ``n * 2^(T*F) * m``
    model rows, built as large masked arrays and pushed through :func:`forward`.
    Each sample's values sum to ``f(x) - E[f(background)]``.
    """
    X = check_model_input(model, X)
    B = check_background(model, background)
    n, T, F = X.shape
    M = T * F
    if M > MAX_EXACT_FEATURES:
        raise ValueError(
            f"expected at most {MAX_EXACT_FEATURES} cells (T * F) for exact Shapley values, "
            f"got T * F = {T} * {F} = {M} (2^{M} coalitions); use kernel_shap (sampled "
            f"coalitions) or gradient_shap (expected gradients) instead"
        )
    masks, coeff = _game(M)
    values = coalition_values(model, X, B, masks)  # (n, 2^M)
    return (values @ coeff).reshape(n, T, F)


@functools.lru_cache(maxsize=4)
def _game(n_players: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks and Shapley coefficients for ``n_players``, built once per size (read-only)."""
    masks = coalition_masks(n_players)
    coeff = shapley_coefficients(masks)
    masks.flags.writeable = False
    coeff.flags.writeable = False
    return masks, coeff


def coalition_values(
    model: keras.Model, X: np.ndarray, background: np.ndarray, masks: np.ndarray
) -> np.ndarray:
    """``v(S) = mean_b f(x_S, b_rest)`` for every sample and mask: ``(n, K)`` for masks ``(K, T*F)``."""
    X = check_model_input(model, X)
    B = check_background(model, background)
    n, T, F = X.shape
    m, M = B.shape[0], T * F
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 2 or masks.shape[1] != M:
        raise ValueError(f"expected masks of shape (K, {M}) = (K, T * F), got {masks.shape}")
    K = masks.shape[0]
    x2, b2 = X.reshape(n, M), B.reshape(m, M)
    out = np.empty((n, K), dtype=np.float64)
    for i0, i1, k0, k1 in _blocks(n, K, m):
        keep = masks[None, k0:k1, None, :]  # (1, k, 1, M)
        rows = np.where(keep, x2[i0:i1, None, None, :], b2[None, None, :, :])  # (s, k, m, M)
        y = forward(model, rows.reshape(-1, T, F))
        out[i0:i1, k0:k1] = y.reshape(i1 - i0, k1 - k0, m).mean(axis=2)
    return out


def _blocks(n: int, K: int, m: int) -> Iterator[tuple[int, int, int, int]]:
    """Cut ``n`` samples x ``K`` coalitions x ``m`` background rows into blocks of about ``MAX_ROWS``."""
    per_sample = K * m
    if per_sample <= MAX_ROWS:
        step = max(1, MAX_ROWS // per_sample)
        for i0 in range(0, n, step):
            yield i0, min(n, i0 + step), 0, K
        return
    step = max(1, MAX_ROWS // m)
    for i0 in range(n):
        for k0 in range(0, K, step):
            yield i0, i0 + 1, k0, min(K, k0 + step)


@contextlib.contextmanager
def _numpy_seed(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator (shap samples from it) and restore it afterwards."""
    # shap draws from the legacy global generator, so that is the one to seed.
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def kernel_shap(
    model: keras.Model,
    X: np.ndarray,
    background,
    nsamples: int = 2048,
    l1_reg: bool | str | float = False,
    seed: int = 0,
) -> KernelShap:
    """KernelSHAP (Lundberg & Lee 2017) on ``T * F`` cells: ``KernelShap(values (n, T, F), expected_value)``.

    Wraps ``shap.KernelExplainer``: rows are flattened to ``T * F`` columns for shap and
    reshaped back. ``l1_reg`` is off unless asked for (shap >= 0.47 defaults to
    ``"num_features(10)"``, which zeroes all but ten cells). ``nsamples >= 2^(T*F) - 2``
    enumerates every coalition and gives the exact values.
    """
    import shap

    X = check_model_input(model, X)
    B = check_background(model, background)
    nsamples = check_positive_int(nsamples, "nsamples")
    n, T, F = X.shape

    def predict(rows: np.ndarray) -> np.ndarray:
        return forward(model, np.asarray(rows, dtype=np.float32).reshape(-1, T, F))

    explainer = shap.KernelExplainer(predict, B.reshape(B.shape[0], T * F))
    with _numpy_seed(seed):
        values = explainer.shap_values(
            X.reshape(n, T * F), nsamples=nsamples, l1_reg=l1_reg, silent=True
        )
    values = np.asarray(values, dtype=np.float64).reshape(n, T, F)
    return KernelShap(values, float(np.ravel(explainer.expected_value)[0]))


def gradient_shap(
    model: keras.Model, X: np.ndarray, background, nsamples: int = 200, seed: int = 0
) -> np.ndarray:
    """GradientSHAP (expected gradients) via ``shap.GradientExplainer``: ``(n, T, F)``.

    For each sample, ``nsamples`` draws of a background row ``b`` and ``a ~ U(0, 1)``;
    the value is the mean of ``grad f(b + a (x - b)) * (x - b)``. Sums to
    ``f(x) - E[f(background)]`` only in expectation.
    """
    import shap

    X = check_model_input(model, X)
    B = check_background(model, background)
    nsamples = check_positive_int(nsamples, "nsamples")
    # One gradient call per sample: shap batches the nsamples draws of one sample.
    explainer = shap.GradientExplainer(model, B, batch_size=nsamples)
    with _numpy_seed(seed), warnings.catch_warnings():
        # Keras 3 warns that shap passes a list where the model expects one tensor; harmless.
        warnings.filterwarnings("ignore", message="The structure of `inputs`", category=UserWarning)
        values = explainer.shap_values(X, nsamples=nsamples, rseed=seed)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 4 and values.shape[-1] == 1:
        values = values[..., 0]
    return values.reshape(X.shape)


def aggregate(values: np.ndarray, over: str = "time", absolute: bool = False) -> np.ndarray:
    """Sum attributions over one axis: ``over="time"`` ``(n, T, F) -> (n, F)``, ``"feature"`` ``-> (n, T)``.

    Signed sums keep efficiency (they add up to the same total); ``absolute=True``
    sums magnitudes, so opposite contributions no longer cancel.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 3:
        raise ValueError(f"expected values of shape (n, T, F), got shape {values.shape}")
    axes = {"time": 1, "feature": 2}
    if over not in axes:
        raise ValueError(f'expected over="time" or over="feature", got {over!r}')
    return (np.abs(values) if absolute else values).sum(axis=axes[over])


def cell_labels(feature_names: Sequence[str], time_names: Sequence[str]) -> list[str]:
    """Labels ``feature@time`` for the ``T * F`` cells in row-major ``(T, F)`` order, e.g. ``close@t-1``."""
    return [f"{f}@{t}" for t in time_names for f in feature_names]
