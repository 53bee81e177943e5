"""From a user's :class:`~deeprecipe.data.Splits` to what trials train on.

The labels are coded ``0 … k−1`` (the output layer's units), the inputs standardized with
the **training** set's μ and σ only (the notes' normalization, no leak from dev or test),
and the test part is kept aside in the tuning process: it never reaches a worker.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._checks import choice, describe, fail
from ..data import ConstantFeatureWarning, Splits, Standardizer
from ..data.split import auto_task, class_codes
from ..targets import TargetScale
from .trial import TrialData

TASKS = ("classification", "regression")


@dataclass
class Prepared:
    """The trials' data, the fitted standardizer, the coded test part and what was noted.

    ``test`` is the test part's raw inputs and coded targets (the chosen model carries the
    standardizer). ``classes`` maps output codes back to the original labels (``None`` for
    regression); ``target_scale`` is a regression's :class:`~deeprecipe.targets.TargetScale`
    (every target here, test included, is standardized with it); ``fingerprint``
    identifies the data, so a resumed run can refuse other data.
    """

    data: TrialData
    standardizer: Standardizer
    test: tuple[np.ndarray, np.ndarray] | None
    classes: np.ndarray | None
    fingerprint: str
    remarks: list[str] = field(default_factory=list)
    target_scale: TargetScale | None = None

    @property
    def regression(self) -> bool:
        return self.data.task == "regression"


def prepare(splits: Splits, image_shape: tuple[int, ...] | None = None,
            task: str | None = None) -> Prepared:
    """Code the labels (``task``: ``"classification"``, ``"regression"``, or ``None`` to
    read it from the labels as :func:`deeprecipe.data.load_csv` does), standardize the
    inputs (and a regression's target) with train statistics, check ``image_shape``."""
    if not isinstance(splits, Splits):
        raise TypeError("tune: splits must be the result of deeprecipe.data.split(X, y); "
                        f"received splits={describe(splits)}.")
    parts = splits.parts
    labels = np.concatenate([np.asarray(part.y).reshape(len(part), -1) for part in
                             parts.values()])
    values = labels[:, 0] if labels.shape[1] == 1 else labels
    codes = None if _is_regression(values, task) else class_codes(values)
    if codes is None and task == "classification":
        raise fail("tune", "splits", "class labels when task='classification'",
                   f"targets of dtype {values.dtype}")
    kind, classes, n_outputs = _task(codes, labels)
    image_shape = _image_shape(image_shape, splits.train.X.shape[1])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantFeatureWarning)  # said once, in remarks
        scaler = Standardizer().fit(splits.train.X)
    remarks = []
    if scaler.constant_features_ is not None and scaler.constant_features_.size:
        remarks.append(scaler.constant_message())

    targets = _split_targets(codes, values, [len(part) for part in parts.values()])
    target_scale = None
    if kind == "regression":
        target_scale = TargetScale.fit(targets[0])
        targets = [target_scale.scaled(part) for part in targets]
        remarks.append(target_scale.note() + "; every error of this tune is a mean squared "
                       "error in those units (1: always predicting the mean), and the saved "
                       "model predicts the target itself")
    data = TrialData(
        X_train=scaler.transform(splits.train.X), y_train=targets[0],
        X_dev=scaler.transform(splits.dev.X), y_dev=targets[1], task=kind,
        n_outputs=n_outputs, mean=_fitted(scaler.mean_), std=_fitted(scaler.std_),
        image_shape=image_shape,
    )
    test = None
    if splits.test is not None:
        test = (np.asarray(splits.test.X), targets[2])
    return Prepared(data, scaler, test, classes, fingerprint(splits), remarks, target_scale)


def _is_regression(values: np.ndarray, task: str | None) -> bool:
    """Whether the targets are a regression's: as ``task`` says, else text and integers
    are classes, and floats follow :func:`deeprecipe.data.split.auto_task`."""
    if task is not None:
        return choice("tune", "task", task, TASKS) == "regression"
    if values.ndim != 1 or values.dtype.kind != "f":
        return class_codes(values) is None  # one-hot rows are classes, other columns not
    return auto_task(values) == "regression"


def _split_targets(codes: tuple[np.ndarray, np.ndarray] | None, values: np.ndarray,
                   sizes: list[int]) -> list[np.ndarray]:
    """Per part (train, dev[, test]): class codes 0 … k−1, or float regression targets."""
    if codes is None:
        targets = np.asarray(values, dtype=np.float64)
    else:
        targets = codes[1].astype(np.intp)
    return np.split(targets, np.cumsum(sizes)[:-1])


def _fitted(array: np.ndarray | None) -> np.ndarray:
    if array is None:
        raise RuntimeError("tune: the standardizer was not fitted.")
    return array


def _task(codes: tuple[np.ndarray, np.ndarray] | None,
          labels: np.ndarray) -> tuple[str, np.ndarray | None, int]:
    """``(task, classes, n_outputs)`` from the labels of every part."""
    if codes is None:
        return "regression", None, labels.shape[1]
    classes = codes[0]
    if len(classes) < 2:
        raise fail("tune", "splits", "labels of at least two classes", f"{len(classes)} class",
                   "a classifier needs two classes or more")
    if len(classes) == 2:
        return "binary", classes, 1
    return "multiclass", classes, len(classes)


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


def fingerprint(splits: Splits) -> str:
    """A SHA-256 of every part's inputs, labels and row indices."""
    digest = hashlib.sha256()
    for name, part in splits.parts.items():
        digest.update(name.encode())
        for array in (part.X, part.y, part.indices):
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()[:32]
