"""Learning curves: would more data help? Train and dev error as the training set grows.

With high variance the dev error is still falling, far above the train error: more data
helps. With high bias both meet early at a high value and stay there: it does not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import describe, fail, is_model, positive_int, seed_value
from ..data.split import Splits, class_codes
from ..findings import Finding
from .bias_variance import VARIANCE_THRESHOLD, Diagnosis, diagnose
from .yardstick import Yardstick

if TYPE_CHECKING:
    from ..model import Sequential

SIZES = (0.1, 0.25, 0.5, 1.0)


@dataclass
class LearningCurve:
    """Errors per training-set size (inference mode, like :func:`diagnose` wants them).

    ``sizes[i]`` training examples gave ``train_error[i]`` (on those examples) and
    ``dev_error[i]`` (on the whole dev split) after ``epochs_run[i]`` epochs.
    """

    sizes: list[int]
    train_error: list[float]
    dev_error: list[float]
    epochs_run: list[int]
    n_dev: int
    regression: bool = False

    @property
    def gaps(self) -> list[float]:
        """``dev − train`` per size: the variance at each size."""
        return [dev - train for train, dev in zip(self.train_error, self.dev_error, strict=True)]

    def more_data_helps(self, variance_threshold: float = VARIANCE_THRESHOLD) -> bool | None:
        """True when the dev error is still falling at the largest size and sits more than
        ``variance_threshold`` above the train error; ``None`` with a single size."""
        if len(self.sizes) < 2:
            return None
        return self.dev_error[-1] < self.dev_error[-2] and self.gaps[-1] > variance_threshold

    def finding(self, variance_threshold: float = VARIANCE_THRESHOLD) -> Finding:
        """Would more data help? ``curve_more_data``, ``curve_met`` (train and dev errors
        have met), ``curve_flat`` (a gap the dev error no longer closes) or
        ``curve_single_size``."""
        if len(self.sizes) < 2:
            return Finding("curve_single_size")
        values = {"first": self.sizes[0], "last": self.sizes[-1], "gap": self.gaps[-1],
                  "dev_first": self.dev_error[0], "dev_last": self.dev_error[-1]}
        if self.more_data_helps(variance_threshold):
            return Finding("curve_more_data", values)
        return Finding("curve_met" if self.gaps[-1] <= variance_threshold else "curve_flat",
                       values)

    def reading(self, variance_threshold: float = VARIANCE_THRESHOLD) -> str:
        """One sentence for people: would more data help? (:meth:`finding`'s text)"""
        return self.finding(variance_threshold).text

    def diagnose(self, bayes_error: float | str | Yardstick = "auto", **options: Any,
                 ) -> Diagnosis:
        """:func:`diagnose` at the largest size, with the curve's reading as a remark."""
        diagnosis = diagnose(self.train_error[-1], self.dev_error[-1], bayes_error,
                             n_train=self.sizes[-1], n_dev=self.n_dev,
                             regression=self.regression, **options)
        reading = self.finding()
        diagnosis.remarks.append(Finding("learning_curve",
                                         {**reading.values, "reading": reading.code}))
        return diagnosis

    def table(self) -> str:
        """A Markdown table: size, train error, dev error, gap."""
        lines = ["| training examples | train error | dev error | gap |", "|---|---|---|---|"]
        for size, train, dev, gap in zip(self.sizes, self.train_error, self.dev_error,
                                         self.gaps, strict=True):
            lines.append(f"| {size} | {train:.2%} | {dev:.2%} | {gap:.2%} |")
        return "\n".join(lines)


def learning_curve(
    build_model: Callable[[], Sequential],
    splits: Splits,
    sizes: Sequence[float] = SIZES,
    *,
    epochs: int = 50,
    seed: int = 0,
    **fit_options: Any,
) -> LearningCurve:
    """Train a fresh ``build_model()`` on growing subsets of ``splits.train``.

    ``splits`` is a :func:`deeprecipe.data.split` result (its ``dev`` part is the dev set).
    ``sizes`` are fractions of the training split (floats in (0, 1]: ``1.0`` is all of
    it) or numbers of examples (integers: ``1`` is one example). The
    subsets are nested (each contains the smaller ones), drawn with ``seed`` and stratified
    by class, so a small subset keeps every class. Each model trains for ``epochs`` with
    ``fit(..., seed=seed, **fit_options)`` (``batch_size``, ``optimizer``,
    ``learning_rate``, ``callbacks`` …); its errors are measured afterwards in inference
    mode, the train error on its whole subset.
    """
    where = "learning_curve"
    if not callable(build_model):
        raise fail(where, "build_model", "a callable returning a new Sequential", build_model,
                   error=TypeError)
    if not isinstance(splits, Splits):
        raise fail(where, "splits", "the result of dr.data.split(X, y)", splits, error=TypeError)
    epochs = positive_int(where, "epochs", epochs)
    train, dev = splits.train, splits.dev
    validation = (dev.X, dev.y)  # gathered once; the training subsets are read in place
    counts = _counts(where, sizes, len(train))
    order = nested_order(train.y, np.random.default_rng(seed_value(where, "seed", seed)))
    result = LearningCurve([], [], [], [], n_dev=len(dev))
    for count in counts:
        model = build_model()
        if not is_model(model):
            raise TypeError(f"{where}: build_model() must return a Sequential; received "
                            f"{describe(model)}.")
        rows = train.indices[np.sort(order[:count])]
        history = model.fit(train.source_X, train.source_y, rows=rows,
                            validation_data=validation, epochs=epochs, seed=seed, **fit_options)
        result.sizes.append(count)
        result.train_error.append(
            model.evaluate(train.source_X, train.source_y, rows=rows)["error"])
        result.dev_error.append(model.evaluate(*validation)["error"])
        result.epochs_run.append(len(history))
        result.regression = model.loss.task == "regression"
    return result


def _counts(where: str, sizes: Sequence[float], n: int) -> list[int]:
    """Sizes as sorted, distinct example counts in [1, n]."""
    constraint = f"fractions in (0, 1] or counts in [1, {n}] (the training split's size)"
    counts = set()
    for size in sizes:
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool) and 1 <= size <= n:
            counts.add(int(size))
        elif isinstance(size, (float, np.floating)) and 0 < size <= 1:
            counts.add(max(1, round(float(size) * n)))
        else:
            raise fail(where, "sizes", constraint, sizes)
    if not counts:
        raise fail(where, "sizes", constraint, sizes)
    return sorted(counts)


def nested_order(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random order of the rows whose every prefix is stratified by class: classes are
    interleaved by each row's relative position within its class."""
    order = rng.permutation(len(y))
    coded = class_codes(np.asarray(y)[order])
    if coded is None:  # regression targets: a plain random order
        return order
    codes = coded[1]
    position = np.empty(len(order))
    for code in np.unique(codes):
        members = np.flatnonzero(codes == code)
        position[members] = (np.arange(len(members)) + 0.5) / len(members)
    return order[np.argsort(position, kind="stable")]
