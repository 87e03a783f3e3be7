"""The one batched engine: compiled calls, bucketed chunks, one row budget, counting.

Explained in chapter 1 (running examples) and used by every chapter. Every pass
through a model (forward, gradient, attention weights, hidden states) is a
traced function made by :func:`compiled`, cached per model, kind of pass and
input shape, and fed by :func:`run` in chunks whose row counts are one of a few
``BUCKETS`` (8, 64, 256, 512, 4096): a call pads only to the next bucket, so one
sequence costs a handful of rows, not thousands, and tracing stays bounded at
one trace per bucket per ``(T, F)``; never ``model.predict`` once per
perturbation, never an eager loop.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import weakref
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf  # importing helpers (the package) first quiets its logging

#: Row counts of the compiled calls, smallest to largest. Each bucket a pass meets is
#: traced once. Powers of 8 pad a call at most 8x (a one-sequence call to 8 rows,
#: which costs about what one row does); 256 is there because a call's fixed cost is
#: worth about 100 rows on a CPU, so between 64 and 512 rows one 256-row call beats
#: three 64-row ones (``benchmarks/bench_sizes.py`` measures the effect). Five
#: traces per pass and ``(T, F)``.
BUCKETS = (8, 64, 256, 512, 4096)

#: Rows per compiled call on large inputs (the largest bucket); large enough to
#: amortise call overhead on a CPU.
CHUNK = BUCKETS[-1]

#: A compiled call's fixed cost, in rows of work: what splitting a remainder into
#: several smaller calls must save in padding to be worth it (see :func:`layout`).
CALL_COST = 64

#: The one row budget: most perturbed or interpolated rows any method builds at once.
MAX_ROWS = 1 << 16

_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def blocks(n_items: int, rows_per_item: int) -> Iterator[tuple[int, int]]:
    """Ranges ``(lo, hi)`` of items whose ``rows_per_item`` rows each fit in ``MAX_ROWS``."""
    size = max(1, MAX_ROWS // max(int(rows_per_item), 1))
    for lo in range(0, int(n_items), size):
        yield lo, min(int(n_items), lo + size)


def layout(n: int, call_cost: int = CALL_COST) -> list[tuple[int, int, int]]:
    """How :func:`run` feeds ``n`` rows: ``(start, rows, bucket)`` per compiled call, in order.

    Whole largest buckets first; the remainder takes the cheapest mix of buckets,
    counting each call as ``call_cost`` rows of work plus its padded rows (e.g. 600
    rows: 512 + 64 + 64, not one call of 4096). A pass whose rows each cost far
    more than a forward row gives a smaller ``call_cost`` (padding it costs more).
    """
    n, buckets = int(n), tuple(BUCKETS)
    top = buckets[-1]
    sizes = [top] * (n // top) + list(_remainder(n % top, buckets, int(call_cost))[1])
    out, start = [], 0
    for b in sizes:
        rows = min(b, n - start)
        out.append((start, rows, b))
        start += rows
    return out


@functools.lru_cache(maxsize=4096)
def _remainder(r: int, buckets: tuple[int, ...], call_cost: int) -> tuple[int, tuple[int, ...]]:
    """``(cost, bucket sizes)`` of the cheapest calls covering ``r`` rows (``r`` below the top bucket)."""
    if r <= 0:
        return 0, ()
    fit = min(b for b in buckets if b >= r)
    best = (call_cost + fit, (fit,))
    below = [b for b in buckets if b <= r]
    if below:
        b = max(below)
        cost, rest = _remainder(r - b, buckets, call_cost)
        if call_cost + b + cost < best[0]:
            best = (call_cost + b + cost, (b, *rest))
    return best


def compiled(model, kind: str, shape: tuple[int, ...], make: Callable) -> Callable:
    """The traced ``make(x, *extras)`` for chunks ``(bucket, *shape)``, cached per model, kind and shape.

    ``make`` builds the pass from the chunk ``x`` (float32) and any per-row int32
    ``extras`` (e.g. the explained output of each row); it is traced once per bucket
    it is fed (see :func:`run`) and per ``shape``, so a model over
    ``keras.Input((None, F))`` traces at most ``len(BUCKETS)`` times per ``(T, F)``.
    """
    shape = tuple(int(s) for s in shape)
    calls = _cache.setdefault(model, {})
    key = (kind, shape)
    if key not in calls:
        calls[key] = Traced(make, shape)
    return calls[key]


class Traced:
    """One ``tf.function`` per bucket, each with a fixed signature (rows, int32 per-row extras).

    ``.traces`` counts the traces made so far (at most one per bucket fed).
    """

    def __init__(self, make: Callable, shape: tuple[int, ...]):
        self.make, self.shape, self.fns, self.concrete = make, shape, {}, {}

    @property
    def traces(self) -> int:
        return sum(fn.experimental_get_tracing_count() for fn in self.fns.values())

    def __call__(self, x, *extras):
        rows = int(x.shape[0])
        concrete = self.concrete.get(rows)
        if concrete is None:
            specs = [tf.TensorSpec((rows, *self.shape), tf.float32)]
            specs += [tf.TensorSpec((rows,), tf.int32) for _ in extras]
            fn = self.fns[rows] = tf.function(self.make, input_signature=specs)
            with _quiet_tracing():
                concrete = self.concrete[rows] = fn.get_concrete_function()
        # The concrete function skips tf.function's argument binding: a third of a small call.
        return concrete(x, *extras)


@contextlib.contextmanager
def _quiet_tracing() -> Iterator[None]:
    """Silence TensorFlow's "frequent retracing" warning: a few traces per model are by design.

    TensorFlow counts traces of the same Python function across models and buckets,
    so a chapter that trains several models would otherwise see the warning.
    """
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _pad(a: np.ndarray, rows: int) -> np.ndarray:
    if a.shape[0] == rows:
        return a
    return np.concatenate([a, np.zeros((rows - a.shape[0], *a.shape[1:]), a.dtype)])


def run(call: Callable, X: np.ndarray, *extras: np.ndarray, count: str | None = None, call_cost: int = CALL_COST):
    """Run ``call`` over ``X`` ``(n, ...)`` in padded chunks of :func:`layout`: yields ``(start, rows, output)``.

    Each chunk is zero-padded to its bucket, so the call sees one of ``BUCKETS`` row
    counts; keep the first ``rows`` outputs. ``extras`` are per-row int arrays ``(n,)``
    chunked alongside. ``count`` (``"rows"`` or ``"gradient_rows"``) adds ``n`` to
    every active :class:`count_evaluations`; ``call_cost`` goes to :func:`layout`.
    """
    X = np.asarray(X, dtype=np.float32)
    extras = tuple(np.asarray(e, dtype=np.int32) for e in extras)
    if count is not None:
        for counter in count_evaluations.active:
            setattr(counter, count, getattr(counter, count) + X.shape[0])
    for start, rows, bucket in layout(X.shape[0], call_cost):
        args = [tf.constant(_pad(a[start : start + rows], bucket)) for a in (X, *extras)]
        yield start, rows, call(*args)


class count_evaluations:
    """Counts the work done inside it: the one counter of every path through a model.

    ``.rows`` forward rows and ``.gradient_rows`` gradient rows the engine evaluates;
    on the prefix path (:mod:`helpers.prefix_tree`) also ``.steps`` node-steps (one
    prefix advanced one time step through every LSTM layer; a plain forward pass over
    ``n`` sequences of ``T`` steps costs ``n T``), ``.head_rows`` rows through the
    model's head, and ``.seconds``: CPU seconds per part of the work, for profiling.

    >>> with count_evaluations() as counter:  # doctest: +SKIP
    ...     occlusion(model, X, baseline=0.0)
    >>> counter.rows  # doctest: +SKIP
    """

    active: list[count_evaluations] = []

    def __enter__(self) -> count_evaluations:
        self.rows = 0
        self.gradient_rows = 0
        self.steps = 0
        self.head_rows = 0
        self.seconds: dict[str, float] = {}
        count_evaluations.active.append(self)
        return self

    def __exit__(self, *exc) -> None:
        count_evaluations.active.remove(self)

    @property
    def evaluations(self) -> int:
        """Forward plus gradient rows (a gradient row counts as one evaluation)."""
        return self.rows + self.gradient_rows


def train(
    loss: Callable[[tf.Tensor], tf.Tensor],
    variables: list,
    *,
    epochs: int,
    learning_rate: float,
    rows: int = 0,
    after_step: Callable[[], None] | None = None,
) -> float:
    """Minimise ``loss(epoch)`` over ``variables`` with Adam in one compiled loop; returns the last loss.

    Used by :mod:`helpers.masks` (chapter 9): all samples' masks of a block are
    ``variables`` and ``loss`` sums their independent losses, so one traced
    ``tf.range`` loop trains them together; no Python loop over samples or epochs.
    ``rows`` (model rows per step) is counted as gradient rows, ``epochs`` times.
    ``after_step`` (traced into the loop) runs after every update, e.g. to clip
    the variables back into their range.
    """
    import keras

    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(variables)

    def loop():
        last = tf.constant(0.0)
        for epoch in tf.range(epochs):
            with tf.GradientTape() as tape:
                last = loss(tf.cast(epoch, tf.float32) / float(max(epochs - 1, 1)))
            optimizer.apply_gradients(zip(tape.gradient(last, variables), variables))
            if after_step is not None:
                after_step()
        return last

    for counter in count_evaluations.active:
        counter.gradient_rows += int(rows) * int(epochs)
    with _quiet_tracing():
        return float(tf.function(loop)())
