"""Weight initializers: zeros, scaled random normal, and variance scaling presets.

The scaled presets are :func:`variance_scaling` (``Var(W) = scale / n``), by name:

============== ===================================== =====================================
name           draws                                  also known as
============== ===================================== =====================================
``zeros``      ``0`` (every unit identical: the       —
               notes' symmetry problem)
``random``     ``randn * scale`` (``scale=0.01`` by   the notes' ``* 0.01``; ``scale=10``
               default)                               is their "too large" example
``xavier``     ``randn * sqrt(1 / n[l-1])``           the notes' Xavier; Keras calls it
                                                      *LeCun normal*
``glorot``     ``randn * sqrt(2 / (fan_in+fan_out))`` Keras ``glorot_normal``, PyTorch
                                                      ``xavier_normal_``
``he``         ``randn * sqrt(2 / n[l-1])``           Keras ``he_normal`` (untruncated)
============== ===================================== =====================================

Each has a ``_uniform`` variant with the same variance. Weights are ``(fan_in, fan_out)``:
deeprecipe computes ``Z = X @ W + b`` (the notes store the transpose).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from numpy.typing import DTypeLike

from ._checks import choice, fail

Initializer = Callable[[tuple[int, int], np.random.Generator, DTypeLike], np.ndarray]

FAN_MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("normal", "uniform")


def zeros(shape: tuple[int, ...], rng: np.random.Generator, dtype: DTypeLike = "float64"
          ) -> np.ndarray:
    """``W = 0``: every hidden unit computes the same function, forever."""
    return np.zeros(shape, dtype=dtype)


def random_normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    dtype: DTypeLike = "float64",
    scale: float = 0.01,
) -> np.ndarray:
    """``W = randn(shape) * scale``, the notes' ``np.random.randn(...) * 0.01``."""
    return (rng.standard_normal(shape) * scale).astype(dtype)


def variance_scaling(
    shape: tuple[int, int],
    rng: np.random.Generator,
    dtype: DTypeLike = "float64",
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "normal",
) -> np.ndarray:
    """Draw ``W`` of ``shape = (fan_in, fan_out)`` with ``Var(W) = scale / n``.

    ``n`` is ``fan_in`` (the notes' ``n[l-1]``), ``fan_out`` or their mean, chosen by
    ``mode``. ``distribution="normal"`` draws ``randn * sqrt(scale / n)`` (untruncated);
    ``"uniform"`` draws ``U(-a, a)`` with ``a = sqrt(3 * scale / n)``, the same variance.
    """
    where = "variance_scaling"
    choice(where, "mode", mode, FAN_MODES)
    choice(where, "distribution", distribution, DISTRIBUTIONS)
    if scale <= 0:
        raise fail(where, "scale", "> 0", scale)
    fan_in, fan_out = shape
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    variance = scale / n
    if distribution == "normal":
        weights = rng.standard_normal(shape) * np.sqrt(variance)
    else:
        limit = np.sqrt(3.0 * variance)
        weights = rng.uniform(-limit, limit, size=shape)
    return weights.astype(dtype)


INITIALIZERS: dict[str, Initializer] = {"zeros": zeros, "random": random_normal} | {
    name + ("" if distribution == "normal" else "_uniform"):
        partial(variance_scaling, scale=scale, mode=mode, distribution=distribution)
    for name, scale, mode in (("xavier", 1.0, "fan_in"), ("glorot", 1.0, "fan_avg"),
                              ("he", 2.0, "fan_in"))
    for distribution in DISTRIBUTIONS
}


def get(name: str, **kwargs: float) -> Initializer:
    """Look up an initializer by name; extra keyword arguments are bound (``scale=10``)."""
    choice("initializers.get", "init", name, INITIALIZERS)
    function = INITIALIZERS[name]
    return partial(function, **kwargs) if kwargs else function


def default_for(activation: str) -> str:
    """He for ReLU-like activations, the notes' Xavier otherwise."""
    return "he" if activation in ("relu", "leaky_relu") else "xavier"
