"""Models, deterministic training, and the one batched forward pass.

Explained in chapter 1 (running examples). Every attribution method in the book
evaluates the model through :func:`forward`, which pushes inputs through a
compiled call in large fixed-size chunks: never ``model.predict`` once per
perturbation and never an eager ``model(x)`` loop, the slowest path for a
Keras 3 LSTM.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Iterator

import keras
import numpy as np
import tensorflow as tf

import helpers  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)
from helpers.validation import check_model_input

#: Rows per compiled call; large enough to amortise call overhead on a CPU.
CHUNK = 4096

_compiled: weakref.WeakKeyDictionary[keras.Model, dict] = weakref.WeakKeyDictionary()


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow ops deterministic."""
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


def build_lstm(
    n_steps: int, n_features: int, units: int = 32, seed: int = 0, name: str = "lstm_model"
) -> keras.Model:
    """One LSTM layer and a linear read-out: ``(n, T, F) -> (n, 1)``."""
    _check_sizes(n_steps=n_steps, n_features=n_features, units=units)
    set_seed(seed)
    inputs = keras.Input(shape=(n_steps, n_features), name="sequence")
    h = keras.layers.LSTM(units, name="lstm")(inputs)
    outputs = keras.layers.Dense(1, name="readout")(h)
    return keras.Model(inputs, outputs, name=name)


def build_stacked_lstm(
    n_steps: int,
    n_features: int,
    units: tuple[int, ...] = (64, 32),
    seed: int = 0,
    name: str = "stacked_lstm",
) -> keras.Model:
    """Stacked LSTMs (64 then 32 units, as in seed 004) and a linear read-out."""
    _check_sizes(n_steps=n_steps, n_features=n_features, units=min(units) if units else 0)
    set_seed(seed)
    inputs = keras.Input(shape=(n_steps, n_features), name="sequence")
    h = inputs
    for i, u in enumerate(units):
        last = i == len(units) - 1
        h = keras.layers.LSTM(u, return_sequences=not last, name=f"lstm_{i}")(h)
    outputs = keras.layers.Dense(1, name="readout")(h)
    return keras.Model(inputs, outputs, name=name)


def build_attention_lstm(
    n_steps: int,
    n_features: int,
    units: int = 32,
    heads: int = 1,
    seed: int = 0,
    name: str = "attention_lstm",
) -> keras.Model:
    """LSTM over the sequence, attention pooling over its outputs, linear read-out.

    Explained in chapter 3. The ``AttentionPooling`` layer is named ``"attention"``.
    """
    from helpers.attention import AttentionPooling

    _check_sizes(n_steps=n_steps, n_features=n_features, units=units, heads=heads)
    set_seed(seed)
    inputs = keras.Input(shape=(n_steps, n_features), name="sequence")
    h = keras.layers.LSTM(units, return_sequences=True, name="lstm")(inputs)
    context = AttentionPooling(heads=heads, name="attention")(h)
    outputs = keras.layers.Dense(1, name="readout")(context)
    return keras.Model(inputs, outputs, name=name)


def fit(
    model: keras.Model,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    seed: int = 0,
    validation_split: float = 0.0,
) -> keras.callbacks.History:
    """Train with Adam on mean squared error; the same seed gives the same weights.

    ``X`` is ``(n, T, F)``, ``y`` is ``(n,)``. Training is silent (``verbose=0``).
    """
    X = check_model_input(model, X)
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"expected y with {X.shape[0]} rows (one per sequence), got {y.shape[0]}")
    if epochs <= 0 or batch_size <= 0:
        raise ValueError(f"expected positive epochs and batch_size, got {epochs} and {batch_size}")
    set_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    history = model.fit(
        X,
        y,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        validation_split=validation_split,
    )
    _compiled.pop(model, None)  # weights changed; compiled calls read variables, but be safe
    return history


