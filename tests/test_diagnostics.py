"""Tests for ``deeprecipe.diagnostics.bias_variance``: the notes' bias/variance table, the
basic recipe's advice, confidence intervals, and the numbers a training run feeds it."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe.diagnostics import ACTIONS, Advice, Diagnosis, diagnose, wilson_interval
from deeprecipe.diagnostics.bias_variance import (
    BOTH,
    DIVERGED,
    GOOD,
    HIGH_BIAS,
    HIGH_VARIANCE,
    fraction,
)
from deeprecipe.runconfig import BadValue

# --- the notes' table ---------------------------------------------------------------------

NOTES_TABLE = [
    # train, dev, Bayes, verdict                      (the notes' "Bias / Variance" table)
    (0.01, 0.11, 0.0, HIGH_VARIANCE),
    (0.15, 0.16, 0.0, HIGH_BIAS),
    (0.15, 0.30, 0.0, BOTH),
    (0.005, 0.01, 0.0, GOOD),
    (0.15, 0.16, 0.15, GOOD),  # the notes' note: with Bayes error 15%, case 2 is optimal
]


@pytest.mark.parametrize(("train", "dev", "bayes", "verdict"), NOTES_TABLE)
def test_the_notes_table(train: float, dev: float, bayes: float, verdict: str) -> None:
    diagnosis = diagnose(train, dev, bayes_error=bayes)
    assert diagnosis.verdict == verdict
    assert diagnosis.avoidable_bias == pytest.approx(train - bayes)
    assert diagnosis.variance == pytest.approx(dev - train)
    assert diagnosis.high_bias == (verdict in (HIGH_BIAS, BOTH))
    assert diagnosis.high_variance == (verdict in (HIGH_VARIANCE, BOTH))


def test_a_hand_worked_case() -> None:
    # train 15%, dev 16%, Bayes 15%: avoidable bias 15 − 15 = 0 points, variance 16 − 15 = 1
    # point; both at or below the 2-point thresholds, so the notes' "optimal" case.
    diagnosis = diagnose(0.15, 0.16, bayes_error=0.15)
    assert diagnosis.avoidable_bias == pytest.approx(0.0)
    assert diagnosis.variance == pytest.approx(0.01)
    assert diagnosis.actions == ["stop"]


def test_exported_from_the_package() -> None:
    assert dr.diagnose is diagnose
    assert dr.diagnostics.diagnose is diagnose
    assert isinstance(dr.diagnose(0.01, 0.11), dr.Diagnosis)


# --- advice: the basic recipe, in order -----------------------------------------------------


def test_high_bias_advice_is_the_notes_bias_recipe_in_order() -> None:
    assert diagnose(0.15, 0.16).actions == ["bigger_network", "train_longer",
                                            "other_architecture"]


def test_high_variance_advice_is_the_notes_variance_recipe_in_order() -> None:
    assert diagnose(0.01, 0.11).actions == ["more_data", "augment", "regularize_l2",
                                            "dropout", "other_architecture"]


def test_both_fixes_bias_first_then_variance_architecture_last() -> None:
    actions = diagnose(0.15, 0.30).actions
    assert actions == ["bigger_network", "train_longer", "more_data", "augment",
                       "regularize_l2", "dropout", "other_architecture"]
    assert len(set(actions)) == len(actions)


def test_low_bias_and_variance_says_stop() -> None:
    assert diagnose(0.005, 0.01).actions == ["stop"]


def test_every_action_is_a_designed_name_with_a_reason() -> None:
    for train, dev, bayes, _ in NOTES_TABLE:
        for advice in diagnose(train, dev, bayes_error=bayes).advice:
            assert isinstance(advice, Advice)
            assert advice.action in ACTIONS
            assert advice.reason
            assert str(advice).startswith(advice.action.replace("_", " "))


def test_an_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="action must be one of"):
        Advice("buy_a_gpu")
    with pytest.raises(ValueError, match="code must be one of the findings' codes"):
        Advice("stop", "ship_it")


# --- the notes' remarks -----------------------------------------------------------------------


def test_high_bias_says_more_data_does_not_fix_it() -> None:
    assert diagnose(0.15, 0.16).codes == ["no_fix_for_bias", "bigger_is_safe"]


def test_high_variance_says_more_data_does_not_hurt_bias() -> None:
    assert diagnose(0.01, 0.11).codes == ["data_is_safe"]


def test_a_train_error_below_bayes_questions_the_bayes_estimate() -> None:
    assert "bayes_too_high" in diagnose(0.05, 0.06, bayes_error=0.10).codes


def test_a_dev_error_well_below_the_train_error_is_pointed_out() -> None:
    below = diagnose(0.11, 0.01).finding("dev_below_train")
    assert below is not None and below.values["gap"] == pytest.approx(0.10)
    assert "the dev error is 10.00% below the training error" in str(below)  # its wording
    assert "dr.data.compare" in str(below) and "dropout off" in str(below)
    assert "dev_below_train" not in diagnose(0.05, 0.04).codes
    regression = diagnose(0.5, 0.2, regression=True).finding("dev_below_train")
    assert regression is not None and regression.values["regression"] is True
    assert "the dev error is 0.3 below the training error" in str(regression)


def test_a_gap_of_exactly_the_threshold_is_not_high_whatever_the_rounding() -> None:
    for train in np.arange(0, 0.3, 0.01):  # 0.05 - 0.03 is 0.020000000000000004
        assert not diagnose(train, train + 0.02).high_variance, train
        assert not diagnose(train + 0.02, 0.5, bayes_error=train).high_bias, train
    assert diagnose(0.03, 0.0501).high_variance


def test_regression_remarks_show_mean_squared_errors_not_percentages() -> None:
    d = diagnose(0.5, 0.6, test_error=4.0, regression=True)
    overfitted = d.finding("dev_overfitted")
    assert overfitted is not None and overfitted.values == {"gap": 3.4, "regression": True}
    assert "the test error is 3.4 above the dev error" in str(overfitted)
    assert not any("%" in str(r) for r in d.remarks)


def test_few_training_examples_are_pointed_out_under_high_variance() -> None:
    few = diagnose(0.0, 0.2, n_train=100).finding("few_examples")
    assert few is not None and few.values == {"n_train": 100}
    assert diagnose(0.15, 0.30, n_train=100).finding("few_examples:biased") is not None
    assert not any(code.startswith("few_examples")
                   for code in diagnose(0.15, 0.16, n_train=100).codes)


def test_summary_and_dict() -> None:
    diagnosis = diagnose(0.01, 0.11)
    text = diagnosis.summary()
    assert text.startswith("high variance: train error 1.00%, dev error 11.00%")
    assert "- more data:" in text
    record = diagnosis.to_dict()
    assert record["verdict"] == HIGH_VARIANCE
    assert record["advice"][0]["action"] == "more_data"


# --- thresholds are parameters ----------------------------------------------------------------


def test_the_default_thresholds_are_two_points() -> None:
    assert dr.diagnostics.BIAS_THRESHOLD == 0.02 == dr.diagnostics.VARIANCE_THRESHOLD
    assert diagnose(0.03, 0.04).verdict == HIGH_BIAS  # 3 points of avoidable bias
    assert diagnose(0.01, 0.04).verdict == HIGH_VARIANCE  # 3 points of variance


def test_thresholds_change_the_verdict() -> None:
    assert diagnose(0.03, 0.04, bias_threshold=0.05).verdict == GOOD
    assert diagnose(0.01, 0.04, variance_threshold=0.05).verdict == GOOD
    assert diagnose(0.005, 0.01, bias_threshold=0.0, variance_threshold=0.0).verdict == BOTH


@pytest.mark.parametrize("value", [-0.1, 1.0, 2, math.nan, "2%"])
def test_bad_thresholds_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="bias_threshold must be a number in"):
        diagnose(0.01, 0.11, bias_threshold=value)  # type: ignore[arg-type]


# --- the dev error's confidence interval ----------------------------------------------------


def test_wilson_interval_matches_the_formula() -> None:
    # Wilson at 95% (z = 1.959964, z² = 3.841459): p = 0.11, n = 1000 gives
    # centre (0.11 + 3.841459/2000) / (1 + 3.841459/1000) = 0.1119207 / 1.0038415 = 0.111492
    # half 1.959964 · √(0.11·0.89/1000 + 3.841459/4e6) / 1.0038415 = 0.019413
    low, high = wilson_interval(0.11, 1000)
    assert low == pytest.approx(0.111492 - 0.019413, abs=2e-6)
    assert high == pytest.approx(0.111492 + 0.019413, abs=2e-6)


def test_wilson_interval_properties() -> None:
    low, high = wilson_interval(0.0, 50)
    assert low == 0.0 and 0.0 < high < 0.1  # never a degenerate [0, 0] for zero errors
    wide, narrow = wilson_interval(0.2, 100), wilson_interval(0.2, 10_000)
    assert wide[1] - wide[0] > narrow[1] - narrow[0]
    assert wilson_interval(0.2, 100, confidence=0.99)[1] > wide[1]


@pytest.mark.parametrize(("arg", "kwargs"), [("n", {"n": 0}), ("n", {"n": 2.5}),
                                             ("confidence", {"confidence": 1.0})])
def test_wilson_interval_refuses_bad_arguments(arg: str, kwargs: dict[str, object]) -> None:
    options = {"n": 100, **kwargs}
    with pytest.raises(ValueError, match=f"wilson_interval: {arg} must be"):
        wilson_interval(0.1, **options)  # type: ignore[arg-type]


def test_n_dev_attaches_an_interval_to_the_dev_error() -> None:
    diagnosis = diagnose(0.01, 0.11, n_dev=1000)
    assert diagnosis.dev_interval == wilson_interval(0.11, 1000)
    assert diagnosis.variance_significant is True
    assert "variance_not_significant" not in diagnosis.codes
    assert diagnose(0.01, 0.11).dev_interval is None
    assert diagnose(0.01, 0.11).variance_significant is None


def test_a_gap_within_the_interval_is_not_significant() -> None:
    # 4% dev error on 50 examples (2 mistakes): the interval reaches down to about 1.1%,
    # so the 4-point gap over a 0% train error may really be within the 2-point threshold.
    diagnosis = diagnose(0.0, 0.04, n_dev=50)
    assert diagnosis.verdict == HIGH_VARIANCE
    assert diagnosis.variance_significant is False
    remark = diagnosis.finding("variance_not_significant")
    assert remark is not None and remark.values["n_dev"] == 50


def test_low_variance_on_a_small_dev_set_is_not_certain() -> None:
    # 2% on 30 dev examples could be as high as 14.7%: far above train + 2 points.
    diagnosis = diagnose(0.01, 0.02, n_dev=30)
    assert diagnosis.verdict == GOOD
    assert diagnosis.variance_significant is False
    assert "low_variance_uncertain" in diagnosis.codes


# --- the dev → test gap ------------------------------------------------------------------------


def test_a_test_error_well_above_dev_means_the_dev_set_was_overfitted() -> None:
    diagnosis = diagnose(0.01, 0.02, test_error=0.08)
    assert diagnosis.test_error == 0.08
    assert diagnosis.dev_test_gap == pytest.approx(0.06)
    assert "dev_overfitted" in diagnosis.codes


def test_a_test_error_close_to_dev_raises_nothing() -> None:
    diagnosis = diagnose(0.01, 0.02, test_error=0.025)
    assert diagnosis.dev_test_gap == pytest.approx(0.005)
    assert "dev_overfitted" not in diagnosis.codes


# --- bad inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"train_error": 2, "dev_error": 0.11}, "train_error"),  # 2% written as 2
        ({"train_error": "0.01", "dev_error": "11"}, "dev_error"),  # 11% without its sign
        ({"train_error": "1_0%", "dev_error": 0.11}, "train_error"),  # not a number's text
        ({"train_error": "abc", "dev_error": 0.11}, "train_error"),
        ({"train_error": 0.01, "dev_error": "150%"}, "dev_error"),
        ({"train_error": True, "dev_error": 0.11}, "train_error"),
        ({"train_error": 0.01, "dev_error": 11}, "dev_error"),  # 11% written as 11
        ({"train_error": 0.01, "dev_error": 11.0}, "dev_error"),
        ({"train_error": -0.01, "dev_error": 0.11}, "train_error"),
        ({"train_error": math.nan, "dev_error": 0.11}, "train_error"),
        ({"train_error": 0.01, "dev_error": math.inf}, "dev_error"),
        ({"train_error": 0.01, "dev_error": 0.11, "bayes_error": -0.1}, "bayes_error"),
        ({"train_error": 0.01, "dev_error": 0.11, "test_error": 1.5}, "test_error"),
        ({"train_error": 0.01, "dev_error": 0.11, "n_dev": 0}, "n_dev"),
        ({"train_error": 0.01, "dev_error": 0.11, "n_train": 10.5}, "n_train"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs: dict[str, object], arg: str) -> None:
    with pytest.raises(ValueError, match=f"^diagnose: {arg} must be"):
        diagnose(**kwargs)  # type: ignore[arg-type]


def test_a_percentage_gets_a_hint() -> None:
    with pytest.raises(ValueError, match=r"received dev_error=11\. help: errors are fractions"):
        diagnose(0.01, 11)


def test_a_100_percent_error_rate_is_accepted_as_a_float() -> None:
    assert diagnose(1.0, 1.0).verdict == HIGH_BIAS
    assert diagnose(0, 0).verdict == GOOD


def test_integers_are_numbers_so_0_and_1_are_fractions() -> None:
    # the issue: diagnose(train_error=0, dev_error=1) refused the integer 1, accepting 1.0
    assert diagnose(train_error=0, dev_error=1) == diagnose(train_error=0.0, dev_error=1.0)
    assert diagnose(np.int64(0), np.int64(1)).dev_error == 1.0


def test_a_percentage_is_written_with_its_sign() -> None:
    assert diagnose("1%", "11%").to_dict() == diagnose(0.01, 0.11).to_dict()
    assert diagnose(" 0.5 %", "1%").dev_error == pytest.approx(0.01)
    assert diagnose("0.005", "0.01").verdict == GOOD


@pytest.mark.parametrize(("value", "hint"), [
    (11, "for 11 percent write 11% (or 0.11)"),
    ("1.5", "for 1.5 percent write 1.5% (or 0.015)"),
    (50.0, "for 50 percent write 50% (or 0.5)"),
])
def test_a_bare_number_above_1_is_refused_with_the_hint_to_write_percent(
    value: object, hint: str
) -> None:
    with pytest.raises(ValueError, match=r"dev_error must be a fraction in \[0, 1\] \(0\.01\) "
                       r"or a percentage \('1%'\).*help: errors are fractions: " + re.escape(hint)):
        diagnose(0.01, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [
    (0, 0.0), (1, 1.0), (0.25, 0.25), (np.float32(0.5), 0.5), ("0.25", 0.25), ("25%", 0.25),
    ("100%", 1.0), ("0%", 0.0), ("1e-2", 0.01), (" 7% ", 0.07),
])
def test_fraction_reads_numbers_and_percentages(value: object, expected: float) -> None:
    assert fraction(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", [
    -0.1, 1.01, "101%", "-1%", "nan", math.nan, math.inf, "1_000", "١", "", "%", "0.1%%",
    True, None, [0.1], "0x1",
])
def test_fraction_refuses_everything_else(value: object) -> None:
    with pytest.raises(BadValue):
        fraction(value)


def test_a_text_that_reads_as_infinity_gets_no_percent_hint() -> None:
    # '1e400' is inf: the hint said "for inf percent write inf% (or inf)"
    for text in ("1e400", "1e400%"):
        with pytest.raises(BadValue) as error:
            fraction(text)
        assert error.value.help == ""


def test_a_missing_dev_error_is_refused() -> None:
    with pytest.raises(ValueError, match="dev_error must be given"):
        diagnose(0.01)


def test_something_else_is_neither_a_number_nor_a_history() -> None:
    with pytest.raises(ValueError, match="train_error must be a number or a History"):
        diagnose([0.01], 0.11)  # type: ignore[arg-type]


def test_regression_takes_mean_squared_errors() -> None:
    diagnosis = diagnose(2.5, 7.0, regression=True, variance_threshold=1.0)
    assert diagnosis.verdict == BOTH
    assert diagnosis.variance == pytest.approx(4.5)
    with pytest.raises(ValueError, match="dev_error must be a mean squared error >= 0"):
        diagnose(2.5, -1.0, regression=True)


# --- fed by a training run ---------------------------------------------------------------------


def small_run(epochs: int = 3, **fit: object) -> tuple[dr.Sequential, dr.History]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    model = dr.Sequential([dr.Dense(8, "relu"), dr.Dense(2, "softmax")], input_dim=5)
    history = model.fit(X[:80], y[:80], validation_data=(X[80:], y[80:]), epochs=epochs,
                        **fit)  # type: ignore[arg-type]
    return model, history


def test_diagnose_a_history_reads_its_last_inference_mode_errors() -> None:
    _, history = small_run()
    diagnosis = diagnose(history)
    assert diagnosis.train_error == history["train_error"][-1]
    assert diagnosis.dev_error == history["dev_error"][-1]
    assert diagnosis.epoch == 2
    assert diagnosis.dev_interval == wilson_interval(history["dev_error"][-1], 40)
    assert dr.diagnose(history, bayes_error=0.01).bayes_error == 0.01


def test_diagnose_a_history_reads_the_best_epoch_that_early_stopping_kept() -> None:
    _, history = small_run()
    history.best_epoch = 0  # what EarlyStopping(restore_best=True) records
    diagnosis = diagnose(history)
    assert diagnosis.epoch == 0
    assert diagnosis.train_error == history["train_error"][0]
    caveat = diagnosis.finding("early_stopping_cost")
    assert caveat is not None and caveat.values["epoch"] == 1  # counted from 1 for people
    assert caveat.values["train_error"] == diagnosis.train_error


def test_diagnose_a_history_without_dev_data_is_refused() -> None:
    model = dr.Sequential([dr.Dense(2, "softmax")], input_dim=3)
    history = model.fit(np.ones((4, 3)), [0, 1, 0, 1], epochs=1)
    with pytest.raises(ValueError, match="fit with validation_data"):
        diagnose(history)


def test_diagnose_a_history_refuses_a_second_dev_error() -> None:
    _, history = small_run(epochs=1)
    with pytest.raises(ValueError, match="dev_error must be None when train_error is a History"):
        diagnose(history, 0.1)


def test_model_diagnose_evaluates_inference_mode_errors() -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((90, 5))
    y = (X[:, 0] > 0).astype(int)
    model = dr.Sequential([dr.Dense(8, "relu"), dr.Dropout(0.5), dr.Dense(2, "softmax")],
                          input_dim=5, l2=1.0)
    model.fit(X[:60], y[:60], epochs=2)
    diagnosis = model.diagnose(train=(X[:60], y[:60]), dev=(X[60:80], y[60:80]),
                               bayes_error=0.0, test=(X[80:], y[80:]))
    assert isinstance(diagnosis, Diagnosis)
    assert diagnosis.train_error == model.evaluate(X[:60], y[:60])["error"]
    assert diagnosis.dev_error == model.evaluate(X[60:80], y[60:80])["error"]
    assert diagnosis.test_error == model.evaluate(X[80:], y[80:])["error"]
    assert diagnosis.dev_interval == wilson_interval(diagnosis.dev_error, 20)


def test_a_big_training_part_is_measured_on_a_sample_and_said_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Above MEASURED_TRAIN_ROWS training rows the training error is measured on a seeded
    sample of that many (of a Part or of a pair alike), a remark says so; dev is measured
    whole, and at the cap nothing changes."""
    from deeprecipe import model as model_module
    from deeprecipe.data import split

    rng = np.random.default_rng(4)
    X = rng.standard_normal((300, 5))
    y = (X[:, 0] + 0.8 * rng.standard_normal(300) > 0).astype(int)  # a noisy boundary
    model = dr.Sequential([dr.Dense(8, "relu"), dr.Dense(2, "softmax")], input_dim=5)
    model.fit(X, y, epochs=3, seed=0)
    parts = split(X, y, seed=0)
    monkeypatch.setattr(model_module, "MEASURED_TRAIN_ROWS", len(parts.train))
    whole = model.diagnose(parts.train, parts.dev, bayes_error=0.0)
    assert whole.finding("train_error_sampled") is None
    assert whole.train_error == model.evaluate(*parts.train)["error"]

    monkeypatch.setattr(model_module, "MEASURED_TRAIN_ROWS", 50)
    picked = model_module.measured_rows(len(parts.train))
    sampled = model.evaluate(X, y, rows=parts.train.indices[picked])["error"]
    assert sampled != whole.train_error  # (these 50 rows err at another rate)
    for train in (parts.train, (parts.train.X, parts.train.y)):
        diagnosis = model.diagnose(train, parts.dev, bayes_error=0.0)
        assert diagnosis.train_error == sampled
        assert diagnosis.dev_error == whole.dev_error
        remark = diagnosis.finding("train_error_sampled")
        assert remark is not None and remark.values == {"rows": 50, "total": len(parts.train)}


