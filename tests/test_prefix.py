"""Tests for helpers.prefix: equal to one forward pass per perturbed input, Shapley axioms, counts."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import engine, lstm_stack, models, perturbation, prefix, prefix_tree, shapley

T, F = 5, 3


def outputs(model, rows: np.ndarray) -> np.ndarray:
    """Today's path, the reference: every perturbed input through the model, ``(N, K)``."""
    if rows.shape[0] == 0:
        return np.zeros((0, 1))
    y = np.asarray(model(rows.astype(np.float32), training=False), dtype=np.float64)
    return y.reshape(rows.shape[0], -1)


def reference_values(model, X, B, masks, column=0) -> np.ndarray:
    """``v(S) = mean_b f(x_S, b_rest)`` by one forward row per (sample, coalition, background row)."""
    rows = np.where(masks[None, :, None, :, None], X[:, None, None], B[None, None])
    y = outputs(model, rows.reshape(-1, *X.shape[1:]))[:, column]
    return y.reshape(X.shape[0], len(masks), B.shape[0]).mean(axis=2)


def attention_model(T: int, F: int, units: int, seed: int) -> keras.Model:
    try:
        from helpers.attention import build_attention_lstm
    except ImportError:  # before the contract moved it out of helpers.models
        build_attention_lstm = models.build_attention_lstm
    return build_attention_lstm(T, F, units=units, seed=seed)


def sequential_model() -> keras.Model:
    keras.utils.set_random_seed(4)
    return keras.Sequential(
        [
            keras.Input((T, F)),
            keras.layers.LSTM(3, return_sequences=True),
            keras.layers.LSTM(5, return_sequences=True),
            keras.layers.LSTM(2),
            keras.layers.Dense(4, activation="tanh"),
            keras.layers.Dense(1),
        ]
    )


@pytest.fixture(autouse=True)
def _always_share_prefixes(monkeypatch):
    """These tests' inputs are small: make occlusion and masking take the prefix path anyway."""
    monkeypatch.setattr(prefix, "PLAIN_BELOW", 0)


MODELS = {
    "single": lambda: models.build_lstm(T, F, units=4, seed=0),
    "stacked_odd": lambda: models.build_stacked_lstm(T, F, units=(7, 5), seed=1),
    "attention": lambda: attention_model(T, F, units=6, seed=2),
    "sequential_3_layers": sequential_model,
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def model(request) -> keras.Model:
    return MODELS[request.param]()


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((2, T, F)).astype(np.float32),
        rng.standard_normal((3, T, F)).astype(np.float32),
    )


# --- equal to today's path --------------------------------------------------------------


def test_all_coalition_values_equal_one_forward_per_coalition(model, data):
    X, B = data
    assert prefix.supports(model)
    with prefix.count_cell_steps() as counter:
        v = prefix.time_coalition_values(model, X, B)
    masks = shapley.coalition_masks(T)
    np.testing.assert_allclose(v, reference_values(model, X, B, masks), atol=1e-5)
    # A binary tree over time: 2 + 4 + ... + 2^T node-steps per (sample, background row).
    assert counter.steps == X.shape[0] * B.shape[0] * (2 ** (T + 1) - 2)
    assert counter.head_rows == X.shape[0] * B.shape[0] * 2**T


def test_split_levels_give_the_same_values_and_compute_no_node_twice(model, data, monkeypatch):
    X, B = data
    whole = prefix.time_coalition_values(model, X, B)
    monkeypatch.setattr(prefix_tree, "MAX_NODES", 8)
    with prefix.count_cell_steps() as counter:
        split = prefix.time_coalition_values(model, X, B)
    np.testing.assert_allclose(split, whole, atol=1e-6)
    assert counter.steps == X.shape[0] * B.shape[0] * (2 ** (T + 1) - 2)


def test_sampled_coalitions_with_repeats_equal_the_forward_path(model, data):
    X, B = data
    masks = np.random.default_rng(3).random((40, T)) < 0.5
    masks[5] = masks[17]  # a repeated coalition
    v = prefix.masked_values(model, X, B, masks)
    np.testing.assert_allclose(v, reference_values(model, X, B, masks), atol=1e-5)


