"""Figures the chapters share: attribution heatmaps, sequences, method grids.

Explained where first used: chapter 1 (sequences), chapter 2 (heatmaps).
Signed attributions always use a diverging colour map centred on zero, so red
means "pushes the prediction up" and blue "pushes it down" on every page.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Rectangle

DIVERGING = "RdBu_r"


def symmetric_norm(values: np.ndarray) -> TwoSlopeNorm:
    """A colour normalisation centred on zero and symmetric in its range."""
    m = float(np.nanmax(np.abs(values))) if np.size(values) else 1.0
    m = m if m > 0 else 1.0
    return TwoSlopeNorm(vcenter=0.0, vmin=-m, vmax=m)


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


def attribution_heatmap(
    ax: plt.Axes,
    attribution: np.ndarray,
    time_names: Sequence[str],
    feature_names: Sequence[str],
    relevance: np.ndarray | None = None,
    title: str = "",
    signed: bool = True,
    colorbar_label: str = "attribution (prediction units)",
):
    """Draw one ``(T, F)`` attribution as features x time; outline the truly relevant cells."""
    A = np.asarray(attribution, dtype=float)
    if A.shape != (len(time_names), len(feature_names)):
        raise ValueError(
            f"expected an attribution of shape ({len(time_names)}, {len(feature_names)}), "
            f"got {A.shape}"
        )
    if signed:
        image = ax.imshow(A.T, aspect="auto", cmap=DIVERGING, norm=symmetric_norm(A))
    else:
        image = ax.imshow(A.T, aspect="auto", cmap="viridis", vmin=0)
    label_time_axis(ax, time_names)
    ax.set_yticks(range(len(feature_names)), list(feature_names))
    ax.set_ylabel("feature")
    if relevance is not None:
        outline_cells(ax, relevance)
    if title:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label=colorbar_label, shrink=0.85)
    return image


def method_grid(
    maps: dict[str, np.ndarray],
    time_names: Sequence[str],
    feature_names: Sequence[str],
    relevance: np.ndarray | None = None,
    ncols: int = 3,
    scale_each: bool = True,
    units: dict[str, str] | None = None,
):
    """One heatmap per method, same sample, relevant cells outlined; returns the figure.

    ``units`` gives the colour-bar label of maps that are not attributions in prediction
    units (a slope, an attention weight, a state change).
    """
    n = len(maps)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.6 * nrows), squeeze=False)
    for ax, (name, A) in zip(axes.flat, maps.items()):
        label = (units or {}).get(name, "attribution (prediction units)")
        attribution_heatmap(ax, A, time_names, feature_names, relevance, title=name,
                            colorbar_label=label)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_sequence(
    ax: plt.Axes,
    x: np.ndarray,
    time_names: Sequence[str],
    feature_names: Sequence[str],
    relevance: np.ndarray | None = None,
    ylabel: str = "value",
):
    """Plot each feature of one ``(T, F)`` sequence over time; mark relevant cells with rings."""
    x = np.asarray(x, dtype=float)
    t = np.arange(x.shape[0])
    for f, name in enumerate(feature_names):
        ax.plot(t, x[:, f], marker="o", label=name)
        if relevance is not None:
            hit = np.asarray(relevance)[:, f]
            ax.scatter(t[hit], x[hit, f], s=220, facecolors="none", edgecolors="black", lw=2)
    label_time_axis(ax, time_names)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best", fontsize="small")