def test_model_diagnose_of_a_regressor_uses_mean_squared_errors() -> None:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 3))
    y = 10 * X[:, 0]
    model = dr.Sequential([dr.Dense(1, "linear")], input_dim=3)
    diagnosis = model.diagnose(train=(X[:30], y[:30]), dev=(X[30:], y[30:]),
                               variance_threshold=5.0)
    assert diagnosis.train_error == pytest.approx(model.evaluate(X[:30], y[:30])["error"])
    assert diagnosis.train_error > 1  # an MSE, not a fraction
    assert diagnosis.dev_interval is None


def test_model_diagnose_refuses_a_part_that_is_not_a_pair() -> None:
    model = dr.Sequential([dr.Dense(2, "softmax")], input_dim=3)
    with pytest.raises(ValueError, match=r"Sequential\.diagnose: dev must be a pair"):
        model.diagnose(train=(np.ones((2, 3)), [0, 1]), dev=np.ones((2, 3)))  # type: ignore[arg-type]


def test_model_diagnose_points_at_regularization_under_high_bias() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] > 0).astype(int)
    layers = [dr.Dense(8, "relu"), dr.Dropout(0.8), dr.Dense(2, "softmax")]
    model = dr.Sequential(layers, input_dim=4, l2=1e4)
    model.fit(X[:40], y[:40], epochs=3)
    diagnosis = model.diagnose(train=(X[:40], y[:40]), dev=(X[40:], y[40:]))
    assert diagnosis.high_bias
    remark = diagnosis.finding("regularized")
    assert remark is not None
    assert remark.values == {"regularization": "l2=10000, dropout keep_prob=0.8"}


