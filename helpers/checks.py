"""Checks that need no ground truth but run the model: deletion / insertion curves, weight randomisation.

Explained in chapter 7 (which explanation to trust). A deletion curve asks
whether the ranking is faithful to the model (deleting the top-ranked cells
first should move the prediction fastest; compare it with
:func:`helpers.scores.random_attribution`'s ordering); an insertion curve asks
the same from the other end. The sanity check (Adebayo et al. 2018) asks
whether the map depends on what the network learned at all. Every model pass
goes through the engine in blocks within its row budget.
"""

from __future__ import annotations

import weakref

import numpy as np

from helpers import engine
from helpers.removal import (  # noqa: F401
    ROAD,
    cumulative_prediction_difference,
    cumulative_prediction_preservation,
    top_k_removal,
)
from helpers.scores import deletion_order, random_attribution, rank_agreement  # noqa: F401

# --- Faithfulness: deletion and insertion curves (Samek et al. 2017) ------------------------


class DeletionCurve:
    """Predictions ``(n, K)`` after deleting the top ``fractions`` ``(K,)`` of each sample's cells.

    ``fractions`` runs from 0 (nothing deleted: ``f(x)``) to 1 (every cell replaced).
    :meth:`remaining` is the share of the distance to the fully deleted prediction
    still left after each step, pooled over samples (1 at the start, 0 at the end);
    :meth:`auc` is its area: small when the top-ranked cells carry the prediction.
    """

    def __init__(self, fractions: np.ndarray, predictions: np.ndarray):
        self.fractions = np.asarray(fractions, dtype=np.float64)
        self.predictions = np.asarray(predictions, dtype=np.float64)

    def remaining(self) -> np.ndarray:
        """``mean_i |p_ik - p_i,end| / mean_i |p_i0 - p_i,end|``: ``(K,)``, from 1 to 0."""
        gap = np.abs(self.predictions - self.predictions[:, -1:]).mean(axis=0)
        if gap[0] == 0:
            raise ValueError(
                "expected replacing every cell to change the prediction, got no change at all "
                "(is the replacement equal to the input?)"
            )
        return gap / gap[0]

    def auc(self) -> float:
        """Area under :meth:`remaining` over the deleted fraction, in [0, 1] for a monotone curve."""
        return _area(self.remaining(), self.fractions)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(samples={self.predictions.shape[0]}, fractions={len(self.fractions)})"


class InsertionCurve(DeletionCurve):
    """Predictions ``(n, K)`` after inserting the top ``fractions`` of each sample's cells into the baseline.

    ``fractions`` runs from 0 (the all-baseline input) to 1 (``f(x)``). :meth:`recovered`
    is the share of the distance to ``f(x)`` covered, pooled over samples (0 to 1);
    :meth:`auc` is its area: large when the top-ranked cells carry the prediction.
    """

    def recovered(self) -> np.ndarray:
        """``1 - mean_i |p_ik - f(x_i)| / mean_i |p_i0 - f(x_i)|``: ``(K,)``, from 0 to 1."""
        return 1.0 - self.remaining()

    def auc(self) -> float:
        """Area under :meth:`recovered` over the inserted fraction, in [0, 1] for a monotone curve."""
        return _area(self.recovered(), self.fractions)


def _area(y: np.ndarray, x: np.ndarray) -> float:
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


def _check_fractions(fractions) -> np.ndarray:
    if isinstance(fractions, (int, np.integer)) and not isinstance(fractions, bool):
        if fractions < 2:
            raise ValueError(f"expected at least 2 fractions (0 and 1), got {fractions}")
        return np.linspace(0.0, 1.0, int(fractions))
    try:
        q = np.asarray(fractions, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"expected fractions as a count or an array, got {fractions!r}") from None
    if q.ndim != 1 or q.size < 2 or q[0] != 0.0 or q[-1] != 1.0 or not np.all(np.diff(q) > 0):
        raise ValueError(
            f"expected increasing fractions from 0 to 1 (or a count), got {np.round(q, 3).tolist()}"
        )
    return q


def _replacements(baseline, X, valid, reference, seed: int) -> np.ndarray:
    """The value each cell takes when deleted: ``(n, T, F)``; padded steps keep ``X``."""
    from helpers.removal import resolve_removal
    from helpers.validation import check_seed, check_sequences, resolve_baseline

    n, T, F = X.shape
    if isinstance(baseline, str) and baseline == "draw":
        if reference is None:
            raise ValueError('expected reference data (m, T, F) with baseline="draw", got None')
        ref = check_sequences(reference, "reference")
        if ref.shape[1:] != (T, F) or ref.shape[0] == 0:
            raise ValueError(f"expected reference of shape (m, {T}, {F}) with m >= 1, got {ref.shape}")
        B = ref[np.random.default_rng([check_seed(seed), 0]).integers(0, ref.shape[0], n)]
        return np.where(valid[:, :, None], B, X)
    if isinstance(baseline, ROAD) or (isinstance(baseline, str) and baseline == "road"):
        return resolve_removal(baseline, X, reference, valid)
    return resolve_baseline(baseline, X, reference, valid)


