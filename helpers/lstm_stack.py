"""The one LSTM reader: a model's chain of LSTM layers, their weights, and how to step them.

Explained in chapter 5 (hidden states), where the NumPy unroll exposes the gates
Keras keeps inside the cell; chapter 6's LRP and contextual decomposition run on
the same unroll, and chapter 4's prefix sharing steps the same chain in
TensorFlow. Everything that reads a model's LSTM layers reads them here:

- :func:`chain`: the LSTM layers fed by the model's input, then the *head* (every
  layer after the last LSTM), or ``None`` for any other architecture;
- :func:`weights` and :func:`unroll`: one layer's kernels in float64 and Keras'
  cell equations in NumPy (gates ``i, f, g, o``; states ``c, h``), with masked
  steps carrying the state over as Keras does;
- :func:`step` and :func:`branch`: one time step through a chain's cells in
  TensorFlow (traced code); ``branch`` steps a parent state into several children.

Gate order is Keras' (``i, f, c, o``): ``z = x_t K + h_{t-1} R + b``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

import helpers  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)

_chains: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def numpy_activation(fn: Callable) -> Callable[[np.ndarray], np.ndarray]:
    """The Keras activation ``fn`` as a NumPy function: any-shape float64 in, same shape out.

    Used by the NumPy unroll (:func:`unroll`) of chapters 5 and 6.
    """
    name = getattr(fn, "__name__", "")
    if name == "tanh":
        return np.tanh
    if name == "sigmoid":
        return lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|
    if name == "linear":
        return lambda z: z
    if name == "relu":
        return lambda z: np.maximum(z, 0.0)
    return lambda z: np.asarray(keras.ops.convert_to_numpy(fn(keras.ops.convert_to_tensor(z))))


@dataclass(frozen=True)
class Weights:
    """One LSTM layer's weights as float64 arrays and its activations as NumPy functions."""

    name: str
    K: np.ndarray  # (D, 4u) input kernel
    R: np.ndarray  # (u, 4u) recurrent kernel
    b: np.ndarray  # (4u,) bias (zeros without one)
    act: Callable  # the layer's activation (tanh by default)
    rec: Callable  # its recurrent activation (sigmoid by default)

    @property
    def units(self) -> int:
        return self.R.shape[0]


def float64(variable) -> np.ndarray:
    """A Keras variable (any shape) as a float64 NumPy array of the same shape."""
    return keras.ops.convert_to_numpy(variable).astype(np.float64)


def weights(lstm: keras.layers.LSTM) -> Weights:
    """The kernels, bias and activations of ``lstm`` (a ``keras.layers.LSTM``), in float64."""
    cell = lstm.cell
    b = float64(cell.bias) if cell.use_bias else np.zeros(4 * cell.units)
    return Weights(
        lstm.name,
        float64(cell.kernel),
        float64(cell.recurrent_kernel),
        b,
        numpy_activation(cell.activation),
        numpy_activation(cell.recurrent_activation),
    )


@dataclass
class Unroll:
    """One layer run over time in NumPy; float64 arrays indexed by step.

    ``h`` and ``c`` are ``(n, T + 1, u)`` with the zero initial state at index 0;
    the gates ``i, f, g, o`` and the candidate's pre-activation ``zg`` are
    ``(n, T, u)``, as computed at every step (masked steps included, where the
    states ignore them).
    """

    x: np.ndarray  # layer input (n, T, D)
    h: np.ndarray
    c: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    zg: np.ndarray


def unroll(w: Weights, x: np.ndarray, valid: np.ndarray) -> Unroll:
    """Keras' LSTM cell over ``x`` ``(n, T, D)`` with ``valid`` bool ``(n, T)``: an :class:`Unroll`.

    ``i, f, o = rec(z_i, z_f, z_o)``, ``g = act(z_c)``, ``c_t = f c_{t-1} + i g``,
    ``h_t = o act(c_t)``; at a step where ``valid`` is False the states carry over.
    """
    x = np.asarray(x, dtype=np.float64)
    n, T, _ = x.shape
    u = w.units
    # The input part of every step at once; only the recurrent part needs the loop.
    Zx = x @ w.K + w.b  # (n, T, 4u)
    h, c = np.zeros((n, T + 1, u)), np.zeros((n, T + 1, u))
    gates = {k: np.zeros((n, T, u)) for k in ("i", "f", "g", "o", "zg")}
    for t in range(T):
        z = Zx[:, t] + h[:, t] @ w.R
        i, f = w.rec(z[:, :u]), w.rec(z[:, u : 2 * u])
        g, o = w.act(z[:, 2 * u : 3 * u]), w.rec(z[:, 3 * u :])
        c_new = f * c[:, t] + i * g
        keep = valid[:, t, None]
        c[:, t + 1] = np.where(keep, c_new, c[:, t])
        h[:, t + 1] = np.where(keep, o * w.act(c_new), h[:, t])
        for k, v in zip(("i", "f", "g", "o", "zg"), (i, f, g, o, z[:, 2 * u : 3 * u])):
            gates[k][:, t] = v
    return Unroll(x, h, c, **gates)


