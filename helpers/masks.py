"""Learned masks: Dynamask and ExtremalMask, trained for all samples at once.

Explained in chapter 9 (learned masks and TIMING). A mask answers "which cells
must be kept to keep the prediction": it is fitted by gradient descent so that
the model's output on a perturbed input (removed cells replaced) stays close
to the output on the real input, while a regulariser keeps the mask small.
Every sample's mask (and, for Dynamask, every keep ratio's) is one slice of a
single variable, trained in one compiled loop by :func:`helpers.engine.train`.
Both return unsigned importances in ``[0, 1]``; padded steps get exactly 0.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from helpers import engine
from helpers.models import evaluate, pick
from helpers.validation import check_positive_int, check_seed, resolve_inputs


def _check_rate(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"expected {name} a positive finite number, got {value!r}")
    return float(value)


def _check_keep(keep) -> list[float]:
    values = [keep] if isinstance(keep, (int, float)) and not isinstance(keep, bool) else keep
    try:
        values = [float(k) for k in values]
    except (TypeError, ValueError):
        raise ValueError(f"expected keep a number in (0, 1) or a list of them, got {keep!r}") from None
    if not values or any(not (0.0 < k < 1.0) for k in values):
        raise ValueError(f"expected keep a number in (0, 1) or a list of them, got {keep!r}")
    return values


def _output(model, x, targets):
    out = model(x, training=False)
    out = tf.reshape(out, (tf.shape(out)[0], -1))
    return tf.gather(out, targets, axis=1, batch_dims=1)


def _explained(model, X, target):
    """``X`` float32 ``(n, T, F)``, ``valid`` ``(n, T)``, targets ``(n,)`` and the outputs a mask must keep, float32 ``(n,)``."""
    X, valid, targets = resolve_inputs(model, X, target)
    y = pick(evaluate(model, X), targets).astype(np.float32) if len(X) else np.zeros(0, np.float32)
    return X, valid, targets, y


def _blur(X: tf.Tensor, valid: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """Gaussian blur over time with a width per cell: ``(n, T, F)`` -> ``(n, T, F)``.

    Padded steps carry no weight, so a blurred cell never borrows padding values.
    """
    T = tf.shape(X)[1]
    t = tf.cast(tf.range(T), tf.float32)
    d2 = tf.square(t[:, None] - t[None, :])  # (T, T')
    w = tf.exp(-d2[None, :, :, None] / (2.0 * tf.square(sigma)[:, :, None, :]))  # (n, T, T', F)
    w = w * valid[:, None, :, None]
    return tf.reduce_sum(w * X[:, None], axis=2) / (tf.reduce_sum(w, axis=2) + 1e-12)


def dynamask(
    model: keras.Model,
    X,
    *,
    keep=(0.01, 0.02, 0.05, 0.1, 0.2),
    epochs: int = 300,
    seed: int = 0,
    target=None,
    learning_rate: float = 0.1,
    sigma_max: float = 1.0,
    area_weight: float = 0.5,
    area_dilation: float = 100.0,
    smooth_weight: float = 0.0,
    tolerance: float = 0.1,
) -> np.ndarray:
    """Dynamask (Crabbé & van der Schaar 2021): ``(n, T, F)`` -> ``(n, T, F)`` in ``[0, 1]``.

    A removed cell is replaced by a Gaussian blur over time of width
    ``sigma_max * (1 - m)``. The loss is the squared change of the explained
    output plus ``area_weight * ||sort(m) - r_keep||^2 / N`` (the paper's area
    regulariser; its weight grows by ``area_dilation`` over training, as in the
    reference code) plus ``smooth_weight`` times the total variation over time.
    With several ``keep`` ratios all masks train together; each sample gets the
    smallest ratio whose output error is within ``tolerance`` (relative to the
    output's spread, plus the best error) — the paper's "extremal" choice.
    """
    keep = _check_keep(keep)
    epochs = check_positive_int(epochs, "epochs")
    seed = check_seed(seed)
    learning_rate = _check_rate(learning_rate, "learning_rate")
    sigma_max = _check_rate(sigma_max, "sigma_max")
    X, valid, targets, y = _explained(model, X, target)
    n, T, F = X.shape
    if n == 0:
        return np.zeros((0, T, F))
    K = len(keep)
    Xk, Vk = np.tile(X, (K, 1, 1)), np.tile(valid.astype(np.float32), (K, 1))
    ratio = np.repeat(np.asarray(keep, np.float32), n)
    size = Vk.sum(axis=1) * F  # valid cells per row
    kept = np.round(ratio * size)
    rank = np.arange(T * F, dtype=np.float32)
    ref = tf.constant((rank[None, :] < kept[:, None]).astype(np.float32))  # sorted descending
    Xt, Vt = tf.constant(Xk), tf.constant(Vk)
    yt, tt = tf.constant(np.tile(y, K)), tf.constant(np.tile(targets, K).astype(np.int32))
    rng = np.random.default_rng(seed)
    logits = tf.Variable(rng.normal(0.0, 0.01, Xk.shape).astype(np.float32))
    scale = float(np.var(y)) + 1e-6 if n > 1 else 1.0

    def masks():
        return tf.sigmoid(logits) * Vt[:, :, None]

    def change(m):
        # Padded steps are kept at their value (mask 1 inside the perturbation).
        keep_all = m + (1.0 - Vt[:, :, None])
        x = keep_all * Xt + (1 - keep_all) * _blur(Xt, Vt, sigma_max * (1.0 - m) + 1e-3)
        return tf.square(_output(model, x, tt) - yt) / scale

    def loss(progress):
        m = masks()
        flat = tf.sort(tf.reshape(m, (tf.shape(m)[0], -1)), axis=1, direction="DESCENDING")
        area = tf.reduce_sum(tf.square(flat - ref), axis=1) / size
        smooth = tf.reduce_sum(tf.abs(m[:, 1:] - m[:, :-1]), axis=(1, 2)) / size
        weight = area_weight * tf.pow(area_dilation, progress)
        return tf.reduce_sum(change(m) + weight * area + smooth_weight * smooth)

    engine.train(loss, [logits], epochs=epochs, learning_rate=learning_rate, rows=K * n)
    m = masks()
    error = change(m).numpy().reshape(K, n)  # eager: a tf.function here would retrace per call
    best = error.min(axis=0)
    ok = error <= best + tolerance
    # Keep ratios are tried smallest first.
    order = np.argsort(keep)
    ok_sorted = ok[order]
    choice = order[np.argmax(ok_sorted, axis=0)]
    out = m.numpy().reshape(K, n, T, F)[choice, np.arange(n)]
    return out.astype(np.float64) * valid[:, :, None]


def extremal_mask(
    model: keras.Model,
    X,
    *,
    epochs: int = 500,
    seed: int = 0,
    target=None,
    size_weight: float = 1.0,
    learning_rate: float = 0.01,
    hidden: int = 32,
) -> np.ndarray:
    """ExtremalMask (Enguehard 2023): ``(n, T, F)`` -> ``(n, T, F)`` in ``[0, 1]``.

    A removed cell takes a learned value from a small network over the whole
    sequence (a bidirectional GRU in time_interpret; here a one-layer
    bidirectional GRU of ``hidden`` units, trained with the masks). The loss is
    the squared change of the explained output plus ``size_weight`` times the
    mean mask (the "preservation" game) plus the mean absolute replacement.
    """
    epochs = check_positive_int(epochs, "epochs")
    seed = check_seed(seed)
    hidden = check_positive_int(hidden, "hidden")
    learning_rate = _check_rate(learning_rate, "learning_rate")
    size_weight = _check_rate(size_weight, "size_weight")
    X, valid, targets, y = _explained(model, X, target)
    n, T, F = X.shape
    if n == 0:
        return np.zeros((0, T, F))
    Xt, Vt = tf.constant(X), tf.constant(valid.astype(np.float32))
    yt, tt = tf.constant(y), tf.constant(targets.astype(np.int32))
    scale = float(np.var(y)) + 1e-6 if n > 1 else 1.0
    init = keras.initializers.GlorotUniform(seed=seed)
    net = keras.Sequential(
        [
            keras.Input((T, F)),
            keras.layers.Bidirectional(
                keras.layers.GRU(hidden, return_sequences=True, kernel_initializer=init,
                                 recurrent_initializer=keras.initializers.Orthogonal(seed=seed))
            ),
            keras.layers.Dense(F, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1)),
        ]
    )
    logits = tf.Variable(np.zeros(X.shape, np.float32))

    def masks():
        return tf.sigmoid(logits) * Vt[:, :, None]

    def loss(progress):
        m = masks()
        keep_all = m + (1.0 - Vt[:, :, None])
        fill = net(Xt, training=False)
        x = keep_all * Xt + (1.0 - keep_all) * fill
        change = tf.square(_output(model, x, tt) - yt) / scale
        cells = tf.reduce_sum(Vt, axis=1) * F
        size = tf.reduce_sum(m, axis=(1, 2)) / cells
        fill_size = tf.reduce_sum(tf.abs(fill) * Vt[:, :, None], axis=(1, 2)) / cells
        return tf.reduce_sum(change + size_weight * size + fill_size)

    engine.train(loss, [logits, *net.trainable_variables], epochs=epochs, learning_rate=learning_rate, rows=n)
    return masks().numpy().astype(np.float64) * valid[:, :, None]
