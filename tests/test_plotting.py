"""helpers.plotting: the shared figures label, centre and outline what the chapters say."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.patches import Rectangle

from helpers import plotting


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=20),
)
def test_symmetric_norm_is_centred_on_zero(values):
    norm = plotting.symmetric_norm(np.array(values))
    assert norm.vcenter == 0.0
    assert norm.vmin == -norm.vmax
    assert norm.vmax >= np.max(np.abs(values))  # nothing is clipped


def test_symmetric_norm_of_all_zeros_has_a_usable_range():
    norm = plotting.symmetric_norm(np.zeros((3, 2)))
    assert (norm.vmin, norm.vmax) == (-1.0, 1.0)


@pytest.mark.parametrize("n_steps", [1, 5, 10, 11, 20, 40])
def test_time_axis_keeps_at_most_ten_labels_starting_at_the_first_step(n_steps):
    names = [f"s{t}" for t in range(n_steps)]
    fig, ax = plt.subplots()
    plotting.label_time_axis(ax, names)
    labels = [label.get_text() for label in ax.get_xticklabels()]
    assert 1 <= len(labels) <= 10
    assert labels[0] == "s0"
    assert len(labels) == n_steps if n_steps <= 10 else len(labels) < n_steps
    assert ax.get_xlabel() == "time step"


def test_heatmap_outlines_exactly_the_relevant_cells_and_centres_colours():
    A = np.array([[0.5, -2.0], [1.0, 0.0], [0.0, 0.1]])
    relevance = np.array([[True, False], [False, False], [False, True]])
    fig, ax = plt.subplots()
    image = plotting.attribution_heatmap(ax, A, ["a", "b", "c"], ["f0", "f1"], relevance)
    boxes = sorted(
        (p.get_x() + 0.5, p.get_y() + 0.5) for p in ax.patches if isinstance(p, Rectangle)
    )
    assert boxes == [(0.0, 0.0), (2.0, 1.0)]  # (time, feature) of each relevant cell
    assert (image.norm.vmin, image.norm.vcenter, image.norm.vmax) == (-2.0, 0.0, 2.0)
    # Features run down the rows, time along the columns.
    np.testing.assert_array_equal(image.get_array(), A.T)


def test_heatmap_rejects_an_attribution_that_does_not_match_the_names():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"expected an attribution of shape \(3, 2\), got \(2, 3\)"):
        plotting.attribution_heatmap(ax, np.zeros((2, 3)), ["a", "b", "c"], ["f0", "f1"])


def test_method_grid_draws_one_panel_per_method_and_hides_the_rest():
    maps = {name: np.full((4, 2), k - 1.0) for k, name in enumerate(["m1", "m2", "m3", "m4"])}
    fig = plotting.method_grid(maps, list("abcd"), ["f0", "f1"], ncols=3)
    titled = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titled == ["m1", "m2", "m3", "m4"]
    hidden = [ax for ax in fig.axes if not ax.get_visible()]
    assert len(hidden) == 2  # a 2 x 3 grid for four maps


def test_sequence_plot_rings_the_relevant_cells():
    x = np.arange(12, dtype=float).reshape(6, 2)
    relevance = np.zeros((6, 2), dtype=bool)
    relevance[[1, 4], 0] = True
    fig, ax = plt.subplots()
    plotting.plot_sequence(ax, x, [str(t) for t in range(6)], ["value", "marker"], relevance)
    rings = np.concatenate([c.get_offsets() for c in ax.collections])
    np.testing.assert_array_equal(rings, [[1.0, 2.0], [4.0, 8.0]])
    assert [line.get_label() for line in ax.get_lines()] == ["value", "marker"]


def test_method_grid_labels_each_colour_bar_with_its_units():
    maps = {"occlusion": np.ones((3, 2)), "attention": np.ones((3, 2))}
    fig = plotting.method_grid(maps, list("abc"), ["f0", "f1"], units={"attention": "weight (share of 1)"})
    bars = [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert bars == ["attribution (prediction units)", "weight (share of 1)"]
