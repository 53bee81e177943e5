"""Tests for ``deeprecipe.recipe``: the basic recipe run as a loop, its trial database,
its runners (local processes, a real Dask ``LocalCluster`` on loopback), resuming after
kill -9, and the decision-trail figure.

The fast tests drive the pieces directly (the policy with scripted diagnoses, the store,
the loop with an in-process runner); the ``slow`` ones start processes and clusters.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe.diagnostics.bias_variance import GOOD
from deeprecipe.diagnostics.yardstick import Reference, Yardstick
from deeprecipe.findings import ACTIONS
from deeprecipe.recipe import (
    BASELINE,
    Config,
    Decision,
    LocalRunner,
    Outcome,
    Situation,
    Trial,
    TrialData,
    TrialStore,
    TrialTask,
    decide,
    run_trial,
    sample,
)
from deeprecipe.recipe.loop import Loop, Options, data_fingerprint
from deeprecipe.recipe.page import tune_context, write_tune_report
from deeprecipe.recipe.policy import (
    L2_GRID,
    LEARNING_CURVE_FRACTIONS,
    MAX_PATIENCE,
    PROBES,
    STEPS,
    plan,
)
from deeprecipe.recipe.trial import prepare, train_trial
from deeprecipe.report.html import level
from trial_database import finished_trials, query

FAST = Config(hidden=(16,), epochs=30, patience=5)  # a baseline that trains in ~10 ms


@pytest.fixture(scope="module")
def cancer() -> dr.data.Splits:
    X, y = dr.datasets.load("breast_cancer")
    return dr.data.split(X, y, seed=0)


@pytest.fixture(scope="module")
def moons() -> dr.data.Splits:
    X, y = dr.datasets.load("moons", n_samples=300, noise=0.25, seed=0)
    return dr.data.split(X, y, seed=0)


def situation(train: float, dev: float, *, bayes: float | Yardstick = 0.0, config: Config = FAST,
              tried: Sequence[Config] = (), **options: Any) -> Situation:
    """A best trial with these errors, diagnosed, for the policy."""
    best = Trial(config.key(0), config, 0, 0, BASELINE, "", train_error=train, dev_error=dev,
                 dev_cost=0.1, status="done", stop_reason=options.pop("stop_reason", "patience"))
    keys = frozenset({best.key, *(c.key(0) for c in tried)})
    return Situation(best, dr.diagnose(train, dev, bayes), keys, seed=0, **options)


# --- Config -------------------------------------------------------------------------------------


def test_config_round_trips_and_names_a_trial_by_config_and_seed() -> None:
    config = Config(hidden=(32, 32), l2=0.1, keep_prob=0.8)
    assert Config.from_dict(config.to_dict()) == config
    assert config.key(0) == Config(hidden=(32, 32), l2=0.1, keep_prob=0.8).key(0)
    assert config.key(0) != config.key(1) != config.replace(l2=0.3).key(1)
    assert "32-32 ReLU" in config.describe() and "keep_prob 0.8" in config.describe()
    model = dr.recipe.build_model(config, 5, "multiclass", 3, seed=0)
    assert [layer.kind for layer in model.layers] == ["dense", "dropout", "dense", "dropout",
                                                      "dense"]
    assert model.layers[0].init == "he" and model.l2 == 0.1


@pytest.mark.parametrize(("changes", "message"), [
    ({"hidden": ()}, "Config: hidden must be a tuple of 1 to 4 layer widths; received"),
    ({"keep_prob": 0.0}, "Config: keep_prob must be in (0, 1]; received keep_prob=0.0."),
    ({"learning_rate": 2.0}, "Config: learning_rate must be in (0, 1)"),
    ({"optimizer": "rmsprop"}, "Config: optimizer must be one of 'sgd', 'momentum', 'adam'"),
    # the constraints of deeprecipe run's options (deeprecipe.runconfig.OPTIONS)
    ({"l2": -1.0}, "Config: l2 must be a finite number >= 0; received l2=-1.0."),
    ({"epochs": 2.5}, "Config: epochs must be a positive integer"),
    ({"augment": 1}, "Config: augment must be true or false"),
])
def test_config_refuses_bad_values_with_the_style_template(changes: dict[str, Any],
                                                           message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Config(**changes)


# --- the policy: the recipe as a decision -------------------------------------------------------


def test_low_bias_and_low_variance_stops() -> None:
    decision = decide(situation(0.005, 0.01))
    assert decision.action == "stop" and decision.stops and not decision.candidates
    assert decision.why.code == "recipe_done"
    assert decision.why.values["verdict"] == "low bias and low variance"


def test_high_bias_grows_the_network_and_says_why() -> None:
    decision = decide(situation(0.15, 0.16))
    assert decision.action == "bigger_network"
    assert decision.why.code == "recipe_bigger_network"
    assert decision.why.values["verdict"] == "high bias"
    assert decision.why.values["bias"] == pytest.approx(0.15)
    assert "avoidable bias 15.00%" in decision.reason  # the numbers, as people read them
    hidden = [candidate.config.hidden for candidate in decision.candidates]
    assert hidden == [(32,), (16, 16), (32, 32)]  # wider, deeper, both
    assert all("wider" in c.change or "deeper" in c.change for c in decision.candidates)


def test_high_bias_moves_on_when_bigger_networks_were_tried() -> None:
    tried = [FAST.replace(hidden=h) for h in [(32,), (16, 16), (32, 32)]]
    decision = decide(situation(0.15, 0.16, tried=tried))
    assert decision.action == "train_longer"
    # one candidate, the longest: a shorter one would be its first epochs
    assert [(c.config.epochs, c.config.patience) for c in decision.candidates] == [(120, 20)]
    assert decision.skipped[0].startswith("bigger_network: ")
    tried += [c.config for c in decision.candidates]
    decision = decide(situation(0.15, 0.16, tried=tried))
    assert decision.action == "better_optimizer"  # "another optimizer setting"
    assert [c.config.learning_rate for c in decision.candidates] == [0.003, 0.00033]


def test_training_that_ran_out_of_epochs_trains_longer_first() -> None:
    decision = decide(situation(0.15, 0.16, stop_reason="max_epochs"))
    assert decision.action == "train_longer"
    assert decision.why.code == "recipe_train_longer" and decision.why.values["epochs"] == 30


def test_training_longer_is_skipped_when_it_would_train_the_same_model() -> None:
    # early stopping ended the best model before its epoch limit, at the longest patience:
    # more epochs alone train it again, epoch for epoch
    config = FAST.replace(epochs=400, patience=MAX_PATIENCE)
    decision = decide(situation(0.15, 0.16, config=config, tried=[
        config.replace(hidden=h) for h in [(32,), (16, 16), (32, 32)]]))
    assert decision.action == "better_optimizer"
    assert any(note.startswith("train_longer: early stopping ended the best model's training "
                               "before its 400 epochs") for note in decision.skipped)
    # a baseline's own patience above the search's: the candidate's would stop sooner
    patient = config.replace(patience=2 * MAX_PATIENCE)
    assert STEPS["train_longer"](situation(0.15, 0.16, config=patient))[0] == []
    # the same model out of epochs (dev cost still falling): more epochs is a new training
    longer = STEPS["train_longer"](situation(0.15, 0.16, config=config,
                                             stop_reason="max_epochs"))[0]
    assert [(c.config.epochs, c.config.patience) for c in longer] == [(1600, MAX_PATIENCE)]


def test_a_longer_trial_repeats_the_shorter_ones_epochs(cancer: dr.data.Splits) -> None:
    # why train_longer proposes one candidate: the epoch limit does not change the training
    # up to it, so the shorter trial would be a model the longer one passed through
    _, data = prepare(cancer)
    short, long = (FAST.replace(keep_prob=0.8, epochs=epochs, patience=100)
                   for epochs in (6, 12))
    first = run_trial(TrialTask("short", short, 0), data)["history"]
    second = run_trial(TrialTask("long", long, 0), data)["history"]
    assert len(first["dev_cost"]) == 6 and len(second["dev_cost"]) == 12
    assert second["dev_cost"][:6] == first["dev_cost"]
    assert second["train_cost"][:6] == first["train_cost"]


def test_high_variance_measures_a_learning_curve_once_then_regularizes() -> None:
    decision = decide(situation(0.0, 0.11))
    assert decision.action == "more_data"
    assert [c.config.train_fraction for c in decision.candidates] == list(
        LEARNING_CURVE_FRACTIONS)
    decision = decide(situation(0.0, 0.11, learning_curve_done=True))
    assert decision.action == "regularize_l2"
    assert [c.config.l2 for c in decision.candidates] == list(L2_GRID)
    assert any("augment: not image data" in note for note in decision.skipped)
    # around a regularized best model, the grid is refined
    decision = decide(situation(0.0, 0.11, config=FAST.replace(l2=1.0),
                                learning_curve_done=True))
    assert [c.config.l2 for c in decision.candidates] == [3.0, 0.33]


def test_image_data_is_augmented_and_dropout_follows_l2() -> None:
    decision = decide(situation(0.0, 0.11, image_shape=(8, 8), learning_curve=False))
    assert decision.action == "augment"
    assert all(c.config.augment for c in decision.candidates)
    tried = [c.config for c in decision.candidates]
    tried += [FAST.replace(l2=value) for value in L2_GRID]
    decision = decide(situation(0.0, 0.11, image_shape=(8, 8), learning_curve=False,
                                tried=tried))
    assert decision.action == "dropout"
    assert [c.config.keep_prob for c in decision.candidates] == [0.8, 0.6]


@pytest.mark.parametrize(("image_shape", "augment", "named"), [
    ((8, 8), None, "augmentation (crop, rotate)"),  # tune's default: the images' defaults
    ((16, 16, 3), None, "augmentation (flip, crop, rotate)"),
    ((16, 16, 3), ("distort",), "augmentation (distort)"),
])
def test_the_augmentation_step_says_its_transforms(
        image_shape: tuple[int, ...], augment: tuple[str, ...] | None, named: str) -> None:
    decision = decide(situation(0.0, 0.11, image_shape=image_shape, learning_curve=False,
                                augment=augment))
    assert decision.action == "augment"
    assert all(c.change.startswith(named) for c in decision.candidates)


def test_augmentation_turned_off_is_never_a_step() -> None:
    decision = decide(situation(0.0, 0.11, image_shape=(8, 8), learning_curve=False,
                                augment=()))
    assert decision.action == "regularize_l2"
    assert "augment: augmentation is turned off (augment = false)" in decision.skipped


def test_a_trial_augments_with_the_tunes_transforms(cancer: dr.data.Splits,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def recorded(*args: Any) -> None:
        seen.append(args[-1])  # the transforms' names
        return None

    monkeypatch.setattr("deeprecipe.recipe.trial.augmentation", recorded)
    _, data = prepare(cancer, image_shape=(5, 6))
    config = FAST.replace(augment=True, epochs=1)
    for names in (None, ("flip", "distort")):
        run_trial(TrialTask("k", config, 0), replace(data, augment=names))
    assert seen == [None, ("flip", "distort")]  # None: the images' defaults


def test_the_settings_name_augment_only_when_it_is_not_the_default() -> None:
    options = {"budget": 2, "bayes_error": 0.0, "seed": 0, "baseline": FAST,
               "image_shape": (8, 8), "per_round": 3, "learning_curve": True,
               "max_attempts": 2, "bias_threshold": 0.01, "variance_threshold": 0.01}
    assert "augment" not in Options(**options).settings("0" * 64)  # a tune from before
    assert Options(**options, augment="flip,crop").settings("0" * 64)["augment"] == [
        "flip", "crop"]


def test_the_recipe_stops_when_nothing_is_left_and_every_action_is_a_known_one() -> None:
    seen: list[str] = []
    tried: list[Config] = []
    for _ in range(20):
        decision = decide(situation(0.0, 0.11, tried=tried, learning_curve=False))
        seen.append(decision.action)
        if decision.stops:
            break
        tried += [c.config for c in decision.candidates]
    assert seen == ["regularize_l2", "dropout", "stop"]
    assert decision.why.code == "recipe_exhausted"
    assert any(note.startswith("other_architecture:") for note in decision.skipped)
    assert set(seen) <= set(ACTIONS)


def test_with_nothing_left_around_the_best_the_recipe_goes_on_around_the_next_best() -> None:
    tried = [FAST.replace(l2=value) for value in L2_GRID]
    tried += [FAST.replace(keep_prob=value) for value in (0.8, 0.6)]
    best = situation(0.0, 0.11, tried=tried, learning_curve=False)
    assert decide(best).stops
    runner_up = situation(0.05, 0.12, config=FAST.replace(hidden=(32,)), tried=tried,
                          learning_curve=False)
    decision = dr.recipe.decide_ranked([best, runner_up])
    assert decision.action == "bigger_network" and decision.parent == runner_up.best.key
    assert decision.why.code == "recipe_next_best"
    assert decision.why.values["then"] == "recipe_bigger_network"
    assert decision.why.values["config"] == runner_up.best.config.describe()
    assert all(c.config.hidden != (16,) for c in decision.candidates)
    good = situation(0.0, 0.005)  # low bias and low variance: stop, whatever is left
    assert dr.recipe.decide_ranked([good, runner_up]).stops


def test_a_budget_spent_before_a_step_around_the_next_best_says_that_step(
        moons: dr.data.Splits) -> None:
    tried = [FAST.replace(l2=value) for value in L2_GRID]
    tried += [FAST.replace(keep_prob=value) for value in (0.8, 0.6)]
    best = situation(0.0, 0.11, tried=tried, learning_curve=False)
    runner_up = situation(0.05, 0.12, config=FAST.replace(hidden=(32,)), tried=tried,
                          learning_curve=False)
    loop, _ = loop_for(moons)
    loop.next_step = dr.recipe.decide_ranked([best, runner_up])
    ended = loop.stop_reason()  # the step holds a step of its own: said whole, once
    assert ended.code == "budget_spent" and ended.values["step"] == "recipe_next_best"
    assert str(ended).startswith(
        "the budget of 6 trials is spent; the recipe's next step would have been bigger "
        "network: every step of the recipe was tried around the best model, so it goes on "
        "around the next best (32 ReLU, adam lr 0.001, ≤30 epochs (patience 5), dev error "
        "12.00%): high bias and high variance (train error 5.00%")


def yardstick(error: float, regression: bool = False) -> Yardstick:
    """A yardstick whose best reference (a linear model) reaches ``error`` on dev."""
    return Yardstick((Reference("constant", "DummyClassifier()", 0.5, 0.5, 0.0),
                      Reference("linear", "LogisticRegression(C=1)", error, error, 0.0)),
                     n_train=600, n_train_total=600, n_dev=200, regression=regression,
                     seconds=0.0)


def test_a_network_a_reference_beats_is_made_simpler_not_bigger() -> None:
    # train 20% is far above zero but below what the linear model reached on dev (25%):
    # no bias shown; dev 40% is worse than the linear model's: a simpler network
    decision = decide(situation(0.20, 0.40, bayes=yardstick(0.25),
                                config=FAST.replace(hidden=(64, 32))))
    assert decision.action == "simpler_model" and decision.why.code == "recipe_simpler_model"
    assert [c.config.hidden for c in decision.candidates] == [(32, 16), (64,)]
    assert [c.change for c in decision.candidates] == ["narrower: 64-32 → 32-16 units",
                                                       "shallower: 2 → 1 hidden layers"]
    assert "yardstick 25.00% (linear: LogisticRegression(C=1))" in decision.reason
    # a bigger network only as the last probe of the bias not shown, never for "high bias"
    steps = plan(situation(0.20, 0.40, bayes=yardstick(0.25)))
    assert steps[0] == "simpler_model" and steps[-4:] == [*PROBES, "better_features"]


@pytest.mark.parametrize(("hidden", "simpler"), [
    ((16,), [(8,)]), ((12, 8), [(8, 8), (12,)]), ((8,), []), ((4, 9), [(4, 8), (4,)])])
def test_a_simpler_model_halves_the_widths_down_to_8_units_and_keeps_one_layer(
        hidden: tuple[int, ...], simpler: list[tuple[int, ...]]) -> None:
    candidates, note = STEPS["simpler_model"](situation(0.2, 0.4, bayes=yardstick(0.25),
                                                        config=FAST.replace(hidden=hidden)))
    assert [c.config.hidden for c in candidates] == simpler
    assert note.startswith("the narrower and shallower networks around the best one were tried")


def test_a_network_at_the_yardstick_probes_a_bigger_network_and_longer_training_then_stops(
        ) -> None:
    # read against zero this is high bias (30 points); the yardstick says not shown: not
    # shown unavoidable either, so a bigger network tests it (judged on dev), never "high bias"
    assert decide(situation(0.30, 0.31)).why.code == "recipe_bigger_network"
    at_yardstick = situation(0.30, 0.31, bayes=yardstick(0.30))
    assert at_yardstick.diagnosis.verdict == GOOD
    assert at_yardstick.diagnosis.actions == ["stop", "better_features"]
    assert plan(at_yardstick) == [*PROBES, "better_features"]
    assert PROBES == ("bigger_network", "train_longer", "better_optimizer")  # the bias steps
    decision = decide(at_yardstick)
    assert decision.action == "bigger_network"
    assert decision.why.code == "recipe_bigger_network:probe"
    assert [c.config.hidden for c in decision.candidates] == [(32,), (16, 16), (32, 32)]
    assert "bias is not shown to be avoidable; a bigger network tests whether it is, judged " \
           "on dev" in decision.reason and "high bias" not in decision.reason
    # the bigger networks tried: longer training is the next probe
    bigger = STEPS["bigger_network"](at_yardstick)[0]
    decision = decide(situation(0.30, 0.31, bayes=yardstick(0.30),
                                tried=[c.config for c in bigger]))
    assert decision.action == "train_longer" and decision.why.code == "recipe_train_longer:probe"
    assert "training longer tests whether it is" in decision.reason
    longer = STEPS["train_longer"](at_yardstick)[0]
    decision = decide(situation(0.30, 0.31, bayes=yardstick(0.30),
                                tried=[c.config for c in (*bigger, *longer)]))
    assert decision.action == "better_optimizer"
    assert decision.why.code == "recipe_better_optimizer:probe"
    # every probe tried around the best model: the recipe stops, the good verdict's own way
    rates = STEPS["better_optimizer"](at_yardstick)[0]
    decision = decide(situation(0.30, 0.31, bayes=yardstick(0.30),
                                tried=[c.config for c in (*bigger, *longer, *rates)]))
    assert decision.stops and decision.why.code == "recipe_done"
    assert "reaches the yardstick with low variance" in decision.reason
    assert [note.split(":")[0] for note in decision.skipped] == [*PROBES, "better_features"]
    # low bias and low variance, but a reference generalizes clearly better: simpler first
    close = situation(0.285, 0.30, bayes=yardstick(0.275))
    assert close.diagnosis.verdict == GOOD and decide(close).action == "simpler_model"


def test_high_variance_with_bias_not_shown_takes_the_variance_steps_before_the_probes() -> None:
    high_variance = situation(0.30, 0.36, bayes=yardstick(0.33), learning_curve=False)
    assert not high_variance.diagnosis.high_bias
    assert high_variance.diagnosis.actions[-1] == "better_features"
    steps = plan(high_variance)
    assert steps[-4:] == [*PROBES, "better_features"]
    assert steps[:-4] and {"regularize_l2", "dropout"} <= set(steps[:-4])
    first = decide(high_variance)
    assert first.action == steps[0] and not first.why.code.endswith(":probe")
    # the variance steps tried: the probe comes next, said as one
    variance = [c.config for action in steps[:-4] for c in STEPS[action](high_variance)[0]]
    decision = decide(situation(0.30, 0.36, bayes=yardstick(0.33), learning_curve=False,
                                tried=variance))
    assert decision.action == "bigger_network"
    assert decision.why.code == "recipe_bigger_network:probe"
    # everything tried, better features trains nothing: exhausted (bias or variance left)
    tried = [c.config for action in steps for c in STEPS[action](high_variance)[0]]
    decision = decide(situation(0.30, 0.36, bayes=yardstick(0.33), learning_curve=False,
                                tried=tried))
    assert decision.stops and decision.why.code == "recipe_exhausted"
    assert any(note.startswith("better_features: ") for note in decision.skipped)


# --- data, the trial, the store --------------------------------------------------------------


def test_inputs_are_standardized_with_train_statistics_and_the_test_set_stays_home(
        cancer: dr.data.Splits) -> None:
    ready, data = prepare(cancer)
    np.testing.assert_allclose(ready.standardizer.mean_, cancer.train.X.mean(axis=0))
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0.0, atol=1e-9)
    assert abs(data.X_dev.mean()) > 1e-6  # dev is transformed, not refitted
    assert not any("test" in name for name in TrialData.__dataclass_fields__)
    assert ready.learned.test is not None
    assert data.task == "binary" and data.n_outputs == 1


def test_labels_are_coded_and_constant_features_become_a_remark() -> None:
    X, y = dr.datasets.load("digits")
    ready, data = prepare(dr.data.split(X, y + 10, seed=0), image_shape=(8, 8))
    assert set(np.unique(data.y_train)) == set(range(10))
    assert list(ready.classes) == list(range(10, 20))
    assert "constant_features" in [remark.code for remark in ready.notes]
    with pytest.raises(ValueError, match="tune: image_shape must be"):
        prepare(dr.data.split(X, y, seed=0), image_shape=(7, 7))


def test_a_regression_target_is_read_as_one_and_standardized_with_train_statistics() -> None:
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)  # whole numbers 25 … 346: a regression
    splits = dr.data.split(X, y, stratify=False, seed=0)
    ready, data = prepare(splits)
    scale = ready.target_scale
    assert data.task == "regression" and ready.classes is None and scale is not None
    assert scale.mean == pytest.approx(splits.train.y.mean())
    np.testing.assert_allclose([data.y_train.mean(), data.y_train.std()], [0, 1], atol=1e-9)
    assert ready.learned.test is not None
    np.testing.assert_allclose(ready.learned.test.y, (splits.test.y - scale.mean) / scale.scale)
    assert "target_scaled:tune" in [remark.code for remark in ready.notes]
    forced, data = prepare(dr.data.split(X, (y > 140).astype(float), seed=0),
                           task="classification")
    assert data.task == "binary" and forced.target_scale is None
    assert prepare(splits, task="regression")[1].task == "regression"
    with pytest.raises(ValueError, match="tune: task must be one of"):
        prepare(splits, task="ranking")


def test_a_tuned_regression_predicts_the_target_in_its_own_units() -> None:
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    splits = dr.data.split(X, y, stratify=False, seed=0)
    result = dr.recipe.tune(splits, budget=2, workers=1, baseline=FAST)
    assert result.task == "regression" and result.test_error is not None
    assert result.test_error < 1.0  # better than predicting the mean (its MSE is 1)
    model = result.model()
    mse = float(np.mean((model.predict(splits.test.X).ravel() - splits.test.y) ** 2))
    assert result.target_scale is not None
    assert mse == pytest.approx(result.test_error * result.target_scale.scale ** 2, rel=1e-4)


def test_a_trial_measures_inference_mode_errors_on_the_kept_weights(
        cancer: dr.data.Splits) -> None:
    _, data = prepare(cancer)
    config = FAST.replace(keep_prob=0.8)
    result = run_trial(TrialTask(config.key(0), config, 0), data)
    model = dr.recipe.build_model(config, data.X_train.shape[1], "binary", 1, 0)
    model.set_parameters(np.frombuffer(result["weights"], dtype=result["dtype"]))
    assert result["train_error"] == model.evaluate(data.X_train, data.y_train)["error"]
    assert result["dev_error"] == model.evaluate(data.X_dev, data.y_dev)["error"]
    assert result["n_train"] == len(data.X_train)
    assert result["epochs_run"] == len(result["history"]["dev_cost"])
    # a learning-curve point trains on a stratified part of the training set
    part = run_trial(TrialTask("k", config.replace(train_fraction=0.25), 0), data)
    assert part["n_train"] == round(0.25 * len(data.X_train))


def test_the_store_writes_each_trial_in_wal_mode_and_reads_it_back(tmp_path: Path) -> None:
    trial = Trial("abc", FAST, 0, 0, BASELINE, "why", change="the baseline")
    with TrialStore(tmp_path) as store:
        mode = store.connection.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
        trial.attempts = 1
        store.started(trial)
        assert store.trials()["abc"].status == "running"
        assert (store.count(), store.count("done", "failed")) == (1, 0)
        trial.absorb({"train_error": 0.01, "dev_error": 0.02, "dev_cost": 0.1, "n_train": 10,
                      "history": {"dev_cost": [0.2, 0.1]}, "epochs_run": 2, "best_epoch": 1,
                      "stop_reason": "patience", "weights": b"\x00" * 8, "dtype": "float32",
                      "seconds": 0.5, "worker": "here:1"})
        store.finished(trial)
        with pytest.raises(RuntimeError, match="another run is using"):
            TrialStore(tmp_path)
    with TrialStore(tmp_path) as store:
        back = store.trials()["abc"]
        assert store.count("done", "failed") == 1
    assert back.status == "done" and back.dev_error == 0.02 and back.config == FAST
    assert back.history == {"dev_cost": [0.2, 0.1]} and back.weights == b"\x00" * 8
    assert back.reason == "why" and back.change == "the baseline" and back.attempts == 1


# --- the loop, with an in-process runner ------------------------------------------------------


class InProcessRunner:
    """Runs trials here, one after the other. Trials are numbered as first seen (0 is the
    baseline): ``lose`` maps a number to how many times its worker "dies" before it runs;
    the ``broken`` ones raise inside the trial; with ``diverge`` every trial reports that
    its training diverged."""

    description = "in-process"

    def __init__(self, data: TrialData, lose: dict[int, int] | None = None,
                 broken: Sequence[int] = (), diverge: bool = False) -> None:
        self.data, self.lose, self.broken = data, dict(lose or {}), set(broken)
        self.diverge = diverge
        self.ran: list[TrialTask] = []
        self.order: list[str] = []

    def run(self, tasks: Sequence[TrialTask]) -> Iterator[Outcome]:
        for task in tasks:
            self.ran.append(task)
            if task.key not in self.order:
                self.order.append(task.key)
            number = self.order.index(task.key)
            if self.lose.get(number, 0) > 0:
                self.lose[number] -= 1
                yield Outcome(task, error="the worker died", lost=True)
            elif number in self.broken:
                yield Outcome(task, error="ValueError: planted")
            else:
                result = run_trial(task, self.data)
                if self.diverge:
                    result["stop_reason"] = "diverged"
                yield Outcome(task, result=result)

    def close(self) -> None:
        return None


def loop_for(splits: dr.data.Splits, runner_options: dict[str, Any] | None = None,
             budget: int = 6, **changes: Any) -> tuple[Loop, InProcessRunner]:
    ready, data = prepare(splits)
    options = Options(budget=budget, bayes_error=0.0, seed=0, baseline=FAST, image_shape=None,
                      per_round=3, learning_curve=False, max_attempts=2, bias_threshold=0.02,
                      variance_threshold=0.02)
    options = Options(**{**options.__dict__, **changes})
    runner = InProcessRunner(data, **(runner_options or {}))
    return Loop(TrialStore(None), runner, ready, options), runner


def test_the_loop_records_every_round_and_the_dev_set_picks(moons: dr.data.Splits) -> None:
    loop, _ = loop_for(moons, budget=7)
    loop.run()
    result = loop.finish(None, 0.0)
    assert result.rounds[0].action == BASELINE and result.rounds[0].diagnosis is None
    for trail in result.rounds[1:]:
        assert trail.action in ACTIONS and trail.diagnosis is not None and trail.reason
        assert all(trial.action == trail.action and trial.change for trial in trail.trials)
    done = [trial for trial in result.trials if trial.selectable]
    assert result.best is min(done, key=Trial.rank)
    assert result.n_trials <= 7 and all(trial.status == "done" for trial in result.trials)
    rounds = loop.store.rounds()
    assert [r["action"] for r in rounds] == [trail.action for trail in result.rounds]
    assert result.test_error == result.model().evaluate(moons.test.X, moons.test.y)["error"]
    assert result.test_note.code == "test_unbiased"
    assert f"note: {result.test_note}" in result.summary()  # said in words at the edge


def test_a_lost_worker_is_retried_and_a_failing_trial_is_marked_failed(
        moons: dr.data.Splits) -> None:
    # the baseline's worker dies once; round 1's first trial's worker always dies, its
    # second trial raises
    loop, runner = loop_for(moons, {"lose": {0: 1, 1: 5}, "broken": [2]}, budget=4,
                            bias_threshold=0.0,  # always "high bias"
                            baseline=FAST.replace(learning_rate=0.1, patience=1))  # stops early
    loop.run()
    baseline, lost, broken = (loop.trials[key] for key in runner.order[:3])
    assert baseline.status == "done" and baseline.attempts == 2
    assert baseline.stop_reason == "patience" and loop.rounds[1].action == "bigger_network"
    assert lost.status == "failed" and "died" in (lost.error or "")
    assert broken.status == "failed" and "planted" in (broken.error or "")
    assert sum(task.key == lost.key for task in runner.ran) == 2  # max_attempts
    assert lost.round == broken.round == 1
    assert sum(trial.done for trial in loop.trials.values()) >= 2  # the loop went on
    stored = loop.store.trials()
    assert {key: trial.status for key, trial in stored.items()} == {
        key: trial.status for key, trial in loop.trials.items()}


def test_a_resumed_loop_reads_finished_trials_back_and_trains_only_the_rest(
        moons: dr.data.Splits, tmp_path: Path) -> None:
    first, _ = loop_for(moons, budget=4)
    first.store = TrialStore(tmp_path)
    first.run()
    with first.store:
        finished = {key: t.finished_at for key, t in first.store.trials().items()}
    again, runner = loop_for(moons, budget=8)
    again.store = TrialStore(tmp_path)
    again.stored = again.store.trials()
    again.run()
    assert not {task.key for task in runner.ran} & set(finished)
    assert all(again.trials[key].resumed for key in finished)
    uninterrupted, _ = loop_for(moons, budget=8)
    uninterrupted.run()
    assert list(again.trials) == list(uninterrupted.trials)
    assert again.best().key == uninterrupted.best().key
    with again.store:
        times = {key: t.finished_at for key, t in again.store.trials().items()}
    assert all(times[key] == when for key, when in finished.items())


@pytest.fixture(scope="module")
def noisy() -> dr.data.Splits:
    """A linear target of 5 inputs plus noise (σ = 2, about 40% of its variance): the noise
    a network cannot learn, and a zero Bayes error would call bias."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    return dr.data.split(X, X @ rng.normal(size=5) + rng.normal(scale=2.0, size=2000), seed=0)


