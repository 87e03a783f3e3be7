"""Input checks and the contract's resolvers: inputs, baselines, backgrounds, targets.

Explained in chapter 1 (the conventions every method follows). Each error names
what was expected and what was given, so a reader who passes the wrong thing
learns how to fix it. Every attribution method resolves its arguments here, so
all of them accept the same forms.
"""

from __future__ import annotations

import numpy as np

_F32_MAX = float(np.finfo(np.float32).max)

BASELINE_FORMS = (
    '"zeros", "mean" (with reference= data (m, T, F)), a number, a per-feature (F,) array '
    "(the same frame at every step, any T), or an array of shape (T, F), (1, T, F), "
    "(n, T, F) or broadcastable to (T, F)"
)

BACKGROUND_FORMS = (
    "an (m, T, F) array with m >= 1; a list of m (T_i, F) arrays of any lengths (each cut "
    "to the batch's T or padded to it with the model's mask value); or one baseline as "
    'm = 1: "zeros", a number, a per-feature (F,) array (any T), (T, F) or (1, T, F)'
)


def _real_array(X, name: str) -> np.ndarray:
    """``X`` as a float32 array of real, finite numbers within float32's range."""
    try:
        X = np.asarray(X)
    except ValueError as err:  # NumPy's "inhomogeneous shape"
        raise ValueError(
            f"expected {name} as an (n, T, F) array or a list of (T_i, F) arrays, got {err}"
        ) from None
    if X.dtype == object or not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise ValueError(f"expected {name} with real numbers, got dtype {X.dtype}")
    finite = np.isfinite(X)
    if not np.all(finite):
        bad = int(np.size(X) - finite.sum())
        raise ValueError(f"expected finite values in {name}, got {bad} NaN or inf entries")
    if X.dtype.itemsize > 4 and X.size and np.max(np.abs(X)) > _F32_MAX:
        raise ValueError(
            f"expected values in {name} within float32 range (|x| <= {_F32_MAX:.3g}), "
            f"got {float(np.max(np.abs(X))):.3g}: outside float32 range"
        )
    return X.astype(np.float32, copy=False)


def check_sequences(X, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite float32 array of rank 3 ``(n, T, F)``."""
    X = _real_array(X, name)
    if X.ndim != 3:
        raise ValueError(
            f"expected {name} of rank 3 (n_sequences, n_steps, n_features), got rank {X.ndim} "
            f"with shape {X.shape}"
        )
    return X


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int, or raise if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"expected a positive integer for {name}, got {value!r}")
    return int(value)


def check_seed(seed, name: str = "seed") -> int:
    """Return ``seed`` as an int, or raise if it is not a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"expected a non-negative integer for {name}, got {seed!r}")
    return int(seed)


# --- the model's input ---------------------------------------------------------------------


def model_shape(model) -> tuple[int | None, int]:
    """The ``(T, F)`` a Keras model expects; ``T`` is ``None`` for ``keras.Input((None, F))``."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(
            f"expected a built Keras model taking (n, T, F) sequences, got {type(model).__name__} "
            "without inputs (start it with keras.Input((T, F)))"
        )
    if len(inputs) != 1:
        shapes = [tuple(i.shape) for i in inputs]
        raise ValueError(f"expected a model with one (n, T, F) input, got {len(inputs)} inputs {shapes}")
    shape = tuple(inputs[0].shape)
    if len(shape) != 3 or shape[2] is None:
        raise ValueError(f"expected a model taking (n, T, F) sequences, got input shape {shape}")
    outputs = getattr(model, "outputs", None) or []
    if len(outputs) > 1:
        raise ValueError(f"expected a model with one output tensor, got {len(outputs)}")
    return (None if shape[1] is None else int(shape[1])), int(shape[2])


def _layers(model) -> list:
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found.extend(_layers(layer))
    return found


def mask_value(model) -> float | None:
    """The ``mask_value`` of the model's ``Masking`` layer, or ``None`` if it has none."""
    import keras

    for layer in _layers(model):
        if isinstance(layer, keras.layers.Masking):
            return float(layer.mask_value)
    return None


