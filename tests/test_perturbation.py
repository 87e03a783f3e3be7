"""Tests for helpers.perturbation: analytic answers on a linear model, shapes, bad input."""

from __future__ import annotations

import analytic
import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import helpers  # noqa: F401
from helpers import engine, perturbation
from helpers.models import count_evaluations

T, F = 5, 3
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def linear_model(weights: np.ndarray, bias: float = 0.3) -> keras.Model:
    """``f(x) = sum(W * x) + bias`` on ``(n, T, F)``."""
    return analytic.linear_model(weights, bias)


@pytest.fixture(scope="module")
def W() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(T, F)).astype(np.float32)


@pytest.fixture(scope="module")
def lin(W) -> keras.Model:
    return linear_model(W)


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return np.random.default_rng(2).normal(size=(6, T, F)).astype(np.float32)


# --- analytic answers on a linear model ---------------------------------------------------


def test_occlusion_is_weight_times_input_minus_baseline(lin, W, X):
    b = np.random.default_rng(3).normal(size=(T, F)).astype(np.float32)
    np.testing.assert_allclose(perturbation.occlusion(lin, X, baseline=b), W * (X - b), atol=1e-5)


def test_occlusion_named_baselines(lin, W, X):
    ref = np.random.default_rng(4).normal(size=(50, T, F)).astype(np.float32)
    np.testing.assert_allclose(perturbation.occlusion(lin, X, baseline="zeros"), W * X, atol=1e-5)
    np.testing.assert_allclose(
        perturbation.occlusion(lin, X, baseline="mean", reference=ref), W * (X - ref.mean(0)), atol=1e-5
    )
    np.testing.assert_allclose(perturbation.occlusion(lin, X, baseline=0.5), W * (X - 0.5), atol=1e-5)


def test_occlusion_full_window_spreads_the_feature_total(lin, W, X):
    out = perturbation.occlusion(lin, X, baseline="zeros", window=T)
    total = (W * X).sum(axis=1, keepdims=True)  # (n, 1, F): all steps of one feature at once
    np.testing.assert_allclose(out, np.broadcast_to(total, X.shape), atol=1e-5)


def test_occlusion_window_is_mean_over_covering_blocks(lin, W, X):
    w = 2
    cell = W * X
    expected = np.zeros_like(cell)
    count = np.zeros((T, 1))
    for p in range(T - w + 1):
        expected[:, p : p + w] += cell[:, p : p + w].sum(axis=1, keepdims=True)
        count[p : p + w] += 1
    np.testing.assert_allclose(perturbation.occlusion(lin, X, baseline="zeros", window=w), expected / count, atol=1e-5)


def test_occlusion_evaluates_all_copies_in_one_batch(lin, X):
    with count_evaluations() as counter:
        perturbation.occlusion(lin, X, baseline="zeros")
    assert counter.rows == X.shape[0] * (T * F + 1)


def test_occlusion_blocks_give_the_same_answer(lin, X, monkeypatch):
    whole = perturbation.occlusion(lin, X, baseline="zeros")
    monkeypatch.setattr(engine, "MAX_ROWS", 20)  # one sample per block
    np.testing.assert_allclose(perturbation.occlusion(lin, X, baseline="zeros"), whole, atol=1e-6)


def test_mask_time_steps_is_the_step_sum(lin, W, X):
    b = np.full((T, F), -0.25, np.float32)
    out = perturbation.mask_time_steps(lin, X, baseline=b)
    assert out.shape == X.shape  # resolution "time": each step's change repeated over features
    expected = (W * (X - b)).sum(axis=2)
    np.testing.assert_allclose(out, np.repeat(expected[:, :, None], F, axis=2), atol=1e-5)