def test_on_noisy_data_the_tune_probes_the_bias_then_stops_at_the_yardstick(
        noisy: dr.data.Splits, tmp_path: Path) -> None:
    baseline = FAST.replace(epochs=100)
    loop, _ = loop_for(noisy, baseline=baseline, bayes_error="auto", budget=12)
    loop.run()
    result = loop.finish(None, 0.0)
    # the baseline is at the yardstick: a bigger network and longer training test whether its
    # bias is avoidable; judged on dev, neither beats it, and the recipe stops
    assert [trail.action for trail in result.rounds] == [BASELINE, *PROBES]
    assert all("not shown to be avoidable" in trail.reason and "high bias" not in trail.reason
               for trail in result.rounds[1:])
    assert result.best.action == BASELINE and result.n_trials < 12
    assert result.stop_reason.code == "recipe_done" and result.diagnosis.verdict == GOOD
    yardstick = result.yardstick
    assert yardstick is not None and yardstick.regression and yardstick.best.kind != "constant"
    # the trials' units (the standardized target): the noise is most of what is left
    assert 0.3 < result.bayes_error == yardstick.error == result.diagnosis.bayes_error < 0.6
    assert result.diagnosis.bias_source == "yardstick"
    assert result.to_dict()["yardstick"]["error"] == yardstick.error
    assert yardstick.headline() in result.summary()
    assert "reaches the yardstick with low variance" in str(result.stop_reason)
    # the page and the figure name the yardstick and its references beside the network
    context = tune_context(result, "")
    assert [row["name"].split(":")[0] for row in context["references"]] == [
        *(ref.kind for ref in yardstick.references), "the chosen network"]
    assert context["bayes_line"].startswith(yardstick.headline())
    page = write_tune_report(result, tmp_path)["report"].read_text()
    assert 'id="yardstick"' in page and yardstick.best.model in page
    figure = dr.recipe.plot_decision_trail(result)
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert any(text.startswith("yardstick ") and yardstick.best.model in text
               for text in legend)
    # read against a zero Bayes error the same network has "high bias": the recipe grows it
    zero, _ = loop_for(noisy, baseline=baseline, bayes_error=0.0, budget=2)
    zero.run()
    assert zero.yardstick is None and zero.rounds[1].action == "bigger_network"


