"""Weight penalties exactly as the notes write them (biases are never penalized).

=========  ==========================================  ===========================
penalty    cost term                                   gradient added to ``dW``
=========  ==========================================  ===========================
L2         ``(λ / 2m) Σ_l ||W[l]||²_F``                ``(λ / m) W``
L1         ``(λ / 2m) Σ_l Σ |W[l]|``                   ``(λ / 2m) sign(W)``
=========  ==========================================  ===========================

``m`` is the number of training examples. :meth:`Sequential.cost` uses ``m = len(X)``; in
mini-batch training ``m`` is the whole training set's size, so ``λ`` means the same at every
batch size and full-batch training is the notes' algorithm exactly. (Keras' ``l2(λ)`` adds
``λ Σ W²`` with no ``1/2m``; PyTorch's ``weight_decay`` also decays biases.)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ._checks import non_negative, real


def _check(where: str, lambd: float, m: int) -> None:
    non_negative(where, "lambd", lambd)
    real(where, "m", m, "a positive number of examples", lambda v: v >= 1)


def l2_elementwise(w: np.ndarray, lambd: float, m: int) -> np.ndarray:
    """Each weight's share of the L2 term: ``(λ / 2m) w²`` (the penalty is their sum)."""
    return (lambd / (2 * m)) * np.square(w)


def l2_penalty(weights: Iterable[np.ndarray], lambd: float, m: int) -> float:
    """``(λ / 2m) Σ_l ||W[l]||²_F`` (squared Frobenius norms)."""
    _check("l2_penalty", lambd, m)
    return float(lambd / (2 * m) * sum(float(np.vdot(w, w)) for w in weights))


def l2_grad(w: np.ndarray, lambd: float, m: int) -> np.ndarray:
    """``d/dW [(λ / 2m) ||W||²_F] = (λ / m) W``."""
    _check("l2_grad", lambd, m)
    return (lambd / m) * np.asarray(w)


def l1_elementwise(w: np.ndarray, lambd: float, m: int) -> np.ndarray:
    """Each weight's share of the L1 term: ``(λ / 2m) |w|`` (the penalty is their sum)."""
    return (lambd / (2 * m)) * np.abs(w)


def l1_penalty(weights: Iterable[np.ndarray], lambd: float, m: int) -> float:
    """``(λ / 2m) Σ_l Σ |W[l]|``: the notes' L1, with the same ``1/2m`` as their L2."""
    _check("l1_penalty", lambd, m)
    return float(lambd / (2 * m) * sum(float(np.abs(w).sum()) for w in weights))


def l1_grad(w: np.ndarray, lambd: float, m: int) -> np.ndarray:
    """``d/dW [(λ / 2m) Σ |W|] = (λ / 2m) sign(W)`` (0 at ``W = 0``, the kink)."""
    _check("l1_grad", lambd, m)
    return (lambd / (2 * m)) * np.sign(w)


# name -> (penalty, elementwise share, gradient): what the model and the gradient checker use.
PENALTIES = {
    "l2": (l2_penalty, l2_elementwise, l2_grad),
    "l1": (l1_penalty, l1_elementwise, l1_grad),
}
