"""Activations: backward against finite differences, in-place forward, stability, values."""

from __future__ import annotations

import numpy as np
import pytest

from deeprecipe import activations
from gradients import numerical_gradient, relative_error

NAMES = list(activations.ACTIVATIONS)
SHAPE = (4, 5)


def logits(rng: np.random.Generator, shape: tuple[int, ...] = SHAPE) -> np.ndarray:
    """Random inputs with |z| in [0.1, 3]: away from the kink of relu and leaky_relu."""
    magnitude = rng.uniform(0.1, 3.0, size=shape)
    return magnitude * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_finite_differences(name, rng):
    activation = activations.get(name)
    z = logits(rng)
    da = rng.standard_normal(SHAPE)
    # backward(dA, A) is the vector-Jacobian product dAᵀ J, i.e. the gradient of Σ dA * g(z).
    numeric = numerical_gradient(lambda v: np.sum(da * activation.forward(v)), z)
    analytic = activation.backward(da, activation.forward(z))
    assert relative_error(analytic, numeric) < 1e-8, name


@pytest.mark.parametrize(
    ("name", "wrong_backward"),
    [
        ("sigmoid", lambda da, a: da * a),
        ("tanh", lambda da, a: da * (1 - a)),
        ("relu", lambda da, a: da),
        ("softmax", lambda da, a: da * a * (1 - a)),
    ],
)
def test_the_check_catches_a_wrong_derivative(name, wrong_backward, rng):
    activation = activations.get(name)
    z = logits(rng)
    da = rng.standard_normal(SHAPE)
    numeric = numerical_gradient(lambda v: np.sum(da * activation.forward(v)), z)
    assert relative_error(wrong_backward(da, activation.forward(z)), numeric) > 1e-2


@pytest.mark.parametrize("name", NAMES)
def test_forward_into_out_returns_out(name, rng):
    forward = activations.get(name).forward
    z = logits(rng)
    before = z.copy()
    out = np.empty_like(z)
    result = forward(z, out=out)
    assert result is out
    np.testing.assert_array_equal(result, forward(before))
    np.testing.assert_array_equal(z, before)


@pytest.mark.parametrize("name", NAMES)
def test_forward_in_place_on_z(name, rng):
    # What a Dense layer does: overwrite its fresh Z with A.
    forward = activations.get(name).forward
    z = logits(rng)
    expected = forward(z.copy())
    result = forward(z, out=z)
    assert result is z
    np.testing.assert_array_equal(z, expected)


@pytest.mark.parametrize("name", NAMES)
def test_forward_without_out_leaves_z_alone(name, rng):
    forward = activations.get(name).forward
    z = logits(rng)
    before = z.copy()
    a = forward(z)
    assert not np.shares_memory(a, z)
    np.testing.assert_array_equal(z, before)


@pytest.mark.parametrize("name", NAMES)
def test_backward_never_modifies_its_arguments(name, rng):
    activation = activations.get(name)
    a = activation.forward(logits(rng))
    da = rng.standard_normal(SHAPE)
    a_before, da_before = a.copy(), da.copy()
    activation.backward(da, a)
    np.testing.assert_array_equal(a, a_before)
    np.testing.assert_array_equal(da, da_before)


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name, rng):
    activation = activations.get(name)
    z = logits(rng).astype(np.float32)
    a = activation.forward(z)
    assert a.dtype == np.float32
    assert activation.backward(np.ones_like(a), a).dtype == np.float32


def test_softmax_rows_sum_to_one(rng):
    a = activations.softmax(3 * rng.standard_normal((6, 4)))
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-12)
    assert (a > 0).all()