def test_a_resumed_tune_reads_its_yardstick_back(noisy: dr.data.Splits, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = loop_for(noisy, budget=2, bayes_error="auto")
    first.store = TrialStore(tmp_path)
    first.run()
    first.store.close()

    def refit(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the yardstick was fitted again")

    monkeypatch.setattr("deeprecipe.recipe.loop.fit_references", refit)
    again, runner = loop_for(noisy, budget=4, bayes_error="auto")
    again.store = TrialStore(tmp_path)
    again.stored = again.store.trials()
    again.run()
    assert again.yardstick == first.yardstick is not None
    assert not {task.key for task in runner.ran} & set(first.trials)
    assert [trail.reason for trail in again.rounds[:len(first.rounds)]] == [
        trail.reason for trail in first.rounds]


# --- tune() end to end ---------------------------------------------------------------------------


def test_tune_runs_the_recipe_in_local_processes(cancer: dr.data.Splits,
                                                 tmp_path: Path) -> None:
    seen: list[str] = []
    steps: list[tuple[str, int | None, int]] = []

    class Seen(dr.Callback):
        def on_step_begin(self, step: str, description: str, total: int | None = None,
                          done: int = 0) -> None:
            steps.append((step, total, done))

        def on_trial_end(self, trial: Any) -> None:
            seen.append(trial.key)

    result = dr.recipe.tune(cancer, budget=3, folder=tmp_path / "run", baseline=FAST,
                            workers=2, callbacks=[Seen()])
    assert result.n_trials == len(seen) <= 3
    assert steps == [("yardstick", None, 0), ("tune", 3, 0)]  # bayes_error="auto"
    assert result.runner.startswith("2 local worker processes (")
    assert {trial.worker for trial in result.trials} != {None}
    assert all(str(os.getpid()) not in (trial.worker or "") for trial in result.trials)
    assert (tmp_path / "run" / "trials.sqlite").exists()
    loaded = dr.load(tmp_path / "run" / "model")
    np.testing.assert_array_equal(loaded.predict(cancer.test.X), result.model().predict(
        cancer.test.X))
    database = tmp_path / "run" / "trials.sqlite"
    statuses = query(database, "SELECT status FROM trials")
    measured = query(database, "SELECT value FROM settings WHERE name = 'test_measurements'")
    assert statuses == [("done",)] * result.n_trials
    assert len(measured) == 1 and measured[0][0].count('"trial"') == 1  # the test set: once
    recorded = query(database, "SELECT value FROM settings WHERE name = 'yardstick'")
    assert json.loads(recorded[0][0]) == result.yardstick.to_dict()  # for a resume
    with pytest.raises(ValueError, match="tune: folder must be a new run folder"):
        dr.recipe.tune(cancer, budget=3, folder=tmp_path / "run")
    with pytest.raises(ValueError, match="tune: seed must be 0 to resume the run"):
        dr.recipe.tune(cancer, budget=3, folder=tmp_path / "run", baseline=FAST, seed=1,
                       resume=True)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"budget": 0}, "tune: budget must be a positive integer; received budget=0."),
    ({"bayes_error": 5}, "tune: bayes_error must be 'auto' or an error rate in [0, 1): a "
                         "fraction (0.01) or a percentage ('1%'); received bayes_error=5. help: "
                         "errors are fractions: for 5 percent write 5% (or 0.05)"),
    # one rule and one message: a fraction may be 1, the recipe needs an error left to learn
    ({"bayes_error": 1}, "tune: bayes_error must be 'auto' or an error rate in [0, 1): a "
                         "fraction (0.01) or a percentage ('1%'); received bayes_error=1."),
    ({"bayes_error": "human"}, "tune: bayes_error must be 'auto' or an error rate in [0, 1)"),
    ({"resume": True}, "tune: folder must be the run folder to resume when resume=True"),
    ({"workers": -1}, "tune: workers must be a positive integer"),
    ({"augment": ["spin"]}, "tune: augment must be true (the data's defaults), false, or "
                            "transforms from flip, crop, rotate, distort"),
    ({"classes": ["benign"]}, "tune: classes must be a label for each class code 0 … k−1 of "
                              "the targets (integers from 0 to 0); received classes=['benign']."),
])
def test_tune_refuses_bad_arguments(cancer: dr.data.Splits, arguments: dict[str, Any],
                                    message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(")", r"\)")
                       .replace("(", r"\(")):
        dr.recipe.tune(cancer, **arguments)


