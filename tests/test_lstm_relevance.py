"""Tests for helpers.lstm_relevance: conservation, the linear LSTM, masking, bad input."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import helpers  # noqa: F401
from helpers import lstm_relevance as lr
from helpers.attention import AttentionPooling
from helpers.models import build_lstm, build_stacked_lstm, forward

T, F = 7, 3


def _randomise_biases(model: keras.Model, seed: int) -> keras.Model:
    """Every weight and bias drawn from N(0, 0.6^2): non-zero biases everywhere, so
    bias shares cannot vanish by accident, and weights large enough that the
    first steps still matter at the end of the sequence."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.normal(scale=0.6, size=w.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def single() -> keras.Model:
    return _randomise_biases(build_lstm(T, F, units=5, seed=4), 1)


@pytest.fixture(scope="module")
def stacked() -> keras.Model:
    """Odd sizes on purpose: 5 then 3 units on 3 features."""
    return _randomise_biases(build_stacked_lstm(T, F, units=(5, 3), seed=5), 2)


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return (1.5 * np.random.default_rng(0).normal(size=(30, T, F))).astype(np.float32)


def _bias(model: keras.Model) -> float:
    return float(model.layers[-1].bias.numpy()[0])


def _lrp_conservation_error(model, X) -> tuple[float, float]:
    """(conservation error, absorbed share), both relative to max |f(x) - b|."""
    y, b = forward(model, X), _bias(model)
    R, absorbed = lr.lrp(model, X, bias_factor=1.0, return_absorbed=True)
    scale = np.abs(y - b).max()
    error = np.abs(R.sum(axis=(1, 2)) + absorbed + b - y).max() / scale
    return error, np.abs(absorbed).max() / scale


@pytest.mark.parametrize("name", ["single", "stacked"])
def test_lrp_conserves_with_bias_factor_one(name, X, request):
    model = request.getfixturevalue(name)
    error, absorbed = _lrp_conservation_error(model, X)
    assert error < 1e-3
    # the zero initial state takes a real share: the inputs alone do not conserve
    assert absorbed > 0.01


@pytest.mark.parametrize("name", ["single", "stacked"])
def test_cd_parts_sum_to_prediction(name, X, request):
    model = request.getfixturevalue(name)
    y, b = forward(model, X), _bias(model)
    relevant = np.random.default_rng(3).random((len(X), T)) < 0.4
    beta, gamma = lr.contextual_decomposition(model, X, relevant)
    assert beta.shape == gamma.shape == (len(X),)
    assert np.abs(beta + gamma + b - y).max() < 1e-5


@settings(max_examples=20, deadline=None)
@given(
    x=arrays(np.float32, (4, T, F), elements=st.floats(-3, 3, width=32)),
    mask=arrays(bool, (T,)),
)
def test_conservation_holds_for_all_inputs(stacked, x, mask):
    y, b = forward(stacked, x), _bias(stacked)
    R, absorbed = lr.lrp(stacked, x, bias_factor=1.0, return_absorbed=True)
    scale = max(np.abs(y - b).max(), 1e-3)
    assert np.abs(R.sum(axis=(1, 2)) + absorbed + b - y).max() <= 1e-3 * scale
    beta, gamma = lr.contextual_decomposition(stacked, x, mask)
    assert np.abs(beta + gamma + b - y).max() < 1e-5
    all_beta, all_gamma = lr.contextual_decomposition(stacked, x, np.ones(T, bool))
    no_beta, no_gamma = lr.contextual_decomposition(stacked, x, np.zeros(T, bool))
    assert np.all(all_gamma == 0) and np.all(no_beta == 0)
    assert np.abs(all_beta + b - y).max() < 1e-5


