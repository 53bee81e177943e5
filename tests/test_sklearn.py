"""Tests for ``deeprecipe.sklearn``: scikit-learn's own estimator checks, the tools people use
(Pipeline, GridSearchCV, cross_val_score, clone, pickle, DataFrames) and what the wrappers add
(the output layer, early stopping with the notes' dev size, ``diagnosis_``, ``partial_fit``).

Every estimator check runs; none is skipped or marked as an expected failure. One check,
``check_array_api_input``, skips itself unless ``SCIPY_ARRAY_API=1`` is set before SciPy is
first imported, a process-wide switch this suite does not flip for every other test:
``test_array_api_check_runs_with_scipy_array_api`` runs it in a fresh interpreter with the
variable set.
"""

from __future__ import annotations

import doctest
import os
import pickle
import subprocess
import sys
from unittest import SkipTest

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, softmax
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import deeprecipe as dr
from deeprecipe.sklearn import DeepClassifier, DeepRegressor, _NoImprovement

# Small, fast settings for the estimator checks: 30 epochs of a 16-unit layer.
FAST = {"hidden_layer_sizes": (16,), "max_epochs": 30, "learning_rate": 0.01,
        "batch_size": 32, "random_state": 0}


# Also with early stopping (a held-out dev set), dropout, L2 and float64.
VARIANT = {**FAST, "early_stopping": True, "n_iter_no_change": 5, "keep_prob": 0.9, "l2": 0.1,
           "dtype": "float64"}


@parametrize_with_checks([DeepClassifier(**FAST), DeepRegressor(**FAST),
                          DeepClassifier(**VARIANT), DeepRegressor(**VARIANT)])
def test_scikit_learn_estimator_checks(estimator, check) -> None:
    try:
        check(estimator)
    except SkipTest as skip:
        # Only the array-API check may skip (see the module docstring); fail on any other.
        if "SCIPY_ARRAY_API" not in str(skip):
            raise
        pytest.skip(f"{skip} (run by test_array_api_check_runs_with_scipy_array_api)")


ARRAY_API_SCRIPT = """
from sklearn.utils.estimator_checks import check_array_api_input
from deeprecipe.sklearn import DeepClassifier, DeepRegressor
for params in (FAST, VARIANT):
    for estimator in (DeepClassifier(**params), DeepRegressor(**params)):
        check_array_api_input(type(estimator).__name__, estimator, array_namespace="numpy",
                              expect_only_array_outputs=False)
print("ok")
"""


