"""Losses ``J = (1/m) Σ L(ŷ, y)`` as plain functions, and fused with their output activation.

Plain functions take the network's output ``ŷ`` and return the mean loss; ``*_grad`` returns
``dJ/dŷ`` (the ``1/m`` included), so a cost can be written by hand as the notes write it::

    J = binary_cross_entropy(a3, y) + l2_penalty([W1, W2, W3], lambd, m)

The fused forms take the logits ``Z[L]`` and return ``dJ/dZ[L] = (A[L] - Y) / m``: stable
for any logits, and what :class:`~deeprecipe.Sequential` uses when the output activation
matches the loss (sigmoid + binary cross-entropy, softmax + cross-entropy, linear + MSE).

Targets: class labels ``(m,)`` (integers) or one-hot ``(m, k)`` for cross-entropy; ``(m,)``
or ``(m, 1)`` zeros and ones for binary cross-entropy; ``(m, k)`` or ``(m,)`` for MSE.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.special import expit

from ._checks import choice, fail
from .activations import ACTIVATIONS


def _column(y: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``y`` as a float array shaped like ``like`` (``(m,)`` becomes ``(m, 1)``)."""
    y = np.asarray(y, dtype=like.dtype)
    if y.size != like.size or len(y) != len(like):
        raise fail("loss", "y.shape", f"{like.shape} (the shape of y_hat)", y.shape)
    return y.reshape(like.shape)


def _labels(y: np.ndarray) -> np.ndarray:
    """Class indices from integer labels ``(m,)`` or one-hot rows ``(m, k)``."""
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 else y.astype(np.intp, copy=False)


