"""From a user's :class:`~deeprecipe.data.Splits` to what trials train on
(:func:`deeprecipe.pipeline.prepare`); the test part is kept aside in the tuning process: it
never reaches a worker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._checks import fail
from ..data import Splits, Standardizer
from ..findings import Finding
from ..pipeline import fingerprint
from ..pipeline import prepare as prepare_splits
from ..targets import TargetScale
from .trial import TrialData


@dataclass
class Prepared:
    """The trials' data, the fitted standardizer, the coded test part and what was noted.

    ``test`` is the test part's raw inputs and coded (a regression's: standardized)
    targets (the chosen model carries the standardizer). ``classes`` maps output codes back
    to the original labels (``None`` for regression); ``fingerprint`` identifies the data,
    so a resumed run can refuse other data.
    """

    data: TrialData
    standardizer: Standardizer
    test: tuple[np.ndarray, np.ndarray] | None
    classes: np.ndarray | None
    fingerprint: str
    remarks: list[Finding] = field(default_factory=list)
    target_scale: TargetScale | None = None

    @property
    def regression(self) -> bool:
        return self.data.task == "regression"


def prepare(splits: Splits, image_shape: tuple[int, ...] | None = None,
            task: str | None = None) -> Prepared:
    """:func:`deeprecipe.pipeline.prepare` for a tune (``task=None``: read it from the
    labels), with ``image_shape`` checked."""
    ready = prepare_splits(splits, task or "auto", where="tune")
    scaler, learned = ready.standardizer, ready.learned
    remarks = list(ready.notes)
    if ready.target_scale is not None:
        target = ready.target_scale
        remarks.append(Finding("target_scaled:tune", {"mean": target.mean,
                                                      "scale": target.scale}))
    assert scaler.mean_ is not None and scaler.std_ is not None  # fitted by prepare
    data = TrialData(
        X_train=learned.train.X, y_train=learned.train.y, X_dev=learned.dev.X,
        y_dev=learned.dev.y, task=ready.task, n_outputs=ready.n_outputs, mean=scaler.mean_,
        std=scaler.std_, image_shape=_image_shape(image_shape, splits.train.X.shape[1]))
    test = None if splits.test is None or learned.test is None else (
        np.asarray(splits.test.X), learned.test.y)
    digest = fingerprint(*(item for name, part in splits.parts.items()
                           for item in (name, part.X, part.y, part.indices)))
    return Prepared(data, scaler, test, ready.classes, digest[:32], remarks, ready.target_scale)


def _image_shape(image_shape: tuple[int, ...] | None, n_features: int) -> tuple[int, ...] | None:
    if image_shape is None:
        return None
    try:
        shape = tuple(int(d) for d in image_shape)
    except (TypeError, ValueError):
        raise fail("tune", "image_shape", "(height, width) or (height, width, channels)",
                   image_shape) from None
    if len(shape) not in (2, 3) or min(shape) < 1 or math.prod(shape) != n_features:
        raise fail("tune", "image_shape", f"(h, w[, c]) with h·w·c = {n_features} (the number "
                   "of features)", image_shape)
    return shape
