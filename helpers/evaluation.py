"""Scoring attributions against the truth, and against each other.

Explained in chapter 7 (which explanation to trust); first used in chapter 2.
Scores compare the *magnitude* of an attribution with a boolean ``relevance``
mask: a method that ranks the truly relevant cells first scores AUROC 1, one
that ranks them last scores 0, and a random ranking about 0.5. Chapter 7 adds the
checks that need no truth: deletion curves (is the ranking faithful to the
model?) and the weight-randomisation sanity check (does the map depend on the
model at all?).
"""

from __future__ import annotations

import weakref

import numpy as np
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

LEVELS = ("cell", "time", "feature")


def reduce_to(values: np.ndarray, level: str) -> np.ndarray:
    """Reduce ``(n, T, F)`` to the scoring level: cell ``(n, T, F)``, time ``(n, T)``, feature ``(n, F)``.

    Magnitudes are summed over the dropped axis; a boolean mask is reduced with ``any``.
    """
    values = np.asarray(values)
    if values.ndim != 3:
        raise ValueError(f"expected an array of shape (n, T, F), got shape {values.shape}")
    if level not in LEVELS:
        raise ValueError(f"expected level in {LEVELS}, got {level!r}")
    if level == "cell":
        return values
    axis = 2 if level == "time" else 1
    if values.dtype == bool:
        return values.any(axis=axis)
    return np.abs(values).sum(axis=axis)


def _paired(attribution: np.ndarray, relevance: np.ndarray, level: str):
    attribution = np.asarray(attribution, dtype=np.float64)
    relevance = np.asarray(relevance)
    if relevance.dtype != bool:
        raise ValueError(f"expected a boolean relevance mask, got dtype {relevance.dtype}")
    if attribution.shape != relevance.shape:
        raise ValueError(
            f"expected attribution and relevance of the same shape, got {attribution.shape} "
            f"and {relevance.shape}"
        )
    if not np.all(np.isfinite(attribution)):
        raise ValueError("expected a finite attribution, got NaN or inf")
    score = np.abs(reduce_to(attribution, level)) if level != "cell" else np.abs(attribution)
    truth = reduce_to(relevance, level)
    if not truth.any():
        raise ValueError("expected at least one relevant cell, got an empty relevance mask")
    if truth.all():
        raise ValueError("expected at least one irrelevant cell, got a relevance mask that is all True")
    return score, truth


def _per_sample(metric, score: np.ndarray, truth: np.ndarray) -> np.ndarray:
    out = np.full(score.shape[0], np.nan)
    for i in range(score.shape[0]):
        t, s = truth[i].ravel(), score[i].ravel()
        if t.any() and not t.all():
            out[i] = metric(t, s)
    return out


def auroc(
    attribution: np.ndarray, relevance: np.ndarray, level: str = "cell", per_sample: bool = False
) -> float | np.ndarray:
    """Area under the ROC curve of ``|attribution|`` against ``relevance``, both ``(n, T, F)``.

    Pooled over all samples by default; ``per_sample=True`` returns ``(n,)`` (NaN for a
    sample whose mask is all True or all False at that level).
    """
    score, truth = _paired(attribution, relevance, level)
    if per_sample:
        return _per_sample(roc_auc_score, score, truth)
    return float(roc_auc_score(truth.ravel(), score.ravel()))


def auprc(
    attribution: np.ndarray, relevance: np.ndarray, level: str = "cell", per_sample: bool = False
) -> float | np.ndarray:
    """Average precision of ``|attribution|`` against ``relevance`` (chance = fraction relevant)."""
    score, truth = _paired(attribution, relevance, level)
    if per_sample:
        return _per_sample(average_precision_score, score, truth)
    return float(average_precision_score(truth.ravel(), score.ravel()))


def precision_at_k(attribution: np.ndarray, relevance: np.ndarray, level: str = "cell") -> float:
    """Mean over samples of the share of truly relevant units among the top ``k``.

    ``k`` is each sample's own number of relevant units at that level.
    """
    score, truth = _paired(attribution, relevance, level)
    n = score.shape[0]
    s, t = score.reshape(n, -1), truth.reshape(n, -1)
    hits = []
    for i in range(n):
        k = int(t[i].sum())
        if k == 0:
            continue
        top = np.argsort(-s[i], kind="stable")[:k]
        hits.append(t[i, top].mean())
    return float(np.mean(hits))