def test_tune_refuses_what_is_not_a_split() -> None:
    with pytest.raises(TypeError, match="tune: splits must be the result of"):
        dr.recipe.tune((np.zeros((4, 2)), np.zeros(4)))


# --- the figure ----------------------------------------------------------------------------------


def test_the_decision_trail_plot_shows_each_round_and_the_bayes_error(
        moons: dr.data.Splits) -> None:
    loop, _ = loop_for(moons, budget=5)
    loop.run()
    result = loop.finish(None, 0.0)
    figure = dr.recipe.plot_decision_trail(result)
    ax = figure.axes[0]
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert labels[0] == "0\nbaseline" and len(labels) == len(result.rounds)
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert any(text.startswith("Bayes error 0.00% (given)") for text in legend)
    assert any("measured once" in text for text in legend)
    figure.savefig(Path(os.devnull), format="png")


# --- slow: real processes, kill -9, Dask ---------------------------------------------------------


def crash(task: TrialTask, data: TrialData) -> dict[str, Any]:
    """A trial whose worker process dies (imported by name in the worker)."""
    os._exit(3)


@pytest.mark.slow
def test_local_runner_reports_a_dead_worker_as_lost_and_recovers(
        cancer: dr.data.Splits) -> None:
    _, data = prepare(cancer)
    task = TrialTask(FAST.key(0), FAST, 0)
    with LocalRunner(data, 2, function=crash) as runner:
        outcomes = list(runner.run([task]))
    assert outcomes[0].lost and "worker process died" in (outcomes[0].error or "")
    with LocalRunner(data, 1, method="spawn") as runner:
        outcome = next(iter(runner.run([task])))
    assert outcome.result is not None and outcome.result["dev_error"] < 0.2


