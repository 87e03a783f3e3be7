"""helpers.evaluation: scores behave as they must on hand-made attributions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import evaluation


def _case(seed=0, n=50, T=6, F=3):
    rng = np.random.default_rng(seed)
    relevance = np.zeros((n, T, F), bool)
    relevance[np.arange(n), rng.integers(0, T, n), rng.integers(0, F, n)] = True
    relevance[np.arange(n), rng.integers(0, T, n), 0] = True
    return rng, relevance


@pytest.mark.parametrize("level", evaluation.LEVELS)
def test_perfect_reverse_and_random(level):
    rng, relevance = _case()
    perfect = relevance.astype(float) + 0.01 * rng.random(relevance.shape)
    assert evaluation.auroc(perfect, relevance, level) == 1.0
    assert evaluation.precision_at_k(perfect, relevance, level) == 1.0
    reverse = 1.0 - relevance.astype(float) + 0.001 * rng.random(relevance.shape)
    if level == "cell":
        assert evaluation.auroc(reverse, relevance, level) == 0.0
    random = rng.normal(size=relevance.shape)
    assert abs(evaluation.auroc(random, relevance, level) - 0.5) < 0.1


def test_sign_does_not_matter_magnitude_does():
    _, relevance = _case(1)
    scores = np.where(relevance, -5.0, 0.1)
    assert evaluation.auroc(scores, relevance) == 1.0
    assert evaluation.auprc(scores, relevance) == 1.0


def test_auprc_of_random_is_near_the_relevant_fraction():
    rng, relevance = _case(2, n=400)
    value = evaluation.auprc(rng.normal(size=relevance.shape), relevance)
    assert abs(value - relevance.mean()) < 0.05


def test_per_sample_scores():
    _, relevance = _case(3, n=10)
    per = evaluation.auroc(relevance.astype(float), relevance, per_sample=True)
    assert per.shape == (10,) and np.all(per == 1.0)


def test_reduce_to_levels():
    A = np.arange(24, dtype=float).reshape(2, 4, 3) - 10
    assert evaluation.reduce_to(A, "time").shape == (2, 4)
    assert evaluation.reduce_to(A, "feature").shape == (2, 3)
    np.testing.assert_allclose(evaluation.reduce_to(A, "time")[0, 0], 10 + 9 + 8)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["kendall", "spearman"]))
def test_rank_agreement_identity_and_reversal(seed, method):
    a = np.random.default_rng(seed).random((3, 5, 2)) + 0.1
    np.testing.assert_allclose(evaluation.rank_agreement(a, 2 * a, method), 1.0)
    np.testing.assert_allclose(evaluation.rank_agreement(a, 1 / a, method), -1.0)


@pytest.mark.parametrize(
    "attribution, relevance, expected",
    [
        (np.zeros((2, 3, 1)), np.zeros((2, 3, 2), bool), "same shape, got \\(2, 3, 1\\) and \\(2, 3, 2\\)"),
        (np.zeros((2, 3, 1)), np.zeros((2, 3, 1), bool), "empty relevance"),
        (np.zeros((2, 3, 1)), np.ones((2, 3, 1), bool), "all True"),
        (np.zeros((2, 3, 1)), np.zeros((2, 3, 1)), "boolean relevance mask, got dtype float64"),
        (np.full((2, 3, 1), np.nan), np.eye(3, dtype=bool)[:2, :, None], "finite attribution"),
        (np.zeros((2, 3)), np.zeros((2, 3), bool), "shape \\(n, T, F\\), got shape \\(2, 3\\)"),
    ],
)
def test_bad_input(attribution, relevance, expected):
    with pytest.raises(ValueError, match=expected):
        evaluation.auroc(attribution, relevance, level="time" if attribution.ndim == 2 else "cell")


def test_bad_level_and_method():
    _, relevance = _case()
    with pytest.raises(ValueError, match="level in .* got 'step'"):
        evaluation.auroc(relevance.astype(float), relevance, level="step")
    with pytest.raises(ValueError, match="kendall.*got 'pearson'"):
        evaluation.rank_agreement(np.ones((1, 2, 1)), np.ones((1, 2, 1)), method="pearson")


# --- deletion curves, the weight-randomisation sanity check ---------------------------------

import keras  # noqa: E402

from helpers import models  # noqa: E402


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
    curve = evaluation.deletion_curve(model, X, contribution, "zeros", fractions=13)
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
        name: evaluation.deletion_auc(evaluation.deletion_curve(model, X, A, "zeros", fractions=13))
        for name, A in {
            "perfect": contribution,
            "random": evaluation.random_attribution(X.shape, seed=3),
            "reverse": 1.0 / contribution,
        }.items()
    }
    assert auc["perfect"] < auc["random"] < auc["reverse"]
    assert abs(auc["random"] - 0.5) < 0.05  # a random order deletes the prediction linearly
    assert 0.0 <= auc["perfect"] and auc["reverse"] <= 1.0


def test_deletion_is_one_batched_forward_pass():
    model, _ = _positive_linear()
    X = np.random.default_rng(3).normal(size=(7, 4, 3)).astype(np.float32)
    with models.count_evaluations() as counter:
        curve = evaluation.deletion_curve(model, X, X, "zeros", fractions=[0.0, 0.25, 0.5, 1.0])
    assert counter.rows == 7 * 4
    assert curve.predictions.shape == (7, 4)


def test_deletion_with_fresh_draws_ends_at_the_same_draw_for_every_ordering():
    model, w = _positive_linear()
    rng = np.random.default_rng(4)
    X = rng.normal(size=(10, 4, 3)).astype(np.float32)
    reference = rng.normal(size=(100, 4, 3)).astype(np.float32)
    a = evaluation.deletion_curve(model, X, X, "draw", reference=reference, seed=1)
    b = evaluation.deletion_curve(model, X, -X[:, ::-1], "draw", reference=reference, seed=1)
    np.testing.assert_allclose(a.predictions[:, -1], b.predictions[:, -1])
    ends = (w * reference).sum(axis=(1, 2))
    distance = np.abs(a.predictions[:, -1][:, None] - ends[None, :]).min(axis=1)
    assert np.all(distance < 1e-4)  # each fully deleted sample is one reference row


def test_ties_are_broken_at_random_not_in_storage_order():
    A = np.zeros((2000, 4, 3))
    first = evaluation.deletion_order(A, seed=0)[:, 0]
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
        (dict(baseline=None), "explicit baseline"),
    ],
)
def test_deletion_bad_input(kwargs, expected):
    model, _ = _positive_linear()
    args = dict(X=np.ones((3, 4, 3), np.float32), attribution=np.ones((3, 4, 3)), baseline="zeros")
    with pytest.raises(ValueError, match=expected):
        evaluation.deletion_curve(model, **(args | kwargs))


def test_no_change_at_all_is_an_error():
    model, _ = _positive_linear()
    X = np.zeros((2, 4, 3), np.float32)
    with pytest.raises(ValueError, match="change the prediction"):
        evaluation.deletion_curve(model, X, np.ones(X.shape), "zeros").auc()
    with pytest.raises(ValueError, match="expected a DeletionCurve, got ndarray"):
        evaluation.deletion_auc(np.zeros(3))


def _saliency(model, X):
    from helpers import gradients

    return gradients.saliency(model, X)


def test_randomize_weights_copies_and_reinitialises_from_the_top(small_lstm):
    X = np.random.default_rng(5).normal(size=(6, 5, 3)).astype(np.float32)
    before = [w.copy() for w in small_lstm.get_weights()]
    same = evaluation.randomize_weights(small_lstm, 0)
    np.testing.assert_allclose(models.forward(same, X), models.forward(small_lstm, X), rtol=1e-6)
    top = evaluation.randomize_weights(small_lstm, 1, seed=1)
    lstm_before = small_lstm.get_layer("lstm").get_weights()
    for a, b in zip(top.get_layer("lstm").get_weights(), lstm_before):
        np.testing.assert_array_equal(a, b)  # only the read-out changed
    assert not np.allclose(top.get_layer("readout").get_weights()[0],
                           small_lstm.get_layer("readout").get_weights()[0])
    for a, b in zip(small_lstm.get_weights(), before):
        np.testing.assert_array_equal(a, b)  # the original is untouched
    with pytest.raises(ValueError, match="n_layers in 0..2 .* got 3"):
        evaluation.randomize_weights(small_lstm, 3)


def test_sanity_check_passes_gradients_and_flags_a_map_that_ignores_the_weights(small_lstm):
    X = np.random.default_rng(6).normal(size=(40, 5, 3)).astype(np.float32)
    saliency = evaluation.sanity_check(small_lstm, X, _saliency)
    assert saliency.layers == ["readout", "lstm"]
    assert saliency.correlation.shape == (2, 40)
    assert saliency.passed, saliency
    the_input = evaluation.sanity_check(small_lstm, X, lambda m, X: X)
    np.testing.assert_allclose(the_input.correlation, 1.0)
    assert not the_input.passed

    def edges(model, X):  # an edge detector over time: no weights involved
        return np.abs(np.diff(X, axis=1, prepend=X[:, :1]))

    assert not evaluation.sanity_check(small_lstm, X, edges).passed


def test_sanity_check_on_a_linear_model(linear_model):
    model, w, _ = linear_model
    X = np.random.default_rng(7).normal(size=(10, 4, 3)).astype(np.float32)
    check = evaluation.sanity_check(model, X, _saliency)
    assert check.layers == [model.layers[-1].name]
    assert check.passed  # the gradient of a linear model is its weights: random weights, random map


def test_sanity_check_bad_input(small_lstm):
    X = np.ones((3, 5, 3), np.float32)
    with pytest.raises(ValueError, match="return shape \\(3, 5, 3\\) \\(like X\\), got \\(3, 5\\)"):
        evaluation.sanity_check(small_lstm, X, lambda m, X: X[:, :, 0])
    with pytest.raises(ValueError, match="constant map for every sample"):
        evaluation.sanity_check(small_lstm, X, lambda m, X: np.zeros(X.shape))
    with pytest.raises(ValueError, match="threshold in \\(0, 1\\], got 0"):
        evaluation.sanity_check(small_lstm, X, _saliency, threshold=0)
    with pytest.raises(ValueError, match="shape \\(n, 5, 3\\) for this model"):
        evaluation.sanity_check(small_lstm, np.ones((3, 4, 3)), _saliency)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 6), T=st.integers(2, 8), F=st.integers(1, 4))
def test_perfect_and_reverse_for_any_mask(seed, n, T, F):
    rng = np.random.default_rng(seed)
    relevance = rng.random((n, T, F)) < 0.3
    relevance.flat[0], relevance.flat[-1] = True, False  # at least one of each
    jitter = 0.01 * rng.random(relevance.shape)
    assert evaluation.auroc(relevance + jitter, relevance) == 1.0
    assert evaluation.auprc(relevance + jitter, relevance) == pytest.approx(1.0)
    assert evaluation.auroc(~relevance + jitter, relevance) == 0.0
