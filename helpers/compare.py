"""The line-up of chapter 7: every method as ``explain(model, X) -> (n, T, F)``, and its cost.

Explained in chapter 7 (which explanation to trust). Each method of chapters 2-5
is wrapped with explicit settings so that all of them can be scored the same
way (:mod:`helpers.evaluation`) and timed the same way (:func:`measure`), in the
chapter and in ``benchmarks/bench_costs.py``. Methods that answer at a coarser
level (one number per step, or per feature) are broadcast to ``(n, T, F)``, so
their maps tie across the other axis.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from helpers import attention, evaluation, gradients, hidden, models, perturbation, shapley
from helpers.validation import check_baseline, check_sequences

RESOLUTIONS = ("cell", "time", "feature")


@dataclass(frozen=True)
class Method:
    """One attribution method with its settings fixed.

    ``resolution``: what it can tell apart (``"cell"``, ``"time"``, ``"feature"``).
    ``gradients``: gradient passes per explanation; ``passes``: other model passes per
    explanation that do not go through :func:`helpers.models.forward` (which counts its
    own rows). ``needs_attention``: only for models with an attention layer.
    """

    name: str
    explain: Callable[[object, np.ndarray], np.ndarray]
    resolution: str = "cell"
    gradients: int = 0
    passes: int = 0
    needs_attention: bool = False


@dataclass(frozen=True)
class Cost:
    """Cost per explained sequence: forward rows (counted), gradient and other passes, seconds."""

    forward: float
    gradients: float
    passes: float
    seconds: float

    @property
    def evaluations(self) -> float:
        """All model evaluations per explanation (a gradient pass counts as one)."""
        return self.forward + self.gradients + self.passes


def expand(values: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Broadcast ``(n, T)`` (per step) or ``(n, F)`` (per feature) values to ``(n, T, F)``."""
    values = np.asarray(values, dtype=np.float64)
    n, T, F = shape
    if values.shape == (n, T, F):
        return values
    if values.shape == (n, T):
        return np.repeat(values[:, :, None], F, axis=2)
    if values.shape == (n, F):
        return np.repeat(values[:, None, :], T, axis=1)
    raise ValueError(f"expected values of shape {(n, T, F)}, {(n, T)} or {(n, F)}, got {values.shape}")


def lineup(
    reference: np.ndarray,
    baseline="mean",
    ig_steps: int = 32,
    background_size: int = 10,
    kernel_nsamples: int = 512,
    gradient_nsamples: int = 64,
    exact: bool = False,
    seed: int = 0,
) -> dict[str, Method]:
    """The methods of chapters 2-5 with explicit settings, keyed by display name.

    ``reference`` ``(m, T, F)`` is training data (the models' standardised inputs): it
    gives the baseline (``"mean"``), the per-feature scale of the additive feature
    perturbation, and the ``background_size`` rows (drawn with ``seed``) that the
    Shapley methods integrate over. ``exact=True`` adds exact Shapley values (only
    for ``T * F <= 16``).
    """
    ref = check_sequences(reference, "reference")
    B = check_baseline(baseline, ref[:1], ref)
    scale = ref.reshape(-1, ref.shape[2]).std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    rows = np.random.default_rng(seed).choice(len(ref), size=min(background_size, len(ref)), replace=False)
    background = ref[np.sort(rows)]

    def feature_sensitivity(model, X):
        out = perturbation.feature_sensitivity(model, X, size=0.1, mode="additive", scale=scale)
        return expand(out, X.shape)

    methods = [
        Method("feature sensitivity", feature_sensitivity, resolution="feature"),
        Method("occlusion", lambda m, X: perturbation.occlusion(m, X, B)),
        Method(
            "time-step masking",
            lambda m, X: expand(perturbation.mask_time_steps(m, X, B), X.shape),
            resolution="time",
        ),
        Method("saliency", lambda m, X: gradients.saliency(m, X), gradients=1),
        Method(
            "integrated gradients",
            lambda m, X: gradients.integrated_gradients(m, X, B, steps=ig_steps),
            gradients=ig_steps,
        ),
        Method(
            "attention",
            lambda m, X: expand(attention.attention_weights(m, X), X.shape),
            resolution="time",
            passes=1,
            needs_attention=True,
        ),
        Method(
            "KernelSHAP",
            lambda m, X: shapley.kernel_shap(m, X, background, nsamples=kernel_nsamples, seed=seed).values,
        ),
        Method(
            "GradientSHAP",
            lambda m, X: shapley.gradient_shap(m, X, background, nsamples=gradient_nsamples, seed=seed),
            gradients=gradient_nsamples,
        ),
        Method(
            "hidden-state change",
            lambda m, X: expand(hidden.state_change(hidden.hidden_states(m, X)), X.shape),
            resolution="time",
            passes=1,
        ),
        Method("random", lambda m, X: evaluation.random_attribution(X.shape, seed)),
    ]
    if exact:
        methods.insert(
            7, Method("exact Shapley", lambda m, X: shapley.exact_shapley(m, X, background))
        )
    return {m.name: m for m in methods}


def measure(method: Method, model, X: np.ndarray, warmup: bool = True) -> tuple[np.ndarray, Cost]:
    """Run ``method`` on ``X`` ``(n, T, F)``; return the attribution and its :class:`Cost` per sequence.

    ``warmup`` first explains one sequence, so one-off tracing is not charged to the method.
    """
    X = np.asarray(X, dtype=np.float32)
    if warmup:
        method.explain(model, X[:1])
    n = X.shape[0]
    start = time.perf_counter()
    with models.count_evaluations() as counter:
        values = method.explain(model, X)
    seconds = time.perf_counter() - start
    values = np.asarray(values, dtype=np.float64)
    if values.shape != X.shape:
        raise ValueError(f"expected {method.name} to return shape {X.shape}, got {values.shape}")
    return values, Cost(counter.rows / n, float(method.gradients), float(method.passes), seconds / n)
