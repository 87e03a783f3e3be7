"""helpers.plotting: the shared figures label, centre and outline what the chapters say."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.patches import Rectangle
from PIL import Image

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
    planted = np.array([[True, False], [False, False], [False, True]])
    fig, ax = plt.subplots()
    image = plotting.attribution_heatmap(ax, A, ["a", "b", "c"], ["f0", "f1"], planted)
    boxes = sorted(
        (p.get_x() + 0.5, p.get_y() + 0.5) for p in ax.patches if isinstance(p, Rectangle)
    )
    assert boxes == [(0.0, 0.0), (2.0, 1.0)]  # (time, feature) of each relevant cell
    assert (image.norm.vmin, image.norm.vcenter, image.norm.vmax) == (-2.0, 0.0, 2.0)
    assert image.get_cmap().name == plotting.DIVERGING
    # Features run down the rows, time along the columns.
    np.testing.assert_array_equal(image.get_array(), A.T)


def test_heatmap_of_a_non_negative_map_is_sequential_from_zero():
    weights = np.array([[0.1, 0.2], [0.3, 0.4], [0.0, 0.0]])  # attention-like: no sign
    fig, ax = plt.subplots()
    image = plotting.attribution_heatmap(ax, weights, ["a", "b", "c"], ["f0", "f1"])
    assert image.get_cmap().name == plotting.SEQUENTIAL
    assert (image.norm.vmin, image.norm.vmax) == (0.0, 0.4)
    colorbar_ticks = image.colorbar.ax.get_yticks()
    assert colorbar_ticks[colorbar_ticks >= image.norm.vmin].min() >= 0  # no negative weight shown


def test_heatmap_keeps_a_declared_signed_map_diverging_even_when_all_positive():
    fig, ax = plt.subplots()
    image = plotting.attribution_heatmap(ax, np.full((3, 2), 0.5), list("abc"), ["f0", "f1"],
                                         signed=True)
    assert image.get_cmap().name == plotting.DIVERGING
    assert image.norm.vcenter == 0.0


def test_heatmap_rejects_negative_values_declared_non_negative():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"expected a non-negative quantity .* minimum of -0.3"):
        plotting.attribution_heatmap(ax, np.array([[0.2, -0.3], [0.0, 0.1]]), ["a", "b"],
                                     ["f0", "f1"], signed=False)


def test_heatmap_rejects_an_attribution_that_does_not_match_the_names():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"expected an attribution of shape \(3, 2\) \(T, F\), got \(2, 3\)"):
        plotting.attribution_heatmap(ax, np.zeros((2, 3)), ["a", "b", "c"], ["f0", "f1"])


def test_heatmap_rejects_a_transposed_planted_mask():
    """An (F, T) mask used to be drawn on the wrong cells; now it is an error."""
    fig, ax = plt.subplots()
    mask_ft = np.zeros((2, 3), dtype=bool)
    with pytest.raises(ValueError, match=r"expected a planted mask of shape \(3, 2\) \(T, F\), got \(2, 3\)"):
        plotting.attribution_heatmap(ax, np.zeros((3, 2)), ["a", "b", "c"], ["f0", "f1"], mask_ft)


def test_method_grid_draws_one_panel_per_method_and_hides_the_rest():
    maps = {name: np.full((4, 2), k - 1.0) for k, name in enumerate(["m1", "m2", "m3", "m4"])}
    fig = plotting.method_grid(maps, list("abcd"), ["f0", "f1"], ncols=3)
    titled = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titled == ["m1", "m2", "m3", "m4"]
    hidden = [ax for ax in fig.axes if not ax.get_visible()]
    assert len(hidden) == 2  # a 2 x 3 grid for four maps


def test_method_grid_stays_one_column_wide_and_stacks_more_maps_in_rows():
    maps = {f"m{k}": np.ones((3, 2)) * k for k in range(10)}
    fig = plotting.method_grid(maps, list("abc"), ["f0", "f1"])
    width, height = fig.get_size_inches()
    assert width == pytest.approx(plotting.COLUMN_WIDTH)
    assert height > width  # ten maps: five rows of two


def test_method_grid_chooses_each_maps_colour_scale_from_its_sign():
    maps = {"signed": np.array([[1.0, -1.0], [0.5, 0.0]]), "attention": np.array([[0.7, 0.3], [0.0, 0.0]])}
    fig = plotting.method_grid(maps, ["a", "b"], ["f0", "f1"])
    cmaps = [im.get_cmap().name for ax in fig.axes for im in ax.get_images()]
    assert cmaps == [plotting.DIVERGING, plotting.SEQUENTIAL]


def test_sequence_plot_rings_the_relevant_cells():
    x = np.arange(12, dtype=float).reshape(6, 2)
    planted = np.zeros((6, 2), dtype=bool)
    planted[[1, 4], 0] = True
    fig, ax = plt.subplots()
    plotting.plot_sequence(ax, x, [str(t) for t in range(6)], ["value", "marker"], planted)
    rings = np.concatenate([c.get_offsets() for c in ax.collections])
    np.testing.assert_array_equal(rings, [[1.0, 2.0], [4.0, 8.0]])
    assert [line.get_label() for line in ax.get_lines()] == ["value", "marker"]


def test_method_grid_labels_each_colour_bar_with_its_units():
    maps = {"occlusion": np.ones((3, 2)), "attention": np.ones((3, 2))}
    fig = plotting.method_grid(maps, list("abc"), ["f0", "f1"], units={"attention": "weight (share of 1)"})
    bars = [ax.get_ylabel().replace("\n", " ") for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert bars == ["attribution (prediction units)", "weight (share of 1)"]


def test_colour_bar_labels_fit_their_bars_in_a_stacked_grid():
    """Three short stacked panels: each label must end within its own colour bar's height."""
    maps = {name: np.linspace(-1, 1, 40).reshape(20, 2) for name in ["a", "b", "c"]}
    units = {name: "slope of the prediction (prediction units per standard deviation)" for name in maps}
    fig = plotting.method_grid(maps, [str(t) for t in range(20)], ["value", "marker"], ncols=1,
                               units=units)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    extents = sorted(
        (ax.yaxis.label.get_window_extent(renderer).y0, ax.yaxis.label.get_window_extent(renderer).y1)
        for ax in fig.axes if ax.get_label() == "<colorbar>"
    )
    for (_, top_lower), (bottom_upper, _) in zip(extents, extents[1:]):
        assert top_lower < bottom_upper  # no two labels overlap vertically


