"""Input checks shared by every helper: clear ``ValueError`` messages.

Each message names what was expected and what was given, so a reader who passes
the wrong thing learns how to fix it (chapter 1 shows the conventions).
"""

from __future__ import annotations

import numpy as np


def check_sequences(X, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite float32 array of rank 3 ``(n, T, F)``."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(
            f"expected {name} of rank 3 (n_sequences, n_steps, n_features), got rank {X.ndim} "
            f"with shape {X.shape}"
        )
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"expected {name} with real numbers, got dtype {X.dtype}")
    X = X.astype(np.float32, copy=False)
    if not np.all(np.isfinite(X)):
        bad = int(np.size(X) - np.isfinite(X).sum())
        raise ValueError(f"expected finite values in {name}, got {bad} NaN or inf entries")
    return X


def model_shape(model) -> tuple[int, int]:
    """The ``(T, F)`` a Keras model expects, read from its input."""
    shape = tuple(model.inputs[0].shape) if getattr(model, "inputs", None) else None
    if shape is None or len(shape) != 3:
        raise ValueError(f"expected a model taking (n, T, F) sequences, got input shape {shape}")
    return int(shape[1]), int(shape[2])


def check_model_input(model, X, name: str = "X") -> np.ndarray:
    """Check ``X`` is finite ``(n, T, F)`` with the ``T`` and ``F`` the model takes."""
    X = check_sequences(X, name)
    expected = model_shape(model)
    if X.shape[1:] != expected:
        raise ValueError(
            f"expected {name} of shape (n, {expected[0]}, {expected[1]}) for this model, "
            f"got {X.shape}"
        )
    return X


def check_baseline(baseline, X: np.ndarray, reference=None) -> np.ndarray:
    """Resolve an explicit baseline to a float32 array of shape ``(T, F)`` or ``(n, T, F)``.

    ``baseline`` is ``"zeros"``, ``"mean"`` (needs ``reference`` data, ``(m, T, F)``),
    a number, or an array broadcastable to ``(T, F)`` or matching ``X``'s shape.
    """
    n, T, F = X.shape
    if isinstance(baseline, str):
        if baseline == "zeros":
            return np.zeros((T, F), np.float32)
        if baseline == "mean":
            if reference is None:
                raise ValueError('expected reference data (m, T, F) with baseline="mean", got None')
            ref = check_sequences(reference, "reference")
            if ref.shape[1:] != (T, F):
                raise ValueError(f"expected reference of shape (m, {T}, {F}), got {ref.shape}")
            return ref.mean(axis=0).astype(np.float32)
        raise ValueError(
            f'expected baseline "zeros", "mean", a number or an array, got the string {baseline!r}'
        )
    if baseline is None:
        raise ValueError('expected an explicit baseline ("zeros", "mean", a number or an array), got None')
    b = np.asarray(baseline, dtype=np.float32)
    if not np.all(np.isfinite(b)):
        raise ValueError("expected a finite baseline, got NaN or inf")
    if b.shape == X.shape:
        return b
    try:
        return np.broadcast_to(b, (T, F)).astype(np.float32)
    except ValueError:
        raise ValueError(
            f"expected a baseline broadcastable to (T, F) = ({T}, {F}) or of shape {X.shape}, "
            f"got shape {b.shape}"
        ) from None


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int, or raise if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"expected a positive integer for {name}, got {value!r}")
    return int(value)
