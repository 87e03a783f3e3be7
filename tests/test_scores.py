"""helpers.scores: scores behave as they must on hand-made attributions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import levels, scores


def _case(seed=0, n=50, T=6, F=3):
    rng = np.random.default_rng(seed)
    planted = np.zeros((n, T, F), bool)
    planted[np.arange(n), rng.integers(0, T, n), rng.integers(0, F, n)] = True
    planted[np.arange(n), rng.integers(0, T, n), 0] = True
    return rng, planted


@pytest.mark.parametrize("level", levels.LEVELS)
def test_perfect_reverse_and_random(level):
    rng, planted = _case()
    perfect = planted.astype(float) + 0.01 * rng.random(planted.shape)
    assert scores.auroc(perfect, planted, level) == 1.0
    assert scores.precision_at_k(perfect, planted, level) == 1.0
    reverse = 1.0 - planted.astype(float) + 0.001 * rng.random(planted.shape)
    if level == "cell":
        assert scores.auroc(reverse, planted, level) == 0.0
    random = rng.normal(size=planted.shape)
    assert abs(scores.auroc(random, planted, level) - 0.5) < 0.1


def test_sign_does_not_matter_magnitude_does():
    _, planted = _case(1)
    values = np.where(planted, -5.0, 0.1)
    assert scores.auroc(values, planted) == 1.0
    assert scores.auprc(values, planted) == 1.0


def test_auprc_of_random_is_near_the_relevant_fraction():
    rng, planted = _case(2, n=400)
    value = scores.auprc(rng.normal(size=planted.shape), planted)
    assert abs(value - planted.mean()) < 0.05


def test_per_sample_scores():
    _, planted = _case(3, n=10)
    per = scores.auroc(planted.astype(float), planted, per_sample=True)
    assert per.shape == (10,) and np.all(per == 1.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["kendall", "spearman"]))
def test_rank_agreement_identity_and_reversal(seed, method):
    a = np.random.default_rng(seed).random((3, 5, 2)) + 0.1
    np.testing.assert_allclose(scores.rank_agreement(a, 2 * a, method), 1.0)
    np.testing.assert_allclose(scores.rank_agreement(a, 1 / a, method), -1.0)


@pytest.mark.parametrize(
    "attribution, planted, expected",
    [
        (np.zeros((2, 3, 1)), np.zeros((2, 3, 2), bool), "same shape, got \\(2, 3, 1\\) and \\(2, 3, 2\\)"),
        (np.zeros((2, 3, 1)), np.zeros((2, 3, 1), bool), "empty planted"),
        (np.zeros((2, 3, 1)), np.ones((2, 3, 1), bool), "all True"),
        (np.zeros((2, 3, 1)), np.zeros((2, 3, 1)), "boolean planted mask, got dtype float64"),
        (np.full((2, 3, 1), np.nan), np.eye(3, dtype=bool)[:2, :, None], "finite attribution"),
        (np.zeros((2, 3)), np.zeros((2, 3), bool), "shape \\(n, T, F\\) with n >= 1, got shape \\(2, 3\\)"),
    ],
)
def test_bad_input(attribution, planted, expected):
    with pytest.raises(ValueError, match=expected):
        scores.auroc(attribution, planted, level="time" if attribution.ndim == 2 else "cell")


def test_bad_level_and_method():
    _, planted = _case()
    with pytest.raises(ValueError, match="level in .* got 'step'"):
        scores.auroc(planted.astype(float), planted, level="step")
    with pytest.raises(ValueError, match="kendall.*got 'pearson'"):
        scores.rank_agreement(np.ones((1, 2, 1)), np.ones((1, 2, 1)), method="pearson")


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 6), T=st.integers(2, 8), F=st.integers(1, 4))
def test_perfect_and_reverse_for_any_mask(seed, n, T, F):
    rng = np.random.default_rng(seed)
    planted = rng.random((n, T, F)) < 0.3
    planted.flat[0], planted.flat[-1] = True, False  # at least one of each
    jitter = 0.01 * rng.random(planted.shape)
    assert scores.auroc(planted + jitter, planted) == 1.0
    assert scores.auprc(planted + jitter, planted) == pytest.approx(1.0)
    assert scores.auroc(~planted + jitter, planted) == 0.0


# --- AUP / AUR (Crabbe & van der Schaar 2021), computed by hand ---------------------------


def test_aup_aur_by_hand():
    # Normalised scores 1, 0.5, 0, 0 against truth T, F, T, F. For tau in (0, 0.5] the
    # first two cells are selected (precision 1/2, recall 1/2); for tau in (0.5, 1] the
    # first alone (precision 1, recall 1/2). AUP = 0.5 * 1/2 + 0.5 * 1 = 0.75; AUR = 0.5.
    A = np.array([[[4.0], [-2.0], [0.0], [0.0]]])
    truth = np.array([[[True], [False], [True], [False]]])
    assert scores.aup(A, truth) == pytest.approx(0.75)
    assert scores.aur(A, truth) == pytest.approx(0.5)


def test_aup_aur_of_a_perfect_map_and_scale_invariance():
    truth = np.array([[[True, False], [False, True], [False, False]]])
    A = np.where(truth, 3.0, 0.0)
    assert scores.aup(A, truth) == 1.0 and scores.aur(A, truth) == 1.0
    A = np.where(truth, 3.0, 1.0)  # irrelevant cells at a third of the top
    assert scores.aup(A, truth) == pytest.approx(1 / 3 * 2 / 6 + 2 / 3 * 1.0)
    assert scores.aur(A, truth) == 1.0  # every relevant cell is selected at every tau
    assert scores.aup(1e6 * A, truth) == pytest.approx(scores.aup(A, truth))


def test_aup_aur_normalise_each_sample_then_pool():
    # Sample 0 is the hand case above; sample 1 puts its only relevant cell on top.
    A = np.array([[[4.0], [-2.0], [0.0], [0.0]], [[0.1], [0.0], [0.0], [0.05]]])
    truth = np.array([[[True], [False], [True], [False]], [[True], [False], [False], [False]]])
    per = scores.aup(A, truth, per_sample=True)
    np.testing.assert_allclose(per, [0.75, 0.5 * 1 / 2 + 0.5 * 1.0])
    np.testing.assert_allclose(scores.aur(A, truth, per_sample=True), [0.5, 1.0])
    # Pooled: tau in (0, 0.5]: selected 4 cells, 2 relevant; (0.5, 1]: 2 cells, both relevant.
    assert scores.aup(A, truth) == pytest.approx(0.5 * 2 / 4 + 0.5 * 1.0)
    assert scores.aur(A, truth) == pytest.approx(0.5 * 2 / 3 + 0.5 * 2 / 3)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 4), T=st.integers(2, 6), F=st.integers(1, 3))
def test_aup_aur_match_a_fine_threshold_grid(seed, n, T, F):
    rng = np.random.default_rng(seed)
    planted = rng.random((n, T, F)) < 0.4
    planted.flat[0], planted.flat[-1] = True, False
    A = rng.normal(size=(n, T, F))
    s = np.abs(A) / np.abs(A).reshape(n, -1).max(axis=1)[:, None, None]
    taus = (np.arange(20000) + 0.5) / 20000  # midpoint rule on (0, 1]
    precision, recall = [], []
    for tau in taus:
        selected = s >= tau
        precision.append((selected & planted).sum() / selected.sum())
        recall.append((selected & planted).sum() / planted.sum())
    assert scores.aup(A, planted) == pytest.approx(np.mean(precision), abs=2e-3)
    assert scores.aur(A, planted) == pytest.approx(np.mean(recall), abs=2e-3)
    assert 0.0 <= scores.aup(A, planted) <= 1.0 and 0.0 <= scores.aur(A, planted) <= 1.0


def test_aup_per_sample_without_relevant_cells_is_nan():
    truth = np.zeros((2, 3, 1), bool)
    truth[0, 0, 0] = True
    out = scores.aup(np.ones((2, 3, 1)), truth, per_sample=True)
    assert out[0] == pytest.approx(1 / 3) and np.isnan(out[1])


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: scores.rank_agreement(np.full((2, 3, 1), np.nan), np.ones((2, 3, 1))),
         "finite attribution a, got 6 NaN"),
        (lambda: scores.rank_agreement(np.ones((2, 3, 1)), np.array([[[np.inf]] * 3] * 2)),
         "finite attribution b"),
        (lambda: scores.rank_agreement(np.ones((0, 3, 1)), np.ones((0, 3, 1))), "n >= 1 .* got shape \\(0, 3, 1\\)"),
        (lambda: scores.deletion_order(np.full((2, 3, 1), np.nan)), "finite attribution"),
        (lambda: scores.deletion_order(np.ones((0, 3, 1))), "n >= 1 .* got shape \\(0, 3, 1\\)"),
        (lambda: scores.deletion_order(np.ones((2, 3))), "shape \\(n, T, F\\), got shape \\(2, 3\\)"),
        (lambda: scores.deletion_order(np.ones((2, 3, 1)), valid=np.ones((2, 2), bool)),
         "valid of shape \\(2, 3\\) \\(n, T\\) or \\(2, 3, 1\\) \\(n, T, F\\), got \\(2, 2\\)"),
        (lambda: scores.auroc(np.ones((0, 3, 1)), np.ones((0, 3, 1), bool)), "n >= 1"),
        (lambda: scores.aup(np.full((1, 2, 1), np.nan), np.array([[[True], [False]]])), "finite attribution"),
        (lambda: scores.aur(np.ones((1, 2, 1)), np.array([[[True], [False]]]), level="step"), "level in"),
        (lambda: scores.random_attribution((2, 3), seed=-1), "non-negative integer for seed, got -1"),
        (lambda: scores.rank_agreement(np.array([[["a"]]]), np.array([[["b"]]])), "real numbers, got dtype <U1"),
        (lambda: scores.deletion_order(np.ones((1, 2, 1)) * 1j), "real numbers, got dtype complex128"),
    ],
)
def test_scores_bad_input(call, expected):
    with pytest.raises(ValueError, match=expected):
        call()


def test_a_boolean_map_ranks_its_true_cells_first():
    mask = np.array([[[False], [True], [False]]])
    assert scores.deletion_order(mask)[0, 0] == 1


def test_deletion_order_puts_padded_cells_last():
    A = np.array([[[5.0], [1.0], [9.0]]])
    order = scores.deletion_order(A, valid=np.array([[True, True, False]]))
    np.testing.assert_array_equal(order[0], [0, 1, 2])  # 9.0 is padding: last


# --- padded (variable-length) batches: padded cells never count ---------------------------


def _ragged_case(seed, n, F, max_T=7):
    """``n`` sequences of 2..max_T steps, each with relevant and irrelevant cells, and their padding.

    The padded batch gets garbage at padded cells (attribution noise, random planted),
    which ``valid`` must make irrelevant.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, max_T + 1, size=n)
    T = int(lengths.max())
    A, R = rng.normal(size=(n, T, F)), rng.random((n, T, F)) < 0.3
    valid = np.arange(T)[None, :] < lengths[:, None]
    R[:, 0, 0], R[np.arange(n), lengths - 1, F - 1] = True, False  # both kinds per sequence
    pieces = [(A[i : i + 1, :t], R[i : i + 1, :t]) for i, t in enumerate(lengths)]
    A[~valid] = 10 * rng.normal(size=int((~valid).sum()))[:, None]  # garbage, large on purpose
    R[~valid] = rng.random(((~valid).sum(), F)) < 0.5
    return A, R, valid, pieces


