"""Shared fixtures: small, fast models whose answers are known."""

import keras
import numpy as np
import pytest

import helpers  # noqa: F401  (quiet TensorFlow before it loads)
from helpers import models


@pytest.fixture(scope="session")
def linear_model():
    """A linear Keras model with set weights: f(x) = sum(w * x) + b over (T=4, F=3)."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(4, 3)).astype(np.float32)
    b = np.float32(0.25)
    inputs = keras.Input((4, 3))
    out = keras.layers.Dense(1)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, out)
    model.layers[-1].set_weights([w.reshape(-1, 1), np.array([b])])
    return model, w, b


@pytest.fixture(scope="session")
def small_lstm():
    """A small untrained LSTM on (T=5, F=3): a fixed, non-linear function."""
    return models.build_lstm(5, 3, units=8, seed=3)
