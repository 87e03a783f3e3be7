"""helpers.checks: deletion / insertion curves and the weight-randomisation sanity check."""

import keras
import numpy as np
import pytest

from helpers import checks, engine, models, scores


def _positive_linear(T=4, F=3, seed=0):
    """f(x) = sum(w * x) with positive weights: the true contribution of a cell is w * x."""
    w = np.random.default_rng(seed).uniform(0.5, 2.0, size=(T, F)).astype(np.float32)
    inputs = keras.Input((T, F))
    out = keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, out)
    model.layers[-1].set_weights([w.reshape(-1, 1)])
    return model, w


def test_deletion_by_true_contribution_decreases_the_prediction_monotonically():
    model, w = _positive_linear()
    X = np.random.default_rng(1).uniform(0.1, 1.0, size=(20, 4, 3)).astype(np.float32)
    contribution = w * X
    curve = checks.deletion_curve(model, X, contribution, baseline="zeros", fractions=13)
    p = curve.predictions
    np.testing.assert_allclose(p[:, 0], (w * X).sum(axis=(1, 2)), rtol=1e-5)  # nothing deleted
    np.testing.assert_allclose(p[:, -1], 0.0, atol=1e-6)  # everything replaced by 0
    assert np.all(np.diff(p, axis=1) < 0)  # each step deletes a positive contribution
    # ... and the largest first: the drops shrink step by step (the curve is convex).
    assert np.all(np.diff(p, n=2, axis=1) >= -1e-5)
    r = curve.remaining()
    assert r[0] == 1.0 and r[-1] == 0.0 and np.all(np.diff(r) < 0)


def test_deletion_auc_ranks_perfect_random_and_reverse():
    model, w = _positive_linear()
    X = np.random.default_rng(2).uniform(0.1, 1.0, size=(50, 4, 3)).astype(np.float32)
    contribution = w * X
    auc = {
        name: checks.deletion_auc(checks.deletion_curve(model, X, A, baseline="zeros", fractions=13))
        for name, A in {
            "perfect": contribution,
            "random": scores.random_attribution(X.shape, seed=3),
            "reverse": 1.0 / contribution,
        }.items()
    }
    assert auc["perfect"] < auc["random"] < auc["reverse"]
    assert abs(auc["random"] - 0.5) < 0.05  # a random order deletes the prediction linearly
    assert 0.0 <= auc["perfect"] and auc["reverse"] <= 1.0


def test_deletion_is_one_batched_forward_pass():
    model, _ = _positive_linear()
    X = np.random.default_rng(3).normal(size=(7, 4, 3)).astype(np.float32)
    with engine.count_evaluations() as counter:
        curve = checks.deletion_curve(model, X, X, baseline="zeros", fractions=[0.0, 0.25, 0.5, 1.0])
    assert counter.rows == 7 * 4
    assert curve.predictions.shape == (7, 4)


def test_deletion_with_fresh_draws_ends_at_the_same_draw_for_every_ordering():
    model, w = _positive_linear()
    rng = np.random.default_rng(4)
    X = rng.normal(size=(10, 4, 3)).astype(np.float32)
    reference = rng.normal(size=(100, 4, 3)).astype(np.float32)
    a = checks.deletion_curve(model, X, X, baseline="draw", reference=reference, seed=1)
    b = checks.deletion_curve(model, X, -X[:, ::-1], baseline="draw", reference=reference, seed=1)
    np.testing.assert_allclose(a.predictions[:, -1], b.predictions[:, -1])
    ends = (w * reference).sum(axis=(1, 2))
    distance = np.abs(a.predictions[:, -1][:, None] - ends[None, :]).min(axis=1)
    assert np.all(distance < 1e-4)  # each fully deleted sample is one reference row


