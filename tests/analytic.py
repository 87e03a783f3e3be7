"""Models whose attributions are known in closed form, shared by the tests."""

import keras
import numpy as np


def linear_model(weights: np.ndarray, bias: float = 0.0) -> keras.Model:
    """``f(x) = sum(W * x) + bias`` as a Keras model on ``(n, T, F)``; ``W`` is ``(T, F)``."""
    t, f = weights.shape
    inputs = keras.Input((t, f))
    out = keras.layers.Dense(1)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, out)
    model.layers[-1].set_weights([weights.reshape(-1, 1).astype("float32"), np.array([bias], "float32")])
    return model
