"""Models, deterministic training, and the one batched forward pass.

Explained in chapter 1 (running examples). Every attribution method in the book
evaluates the model through :func:`forward` / :func:`outputs`, which push inputs
through one compiled call of :mod:`helpers.engine` in large fixed-size chunks.
Builders and :func:`fit` are seeded inside a scope: they leave NumPy's global
generator and TensorFlow's determinism flag as they found them.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import config as tf_config

from helpers.engine import CHUNK, count_evaluations  # noqa: F401  (re-exported)
from helpers.layers import AttentionPooling
from helpers.validation import (  # noqa: F401  (evaluate re-exported)
    check_positive_int,
    check_seed,
    evaluate,
    format_inputs,
    output_width,
    resolve_target,
)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow for the whole process and make its ops deterministic."""
    keras.utils.set_random_seed(check_seed(seed))
    tf.config.experimental.enable_op_determinism()


@contextlib.contextmanager
def seeded(seed: int, deterministic: bool = False) -> Iterator[None]:
    """Seed Keras (and, with ``deterministic``, switch op determinism on) for the block only.

    ``keras.utils.set_random_seed`` also reseeds Python's and NumPy's global
    generators; their states, Keras' global seed and the determinism flag are
    restored on exit, so building or training a model leaves no trace.
    """
    from keras.src.backend.common import global_state

    seed = check_seed(seed)
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    keras_seed = global_state.get_global_attribute("global_random_seed")
    keras_gen = global_state.get_global_attribute("global_seed_generator")
    was_deterministic = tf_config.is_op_determinism_enabled()
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf_config.enable_op_determinism()
    try:
        yield
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
        global_state.set_global_attribute("global_random_seed", keras_seed)
        global_state.set_global_attribute("global_seed_generator", keras_gen)
        if not was_deterministic:
            tf_config.disable_op_determinism()