TUNE_SCRIPT = """
import sys
import deeprecipe as dr
from deeprecipe.recipe import Config

if __name__ == "__main__":  # worker processes import this file again
    X, y = dr.datasets.load("breast_cancer")
    splits = dr.data.split(X, y, seed=0)
    dr.recipe.tune(splits, budget=14, seed=0, folder=sys.argv[1], workers=2,
                   baseline=Config(hidden=(32,), epochs=300, patience=30),
                   resume=sys.argv[2] == "resume")
"""


@pytest.mark.slow
def test_kill_9_mid_tune_then_resume_redoes_nothing_and_chooses_the_same(
        tmp_path: Path, cancer: dr.data.Splits) -> None:
    script = tmp_path / "tune.py"
    script.write_text(textwrap.dedent(TUNE_SCRIPT))
    folder = tmp_path / "run"
    process = subprocess.Popen([sys.executable, str(script), str(folder), "new"],
                               start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(finished_trials(folder / "trials.sqlite")) < 4:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the tune never finished 4 trials"
            time.sleep(0.02)
    finally:
        with suppress(ProcessLookupError):  # the tune and its worker processes, at once
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
    before = finished_trials(folder / "trials.sqlite")
    assert not query(folder / "trials.sqlite", "SELECT 1 FROM settings WHERE name = "
                     "'test_measurements'"), "killed too late: the run had finished"

    baseline = Config(hidden=(32,), epochs=300, patience=30)
    resumed = dr.recipe.tune(cancer, budget=14, seed=0, folder=folder, workers=2,
                             baseline=baseline, resume=True)
    after = finished_trials(folder / "trials.sqlite")
    assert all(after[key] == when for key, when in before.items())  # not trained again
    assert {t.key for t in resumed.trials if t.resumed} >= set(before)
    assert resumed.resumed_trials >= len(before)
    fresh = dr.recipe.tune(cancer, budget=14, seed=0, workers=2, baseline=baseline)
    assert [t.key for t in resumed.trials] == [t.key for t in fresh.trials]
    assert resumed.best.key == fresh.best.key
    assert resumed.test_error == fresh.test_error


def test_signals_during_the_pools_start_are_delivered_after_it() -> None:
    from deeprecipe.recipe.runners import _signals_deferred

    seen: list[int] = []
    previous = {signum: signal.signal(signum, lambda got, frame: seen.append(got))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _signals_deferred():
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGTERM)
            assert seen == []  # held back while the processes start
        assert seen == [signal.SIGTERM, signal.SIGINT]  # then each once, in order
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@pytest.mark.slow
def test_a_script_without_the_main_guard_is_told_to_add_it(tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent("""
        import deeprecipe as dr
        splits = dr.data.split(*dr.datasets.load("breast_cancer"), seed=0)
        dr.recipe.tune(splits, budget=2, workers=1, folder="runs/t")
    """))
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0
    # the worker's own error, not "folder must be a new run folder" from re-running the tune
    assert "tune: called while a worker process imported your script" in result.stderr
    assert 'if __name__ == "__main__":' in result.stderr
    assert "must be a new run folder" not in result.stderr


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A real Dask cluster on loopback: 2 worker processes of 1 thread, no dashboard.

    ``allowed-failures = 0``: a task whose worker dies fails at once with KilledWorker
    instead of Dask rescheduling it quietly, so the tune's own retry is what is tested.
    """
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.mark.slow
def test_tune_runs_its_trials_on_a_dask_cluster(dask_client: Any,
                                                cancer: dr.data.Splits) -> None:
    pids = set(dask_client.run(os.getpid).values())
    result = dr.recipe.tune(cancer, budget=4, client=dask_client, baseline=FAST)
    assert result.runner.startswith("Dask cluster at tcp://127.0.0.1:")
    assert {int((trial.worker or ":0").rsplit(":", 1)[1]) for trial in result.trials} <= pids
    assert all(trial.done for trial in result.trials)
    address = dask_client.scheduler.address
    by_address = dr.recipe.tune(cancer, budget=4, client=address, baseline=FAST)
    assert [t.key for t in by_address.trials] == [t.key for t in result.trials]
    assert by_address.best.key == result.best.key


@pytest.mark.slow
def test_a_dask_worker_killed_mid_trial_gets_its_trial_retried(
        dask_client: Any, moons: dr.data.Splits, tmp_path: Path) -> None:
    pids = dask_client.run(os.getpid)
    slow = Config(hidden=(128, 128), epochs=1500, patience=1500)  # ~1 s a trial
    killed: list[tuple[str, str]] = []

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for address, keys in dask_client.processing().items():
                trials = [key for key in keys if str(key).startswith("deeprecipe-trial-")]
                if trials and address in pids:
                    time.sleep(0.2)  # let it start training
                    os.kill(pids[address], signal.SIGKILL)
                    killed.append((address, str(trials[0])))
                    return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_a_busy_worker)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(dr.recipe.tune, moons, budget=3, client=dask_client,
                             baseline=slow, folder=tmp_path / "run")
        killer.start()
        result = future.result(timeout=120)
    killer.join()
    assert killed, "no trial was seen running"
    key = killed[0][1].split("-")[2]
    trial = next(t for t in result.trials if t.key == key)
    assert trial.status == "done" and trial.attempts == 2
    assert str(pids[killed[0][0]]) not in (trial.worker or "")
    assert all(t.status == "done" for t in result.trials)  # nothing else lost
    rows = dict(query(tmp_path / "run" / "trials.sqlite", "SELECT key, attempts FROM trials"))
    assert rows[key] == 2 and len(rows) == result.n_trials


def test_the_decision_of_round_zero_is_the_baseline() -> None:
    decision = dr.recipe.policy.baseline_decision(FAST)
    assert isinstance(decision, Decision) and decision.action == BASELINE
    assert decision.why.code == "recipe_baseline"


def test_a_diverged_trial_is_diagnosed_diverged_and_the_recipe_lowers_its_learning_rate(
        moons: dr.data.Splits) -> None:
    # a trial whose training diverged kept chance-level weights: its errors read as "high
    # bias", and the recipe grew the network; it must be recorded as diverged instead
    loop, _ = loop_for(moons)
    trial = Trial(FAST.key(0), FAST, 0, 0, BASELINE, "", train_error=0.5, dev_error=0.5,
                  dev_cost=0.7, status="done", stop_reason="diverged")
    diagnosis = loop.diagnose(trial)
    assert diagnosis.verdict == "diverged"
    assert not diagnosis.high_bias and diagnosis.actions[0] == "lower_learning_rate"
    decision = decide(Situation(trial, diagnosis, frozenset({trial.key}), seed=0))
    assert decision.action == "lower_learning_rate"
    assert [c.config.learning_rate for c in decision.candidates] == [1e-4, 1e-5]
    assert decision.why.code == "recipe_lower_learning_rate"
    assert decision.why.values["diverged"] is True  # no bias/variance reading
    assert decision.reason.startswith("diverged (train error 50.00%, dev error 50.00%, Bayes "
                                      "error 0.00%): training diverged")  # its wording
    assert "avoidable bias" not in decision.reason
    # when every lower rate was tried, the recipe stops and says so
    tried = frozenset({trial.key, *(c.config.key(0) for c in decision.candidates)})
    last = decide(Situation(trial, diagnosis, tried, seed=0))
    assert last.stops and "lower_learning_rate: the learning rates below" in last.skipped[0]


def test_when_no_lower_learning_rate_helps_a_diverged_run_the_recipe_names_other_suspects(
        ) -> None:
    # it said "what is left is outside this search (another architecture, more data)": the
    # cures for bias and variance, for a run that has no bias/variance reading
    trial = Trial(FAST.key(0), FAST, 0, 0, BASELINE, "", train_error=0.5, dev_error=0.5,
                  dev_cost=0.7, status="done", stop_reason="diverged")
    diagnosis = dr.diagnose(0.5, 0.5, diverged=True)
    lower = decide(Situation(trial, diagnosis, frozenset({trial.key}), seed=0)).candidates
    tried = frozenset({trial.key, *(c.config.key(0) for c in lower)})
    last = decide(Situation(trial, diagnosis, tried, seed=0))
    assert last.stops and last.why.code == "recipe_diverged_stop"
    assert last.why.values["lowest_rate"] == 1e-5 and last.why.values["diverged"] is True
    # the words name the suspects outside the search, not the cures for bias and variance
    assert all(suspect in last.reason for suspect in (
        "the data's scale", "the initialization", "the loss"))
    assert "another architecture" not in last.reason and "more data" not in last.reason
    assert "avoidable bias" not in last.reason


def test_a_tune_whose_trials_all_diverged_reports_diverged_without_bias_or_variance(
        moons: dr.data.Splits, tmp_path: Path) -> None:
    loop, _ = loop_for(moons, {"diverge": True}, budget=6)
    loop.run()
    result = loop.finish(None, 0.0)
    assert result.diagnosis.diverged and result.next_step.stops
    assert result.stop_reason.code == "recipe_diverged_stop"
    assert "the learning rate could not make it converge" in str(result.stop_reason)
    # the summary the command line prints, and the table
    summary = result.summary()
    assert "the chosen model's training diverged: no bias/variance reading" in summary
    assert "- lower learning rate:" in summary and "avoidable bias" not in summary
    trail = summary.split("decision trail:")[1]
    assert trail.count(", diverged") == result.n_trials
    assert result.table().count("| done (diverged) |") == result.n_trials
    # the page: the divergence's advice, no bias/variance numbers, a problem, not "good"
    context = tune_context(result, "")
    assert [label for _, label in context["numbers"]] == [
        "dev error (chose the model)", "test error (measured once)", "trials / budget",
        "wall time"]
    assert context["level"] == "problem"
    assert context["diverged_advice"][0].action == "lower_learning_rate"
    assert {trial["status"] for trail in context["rounds"] for trial in trail["trials"]} == {
        "diverged"}
    assert {level(trail["verdict"]) for trail in context["rounds"][1:]} == {"problem"}
    page = write_tune_report(result, tmp_path)["report"].read_text()
    assert "avoidable bias" not in page and "Training diverged: no bias/variance" in page
    assert 'class="card hero problem"' in page and "Lower learning rate" in page


def test_a_round_stored_before_findings_were_codes_reads_back(tmp_path: Path) -> None:
    # trials.sqlite written before findings were codes held a round's recommendation as a
    # plain sentence; the store reads it back as that sentence instead of failing on JSON
    with TrialStore(tmp_path) as store:
        store.connection.execute(
            "INSERT INTO rounds (number, action, reason, trial_keys, recommendation, skipped) "
            "VALUES (0, 'baseline', 'the baseline', '[]', 'collect more data', '[]')")
        store.connection.commit()
        assert store.rounds()[0]["recommendation"] == "collect more data"
        store.connection.execute("UPDATE rounds SET skipped = 'not json'")
        with pytest.raises(ValueError):  # any other JSON column that does not parse: damage
            store.rounds()


# --- big data: trials on samples, the chosen configuration on every row ------------------------


@pytest.fixture
def small_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sampling rule at a small scale: samples above 200 training rows, the first of 60,
    the largest of 240."""
    for name, value in {"SAMPLE_ABOVE": 200, "FIRST_ROWS": 60, "MOST_ROWS": 240}.items():
        monkeypatch.setattr(sample, name, value)


def test_the_sampling_rule_fires_only_above_its_threshold_and_grows_to_a_cap() -> None:
    assert sample.first_rows(sample.SAMPLE_ABOVE) is None  # at the threshold: every row
    assert sample.first_rows(sample.SAMPLE_ABOVE + 1) == sample.FIRST_ROWS == 100_000
    assert sample.shipped_rows(1_000) == 1_000
    assert sample.shipped_rows(10_000_000) == sample.MOST_ROWS == 400_000
    assert sample.larger(100_000, 10_000_000) == 400_000  # ×GROWTH
    assert sample.larger(400_000, 10_000_000) is None  # past MOST_ROWS: the final trains on all
    assert sample.larger(100_000, 300_000) == 300_000  # growing reaches every row
    assert sample.larger(None, 300_000) is None
    # the baseline on a sample: at most TRIAL_EXAMPLES examples (50 epochs of 100,000 rows)
    assert sample.baseline(Config(), 10_000_000) == Config(rows=100_000, epochs=50)
    assert sample.baseline(Config(), 200_000) == Config()  # the rule does not fire
    assert sample.baseline(FAST.replace(rows=7), 10_000_000) == FAST.replace(rows=7)
    # the final training: twice the examples the trial saw up to its best epoch (0-based)
    assert sample.final_epochs(63, 79, 100_000, 980_000, 200) == 14  # ⌈2·64·1e5 / 9.8e5⌉
    assert sample.final_epochs(63, 79, 100_000, 9_800_000, 200) == 2
    assert sample.final_epochs(None, 3, 100_000, 9_800_000, 200) == 1  # at least one
    assert sample.final_epochs(None, 200, 100_000, 150_000, 30) == 30  # at most its own


def test_no_built_in_dataset_is_sampled() -> None:
    # tune's results on the built-in datasets stay as they were: the rule never fires there
    for name in dr.datasets.REAL:
        splits = dr.data.split(*dr.datasets.load(name), seed=0)
        assert sample.first_rows(len(splits.train)) is None, name
    # … and a config without a sample keeps the name it had before samples existed
    assert Config().key(0) == "9807a1fa8e4b3976" and "rows" not in Config().to_dict()
    assert FAST.key(3) == "efb21afa1dab0d9c"


def test_a_config_names_its_sample() -> None:
    config = FAST.replace(rows=5_000)
    assert Config.from_dict(config.to_dict()) == config and config.key(0) != FAST.key(0)
    assert "a sample of 5,000 rows" in config.describe()
    with pytest.raises(ValueError, match="Config: rows must be a positive integer"):
        FAST.replace(rows=0)


def test_high_variance_on_a_sample_grows_it_and_then_leaves_it_to_the_final_training(
        small_samples: None) -> None:
    decision = decide(situation(0.0, 0.11, config=FAST.replace(rows=60), n_train=1_000))
    assert decision.action == "more_data" and decision.why.code == "recipe_more_data:sample"
    # the same examples: a quarter of the epochs
    assert [c.config for c in decision.candidates] == [FAST.replace(rows=240, epochs=8)]
    assert decision.candidates[0].change == ("more data: a sample of 60 → 240 training rows, "
                                             "≤30 → ≤8 epochs (as many examples)")
    # as large as a trial's sample gets: the next cure for variance, and no learning curve
    decision = decide(situation(0.0, 0.11, config=FAST.replace(rows=240), n_train=1_000))
    assert decision.action == "regularize_l2"
    assert any("more_data: the sample is as large as a trial's gets (240 rows); the chosen "
               "configuration trains on all 1,000 at the end" in n for n in decision.skipped)
    # growing reaches every row: the config trains on all of them
    decision = decide(situation(0.0, 0.11, config=FAST.replace(rows=60), n_train=230))
    assert [c.config.rows for c in decision.candidates] == [None]


def test_on_big_data_trials_see_a_sample_and_the_chosen_config_trains_on_every_row(
        small_samples: None, tmp_path: Path) -> None:
    splits = dr.data.split(*dr.datasets.load("moons", n_samples=600, noise=0.25, seed=0),
                           seed=0)
    n_train = len(splits.train)  # 360: above the threshold of 200
    loop, runner = loop_for(splits, budget=4, n_train=n_train)
    loop.store = TrialStore(tmp_path)
    loop.run()
    loop.train_final()
    result = loop.finish(None, 0.0)
    # the workers hold a sample, never the whole training part
    assert len(runner.data.X_train) == len(runner.data.y_train) == 240
    searched = [trial for trial in result.trials if trial.action != "final"]
    baseline = searched[0]
    assert baseline.config.rows == baseline.n_train == 60
    assert baseline.sample is not None and baseline.sample.code == "sample_first"
    assert all(trial.n_train is not None and trial.n_train <= 240 for trial in searched)
    assert result.n_trials == len(searched) <= 4
    # the chosen configuration, trained again on every row, here, is the result's model
    final, chosen = result.best, loop.best()
    assert final.action == "final" and result.rounds[-1].trials == [final]
    assert final.n_train == n_train and final.config.rows is None
    assert final.config == chosen.config.replace(rows=None, epochs=final.config.epochs,
                                                 patience=final.config.patience)
    assert final.config.epochs == sample.final_epochs(
        chosen.best_epoch, int(chosen.epochs_run or 0), 60, n_train, chosen.config.epochs)
    assert final.sample is not None and final.sample.code == "sample_final"
    assert result.dev_error == final.dev_error
    assert result.test_error == result.model().evaluate(splits.test.X, splits.test.y)["error"]
    # each trial's sample and why: in the JSON, the store and the report
    assert result.to_dict()["best"]["sample"]["code"] == "sample_final"
    with loop.store:
        stored = loop.store.trials()
    assert stored[final.key].sample == final.sample and stored[final.key].n_train == n_train
    assert stored[baseline.key].sample == baseline.sample
    paths = write_tune_report(result, tmp_path)
    page = paths["report"].read_text()
    assert "a seeded sample of 60 of the 360 training rows" in page
    assert "all 360 training rows: the chosen configuration" in page
    assert f"All {result.n_trials} trials and the final training on every row" in page
    # resumed, the run reads the final training back instead of training it again
    again, rerun = loop_for(splits, budget=4, n_train=n_train)
    again.store = TrialStore(tmp_path)
    again.stored = again.store.trials()
    again.run()
    again.train_final()
    assert not rerun.ran and again.final is not None and again.final.resumed
    assert again.final.weights == final.weights
    # a final model worse on the dev set than its trial on the sample is said
    again.final.dev_error = (chosen.dev_error or 0.0) + 0.1
    remark = again.finish(None, 0.0).remarks[-1]
    assert remark.code == "tune_final_worse" and remark.values["trial"] == chosen.dev_error


def test_a_larger_sample_is_read_as_a_learning_curve_without_asking_for_more_data(
        moons: dr.data.Splits) -> None:
    loop, _ = loop_for(moons)
    parent = Trial("p", FAST.replace(rows=60), 0, 0, BASELINE, "", status="done",
                   train_error=0.0, dev_error=0.2, n_train=60, epochs_run=5)
    grown = Trial("g", FAST.replace(rows=120), 0, 1, "more_data", "", status="done",
                  train_error=0.02, dev_error=0.1, n_train=120, epochs_run=5)
    loop.trials.update(p=parent, g=grown)
    finding = loop.read_learning_curve([grown], "p")
    assert finding.code == "tune_sample_curve" and finding.values["reading"] == "curve_more_data"
    assert not loop.recommendations and not loop.learning_curve_done


def test_a_database_from_before_samples_opens_and_gains_the_column(tmp_path: Path) -> None:
    old = dr.recipe.store.SCHEMA.replace(", sample TEXT", "")
    with closing(sqlite3.connect(tmp_path / dr.recipe.DATABASE)) as db, db:
        db.executescript(old)
        db.execute("INSERT INTO trials (key, number, round, config, seed, action, reason, "
                   "change, status, attempts) VALUES ('k', 0, 0, ?, 0, 'baseline', '', '', "
                   "'running', 1)", (json.dumps(FAST.to_dict()),))
    with TrialStore(tmp_path) as store:
        back = store.trials()["k"]
    assert back.config == FAST and back.sample is None


def test_the_data_fingerprint_is_the_one_older_runs_recorded(moons: dr.data.Splits) -> None:
    # hashed a chunk at a time, never gathering a part, yet the digest a resume compares with
    older = dr.pipeline.fingerprint(*(item for name, part in moons.parts.items()
                                      for item in (name, part.X, part.y, part.indices)))
    assert data_fingerprint(moons) == older
    # … and targets given as codes of labels hash as those labels, as the CLI gave them
    names = np.array(["no", "yes"])
    coded = dr.data.split(moons.train.source_X, moons.train.source_y, seed=0)
    labelled = dr.data.split(moons.train.source_X, names[moons.train.source_y], seed=0)
    assert data_fingerprint(coded, names.tolist()) == data_fingerprint(labelled)


def test_a_big_tune_holds_the_training_rows_once_and_sends_the_workers_a_sample(
        small_samples: None) -> None:
    # 300,000 × 20 float32 (24 MB): the preparation and the final training on every row add
    # index arrays and the workers' 240-row sample, never a second copy of X (≥ 1.0 × X)
    def big(m: int) -> dr.data.Splits:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(m, 20)).astype(np.float32)
        return dr.data.split(X, (X[:, 0] + rng.normal(size=m) > 0).astype(np.intp), seed=0)

    final = TrialTask("final", Config(hidden=(8,), epochs=1, batch_size=256), 0)
    warm_ready, warm_data = prepare(big(2_000), in_place=True)  # imports: not measured
    train_trial(final, warm_data, warm_ready.learned.train)
    splits = big(300_000)
    X = splits.train.source_X
    tracemalloc.start()
    try:
        ready, data = prepare(splits, in_place=True)
        prepared = tracemalloc.get_traced_memory()[1] / X.nbytes
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        outcome = train_trial(final, data, ready.learned.train)
        trained = (tracemalloc.get_traced_memory()[1] - before) / X.nbytes
    finally:
        tracemalloc.stop()
    assert ready.learned.train.source_X is X  # standardized where it is
    assert len(data.X_train) == 240 and outcome["n_train"] == len(splits.train)
    assert prepared < 0.8 and trained < 0.8, (prepared, trained)


