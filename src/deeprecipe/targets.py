"""A regression's target: standardized for training (:class:`TargetScale`), folded back into
the network afterwards, and checked against float32's range (:func:`check_range`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ._checks import fail

if TYPE_CHECKING:
    from .model import Sequential

FLOAT32_SAFE = 1e18  # the largest magnitude whose float32 square (~1.8e19 at most) is finite


def check_range(y: ArrayLike, where: str, arg: str | None = None) -> None:
    """Refuse a regression target whose squared errors overflow a float32 network's cost
    (fit would stop on them as a divergence, blaming the learning rate). ``arg`` names it
    in a ``fit`` error; without it, the message speaks of a data file's target. Text and
    non-finite values are left to the data checks."""
    values = np.asarray(y)
    if values.dtype.kind not in "iuf" or values.size == 0:
        return
    magnitudes = np.abs(values.astype(np.float64))
    peak = float(magnitudes[np.isfinite(magnitudes)].max(initial=0.0))
    if peak < FLOAT32_SAFE:
        return
    constraint = (f"smaller than {FLOAT32_SAFE:.0e} in magnitude for a float32 network (its "
                  "squared errors overflow above ~1.8e19)")
    hint = "rescale it (divide it by a power of 10, or take its logarithm)"
    if arg is not None:
        raise fail(where, arg, constraint, f"values up to {peak:.3g}",
                   f"{hint}, or use dtype='float64'")
    raise ValueError(f"{where}: a regression target must be {constraint}; received values up "
                     f"to {peak:.3g}. help: {hint}.")


@dataclass(frozen=True)
class TargetScale:
    """A regression's target standardized with the training rows' mean and σ, as the notes
    normalize inputs: the network learns ``(y − mean) / scale`` (a target in the hundreds
    trains like one near 1); :meth:`fold` then moves ``mean`` and ``scale`` into the linear
    output layer, so the saved model predicts ``y`` itself and carries no extra state."""

    mean: float | np.ndarray
    scale: float | np.ndarray

    @classmethod
    def fit(cls, y: np.ndarray, axis: int | None = None) -> TargetScale:
        """The mean and σ of ``y``, or of each of its columns with ``axis=0`` (the
        scikit-learn regressor's); a constant target is centred, not scaled (σ = 1)."""
        values = np.asarray(y, dtype=np.float64)
        std = values.std(axis=axis)
        mean, scale = values.mean(axis=axis), np.where(std > 0, std, 1.0)
        return cls(float(mean), float(scale)) if axis is None else cls(mean, scale)

    def fold(self, model: Sequential) -> None:
        """``ŷ = scale·(A W + b) + mean``, written into the output layer's ``W`` and ``b``."""
        params = model.params[-1]
        params["W"] *= self.scale
        params["b"] *= self.scale
        params["b"] += self.mean

    def scaled(self, y: np.ndarray) -> np.ndarray:
        """``(y − mean) / scale`` as float64."""
        return (np.asarray(y, dtype=np.float64) - self.mean) / self.scale

