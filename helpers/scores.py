"""Scores of an attribution against the truth, and of two attributions against each other.

Explained in chapter 7 (which explanation to trust); first used in chapter 2.
Pure NumPy, no model: scores compare the *magnitude* of an ``(n, T, F)``
attribution with a boolean ``planted`` mask of the same shape. A method that
ranks the truly relevant cells first scores AUROC 1, one that ranks them last
scores 0, and a random ranking about 0.5. ``level="time"`` or ``"feature"``
scores per step or per feature (:func:`helpers.levels.aggregate`).
Variable-length data: pass ``valid`` (bool ``(n, T)`` of real steps, the second
output of :func:`helpers.validation.format_inputs`, or ``(n, T, F)`` of real
cells) and padded cells are left out of every ranking, AUC and correlation, as
if each sequence were scored unpadded. Without it a padded cell counts as an
irrelevant one, and a map that is 0 there (as every method's is) gets credit for
ranking it last. The checks that run the model (deletion curves, weight
randomisation) are in :mod:`helpers.checks`; they find ``valid`` themselves.
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


def _valid_cells(valid, shape: tuple[int, ...]) -> np.ndarray | None:
    """``valid`` ``(n, T)`` (real steps) or ``shape`` (real cells) as a bool mask of ``shape``, or None."""
    if valid is None:
        return None
    valid = np.asarray(valid)
    if valid.dtype != bool:
        raise ValueError(
            f"expected valid as a boolean mask (True on real steps), got dtype {valid.dtype}"
        )
    shape = tuple(shape)
    steps = shape[:2]
    if len(shape) == 3 and valid.shape == steps:
        valid = valid[:, :, None]
    elif valid.shape != shape:
        expected = f"{steps} (n, T) or {shape} (n, T, F)" if len(shape) == 3 else f"{shape}"
        raise ValueError(f"expected valid of shape {expected}, got {valid.shape}")
    return np.broadcast_to(valid, shape)


def _paired(
    attribution, planted, level: str, valid=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``|attribution|``, ``planted`` and the real units at ``level``: arrays ``(n, ...)``, checked.

    The third array is None without ``valid``; else True on units with a real cell
    (a step or feature of a padded sequence counts if any of its cells is real).
    """
    planted = np.asarray(planted)
    if planted.dtype != bool:
        raise ValueError(f"expected a boolean planted mask, got dtype {planted.dtype}")
    attribution = _finite(attribution, "attribution")
    if attribution.shape != planted.shape:
        raise ValueError(
            f"expected attribution and planted mask of the same shape, got {attribution.shape} "
            f"and {planted.shape}"
        )
    if level not in LEVELS:
        raise ValueError(f"expected level in {LEVELS}, got {level!r}")
    if attribution.ndim != 3 or attribution.size == 0:
        raise ValueError(f"expected arrays of shape (n, T, F) with n >= 1, got shape {attribution.shape}")
    cells = _valid_cells(valid, attribution.shape)
    if cells is not None:
        # Padded cells score 0 and are never relevant, so the sums at the time and
        # feature levels run over real cells only.
        attribution = np.where(cells, attribution, 0.0)
        planted = planted & cells
    score = aggregate(attribution, DROPPED[level], absolute=True)
    truth = aggregate(planted, DROPPED[level])
    units = None if cells is None else aggregate(cells, DROPPED[level])
    real = truth if units is None else truth[units]
    if not real.any():
        raise ValueError("expected at least one relevant cell, got an empty planted mask")
    if real.all():
        raise ValueError(
            "expected at least one irrelevant cell, got a planted mask that is all True"
            + ("" if units is None else " on the real (unpadded) cells")
        )
    return score, truth, units


def _pooled(score: np.ndarray, truth: np.ndarray, units) -> tuple[np.ndarray, np.ndarray]:
    """Every real unit's score and truth, samples one after the other: two ``(m,)`` arrays."""
    if units is None:
        return score.ravel(), truth.ravel()
    return score[units], truth[units]


def _rows(score: np.ndarray, truth: np.ndarray, units):
    """Each sample's real units: an iterator of ``(score (m_i,), truth (m_i,))``."""
    for i in range(score.shape[0]):
        s, t = score[i].ravel(), truth[i].ravel()
        if units is not None:
            real = units[i].ravel()
            s, t = s[real], t[real]
        yield s, t


def _per_sample(metric: Callable, score: np.ndarray, truth: np.ndarray, units) -> np.ndarray:
    out = np.full(score.shape[0], np.nan)
    for i, (s, t) in enumerate(_rows(score, truth, units)):
        if t.any() and not t.all():
            out[i] = metric(t, s)
    return out