@pytest.mark.parametrize("window", [1, 2, T])
def test_occlusion_equals_one_forward_per_occluded_copy(model, data, window):
    X, B = data
    baseline = B[0]
    out = prefix.occlusion_prefix(model, X, baseline, window=window)
    n = X.shape[0]
    positions = T - window + 1
    copies = np.repeat(X[None], 1 + positions * F, axis=0)
    for p in range(positions):
        for f in range(F):
            copies[1 + p * F + f, :, p : p + window, f] = baseline[p : p + window, f]
    y = outputs(model, copies.reshape(-1, T, F))[:, 0].reshape(1 + positions * F, n)
    delta = (y[0] - y[1:]).reshape(positions, F, n)
    expected, cover = np.zeros((n, T, F)), np.zeros(T)
    for p in range(positions):
        expected[:, p : p + window] += delta[p].T[:, None, :]
        cover[p : p + window] += 1
    np.testing.assert_allclose(out, expected / cover[None, :, None], atol=1e-5)


def test_occlusion_steps_only_from_the_occluded_step_on(data):
    X, B = data
    model = MODELS["single"]()
    with prefix.count_cell_steps() as counter:
        prefix.occlusion_prefix(model, X, B[0])
    # The unperturbed run (T steps) plus, for each start t, F branches of T - t steps.
    per_sample = T + F * sum(T - t for t in range(T))
    assert counter.steps == X.shape[0] * per_sample
    assert counter.steps < X.shape[0] * (1 + T * F) * T


def test_mask_time_steps_equals_one_forward_per_masked_copy(model, data):
    X, B = data
    baseline = B[:1]
    out = prefix.mask_time_steps_prefix(model, X, baseline)
    copies = np.repeat(X[None], T + 1, axis=0)
    for t in range(T):
        copies[t + 1, :, t] = baseline[0, t]
    y = outputs(model, copies.reshape(-1, T, F))[:, 0].reshape(T + 1, -1)
    np.testing.assert_allclose(out, (y[0] - y[1:]).T, atol=1e-5)


def test_per_sample_baselines(data):
    X, B = data
    model = MODELS["stacked_odd"]()
    out = prefix.mask_time_steps_prefix(model, X, B[:2])
    for i in range(2):
        alone = prefix.mask_time_steps_prefix(model, X[i : i + 1], B[i])
        np.testing.assert_allclose(out[i], alone[0], atol=1e-6)


def test_targets_of_a_classifier():
    keras.utils.set_random_seed(5)
    inputs = keras.Input((4, 2))
    h = keras.layers.LSTM(5)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 4, 2)).astype(np.float32)
    B = rng.standard_normal((2, 4, 2)).astype(np.float32)
    masks = shapley.coalition_masks(4)
    v = prefix.time_coalition_values(model, X, B, target=2)
    np.testing.assert_allclose(v, reference_values(model, X, B, masks, column=2), atol=1e-6)
    predicted = outputs(model, X).argmax(axis=1)
    v = prefix.time_coalition_values(model, X, B, target="predicted")
    for i in range(3):
        ref = reference_values(model, X[i : i + 1], B, masks, column=predicted[i])
        np.testing.assert_allclose(v[i], ref[0], atol=1e-6)
    with pytest.raises(ValueError, match="expected target="):
        prefix.time_coalition_values(model, X, B)
    with pytest.raises(ValueError, match=r"expected target in \[0, 3\)"):
        prefix.time_coalition_values(model, X, B, target=3)


# --- the Shapley axioms on event-level values ---------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_shapley_from_values_matches_the_coefficient_formula(n_players, seed):
    v = np.random.default_rng(seed).standard_normal((2, 2**n_players))
    masks = shapley.coalition_masks(n_players)
    expected = v @ shapley.shapley_coefficients(masks)
    np.testing.assert_allclose(prefix.shapley_from_values(v), expected, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**32 - 1), st.data())
