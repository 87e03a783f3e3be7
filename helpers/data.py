"""Sequence tasks whose true answer is known (and the train-only standardiser, re-exported).

Explained in chapter 1 (running examples). Every task returns a
:class:`SequenceTask` whose ``planted`` mask says which input cells the target
truly depends on (the *planted truth*), so attribution methods can be scored
against it. Time steps are named from 0, as NumPy indexes them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from helpers.scaling import Standardizer  # noqa: F401  (re-exported: chapters use data.Standardizer)
from helpers.validation import check_positive_int, check_seed


def _renamed(old: str, new: str) -> None:
    warnings.warn(
        f"SequenceTask.{old} is deprecated; use SequenceTask.{new} (the planted truth)",
        DeprecationWarning,
        stacklevel=3,
    )


@dataclass
class SequenceTask:
    """A regression task on sequences with a known planted mask.

    ``X`` is float32 ``(n, T, F)``, ``y`` float32 ``(n,)``, ``planted`` bool
    ``(n, T, F)`` (the planted truth); the first ``n_train`` rows are the
    training split. ``relevance`` and ``relevance_train``/``relevance_test``
    are deprecated aliases: the book keeps "relevance" for LRP's scores.
    ``target_fn`` maps raw ``(n, T, F)`` inputs to the noise-free target.
    ``contribution`` is float32 ``(n, T, F)``, the signed amount each input cell
    adds to the noise-free target, summing over the cells to it, where the
    target is a sum of per-cell terms (adding and subtracting problems, sum and
    box tasks); ``None`` for the stock task, whose target is not linear.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    planted: np.ndarray
    feature_names: list[str]
    time_names: list[str]
    n_train: int
    target_fn: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    description: str = ""
    contribution: np.ndarray | None = field(default=None, repr=False)

    @property
    def X_train(self) -> np.ndarray:
        return self.X[: self.n_train]

    @property
    def X_test(self) -> np.ndarray:
        return self.X[self.n_train :]

    @property
    def y_train(self) -> np.ndarray:
        return self.y[: self.n_train]

    @property
    def y_test(self) -> np.ndarray:
        return self.y[self.n_train :]

    @property
    def planted_train(self) -> np.ndarray:
        return self.planted[: self.n_train]

    @property
    def planted_test(self) -> np.ndarray:
        return self.planted[self.n_train :]

    @property
    def relevance(self) -> np.ndarray:
        _renamed("relevance", "planted")
        return self.planted

    @property
    def relevance_train(self) -> np.ndarray:
        _renamed("relevance_train", "planted_train")
        return self.planted_train

    @property
    def relevance_test(self) -> np.ndarray:
        _renamed("relevance_test", "planted_test")
        return self.planted_test

    @property
    def contribution_train(self) -> np.ndarray | None:
        return None if self.contribution is None else self.contribution[: self.n_train]

    @property
    def contribution_test(self) -> np.ndarray | None:
        return None if self.contribution is None else self.contribution[self.n_train :]

    @property
    def cell_names(self) -> list[str]:
        """Labels ``feature@time`` for the ``T * F`` cells, in row-major ``(T, F)`` order."""
        return [f"{f}@{t}" for t in self.time_names for f in self.feature_names]


def _check_noise(noise) -> float:
    """Return ``noise`` as a float, or raise unless it is a finite number >= 0."""
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise ValueError(f"expected noise as a number >= 0, got {noise!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"expected a finite noise >= 0, got {noise}")
    return float(noise)


def _split_sizes(n: int, test_fraction: float) -> int:
    n = check_positive_int(n, "n")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"expected test_fraction strictly between 0 and 1, got {test_fraction}")
    n_train = int(round(n * (1.0 - test_fraction)))
    if n_train < 1 or n_train >= n:
        raise ValueError(
            f"expected n large enough for both splits at test_fraction={test_fraction}, got n={n}"
        )
    return n_train


#: Coefficients of the stock task's target, in units of the raw features.
STOCK_TERMS = {
    "close@t - open@t (last day's move)": 1.0,
    "close@t - close@t-2 (two-day momentum)": 0.5,
    "log(volume@t-1) - log median volume": 0.6,
}


