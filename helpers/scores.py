"""Scores of an attribution against the truth, and of two attributions against each other.

Explained in chapter 7 (which explanation to trust); first used in chapter 2.
Pure NumPy, no model: scores compare the *magnitude* of an ``(n, T, F)``
attribution with a boolean ``relevance`` mask of the same shape. A method that
ranks the truly relevant cells first scores AUROC 1, one that ranks them last
scores 0, and a random ranking about 0.5. ``level="time"`` or ``"feature"``
scores per step or per feature (:func:`helpers.levels.aggregate`). The checks
that run the model (deletion curves, weight randomisation) are in
:mod:`helpers.checks`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

from helpers.levels import DROPPED, LEVELS, aggregate


def _finite(values, name: str) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype != bool and (
        not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating)
    ):
        raise ValueError(f"expected {name} of real numbers, got dtype {values.dtype}")
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)):
        bad = int(values.size - np.isfinite(values).sum())
        raise ValueError(f"expected a finite {name}, got {bad} NaN or inf entries")
    return values


def _batch(values: np.ndarray, name: str) -> np.ndarray:
    if values.ndim < 2 or values.shape[0] == 0 or values[0].size == 0:
        raise ValueError(f"expected {name} of shape (n, ...) with n >= 1 and cells, got shape {values.shape}")
    return values


def _paired(attribution, relevance, level: str) -> tuple[np.ndarray, np.ndarray]:
    """``|attribution|`` and ``relevance`` at ``level``: two arrays ``(n, ...)``, checked."""
    relevance = np.asarray(relevance)
    if relevance.dtype != bool:
        raise ValueError(f"expected a boolean relevance mask, got dtype {relevance.dtype}")
    attribution = _finite(attribution, "attribution")
    if attribution.shape != relevance.shape:
        raise ValueError(
            f"expected attribution and relevance of the same shape, got {attribution.shape} "
            f"and {relevance.shape}"
        )
    if level not in LEVELS:
        raise ValueError(f"expected level in {LEVELS}, got {level!r}")
    if attribution.ndim != 3 or attribution.size == 0:
        raise ValueError(f"expected arrays of shape (n, T, F) with n >= 1, got shape {attribution.shape}")
    score = aggregate(attribution, DROPPED[level], absolute=True)
    truth = aggregate(relevance, DROPPED[level])
    if not truth.any():
        raise ValueError("expected at least one relevant cell, got an empty relevance mask")
    if truth.all():
        raise ValueError("expected at least one irrelevant cell, got a relevance mask that is all True")
    return score, truth


def _per_sample(metric: Callable, score: np.ndarray, truth: np.ndarray) -> np.ndarray:
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


def _threshold_areas(score: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Exact areas under precision and recall of ``{s >= tau}`` over ``tau`` in (0, 1].

    Both curves are steps between the distinct score values ``v_1 < ... < v_m``:
    for ``tau`` in ``(v_{k-1}, v_k]`` (``v_0 = 0``) the selected cells are those
    with ``s >= v_k``, so each area is a sum of widths times heights.
    """
    s, t = score.ravel(), truth.ravel()
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    selected = np.arange(1, s.size + 1)
    hits = np.cumsum(t)
    # The last position of each distinct value (descending): everything >= it is selected.
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]
    values, n_sel, n_hit = s[last], selected[last], hits[last]
    width = values - np.r_[values[1:], 0.0]
    precision = n_hit / n_sel
    recall = n_hit / max(int(t.sum()), 1)
    return float(np.sum(width * precision)), float(np.sum(width * recall))


def _normalised(attribution, relevance, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Each sample's ``|attribution|`` divided by its largest value (a zero map stays 0)."""
    score, truth = _paired(attribution, relevance, level)
    n = score.shape[0]
    top = score.reshape(n, -1).max(axis=1).reshape((n,) + (1,) * (score.ndim - 1))
    return np.divide(score, top, out=np.zeros_like(score), where=top > 0), truth


def _area(which: int, attribution, relevance, level: str, per_sample: bool):
    score, truth = _normalised(attribution, relevance, level)
    if not per_sample:
        return _threshold_areas(score, truth)[which]
    out = np.full(len(score), np.nan)  # NaN where a sample has no relevant unit
    for i in range(len(score)):
        if truth[i].any():
            out[i] = _threshold_areas(score[i], truth[i])[which]
    return out


def aup(
    attribution: np.ndarray, relevance: np.ndarray, level: str = "cell", per_sample: bool = False
) -> float | np.ndarray:
    """Area under precision as a function of the threshold (Crabbé & van der Schaar 2021).

    Each sample's ``|attribution|`` ``(n, T, F)`` is divided by its maximum, so it lies in
    [0, 1]; the cells at or above a threshold ``tau`` are selected, and
    ``AUP = integral over tau in (0, 1] of precision(tau)``, the share of selected cells
    that are truly relevant, pooled over samples (``per_sample=True``: ``(n,)``).
    Computed exactly, not on a grid. High when the large values are all relevant.
    ``per_sample`` gives NaN for a sample without relevant units.
    """
    return _area(0, attribution, relevance, level, per_sample)


def aur(
    attribution: np.ndarray, relevance: np.ndarray, level: str = "cell", per_sample: bool = False
) -> float | np.ndarray:
    """Area under recall as a function of the threshold (Crabbé & van der Schaar 2021).

    As :func:`aup`, with ``recall(tau)``, the share of relevant cells selected. High
    when every relevant cell gets a value close to the sample's largest.
    """
    return _area(1, attribution, relevance, level, per_sample)


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
    a, b = _finite(a, "attribution a"), _finite(b, "attribution b")
    if a.shape != b.shape:
        raise ValueError(f"expected two attributions of the same shape, got {a.shape} and {b.shape}")
    _batch(a, "attributions")
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


def random_attribution(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A seeded random attribution of ``shape`` (e.g. ``(n, T, F)``): the reference ordering."""
    from helpers.validation import check_seed

    return np.random.default_rng(check_seed(seed)).standard_normal(shape)


def deletion_order(attribution: np.ndarray, seed: int = 0, valid: np.ndarray | None = None) -> np.ndarray:
    """Each sample's cells by decreasing ``|attribution|``, ties in random order: ``(n, T, F) -> (n, T*F)``.

    Random tie-breaking keeps a map that is constant over some cells (a time-level
    method broadcast over features) from deleting them in storage order. With
    ``valid`` ``(n, T)`` (False on padded steps), padded cells come last.
    """
    from helpers.validation import check_seed

    A = _batch(np.abs(_finite(attribution, "attribution")), "attribution")
    if A.ndim != 3:
        raise ValueError(f"expected an attribution of shape (n, T, F), got shape {A.shape}")
    n = A.shape[0]
    padded = np.zeros(A.shape, bool)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != A.shape[:2]:
            raise ValueError(f"expected valid of shape {A.shape[:2]}, got {valid.shape}")
        padded = np.broadcast_to(~valid[:, :, None], A.shape)
    tie = np.random.default_rng([check_seed(seed), 1]).random((n, A[0].size))
    return np.lexsort((tie, -A.reshape(n, -1), padded.reshape(n, -1)), axis=-1)
