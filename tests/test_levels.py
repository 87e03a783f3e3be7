"""helpers.levels: one named-axis reduce / broadcast, and the resolution registry."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers import levels

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def maps(square=False):
    """(n, T, F) float arrays; with ``square`` T == F, the shape that used to transpose."""

    def shape(dims):
        n, T, F = dims
        return (n, T, T) if square else (n, T, F)

    dims = st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 5))
    return dims.map(shape).flatmap(lambda s: hnp.arrays(np.float64, s, elements=finite))


def test_hand_computed_sums():
    A = np.arange(12, dtype=float).reshape(1, 3, 4) - 5  # rows -5..-2, -1..2, 3..6
    np.testing.assert_array_equal(levels.aggregate(A, "feature"), [[-14, 2, 18]])
    np.testing.assert_array_equal(levels.aggregate(A, "time"), [[-3, 0, 3, 6]])
    np.testing.assert_array_equal(levels.aggregate(A, "feature", absolute=True), [[14, 4, 18]])
    np.testing.assert_array_equal(levels.aggregate(A, None), A)


@settings(max_examples=60, deadline=None)
@given(A=maps(), over=st.sampled_from(["time", "feature"]))
def test_signed_sums_are_kept(A, over):
    total = A.sum(axis=(1, 2))
    np.testing.assert_allclose(levels.aggregate(A, over).sum(axis=1), total, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(
        levels.aggregate(A, over, absolute=True).sum(axis=1), np.abs(A).sum(axis=(1, 2)),
        rtol=1e-9, atol=1e-6,
    )


@settings(max_examples=60, deadline=None)
@given(A=maps(square=True), over=st.sampled_from(["time", "feature"]))
def test_square_maps_are_never_transposed(A, over):
    reduced = levels.aggregate(A, over)
    back = levels.broadcast(reduced, A.shape, over)
    if over == "feature":  # one value per step, the same for every feature
        expected = np.repeat(A.sum(axis=2)[:, :, None], A.shape[2], axis=2)
    else:  # one value per feature, the same for every step
        expected = np.repeat(A.sum(axis=1)[:, None, :], A.shape[1], axis=1)
    np.testing.assert_array_equal(back, expected)


@settings(max_examples=60, deadline=None)
@given(A=maps(), over=st.sampled_from(["time", "feature"]))
def test_share_undoes_aggregate(A, over):
    reduced = levels.aggregate(A, over)
    back = levels.broadcast(reduced, A.shape, over, share=True)
    np.testing.assert_allclose(levels.aggregate(back, over), reduced, rtol=1e-9, atol=1e-6)


def test_a_square_per_step_map_goes_to_the_steps():
    steps = np.array([[1.0, 2.0, 3.0]])  # (n=1, T=3), F = 3 as well
    out = levels.broadcast(steps, (1, 3, 3), "feature")
    np.testing.assert_array_equal(out[0, :, 0], [1, 2, 3])  # down the time axis
    np.testing.assert_array_equal(out[0, 0, :], [1, 1, 1])  # constant over features
    out = levels.broadcast(steps, (1, 3, 3), "time")
    np.testing.assert_array_equal(out[0, 0, :], [1, 2, 3])  # along the feature axis


def test_boolean_masks_reduce_with_any():
    mask = np.zeros((2, 3, 2), bool)
    mask[0, 1, 1] = True
    np.testing.assert_array_equal(levels.aggregate(mask, "feature"), [[False, True, False], [False] * 3])
    np.testing.assert_array_equal(levels.aggregate(mask, "time"), [[False, True], [False, False]])
    assert levels.broadcast(levels.aggregate(mask, "feature"), mask.shape, "feature").dtype == bool


def test_registry_and_resolution():
    assert set(levels.RESOLUTION.values()) <= set(levels.LEVELS)
    assert levels.resolution("mask_time_steps") == "time"
    assert levels.resolution("feature_sensitivity") == "feature"

    def kernel_shap():  # stands for the function: its name is looked up
        pass

    assert levels.resolution(kernel_shap) == "cell"
    assert levels.resolution("kernel_shap", players="time") == "time"
    for level, over in levels.DROPPED.items():
        assert levels.aggregate(np.ones((1, 2, 3)), over).shape == {
            "cell": (1, 2, 3), "time": (1, 2), "feature": (1, 3)
        }[level]


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: levels.aggregate(np.full((1, 2, 2), np.nan), "time"), "finite values, got 4 NaN"),
        (lambda: levels.aggregate(np.array([[[1, np.inf]]]), "time"), "finite values, got 1 NaN or inf"),
        (lambda: levels.aggregate(np.ones((2, 3)), "time"), "shape \\(n, T, F\\), got shape \\(2, 3\\)"),
        (lambda: levels.aggregate(np.ones((1, 2, 3)), "step"), 'over="time".*got \'step\''),
        (lambda: levels.aggregate(np.array([[["a"]]]), "time"), "real numbers or booleans, got dtype <U1"),
        (lambda: levels.broadcast(np.ones((1, 3)), (1, 2, 3), "feature"),
         "shape \\(1, 2\\) for over='feature'.*got \\(1, 3\\)"),
        (lambda: levels.broadcast(np.ones((1, 2)), (1, 2, 2), None), "shape \\(1, 2, 2\\) for over=None"),
        (lambda: levels.broadcast(np.full((1, 2), np.nan), (1, 2, 2), "time"), "finite values"),
        (lambda: levels.broadcast(np.ones((1, 2)), (1, 2), "time"), "shape as \\(n, T, F\\)"),
        (lambda: levels.broadcast(np.ones((1, 2), bool), (1, 2, 2), "time", share=True), "numeric values"),
        (lambda: levels.resolution("magic"), "method in RESOLUTION .* got 'magic'"),
        (lambda: levels.resolution("kernel_shap", players="pixel"), "players in .* got 'pixel'"),
    ],
)
def test_bad_input(call, expected):
    with pytest.raises(ValueError, match=expected):
        call()
