"""helpers.models: builders, deterministic training, the one batched forward pass."""

import logging

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import data, examples, gradients, models


def test_builders_map_sequences_to_one_output():
    for model in (
        models.build_lstm(6, 2, units=4),
        models.build_stacked_lstm(6, 2, units=(5, 3)),
    ):
        assert model.inputs[0].shape[1:] == (6, 2)
        assert model.outputs[0].shape[1:] == (1,)
    stacked = models.build_stacked_lstm(5, 1)
    lstm_units = [layer.units for layer in stacked.layers if isinstance(layer, keras.layers.LSTM)]
    assert lstm_units == [64, 32]  # seed 004's architecture


def test_same_seed_same_weights_after_training():
    task = data.make_sum_task(n=256, seed=0)

    def trained(seed):
        m = models.build_lstm(5, 1, units=4, seed=seed)
        models.fit(m, task.X_train, task.y_train, epochs=2, batch_size=32, seed=seed)
        return m.get_weights()

    a, b, c = trained(0), trained(0), trained(1)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a, c))


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 3 * models.CHUNK // 2), seed=st.integers(0, 1000))
def test_forward_equals_direct_call_for_any_batch_size(small_lstm, n, seed):
    X = np.random.default_rng(seed).normal(size=(n, 5, 3)).astype(np.float32)
    out = models.forward(small_lstm, X)
    assert out.shape == (n,) and out.dtype == np.float64
    expected = np.asarray(small_lstm(X[:64], training=False))[:, 0]
    np.testing.assert_allclose(out[:64], expected, rtol=1e-5, atol=1e-6)


def test_forward_result_does_not_depend_on_chunk_position(small_lstm):
    X = np.random.default_rng(0).normal(size=(models.CHUNK + 10, 5, 3)).astype(np.float32)
    whole = models.forward(small_lstm, X)
    np.testing.assert_allclose(models.forward(small_lstm, X[-10:]), whole[-10:], rtol=1e-5, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3 * models.CHUNK), steps=st.integers(1, 4), features=st.integers(1, 3))
def test_padded_chunks_cover_every_row_once_in_one_shape(n, steps, features):
    X = np.arange(n * steps * features, dtype=np.float32).reshape(n, steps, features) + 1.0
    rows = []
    for start, m, chunk in models.padded_chunks(X):
        assert tuple(chunk.shape) == (models.CHUNK, steps, features)  # one shape: one trace
        np.testing.assert_array_equal(chunk.numpy()[:m], X[start : start + m])
        assert not chunk.numpy()[m:].any()  # the padding is zeros, never another row
        rows.extend(range(start, start + m))
    assert rows == list(range(n))


def test_forward_counts_evaluations(small_lstm):
    X = np.zeros((17, 5, 3), np.float32)
    with models.count_evaluations() as counter:
        models.forward(small_lstm, X)
        models.forward(small_lstm, X[:3])
    assert counter.rows == 20


def test_forward_empty_input(small_lstm):
    assert models.forward(small_lstm, np.zeros((0, 5, 3))).shape == (0,)


@pytest.mark.parametrize(
    "bad, expected",
    [
        (np.zeros((5, 3)), "rank 3 .* got rank 2"),
        (np.zeros((2, 4, 3)), "shape \\(n, 5, 3\\) for this model, got \\(2, 4, 3\\)"),
        (np.zeros((2, 5, 2)), "shape \\(n, 5, 3\\) for this model, got \\(2, 5, 2\\)"),
        (np.full((2, 5, 3), np.inf), "finite values in X, got 30 NaN or inf"),
        (np.array([[["a"] * 3] * 5]), "real numbers"),
    ],
)
def test_forward_bad_input(small_lstm, bad, expected):
    with pytest.raises(ValueError, match=expected):
        models.forward(small_lstm, bad)


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: models.build_lstm(0, 3), "positive integer for n_steps, got 0"),
        (lambda: models.build_lstm(5, 3, units=-1), "positive integer for units, got -1"),
        (lambda: models.build_stacked_lstm(5, 0), "positive integer for n_features, got 0"),
    ],
)
def test_builders_bad_sizes(call, expected):
    with pytest.raises(ValueError, match=expected):
        call()


def test_fit_bad_input(small_lstm):
    X = np.zeros((8, 5, 3), np.float32)
    with pytest.raises(ValueError, match="y with 8 rows .* got 7"):
        models.fit(small_lstm, X, np.zeros(7))
    with pytest.raises(ValueError, match="positive epochs"):
        models.fit(small_lstm, X, np.zeros(8), epochs=0)


def test_r2_score():
    y = np.array([1.0, 2.0, 3.0])
    assert models.r2_score(y, y) == 1.0
    assert models.r2_score(y, np.full(3, 2.0)) == 0.0
    with pytest.raises(ValueError, match="shape \\(3,\\), got \\(2,\\)"):
        models.r2_score(y, y[:2])


def test_running_example_unknown_name():
    with pytest.raises(ValueError, match="running example in .* got 'nope'"):
        examples.running_example("nope")


def test_prepare_fits_scaler_on_train_only():
    task, scaler = examples.prepare("stock")
    np.testing.assert_allclose(scaler.mean_, task.X_train.astype(np.float64).mean(axis=(0, 1)))


def test_forward_on_many_models_does_not_warn_about_retracing():
    """Each model is traced once by design; learners should not see TensorFlow's warning."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    try:
        X = np.zeros((3, 4, 2), np.float32)
        for seed in range(8):
            model = models.build_lstm(4, 2, units=2, seed=seed)
            models.forward(model, X)
            gradients.saliency(model, X)  # the gradient pass shares chunked_calls
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if "retracing" in r.getMessage()]
