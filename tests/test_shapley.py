"""Tests for helpers.shapley: the Shapley axioms on analytic models, and agreement with shap."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import shap
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import models, shapley

T, F = 3, 2  # 6 cells: 64 coalitions, cheap enough to enumerate everywhere


def linear_model(weights: np.ndarray, bias: float = 0.0) -> keras.Model:
    """``f(x) = sum(w * x) + bias`` for ``(n, T, F)`` inputs, ``weights`` of shape ``(T, F)``."""
    t, f = weights.shape
    inputs = keras.Input((t, f))
    out = keras.layers.Dense(1)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, out)
    model.layers[-1].set_weights(
        [weights.reshape(-1, 1).astype(np.float32), np.array([bias], np.float32)]
    )
    return model


def tanh_model(first_layer: np.ndarray, seed: int = 0) -> keras.Model:
    """A non-linear ``Flatten -> Dense(8, tanh) -> Dense(1)`` with a set first layer ``(T*F, 8)``."""
    models.set_seed(seed)
    inputs = keras.Input((T, F))
    hidden = keras.layers.Dense(8, activation="tanh")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.layers[2].set_weights([first_layer.astype(np.float32), np.zeros(8, np.float32)])
    return model


@pytest.fixture(scope="module")
def lstm() -> keras.Model:
    return models.build_lstm(T, F, units=4, seed=0)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, T, F)).astype(np.float32)
    background = rng.standard_normal((7, T, F)).astype(np.float32)
    return X, background


# --- the Shapley axioms -------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_coefficients_give_efficiency_for_any_game(n_players, seed):
    masks = shapley.coalition_masks(n_players)
    v = np.random.default_rng(seed).standard_normal(2**n_players)
    phi = v @ shapley.shapley_coefficients(masks)
    # Row 0 is the empty coalition, the last row the full one.
    assert phi.sum() == pytest.approx(v[-1] - v[0], abs=1e-9)


def test_efficiency_on_an_lstm(lstm, data):
    X, background = data
    phi = shapley.exact_shapley(lstm, X, background=background)
    assert phi.shape == X.shape
    gap = phi.sum(axis=(1, 2)) - (
        models.forward(lstm, X) - shapley.expected_value(lstm, background)
    )
    np.testing.assert_allclose(gap, 0.0, atol=1e-5)


def test_symmetry_on_a_symmetric_model(data):
    # Cells 0 and 3 share their weights; x and every background row agree on them.
    rng = np.random.default_rng(1)
    W = rng.standard_normal((T * F, 8))
    W[3] = W[0]
    model = tanh_model(W)
    X, background = (a.copy().reshape(len(a), -1) for a in data)
    X[:, 3], background[:, 3] = X[:, 0], background[:, 0]
    phi = shapley.exact_shapley(model, X.reshape(-1, T, F), background=background.reshape(-1, T, F))
    phi = phi.reshape(len(X), -1)
    np.testing.assert_allclose(phi[:, 3], phi[:, 0], atol=1e-6)
    assert np.abs(phi[:, 0]).min() > 1e-3  # symmetric, and not trivially zero


def test_dummy_cell_gets_zero(data):
    rng = np.random.default_rng(2)
    W = rng.standard_normal((T * F, 8))
    W[4] = 0.0  # the model never reads cell 4
    model = tanh_model(W)
    X, background = data
    phi = shapley.exact_shapley(model, X, background=background).reshape(len(X), -1)
    np.testing.assert_allclose(phi[:, 4], 0.0, atol=1e-9)
    assert np.abs(np.delete(phi, 4, axis=1)).max() > 1e-2


def test_linear_model_values_are_weight_times_distance_to_background_mean(data):
    X, background = data
    w = np.random.default_rng(3).standard_normal((T, F))
    model = linear_model(w, bias=0.5)
    phi = shapley.exact_shapley(model, X, background=background)
    expected = w * (X.astype(np.float64) - background.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(phi, expected, atol=1e-5)


def test_gradient_shap_on_linear_model_with_one_background_row(data):
    X, background = data
    w = np.random.default_rng(4).standard_normal((T, F))
    model = linear_model(w)
    phi = shapley.gradient_shap(model, X, background=background[:1], nsamples=16, seed=0)
    assert phi.shape == X.shape
    np.testing.assert_allclose(phi, w * (X - background[0]), atol=1e-5)


def test_gradient_shap_is_reproducible_and_leaves_numpy_seed_alone(lstm, data):
    X, background = data
    np.random.seed(123)  # noqa: NPY002  (shap uses the legacy global generator)
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    a = shapley.gradient_shap(lstm, X, background=background, nsamples=32, seed=5)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    b = shapley.gradient_shap(lstm, X, background=background, nsamples=32, seed=5)
    np.testing.assert_array_equal(a, b)


# --- agreement with shap ----------------------------------------------------------------


def test_exact_matches_shap_exact_explainer(lstm, data):
    X, background = data
    b2 = background.reshape(len(background), -1)
    masker = shap.maskers.Independent(b2, max_samples=len(b2))

    def predict(rows):
        return models.forward(lstm, np.asarray(rows, np.float32).reshape(-1, T, F))

    reference = shap.explainers.Exact(predict, masker)(X.reshape(len(X), -1), silent=True)
    ours = shapley.exact_shapley(lstm, X, background=background)
    np.testing.assert_allclose(ours.reshape(len(X), -1), reference.values, atol=1e-5)
    np.testing.assert_allclose(
        reference.base_values, shapley.expected_value(lstm, background), atol=1e-6
    )


def test_kernel_shap_with_every_coalition_equals_exact(lstm, data):
    X, background = data
    values = shapley.kernel_shap(lstm, X, background=background, nsamples=2 ** (T * F), l1_reg=False)
    assert isinstance(values, np.ndarray) and values.shape == X.shape  # an array, like every method
    np.testing.assert_allclose(values, shapley.exact_shapley(lstm, X, background=background), atol=1e-5)
    total = values.reshape(len(X), -1).sum(axis=1)
    np.testing.assert_allclose(total, models.forward(lstm, X) - shapley.expected_value(lstm, background), atol=1e-5)


def test_kernel_shap_default_l1_reg_zeroes_cells_when_asked():
    # shap's own default l1_reg="num_features(10)" keeps at most 10 of 15 cells.
    model = models.build_lstm(5, 3, units=4, seed=0)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((2, 5, 3)).astype(np.float32)
    background = rng.standard_normal((5, 5, 3)).astype(np.float32)
    values = shapley.kernel_shap(model, X, background=background, nsamples=200, l1_reg="num_features(10)")
    assert ((values.reshape(2, -1) != 0).sum(axis=1) <= 10).all()
    values = shapley.kernel_shap(model, X, background=background, nsamples=200)
    assert ((values.reshape(2, -1) != 0).sum(axis=1) == 15).all()


def test_kernel_shap_is_reproducible(lstm, data):
    X, background = data
    a = shapley.kernel_shap(lstm, X, background=background, nsamples=20, seed=1)
    b = shapley.kernel_shap(lstm, X, background=background, nsamples=20, seed=1)
    np.testing.assert_array_equal(a, b)


# --- aggregation and labels ---------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_aggregate_keeps_totals(n, t, f, seed):
    values = np.random.default_rng(seed).standard_normal((n, t, f))
    per_feature = shapley.aggregate(values, over="time")
    per_step = shapley.aggregate(values, over="feature")
    assert per_feature.shape == (n, f) and per_step.shape == (n, t)
    np.testing.assert_allclose(per_feature.sum(axis=1), values.sum(axis=(1, 2)))
    np.testing.assert_allclose(per_step.sum(axis=1), values.sum(axis=(1, 2)))
    assert (shapley.aggregate(values, "time", absolute=True) >= np.abs(per_feature) - 1e-12).all()


def test_cell_labels_are_row_major():
    labels = shapley.cell_labels(["open", "close"], ["t-1", "t"])
    assert labels == ["open@t-1", "close@t-1", "open@t", "close@t"]


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape", [(7, T * F), (7, T, F + 1), (7, T + 1, F), (0, T, F), (1, 7, T, F)]
)
def test_background_of_wrong_shape_is_rejected(lstm, data, shape):
    X, _ = data
    with pytest.raises(ValueError, match=r"expected background of shape \(m, 3, 2\).*got shape"):
        shapley.exact_shapley(lstm, X, background=np.zeros(shape, np.float32))
    with pytest.raises(ValueError, match=r"expected background of shape"):
        shapley.kernel_shap(lstm, X, background=np.zeros(shape, np.float32))


def test_non_finite_background_is_rejected(lstm, data):
    X, background = data
    bad = background.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite values in background"):
        shapley.exact_shapley(lstm, X, background=bad)


def test_x_of_wrong_shape_is_rejected(lstm, data):
    _, background = data
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 3, 2\)"):
        shapley.exact_shapley(lstm, np.zeros((2, 4, 2), np.float32), background=background)


def test_coalition_values_at_the_ends_and_bad_masks(lstm, data):
    X, background = data
    masks = shapley.coalition_masks(T * F)
    v = shapley.coalition_values(lstm, X, background, masks[[0, -1]])
    np.testing.assert_allclose(v[:, 0], shapley.expected_value(lstm, background), atol=1e-6)
    np.testing.assert_allclose(v[:, 1], models.forward(lstm, X), atol=1e-6)
    with pytest.raises(ValueError, match=r"expected masks of shape \(K, 6\).*got \(4, 5\)"):
        shapley.coalition_values(lstm, X, background, np.ones((4, 5), bool))


def test_too_many_cells_for_exact_points_to_the_alternatives():
    model = models.build_lstm(6, 3, units=2, seed=0)
    X = np.zeros((1, 6, 3), np.float32)
    with pytest.raises(
        ValueError, match=r"at most 16 players.*got 18 \(cell players of T \* F = 6 \* 3.*kernel_shap.*gradient_shap"
    ):
        shapley.exact_shapley(model, X, background=X)


def test_bad_nsamples_and_aggregate_axis_are_rejected(lstm, data):
    X, background = data
    with pytest.raises(ValueError, match="positive integer for nsamples"):
        shapley.kernel_shap(lstm, X, background=background, nsamples=0)
    with pytest.raises(ValueError, match="positive integer for nsamples"):
        shapley.gradient_shap(lstm, X, background=background, nsamples=-3)
    with pytest.raises(ValueError, match='expected over="time".*got \'cells\''):
        shapley.aggregate(np.zeros((1, T, F)), over="cells")
    with pytest.raises(ValueError, match=r"expected values of shape \(n, T, F\)"):
        shapley.aggregate(np.zeros((T, F)), over="time")


# --- the contract: every baseline form, players, targets, empty batches ---------------------


def test_exact_shapley_accepts_every_baseline_form(data):
    X, _ = data
    w = np.random.default_rng(6).standard_normal((T, F))
    model = linear_model(w)
    for background, b in (("zeros", 0.0), (0.5, 0.5), (np.full((T, F), 0.5), 0.5), (np.full((1, T, F), 0.5), 0.5)):
        phi = shapley.exact_shapley(model, X, background=background)
        np.testing.assert_allclose(phi, w * (X - b), atol=1e-5)


def test_time_players_are_the_step_sums_on_a_linear_model(data):
    X, background = data
    w = np.random.default_rng(7).standard_normal((T, F))
    model = linear_model(w)
    cells = w * (X - background.mean(axis=0))
    expected = np.repeat(cells.sum(axis=2, keepdims=True), F, axis=2)  # repeated over features
    for explain in (shapley.exact_shapley, shapley.kernel_shap):
        np.testing.assert_allclose(explain(model, X, background=background, players="time"), expected, atol=1e-5)
    feature = shapley.exact_shapley(model, X, background=background, players="feature")
    np.testing.assert_allclose(feature, np.repeat(cells.sum(axis=1, keepdims=True), T, axis=1), atol=1e-5)


def test_gradient_shap_draws_what_shap_draws(lstm, data):
    X, background = data
    explainer = shap.GradientExplainer(lstm, background, batch_size=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = np.asarray(explainer.shap_values(X, nsamples=16, rseed=3)).reshape(X.shape)
    ours = shapley.gradient_shap(lstm, X, background=background, nsamples=16, seed=3)
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_classifier_targets(data):
    X, background = data
    model = models.build_lstm(T, F, units=3, n_outputs=3, output_activation="softmax", seed=2)
    probs = models.outputs(model, X)
    for k in range(3):
        phi = shapley.exact_shapley(model, X, background=background, target=k)
        expected_k = models.outputs(model, background)[:, k].mean()
        np.testing.assert_allclose(phi.reshape(len(X), -1).sum(axis=1), probs[:, k] - expected_k, atol=1e-5)
    predicted = shapley.gradient_shap(model, X, background=background, target="predicted", nsamples=8)
    assert predicted.shape == X.shape and np.isfinite(predicted).all()
    with pytest.raises(ValueError, match="output shape \\(None, 3\\)"):
        shapley.kernel_shap(model, X, background=background)


def test_coalition_masks_refuse_before_allocating():
    with pytest.raises(ValueError, match="at most 16 players .* got 40 .* GiB"):
        shapley.coalition_masks(40)


def test_empty_batches_give_empty_results(lstm, data):
    _, background = data
    empty = np.zeros((0, T, F), np.float32)
    for explain in (shapley.kernel_shap, shapley.gradient_shap, shapley.exact_shapley):
        assert explain(lstm, empty, background=background).shape == (0, T, F)
    with pytest.raises(ValueError, match=r"background of shape \(m, 3, 2\).* with m >= 1.*got shape \(0, 3, 2\)"):
        shapley.kernel_shap(lstm, background, background=empty)
