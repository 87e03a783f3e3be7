"""Tests for helpers.gradients: analytic answers, completeness on an LSTM, shapes, bad input."""

from __future__ import annotations

import logging

import analytic
import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import helpers  # noqa: F401
from helpers import engine, gradients
from helpers.models import CHUNK, build_lstm, forward

T, F = 5, 3
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def linear_model(weights: np.ndarray, bias: float = -0.2) -> keras.Model:
    """``f(x) = sum(W * x) + bias`` on ``(n, T, F)``."""
    return analytic.linear_model(weights, bias)


@pytest.fixture(scope="module")
def W() -> np.ndarray:
    return np.random.default_rng(11).normal(size=(T, F)).astype(np.float32)


@pytest.fixture(scope="module")
def lin(W) -> keras.Model:
    return linear_model(W)


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return np.random.default_rng(12).normal(size=(6, T, F)).astype(np.float32)


@pytest.fixture(scope="module")
def lstm() -> keras.Model:
    return build_lstm(6, 2, units=8, seed=3)


# --- analytic answers on a linear model ---------------------------------------------------


def test_saliency_is_the_weight(lin, W, X):
    np.testing.assert_allclose(gradients.saliency(lin, X), np.broadcast_to(W, X.shape), atol=1e-5)
    np.testing.assert_allclose(gradients.saliency(lin, X, times_input=True), W * X, atol=1e-5)


def test_input_gradients_across_chunks(lin, W):
    Xbig = np.random.default_rng(13).normal(size=(CHUNK + 3, T, F)).astype(np.float32)
    g = gradients.input_gradients(lin, Xbig)
    assert g.shape == Xbig.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, np.broadcast_to(W, Xbig.shape), atol=1e-5)


def test_integrated_gradients_is_weight_times_difference(lin, W, X):
    b = np.random.default_rng(14).normal(size=(T, F)).astype(np.float32)
    np.testing.assert_allclose(gradients.integrated_gradients(lin, X, baseline=b, steps=8), W * (X - b), atol=1e-5)
    np.testing.assert_allclose(gradients.integrated_gradients(lin, X, baseline="zeros", steps=1), W * X, atol=1e-5)
    ref = np.random.default_rng(15).normal(size=(40, T, F)).astype(np.float32)
    np.testing.assert_allclose(
        gradients.integrated_gradients(lin, X, baseline="mean", reference=ref), W * (X - ref.mean(0)), atol=1e-5
    )


def test_completeness_gap_linear(lin, W, X):
    ig = gradients.integrated_gradients(lin, X, baseline=0.5, steps=4)
    np.testing.assert_allclose(gradients.completeness_gap(lin, X, ig, baseline=0.5), 0.0, atol=1e-5)
    # Saliency is not complete: its gap is sum(W) - sum(W * x).
    gap = gradients.completeness_gap(lin, X, gradients.saliency(lin, X), baseline="zeros")
    np.testing.assert_allclose(gap, W.sum() - (W * X).sum(axis=(1, 2)), atol=1e-4)


# --- a small random LSTM ---------------------------------------------------------------------


def test_integrated_gradients_complete_on_lstm(lstm):
    rng = np.random.default_rng(16)
    X = rng.normal(size=(32, 6, 2)).astype(np.float32)
    ig = gradients.integrated_gradients(lstm, X, baseline="zeros", steps=64)
    gap = gradients.completeness_gap(lstm, X, ig, baseline="zeros")
    delta = forward(lstm, X) - forward(lstm, np.zeros_like(X))
    assert np.all(np.abs(gap) <= 0.01 * np.abs(delta) + 1e-6)


def test_integrated_gradients_blocks_give_the_same_answer(lstm, monkeypatch):
    X = np.random.default_rng(17).normal(size=(5, 6, 2)).astype(np.float32)
    whole = gradients.integrated_gradients(lstm, X, baseline="zeros", steps=16)
    monkeypatch.setattr(engine, "MAX_ROWS", 16)  # one sample per block
    np.testing.assert_allclose(gradients.integrated_gradients(lstm, X, baseline="zeros", steps=16), whole, atol=1e-6)