@contextlib.contextmanager
def _quiet_tracing() -> Iterator[None]:
    """Silence TensorFlow's "frequent retracing" warning: one trace per model is by design.

    Every model gets its own traced call, and TensorFlow counts traces of the same Python
    function across models, so a chapter that trains several models would see the warning.
    """
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def padded_chunks(X: np.ndarray) -> Iterator[tuple[int, int, tf.Tensor]]:
    """Cut ``(n, T, F)`` into ``(start, rows, chunk)`` with every chunk ``(CHUNK, T, F)``.

    The last chunk is zero-padded, so a compiled call sees one shape and traces once;
    callers keep the first ``rows`` outputs of each chunk.
    """
    n, n_steps, n_features = X.shape
    for start in range(0, n, CHUNK):
        chunk = X[start : start + CHUNK]
        m = chunk.shape[0]
        if m < CHUNK:
            chunk = np.concatenate([chunk, np.zeros((CHUNK - m, n_steps, n_features), np.float32)])
        yield start, m, tf.constant(chunk)


def chunked_calls(call, X: np.ndarray) -> Iterator[tuple[int, int, object]]:
    """Run a compiled ``call`` over :func:`padded_chunks` of ``X``: ``(start, rows, output)``.

    The one loop behind every batched pass (forward, gradients, attention weights, hidden
    states); TensorFlow's retracing warning is silenced here, once, for all of them.
    """
    for start, m, chunk in padded_chunks(X):
        with _quiet_tracing():
            out = call(chunk)
        yield start, m, out


def _compiled_call(model: keras.Model, n_steps: int, n_features: int):
    """A traced ``model(x, training=False)`` for chunks of shape ``(CHUNK, T, F)``."""
    cache = _compiled.setdefault(model, {})
    key = (n_steps, n_features)
    if key not in cache:
        spec = tf.TensorSpec(shape=(CHUNK, n_steps, n_features), dtype=tf.float32)

        @tf.function(input_signature=[spec], reduce_retracing=True)
        def call(x):
            out = model(x, training=False)
            return tf.reshape(out, (tf.shape(out)[0], -1))

        cache[key] = call
    return cache[key]


def forward(model: keras.Model, X: np.ndarray) -> np.ndarray:
    """The one batched forward pass: ``(n, T, F) -> (n,)`` float64.

    Inputs are cut into chunks of ``CHUNK`` rows (the last one zero-padded) and
    sent through a single traced function, so any number of perturbed copies costs
    one trace and ``ceil(n / CHUNK)`` compiled calls.
    """
    X = check_model_input(model, X)
    n, n_steps, n_features = X.shape
    if n == 0:
        return np.zeros(0)
    for counter in count_evaluations.active:
        counter.rows += n
    call = _compiled_call(model, n_steps, n_features)
    out = np.empty(n, dtype=np.float64)
    for start, m, y in chunked_calls(call, X):
        y = y.numpy()
        if y.shape[1] != 1:
            raise ValueError(f"expected a model with one output per sequence, got {y.shape[1]}")
        out[start : start + m] = y[:m, 0]
    return out


class count_evaluations:
    """Context manager counting the sequences :func:`forward` evaluates inside it.

    >>> with count_evaluations() as counter:  # doctest: +SKIP
    ...     occlusion(model, X, baseline=0.0)
    >>> counter.rows  # doctest: +SKIP
    """

    active: list[count_evaluations] = []

    def __enter__(self) -> count_evaluations:
        self.rows = 0
        count_evaluations.active.append(self)
        return self

    def __exit__(self, *exc) -> None:
        count_evaluations.active.remove(self)


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination, ``1 - SSE / SST`` for ``(n,)`` arrays."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"expected y_pred of shape {y_true.shape}, got {y_pred.shape}")
    sst = np.sum((y_true - y_true.mean()) ** 2)
    return float(1.0 - np.sum((y_true - y_pred) ** 2) / sst)


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"expected a positive integer for {name}, got {value!r}")
