"""Initializers: shapes, dtypes, the std each preset promises, reproducibility, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from deeprecipe import initializers

# A non-square shape, so fan_in (200), fan_out (800) and their mean (500) give different stds.
FAN_IN, FAN_OUT = 200, 800
SHAPE = (FAN_IN, FAN_OUT)
N = FAN_IN * FAN_OUT

EXPECTED_STD = {
    "zeros": 0.0,
    "random": 0.01,
    "xavier": np.sqrt(1 / FAN_IN),
    "xavier_uniform": np.sqrt(1 / FAN_IN),
    "glorot": np.sqrt(2 / (FAN_IN + FAN_OUT)),
    "glorot_uniform": np.sqrt(2 / (FAN_IN + FAN_OUT)),
    "he": np.sqrt(2 / FAN_IN),
    "he_uniform": np.sqrt(2 / FAN_IN),
}
RANDOM_NAMES = [name for name in initializers.INITIALIZERS if name != "zeros"]


def assert_std_close(sample: np.ndarray, sigma: float) -> None:
    """Sample std within 5 standard errors of ``sigma``.

    For normal draws the standard error of the sample std is ``σ / sqrt(2n)``; for uniform
    draws (kurtosis 1.8) it is smaller, ``σ sqrt(0.8) / (2 sqrt(n))``, so this bound holds
    for both.
    """
    standard_error = sigma / np.sqrt(2 * sample.size)
    assert abs(sample.std() - sigma) < 5 * standard_error, (sample.std(), sigma)


def test_every_initializer_has_an_expected_std():
    assert set(initializers.INITIALIZERS) == set(EXPECTED_STD)


@pytest.mark.parametrize("name", list(initializers.INITIALIZERS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_shape_and_dtype(name, dtype, rng):
    weights = initializers.get(name)((3, 5), rng, dtype)
    assert weights.shape == (3, 5)
    assert weights.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_sample_std_matches_the_formula(name, rng):
    weights = initializers.get(name)(SHAPE, rng, "float64")
    assert_std_close(weights, EXPECTED_STD[name])


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_sample_mean_is_zero(name, rng):
    sigma = EXPECTED_STD[name]
    weights = initializers.get(name)(SHAPE, rng, "float64")
    assert abs(weights.mean()) < 5 * sigma / np.sqrt(N)


@pytest.mark.parametrize("name", ["xavier_uniform", "glorot_uniform", "he_uniform"])
def test_uniform_variants_stay_within_their_limit(name, rng):
    # U(-a, a) has variance a²/3, so a = sqrt(3) σ.
    limit = np.sqrt(3) * EXPECTED_STD[name]
    weights = initializers.get(name)(SHAPE, rng, "float64")
    assert np.abs(weights).max() <= limit
    # 160,000 draws reach within 1% of the limit (a miss has probability 0.99**160000).
    assert np.abs(weights).max() > 0.99 * limit


@pytest.mark.parametrize("name", ["xavier", "glorot", "he", "random"])
def test_normal_variants_are_not_bounded_like_uniform(name, rng):
    # 160,000 normal draws almost surely pass 3σ (P(|z| > 3) ≈ 0.27%); uniform never passes √3σ.
    weights = initializers.get(name)(SHAPE, rng, "float64")
    assert np.abs(weights).max() > 3 * EXPECTED_STD[name]


def test_random_scale_ten_is_the_notes_too_large_example(rng):
    weights = initializers.get("random", scale=10)(SHAPE, rng, "float64")
    assert_std_close(weights, 10.0)


def test_random_is_randn_times_scale():
    weights = initializers.random_normal((4, 3), np.random.default_rng(5), "float64")
    expected = np.random.default_rng(5).standard_normal((4, 3)) * 0.01
    np.testing.assert_array_equal(weights, expected)


def test_zeros_are_zeros(rng):
    np.testing.assert_array_equal(initializers.get("zeros")((4, 6), rng, "float64"), 0.0)


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_reproducible_from_the_rng(name):
    draw = initializers.get(name)
    first = draw((10, 7), np.random.default_rng(42), "float64")
    second = draw((10, 7), np.random.default_rng(42), "float64")
    other = draw((10, 7), np.random.default_rng(43), "float64")
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_draws_advance_the_rng(name, rng):
    draw = initializers.get(name)
    assert not np.array_equal(draw((5, 5), rng, "float64"), draw((5, 5), rng, "float64"))


def test_unknown_name_lists_the_choices(rng):
    with pytest.raises(ValueError, match="init") as info:
        initializers.get("nope")
    for name in initializers.INITIALIZERS:
        assert repr(name) in str(info.value)
    assert "'nope'" in str(info.value)


def test_non_string_name_is_a_type_error():
    with pytest.raises(TypeError, match="init"):
        initializers.get(3)


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"mode": "fan_sideways"}, "mode"),
        ({"distribution": "cauchy"}, "distribution"),
        ({"scale": 0.0}, "scale"),
        ({"scale": -1.0}, "scale"),
    ],
)
def test_variance_scaling_rejects_bad_arguments(kwargs, arg, rng):
    with pytest.raises(ValueError, match=re.escape(arg)):
        initializers.variance_scaling((3, 4), rng, "float64", **kwargs)


@pytest.mark.parametrize(
    ("mode", "n"), [("fan_in", FAN_IN), ("fan_out", FAN_OUT), ("fan_avg", (FAN_IN + FAN_OUT) / 2)]
)
def test_variance_scaling_modes(mode, n, rng):
    weights = initializers.variance_scaling(SHAPE, rng, "float64", scale=3.0, mode=mode)
    assert_std_close(weights, np.sqrt(3.0 / n))


@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        ("relu", "he"),
        ("leaky_relu", "he"),
        ("tanh", "xavier"),
        ("sigmoid", "xavier"),
        ("softmax", "xavier"),
        ("linear", "xavier"),
    ],
)
def test_default_for(activation, expected):
    assert initializers.default_for(activation) == expected
