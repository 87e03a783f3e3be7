"""helpers.validation: the contract's resolvers; bad input names expected and given."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers import models, validation

X = np.zeros((2, 4, 3), np.float32)


# --- baselines: one vocabulary ---------------------------------------------------------------


def test_every_baseline_form_resolves_to_one_row_per_sample():
    ref = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    per_sample = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    cases = {
        "zeros": np.zeros((4, 3)),
        1.5: np.full((4, 3), 1.5),
        "mean": ref.mean(axis=0),
    }
    for baseline, expected in cases.items():
        B = validation.resolve_baseline(baseline, X, reference=ref)
        assert B.shape == (2, 4, 3) and B.dtype == np.float32
        np.testing.assert_allclose(B, np.broadcast_to(expected, (2, 4, 3)))
    for form in (np.ones((4, 3)), np.ones((1, 4, 3)), [1.0, 1.0, 1.0]):
        np.testing.assert_array_equal(validation.resolve_baseline(form, X), np.ones((2, 4, 3)))
    np.testing.assert_array_equal(validation.resolve_baseline(per_sample, X), per_sample)


def test_padded_steps_keep_their_own_values():
    Xv = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    valid = np.array([[True, True, False, False], [True, True, True, True]])
    B = validation.resolve_baseline("zeros", Xv, valid=valid)
    np.testing.assert_array_equal(B[0, 2:], Xv[0, 2:])
    assert not B[0, :2].any() and not B[1].any()


@settings(max_examples=40, deadline=None)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5))
def test_baseline_broadcasts_or_lists_the_accepted_forms(shape):
    b = np.ones(shape, np.float32)
    try:
        ok = shape in ((2, 4, 3), (1, 4, 3)) or np.broadcast_to(b, (4, 3)) is not None
    except ValueError:
        ok = False
    if ok:
        assert validation.resolve_baseline(b, X).shape == (2, 4, 3)
    else:
        with pytest.raises(ValueError, match='"zeros", "mean" .*got shape'):
            validation.resolve_baseline(b, X)


@pytest.mark.parametrize(
    "baseline, reference, expected",
    [
        (None, None, "got None"),
        ("median", None, "got the string 'median'"),
        (True, None, "got the bool True"),
        ("mean", None, "reference data .* got reference=None"),
        ("mean", np.zeros((3, 5, 3)), "reference of shape \\(m, 4, 3\\) with m >= 1 .* got reference of shape"),
        ("mean", np.zeros((0, 4, 3)), "reference of shape \\(m, 4, 3\\) with m >= 1 .* got reference of shape \\(0"),
        (np.array([np.nan]), None, "finite values in baseline"),
        (np.array([1e39]), None, "outside float32 range"),
        (np.ones((2, 2)), None, "\\(T, F\\), \\(1, T, F\\), \\(n, T, F\\).*got shape \\(2, 2\\)"),
    ],
)
def test_bad_baselines(baseline, reference, expected):
    with pytest.raises(ValueError, match=expected):
        validation.resolve_baseline(baseline, X, reference)


def test_background_forms():
    assert validation.resolve_background("zeros", (4, 3)).shape == (1, 4, 3)
    assert validation.resolve_background(0.5, (4, 3)).shape == (1, 4, 3)
    assert validation.resolve_background(np.ones((4, 3)), (4, 3)).shape == (1, 4, 3)
    assert validation.resolve_background(np.ones((5, 4, 3)), (4, 3)).shape == (5, 4, 3)
    for bad in (np.ones((0, 4, 3)), np.ones((2, 5, 3)), np.ones(7)):
        with pytest.raises(ValueError, match="background of shape \\(m, 4, 3\\)"):
            validation.resolve_background(bad, (4, 3))


def test_ragged_background_rows_are_cut_or_padded_to_the_batch_length():
    rows = [np.full((6, 3), 1.0), np.full((2, 3), 2.0), np.full((4, 3), 3.0)]
    B = validation.resolve_background(rows, (4, 3), mask_value=-9.0)
    assert B.shape == (3, 4, 3) and B.dtype == np.float32
    np.testing.assert_array_equal(B[0], 1.0)  # cut to its first 4 steps
    np.testing.assert_array_equal(B[1, :2], 2.0)
    np.testing.assert_array_equal(B[1, 2:], -9.0)  # padded with the mask value
    np.testing.assert_array_equal(B[2], 3.0)
    np.testing.assert_array_equal(
        validation.background_steps(B, -9.0), [[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 1]]
    )
    assert validation.background_steps(B, None).all()


def test_ragged_background_takes_the_models_mask_value(masked):
    rows = [np.ones((1, 2)), np.ones((3, 2))]
    B = validation.resolve_background(rows, masked)  # any length: the longest row
    assert B.shape == (2, 3, 2)
    np.testing.assert_array_equal(B[0, 1:], -1.0)
    np.testing.assert_array_equal(validation.resolve_background(rows, (2, 2))[1], 1.0)
    unmasked = models.build_lstm(None, 2, units=2)
    assert validation.resolve_background(rows, unmasked)[0, 2].tolist() == [0.0, 0.0]


@settings(max_examples=30, deadline=None)
@given(T=st.integers(1, 9), F=st.integers(1, 4), value=st.floats(-5, 5, width=32))
def test_per_feature_background_and_baseline_repeat_one_frame_at_every_step(T, F, value):
    frame = np.arange(F, dtype=np.float32) + np.float32(value)
    B = validation.resolve_background(frame, (T, F))
    assert B.shape == (1, T, F)
    np.testing.assert_array_equal(B, np.broadcast_to(frame, (1, T, F)))
    X_any = np.zeros((2, T, F), np.float32)
    np.testing.assert_array_equal(validation.resolve_baseline(frame, X_any), np.broadcast_to(frame, (2, T, F)))


def test_any_length_model_needs_the_batch_for_single_baselines():
    model = models.build_lstm(None, 3, units=2)
    for form in ("zeros", 0.5, np.ones(3)):
        with pytest.raises(ValueError, match="needs the batch's length"):
            validation.resolve_background(form, model)
        assert validation.resolve_background(form, (7, 3)).shape == (1, 7, 3)


@pytest.mark.parametrize(
    "bad, given",
    [
        (np.ones((0, 4, 3)), "got shape \\(0, 4, 3\\)"),
        (np.ones(7), "got shape \\(7,\\)"),
        ("mean", "got 'mean'"),
        (None, "got None"),
        (True, "got True"),
        ([np.ones((3, 3)), np.ones((2, 2))], "got a list with a row of shape \\(2, 2\\)"),
        ([np.ones((3, 3)), np.ones((0, 3))], "got a list with a row of shape \\(0, 3\\)"),
    ],
)
def test_one_background_error_lists_every_accepted_form(bad, given):
    forms = "(m, 4, 3): an (m, T, F) array .* a list of m (T_i, F) arrays .* per-feature (F,)"
    pattern = forms.replace("(", "\\(").replace(")", "\\)")
    with pytest.raises(ValueError, match=pattern + ".*" + given):
        validation.resolve_background(bad, (4, 3))


def test_ragged_background_rows_must_be_finite():
    with pytest.raises(ValueError, match="finite values in background\\[1\\], got 6 NaN"):
        validation.resolve_background([np.ones((3, 3)), np.full((2, 3), np.nan)], (4, 3))


# --- inputs ----------------------------------------------------------------------------------


def test_float64_beyond_float32_is_named_as_such():
    with pytest.raises(ValueError, match="outside float32 range"):
        validation.check_sequences(np.full((1, 2, 3), 1e39))
    with pytest.raises(ValueError, match="got 1 NaN or inf"):
        validation.check_sequences(np.array([[[np.nan, 0.0]]]))


@given(value=st.one_of(st.integers(max_value=0), st.booleans(), st.floats(), st.text()))
def test_positive_int_rejects(value):
    with pytest.raises(ValueError, match="positive integer for k, got"):
        validation.check_positive_int(value, "k")


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0", None])
def test_seed_rejects(seed):
    with pytest.raises(ValueError, match="non-negative integer for seed"):
        validation.check_seed(seed)


def test_sequences_rank():
    with pytest.raises(ValueError, match="rank 3 .* got rank 1 with shape \\(3,\\)"):
        validation.check_sequences(np.zeros(3))
    assert validation.check_sequences(np.zeros((1, 2, 3), np.float64)).dtype == np.float32


@pytest.fixture(scope="module")
def masked():
    return models.build_lstm(None, 2, units=2, mask_value=-1.0, n_outputs=3, output_activation="softmax")


def test_ragged_lists_are_padded_with_the_mask_value(masked):
    seqs = [np.ones((3, 2)), np.full((1, 2), 2.0)]
    Xp, valid = validation.format_inputs(masked, seqs)
    assert Xp.shape == (2, 3, 2)
    np.testing.assert_array_equal(valid, [[True, True, True], [True, False, False]])
    assert np.all(Xp[1, 1:] == -1.0)


def test_fixed_length_masked_model_pads_to_its_length():
    model = models.build_lstm(5, 2, units=2, mask_value=0.0)
    Xp, valid = validation.format_inputs(model, [np.ones((3, 2)), np.ones((2, 2))])
    assert Xp.shape == (2, 5, 2) and valid.sum() == 5
    with pytest.raises(ValueError, match="at most T = 5 steps .* got 6"):
        validation.format_inputs(model, [np.ones((6, 2)), np.ones((2, 2))])


def test_any_length_model_reads_T_from_X():
    model = models.build_lstm(None, 2, units=2)
    Xp, valid = validation.format_inputs(model, np.ones((3, 7, 2)))
    assert Xp.shape == (3, 7, 2) and valid.all()
    assert validation.model_shape(model) == (None, 2)


@pytest.mark.parametrize(
    "bad, expected",
    [
        ([np.ones((3, 2)), np.ones((2, 2))], "equal-length sequences for a model without a Masking layer"),
        ([np.ones((3, 2)), np.ones((2, 3))], "one feature count F"),
        ([np.ones(3), np.ones(2)], "each X\\[i\\] of shape \\(T_i, F\\)"),
        (np.ones((2, 3, 5)), "shape \\(n, T, 2\\) for this model"),
    ],
)
def test_bad_ragged_input(bad, expected):
    plain = models.build_lstm(None, 2, units=2)
    model = models.build_lstm(None, 2, units=2, mask_value=0.0) if "feature count" in expected or "T_i" in expected else plain
    with pytest.raises(ValueError, match=expected):
        validation.format_inputs(model, bad)


def test_two_input_models_are_refused_clearly():
    a, b = keras.Input((4, 3)), keras.Input((4, 3))
    model = keras.Model([a, b], keras.layers.Dense(1)(keras.layers.Flatten()(a + b)))
    with pytest.raises(ValueError, match="one \\(n, T, F\\) input, got 2 inputs"):
        validation.format_inputs(model, X)


# --- targets ---------------------------------------------------------------------------------


def test_target_forms(masked):
    Xs = np.random.default_rng(0).normal(size=(4, 3, 2)).astype(np.float32)
    assert validation.resolve_target(masked, Xs, 2).tolist() == [2, 2, 2, 2]
    assert validation.resolve_target(masked, Xs, np.array([0, 1, 2, 0])).tolist() == [0, 1, 2, 0]
    predicted = validation.resolve_target(masked, Xs, "predicted")
    np.testing.assert_array_equal(predicted, models.outputs(masked, Xs).argmax(axis=1))


@pytest.mark.parametrize(
    "target, expected",
    [
        (None, "output shape \\(None, 3\\) \\(3 outputs\\): an int in \\[0, 3\\), \"predicted\""),
        (3, "target in \\[0, 3\\)"),
        (-1, "target in \\[0, 3\\)"),
        ("largest", "got the string 'largest'"),
        (1.0, "dtype float64"),
        (True, "got True"),
        (np.array([0, 1]), "shape \\(2,\\)"),
    ],
)
def test_bad_targets(masked, target, expected):
    with pytest.raises(ValueError, match=expected):
        validation.resolve_target(masked, np.zeros((4, 3, 2), np.float32), target)
