"""Tests for helpers.hidden: the NumPy unroll against Keras, probes on planted codes, bad input."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import helpers  # noqa: F401
from helpers import hidden
from helpers.models import CHUNK, build_lstm, build_stacked_lstm, forward

T, F = 6, 4


@pytest.fixture(scope="module")
def stacked() -> keras.Model:
    """Odd sizes on purpose: 7 then 5 units on 4 features, so no shape can line up by accident."""
    return build_stacked_lstm(T, F, units=(7, 5), seed=2)


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    # Scale 2 pushes gates into saturation too, where a wrong activation would show.
    return (2.0 * np.random.default_rng(0).normal(size=(40, T, F))).astype(np.float32)


def keras_sequence(model: keras.Model, name: str, X: np.ndarray) -> np.ndarray:
    """Keras' own hidden sequence of layer ``name``: a return_sequences copy with the same weights."""
    layer = model.get_layer(name)
    config = layer.get_config() | {"return_sequences": True, "name": name + "_copy"}
    copy = keras.layers.LSTM.from_config(config)
    inputs = keras.Input(tuple(layer.input.shape[1:]))
    sub = keras.Model(inputs, copy(inputs))
    copy.set_weights(layer.get_weights())
    upstream = keras.Model(model.inputs, layer.input)
    return sub.predict(upstream.predict(X, verbose=0), verbose=0)


# --- the unroll equals Keras ----------------------------------------------------------------


@pytest.mark.parametrize("layer, name", [(0, "lstm_0"), (1, "lstm_1")])
def test_gates_equal_keras_on_both_stacked_layers(stacked, X, layer, name):
    expected = keras_sequence(stacked, name, X)
    gates = hidden.lstm_gates(stacked, X, layer=layer)
    np.testing.assert_allclose(gates.hidden, expected, atol=1e-5)
    np.testing.assert_allclose(hidden.hidden_states(stacked, X, layer=layer), expected, atol=1e-5)
    units = 7 if layer == 0 else 5
    for field in ("input", "forget", "candidate", "output", "cell", "hidden"):
        assert getattr(gates, field).shape == (len(X), T, units)


def test_last_layer_without_sequences_matches_its_output(stacked, X):
    """lstm_1 returns only its last state; hidden_states still gives all T, ending at Keras' output."""
    assert not stacked.get_layer("lstm_1").return_sequences
    last = keras.Model(stacked.inputs, stacked.get_layer("lstm_1").output).predict(X, verbose=0)
    np.testing.assert_allclose(hidden.hidden_states(stacked, X, layer="lstm_1")[:, -1], last, atol=1e-5)


def test_gates_obey_the_cell_equations(stacked, X):
    g = hidden.lstm_gates(stacked, X, layer=0)
    for gate in (g.input, g.forget, g.output):
        assert np.all((gate >= 0) & (gate <= 1))
    previous = np.concatenate([np.zeros_like(g.cell[:, :1]), g.cell[:, :-1]], axis=1)
    np.testing.assert_allclose(g.cell, g.forget * previous + g.input * g.candidate, atol=1e-12)
    np.testing.assert_allclose(g.hidden, g.output * np.tanh(g.cell), atol=1e-12)