def rank_agreement(a: np.ndarray, b: np.ndarray, method: str = "kendall") -> np.ndarray:
    """Per-sample rank correlation of ``|a|`` and ``|b|`` over their cells: ``(n, ...) -> (n,)``.

    ``method`` is ``"kendall"`` or ``"spearman"``; a constant map gives NaN for that sample.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"expected two attributions of the same shape, got {a.shape} and {b.shape}")
    if method not in ("kendall", "spearman"):
        raise ValueError(f'expected method "kendall" or "spearman", got {method!r}')
    corr = stats.kendalltau if method == "kendall" else stats.spearmanr
    n = a.shape[0]
    a, b = np.abs(a.reshape(n, -1)), np.abs(b.reshape(n, -1))
    out = np.full(n, np.nan)
    for i in range(n):
        if np.ptp(a[i]) > 0 and np.ptp(b[i]) > 0:
            out[i] = corr(a[i], b[i])[0]
    return out


# --- Faithfulness: deletion curves (Samek et al. 2017) ------------------------------------


def random_attribution(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A seeded random attribution of ``shape`` (e.g. ``(n, T, F)``): the reference ordering."""
    return np.random.default_rng(seed).standard_normal(shape)


def deletion_order(attribution: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each sample's cells by decreasing ``|attribution|``, ties in random order: ``(n, T, F) -> (n, T*F)``.

    Random tie-breaking keeps a map that is constant over some cells (a time-level
    method broadcast over features) from deleting them in storage order.
    """
    A = np.abs(np.asarray(attribution, dtype=np.float64))
    n = A.shape[0]
    A = A.reshape(n, -1)
    tie = np.random.default_rng([seed, 1]).random(A.shape)
    return np.lexsort((tie, -A), axis=-1)


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
                "expected deleting every cell to change the prediction, got no change at all "
                "(is the replacement equal to the input?)"
            )
        return gap / gap[0]

    def auc(self) -> float:
        """Area under :meth:`remaining` over the deleted fraction, in [0, 1] for a monotone curve."""
        r, q = self.remaining(), self.fractions
        return float(np.sum((r[1:] + r[:-1]) * np.diff(q)) / 2)

    def __repr__(self) -> str:
        return f"DeletionCurve(samples={self.predictions.shape[0]}, fractions={len(self.fractions)})"


def _check_fractions(fractions) -> np.ndarray:
    if isinstance(fractions, (int, np.integer)) and not isinstance(fractions, bool):
        if fractions < 2:
            raise ValueError(f"expected at least 2 fractions (0 and 1), got {fractions}")
        return np.linspace(0.0, 1.0, int(fractions))
    q = np.asarray(fractions, dtype=np.float64)
    if q.ndim != 1 or q.size < 2 or q[0] != 0.0 or q[-1] != 1.0 or np.any(np.diff(q) <= 0):
        raise ValueError(
            f"expected increasing fractions from 0 to 1 (or a count), got {np.round(q, 3).tolist()}"
        )
    return q


def deletion_curve(
    model,
    X: np.ndarray,
    attribution: np.ndarray,
    baseline,
    reference: np.ndarray | None = None,
    fractions=11,
    seed: int = 0,
) -> DeletionCurve:
    """Delete each sample's top-``k`` cells by ``|attribution|`` and track the prediction.

    ``X`` and ``attribution`` are ``(n, T, F)``. A deleted cell takes the baseline's
    value (``"zeros"``, ``"mean"`` of ``reference``, a number or an array, as in
    :func:`helpers.validation.check_baseline`), or with ``baseline="draw"`` the value
    of one ``reference`` row drawn per sample (a fresh draw from the background
    process when ``reference`` holds such draws; the same rows for every attribution
    with the same ``seed``). ``fractions``: a count of evenly spaced steps or an
    increasing array from 0 to 1. All ``n * K`` inputs go through one
    :func:`helpers.models.forward` call.
    """
    from helpers.models import forward
    from helpers.validation import check_baseline, check_model_input, check_sequences

    X = check_model_input(model, X)
    A = np.asarray(attribution, dtype=np.float64)
    if A.shape != X.shape:
        raise ValueError(f"expected an attribution of shape {X.shape} (like X), got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("expected a finite attribution, got NaN or inf")
    q = _check_fractions(fractions)
    n, T, F = X.shape
    if isinstance(baseline, str) and baseline == "draw":
        if reference is None:
            raise ValueError('expected reference data (m, T, F) with baseline="draw", got None')
        ref = check_sequences(reference, "reference")
        if ref.shape[1:] != (T, F) or ref.shape[0] == 0:
            raise ValueError(f"expected reference of shape (m, {T}, {F}) with m >= 1, got {ref.shape}")
        B = ref[np.random.default_rng([seed, 0]).integers(0, ref.shape[0], n)]
    else:
        B = np.broadcast_to(check_baseline(baseline, X, reference), X.shape)
    M = T * F
    rank = np.empty((n, M), dtype=np.int64)
    np.put_along_axis(rank, deletion_order(A, seed), np.arange(M)[None], axis=1)
    counts = np.round(q * M).astype(np.int64)  # cells deleted at each step
    deleted = rank[:, None, :] < counts[None, :, None]  # (n, K, M)
    copies = np.where(deleted, B.reshape(n, 1, M), X.reshape(n, 1, M))
    y = forward(model, copies.reshape(-1, T, F).astype(np.float32))
    return DeletionCurve(q, y.reshape(n, len(q)))


def deletion_auc(curve: DeletionCurve) -> float:
    """Normalised area under a deletion curve (see :class:`DeletionCurve`); lower is more faithful."""
    if not isinstance(curve, DeletionCurve):
        raise ValueError(f"expected a DeletionCurve, got {type(curve).__name__}")
    return curve.auc()


# --- Sanity: weight randomisation (Adebayo et al. 2018) -----------------------------------


def weighted_layers(model) -> list:
    """The model's layers that hold weights, input side first."""
    return [layer for layer in model.layers if layer.weights]


def randomize_weights(model, n_layers: int, seed: int = 0, fresh=None):
    """A copy of ``model`` with its top ``n_layers`` weighted layers re-initialised.

    The copy is ``keras.models.clone_model`` with the trained weights set; the
    re-initialised layers take the weights of a second clone, freshly initialised by
    each layer's own initialisers (seeded through ``keras.utils.set_random_seed``).
    ``fresh`` reuses such a clone. ``n_layers=0`` gives an exact copy.
    """
    import keras

    layers = weighted_layers(model)
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) or not (
        0 <= n_layers <= len(layers)
    ):
        raise ValueError(
            f"expected n_layers in 0..{len(layers)} (the model's weighted layers), got {n_layers!r}"
        )
    if fresh is None:
        keras.utils.set_random_seed(int(seed))
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

    cache = _clone_cache.setdefault(model, {})
    if seed not in cache:
        keras.utils.set_random_seed(seed)
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


