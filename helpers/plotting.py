"""Figures the chapters share: the book style, attribution heatmaps, sequences, method grids.

Explained where first used: chapter 1 (sequences), chapter 2 (heatmaps).

The rules every figure follows, so new figures get them by default:
- Importing this module applies the book style (`use_book_style`): figures are
  drawn for the ~700-px text column (`COLUMN_WIDTH` inches at 100 dpi), no text
  is smaller than `MIN_FONT_PT` points, and in a notebook figures are sent as
  retina PNGs (twice the pixels, shown at the drawn width).
- Each PNG records its smallest font size and its DPI in its metadata
  (`FONT_KEY`, `DPI_KEY`), so the site test can check that text stays readable
  however the page scales the image.
- Signed quantities use the diverging map centred on zero: red pushes the
  prediction up, blue pushes it down, on every page. Non-negative ones
  (attention weights, sizes of change) use a sequential map starting at zero,
  so no colour bar ever shows a negative attention weight.
"""

from __future__ import annotations

import io
import sys
import textwrap
from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.textpath import TextToPath

DIVERGING = "RdBu_r"
SEQUENTIAL = "Reds"  # white at zero, like the diverging map's centre
COLUMN_WIDTH = 6.8  # inches; at 100 dpi the ~700-px text column of the website
MIN_FONT_PT = 9.0
FONT_KEY = "inside-the-lstm:smallest-font-pt"
DPI_KEY = "inside-the-lstm:dpi"
RETINA = 2  # pixels per drawn pixel in notebook output

BOOK_STYLE = {
    "figure.figsize": (COLUMN_WIDTH, 3.4),
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": MIN_FONT_PT,
    "figure.titlesize": 11,
    "image.cmap": "viridis",
}


def smallest_font_pt(fig: Figure) -> float:
    """The smallest font size (points) of any visible, non-empty text in ``fig``."""
    fig.draw_without_rendering()  # tick labels get their text only when drawn
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and (t.axes is None or t.axes.get_visible())
    ]
    return float(min(sizes)) if sizes else float(mpl.rcParams["font.size"])


