"""Tests for ``deeprecipe.datasets``: real sets shipped with scikit-learn and generated 2-D
sets, each describing its task and shape; nothing is downloaded."""

from __future__ import annotations

import socket

import numpy as np
import pytest

import deeprecipe as dr

REAL = ("digits", "breast_cancer", "iris", "wine")
GENERATED = ("circles", "moons", "blobs", "flower", "spirals")
REGRESSION = ("diabetes",)


def test_list_names_every_dataset() -> None:
    assert set(dr.datasets.list()) == {*REAL, *GENERATED, *REGRESSION}


@pytest.mark.parametrize("name", REAL + GENERATED)
def test_load_gives_float_rows_and_integer_labels_matching_info(name: str) -> None:
    X, y = dr.datasets.load(name)
    info = dr.datasets.info(name)
    assert X.dtype == np.float64 and X.ndim == 2 and np.isfinite(X).all()
    assert y.dtype == np.intp and y.shape == (len(X),)
    assert (info.n_samples, info.n_features) == X.shape
    assert info.n_classes == len(np.unique(y)) and set(np.unique(y)) == set(range(info.n_classes))
    assert info.task == ("binary" if info.n_classes == 2 else "multiclass")
    assert info.description


def test_diabetes_is_a_regression_with_float_targets() -> None:
    X, y = dr.datasets.load("diabetes")
    info = dr.datasets.info("diabetes")
    assert X.shape == (442, 10) and X.dtype == np.float64
    assert y.dtype == np.float64 and y.shape == (442,) and np.ptp(y) > 100  # values, not codes
    assert (info.task, info.n_classes, info.image_shape) == ("regression", 0, None)
    assert info.description


def test_digits_says_it_is_an_image_set() -> None:
    info = dr.datasets.info("digits")
    assert info.image_shape == (8, 8) and np.prod(info.image_shape) == info.n_features
    assert info.task == "multiclass" and info.n_classes == 10
    assert all(dr.datasets.info(name).image_shape is None
               for name in REAL[1:] + GENERATED + REGRESSION)


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("n_samples", [2, 7, 101, 600])
def test_generated_sets_have_exactly_n_samples(name: str, n_samples: int) -> None:
    X, y = dr.datasets.load(name, n_samples=n_samples)
    assert X.shape == (n_samples, 2) and len(y) == n_samples


@pytest.mark.parametrize("name", GENERATED)
def test_generated_sets_are_reproducible_from_the_seed(name: str) -> None:
    X1, y1 = dr.datasets.load(name, seed=3)
    X2, y2 = dr.datasets.load(name, seed=3)
    X3, _ = dr.datasets.load(name, seed=4)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", GENERATED)
def test_noise_spreads_the_points(name: str) -> None:
    quiet, _ = dr.datasets.load(name, noise=0.0, seed=0)
    noisy, _ = dr.datasets.load(name, noise=0.5, seed=0)
    assert not np.allclose(quiet, noisy)


def test_the_real_sets_ignore_generation_options() -> None:
    X, _ = dr.datasets.load("iris", n_samples=10, noise=3.0, seed=9)
    assert X.shape == (150, 4)


def test_nothing_is_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("datasets.load tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in REAL + GENERATED + REGRESSION:
        dr.datasets.load(name)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match=r"datasets.load: name must be one of 'digits'"):
        dr.datasets.load("mnist")
    with pytest.raises(ValueError, match=r"datasets.load: n_samples must be >= 2"):
        dr.datasets.load("moons", n_samples=1)
    with pytest.raises(ValueError, match=r"datasets.load: n_samples must be a positive integer"):
        dr.datasets.load("moons", n_samples=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"datasets.load: noise must be a finite number >= 0"):
        dr.datasets.load("moons", noise=-0.1)
