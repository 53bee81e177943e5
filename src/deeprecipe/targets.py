"""A regression's target, standardized for training and folded back into the network
(:class:`TargetScale`), and :func:`check_range`: a target must stay below
:data:`LARGEST_TARGET` in magnitude, or the float32 network's squared errors would be inf.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .data import Part, Splits

if TYPE_CHECKING:
    from .model import Sequential

LARGEST_TARGET = 1e18  # float32 squared errors overflow beyond ~1.8e19


def check_range(y: np.ndarray, source: str) -> None:
    """Refuse a regression target too large for the float32 network's squared errors;
    ``source`` names the data in the message."""
    values = np.abs(np.asarray(y, dtype=np.float64))
    peak = float(values.max()) if values.size else 0.0
    if not peak < LARGEST_TARGET:
        raise ValueError(
            f"{source}: a regression target must be smaller than {LARGEST_TARGET:.0e} in "
            f"magnitude (the network computes in float32, whose squared errors overflow above "
            f"~1.8e19); received values up to {peak:.3g}. help: rescale it (divide it by a "
            "power of 10, or take its logarithm).")


@dataclass(frozen=True)
class TargetScale:
    """A regression's target standardized with the training rows' mean and σ, as the notes
    normalize inputs: the network learns ``(y − mean) / scale`` (a target in the hundreds
    trains like one near 1); :meth:`fold` then moves ``mean`` and ``scale`` into the linear
    output layer, so the saved model predicts ``y`` itself and carries no extra state."""

    mean: float
    scale: float

    @classmethod
    def fit(cls, y: np.ndarray) -> TargetScale:
        values = np.asarray(y, dtype=np.float64)
        scale = float(values.std())
        return cls(float(values.mean()), scale if scale > 0 else 1.0)

    def apply(self, splits: Splits) -> Splits:
        """``splits`` with every part's target standardized."""
        def scaled(part: Part) -> Part:
            return replace(part, y=self.scaled(part.y))

        test = splits.test
        return replace(splits, train=scaled(splits.train), dev=scaled(splits.dev),
                       test=None if test is None else scaled(test))

    def fold(self, model: Sequential) -> None:
        """``ŷ = scale·(A W + b) + mean``, written into the output layer's ``W`` and ``b``."""
        params = model.params[-1]
        params["W"] *= self.scale
        params["b"] *= self.scale
        params["b"] += self.mean

    def scaled(self, y: np.ndarray) -> np.ndarray:
        """``(y − mean) / scale`` as float64."""
        return (np.asarray(y, dtype=np.float64) - self.mean) / self.scale

    def note(self) -> str:
        return (f"the network learned the target standardized with the training set's mean "
                f"({self.mean:.4g}) and σ ({self.scale:.4g})")
