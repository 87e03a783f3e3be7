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
from helpers.layers import AttentionPooling
from helpers.models import build_attention_lstm, forward  # noqa: F401  (re-exported)
from helpers.validation import (
    check_seed,
    format_inputs,
    mask_value,
    resolve_target,
)

MODES = ("uniform", "permuted", "own")


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
