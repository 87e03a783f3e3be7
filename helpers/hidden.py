"""Inside the hidden state: hidden sequences, gate activations, state change, projections, probes.

Explained in chapter 5 (hidden states). :func:`hidden_states` runs a layer's own
LSTM cell over its input sequence in one compiled, chunked pass of the engine
(:mod:`helpers.engine`), so it returns every step's ``h_t`` whether or not the
layer has ``return_sequences``. :func:`lstm_gates` recomputes the same sequence
in NumPy from the layer's kernel, recurrent kernel and bias, exposing the gates
Keras keeps inside the cell. Both respect a ``Masking`` layer as Keras does: a
padded step leaves the state unchanged, so ``h_t`` and ``c_t`` carry the last
real step's values there (and :func:`state_change` is 0 at padded steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

import helpers  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)
from helpers import engine
from helpers.lstm_stack import numpy_activation, step, unroll, weights  # noqa: F401  (numpy_activation re-exported)
from helpers.validation import check_positive_int, format_inputs

METHODS = ("pca", "tsne")

#: What the LSTM-only tools (hidden_states, lstm_gates) read: plain, forward keras.layers.LSTM.
SUPPORTED = "keras.layers.LSTM (forward, called once; GRU, SimpleRNN and Bidirectional are not supported)"


@dataclass
class LSTMGates:
    """Gate activations and states of one LSTM layer, each float64 ``(n, T, units)``.

    Keras' cell, step by step: ``i, f, o = sigma(z_i), sigma(z_f), sigma(z_o)``,
    ``g = tanh(z_c)`` (``candidate``), ``c_t = f * c_{t-1} + i * g``,
    ``h_t = o * tanh(c_t)``, with ``z = x_t K + h_{t-1} R + b`` split in the order
    i, f, c, o, and ``sigma`` / ``tanh`` the layer's recurrent activation / activation.
    ``valid`` bool ``(n, T)`` is the mask the layer receives (all True without
    ``Masking``); at padded steps no update happens: the four gates are 0 and
    ``cell`` and ``hidden`` carry the previous step's state, as in Keras.
    """

    input: np.ndarray
    forget: np.ndarray
    candidate: np.ndarray
    output: np.ndarray
    cell: np.ndarray
    hidden: np.ndarray
    valid: np.ndarray


def lstm_layers(model: keras.Model) -> list[keras.layers.LSTM]:
    """The model's LSTM layers, in the order of ``model.layers``."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]


def _describe(layers: list) -> str:
    return ", ".join(f"{k}: {layer.name!r}" for k, layer in enumerate(layers)) or "none"


def get_lstm(model: keras.Model, layer: int | str = 0) -> tuple[int, keras.layers.LSTM]:
    """Resolve ``layer`` (index among the LSTM layers, or a layer name) to ``(index, layer)``."""
    found = lstm_layers(model)
    if not found:
        kinds = ", ".join(f"{x.name!r} ({type(x).__name__})" for x in model.layers)
        raise ValueError(f"expected a model with at least one LSTM layer, {SUPPORTED}; got layers {kinds}")
    if isinstance(layer, str):
        for k, candidate in enumerate(found):
            if candidate.name == layer:
                return _check_lstm(k, candidate)
        names = [x.name for x in model.layers]
        if layer in names:
            kind = type(model.get_layer(layer)).__name__
            raise ValueError(
                f"expected an LSTM layer, got {layer!r}, a {kind}; LSTM layers are {_describe(found)} "
                f"(supported: {SUPPORTED})"
            )
        raise ValueError(f"expected an LSTM layer name, got {layer!r}; LSTM layers are {_describe(found)}")
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
        raise ValueError(
            f"expected layer as an index or a name, got {layer!r}; LSTM layers are {_describe(found)}"
        )
    if not 0 <= layer < len(found):
        raise ValueError(
            f"expected layer index in 0..{len(found) - 1}, got {layer}; "
            f"LSTM layers are {_describe(found)}"
        )
    return _check_lstm(int(layer), found[int(layer)])


def _check_lstm(index: int, lstm: keras.layers.LSTM) -> tuple[int, keras.layers.LSTM]:
    if lstm.go_backwards:
        raise ValueError(f"expected a forward LSTM ({SUPPORTED}), got {lstm.name!r} with go_backwards=True")
    calls = len(lstm._inbound_nodes)
    if calls != 1:
        raise ValueError(
            f"expected LSTM {lstm.name!r} to be called exactly once in the model, got {calls} calls "
            "(its states differ per call; give each call its own layer)"
        )
    return index, lstm