def test_symmetric_players_get_equal_values_in_any_game(n_players, seed, draw):
    i, j = draw.draw(st.lists(st.integers(0, n_players - 1), min_size=2, max_size=2, unique=True))
    v = np.random.default_rng(seed).standard_normal(2**n_players)
    k = np.arange(2**n_players)
    swapped = k ^ (((k >> i) & 1) != ((k >> j) & 1)) * ((1 << i) | (1 << j))
    v = (v + v[swapped])[None]  # symmetric in i and j
    phi = prefix.shapley_from_values(v)
    assert phi[0, i] == pytest.approx(phi[0, j], abs=1e-12)


def test_efficiency_and_exactness_against_the_forward_path(model, data):
    X, B = data
    phi = prefix.exact_time_shapley(model, X, background=B)
    assert phi.shape == X.shape
    np.testing.assert_array_equal(phi, np.repeat(phi[:, :, :1], F, axis=2))  # resolution "time"
    gap = outputs(model, X)[:, 0] - outputs(model, B)[:, 0].mean()
    np.testing.assert_allclose(phi[:, :, 0].sum(axis=1), gap, atol=1e-5)
    masks = shapley.coalition_masks(T)
    v = reference_values(model, X, B, masks)
    expected = v @ shapley.shapley_coefficients(masks)
    np.testing.assert_allclose(phi[:, :, 0], expected, atol=1e-5)


@settings(max_examples=5, deadline=None)
@given(st.integers(0, T - 1), st.integers(0, 2**32 - 1))
def test_a_step_equal_to_the_baseline_is_a_dummy(step, seed):
    model = MODELS["stacked_odd"]()
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((1, T, F)).astype(np.float32)
    b = rng.standard_normal((1, T, F)).astype(np.float32)
    X[0, step] = b[0, step]
    phi = prefix.exact_time_shapley(model, X, background=b)
    assert np.all(np.abs(phi[0, step]) <= 1e-6)
    assert phi[0, :, 0].sum() == pytest.approx(float(outputs(model, X)[0, 0] - outputs(model, b)[0, 0]), abs=1e-5)


# --- KernelSHAP on time players, and TimeSHAP's pruning --------------------------------


def test_kernel_time_shap_enumerating_every_coalition_is_exact(data):
    X, B = data
    model = MODELS["attention"]()
    exact = prefix.exact_time_shapley(model, X, background=B)
    kernel = prefix.kernel_time_shap(model, X, background=B, nsamples=2**T, seed=0)
    np.testing.assert_allclose(kernel, exact, atol=1e-6)


def test_pruning_cutoff_finds_the_steps_that_equal_the_baseline():
    model = models.build_lstm(8, 2, units=4, seed=3)
    rng = np.random.default_rng(2)
    b = rng.standard_normal((1, 8, 2)).astype(np.float32)
    x = rng.standard_normal((8, 2)).astype(np.float32)
    x[:3] = b[0, :3]  # the three oldest steps change nothing
    assert prefix.pruning_cutoff(model, x, b, tolerance=1e-7) == 3
    assert prefix.pruning_cutoff(model, x, b, tolerance=0.0) in (3, 2, 1)
    values = prefix.kernel_time_shap(model, x[None], background=b, nsamples=2**6, prune=1e-7)
    assert np.all(np.abs(values[0, :3]) <= 1e-6)  # the pruned player is a dummy
    exact = prefix.exact_time_shapley(model, x[None], background=b)
    np.testing.assert_allclose(values, exact, atol=1e-5)  # 6 players, enumerated: exact


# --- which models, and bad input ---------------------------------------------------------


