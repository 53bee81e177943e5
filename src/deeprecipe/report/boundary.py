"""Decision boundaries of a classifier on 2-D inputs: what the network learned, drawn.

The network is asked for its probabilities on a grid covering the points; the background
shows them (binary: ``P(class 1)`` from one class's color to the other's, with the 0.5
contour in black; more classes: the predicted class), the points show the data, colored by
class, one marker per part (train ``o``, dev ``^``, test ``s``).

Coordinates are those :meth:`~deeprecipe.Sequential.predict` takes: raw inputs when the
model carries its standardizer, the network's inputs otherwise (see :func:`plot_points`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, ListedColormap
from matplotlib.lines import Line2D

from .style import CLASS_COLORS, INK, new_figure, themed

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..data import Splits
    from ..model import Sequential

MARKERS = {"train": "o", "dev": "^", "test": "s"}
RESOLUTION = 200


@dataclass(frozen=True)
class Points:
    """One labelled set of 2-D points: ``X (m, 2)`` and class labels ``y (m,)``."""

    label: str
    X: np.ndarray
    y: np.ndarray


def plot_points(model: Sequential, splits: Splits) -> list[Points]:
    """The parts of ``splits`` in the coordinates ``model.predict`` takes.

    ``splits`` hold the network's inputs (standardized, as passed to ``fit``). When the
    model carries its standardizer (``model.standardizer``, as a saved and loaded model
    does), ``predict`` takes raw inputs, so the points are mapped back to raw units with
    ``inverse_transform`` — unless the training part is not standardized (its columns do
    not have mean 0 and standard deviation 1), in which case the splits already hold raw
    inputs and are used as they are.
    """
    scaler = model.standardizer
    parts = splits.parts
    back = scaler is not None and _standardized(parts["train"].X)
    points = []
    for name, part in parts.items():
        X = np.asarray(part.X, dtype=np.float64)
        if back and scaler is not None:
            X = scaler.inverse_transform(X)
        points.append(Points(name, X, np.asarray(part.y)))
    return points


def _standardized(X: np.ndarray) -> bool:
    X = np.asarray(X, dtype=np.float64)
    spread = X.std(axis=0)
    varying = spread > 0
    return bool(np.allclose(X.mean(axis=0), 0.0, atol=1e-3)
                and np.allclose(spread[varying], 1.0, atol=1e-3))


@themed
def decision_boundary(model: Sequential, points: Sequence[Points], *,
                      title: str = "Decision boundary") -> Figure:
    """One panel: the model's decision regions over ``points``."""
    figure, ax = new_figure(7.0, 5.6)
    draw_boundary(ax, model, points)
    ax.set_title(title)
    _legend(ax, points)
    return figure


@themed
def boundary_panels(models: Mapping[str, Sequential], points: Sequence[Points]) -> Figure:
    """Several models side by side on the same points, one panel each (``{title: model}``);
    what the experiments show."""
    figure, axes = new_figure(4.2 * len(models) + 1.2, 4.4, ncols=len(models), squeeze=False)
    for ax, (title, model) in zip(axes[0], models.items(), strict=True):
        draw_boundary(ax, model, points)
        ax.set_title(title, fontsize=10.5)
    _legend(axes[0][-1], points)
    return figure


def draw_boundary(ax: Axes, model: Sequential, points: Sequence[Points], *,
                  resolution: int = RESOLUTION, markers: bool = True) -> None:
    """Draw ``model``'s decision regions and ``points`` on ``ax``."""
    stacked = np.vstack([p.X for p in points])
    (x_low, y_low), (x_high, y_high) = stacked.min(axis=0), stacked.max(axis=0)
    pad_x, pad_y = 0.08 * (x_high - x_low or 1.0), 0.08 * (y_high - y_low or 1.0)
    xs = np.linspace(x_low - pad_x, x_high + pad_x, resolution)
    ys = np.linspace(y_low - pad_y, y_high + pad_y, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    proba = np.asarray(model.predict_proba(grid), dtype=np.float64)
    k = proba.shape[1]
    if k == 2:
        p1 = proba[:, 1].reshape(gx.shape)
        shades = LinearSegmentedColormap.from_list(
            "binary", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]])
        ax.contourf(gx, gy, p1, levels=np.linspace(0, 1, 11), cmap=shades, alpha=0.45)
        if p1.min() < 0.5 < p1.max():
            ax.contour(gx, gy, p1, levels=[0.5], colors=INK, linewidths=1.5)
    else:
        labels = proba.argmax(axis=1).reshape(gx.shape)
        regions = ListedColormap([CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(k)])
        ax.contourf(gx, gy, labels, levels=np.arange(k + 1) - 0.5, cmap=regions, alpha=0.25)
    if markers:
        for part in points:  # the held-out points, which judge the boundary, in front
            train = part.label == "train"
            colors = [CLASS_COLORS[int(c) % len(CLASS_COLORS)] for c in part.y]
            ax.scatter(part.X[:, 0], part.X[:, 1], c=colors, s=14 if train else 30,
                       alpha=0.55 if train else 1.0, marker=MARKERS.get(part.label, "o"),
                       edgecolors="white" if train else INK, linewidths=0.5 if train else 0.7,
                       zorder=3 if train else 4)
    ax.set(xlabel="x₁", ylabel="x₂")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.grid(False)


def _legend(ax: Axes, points: Sequence[Points]) -> None:
    classes = sorted({int(c) for p in points for c in np.unique(p.y)})
    handles = [Line2D([], [], ls="", marker="o", color=CLASS_COLORS[c % len(CLASS_COLORS)],
                      label=f"class {c}") for c in classes]
    handles += [Line2D([], [], ls="", marker=MARKERS.get(p.label, "o"), color="#64748b",
                       label=p.label) for p in points]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))