def test_on_a_sample_training_longer_stops_at_the_trials_examples() -> None:
    # 100,000 rows: the baseline's 50 epochs (TRIAL_EXAMPLES), then at most 100 (MOST_EXAMPLES)
    base = sample.baseline(Config(), 10_000_000)
    decision = decide(situation(0.15, 0.16, config=base, stop_reason="max_epochs",
                                n_train=10_000_000))
    assert decision.action == "train_longer"
    assert [(c.config.epochs, c.config.patience) for c in decision.candidates] == [(100, 30)]
    decision = decide(situation(0.15, 0.16, config=base.replace(epochs=100, patience=30),
                                stop_reason="max_epochs", n_train=10_000_000))
    assert decision.action == "bigger_network"  # the next cure for bias
    assert any("a trial on a sample sees at most 10,000,000 examples, 100 epochs of 100,000 "
               "rows" in note for note in decision.skipped)


def test_a_data_mismatch_alone_stops_the_recipe_and_says_why() -> None:
    # dev − train-dev = 12 points, variance 1 point: nothing in the search closes a mismatch
    mismatch = dr.diagnose(0.02, 0.15, 0.01, train_dev_error=0.03)
    decision = decide(dataclasses.replace(situation(0.02, 0.15), diagnosis=mismatch))
    assert decision.stops and decision.why.code == "recipe_mismatch"
    assert "data mismatch 12.00%" in str(decision.why)
    with_variance = dr.diagnose(0.02, 0.20, 0.01, train_dev_error=0.10)  # variance first
    decision = decide(dataclasses.replace(situation(0.02, 0.20), diagnosis=with_variance))
    assert not decision.stops and decision.action in ("more_data", "regularize_l2")
