"""The finite-difference helper itself: exact on polynomials, sensitive to wrong gradients."""

from __future__ import annotations

import numpy as np

from gradients import numerical_gradient, relative_error


def test_numerical_gradient_of_a_cubic_matches_the_analytic_gradient(rng):
    x = rng.standard_normal((3, 4))
    # f = Σ x³ has gradient 3x²; the central difference's error is eps² (exactly, for a cubic).
    grad = numerical_gradient(lambda v: np.sum(v**3), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-7, atol=1e-9)


def test_numerical_gradient_does_not_modify_its_input(rng):
    x = rng.standard_normal(5)
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v**2), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_handles_zero_dimensional_input():
    grad = numerical_gradient(lambda v: float(v) ** 2, np.array(3.0))
    assert grad.shape == ()
    np.testing.assert_allclose(grad, 6.0, rtol=1e-8)


def test_relative_error_is_the_notes_formula():
    # a = [3, 4], b = [0, 4]: ||a - b|| = ||[3, 0]|| = 3; ||a|| = 5; ||b|| = 4.
    a = np.array([3.0, 4.0])
    b = np.array([0.0, 4.0])
    assert relative_error(a, b) == 3.0 / (5.0 + 4.0)


def test_relative_error_of_two_zero_arrays_is_zero():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_relative_error_flags_a_gradient_off_by_a_factor_of_two(rng):
    a = rng.standard_normal(10)
    # ||a - 2a|| / (||a|| + ||2a||) = 1/3
    np.testing.assert_allclose(relative_error(a, 2 * a), 1.0 / 3.0)
