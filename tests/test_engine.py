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


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3 * engine.CHUNK), steps=st.integers(1, 4), features=st.integers(1, 3))
def test_run_feeds_every_row_once_in_one_shape(n, steps, features):
    X = np.arange(n * steps * features, dtype=np.float32).reshape(n, steps, features) + 1.0
    targets = np.arange(n) % 3
    rows = []
    for start, m, (chunk, t) in engine.run(lambda x, t: (x, t), X, targets):
        assert tuple(chunk.shape) == (engine.CHUNK, steps, features)  # one shape: one trace
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


def test_a_small_chunk_call_is_fed_its_own_size_and_cached_apart():
    model = models.build_lstm(None, 2, units=2)
    big = engine.compiled(model, "test_small", (3, 2), lambda x: x * 2.0)
    small = engine.compiled(model, "test_small", (3, 2), lambda x: x * 2.0, chunk=engine.SMALL_CHUNK)
    assert small is not big and small.chunk == engine.SMALL_CHUNK and big.chunk == engine.CHUNK
    assert engine.compiled(model, "test_small", (3, 2), None, chunk=engine.SMALL_CHUNK) is small
    X = np.arange(300 * 6, dtype=np.float32).reshape(300, 3, 2)
    chunks = list(engine.run(small, X))
    assert [(start, rows) for start, rows, _ in chunks] == [(0, engine.SMALL_CHUNK), (engine.SMALL_CHUNK, 300 - engine.SMALL_CHUNK)]
    assert all(tuple(out.shape) == (engine.SMALL_CHUNK, 3, 2) for _, _, out in chunks)
    np.testing.assert_array_equal(np.concatenate([o.numpy()[:r] for _, r, o in chunks]), 2 * X)
    with pytest.raises(ValueError, match="expected chunk in"):
        engine.compiled(model, "test_small", (3, 2), lambda x: x, chunk=100)
