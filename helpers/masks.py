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
from helpers.validation import check_positive_int, check_seed, format_inputs, resolve_inputs


def _check_rate(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"expected {name} a positive finite number, got {value!r}")
    return float(value)


def _check_choice(value, name: str, choices: tuple) -> object:
    if not any(value is c or (type(value) is type(c) and value == c) for c in choices):
        raise ValueError(f"expected {name} one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _check_keep(keep) -> list[float]:
    values = [keep] if isinstance(keep, (int, float)) and not isinstance(keep, bool) else keep
    try:
        values = [float(k) for k in values]
    except (TypeError, ValueError):
        raise ValueError(f"expected keep a number in (0, 1) or a list of them, got {keep!r}") from None
    if not values or any(not (0.0 < k < 1.0) for k in values):
        raise ValueError(f"expected keep a number in (0, 1) or a list of them, got {keep!r}")
    return values


def _check_tolerance(tolerance) -> float | None:
    if tolerance is None:
        return None
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not (0 <= tolerance < np.inf):
        raise ValueError(f"expected tolerance None or a non-negative finite number, got {tolerance!r}")
    return float(tolerance)


def _output(model, x, targets):
    """The kept outputs, ``(rows, K)``: every output when ``targets`` is None, else the explained one (K = 1)."""
    out = model(x, training=False)
    out = tf.reshape(out, (tf.shape(out)[0], -1))
    if targets is None:
        return out
    return tf.gather(out, targets, axis=1, batch_dims=1)[:, None]


def _explained(model, X, target):
    """``X`` float32 ``(n, T, F)``, ``valid`` ``(n, T)``, targets ``(n,)`` (None for ``"all"``), kept outputs ``(n, K)``."""
    if isinstance(target, str) and target == "all":
        X, valid = format_inputs(model, X)
        y = evaluate(model, X).astype(np.float32) if len(X) else np.zeros((0, 1), np.float32)
        return X, valid, None, y
    X, valid, targets = resolve_inputs(model, X, target)
    y = pick(evaluate(model, X), targets).astype(np.float32) if len(X) else np.zeros(0, np.float32)
    return X, valid, targets, y[:, None]


def _scale(y: np.ndarray, relative: bool) -> float:
    """What the squared change is divided by: the outputs' variance if ``relative`` (and n > 1), else 1."""
    return float(np.var(y)) + 1e-6 if relative and len(y) > 1 else 1.0


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


def _windows(X: np.ndarray, valid: np.ndarray, window: int) -> list[tuple[float, tf.Tensor, tf.Tensor]]:
    """What :func:`_blur_window` needs, made once: for each offset ``d = 0 .. window``, ``d^2``
    and the summed values and weights of the steps ``d`` before and after, ``(n, T, F)`` each."""
    T = X.shape[1]
    pad = [[0, 0], [window, window], [0, 0]]
    Vp = np.pad(np.broadcast_to(valid[:, :, None], X.shape).astype(np.float32), pad)
    Xp = np.pad(X, pad) * Vp
    out = []
    for d in range(window + 1):
        lo, hi = slice(window - d, window - d + T), slice(window + d, window + d + T)
        values, weights = (Xp[:, lo] + Xp[:, hi], Vp[:, lo] + Vp[:, hi]) if d else (Xp[:, lo], Vp[:, lo])
        out.append((float(d * d), tf.constant(values), tf.constant(weights)))
    return out


def _blur_window(windows: list[tuple[float, tf.Tensor, tf.Tensor]], sigma: tf.Tensor) -> tf.Tensor:
    """:func:`_blur` over the steps within ``window`` of each cell only: ``(n, T, F)`` -> ``(n, T, F)``.

    At ``window >= 5 sigma`` the weights left out are below 4e-6 of the centre's.
    A step ``d`` before and ``d`` after share a weight, so each offset costs one ``exp``.
    """
    inverse = -1.0 / (2.0 * tf.square(sigma))
    (_, num, den), *rest = windows
    for d2, values, weights in rest:
        w = tf.exp(d2 * inverse)
        num, den = num + w * values, den + w * weights
    return num / (den + 1e-12)


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
    tolerance: float | None = 0.1,
    relative: bool = True,
    init: str = "sigmoid",
    blur: str = "mix",
) -> np.ndarray:
    """Dynamask (Crabbé & van der Schaar 2021): ``(n, T, F)`` -> ``(n, T, F)`` in ``[0, 1]``.

    A removed cell is replaced by a Gaussian blur over time of width
    ``sigma_max * (1 - m)``: mixed in as ``m x + (1 - m) blur`` (``blur="mix"``)
    or, as in the paper and time_interpret, replacing the cell outright
    (``blur="replace"``; at ``m = 1`` the blur is the cell itself). The loss is
    the mean squared change of the kept outputs (the explained one, or every
    output with ``target="all"``), divided by their variance if ``relative``,
    plus ``area_weight * ||sort(m) - r_keep||^2 / N`` (the paper's area
    regulariser; its weight grows by ``area_dilation`` over training) plus
    ``smooth_weight`` times the total variation over time. ``init="sigmoid"``
    trains logits of the mask (starting at 0.5); ``init="clip"`` trains the mask
    itself from 0.5, clipped to ``[0, 1]`` after every step (time_interpret).
    With several ``keep`` ratios all masks train together; each sample gets the
    smallest ratio whose error is within ``tolerance`` of its best (relative to
    the outputs' spread), the paper's "extremal" choice; ``tolerance=None``
    gives every sample the one ratio with the least summed error
    (time_interpret's choice).
    """
    keep = _check_keep(keep)
    epochs = check_positive_int(epochs, "epochs")
    seed = check_seed(seed)
    learning_rate = _check_rate(learning_rate, "learning_rate")
    sigma_max = _check_rate(sigma_max, "sigma_max")
    tolerance = _check_tolerance(tolerance)
    relative = _check_choice(relative, "relative", (True, False))
    init = _check_choice(init, "init", ("sigmoid", "clip"))
    blur = _check_choice(blur, "blur", ("mix", "replace"))
    X, valid, targets, y = _explained(model, X, target)
    n, T, F = X.shape
    if n == 0:
        return np.zeros((0, T, F))
    K = len(keep)
    Xk, Vk = np.tile(X, (K, 1, 1)), np.tile(valid.astype(np.float32), (K, 1))
    ratio = np.repeat(np.asarray(keep, np.float32), n)
    size = Vk.sum(axis=1) * F  # valid cells per row
    kept = np.round(ratio * size)
    top = max(int(kept.max()), 1)
    in_top = tf.constant((np.arange(top)[None, :] < kept[:, None]).astype(np.float32))  # (rows, top)
    kept_t = tf.constant(kept.astype(np.float32))
    Xt, Vt = tf.constant(Xk), tf.constant(Vk)
    yt = tf.constant(np.tile(y, (K, 1)))
    tt = None if targets is None else tf.constant(np.tile(targets, K).astype(np.int32))
    rng = np.random.default_rng(seed)
    if init == "sigmoid":
        values = tf.Variable(rng.normal(0.0, 0.01, Xk.shape).astype(np.float32))
    else:
        values = tf.Variable(np.full(Xk.shape, 0.5, np.float32))
    scale = _scale(y, relative)
    if blur == "replace":  # time_interpret's kernel, cut at 5 widths
        windows = _windows(Xk, Vk, min(int(np.ceil(5.0 * sigma_max)), T - 1))

    def masks():
        m = tf.sigmoid(values) if init == "sigmoid" else values
        return m * Vt[:, :, None]

    def change(m):
        # Padded steps are kept at their value (mask 1 inside the perturbation).
        keep_all = m + (1.0 - Vt[:, :, None])
        if blur == "mix":
            x = keep_all * Xt + (1 - keep_all) * _blur(Xt, Vt, sigma_max * (1.0 - m) + 1e-3)
        else:
            blurred = _blur_window(windows, sigma_max * (1.0 + 1e-7 - m))
            x = Vt[:, :, None] * blurred + (1.0 - Vt[:, :, None]) * Xt
        return tf.reduce_mean(tf.square(_output(model, x, tt) - yt), axis=1) / scale

    def loss(progress):
        m = masks()
        flat = tf.reshape(m, (tf.shape(m)[0], -1))
        # ||sort(m) - r||^2 with r = 1 on the `kept` largest: sum m^2 - 2 (sum of those) + kept,
        # so only the top `kept` values are needed (a full sort costs more than the model).
        largest = tf.math.top_k(flat, k=top, sorted=True).values
        area = (tf.reduce_sum(tf.square(flat), axis=1) - 2.0 * tf.reduce_sum(largest * in_top, axis=1) + kept_t) / size
        smooth = tf.reduce_sum(tf.abs(m[:, 1:] - m[:, :-1]), axis=(1, 2)) / size
        weight = area_weight * tf.pow(area_dilation, progress)
        return tf.reduce_sum(change(m) + weight * area + smooth_weight * smooth)

    def clip():
        values.assign(tf.clip_by_value(values, 0.0, 1.0))

    engine.train(loss, [values], epochs=epochs, learning_rate=learning_rate, rows=K * n,
                 after_step=clip if init == "clip" else None)
    m = masks()
    error = change(m).numpy().reshape(K, n)  # eager: a tf.function here would retrace per call
    if tolerance is None:
        choice = np.full(n, np.argmin(error.sum(axis=1)))
    else:
        ok = error <= error.min(axis=0) + tolerance
        order = np.argsort(keep)  # keep ratios are tried smallest first
        choice = order[np.argmax(ok[order], axis=0)]
    out = m.numpy().reshape(K, n, T, F)[choice, np.arange(n)]
    return out.astype(np.float64) * valid[:, :, None]