def test_batch_equals_one_sequence_at_a_time(stacked, X):
    R = lr.lrp(stacked, X[:5])
    rows = np.concatenate([lr.lrp(stacked, X[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(R, rows, atol=1e-12)
    S = lr.cd_scores(stacked, X[:5], window=2)
    rows = np.concatenate([lr.cd_scores(stacked, X[i : i + 1], window=2) for i in range(5)])
    np.testing.assert_allclose(S, rows, atol=1e-12)


def _linear_lstm(units: int = 4, seed: int = 0) -> keras.Model:
    """An exactly linear recurrent net: constant gates, identity activation, no biases
    except the gates'. c_t = f c_{t-1} + i (W x_t + U h_{t-1}), h_t = o c_t."""
    rng = np.random.default_rng(seed)
    model = keras.Sequential(
        [keras.Input((T, F)), keras.layers.LSTM(units, activation="linear"),
         keras.layers.Dense(1)]
    )
    u = units
    K = np.zeros((F, 4 * u))
    R = np.zeros((u, 4 * u))
    K[:, 2 * u : 3 * u] = rng.normal(size=(F, u))
    R[:, 2 * u : 3 * u] = 0.3 * rng.normal(size=(u, u))
    b = np.concatenate([rng.normal(size=u), rng.normal(size=u) + 1, np.zeros(u),
                        rng.normal(size=u)])
    model.layers[0].set_weights([K, R, b])
    model.layers[1].set_weights([rng.normal(size=(u, 1)), np.zeros(1)])
    return model


def _known_contributions(model, X) -> np.ndarray:
    """x_tf times f(e_tf): the model is linear with f(0) = 0, so this is exact."""
    basis = np.eye(T * F, dtype=np.float32).reshape(T * F, T, F)
    coefficients = forward(model, basis).reshape(T, F)
    return X * coefficients


def test_linear_lstm_gives_known_contributions(X):
    model = _linear_lstm()
    truth = _known_contributions(model, X)
    np.testing.assert_allclose(forward(model, X), truth.sum(axis=(1, 2)), atol=1e-4)
    R, absorbed = lr.lrp(model, X, epsilon=1e-9, return_absorbed=True)
    np.testing.assert_allclose(R, truth, atol=1e-4)
    assert np.abs(absorbed).max() < 1e-6  # no candidate bias: nothing to absorb
    per_step = lr.cd_scores(model, X)
    np.testing.assert_allclose(per_step[:, :, 0], truth.sum(axis=2), atol=1e-4)
    beta, gamma = lr.contextual_decomposition(model, X, np.arange(T) < 3)
    np.testing.assert_allclose(beta, truth[:, :3].sum(axis=(1, 2)), atol=1e-4)
    np.testing.assert_allclose(gamma, truth[:, 3:].sum(axis=(1, 2)), atol=1e-4)


def test_windows_tile_the_steps(single, X):
    windows = lr.cd_scores(single, X, window=3)  # windows 0-2, 3-5, 6
    first, _ = lr.contextual_decomposition(single, X, np.arange(T) < 3)
    np.testing.assert_allclose(windows[:, 0, 0], first)
    np.testing.assert_allclose(windows[:, 2, 1], first)
    mid, _ = lr.contextual_decomposition(single, X, (np.arange(T) >= 3) & (np.arange(T) < 6))
    np.testing.assert_allclose(windows[:, 4, 2], mid)
    last, _ = lr.contextual_decomposition(single, X, np.arange(T) == 6)
    np.testing.assert_allclose(windows[:, 6, 0], last)


def test_padded_steps_get_zero_and_match_the_short_run(X):
    short = build_lstm(4, F, units=5, seed=6)
    _randomise_biases(short, 3)
    inputs = keras.Input((T, F))
    h = keras.layers.Masking(0.0)(inputs)
    h = keras.layers.LSTM(5)(h)
    masked = keras.Model(inputs, keras.layers.Dense(1)(h))
    masked.set_weights(short.get_weights())
    padded = np.zeros_like(X[:6])
    padded[:, 1:5] = X[:6, :4]  # one leading and two trailing padded steps
    np.testing.assert_allclose(forward(masked, padded), forward(short, X[:6, :4]), atol=1e-5)
    R = lr.lrp(masked, padded)
    np.testing.assert_allclose(R[:, 1:5], lr.lrp(short, X[:6, :4]), atol=1e-5)
    assert np.all(R[:, [0, 5, 6]] == 0)
    S = lr.cd_scores(masked, padded)
    np.testing.assert_allclose(S[:, 1:5], lr.cd_scores(short, X[:6, :4]), atol=1e-5)
    assert np.all(S[:, [0, 5, 6]] == 0)


def _classifier(K: int = 3) -> keras.Model:
    inputs = keras.Input((T, F))
    h = keras.layers.LSTM(5)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(K, activation="softmax")(h))
    return _randomise_biases(model, 4)


def test_target_selects_the_readout_column(X):
    model = _classifier()
    one = keras.Model(model.inputs, keras.layers.Dense(1)(model.layers[1].output))
    W, b = model.layers[-1].get_weights()
    one.layers[-1].set_weights([W[:, 2:3], b[2:3]])
    np.testing.assert_allclose(lr.lrp(model, X, target=2), lr.lrp(one, X), atol=1e-12)
    beta, _ = lr.contextual_decomposition(model, X, np.arange(T) < 2, target=2)
    np.testing.assert_allclose(beta, lr.contextual_decomposition(one, X, np.arange(T) < 2)[0])
    picked = np.argmax(_logits(model, X), axis=1)
    assert len(set(picked)) > 1  # the rows really explain different columns
    by_row = lr.lrp(model, X, target=picked)
    np.testing.assert_allclose(lr.lrp(model, X, target="predicted"), by_row, atol=1e-12)


def _logits(model, X) -> np.ndarray:
    pre = keras.Model(model.inputs, model.layers[1].output)
    W, b = model.layers[-1].get_weights()
    return pre.predict(X, verbose=0) @ W + b


def test_several_outputs_without_target_is_an_error(X):
    with pytest.raises(ValueError, match="target"):
        lr.lrp(_classifier(), X)
    with pytest.raises(ValueError, match="target"):
        lr.contextual_decomposition(_classifier(), X, np.ones(T, bool), target=7)


def _attention() -> keras.Model:
    inputs = keras.Input((T, F))
    h = keras.layers.LSTM(4, return_sequences=True)(inputs)
    h = AttentionPooling(name="attention")(h)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


def _gru() -> keras.Model:
    inputs = keras.Input((T, F))
    return keras.Model(inputs, keras.layers.Dense(1)(keras.layers.GRU(4, name="gru")(inputs)))


def _bidirectional() -> keras.Model:
    inputs = keras.Input((T, F))
    h = keras.layers.Bidirectional(keras.layers.LSTM(4), name="bidi")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


def _backwards() -> keras.Model:
    inputs = keras.Input((T, F))
    h = keras.layers.LSTM(4, go_backwards=True, name="back")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


def _relu_head() -> keras.Model:
    inputs = keras.Input((T, F))
    h = keras.layers.LSTM(4)(inputs)
    return keras.Model(inputs, keras.layers.Dense(1, activation="relu", name="head")(h))


def _two_dense() -> keras.Model:
    inputs = keras.Input((T, F))
    h = keras.layers.Dense(3, name="hidden_dense")(keras.layers.LSTM(4)(inputs))
    return keras.Model(inputs, keras.layers.Dense(1)(h))


@pytest.mark.parametrize(
    "make, named",
    [
        (_gru, "GRU"),
        (_bidirectional, "Bidirectional"),
        (_attention, "AttentionPooling"),
        (_backwards, "go_backwards"),
        (_relu_head, "relu"),
        (_two_dense, "hidden_dense"),
    ],
)
def test_unsupported_models_are_named(make, named, X):
    model = make()
    for call in (lambda: lr.lrp(model, X),
                 lambda: lr.contextual_decomposition(model, X, np.ones(T, bool))):
        with pytest.raises(ValueError, match=named):
            call()


def test_bad_inputs(single, X):
    with pytest.raises(ValueError, match="rank 3"):
        lr.lrp(single, X[0])
    with pytest.raises(ValueError, match=r"shape \(n, 7, 3\)"):
        lr.lrp(single, X[:, :5])
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        lr.lrp(single, bad)
    with pytest.raises(ValueError, match="epsilon"):
        lr.lrp(single, X, epsilon=0.0)
    with pytest.raises(ValueError, match="bias_factor"):
        lr.lrp(single, X, bias_factor=2.0)
    with pytest.raises(ValueError, match="boolean mask"):
        lr.contextual_decomposition(single, X, np.arange(T))
    with pytest.raises(ValueError, match=r"\(7,\) or \(30, 7\)"):
        lr.contextual_decomposition(single, X, np.ones(T + 1, bool))
    with pytest.raises(ValueError, match="window"):
        lr.cd_scores(single, X, window=T + 1)
    with pytest.raises(ValueError, match="window"):
        lr.cd_scores(single, X, window=0)
