"""Big data is held once (issue 15): the split, standardization, training and measuring
read the one feature matrix through index arrays and never make a second copy of it."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import deeprecipe as dr
from deeprecipe import pipeline

# Extra memory a step may take, as a fraction of X's size: a second copy of X would add at
# least 1.0; index arrays over the rows cost 8 bytes a row (0.1 × X each at 20 float32
# features), and the split and the label coding hold a few of them at once.
CEILING = 0.8


def data(m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(m, 20)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.normal(size=m) > 0).astype(np.intp)
    return X, y


def steps(X: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], Any]]:
    """The run's data steps, in order, each a call whose memory is measured."""
    state: dict[str, Any] = {}
    model = pipeline.build_model(X.shape[1], "binary", 1, (32,))

    def split() -> None:
        state["splits"] = dr.data.split(X, y, seed=0)

    def prepare() -> None:
        state["prepared"] = pipeline.prepare(state["splits"], "classification", in_place=True)

    def train() -> None:
        state["history"] = pipeline.train(model, state["prepared"].learned.parts, epochs=1,
                                          batch_size=256, optimizer="adam")

    def measure() -> None:
        pipeline.measure(model, state["prepared"].splits.parts, state["history"])

    return {"split": split, "prepare": prepare, "train": train, "measure": measure}


def test_the_data_steps_make_no_second_copy_of_X() -> None:
    for call in steps(*data(2_000)).values():  # first calls import modules: not measured
        call()
    X, y = data(300_000)
    original = X.copy()
    tracemalloc.start()
    try:
        for name, call in steps(X, y).items():
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            call()
            extra = (tracemalloc.get_traced_memory()[1] - before) / X.nbytes
            assert extra < CEILING, f"{name} allocated {extra:.2f} × X"
    finally:
        tracemalloc.stop()
    # prepare(in_place=True) standardized X where it is: the same matrix, not a copy
    assert not np.array_equal(X, original)
    train = dr.data.split(original, y, seed=0).train
    scaler = dr.data.Standardizer().fit(original, rows=train.indices)
    np.testing.assert_allclose(X, scaler.transform(original), rtol=1e-6, atol=1e-6)


def test_prepare_leaves_the_callers_data_alone_by_default() -> None:
    X, y = data(1_000)
    original = X.copy()
    prepared = pipeline.prepare(dr.data.split(X, y, seed=0))
    assert np.array_equal(X, original)
    assert prepared.splits.train.source_X is not X


def test_fit_on_rows_trains_as_on_the_gathered_rows() -> None:
    X, y = data(3_000)
    rows = np.random.default_rng(1).permutation(len(X))[:2_000]
    weights = []
    for arrays, picks in (((X[rows], y[rows]), None), ((X, y), rows)):
        model = pipeline.build_model(20, "binary", 1, (8,), seed=0)
        history = model.fit(*arrays, rows=picks, epochs=2, batch_size=64, seed=0)
        weights.append((model.theta.copy(), history["train_cost"]))
    assert np.array_equal(weights[0][0], weights[1][0])
    assert weights[0][1] == weights[1][1]


def test_evaluate_on_rows_measures_only_those_rows() -> None:
    X, y = data(5_000)
    model = pipeline.build_model(20, "binary", 1, (8,), seed=0)
    rows = np.arange(0, 5_000, 3)
    assert model.evaluate(X, y, rows=rows) == model.evaluate(X[rows], y[rows])
    for bad in (np.array([5_000]), np.array([[1, 2]]), np.array([0.5]), np.array([], int)):
        try:
            model.evaluate(X, y, rows=bad)
        except ValueError as error:
            assert "evaluate: rows must be a non-empty 1-D array of row indices in " \
                   "[0, 5000)" in str(error)
        else:
            raise AssertionError(f"rows={bad!r} was accepted")


def test_chunked_statistics_match_the_whole_arrays() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(3.0, 2.0, size=(50_000, 4))
    rows = rng.permutation(50_000)[:40_000]
    chunked = dr.data.Standardizer().fit(X, rows=rows)
    whole = dr.data.Standardizer().fit(X[rows])
    np.testing.assert_allclose(chunked.mean_, whole.mean_, rtol=1e-12)
    np.testing.assert_allclose(chunked.std_, whole.std_, rtol=1e-12)
    out = np.empty_like(X)
    assert whole.transform(X, out=out) is out
    np.testing.assert_array_equal(out, whole.transform(X))
