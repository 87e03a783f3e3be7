"""TIMING and the random-point ablation: IG when nothing is kept, the contract, determinism."""

import numpy as np
import pytest

from helpers import gradients
from tests.analytic import linear_model


@pytest.fixture(scope="module")
def linear():
    w = np.random.default_rng(4).normal(size=(6, 3)).astype("float32")
    return linear_model(w, 0.5), w


def test_no_segments_is_integrated_gradients(linear):
    model, w = linear
    X = np.random.default_rng(5).normal(size=(4, 6, 3)).astype("float32")
    ig = gradients.integrated_gradients(model, X, baseline="zeros", steps=20)
    t = gradients.timing(model, X, baseline="zeros", steps=20, n_segments=0)
    r = gradients.random_point_ig(model, X, baseline="zeros", steps=20, p=0.0)
    np.testing.assert_allclose(t, ig, atol=1e-5)
    np.testing.assert_allclose(r, ig, atol=1e-5)
    np.testing.assert_allclose(ig, w * X, atol=1e-5)


def test_linear_model_is_unchanged_by_kept_segments(linear):
    # A linear model's gradient is the same everywhere, so keeping cells changes nothing.
    model, w = linear
    X = np.random.default_rng(6).normal(size=(3, 6, 3)).astype("float32")
    t = gradients.timing(model, X, baseline="zeros", steps=10, n_segments=3, segment_length=(2, 4))
    np.testing.assert_allclose(t, w * X, atol=1e-5)


def test_nonlinear_segments_change_the_map_and_seed_repeats(small_lstm):
    X = np.random.default_rng(7).normal(size=(3, 5, 3)).astype("float32")
    ig = gradients.integrated_gradients(small_lstm, X, baseline="zeros", steps=16)
    a = gradients.timing(small_lstm, X, baseline="zeros", steps=16, n_segments=3, seed=1)
    assert a.shape == X.shape and not np.allclose(a, ig, atol=1e-6)
    assert np.array_equal(a, gradients.timing(small_lstm, X, baseline="zeros", steps=16, n_segments=3, seed=1))
    b = gradients.random_point_ig(small_lstm, X, baseline="zeros", steps=16, p=0.3, seed=1)
    assert b.shape == X.shape and not np.allclose(b, ig, atol=1e-6)


def test_padded_steps_are_zero():
    import keras

    inputs = keras.Input((None, 2))
    out = keras.layers.Dense(1)(keras.layers.LSTM(3, seed=0)(keras.layers.Masking(0.0)(inputs)))
    model = keras.Model(inputs, out)
    rng = np.random.default_rng(8)
    X = [rng.normal(size=(4, 2)).astype("float32"), rng.normal(size=(2, 2)).astype("float32")]
    a = gradients.timing(model, X, baseline="zeros", steps=8, n_segments=2)
    assert a.shape == (2, 4, 2) and np.all(a[1, 2:] == 0.0)


def test_bad_options_are_value_errors(small_lstm):
    X = np.zeros((1, 5, 3), "float32")
    for kwargs, word in [
        ({"n_segments": -1}, "n_segments"),
        ({"segment_length": (3, 2)}, "segment_length"),
        ({"segment_length": 4}, "segment_length"),
        ({"steps": 0}, "steps"),
    ]:
        with pytest.raises(ValueError, match=word):
            gradients.timing(small_lstm, X, baseline="zeros", **kwargs)
    with pytest.raises(ValueError, match="p"):
        gradients.random_point_ig(small_lstm, X, baseline="zeros", p=1.0)
    with pytest.raises(ValueError, match="baseline"):
        gradients.timing(small_lstm, X, baseline="nope")
