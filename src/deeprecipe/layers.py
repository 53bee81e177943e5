"""Layers: :class:`Dense`, :class:`Dropout` (inverted) and :class:`Activation`.

The layer contract, shared by every layer:

``build(input_dim, rng, dtype) -> output_dim``
    Create ``params`` (a dict in a fixed order: ``W`` then ``b``).
``forward(x, *, training, rng=None) -> (out, cache)``
    ``training`` is an argument, never hidden state. The cache is returned, not stored.
``backward(dout, cache, *, out=None, input_grad=True) -> (dx, grads)``
    ``grads`` has the same keys as ``params``. It is written into ``out`` when given (the
    model passes views of one flat gradient buffer), else into fresh arrays; gradients never
    accumulate across calls. ``input_grad=False`` skips ``dx`` (the first layer's is unused).

No layer modifies ``x``, ``dout`` or a cache it returned. Rows are examples: ``x`` is
``(m, n_in)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from . import activations, initializers
from ._checks import choice, fail, positive_int, real

Cache = Any
Grads = dict[str, np.ndarray]


class Layer:
    """Base class: a layer with no parameters that passes its input through."""

    kind: ClassVar[str] = "layer"

    def __init__(self) -> None:
        self.name = self.kind
        self.params: dict[str, np.ndarray] = {}
        self.input_dim: int | None = None

    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        self.input_dim = input_dim
        return input_dim

    def forward(
        self, x: np.ndarray, *, training: bool, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, Cache]:
        return x, None

    def backward(
        self, dout: np.ndarray, cache: Cache, *, out: Grads | None = None,
        input_grad: bool = True,
    ) -> tuple[np.ndarray | None, Grads]:
        return dout, {}

    def get_config(self) -> dict[str, Any]:
        return {}

    def _check_input(self, x: np.ndarray) -> None:
        if self.input_dim is None:  # it said "x.shape must be (m, None)"
            raise RuntimeError(
                f"{type(self).__name__}.forward: called before the layer is built. help: a "
                "layer is built by the Sequential it is put in: Sequential([...], input_dim=n)."
            )
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(
                f"{self.name}: x.shape must be (m, {self.input_dim}); received x.shape={x.shape}."
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """``Z = X @ W + b``, ``A = g(Z)``: a fully connected layer and its activation.

    Shapes: ``X (m, n_in)``, ``W (n_in, units)``, ``b (units,)``, ``A (m, units)``
    (the notes' ``W[l]`` is this ``W`` transposed).
    Cache: ``(X, A)``; every activation's derivative is computed from ``A``.

    ``activation`` names one of :mod:`deeprecipe.activations` (``None``, as in Keras, is
    ``"linear"``). ``init`` names an initializer (see :mod:`deeprecipe.initializers`); the
    default is ``"he"`` for ReLU-like activations and the notes' ``"xavier"`` otherwise.
    ``init_scale`` sets the ``"random"`` initializer's scale (0.01 by default).
    """

    kind = "dense"

    def __init__(
        self,
        units: int,
        activation: str | None = "linear",
        init: str | None = None,
        init_scale: float | None = None,
    ) -> None:
        super().__init__()
        self.units = positive_int("Dense", "units", units)
        self.activation = activations.get(activation or "linear").name  # None: Keras's linear
        self.init = choice(
            "Dense", "init", init or initializers.default_for(self.activation),
            initializers.INITIALIZERS,
        )
        if init_scale is not None and self.init != "random":
            raise fail("Dense", "init_scale", "None unless init='random'", init_scale)
        if init_scale is not None:
            constraint = "a finite number > 0 (the std of the random weights)"
            init_scale = real("Dense", "init_scale", init_scale, constraint)
            if init_scale <= 0:
                raise fail("Dense", "init_scale", constraint, init_scale,
                           "init='zeros' gives zero weights")
        self.init_scale = init_scale

    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        self.input_dim = input_dim
        kwargs = {} if self.init_scale is None else {"scale": self.init_scale}
        draw = initializers.get(self.init, **kwargs)
        self.params = {
            "W": draw((input_dim, self.units), rng, dtype),
            "b": np.zeros(self.units, dtype=dtype),
        }
        return self.units

    def forward(
        self, x: np.ndarray, *, training: bool, rng: np.random.Generator | None = None,
        logits: bool = False,
    ) -> tuple[np.ndarray, Cache]:
        """``logits=True`` returns ``Z`` and skips ``g``: the loss fuses the output
        activation, as in the notes' ``dZ[L] = A[L] - Y``."""
        self._check_input(x)
        z = x @ self.params["W"]
        z += self.params["b"]
        if logits:
            return z, (x, None)
        a = activations.ACTIVATIONS[self.activation].forward(z, out=z)
        return a, (x, a)

    def backward(
        self, dout: np.ndarray, cache: Cache, *, out: Grads | None = None,
        input_grad: bool = True,
    ) -> tuple[np.ndarray | None, Grads]:
        """``dZ = dA * g'(Z)``, ``dW = Xᵀ dZ``, ``db = Σ_rows dZ``, ``dX = dZ Wᵀ``.

        When the cache came from ``forward(..., logits=True)``, ``dout`` is ``dZ``.
        """
        x, a = cache
        dz = dout if a is None else activations.ACTIVATIONS[self.activation].backward(dout, a)
        grads = out if out is not None else {}
        grads["W"] = np.matmul(x.T, dz, out=grads.get("W"))
        grads["b"] = np.add.reduce(dz, axis=0, out=grads.get("b"))
        dx = dz @ self.params["W"].T if input_grad else None
        return dx, grads

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": self.activation,
            "init": self.init,
            "init_scale": self.init_scale,
        }


