"""The three levels an attribution can resolve, and the one way to move between them.

Explained in chapter 4 (aggregating SHAP values over time or features) and used
for scoring in chapter 7. Every method returns ``(n, T, F)``; a method that
resolves only time steps or only features broadcasts over the other axis, and
:data:`RESOLUTION` records which it is. :func:`aggregate` sums an axis away and
:func:`broadcast` puts it back. Both take the axis by name (``over="time"`` or
``over="feature"``) and never guess it from a shape, so a square ``T == F``
map cannot come back transposed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: What a map can tell apart: every cell, only time steps, only features.
LEVELS = ("cell", "time", "feature")

#: The axis summed away to reach each level (``None``: nothing, the cell level).
DROPPED = {"cell": None, "time": "feature", "feature": "time"}

_AXIS = {"time": 1, "feature": 2}

#: The one registry of resolutions, keyed by the public function's name. Shapley
#: methods take ``players=`` and resolve what their players are (see :func:`resolution`).
RESOLUTION: dict[str, str] = {
    # helpers.perturbation
    "feature_sensitivity": "feature",
    "occlusion": "cell",
    "mask_time_steps": "time",
    "noise_sensitivity": "cell",
    # helpers.gradients
    "saliency": "cell",
    "input_gradients": "cell",
    "integrated_gradients": "cell",
    # helpers.attention
    "attention_attribution": "time",
    "attention_weights": "time",
    # helpers.shapley (players="cell"; see resolution())
    "exact_shapley": "cell",
    "kernel_shap": "cell",
    "gradient_shap": "cell",
    # helpers.hidden
    "state_change": "time",
    # helpers.lstm_relevance
    "lrp": "cell",
    "cd_scores": "time",
    # helpers.tsr and the reference ordering of helpers.checks
    "temporal_saliency_rescaling": "cell",
    "random_attribution": "cell",
    # helpers.gradients (chapter 9) and helpers.masks
    "timing": "cell",
    "random_point_ig": "cell",
    "dynamask": "cell",
    "extremal_mask": "cell",
}

#: Methods whose maps are unsigned importances (plot sequential from zero, score as is).
UNSIGNED: frozenset[str] = frozenset({"dynamask", "extremal_mask"})


def resolution(method: str | Callable, players: str | None = None) -> str:
    """The level ``method`` (a name or the function) resolves: ``"cell"``, ``"time"`` or ``"feature"``.

    ``players`` (Shapley methods' option) overrides the registry: Shapley values
    over time-step players resolve time, over feature players features.
    """
    name = method if isinstance(method, str) else getattr(method, "__name__", repr(method))
    if name not in RESOLUTION:
        raise ValueError(f"expected a method in RESOLUTION ({', '.join(RESOLUTION)}), got {name!r}")
    if players is None:
        return RESOLUTION[name]
    if players not in LEVELS:
        raise ValueError(f"expected players in {LEVELS}, got {players!r}")
    return players


def _check_over(over) -> str | None:
    if over is not None and over not in _AXIS:
        raise ValueError(f'expected over="time", over="feature" or over=None, got {over!r}')
    return over


def _check_values(values, name: str = "values") -> np.ndarray:
    values = np.asarray(values)
    if values.dtype != bool and (
        not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating)
    ):
        raise ValueError(f"expected {name} of real numbers or booleans, got dtype {values.dtype}")
    if values.dtype != bool and not np.all(np.isfinite(values)):
        bad = int(values.size - np.isfinite(values).sum())
        raise ValueError(f"expected finite {name}, got {bad} NaN or inf entries")
    return values


def aggregate(values: np.ndarray, over: str | None, *, absolute: bool = False) -> np.ndarray:
    """Sum ``(n, T, F)`` over one named axis: ``over="time"`` -> ``(n, F)``, ``"feature"`` -> ``(n, T)``.

    ``over=None`` returns the values (as float64) unchanged. Signed sums keep
    efficiency (they add up to the same total); ``absolute=True`` sums magnitudes,
    so opposite contributions no longer cancel. A boolean mask is reduced with
    ``any`` (a step is relevant if any of its cells is). NaN or inf is a ``ValueError``.
    """
    values = _check_values(values)
    if values.ndim != 3:
        raise ValueError(f"expected values of shape (n, T, F), got shape {values.shape}")
    over = _check_over(over)
    if values.dtype == bool:
        return values.copy() if over is None else values.any(axis=_AXIS[over])
    values = values.astype(np.float64)
    if absolute:
        values = np.abs(values)
    return values if over is None else values.sum(axis=_AXIS[over])


def broadcast(
    values: np.ndarray, shape: tuple[int, int, int], over: str | None, *, share: bool = False
) -> np.ndarray:
    """Put back the axis ``over`` that ``values`` lack: ``(n, T)`` or ``(n, F)`` -> ``shape`` ``(n, T, F)``.

    ``over="feature"`` expects ``(n, T)`` (one value per step, repeated over the
    features); ``over="time"`` expects ``(n, F)``; ``over=None`` expects ``shape``
    itself. The expected shape follows from ``over``, never from ``values``' shape,
    so ``T == F`` is not ambiguous. ``share=True`` splits each value evenly over
    the axis instead of repeating it, so signed sums are kept:
    ``aggregate(broadcast(v, shape, over, share=True), over) == v``.
    """
    values = _check_values(values)
    over = _check_over(over)
    try:
        n, T, F = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"expected shape as (n, T, F), got {shape!r}") from None
    expected = {None: (n, T, F), "feature": (n, T), "time": (n, F)}[over]
    if values.shape != expected:
        raise ValueError(
            f"expected values of shape {expected} for over={over!r} and shape {(n, T, F)}, "
            f"got {values.shape}"
        )
    if values.dtype != bool:
        values = values.astype(np.float64)
    if over is None:
        return values.copy()
    size = F if over == "feature" else T
    if share:
        if values.dtype == bool:
            raise ValueError("expected numeric values with share=True, got a boolean mask")
        values = values / size
    expanded = np.expand_dims(values, _AXIS[over])
    return np.repeat(expanded, size, axis=_AXIS[over])
