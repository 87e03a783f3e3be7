"""Attention pooling over LSTM outputs, and reading its weights correctly.

Explained in chapter 3 (attention). The attention weights are not a parameter
of the layer: they are an *output*, one softmax over time per sample (and per
head), computed from that sample's LSTM outputs. :func:`attention_weights` reads
them for many samples in one compiled, chunked pass, and
:func:`with_fixed_attention` asks what the model predicts when those weights are
replaced (uniform, or shuffled over time), the tests of "is attention an
explanation?" (Jain & Wallace 2019; Wiegreffe & Pinter 2019).
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
from keras import ops

from helpers import engine, levels
from helpers.validation import (
    check_positive_int,
    check_seed,
    format_inputs,
    mask_value,
    resolve_target,
)

MODES = ("uniform", "permuted", "own")


@keras.saving.register_keras_serializable(package="helpers")
class AttentionPooling(keras.layers.Layer):
    """Additive attention pooling over time: ``(n, T, U) -> (n, heads * U)``.

    For each head ``k``: ``score[t, k] = tanh(h_t W + b) . v_k`` (Bahdanau et al. 2015,
    with one query learned per head), ``a[k] = softmax over t of score[:, k]``, and
    ``context_k = sum_t a[k, t] h_t``. The heads share ``W`` and ``b`` and differ in
    ``v_k``; their contexts are concatenated, so the read-out sees each head apart.
    """

    def __init__(self, heads: int = 1, score_units: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.heads = check_positive_int(heads, "heads")
        self.score_units = check_positive_int(score_units, "score_units")

    def build(self, input_shape) -> None:
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                f"expected AttentionPooling input of shape (n, T, units), got {tuple(input_shape)}"
            )
        units = int(input_shape[-1])
        self.W = self.add_weight(
            name="W", shape=(units, self.score_units), initializer="glorot_uniform"
        )
        self.b = self.add_weight(name="b", shape=(self.score_units,), initializer="zeros")
        self.v = self.add_weight(
            name="v", shape=(self.score_units, self.heads), initializer="glorot_uniform"
        )

    def scores(self, h):
        """Unnormalised scores, ``(n, T, units) -> (n, heads, T)``."""
        s = ops.matmul(ops.tanh(ops.matmul(h, self.W) + self.b), self.v)  # (n, T, heads)
        return ops.transpose(s, (0, 2, 1))

    def weights_for(self, h, mask=None):
        """The per-sample attention weights, ``(n, T, units) -> (n, heads, T)``, summing to 1 over T.

        ``mask`` ``(n, T)`` (from a ``Masking`` layer) gives padded steps weight 0.
        """
        s = self.scores(h)
        if mask is not None:
            s = ops.where(ops.expand_dims(ops.cast(mask, "bool"), 1), s, ops.full_like(s, -1e9))
        return ops.softmax(s, axis=-1)

    def pool(self, h, a):
        """Weighted sums of ``h`` ``(n, T, units)`` under weights ``a`` ``(n, heads, T)``: ``(n, heads * units)``."""
        context = ops.matmul(a, h)  # (n, heads, units)
        return ops.reshape(context, (-1, self.heads * int(h.shape[-1])))

    def call(self, h, mask=None):
        return self.pool(h, self.weights_for(h, mask))

    def compute_mask(self, h, mask=None):
        return None  # pooling removes the time axis, and with it the mask

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.heads * int(input_shape[-1]))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(heads=self.heads, score_units=self.score_units)
        return config


def find_attention(model: keras.Model) -> AttentionPooling:
    """The model's one :class:`AttentionPooling` layer; ``ValueError`` if it has none (or several)."""
    found = [layer for layer in getattr(model, "layers", []) if isinstance(layer, AttentionPooling)]
    if len(found) != 1:
        names = [layer.__class__.__name__ for layer in getattr(model, "layers", [])]
        what = "no AttentionPooling layer" if not found else f"{len(found)} AttentionPooling layers"
        raise ValueError(
            f"expected a model with one AttentionPooling layer, got {what} in model "
            f"{getattr(model, 'name', model)!r} (layers: {names})"
        )
    return found[0]


class _Parts:
    """A model cut at its attention layer: encoder ``X -> h``, the layer, head ``context -> y``."""

    def __init__(self, model: keras.Model):
        self.layer = find_attention(model)
        self.heads = self.layer.heads
        source = self.layer.input
        # A layer that takes a mask records (h, mask) as its input; the encoder returns h.
        source = source[0] if isinstance(source, (list, tuple)) else source
        self.encoder = keras.Model(model.inputs[0], source)
        if self.layer.output is model.outputs[0]:
            self.head = None
        else:
            self.head = keras.Model(self.layer.output, model.outputs[0])
        self.calls: dict = {}


_parts: weakref.WeakKeyDictionary[keras.Model, _Parts] = weakref.WeakKeyDictionary()


def _parts_of(model: keras.Model) -> _Parts:
    if model not in _parts:
        _parts[model] = _Parts(model)
    return _parts[model]


def attention_weights(model: keras.Model, X) -> np.ndarray:
    """Per-sample softmax weights: ``(n, T, F) -> (n, T)``, or ``(n, heads, T)`` with several heads.

    One traced call per chunk of ``CHUNK`` sequences, through the engine.
    """
    parts = _parts_of(model)
    X, _ = format_inputs(model, X)
    n, n_steps, _ = X.shape
    out = np.empty((n, parts.heads, n_steps), dtype=np.float64)

    fill = mask_value(model)

    def make(x):
        mask = None if fill is None else ops.any(ops.not_equal(x, fill), axis=-1)
        return parts.layer.weights_for(parts.encoder(x, training=False), mask)

    call = engine.compiled(model, "attention", X.shape[1:], make)
    for start, m, w in engine.run(call, X):
        out[start : start + m] = w.numpy()[:m]
    return out[:, 0] if parts.heads == 1 else out


