"""helpers.removal: CPD / CPP, top-k removal and the ROAD baseline, on models with known answers."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import checks, engine, models, removal
from tests.analytic import linear_model

T, F = 6, 2


def _lstm(n_outputs=1, mask_value=None, activation=None):
    return models.build_lstm(T, F, units=8, seed=3, n_outputs=n_outputs,
                             output_activation=activation, mask_value=mask_value)


def _loop(model, X, A, B, k, largest, target=None):
    """CPD / CPP the slow way: one model call per removal step, one sample at a time."""
    total = []
    for x, a, b in zip(X, A, B):
        order = np.argsort(-np.abs(a).ravel(), kind="stable")
        if not largest:
            order = np.argsort(np.abs(a).ravel(), kind="stable")
        cur = x.copy().ravel()
        prev = models.outputs(model, cur.reshape(1, T, F))[0]
        s = 0.0
        for c in order[:k]:
            cur[c] = b.ravel()[c]
            y = models.outputs(model, cur.reshape(1, T, F))[0]
            d = np.abs(y - prev) if target is None else np.abs(y[target] - prev[target])
            s += float(np.sum(d))
            prev = y
        total.append(s)
    return np.mean(total)


@pytest.mark.parametrize("n_outputs,activation,target", [(1, None, None), (3, "softmax", None),
                                                         (3, "softmax", 1)])
def test_cpd_and_cpp_equal_a_one_cell_at_a_time_loop(n_outputs, activation, target):
    model = _lstm(n_outputs, activation=activation)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, T, F)).astype(np.float32)
    # Distinct |attribution| values, so the loop's stable sort and ours agree on the order.
    A = rng.permutation(np.arange(1, 5 * T * F + 1)).reshape(5, T, F) * rng.choice([-1, 1], (5, T, F))
    B = np.full_like(X, 0.25)
    for largest, fn in ((True, removal.cumulative_prediction_difference),
                        (False, removal.cumulative_prediction_preservation)):
        got = fn(model, X, A, baseline=0.25, k=7, target=target)
        assert got == pytest.approx(_loop(model, X, A, B, 7, largest, target), abs=1e-6)


def test_all_steps_of_a_block_are_one_set_of_rows():
    model = _lstm()
    X = np.random.default_rng(1).normal(size=(4, T, F)).astype(np.float32)
    A = np.random.default_rng(2).normal(size=X.shape)
    with engine.count_evaluations() as counter:
        removal.cumulative_prediction_difference(model, X, A, baseline="zeros", k=5)
    assert counter.rows == 4 * 6
    with engine.count_evaluations() as counter:
        removal.top_k_removal(model, X, A, baseline="zeros", k=5)
    assert counter.rows == 4 * 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), k=st.integers(1, T * F))
def test_exact_linear_attribution_has_the_highest_cpd(seed, k):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(T, F))
    model = linear_model(w, bias=0.3)
    X = rng.normal(size=(3, T, F)).astype(np.float32)
    b = rng.normal(size=(T, F)).astype(np.float32)
    exact = w * (X - b)
    shuffled = np.stack([rng.permutation(a.ravel()).reshape(T, F) for a in exact])
    best = removal.cumulative_prediction_difference(model, X, exact, baseline=b, k=k)
    other = removal.cumulative_prediction_difference(model, X, shuffled, baseline=b, k=k)
    assert best >= other - 1e-4 * (1 + abs(other))
    # And CPD of the exact map is the sum of its k largest |contributions|.
    top = -np.sort(-np.abs(exact).reshape(3, -1), axis=1)[:, :k].sum(axis=1).mean()
    assert best == pytest.approx(top, rel=1e-4, abs=1e-4)


def test_padded_cells_never_count():
    model = _lstm(mask_value=-9.0)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3, T, F)).astype(np.float32)
    X[0, 4:] = -9.0  # sample 0 has 4 real steps
    A = rng.normal(size=X.shape)
    loud = A.copy()
    loud[0, 4:] = 1e6  # a map that shouts on padding changes nothing
    for fn in (removal.cumulative_prediction_difference, removal.cumulative_prediction_preservation):
        quiet = fn(model, X, A, baseline="zeros", k=T * F, per_sample=True)
        shout = fn(model, X, loud, baseline="zeros", k=T * F, per_sample=True)
        np.testing.assert_allclose(quiet, shout, atol=1e-6)
    # valid= drops further steps: with no valid step nothing is ever removed.
    none = np.zeros((3, T), bool)
    assert removal.cumulative_prediction_difference(model, X, A, baseline="zeros", k=5,
                                                    valid=none) == 0.0


def test_padded_cells_keep_their_values_under_road():
    valid = np.ones((1, T), bool)
    valid[0, 4:] = False
    X = np.arange(T * F, dtype=np.float32).reshape(1, T, F)
    out = removal.ROAD(noise=0.0).fill(X, np.ones_like(X, bool), valid)
    np.testing.assert_array_equal(out[0, 4:], X[0, 4:])


def test_road_imputes_a_straight_line_exactly():
    t = np.arange(12, dtype=np.float64)
    X = np.stack([2.0 + 0.5 * t, -1.0 - 3.0 * t], axis=1)[None].astype(np.float32)  # (1, 12, 2)
    removed = np.zeros_like(X, bool)
    removed[0, 2:5, 0] = True  # a run of three
    removed[0, 7, 1] = True
    removed[0, 9:11, :] = True
    out = removal.ROAD(noise=0.0).fill(X, removed, np.ones((1, 12), bool))
    np.testing.assert_allclose(out, X, atol=1e-5)
    # Noise goes to imputed cells only, reproducibly.
    a = removal.ROAD(noise=0.1, seed=1).fill(X, removed, np.ones((1, 12), bool))
    b = removal.ROAD(noise=0.1, seed=1).fill(X, removed, np.ones((1, 12), bool))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[~removed], X[~removed])
    assert np.all(a[removed] != X[removed])


def test_road_baseline_in_deletion_and_insertion_curves():
    model = linear_model(np.ones((T, F)))
    t = np.arange(T, dtype=np.float32)
    X = np.stack([np.stack([1 + t, 2 - t], axis=1)] * 2)
    A = np.zeros_like(X)
    A[:, 2:4] = 1.0  # deleting interior cells of a line changes nothing under ROAD
    curve = checks.deletion_curve(model, X, A, baseline=removal.ROAD(noise=0.0), fractions=np.array([0, 4 / 12, 1]))
    np.testing.assert_allclose(curve.predictions[:, 1], curve.predictions[:, 0], atol=1e-4)
    np.testing.assert_allclose(curve.predictions[:, 2], 0.0, atol=1e-6)  # nothing kept: zeros
    ins = checks.insertion_curve(model, X, A, baseline="road", fractions=3)
    np.testing.assert_allclose(ins.predictions[:, -1], models.forward(model, X), atol=1e-5)
    assert removal.cumulative_prediction_difference(model, X, A, baseline=removal.ROAD(noise=0.0),
                                                    k=4) == pytest.approx(0.0, abs=1e-4)


def test_cancel_out_top_k_at_once_versus_cpd():
    # f = x1 - x2: removing both cells at once cancels; one at a time does not.
    w = np.zeros((T, F))
    w[0, 0], w[1, 0] = 1.0, -1.0
    model = linear_model(w)
    X = np.zeros((1, T, F), np.float32)
    X[0, 0, 0] = X[0, 1, 0] = 1.0
    true = w * X
    assert removal.top_k_removal(model, X, true, baseline="zeros", k=2) == pytest.approx(0.0, abs=1e-6)
    assert removal.cumulative_prediction_difference(model, X, true, baseline="zeros",
                                                    k=2) == pytest.approx(2.0, abs=1e-6)
    # The signed order removes the positive cell first, the same here; on a flipped map it differs.
    flipped = -true
    assert removal.cumulative_prediction_difference(model, X, flipped, baseline="zeros", k=1,
                                                    order="signed") == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("kwargs,match", [
    (dict(k=0), "expected k"), (dict(k=T * F + 1), "expected k"), (dict(k=True), "expected k"),
    (dict(k=1.5), "expected k"), (dict(order="size"), "expected order"),
    (dict(valid=np.ones((2, T))), "expected valid"), (dict(baseline="median"), "expected a baseline"),
    (dict(target=5), "expected target"),
])
def test_bad_inputs_raise_before_any_model_call(kwargs, match):
    model = _lstm(n_outputs=3, activation="softmax")
    X = np.zeros((2, T, F), np.float32)
    args = dict(baseline="zeros", k=3) | kwargs
    with engine.count_evaluations() as counter, pytest.raises(ValueError, match=match):
        removal.cumulative_prediction_difference(model, X, np.ones_like(X), **args)
    assert counter.rows == 0


def test_bad_attributions_and_noise_raise():
    model = _lstm()
    X = np.zeros((2, T, F), np.float32)
    with pytest.raises(ValueError, match="attributions of shape"):
        removal.top_k_removal(model, X, np.ones((2, T)), baseline="zeros")
    with pytest.raises(ValueError, match="finite"):
        removal.top_k_removal(model, X, np.full(X.shape, np.nan), baseline="zeros")
    with pytest.raises(ValueError, match="noise"):
        removal.ROAD(noise=-1.0)
    with pytest.raises(ValueError, match="at least one"):
        removal.cumulative_prediction_difference(model, X[:0], X[:0], baseline="zeros")
