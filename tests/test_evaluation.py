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
