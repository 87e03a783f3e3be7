"""The fifteen bad inputs of issue 20: each gets a clear ValueError naming what was expected.

Each of these used to fail deep inside TensorFlow, NumPy, sklearn or matplotlib
(an IndexError, a ZeroDivisionError, a code dump around the library's own
message). The test checks the error's type and that it says what was expected
and what was given.
"""

import os
import subprocess
import sys
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import compare, gradients, hidden, models, plotting, scores, shapley, tsr

ROOT = Path(__file__).resolve().parents[1]
X = np.zeros((2, 3, 2), np.float32)


@pytest.fixture(scope="module")
def argmax_model():
    """Output depends on X only through an argmax: no gradient path to the input."""
    inputs = keras.Input((3, 2))
    out = keras.layers.Lambda(lambda x: keras.ops.cast(keras.ops.argmax(x, axis=-1), "float32"))(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(out), name="argmax_model")


NOT_DIFFERENTIABLE = {
    "saliency": lambda m: gradients.saliency(m, X),
    "integrated_gradients": lambda m: gradients.integrated_gradients(m, X, baseline="zeros", steps=4),
    "gradient_shap": lambda m: shapley.gradient_shap(m, X, background=np.zeros((1, 3, 2)), nsamples=4),
    "tsr(saliency)": lambda m: tsr.temporal_saliency_rescaling(m, X, gradients.saliency, baseline="zeros"),
}


@pytest.mark.parametrize("name", NOT_DIFFERENTIABLE)
def test_a_model_without_gradients_gets_one_sentence(argmax_model, name):
    with pytest.raises(ValueError, match="^expected a model differentiable .* got 'argmax_model'") as caught:
        NOT_DIFFERENTIABLE[name](argmax_model)
    message = str(caught.value)
    assert "in user code" not in message and "File " not in message  # no traced-code dump


def _grid(maps, **kw):
    try:
        return plotting.method_grid(maps, ["t0", "t1", "t2"], ["a", "b"], **kw)
    finally:
        plt.close("all")


def _sequence(x, features):
    fig, ax = plt.subplots()
    try:
        plotting.plot_sequence(ax, x, ["t0", "t1", "t2"], features)
    finally:
        plt.close(fig)


H = np.random.default_rng(0).normal(size=(20, 3, 4))
BAD = {
    "linear_probe(alphas=[-1, 1])": (
        lambda lin: hidden.linear_probe(H, H[:, :, 0], alphas=[-1, 1]),
        r"expected alphas as a 1-D array of positive ridge strengths, got array\(\[-1\.,  1\.\]\)",
    ),
    "kernel_shap(l1_reg='bogus')": (
        lambda lin: shapley.kernel_shap(lin, np.zeros((1, 4, 3)), background=np.zeros((1, 4, 3)), l1_reg="bogus"),
        r"expected l1_reg as one of shap's forms \(.*\), got 'bogus'",
    ),
    "random_attribution((-1, T, F))": (
        lambda lin: scores.random_attribution((-1, 3, 2)),
        r"expected shape as a tuple of non-negative ints .*, got \(-1, 3, 2\)",
    ),
    "lineup(background_size=-1)": (
        lambda lin: compare.lineup(np.zeros((4, 3, 2), np.float32), background_size=-1),
        r"background_size.*-1",
    ),
    "shapley_coefficients on 1-D masks": (
        lambda lin: shapley.shapley_coefficients(np.array([True, False])),
        r"expected masks as a bool array \(2\^M, M\), got dtype bool and shape \(2,\)",
    ),
    "tsr(threshold='high')": (
        lambda lin: tsr.temporal_saliency_rescaling(lin, np.zeros((1, 4, 3)), lambda m, z: z,
                                                    baseline="zeros", threshold="high"),
        r"expected a finite threshold \(a number\) or None, got 'high'",
    ),
    "method_grid(ncols=0)": (
        lambda lin: _grid({"a": np.zeros((3, 2))}, ncols=0),
        r"expected ncols as a positive int, got 0",
    ),
    "method_grid({})": (
        lambda lin: _grid({}),
        r"expected maps as a non-empty dict .*, got \{\}",
    ),
    "plot_sequence with F + 1 names": (
        lambda lin: _sequence(np.zeros((3, 2)), ["a", "b", "c"]),
        r"expected 3 time names and 2 feature names for x of shape \(3, 2\), got 3 and 3",
    ),
    "plot_sequence with a 1-D x": (
        lambda lin: _sequence(np.zeros(3), ["a"]),
        r"expected x as one sequence of shape \(T, F\), got shape \(3,\)",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_input_names_what_was_expected_and_given(linear_model, name):
    call, message = BAD[name]
    with pytest.raises(ValueError, match=message):
        call(linear_model[0])


def test_a_saved_attention_model_loads_through_helpers_load_model(tmp_path):
    path = tmp_path / "attention.keras"
    model = models.build_attention_lstm(3, 2, units=3, seed=0)
    model.save(path)
    X = np.random.default_rng(1).normal(size=(2, 3, 2)).astype(np.float32)
    # A fresh process: plain Keras cannot find the class; helpers.load_model can.
    script = f"""
import keras, numpy as np
try:
    keras.models.load_model({str(path)!r})
except Exception as error:
    assert "AttentionPooling" in str(error), error
else:
    raise SystemExit("plain keras loaded it")
import helpers
model = helpers.load_model({str(path)!r})
np.save({str(tmp_path / 'y.npy')!r}, np.asarray(model(np.asarray({X.tolist()!r}, np.float32))))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), np.asarray(model(X)), rtol=1e-6)
