"""The fixes the troubleshooting chapter (10) gives, checked outside the notebook.

Each test fails if a fix stops working: the book's Shapley methods after shap's
DeepExplainer has failed on an LSTM, an LSTM rebuilt with ``use_cudnn=False``,
padded steps under occlusion and TSR, and an ambiguous output.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from helpers import gradients, models, perturbation, shapley, tsr


@pytest.fixture(scope="module")
def lstm() -> keras.Model:
    return models.build_lstm(4, 2, units=4, seed=0)


def _data(seed: int = 0, n: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 4, 2)).astype(np.float32)


def test_gradient_shap_works_after_deep_explainer_fails_and_the_hook_is_restored(lstm):
    shap = pytest.importorskip("shap")
    from tensorflow.python.eager import backprop, execute

    X, background = _data(0), _data(1, 4)
    with pytest.raises(Exception, match="shap_TensorListStack"):  # noqa: PT011  (TF's StagingError)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                shap.DeepExplainer(lstm, background).shap_values(X)
        finally:
            execute.record_gradient = backprop.record_gradient
    fresh = models.build_lstm(4, 2, units=4, seed=3)  # a gradient never traced before
    phi = shapley.gradient_shap(fresh, X, background=background, nsamples=64)
    exact = shapley.exact_shapley(fresh, X, background=background)
    assert phi.shape == exact.shape == (2, 4, 2)
    assert np.isfinite(phi).all()
    # expected gradients add up to f(x) - E[f(b)] in expectation only: loose bound
    gap = phi.sum(axis=(1, 2)) - exact.sum(axis=(1, 2))
    assert np.abs(gap).max() < 0.5 * np.abs(exact).sum(axis=(1, 2)).max() + 1e-3


def test_kernel_shap_takes_sequences_and_enumerates_to_the_exact_values(lstm):
    X, background = _data(0), _data(1, 3)
    exact = shapley.exact_shapley(lstm, X, background=background)
    kernel = shapley.kernel_shap(lstm, X, background=background, nsamples=2**8)
    assert np.abs(kernel - exact).max() < 1e-4


def test_lstm_rebuilt_without_cudnn_predicts_the_same_and_has_gradients(lstm):
    inputs = keras.Input((4, 2))
    h = keras.layers.LSTM(4, use_cudnn=False, name="lstm")(inputs)
    plain = keras.Model(inputs, keras.layers.Dense(1, name="readout")(h))
    plain.set_weights(lstm.get_weights())
    X = _data(2)
    assert plain.get_layer("lstm").use_cudnn is False
    assert np.abs(models.forward(plain, X) - models.forward(lstm, X)).max() < 1e-5
    g_plain, g = gradients.saliency(plain, X), gradients.saliency(lstm, X)
    assert np.abs(g_plain - g).max() < 1e-5


def test_padded_steps_get_exactly_zero_under_occlusion_and_tsr():
    model = models.build_lstm(None, 2, units=4, seed=0, mask_value=-9.0)
    rng = np.random.default_rng(1)
    ragged = [rng.normal(size=(n, 2)).astype(np.float32) for n in (5, 2)]
    occ = perturbation.occlusion(model, ragged, baseline=0.0)
    rescaled = tsr.temporal_saliency_rescaling(
        model, ragged, lambda m, x: gradients.saliency(m, x), baseline=0.0
    )
    assert np.abs(occ[1, 2:]).max() == 0.0 and np.abs(rescaled[1, 2:]).max() == 0.0
    assert np.abs(occ[1, :2]).max() > 0


def test_several_outputs_without_a_target_name_the_choices():
    inputs = keras.Input((4, 2))
    h = keras.layers.LSTM(3, return_sequences=True)(inputs)
    model = keras.Model(inputs, keras.layers.Reshape((4,))(keras.layers.Dense(1)(h)))
    with pytest.raises(ValueError, match=r"expected target= .*\(4 outputs\)"):
        gradients.integrated_gradients(model, _data(0), baseline=0.0)
    third = gradients.integrated_gradients(model, _data(0), baseline=0.0, target=1)
    assert np.abs(third[:, 2:]).max() == 0.0  # output 1 cannot see later steps
