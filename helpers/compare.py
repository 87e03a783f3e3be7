"""The line-up of chapter 7: every method as ``explain(model, X) -> (n, T, F)``, and its cost.

Explained in chapter 7 (which explanation to trust). Each method of chapters 2-6
is wrapped with explicit settings so that all of them can be scored the same
way (:mod:`helpers.scores`, :mod:`helpers.checks`) and timed the same way (:func:`measure`), in the
chapter and in ``benchmarks/bench_costs.py``. Every method returns ``(n, T, F)``
itself (coarser ones broadcast, see :mod:`helpers.levels`); forward and gradient
rows are counted by the engine. LRP and contextual decomposition (chapter 6) unroll
the LSTM in NumPy, outside the engine: their passes are declared in :class:`Method`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from helpers import (
    attention,
    engine,
    gradients,
    hidden,
    levels,
    lstm_relevance,
    perturbation,
    shapley,
)
from helpers.scores import random_attribution
from helpers.validation import check_positive_int, check_sequences, resolve_baseline


@dataclass(frozen=True)
class Method:
    """One attribution method with its settings fixed: ``explain(model, X) -> (n, T, F)``.

    ``resolution``: what it can tell apart (``"cell"``, ``"time"``, ``"feature"``; see
    :data:`helpers.levels.RESOLUTION`). ``passes``: model passes per explanation that
    the engine does not count (attention weights, hidden states, NumPy unrolls), a
    number or a function of ``X``'s shape ``(n, T, F)``. ``needs_attention``: only for
    models with an attention layer; ``lstm_only``: only for the LSTM + Dense read-out
    models that :mod:`helpers.lstm_relevance` supports (see :meth:`supports`).
    """

    name: str
    explain: Callable[[object, np.ndarray], np.ndarray]
    resolution: str = "cell"
    passes: float | Callable[[tuple[int, int, int]], float] = 0
    needs_attention: bool = False
    lstm_only: bool = False

    def passes_for(self, shape: tuple[int, int, int]) -> float:
        """Uncounted model passes per explanation of inputs of ``shape`` ``(n, T, F)``."""
        return float(self.passes(tuple(shape)) if callable(self.passes) else self.passes)

    def supports(self, model) -> bool:
        """Whether ``explain`` can run on ``model`` (an attention layer; LSTM + Dense for LRP/CD)."""
        has_attention = any(isinstance(layer, attention.AttentionPooling) for layer in model.layers)
        if self.needs_attention and not has_attention:
            return False
        return not self.lstm_only or lstm_relevance.supports(model)


@dataclass(frozen=True)
class Cost:
    """Cost per explained sequence: forward rows and gradient rows (both counted), other passes, seconds."""

    forward: float
    gradients: float
    passes: float
    seconds: float

    @property
    def evaluations(self) -> float:
        """All model evaluations per explanation (a gradient row counts as one)."""
        return self.forward + self.gradients + self.passes


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
    """The methods of chapters 2-6 with explicit settings, keyed by display name.

    ``reference`` ``(m, T, F)`` is training data (the models' standardised inputs): it
    gives the baseline (``"mean"``), the per-feature scale of the additive feature
    perturbation, and the ``background_size`` rows (drawn with ``seed``) that the
    Shapley methods integrate over. ``exact=True`` adds exact Shapley values (only
    for ``T * F <= 16``). LRP (epsilon rule, ``bias_factor=0``) costs one forward and
    one backward NumPy pass; contextual decomposition per step (``window=1``) one CD
    unroll per step, ``T`` passes. Both are ``lstm_only``.
    """
    ref = check_sequences(reference, "reference")
    for value, name in ((ig_steps, "ig_steps"), (background_size, "background_size"),
                        (kernel_nsamples, "kernel_nsamples"), (gradient_nsamples, "gradient_nsamples")):
        check_positive_int(value, name)
    B = resolve_baseline(baseline, ref[:1], ref)[0]
    scale = ref.reshape(-1, ref.shape[2]).std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    rows = np.random.default_rng(seed).choice(len(ref), size=min(background_size, len(ref)), replace=False)
    background = ref[np.sort(rows)]
    res = levels.RESOLUTION

    def state_change(model, X):
        change = hidden.state_change(hidden.hidden_states(model, X))
        return levels.broadcast(change, X.shape, "feature") if change.ndim == 2 else change

    methods = [
        Method(
            "feature sensitivity",
            lambda m, X: perturbation.feature_sensitivity(m, X, size=0.1, mode="additive", scale=scale),
            resolution=res["feature_sensitivity"],
        ),
        Method("occlusion", lambda m, X: perturbation.occlusion(m, X, baseline=B)),
        Method(
            "time-step masking",
            lambda m, X: perturbation.mask_time_steps(m, X, baseline=B),
            resolution=res["mask_time_steps"],
        ),
        Method("saliency", lambda m, X: gradients.saliency(m, X)),
        Method(
            "integrated gradients",
            lambda m, X: gradients.integrated_gradients(m, X, baseline=B, steps=ig_steps),
        ),
        Method(
            "attention",
            attention.attention_attribution,
            resolution=res["attention_attribution"],
            passes=1,
            needs_attention=True,
        ),
        Method(
            "KernelSHAP",
            lambda m, X: shapley.kernel_shap(m, X, background=background, nsamples=kernel_nsamples, seed=seed),
        ),
        Method(
            "GradientSHAP",
            lambda m, X: shapley.gradient_shap(m, X, background=background, nsamples=gradient_nsamples, seed=seed),
        ),
        Method("hidden-state change", state_change, resolution=res["state_change"], passes=1),
        Method(
            "LRP",
            lambda m, X: lstm_relevance.lrp(m, X),
            resolution=res["lrp"],
            passes=2,  # one forward and one backward NumPy unroll
            lstm_only=True,
        ),
        Method(
            "contextual decomposition",
            lambda m, X: lstm_relevance.cd_scores(m, X),
            resolution=res["cd_scores"],
            passes=lambda shape: shape[1],  # one CD unroll per step (window=1)
            lstm_only=True,
        ),
        Method("random", lambda m, X: random_attribution(X.shape, seed)),
    ]
    if exact:
        methods.insert(
            7, Method("exact Shapley", lambda m, X: shapley.exact_shapley(m, X, background=background))
        )
    return {m.name: m for m in methods}


def measure(method: Method, model, X: np.ndarray, warmup: bool = True) -> tuple[np.ndarray, Cost]:
    """Run ``method`` on ``X`` ``(n, T, F)``; return the attribution and its :class:`Cost` per sequence.

    ``warmup`` first explains one sequence, so one-off tracing is not charged to the method.
    A model the method does not support (:meth:`Method.supports`) is a ``ValueError``.
    """
    X = check_sequences(X)
    if X.shape[0] == 0:
        raise ValueError(f"expected at least one sequence to measure {method.name} on, got X of shape {X.shape}")
    if not method.supports(model):
        need = "an attention layer" if method.needs_attention else "an LSTM + Dense read-out model (chapter 6)"
        raise ValueError(f"expected {need} for {method.name}, got model {model.name!r}")
    if warmup:
        method.explain(model, X[:1])
    n = X.shape[0]
    start = time.perf_counter()
    with engine.count_evaluations() as counter:
        values = method.explain(model, X)
    seconds = time.perf_counter() - start
    values = np.asarray(values, dtype=np.float64)
    if values.shape != X.shape:
        raise ValueError(f"expected {method.name} to return shape {X.shape}, got {values.shape}")
    return values, Cost(counter.rows / n, counter.gradient_rows / n, method.passes_for(X.shape), seconds / n)