_model_mask = mask_value


def _pad_ragged(X, T: int | None, fill: float, name: str) -> np.ndarray:
    rows = [_real_array(x, f"{name}[{i}]") for i, x in enumerate(X)]
    for i, x in enumerate(rows):
        if x.ndim != 2:
            raise ValueError(f"expected each {name}[i] of shape (T_i, F), got {name}[{i}] of shape {x.shape}")
    if len({x.shape[1] for x in rows}) > 1:
        raise ValueError(f"expected one feature count F in {name}, got {sorted({x.shape[1] for x in rows})}")
    longest = max(x.shape[0] for x in rows)
    T = longest if T is None else T
    if longest > T:
        raise ValueError(f"expected sequences of at most T = {T} steps for this model, got {longest}")
    out = np.full((len(rows), T, rows[0].shape[1]), fill, np.float32)
    for i, x in enumerate(rows):
        out[i, : x.shape[0]] = x
    return out


def _is_ragged(X) -> bool:
    if not isinstance(X, (list, tuple)) or not X:
        return False
    shapes = {np.shape(x) for x in X}
    return len(shapes) > 1


def format_inputs(model, X, name: str = "X") -> tuple[np.ndarray, np.ndarray]:
    """``X`` as float32 ``(n, T, F)`` and ``valid`` bool ``(n, T)`` (False on padded steps).

    ``X`` is an ``(n, T, F)`` array or a list of ``(T_i, F)`` arrays; a ragged list is
    padded with the model's ``Masking`` ``mask_value`` (to the model's ``T``, or the
    longest ``T_i`` for ``keras.Input((None, F))``). With a ``Masking`` layer, steps
    whose features all equal ``mask_value`` are padded; without one, every step is valid.
    """
    T, F = model_shape(model)
    fill = mask_value(model)
    if _is_ragged(X):
        if fill is None:
            lengths = sorted({np.shape(x)[0] if np.ndim(x) else 0 for x in X})
            raise ValueError(
                f"expected {name} of equal-length sequences for a model without a Masking layer, "
                f"got lengths {lengths[:8]}; add keras.layers.Masking(mask_value) after the input "
                "or pad the sequences yourself"
            )
        X = _pad_ragged(X, T, fill, name)
    X = check_sequences(X, name)
    if X.shape[2] != F or (T is not None and X.shape[1] != T):
        expected = f"(n, {'T' if T is None else T}, {F})"
        raise ValueError(f"expected {name} of shape {expected} for this model, got {X.shape}")
    if fill is None:
        valid = np.ones(X.shape[:2], bool)
    else:
        valid = np.any(X != np.float32(fill), axis=2)
    return X, valid


def check_model_input(model, X, name: str = "X") -> np.ndarray:
    """Check ``X`` is finite ``(n, T, F)`` with the ``T`` and ``F`` the model takes (ragged lists padded)."""
    return format_inputs(model, X, name)[0]


# --- baselines, backgrounds, targets -------------------------------------------------------


def _bad_baseline(given: str) -> ValueError:
    return ValueError(f"expected a baseline: {BASELINE_FORMS}; got {given}")


def resolve_baseline(baseline, X: np.ndarray, reference=None, valid=None) -> np.ndarray:
    """One baseline per sample: float32 ``(n, T, F)`` for ``X`` ``(n, T, F)``.

    ``baseline``: see ``BASELINE_FORMS``. With ``valid`` ``(n, T)``, padded steps take
    ``X``'s own values, so no method ever perturbs them.
    """
    X = np.asarray(X)
    n, T, F = X.shape
    if isinstance(baseline, str):
        if baseline == "zeros":
            B = np.zeros((T, F), np.float32)
        elif baseline == "mean":
            B = _mean_of(reference, T, F)
        else:
            raise _bad_baseline(f"the string {baseline!r}")
    elif baseline is None:
        raise _bad_baseline("None (baselines are explicit arguments)")
    elif isinstance(baseline, bool):
        raise _bad_baseline(f"the bool {baseline!r}")
    else:
        B = _real_array(baseline, "baseline")
        if B.shape not in ((n, T, F), (1, T, F)):
            try:
                B = np.broadcast_to(B, (T, F))
            except ValueError:
                raise _bad_baseline(f"shape {B.shape} for X of shape {X.shape}") from None
    B = np.broadcast_to(B, (n, T, F)).astype(np.float32)
    if valid is not None:
        B = np.where(np.asarray(valid)[:, :, None], B, X).astype(np.float32)
    return B