def test_ties_are_broken_at_random_not_in_storage_order():
    A = np.zeros((2000, 4, 3))
    first = scores.deletion_order(A, seed=0)[:, 0]
    counts = np.bincount(first, minlength=12)
    assert counts.min() > 100  # every cell is deleted first about 1/12 of the time


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(attribution=np.zeros((3, 4, 2))), "attribution of shape \\(3, 4, 3\\) \\(like X\\), got \\(3, 4, 2\\)"),
        (dict(attribution=np.full((3, 4, 3), np.nan)), "finite attribution"),
        (dict(fractions=[0.0, 0.5]), "increasing fractions from 0 to 1"),
        (dict(fractions=[0.0, 0.6, 0.4, 1.0]), "increasing fractions"),
        (dict(fractions=1), "at least 2 fractions"),
        (dict(baseline="draw"), "reference data .* baseline=\"draw\", got None"),
        (dict(baseline="draw", reference=np.zeros((5, 4, 2))), "reference of shape \\(m, 4, 3\\)"),
        (dict(baseline=None), "baselines are explicit arguments"),
    ],
)
def test_deletion_bad_input(kwargs, expected):
    model, _ = _positive_linear()
    args = dict(X=np.ones((3, 4, 3), np.float32), attribution=np.ones((3, 4, 3)), baseline="zeros")
    with pytest.raises(ValueError, match=expected):
        checks.deletion_curve(model, **(args | kwargs))


def test_no_change_at_all_is_an_error():
    model, _ = _positive_linear()
    X = np.zeros((2, 4, 3), np.float32)
    with pytest.raises(ValueError, match="change the prediction"):
        checks.deletion_curve(model, X, np.ones(X.shape), baseline="zeros").auc()
    with pytest.raises(ValueError, match="expected a DeletionCurve, got ndarray"):
        checks.deletion_auc(np.zeros(3))


def _saliency(model, X):
    from helpers import gradients

    return gradients.saliency(model, X)


def test_randomize_weights_copies_and_reinitialises_from_the_top(small_lstm):
    X = np.random.default_rng(5).normal(size=(6, 5, 3)).astype(np.float32)
    before = [w.copy() for w in small_lstm.get_weights()]
    same = checks.randomize_weights(small_lstm, 0)
    np.testing.assert_allclose(models.forward(same, X), models.forward(small_lstm, X), rtol=1e-6)
    top = checks.randomize_weights(small_lstm, 1, seed=1)
    lstm_before = small_lstm.get_layer("lstm").get_weights()
    for a, b in zip(top.get_layer("lstm").get_weights(), lstm_before):
        np.testing.assert_array_equal(a, b)  # only the read-out changed
    assert not np.allclose(top.get_layer("readout").get_weights()[0],
                           small_lstm.get_layer("readout").get_weights()[0])
    for a, b in zip(small_lstm.get_weights(), before):
        np.testing.assert_array_equal(a, b)  # the original is untouched
    with pytest.raises(ValueError, match="n_layers in 0..2 .* got 3"):
        checks.randomize_weights(small_lstm, 3)


def test_sanity_check_passes_gradients_and_flags_a_map_that_ignores_the_weights(small_lstm):
    X = np.random.default_rng(6).normal(size=(40, 5, 3)).astype(np.float32)
    saliency = checks.sanity_check(small_lstm, X, _saliency)
    assert saliency.layers == ["readout", "lstm"]
    assert saliency.correlation.shape == (2, 40)
    assert saliency.passed, saliency
    the_input = checks.sanity_check(small_lstm, X, lambda m, X: X)
    np.testing.assert_allclose(the_input.correlation, 1.0)
    assert not the_input.passed

    def edges(model, X):  # an edge detector over time: no weights involved
        return np.abs(np.diff(X, axis=1, prepend=X[:, :1]))

    assert not checks.sanity_check(small_lstm, X, edges).passed


def test_sanity_check_on_a_linear_model(linear_model):
    model, w, _ = linear_model
    X = np.random.default_rng(7).normal(size=(10, 4, 3)).astype(np.float32)
    check = checks.sanity_check(model, X, _saliency)
    assert check.layers == [model.layers[-1].name]
    assert check.passed  # the gradient of a linear model is its weights: random weights, random map