def test_array_api_check_runs_with_scipy_array_api() -> None:
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    script = f"FAST = {FAST!r}\nVARIANT = {VARIANT!r}\n{ARRAY_API_SCRIPT}"
    done = subprocess.run([sys.executable, "-W", "error", "-c", script], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# --- data -------------------------------------------------------------------------------


def digits(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` digits (raw pixels 0–16, unscaled: the pipelines scale them)."""
    X, y = load_digits(return_X_y=True)
    return X[:n], y[:n]


def cancer() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def small(**kwargs: object) -> dict[str, object]:
    return {**FAST, **kwargs}


# --- scikit-learn's tools ---------------------------------------------------------------


def test_grid_search_over_l2_and_keep_prob_in_a_pipeline() -> None:
    X, y = digits(400)
    pipe = Pipeline([("scale", StandardScaler()), ("net", DeepClassifier(**small()))])
    grid = {"net__l2": [0.0, 1.0], "net__keep_prob": [1.0, 0.8]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert set(search.best_params_) == {"net__l2", "net__keep_prob"}
    assert len(search.cv_results_["mean_test_score"]) == 4
    assert np.all(search.cv_results_["mean_test_score"] > 0.8)
    assert search.best_estimator_["net"].model_.l2 == search.best_params_["net__l2"]
    assert search.score(X, y) > 0.9


def test_cross_val_score_in_a_pipeline() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("net", DeepClassifier(**small()))])
    scores = cross_val_score(pipe, X, y, cv=5)
    assert scores.shape == (5,)
    assert scores.mean() > 0.93


def test_clone_round_trips_the_hyperparameters_and_drops_fitted_state() -> None:
    clf = DeepClassifier(hidden_layer_sizes=(8, 4), keep_prob=(0.9, 0.8), l2=0.5,
                         early_stopping=True, validation_fraction=0.25, random_state=3)
    clf.fit(*digits(200))
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "model_")
    copy.set_params(l2=2.0)
    assert clf.l2 == 0.5


@pytest.mark.parametrize("estimator", [DeepClassifier, DeepRegressor])
def test_pickle_round_trips_and_keeps_training(estimator) -> None:
    X, y = digits(300)
    X = X / 16
    model = estimator(**small(keep_prob=0.9)).fit(X, y.astype(float) if estimator is
                                                  DeepRegressor else y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.get_params() == model.get_params()
    # The layers' parameters are views of theta again, so training moves them.
    net = restored.model_
    assert all(np.shares_memory(net.theta, params["W"]) for params in net.params if params)
    before = net.params[0]["W"].copy()
    restored.partial_fit(X, y.astype(float) if estimator is DeepRegressor else y)
    assert not np.array_equal(before, net.params[0]["W"])


def test_dataframe_input_sets_feature_names_in() -> None:
    X, y = digits(300)
    columns = [f"pixel_{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X / 16, columns=columns).astype("float32")
    clf = DeepClassifier(**small()).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, columns)
    assert clf.n_features_in_ == 64
    float64_frame = pd.DataFrame(X / 16, columns=columns)
    np.testing.assert_array_equal(clf.predict(frame), clf.predict(float64_frame))
    assert clf.score(frame, y) > 0.9
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"pixel_0": "other"}))


def test_pandas_nullable_dtypes_train_like_plain_floats() -> None:
    X, y = cancer()
    frame, labels = pd.DataFrame(X).astype("Float64"), pd.Series(y).astype("Int64")
    model = dr.Sequential([dr.Dense(8, "relu"), dr.Dense(1, "sigmoid")], input_dim=X.shape[1])
    twin = dr.Sequential.from_config(model.get_config())
    model.fit(frame, labels, epochs=2)
    twin.fit(X, y, epochs=2)
    np.testing.assert_array_equal(model.theta, twin.theta)
    frame.iloc[3, 2] = pd.NA  # a missing value is named as non-finite, not as "not numeric"
    with pytest.raises(ValueError, match=r"X must be finite .* index \(3, 2\)"):
        model.fit(frame, labels, epochs=1)


def test_numpy_input_sets_no_feature_names() -> None:
    clf = DeepClassifier(**small()).fit(*digits(100))
    assert not hasattr(clf, "feature_names_in_")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
def test_any_numeric_input_dtype(dtype) -> None:
    X, y = cancer()
    clf = DeepClassifier(**small()).fit(X.astype(dtype), y)
    reference = DeepClassifier(**small()).fit(X, y)
    assert clf.predict_proba(X.astype(dtype)).dtype == np.float64
    if dtype != np.int64:
        assert np.mean(clf.predict(X) == reference.predict(X)) > 0.95


# --- the network ------------------------------------------------------------------------


def test_the_engine_is_the_sequential_with_the_requested_layers() -> None:
    clf = DeepClassifier(**small(hidden_layer_sizes=(8, 6), keep_prob=(0.5, 1.0),
                                 activation="tanh", init="xavier", l2=0.3, l1=0.1))
    clf.fit(*digits(200))
    net = clf.model_
    assert isinstance(net, dr.Sequential)
    kinds = [(name, layer.get_config()) for name, layer in zip(net.names, net.layers,
                                                              strict=True)]
    assert [name for name, _ in kinds] == ["dense_1", "dropout_1", "dense_2", "dense_3"]
    assert net.layers[0].activation == "tanh" and net.layers[0].init == "xavier"
    assert net.layers[1].keep_prob == 0.5
    assert net.layers[-1].units == 10 and net.layers[-1].activation == "softmax"
    assert (net.l2, net.l1, net.dtype) == (0.3, 0.1, np.float32)
    # predict is the engine's prediction, mapped through classes_
    np.testing.assert_array_equal(clf.predict(digits(200)[0]),
                                  clf.classes_[net.predict(digits(200)[0])])


def test_binary_uses_one_sigmoid_unit_and_decision_function_is_its_logit() -> None:
    X, y = cancer()
    labels = np.where(y == 1, "benign", "malignant")
    clf = DeepClassifier(**small()).fit(X, labels)
    assert list(clf.classes_) == ["benign", "malignant"]
    assert clf.model_.layers[-1].units == 1 and clf.model_.loss.name.startswith("binary")
    z = clf.decision_function(X)
    assert z.shape == (len(X),)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], expit(z))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(z > 0).astype(int)])
    assert clf.score(X, labels) > 0.95


def test_multiclass_decision_function_is_the_logits() -> None:
    X, y = digits(300)
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])
    clf = DeepClassifier(**small()).fit(X / 16, names[y])
    z = clf.decision_function(X / 16)
    assert z.shape == (300, 10)
    np.testing.assert_allclose(clf.predict_proba(X / 16), softmax(z, axis=1), atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X / 16), clf.classes_[z.argmax(axis=1)])
    assert list(clf.classes_) == sorted(names)


def test_a_row_is_predicted_the_same_alone_or_in_a_batch() -> None:
    X, y = cancer()
    clf = DeepClassifier(**small()).fit(X, y)
    whole = clf.decision_function(X)
    alone = np.array([clf.decision_function(X[i : i + 1])[0] for i in range(0, len(X), 50)])
    np.testing.assert_allclose(alone, whole[::50], rtol=1e-12)


@pytest.mark.parametrize("targets", [1, 3])
def test_regressor_fits_one_or_several_targets(targets: int) -> None:
    X, y = make_regression(300, 5, n_targets=targets, noise=1.0, random_state=0)
    y = y / y.std()
    reg = DeepRegressor(**small(max_epochs=60)).fit(X, y)
    assert reg.predict(X).shape == y.shape
    assert reg.n_outputs_ == targets
    assert reg.model_.layers[-1].activation == "linear"
    assert reg.model_.loss.name == "mse" or "squared" in reg.model_.loss.name
    assert reg.score(X, y) > 0.9


def test_one_class_is_refused_with_the_error_template() -> None:
    with pytest.raises(ValueError, match=r"DeepClassifier.fit: y must be labels of at least 2 "
                                         r"classes; received y="):
        DeepClassifier(**small()).fit(np.zeros((10, 2)), np.ones(10))


@pytest.mark.parametrize(("params", "message"), [
    ({"keep_prob": (0.5, 0.5)}, r"keep_prob must be a number or one number per hidden layer"),
    ({"hidden_layer_sizes": "64"}, r"hidden_layer_sizes must be a sequence"),
    ({"validation_fraction": 1.5}, r"validation_fraction must be None"),
    ({"max_epochs": 0}, r"max_epochs must be a positive integer"),
    ({"l2": -1.0}, r"l2 must be a finite number >= 0"),
    ({"n_iter_no_change": 0}, r"n_iter_no_change must be a positive integer"),
    ({"n_iter_no_change": 2.5}, r"n_iter_no_change must be a positive integer"),
    ({"n_iter_no_change": True}, r"n_iter_no_change must be a positive integer"),
    ({"tol": -1e-4}, r"tol must be a finite number >= 0"),
    ({"tol": float("nan")}, r"tol must be a finite number >= 0"),
    ({"tol": "1e-4"}, r"tol must be a finite number >= 0"),
    ({"dtype": "float16"}, r"dtype must be 'float32' or 'float64'"),
    ({"optimizer": "lbfgs"}, r"optimizer must be one of 'sgd', 'momentum', 'adam'"),
    # the constraints of deeprecipe run's options (deeprecipe.runconfig.OPTIONS)
    ({"activation": "swish"}, r"DeepClassifier.fit: activation must be one of 'linear', 'relu'"),
    ({"init": "orthogonal"}, r"DeepClassifier.fit: init must be one of 'zeros'"),
    ({"keep_prob": 1.5}, r"keep_prob must be probabilities in \(0, 1\]"),
    ({"l1": float("inf")}, r"l1 must be a finite number >= 0"),
])
def test_bad_hyperparameters_fail_at_fit_with_the_error_template(params, message) -> None:
    clf = DeepClassifier(**small(**params))  # __init__ never validates
    with pytest.raises(ValueError, match=message):
        clf.fit(*digits(100))
    assert not hasattr(clf, "model_") and not hasattr(clf, "classes_")
    if set(params) & {"activation", "init", "keep_prob", "l1"}:  # partial_fit checks them too
        with pytest.raises(ValueError, match=message.replace(".fit", ".partial_fit")):
            clf.partial_fit(*digits(100), classes=np.arange(10))


# --- when training stops: scikit-learn's rule -------------------------------------------


def sklearn_epochs(values: list[float], tol: float, n_iter_no_change: int,
                   validation: bool = False) -> int:
    """The epochs scikit-learn's MLP trains on these per-epoch values (training losses, or
    validation scores with ``validation``), by its own ``_update_no_improvement_count``."""
    mlp = MLPClassifier(tol=tol, n_iter_no_change=n_iter_no_change)
    scores = iter(values)
    mlp._score = lambda X, y, sample_weight=None: next(scores)
    mlp.loss_curve_, mlp.validation_scores_ = [], []
    mlp.best_loss_, mlp.best_validation_score_ = np.inf, -np.inf
    mlp._no_improvement_count, mlp.coefs_, mlp.intercepts_ = 0, [], []
    for epoch, value in enumerate(values, start=1):
        mlp.loss_curve_.append(value)
        mlp._update_no_improvement_count(validation, None, None, None)
        if mlp._no_improvement_count > n_iter_no_change:
            return epoch
    return len(values)


def our_epochs(values: list[float], tol: float, n_iter_no_change: int,
               validation: bool = False) -> tuple[int, _NoImprovement]:
    """The epochs the estimators' rule trains on these values (training costs, or dev
    errors with ``validation``), and the rule after it."""
    rule = _NoImprovement(tol, n_iter_no_change, validation=validation)
    monitor = "dev_error" if validation else "train_cost"
    for epoch, value in enumerate(values):
        if rule.on_epoch_end(epoch, {monitor: value}):
            return epoch + 1, rule
    return len(values), rule


# Scripted costs, tol = 0.25 (binary fractions: no rounding at the boundaries).
SCRIPTS = [
    # n=2. Counts: 8 (first: 0), 7 (-1: 0), 6.75 (-0.25, exactly tol: 0), 6.625 (-0.125: 1),
    # 6.5 (2), 6 (-0.5 from the best 6.5: 0), 6.25 (1), 6.125 (2), 6 (not below 6: 3 > 2,
    # stop after epoch 9). Never more than n=2 in a row before that.
    ([8, 7, 6.75, 6.625, 6.5, 6, 6.25, 6.125, 6, 5, 4], 2, 9, 5),
    # A slow creep: each epoch beats the best by 0.125 < tol, so counts 1, 2, 3 and stops
    # after epoch 4 with n=2 (Keras' rule would reset at 7.625, 0.25 below 7.875's best 8).
    ([8, 7.875, 7.75, 7.625, 7.5, 7.375, 7.25], 2, 4, 3),
    # n=4: the four epochs after the first count 1 … 4, never more than 4: no stop.
    ([8, 8, 8, 8, 8], 4, 5, 0),
]


@pytest.mark.parametrize(("values", "n", "epochs", "best_epoch"), SCRIPTS)
def test_the_rule_stops_after_more_than_n_iter_no_change_epochs_without_tol(
    values: list[float], n: int, epochs: int, best_epoch: int
) -> None:
    trained, rule = our_epochs(values, 0.25, n)
    assert trained == epochs
    assert rule.stop_reason == ("patience" if epochs < len(values) else None)
    assert trained == sklearn_epochs(values, 0.25, n)  # scikit-learn's own code agrees
    assert rule.best_epoch == best_epoch  # the best follows every improvement
    # the validation score is watched the same way (score = 16 - error: higher is better)
    trained, rule = our_epochs(values, 0.25, n, validation=True)
    assert trained == epochs
    assert trained == sklearn_epochs([16 - v for v in values], 0.25, n, validation=True)
    assert rule.best_epoch == best_epoch


def test_fit_stops_by_the_training_cost_like_mlpclassifier_never_past_max_epochs() -> None:
    X, y = cancer()
    clf = DeepClassifier(**small(max_epochs=200)).fit(X, y)
    assert clf.history_.stop_reason == "patience"
    assert clf.n_iter_ == sklearn_epochs(clf.loss_curve_, 1e-4, 10) < 200
    assert clf.loss_curve_ == clf.history_["train_cost"]
    assert clf.history_.best_epoch is None  # the last epoch's weights, as scikit-learn
    # A tolerance nothing meets: the first epoch, then n_iter_no_change + 1 epochs.
    never = {"tol": 1e9, "n_iter_no_change": 3}
    assert DeepClassifier(**small(**never)).fit(X, y).n_iter_ == 5
    assert MLPClassifier(hidden_layer_sizes=(16,), **never).fit(X, y).n_iter_ == 5
    short = DeepClassifier(**small(**never, max_epochs=4)).fit(X, y)
    assert short.n_iter_ == 4 and short.history_.stop_reason == "max_epochs"


def test_early_stopping_watches_the_dev_error_not_the_training_cost() -> None:
    X, y = digits(600)
    clf = DeepClassifier(**small(max_epochs=200, early_stopping=True, n_iter_no_change=3))
    clf.fit(X / 16, y)
    history = clf.history_
    assert history.stop_reason == "patience"
    scores = [1 - error for error in history["dev_error"]]  # the validation accuracy
    assert clf.n_iter_ == sklearn_epochs(scores, 1e-4, 3, validation=True) < 200
    # while the training cost still fell by more than tol every epoch
    assert np.all(np.diff(clf.loss_curve_) < -1e-4)
    assert history.best_epoch == int(np.argmax(scores))  # its first best epoch is kept
    assert clf.diagnosis_ is not None and clf.diagnosis_.epoch == history.best_epoch


# --- early stopping, validation and the diagnosis ---------------------------------------


def test_early_stopping_holds_out_the_notes_dev_size_and_restores_the_best_epoch() -> None:
    X, y = digits(600)
    clf = DeepClassifier(hidden_layer_sizes=(32,), learning_rate=0.01, max_epochs=200,
                         early_stopping=True, n_iter_no_change=3, random_state=0)
    clf.fit(X / 16, y)
    history = clf.history_
    assert history.sizes["dev"] == 120  # min(⌊0.2 · 600⌋, 10,000)
    assert history.sizes["train"] == 480
    assert history.stop_reason == "patience"
    assert clf.n_iter_ == len(history) < 200
    best = int(np.argmin(history["dev_error"]))  # the first epoch of the lowest dev error
    assert history.best_epoch == best
    diagnosis = clf.diagnosis_
    assert isinstance(diagnosis, dr.Diagnosis)
    assert diagnosis.epoch == best
    assert diagnosis.train_error == history["train_error"][best]
    assert diagnosis.dev_error == history["dev_error"][best]
    assert diagnosis.verdict in dr.diagnostics.VERDICTS


def test_validation_fraction_without_early_stopping_only_measures() -> None:
    X, y = digits(400)
    clf = DeepClassifier(**small(validation_fraction=0.25, max_epochs=5)).fit(X / 16, y)
    assert clf.history_.sizes["dev"] == 100
    assert clf.n_iter_ == 5 and clf.history_.stop_reason == "max_epochs"
    assert clf.diagnosis_ is not None and clf.diagnosis_.epoch == 4


def test_without_a_dev_set_diagnosis_is_none_and_diagnose_takes_held_out_data() -> None:
    X, y = digits(600)
    clf = DeepClassifier(**small()).fit(X[:400] / 16, y[:400])
    assert clf.diagnosis_ is None
    diagnosis = clf.diagnose(X[400:] / 16, y[400:])
    assert diagnosis.train_error == clf.history_["train_error"][-1]
    assert diagnosis.dev_error == pytest.approx(1 - clf.score(X[400:] / 16, y[400:]))
    assert diagnosis.dev_interval is not None  # n_dev was passed


def test_errors_of_diagnose_and_partial_fit_name_the_method_called() -> None:
    X, y = digits(300)
    clf = DeepClassifier(**small(max_epochs=2)).fit(X[:200] / 16, y[:200] % 2)
    with pytest.raises(ValueError, match=r"DeepClassifier\.diagnose: y must be labels among"):
        clf.diagnose(X[200:] / 16, y[200:])
    with pytest.raises(ValueError, match=r"DeepClassifier\.partial_fit: y must be labels"):
        clf.partial_fit(X[200:] / 16, y[200:])


def test_regressor_diagnosis_reads_mean_squared_errors() -> None:
    X, y = make_regression(300, 5, noise=5.0, random_state=0)
    y = y / y.std()
    reg = DeepRegressor(**small(early_stopping=True)).fit(X, y)
    assert reg.diagnosis_ is not None
    assert reg.diagnosis_.train_error == reg.history_["train_error"][reg.diagnosis_.epoch]
    assert reg.diagnosis_.dev_interval is None  # no binomial interval for an MSE


def test_normalize_y_trains_a_target_in_any_units_alike() -> None:
    X, y = make_regression(300, 5, noise=5.0, random_state=0)
    y = y / y.std()
    scores = {}
    for unit, offset in ((1.0, 0.0), (1000.0, 5e4)):  # the same target in other units
        target = y * unit + offset
        reg = DeepRegressor(**small(max_epochs=40)).fit(X, target)
        scores[unit] = reg.score(X, target)
        np.testing.assert_allclose(reg.y_mean_, [target.mean()], rtol=1e-6)
        np.testing.assert_allclose(reg.y_scale_, [target.std()], rtol=1e-6)
    assert scores[1.0] > 0.9 and abs(scores[1000.0] - scores[1.0]) < 1e-3
    raw = DeepRegressor(**small(max_epochs=40), normalize_y=False).fit(X, y * 1000 + 5e4)
    assert raw.y_mean_.tolist() == [0.0] and raw.y_scale_.tolist() == [1.0]
    assert raw.score(X, y * 1000 + 5e4) < 0.5  # 40 epochs of Adam do not reach 5e4
    with pytest.raises(TypeError, match="normalize_y must be True or False"):
        DeepRegressor(normalize_y="yes").fit(X, y)


def test_the_target_scale_is_fit_on_the_training_part_only() -> None:
    X, y = make_regression(200, 3, noise=1.0, random_state=1)
    reg = DeepRegressor(**small(max_epochs=5, early_stopping=True)).fit(X, y)
    assert reg.diagnosis_ is not None and reg.diagnosis_.regression
    n_train = reg.history_.sizes["train"]
    assert n_train < len(y)
    assert not np.isclose(reg.y_mean_[0], y.mean())  # the dev rows are not in it
    assert "%" not in reg.diagnosis_.summary().splitlines()[0]


def test_too_few_rows_for_a_dev_set_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"n_samples must be at least 5 to hold out a dev set"):
        DeepClassifier(**small(early_stopping=True)).fit(np.eye(4), [0, 1, 0, 1])


# --- partial_fit ------------------------------------------------------------------------


def test_partial_fit_needs_classes_on_the_first_call() -> None:
    X, y = digits(100)
    with pytest.raises(ValueError, match="classes must be given on the first call"):
        DeepClassifier(**small()).partial_fit(X, y)


def test_partial_fit_trains_one_epoch_per_call_and_continues_the_optimizer() -> None:
    X, y = digits(600)
    X = X / 16
    clf = DeepClassifier(**small(batch_size=100))
    scores = []
    for _ in range(5):
        for start in range(0, 600, 200):  # three chunks of 200 rows per pass
            clf.partial_fit(X[start : start + 200], y[start : start + 200],
                            classes=np.arange(10))
        scores.append(clf.score(X, y))
    assert clf.n_iter_ == len(clf.history_) == 15
    # Adam's step count ran on across the calls: 15 calls x 2 batches
    assert clf._optimizer.optimizer.iterations == 30
    assert scores[-1] > max(0.85, scores[0])
    with pytest.raises(ValueError, match="labels among classes_"):
        clf.partial_fit(X[:10], np.full(10, 11))


def test_partial_fit_after_fit_continues_from_the_fitted_network() -> None:
    X, y = cancer()
    clf = DeepClassifier(**small(max_epochs=5)).fit(X, y)
    theta = clf.model_.theta.copy()
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 6
    assert not np.array_equal(theta, clf.model_.theta)
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.partial_fit(X[:, :3], y)


def test_the_same_random_state_gives_the_same_network() -> None:
    X, y = digits(200)
    first = DeepClassifier(**small(keep_prob=0.8)).fit(X, y)
    second = DeepClassifier(**small(keep_prob=0.8)).fit(X, y)
    np.testing.assert_array_equal(first.model_.theta, second.model_.theta)
    other = DeepClassifier(**small(keep_prob=0.8, random_state=1)).fit(X, y)
    assert not np.array_equal(first.model_.theta, other.model_.theta)


# --- divergence and the docstrings ------------------------------------------------------


@pytest.mark.parametrize("early_stopping", [False, True])
def test_divergence_warns_with_the_engines_advice_and_keeps_finite_weights(
    early_stopping: bool,
) -> None:
    X = np.random.default_rng(0).normal(size=(100, 3)) * 100  # not normalized
    y = X.sum(axis=1) * 1000
    reg = DeepRegressor(hidden_layer_sizes=(8,), optimizer="sgd", learning_rate=10.0,
                        early_stopping=early_stopping, random_state=0)
    with pytest.warns(RuntimeWarning, match="DeepRegressor.fit: training diverged"):
        reg.fit(X, y)
    assert reg.history_.stop_reason == "diverged"
    assert np.isfinite(reg.predict(X)).all()
    assert reg.diagnosis_ is None  # no finite epoch to diagnose


def test_docstring_examples_run() -> None:
    import deeprecipe.sklearn

    assert doctest.testmod(deeprecipe.sklearn).failed == 0


def test_a_random_state_scikit_learn_refuses_is_named_before_anything_is_fitted() -> None:
    X, y = np.random.default_rng(0).normal(size=(40, 2)), np.arange(40) % 2
    model = DeepClassifier(random_state=np.random.default_rng(0), max_epochs=2)
    with pytest.raises(ValueError, match=r"DeepClassifier.fit: random_state must be None, an "
                       r"int from 0 to 2\*\*32 - 1 or a np.random.RandomState; received "
                       r"random_state=Generator"):  # it was scikit-learn's words, naming neither
        model.fit(X, y)
    assert not hasattr(model, "classes_")


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA])
def test_a_missing_class_label_is_named_with_its_row(missing: object) -> None:
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = pd.Series(["a", "b"] * 20, dtype=object)
    y[7] = missing  # scikit-learn's words: 'Unknown label type: unknown', 'Input contains NaN'
    with pytest.raises(ValueError, match=r"DeepClassifier.fit: y must be free of missing values "
                       r"\(NaN, None, NA\); received y='missing values in rows \[7\]'"):
        DeepClassifier(max_epochs=2).fit(X, y)


def test_a_missing_regression_target_is_named_with_its_row() -> None:
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = X[:, 0].copy()
    y[[3, 5]] = np.nan  # scikit-learn's words: 'Input y contains NaN'
    with pytest.raises(ValueError, match=r"DeepRegressor.fit: y must be free of missing values "
                       r"\(NaN, None, NA\); received y='missing values in rows \[3, 5\]'"):
        DeepRegressor(max_epochs=2).fit(X, y)


def test_a_text_regression_target_is_named() -> None:
    X = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(ValueError, match=r"DeepRegressor.fit: y must be numbers \(a regression "
                       r"target\); received y=array\(shape=\(40,\), dtype=<U3\)\. help: for class "
                       r"labels use DeepClassifier"):  # NumPy's 'could not convert string'
        DeepRegressor(max_epochs=2).fit(X, np.array(["cat", "dog"] * 20))


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"early_stopping": "no"}, TypeError,  # bool('no') is True: it held out a dev set
     r"DeepClassifier.fit: early_stopping must be True or False; received "
     r"early_stopping='no'\."),
    ({"hidden_layer_sizes": (8, 0)}, ValueError,  # Dense's words: 'units must be …'
     r"DeepClassifier.fit: hidden_layer_sizes must be a sequence of positive integers .*"
     r"received hidden_layer_sizes=\(8, 0\)\."),
    ({"hidden_layer_sizes": (8.5,)}, ValueError, r"hidden_layer_sizes must be a sequence"),
])
def test_hyperparameters_are_named_as_given(options: dict, error: type, message: str) -> None:
    X, y = np.random.default_rng(0).normal(size=(40, 2)), np.arange(40) % 2
    with pytest.raises(error, match=message):
        DeepClassifier(max_epochs=2, **options).fit(X, y)


def test_labels_of_two_kinds_are_named_with_a_row_of_each() -> None:
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.array([1, "a"] * 20, dtype=object)  # scikit-learn's words: 'Unknown label type'
    with pytest.raises(ValueError, match=r"DeepClassifier.fit: y must be labels of one kind \(all "
                       r"text or all numbers\); received y=\"1 in row 0 and 'a' in row 1\""):
        DeepClassifier(max_epochs=2).fit(X, y)
