"""What the report draws that needs the trained model (:func:`views` → :class:`Views`),
computed once by the pipeline; the report only reads them, it never runs the model."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..data.split import CAP

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..data import Splits
    from ..model import Sequential

RESOLUTION = 200
# rows of each part the plots draw (a seeded random sample of bigger parts): the split's cap on
# dev and test, so a run's dev and test parts are drawn whole and only a big training part is not
MAX_POINTS = CAP
TOLERANCE = 1e-3  # standardized rows: column means within this of 0, σ's of 1 …
SAMPLE_ERRORS = 5  # … or, in a sample of n rows, within this many standard errors (1/√n)


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
    """A run's model-made pictures as data: ``points`` (every split, at most
    :data:`MAX_POINTS` rows of each, in the coordinates ``predict`` takes), ``regions``
    (classifiers with 2 features) and ``predictions`` (``(true, predicted)`` on those dev
    rows, a regression of one target)."""

    points: list[Points]
    regions: Regions | None = None
    predictions: tuple[np.ndarray, np.ndarray] | None = None


def views(model: Sequential, splits: Splits, task: str, *, seed: int = 0) -> Views:
    """The :class:`Views` of a trained ``model`` on the ``splits`` it was trained on (parts
    bigger than :data:`MAX_POINTS` rows are sampled with ``seed``)."""
    points = plot_points(model, splits, seed=seed)
    if task == "regression":
        if model.output_dim != 1:
            return Views(points)
        dev = next(part for part in points if part.label == "dev")
        return Views(points, predictions=(dev.y, model.predict(dev.X)))
    two_d = points[0].X.shape[1] == 2
    return Views(points, regions=decision_regions(model, points) if two_d else None)


def plot_points(model: Sequential, splits: Splits, *, max_points: int = MAX_POINTS,
                seed: int = 0) -> list[Points]:
    """At most ``max_points`` rows of each part of ``splits`` (the network's inputs, as passed
    to ``fit``): all of a smaller part, else a random sample drawn with ``seed`` (a scatter of
    more is a blot, and a big part's every row would be a copy). In the coordinates
    ``model.predict`` takes: mapped back to raw units when the model carries its standardizer
    (``predict`` then takes raw inputs), unless the training rows are not standardized (mean
    0, standard deviation 1), in which case the splits hold raw inputs already."""
    rng = np.random.default_rng(seed)
    drawn = {name: part.sample(max_points, rng) for name, part in splits.parts.items()}
    train = np.asarray(drawn["train"][0], dtype=np.float64)
    whole = len(train) == len(splits.train)
    scaler = model.standardizer if _standardized(train, whole) else None
    points = []
    for name, (X, y) in drawn.items():
        X = np.asarray(X, dtype=np.float64)
        points.append(Points(name, X if scaler is None else scaler.inverse_transform(X),
                             np.asarray(y)))
    return points


def _standardized(X: np.ndarray, whole: bool) -> bool:
    """Whether the training rows ``X`` (the whole part, or a random sample of it) have column
    means 0 and standard deviations 1 (constant columns aside)."""
    tolerance = TOLERANCE if whole else SAMPLE_ERRORS / math.sqrt(len(X))
    spread = X.std(axis=0)
    varying = spread > 0
    return bool(np.allclose(X.mean(axis=0), 0.0, atol=tolerance)
                and np.allclose(spread[varying], 1.0, atol=tolerance))


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