@dataclass(frozen=True)
class Chain:
    """A model read as LSTM layers fed by its input, then the head on the last LSTM's output."""

    layers: tuple
    units: tuple[int, ...]
    head: keras.Model
    sequence_head: bool  # the head reads the last LSTM's whole output sequence

    @property
    def state_size(self) -> int:
        """Width of the packed state ``[h1, c1, h2, c2, ...]``: ``2 * sum(units)``."""
        return 2 * sum(self.units)

    @property
    def h_last(self) -> slice:
        """Where the last layer's ``h`` sits in the packed state."""
        S = self.state_size
        return slice(S - 2 * self.units[-1], S - self.units[-1])


def _read_chain(model) -> Chain | None:
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1 or len(getattr(model, "outputs", [])) != 1:
        return None
    source, found = inputs[0], []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if type(layer) is not keras.layers.LSTM:
            break
        try:
            fed_by = layer.input
        except (AttributeError, ValueError):  # called more than once: not a simple chain
            return None
        if fed_by is not source:
            break
        if layer.go_backwards or layer.stateful or layer.return_state:
            return None
        found.append(layer)
        source = layer.output
    if not found or any(not layer.return_sequences for layer in found[:-1]):
        return None
    try:
        # Fails ("graph disconnected") when the head also reads anything but the last LSTM.
        head = keras.Model(source, model.outputs[0])
    except Exception:  # noqa: BLE001  (any failure means: not a chain)
        return None
    units = tuple(int(layer.cell.units) for layer in found)
    return Chain(tuple(found), units, head, bool(found[-1].return_sequences))


def chain(model) -> Chain | None:
    """``model`` read as a :class:`Chain` (cached per model), or ``None`` if it is not one.

    A chain is one or more forward, stateless ``keras.layers.LSTM`` layers, the first
    fed by the model's only input and each by the one before, then any head that
    reads only the last LSTM's output.
    """
    try:
        return _chains[model]
    except (KeyError, TypeError):
        found = _read_chain(model)
        try:
            _chains[model] = found
        except TypeError:
            pass
        return found


def unpack(state, units: tuple[int, ...]) -> list:
    """Packed states ``(rows, 2 sum(units))`` -> per layer ``(h, c)``, each ``(rows, u)``."""
    out, off = [], 0
    for u in units:
        out.append((state[:, off : off + u], state[:, off + u : off + 2 * u]))
        off += 2 * u
    return out


def step(layers, inp, states: list) -> tuple:
    """One time step through ``layers``' own Keras cells (traced TensorFlow code).

    ``inp`` ``(rows, F)``; ``states`` per layer ``(h, c)``. Returns the last layer's
    ``h`` and the new per-layer states.
    """
    new = []
    for layer, (h, c) in zip(layers, states):
        inp, (h, c) = layer.cell(inp, [h, c], training=False)
        new.append((h, c))
    return inp, new


def branch(layers, states: list, inputs) -> list:
    """One time step from parent states into ``k`` children at once, sharing ``h @ U`` (TensorFlow).

    ``states``: per layer ``(h, c)`` of shape ``P + (u,)``; ``inputs``: ``P + (k, F)`` (or
    broadcastable to it). Children share their parent's recurrent term ``h @ U + bias``,
    so it is computed once per parent, not once per child; the gates are Keras' LSTM
    cell's (``i, f, c, o`` order). Returns per layer ``(h, c)`` of shape ``P + (k, u)``.
    """
    out, inp = [], inputs
    for layer, (h, c) in zip(layers, states):
        cell = layer.cell
        rec = tf.tensordot(h, tf.convert_to_tensor(cell.recurrent_kernel), axes=1)
        if cell.use_bias:
            rec = rec + tf.convert_to_tensor(cell.bias)
        z = tf.tensordot(inp, tf.convert_to_tensor(cell.kernel), axes=1) + rec[..., None, :]
        h, c = update(cell, z, c[..., None, :])
        out.append((h, c))
        inp = h
    return out


def update(cell, z, c) -> tuple:
    """Keras' LSTM cell from its pre-activations ``z = x W + h U + bias`` ``(..., 4u)``: new ``(h, c)``.

    The gates in Keras' order (``i, f, c, o``); ``c`` is the old cell state,
    broadcastable to ``(..., u)``. For callers that form ``z`` themselves, sharing
    part of it across rows (:func:`branch`, :func:`helpers.prefix_tree.occlusion_call`).
    """
    z_i, z_f, z_c, z_o = tf.split(z, 4, axis=-1)
    gate = cell.recurrent_activation
    c = gate(z_f) * c + gate(z_i) * cell.activation(z_c)
    return gate(z_o) * cell.activation(c), c
