"""Activations ``A = g(Z)`` and their backward ``dZ = dA * g'(Z)``.

Every derivative is computed from the *output* ``A``, so a layer caches ``A`` only.
Forward functions may work in place on ``out``; backward functions never modify their
arguments. Use a function directly (``relu(z)``, ``relu_backward(da, a)``) or by name
through :data:`ACTIVATIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.special import expit

from ._checks import choice

LEAKY_SLOPE = 0.01


def linear(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``g(z) = z``."""
    return z if out is z else np.positive(z, out=out)


def linear_backward(da: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``dZ = dA`` (returned as is: the caller never writes into it)."""
    return da


def relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``g(z) = max(z, 0)``."""
    return np.maximum(z, 0, out=out)


def relu_backward(da: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``dZ = dA * (A > 0)``; the kink at 0 takes the derivative 0."""
    return np.multiply(da, a > 0)


def leaky_relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``g(z) = max(z, 0.01 z)``."""
    return np.maximum(z, LEAKY_SLOPE * z, out=out)


def leaky_relu_backward(da: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``dZ = dA`` where ``A > 0``, else ``0.01 dA`` (``A`` and ``Z`` share their sign)."""
    return np.where(a > 0, da, LEAKY_SLOPE * da)


def tanh(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``g(z) = tanh(z)``."""
    return np.tanh(z, out=out)


def tanh_backward(da: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``dZ = dA * (1 - A**2)``."""
    dz = np.square(a)
    np.subtract(1, dz, out=dz)
    dz *= da
    return dz


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``g(z) = 1 / (1 + exp(-z))`` (SciPy's ``expit``: no overflow, accurate tails)."""
    return expit(z, out=out)


def sigmoid_backward(da: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``dZ = dA * A * (1 - A)``."""
    dz = np.subtract(1, a)
    dz *= a
    dz *= da
    return dz


def softmax(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise ``exp(z) / sum(exp(z))``, shifted by the row maximum for stability."""
    out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def softmax_backward(da: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``dZ = A * (dA - sum(dA * A))`` row by row (the softmax Jacobian product)."""
    dz = np.multiply(da, a)
    dz -= a * dz.sum(axis=1, keepdims=True)
    return dz


class Activation(NamedTuple):
    """An activation by name: ``forward(z, out=None)`` and ``backward(da, a)``."""

    name: str
    forward: Callable[..., np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray], np.ndarray]


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation("linear", linear, linear_backward),
    "relu": Activation("relu", relu, relu_backward),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_backward),
    "tanh": Activation("tanh", tanh, tanh_backward),
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_backward),
    "softmax": Activation("softmax", softmax, softmax_backward),
}

# Activations with a kink: the branch each unit took matters to gradient checking.
PIECEWISE = ("relu", "leaky_relu")


def held(name: str, z: np.ndarray, branch: np.ndarray) -> np.ndarray:
    """``g(z)`` with every unit held on ``branch`` (``z > 0`` where it was taken): a unit
    that crossed its kink gets the mirror of its other piece, ``−g(−z)``, so ``g`` stays the
    smooth function whose derivative backpropagation computes."""
    g = ACTIVATIONS[name].forward
    return np.where((z > 0) != branch, -g(-z), g(z))


def get(name: str) -> Activation:
    """Look up an activation by name; unknown names list the choices."""
    choice("activations.get", "activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]
