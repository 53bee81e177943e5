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
    """Make every backward pass return ``layer``'s ``dW`` doubled (the notes' bug
    catalogue's first entry), for the tests of commands that must catch it. Layers hold no
    names, so the bug is planted where the model runs its one backward loop."""
    from deeprecipe.model import Sequential

    original = Sequential.forward_backward

    def doubled(self: Sequential, *args: Any, **kwargs: Any) -> Any:
        trace = original(self, *args, **kwargs)
        if trace.grads and layer in self.names:
            trace.grads[self.names.index(layer)]["W"] *= 2
        return trace

    monkeypatch.setattr(Sequential, "forward_backward", doubled)


def course_network(X: np.ndarray, y: np.ndarray, seed: int, hidden: int = 4,
                   scale: float = 0.01, bug: str | None = None
                   ) -> tuple[Callable[[dict[str, np.ndarray]], Any], dict[str, np.ndarray]]:
    """The course's planar network as the course writes it: examples as columns,
    ``Z1 = W1 @ X + b1``, tanh, a sigmoid unit and the cross-entropy as written,
    ``−mean(Y log A2 + (1−Y) log(1−A2))``; ``W = randn × scale`` (the course's 0.01) and
    ``b = 0``. At a large ``scale`` the sigmoid saturates and ``1 − A2`` keeps a few digits,
    so J's rounding is far above ``ε_machine·|J|`` (the analytic ``A2 − Y`` stays exact).
    ``bug`` plants one: ``"dW1 doubled"``, ``"dW2 without 1/m"`` or ``"db2 sign"``."""
    X, Y = X.T, y[None, :].astype(float)
    m = X.shape[1]
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((hidden, X.shape[0])) * scale,
              "b1": np.zeros((hidden, 1)),
              "W2": rng.standard_normal((1, hidden)) * scale,
              "b2": np.zeros((1, 1))}

    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        A1 = np.tanh(p["W1"] @ X + p["b1"])
        A2 = 1 / (1 + np.exp(-(p["W2"] @ A1 + p["b2"])))
        cost = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
        dZ2 = A2 - Y
        dZ1 = (p["W2"].T @ dZ2) * (1 - A1**2)
        grads = {"W1": dZ1 @ X.T / m, "b1": dZ1.sum(axis=1, keepdims=True) / m,
                 "W2": dZ2 @ A1.T / m, "b2": dZ2.sum(axis=1, keepdims=True) / m}
        if bug == "dW1 doubled":
            grads["W1"] = 2 * grads["W1"]
        elif bug == "dW2 without 1/m":
            grads["W2"] = dZ2 @ A1.T
        elif bug == "db2 sign":
            grads["b2"] = -grads["b2"]
        return float(cost), grads

    return fn, params


def notes(report: Any, code: str) -> list[Any]:
    """The gradient check ``report``'s notes (findings) with ``code``."""
    return [note for note in report.notes if note.code == code]


def codes(report: Any) -> list[str]:
    """The codes of the gradient check ``report``'s notes, in order."""
    return [note.code for note in report.notes]