def _all_relevant(pieces, level):
    return all(levels.aggregate(r, levels.DROPPED[level]).all() for _, r in pieces)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), F=st.integers(1, 3),
       level=st.sampled_from(levels.LEVELS))
def test_a_padded_batch_scores_as_its_sequences_one_by_one(seed, n, F, level):
    A, R, valid, pieces = _ragged_case(seed, n, F)
    if _all_relevant(pieces, level):  # every real unit relevant: no score, alone or together
        with pytest.raises(ValueError, match="all True on the real"):
            scores.auroc(A, R, level, valid=valid)
        return
    for fn, metric in [(scores.auroc, "auroc"), (scores.auprc, "auprc"), (scores.aup, "aup"),
                       (scores.aur, "aur")]:
        batch = fn(A, R, level, per_sample=True, valid=valid)
        for i, (a, r) in enumerate(pieces):
            if levels.aggregate(r, levels.DROPPED[level]).all():
                continue  # a sequence relevant everywhere cannot be scored alone
            alone = fn(a, r, level, per_sample=True)[0]
            np.testing.assert_allclose(batch[i], alone, rtol=1e-12, err_msg=metric)
    # A sequence relevant everywhere has all of its units in its top k: precision 1.
    k_alone = [1.0 if levels.aggregate(r, levels.DROPPED[level]).all() else scores.precision_at_k(a, r, level)
               for a, r in pieces]
    assert scores.precision_at_k(A, R, level, valid=valid) == pytest.approx(np.mean(k_alone), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), F=st.integers(1, 3))
