"""helpers.tsr: temporal saliency rescaling on maps with a known answer."""

import tracemalloc

import numpy as np
import pytest

from helpers import engine, models, tsr


def _gradient_times_input(w):
    """The gradient x input map of f(x) = sum(w * x), computed without the model."""
    return lambda model, X: w * X


def test_tsr_of_a_linear_map_is_the_analytic_product(linear_model):
    model, w, _ = linear_model
    X = np.random.default_rng(0).normal(size=(8, 4, 3)).astype(np.float32)
    out = tsr.temporal_saliency_rescaling(model, X, _gradient_times_input(w), baseline="zeros")
    contribution = np.abs(w * X)  # masking cell (t, f) with 0 changes the map by |w x| there
    time_relevance = contribution.sum(axis=2)  # (n, T)
    selected = time_relevance > time_relevance.mean(axis=1, keepdims=True)
    expected = np.where(selected[:, :, None], time_relevance[:, :, None] * contribution, 0.0)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_tsr_explains_in_two_batched_calls():
    calls = []

    def explain(model, X):
        calls.append(len(X))
        return X * np.arange(1, X.shape[1] + 1)[None, :, None]

    class Shape:  # only the input shape is read from the model
        inputs = [np.zeros((1, 6, 2))]

    X = np.random.default_rng(1).normal(size=(5, 6, 2)).astype(np.float32)
    out = tsr.temporal_saliency_rescaling(Shape(), X, explain, baseline="zeros", threshold=-1.0)
    assert calls == [5 * (6 + 1), 5 * 6 * 2]  # every step selected with threshold -1
    assert out.shape == (5, 6, 2) and np.all(out >= 0)


def test_nothing_selected_gives_zeros(linear_model):
    model, w, _ = linear_model
    X = np.ones((2, 4, 3), np.float32)
    out = tsr.temporal_saliency_rescaling(model, X, _gradient_times_input(w), baseline="zeros", threshold=1e9)
    assert np.all(out == 0)


def test_bad_input(linear_model):
    model, w, _ = linear_model
    X = np.ones((2, 4, 3), np.float32)
    with pytest.raises(ValueError, match="explain to return shape \\(10, 4, 3\\), got \\(10, 4\\)"):
        tsr.temporal_saliency_rescaling(model, X, lambda m, X: X[:, :, 0], baseline="zeros")
    with pytest.raises(ValueError, match="baselines are explicit arguments"):
        tsr.temporal_saliency_rescaling(model, X, _gradient_times_input(w), baseline=None)
    with pytest.raises(ValueError, match="finite threshold"):
        tsr.temporal_saliency_rescaling(model, X, _gradient_times_input(w), baseline="zeros", threshold=np.nan)
    with pytest.raises(ValueError, match="shape \\(n, 4, 3\\) for this model"):
        tsr.temporal_saliency_rescaling(model, np.ones((2, 5, 3)), _gradient_times_input(w), baseline="zeros")

    with pytest.raises(ValueError, match="finite values, got 120 NaN or inf"):
        tsr.temporal_saliency_rescaling(model, X, lambda m, X: np.full(X.shape, np.nan), baseline="zeros")
    with pytest.raises(ValueError, match="at least one sequence in X, got shape \\(0, 4, 3\\)"):
        tsr.temporal_saliency_rescaling(model, X[:0], _gradient_times_input(w), baseline="zeros")


def test_nan_in_one_masked_copy_is_an_error_not_a_zero(linear_model):
    model, w, _ = linear_model

    def explain(model, X):  # NaN only where step 2 is masked to zero
        R = w * X
        R[np.all(X[:, 2] == 0, axis=1)] = np.nan
        return R

    X = np.ones((2, 4, 3), np.float32)
    with pytest.raises(ValueError, match="finite values"):
        tsr.temporal_saliency_rescaling(model, X, explain, baseline="zeros")


