"""Losses: gradients vs finite differences, fused forms, stability, target encoding."""

from __future__ import annotations

import numpy as np
import pytest

from deeprecipe import activations, losses
from gradients import numerical_gradient, relative_error

M, K = 6, 4


def probabilities(rng: np.random.Generator) -> np.ndarray:
    return activations.softmax(rng.standard_normal((M, K)))


@pytest.fixture
def cases(rng):
    """For each loss: (predictions ŷ away from 0 and 1, targets y)."""
    return {
        "binary_cross_entropy": (
            rng.uniform(0.1, 0.9, size=(M, 1)),
            rng.integers(0, 2, size=M).astype(float),
        ),
        "cross_entropy": (probabilities(rng), rng.integers(0, K, size=M)),
        "mean_squared_error": (rng.standard_normal((M, K)), rng.standard_normal((M, K))),
    }


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_gradient_matches_finite_differences(name, cases):
    loss = losses.get(name)
    y_hat, y = cases[name]
    numeric = numerical_gradient(lambda v: loss.value(v, y), y_hat)
    analytic = loss.gradient(y_hat, y)
    assert analytic.shape == y_hat.shape
    assert relative_error(analytic, numeric) < 1e-8, name


def test_the_check_catches_a_gradient_missing_one_over_m(cases):
    y_hat, y = cases["mean_squared_error"]
    numeric = numerical_gradient(lambda v: losses.mean_squared_error(v, y), y_hat)
    wrong = 2.0 * (y_hat - y) / K
    assert relative_error(wrong, numeric) > 1e-2


@pytest.fixture
def logit_cases(rng):
    """For each fused loss: (logits z, targets y, output activation, plain loss)."""
    return {
        "sigmoid": (
            3 * rng.standard_normal((M, 1)),
            rng.integers(0, 2, size=M).astype(float),
            activations.sigmoid,
            losses.binary_cross_entropy,
            losses.sigmoid_cross_entropy,
        ),
        "softmax": (
            3 * rng.standard_normal((M, K)),
            rng.integers(0, K, size=M),
            activations.softmax,
            losses.cross_entropy,
            losses.softmax_cross_entropy,
        ),
        "linear": (
            rng.standard_normal((M, K)),
            rng.standard_normal((M, K)),
            activations.linear,
            losses.mean_squared_error,
            losses.linear_mean_squared_error,
        ),
    }


FUSED = ["sigmoid", "softmax", "linear"]


@pytest.mark.parametrize("output", FUSED)
def test_fused_value_is_the_plain_loss_of_the_activation(output, logit_cases):
    z, y, activation, plain, fused = logit_cases[output]
    value, _ = fused(z, y)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, plain(activation(z), y), rtol=1e-12)


@pytest.mark.parametrize("output", FUSED)
def test_fused_gradient_matches_finite_differences(output, logit_cases):
    z, y, _, _, fused = logit_cases[output]
    numeric = numerical_gradient(lambda v: fused(v, y)[0], z)
    _, dz = fused(z, y)
    assert dz.shape == z.shape
    assert relative_error(dz, numeric) < 1e-8, output


def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[labels]


def test_sigmoid_cross_entropy_gradient_is_a_minus_y_over_m(logit_cases):
    z, y, *_ = logit_cases["sigmoid"]
    _, dz = losses.sigmoid_cross_entropy(z, y)
    np.testing.assert_allclose(dz, (activations.sigmoid(z) - y.reshape(-1, 1)) / M, rtol=1e-12)


def test_softmax_cross_entropy_gradient_is_a_minus_y_over_m(logit_cases):
    z, labels, *_ = logit_cases["softmax"]
    _, dz = losses.softmax_cross_entropy(z, labels)
    expected = (activations.softmax(z) - one_hot(labels, K)) / M
    np.testing.assert_allclose(dz, expected, rtol=1e-12, atol=1e-16)


def test_linear_mean_squared_error_gradient_is_two_diff_over_mk(logit_cases):
    z, y, *_ = logit_cases["linear"]
    _, dz = losses.linear_mean_squared_error(z, y)
    np.testing.assert_allclose(dz, 2 * (z - y) / (M * K), rtol=1e-12)


