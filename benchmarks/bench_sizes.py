"""Latency at every size: each method against the same model evaluations written directly.

One LSTM(32) with a linear read-out, T = 20 steps, F = 5 features, and
n = 1, 8, 64, 512, 4096 sequences. Each row is a ratio of CPU seconds, the
method over its floor timed in the same run (alternated, best of several):

- forward (``models.forward``): one ``model(x)`` call compiled for exactly ``(n, T, F)``;
- saliency: one ``tf.GradientTape`` gradient compiled for exactly those ``n`` rows;
- integrated gradients (64 steps): the ``64 n`` path points built in NumPy and one
  gradient over exactly those rows, in slices of at most ``CHUNK`` rows each
  compiled for its exact size (a gradient over 262,144 rows at once does not fit
  in memory), then the Riemann mean times ``x - b``;
- occlusion (window 1) and time-step masking: every occluded copy (``1 + T F`` or
  ``1 + T`` per sequence) built in NumPy and one forward over exactly those rows,
  sliced the same way. The helpers' prefix path does fewer cell steps than this
  floor, so its ratio may fall below 1.

Targets: <= 1.5 for forward, saliency and IG at every n; <= 1.5 for occlusion and
masking at n >= 8 (one sequence's handful of small calls is reported only).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from timing import best_pair, row

import helpers  # noqa: F401  (quiets TensorFlow's logging before it loads)
from helpers import engine, gradients, models, perturbation

T, F, UNITS, STEPS = 20, 5, 32, 64
SIZES = (1, 8, 64, 512, 4096)
TARGET = 1.5


def _exact(fn, rows: int, width: tuple[int, ...]):
    """``fn`` compiled for exactly ``(rows, *width)`` float32 inputs."""
    return tf.function(fn, input_signature=[tf.TensorSpec((rows, *width), tf.float32)])


class _Floor:
    """The direct code: calls compiled per exact row count, made (and traced) once."""

    def __init__(self, model):
        self.model = model
        self.calls: dict = {}

    def _get(self, kind: str, rows: int):
        key = (kind, rows)
        if key not in self.calls:
            model = self.model
            if kind == "forward":

                def forward(x):
                    return model(x, training=False)

                self.calls[key] = _exact(forward, rows, (T, F))
            else:

                def grad(x):
                    with tf.GradientTape() as tape:
                        tape.watch(x)
                        total = tf.reduce_sum(model(x, training=False)[:, 0])
                    return tape.gradient(total, x)

                self.calls[key] = _exact(grad, rows, (T, F))
        return self.calls[key]

    def apply(self, kind: str, X: np.ndarray) -> np.ndarray:
        """``kind`` ("forward" or "gradient") over ``X`` in exact slices of at most ``CHUNK`` rows."""
        parts = []
        for lo in range(0, len(X), engine.CHUNK):
            part = X[lo : lo + engine.CHUNK]
            parts.append(self._get(kind, len(part))(tf.constant(part)).numpy())
        return np.concatenate(parts)


def _occluded(X: np.ndarray, whole_step: bool) -> np.ndarray:
    """Every copy occlusion (``whole_step=False``) or masking evaluates, unperturbed first."""
    groups = [slice(None)] if whole_step else [slice(f, f + 1) for f in range(F)]
    copies = np.repeat(X[None], 1 + T * len(groups), axis=0)
    for t in range(T):
        for g, cols in enumerate(groups):
            copies[1 + t * len(groups) + g, :, t, cols] = 0.0
    return copies.reshape(-1, T, F)


def _cases(model, X: np.ndarray, floor: _Floor):
    """``(name, method, floor)`` pairs of callables over ``X``."""
    n = len(X)
    alphas = ((np.arange(STEPS) + 0.5) / STEPS).astype(np.float32)

    def ig_floor():
        path = alphas[None, :, None, None] * X[:, None]  # baseline zeros
        g = floor.apply("gradient", path.reshape(-1, T, F)).reshape(n, STEPS, T, F)
        return g.mean(axis=1) * X

    def occlusion_floor(whole_step: bool):
        def go():
            copies = _occluded(X, whole_step)
            y = floor.apply("forward", copies)[:, 0].reshape(-1, n)
            return (y[:1] - y[1:]).T

        return go

    return [
        ("forward", lambda: models.forward(model, X), lambda: floor.apply("forward", X)[:, 0]),
        ("saliency", lambda: gradients.saliency(model, X), lambda: floor.apply("gradient", X)),
        (
            f"integrated gradients ({STEPS} steps)",
            lambda: gradients.integrated_gradients(model, X, baseline="zeros", steps=STEPS),
            ig_floor,
        ),
        ("occlusion", lambda: perturbation.occlusion(model, X, baseline="zeros"), occlusion_floor(False)),
        (
            "time-step masking",  # (n, T, F), each step's value repeated over its features
            lambda: perturbation.mask_time_steps(model, X, baseline="zeros")[:, :, 0],
            occlusion_floor(True),
        ),
    ]


def _repeats(n: int, name: str) -> tuple[int, int]:
    """``(repeats, calls per timing)``: many short calls for small n, few long ones for large."""
    heavy = name.startswith("integrated") or name in ("occlusion", "time-step masking")
    work = n * (64 if heavy else 1)
    if work <= 64:
        return 7, 20
    if work <= 4096:
        return 5, 3
    if work <= 65536:
        return 3, 1
    return 2, 1


def _check(name: str, ours: np.ndarray, direct: np.ndarray) -> None:
    ours = np.asarray(ours, np.float64).reshape(len(direct), -1)
    direct = np.asarray(direct, np.float64).reshape(len(direct), -1)
    if not np.allclose(ours, direct, atol=1e-4, rtol=1e-4):
        raise AssertionError(f"{name}: the method and its floor disagree by {np.abs(ours - direct).max():.2e}")


def run() -> list[dict]:
    """Ratio to the floor for each method at each n; prints the table as it goes."""
    model = models.build_lstm(T, F, units=UNITS, seed=0)
    floor = _Floor(model)
    rng = np.random.default_rng(0)
    rows = []
    for n in SIZES:
        X = rng.normal(size=(n, T, F)).astype(np.float32)
        for name, ours, direct in _cases(model, X, floor):
            _check(name, ours(), direct())
            repeats, inner = _repeats(n, name)
            t_ours, t_floor = best_pair(
                lambda f=ours, k=inner: [f() for _ in range(k)],
                lambda f=direct, k=inner: [f() for _ in range(k)],
                repeats,
            )
            ratio = t_ours / max(t_floor, 1e-9)
            gated = name in ("forward", "saliency") or name.startswith("integrated") or n >= 8
            result = row(f"sizes: {name}, n={n}: time / floor", ratio, TARGET if gated else None)
            print(
                f"{name:28} n={n:5d}  ours {1e3 * t_ours / inner:9.2f} ms  "
                f"floor {1e3 * t_floor / inner:9.2f} ms  ratio {ratio:5.2f}",
                flush=True,
            )
            rows.append(result)
    return rows


if __name__ == "__main__":
    run()