def test_blocks_give_the_same_answer(linear_model, monkeypatch):
    model, w, _ = linear_model
    X = np.random.default_rng(2).normal(size=(9, 4, 3)).astype(np.float32)
    whole = tsr.temporal_saliency_rescaling(model, X, _gradient_times_input(w), baseline="zeros")
    calls = []

    def explain(model, X):
        calls.append(len(X))
        return w * X

    monkeypatch.setattr(engine, "MAX_ROWS", 12)  # 2 samples (5 rows each) per block
    blocked = tsr.temporal_saliency_rescaling(model, X, explain, baseline="zeros")
    assert max(calls) <= 12
    np.testing.assert_allclose(blocked, whole, rtol=1e-12)


def test_memory_stays_within_the_block_not_the_batch(monkeypatch):
    # The case (n=20,000, T=20, F=5, MAX_ROWS=65536) scaled down by 10 and 32:
    # unblocked, stage 1 alone would hold n (T + 1) T F float32 and float64 copies (50 MB).
    n, T, F = 2000, 20, 5
    monkeypatch.setattr(engine, "MAX_ROWS", 2048)
    w = np.random.default_rng(3).normal(size=(T, F)).astype(np.float32)
    X = np.random.default_rng(4).normal(size=(n, T, F)).astype(np.float32)

    class Shape:  # only the input shape is read from the model
        inputs = [np.zeros((1, T, F))]

    tracemalloc.start()
    try:
        tsr.temporal_saliency_rescaling(Shape(), X, lambda m, Z: w * Z, baseline="zeros")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_sample = n * T * F * 24  # result, the original maps, the baseline
    per_block = 2048 * T * F * 48  # copies, explanations, differences
    assert peak < per_sample + per_block  # about 14 MB; 50 MB without blocks


def test_padded_steps_are_never_masked_and_get_zero():
    model = models.build_lstm(None, 2, units=4, seed=2, mask_value=0.0)
    rng = np.random.default_rng(5)
    seqs = [rng.uniform(0.5, 1.5, size=(t, 2)).astype(np.float32) for t in (3, 5)]
    seen = []

    def explain(model, X):
        seen.append(X.copy())
        return X * np.arange(1, X.shape[1] + 1)[None, :, None]

    out = tsr.temporal_saliency_rescaling(model, seqs, explain, baseline=-1.0, threshold=-1.0)
    assert out.shape == (2, 5, 2)
    np.testing.assert_array_equal(out[0, 3:], 0.0)
    copies = np.concatenate(seen)
    kept = (copies[:, :3] == seqs[0]) | (copies[:, :3] == -1.0)
    short = copies[np.all(kept, axis=(1, 2))]  # the short sequence's copies
    assert len(short) == (5 + 1) + 3 * 2  # stage 1: T + 1 copies; stage 2: 3 real steps x F
    np.testing.assert_array_equal(short[:, 3:], 0.0)  # its padding is never replaced
    assert np.all(out[0, :3] > 0) and np.all(out[1] > 0)


def test_target_is_resolved_once_and_follows_each_masked_copy():
    model = models.build_lstm(4, 3, units=2, seed=0, n_outputs=2)
    X = np.random.default_rng(6).normal(size=(2, 4, 3)).astype(np.float32)
    w = np.random.default_rng(7).normal(size=(2, 4, 3)).astype(np.float32)  # one map per output
    seen = []

    def explain(model, Z, *, target):
        seen.append(np.asarray(target))
        return w[target] * Z

    out = tsr.temporal_saliency_rescaling(model, X, explain, baseline="zeros", target=np.array([1, 0]))
    np.testing.assert_array_equal(seen[0], np.repeat([1, 0], 4 + 1))
    for i, k in enumerate([1, 0]):  # each sample's map is the one of its own output
        alone = tsr.temporal_saliency_rescaling(model, X[i : i + 1], lambda m, Z, k=k: w[k] * Z, baseline="zeros")
        np.testing.assert_allclose(out[i : i + 1], alone, rtol=1e-6)
    with pytest.raises(ValueError, match="expected target"):
        tsr.temporal_saliency_rescaling(model, X, explain, baseline="zeros", target=5)
