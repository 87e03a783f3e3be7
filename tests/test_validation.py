"""helpers.validation: baselines resolve explicitly; bad input names expected and given."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers import validation

X = np.zeros((2, 4, 3), np.float32)


def test_baseline_kinds():
    assert validation.check_baseline("zeros", X).shape == (4, 3)
    ref = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    np.testing.assert_allclose(validation.check_baseline("mean", X, ref), ref.mean(axis=0))
    np.testing.assert_allclose(validation.check_baseline(1.5, X), np.full((4, 3), 1.5))
    np.testing.assert_allclose(validation.check_baseline([1, 2, 3], X)[2], [1, 2, 3])
    assert validation.check_baseline(np.ones((2, 4, 3)), X).shape == (2, 4, 3)


@settings(max_examples=40, deadline=None)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=5))
def test_baseline_broadcasts_or_raises_clearly(shape):
    b = np.ones(shape, np.float32)
    try:
        expected = np.broadcast_to(b, (4, 3))
    except ValueError:
        with pytest.raises(ValueError, match="broadcastable to \\(T, F\\) = \\(4, 3\\).*got shape"):
            validation.check_baseline(b, X)
    else:
        np.testing.assert_array_equal(validation.check_baseline(b, X), expected)


@pytest.mark.parametrize(
    "baseline, reference, expected",
    [
        (None, None, "explicit baseline"),
        ("median", None, 'got the string \'median\''),
        ("mean", None, "reference data"),
        ("mean", np.zeros((3, 5, 3)), "reference of shape \\(m, 4, 3\\), got \\(3, 5, 3\\)"),
        (np.array([np.nan]), None, "finite baseline"),
        (np.ones((2, 2)), None, "got shape \\(2, 2\\)"),
    ],
)
def test_bad_baselines(baseline, reference, expected):
    with pytest.raises(ValueError, match=expected):
        validation.check_baseline(baseline, X, reference)


@given(value=st.one_of(st.integers(max_value=0), st.booleans(), st.floats(), st.text()))
def test_positive_int_rejects(value):
    with pytest.raises(ValueError, match="positive integer for k, got"):
        validation.check_positive_int(value, "k")


def test_sequences_rank_and_finiteness():
    with pytest.raises(ValueError, match="rank 3 .* got rank 1 with shape \\(3,\\)"):
        validation.check_sequences(np.zeros(3))
    with pytest.raises(ValueError, match="got 1 NaN or inf"):
        validation.check_sequences(np.array([[[np.nan, 0.0]]]))
    assert validation.check_sequences(np.zeros((1, 2, 3), np.float64)).dtype == np.float32