def test_pooled_scores_of_a_padded_batch_are_those_of_its_real_cells(seed, n, F):
    A, R, valid, pieces = _ragged_case(seed, n, F)
    # Pooled scores rank all real units together: the sequences joined end to end in time.
    joined_a = np.concatenate([a for a, _ in pieces], axis=1)
    joined_r = np.concatenate([r for _, r in pieces], axis=1)
    for level in ("cell", "time"):
        if _all_relevant(pieces, level):
            continue
        assert scores.auroc(A, R, level, valid=valid) == scores.auroc(joined_a, joined_r, level)
        assert scores.auprc(A, R, level, valid=valid) == scores.auprc(joined_a, joined_r, level)
    # AUP / AUR divide each sequence by its own largest value before pooling.
    scaled = np.concatenate([a / np.abs(a).max() for a, _ in pieces], axis=1)
    assert scores.aup(A, R, valid=valid) == pytest.approx(scores.aup(scaled, joined_r), rel=1e-12)
    assert scores.aur(A, R, valid=valid) == pytest.approx(scores.aur(scaled, joined_r), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 5), F=st.integers(1, 3),
       method=st.sampled_from(["kendall", "spearman"]))
def test_rank_agreement_on_a_padded_batch_is_that_of_the_sequences_alone(seed, n, F, method):
    A, _, valid, pieces = _ragged_case(seed, n, F)
    B = np.where(valid[:, :, None], np.random.default_rng(seed + 1).normal(size=A.shape), 0.0)
    alone = [scores.rank_agreement(a, B[i : i + 1, : a.shape[1]], method)[0] for i, (a, _) in enumerate(pieces)]
    np.testing.assert_allclose(scores.rank_agreement(A, B, method, valid=valid), alone, rtol=1e-12)
    cells = np.broadcast_to(valid[:, :, None], A.shape)  # the (n, T, F) form says the same
    np.testing.assert_array_equal(
        scores.rank_agreement(A, B, method, valid=cells), scores.rank_agreement(A, B, method, valid=valid)
    )


