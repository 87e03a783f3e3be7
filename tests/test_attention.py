"""Tests for helpers.attention: the weights are per-sample softmax outputs we can check by hand."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from helpers import attention, models
from helpers.attention import AttentionPooling

T, U = 6, 4


def pooling_model(heads: int, seed: int = 0) -> keras.Model:
    """``h (n, T, U) -> AttentionPooling -> Dense(1)`` with random weights, so ``X`` *is* ``h``."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((T, U))
    context = AttentionPooling(heads=heads, score_units=3, name="attention")(inputs)
    outputs = keras.layers.Dense(1, name="readout")(context)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    # Larger than the initial weights so the softmax is far from uniform.
    model.get_layer("attention").set_weights(
        [
            2 * rng.standard_normal(w.shape).astype(np.float32)
            for w in model.get_layer("attention").get_weights()
        ]
    )
    return model


def manual(model: keras.Model, h: np.ndarray):
    """Weights ``(n, heads, T)`` and predictions ``(n,)`` from the layers' own parameters, in NumPy."""
    W, b, v = (p.astype(np.float64) for p in model.get_layer("attention").get_weights())
    Wr, br = (p.astype(np.float64) for p in model.get_layer("readout").get_weights())
    scores = np.tanh(h @ W + b) @ v  # (n, T, heads)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    a = (e / e.sum(axis=1, keepdims=True)).transpose(0, 2, 1)  # (n, heads, T)
    context = np.einsum("nkt,ntu->nku", a, h).reshape(len(h), -1)
    return a, context @ Wr[:, 0] + br[0]


MODELS = {heads: pooling_model(heads) for heads in (1, 3)}
LSTM = models.build_attention_lstm(T, 2, units=5, heads=2, seed=1)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    heads=st.sampled_from([1, 3]),
    h=arrays(np.float32, (5, T, U), elements=st.floats(-5, 5, width=32)),
)
def test_weights_are_a_distribution_per_sample_and_head(heads, h):
    a = attention.attention_weights(MODELS[heads], h).reshape(5, heads, T)
    assert np.all(a >= 0)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("heads", [1, 3])
def test_weights_and_output_equal_a_manual_softmax(heads):
    h = np.random.default_rng(2).normal(size=(50, T, U)).astype(np.float32)
    model = MODELS[heads]
    a, y = manual(model, h.astype(np.float64))
    got = attention.attention_weights(model, h)
    assert got.shape == ((50, T) if heads == 1 else (50, heads, T))
    np.testing.assert_allclose(got.reshape(a.shape), a, atol=1e-5)
    np.testing.assert_allclose(models.forward(model, h), y, atol=1e-4)


def test_weights_do_not_depend_on_the_rest_of_the_batch():
    X = np.random.default_rng(3).normal(size=(9, T, 2)).astype(np.float32)
    whole = attention.attention_weights(LSTM, X)
    alone = np.concatenate([attention.attention_weights(LSTM, X[i : i + 1]) for i in range(9)])
    np.testing.assert_allclose(whole, alone, atol=1e-6)


def test_the_weights_are_not_the_parameter_w():
    X = np.random.default_rng(4).normal(size=(8, T, 2)).astype(np.float32)
    a = attention.attention_weights(LSTM, X)
    W = LSTM.get_layer("attention").W.numpy()
    assert W.shape != a.shape[1:]  # the seed's mistake: W is (units, score_units), one per model
    assert np.ptp(a, axis=0).max() > 1e-4  # the weights differ from sample to sample


def test_save_and_load_keeps_predictions_and_weights(tmp_path):
    X = np.random.default_rng(5).normal(size=(20, T, 2)).astype(np.float32)
    path = tmp_path / "attention_lstm.keras"
    keras.saving.save_model(LSTM, path)
    loaded = keras.saving.load_model(path)
    layer = loaded.get_layer("attention")
    assert isinstance(layer, AttentionPooling) and layer.heads == 2
    np.testing.assert_allclose(models.forward(loaded, X), models.forward(LSTM, X), atol=1e-6)
    np.testing.assert_allclose(
        attention.attention_weights(loaded, X), attention.attention_weights(LSTM, X), atol=1e-6
    )


def test_sequential_model_like_the_seed_works():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((5, 3)),
            keras.layers.LSTM(4, return_sequences=True),
            AttentionPooling(),
            keras.layers.Dense(1),
        ]
    )
    X = np.random.default_rng(6).random((7, 5, 3)).astype(np.float32)
    assert attention.attention_weights(model, X).shape == (7, 5)