def stock_target(X: np.ndarray) -> np.ndarray:
    """Noise-free stock target from raw ``(n, 5, 3)`` windows of open, close, volume -> ``(n,)``.

    ``y = 1.0 (close_t - open_t) + 0.5 (close_t - close_{t-2})
    + 0.6 (log volume_{t-1} - log 1e6)``: only four of the 15 cells matter.
    """
    X = np.asarray(X, dtype=np.float64)
    open_t, close_t = X[:, -1, 0], X[:, -1, 1]
    close_t2 = X[:, -3, 1]
    volume_t1 = X[:, -2, 2]
    return (
        1.0 * (close_t - open_t)
        + 0.5 * (close_t - close_t2)
        + 0.6 * (np.log(np.maximum(volume_t1, 1e-12)) - np.log(1e6))
    )


def make_stock_task(
    n: int = 4000, n_steps: int = 5, noise: float = 0.1, test_fraction: float = 0.25, seed: int = 0
) -> SequenceTask:
    """Seed 000's 5-day open/close/volume windows, made honest: a planted target.

    Prices follow a random walk (daily steps of about 1 around a level near 100),
    the open is the previous close plus an overnight gap, volume is log-normal
    around one million shares. The target is :func:`stock_target` plus Gaussian
    noise of standard deviation ``noise``, so ``planted`` marks exactly
    ``open@t``, ``close@t``, ``close@t-2`` and ``volume@t-1``.
    """
    n_train = _split_sizes(n, test_fraction)
    n_steps = check_positive_int(n_steps, "n_steps")
    if n_steps < 3:
        raise ValueError(f"expected n_steps >= 3 (the target reads day t-2), got {n_steps}")
    noise = _check_noise(noise)
    rng = np.random.default_rng(check_seed(seed))
    level = 100.0 + 10.0 * rng.standard_normal((n, 1))
    steps = rng.standard_normal((n, n_steps))
    close = level + np.cumsum(steps, axis=1)
    prev_close = np.concatenate([level, close[:, :-1]], axis=1)
    open_ = prev_close + 0.3 * rng.standard_normal((n, n_steps))
    volume = np.exp(np.log(1e6) + 0.5 * rng.standard_normal((n, n_steps)))
    X = np.stack([open_, close, volume], axis=-1).astype(np.float32)
    y = stock_target(X) + noise * rng.standard_normal(n)
    planted = np.zeros(X.shape, dtype=bool)
    planted[:, -1, 0] = planted[:, -1, 1] = planted[:, -3, 1] = planted[:, -2, 2] = True
    time_names = ["t" if k == 0 else f"t-{k}" for k in range(n_steps - 1, -1, -1)]
    return SequenceTask(
        name="stock",
        X=X,
        y=y.astype(np.float32),
        planted=planted,
        feature_names=["open", "close", "volume"],
        time_names=time_names,
        n_train=n_train,
        target_fn=stock_target,
        description="planted next-day move from 4 of the 15 (day, feature) cells",
    )


def make_sum_task(
    n: int = 4000, n_steps: int = 5, test_fraction: float = 0.25, seed: int = 0
) -> SequenceTask:
    """Seed 004's task: the target is the sum of ``T`` uniform numbers; every step counts."""
    n_train = _split_sizes(n, test_fraction)
    n_steps = check_positive_int(n_steps, "n_steps")
    rng = np.random.default_rng(check_seed(seed))
    X = rng.uniform(0.0, 1.0, size=(n, n_steps, 1)).astype(np.float32)

    def target(X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64)[:, :, 0].sum(axis=1)

    return SequenceTask(
        name="sum",
        X=X,
        y=target(X).astype(np.float32),
        planted=np.ones(X.shape, dtype=bool),
        feature_names=["x"],
        time_names=[str(t) for t in range(n_steps)],
        n_train=n_train,
        target_fn=target,
        description="sum of T uniform numbers; every step has the same true influence",
        contribution=X.copy(),  # the target is the plain sum: each value is its own share
    )


OPERATIONS = ("add", "subtract")


def _marker_signs(X: np.ndarray, operation: str) -> np.ndarray:
    """Sign ``(n, T)`` with which each step's value enters the target: 0 where unmarked.

    A marker is on where the marker channel exceeds 0.5. ``"add"``: +1 at every
    marked step; ``"subtract"``: +1 at the first marked step, -1 at the later ones.
    """
    marked = np.asarray(X)[:, :, 1] > 0.5
    if operation == "add":
        return marked.astype(np.float64)
    first = np.cumsum(marked, axis=1) == 1
    return np.where(marked, np.where(first, 1.0, -1.0), 0.0)


def adding_target(X: np.ndarray) -> np.ndarray:
    """Noise-free adding-problem target: the sum of values whose marker is on (> 0.5)."""
    X = np.asarray(X, dtype=np.float64)
    return np.sum(X[:, :, 0] * _marker_signs(X, "add"), axis=1)


