"""Scoring attributions against the truth, and against each other.

Explained in chapter 6 (which explanation to trust); first used in chapter 2.
Scores compare the *magnitude* of an attribution with a boolean ``relevance``
mask: a method that ranks the truly relevant cells first scores AUROC 1, one
that ranks them last scores 0, and a random ranking about 0.5.
"""

from __future__ import annotations

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
