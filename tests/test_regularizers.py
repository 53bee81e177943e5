"""Weight penalties: the notes' formulas, their gradients, and argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from deeprecipe import regularizers
from gradients import numerical_gradient, relative_error

# W1 = [[1, 2], [3, 4]], W2 = [[-1], [2]]
W1 = np.array([[1.0, 2.0], [3.0, 4.0]])
W2 = np.array([[-1.0], [2.0]])
LAMBD, M = 0.7, 5


def test_l2_penalty_hand_worked():
    # ||W1||² = 1 + 4 + 9 + 16 = 30; ||W2||² = 1 + 4 = 5; Σ = 35.
    # λ / 2m · 35 = 0.7 / 10 · 35 = 2.45
    np.testing.assert_allclose(regularizers.l2_penalty([W1, W2], LAMBD, M), 2.45, rtol=1e-14)


def test_l1_penalty_hand_worked():
    # Σ|W1| = 1 + 2 + 3 + 4 = 10; Σ|W2| = 1 + 2 = 3; Σ = 13.
    # λ / 2m · 13 = 0.7 / 10 · 13 = 0.91
    np.testing.assert_allclose(regularizers.l1_penalty([W1, W2], LAMBD, M), 0.91, rtol=1e-14)


def test_l2_grad_hand_worked():
    # (λ / m) W = 0.14 W = [[0.14, 0.28], [0.42, 0.56]]
    np.testing.assert_allclose(
        regularizers.l2_grad(W1, LAMBD, M), [[0.14, 0.28], [0.42, 0.56]], rtol=1e-14
    )


def test_l1_grad_hand_worked():
    # (λ / 2m) sign(W) = 0.07 · [[-1], [1]]
    np.testing.assert_allclose(regularizers.l1_grad(W2, LAMBD, M), [[-0.07], [0.07]], rtol=1e-14)


def test_l1_grad_is_zero_at_zero():
    np.testing.assert_array_equal(regularizers.l1_grad(np.zeros((2, 2)), LAMBD, M), 0.0)


@pytest.mark.parametrize("shape", [(3, 4), (5, 1), (6,)])
def test_l2_grad_is_lambda_over_m_times_w(shape, rng):
    w = rng.standard_normal(shape)
    np.testing.assert_allclose(regularizers.l2_grad(w, LAMBD, M), LAMBD / M * w, rtol=1e-15)


@pytest.mark.parametrize("shape", [(3, 4), (5, 1), (6,)])
def test_l1_grad_is_lambda_over_2m_times_sign(shape, rng):
    w = rng.standard_normal(shape)
    np.testing.assert_allclose(
        regularizers.l1_grad(w, LAMBD, M), LAMBD / (2 * M) * np.sign(w), rtol=1e-15
    )


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Entries with |w| in [0.1, 2]: the L1 kink at 0 is never crossed by a difference."""
    return rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize(
    ("penalty", "grad"),
    [
        (regularizers.l2_penalty, regularizers.l2_grad),
        (regularizers.l1_penalty, regularizers.l1_grad),
    ],
    ids=["l2", "l1"],
)
def test_grad_matches_finite_differences_of_the_penalty(penalty, grad, rng):
    w = away_from_zero(rng, (4, 3))
    other = rng.standard_normal((2, 2))  # a second layer: its term is constant in w
    numeric = numerical_gradient(lambda v: penalty([v, other], LAMBD, M), w)
    assert relative_error(grad(w, LAMBD, M), numeric) < 1e-8


def test_the_check_catches_an_l2_grad_missing_one_over_m(rng):
    w = rng.standard_normal((4, 3))
    numeric = numerical_gradient(lambda v: regularizers.l2_penalty([v], LAMBD, M), w)
    assert relative_error(LAMBD * w, numeric) > 1e-2


def test_penalties_sum_over_layers(rng):
    weights = [rng.standard_normal((3, 2)), rng.standard_normal((2, 1))]
    for penalty in (regularizers.l2_penalty, regularizers.l1_penalty):
        total = penalty(weights, LAMBD, M)
        parts = sum(penalty([w], LAMBD, M) for w in weights)
        np.testing.assert_allclose(total, parts, rtol=1e-14)


def test_zero_lambda_gives_zero(rng):
    w = rng.standard_normal((3, 3))
    assert regularizers.l2_penalty([w], 0.0, M) == 0.0
    np.testing.assert_array_equal(regularizers.l2_grad(w, 0.0, M), 0.0)


def test_grads_do_not_modify_w(rng):
    w = rng.standard_normal((3, 3))
    before = w.copy()
    regularizers.l2_grad(w, LAMBD, M)
    regularizers.l1_grad(w, LAMBD, M)
    np.testing.assert_array_equal(w, before)


FUNCTIONS = [
    pytest.param(regularizers.l2_penalty, [W1], id="l2_penalty"),
    pytest.param(regularizers.l2_grad, W1, id="l2_grad"),
    pytest.param(regularizers.l1_penalty, [W1], id="l1_penalty"),
    pytest.param(regularizers.l1_grad, W1, id="l1_grad"),
]


@pytest.mark.parametrize(("function", "weights"), FUNCTIONS)
@pytest.mark.parametrize("lambd", [-0.1, np.nan, np.inf])
def test_bad_lambd_raises_naming_lambd(function, weights, lambd):
    with pytest.raises(ValueError, match=rf"{function.__name__}: lambd must be"):
        function(weights, lambd, M)


@pytest.mark.parametrize(("function", "weights"), FUNCTIONS)
@pytest.mark.parametrize("m", [0, -3, np.nan, np.inf])
def test_bad_m_raises_naming_m(function, weights, m):
    with pytest.raises(ValueError, match=rf"{function.__name__}: m must be"):
        function(weights, LAMBD, m)