def binary_cross_entropy_rows(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per example: ``-[y log ŷ + (1 - y) log(1 - ŷ)]`` (summed over outputs)."""
    y_hat = np.asarray(y_hat, dtype=np.result_type(np.asarray(y_hat).dtype, np.float32))
    y = _column(y, y_hat)
    losses = -(y * np.log(y_hat) + (1 - y) * np.log1p(-y_hat))
    return losses.reshape(len(y_hat), -1).sum(axis=1)


def binary_cross_entropy(y_hat: np.ndarray, y: np.ndarray) -> float:
    """``-(1/m) Σ [y log ŷ + (1 - y) log(1 - ŷ)]`` for probabilities ``ŷ``."""
    return float(np.mean(binary_cross_entropy_rows(y_hat, y)))


def binary_cross_entropy_grad(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dJ/dŷ = (1/m) (ŷ - y) / (ŷ (1 - ŷ))``."""
    y_hat = np.asarray(y_hat, dtype=float)
    y = _column(y, y_hat)
    return (y_hat - y) / (y_hat * (1 - y_hat)) / len(y_hat)


def sigmoid_cross_entropy_rows(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per example, from the logits: ``max(z, 0) - z y + log(1 + exp(-|z|))``."""
    z = np.asarray(z)
    losses = np.maximum(z, 0) - z * _column(y, z) + np.log1p(np.exp(-np.abs(z)))
    return losses.reshape(len(z), -1).sum(axis=1)


def sigmoid_cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Binary cross-entropy of ``sigmoid(z)`` from the logits: ``(J, dJ/dz)``.

    ``L = max(z, 0) - z y + log(1 + exp(-|z|))`` never overflows; ``dJ/dz = (σ(z) - y)/m``.
    """
    z = np.asarray(z, dtype=np.result_type(np.asarray(z).dtype, np.float32))
    y = _column(y, z)
    m = len(z)
    value = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    dz = expit(z)
    dz -= y
    dz /= m
    return float(value.sum() / m), dz


def cross_entropy_rows(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per example: ``-log ŷ[i, y_i]``."""
    y_hat = np.asarray(y_hat)
    return -np.log(y_hat[np.arange(len(y_hat)), _labels(y)])


def cross_entropy(y_hat: np.ndarray, y: np.ndarray) -> float:
    """``-(1/m) Σ_i log ŷ[i, y_i]`` for probabilities ``ŷ`` of shape ``(m, k)``."""
    return float(np.mean(cross_entropy_rows(y_hat, y)))


def cross_entropy_grad(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dJ/dŷ[i, c] = -1 / (m ŷ[i, c])`` where ``c = y_i``, zero elsewhere."""
    y_hat = np.asarray(y_hat, dtype=float)
    labels = _labels(y)
    rows = np.arange(len(y_hat))
    grad = np.zeros_like(y_hat)
    grad[rows, labels] = -1.0 / (len(y_hat) * y_hat[rows, labels])
    return grad


def softmax_cross_entropy_rows(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per example, from the logits: ``log Σ exp(z) - z[y]`` (shifted by the row maximum)."""
    shifted = z - z.max(axis=1, keepdims=True)
    picked = shifted[np.arange(len(z)), _labels(y)]
    np.exp(shifted, out=shifted)
    return np.log(shifted.sum(axis=1)) - picked


def softmax_cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Cross-entropy of ``softmax(z)`` from the logits: ``(J, dJ/dz = (softmax(z) - Y)/m)``,
    with ``log softmax(z)[c] = (z[c] - max z) - log Σ exp(z - max z)``."""
    z = np.array(z, dtype=np.result_type(np.asarray(z).dtype, np.float32), copy=True)
    return _softmax_cross_entropy_inplace(z, _labels(y))


def _softmax_cross_entropy_inplace(z: np.ndarray, labels: np.ndarray
                                   ) -> tuple[float, np.ndarray]:
    """:func:`softmax_cross_entropy` of float logits and class indices, written into ``z``."""
    m = len(z)
    rows = np.arange(m)
    z -= z.max(axis=1, keepdims=True)
    picked = z[rows, labels]
    np.exp(z, out=z)
    sums = z.sum(axis=1, keepdims=True)
    value = float(np.log(sums).sum() - picked.sum()) / m
    z /= sums
    z[rows, labels] -= 1
    z *= 1.0 / m
    return value, z


def mean_squared_error_rows(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per example: ``(1/k) Σ_j (ŷ_j - y_j)²``."""
    y_hat = np.asarray(y_hat, dtype=np.result_type(np.asarray(y_hat).dtype, np.float32))
    return np.square(y_hat - _column(y, y_hat)).reshape(len(y_hat), -1).mean(axis=1)


def mean_squared_error(y_hat: np.ndarray, y: np.ndarray) -> float:
    """``(1/(m k)) Σ (ŷ - y)²``: the mean over every entry (PyTorch's and Keras' MSE)."""
    return float(np.mean(mean_squared_error_rows(y_hat, y)))


def mean_squared_error_grad(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``dJ/dŷ = 2 (ŷ - y) / (m k)``."""
    y_hat = np.asarray(y_hat, dtype=float)
    return 2.0 * (y_hat - _column(y, y_hat)) / y_hat.size


def linear_mean_squared_error(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """MSE of a linear output, ``(J, dJ/dz)``."""
    diff = np.subtract(z, _column(y, z))
    value = float(np.vdot(diff, diff)) / diff.size
    diff *= 2.0 / diff.size
    return value, diff


class Loss(NamedTuple):
    """A loss by name: its plain form, its gradient, and its form fused with ``activation``.

    ``task`` is ``"binary"``, ``"multiclass"`` or ``"regression"``: it decides how targets
    are encoded (:func:`encode_targets`) and what *error* means (misclassification rate or
    mean squared error). ``fused(z, targets)`` takes the logits and encoded targets and
    leaves ``z`` as it is; ``rows`` and ``fused_rows`` give each example's loss. With
    ``from_logits`` the network's output is ``Z[L]`` and the loss applies ``activation``.
    """

    name: str
    activation: str
    task: str
    value: Callable[[np.ndarray, np.ndarray], float]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fused: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]
    rows: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fused_rows: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def cost(self, out: np.ndarray, targets: np.ndarray, from_logits: bool) -> float:
        """``J``'s data term on the network's output (logits when ``from_logits``)."""
        return self.fused(out, targets)[0] if from_logits else self.value(out, targets)

    def cost_and_grad(self, out: np.ndarray, targets: np.ndarray,
                      from_logits: bool) -> tuple[float, np.ndarray]:
        """``(J's data term, dJ/d out)``; ``out`` is left as it is."""
        if from_logits:
            return self.fused(out, targets)
        return self.value(out, targets), self.gradient(out, targets)

    def example_costs(self, out: np.ndarray, targets: np.ndarray,
                      from_logits: bool) -> np.ndarray:
        """The loss of each example: ``J = mean(example_costs)``."""
        return (self.fused_rows if from_logits else self.rows)(out, targets)

    def predictions(self, out: np.ndarray, from_logits: bool) -> np.ndarray:
        """The network's output activations ``A[L]`` (``g`` applied in place to logits)."""
        return ACTIVATIONS[self.activation].forward(out, out=out) if from_logits else out


LOSSES: dict[str, Loss] = {
    "binary_cross_entropy": Loss(
        "binary_cross_entropy", "sigmoid", "binary",
        binary_cross_entropy, binary_cross_entropy_grad, sigmoid_cross_entropy,
        binary_cross_entropy_rows, sigmoid_cross_entropy_rows,
    ),
    "cross_entropy": Loss(
        "cross_entropy", "softmax", "multiclass",
        cross_entropy, cross_entropy_grad,
        lambda z, labels: _softmax_cross_entropy_inplace(z.copy(), labels),  # encoded targets
        cross_entropy_rows, softmax_cross_entropy_rows,
    ),
    "mean_squared_error": Loss(
        "mean_squared_error", "linear", "regression",
        mean_squared_error, mean_squared_error_grad, linear_mean_squared_error,
        mean_squared_error_rows, mean_squared_error_rows,
    ),
}


def get(name: str) -> Loss:
    """Look up a loss by name; unknown names list the choices."""
    choice("losses.get", "loss", name, LOSSES)
    return LOSSES[name]


def default_for(activation: str) -> str:
    """The loss an output activation implies: sigmoid → binary cross-entropy, softmax →
    cross-entropy, linear → mean squared error."""
    for loss in LOSSES.values():
        if loss.activation == activation:
            return loss.name
    raise fail("Sequential", "loss", "given when the output activation is not sigmoid, "
               "softmax or linear", None, f"the output activation is {activation!r}; pass loss=...")


def encode_targets(
    task: str, y: np.ndarray, n_outputs: int, dtype: np.dtype, where: str = "encode_targets"
) -> np.ndarray:
    """Check ``y`` against the output layer and encode it for the fused loss.

    multiclass: class indices ``(m,)`` in ``[0, n_outputs)`` (one-hot rows are accepted);
    binary: ``(m, 1)`` zeros and ones; regression: ``(m, n_outputs)`` floats.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise fail(where, "y", "numeric", y, "map class names to integers first")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise fail(where, "y", "finite (no NaN or inf)", y)
    if y.ndim not in (1, 2):
        raise fail(where, "y", "1-D (m,) or 2-D (m, k)", y)
    if task == "multiclass":
        one_hot = y.ndim == 2 and y.shape[1] == n_outputs and np.isin(y, (0, 1)).all()
        if one_hot and (y.sum(axis=1) == 1).all():
            return y.argmax(axis=1).astype(np.intp)
        if y.ndim != 1:
            raise fail(where, "y", f"class labels (m,) or one-hot rows (m, {n_outputs})", y)
        in_range = (y >= 0) & (y < n_outputs) & (y == np.round(y))
        if not in_range.all():
            raise fail(
                where, "y", f"integer class labels in [0, {n_outputs - 1}] to match the "
                f"output layer's {n_outputs} units", f"labels {np.unique(y)[:10]}",
            )
        return y.astype(np.intp, copy=False)  # class indices as given: no copy of a big y
    if task == "binary":
        if n_outputs != 1 or y.size != len(y) or not np.isin(y, (0, 1)).all():
            raise fail(
                where, "y", "labels 0 or 1 of shape (m,) or (m, 1) for a 1-unit sigmoid output",
                f"shape {y.shape}, values {np.unique(y)[:10]}",
                "use a softmax output for more than two classes",
            )
        return y.reshape(-1, 1).astype(dtype)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if y.ndim != 2 or y.shape[1] != n_outputs:
        raise fail(where, "y.shape", f"(m, {n_outputs}) to match the output layer", y.shape)
    return y.astype(dtype)
