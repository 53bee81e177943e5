"""Divergence: a training cost that grows by orders of magnitude (or becomes non-finite, its
last stage), where it started and what to do about it (the learning rate first).

The fit loop checks the cost after every batch (one float) and, at the end of every epoch,
the weights and the training set's cost. Training has diverged when a cost, gradient or
weight is non-finite (:func:`find_origin` then scans the parameters, activations and
gradients block by block to name where it started), or when the training set's cost is more
than :data:`GROWTH` (10⁴) times its lowest value so far and above its value at
initialization (:func:`grew`): a cost of 1e33 is divergence even while finite, but a fitted
cost that fell to 1e-6 and rose to 0.02 is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .findings import Advice, Finding
from .initializers import default_for
from .layers import Dense
from .parameters import Layout

if TYPE_CHECKING:
    from .model import Sequential

# A training cost more than this many times its lowest value so far is divergence.
GROWTH = 1e4

# Inputs whose features have a mean or a standard deviation beyond this are "not normalized".
UNNORMALIZED = 5.0

# When only the fact of divergence is known, not where it started: every suspect, the
# learning rate first.
GENERIC_ADVICE = (Advice("lower_learning_rate"), Advice("normalize_inputs"), Advice("better_init"))


def quiet() -> np.errstate:
    """Silence numpy's overflow, invalid and divide warnings: where training may diverge,
    non-finite values are detected and reported as a :class:`Divergence` instead."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


@dataclass
class Divergence:
    """Where and when training diverged, and what to try.

    ``epoch`` counts from 0 (the epoch that diverged: it is not in the History); ``batch``
    is the batch within it (``None`` when the end-of-epoch check found it); ``layer`` names
    the layer where it started (``dense_2``) and ``source`` what went wrong there:
    ``"weights"`` (non-finite, the first parameter block in model order), ``"activations"``
    (the first layer whose output overflowed), ``"gradients"`` (the deepest layer whose
    gradient did, since backpropagation carries it to every layer below), ``"cost"`` (the
    loss itself overflowed) or ``"growth"`` (the training set's cost, finite, grew to more
    than :data:`GROWTH` × ``lowest``, its lowest value so far; ``layer`` is then the output
    layer). ``parameter`` is the block (``dense_2.W``) when weights or gradients named it.
    ``cost`` is the cost that stopped training (or, when the end-of-epoch check found
    non-finite weights, that epoch's finite training cost). The weights of the last epoch
    in the History (the initial ones if the first epoch diverged) are restored.
    """

    epoch: int
    batch: int | None
    layer: str
    source: str
    parameter: str | None
    cost: float
    advice: list[Advice] = field(default_factory=list)
    lowest: float | None = None

    @property
    def actions(self) -> list[str]:
        return [advice.action for advice in self.advice]

    @property
    def finding(self) -> Finding:
        """Where and when, as data (code ``diverged_at``)."""
        return Finding("diverged_at", {"epoch": self.epoch, "batch": self.batch,
                                       "source": self.source, "layer": self.layer,
                                       "parameter": self.parameter, "cost": self.cost,
                                       "lowest": self.lowest, "growth": GROWTH})

    @property
    def headline(self) -> str:
        """``training diverged at epoch 3, batch 2: …``: the first line of ``str()``."""
        return self.finding.text

    def __str__(self) -> str:
        return "\n".join([self.headline, *(f"- {advice}" for advice in self.advice)])


def grew(cost: float, lowest: float, start: float) -> bool:
    """Whether a finite training cost is divergence: more than :data:`GROWTH` × ``lowest``
    (its lowest value so far) and above ``start`` (its value at initialization)."""
    return cost > GROWTH * lowest and cost > start


def first_bad_block(vector: np.ndarray, layout: Layout, *, last: bool = False) -> str | None:
    """The name of the first (or ``last``) block of ``vector`` holding a non-finite value."""
    slots = reversed(layout) if last else iter(layout)
    return next((slot.name for slot in slots
                 if not np.isfinite(vector[slot.start : slot.stop]).all()), None)


def find_origin(
    model: Sequential, X: np.ndarray | None = None, grad: np.ndarray | None = None
) -> tuple[str, str, str | None]:
    """``(layer, source, parameter)``: where a non-finite value started (see
    :class:`Divergence`). ``X`` is the batch being trained on, ``grad`` its flat gradient."""
    parameter = first_bad_block(model.theta, model.layout)
    if parameter is not None:
        return parameter.split(".")[0], "weights", parameter
    if X is not None:  # the first layer whose output (inference mode) is non-finite
        with quiet():
            outputs = model.forward_backward(np.asarray(X, dtype=model.dtype)).activations[1:]
        for name, out in zip(model.names, outputs, strict=True):
            if not np.isfinite(out).all():
                return name, "activations", None
    parameter = None if grad is None else first_bad_block(grad, model.layout, last=True)
    if parameter is not None:
        return parameter.split(".")[0], "gradients", parameter
    return model.names[-1], "cost", None


def advise(
    model: Sequential, layer: str, learning_rate: float | None, X_train: np.ndarray
) -> list[Advice]:
    """Smaller learning rate (always first: the usual cause), then the suspects the data and
    the network do not clear: normalizing inputs that are visibly not normalized, and the
    recommended initialization where the layer does not use it. Advice to do what is already
    done would send people after a cause that is not there."""
    advice = [Advice("lower_learning_rate") if learning_rate is None else Advice(
        "lower_learning_rate", "lower_learning_rate:was", {"learning_rate": learning_rate})]
    with quiet():
        mean = float(np.abs(X_train.mean(axis=0)).max())
        std = float(X_train.std(axis=0).max())
    if max(mean, std) > UNNORMALIZED:
        advice.append(Advice("normalize_inputs", "normalize_inputs:reach",
                             {"mean": mean, "std": std}))
    found = model.layers[model.names.index(layer)] if layer in model.names else None
    if not isinstance(found, Dense):
        advice.append(Advice("better_init"))
    elif found.init != (recommended := default_for(found.activation)):
        advice.append(Advice("better_init", "better_init:layer", {
            "layer": layer, "activation": found.activation, "init": found.init,
            "recommended": recommended,
            "variance": "2/n[l-1]" if recommended == "he" else "1/n[l-1]"}))
    return advice
