"""helpers.tsr: temporal saliency rescaling on maps with a known answer."""

import numpy as np
import pytest

from helpers import tsr


def _gradient_times_input(w):
    """The gradient x input map of f(x) = sum(w * x), computed without the model."""
    return lambda model, X: w * X


def test_tsr_of_a_linear_map_is_the_analytic_product(linear_model):
    model, w, _ = linear_model
    X = np.random.default_rng(0).normal(size=(8, 4, 3)).astype(np.float32)
    out = tsr.temporal_saliency_rescaling(model, X, _gradient_times_input(w), "zeros")
    contribution = np.abs(w * X)  # masking cell (t, f) with 0 changes the map by |w x| there
    time_relevance = contribution.sum(axis=2)  # (n, T)
    selected = time_relevance > time_relevance.mean(axis=1, keepdims=True)
    expected = np.where(selected[:, :, None], time_relevance[:, :, None] * contribution, 0.0)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_tsr_explains_in_two_batched_calls():
    calls = []

    def explain(model, X):
        calls.append(len(X))
        return X * np.arange(1, X.shape[1] + 1)[None, :, None]

    class Shape:  # only the input shape is read from the model
        inputs = [np.zeros((1, 6, 2))]

    X = np.random.default_rng(1).normal(size=(5, 6, 2)).astype(np.float32)
    out = tsr.temporal_saliency_rescaling(Shape(), X, explain, "zeros", threshold=-1.0)
    assert calls == [5 * (6 + 1), 5 * 6 * 2]  # every step selected with threshold -1
    assert out.shape == (5, 6, 2) and np.all(out >= 0)


def test_nothing_selected_gives_zeros(linear_model):
    model, w, _ = linear_model
    X = np.ones((2, 4, 3), np.float32)
    out = tsr.temporal_saliency_rescaling(model, X, _gradient_times_input(w), "zeros", threshold=1e9)
    assert np.all(out == 0)


def test_bad_input(linear_model):
    model, w, _ = linear_model
    X = np.ones((2, 4, 3), np.float32)
    with pytest.raises(ValueError, match="explain to return shape \\(10, 4, 3\\), got \\(10, 4\\)"):
        tsr.temporal_saliency_rescaling(model, X, lambda m, X: X[:, :, 0], "zeros")
    with pytest.raises(ValueError, match="explicit baseline"):
        tsr.temporal_saliency_rescaling(model, X, _gradient_times_input(w), None)
    with pytest.raises(ValueError, match="finite threshold"):
        tsr.temporal_saliency_rescaling(model, X, _gradient_times_input(w), "zeros", threshold=np.nan)
    with pytest.raises(ValueError, match="shape \\(n, 4, 3\\) for this model"):
        tsr.temporal_saliency_rescaling(model, np.ones((2, 5, 3)), _gradient_times_input(w), "zeros")