def _curve(kind, model, X, attribution, baseline, reference, target, fractions, seed):
    from helpers.models import forward
    from helpers.validation import format_inputs, resolve_target

    X, valid = format_inputs(model, X)
    if X.shape[0] == 0:
        raise ValueError(f"expected at least one sequence in X, got shape {X.shape}")
    A = np.asarray(attribution)
    if A.shape != X.shape:
        raise ValueError(f"expected an attribution of shape {X.shape} (like X), got {A.shape}")
    q = _check_fractions(fractions)
    order = deletion_order(A, seed, valid)  # checks the attribution is finite
    B = _replacements(baseline, X, valid, reference, seed)
    targets = resolve_target(model, X, target)
    n, T, F = X.shape
    M, K = T * F, len(q)
    rank = np.empty((n, M), dtype=np.int64)
    np.put_along_axis(rank, order, np.arange(M)[None], axis=1)
    # Cells deleted (or inserted) at each step, out of each sample's own unpadded cells.
    counts = np.round(q[None, :] * (valid.sum(axis=1) * F)[:, None]).astype(np.int64)  # (n, K)
    start, end = (X, B) if kind is DeletionCurve else (B, X) if not isinstance(B, ROAD) else (X, X)
    predictions = np.empty((n, K))
    # Blocks of samples keep the perturbed copies within the engine's row budget.
    for lo, hi in engine.blocks(n, K):
        changed = rank[lo:hi, None, :] < counts[lo:hi, :, None]  # (b, K, M)
        if isinstance(B, ROAD):
            # ROAD imputes from the kept neighbours, so each copy has its own fill.
            removed = changed if kind is DeletionCurve else ~changed
            copies = B.fill(np.repeat(X[lo:hi], K, axis=0), removed.reshape(-1, T, F),
                            np.repeat(valid[lo:hi], K, axis=0))
        else:
            copies = np.where(changed, end[lo:hi].reshape(-1, 1, M), start[lo:hi].reshape(-1, 1, M))
        y = forward(model, copies.reshape(-1, T, F), target=np.repeat(targets[lo:hi], K))
        predictions[lo:hi] = y.reshape(hi - lo, K)
    return kind(q, predictions)


def deletion_curve(
    model,
    X: np.ndarray,
    attribution: np.ndarray,
    *,
    baseline,
    reference: np.ndarray | None = None,
    fractions=11,
    seed: int = 0,
    target=None,
) -> DeletionCurve:
    """Delete each sample's top-``k`` cells by ``|attribution|`` and track the prediction.

    ``X`` ``(n, T, F)`` (or a ragged list) and ``attribution`` ``(n, T, F)`` give
    :class:`DeletionCurve` predictions ``(n, K)``. A deleted cell takes the baseline's
    value (``"zeros"``, ``"mean"`` of ``reference``, a number or an array, as in
    :func:`helpers.validation.resolve_baseline`), or with ``baseline="draw"`` the value
    of one ``reference`` row drawn per sample (a fresh draw from the background
    process when ``reference`` holds such draws; the same rows for every attribution
    with the same ``seed``), or with ``baseline="road"`` (or a
    :class:`helpers.removal.ROAD`) noisy linear imputation from the kept time
    neighbours of each copy (debiased removal, chapter 7). ``fractions``: a count of evenly spaced steps or an
    increasing array from 0 to 1, of each sample's unpadded cells (padded steps are
    never deleted). ``target`` picks the output, fixed from ``X`` (see
    :func:`helpers.validation.resolve_target`). Costs ``n * K`` forward rows.
    """
    return _curve(DeletionCurve, model, X, attribution, baseline, reference, target, fractions, seed)


def insertion_curve(
    model,
    X: np.ndarray,
    attribution: np.ndarray,
    *,
    baseline,
    reference: np.ndarray | None = None,
    fractions=11,
    seed: int = 0,
    target=None,
) -> InsertionCurve:
    """Start from the baseline and insert each sample's top-``k`` cells of ``X``: :class:`InsertionCurve`.

    The mirror of :func:`deletion_curve`, with the same arguments: predictions ``(n, K)``
    go from the all-baseline input (fraction 0) to ``f(x)`` (fraction 1).
    """
    return _curve(InsertionCurve, model, X, attribution, baseline, reference, target, fractions, seed)


def deletion_auc(curve: DeletionCurve) -> float:
    """Normalised area under a deletion curve (see :class:`DeletionCurve`); lower is more faithful."""
    if not isinstance(curve, DeletionCurve) or isinstance(curve, InsertionCurve):
        raise ValueError(f"expected a DeletionCurve, got {type(curve).__name__}")
    return curve.auc()


def insertion_auc(curve: InsertionCurve) -> float:
    """Normalised area under an insertion curve (see :class:`InsertionCurve`); higher is more faithful."""
    if not isinstance(curve, InsertionCurve):
        raise ValueError(f"expected an InsertionCurve, got {type(curve).__name__}")
    return curve.auc()


# --- Sanity: weight randomisation (Adebayo et al. 2018) -----------------------------------


def weighted_layers(model) -> list:
    """The model's layers that hold weights, input side first."""
    return [layer for layer in model.layers if layer.weights]