def _mean_of(reference, T: int, F: int) -> np.ndarray:
    if reference is None:
        raise ValueError('expected reference data (m, T, F) with baseline="mean", got reference=None')
    ref = check_sequences(reference, "reference")
    if ref.shape[0] == 0 or ref.shape[1:] != (T, F):
        raise ValueError(
            f'expected reference of shape (m, {T}, {F}) with m >= 1 for baseline="mean", '
            f"got reference of shape {ref.shape}"
        )
    return ref.mean(axis=0).astype(np.float32)


def _bad_background(given: str, T: int | None, F: int) -> ValueError:
    shape = f"(m, {'T' if T is None else T}, {F})"
    return ValueError(f"expected background of shape {shape}: {BACKGROUND_FORMS}; got {given}")


def _ragged_background(rows, T: int | None, F: int, fill: float) -> np.ndarray:
    """Each ``(T_i, F)`` row cut to ``T`` or padded to it with ``fill``: ``(m, T, F)``."""
    rows = [_real_array(x, f"background[{i}]") for i, x in enumerate(rows)]
    bad = [x.shape for x in rows if x.shape[1:] != (F,) or x.shape[0] == 0]
    if bad:
        raise _bad_background(f"a list with a row of shape {bad[0]}", T, F)
    T = max(x.shape[0] for x in rows) if T is None else T
    out = np.full((len(rows), T, F), fill, np.float32)
    for i, x in enumerate(rows):
        out[i, : min(T, len(x))] = x[:T]
    return out


def resolve_background(background, model_or_shape, *, mask_value: float | None = None) -> np.ndarray:
    """Reference rows for methods that average over them: float32 ``(m, T, F)``, ``m >= 1``.

    ``background``: see ``BACKGROUND_FORMS``. ``model_or_shape``: the model, or the
    batch's ``(T, F)`` (which any-length models need for every form but arrays and
    lists). Real sequences of different lengths can be a background as a list: a row
    longer than ``T`` keeps its first ``T`` steps, a shorter one is padded with
    ``mask_value`` (default: the model's ``Masking`` value, else 0.0). For a masked
    model a padded background step is an absent step, so a method that replaces a
    whole step by it removes the step; cell- and feature-level replacements should
    keep the sequence's own value there (:func:`background_steps` says where).
    """
    if isinstance(model_or_shape, tuple):
        T, F = model_or_shape
        fill = 0.0 if mask_value is None else float(mask_value)
    else:
        T, F = model_shape(model_or_shape)
        own = _model_mask(model_or_shape)  # the keyword shadows mask_value()
        fill = float(mask_value if mask_value is not None else (own if own is not None else 0.0))
    if isinstance(background, (list, tuple)) and background and all(np.ndim(x) == 2 for x in background):
        return _ragged_background(background, T, F, fill)
    if isinstance(background, str) or background is None or isinstance(background, bool):
        if background != "zeros":
            raise _bad_background(repr(background), T, F)
        B = np.zeros((1, 1, F), np.float32)
    else:
        B = _real_array(background, "background")
        if B.ndim == 3:
            if B.shape[0] == 0 or B.shape[2] != F or (T is not None and B.shape[1] != T):
                raise _bad_background(f"shape {B.shape}", T, F)
            return B
        if B.shape in ((), (F,)):
            B = np.broadcast_to(B, (1, 1, F))
        elif T is not None and B.shape == (T, F):
            B = B[None]
        else:
            raise _bad_background(f"shape {B.shape}", T, F)
    if T is None:
        raise _bad_background(
            f"{background!r}, which needs the batch's length: pass (T, F), an (m, T, F) array "
            "or a list of (T_i, F) arrays",
            T,
            F,
        )
    return np.broadcast_to(B, (B.shape[0], T, F)).astype(np.float32)