def figure_png(fig: Figure) -> tuple[bytes, dict]:
    """Render ``fig`` as a retina PNG that records its smallest font and DPI; returns (png, display metadata)."""
    dpi = RETINA * fig.dpi
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format="png",
        dpi=dpi,
        bbox_inches="tight",
        metadata={FONT_KEY: f"{smallest_font_pt(fig):g}", DPI_KEY: f"{dpi:g}"},
    )
    data = buffer.getvalue()
    width = int.from_bytes(data[16:20], "big")  # the IHDR chunk: width, then height
    return data, {"width": width // RETINA}


def use_book_style() -> None:
    """Apply the book's figure style; in IPython, show figures as retina PNGs with metadata."""
    mpl.rcParams.update(BOOK_STYLE)
    if "ipykernel" not in sys.modules:  # plain Python or a terminal: the style alone
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    # Activate the inline backend now, so it cannot later replace our formatter.
    shell.run_line_magic("matplotlib", "inline")
    mpl.rcParams.update(BOOK_STYLE)  # the backend resets figure.dpi and figsize
    formatters = shell.display_formatter.formatters
    for fmt in ("image/svg+xml", "image/jpeg", "application/pdf"):
        formatters[fmt].pop(Figure, None)
    formatters["image/png"].for_type(Figure, figure_png)


def symmetric_norm(values: np.ndarray) -> TwoSlopeNorm:
    """A colour normalisation centred on zero and symmetric in its range."""
    m = float(np.nanmax(np.abs(values))) if np.size(values) else 1.0
    m = m if m > 0 else 1.0
    return TwoSlopeNorm(vcenter=0.0, vmin=-m, vmax=m)


def zero_based_norm(values: np.ndarray) -> Normalize:
    """A colour normalisation from zero to the largest value, for non-negative quantities."""
    m = float(np.nanmax(values)) if np.size(values) else 1.0
    return Normalize(vmin=0.0, vmax=m if m > 0 else 1.0)


def colour_scale(values: np.ndarray, signed: bool | None = None) -> tuple[str, Normalize]:
    """The colour map and normalisation for ``values``: diverging if signed, else from zero.

    ``signed=None`` decides from the data (any negative value makes it signed);
    ``signed=False`` declares a non-negative quantity and rejects negative values.
    """
    values = np.asarray(values, dtype=float)
    lowest = float(np.nanmin(values)) if values.size else 0.0
    if signed is None:
        signed = lowest < 0
    if signed:
        return DIVERGING, symmetric_norm(values)
    if lowest < 0:
        raise ValueError(
            f"expected a non-negative quantity (signed=False), got a minimum of {lowest:.3g}; "
            "pass signed=True for signed values"
        )
    return SEQUENTIAL, zero_based_norm(values)


def outline_cells(ax: plt.Axes, mask: np.ndarray, color: str = "black") -> None:
    """Draw a box around every True cell of a ``(T, F)`` mask on a heatmap drawn with T on x."""
    for t, f in zip(*np.nonzero(np.asarray(mask, dtype=bool))):
        ax.add_patch(
            Rectangle((t - 0.5, f - 0.5), 1, 1, fill=False, edgecolor=color, linewidth=2.0)
        )


def label_time_axis(ax: plt.Axes, time_names: Sequence[str], most: int = 10) -> None:
    """Label the x axis with step names, every k-th one when there are more than ``most``.

    Long sequences in a small panel would otherwise print overlapping labels.
    """
    every = max(1, int(np.ceil(len(time_names) / most)))
    ticks = range(0, len(time_names), every)
    ax.set_xticks(list(ticks), [time_names[t] for t in ticks])
    ax.set_xlabel("time step")


def fit_time_labels(ax: plt.Axes, time_names: Sequence[str], share: float = 1.0) -> None:
    """Label the time axis with as many step names as fit side by side (at most 10).

    Each label takes the width of the longest name at the tick font plus a 6-pt
    gap, so a five-step panel names all five steps and a narrow panel's labels
    never touch. ``share`` is the part of the panel's current width that the final
    layout keeps.
    """
    width_pt = share * ax.get_position().width * ax.figure.get_figwidth() * 72
    font = FontProperties(size=mpl.rcParams["xtick.labelsize"])
    measure = TextToPath().get_text_width_height_descent
    longest = max((measure(str(name), font, ismath=False)[0] for name in time_names), default=0.0)
    most = int(width_pt / (longest + 6.0))
    label_time_axis(ax, time_names, most=min(10, max(2, most)))


def wrap_colorbar_label(label: str, bar_height_in: float, fontsize: float = 10.0) -> str:
    """Break a colour-bar label into lines no longer than the bar, so neighbours never overlap."""
    chars = max(8, int(bar_height_in * 72 / (0.6 * fontsize)))
    return "\n".join(textwrap.wrap(label, chars)) or label


def attribution_heatmap(
    ax: plt.Axes,
    attribution: np.ndarray,
    time_names: Sequence[str],
    feature_names: Sequence[str],
    planted: np.ndarray | None = None,
    title: str = "",
    signed: bool | None = None,
    colorbar_label: str = "attribution (prediction units)",
):
    """Draw one ``(T, F)`` map as features x time; outline the truly relevant ``(T, F)`` cells.

    ``signed`` as in `colour_scale`: None picks the map from the data's sign.
    """
    A = np.asarray(attribution, dtype=float)
    expected = (len(time_names), len(feature_names))
    if A.shape != expected:
        raise ValueError(f"expected an attribution of shape {expected} (T, F), got {A.shape}")
    if planted is not None and np.shape(planted) != expected:
        raise ValueError(
            f"expected a planted mask of shape {expected} (T, F), got {np.shape(planted)}"
        )
    cmap, norm = colour_scale(A, signed)
    image = ax.imshow(A.T, aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    # Before constrained layout gives the colour bar and feature names their share
    # (about a third), the panel's final width is not known: estimate it here;
    # `method_grid` fits the labels again once its layout is done.
    fit_time_labels(ax, time_names, share=0.7)
    ax.set_yticks(range(len(feature_names)), list(feature_names))
    ax.set_ylabel("feature")
    if planted is not None:
        outline_cells(ax, planted)
    if title:
        ax.set_title(title)
    height = ax.get_position().height * ax.figure.get_figheight() * 0.9
    ax.figure.colorbar(image, ax=ax, label=wrap_colorbar_label(colorbar_label, height), shrink=0.9)
    return image


def method_grid(
    maps: dict[str, np.ndarray],
    time_names: Sequence[str],
    feature_names: Sequence[str],
    planted: np.ndarray | None = None,
    ncols: int = 2,
    scale_each: bool = True,
    units: dict[str, str] | None = None,
    signed: dict[str, bool] | None = None,
    panel_height: float = 2.0,
):
    """One heatmap per method, same sample, relevant cells outlined; returns the figure.

    The grid is always one column wide (`COLUMN_WIDTH`): more maps add rows, not
    columns. ``units`` gives the colour-bar label of maps that are not attributions
    in prediction units (a slope, an attention weight, a state change); ``signed``
    declares a map's sign where the data alone should not decide it.
    """
    if not isinstance(maps, dict) or not maps:
        raise ValueError(f"expected maps as a non-empty dict of name -> (T, F) map, got {maps!r}")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"expected ncols as a positive int, got {ncols!r}")
    n = len(maps)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(COLUMN_WIDTH, panel_height * nrows), squeeze=False,
        layout="constrained",
    )
    for ax, (name, A) in zip(axes.flat, maps.items()):
        label = (units or {}).get(name, "attribution (prediction units)")
        attribution_heatmap(ax, A, time_names, feature_names, planted, title=name,
                            colorbar_label=label, signed=(signed or {}).get(name))
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.draw_without_rendering()  # constrained layout now gives each panel its width
    for ax in list(axes.flat)[:n]:
        fit_time_labels(ax, time_names)
    return fig


def plot_sequence(
    ax: plt.Axes,
    x: np.ndarray,
    time_names: Sequence[str],
    feature_names: Sequence[str],
    planted: np.ndarray | None = None,
    ylabel: str = "value",
):
    """Plot each feature of one ``(T, F)`` sequence over time; mark relevant cells with rings."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"expected x as one sequence of shape (T, F), got shape {x.shape}")
    if len(feature_names) != x.shape[1] or len(time_names) != x.shape[0]:
        raise ValueError(
            f"expected {x.shape[0]} time names and {x.shape[1]} feature names for x of shape "
            f"{x.shape}, got {len(time_names)} and {len(feature_names)}"
        )
    t = np.arange(x.shape[0])
    for f, name in enumerate(feature_names):
        ax.plot(t, x[:, f], marker="o", label=name)
        if planted is not None:
            hit = np.asarray(planted)[:, f]
            ax.scatter(t[hit], x[hit, f], s=220, facecolors="none", edgecolors="black", lw=2)
    label_time_axis(ax, time_names)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")


use_book_style()
