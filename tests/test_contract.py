"""The attribution contract on the models readers bring: classifiers, forecasters,
variable-length sequences, other recurrent layers, saved models."""

from __future__ import annotations

import subprocess
import sys

import keras
import numpy as np
import pytest

from helpers import attention, gradients, models, perturbation, shapley

F = 2
RNG = np.random.default_rng(0)
BACKGROUND = RNG.normal(size=(3, 5, F)).astype(np.float32)


def every_method(background=BACKGROUND):
    """Each model-agnostic method as ``explain(model, X, target) -> (n, T, F)``."""
    bg = background
    return {
        "occlusion": lambda m, X, t: perturbation.occlusion(m, X, baseline="zeros", target=t),
        "mask_time_steps": lambda m, X, t: perturbation.mask_time_steps(m, X, baseline=0.0, target=t),
        "feature_sensitivity": lambda m, X, t: perturbation.feature_sensitivity(m, X, mode="additive", target=t),
        "noise_sensitivity": lambda m, X, t: perturbation.noise_sensitivity(m, X, n_draws=2, target=t),
        "saliency": lambda m, X, t: gradients.saliency(m, X, target=t),
        "integrated_gradients": lambda m, X, t: gradients.integrated_gradients(
            m, X, baseline="zeros", steps=8, target=t
        ),
        "exact_shapley": lambda m, X, t: shapley.exact_shapley(m, X, background=bg[:1], target=t, players="time"),
        "kernel_shap": lambda m, X, t: shapley.kernel_shap(m, X, background=bg[:2], nsamples=64, target=t),
        "gradient_shap": lambda m, X, t: shapley.gradient_shap(m, X, background=bg, nsamples=4, target=t),
    }


# --- several outputs -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classifier():
    return models.build_lstm(5, F, units=3, n_outputs=3, output_activation="softmax", seed=1)


@pytest.fixture(scope="module")
def forecaster():
    return models.build_stacked_lstm(5, F, units=(3, 2), n_outputs=4, seed=2)


def test_classifier_is_explained_for_each_target(classifier):
    X = RNG.normal(size=(3, 5, F)).astype(np.float32)
    probs = models.outputs(classifier, X)
    for name, explain in every_method().items():
        for target in (0, 2, "predicted", np.array([1, 0, 2])):
            values = explain(classifier, X, target)
            assert values.shape == X.shape and np.isfinite(values).all(), name
        with pytest.raises(ValueError, match="output shape \\(None, 3\\) \\(3 outputs\\)"):
            explain(classifier, X, None)
    # Occlusion explains the probability: its cells add up the way the probability moves.
    ig = gradients.integrated_gradients(classifier, X, baseline="zeros", steps=256, target=1)
    base = models.outputs(classifier, np.zeros_like(X))[:, 1]
    np.testing.assert_allclose(ig.sum(axis=(1, 2)), probs[:, 1] - base, atol=1e-4)


def test_forecaster_horizon_targets_are_different_explanations(forecaster):
    X = RNG.normal(size=(3, 5, F)).astype(np.float32)
    maps = [shapley.exact_shapley(forecaster, X, background=BACKGROUND[:1], target=h, players="time") for h in range(4)]
    out = models.outputs(forecaster, X)
    ref = models.outputs(forecaster, BACKGROUND[:1])[0]
    for h in range(4):  # efficiency per horizon step (values repeated over features)
        np.testing.assert_allclose(maps[h][:, :, 0].sum(axis=1), out[:, h] - ref[h], atol=1e-5)
    assert not np.allclose(maps[0], maps[3])


# --- variable length ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def masked():
    return models.build_lstm(None, F, units=3, n_outputs=3, output_activation="softmax", mask_value=0.0, seed=4)


@pytest.fixture(scope="module")
def ragged():
    rng = np.random.default_rng(5)
    return [rng.normal(size=(t, F)).astype(np.float32) for t in (2, 5, 3)]


UNPADDED = {
    "occlusion": lambda m, X, t, bg: perturbation.occlusion(m, X, baseline=0.5, target=t),
    "integrated_gradients": lambda m, X, t, bg: gradients.integrated_gradients(
        m, X, baseline=0.5, steps=16, target=t
    ),
    "kernel_shap": lambda m, X, t, bg: shapley.kernel_shap(m, X, background=bg, nsamples=512, target=t),
    "exact_shapley": lambda m, X, t, bg: shapley.exact_shapley(m, X, background=bg, target=t),
}


