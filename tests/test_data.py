"""helpers.data: shapes, determinism, planted masks proven right, Standardizer."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import data

MAKERS = {
    "stock": lambda **kw: data.make_stock_task(noise=0.0, **kw),
    "sum": data.make_sum_task,
    "adding": data.make_adding_problem,
}


@pytest.mark.parametrize("name", MAKERS)
def test_shapes_dtypes_and_split(name):
    task = MAKERS[name](n=200, seed=1)
    n, T, F = task.X.shape
    assert n == 200
    assert task.X.dtype == np.float32 and task.y.dtype == np.float32
    assert task.y.shape == (n,)
    assert task.planted.shape == (n, T, F) and task.planted.dtype == bool
    assert len(task.feature_names) == F and len(task.time_names) == T
    assert task.X_train.shape[0] + task.X_test.shape[0] == n
    assert task.X_train.shape[0] == 150  # default test_fraction 0.25
    assert np.array_equal(task.y_test, task.y[150:])
    assert len(task.cell_names) == T * F


@pytest.mark.parametrize("name", MAKERS)
def test_same_seed_same_data_other_seed_other_data(name):
    a, b, c = MAKERS[name](n=50, seed=7), MAKERS[name](n=50, seed=7), MAKERS[name](n=50, seed=8)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


@pytest.mark.parametrize("name", MAKERS)
def test_target_is_the_documented_function(name):
    task = MAKERS[name](n=100, seed=2)
    np.testing.assert_allclose(task.y, task.target_fn(task.X), rtol=1e-5, atol=1e-5)


def _perturb_outside(task, rng, scale):
    """Add noise to every cell outside the planted mask, keeping values plausible."""
    X = task.X.astype(np.float64).copy()
    noise = rng.normal(scale=scale, size=X.shape)
    X[~task.planted] += noise[~task.planted]
    return X


def test_stock_relevance_mask_is_exact():
    task = MAKERS["stock"](n=300, seed=3)
    rng = np.random.default_rng(0)
    X = _perturb_outside(task, rng, scale=5.0)
    X[..., 2] = np.abs(X[..., 2])  # volume stays positive
    np.testing.assert_allclose(task.target_fn(X), task.target_fn(task.X), atol=1e-6)
    # ...and every relevant cell does move the target.
    for t, f in zip(*np.nonzero(task.planted[0])):
        Y = task.X.astype(np.float64).copy()
        Y[:, t, f] *= 1.5
        assert np.all(task.target_fn(Y) != task.target_fn(task.X))


def test_sum_every_step_relevant_with_unit_influence():
    task = MAKERS["sum"](n=50, seed=3)
    assert task.planted.all()
    for t in range(task.X.shape[1]):
        Y = task.X.astype(np.float64).copy()
        Y[:, t, 0] += 1.0
        np.testing.assert_allclose(task.target_fn(Y) - task.target_fn(task.X), 1.0, atol=1e-9)


def test_adding_relevance_mask_is_exact():
    task = MAKERS["adding"](n=300, seed=3)
    rng = np.random.default_rng(0)
    X = task.X.astype(np.float64).copy()
    outside = ~task.planted
    # Values outside: anything. Markers outside: any change that keeps them "off" (< 0.5).
    X[..., 0][outside[..., 0]] += rng.normal(scale=10.0, size=outside[..., 0].sum())
    X[..., 1][outside[..., 1]] = rng.uniform(-0.49, 0.49, size=outside[..., 1].sum())
    np.testing.assert_allclose(task.target_fn(X), task.target_fn(task.X), atol=1e-9)
    # Exactly two marked steps per sequence, one in each half.
    marked = task.planted.any(axis=2)
    assert np.all(marked.sum(axis=1) == 2)
    T = task.X.shape[1]
    assert np.all(marked[:, : T // 2].sum(axis=1) == 1)
    # Moving a marked value moves the target one-for-one.
    Y = task.X.astype(np.float64).copy()
    Y[..., 0][task.planted[..., 0]] += 1.0
    np.testing.assert_allclose(task.target_fn(Y) - task.target_fn(task.X), 2.0, atol=1e-9)


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: data.make_stock_task(n=0), "positive integer for n"),
        (lambda: data.make_stock_task(n=-5), "positive integer for n"),
        (lambda: data.make_sum_task(n_steps=0), "positive integer for n_steps"),
        (lambda: data.make_adding_problem(n_steps=1), "n_steps >= 2"),
        (lambda: data.make_stock_task(n_steps=2), "n_steps >= 3"),
        (lambda: data.make_stock_task(noise=-1.0), "noise >= 0"),
        (lambda: data.make_sum_task(test_fraction=1.5), "test_fraction strictly between"),
        (lambda: data.make_sum_task(n=1), "large enough for both splits"),
        (lambda: data.make_stock_task(noise=float("nan")), "finite noise >= 0, got nan"),
        (lambda: data.make_adding_problem(operation="multiply"), "operation in .* got 'multiply'"),
        (lambda: data.make_adding_problem(seed=-1), "non-negative integer for seed, got -1"),
        (lambda: data.make_sum_task(seed=1.5), "non-negative integer for seed, got 1.5"),
        (lambda: data.make_stock_task(seed=True), "non-negative integer for seed, got True"),
    ],
)
def test_bad_task_arguments_raise_clear_errors(call, expected):
    with pytest.raises(ValueError, match=expected) as info:
        call()
    assert "got" in str(info.value)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 20),
    T=st.integers(1, 6),
    F=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    loc=st.floats(-1e3, 1e3),
    scale=st.floats(1e-2, 1e3),
)
def test_standardizer_round_trip(n, T, F, seed, loc, scale):
    X = (loc + scale * np.random.default_rng(seed).normal(size=(n, T, F))).astype(np.float32)
    s = data.Standardizer().fit(X)
    Z = s.transform(X)
    assert Z.shape == X.shape and Z.dtype == np.float32
    np.testing.assert_allclose(Z.mean(axis=(0, 1)), 0.0, atol=1e-3)
    np.testing.assert_allclose(s.inverse_transform(Z), X, rtol=1e-4, atol=1e-3 * scale)


def test_standardizer_uses_training_statistics_only():
    train = np.zeros((10, 3, 2), np.float32) + np.array([1.0, 5.0], np.float32)
    train[::2] += 1.0
    test = np.full((4, 3, 2), 100.0, np.float32)
    s = data.Standardizer().fit(train)
    np.testing.assert_allclose(s.mean_, [1.5, 5.5])
    assert np.all(s.transform(test) > 100)  # test data is not re-centred on itself


def test_standardizer_targets_and_constant_feature():
    y = np.array([1.0, 2.0, 3.0], np.float32)
    s = data.Standardizer().fit(y)
    np.testing.assert_allclose(s.inverse_transform(s.transform(y)), y, rtol=1e-6)
    X = np.ones((4, 2, 1), np.float32)
    np.testing.assert_allclose(data.Standardizer().fit_transform(X), 0.0)


@pytest.mark.parametrize(
    "bad, expected",
    [
        (np.zeros((0, 3, 2)), "at least one value to fit on, got shape \\(0, 3, 2\\)"),
        (np.zeros((4, 0, 2)), "at least one value to fit on, got shape \\(4, 0, 2\\)"),
        (np.zeros(0), "at least one value to fit on, got shape \\(0,\\)"),
        (np.zeros((2, 3)), "expected .* got shape \\(2, 3\\)"),
        (np.zeros((2, 3, 4, 5)), "got shape \\(2, 3, 4, 5\\)"),
        (np.full((2, 3, 1), np.nan), "finite"),
    ],
)
def test_standardizer_bad_input(bad, expected):
    with pytest.raises(ValueError, match=expected):
        data.Standardizer().fit(bad)


def test_standardizer_unfitted_and_mismatched():
    with pytest.raises(ValueError, match="fitted Standardizer"):
        data.Standardizer().transform(np.zeros((2, 3, 1)))
    s = data.Standardizer().fit(np.random.default_rng(0).normal(size=(5, 3, 2)))
    with pytest.raises(ValueError, match="2 features.*got shape \\(5, 3, 4\\)"):
        s.transform(np.zeros((5, 3, 4)))


@pytest.mark.parametrize("operation", ["add", "subtract"])
def test_contribution_adds_up_to_the_target(operation):
    task = data.make_adding_problem(n=200, seed=4, operation=operation)
    C = task.contribution
    assert C.shape == task.X.shape and C.dtype == np.float32
    np.testing.assert_allclose(C.sum(axis=(1, 2)), task.y, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(C[:, :, 1], 0.0)  # markers select; values carry the amount
    np.testing.assert_array_equal(C[~task.planted], 0.0)
    assert task.contribution_train.shape == task.X_train.shape


def test_subtracting_is_first_minus_second_on_the_same_inputs():
    add = data.make_adding_problem(n=100, n_steps=10, seed=5)
    sub = data.make_adding_problem(n=100, n_steps=10, seed=5, operation="subtract")
    np.testing.assert_array_equal(add.X, sub.X)
    assert sub.name == "subtracting" and add.name == "adding"
    steps = np.nonzero(sub.X[0, :, 1])[0]
    first, second = sub.X[0, steps[0], 0], sub.X[0, steps[1], 0]
    np.testing.assert_allclose(sub.y[0], first - second, rtol=1e-6)
    np.testing.assert_allclose(sub.contribution[0, steps, 0], [first, -second])
    # Moving the first marked value up moves the target up, the second moves it down.
    Y = sub.X.astype(np.float64).copy()
    Y[0, steps[0], 0] += 1.0
    Y[0, steps[1], 0] += 2.0
    np.testing.assert_allclose(sub.target_fn(Y)[0] - sub.y[0], 1.0 - 2.0, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), T=st.integers(2, 12), operation=st.sampled_from(["add", "subtract"]))
def test_contribution_sums_to_target_for_any_seed(seed, T, operation):
    task = data.make_adding_problem(n=8, n_steps=T, seed=seed, test_fraction=0.5, operation=operation)
    np.testing.assert_allclose(task.contribution.sum(axis=(1, 2)), task.target_fn(task.X), atol=1e-6)


def test_sum_task_contribution_is_each_value_and_stock_has_none():
    task = data.make_sum_task(n=20, seed=1)
    np.testing.assert_array_equal(task.contribution, task.X)
    assert data.make_stock_task(n=20).contribution is None
    assert data.make_stock_task(n=20).contribution_test is None


def test_time_steps_are_named_from_zero_and_relevance_is_a_deprecated_alias():
    """The book numbers steps from 0; ``relevance`` was renamed ``planted`` (LRP keeps the word)."""
    task = data.make_adding_problem(n=8, n_steps=6, seed=0)
    assert task.time_names == [str(t) for t in range(6)]
    for old, new in [("relevance", "planted"), ("relevance_train", "planted_train"),
                     ("relevance_test", "planted_test")]:
        with pytest.warns(DeprecationWarning, match=f"use SequenceTask.{new}"):
            alias = getattr(task, old)
        np.testing.assert_array_equal(alias, getattr(task, new))