def test_activations_and_no_bias_are_respected():
    """A layer with other activations and no bias: the unroll must read them from the layer."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input((5, 3))
    h = keras.layers.LSTM(
        6, activation="relu", recurrent_activation="hard_sigmoid", use_bias=False, return_sequences=True
    )(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(h)))
    Xs = np.random.default_rng(1).normal(size=(20, 5, 3)).astype(np.float32)
    expected = keras.Model(inputs, h).predict(Xs, verbose=0)
    np.testing.assert_allclose(hidden.lstm_gates(model, Xs).hidden, expected, atol=1e-5)


def test_single_layer_across_chunks():
    model = build_lstm(3, 2, units=4, seed=5)
    Xs = np.random.default_rng(2).normal(size=(CHUNK + 5, 3, 2)).astype(np.float32)
    H = hidden.hidden_states(model, Xs)
    assert H.shape == (CHUNK + 5, 3, 4)
    # The read-out of the last state is the model's prediction.
    w, b = model.get_layer("readout").get_weights()
    np.testing.assert_allclose(H[:, -1] @ w[:, 0] + b[0], forward(model, Xs), atol=1e-5)
    np.testing.assert_allclose(hidden.lstm_gates(model, Xs[-7:]).hidden, H[-7:], atol=1e-5)


# --- state change -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5)),
              elements=st.floats(-10, 10)))
def test_state_change_shape_and_definition(H):
    d = hidden.state_change(H)
    assert d.shape == H.shape[:2]
    assert np.all(d >= 0)
    np.testing.assert_allclose(d[:, 0], np.linalg.norm(H[:, 0], axis=1))
    # Summing the steps' updates telescopes back to h_T: the triangle inequality bounds ||h_T||.
    assert np.all(np.linalg.norm(H[:, -1], axis=1) <= d.sum(axis=1) + 1e-9)


def test_state_change_of_a_constant_sequence():
    H = np.ones((2, 4, 3))
    np.testing.assert_allclose(hidden.state_change(H), [[np.sqrt(3), 0, 0, 0]] * 2)


# --- probes and projections -------------------------------------------------------------------


def test_probe_recovers_a_planted_linear_code_and_fails_on_shuffled_targets():
    rng = np.random.default_rng(3)
    n, steps, units = 400, 5, 16
    H = rng.normal(size=(n, steps, units))
    w = rng.normal(size=units)
    target = H @ w + 0.05 * rng.normal(size=(n, steps))
    planted = hidden.linear_probe(H, target, seed=0)
    assert planted.shape == (steps,)
    assert np.all(planted > 0.99)
    shuffled = hidden.linear_probe(H, rng.permutation(target), seed=0)
    assert np.all(np.abs(shuffled) < 0.1)


def test_probe_with_one_target_per_sequence_and_constant_steps():
    rng = np.random.default_rng(4)
    H = rng.normal(size=(100, 3, 4))
    y = H[:, -1] @ np.arange(1.0, 5.0)
    r2 = hidden.linear_probe(H, y)
    assert r2[-1] > 0.99 and r2[0] < 0.2  # only the last step carries y
    constant = np.column_stack([y, y, np.full(100, 2.0)])
    assert np.isnan(hidden.linear_probe(H, constant)[-1])


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_project_shapes_and_seeding(method):
    H = np.random.default_rng(5).normal(size=(10, 4, 6))
    Y = hidden.project(H, method=method, perplexity=5, seed=1)
    assert Y.shape == (10, 4, 2)
    np.testing.assert_allclose(hidden.project(H, method=method, perplexity=5, seed=1), Y)


def test_pca_keeps_the_planted_plane():
    rng = np.random.default_rng(6)
    plane = rng.normal(size=(50, 3, 2)) @ rng.normal(size=(2, 8))
    _, pca = hidden.project(plane, method="pca", return_model=True)
    assert pca.explained_variance_ratio_.sum() > 0.999


# --- bad input --------------------------------------------------------------------------------


def test_layer_index_out_of_range_names_the_lstm_layers(stacked, X):
    with pytest.raises(ValueError, match=r"0\.\.1, got 2.*'lstm_0'.*'lstm_1'"):
        hidden.hidden_states(stacked, X, layer=2)
    with pytest.raises(ValueError, match="got -1"):
        hidden.lstm_gates(stacked, X, layer=-1)


def test_a_layer_that_is_not_an_lstm(stacked, X):
    with pytest.raises(ValueError, match=r"'readout', a Dense; LSTM layers are 0: 'lstm_0'"):
        hidden.hidden_states(stacked, X, layer="readout")
    with pytest.raises(ValueError, match="got 'nope'"):
        hidden.lstm_gates(stacked, X, layer="nope")
    inputs = keras.Input((T, F))
    dense_only = keras.Model(inputs, keras.layers.Dense(1, name="head")(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="at least one LSTM layer.*'head' \\(Dense\\)"):
        hidden.hidden_states(dense_only, X)


def test_bad_sequences_and_arguments(stacked, X):
    with pytest.raises(ValueError, match=r"shape \(n, 6, 4\)"):
        hidden.hidden_states(stacked, X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        hidden.lstm_gates(stacked, np.full_like(X, np.nan))
    with pytest.raises(ValueError, match="units"):
        hidden.state_change(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="method"):
        hidden.project(np.zeros((3, 4, 2)), method="umap")
    with pytest.raises(ValueError, match="perplexity"):
        hidden.project(np.zeros((3, 4, 2)), method="tsne", perplexity=30)
    with pytest.raises(ValueError, match=r"target of shape \(20, 3\)"):
        hidden.linear_probe(np.zeros((20, 3, 2)), np.zeros((20, 4)))


# --- masking, variable length, layers the LSTM-only tools do not read -----------------------


@pytest.fixture(scope="module")
def masked() -> keras.Model:
    return build_stacked_lstm(None, 3, units=(5, 4), seed=6, mask_value=0.0)


def _ragged(lengths=(2, 5, 4), seed=7):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.5, size=(t, 3)).astype(np.float32) for t in lengths]


@pytest.mark.parametrize("layer", [0, 1])
def test_masked_states_equal_the_unpadded_runs_and_carry_over(masked, layer):
    seqs = _ragged()
    H = hidden.hidden_states(masked, seqs, layer=layer)
    gates = hidden.lstm_gates(masked, seqs, layer=layer)
    assert H.shape == (3, 5, 5 if layer == 0 else 4)
    np.testing.assert_allclose(gates.hidden, H, atol=1e-5)
    for i, x in enumerate(seqs):
        t = len(x)
        alone = hidden.hidden_states(masked, x[None], layer=layer)[0]
        np.testing.assert_allclose(H[i, :t], alone, atol=1e-5)
        np.testing.assert_array_equal(H[i, t:], np.repeat(H[i, t - 1 : t], 5 - t, axis=0))
        assert gates.valid[i].tolist() == [True] * t + [False] * (5 - t)
        np.testing.assert_array_equal(gates.forget[i, t:], 0.0)
        np.testing.assert_array_equal(gates.cell[i, t:], np.repeat(gates.cell[i, t - 1 : t], 5 - t, axis=0))
    change = hidden.state_change(H)
    assert np.all(change[0, 2:] == 0) and np.all(change[2, 4:] == 0)


def test_masked_states_equal_keras_own_sequence(masked):
    X = np.zeros((3, 5, 3), np.float32)
    for i, x in enumerate(_ragged()):
        X[i, : len(x)] = x
    # lstm_0 returns sequences: Keras' own output (state carried over masked steps).
    expected = keras.Model(masked.inputs, masked.get_layer("lstm_0").output).predict(X, verbose=0)
    np.testing.assert_allclose(hidden.hidden_states(masked, X, layer=0), expected, atol=1e-5)
    last = keras.Model(masked.inputs, masked.get_layer("lstm_1").output).predict(X, verbose=0)
    np.testing.assert_allclose(hidden.hidden_states(masked, X, layer=1)[:, -1], last, atol=1e-5)


def test_any_length_model_takes_t_from_x():
    model = build_lstm(None, 2, units=3, seed=8)
    for steps in (3, 7):
        Xs = np.random.default_rng(steps).normal(size=(4, steps, 2)).astype(np.float32)
        H = hidden.hidden_states(model, Xs)
        assert H.shape == (4, steps, 3)
        w, b = model.get_layer("readout").get_weights()
        np.testing.assert_allclose(H[:, -1] @ w[:, 0] + b[0], forward(model, Xs), atol=1e-5)


def test_an_lstm_called_twice_is_an_error():
    inputs = keras.Input((T, F))
    shared = keras.layers.LSTM(3, return_sequences=True, name="shared")
    out = keras.layers.Dense(1)(keras.layers.Flatten()(shared(shared(keras.layers.Dense(3)(inputs)))))
    model = keras.Model(inputs, out)
    X = np.zeros((2, T, F), np.float32)
    with pytest.raises(ValueError, match="'shared' to be called exactly once in the model, got 2 calls"):
        hidden.hidden_states(model, X)
    with pytest.raises(ValueError, match="called exactly once"):
        hidden.lstm_gates(model, X)


@pytest.mark.parametrize(
    "make",
    [
        lambda: keras.layers.GRU(3, name="rnn"),
        lambda: keras.layers.Bidirectional(keras.layers.LSTM(3), name="rnn"),
        lambda: keras.layers.SimpleRNN(3, name="rnn"),
    ],
)
def test_other_recurrent_layers_are_named_in_the_error(make):
    inputs = keras.Input((T, F))
    model = keras.Model(inputs, keras.layers.Dense(1)(make()(inputs)))
    with pytest.raises(ValueError, match="keras.layers.LSTM .*GRU, SimpleRNN and Bidirectional are not "
                       "supported.*'rnn' \\((GRU|Bidirectional|SimpleRNN)\\)"):
        hidden.hidden_states(model, np.zeros((2, T, F), np.float32))


def test_ragged_input_without_masking_is_an_error(stacked):
    with pytest.raises(ValueError, match="Masking"):
        hidden.hidden_states(stacked, [np.zeros((3, F)), np.zeros((6, F))])
