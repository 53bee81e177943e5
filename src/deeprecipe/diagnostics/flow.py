"""Gradient flow: do signals vanish or explode through the layers, or are units symmetric?

In the notes' deep linear network every layer's ``||dW||`` is the same, so the growth shows
only in the activations and in ``dA`` (guide: "Vanishing and exploding gradients").
:func:`gradient_flow` reads both chains through the hidden layers (every Dense layer but the
output one, whose scale the task sets):

``forward_gain``  = rms(A of the last hidden layer) / rms(X)       (the notes' c⁹)
``backward_gain`` = ||dJ/dX|| / ||dJ/dA of the last hidden layer|| (c⁹ again)

Backward it is the norm over a layer's units, not the rms: a layer that widens 4 → 128
multiplies the gradient's rms by about √(128/4) at He initialization while its norm stays put.

A gain above ``threshold`` (10) is *exploding*, below ``1 / threshold`` *vanishing*; the
layers named are those whose own gain, forward or backward, exceeds ``threshold ** (1 /
hidden layers)`` or falls below its inverse. *Symmetric*: a hidden layer's units have
identical incoming weights and biases and identical outgoing weights (as after
``init="zeros"``), so they stay alike forever. Precedence: symmetric, exploding, vanishing,
healthy. Statistics are in inference mode (dropout off) on the data term of the cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike

from .._checks import fail, is_model, real
from ..divergence import quiet
from ..findings import Advice, Finding, layer_names
from ..initializers import default_for
from ..layers import Dense

if TYPE_CHECKING:
    from ..model import Sequential, Trace

THRESHOLD = 10.0
SATURATION = 0.99  # |tanh| or sigmoid within 1% of its bounds: g'(z) < 2% of its maximum
MOSTLY = 0.5  # a layer with more dead or saturated units than this gets a remark

VERDICTS = SYMMETRIC, EXPLODING, VANISHING, HEALTHY = (
    "symmetric", "exploding", "vanishing", "healthy")

INIT_GAIN = {"he": "√2", "xavier": "1"}  # rms(W)·√n[l-1] of each, as written and as numbers
INIT_SCALE = {"he": float(np.sqrt(2.0)), "xavier": 1.0}


@dataclass
class LayerFlow:
    """One Dense layer's statistics on the given batch.

    ``activation_*`` describe its output ``A (m, units)``; ``dead`` is the fraction of ReLU
    units that output 0 on every example (``None`` for other activations), ``saturated`` the
    fraction of tanh/sigmoid outputs within 1% of their bounds. ``weight_norm = ||W||_F``,
    ``grad_norm = ||dW||_F``, ``grad_ratio = ||dW|| / ||W||``; ``dA_norm = ||dJ/dA||_F``
    (for an output layer whose loss takes the logits, ``dJ/dZ``) and ``dA_rms`` its rms.
    ``init_gain = rms(W)·√n_in``: 1 for Xavier, √2 for He, ``c`` for ``W = c·I``.
    ``forward_gain`` and ``backward_gain`` are this layer's own factors,
    ``rms(A) / rms(input)`` and ``||dJ/d input|| / ||dJ/dA||`` (``None`` for the output
    layer). ``symmetric`` says whether its units cannot differ.
    """

    name: str
    activation: str
    units: int
    activation_mean: float
    activation_std: float
    dead: float | None
    saturated: float | None
    weight_norm: float
    grad_norm: float
    grad_ratio: float
    dA_norm: float
    dA_rms: float
    init_gain: float
    forward_gain: float | None = None
    backward_gain: float | None = None
    symmetric: bool = False


@dataclass
class GradientFlow:
    """What :func:`gradient_flow` found: per-layer statistics, a verdict naming its layers
    (``named``), the two gains through the hidden stack, the first/last layer ratios of
    ``||dW||`` and ``||dA||``, and advice."""

    layers: list[LayerFlow]
    verdict: str
    named: list[str]
    forward_gain: float | None
    backward_gain: float | None
    first_last_ratio: float
    first_last_dA_ratio: float
    threshold: float
    advice: list[Advice] = field(default_factory=list)
    remarks: list[Finding] = field(default_factory=list)

    @property
    def actions(self) -> list[str]:
        return [advice.action for advice in self.advice]

    def layer(self, name: str) -> LayerFlow:
        """The statistics of the layer called ``name`` (``"dense_3"``)."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"GradientFlow has no layer {name!r}; layers: "
                       f"{[layer.name for layer in self.layers]}.")

    def table(self) -> str:
        """A plain-text table, one row per Dense layer."""
        header = ("layer", "act", "A mean", "A std", "dead/sat", "||dW||", "||dW||/||W||",
                  "||dA||")
        rows = [header] + [_row(layer) for layer in self.layers]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
                         for row in rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (floats, strings, lists); :meth:`from_dict` rebuilds the object."""
        return asdict(self)

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> GradientFlow:
        """The :class:`GradientFlow` that :meth:`to_dict` described."""
        return cls(**{**state, "layers": [LayerFlow(**layer) for layer in state["layers"]],
                      "named": list(state["named"]),
                      "advice": [Advice(**advice) for advice in state.get("advice", [])],
                      "remarks": [Finding(**remark) for remark in state.get("remarks", [])]})

    def summary(self) -> str:
        lines = [f"{self.verdict}" + (f" ({layer_names(self.named)})" if self.named else "")]
        if self.forward_gain is not None and self.backward_gain is not None:
            lines.append(f"forward gain ×{self.forward_gain:.4g}, backward gain "
                         f"×{self.backward_gain:.4g} through the hidden layers")
        return "\n".join([*lines, *(f"- {advice}" for advice in self.advice),
                          *(f"note: {remark}" for remark in self.remarks)])


def gradient_flow(
    model: Sequential, X: ArrayLike, y: ArrayLike, *, threshold: float = THRESHOLD
) -> GradientFlow:
    """Per-layer activation and gradient statistics on ``(X, y)``, and a verdict.

    ``X (m, n_x)`` is what the network takes (standardized, as passed to ``fit``); a few
    hundred rows are plenty. ``threshold`` (default 10) is the total gain through the hidden
    layers beyond which signals are called exploding (below ``1/threshold``: vanishing).
    See the module's docstring for the definitions and the precedence of the verdicts.
    """
    where = "gradient_flow"
    if not is_model(model):
        raise fail(where, "model", "a Sequential", model, error=TypeError)
    threshold = real(where, "threshold", threshold, "a number > 1", lambda v: v > 1)
    X, targets = model.check_data(where, X, y)
    with quiet():  # an exploding network may overflow: that is the finding
        layers, gains = _measure(model, X, targets)
        verdict, named = _verdict(layers, gains, threshold)
    flow = GradientFlow(
        layers, verdict, named, gains[0], gains[1],
        first_last_ratio=_ratio(layers[0].grad_norm, layers[-1].grad_norm),
        first_last_dA_ratio=_ratio(layers[0].dA_norm, layers[-1].dA_norm),
        threshold=threshold,
    )
    flow.advice = _advice(flow)
    flow.remarks = _remarks(flow)
    return flow


# --- measuring ------------------------------------------------------------------------------


def _measure(
    model: Sequential, X: np.ndarray, targets: np.ndarray
) -> tuple[list[LayerFlow], tuple[float | None, float | None]]:
    """Read each Dense layer off one trace (inference mode, data term)."""
    trace = model.forward_backward(X, targets, terms=("data",), input_grad=True)
    # the output layer's statistics are of A[L], also when the loss took the logits
    outputs = [*trace.activations[1:-1],
               model.loss.predictions(trace.activations[-1].copy(), model.from_logits)]
    dense = [i for i, layer in enumerate(model.layers) if isinstance(layer, Dense)]
    layers = [_layer_flow(model, trace, i, outputs[i], following)
              for i, following in zip(dense, [*dense[1:], None], strict=True)]
    if len(dense) < 2:
        return layers, (None, None)
    forward = _ratio(_rms(outputs[dense[-2]]), _rms(X))
    backward = _ratio(_norm(cast(np.ndarray, trace.deltas[0])), layers[-2].dA_norm)
    return layers, (forward, backward)


def _layer_flow(model: Sequential, trace: Trace, index: int, a: np.ndarray,
                following: int | None) -> LayerFlow:
    """Layer ``index``'s statistics: its output ``a``, the rest read off ``trace``;
    ``following`` is the next Dense layer's index (``None`` for the output layer)."""
    layer = cast(Dense, model.layers[index])
    x, W, dW = trace.activations[index], model.params[index]["W"], trace.grads[index]["W"]
    last = following is None
    d_input, d_output = cast(list[np.ndarray], trace.deltas[index:index + 2])
    weight_norm = _norm(W)
    grad_norm = _norm(dW)
    dead = saturated = None
    if layer.activation in ("relu", "leaky_relu"):
        dead = float(np.mean(np.all(a <= 0, axis=0)))
    elif layer.activation == "tanh":
        saturated = float(np.mean(np.abs(a) > SATURATION))
    elif layer.activation == "sigmoid":
        saturated = float(np.mean(np.abs(2 * a - 1) > SATURATION))
    return LayerFlow(
        name=model.names[index], activation=layer.activation, units=layer.units,
        activation_mean=float(np.mean(a, dtype=np.float64)),
        activation_std=float(np.std(a, dtype=np.float64)),
        dead=dead, saturated=saturated, weight_norm=weight_norm, grad_norm=grad_norm,
        grad_ratio=_ratio(grad_norm, weight_norm), dA_norm=_norm(d_output),
        dA_rms=_rms(d_output),
        init_gain=_rms(W) * float(np.sqrt(W.shape[0])),
        forward_gain=None if last else _ratio(_rms(a), _rms(x)),
        backward_gain=None if last else _ratio(_norm(d_input), _norm(d_output)),
        symmetric=following is not None and _symmetric(W, model.params[index]["b"],
                                                        model.params[following]["W"]),
    )


