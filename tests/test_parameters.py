"""Parameter packing: flatten/unflatten in dict order, with views into θ."""

from __future__ import annotations

import numpy as np
import pytest

from deeprecipe.parameters import Slot, flatten, layout_of, size, unflatten


def params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    # Deliberately not in sorted order: "b" before "a", and a 0-d entry "c".
    return {
        "b": rng.standard_normal((2, 3)),
        "a": rng.standard_normal(4),
        "c": np.array(7.0),
        "aa": rng.standard_normal((1, 1, 2)),
    }


def test_layout_follows_dict_order_with_start_and_stop():
    layout = layout_of({"b": (2, 3), "a": (4,), "c": (), "aa": (1, 1, 2)})
    assert layout == (
        Slot("b", (2, 3), 0, 6),
        Slot("a", (4,), 6, 10),
        Slot("c", (), 10, 11),  # a 0-d array holds one number
        Slot("aa", (1, 1, 2), 11, 13),
    )
    assert size(layout) == 13


def test_flatten_concatenates_in_dict_order(rng):
    values = params(rng)
    theta, layout = flatten(values)
    assert [slot.name for slot in layout] == ["b", "a", "c", "aa"]
    expected = np.concatenate([value.ravel() for value in values.values()])
    np.testing.assert_array_equal(theta, expected)


def test_unflatten_round_trips(rng):
    values = params(rng)
    theta, layout = flatten(values)
    restored = unflatten(theta, layout)
    assert list(restored) == list(values)
    for name, value in values.items():
        assert restored[name].shape == value.shape
        np.testing.assert_array_equal(restored[name], value)


def test_unflatten_gives_views_of_theta(rng):
    theta, layout = flatten(params(rng))
    views = unflatten(theta, layout)
    for view in views.values():
        assert np.shares_memory(view, theta)
    views["a"][1] = 100.0
    views["c"][...] = -5.0
    assert theta[7] == 100.0
    assert theta[10] == -5.0
    theta[0] = 42.0
    assert views["b"][0, 0] == 42.0


def test_flatten_copies_its_inputs(rng):
    values = params(rng)
    theta, _ = flatten(values)
    theta[:] = 0.0
    assert not np.all(values["b"] == 0.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_flatten_dtype(dtype, rng):
    theta, _ = flatten(params(rng), dtype=dtype)
    assert theta.dtype == np.dtype(dtype)


def test_flatten_promotes_mixed_dtypes():
    theta, _ = flatten({"x": np.ones(2, dtype=np.float32), "y": np.arange(3)})
    assert theta.dtype == np.float64


def test_flatten_of_nothing():
    theta, layout = flatten({})
    assert layout == ()
    assert theta.shape == (0,)
    assert unflatten(theta, layout) == {}


@pytest.mark.parametrize("shape", [(12,), (14,), (13, 1)])
def test_unflatten_wrong_theta_shape_raises(shape, rng):
    _, layout = flatten(params(rng))
    with pytest.raises(ValueError, match=r"unflatten: theta must have shape \(13,\)"):
        unflatten(np.zeros(shape), layout)