def test_book_style_sets_readable_fonts_and_column_width():
    plotting.use_book_style()
    fig, ax = plt.subplots()
    ax.set_xlabel("x")
    ax.plot([0, 1], [0, 1], label="line")
    ax.legend()
    assert fig.get_size_inches()[0] == pytest.approx(plotting.COLUMN_WIDTH)
    assert plotting.smallest_font_pt(fig) >= plotting.MIN_FONT_PT


def test_smallest_font_ignores_hidden_and_empty_text():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    ax1.set_title("big", fontsize=20)
    ax1.text(0.5, 0.5, "")  # empty: not drawn
    ax2.set_title("tiny", fontsize=4)
    ax2.set_visible(False)  # hidden panel: not drawn
    fig.text(0.1, 0.1, "hidden", fontsize=3, visible=False)
    assert plotting.smallest_font_pt(fig) >= plotting.MIN_FONT_PT


def test_figure_png_is_retina_and_records_its_font_and_dpi():
    fig, ax = plt.subplots(figsize=(4, 2), dpi=100)
    ax.set_title("t", fontsize=12)
    ax.tick_params(labelsize=7)
    data, metadata = plotting.figure_png(fig)
    image = Image.open(io.BytesIO(data))
    assert float(image.info[plotting.FONT_KEY]) == 7.0
    assert float(image.info[plotting.DPI_KEY]) == 200.0
    assert metadata["width"] == image.width // 2  # shown at the drawn width, twice the pixels
    assert 300 < metadata["width"] <= 400  # 4 inches at 100 dpi, trimmed to the drawing


def _label_boxes(fig, ax):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]


@pytest.mark.parametrize(
    "names, ncols",
    [
        (["t-4", "t-3", "t-2", "t-1", "t"], 2),  # chapter 2's stock window, two panels a row
        ([str(t) for t in range(20)], 2),
        ([str(t) for t in range(20)], 1),
        ([str(t) for t in range(50)], 1),
        ([f"day {t}" for t in range(12)], 2),
    ],
)
def test_grid_time_labels_never_touch_and_a_short_window_names_every_step(names, ncols):
    rng = np.random.default_rng(0)
    maps = {f"m{k}": rng.normal(size=(len(names), 3)) for k in range(2 * ncols)}
    fig = plotting.method_grid(maps, names, ["open", "close", "volume"], ncols=ncols)
    for ax in [ax for ax in fig.axes if ax.get_xlabel() == "time step"]:
        boxes = _label_boxes(fig, ax)
        gaps = [b.x0 - a.x1 for a, b in zip(boxes, boxes[1:])]
        assert min(gaps) > 0, (names[:3], gaps)
        if len(names) == 5:
            assert len(boxes) == 5
