"""Tests for ``deeprecipe.diagnostics.learning_curve``: fresh models on growing, nested,
stratified subsets; train and dev error per size; would more data help?"""

from __future__ import annotations

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe.diagnostics import LearningCurve, learning_curve
from deeprecipe.diagnostics.curves import nested_order


def blobs(rng: np.random.Generator, m: int = 400) -> dr.data.split.Splits:
    """Three noisy Gaussian classes in 8-D, split 60/20/20."""
    y = rng.integers(0, 3, m)
    centres = rng.standard_normal((3, 8)) * 1.5
    X = centres[y] + rng.standard_normal((m, 8))
    return dr.data.split(X, y, seed=0)


def wide() -> dr.Sequential:
    return dr.Sequential([dr.Dense(64, "relu"), dr.Dense(3, "softmax")], input_dim=8)


def test_learning_curve_trains_fresh_models_on_growing_subsets(rng) -> None:
    splits = blobs(rng)
    built: list[dr.Sequential] = []

    def build() -> dr.Sequential:
        built.append(wide())
        return built[-1]

    curve = learning_curve(build, splits, sizes=(0.1, 0.5, 1.0), epochs=15, seed=0,
                           learning_rate=0.01)
    n = len(splits.train)
    assert isinstance(curve, LearningCurve)
    assert curve.sizes == [round(0.1 * n), round(0.5 * n), n]
    assert len(built) == 3 and len({id(model) for model in built}) == 3
    assert curve.epochs_run == [15, 15, 15]
    assert curve.n_dev == len(splits.dev)
    # each model's errors, measured afterwards in inference mode
    assert curve.dev_error[-1] == built[-1].evaluate(*splits.dev)["error"]
    assert curve.train_error[-1] == built[-1].evaluate(*splits.train)["error"]
    assert all(0 <= e <= 1 for e in curve.train_error + curve.dev_error)
    assert curve.gaps == pytest.approx([d - t for t, d in zip(curve.train_error,
                                                              curve.dev_error, strict=True)])
    # a wide network on few examples: the dev error falls as the data grows
    assert curve.dev_error[-1] < curve.dev_error[0]


def test_the_training_subsets_are_read_in_place(rng, monkeypatch: pytest.MonkeyPatch) -> None:
    splits = blobs(rng)
    gather = dr.data.Part.X

    def X(part: dr.data.Part) -> np.ndarray:
        assert part is not splits.train, "the training part was gathered whole"
        return gather.fget(part)

    monkeypatch.setattr(dr.data.Part, "X", property(X))
    curve = learning_curve(wide, splits, sizes=(0.5, 1.0), epochs=2, seed=0)
    assert curve.sizes == [120, 240]


def test_the_reading_says_whether_more_data_helps() -> None:
    variance = LearningCurve([50, 100, 200], [0.0, 0.0, 0.01], [0.3, 0.2, 0.12], [5, 5, 5], 100)
    assert variance.more_data_helps() is True
    assert variance.finding().code == "curve_more_data"
    assert "more data should help" in variance.reading()  # the reading is its text
    bias = LearningCurve([50, 100, 200], [0.3, 0.32, 0.33], [0.36, 0.34, 0.34], [5] * 3, 100)
    assert bias.more_data_helps() is False
    assert bias.finding().code == "curve_met"
    stalled = LearningCurve([50, 100], [0.0, 0.0], [0.2, 0.21], [5, 5], 100)
    assert stalled.more_data_helps() is False
    assert stalled.finding().code == "curve_flat"
    single = LearningCurve([50], [0.0], [0.2], [5], 100)
    assert single.more_data_helps() is None
    assert single.finding().code == "curve_single_size"


def test_the_curve_feeds_the_diagnosis() -> None:
    curve = LearningCurve([50, 100, 200], [0.0, 0.0, 0.01], [0.3, 0.2, 0.12], [5, 5, 5], 400)
    diagnosis = curve.diagnose()
    assert diagnosis.verdict == "high variance"
    assert diagnosis.train_error == 0.01 and diagnosis.dev_error == 0.12
    assert diagnosis.dev_interval is not None
    remark = diagnosis.finding("learning_curve")
    assert remark is not None and remark.values["reading"] == "curve_more_data"
    assert str(remark) == "learning curve: " + curve.reading()
    assert "| 200 | 1.00% | 12.00% | 11.00% |" in curve.table()


def test_subsets_are_nested_and_stratified(rng) -> None:
    y = np.repeat([0, 1, 2], [60, 30, 10])
    order = nested_order(y, rng)
    assert sorted(order) == list(range(100))
    prefix = y[order[:10]]
    assert np.bincount(prefix, minlength=3).tolist() == [6, 3, 1]  # in proportion
    targets = rng.standard_normal(20)  # regression: a plain permutation
    assert sorted(nested_order(targets, rng)) == list(range(20))


@pytest.mark.parametrize("sizes", [(), (0.0,), (1.5,), (0,), (10_000,), ("half",), (True,)])
def test_bad_sizes_are_refused(rng, sizes: tuple[object, ...]) -> None:
    with pytest.raises(ValueError, match="learning_curve: sizes must be fractions"):
        learning_curve(wide, blobs(rng), sizes=sizes)  # type: ignore[arg-type]


def test_build_model_must_build_a_sequential(rng) -> None:
    with pytest.raises(TypeError, match="build_model must be a callable"):
        learning_curve(wide(), blobs(rng))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="build_model\\(\\) must return a Sequential"):
        learning_curve(lambda: "model", blobs(rng), sizes=(1.0,))  # type: ignore[arg-type, return-value]


def test_bad_splits_and_seed_are_named() -> None:
    X, y = np.random.default_rng(0).normal(size=(40, 2)), np.arange(40) % 2

    def build() -> dr.Sequential:
        return dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2)

    with pytest.raises(TypeError, match=r"learning_curve: splits must be the result of "
                       r"dr.data.split"):  # it was an AttributeError on .train
        learning_curve(build, (X, y))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"learning_curve: seed must be an integer >= 0"):
        learning_curve(build, dr.data.split(X, y), seed=-1)