def _hidden_call(model: keras.Model, index: int, lstm, shape: tuple[int, int]):
    """The compiled pass ``(rows, T, F) -> (layer input, mask as float, hidden sequence)``."""
    node = lstm._inbound_nodes[0]
    source = node.arguments.args[0]
    mask = node.arguments.kwargs.get("mask")
    # A sub-model to the layer's input (and the mask Keras hands it, from a Masking layer).
    upstream = keras.Model(model.inputs, [source] if mask is None else [source, mask])
    units = lstm.cell.units
    n_steps = shape[0]

    def make(x):
        out = upstream(x, training=False)
        out = out if isinstance(out, (list, tuple)) else [out]
        seq = out[0]
        keep = tf.ones(tf.shape(seq)[:2], tf.bool) if len(out) == 1 else tf.cast(out[1], tf.bool)
        h = tf.zeros((tf.shape(seq)[0], units), dtype=seq.dtype)
        c = tf.zeros((tf.shape(seq)[0], units), dtype=seq.dtype)
        hs = []
        for t in range(n_steps):  # static T: the loop unrolls once per (T, F), at trace time
            h_new, [(_, c_new)] = step((lstm,), seq[:, t], [(h, c)])
            # A masked step leaves the state as it was, as Keras' own RNN loop does.
            real = keep[:, t, None]
            h, c = tf.where(real, h_new, h), tf.where(real, c_new, c)
            hs.append(h)
        return seq, tf.cast(keep, seq.dtype), tf.stack(hs, axis=1)

    return engine.compiled(model, f"hidden:{index}", shape, make)


def _run(model: keras.Model, X, layer):
    """``(lstm, layer input (n, T, F_in), valid (n, T) bool, hidden (n, T, units))``."""
    X, _ = format_inputs(model, X)
    index, lstm = get_lstm(model, layer)
    n, T, F = X.shape
    call = _hidden_call(model, index, lstm, (T, F))
    seqs, keeps, hiddens = [], [], []
    for _, m, (seq, keep, h) in engine.run(call, X):
        seqs.append(seq.numpy()[:m])
        keeps.append(keep.numpy()[:m] > 0.5)
        hiddens.append(h.numpy()[:m])
    units = lstm.cell.units
    if n == 0:
        width = lstm.cell.kernel.shape[0]
        return lstm, np.zeros((0, T, width), np.float32), np.zeros((0, T), bool), np.zeros((0, T, units))
    return lstm, np.concatenate(seqs), np.concatenate(keeps), np.concatenate(hiddens)


def hidden_states(model: keras.Model, X, layer: int | str = 0) -> np.ndarray:
    """Hidden state ``h_t`` of LSTM layer ``layer`` at every step: ``(n, T, F) -> (n, T, units)``.

    ``layer`` indexes the model's LSTM layers in order (or names one); only
    :data:`SUPPORTED` layers. ``X`` may be a ragged list (padded by the toolkit) for
    a model with ``Masking``; at padded steps ``h_t`` is the last real step's state
    (Keras carries the state over masked steps). Works whether or not the layer
    returns sequences; one compiled call per ``CHUNK`` rows.
    """
    _, _, _, H = _run(model, X, layer)
    return H.astype(np.float64)


def lstm_gates(model: keras.Model, X, layer: int | str = 0) -> LSTMGates:
    """Gates and states of LSTM layer ``layer``, unrolled in NumPy with its own weights.

    ``(n, T, F)`` (or a ragged list) -> :class:`LSTMGates` of ``(n, T, units)`` arrays;
    ``hidden`` equals :func:`hidden_states` (Keras' own sequence) to float32 precision.
    At padded steps the gates are 0 and the states carry over (see :class:`LSTMGates`).
    """
    lstm, seq, valid, _ = _run(model, X, layer)
    run = unroll(weights(lstm), seq, valid)
    # At padded steps no update happens: report the gates as 0 there (the states carry over).
    keep = valid[:, :, None]
    out = {name: np.where(keep, getattr(run, k), 0.0)
           for name, k in (("input", "i"), ("forget", "f"), ("candidate", "g"), ("output", "o"))}
    out["cell"], out["hidden"] = run.c[:, 1:], run.h[:, 1:]
    return LSTMGates(**out, valid=valid)


