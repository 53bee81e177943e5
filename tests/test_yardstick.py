"""The yardstick (issue 16): reference models fitted on the training part and measured on
dev, and the diagnosis that reads avoidable bias against the best of them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import threadpool_limits

import deeprecipe as dr
from deeprecipe.diagnostics import yardstick as ys
from deeprecipe.diagnostics.yardstick import Reference, Yardstick, fit_references


def standardized(train: dr.data.Part, dev: dr.data.Part) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = train.X.mean(axis=0), train.X.std(axis=0)
    scale[scale == 0] = 1.0
    return (train.X - mean) / scale, (dev.X - mean) / scale


def parameters(model: str) -> dict[str, float]:
    """``{"max_iter": 10.0, "learning_rate": 0.5, …}`` from ``Reference.model``."""
    return {key: float(value) for key, value in re.findall(r"(\w+)=([\d.e+-]+)", model)}


def boosting(kind: type, reference: Reference) -> Any:
    """scikit-learn's ``kind`` with the settings ``reference.model`` names (small data: no
    early stopping, the same seed)."""
    hgb = parameters(reference.model)
    return kind(max_iter=int(hgb["max_iter"]), learning_rate=hgb["learning_rate"],
                max_leaf_nodes=int(hgb["max_leaf_nodes"]), max_bins=int(hgb["max_bins"]),
                early_stopping=False, random_state=0)


def error(model: object, X: np.ndarray, y: np.ndarray, regression: bool) -> float:
    predicted = model.predict(X)  # type: ignore[attr-defined]
    return float(np.mean((predicted - y) ** 2) if regression else np.mean(predicted != y))


def splits(name: str) -> dr.data.Splits:
    X, y = dr.datasets.load(name)
    return dr.data.split(X, y, stratify=name != "diabetes", seed=0)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """scikit-learn fitted directly here, on one thread as the references' small fits are
    (threads fighting over two busy cores cost seconds)."""
    with threadpool_limits(limits=1):
        yield


def test_the_references_errors_are_scikit_learns_on_a_regression() -> None:
    s = splits("diabetes")
    yardstick = fit_references(s.train, s.dev, task="regression")
    X, X_dev = standardized(s.train, s.dev)
    refs = {ref.kind: ref for ref in yardstick.references}
    assert list(refs) == ["constant", "linear", "boosting"]
    alpha = parameters(refs["linear"].model)["alpha"]
    direct = {
        "constant": DummyRegressor().fit(X, s.train.y),
        "linear": Ridge(alpha=alpha).fit(X, s.train.y),
        "boosting": boosting(HistGradientBoostingRegressor, refs["boosting"]).fit(X, s.train.y),
    }
    for kind, model in direct.items():
        assert refs[kind].dev_error == pytest.approx(error(model, X_dev, s.dev.y, True)), kind
        assert refs[kind].train_error == pytest.approx(error(model, X, s.train.y, True)), kind
    # the figures: ridge reaches 2,772 on dev, boosting 3,456; ridge is the best
    assert yardstick.best.kind == "linear" and yardstick.error == pytest.approx(2772, abs=1)
    assert (yardstick.n_train, yardstick.n_train_total, yardstick.n_dev) == (266, 266, 88)
    assert yardstick.regression and not yardstick.sampled


def test_the_references_errors_are_scikit_learns_on_a_classification() -> None:
    s = splits("breast_cancer")
    yardstick = fit_references(s.train, s.dev, task="binary")  # binary: a classification
    X, X_dev = standardized(s.train, s.dev)
    refs = {ref.kind: ref for ref in yardstick.references}
    direct = {
        "constant": DummyClassifier(strategy="most_frequent").fit(X, s.train.y),
        "linear": LogisticRegression(C=parameters(refs["linear"].model)["C"],
                                     max_iter=ys.MAX_ITER).fit(X, s.train.y),
        "boosting": boosting(HistGradientBoostingClassifier, refs["boosting"]).fit(
            X, s.train.y),
    }
    for kind, model in direct.items():
        assert refs[kind].dev_error == pytest.approx(error(model, X_dev, s.dev.y, False)), kind
        assert refs[kind].train_error == pytest.approx(error(model, X, s.train.y, False)), kind
    assert refs["constant"].dev_error == pytest.approx(1 - np.bincount(s.dev.y).max() / len(s.dev))
    assert yardstick.error == min(ref.dev_error for ref in yardstick.references)
    assert not yardstick.regression


def test_many_classes_cost_fewer_boosting_iterations_at_a_higher_rate() -> None:
    s = splits("digits")
    boosting = {ref.kind: ref for ref in fit_references(s.train, s.dev,
                                                        task="classification").references}
    found = parameters(boosting["boosting"].model)
    assert found["max_iter"] * 10 <= ys.TREES  # one tree per class and iteration
    assert found["learning_rate"] > 0.1


def test_the_same_data_and_seed_give_the_same_yardstick() -> None:
    s = splits("moons")
    first, second = (fit_references(s.train, s.dev, task="classification", seed=3)
                     for _ in range(2))
    assert [replace(ref, seconds=0) for ref in first.references] == \
        [replace(ref, seconds=0) for ref in second.references]
    pair = fit_references(tuple(s.train), tuple(s.dev), task="classification", seed=3)
    assert [ref.dev_error for ref in pair.references] == \
        [ref.dev_error for ref in first.references]  # a Part or its (X, y): the same


def test_above_max_rows_a_seeded_sample_is_fitted_and_said() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=600)
    train, dev = (X[:500], y[:500]), (X[500:], y[500:])
    sampled = fit_references(train, dev, task="regression", max_rows=200, seed=1)
    assert (sampled.n_train, sampled.n_train_total, sampled.n_dev) == (200, 500, 100)
    assert sampled.sampled and "fitted on 200 of 500 training rows" in sampled.headline()
    again = fit_references(train, dev, task="regression", max_rows=200, seed=1)
    other = fit_references(train, dev, task="regression", max_rows=200, seed=2)
    errors = [ref.train_error for ref in sampled.references]
    assert errors == [ref.train_error for ref in again.references]
    assert errors != [ref.train_error for ref in other.references]
    whole = fit_references(train, dev, task="regression")
    assert not whole.sampled and "fitted on 500 training rows" in whole.headline()


def test_wide_data_is_sampled_by_its_values(monkeypatch: pytest.MonkeyPatch) -> None:
    s = splits("digits")  # 64 features
    monkeypatch.setattr(ys, "MAX_CELLS", 64 * 500)
    yardstick = fit_references(s.train, s.dev, task="classification")
    assert (yardstick.n_train, yardstick.n_train_total) == (500, len(s.train))
    assert "fitted on 500 of 1,079 training rows" in yardstick.headline()
    assert yardstick.n_dev == len(s.dev)


def test_boosting_sees_fewer_rows_of_many_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    s = splits("digits")  # 64 features, 10 classes: 640 values per row and iteration
    monkeypatch.setattr(ys, "BOOSTING_CELLS", 640 * 1000)
    refs = {ref.kind: ref for ref in fit_references(s.train, s.dev,
                                                    task="classification").references}
    assert refs["boosting"].model.endswith(" on 1,000 of the rows")
    assert "rows" not in refs["linear"].model  # the others see the whole sample
    X, X_dev = standardized(s.train, s.dev)
    rows = np.sort(np.random.default_rng(0).choice(len(X), 1000, replace=False))
    hgb = parameters(refs["boosting"].model)
    direct = HistGradientBoostingClassifier(
        max_iter=int(hgb["max_iter"]), learning_rate=hgb["learning_rate"],
        max_leaf_nodes=int(hgb["max_leaf_nodes"]), max_bins=int(hgb["max_bins"]),
        early_stopping=False, random_state=0).fit(X[rows], s.train.y[rows])
    assert refs["boosting"].dev_error == pytest.approx(error(direct, X_dev, s.dev.y, False))
    assert refs["boosting"].train_error == pytest.approx(
        error(direct, X[rows], s.train.y[rows], False))  # on the rows it was fitted on


def test_every_dev_row_is_measured_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    s = splits("wine")
    whole = fit_references(s.train, s.dev, task="classification")
    monkeypatch.setattr(ys, "CHUNK", 7)  # the dev part in chunks of 7 rows
    monkeypatch.setattr(ys, "CHUNK_CELLS", 5 * 13)  # … or of 5 rows of 13 features
    chunked = fit_references(s.train, s.dev, task="classification")
    chunked_pair = fit_references(tuple(s.train), tuple(s.dev), task="classification")
    dev_errors = [ref.dev_error for ref in whole.references]
    assert dev_errors == pytest.approx([ref.dev_error for ref in chunked.references])
    assert dev_errors == pytest.approx([ref.dev_error for ref in chunked_pair.references])
    for part in (s.dev, tuple(s.dev)):  # 13 features: at most 5 rows at a time
        sizes = [len(X) for X, _ in ys._chunks("fit_references", part, False, 13)]
        assert max(sizes) <= 5 and sum(sizes) == len(s.dev)
    assert chunked.n_dev == len(s.dev)


def test_one_hot_targets_and_several_outputs() -> None:
    s = splits("iris")
    codes = fit_references(s.train, s.dev, task="classification")
    one_hot = fit_references((s.train.X, np.eye(3)[s.train.y]), (s.dev.X, np.eye(3)[s.dev.y]),
                             task="classification")
    assert [ref.dev_error for ref in one_hot.references] == \
        [ref.dev_error for ref in codes.references]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    Y = np.column_stack([X[:, 0], 2 * X[:, 1]]) + 0.1 * rng.normal(size=(80, 2))
    several = fit_references((X[:60], Y[:60]), (X[60:], Y[60:]), task="regression")
    assert [ref.kind for ref in several.references] == ["constant", "linear"]  # no boosting
    assert several.error < 0.1  # the MSE over both outputs


def test_a_training_part_of_one_class_has_only_the_constant_reference() -> None:
    X = np.arange(20.0).reshape(10, 2)
    yardstick = fit_references((X, np.zeros(10)), (X[:4], [0, 1, 0, 0]), task="classification")
    assert [ref.kind for ref in yardstick.references] == ["constant"]
    assert yardstick.error == 0.25


def test_bad_arguments_are_refused() -> None:
    pair = (np.ones((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="fit_references: task must be one of"):
        fit_references(pair, pair, task="ranking")
    with pytest.raises(TypeError, match="fit_references: dev must be a pair"):
        fit_references(pair, np.ones((4, 2)), task="classification")
    with pytest.raises(ValueError, match=r"fit_references: train\[1\] must be as many targets"):
        fit_references((np.ones((4, 2)), [0, 1]), pair, task="classification")
    with pytest.raises(ValueError, match="fit_references: max_rows must be an integer >= 2"):
        fit_references(pair, pair, task="classification", max_rows=1)


# --- the diagnosis against the yardstick ----------------------------------------------------


def yardstick(linear: float, boosting: float = 0.5, regression: bool = False) -> Yardstick:
    """A yardstick whose best reference is the linear one at ``linear`` (a planted case)."""
    refs = (Reference("constant", "DummyClassifier(most frequent class)", 0.5, 0.5, 0.0),
            Reference("linear", "LogisticRegression(C=1)", linear, linear, 0.0),
            Reference("boosting", "HistGradientBoostingClassifier()", 0.0, boosting, 0.0))
    return Yardstick(refs, 1000, 1000, 500, regression, 0.0)


def test_a_network_at_the_yardstick_is_not_told_to_grow() -> None:
    # train 20%, dev 21%: a zero Bayes error reads high bias; ridge/logistic reach 20% on dev
    zero = dr.diagnose(0.20, 0.21)
    assert zero.high_bias and zero.actions[0] == "bigger_network"
    diagnosis = dr.diagnose(0.20, 0.21, bayes_error=yardstick(0.20))
    assert not diagnosis.high_bias and diagnosis.verdict == dr.diagnostics.VERDICTS[3]  # good
    assert diagnosis.actions == ["stop", "better_features"]
    assert "bigger_network" not in diagnosis.actions
    assert (diagnosis.bias_source, diagnosis.bayes_error) == ("yardstick", 0.20)
    assert diagnosis.codes == ["bias_not_shown"]
    remark = diagnosis.finding("bias_not_shown")
    assert remark is not None and remark.values["model"] == "LogisticRegression(C=1)"
    assert "not shown to be avoidable" in str(remark)
    assert "LogisticRegression(C=1)" in diagnosis.summary()


def test_bias_above_the_yardstick_is_shown() -> None:
    diagnosis = dr.diagnose(0.20, 0.21, bayes_error=yardstick(0.10))
    assert diagnosis.high_bias and diagnosis.actions[0] == "bigger_network"
    assert diagnosis.avoidable_bias == pytest.approx(0.10)
    assert "bias_not_shown" not in diagnosis.codes and "reference_better" not in diagnosis.codes


def test_a_clearly_better_reference_advises_a_simpler_model_first() -> None:
    diagnosis = dr.diagnose(0.06, 0.15, bayes_error=yardstick(0.05))
    assert diagnosis.high_variance and not diagnosis.high_bias
    assert diagnosis.actions[0] == "simpler_model"
    assert diagnosis.advice[0].values["model"] == "LogisticRegression(C=1)"
    assert "LogisticRegression(C=1) reaches dev error 5.00%" in str(diagnosis.advice[0])
    assert diagnosis.actions[1:] == ["more_data", "augment", "regularize_l2", "dropout",
                                     "other_architecture", "better_features"]
    remark = diagnosis.finding("reference_better")
    assert remark is not None and "not a bias one" in str(remark)
    # low variance but still clearly worse than the reference: no "stop"
    close = dr.diagnose(0.085, 0.095, bayes_error=yardstick(0.07))
    assert close.verdict == "low bias and low variance"
    assert close.actions == ["simpler_model", "better_features"]


def test_a_given_bayes_error_always_wins() -> None:
    given = dr.diagnose(0.20, 0.21, bayes_error=0.0)
    assert (given.bias_source, given.bayes_error, given.high_bias) == ("given", 0.0, True)
    assert dr.diagnose(0.20, 0.21, bayes_error="19%").bias_source == "given"
    assert "bayes_too_high" in dr.diagnose(0.05, 0.06, bayes_error=0.10).codes
    # a train error below the yardstick is no reason to doubt it
    assert "bayes_too_high" not in dr.diagnose(0.05, 0.06, bayes_error=yardstick(0.10)).codes


def test_model_diagnose_with_a_given_bayes_error_fits_no_references(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("fit_references called")

    monkeypatch.setattr("deeprecipe.model.fit_references", refuse)
    s = splits("moons")
    model = dr.Sequential([dr.Dense(2, "softmax")], input_dim=2)
    for bayes in (0.0, 0.05, "1%"):
        assert model.diagnose(s.train, s.dev, bayes_error=bayes).bias_source == "given"


def test_numbers_only_diagnose_keeps_a_zero_bayes_error() -> None:
    default, zero = dr.diagnose(0.05, 0.06), dr.diagnose(0.05, 0.06, bayes_error=0.0)
    assert (default.bayes_error, default.bias_source, default.yardstick) == (0.0, "zero", None)
    assert (default.verdict, default.actions, default.codes) == \
        (zero.verdict, zero.actions, zero.codes)
    assert dr.diagnose(0.05, 0.06, bayes_error=" Auto ").bias_source == "zero"


def test_a_yardstick_of_the_other_task_is_refused() -> None:
    with pytest.raises(ValueError, match="diagnose: bayes_error must be a Yardstick of a "
                                         "regression's"):
        dr.diagnose(2.0, 3.0, bayes_error=yardstick(0.1), regression=True)
    with pytest.raises(ValueError, match=r"diagnose: bayes_error must be a fraction .*'auto' or "
                                         r"a Yardstick \(fit_references\); received"):
        dr.diagnose(0.1, 0.2, bayes_error="automatic")


def test_the_diagnosis_says_its_yardstick_as_data() -> None:
    data = json.loads(json.dumps(dr.diagnose(0.2, 0.21, bayes_error=yardstick(0.2)).to_dict()))
    assert data["bias_source"] == "yardstick"
    assert data["yardstick"]["best"] == "linear" and data["yardstick"]["error"] == 0.2
    assert [ref["kind"] for ref in data["yardstick"]["references"]] == \
        ["constant", "linear", "boosting"]


def test_model_diagnose_fits_the_references_on_noisy_data() -> None:
    # labels flipped at 20%: a network at the noise level has high bias only if Bayes is 0
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 2))
    y = ((X[:, 0] + X[:, 1] > 0) ^ (rng.random(1500) < 0.2)).astype(np.intp)
    s = dr.data.split(X, y, seed=0)
    model = dr.Sequential([dr.Dense(8, "relu"), dr.Dense(1, "sigmoid")], input_dim=2, seed=0)
    model.fit(*s.train, epochs=200, optimizer="adam", seed=0)
    zero = model.diagnose(s.train, s.dev, bayes_error=0.0)
    assert zero.high_bias and zero.actions[0] == "bigger_network"
    diagnosis = model.diagnose(s.train, s.dev)  # "auto": the references on these parts
    assert diagnosis.bias_source == "yardstick" and diagnosis.yardstick is not None
    assert diagnosis.yardstick.n_train == len(s.train)
    assert 0.15 < diagnosis.bayes_error < 0.25  # about the 20% flipped
    assert not diagnosis.high_bias and "bigger_network" not in diagnosis.actions
    assert diagnosis.actions == ["stop", "better_features"] and "bias_not_shown" in diagnosis.codes


def test_a_regressor_s_references_are_in_the_targets_units() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = 100 * X[:, 0] + 10 * rng.normal(size=300)  # noise variance 100
    model = dr.Sequential([dr.Dense(1, "linear")], input_dim=3)
    model.fit(X[:200], y[:200], epochs=1)
    diagnosis = model.diagnose((X[:200], y[:200]), (X[200:], y[200:]), variance_threshold=1e9)
    assert diagnosis.yardstick is not None and diagnosis.yardstick.regression
    assert 50 < diagnosis.bayes_error < 200  # near the noise's 100, in the target's units