@pytest.mark.parametrize(
    "layers",
    [
        [keras.layers.GRU(3)],
        [keras.layers.Bidirectional(keras.layers.LSTM(3))],
        [keras.layers.Masking(0.0), keras.layers.LSTM(3)],
        [keras.layers.LSTM(3, go_backwards=True)],
        [keras.layers.Flatten()],
    ],
    ids=["gru", "bidirectional", "masking", "backwards", "no_lstm"],
)
def test_unsupported_models_say_so(layers):
    model = keras.Sequential([keras.Input((T, F)), *layers, keras.layers.Dense(1)])
    assert not prefix.supports(model)
    X = np.zeros((1, T, F), np.float32)
    with pytest.raises(ValueError, match="chain of LSTM layers"):
        prefix.time_coalition_values(model, X, X)


def test_other_models_fall_back_to_one_forward_row_per_masked_input(data):
    X, B = data
    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((T, F)), keras.layers.GRU(3), keras.layers.Dense(1)])
    masks = shapley.coalition_masks(T)
    v = prefix.masked_values(model, X, B, masks)
    np.testing.assert_allclose(v, reference_values(model, X, B, masks), atol=1e-5)
    kernel = prefix.kernel_time_shap(model, X, background=B, nsamples=2**T)
    expected = v @ shapley.shapley_coefficients(masks)
    np.testing.assert_allclose(kernel[:, :, 0], expected, atol=1e-6)


def test_a_head_reading_the_input_too_is_not_supported():
    inputs = keras.Input((T, F))
    h = keras.layers.LSTM(3)(inputs)
    skip = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Concatenate()([h, skip])))
    assert not prefix.supports(model)


def test_bad_input_raises_value_errors(data):
    X, B = data
    model = MODELS["single"]()
    with pytest.raises(ValueError, match=r"expected X of shape \(n, 5, 3\)"):
        prefix.time_coalition_values(model, X[:, :, :2], B)
    with pytest.raises(ValueError, match=r"expected background of shape \(m, 5, 3\)"):
        prefix.time_coalition_values(model, X, B[:, :4])
    with pytest.raises(ValueError, match="expected masks of shape"):
        prefix.masked_values(model, X, B, np.ones((3, T + 1), bool))
    with pytest.raises(ValueError, match="expected window <= T"):
        prefix.occlusion_prefix(model, X, 0.0, window=T + 1)
    with pytest.raises(ValueError, match="resolved baseline"):
        prefix.occlusion_prefix(model, X, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="positive integer for nsamples"):
        prefix.kernel_time_shap(model, X, background=B, nsamples=0)
    with pytest.raises(ValueError, match="tolerance >= 0"):
        prefix.pruning_cutoff(model, X[0], B, tolerance=-1.0)
    with pytest.raises(ValueError, match="finite"):
        prefix.time_coalition_values(model, np.full_like(X, np.nan), B)
    long = models.build_lstm(prefix.MAX_EXACT_STEPS + 1, 1, units=2, seed=0)
    Z = np.zeros((1, prefix.MAX_EXACT_STEPS + 1, 1), np.float32)
    with pytest.raises(ValueError, match="use kernel_time_shap"):
        prefix.exact_time_shapley(long, Z, background=Z)


# --- the public methods take the prefix path; the plain path stays the reference ----------


def stacked_three_odd() -> keras.Model:
    return models.build_stacked_lstm(T, F, units=(3, 5, 1), seed=7)


PUBLIC = {**MODELS, "stacked_3_odd": stacked_three_odd}


@pytest.fixture(scope="module", params=sorted(PUBLIC))
def public_model(request) -> keras.Model:
    return PUBLIC[request.param]()