def sanity_check(
    model, X: np.ndarray, explain, threshold: float = 0.5, seed: int = 0
) -> SanityCheck:
    """Cascading weight randomisation: does ``explain(model, X) -> (n, T, F)`` change?

    Re-initialises the weighted layers from the output down, one more at each step,
    recomputes the attribution on the same ``X`` and compares it per sample with the
    trained model's (Spearman on ``|attribution|``, :func:`rank_agreement`). A map that
    becomes constant counts as correlation 0 (its ranking is gone); a sample whose
    original map is constant is left out. One working copy per model and ``seed`` is kept
    and reused across calls, so each method's compiled functions trace once for it.
    """
    from helpers.validation import check_model_input

    X = check_model_input(model, X)
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"expected threshold in (0, 1], got {threshold}")
    original = np.asarray(explain(model, X), dtype=np.float64)
    if original.shape != X.shape:
        raise ValueError(
            f"expected explain(model, X) to return shape {X.shape} (like X), got {original.shape}"
        )
    n = X.shape[0]
    flat = np.abs(original.reshape(n, -1))
    informative = np.ptp(flat, axis=1) > 0
    if not informative.any():
        raise ValueError("expected an attribution that ranks cells, got a constant map for every sample")
    fresh, copy = _clones(model, int(seed))
    L = len(weighted_layers(model))
    names, rows = [], []
    for k in range(1, L + 1):
        names = _reinitialise_top(copy, fresh, model, k)
        randomized = np.asarray(explain(copy, X), dtype=np.float64)
        corr = rank_agreement(original, randomized, method="spearman")
        corr = np.where(np.isnan(corr) & informative, 0.0, corr)
        rows.append(corr)
    return SanityCheck(names, np.array(rows), float(threshold))