@contextlib.contextmanager
def numpy_seed(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator for the block only (shap samples from it); restore it on exit."""
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _check_sizes(**sizes) -> None:
    for name, value in sizes.items():
        if value is None and name == "n_steps":
            continue  # keras.Input((None, F)): any length
        check_positive_int(value, name)


def _input(n_steps, n_features, mask_value):
    inputs = keras.Input(shape=(n_steps, n_features), name="sequence")
    if mask_value is None:
        return inputs, inputs
    value = float(mask_value)
    if not np.isfinite(value):
        raise ValueError(f"expected a finite mask_value, got {mask_value!r}")
    return inputs, keras.layers.Masking(mask_value=value, name="masking")(inputs)


def _readout(h, n_outputs: int, output_activation):
    n_outputs = check_positive_int(n_outputs, "n_outputs")
    return keras.layers.Dense(n_outputs, activation=output_activation, name="readout")(h)


def build_lstm(
    n_steps: int | None,
    n_features: int,
    units: int = 32,
    seed: int = 0,
    name: str = "lstm_model",
    *,
    n_outputs: int = 1,
    output_activation: str | None = None,
    mask_value: float | None = None,
) -> keras.Model:
    """One LSTM layer and a dense read-out: ``(n, T, F) -> (n, n_outputs)``.

    ``n_steps=None`` takes any length; ``mask_value`` adds a ``Masking`` layer (padded
    steps are skipped); ``output_activation="softmax"`` makes a classifier.
    """
    _check_sizes(n_steps=n_steps, n_features=n_features, units=units)
    with seeded(seed):
        inputs, x = _input(n_steps, n_features, mask_value)
        h = keras.layers.LSTM(units, name="lstm")(x)
        return keras.Model(inputs, _readout(h, n_outputs, output_activation), name=name)


def build_stacked_lstm(
    n_steps: int | None,
    n_features: int,
    units: tuple[int, ...] = (64, 32),
    seed: int = 0,
    name: str = "stacked_lstm",
    *,
    n_outputs: int = 1,
    output_activation: str | None = None,
    mask_value: float | None = None,
) -> keras.Model:
    """Stacked LSTMs (64 then 32 units, as in the addition article) and a dense read-out."""
    units = tuple(units) if isinstance(units, (tuple, list)) else units
    if not isinstance(units, tuple) or not units:
        raise ValueError(f"expected units as a non-empty tuple of positive integers, got {units!r}")
    _check_sizes(n_steps=n_steps, n_features=n_features, **{f"units[{i}]": u for i, u in enumerate(units)})
    with seeded(seed):
        inputs, h = _input(n_steps, n_features, mask_value)
        for i, u in enumerate(units):
            h = keras.layers.LSTM(u, return_sequences=i < len(units) - 1, name=f"lstm_{i}")(h)
        return keras.Model(inputs, _readout(h, n_outputs, output_activation), name=name)


def build_attention_lstm(
    n_steps: int | None,
    n_features: int,
    units: int = 32,
    heads: int = 1,
    seed: int = 0,
    name: str = "attention_lstm",
    *,
    n_outputs: int = 1,
    output_activation: str | None = None,
    mask_value: float | None = None,
) -> keras.Model:
    """LSTM over the sequence, attention pooling over its outputs, dense read-out.

    Explained in chapter 3 (attention). The :class:`helpers.layers.AttentionPooling`
    layer is named ``"attention"``; ``heads`` queries pool ``(n, T, units)`` into
    ``(n, heads * units)``. Options as in :func:`build_lstm`.
    """
    _check_sizes(n_steps=n_steps, n_features=n_features, units=units, heads=heads)
    with seeded(seed):
        inputs, x = _input(n_steps, n_features, mask_value)
        h = keras.layers.LSTM(units, return_sequences=True, name="lstm")(x)
        context = AttentionPooling(heads=heads, name="attention")(h)
        return keras.Model(inputs, _readout(context, n_outputs, output_activation), name=name)


# --- training --------------------------------------------------------------------------------


def _is_softmax(model: keras.Model) -> bool:
    layer = model.outputs[0]._keras_history.operation
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") == "softmax" or isinstance(layer, keras.layers.Softmax)


def _number(value, name: str, low: float, high: float, closed_high: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"expected a number for {name}, got {value!r}")
    value = float(value)
    inside = low <= value and (value <= high if closed_high else value < high)
    if not np.isfinite(value) or not inside:
        raise ValueError(f"expected {name} in [{low}, {high}{']' if closed_high else ')'}, got {value!r}")
    return value


def _targets(model: keras.Model, y, n: int, loss):
    """``y`` as training targets and the loss to use (inferred when ``loss`` is None)."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.number) or y.dtype == bool:
        raise ValueError(f"expected y with real numbers, got dtype {y.dtype}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"expected finite targets y, got {int(np.size(y) - np.isfinite(y).sum())} NaN or inf")
    if y.shape[:1] != (n,):
        raise ValueError(f"expected y with {n} rows (one per sequence), got {y.shape[0] if y.ndim else 0}")
    K = output_width(model)
    if loss is not None:
        return y.astype(np.float32), loss
    if _is_softmax(model) and y.ndim == 1:
        if not np.all(y == np.round(y)) or y.min() < 0 or (K is not None and y.max() >= K):
            raise ValueError(f"expected integer class labels in [0, {K}) for a softmax classifier, got y {y[:5]}")
        return y.astype(np.int64), "sparse_categorical_crossentropy"
    if _is_softmax(model):
        return y.astype(np.float32), "categorical_crossentropy"
    if K is not None and y.reshape(n, -1).shape[1] != K:
        raise ValueError(f"expected y of shape ({n},) or ({n}, {K}) for a model with {K} outputs, got {y.shape}")
    return y.astype(np.float32).reshape(n, -1), "mse"


def fit(
    model: keras.Model,
    X,
    y,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    seed: int = 0,
    validation_split: float = 0.0,
    loss=None,
) -> keras.callbacks.History:
    """Train with Adam; the same seed gives the same weights. Silent (``verbose=0``).

    ``X`` is ``(n, T, F)`` or a ragged list of ``(T_i, F)`` (padded with the model's
    ``mask_value``); ``y`` is ``(n,)`` or ``(n, K)``. ``loss`` defaults to mean squared
    error, or sparse categorical cross-entropy for a softmax classifier with integer ``y``.
    """
    X, _ = format_inputs(model, X)
    n = X.shape[0]
    if n == 0:
        raise ValueError(f"expected at least one training sequence, got X of shape {X.shape}")
    y, loss = _targets(model, y, n, loss)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    learning_rate = _number(learning_rate, "learning_rate", 0.0, np.inf)
    if learning_rate == 0.0:
        raise ValueError("expected a positive learning_rate, got 0.0")
    validation_split = _number(validation_split, "validation_split", 0.0, 1.0, closed_high=False)
    with seeded(seed, deterministic=True):
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
        return model.fit(
            X, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
            validation_split=validation_split,
        )


# --- the batched forward pass ---------------------------------------------------------------


def pick(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Column ``targets[i]`` of row ``i``: ``(n, K), (n,) -> (n,)``."""
    return values[np.arange(len(values)), targets]


def outputs(model: keras.Model, X) -> np.ndarray:
    """Every output of the model, flattened per sequence: ``(n, T, F) -> (n, K)`` float64."""
    X, _ = format_inputs(model, X)
    return evaluate(model, X)


def forward(model: keras.Model, X, *, target=None) -> np.ndarray:
    """The one batched forward pass: ``(n, T, F) -> (n,)`` float64, the explained output.

    ``target`` picks the output (see :func:`helpers.validation.resolve_target`); for a
    softmax classifier this is the probability. Inputs go through one traced call in
    chunks of ``CHUNK`` rows, so any number of perturbed copies costs one trace.
    """
    X, _ = format_inputs(model, X)
    targets = resolve_target(model, X, target)
    return pick(evaluate(model, X), targets) if len(X) else np.zeros(0)


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination, ``1 - SSE / SST`` for ``(n,)`` arrays (``n >= 2``, varying ``y_true``)."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"expected y_pred of shape {y_true.shape}, got {y_pred.shape}")
    if not (np.all(np.isfinite(y_true)) and np.all(np.isfinite(y_pred))):
        raise ValueError("expected finite y_true and y_pred, got NaN or inf")
    sst = np.sum((y_true - y_true.mean()) ** 2)
    if y_true.size < 2 or sst == 0:
        raise ValueError(f"expected at least two different values in y_true, got {y_true[:5]}")
    return float(1.0 - np.sum((y_true - y_pred) ** 2) / sst)