def test_sanity_check_bad_input(small_lstm):
    X = np.ones((3, 5, 3), np.float32)
    with pytest.raises(ValueError, match="return shape \\(3, 5, 3\\) \\(like X\\), got \\(3, 5\\)"):
        checks.sanity_check(small_lstm, X, lambda m, X: X[:, :, 0])
    with pytest.raises(ValueError, match="constant map for every sample"):
        checks.sanity_check(small_lstm, X, lambda m, X: np.zeros(X.shape))
    with pytest.raises(ValueError, match="threshold in \\(0, 1\\], got 0"):
        checks.sanity_check(small_lstm, X, _saliency, threshold=0)
    with pytest.raises(ValueError, match="shape \\(n, 5, 3\\) for this model"):
        checks.sanity_check(small_lstm, np.ones((3, 4, 3)), _saliency)




# --- insertion, blocks within the row budget, targets, variable length -------------------


def test_insertion_by_true_contribution_recovers_the_prediction_fastest():
    model, w = _positive_linear()
    X = np.random.default_rng(8).uniform(0.1, 1.0, size=(30, 4, 3)).astype(np.float32)
    contribution = w * X
    curve = checks.insertion_curve(model, X, contribution, baseline="zeros", fractions=13)
    p = curve.predictions
    np.testing.assert_allclose(p[:, 0], 0.0, atol=1e-6)  # nothing inserted: f(0) = 0
    np.testing.assert_allclose(p[:, -1], contribution.sum(axis=(1, 2)), rtol=1e-5)
    assert np.all(np.diff(p, axis=1) > 0)
    assert np.all(np.diff(p, n=2, axis=1) <= 1e-5)  # largest first: concave
    r = curve.recovered()
    assert r[0] == 0.0 and r[-1] == 1.0
    auc = {
        name: checks.insertion_auc(checks.insertion_curve(model, X, A, baseline="zeros", fractions=13))
        for name, A in {
            "perfect": contribution,
            "random": scores.random_attribution(X.shape, seed=3),
            "reverse": 1.0 / contribution,
        }.items()
    }
    assert auc["perfect"] > auc["random"] > auc["reverse"]
    assert abs(auc["random"] - 0.5) < 0.05
    with pytest.raises(ValueError, match="expected an InsertionCurve, got DeletionCurve"):
        checks.insertion_auc(checks.deletion_curve(model, X, contribution, baseline="zeros"))
    with pytest.raises(ValueError, match="expected a DeletionCurve, got InsertionCurve"):
        checks.deletion_auc(curve)


def test_curves_run_in_blocks_within_the_row_budget(monkeypatch):
    model, _ = _positive_linear()
    X = np.random.default_rng(9).normal(size=(23, 4, 3)).astype(np.float32)
    A = np.random.default_rng(10).normal(size=X.shape)
    whole = checks.deletion_curve(model, X, A, baseline="zeros", fractions=5).predictions
    calls = []
    forward = models.forward

    def counting(model, X, **kwargs):
        calls.append(len(X))
        return forward(model, X, **kwargs)

    monkeypatch.setattr(engine, "MAX_ROWS", 20)  # 4 samples of 5 rows per block
    monkeypatch.setattr(models, "forward", counting)
    blocked = checks.deletion_curve(model, X, A, baseline="zeros", fractions=5).predictions
    assert max(calls) <= 20 and sum(calls) == 23 * 5 and len(calls) == 6
    np.testing.assert_allclose(blocked, whole, rtol=1e-6)


def test_the_target_is_fixed_from_x_not_from_the_copies():
    model = models.build_lstm(5, 3, units=4, seed=1, n_outputs=3, output_activation="softmax")
    X = np.random.default_rng(11).normal(size=(12, 5, 3)).astype(np.float32)
    predicted = models.outputs(model, X).argmax(axis=1)
    curve = checks.deletion_curve(model, X, X, baseline="zeros", fractions=3, target="predicted")
    np.testing.assert_allclose(curve.predictions[:, 0], models.outputs(model, X).max(axis=1), rtol=1e-5)
    at_zero = models.outputs(model, np.zeros_like(X))[np.arange(12), predicted]
    np.testing.assert_allclose(curve.predictions[:, -1], at_zero, rtol=1e-5)
    with pytest.raises(ValueError, match="target"):
        checks.deletion_curve(model, X, X, baseline="zeros")  # three outputs and no target