def _padded_random_maps(seed, n=200, T=20, F=3):
    """Random maps that are 0 on padding (as every method's map is), and a truth on real cells."""
    rng = np.random.default_rng(seed)
    valid = np.arange(T)[None, :] < rng.integers(4, T + 1, size=n)[:, None]
    truth = (rng.random((n, T, F)) < 0.2) & valid[:, :, None]
    a = scores.random_attribution((n, T, F), seed=seed, valid=valid)
    b = scores.random_attribution((n, T, F), seed=seed + 1, valid=valid)
    return a, b, truth, valid


def test_random_maps_on_padded_data_score_chance():
    results = []
    for seed in range(20):
        a, b, truth, valid = _padded_random_maps(seed)
        assert np.all(a[~valid] == 0.0)
        results.append([
            scores.auroc(a, truth, valid=valid),
            scores.auroc(a, truth, level="time", valid=valid),
            np.nanmedian(scores.rank_agreement(a, b, "spearman", valid=valid)),
            scores.auroc(a, truth),  # without valid: padded cells count as correctly ranked last
            np.nanmedian(scores.rank_agreement(a, b, "spearman")),  # and as agreeing
        ])
    cell, time, spearman, unmasked, unmasked_spearman = np.mean(results, axis=0)
    assert abs(cell - 0.5) < 0.01 and abs(time - 0.5) < 0.02 and abs(spearman) < 0.02
    assert unmasked > 0.6 and unmasked_spearman > 0.3  # the inflation that valid removes


def test_relevance_on_padded_cells_is_ignored_and_an_all_relevant_real_part_is_an_error():
    A = np.array([[[3.0], [1.0], [0.0]]])
    valid = np.array([[True, True, False]])
    R = np.array([[[True], [False], [True]]])  # the padded cell claims to be relevant
    assert scores.auroc(A, R, valid=valid) == 1.0
    with pytest.raises(ValueError, match="all True on the real \\(unpadded\\) cells"):
        scores.auroc(A, np.array([[[True], [True], [False]]]), valid=valid)


_FUNCTIONS = {
    "auroc": lambda A, R, v: scores.auroc(A, R, valid=v),
    "auprc": lambda A, R, v: scores.auprc(A, R, valid=v),
    "aup": lambda A, R, v: scores.aup(A, R, valid=v),
    "aur": lambda A, R, v: scores.aur(A, R, per_sample=True, valid=v),
    "precision_at_k": lambda A, R, v: scores.precision_at_k(A, R, "time", valid=v),
    "rank_agreement": lambda A, R, v: scores.rank_agreement(A, A, valid=v),
    "deletion_order": lambda A, R, v: scores.deletion_order(A, valid=v),
    "random_attribution": lambda A, R, v: scores.random_attribution(A.shape, valid=v),
}


@pytest.mark.parametrize("name", list(_FUNCTIONS))
@pytest.mark.parametrize(
    "valid, expected",
    [
        (np.ones((2, 4), bool), "valid of shape \\(2, 3\\) \\(n, T\\) or \\(2, 3, 2\\) \\(n, T, F\\), got \\(2, 4\\)"),
        (np.ones((2, 3, 1), bool), "got \\(2, 3, 1\\)"),
        (np.ones(2, bool), "got \\(2,\\)"),
        (np.ones((2, 3), int), "boolean mask \\(True on real steps\\), got dtype int64"),
    ],
)
def test_bad_valid_is_a_clear_error(name, valid, expected):
    A = np.arange(12.0).reshape(2, 3, 2)
    R = np.zeros((2, 3, 2), bool)
    R[:, 0, 0] = True
    with pytest.raises(ValueError, match=expected):
        _FUNCTIONS[name](A, R, valid)