def attention_attribution(model: keras.Model, X, *, target=None) -> np.ndarray:
    """The attention weights as an attribution: ``(n, T, F)``, each step's weight repeated over features.

    Resolution ``"time"``; with several heads the weights are averaged over heads. The
    weights do not depend on ``target`` (checked only), and are non-negative: they say
    where the model looks, not in which direction an input pushes the output.
    """
    X, valid = format_inputs(model, X)
    resolve_target(model, X, target)
    a = np.asarray(attention_weights(model, X))
    a = a.mean(axis=1) if a.ndim == 3 else a
    return levels.broadcast(a * valid, X.shape, "feature")


class _ImposedAttention(keras.layers.Layer):
    """Runs the model with attention weights taken from the input's last ``heads`` channels."""

    def __init__(self, parts: _Parts, n_features: int, **kwargs):
        super().__init__(**kwargs)
        self.parts = parts
        self.n_features = n_features

    def call(self, xa):
        x = xa[:, :, : self.n_features]
        a = ops.transpose(xa[:, :, self.n_features :], (0, 2, 1))  # (n, heads, T)
        context = self.parts.layer.pool(self.parts.encoder(x, training=False), a)
        return context if self.parts.head is None else self.parts.head(context, training=False)


def imposed_attention_model(model: keras.Model) -> keras.Model:
    """The same model with its attention weights given as input: ``(n, T, F + heads) -> (n, 1)``.

    Channel ``F + k`` at step ``t`` is the weight head ``k`` puts on step ``t``; the
    LSTM, the pooling and the read-out are the model's own (shared weights). Packing
    the weights into the sequence lets :func:`helpers.models.forward` evaluate it.
    """
    parts = _parts_of(model)
    if "imposed" not in parts.calls:
        n_steps, n_features = model.inputs[0].shape[1], model.inputs[0].shape[2]
        inputs = keras.Input((n_steps, n_features + parts.heads), name="sequence_and_weights")
        outputs = _ImposedAttention(parts, n_features, name="imposed_attention")(inputs)
        parts.calls["imposed"] = keras.Model(inputs, outputs, name=f"{model.name}_imposed")
    return parts.calls["imposed"]


def predict_with_weights(model: keras.Model, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Predictions when attention is forced to ``weights`` ``(n, T)`` or ``(n, heads, T)``: ``(n,)``."""
    from helpers.models import forward

    parts = _parts_of(model)
    X, _ = format_inputs(model, X)
    n, n_steps, _ = X.shape
    a = np.asarray(weights, dtype=np.float32)
    if a.ndim == 2:
        a = a[:, None, :]
    if a.shape != (n, parts.heads, n_steps):
        expected = (n, n_steps) if parts.heads == 1 else (n, parts.heads, n_steps)
        raise ValueError(f"expected weights of shape {expected}, got {np.shape(weights)}")
    if not np.all(np.isfinite(a)):
        raise ValueError("expected finite attention weights, got NaN or inf")
    packed = np.concatenate([X, a.transpose(0, 2, 1)], axis=2)
    return forward(imposed_attention_model(model), packed)


def permute_over_time(weights: np.ndarray, seed: int = 0) -> np.ndarray:
    """Shuffle each sample's weights over time (one permutation per sample, shared by its heads)."""
    a = np.asarray(weights)
    if a.ndim not in (2, 3):
        raise ValueError(f"expected weights of shape (n, T) or (n, heads, T), got {a.shape}")
    rng = np.random.default_rng(check_seed(seed))
    n, n_steps = a.shape[0], a.shape[-1]
    order = np.argsort(rng.random((n, n_steps)), axis=1)
    if a.ndim == 3:
        order = np.broadcast_to(order[:, None, :], a.shape)
    return np.take_along_axis(a, order, axis=-1)


def with_fixed_attention(
    model: keras.Model, X: np.ndarray, mode: str = "uniform", seed: int = 0
) -> np.ndarray:
    """Predictions ``(n,)`` with the attention weights replaced at inference.

    ``mode="uniform"``: every step gets ``1 / T`` (attention becomes mean pooling);
    ``"permuted"``: each sample's own weights shuffled over time (Jain & Wallace
    2019); ``"own"``: the model's weights unchanged (equals ``forward(model, X)``).
    """
    if mode not in MODES:
        raise ValueError(f"expected mode in {MODES}, got {mode!r}")
    X, _ = format_inputs(model, X)
    heads = _parts_of(model).heads
    n, n_steps, _ = X.shape
    if mode == "uniform":
        a = np.full((n, heads, n_steps), 1.0 / n_steps)
    else:
        a = attention_weights(model, X).reshape(n, heads, n_steps)
        if mode == "permuted":
            a = permute_over_time(a, seed)
    return predict_with_weights(model, X, a)


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

    The ``AttentionPooling`` layer is named ``"attention"``. Options as in
    :func:`helpers.models.build_lstm`.
    """
    from helpers.models import _check_sizes, _input, _readout, seeded

    _check_sizes(n_steps=n_steps, n_features=n_features, units=units, heads=heads)
    with seeded(seed):
        inputs, x = _input(n_steps, n_features, mask_value)
        h = keras.layers.LSTM(units, return_sequences=True, name="lstm")(x)
        context = AttentionPooling(heads=heads, name="attention")(h)
        return keras.Model(inputs, _readout(context, n_outputs, output_activation), name=name)