def test_feature_sensitivity_relative(lin, W, X):
    out = perturbation.feature_sensitivity(lin, X, size=0.1, mode="relative")
    assert out.shape == X.shape  # resolution "feature": repeated over steps
    expected = 0.1 * (W * X).sum(axis=1)
    np.testing.assert_allclose(out, np.repeat(expected[:, None], T, axis=1), atol=1e-5)
    one = perturbation.feature_sensitivity(lin, X, feature=2, size=0.1)
    np.testing.assert_allclose(one[:, :, 2], out[:, :, 2], atol=1e-6)
    assert not one[:, :, :2].any()


def test_feature_sensitivity_has_the_sign_of_occlusion(lin, X):
    """Both are positive where the input pushes the output up (relative mode vs a zero baseline)."""
    sens = perturbation.feature_sensitivity(lin, X, size=0.1)[:, 0]  # (n, F)
    occl = perturbation.occlusion(lin, X, baseline="zeros").sum(axis=1)  # (n, F)
    np.testing.assert_allclose(sens, 0.1 * occl, atol=1e-5)


def test_feature_sensitivity_additive(lin, W, X):
    scale = np.array([1.0, 2.0, 0.5])
    out = perturbation.feature_sensitivity(lin, X, size=0.2, mode="additive", scale=scale)
    expected = 0.2 * scale * W.sum(axis=0)
    np.testing.assert_allclose(out, np.broadcast_to(expected, out.shape), atol=1e-5)
    # With no scale given, the feature's standard deviation in X is the unit.
    std = X.reshape(-1, F).std(axis=0)
    out = perturbation.feature_sensitivity(lin, X, size=0.2, mode="additive")
    np.testing.assert_allclose(out[0, 0], 0.2 * std * W.sum(axis=0), atol=1e-5)


def test_relative_perturbation_does_nothing_at_zero(lin):
    X0 = np.zeros((2, T, F), np.float32)
    np.testing.assert_allclose(perturbation.feature_sensitivity(lin, X0), 0.0, atol=1e-7)


def test_noise_sensitivity_linear_and_seeded(lin, W):
    x = np.random.default_rng(5).normal(size=(1, T, F)).astype(np.float32)
    out = perturbation.noise_sensitivity(lin, x, sigma=0.1, n_draws=2000, seed=0)
    assert out.shape == (1, T, F)
    np.testing.assert_allclose(out[0], 0.1 * np.sqrt(2 / np.pi) * np.abs(W), rtol=0.1)
    a = perturbation.noise_sensitivity(lin, x, sigma=0.1, n_draws=8, seed=3)
    b = perturbation.noise_sensitivity(lin, x, sigma=0.1, n_draws=8, seed=3)
    c = perturbation.noise_sensitivity(lin, x, sigma=0.1, n_draws=8, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# --- properties --------------------------------------------------------------------------

baseline_shapes = st.sampled_from([(), (F,), (1, F), (T, 1), (T, F), (1, 1)])


@SETTINGS
@given(n=st.integers(1, 9), shape=baseline_shapes, seed=st.integers(0, 2**16))
def test_occlusion_baseline_broadcasting(lin, W, n, shape, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, F)).astype(np.float32)
    b = rng.normal(size=shape).astype(np.float32)
    out = perturbation.occlusion(lin, X, baseline=b)
    assert out.shape == (n, T, F)
    np.testing.assert_allclose(out, W * (X - np.broadcast_to(b, (T, F))), atol=1e-4)


@SETTINGS
@given(n=st.integers(1, 6), window=st.integers(1, T), seed=st.integers(0, 2**16))
def test_shapes(lin, n, window, seed):
    X = np.random.default_rng(seed).normal(size=(n, T, F)).astype(np.float32)
    assert perturbation.occlusion(lin, X, baseline="zeros", window=window).shape == (n, T, F)
    assert perturbation.mask_time_steps(lin, X, baseline=0.0).shape == (n, T, F)
    assert perturbation.feature_sensitivity(lin, X, mode="additive").shape == (n, T, F)
    assert perturbation.noise_sensitivity(lin, X, n_draws=2).shape == (n, T, F)