class Dropout(Layer):
    """Inverted dropout: ``d = rand(shape) < keep_prob``, ``A = A * d / keep_prob``.

    Shapes: ``out`` is shaped like ``x``. Cache: the boolean mask ``d``.
    At prediction time (``training=False``) and with ``keep_prob=1`` it is the identity.
    Backward applies the forward's mask and scale. Place several Dropout layers for a
    per-layer ``keep_prob``.
    """

    kind = "dropout"

    def __init__(self, keep_prob: float = 0.5) -> None:
        super().__init__()
        self.keep_prob = real("Dropout", "keep_prob", keep_prob, "in (0, 1]")
        if not 0.0 < self.keep_prob <= 1.0:
            raise fail("Dropout", "keep_prob", "in (0, 1]", keep_prob,
                       "keep_prob is the probability of keeping a unit; 1 disables dropout")

    def forward(
        self, x: np.ndarray, *, training: bool, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, Cache]:
        self._check_input(x)
        if not training or self.keep_prob == 1.0:
            return x, None
        if rng is None:
            raise ValueError(
                f"{self.name}: rng must be a numpy Generator when training=True; received "
                "rng=None. help: pass rng=np.random.default_rng(seed)."
            )
        mask = rng.random(x.shape, dtype=x.dtype) < self.keep_prob
        out = np.multiply(x, mask)
        out /= self.keep_prob
        return out, mask

    def backward(
        self, dout: np.ndarray, cache: Cache, *, out: Grads | None = None,
        input_grad: bool = True,
    ) -> tuple[np.ndarray | None, Grads]:
        if cache is None:
            return dout, {}
        dx = np.multiply(dout, cache)
        dx /= self.keep_prob
        return dx, {}

    def get_config(self) -> dict[str, Any]:
        return {"keep_prob": self.keep_prob}


class Activation(Layer):
    """``A = g(X)`` on its own. Cache: ``A``."""

    kind = "activation"

    def __init__(self, activation: str) -> None:
        super().__init__()
        self.activation = activations.get(activation).name

    def forward(
        self, x: np.ndarray, *, training: bool, rng: np.random.Generator | None = None,
        logits: bool = False,
    ) -> tuple[np.ndarray, Cache]:
        self._check_input(x)
        if logits:
            # A copy: the fused loss overwrites the logits, and x is the previous layer's
            # output, which its cache still needs.
            return x.copy(), None
        a = activations.ACTIVATIONS[self.activation].forward(x)
        return a, a

    def backward(
        self, dout: np.ndarray, cache: Cache, *, out: Grads | None = None,
        input_grad: bool = True,
    ) -> tuple[np.ndarray | None, Grads]:
        if cache is None:
            return dout, {}
        return activations.ACTIVATIONS[self.activation].backward(dout, cache), {}

    def get_config(self) -> dict[str, Any]:
        return {"activation": self.activation}


LAYERS: dict[str, type[Layer]] = {cls.kind: cls for cls in (Dense, Dropout, Activation)}
