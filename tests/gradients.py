"""Float64 central finite differences for the gradient tests (importable by any test).

``numerical_gradient`` is the notes' two-sided difference, entry by entry;
``relative_error`` is the notes' ``||a - b|| / (||a|| + ||b||)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: ArrayLike, eps: float = 1e-6
) -> np.ndarray:
    """``(f(x + eps e_i) - f(x - eps e_i)) / 2 eps`` for every entry ``i`` of ``x``.

    ``x`` is copied to float64 and perturbed one entry at a time; ``f`` receives that
    working copy (restored after each entry) and must return a scalar.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = float(f(x))
        x[index] = original - eps
        minus = float(f(x))
        x[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    """``||a - b|| / (||a|| + ||b||)``; 0 when both are zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / denominator)


def plant_doubled_dW(monkeypatch: Any, layer: str = "dense_2") -> None:
    """Make every ``Dense.backward`` of ``layer`` return ``dW`` doubled (the notes' bug
    catalogue's first entry), for the tests of commands that must catch it."""
    from deeprecipe.layers import Dense

    original = Dense.backward

    def doubled(self: Dense, dout: np.ndarray, cache: Any, *, out: Any = None,
                input_grad: bool = True) -> Any:
        dx, grads = original(self, dout, cache, out=out, input_grad=input_grad)
        if self.name == layer:
            grads["W"] *= 2
        return dx, grads

    monkeypatch.setattr(Dense, "backward", doubled)
