"""helpers.engine: one compiled call per model, kind and shape; fixed-size chunks; counting."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import engine, gradients, models


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 10**6), rows=st.integers(1, 3 * engine.MAX_ROWS))
def test_blocks_cover_every_item_once_within_the_budget(n, rows):
    spans = list(engine.blocks(n, rows))
    assert [lo for lo, _ in spans] == sorted(lo for lo, _ in spans)
    assert sum(hi - lo for lo, hi in spans) == n
    assert all(lo < hi for lo, hi in spans)
    # One item may exceed the budget on its own; a block of several never does.
    assert all((hi - lo) * rows <= engine.MAX_ROWS or hi - lo == 1 for lo, hi in spans)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 3 * engine.CHUNK), cost=st.sampled_from([1, 6, engine.CALL_COST, 500]))
def test_layout_covers_every_row_once_padding_to_buckets(n, cost):
    spans = engine.layout(n, cost)
    assert [start for start, _, _ in spans] == list(np.cumsum([0] + [r for _, r, _ in spans])[:-1])
    assert sum(r for _, r, _ in spans) == n
    assert all(b in engine.BUCKETS and 0 < r <= b for _, r, b in spans)
    # Whole largest buckets first; what is left never costs more than one call that fits it.
    assert sum(b for _, _, b in spans) < n + engine.CHUNK
    rest = n % engine.CHUNK
    if rest:
        fit = min(b for b in engine.BUCKETS if b >= rest)
        tail = [b for _, _, b in spans[n // engine.CHUNK :]]
        assert sum(b + cost for b in tail) <= fit + cost


def test_layout_of_small_inputs_is_one_call_of_the_next_bucket():
    assert engine.layout(1) == [(0, 1, 8)]
    assert engine.layout(8) == [(0, 8, 8)]
    assert engine.layout(9) == [(0, 9, 64)]
    assert engine.layout(512) == [(0, 512, 512)]
    assert engine.layout(600) == [(0, 512, 512), (512, 64, 64), (576, 24, 64)]
    assert engine.layout(4097) == [(0, 4096, 4096), (4096, 1, 8)]


def test_a_pass_with_costly_rows_pads_less():
    # Rows that cost as much as a call's fixed cost: two calls of 8 beat one padded to 64.
    assert engine.layout(16) == [(0, 16, 64)]
    assert engine.layout(16, call_cost=1) == [(0, 8, 8), (8, 8, 8)]
    assert engine.layout(100, call_cost=1) == [(0, 64, 64)] + [(64 + 8 * k, min(8, 36 - 8 * k), 8) for k in range(5)]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3 * engine.CHUNK), steps=st.integers(1, 4), features=st.integers(1, 3))
def test_run_feeds_every_row_once_in_bucket_shapes(n, steps, features):
    X = np.arange(n * steps * features, dtype=np.float32).reshape(n, steps, features) + 1.0
    targets = np.arange(n) % 3
    rows = []
    for start, m, (chunk, t) in engine.run(lambda x, t: (x, t), X, targets):
        assert chunk.shape[0] in engine.BUCKETS and tuple(chunk.shape[1:]) == (steps, features)
        np.testing.assert_array_equal(chunk.numpy()[:m], X[start : start + m])
        np.testing.assert_array_equal(t.numpy()[:m], targets[start : start + m])
        assert not chunk.numpy()[m:].any()  # the padding is zeros, never another row
        rows.extend(range(start, start + m))
    assert rows == list(range(n))


def test_compiled_is_cached_per_model_kind_and_shape():
    model = models.build_lstm(None, 2, units=2)
    made = []

    def make(x):
        made.append(x.shape)
        return model(x)

    a = engine.compiled(model, "test", (3, 2), make)
    assert engine.compiled(model, "test", (3, 2), make) is a
    assert engine.compiled(model, "test", (4, 2), make) is not a  # any-length models: one per T
    assert engine.compiled(model, "other", (3, 2), make) is not a
    for _ in range(3):
        list(engine.run(a, np.zeros((5, 3, 2))))
    assert len(made) == 1  # traced once


def test_counts_forward_and_gradient_rows(small_lstm):
    X = np.zeros((17, 5, 3), np.float32)
    with engine.count_evaluations() as counter:
        models.forward(small_lstm, X)
        gradients.integrated_gradients(small_lstm, X[:2], baseline="zeros", steps=8)
    assert counter.rows == 17 and counter.gradient_rows == 16
    assert counter.evaluations == 33


def test_gradient_pass_refuses_non_differentiable_models():
    import keras

    inputs = keras.Input((3, 2))
    out = keras.layers.Lambda(lambda x: keras.ops.cast(keras.ops.argmax(x, axis=-1), "float32"))(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(out))
    with pytest.raises(ValueError, match="differentiable with respect to its input"):
        gradients.saliency(model, np.zeros((2, 3, 2)))


def test_tracing_is_bounded_by_the_buckets_per_shape():
    model = models.build_lstm(None, 2, units=3, seed=1)
    rng = np.random.default_rng(0)
    sizes = [1, 3, 8, 9, 64, 100, 513, 1, 64, 700, 4096, 5000, 2]
    for n in sizes:
        models.forward(model, rng.normal(size=(n, 4, 2)))
        gradients.saliency(model, rng.normal(size=(n, 4, 2)))
    forward = engine.compiled(model, "forward", (4, 2), None)
    gradient = engine.compiled(model, "gradient", (4, 2), None)
    # Every bucket was met, and each was traced exactly once for this (T, F).
    assert set(forward.fns) == set(gradient.fns) == set(engine.BUCKETS)
    assert forward.traces == gradient.traces == len(engine.BUCKETS)
    models.forward(model, rng.normal(size=(7, 6, 2)))  # another T: its own trace
    assert engine.compiled(model, "forward", (6, 2), None).traces == 1
    assert forward.traces == len(engine.BUCKETS)


def _random_lstm(seed: int):
    import keras

    rng = np.random.default_rng(seed)
    model = models.build_lstm(None, 3, units=int(rng.integers(2, 9)), n_outputs=2, seed=seed)
    # Weights drawn at a larger scale than Keras' initialisers, so outputs are not near 0.
    model.set_weights([rng.normal(scale=0.7, size=w.shape).astype(np.float32) for w in model.get_weights()])
    assert isinstance(model, keras.Model)
    return model


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bucketed_calls_equal_the_full_chunk_call(seed, monkeypatch):
    model = _random_lstm(seed)
    X = np.random.default_rng(seed).normal(size=(700, 6, 3)).astype(np.float32)
    bucketed = models.outputs(model, X), gradients.saliency(model, X, target=1)
    monkeypatch.setattr(engine, "BUCKETS", (engine.CHUNK,))  # the old path: every call 4096 rows
    full = models.outputs(model, X), gradients.saliency(model, X, target=1)
    assert engine.layout(700) == [(0, 700, engine.CHUNK)]
    # float32 sums whose order may depend on the batch's row count (the CPU kernels
    # block matrix products by rows); values are O(1), so 1e-6 is a few float32 ulps.
    for b, f in zip(bucketed, full):
        np.testing.assert_allclose(b, f, rtol=0, atol=1e-6)


def test_an_input_gives_the_same_outputs_whichever_bucket_it_lands_in():
    model = _random_lstm(3)
    X = np.random.default_rng(3).normal(size=(600, 5, 3)).astype(np.float32)
    y_all = models.outputs(model, X)  # buckets 512, 64, 64
    for lo, hi in [(0, 1), (0, 8), (0, 64), (3, 40), (520, 600)]:  # buckets 8, 8, 64, 64, 512
        np.testing.assert_allclose(models.outputs(model, X[lo:hi]), y_all[lo:hi], rtol=0, atol=1e-6)
