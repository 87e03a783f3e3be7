"""helpers.data.make_box_task: a planted block in noise, the only carrier of the target."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import data


@pytest.mark.parametrize(
    "box, bounds",
    [("middle", (5, 15, 1, 4)), ("rare_time", (9, 11, 1, 4)), ("rare_feature", (5, 15, 2, 3))],
)
def test_presets_place_the_block(box, bounds):
    task = data.make_box_task(n=40, box=box)
    assert data.box_bounds(box, 20, 5) == bounds
    t0, t1, f0, f1 = bounds
    expected = np.zeros((20, 5), bool)
    expected[t0:t1, f0:f1] = True
    assert task.planted.shape == (40, 20, 5) and task.planted.dtype == bool
    assert np.all(task.planted == expected)
    assert task.X.dtype == np.float32 and task.y.dtype == np.float32
    assert len(task.feature_names) == 5 and len(task.time_names) == 20


@pytest.mark.parametrize("target", ["mean", "sum"])
def test_target_is_the_block_and_only_the_block(target):
    task = data.make_box_task(n=200, target=target, seed=4)
    t0, t1, f0, f1 = data.box_bounds("middle", 20, 5)
    block = task.X[:, t0:t1, f0:f1].astype(np.float64)
    expected = block.sum(axis=(1, 2)) if target == "sum" else block.mean(axis=(1, 2))
    np.testing.assert_allclose(task.y, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(task.target_fn(task.X), expected, rtol=1e-6, atol=1e-6)
    rng = np.random.default_rng(0)
    X = task.X.astype(np.float64).copy()
    X[~task.planted] += rng.normal(scale=10.0, size=(~task.planted).sum())
    np.testing.assert_allclose(task.target_fn(X), task.target_fn(task.X), atol=1e-9)
    Y = task.X.astype(np.float64).copy()
    Y[:, t0, f0] += 1.0  # one cell of the block moves the target by its weight
    weight = 1.0 if target == "sum" else 1.0 / block[0].size
    np.testing.assert_allclose(task.target_fn(Y) - task.target_fn(task.X), weight, atol=1e-9)


def test_noise_is_added_to_the_target_only():
    clean, noisy = data.make_box_task(n=500, seed=1), data.make_box_task(n=500, noise=0.5, seed=1)
    assert np.array_equal(clean.X, noisy.X)
    residual = noisy.y - noisy.target_fn(noisy.X)
    assert 0.4 < residual.std() < 0.6


def _lag1(X):
    return np.corrcoef(X[:, :-1].ravel(), X[:, 1:].ravel())[0, 1]


@pytest.mark.parametrize("process, coef", [("gaussian", 0.0), ("ar", 0.8), ("ar", -0.5)])
def test_background_processes_have_unit_variance_and_the_right_memory(process, coef):
    X = data.box_background(4000, 20, 3, process=process, ar_coef=coef if process == "ar" else 0.8)
    assert X.shape == (4000, 20, 3) and X.dtype == np.float32
    np.testing.assert_allclose(X.var(axis=(0, 2)), 1.0, atol=0.08)  # stationary: every step
    assert abs(_lag1(X) - coef) < 0.03


def test_same_seed_same_task():
    a, b = data.make_box_task(n=30, seed=5), data.make_box_task(n=30, seed=5)
    c = data.make_box_task(n=30, seed=6)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


@settings(max_examples=30, deadline=None)
@given(
    T=st.integers(2, 12),
    F=st.integers(1, 5),
    data_=st.data(),
)
def test_explicit_bounds(T, F, data_):
    t0 = data_.draw(st.integers(0, T - 1))
    t1 = data_.draw(st.integers(t0 + 1, T))
    f0 = data_.draw(st.integers(0, F - 1))
    f1 = data_.draw(st.integers(f0 + 1, F))
    if (t1 - t0) * (f1 - f0) == T * F:
        with pytest.raises(ValueError, match="smaller than the whole"):
            data.make_box_task(n=10, n_steps=T, n_features=F, box=(t0, t1, f0, f1))
        return
    task = data.make_box_task(n=10, n_steps=T, n_features=F, box=(t0, t1, f0, f1))
    assert task.planted[0].sum() == (t1 - t0) * (f1 - f0)
    assert task.planted[:, t0:t1, f0:f1].all()


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(box="corner"), "box in .* got 'corner'"),
        (dict(box=(0, 30, 0, 2)), "t1 <= 20 .* got"),
        (dict(box=(3, 3, 0, 2)), "0 <= t0 < t1"),
        (dict(box=(0, 2)), "got \\(0, 2\\)"),
        (dict(box=(0, 20, 0, 5)), "smaller than the whole \\(20, 5\\)"),
        (dict(background="pink"), "process in .* got 'pink'"),
        (dict(background="ar", ar_coef=1.0), "ar_coef strictly between -1 and 1, got 1.0"),
        (dict(target="max"), "target \"mean\" or \"sum\", got 'max'"),
        (dict(noise=-0.1), "noise >= 0, got -0.1"),
        (dict(n_features=0), "positive integer for n_features"),
        (dict(n=1), "large enough for both splits"),
        (dict(noise=float("nan")), "finite noise >= 0, got nan"),
        (dict(noise=float("inf")), "finite noise >= 0, got inf"),
        (dict(noise="0.1"), "noise as a number >= 0, got '0.1'"),
        (dict(box=(1.7, 3, 0, 1)), "integer bounds .* got \\(1.7, 3, 0, 1\\)"),
        (dict(box=(True, 3, 0, 1)), "integer bounds"),
        (dict(box=5), "integer bounds .* got 5"),
        (dict(n_steps=2, n_features=2), "smaller than the whole \\(2, 2\\) input, got 'middle'"),
        (dict(n_steps=1, n_features=1, box="rare_time"), "smaller than the whole \\(1, 1\\)"),
        (dict(seed=-1), "non-negative integer for seed, got -1"),
        (dict(seed=1.5), "non-negative integer for seed, got 1.5"),
    ],
)
def test_bad_arguments(kwargs, expected):
    with pytest.raises(ValueError, match=expected):
        data.make_box_task(**({"n": 20} | kwargs))


@pytest.mark.parametrize("T, F", [(1, 1), (1, 2), (2, 1), (2, 2), (3, 3), (4, 1), (1, 4), (4, 4)])
@pytest.mark.parametrize("box", data.BOX_PRESETS)
def test_presets_at_tiny_sizes_leave_a_cell_out_or_say_why(T, F, box):
    try:
        t0, t1, f0, f1 = data.box_bounds(box, T, F)
    except ValueError as err:
        assert "smaller than the whole" in str(err)
        return
    assert 0 < (t1 - t0) * (f1 - f0) < T * F


@pytest.mark.parametrize("target", ["mean", "sum"])
def test_contribution_is_the_exact_linear_share(target):
    task = data.make_box_task(n=40, n_steps=8, n_features=4, box=(2, 5, 1, 3), target=target,
                              noise=0.3, seed=2)
    C = task.contribution
    assert C.shape == task.X.shape and C.dtype == np.float32
    np.testing.assert_array_equal(C[~task.planted], 0.0)
    weight = 1.0 if target == "sum" else 1.0 / 6  # a 3 x 2 block
    np.testing.assert_allclose(C[task.planted], weight * task.X[task.planted], rtol=1e-6)
    # The shares add up to the noise-free target (not to y, which has noise).
    np.testing.assert_allclose(C.sum(axis=(1, 2)), task.target_fn(task.X), rtol=1e-5, atol=1e-5)
    assert task.contribution_test.shape == task.X_test.shape
