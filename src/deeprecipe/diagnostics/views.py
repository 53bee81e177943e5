"""What the report draws that needs the trained model (:func:`views` → :class:`Views`),
computed once by the pipeline; the report only reads them, it never runs the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..data import Splits
    from ..model import Sequential

RESOLUTION = 200


@dataclass(frozen=True)
class Points:
    """One labelled set of 2-D points: ``X (m, 2)`` and class labels ``y (m,)``."""

    label: str
    X: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Regions:
    """A classifier's probabilities over a grid: ``xs (r,)``, ``ys (r,)`` and
    ``proba (r, r, k)`` (row ``i`` is ``ys[i]``, column ``j`` is ``xs[j]``)."""

    xs: np.ndarray
    ys: np.ndarray
    proba: np.ndarray


@dataclass(frozen=True)
class Views:
    """A run's model-made pictures as data: ``points`` (every split, in the coordinates
    ``predict`` takes), ``regions`` (classifiers with 2 features) and ``predictions``
    (``(true, predicted)`` on the dev set, a regression of one target)."""

    points: list[Points]
    regions: Regions | None = None
    predictions: tuple[np.ndarray, np.ndarray] | None = None


def views(model: Sequential, splits: Splits, task: str) -> Views:
    """The :class:`Views` of a trained ``model`` on the ``splits`` it was trained on."""
    points = plot_points(model, splits)
    if task == "regression":
        if model.output_dim != 1:
            return Views(points)
        dev = next(part for part in points if part.label == "dev")
        return Views(points, predictions=(dev.y, model.predict(dev.X)))
    two_d = points[0].X.shape[1] == 2
    return Views(points, regions=decision_regions(model, points) if two_d else None)


def plot_points(model: Sequential, splits: Splits) -> list[Points]:
    """The parts of ``splits`` (the network's inputs, as passed to ``fit``) in the coordinates
    ``model.predict`` takes: mapped back to raw units when the model carries its standardizer
    (``predict`` then takes raw inputs), unless the training part is not standardized (mean 0,
    standard deviation 1), in which case the splits hold raw inputs already."""
    scaler = model.standardizer if _standardized(splits.train.X) else None
    points = []
    for name, part in splits.parts.items():
        X = np.asarray(part.X, dtype=np.float64)
        points.append(Points(name, X if scaler is None else scaler.inverse_transform(X),
                             np.asarray(part.y)))
    return points


def _standardized(X: np.ndarray) -> bool:
    X = np.asarray(X, dtype=np.float64)
    spread = X.std(axis=0)
    varying = spread > 0
    return bool(np.allclose(X.mean(axis=0), 0.0, atol=1e-3)
                and np.allclose(spread[varying], 1.0, atol=1e-3))


def decision_regions(model: Sequential, points: Sequence[Points], *,
                     resolution: int = RESOLUTION) -> Regions:
    """``model``'s probabilities on a ``resolution × resolution`` grid covering ``points``
    (with an 8% margin)."""
    stacked = np.vstack([p.X for p in points])
    (x_low, y_low), (x_high, y_high) = stacked.min(axis=0), stacked.max(axis=0)
    pad_x, pad_y = 0.08 * (x_high - x_low or 1.0), 0.08 * (y_high - y_low or 1.0)
    xs = np.linspace(x_low - pad_x, x_high + pad_x, resolution)
    ys = np.linspace(y_low - pad_y, y_high + pad_y, resolution)
    gx, gy = np.meshgrid(xs, ys)
    proba = np.asarray(model.predict_proba(np.column_stack([gx.ravel(), gy.ravel()])),
                       dtype=np.float64)
    return Regions(xs, ys, proba.reshape(len(ys), len(xs), -1))