def prefix_and_plain(method, model, X, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """``method`` with prefix sharing (asserting it was taken) and with ``prefix_sharing=False``."""
    with prefix.count_cell_steps() as counter:
        shared = method(model, X, **kwargs)
    assert counter.steps > 0  # the prefix path ran
    with prefix.count_cell_steps() as counter:
        plain = method(model, X, prefix_sharing=False, **kwargs)
    assert counter.steps == 0  # and the plain one did not
    return shared, plain


def test_public_occlusion_equals_the_plain_path(public_model, data):
    X, B = data
    for window in (1, 3):
        shared, plain = prefix_and_plain(perturbation.occlusion, public_model, X, baseline=B[1], window=window)
        np.testing.assert_allclose(shared, plain, atol=1e-5)


def test_public_mask_time_steps_equals_the_plain_path(public_model, data):
    X, B = data
    shared, plain = prefix_and_plain(perturbation.mask_time_steps, public_model, X, baseline="zeros")
    assert shared.shape == X.shape
    np.testing.assert_allclose(shared, plain, atol=1e-5)


def test_public_exact_time_shapley_equals_the_plain_path(public_model, data):
    X, B = data
    shared, plain = prefix_and_plain(shapley.exact_shapley, public_model, X, background=B[:2], players="time")
    np.testing.assert_allclose(shared, plain, atol=1e-5)


def test_cell_players_and_rows_counted_as_the_plain_path(data):
    X, B = data
    model = MODELS["stacked_odd"]()
    with prefix.count_cell_steps() as counter:
        shapley.exact_shapley(model, X[:1], background=B[:1], players="cell")
    assert counter.steps == 0  # cell players keep one forward row per coalition
    counts = []
    for sharing in (True, False):
        with engine.count_evaluations() as rows:
            perturbation.occlusion(model, X, baseline="zeros", prefix_sharing=sharing)
        counts.append(rows.rows)
    assert counts == [X.shape[0] * (1 + T * F)] * 2  # one model output per occluded copy


def test_classifier_targets_through_the_public_methods(data):
    X, B = data
    model = models.build_lstm(T, F, units=4, n_outputs=3, output_activation="softmax", seed=5)
    for target in (2, "predicted", np.array([0, 1])):
        shared, plain = prefix_and_plain(perturbation.occlusion, model, X, baseline=0.5, target=target)
        np.testing.assert_allclose(shared, plain, atol=1e-5)
        shared, plain = prefix_and_plain(
            shapley.exact_shapley, model, X, background=B[:1], players="time", target=target
        )
        np.testing.assert_allclose(shared, plain, atol=1e-5)


def test_models_the_prefix_path_cannot_run_fall_back(data):
    X, B = data
    keras.utils.set_random_seed(8)
    gru = keras.Sequential([keras.Input((T, F)), keras.layers.GRU(3), keras.layers.Dense(1)])
    masked = keras.Sequential([keras.Input((T, F)), keras.layers.Masking(0.0), keras.layers.LSTM(3), keras.layers.Dense(1)])
    for model in (gru, masked):
        with prefix.count_cell_steps() as counter:
            occ = perturbation.occlusion(model, X, baseline=B[0])
            phi = shapley.exact_shapley(model, X, background=B[:1], players="time")
        assert counter.steps == 0
        y = outputs(model, X)[:, 0]
        copies = np.repeat(X[None], T * F, axis=0)
        for t in range(T):
            for f in range(F):
                copies[t * F + f, :, t, f] = B[0, t, f]
        expected = (y[None] - outputs(model, copies.reshape(-1, T, F))[:, 0].reshape(T * F, -1)).T
        np.testing.assert_allclose(occ, expected.reshape(-1, T, F), atol=1e-5)
        gap = y - outputs(model, B[:1])[0, 0]
        np.testing.assert_allclose(phi[:, :, 0].sum(axis=1), gap, atol=1e-5)


def test_padded_input_to_an_lstm_takes_the_plain_path():
    model = models.build_lstm(None, F, units=3, mask_value=0.0, seed=9)
    ragged = [np.full((T, F), 0.5, np.float32), np.full((T - 2, F), -0.5, np.float32)]
    with prefix.count_cell_steps() as counter:
        out = perturbation.occlusion(model, ragged, baseline=1.0)
    assert counter.steps == 0 and out.shape == (2, T, F)
    assert not out[1, T - 2 :].any()


def test_kernel_shap_prune_dispatches_to_event_level_timeshap(data):
    X, B = data
    model = MODELS["stacked_odd"]()
    exact = shapley.exact_shapley(model, X, background=B[:2], players="time")
    # Tolerance 0 prunes nothing here; 2^T samples enumerate every coalition: exact values.
    kernel = shapley.kernel_shap(model, X, background=B[:2], players="time", prune=0.0, nsamples=2**T)
    np.testing.assert_allclose(kernel, exact, atol=1e-5)
    pruned = shapley.kernel_shap(model, X, background=B[:2], players="time", prune=1e9, nsamples=64)
    expected = prefix.kernel_time_shap(model, X, background=B[:2], prune=1e9, nsamples=64)
    np.testing.assert_allclose(pruned, expected, atol=1e-12)
    np.testing.assert_allclose(pruned[:, :, 0].sum(axis=1), exact[:, :, 0].sum(axis=1), atol=1e-5)


def test_kernel_shap_prune_refuses_other_players_and_padding(data):
    X, B = data
    model = MODELS["single"]()
    for players in ("cell", "feature"):
        with pytest.raises(ValueError, match='expected players="time" with prune='):
            shapley.kernel_shap(model, X, background=B, players=players, prune=0.1)
    masked = models.build_lstm(None, F, units=3, mask_value=0.0, seed=9)
    ragged = [np.ones((T, F), np.float32), np.ones((T - 1, F), np.float32)]
    with pytest.raises(ValueError, match="unpadded sequences with prune="):
        shapley.kernel_shap(masked, ragged, background=np.zeros((1, T, F)), players="time", prune=0.1)


@pytest.mark.parametrize("name", ["stacked_odd", "attention"])
def test_a_small_row_budget_splits_starts_and_sequences_with_the_same_values(name, data, monkeypatch):
    X, B = data
    X = np.concatenate([X, B])  # five sequences
    model = MODELS[name]()
    whole = perturbation.occlusion(model, X, baseline=B[2], window=2, prefix_sharing=False)
    # A budget of two sequences with three starts each: calls of starts 0-2 and 3 (its
    # other two past the last start), over sequences 0-1, 2-3 and 4 (padded to 2).
    chain = lstm_stack.chain(model)
    per_step = T if chain.sequence_head else 1
    monkeypatch.setattr(engine, "BUCKETS", (2, 4))
    monkeypatch.setattr(engine, "MAX_ROWS", 2 * per_step * (1 + 3 * F))
    assert prefix_tree.occlusion_width(chain, T, F, T - 1) == (3, 2)
    with prefix.count_cell_steps() as counter:
        shared = perturbation.occlusion(model, X, baseline=B[2], window=2)
    np.testing.assert_allclose(shared, whole, atol=1e-5)
    # Each call steps the sequence itself from step 0; each copy from its own start.
    assert counter.steps == len(X) * (2 * T + F * sum(T - p for p in range(T - 1)))


def test_exact_shapley_on_the_prefix_path_equals_the_plain_one(data):
    X, B = data
    model = MODELS["stacked_odd"]()
    phi = shapley.exact_shapley(model, X, background=B[:1], players="time")
    plain = shapley.exact_shapley(model, X, background=B[:1], players="time", prefix_sharing=False)
    np.testing.assert_allclose(phi, plain, atol=1e-5)


@pytest.mark.parametrize("name", ["single", "attention"])
def test_few_sequences_run_as_one_plain_forward_with_the_same_values(name, data, monkeypatch):
    X, B = data
    model = MODELS[name]()
    shared = prefix.occlusion_prefix(model, X, B[1], window=2), prefix.mask_time_steps_prefix(model, X, B[1])
    monkeypatch.setattr(prefix, "PLAIN_BELOW", 10**6)
    with prefix.count_cell_steps() as counter, engine.count_evaluations() as rows:
        plain = prefix.occlusion_prefix(model, X, B[1], window=2)
    n, copies = X.shape[0], 1 + (T - 1) * F
    assert counter.steps == n * copies * T and rows.rows == n * copies  # every copy, every step
    np.testing.assert_allclose(plain, shared[0], atol=1e-5)
    np.testing.assert_allclose(prefix.mask_time_steps_prefix(model, X, B[1]), shared[1], atol=1e-5)
