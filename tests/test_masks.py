"""Dynamask and ExtremalMask: the contract, and recovery of a planted set on a white box."""

import keras
import numpy as np
import pytest

from helpers import masks
from helpers.scores import auroc

T, F = 8, 3


def square_box(planted: np.ndarray) -> keras.Model:
    """``f(x) = sum of x^2 over the planted cells``, as a Keras model on ``(n, T, F)``."""
    weight = keras.ops.convert_to_tensor(planted.astype("float32"))
    inputs = keras.Input(planted.shape)
    out = keras.layers.Lambda(
        lambda x: keras.ops.sum(keras.ops.square(x) * weight, axis=(1, 2))[:, None]
    )(inputs)
    return keras.Model(inputs, out)


@pytest.fixture(scope="module")
def box():
    planted = np.zeros((T, F), bool)
    planted[2:4, 0] = planted[5, 2] = True
    X = np.random.default_rng(0).normal(size=(6, T, F)).astype("float32")
    X[:, planted] = 2.0 * np.sign(X[:, planted]) + X[:, planted]  # planted cells matter clearly
    return square_box(planted), X, planted


@pytest.mark.parametrize(
    "method, options",
    [(masks.dynamask, {"keep": [0.1, 0.2], "epochs": 150}), (masks.extremal_mask, {"epochs": 300})],
)
def test_mask_recovers_planted_cells(box, method, options):
    model, X, planted = box
    A = method(model, X, **options)
    assert A.shape == X.shape and A.min() >= 0.0 and A.max() <= 1.0
    truth = np.broadcast_to(planted, X.shape)
    assert auroc(A, truth) >= 0.9


@pytest.mark.parametrize("method", [masks.dynamask, masks.extremal_mask])
def test_contract_padding_seed_target(method):
    inputs = keras.Input((None, 2))
    hidden = keras.layers.LSTM(4, seed=1)(keras.layers.Masking(0.0)(inputs))
    dense = keras.layers.Dense(3, kernel_initializer=keras.initializers.GlorotUniform(2))
    model = keras.Model(inputs, dense(hidden))
    rng = np.random.default_rng(2)
    X = [rng.normal(size=(5, 2)).astype("float32"), rng.normal(size=(3, 2)).astype("float32")]
    with pytest.raises(ValueError, match="target"):
        method(model, X, epochs=2)
    A = method(model, X, epochs=5, target=1)
    assert A.shape == (2, 5, 2)
    assert np.all(A[1, 3:] == 0.0)
    assert np.array_equal(A, method(model, X, epochs=5, target=1))
    B = method(model, X, epochs=5, target=np.array([0, 2]))
    assert B.shape == A.shape and not np.array_equal(A, B)


def test_bad_input_is_a_value_error(small_lstm):
    X = np.zeros((2, 5, 3), "float32")
    with pytest.raises(ValueError, match="keep"):
        masks.dynamask(small_lstm, X, keep=1.5)
    with pytest.raises(ValueError, match="keep"):
        masks.dynamask(small_lstm, X, keep=[])
    with pytest.raises(ValueError, match="epochs"):
        masks.extremal_mask(small_lstm, X, epochs=0)
    with pytest.raises(ValueError, match="size_weight"):
        masks.extremal_mask(small_lstm, X, size_weight=-1.0)
    with pytest.raises(ValueError):
        masks.dynamask(small_lstm, np.zeros((2, 5, 4), "float32"))
    with pytest.raises(ValueError):
        masks.extremal_mask(small_lstm, np.full((2, 5, 3), np.nan, "float32"))


def test_arma_white_box_and_time_interpret_scores():
    from helpers import arma, gradients, models, scores

    X = arma.arma_inputs(3, T=12, F=8, seed=0)
    assert X.shape == (3, 12, 8) and np.array_equal(X, arma.arma_inputs(3, T=12, F=8, seed=0))
    for task, (rows, cols) in {"rare-feature": (6, 2), "rare-time": (2, 4)}.items():
        truth = arma.planted(task, T=12, F=8, subset=2, seed=1)
        assert truth.sum() == rows * cols
        model = arma.white_box(truth)
        full = np.broadcast_to(truth, X.shape)
        np.testing.assert_allclose(
            models.forward(model, X), (X**2 * truth).sum(axis=(1, 2)), rtol=1e-5
        )
        ig = gradients.integrated_gradients(model, X, baseline="zeros", steps=8)
        # IG is x^2 on planted cells and 0 elsewhere: every selected cell is relevant.
        assert scores.tint_aup(ig, full) > 0.99
        assert 0.0 < scores.tint_aur(ig, full) < 0.5
        assert scores.tint_aur(full.astype(float), full) > 0.99
    with pytest.raises(ValueError, match="task"):
        arma.planted("rare-space")
    with pytest.raises(ValueError, match="shape"):
        scores.tint_aup(np.zeros((2, 3, 4)), np.zeros((2, 3, 5), bool))