def test_model_without_attention_raises():
    model = models.build_lstm(T, 2, units=3)
    with pytest.raises(ValueError, match="no AttentionPooling layer"):
        attention.attention_weights(model, np.zeros((2, T, 2), np.float32))
    with pytest.raises(ValueError, match="AttentionPooling"):
        attention.with_fixed_attention(model, np.zeros((2, T, 2), np.float32))


@pytest.mark.parametrize("model", [MODELS[1], LSTM], ids=["one head", "two heads"])
@pytest.mark.parametrize("mode", ["uniform", "permuted", "own"])
def test_fixed_attention_keeps_shapes(model, mode):
    F = model.inputs[0].shape[-1]
    X = np.random.default_rng(7).normal(size=(11, T, F)).astype(np.float32)
    y = attention.with_fixed_attention(model, X, mode=mode, seed=1)
    assert y.shape == (11,) and np.all(np.isfinite(y))


def test_own_weights_reproduce_the_model():
    X = np.random.default_rng(8).normal(size=(30, T, 2)).astype(np.float32)
    np.testing.assert_allclose(
        attention.with_fixed_attention(LSTM, X, mode="own"), models.forward(LSTM, X), atol=1e-6
    )


def test_uniform_attention_is_mean_pooling():
    model = MODELS[3]
    h = np.random.default_rng(9).normal(size=(12, T, U)).astype(np.float32)
    Wr, br = model.get_layer("readout").get_weights()
    expected = np.tile(h.mean(axis=1), 3) @ Wr[:, 0] + br[0]  # every head pools the mean
    np.testing.assert_allclose(
        attention.with_fixed_attention(model, h, "uniform"), expected, atol=1e-5
    )


def test_imposed_weights_match_the_manual_pooling():
    model = MODELS[1]
    rng = np.random.default_rng(10)
    h = rng.normal(size=(6, T, U)).astype(np.float32)
    a = rng.dirichlet(np.ones(T), size=6)
    Wr, br = model.get_layer("readout").get_weights()
    expected = np.einsum("nt,ntu->nu", a, h) @ Wr[:, 0] + br[0]
    np.testing.assert_allclose(attention.predict_with_weights(model, h, a), expected, atol=1e-5)


@given(seed=st.integers(0, 2**16), heads=st.sampled_from([1, 2]))
@settings(max_examples=25, deadline=None)
def test_permutation_keeps_shape_values_and_alignment_of_heads(seed, heads):
    a = np.random.default_rng(seed).dirichlet(np.ones(T), size=(4, heads))
    if heads == 1:
        a = a[:, 0]  # (n, T)
    p = attention.permute_over_time(a, seed=seed)
    assert p.shape == a.shape
    np.testing.assert_allclose(np.sort(p, axis=-1), np.sort(a, axis=-1))
    if heads == 2:  # one permutation of time per sample, shared by its heads
        for i in range(4):
            order = [int(np.flatnonzero(a[i, 0] == x)[0]) for x in p[i, 0]]
            np.testing.assert_array_equal(p[i, 1], a[i, 1, order])


def test_permutation_is_seeded():
    a = np.random.default_rng(0).dirichlet(np.ones(T), size=10)
    np.testing.assert_array_equal(
        attention.permute_over_time(a, 3), attention.permute_over_time(a, 3)
    )
    assert not np.array_equal(attention.permute_over_time(a, 3), attention.permute_over_time(a, 4))


def test_bad_inputs_raise():
    X = np.zeros((3, T, 2), np.float32)
    with pytest.raises(ValueError, match="positive integer for heads"):
        AttentionPooling(heads=0)
    with pytest.raises(ValueError, match="mode"):
        attention.with_fixed_attention(LSTM, X, mode="random")
    with pytest.raises(ValueError, match=r"weights of shape \(3, 2, 6\)"):
        attention.predict_with_weights(LSTM, X, np.full((3, T), 1 / T))
    with pytest.raises(ValueError, match=r"shape \(n, 6, 2\)"):
        attention.attention_weights(LSTM, np.zeros((3, T + 1, 2), np.float32))
    with pytest.raises(ValueError, match="finite"):
        attention.attention_weights(LSTM, np.full((3, T, 2), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"\(n, T\) or \(n, heads, T\)"):
        attention.permute_over_time(np.ones(T))
    with pytest.raises(ValueError, match=r"input of shape \(n, T, units\)"):
        AttentionPooling()(keras.Input((4,)))