def background_steps(background: np.ndarray, mask_value: float | None) -> np.ndarray:
    """Real steps of a resolved ``(m, T, F)`` background: bool ``(m, T)`` (False where padded)."""
    B = np.asarray(background)
    if mask_value is None:
        return np.ones(B.shape[:2], bool)
    return np.any(B != np.float32(mask_value), axis=2)


def output_width(model) -> int | None:
    """Outputs per sequence ``K`` from the model's static output shape (``None`` if unknown)."""
    shape = tuple(model.outputs[0].shape)[1:]
    if any(s is None for s in shape):
        return None
    return int(np.prod(shape, dtype=np.int64))


def _forward_call(model, shape: tuple[int, int]):
    # Imported here so that checking inputs (helpers.data) does not load TensorFlow.
    import tensorflow as tf

    from helpers import engine

    def make(x):
        out = model(x, training=False)
        return tf.reshape(out, (tf.shape(out)[0], -1))

    return engine.compiled(model, "forward", shape, make)


def evaluate(model, X: np.ndarray) -> np.ndarray:
    """All outputs ``(n, K)`` float64 for an already checked float32 ``X`` ``(n, T, F)`` (counted).

    The one forward pass (chapter 1). It lives beside :func:`resolve_target`, which
    needs the outputs for ``target="predicted"``, so that neither module imports the other.
    """
    from helpers import engine

    call = _forward_call(model, X.shape[1:])
    parts = [(start, out.numpy()[:m]) for start, m, out in engine.run(call, X, count="rows")]
    if not parts:
        return np.zeros((0, output_width(model) or 0))
    return np.concatenate([p for _, p in parts]).astype(np.float64)


def resolve_target(model, X: np.ndarray, target) -> np.ndarray:
    """The explained output of each sample: int ``(n,)`` in ``[0, K)``.

    ``target``: ``None`` (a model with one output), an int, ``"predicted"`` (the argmax
    of the model's outputs per sample) or an int array ``(n,)``.
    """
    n = X.shape[0]
    K = output_width(model)
    shape = tuple(model.outputs[0].shape)
    if K is None:
        K = evaluate(model, format_inputs(model, X[:1])[0]).shape[1] if n else None
    choices = f'an int in [0, {K}), "predicted" (argmax per sample) or an int array (n,)'
    if target is None:
        if K not in (1, None):
            raise ValueError(f"expected target= for a model with output shape {shape} ({K} outputs): {choices}")
        return np.zeros(n, np.int64)
    if isinstance(target, str):
        if target != "predicted":
            raise ValueError(f"expected target: {choices}; got the string {target!r}")
        return evaluate(model, format_inputs(model, X)[0]).argmax(axis=1) if n else np.zeros(0, np.int64)
    if isinstance(target, bool) or np.asarray(target).dtype == bool:
        raise ValueError(f"expected target: {choices}; got {target!r}")
    t = np.asarray(target)
    if not np.issubdtype(t.dtype, np.integer) or t.ndim > 1 or (t.ndim == 1 and t.shape != (n,)):
        raise ValueError(f"expected target: {choices}; got {target!r} (dtype {t.dtype}, shape {t.shape})")
    if K is not None and t.size and (t.min() < 0 or t.max() >= K):
        raise ValueError(f"expected target in [0, {K}) for output shape {shape}, got {target!r}")
    return np.broadcast_to(t, (n,)).astype(np.int64)


def resolve_inputs(model, X, target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What every method starts from: ``X`` float32 ``(n, T, F)``, ``valid`` ``(n, T)``, targets ``(n,)``."""
    X, valid = format_inputs(model, X)
    return X, valid, resolve_target(model, X, target)