def test_ragged_input_deletes_only_real_cells_and_matches_unpadded_runs():
    model = models.build_lstm(None, 2, units=4, seed=2, mask_value=0.0)
    rng = np.random.default_rng(12)
    lengths = [3, 6, 4]
    seqs = [rng.uniform(0.5, 1.5, size=(t, 2)).astype(np.float32) for t in lengths]
    A = rng.normal(size=(3, 6, 2))
    for i, t in enumerate(lengths):
        A[i, t:] = 0.0  # attributions are exactly 0 at padded steps
    curve = checks.deletion_curve(model, seqs, A, baseline=-1.0, fractions=4)
    for i, t in enumerate(lengths):
        alone = checks.deletion_curve(model, seqs[i][None], A[i : i + 1, :t], baseline=-1.0, fractions=4)
        np.testing.assert_allclose(curve.predictions[i], alone.predictions[0], atol=1e-5)


def test_empty_batches_are_clear_errors(small_lstm):
    X = np.zeros((0, 5, 3), np.float32)
    with pytest.raises(ValueError, match="at least one sequence in X, got shape \\(0, 5, 3\\)"):
        checks.deletion_curve(small_lstm, X, X, baseline="zeros")
    with pytest.raises(ValueError, match="at least one sequence in X"):
        checks.insertion_curve(small_lstm, X, X, baseline="zeros")
    with pytest.raises(ValueError, match="at least one sequence in X"):
        checks.sanity_check(small_lstm, X, lambda m, X: X)


def test_building_clones_leaves_the_global_random_state_alone(small_lstm):
    np.random.seed(123)  # noqa: NPY002
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    checks.randomize_weights(small_lstm, 1, seed=5)
    assert np.random.random() == expected  # noqa: NPY002


def test_sanity_check_on_padded_sequences_ranks_only_their_real_cells():
    from helpers import gradients, validation

    model = models.build_lstm(None, 2, units=6, seed=4, mask_value=0.0)
    rng = np.random.default_rng(13)
    lengths = [7, 3, 5]
    seqs = [rng.uniform(0.5, 1.5, size=(t, 2)).astype(np.float32) for t in lengths]
    check = checks.sanity_check(model, seqs, _saliency)
    for i, seq in enumerate(seqs):  # the same clone weights: each sequence alone agrees
        alone = checks.sanity_check(model, seq[None], _saliency)
        np.testing.assert_allclose(check.correlation[:, i], alone.correlation[:, 0], atol=1e-6)
    # An already padded array finds its padding too (from the Masking layer).
    X, valid = validation.format_inputs(model, seqs)
    np.testing.assert_array_equal(checks.sanity_check(model, X, _saliency).correlation, check.correlation)
    # Counting the padded cells (0 in both maps) would have inflated the agreement.
    fresh, copy = checks._clones(model, 0)
    checks._reinitialise_top(copy, fresh, model, 1)
    inflated = scores.rank_agreement(gradients.saliency(model, X), gradients.saliency(copy, X), "spearman")
    assert np.all(inflated[1:] > check.correlation[0, 1:])  # the two padded sequences


def test_curves_on_a_padded_array_equal_the_ragged_list():
    from helpers import validation

    model = models.build_lstm(None, 2, units=4, seed=2, mask_value=0.0)
    rng = np.random.default_rng(14)
    seqs = [rng.uniform(0.5, 1.5, size=(t, 2)).astype(np.float32) for t in (5, 2, 4)]
    X, valid = validation.format_inputs(model, seqs)
    A = scores.random_attribution(X.shape, seed=1)  # garbage on padding: never ranked
    for curve in (checks.deletion_curve, checks.insertion_curve):
        ragged = curve(model, seqs, A, baseline=-1.0, fractions=5).predictions
        np.testing.assert_array_equal(curve(model, X, A, baseline=-1.0, fractions=5).predictions, ragged)
        for i, s in enumerate(seqs):
            alone = curve(model, s[None], A[i : i + 1, : len(s)], baseline=-1.0, fractions=5).predictions
            np.testing.assert_allclose(ragged[i], alone[0], atol=1e-5)