def test_softmax_cross_entropy_accepts_labels_and_one_hot(logit_cases):
    z, labels, *_ = logit_cases["softmax"]
    value, dz = losses.softmax_cross_entropy(z, labels)
    value_one_hot, dz_one_hot = losses.softmax_cross_entropy(z, one_hot(labels, K))
    assert value == value_one_hot
    np.testing.assert_array_equal(dz, dz_one_hot)


@pytest.mark.parametrize("output", FUSED)
def test_fused_losses_do_not_modify_their_inputs(output, logit_cases):
    z, y, _, _, fused = logit_cases[output]
    z_before, y_before = z.copy(), y.copy()
    _, dz = fused(z, y)
    np.testing.assert_array_equal(z, z_before)
    np.testing.assert_array_equal(y, y_before)
    assert not np.shares_memory(dz, z)


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_plain_losses_do_not_modify_their_inputs(name, cases):
    loss = losses.get(name)
    y_hat, y = cases[name]
    y_hat_before, y_before = y_hat.copy(), y.copy()
    loss.value(y_hat, y)
    loss.gradient(y_hat, y)
    np.testing.assert_array_equal(y_hat, y_hat_before)
    np.testing.assert_array_equal(y, y_before)


def test_sigmoid_cross_entropy_is_stable_for_large_logits():
    z = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    value, dz = losses.sigmoid_cross_entropy(z, y)
    # Right answers cost 0; the two confident wrong answers cost |z| = 1000 each: 2000 / 4.
    np.testing.assert_allclose(value, 500.0)
    # dz = (σ(z) - y) / m: [0, 0, 1/4, -1/4].
    np.testing.assert_allclose(dz, [[0.0], [0.0], [0.25], [-0.25]])


def test_softmax_cross_entropy_is_stable_for_large_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]])
    value, dz = losses.softmax_cross_entropy(z, np.array([0, 1]))
    # Row 1 is right (cost 0); row 2 picks z = 0 against a max of 1000: cost 1000. Mean 500.
    np.testing.assert_allclose(value, 500.0)
    np.testing.assert_allclose(dz, [[0.0, 0.0, 0.0], [0.5, -0.5, 0.0]], atol=1e-300)


def test_binary_cross_entropy_hand_worked():
    # -(1/2) [1 · ln 0.9 + (1 - 0) · ln(1 - 0.2)] = -(ln 0.9 + ln 0.8) / 2
    #   = (0.1053605 + 0.2231436) / 2 = 0.1642520
    value = losses.binary_cross_entropy(np.array([0.9, 0.2]), np.array([1.0, 0.0]))
    np.testing.assert_allclose(value, 0.1642520, rtol=1e-6)
    np.testing.assert_allclose(value, -(np.log(0.9) + np.log(0.8)) / 2, rtol=1e-14)


def test_binary_cross_entropy_grad_hand_worked():
    # (1/m) (ŷ - y) / (ŷ (1 - ŷ)): (0.9 - 1) / (0.9 · 0.1) / 2 = -0.1 / 0.09 / 2 = -0.5556;
    # (0.2 - 0) / (0.2 · 0.8) / 2 = 0.2 / 0.16 / 2 = 0.625.
    grad = losses.binary_cross_entropy_grad(np.array([0.9, 0.2]), np.array([1.0, 0.0]))
    np.testing.assert_allclose(grad, [-1 / 1.8, 0.625], rtol=1e-12)


def test_cross_entropy_hand_worked():
    # Row 1 picks ŷ = 0.7 (label 0), row 2 picks ŷ = 0.4 (label 2):
    # -(ln 0.7 + ln 0.4) / 2 = (0.3566749 + 0.9162907) / 2 = 0.6364828
    y_hat = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])
    value = losses.cross_entropy(y_hat, np.array([0, 2]))
    np.testing.assert_allclose(value, 0.6364828, rtol=1e-6)


def test_mean_squared_error_hand_worked():
    # ŷ - y = [[1, 0], [0, -2]]; squares 1 + 0 + 0 + 4 = 5; mean over m k = 4 entries: 1.25.
    y_hat = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.array([[0.0, 2.0], [3.0, 6.0]])
    assert losses.mean_squared_error(y_hat, y) == 1.25
    # 2 (ŷ - y) / 4 = [[0.5, 0], [0, -1]]
    np.testing.assert_array_equal(losses.mean_squared_error_grad(y_hat, y), [[0.5, 0], [0, -1]])