@pytest.mark.parametrize("name", UNPADDED)
def test_padded_attributions_equal_the_unpadded_runs(masked, ragged, name):
    explain = UNPADDED[name]
    bg = BACKGROUND[:1]
    padded = explain(masked, ragged, "predicted", bg)
    assert padded.shape == (3, 5, F)
    predicted = models.outputs(masked, ragged).argmax(axis=1)
    for i, x in enumerate(ragged):
        alone = explain(masked, x[None], int(predicted[i]), bg[:, : len(x)])
        np.testing.assert_allclose(padded[i, : len(x)], alone[0], atol=1e-5)
        assert np.all(padded[i, len(x) :] == 0.0)


def test_padded_steps_get_exactly_zero_in_every_method(masked, ragged):
    for name, explain in every_method().items():
        values = explain(masked, ragged, "predicted")
        for i, x in enumerate(ragged):
            assert np.all(values[i, len(x) :] == 0.0), name


def test_already_padded_array_is_treated_like_the_ragged_list(masked, ragged):
    padded = np.zeros((3, 5, F), np.float32)
    for i, x in enumerate(ragged):
        padded[i, : len(x)] = x
    a = perturbation.occlusion(masked, ragged, baseline="zeros", target=0)
    b = perturbation.occlusion(masked, padded, baseline="zeros", target=0)
    np.testing.assert_array_equal(a, b)


def test_masked_attention_model_ignores_padding(ragged):
    model = attention.build_attention_lstm(None, F, units=3, mask_value=0.0, seed=0)
    w = attention.attention_weights(model, ragged)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(w[0, 2:] == 0.0)
    a = attention.attention_attribution(model, ragged)
    assert a.shape == (3, 5, F) and np.all(a[0, 2:] == 0.0)
    np.testing.assert_allclose(a[:, :, 1], w)


# --- other layers ------------------------------------------------------------------------------


def _recurrent(kind: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    if kind == "sequential":
        return keras.Sequential([keras.Input((5, F)), keras.layers.GRU(3), keras.layers.Dense(1)])
    inputs = keras.Input((5, F))
    if kind == "gru":
        h = keras.layers.GRU(3)(inputs)
    elif kind == "bidirectional":
        h = keras.layers.Bidirectional(keras.layers.LSTM(3))(inputs)
    else:
        h = keras.layers.LSTM(2)(keras.layers.LSTM(3, return_sequences=True)(inputs))
    return keras.Model(inputs, keras.layers.Dense(1)(h))


@pytest.mark.parametrize("kind", ["gru", "bidirectional", "stacked", "sequential"])
def test_other_recurrent_layers_work_in_every_model_agnostic_method(kind):
    model = _recurrent(kind)
    X = RNG.normal(size=(2, 5, F)).astype(np.float32)
    for name, explain in every_method().items():
        values = explain(model, X, None)
        assert values.shape == X.shape and np.isfinite(values).all(), (kind, name)
    phi = shapley.exact_shapley(model, X, background=BACKGROUND[:1])
    expected = models.forward(model, X) - models.forward(model, BACKGROUND[:1])
    np.testing.assert_allclose(phi.sum(axis=(1, 2)), expected, atol=1e-5)


# --- saved models ------------------------------------------------------------------------------


def test_reloaded_models_give_the_same_attributions(tmp_path, classifier):
    path = tmp_path / "classifier.keras"
    classifier.save(path)
    reloaded = keras.models.load_model(path)
    X = RNG.normal(size=(2, 5, F)).astype(np.float32)
    for name, explain in every_method().items():
        np.testing.assert_allclose(explain(reloaded, X, 1), explain(classifier, X, 1), atol=1e-6, err_msg=name)


SCRIPT = """
import sys
import numpy as np
{before}import helpers  # registers AttentionPooling whenever Keras is imported
assert ("tensorflow" in sys.modules) == {heavy}  # import helpers stays light
{after}import keras
model = keras.models.load_model(sys.argv[1])
print(float(model(np.ones((1, 4, 2), np.float32))[0, 0]))
"""


@pytest.mark.parametrize(
    "before, after", [("", ""), ("import keras\n", ""), ("", "import tensorflow\n")], ids=["helpers", "keras-first", "tf-later"]
)
def test_saved_attention_model_reloads_after_import_helpers(tmp_path, before, after):
    model = attention.build_attention_lstm(4, 2, units=3, heads=2, seed=0)
    path = tmp_path / "attention.keras"
    model.save(path)
    code = SCRIPT.format(before=before, after=after, heavy=bool(before))
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = float(model(np.ones((1, 4, 2), np.float32))[0, 0])
    assert float(result.stdout.strip().splitlines()[-1]) == pytest.approx(expected, abs=1e-6)


# --- empty batches -----------------------------------------------------------------------------


def test_empty_batches(classifier):
    empty = np.zeros((0, 5, F), np.float32)
    for name, explain in every_method().items():
        assert explain(classifier, empty, 0).shape == (0, 5, F), name
    assert gradients.completeness_gap(classifier, empty, empty, baseline="zeros", target=0).shape == (0,)