def test_diagnose_the_history_of_a_regressor_reads_mean_squared_errors() -> None:
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 3))
    y = 10 * X[:, 0]
    model = dr.Sequential([dr.Dense(1, "linear")], input_dim=3)
    history = model.fit(X[:40], y[:40], validation_data=(X[40:], y[40:]), epochs=1)
    assert history.task == "regression"
    assert history.sizes == {"train": 40, "train_eval": 20, "dev": 20}
    diagnosis = diagnose(history, variance_threshold=5.0)
    assert diagnosis.train_error == history["train_error"][-1] > 1  # an MSE
    assert diagnosis.dev_interval is None


# --- a run that diverged ------------------------------------------------------------------------


def diverging_run(rng: np.random.Generator) -> tuple[dr.Sequential, dr.History]:
    """Full-batch gradient descent at twice its stable step on a linear regression: the cost
    grows 9× per epoch until it is 10⁴ × its lowest."""
    X = rng.standard_normal((64, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    augmented = np.hstack([X, np.ones((64, 1))])
    top = float(np.linalg.eigvalsh(2 / 64 * augmented.T @ augmented).max())
    model = dr.Sequential([dr.Dense(1, "linear")], input_dim=3)
    history = model.fit(X, y, validation_data=(X, y), epochs=200, batch_size=None,
                        optimizer="sgd", learning_rate=4 / top)
    return model, history


def test_a_diverged_history_is_diagnosed_diverged_with_no_bias_variance_verdict(rng) -> None:
    _, history = diverging_run(rng)
    assert history.stop_reason == "diverged" and len(history) > 0
    diagnosis = diagnose(history)
    assert diagnosis.verdict == DIVERGED == "diverged"
    assert diagnosis.diverged
    assert not diagnosis.high_bias and not diagnosis.high_variance
    assert diagnosis.actions[0] == "lower_learning_rate"
    assert diagnosis.divergence is history.divergence
    assert "no bias/variance reading" in diagnosis.summary()
    assert "avoidable bias" not in diagnosis.summary()
    assert diagnosis.to_dict()["divergence"]["source"] == "growth"


def test_diverged_true_gives_the_generic_advice_learning_rate_first() -> None:
    # a 100% error that is no verdict: without diverged it reads as high bias
    assert diagnose(1.0, 1.0).verdict == HIGH_BIAS
    diagnosis = diagnose(1.0, 1.0, diverged=True, test_error=1.0)
    assert diagnosis.verdict == DIVERGED
    assert diagnosis.actions == ["lower_learning_rate", "normalize_inputs", "better_init"]
    assert diagnosis.divergence is None
    assert diagnosis.test_error == 1.0
    assert "bigger_network" not in diagnosis.actions


def test_a_history_that_diverged_in_its_first_epoch_has_no_errors_to_diagnose(rng) -> None:
    X = rng.standard_normal((64, 3))
    model = dr.Sequential([dr.Dense(4, "linear"), dr.Dense(1, "linear")], input_dim=3)
    history = model.fit(1e3 * X, X[:, 0], validation_data=(X, X[:, 0]), epochs=3,
                        batch_size=8, optimizer="sgd", learning_rate=10.0)
    assert history.stop_reason == "diverged" and len(history) == 0
    with pytest.raises(ValueError, match=r"train_error must be a History with at least one "
                       r"epoch.*training diverged at epoch 1.*lower learning rate"):
        diagnose(history)


def test_diverged_must_be_a_bool_or_a_divergence() -> None:
    with pytest.raises(ValueError, match="diverged must be True, False or a Divergence"):
        diagnose(0.1, 0.1, diverged="yes")  # type: ignore[arg-type]


def test_regression_must_be_a_bool_and_confidence_a_level() -> None:
    # regression='no' read 0.1 and 0.2 as mean squared errors (bool('no') is True)
    with pytest.raises(TypeError, match=r"diagnose: regression must be True or False; received "
                       r"regression='no'\."):
        dr.diagnose(train_error=0.1, dev_error=0.2, regression="no")
    with pytest.raises(ValueError, match=r"diagnose: confidence must be a number in \(0, 1\)"):
        dr.diagnose(train_error=0.1, dev_error=0.2, n_dev=100, confidence=1)  # wilson_interval