def test_losses_accept_column_or_flat_binary_targets(rng):
    y_hat = rng.uniform(0.1, 0.9, size=(M, 1))
    y = rng.integers(0, 2, size=M).astype(float)
    assert losses.binary_cross_entropy(y_hat, y) == losses.binary_cross_entropy(
        y_hat, y.reshape(-1, 1)
    )


def test_get_unknown_loss_lists_the_choices():
    with pytest.raises(ValueError, match="loss") as info:
        losses.get("hinge")
    for name in losses.LOSSES:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        ("sigmoid", "binary_cross_entropy"),
        ("softmax", "cross_entropy"),
        ("linear", "mean_squared_error"),
    ],
)
def test_default_for(activation, expected):
    assert losses.default_for(activation) == expected


def test_default_for_an_activation_without_a_loss():
    with pytest.raises(ValueError, match="loss"):
        losses.default_for("relu")


# --- encode_targets ---------------------------------------------------------------------


def test_encode_multiclass_labels_and_one_hot():
    labels = np.array([0, 2, 1, 2])
    encoded = losses.encode_targets("multiclass", labels, 3, np.dtype("float64"))
    np.testing.assert_array_equal(encoded, labels)
    assert encoded.dtype == np.intp
    from_one_hot = losses.encode_targets("multiclass", one_hot(labels, 3), 3, np.dtype("float64"))
    np.testing.assert_array_equal(from_one_hot, labels)


def test_encode_binary_is_a_float_column():
    encoded = losses.encode_targets("binary", np.array([0, 1, 1]), 1, np.dtype("float32"))
    assert encoded.shape == (3, 1)
    assert encoded.dtype == np.float32


def test_encode_regression_is_m_by_outputs():
    encoded = losses.encode_targets("regression", np.arange(3), 1, np.dtype("float64"))
    assert encoded.shape == (3, 1)
    assert encoded.dtype == np.float64


@pytest.mark.parametrize(
    ("task", "y", "n_outputs"),
    [
        pytest.param("multiclass", [0, 1, 3], 3, id="label-out-of-range"),
        pytest.param("multiclass", [0, -1, 2], 3, id="negative-label"),
        pytest.param("multiclass", [0.0, 1.5, 2.0], 3, id="non-integer-label"),
        pytest.param("multiclass", [[0.2, 0.8], [0.5, 0.5]], 2, id="probabilities-not-one-hot"),
        pytest.param("multiclass", ["cat", "dog"], 2, id="strings"),
        pytest.param("binary", [0, 1, 2], 1, id="binary-label-2"),
        pytest.param("binary", [[0, 1], [1, 0]], 1, id="binary-two-columns"),
        pytest.param("binary", [0.0, np.nan], 1, id="binary-nan"),
        pytest.param("binary", 1, 1, id="binary-scalar"),
        pytest.param("multiclass", 1, 3, id="multiclass-scalar"),
        pytest.param("regression", 1.0, 1, id="regression-scalar"),
        pytest.param("multiclass", [0.0, np.nan], 3, id="multiclass-nan"),
        pytest.param("regression", [1.0, np.inf], 1, id="regression-inf"),
        pytest.param("regression", np.zeros((4, 3)), 2, id="regression-wrong-columns"),
        pytest.param("regression", np.zeros(4), 2, id="regression-flat-for-two-outputs"),
        pytest.param("regression", np.zeros((2, 2, 2)), 2, id="regression-3d"),
    ],
)
def test_encode_targets_rejects_bad_y(task, y, n_outputs):
    with pytest.raises(ValueError, match=r"encode_targets: y\b"):
        losses.encode_targets(task, np.asarray(y), n_outputs, np.dtype("float64"))


def test_encode_targets_rejects_integer_valued_labels_too_large_for_an_index():
    # 1e20 is an integer value but no valid class; casting it to intp must not warn first.
    with pytest.raises(ValueError, match=r"encode_targets: y\b"):
        losses.encode_targets("multiclass", np.array([0.0, 1e20]), 3, np.dtype("float64"))
