"""Layers: :class:`Dense`, :class:`Dropout` (inverted) and :class:`Activation`.

A layer is a specification, complete when constructed: it holds its configuration, never
parameters or a name, and no model changes it, so one layer object can sit in several
models. The model owns the parameters (views of its ``θ``) and passes them in. The contract:

``build(input_dim, rng, dtype) -> (params, output_dim)``
    Fresh parameters (a dict in a fixed order: ``W`` then ``b``) and the output width.
``forward(params, x, *, training, rng=None) -> (out, cache)``
    ``training`` is an argument, never hidden state. The cache is returned, not stored.
``backward(params, dout, cache, *, out=None, input_grad=True) -> (dx, grads)``
    ``grads`` has the keys of ``params``, written into ``out`` when given (the model passes
    views of one flat gradient buffer), else into fresh arrays; gradients never accumulate
    across calls. ``input_grad=False`` skips ``dx`` (the first layer's is unused).

A layer implementing these three works with every tool (``dr.load`` reads it once its class
is in :data:`LAYERS` under its ``kind``); the gradient checker's speed-ups
(:meth:`Layer.replay` and the methods after it) and :meth:`Layer.shapes` have generic
defaults that :class:`Dense` overrides, and :meth:`Dense.moved` is one a layer may add. No
layer modifies ``x``, ``dout`` or a cache it returned. ``x`` is ``(m, n_in)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from . import activations, initializers
from ._checks import choice, fail, positive_int, real

Cache = Any
Params = dict[str, np.ndarray]


class Layer:
    """Base class: a layer with no parameters that passes its input through."""

    kind: ClassVar[str] = "layer"
    config_keys: ClassVar[tuple[str, ...]] = ()  # the constructor's arguments, as attributes

    def build(self, input_dim: int, rng: np.random.Generator,
              dtype: np.dtype) -> tuple[Params, int]:
        return {}, input_dim

    def shapes(self, input_dim: int) -> tuple[dict[str, tuple[int, ...]], int]:
        """:meth:`build`'s parameter shapes and output width, to check a saved model before
        building it; the default builds once (:class:`Dense` allocates nothing)."""
        params, dim = self.build(input_dim, np.random.default_rng(0), np.dtype(np.float64))
        return {key: value.shape for key, value in params.items()}, dim

    def forward(self, params: Params, x: np.ndarray, *, training: bool,
                rng: np.random.Generator | None = None) -> tuple[np.ndarray, Cache]:
        return x, None

    def backward(self, params: Params, dout: np.ndarray, cache: Cache, *,
                 out: Params | None = None, input_grad: bool = True
                 ) -> tuple[np.ndarray | None, Params]:
        return dout, {}

    # --- the gradient checker's contract (generic defaults) ------------------------------
    # Outputs come with ``sides``: which side of its kink each unit is on (``z > 0``), or
    # ``None`` for a smooth layer; the checker compares them with those at θ.

    def replay(self, params: Params, x: np.ndarray, cache: Cache, copies: int,
               branches: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """``(out, sides)`` for ``copies`` stacked copies of an input, ``(copies·m, n)``, with
        the randomness recorded in ``cache`` (of one copy) and, when ``branches`` (of one
        copy) is given, every unit held on that side of its kink. The default runs
        ``forward`` in inference mode: a layer with randomness or a kink overrides it."""
        return self.forward(params, x, training=False)[0], None

    def perturbed(self, params: Params, x: np.ndarray, cache: Cache, key: str,
                  indices: np.ndarray, step: float, branches: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(out, sides)`` stacked, one copy of ``x`` per index ``i``: the outputs when
        coordinate ``i`` of ``params[key]`` moves by ``step`` (here one pass each)."""
        results = []
        for index in indices:
            moved = {name: value.copy() for name, value in params.items()}
            moved[key].flat[index] += step
            results.append(self.replay(moved, x, cache, 1, branches))
        sides = [s for _, s in results]
        return (np.concatenate([out for out, _ in results]),
                None if sides[0] is None else np.concatenate(sides))  # type: ignore[arg-type]

    def perturbed_column(self, params: Params, x: np.ndarray, key: str, indices: np.ndarray,
                         step: float, branches: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """When moving coordinate ``i`` moves one output column only: ``(columns, change
        (copies, m), crossed (copies,))``, the column each index moves, by how much, and
        whether it crossed a kink; ``None`` otherwise (then :meth:`perturbed` is used)."""
        return None

    def get_config(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.config_keys}

    def _check_input(self, x: np.ndarray, n_in: int | None = None) -> None:
        if x.ndim != 2 or (n_in is not None and x.shape[1] != n_in):
            expected = f"(m, {n_in})" if n_in is not None else "(m, n)"
            raise fail(type(self).__name__, "x.shape", expected, x.shape)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _Activated(Layer):
    """A layer ending in the activation named by ``activation``, applied to ``_z``."""

    activation: str

    def _g(self) -> activations.Activation:
        return activations.ACTIVATIONS[self.activation]

    def _z(self, params: Params, x: np.ndarray) -> np.ndarray:
        """What the activation is applied to, in a new array."""
        raise NotImplementedError

    def replay(self, params: Params, x: np.ndarray, cache: Cache, copies: int,
               branches: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        return self._activate(self._z(params, x), copies, branches)

    def _activate(self, z: np.ndarray, copies: int, branches: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(g(z), sides)``, ``g`` held on ``branches`` (tiled over ``copies``) when given;
        ``z`` is scratch."""
        sides = z > 0 if self.activation in activations.PIECEWISE else None
        if branches is None or sides is None:
            return self._g().forward(z, out=z), sides
        return activations.held(self.activation, z, np.tile(branches, (copies, 1))), sides


class Dense(_Activated):
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
    config_keys = ("units", "activation", "init", "init_scale")

    def __init__(
        self,
        units: int,
        activation: str | None = "linear",
        init: str | None = None,
        init_scale: float | None = None,
    ) -> None:
        self.units = positive_int("Dense", "units", units)
        self.activation = activations.get(activation or "linear").name  # None: Keras's linear
        self.init = choice(
            "Dense", "init", init or initializers.default_for(self.activation),
            initializers.INITIALIZERS,
        )
        if init_scale is not None:
            if self.init != "random":
                raise fail("Dense", "init_scale", "None unless init='random'", init_scale)
            constraint = "a finite number > 0 (the std of the random weights)"
            init_scale = real("Dense", "init_scale", init_scale, constraint)
            if init_scale <= 0:
                raise fail("Dense", "init_scale", constraint, init_scale,
                           "init='zeros' gives zero weights")
        self.init_scale = init_scale

    def build(self, input_dim: int, rng: np.random.Generator,
              dtype: np.dtype) -> tuple[Params, int]:
        kwargs = {} if self.init_scale is None else {"scale": self.init_scale}
        draw = initializers.get(self.init, **kwargs)
        W = draw((input_dim, self.units), rng, dtype)
        return {"W": W, "b": np.zeros(self.units, dtype=dtype)}, self.units

    def shapes(self, input_dim: int) -> tuple[dict[str, tuple[int, ...]], int]:
        return {"W": (input_dim, self.units), "b": (self.units,)}, self.units

    def logits(self) -> Dense:
        """This layer without its activation, which the loss then applies to the logits."""
        return Dense(self.units, "linear", self.init, self.init_scale)

    def forward(self, params: Params, x: np.ndarray, *, training: bool,
                rng: np.random.Generator | None = None) -> tuple[np.ndarray, Cache]:
        self._check_input(x, params["W"].shape[0])
        z = x @ params["W"]
        z += params["b"]
        a = self._g().forward(z, out=z)
        return a, (x, a)

    def backward(self, params: Params, dout: np.ndarray, cache: Cache, *,
                 out: Params | None = None, input_grad: bool = True
                 ) -> tuple[np.ndarray | None, Params]:
        """``dZ = dA * g'(Z)``, ``dW = Xᵀ dZ``, ``db = Σ_rows dZ``, ``dX = dZ Wᵀ``."""
        x, a = cache
        dz = self._g().backward(dout, a)
        grads = out if out is not None else {}
        grads["W"] = np.matmul(x.T, dz, out=grads.get("W"))
        grads["b"] = np.add.reduce(dz, axis=0, out=grads.get("b"))
        dx = dz @ params["W"].T if input_grad else None
        return dx, grads

    def _z(self, params: Params, x: np.ndarray) -> np.ndarray:
        return x @ params["W"] + params["b"]

    def _columns(self, params: Params, x: np.ndarray, key: str, indices: np.ndarray,
                 step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(Z at θ, the column of Z each index moves, by how much (copies, m))``: moving
        ``W[i, j]`` by ``s`` moves column ``j`` of ``Z`` by ``s·X[:, i]`` (``b[j]``: by ``s``)."""
        if key == "W":
            rows, columns = np.unravel_index(indices, params["W"].shape)
            delta = step * x[:, rows].T
        else:
            columns, delta = indices, np.full((len(indices), len(x)), step)
        return self._z(params, x), columns, delta

    def perturbed(self, params: Params, x: np.ndarray, cache: Cache, key: str,
                  indices: np.ndarray, step: float, branches: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """One array operation for the whole batch (see :meth:`_columns`)."""
        z, columns, delta = self._columns(params, x, key, indices, step)
        batch = np.repeat(z[None], len(indices), axis=0)
        batch[np.arange(len(indices)), :, columns] += delta
        return self._activate(batch.reshape(len(indices) * len(x), -1), len(indices), branches)

    def perturbed_column(self, params: Params, x: np.ndarray, key: str, indices: np.ndarray,
                         step: float, branches: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        if self.activation == "softmax":  # one column of Z moves every column of A
            return None
        z, columns, delta = self._columns(params, x, key, indices, step)
        base = z[:, columns].T  # (copies, m)
        moved = base + delta
        crossed = np.zeros(len(columns), dtype=bool)
        held = None
        if self.activation in activations.PIECEWISE:
            crossed = ((moved > 0) != (base > 0)).any(axis=1)
            held = None if branches is None else branches[:, columns].T
        g = self._g().forward
        out = g(moved) if held is None else activations.held(self.activation, moved, held)
        return columns, out - g(base), crossed

    def moved(self, params: Params, x: np.ndarray, cache: Cache, columns: np.ndarray,
              change: np.ndarray, branches: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(out, sides)`` stacked when column ``columns[k]`` of the input ``x`` moves by
        ``change[k]`` (``(copies, m)``), one copy of ``x`` per column: the rank-one update
        ``Z + ΔX_j W[j, :]``. Optional (no generic default): with it, the checker perturbs
        the layer before through :meth:`perturbed_column`."""
        batch = self._z(params, x)[None] + change[:, :, None] * params["W"][columns][:, None, :]
        return self._activate(batch.reshape(len(columns) * len(x), -1), len(columns),
                              branches)


class Dropout(Layer):
    """Inverted dropout: ``d = rand(shape) < keep_prob``, ``A = A * d / keep_prob``.

    Cache: the boolean mask ``d``, which backward applies again. At prediction time
    (``training=False``) and with ``keep_prob=1`` it is the identity. Place several Dropout
    layers for a per-layer ``keep_prob``.
    """

    kind = "dropout"
    config_keys = ("keep_prob",)

    def __init__(self, keep_prob: float = 0.5) -> None:
        self.keep_prob = real("Dropout", "keep_prob", keep_prob, "in (0, 1]")
        if not 0.0 < self.keep_prob <= 1.0:
            raise fail("Dropout", "keep_prob", "in (0, 1]", keep_prob,
                       "keep_prob is the probability of keeping a unit; 1 disables dropout")

    def forward(self, params: Params, x: np.ndarray, *, training: bool,
                rng: np.random.Generator | None = None) -> tuple[np.ndarray, Cache]:
        self._check_input(x)
        if not training or self.keep_prob == 1.0:
            return x, None
        if rng is None:
            raise fail("Dropout", "rng", "a numpy Generator when training=True", rng,
                       "pass rng=np.random.default_rng(seed)")
        return self._apply(x, rng.random(x.shape, dtype=x.dtype) < self.keep_prob)

    def _apply(self, x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, Cache]:
        out = np.multiply(x, mask)
        out /= self.keep_prob
        return out, mask

    def backward(self, params: Params, dout: np.ndarray, cache: Cache, *,
                 out: Params | None = None, input_grad: bool = True
                 ) -> tuple[np.ndarray | None, Params]:
        return (dout, {}) if cache is None else (self._apply(dout, cache)[0], {})

    def replay(self, params: Params, x: np.ndarray, cache: Cache, copies: int,
               branches: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """The same mask as the forward pass that returned ``cache``, on every copy."""
        return (x if cache is None else self._apply(x, np.tile(cache, (copies, 1)))[0]), None


class Activation(_Activated):
    """``A = g(X)`` on its own. Cache: ``A``."""

    kind = "activation"
    config_keys = ("activation",)

    def __init__(self, activation: str) -> None:
        self.activation = activations.get(activation).name

    def logits(self) -> Activation:
        return Activation("linear")

    def forward(self, params: Params, x: np.ndarray, *, training: bool,
                rng: np.random.Generator | None = None) -> tuple[np.ndarray, Cache]:
        self._check_input(x)
        a = self._g().forward(x)
        return a, a

    def backward(self, params: Params, dout: np.ndarray, cache: Cache, *,
                 out: Params | None = None, input_grad: bool = True
                 ) -> tuple[np.ndarray | None, Params]:
        return self._g().backward(dout, cache), {}

    def _z(self, params: Params, x: np.ndarray) -> np.ndarray:
        return x.copy()


LAYERS: dict[str, type[Layer]] = {cls.kind: cls for cls in (Dense, Dropout, Activation)}


def from_config(spec: Any, where: str, arg: str) -> Layer:
    """The layer ``{"kind": …, **get_config()}`` describes; a ValueError starting with
    ``where`` and naming ``arg`` (``layers[0]``) otherwise."""
    kind = spec.get("kind") if isinstance(spec, Mapping) else None
    if not isinstance(kind, str) or kind not in LAYERS:
        raise fail(where, f"{arg}.kind", "one of " + ", ".join(map(repr, LAYERS)), kind)
    try:
        return LAYERS[kind](**{key: value for key, value in spec.items() if key != "kind"})
    except (TypeError, ValueError) as error:  # the constructor's message; unknown keys
        raise ValueError(f"{where}: {arg}: {error}") from None


def walk(layers: Sequence[Layer], input_dim: int,
         make: Callable[[Layer, int], tuple[Mapping[str, Any], int]]
         ) -> tuple[dict[str, Any], list[str], list[int]]:
    """``make(layer, its input width) -> (parameters, output width)`` (a layer's ``build`` or
    ``shapes``) along ``layers``: the parameters named as ``θ`` names them (``dense_1.W``:
    the layer's kind, its count so far, the key), the layers' names and output widths."""
    counts: Counter[str] = Counter()
    named: dict[str, Any] = {}
    names, dims = [], [input_dim]
    for layer in layers:
        counts[layer.kind] += 1
        names.append(f"{layer.kind}_{counts[layer.kind]}")
        params, dim = make(layer, dims[-1])
        named.update({f"{names[-1]}.{key}": value for key, value in params.items()})
        dims.append(dim)
    return named, names, dims[1:]
