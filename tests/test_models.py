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
        (lambda: models.build_lstm(True, 3), "positive integer for n_steps, got True"),
        (lambda: models.build_lstm(5, 3, units=True), "positive integer for units, got True"),
        (lambda: models.build_lstm(5, 3, units=-1), "positive integer for units, got -1"),
        (lambda: models.build_lstm(5, 3, n_outputs=0), "positive integer for n_outputs, got 0"),
        (lambda: models.build_lstm(5, 3, seed=-1), "non-negative integer for seed, got -1"),
        (lambda: models.build_lstm(5, 3, seed=1.5), "non-negative integer for seed, got 1.5"),
        (lambda: models.build_lstm(5, 3, mask_value=np.nan), "finite mask_value"),
        (lambda: models.build_stacked_lstm(5, 0), "positive integer for n_features, got 0"),
        (lambda: models.build_stacked_lstm(5, 2, units=()), "non-empty tuple"),
    ],
)
def test_builders_bad_sizes(call, expected):
    with pytest.raises(ValueError, match=expected):
        call()


@pytest.mark.parametrize(
    "kwargs, y, expected",
    [
        ({}, np.zeros(7), "y with 8 rows .* got 7"),
        ({"epochs": 0}, None, "positive integer for epochs, got 0"),
        ({"epochs": True}, None, "positive integer for epochs, got True"),
        ({"batch_size": 2.5}, None, "positive integer for batch_size"),
        ({"learning_rate": -1}, None, "learning_rate in \\[0.0, inf\\], got -1.0"),
        ({"learning_rate": float("nan")}, None, "learning_rate .* got nan"),
        ({"learning_rate": 0}, None, "positive learning_rate"),
        ({"validation_split": -0.5}, None, "validation_split in \\[0.0, 1.0\\), got -0.5"),
        ({"validation_split": 1.0}, None, "validation_split in \\[0.0, 1.0\\), got 1.0"),
        ({"seed": -1}, None, "non-negative integer for seed, got -1"),
        ({"seed": 1.5}, None, "non-negative integer for seed, got 1.5"),
        ({}, np.full(8, np.nan), "finite targets y, got 8 NaN or inf"),
        ({}, np.r_[np.zeros(7), np.inf], "finite targets y, got 1 NaN or inf"),
        ({}, np.zeros((8, 2)), "y of shape \\(8,\\) or \\(8, 1\\)"),
    ],
)
def test_fit_bad_input(small_lstm, kwargs, y, expected):
    X = np.zeros((8, 5, 3), np.float32)
    y = np.zeros(8) if y is None else y
    before = small_lstm.get_weights()
    with pytest.raises(ValueError, match=expected):
        models.fit(small_lstm, X, y, **kwargs)
    for a, b in zip(before, small_lstm.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing was trained


def test_fit_refuses_an_empty_training_set(small_lstm):
    with pytest.raises(ValueError, match="at least one training sequence, got X of shape \\(0, 5, 3\\)"):
        models.fit(small_lstm, np.zeros((0, 5, 3)), np.zeros(0))


def test_classifier_trains_with_inferred_loss_on_ragged_sequences():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 8, size=60)
    X = [rng.normal(size=(t, 2)).astype(np.float32) for t in lengths]
    y = np.array([int(x[:, 0].sum() > 0) + int(len(x) > 5) for x in X])
    model = models.build_lstm(None, 2, units=4, n_outputs=3, output_activation="softmax", mask_value=0.0)
    history = models.fit(model, X, y, epochs=3, batch_size=16, learning_rate=1e-2)
    assert model.loss == "sparse_categorical_crossentropy"
    assert history.history["loss"][-1] < history.history["loss"][0]
    p = models.outputs(model, X)
    assert p.shape == (60, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="integer class labels in \\[0, 3\\)"):
        models.fit(model, X, np.full(60, 3), epochs=1)


def test_forecaster_trains_on_several_outputs():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 6, 1)).astype(np.float32)
    y = np.stack([X[:, -1, 0] * (h + 1) for h in range(4)], axis=1)
    model = models.build_stacked_lstm(6, 1, units=(4, 3), n_outputs=4)
    models.fit(model, X, y, epochs=2, batch_size=8)
    assert model.loss == "mse"
    assert models.outputs(model, X).shape == (40, 4)
    np.testing.assert_allclose(models.forward(model, X, target=3), models.outputs(model, X)[:, 3])


def test_building_and_fitting_leave_global_state_alone(small_lstm):
    from tensorflow.python.framework import config

    np.random.seed(123)  # noqa: NPY002
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    deterministic = config.is_op_determinism_enabled()
    model = models.build_lstm(5, 3, units=2, seed=7)
    models.fit(model, np.zeros((8, 5, 3)), np.zeros(8), epochs=1, seed=7)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    assert config.is_op_determinism_enabled() == deterministic


def test_r2_score():
    y = np.array([1.0, 2.0, 3.0])
    assert models.r2_score(y, y) == 1.0
    assert models.r2_score(y, np.full(3, 2.0)) == 0.0
    with pytest.raises(ValueError, match="two different values in y_true"):
        models.r2_score(np.ones(3), y)
    with pytest.raises(ValueError, match="finite y_true and y_pred"):
        models.r2_score(y, np.array([1.0, np.nan, 2.0]))
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
            gradients.saliency(model, X)  # the gradient pass shares the engine
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if "retracing" in r.getMessage()]