def auroc(
    attribution: np.ndarray,
    planted: np.ndarray,
    level: str = "cell",
    per_sample: bool = False,
    *,
    valid: np.ndarray | None = None,
) -> float | np.ndarray:
    """Area under the ROC curve of ``|attribution|`` against ``planted``, both ``(n, T, F)``.

    Pooled over all samples by default; ``per_sample=True`` returns ``(n,)`` (NaN for a
    sample whose mask is all True or all False at that level). ``valid`` ``(n, T)`` or
    ``(n, T, F)``: only real cells count (see the module docstring).
    """
    score, truth, units = _paired(attribution, planted, level, valid)
    if per_sample:
        return _per_sample(roc_auc_score, score, truth, units)
    score, truth = _pooled(score, truth, units)
    return float(roc_auc_score(truth, score))


def auprc(
    attribution: np.ndarray,
    planted: np.ndarray,
    level: str = "cell",
    per_sample: bool = False,
    *,
    valid: np.ndarray | None = None,
) -> float | np.ndarray:
    """Average precision of ``|attribution|`` against ``planted`` (chance = fraction relevant)."""
    score, truth, units = _paired(attribution, planted, level, valid)
    if per_sample:
        return _per_sample(average_precision_score, score, truth, units)
    score, truth = _pooled(score, truth, units)
    return float(average_precision_score(truth, score))


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


def _normalised(attribution, planted, level: str, valid):
    """Each sample's ``|attribution|`` divided by its largest value (a zero map stays 0)."""
    score, truth, units = _paired(attribution, planted, level, valid)
    n = score.shape[0]
    # Padded units score 0 (see _paired), so the largest value is a real unit's.
    top = score.reshape(n, -1).max(axis=1).reshape((n,) + (1,) * (score.ndim - 1))
    return np.divide(score, top, out=np.zeros_like(score), where=top > 0), truth, units


def _area(which: int, attribution, planted, level: str, per_sample: bool, valid):
    score, truth, units = _normalised(attribution, planted, level, valid)
    if not per_sample:
        return _threshold_areas(*_pooled(score, truth, units))[which]
    out = np.full(len(score), np.nan)  # NaN where a sample has no relevant unit
    for i, (s, t) in enumerate(_rows(score, truth, units)):
        if t.any():
            out[i] = _threshold_areas(s, t)[which]
    return out


def aup(
    attribution: np.ndarray,
    planted: np.ndarray,
    level: str = "cell",
    per_sample: bool = False,
    *,
    valid: np.ndarray | None = None,
) -> float | np.ndarray:
    """Area under precision as a function of the threshold (Crabbé & van der Schaar 2021).

    Each sample's ``|attribution|`` ``(n, T, F)`` is divided by its maximum, so it lies in
    [0, 1]; the cells at or above a threshold ``tau`` are selected, and
    ``AUP = integral over tau in (0, 1] of precision(tau)``, the share of selected cells
    that are truly relevant, pooled over samples (``per_sample=True``: ``(n,)``).
    Computed exactly, not on a grid. High when the large values are all relevant.
    ``per_sample`` gives NaN for a sample without relevant units. ``valid``: only real
    cells count (see the module docstring).
    """
    return _area(0, attribution, planted, level, per_sample, valid)


def aur(
    attribution: np.ndarray,
    planted: np.ndarray,
    level: str = "cell",
    per_sample: bool = False,
    *,
    valid: np.ndarray | None = None,
) -> float | np.ndarray:
    """Area under recall as a function of the threshold (Crabbé & van der Schaar 2021).

    As :func:`aup`, with ``recall(tau)``, the share of relevant cells selected. High
    when every relevant cell gets a value close to the sample's largest.
    """
    return _area(1, attribution, planted, level, per_sample, valid)


def precision_at_k(
    attribution: np.ndarray, planted: np.ndarray, level: str = "cell", *, valid: np.ndarray | None = None
) -> float:
    """Mean over samples of the share of truly relevant units among the top ``k``.

    ``k`` is each sample's own number of relevant units at that level. ``valid``
    ``(n, T)`` or ``(n, T, F)``: only real cells are ranked.
    """
    score, truth, units = _paired(attribution, planted, level, valid)
    hits = []
    for s, t in _rows(score, truth, units):
        k = int(t.sum())
        if k == 0:
            continue
        top = np.argsort(-s, kind="stable")[:k]
        hits.append(t[top].mean())
    return float(np.mean(hits))