def _replacement_net(T: int, F: int, hidden: int, seed: int, *, unit_norm: bool) -> keras.Model:
    """A bidirectional GRU of ``hidden`` units then a linear layer: ``(n, T, F) -> (n, T, F)``.

    ``unit_norm`` scales the GRU's output to unit length per step, as time_interpret's ``RNN``.
    """
    init = keras.initializers.GlorotUniform(seed=seed)
    layers = [
        keras.Input((T, F)),
        keras.layers.Bidirectional(
            keras.layers.GRU(hidden, return_sequences=True, kernel_initializer=init,
                             recurrent_initializer=keras.initializers.Orthogonal(seed=seed))
        ),
    ]
    if unit_norm:
        layers.append(keras.layers.UnitNormalization(axis=-1))
    layers.append(keras.layers.Dense(F, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1)))
    return keras.Sequential(layers)


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
    network: str = "fill",
    relative: bool = True,
) -> np.ndarray:
    """ExtremalMask (Enguehard 2023): ``(n, T, F)`` -> ``(n, T, F)`` in ``[0, 1]``.

    A small network over the whole sequence (a bidirectional GRU of ``hidden``
    units and a linear layer) trains with the masks. ``network="fill"``: the
    mask is a sigmoid of logits and a removed cell takes the network's value;
    the loss adds the mean absolute replacement. ``network="mask"``
    (time_interpret at commit ba93221): the mask is ``clip(p + net(x), 0, 1)``
    with ``p`` starting at 0.5, the GRU's output scaled to unit length, and a
    removed cell is replaced by 0. Both minimise the mean squared change of the
    kept outputs (the explained one, or every output with ``target="all"``;
    divided by their variance if ``relative``) plus ``size_weight`` times the
    mean mask (the "preservation" game).
    """
    epochs = check_positive_int(epochs, "epochs")
    seed = check_seed(seed)
    hidden = check_positive_int(hidden, "hidden")
    learning_rate = _check_rate(learning_rate, "learning_rate")
    size_weight = _check_rate(size_weight, "size_weight")
    network = _check_choice(network, "network", ("fill", "mask"))
    relative = _check_choice(relative, "relative", (True, False))
    X, valid, targets, y = _explained(model, X, target)
    n, T, F = X.shape
    if n == 0:
        return np.zeros((0, T, F))
    Xt, Vt = tf.constant(X), tf.constant(valid.astype(np.float32))
    yt = tf.constant(y)
    tt = None if targets is None else tf.constant(targets.astype(np.int32))
    scale = _scale(y, relative)
    net = _replacement_net(T, F, hidden, seed, unit_norm=network == "mask")
    cells = tf.reduce_sum(Vt, axis=1) * F
    if network == "fill":
        values = tf.Variable(np.zeros(X.shape, np.float32))
    else:
        values = tf.Variable(np.full(X.shape, 0.5, np.float32))

    def raw():
        return tf.sigmoid(values) if network == "fill" else values + net(Xt, training=False)

    def masks():
        r = raw()
        m = r if network == "fill" else tf.clip_by_value(r, 0.0, 1.0)
        return m * Vt[:, :, None], r

    def loss(progress):
        m, r = masks()
        keep_all = m + (1.0 - Vt[:, :, None])
        if network == "fill":
            fill = net(Xt, training=False)
            x = keep_all * Xt + (1.0 - keep_all) * fill
            extra = tf.reduce_sum(tf.abs(fill) * Vt[:, :, None], axis=(1, 2)) / cells
        else:
            x, extra = keep_all * Xt, 0.0
        change = tf.reduce_mean(tf.square(_output(model, x, tt) - yt), axis=1) / scale
        size = tf.reduce_sum(tf.abs(r) * Vt[:, :, None], axis=(1, 2)) / cells
        return tf.reduce_sum(change + size_weight * size + extra)

    engine.train(loss, [values, *net.trainable_variables], epochs=epochs, learning_rate=learning_rate, rows=n)
    return masks()[0].numpy().astype(np.float64) * valid[:, :, None]
