"""The one batched engine: compiled calls, fixed-size chunks, one row budget, counting.

Explained in chapter 1 (running examples) and used by every chapter. Every pass
through a model (forward, gradient, attention weights, hidden states) is a
traced function made by :func:`compiled`, cached per model, kind of pass and
input shape, and fed by :func:`run` in chunks of exactly ``CHUNK`` rows, so a
pass traces once per ``(T, F)`` and costs ``ceil(n / CHUNK)`` compiled calls;
never ``model.predict`` once per perturbation, never an eager loop.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf  # importing helpers (the package) first quiets its logging

#: Rows per compiled call; large enough to amortise call overhead on a CPU.
CHUNK = 4096

#: Rows per call of a pass compiled for small inputs (``compiled(..., chunk=SMALL_CHUNK)``):
#: a pass that often sees far fewer rows than ``CHUNK`` would mostly compute padding.
SMALL_CHUNK = 256

#: The one row budget: most perturbed or interpolated rows any method builds at once.
MAX_ROWS = 1 << 16

_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def blocks(n_items: int, rows_per_item: int) -> Iterator[tuple[int, int]]:
    """Ranges ``(lo, hi)`` of items whose ``rows_per_item`` rows each fit in ``MAX_ROWS``."""
    size = max(1, MAX_ROWS // max(int(rows_per_item), 1))
    for lo in range(0, int(n_items), size):
        yield lo, min(int(n_items), lo + size)


def compiled(model, kind: str, shape: tuple[int, ...], make: Callable, *, chunk: int | None = None) -> Callable:
    """The traced ``make(x, *extras)`` for chunks ``(chunk, *shape)``, cached per model, kind, shape and chunk.

    ``make`` builds the pass from the chunk ``x`` (float32) and any per-row int32
    ``extras`` (e.g. the explained output of each row); it is traced once per
    ``shape``, so a model over ``keras.Input((None, F))`` traces once per ``(T, F)``.
    ``chunk`` is ``CHUNK`` (every pass) or ``SMALL_CHUNK`` (passes over few rows).
    """
    shape = tuple(int(s) for s in shape)
    chunk = CHUNK if chunk is None else chunk
    if chunk not in (CHUNK, SMALL_CHUNK):
        raise ValueError(f"expected chunk in ({CHUNK}, {SMALL_CHUNK}), got {chunk!r}")
    calls = _cache.setdefault(model, {})
    key = (kind, shape, chunk)
    if key not in calls:
        calls[key] = _Traced(make, shape, chunk)
    return calls[key]


class _Traced:
    """A ``tf.function`` whose signature (chunk and int32 per-row extras) is fixed on first call."""

    def __init__(self, make: Callable, shape: tuple[int, ...], chunk: int):
        self.make, self.shape, self.chunk, self.fn = make, shape, chunk, None

    def __call__(self, x, *extras):
        if self.fn is None:
            specs = [tf.TensorSpec((self.chunk, *self.shape), tf.float32)]
            specs += [tf.TensorSpec((self.chunk,), tf.int32) for _ in extras]
            self.fn = tf.function(self.make, input_signature=specs, reduce_retracing=True)
        return self.fn(x, *extras)


@contextlib.contextmanager
def _quiet_tracing() -> Iterator[None]:
    """Silence TensorFlow's "frequent retracing" warning: one trace per model is by design.

    TensorFlow counts traces of the same Python function across models, so a chapter
    that trains several models would otherwise see the warning.
    """
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _pad(a: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
    if a.shape[0] == chunk:
        return a
    return np.concatenate([a, np.zeros((chunk - a.shape[0], *a.shape[1:]), a.dtype)])


def run(call: Callable, X: np.ndarray, *extras: np.ndarray, count: str | None = None):
    """Run ``call`` over ``X`` ``(n, ...)`` in padded chunks of its size: yields ``(start, rows, output)``.

    The chunk is ``call.chunk`` (``CHUNK`` for any other callable); the last chunk is
    zero-padded, so the call sees one shape; keep the first ``rows`` outputs. ``extras``
    are per-row int arrays ``(n,)`` chunked alongside. ``count`` (``"rows"`` or
    ``"gradient_rows"``) adds ``n`` to every active :class:`count_evaluations`.
    """
    X = np.asarray(X, dtype=np.float32)
    extras = tuple(np.asarray(e, dtype=np.int32) for e in extras)
    chunk = getattr(call, "chunk", CHUNK)
    if count is not None:
        for counter in count_evaluations.active:
            setattr(counter, count, getattr(counter, count) + X.shape[0])
    for start in range(0, X.shape[0], chunk):
        rows = min(chunk, X.shape[0] - start)
        args = [tf.constant(_pad(a[start : start + rows], chunk)) for a in (X, *extras)]
        # Only a first call traces; quieting costs two logger resets, so skip it afterwards.
        with _quiet_tracing() if getattr(call, "fn", None) is None else contextlib.nullcontext():
            out = call(*args)
        yield start, rows, out


class count_evaluations:
    """Counts the rows the engine evaluates inside it: ``.rows`` forward, ``.gradient_rows`` gradient.

    >>> with count_evaluations() as counter:  # doctest: +SKIP
    ...     occlusion(model, X, baseline=0.0)
    >>> counter.rows  # doctest: +SKIP
    """

    active: list[count_evaluations] = []

    def __enter__(self) -> count_evaluations:
        self.rows = 0
        self.gradient_rows = 0
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
) -> float:
    """Minimise ``loss(epoch)`` over ``variables`` with Adam in one compiled loop; returns the last loss.

    Used by :mod:`helpers.masks` (chapter 9): all samples' masks of a block are
    ``variables`` and ``loss`` sums their independent losses, so one traced
    ``tf.range`` loop trains them together; no Python loop over samples or epochs.
    ``rows`` (model rows per step) is counted as gradient rows, ``epochs`` times.
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
        return last

    for counter in count_evaluations.active:
        counter.gradient_rows += int(rows) * int(epochs)
    with _quiet_tracing():
        return float(tf.function(loop)())