def rank_agreement(
    a: np.ndarray, b: np.ndarray, method: str = "kendall", *, valid: np.ndarray | None = None
) -> np.ndarray:
    """Per-sample rank correlation of ``|a|`` and ``|b|`` over their cells: ``(n, ...) -> (n,)``.

    ``method`` is ``"kendall"`` or ``"spearman"``; a map constant over a sample's
    (real) cells gives NaN for that sample. ``valid`` ``(n, T)`` or ``(n, T, F)`` for
    ``(n, T, F)`` maps (else ``a``'s shape): only real cells are ranked, since padded
    cells, 0 in both maps, would agree perfectly and inflate the correlation.
    """
    a, b = _finite(a, "attribution a"), _finite(b, "attribution b")
    if a.shape != b.shape:
        raise ValueError(f"expected two attributions of the same shape, got {a.shape} and {b.shape}")
    _batch(a, "attributions")
    if method not in ("kendall", "spearman"):
        raise ValueError(f'expected method "kendall" or "spearman", got {method!r}')
    cells = _valid_cells(valid, a.shape)
    corr = stats.kendalltau if method == "kendall" else stats.spearmanr
    n = a.shape[0]
    a, b = np.abs(a.reshape(n, -1)), np.abs(b.reshape(n, -1))
    out = np.full(n, np.nan)
    for i in range(n):
        x, y = a[i], b[i]
        if cells is not None:
            real = cells[i].ravel()
            x, y = x[real], y[real]
        if x.size > 1 and np.ptp(x) > 0 and np.ptp(y) > 0:
            out[i] = corr(x, y)[0]
    return out


def random_attribution(
    shape: tuple[int, ...], seed: int = 0, *, valid: np.ndarray | None = None
) -> np.ndarray:
    """A seeded random attribution of ``shape`` (e.g. ``(n, T, F)``): the reference ordering.

    With ``valid`` ``(n, T)`` or ``(n, T, F)`` it is exactly 0 on padded cells, as
    every method's map is; the real cells keep the values drawn without it.
    """
    from helpers.validation import check_seed

    dims = np.atleast_1d(np.asarray(shape, dtype=object))
    if dims.ndim != 1 or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0
                                 for d in dims):
        raise ValueError(f"expected shape as a tuple of non-negative ints such as (n, T, F), got {shape!r}")
    values = np.random.default_rng(check_seed(seed)).standard_normal(shape)
    cells = _valid_cells(valid, values.shape)
    return values if cells is None else np.where(cells, values, 0.0)


def deletion_order(attribution: np.ndarray, seed: int = 0, valid: np.ndarray | None = None) -> np.ndarray:
    """Each sample's cells by decreasing ``|attribution|``, ties in random order: ``(n, T, F) -> (n, T*F)``.

    Random tie-breaking keeps a map that is constant over some cells (a time-level
    method broadcast over features) from deleting them in storage order. With
    ``valid`` ``(n, T)`` (False on padded steps) or ``(n, T, F)``, padded cells come last.
    """
    from helpers.validation import check_seed

    A = _batch(np.abs(_finite(attribution, "attribution")), "attribution")
    if A.ndim != 3:
        raise ValueError(f"expected an attribution of shape (n, T, F), got shape {A.shape}")
    n = A.shape[0]
    cells = _valid_cells(valid, A.shape)
    padded = np.zeros(A.shape, bool) if cells is None else ~cells
    tie = np.random.default_rng([check_seed(seed), 1]).random((n, A[0].size))
    return np.lexsort((tie, -A.reshape(n, -1), padded.reshape(n, -1)), axis=-1)


def _white_box_curve(attribution, truth) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """time_interpret's white-box scoring: each sample min-max scaled, then one pooled precision-recall curve."""
    from sklearn.metrics import precision_recall_curve

    A = _finite(attribution, "attribution").astype(np.float64)
    truth = np.asarray(truth)
    if truth.shape != A.shape or A.ndim != 3:
        raise ValueError(f"expected attribution and truth of one shape (n, T, F), got {A.shape} and {truth.shape}")
    flat = A.reshape(len(A), -1)
    low, high = flat.min(axis=1, keepdims=True), flat.max(axis=1, keepdims=True)
    # time_interpret divides by max + 1e-5 (not max - min); kept so the numbers compare.
    scaled = (flat - low) / (high + 1e-5)
    return precision_recall_curve(truth.reshape(-1).astype(int), scaled.reshape(-1))


def tint_aup(attribution: np.ndarray, truth: np.ndarray) -> float:
    """:func:`aup` as time_interpret computes it, to compare with its tables: ``(n, T, F)`` each.

    Chapter 9. Signed maps are min-max scaled (not ``|A|``), and the precision
    curve is interpolated linearly between thresholds (``sklearn.metrics.auc``),
    where :func:`aup` integrates the exact step function.
    """
    from sklearn.metrics import auc

    precision, _, thresholds = _white_box_curve(attribution, truth)
    return float(auc(thresholds, precision[:-1])) if len(thresholds) > 1 else float(precision[0])


def tint_aur(attribution: np.ndarray, truth: np.ndarray) -> float:
    """:func:`aur` as time_interpret computes it (see :func:`tint_aup`), ``(n, T, F)`` each (chapter 9)."""
    from sklearn.metrics import auc

    _, recall, thresholds = _white_box_curve(attribution, truth)
    return float(auc(thresholds, recall[:-1])) if len(thresholds) > 1 else float(recall[0])