def test_softmax_is_stable_for_huge_logits():
    a = activations.softmax(np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0]]))
    # Row 1: exp(0) / (exp(0) + exp(-1000) + exp(-2000)) = 1 to double precision.
    np.testing.assert_array_equal(a[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(a[1], 1 / 3)


def test_softmax_is_shift_invariant(rng):
    z = rng.standard_normal((3, 4))
    np.testing.assert_allclose(activations.softmax(z + 50.0), activations.softmax(z), rtol=1e-12)


def test_sigmoid_is_stable_for_huge_logits():
    # Plain 1 / (1 + exp(-z)) would overflow at z = -1000; warnings are errors in this suite.
    a = activations.sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(a, [0.0, 1.0])


@pytest.mark.parametrize(
    ("name", "z", "expected"),
    [
        # relu: max(z, 0) → max(-1, 0) = 0, max(0, 0) = 0, max(2, 0) = 2.
        ("relu", [-1.0, 0.0, 2.0], [0.0, 0.0, 2.0]),
        # leaky_relu: max(z, 0.01 z) → -1 · 0.01 = -0.01, 0, 2.
        ("leaky_relu", [-1.0, 0.0, 2.0], [-0.01, 0.0, 2.0]),
        ("linear", [-1.0, 0.0, 2.0], [-1.0, 0.0, 2.0]),
        # sigmoid(0) = 1/(1+1) = 0.5; sigmoid(ln 3) = 1/(1 + 1/3) = 0.75;
        # sigmoid(-ln 3) = 1/(1 + 3) = 0.25.
        ("sigmoid", [0.0, np.log(3.0), -np.log(3.0)], [0.5, 0.75, 0.25]),
        # tanh(ln 3) = (3 - 1/3) / (3 + 1/3) = (8/3) / (10/3) = 0.8.
        ("tanh", [0.0, np.log(3.0), -np.log(3.0)], [0.0, 0.8, -0.8]),
    ],
)
def test_hand_worked_values(name, z, expected):
    a = activations.get(name).forward(np.array([z]))
    np.testing.assert_allclose(a, [expected], rtol=1e-12, atol=1e-15)


def test_softmax_hand_worked():
    # exp(ln 1), exp(ln 2), exp(ln 3) = 1, 2, 3; the sum is 6, so softmax = [1/6, 2/6, 3/6].
    a = activations.softmax(np.log(np.array([[1.0, 2.0, 3.0]])))
    np.testing.assert_allclose(a, [[1 / 6, 1 / 3, 1 / 2]], rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "a", "expected"),
    [
        # sigmoid' = A (1 - A): 0.5 · 0.5 = 0.25; 0.75 · 0.25 = 0.1875.
        ("sigmoid", [0.5, 0.75], [0.25, 0.1875]),
        # tanh' = 1 - A²: 1 - 0 = 1; 1 - 0.8² = 1 - 0.64 = 0.36.
        ("tanh", [0.0, 0.8], [1.0, 0.36]),
        # relu' = (A > 0): 0 for A = 0 (the kink takes 0), 1 for A = 2.
        ("relu", [0.0, 2.0], [0.0, 1.0]),
        # leaky_relu' = 1 where A > 0, else 0.01.
        ("leaky_relu", [-0.01, 2.0], [0.01, 1.0]),
        ("linear", [-3.0, 2.0], [1.0, 1.0]),
    ],
)
def test_hand_worked_derivatives(name, a, expected):
    # With dA = 1, backward returns g'(z) itself.
    a = np.array([a])
    np.testing.assert_allclose(activations.get(name).backward(np.ones_like(a), a), [expected])


def test_softmax_backward_hand_worked():
    # A = [0.5, 0.5], dA = [1, 0]: Σ dA·A = 0.5, so dZ = A (dA - 0.5) = [0.25, -0.25].
    dz = activations.softmax_backward(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]]))
    np.testing.assert_allclose(dz, [[0.25, -0.25]])


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="activation") as info:
        activations.get("nope")
    for name in NAMES:
        assert repr(name) in str(info.value)


def test_piecewise_names_are_activations():
    assert set(activations.PIECEWISE) <= set(NAMES)
