"""helpers.compare: every method of the line-up returns (n, T, F); costs are counted."""

import numpy as np
import pytest

from helpers import compare, levels, lstm_relevance, models


@pytest.fixture(scope="module")
def reference():
    return np.random.default_rng(0).normal(size=(50, 5, 3)).astype(np.float32)


def test_coarse_methods_record_their_resolution_in_the_registry(reference):
    methods = compare.lineup(reference)
    assert methods["time-step masking"].resolution == levels.RESOLUTION["mask_time_steps"] == "time"
    assert methods["feature sensitivity"].resolution == "feature"
    assert methods["attention"].resolution == "time"
    assert methods["LRP"].resolution == levels.RESOLUTION["lrp"] == "cell"
    assert methods["contextual decomposition"].resolution == levels.RESOLUTION["cd_scores"] == "time"


def test_every_method_returns_one_map_per_cell(small_lstm, reference):
    X = reference[:3]
    methods = compare.lineup(reference, exact=True, kernel_nsamples=64, gradient_nsamples=8,
                             ig_steps=4, background_size=3)
    assert "exact Shapley" in methods and "attention" in methods
    attention_model = models.build_attention_lstm(5, 3, units=4, seed=0)
    for method in methods.values():
        model = attention_model if method.needs_attention else small_lstm
        values, cost = compare.measure(method, model, X, warmup=False)
        assert values.shape == X.shape and np.all(np.isfinite(values)), method.name
        assert cost.seconds >= 0 and cost.evaluations >= 0


def test_lstm_only_methods_skip_models_they_do_not_support(small_lstm, reference):
    methods = compare.lineup(reference)
    attention_model = models.build_attention_lstm(5, 3, units=4, seed=0)
    for name in ("LRP", "contextual decomposition"):
        method = methods[name]
        assert method.lstm_only and method.supports(small_lstm)
        assert not method.supports(attention_model)
        with pytest.raises(ValueError, match="LSTM \\+ Dense"):
            compare.measure(method, attention_model, reference[:2])
    assert methods["attention"].supports(attention_model)
    assert not methods["attention"].supports(small_lstm)
    assert all(methods[n].supports(attention_model) for n in ("occlusion", "saliency"))


def test_costs_are_counted(small_lstm, reference):
    methods = compare.lineup(reference, ig_steps=8)
    X = reference[:4]
    _, occlusion = compare.measure(methods["occlusion"], small_lstm, X)
    assert occlusion.forward == 5 * 3 + 1 and occlusion.gradients == 0
    _, masking = compare.measure(methods["time-step masking"], small_lstm, X)
    assert masking.forward == 5 + 1
    _, ig = compare.measure(methods["integrated gradients"], small_lstm, X)
    assert ig.gradients == 8 and ig.evaluations == 8
    _, gradient_shap = compare.measure(methods["GradientSHAP"], small_lstm, X)
    assert gradient_shap.gradients == 64 and gradient_shap.forward == 0
    # LRP and CD unroll in NumPy: no engine rows, their passes as declared
    lrp, lrp_cost = compare.measure(methods["LRP"], small_lstm, X)
    np.testing.assert_array_equal(lrp, lstm_relevance.lrp(small_lstm, X))
    assert (lrp_cost.forward, lrp_cost.gradients, lrp_cost.passes) == (0, 0, 2)
    cd, cd_cost = compare.measure(methods["contextual decomposition"], small_lstm, X)
    np.testing.assert_array_equal(cd, lstm_relevance.cd_scores(small_lstm, X))
    assert (cd_cost.forward, cd_cost.gradients, cd_cost.passes) == (0, 0, 5)  # T = 5 steps
    _, random = compare.measure(methods["random"], small_lstm, X)
    assert random.evaluations == 0
    with pytest.raises(ValueError, match="at least one sequence"):
        compare.measure(methods["occlusion"], small_lstm, X[:0])


def test_bad_reference():
    with pytest.raises(ValueError, match="rank 3"):
        compare.lineup(np.zeros((5, 3)))