def _check_states(H, name: str = "H") -> np.ndarray:
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 3:
        raise ValueError(f"expected {name} of shape (n, T, units), got shape {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError(f"expected finite values in {name}, got NaN or inf")
    return H


def state_change(H: np.ndarray) -> np.ndarray:
    """Euclidean (L2) norm of each step's update, ``||h_t - h_{t-1}||_2`` with ``h_0 = 0``: ``(n, T, units) -> (n, T)``.

    At padded steps :func:`hidden_states` carries the state over, so the change there is 0.
    """
    H = _check_states(H)
    previous = np.concatenate([np.zeros_like(H[:, :1]), H[:, :-1]], axis=1)
    return np.linalg.norm(H - previous, axis=2)


def project(
    H: np.ndarray,
    method: str = "pca",
    n_components: int = 2,
    perplexity: float = 30.0,
    seed: int = 0,
    max_iter: int = 1000,
    return_model: bool = False,
):
    """Project every step's state to ``n_components`` dimensions: ``(n, T, units) -> (n, T, k)``.

    ``method`` is ``"pca"`` (linear; the fitted ``PCA`` has ``explained_variance_ratio_``)
    or ``"tsne"`` (van der Maaten & Hinton 2008; nonlinear, seeded, keeps neighbours,
    not distances; ``max_iter`` optimisation steps). All ``n * T`` states are embedded
    together. ``return_model=True`` also returns the fitted scikit-learn estimator.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    H = _check_states(H)
    n, T, units = H.shape
    if method not in METHODS:
        raise ValueError(f"expected method in {METHODS}, got {method!r}")
    k = check_positive_int(n_components, "n_components")
    if k > min(units, n * T):
        raise ValueError(f"expected n_components <= min(units, n * T) = {min(units, n * T)}, got {k}")
    points = H.reshape(n * T, units)
    if method == "pca":
        estimator = PCA(n_components=k, random_state=seed)
    else:
        if not 0 < perplexity < n * T:
            raise ValueError(
                f"expected perplexity between 0 and the number of points ({n * T}), got {perplexity}"
            )
        estimator = TSNE(
            n_components=k,
            perplexity=perplexity,
            init="pca",
            random_state=seed,
            max_iter=check_positive_int(max_iter, "max_iter"),
        )
    # A few hundred points gain nothing from threads, and OpenMP threads spin-waiting on
    # a busy CPU made t-SNE 3-10x slower here; one thread is also the same on every machine.
    with threadpool_limits(limits=1):
        Y = estimator.fit_transform(points).reshape(n, T, k)
    return (Y, estimator) if return_model else Y


def linear_probe(
    H: np.ndarray,
    target: np.ndarray,
    test_fraction: float = 0.3,
    alphas: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Held-out R^2 of a ridge read-out of ``target`` from ``h_t``, per step: ``(T,)``.

    ``H`` is ``(n, T, units)``; ``target`` is ``(n, T)`` (a quantity per step, such as
    the running sum) or ``(n,)`` (one quantity, decoded from every step). Sequences
    are split once into train and test; at each step a standardised ``RidgeCV``
    (strength chosen by cross-validation on the training rows) is fitted and scored
    on the test rows. A step whose test target is constant gives NaN.
    """
    from sklearn.linear_model import RidgeCV
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    H = _check_states(H)
    n, T, _ = H.shape
    y = np.asarray(target, dtype=np.float64)
    if y.shape == (n,):
        y = np.repeat(y[:, None], T, axis=1)
    if y.shape != (n, T):
        raise ValueError(f"expected target of shape ({n}, {T}) or ({n},), got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("expected a finite target, got NaN or inf")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"expected test_fraction strictly between 0 and 1, got {test_fraction}")
    n_test = int(round(n * test_fraction))
    if n_test < 2 or n - n_test < 5:
        raise ValueError(f"expected at least 5 training and 2 test sequences, got n={n}")
    alphas = np.logspace(-3, 3, 13) if alphas is None else np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
        raise ValueError(f"expected alphas as a 1-D array of positive ridge strengths, got {alphas!r}")
    train, test = train_test_split(np.arange(n), test_size=n_test, random_state=seed)
    scores = np.full(T, np.nan)
    for t in range(T):
        if np.ptp(y[test, t]) == 0:
            continue
        probe = make_pipeline(StandardScaler(), RidgeCV(alphas=alphas))
        probe.fit(H[train, t], y[train, t])
        scores[t] = r2_score(y[test, t], probe.predict(H[test, t]))
    return scores
