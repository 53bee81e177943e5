"""Decision boundaries of a classifier on 2-D inputs: the model's probabilities over a grid
(:class:`~deeprecipe.diagnostics.views.Regions`; binary: ``P(class 1)`` with the 0.5 contour,
else the predicted class) under the data, colored by class, one marker per part."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, ListedColormap
from matplotlib.lines import Line2D

from .style import CLASS_COLORS, INK, new_figure, new_panels, themed

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..diagnostics.views import Points, Regions

MARKERS = {"train": "o", "dev": "^", "test": "s"}


@themed
def decision_boundary(regions: Regions, points: Sequence[Points], *,
                      title: str = "Decision boundary") -> Figure:
    """One panel: a model's decision ``regions`` over ``points``."""
    figure, ax = new_figure(7.0, 5.6)
    draw_boundary(ax, regions, points)
    ax.set_title(title)
    _legend(ax, points)
    return figure


@themed
def boundary_panels(panels: Mapping[str, Regions], points: Sequence[Points]) -> Figure:
    """Several models' regions side by side on the same points, one panel each
    (``{title: regions}``); what the experiments show."""
    figure, axes = new_panels(panels, 4.2, 4.4, pad=1.2)
    for ax, (title, regions) in zip(axes, panels.items(), strict=True):
        draw_boundary(ax, regions, points)
        ax.set_title(title, fontsize=10.5)
    _legend(axes[-1], points)
    return figure


def draw_boundary(ax: Axes, regions: Regions, points: Sequence[Points], *,
                  markers: bool = True) -> None:
    """Draw decision ``regions`` and ``points`` on ``ax``."""
    gx, gy = np.meshgrid(regions.xs, regions.ys)
    k = regions.proba.shape[-1]
    if k == 2:
        p1 = regions.proba[..., 1]
        shades = LinearSegmentedColormap.from_list(
            "binary", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]])
        ax.contourf(gx, gy, p1, levels=np.linspace(0, 1, 11), cmap=shades, alpha=0.45)
        if p1.min() < 0.5 < p1.max():
            ax.contour(gx, gy, p1, levels=[0.5], colors=INK, linewidths=1.5)
    else:
        labels = regions.proba.argmax(axis=-1)
        palette = ListedColormap([CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(k)])
        ax.contourf(gx, gy, labels, levels=np.arange(k + 1) - 0.5, cmap=palette, alpha=0.25)
    if markers:
        for part in points:  # the held-out points, which judge the boundary, in front
            train = part.label == "train"
            colors = [CLASS_COLORS[int(c) % len(CLASS_COLORS)] for c in part.y]
            ax.scatter(part.X[:, 0], part.X[:, 1], c=colors, s=14 if train else 30,
                       alpha=0.55 if train else 1.0, marker=MARKERS.get(part.label, "o"),
                       edgecolors="white" if train else INK, linewidths=0.5 if train else 0.7,
                       zorder=3 if train else 4)
    ax.set(xlabel="x₁", ylabel="x₂")
    ax.set_xlim(regions.xs[0], regions.xs[-1])
    ax.set_ylim(regions.ys[0], regions.ys[-1])
    ax.grid(False)


def _legend(ax: Axes, points: Sequence[Points]) -> None:
    classes = sorted({int(c) for p in points for c in np.unique(p.y)})
    handles = [Line2D([], [], ls="", marker="o", color=CLASS_COLORS[c % len(CLASS_COLORS)],
                      label=f"class {c}") for c in classes]
    handles += [Line2D([], [], ls="", marker=MARKERS.get(p.label, "o"), color="#64748b",
                       label=p.label) for p in points]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))