def subtracting_target(X: np.ndarray) -> np.ndarray:
    """Noise-free subtraction target: the first marked value minus the later marked ones."""
    X = np.asarray(X, dtype=np.float64)
    return np.sum(X[:, :, 0] * _marker_signs(X, "subtract"), axis=1)


def make_adding_problem(
    n: int = 6000,
    n_steps: int = 20,
    test_fraction: float = 0.25,
    seed: int = 0,
    operation: str = "add",
) -> SequenceTask:
    """The adding problem (Hochreiter & Schmidhuber 1997) and its subtracting twin.

    Two channels: ``value`` uniform on [0, 1] and ``marker``, which is 1 at exactly
    two steps (one in each half of the sequence) and 0 elsewhere. With
    ``operation="add"`` the target is the sum of the two marked values; with
    ``"subtract"`` the first marked value minus the second (the toy arithmetic of
    Arras et al. 2019), so one true contribution is negative. ``planted`` marks
    both channels at the two marked steps. Within the task's inputs (markers are 0
    or 1) nothing else moves the target; the marker channel elsewhere matters only
    as the absence of a marker, which the target's 0.5 threshold makes precise.
    ``contribution`` is ``+value`` (``-value`` for the subtracted one) on the value
    channel at the marked steps and 0 elsewhere: the markers choose which values
    count, the values carry the amount. The same ``seed`` gives the same ``X`` for
    both operations.
    """
    n_train = _split_sizes(n, test_fraction)
    n_steps = check_positive_int(n_steps, "n_steps")
    if n_steps < 2:
        raise ValueError(f"expected n_steps >= 2 (two marked steps), got {n_steps}")
    if operation not in OPERATIONS:
        raise ValueError(f"expected operation in {OPERATIONS}, got {operation!r}")
    rng = np.random.default_rng(check_seed(seed))
    values = rng.uniform(0.0, 1.0, size=(n, n_steps))
    half = n_steps // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, n_steps, size=n)
    markers = np.zeros((n, n_steps))
    markers[np.arange(n), first] = 1.0
    markers[np.arange(n), second] = 1.0
    X = np.stack([values, markers], axis=-1).astype(np.float32)
    planted = np.repeat(markers.astype(bool)[:, :, None], 2, axis=2)
    contribution = np.zeros(X.shape, np.float32)
    contribution[:, :, 0] = X[:, :, 0] * _marker_signs(X, operation)
    adding = operation == "add"
    target_fn = adding_target if adding else subtracting_target
    return SequenceTask(
        name="adding" if adding else "subtracting",
        X=X,
        y=target_fn(X).astype(np.float32),
        planted=planted,
        feature_names=["value", "marker"],
        time_names=[str(t) for t in range(n_steps)],
        n_train=n_train,
        target_fn=target_fn,
        description=(
            "sum of the two values whose marker is on"
            if adding
            else "first marked value minus the second"
        ),
        contribution=contribution,
    )


#: Block placements after Ismail et al. 2020: the middle half of the steps and features; a tenth
#: of the steps (at least one) of those features; the middle half of the steps of one feature.
BOX_PRESETS = ("middle", "rare_time", "rare_feature")
BACKGROUNDS = ("gaussian", "ar")