def _norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


def _rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(a, dtype=np.float64)))) if a.size else 0.0


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; 0/0 is NaN (no information), x/0 is inf."""
    if denominator == 0:
        return float("nan") if numerator == 0 else float("inf")
    return numerator / denominator


def _symmetric(W: np.ndarray, b: np.ndarray, W_next: np.ndarray) -> bool:
    """Whether a hidden layer's units cannot differ: equal incoming weights (columns of ``W``)
    and biases, and equal outgoing weights (rows of the next Dense layer's ``W_next``)."""
    return W.shape[1] > 1 and _all_equal(W, axis=1) and _all_equal(b[None, :], axis=1) \
        and _all_equal(W_next, axis=0)


def _all_equal(a: np.ndarray, axis: int) -> bool:
    """Whether every slice of ``a`` along ``axis`` is the same, up to rounding."""
    tolerance = float(np.sqrt(np.finfo(a.dtype).eps)) * max(1.0, float(np.abs(a).max()))
    return bool(np.all(np.ptp(a, axis=axis) <= tolerance))


# --- reading ----------------------------------------------------------------------------------


def _verdict(
    layers: list[LayerFlow], gains: tuple[float | None, float | None], threshold: float
) -> tuple[str, list[str]]:
    hidden = layers[:-1]
    symmetric = [layer.name for layer in hidden if layer.symmetric]
    if symmetric:
        return SYMMETRIC, symmetric
    overflowed = [layer.name for layer in layers if not np.isfinite(
        [layer.activation_std, layer.dA_norm, layer.grad_norm]).all()]
    if overflowed:
        return EXPLODING, overflowed
    if not hidden:
        return HEALTHY, []
    known = _known(gains)
    rate = threshold ** (1 / len(hidden))
    if any(gain > threshold for gain in known):
        return EXPLODING, _named(hidden, lambda g: g > rate, lambda g: g)
    if any(gain < 1 / threshold for gain in known):
        return VANISHING, _named(hidden, lambda g: g < 1 / rate, lambda g: -g)
    return HEALTHY, []


def _named(
    hidden: list[LayerFlow], beyond: Callable[[float], bool], score: Callable[[float], float]
) -> list[str]:
    """The layers with an own gain ``beyond`` the per-layer rate; else the single layer
    whose gain has the highest ``score``."""
    own = {layer.name: _known((layer.forward_gain, layer.backward_gain)) for layer in hidden}
    named = [name for name, gains in own.items() if any(beyond(g) for g in gains)]
    if named:
        return named
    scored = [(score(g), name) for name, gains in own.items() for g in gains]
    return [max(scored)[1]] if scored else list(own)


def _known(gains: Iterable[float | None]) -> list[float]:
    """The gains that say something (not ``None``, not NaN)."""
    return [g for g in gains if g is not None and not np.isnan(g)]


def _advice(flow: GradientFlow) -> list[Advice]:
    if flow.verdict == HEALTHY:
        return []
    layers = [flow.layer(name) for name in flow.named]
    values: dict[str, Any] = {"layers": flow.named, "inits": _inits(layers)}
    if flow.verdict == SYMMETRIC:
        return [Advice("better_init", "better_init:symmetric", values)]
    sigmoids = [layer.name for layer in layers if layer.activation == "sigmoid"]
    if flow.verdict == VANISHING and sigmoids and all(
            abs(layer.init_gain / INIT_SCALE[default_for(layer.activation)] - 1) <= 0.25
            for layer in layers):
        # every rms(W)·√n[l-1] within 25% of the recommended init's (He's √2 for ReLUs, else
        # 1): well scaled, so sigmoid's slope (at most ¼) shrinks dA layer after layer
        return [Advice("other_architecture", "other_architecture:sigmoid",
                       {"layers": sigmoids})]
    gains = [layer.init_gain for layer in layers]
    values["scale"] = (min(gains), max(gains))
    advice = [Advice("better_init", f"better_init:{flow.verdict}", values)]
    if flow.verdict == EXPLODING:
        advice.append(Advice("lower_learning_rate", "lower_learning_rate:exploding"))
    return advice


def _inits(layers: list[LayerFlow]) -> list[tuple[str, str, list[str], str]]:
    """``(init, its rms(W)·√n[l-1], layers, activation)`` per activation: the advice's
    recommended initialization."""
    by_activation: dict[str, list[str]] = {}
    for layer in layers:
        by_activation.setdefault(layer.activation, []).append(layer.name)
    return [(init, INIT_GAIN[init], names, activation)
            for activation, names in by_activation.items()
            for init in [default_for(activation)]]


def _remarks(flow: GradientFlow) -> list[Finding]:
    remarks = []
    dead = [(layer.name, layer.dead) for layer in flow.layers
            if layer.dead is not None and layer.dead > MOSTLY]
    if dead:
        remarks.append(Finding("dead_relu", {"layers": dead}))
    saturated = [(layer.name, layer.saturated) for layer in flow.layers
                 if layer.saturated is not None and layer.saturated > MOSTLY]
    if saturated:
        remarks.append(Finding("saturated", {"layers": saturated}))
    if flow.forward_gain is None:
        remarks.append(Finding("no_hidden_layers"))
    return remarks


def _row(layer: LayerFlow) -> tuple[str, ...]:
    inactive = layer.dead if layer.dead is not None else layer.saturated
    return (
        layer.name, layer.activation, f"{layer.activation_mean:.3g}",
        f"{layer.activation_std:.3g}", "-" if inactive is None else f"{inactive:.0%}",
        f"{layer.grad_norm:.3g}", f"{layer.grad_ratio:.3g}", f"{layer.dA_norm:.3g}",
    )
