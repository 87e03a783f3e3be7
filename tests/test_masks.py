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


# time_interpret's forms (benchmarks/reproduce_arma.py): keep every output, plain MSE,
# masks clipped from 0.5, the blur replacing the cell, one keep ratio for all samples.
TINT_DYNAMASK = {"target": "all", "relative": False, "init": "clip", "blur": "replace", "sigma_max": 2.0,
                 "tolerance": None, "area_weight": 1.0, "area_dilation": 1000.0}


@pytest.fixture(scope="module")
def step_box(box):
    from helpers import arma

    _, X, planted = box
    return arma.white_box(planted, per_step=True), X, planted


def test_per_step_white_box(box):
    from helpers import arma, models

    scalar, X, planted = box
    model = arma.white_box(planted, per_step=True)
    out = models.outputs(model, X)
    assert out.shape == (len(X), T)
    np.testing.assert_allclose(out, (X**2 * planted).sum(axis=2), rtol=1e-5)
    np.testing.assert_allclose(out.sum(axis=1), models.forward(arma.white_box(planted), X), rtol=1e-5)
    with pytest.raises(ValueError, match="per_step"):
        arma.white_box(planted, per_step="yes")


@pytest.mark.parametrize(
    "method, options",
    [
        (masks.dynamask, {**TINT_DYNAMASK, "keep": [0.1, 0.2], "epochs": 200, "learning_rate": 0.05}),
        (masks.extremal_mask, {"target": "all", "relative": False, "network": "mask", "epochs": 300}),
    ],
)
def test_time_interpret_forms_recover_planted_cells(step_box, method, options):
    model, X, planted = step_box
    A = method(model, X, **options)
    assert A.shape == X.shape and A.min() >= 0.0 and A.max() <= 1.0
    assert auroc(A, np.broadcast_to(planted, X.shape)) >= 0.9
    assert np.array_equal(A, method(model, X, **options))


@pytest.mark.parametrize("method", [masks.dynamask, masks.extremal_mask])
def test_target_all_keeps_every_output(box, method):
    model, X, _ = box
    # One output: "all" is that output.
    assert np.array_equal(method(model, X, epochs=20, target="all"), method(model, X, epochs=20))
    inputs = keras.Input((None, 2))
    hidden = keras.layers.LSTM(4, seed=1)(keras.layers.Masking(0.0)(inputs))
    several = keras.Model(inputs, keras.layers.Dense(3)(hidden))
    rng = np.random.default_rng(2)
    ragged = [rng.normal(size=(5, 2)).astype("float32"), rng.normal(size=(3, 2)).astype("float32")]
    A = method(several, ragged, epochs=5, target="all")
    assert A.shape == (2, 5, 2) and np.all(A[1, 3:] == 0.0)
    assert not np.array_equal(A, method(several, ragged, epochs=5, target=0))
    with pytest.raises(ValueError, match="target"):
        method(several, ragged, epochs=5, target="every")


@pytest.mark.parametrize("method", [masks.dynamask, masks.extremal_mask])
def test_relative_scales_the_change(box, method):
    model, X, _ = box
    assert not np.array_equal(method(model, X, epochs=30, relative=False), method(model, X, epochs=30))


def test_clip_init_starts_at_half_and_stays_in_range(box):
    model, X, _ = box
    A = masks.dynamask(model, X, keep=0.2, epochs=1, learning_rate=1e-6, init="clip")
    np.testing.assert_allclose(A, 0.5, atol=1e-4)
    B = masks.dynamask(model, X, keep=0.2, epochs=30, learning_rate=1.0, init="clip")
    assert B.min() == 0.0 and B.max() == 1.0  # clipped, not squashed


def test_tolerance_none_gives_one_keep_ratio_to_all(step_box):
    model, X, _ = step_box
    options = {**TINT_DYNAMASK, "epochs": 60, "learning_rate": 0.05}
    A = masks.dynamask(model, X, keep=[0.1, 0.4], **options)
    singles = [masks.dynamask(model, X, keep=k, **options) for k in (0.1, 0.4)]
    assert any(np.allclose(A, S, atol=1e-5) for S in singles)


def test_network_mask_is_param_plus_net(box):
    model, X, _ = box
    A = masks.extremal_mask(model, X, epochs=50, network="mask")
    B = masks.extremal_mask(model, X, epochs=50)
    assert A.min() >= 0.0 and A.max() <= 1.0 and not np.array_equal(A, B)


def test_bad_new_options_are_value_errors(box):
    model, X, _ = box
    for options, name in [
        ({"relative": "yes"}, "relative"),
        ({"relative": 1}, "relative"),
        ({"init": "zeros"}, "init"),
        ({"blur": "fade"}, "blur"),
        ({"tolerance": -0.1}, "tolerance"),
        ({"tolerance": float("nan")}, "tolerance"),
        ({"tolerance": "none"}, "tolerance"),
    ]:
        with pytest.raises(ValueError, match=name):
            masks.dynamask(model, X, epochs=1, **options)
    for options, name in [({"network": "gru"}, "network"), ({"relative": None}, "relative"),
                          ({"hidden": 0}, "hidden")]:
        with pytest.raises(ValueError, match=name):
            masks.extremal_mask(model, X, epochs=1, **options)
