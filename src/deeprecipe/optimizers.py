"""Optimizers (``sgd``, ``momentum``, ``adam``: :data:`OPTIMIZERS`) that update a flat
parameter vector ``θ`` in place.

Each optimizer's state is flat too (one vector per kind of state); :attr:`Optimizer.state`
names it by parameter (``state["dense_1.W"]["velocity"]``), and ``state_dict`` /
``load_state_dict`` save and restore it under names such as ``dense_1.W/velocity``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ._checks import choice, fail, real
from .parameters import Layout, size, unflatten


class Optimizer:
    """Base class. Subclasses list their state vectors in ``slots`` and define ``_update``."""

    slots: ClassVar[tuple[str, ...]] = ()
    name: ClassVar[str] = "optimizer"
    config_keys: ClassVar[tuple[str, ...]] = ("learning_rate",)  # the constructor's arguments

    def __init__(self, learning_rate: float = 0.01) -> None:
        self.learning_rate = real(type(self).__name__, "learning_rate", learning_rate,
                                  "a number > 0", lambda v: v > 0)
        self.iterations = 0
        self._layout: Layout = ()
        self._state: dict[str, np.ndarray] = {}
        self._work = np.empty(0)

    def build(self, layout: Layout, dtype: np.dtype) -> None:
        """Allocate zeroed state for parameters laid out as ``layout``."""
        self._layout = layout
        self._state = {slot: np.zeros(size(layout), dtype=dtype) for slot in self.slots}
        self._work = np.empty(size(layout), dtype=dtype)  # scratch space, not state
        self.iterations = 0

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Update ``theta`` in place from ``grad`` (both flat, laid out as in ``build``)."""
        if theta.shape != grad.shape:
            raise fail(f"{type(self).__name__}.step", "grad.shape", f"theta's {theta.shape}",
                       grad.shape)
        if self._work.shape != theta.shape:
            raise RuntimeError(f"{type(self).__name__}.step called before build(layout, dtype) "
                               f"for {theta.size} parameters.")
        self.iterations += 1
        self._update(theta, grad)

    def _update(self, theta: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def _add_scaled(self, y: np.ndarray, alpha: float, x: np.ndarray) -> None:
        """``y += alpha * x`` in place, using the scratch vector instead of a temporary."""
        np.multiply(x, alpha, out=self._work)
        y += self._work

    @property
    def state(self) -> dict[str, dict[str, np.ndarray]]:
        """State by parameter name: ``{"dense_1.W": {"velocity": view}, …}``."""
        named = {kind: unflatten(vector, self._layout) for kind, vector in self._state.items()}
        return {s.name: {kind: named[kind][s.name] for kind in self.slots} for s in self._layout}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat state under names ``<parameter>/<kind>``, plus ``iterations``."""
        flat = {f"{name}/{kind}": array.copy()
                for name, kinds in self.state.items() for kind, array in kinds.items()}
        flat["iterations"] = np.array(self.iterations, dtype=np.int64)
        return flat

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state_dict` returned (after ``build``)."""
        self.iterations = int(state["iterations"])
        for name, kinds in self.state.items():
            for kind, view in kinds.items():
                view[...] = state[f"{name}/{kind}"]

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **{key: getattr(self, key) for key in self.config_keys}}


class SGD(Optimizer):
    """Plain (mini-batch) gradient descent: ``W = W - α dW``."""

    name = "sgd"

    def _update(self, theta: np.ndarray, grad: np.ndarray) -> None:
        self._add_scaled(theta, -self.learning_rate, grad)  # θ = θ - α dθ


class Momentum(Optimizer):
    """Gradient descent with momentum: ``v = β v + (1 - β) dW``; ``W = W - α v``."""

    name = "momentum"
    slots = ("velocity",)
    config_keys = ("learning_rate", "beta")

    def __init__(self, learning_rate: float = 0.01, beta: float = 0.9) -> None:
        super().__init__(learning_rate)
        self.beta = real("Momentum", "beta", beta, "in [0, 1)", lambda v: 0 <= v < 1)

    def _update(self, theta: np.ndarray, grad: np.ndarray) -> None:
        velocity = self._state["velocity"]
        velocity *= self.beta
        self._add_scaled(velocity, 1.0 - self.beta, grad)
        self._add_scaled(theta, -self.learning_rate, velocity)


class Adam(Optimizer):
    """Adam (Kingma & Ba): ``m = β1 m + (1 - β1) dW``; ``v = β2 v + (1 - β2) dW²``;
    ``W = W - α m̂ / (sqrt(v̂) + ε)`` with bias-corrected ``m̂, v̂``."""

    name = "adam"
    slots = ("m", "v")
    config_keys = ("learning_rate", "beta1", "beta2", "epsilon")

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8) -> None:
        super().__init__(learning_rate)
        self.beta1, self.beta2 = (real("Adam", arg, value, "in [0, 1)", lambda v: 0 <= v < 1)
                                  for arg, value in (("beta1", beta1), ("beta2", beta2)))
        self.epsilon = real("Adam", "epsilon", epsilon, "> 0", lambda v: v > 0)

    def _update(self, theta: np.ndarray, grad: np.ndarray) -> None:
        m, v, work = self._state["m"], self._state["v"], self._work
        m *= self.beta1
        self._add_scaled(m, 1.0 - self.beta1, grad)
        v *= self.beta2
        np.square(grad, out=work)
        work *= 1.0 - self.beta2
        v += work
        t = self.iterations
        step_size = self.learning_rate * np.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        # The bias corrections fold into the step size; epsilon is scaled to match
        # W -= α m̂ / (sqrt(v̂) + ε) exactly.
        np.sqrt(v, out=work)
        work += self.epsilon * np.sqrt(1.0 - self.beta2**t)
        np.divide(m, work, out=work)
        work *= step_size
        theta -= work


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def get(optimizer: str | Optimizer, learning_rate: float | None = None, *,
        where: str = "optimizers.get") -> Optimizer:
    """An optimizer from a name (with ``learning_rate``) or an instance (used as is: its
    own learning rate counts, and passing another one as well is an error)."""
    if isinstance(optimizer, Optimizer):
        if learning_rate is not None and learning_rate != optimizer.learning_rate:
            raise fail(where, "learning_rate", "None when optimizer is an "
                       f"instance (it has learning_rate={optimizer.learning_rate:g})",
                       learning_rate, "set the learning rate on the optimizer, or pass "
                       "the optimizer by name")
        return optimizer
    choice(where, "optimizer", optimizer, OPTIMIZERS)
    cls = OPTIMIZERS[optimizer]
    return cls() if learning_rate is None else cls(learning_rate=learning_rate)