def box_bounds(box, n_steps: int, n_features: int) -> tuple[int, int, int, int]:
    """Resolve a preset name or ``(t0, t1, f0, f1)`` to half-open bounds inside ``(T, F)``.

    The block must leave at least one cell out: a preset that would cover the
    whole input (``"middle"`` at ``T, F < 4``) is a ``ValueError``, not a box.
    """
    T, F = n_steps, n_features
    expected = f"box in {BOX_PRESETS} or integer bounds (t0, t1, f0, f1)"
    if isinstance(box, str):
        if box not in BOX_PRESETS:
            raise ValueError(f"expected {expected}, got {box!r}")
        middle_t, middle_f = (T // 4, T - T // 4), (F // 4, F - F // 4)
        if box == "middle":
            bounds = (*middle_t, *middle_f)
        elif box == "rare_time":
            k = max(1, T // 10)
            bounds = (T // 2 - k // 2, T // 2 - k // 2 + k, *middle_f)
        else:
            bounds = (*middle_t, F // 2, F // 2 + 1)
    else:
        try:
            bounds = tuple(box)
        except TypeError:
            raise ValueError(f"expected {expected}, got {box!r}") from None
        integers = all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in bounds
        )
        if len(bounds) != 4 or not integers:
            raise ValueError(f"expected {expected}, got {box!r}")
    t0, t1, f0, f1 = (int(v) for v in bounds)
    if not (0 <= t0 < t1 <= T and 0 <= f0 < f1 <= F):
        raise ValueError(
            f"expected 0 <= t0 < t1 <= {T} and 0 <= f0 < f1 <= {F}, got (t0, t1, f0, f1) = {box!r}"
        )
    if (t1 - t0) * (f1 - f0) == T * F:
        raise ValueError(
            f"expected a block smaller than the whole ({T}, {F}) input, got {box!r} covering "
            f"all of it (presets need T >= 4 or F >= 4 to leave a cell out)"
        )
    return t0, t1, f0, f1


def box_background(
    n: int, n_steps: int, n_features: int, process: str = "gaussian", ar_coef: float = 0.8,
    seed: int = 0,
) -> np.ndarray:
    """Background sequences ``(n, T, F)`` float32 with unit variance per cell.

    ``"gaussian"``: i.i.d. standard normal. ``"ar"``: each feature an independent
    stationary AR(1), ``x_t = a x_{t-1} + sqrt(1 - a^2) e_t``, so neighbouring steps
    correlate with coefficient ``a`` (``ar_coef``).
    """
    n = check_positive_int(n, "n")
    n_steps = check_positive_int(n_steps, "n_steps")
    n_features = check_positive_int(n_features, "n_features")
    if process not in BACKGROUNDS:
        raise ValueError(f"expected process in {BACKGROUNDS}, got {process!r}")
    if not -1.0 < ar_coef < 1.0:
        raise ValueError(f"expected ar_coef strictly between -1 and 1, got {ar_coef}")
    e = np.random.default_rng(check_seed(seed)).standard_normal((n, n_steps, n_features))
    if process == "ar":
        scale = np.sqrt(1.0 - ar_coef**2)
        for t in range(1, n_steps):
            e[:, t] = ar_coef * e[:, t - 1] + scale * e[:, t]
    return e.astype(np.float32)


def make_box_task(
    n: int = 4000,
    n_steps: int = 20,
    n_features: int = 5,
    box="middle",
    background: str = "gaussian",
    ar_coef: float = 0.8,
    target: str = "mean",
    noise: float = 0.0,
    test_fraction: float = 0.25,
    seed: int = 0,
) -> SequenceTask:
    """A planted block in noise (after Ismail et al. 2020): only the block carries the target.

    ``T x F`` background from :func:`box_background`; the block is a preset of
    :data:`BOX_PRESETS` or explicit bounds ``(t0, t1, f0, f1)`` (half-open). The target
    is the ``"mean"`` (or ``"sum"``) of the block's cells plus Gaussian noise of
    standard deviation ``noise``; ``planted`` marks the block in every sample.
    """
    n_train = _split_sizes(n, test_fraction)
    t0, t1, f0, f1 = box_bounds(box, check_positive_int(n_steps, "n_steps"),
                                check_positive_int(n_features, "n_features"))
    if target not in ("mean", "sum"):
        raise ValueError(f'expected target "mean" or "sum", got {target!r}')
    noise = _check_noise(noise)
    X = box_background(n, n_steps, n_features, background, ar_coef, seed)

    def box_target(X: np.ndarray) -> np.ndarray:
        block = np.asarray(X, dtype=np.float64)[:, t0:t1, f0:f1]
        return block.reshape(len(block), -1).sum(axis=1) if target == "sum" else block.mean(axis=(1, 2))

    # A separate stream for the target noise, so noise=0 and noise>0 share the same X.
    eps = np.random.default_rng([seed, 1]).standard_normal(n)
    planted = np.zeros(X.shape, dtype=bool)
    planted[:, t0:t1, f0:f1] = True
    # The target is linear in the block's cells: each adds itself (sum) or its share (mean).
    weight = 1.0 if target == "sum" else 1.0 / ((t1 - t0) * (f1 - f0))
    contribution = np.where(planted, X * np.float32(weight), np.float32(0.0))
    where = box if isinstance(box, str) else "custom"
    return SequenceTask(
        name=f"box_{where}",
        X=X,
        y=(box_target(X) + noise * eps).astype(np.float32),
        planted=planted,
        feature_names=[f"x{f}" for f in range(n_features)],
        time_names=[str(t) for t in range(n_steps)],
        n_train=n_train,
        target_fn=box_target,
        description=(
            f"{target} of a planted block (steps {t0}-{t1 - 1}, features x{f0}-x{f1 - 1}) "
            f"in {background} noise"
        ),
        contribution=contribution.astype(np.float32),
    )