@SETTINGS
@given(seed=st.integers(0, 2**16))
def test_per_sample_baseline_matches_looping(lin, W, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3, T, F)).astype(np.float32)
    B = rng.normal(size=(3, T, F)).astype(np.float32)
    out = perturbation.occlusion(lin, X, baseline=B)
    for i in range(3):
        np.testing.assert_allclose(out[i], perturbation.occlusion(lin, X[i : i + 1], baseline=B[i])[0], atol=1e-5)


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("feature", [-1, F, 10, 1.5, "open"])
def test_feature_out_of_range(lin, X, feature):
    with pytest.raises(ValueError, match=r"expected a feature index in \[0, 3\), got"):
        perturbation.feature_sensitivity(lin, X, feature=feature)


def test_bad_mode_and_scale(lin, X):
    with pytest.raises(ValueError, match="expected mode in .* got 'multiply'"):
        perturbation.feature_sensitivity(lin, X, mode="multiply")
    with pytest.raises(ValueError, match=r"expected scale of shape \(3,\).*got shape \(2,\)"):
        perturbation.feature_sensitivity(lin, X, mode="additive", scale=[1.0, 1.0])
    with pytest.raises(ValueError, match="expected a finite number for size, got nan"):
        perturbation.feature_sensitivity(lin, X, size=float("nan"))


@pytest.mark.parametrize("shape", [(2,), (T + 1, F), (T, 2), (4, T, F)])
def test_baseline_that_does_not_broadcast(lin, X, shape):
    with pytest.raises(ValueError, match=r"expected a baseline: \"zeros\", \"mean\".*broadcastable to \(T, F\); got shape"):
        perturbation.occlusion(lin, X, baseline=np.zeros(shape))
    with pytest.raises(ValueError, match="expected a baseline: .*got shape"):
        perturbation.mask_time_steps(lin, X, baseline=np.zeros(shape))


def test_baseline_strings_and_none(lin, X):
    with pytest.raises(ValueError, match='expected reference data .* with baseline="mean", got reference=None'):
        perturbation.occlusion(lin, X, baseline="mean")
    with pytest.raises(ValueError, match="got the string 'median'"):
        perturbation.occlusion(lin, X, baseline="median")
    with pytest.raises(ValueError, match="expected a baseline: .*got None"):
        perturbation.occlusion(lin, X, baseline=None)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input(lin, X, bad):
    Xb = X.copy()
    Xb[0, 1, 2] = bad
    for call in (
        lambda: perturbation.occlusion(lin, Xb, baseline="zeros"),
        lambda: perturbation.mask_time_steps(lin, Xb, baseline="zeros"),
        lambda: perturbation.feature_sensitivity(lin, Xb),
        lambda: perturbation.noise_sensitivity(lin, Xb),
    ):
        with pytest.raises(ValueError, match="expected finite values in X, got 1 NaN or inf"):
            call()


def test_wrong_rank_or_shape(lin, X):
    with pytest.raises(ValueError, match="expected X of rank 3 .* got rank 2"):
        perturbation.occlusion(lin, X[0], baseline="zeros")
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 5, 3\) for this model, got \(6, 4, 3\)"):
        perturbation.occlusion(lin, X[:, :4], baseline="zeros")
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 5, 3\) for this model, got \(6, 5, 2\)"):
        perturbation.mask_time_steps(lin, X[:, :, :2], baseline="zeros")


def test_bad_window_sigma_draws(lin, X):
    with pytest.raises(ValueError, match="expected window <= T = 5, got 6"):
        perturbation.occlusion(lin, X, baseline="zeros", window=6)
    with pytest.raises(ValueError, match="expected a positive integer for window, got 0"):
        perturbation.occlusion(lin, X, baseline="zeros", window=0)
    with pytest.raises(ValueError, match="expected a positive finite number for sigma, got -0.1"):
        perturbation.noise_sensitivity(lin, X, sigma=-0.1)
    with pytest.raises(ValueError, match="expected a positive integer for n_draws, got 0"):
        perturbation.noise_sensitivity(lin, X, n_draws=0)