def test_saliency_matches_finite_differences(lstm):
    x = np.random.default_rng(18).normal(size=(1, 6, 2)).astype(np.float64)
    g = gradients.saliency(lstm, x.astype(np.float32))[0]
    eps = 1e-2
    fd = np.zeros((6, 2))
    for t in range(6):
        for f in range(2):
            up, down = x.copy(), x.copy()
            up[0, t, f] += eps
            down[0, t, f] -= eps
            fd[t, f] = (forward(lstm, up) - forward(lstm, down))[0] / (2 * eps)
    np.testing.assert_allclose(g, fd, atol=2e-3)


# --- properties --------------------------------------------------------------------------

baseline_shapes = st.sampled_from([(), (F,), (1, F), (T, 1), (T, F)])


@SETTINGS
@given(n=st.integers(1, 9), shape=baseline_shapes, steps=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_integrated_gradients_broadcasting(lin, W, n, shape, steps, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, F)).astype(np.float32)
    b = rng.normal(size=shape).astype(np.float32)
    out = gradients.integrated_gradients(lin, X, baseline=b, steps=steps)
    assert out.shape == (n, T, F)
    np.testing.assert_allclose(out, W * (X - np.broadcast_to(b, (T, F))), atol=1e-4)
    assert gradients.completeness_gap(lin, X, out, baseline=b).shape == (n,)


@SETTINGS
@given(n=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_saliency_shapes(lin, n, seed):
    X = np.random.default_rng(seed).normal(size=(n, T, F)).astype(np.float32)
    assert gradients.saliency(lin, X).shape == (n, T, F)
    assert gradients.saliency(lin, X, times_input=True).shape == (n, T, F)


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2,), (T + 1, F), (T, 2), (4, T, F)])
def test_baseline_that_does_not_broadcast(lin, X, shape):
    with pytest.raises(ValueError, match=r"expected a baseline: .*broadcastable to \(T, F\); got shape"):
        gradients.integrated_gradients(lin, X, baseline=np.zeros(shape))
    with pytest.raises(ValueError, match="expected a baseline: .*got shape"):
        gradients.completeness_gap(lin, X, np.zeros(X.shape), baseline=np.zeros(shape))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input(lin, X, bad):
    Xb = X.copy()
    Xb[1, 0, 0] = bad
    for call in (
        lambda: gradients.saliency(lin, Xb),
        lambda: gradients.integrated_gradients(lin, Xb, baseline="zeros"),
        lambda: gradients.input_gradients(lin, Xb),
    ):
        with pytest.raises(ValueError, match="expected finite values in X, got 1 NaN or inf"):
            call()
    with pytest.raises(ValueError, match="expected finite values in baseline, got 15 NaN or inf"):
        gradients.integrated_gradients(lin, X, baseline=np.full((T, F), bad))


def test_wrong_rank_or_shape(lin, X):
    with pytest.raises(ValueError, match="expected X of rank 3 .* got rank 2"):
        gradients.saliency(lin, X[0])
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 5, 3\) for this model, got \(6, 5, 4\)"):
        gradients.integrated_gradients(lin, np.zeros((6, 5, 4)), baseline="zeros")


def test_bad_steps_and_attributions(lin, X):
    with pytest.raises(ValueError, match="expected a positive integer for steps, got 0"):
        gradients.integrated_gradients(lin, X, baseline="zeros", steps=0)
    with pytest.raises(ValueError, match=r"expected attributions of shape \(6, 5, 3\) \(like X\), got \(6, 5\)"):
        gradients.completeness_gap(lin, X, np.zeros((6, 5)), baseline="zeros")


def test_model_with_two_outputs():
    inputs = keras.Input((T, F))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="target= for a model with output shape \\(None, 2\\)"):
        gradients.saliency(model, np.zeros((2, T, F), np.float32))
    X2 = np.random.default_rng(0).normal(size=(3, T, F)).astype(np.float32)
    W2 = model.layers[-1].get_weights()[0].reshape(T, F, 2)
    for k in range(2):
        np.testing.assert_allclose(gradients.saliency(model, X2, target=k), np.broadcast_to(W2[..., k], X2.shape), atol=1e-6)


def test_no_retracing_warning_across_many_models(W):
    """One trace per model is by design; TensorFlow's retracing heuristic must stay quiet."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    tf.get_logger().addHandler(handler)
    try:
        X = np.ones((2, T, F), np.float32)
        for k in range(8):
            gradients.saliency(linear_model(W * (k + 1)), X)
    finally:
        tf.get_logger().removeHandler(handler)
    assert not [r for r in records if "retracing" in r.getMessage()]