def randomize_weights(model, n_layers: int, seed: int = 0, fresh=None):
    """A copy of ``model`` with its top ``n_layers`` weighted layers re-initialised.

    The copy is ``keras.models.clone_model`` with the trained weights set; the
    re-initialised layers take the weights of a second clone, freshly initialised by
    each layer's own initialisers (seeded with ``seed``; the global random state is
    left as it was). ``fresh`` reuses such a clone. ``n_layers=0`` gives an exact copy.
    """
    import keras

    from helpers.models import seeded

    layers = weighted_layers(model)
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) or not (
        0 <= n_layers <= len(layers)
    ):
        raise ValueError(
            f"expected n_layers in 0..{len(layers)} (the model's weighted layers), got {n_layers!r}"
        )
    if fresh is None:
        with seeded(seed):
            fresh = keras.models.clone_model(model)
    copy = keras.models.clone_model(model)
    _reinitialise_top(copy, fresh, model, n_layers)
    return copy


def _reinitialise_top(copy, fresh, model, n_layers: int) -> list[str]:
    """Give ``copy`` the trained weights, then ``fresh``'s weights in the top ``n_layers`` weighted layers."""
    copy.set_weights(model.get_weights())
    index = [i for i, layer in enumerate(model.layers) if layer.weights]
    top = index[len(index) - n_layers :][::-1]
    for i in top:
        copy.layers[i].set_weights(fresh.layers[i].get_weights())
    return [model.layers[i].name for i in top]


_clone_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _clones(model, seed: int):
    """A freshly initialised clone and a working copy of ``model``, made once per model and seed.

    Reusing the working copy lets every method's compiled functions trace once for it.
    """
    import keras

    from helpers.models import seeded

    cache = _clone_cache.setdefault(model, {})
    if seed not in cache:
        with seeded(seed):
            cache[seed] = (keras.models.clone_model(model), keras.models.clone_model(model))
    return cache[seed]


class SanityCheck:
    """Result of :func:`sanity_check`.

    ``layers[k]`` names the layer re-initialised at step ``k`` of the cascade (top
    first, cumulative); ``correlation`` is ``(L, n)``: per sample, the Spearman rank
    correlation of ``|attribution|`` on the trained model and on the model with the top
    ``k + 1`` layers random. ``passed`` when the median falls below ``threshold`` with
    every layer random: the map depends on what the network learned.
    """

    def __init__(self, layers: list[str], correlation: np.ndarray, threshold: float):
        self.layers = layers
        self.correlation = correlation
        self.threshold = threshold

    @property
    def median(self) -> np.ndarray:
        """Median correlation over samples at each cascade step: ``(L,)``."""
        return np.nanmedian(self.correlation, axis=1)

    @property
    def passed(self) -> bool:
        return bool(self.median[-1] < self.threshold)

    def __repr__(self) -> str:
        steps = ", ".join(f"{name}: {m:.2f}" for name, m in zip(self.layers, self.median))
        return f"SanityCheck(passed={self.passed}, median correlation by step: {steps})"


def sanity_check(model, X: np.ndarray, explain, *, threshold: float = 0.5, seed: int = 0) -> SanityCheck:
    """Cascading weight randomisation: does ``explain(model, X) -> (n, T, F)`` change?

    Re-initialises the weighted layers from the output down, one more at each step,
    recomputes the attribution on the same ``X`` and compares it per sample with the
    trained model's (Spearman on ``|attribution|``, :func:`helpers.scores.rank_agreement`).
    Only real cells are ranked: padded steps (found by
    :func:`helpers.validation.format_inputs`) are 0 in both maps and would agree.
    A map that becomes constant counts as correlation 0 (its ranking is gone); a sample
    whose original map is constant is left out. One working copy per model and ``seed``
    is kept and reused across calls, so each method's compiled functions trace once for it.
    """
    from helpers.validation import check_seed, format_inputs

    X, valid = format_inputs(model, X)
    if X.shape[0] == 0:
        raise ValueError(f"expected at least one sequence in X, got shape {X.shape}")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"expected threshold in (0, 1], got {threshold}")
    seed = check_seed(seed)
    original = np.asarray(explain(model, X), dtype=np.float64)
    if original.shape != X.shape:
        raise ValueError(
            f"expected explain(model, X) to return shape {X.shape} (like X), got {original.shape}"
        )
    # A sample ranks something if |original| varies over its real cells.
    informative = np.array([v.any() and np.ptp(np.abs(a[v])) > 0 for a, v in zip(original, valid)])
    if not informative.any():
        raise ValueError("expected an attribution that ranks cells, got a constant map for every sample")
    fresh, copy = _clones(model, seed)
    names, rows = [], []
    for k in range(1, len(weighted_layers(model)) + 1):
        names = _reinitialise_top(copy, fresh, model, k)
        randomized = np.asarray(explain(copy, X), dtype=np.float64)
        corr = rank_agreement(original, randomized, method="spearman", valid=valid)
        rows.append(np.where(np.isnan(corr) & informative, 0.0, corr))
    return SanityCheck(names, np.array(rows), float(threshold))
