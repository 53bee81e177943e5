"""Tests for ``deeprecipe.callbacks``: EarlyStopping driven by scripted sequences of losses
(as the fit loop would call it) and by real training, and the gradient-flow recorder."""

from __future__ import annotations

import math

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe.findings import say


def tiny_model() -> dr.Sequential:
    return dr.Sequential([dr.Dense(3, "relu"), dr.Dense(2, "softmax")], input_dim=2)


def script(
    values: list[float], monitor: str = "dev_cost", **options: object
) -> tuple[dr.EarlyStopping, dr.Sequential, dr.History]:
    """Drive EarlyStopping as ``fit`` does: epoch ``e`` leaves every weight equal to ``e``,
    its logs hold ``values[e]``; stop when the callback says so."""
    stopper = dr.EarlyStopping(monitor=monitor, **options)  # type: ignore[arg-type]
    model = tiny_model()
    history = dr.History()
    stopper.on_train_begin(model)
    for epoch, value in enumerate(values):
        model.theta[...] = epoch
        logs = {"train_cost": 1.0, "train_error": 0.01 * epoch, monitor: value}
        history.append(logs)
        if stopper.on_epoch_end(epoch, logs):
            history.stop_reason = stopper.stop_reason or "callback"
            break
    stopper.on_train_end(model, history)
    return stopper, model, history


def weights_epoch(model: dr.Sequential) -> float:
    """Which scripted epoch's weights the model holds."""
    assert np.all(model.theta == model.theta[0])
    return float(model.theta[0])


# --- patience, exactly as the docstring defines it ------------------------------------------


def test_the_docstring_example() -> None:
    # 1.0 (best), 0.9 (best), 0.95 (1 without improvement), 0.96 (2 = patience): stop.
    stopper, model, history = script([1.0, 0.9, 0.95, 0.96, 0.5, 0.4], patience=2)
    assert stopper.stop_reason == "patience"
    assert stopper.stopped_epoch == 3
    assert len(history) == 4
    assert stopper.best_epoch == 1 and stopper.best == 0.9
    assert weights_epoch(model) == 1  # the best epoch's weights are back
    assert history.best_epoch == 1
    assert stopper.restored


def test_patience_one_stops_at_the_first_epoch_without_improvement() -> None:
    stopper, _, _ = script([1.0, 0.8, 0.8, 0.1], patience=1)
    assert stopper.stopped_epoch == 2  # 0.8 is not better than 0.8
    assert stopper.best_epoch == 1


def test_an_improvement_resets_the_count() -> None:
    # wait: 0, 0, 1, 2, 0 (0.85 < 0.9), 1, 2, 3 = patience: stop after epoch 7
    stopper, _, _ = script([1.0, 0.9, 0.95, 0.92, 0.85, 0.9, 0.9, 0.9, 0.1], patience=3)
    assert stopper.stopped_epoch == 7
    assert stopper.best_epoch == 4


def test_min_delta_requires_a_large_enough_improvement() -> None:
    # best 1.0; 0.96 is not below 1.0 − 0.05; 0.94 is (new best); 0.9 is not below 0.89.
    stopper, _, _ = script([1.0, 0.96, 0.94, 0.9, 0.9], patience=2, min_delta=0.05)
    assert stopper.best_epoch == 2
    assert stopper.stopped_epoch == 4


def test_mode_max_and_auto() -> None:
    stopper, model, _ = script([0.5, 0.7, 0.6, 0.65], monitor="dev_accuracy", patience=2)
    assert stopper.mode == "max"
    assert stopper.best_epoch == 1 and weights_epoch(model) == 1
    assert dr.EarlyStopping(monitor="dev_error").mode == "min"
    stopper, _, _ = script([0.5, 0.7, 0.6, 0.65], monitor="dev_error", patience=2, mode="max")
    assert stopper.best_epoch == 1


def test_epochs_before_start_from_epoch_are_ignored() -> None:
    # epochs 0 and 1 are lower but ignored; best 0.9 at epoch 3; 0.95, 0.96 use up patience.
    stopper, model, _ = script([0.5, 0.4, 1.0, 0.9, 0.95, 0.96], patience=2, start_from_epoch=2)
    assert stopper.best_epoch == 3
    assert stopper.stopped_epoch == 5
    assert weights_epoch(model) == 3


# --- the best weights come back however training ends ---------------------------------------


def test_the_best_weights_come_back_at_the_last_epoch() -> None:
    stopper, model, history = script([1.0, 0.5, 0.7], patience=5)
    assert stopper.stop_reason == "max_epochs"
    assert stopper.stopped_epoch == 2
    assert weights_epoch(model) == 1
    assert history.best_epoch == 1


def test_the_best_weights_come_back_when_another_callback_stops() -> None:
    stopper = dr.EarlyStopping(patience=5)
    model = tiny_model()
    history = dr.History()
    stopper.on_train_begin(model)
    for epoch, value in enumerate([1.0, 0.5, 0.7]):
        model.theta[...] = epoch
        history.append({"dev_cost": value})
        stopper.on_epoch_end(epoch, {"dev_cost": value})
    history.stop_reason = "callback"
    stopper.on_train_end(model, history)
    assert stopper.stop_reason == "callback"
    assert weights_epoch(model) == 1


def test_a_non_finite_monitored_value_stops_training() -> None:
    stopper, model, _ = script([1.0, 0.5, math.nan, 0.1], patience=5)
    assert stopper.stop_reason == "diverged"
    assert stopper.stopped_epoch == 2
    assert weights_epoch(model) == 1


def test_restore_best_false_leaves_the_last_weights() -> None:
    stopper, model, history = script([1.0, 0.5, 0.7, 0.8], patience=2, restore_best=False)
    assert stopper.best_epoch == 1
    assert weights_epoch(model) == 3
    assert history.best_epoch is None
    assert not stopper.restored


def test_the_state_is_reset_for_each_training_run() -> None:
    stopper = dr.EarlyStopping(patience=1)
    model = tiny_model()
    stopper.on_train_begin(model)
    stopper.on_epoch_end(0, {"dev_cost": 0.1})
    stopper.on_epoch_end(1, {"dev_cost": 0.2})
    stopper.on_train_begin(model)
    assert stopper.best is None and stopper.wait == 0 and stopper.stop_reason is None
    assert not stopper.on_epoch_end(0, {"dev_cost": 5.0})  # the old best is forgotten


def test_summary_states_the_train_error_at_the_point_kept() -> None:
    stopper, _, _ = script([1.0, 0.9, 0.95, 0.96], patience=2)
    text = stopper.summary()
    assert (stopper.stopped_epoch, stopper.best_epoch) == (3, 1)  # indices, from 0
    assert "stopped after epoch 4 (patience)" in text  # for people, from 1
    assert "at epoch 2 (weights restored)" in text
    # the notes' caveat, said as the diagnosis says it, with the train error kept
    train_error = stopper.best_logs["train_error"]
    assert say("early_stopping_cost", {"epoch": 2, "train_error": train_error}) in text
    assert "1.00%" in text


# --- errors ---------------------------------------------------------------------------------


def test_a_monitor_missing_from_the_logs_lists_the_available_ones() -> None:
    stopper = dr.EarlyStopping(monitor="dev_cost")
    stopper.on_train_begin(tiny_model())
    with pytest.raises(ValueError, match=r"monitor must be one of the logged keys "
                       r"'train_cost', 'train_error'.*validation_data"):
        stopper.on_epoch_end(0, {"train_cost": 1.0, "train_error": 0.5})


def test_a_monitor_missing_in_real_training_fails_after_the_first_epoch() -> None:
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="'train_eval_cost'"):
        tiny_model().fit(X, y, epochs=3, callbacks=[dr.EarlyStopping()])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patience": 0}, "patience must be an integer >= 1"),
        ({"patience": 2.5}, "patience must be an integer >= 1"),
        ({"min_delta": -0.1}, "min_delta must be a finite number >= 0"),
        ({"mode": "up"}, "mode must be one of 'auto', 'min', 'max'"),
        ({"start_from_epoch": -1}, "start_from_epoch must be an integer >= 0"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=f"^EarlyStopping: {message}"):
        dr.EarlyStopping(**kwargs)  # type: ignore[arg-type]


def test_a_monitor_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="monitor must be a string"):
        dr.EarlyStopping(monitor=3)  # type: ignore[arg-type]


# --- in real training ---------------------------------------------------------------------------


def overfitting_setup() -> tuple[dr.Sequential, tuple[np.ndarray, ...]]:
    """A wide network on 60 noisy examples: the dev cost turns up within a few dozen epochs."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((160, 10))
    y = ((X[:, 0] + rng.standard_normal(160)) > 0).astype(int)
    model = dr.Sequential([dr.Dense(64, "relu"), dr.Dense(2, "softmax")], input_dim=10)
    return model, (X[:60], y[:60], X[60:], y[60:])


def test_early_stopping_in_fit_stops_on_patience_and_restores_the_best_epoch() -> None:
    model, (X, y, X_dev, y_dev) = overfitting_setup()
    stopper = dr.EarlyStopping(patience=3)
    history = model.fit(X, y, validation_data=(X_dev, y_dev), epochs=200, batch_size=20,
                        learning_rate=0.01, callbacks=[stopper])
    assert history.stop_reason == "patience"
    assert len(history) == stopper.stopped_epoch + 1 < 200
    best = int(np.argmin(history["dev_cost"]))
    assert stopper.best_epoch == history.best_epoch == best
    assert model.evaluate(X_dev, y_dev)["loss"] == pytest.approx(history["dev_cost"][best])
    diagnosis = dr.diagnose(history)
    assert diagnosis.epoch == best
    assert diagnosis.train_error == history["train_error"][best]


class PlantNaN(dr.Callback):
    """Make one weight NaN at the end of epoch ``at``: the next batch's cost is NaN."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.model: dr.Sequential | None = None

    def on_train_begin(self, model: dr.Sequential) -> None:
        self.model = model

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if epoch == self.at and self.model is not None:
            self.model.named_parameters()["dense_2.W"][0, 0] = np.nan
        return False


def test_early_stopping_restores_the_best_weights_after_a_non_finite_stop() -> None:
    model, (X, y, X_dev, y_dev) = overfitting_setup()
    stopper = dr.EarlyStopping(patience=50)
    history = model.fit(X, y, validation_data=(X_dev, y_dev), epochs=20, batch_size=20,
                        learning_rate=0.01, callbacks=[stopper, PlantNaN(at=4)])
    assert history.stop_reason == "diverged"
    assert len(history) == 5
    assert stopper.stop_reason == "diverged"
    assert stopper.stopped_epoch == 5  # the epoch that diverged
    assert np.isfinite(model.theta).all()
    best = int(np.argmin(history["dev_cost"]))
    assert history.best_epoch == best
    assert model.evaluate(X_dev, y_dev)["loss"] == pytest.approx(history["dev_cost"][best])


# --- gradient-flow recording ------------------------------------------------------------------


def test_the_recorder_records_each_epoch_without_changing_training() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = (X[:, 0] > 0).astype(int)

    def build() -> dr.Sequential:
        layers = [dr.Dense(8, "relu"), dr.Dense(8, "tanh"), dr.Dense(2, "softmax")]
        return dr.Sequential(layers, input_dim=4)

    recorder = dr.GradientFlowRecorder(X, y, max_rows=100)
    model = build()
    model.fit(X, y, epochs=3, callbacks=[recorder])
    plain = build()
    plain.fit(X, y, epochs=3)
    assert np.array_equal(model.theta, plain.theta)

    assert recorder.X.shape == (100, 4)
    assert recorder.initial is not None
    assert recorder.epochs == [0, 1, 2]
    assert len(recorder.flows) == 3
    assert all(verdict in dr.diagnostics.flow.VERDICTS for verdict in recorder.verdicts)
    norms = recorder.grad_norms()
    assert list(norms) == ["dense_1", "dense_2", "dense_3"]
    assert all(len(series) == 3 and all(v >= 0 for v in series) for series in norms.values())
    assert len(recorder.grad_norms("dA_norm")["dense_1"]) == 3


def test_the_recorder_can_record_every_few_epochs() -> None:
    X = np.random.default_rng(0).standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    recorder = dr.GradientFlowRecorder(X, y, every=2)
    tiny_model().fit(X, y, epochs=5, callbacks=[recorder])
    assert recorder.epochs == [1, 3]


def test_the_recorder_checks_its_data() -> None:
    with pytest.raises(ValueError, match="GradientFlowRecorder: len"):
        dr.GradientFlowRecorder(np.ones((3, 2)), [0, 1])
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        dr.GradientFlowRecorder(np.ones((2, 2)), [0, 1], every=0)


# --- state for resuming ------------------------------------------------------------------------


def test_early_stopping_continues_from_its_state_dict() -> None:
    # 1.0, 0.9 (best), 0.95 (wait 1) … interrupted; then 0.96 (wait 2 = patience): stop.
    first = dr.EarlyStopping(patience=2)
    model = tiny_model()
    first.on_train_begin(model)
    for epoch, value in enumerate([1.0, 0.9, 0.95]):
        model.theta[...] = epoch
        first.on_epoch_end(epoch, {"dev_cost": value})
    saved = first.state_dict()
    model.theta[...] = 1  # the state is a copy: later changes do not leak into it
    saved_theta = saved["best_theta"]
    assert saved["wait"] == 1 and saved["best_epoch"] == 1 and np.all(saved_theta == 1)

    second = dr.EarlyStopping(patience=2)
    resumed = tiny_model()
    second.on_train_begin(resumed)
    second.load_state_dict(saved)
    resumed.theta[...] = 3
    assert second.on_epoch_end(3, {"dev_cost": 0.96})  # patience used up across the two
    history = dr.History()
    history.append({"dev_cost": 0.0})
    second.on_train_end(resumed, history)
    assert weights_epoch(resumed) == 1 and second.best_epoch == 1


def test_the_gradient_flow_recorder_round_trips_its_records(rng: np.random.Generator) -> None:
    X, y = rng.normal(size=(20, 2)), rng.integers(0, 2, 20)
    recorder = dr.GradientFlowRecorder(X, y)
    model = tiny_model()
    recorder.on_train_begin(model)
    for epoch in range(3):
        recorder.on_epoch_end(epoch, {})
    state = recorder.state_dict()
    copy = dr.GradientFlowRecorder(X, y)
    copy.on_train_begin(model)
    copy.load_state_dict(state)
    assert copy.epochs == [0, 1, 2] and copy.grad_norms() == recorder.grad_norms()
    assert copy.flows[-1] == recorder.flows[-1] and copy.initial == recorder.initial
    assert copy.state_dict() == state


def test_restore_best_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match=r"EarlyStopping: restore_best must be True or False; "
                       r"received restore_best='no'\."):  # bool('no') is True: it restored
        dr.EarlyStopping(restore_best="no")


def test_gradient_flow_recorder_names_a_negative_seed() -> None:
    X, y = np.zeros((300, 2)), np.zeros(300, dtype=int)
    with pytest.raises(ValueError, match=r"GradientFlowRecorder: seed must be an integer >= 0"):
        dr.GradientFlowRecorder(X, y, seed=-1)


# --- one protocol for training, run and tune ------------------------------------------------


class Log(dr.Callback):
    """Every hook of the protocol a job calls, in order."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.stop_at = stop_at

    def on_step_begin(self, step: str, description: str, total: int | None = None,
                      done: int = 0) -> None:
        self.calls.append(("begin", step, total, done))

    def on_step_end(self, step: str, seconds: float, summary: str) -> None:
        self.calls.append(("end", step))

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        self.calls.append(("epoch", epoch))
        return epoch == self.stop_at


def test_a_run_reports_its_steps_and_training_counts_its_epochs_through_callbacks(
    tmp_path: object,
) -> None:
    from pathlib import Path

    from deeprecipe import workflow
    from deeprecipe.run import folder as runfolder
    from deeprecipe.runconfig import RunConfig

    log = Log()
    config = RunConfig(data="iris", hidden=(4,), epochs=3, patience=10, gradcheck="off")
    workflow.run(config, runfolder.create(Path(str(tmp_path)), "iris", "iris"), [log])
    steps = [call[1] for call in log.calls if call[0] == "begin"]
    assert steps[0] == "data" and steps[-1] == "report"
    assert steps == [call[1] for call in log.calls if call[0] == "end"]
    train = log.calls.index(("begin", "train", 3, 0))
    assert log.calls[train + 1: train + 5] == [("epoch", 0), ("epoch", 1), ("epoch", 2),
                                               ("end", "train")]


def test_callback_list_calls_each_and_stops_when_any_says_stop() -> None:
    first, second = Log(stop_at=1), Log()
    both = dr.callbacks.CallbackList([first, second])
    assert both.on_epoch_end(0, {}) is False
    assert both.on_epoch_end(1, {}) is True  # the second still heard of epoch 1
    both.on_step_begin("tune", "tuning", 5, 2)
    assert second.calls == [("epoch", 0), ("epoch", 1), ("begin", "tune", 5, 2)]


# --- progress inside long work ----------------------------------------------------------------


class Heard(dr.Callback):
    """Every Progress told to on_progress."""

    def __init__(self) -> None:
        self.progress: list[dr.callbacks.Progress] = []

    def on_progress(self, progress: dr.callbacks.Progress) -> None:
        self.progress.append(progress)


def test_progress_gives_its_rate_and_the_time_left() -> None:
    progress = dr.callbacks.Progress(done=250, total=1000, unit="samples", seconds=2.0)
    assert progress.rate == 125.0  # samples per second
    assert progress.seconds_left == 6.0  # 750 samples to go at 125 a second
    assert dr.callbacks.Progress(0, 1000, "bytes", 0.5).seconds_left is None  # no rate yet
    assert dr.callbacks.Progress(10, 1000, "bytes", 0.0).rate == 0.0
    assert dr.callbacks.Progress(12, 10, "rows", 1.0).seconds_left is None  # past its total


def test_a_reporter_passes_on_at_most_one_call_per_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticks = iter([100.0, 100.25, 100.5, 100.75, 101.25, 101.5])  # made, then one per call
    monkeypatch.setattr(dr.callbacks.time, "perf_counter", lambda: next(ticks))
    heard = Heard()
    report = dr.callbacks.Reporter(heard, "bytes")
    for done in (10, 20, 30, 40, 50):
        report(done, 100)
    # 100.25 is too soon; 100.5 is due (0.5 s after it was made); 100.75 is too soon after
    # that one; 101.25 is due again; 101.5 is too soon after that
    assert heard.progress == [dr.callbacks.Progress(20, 100, "bytes", 0.5),
                              dr.callbacks.Progress(40, 100, "bytes", 1.25)]


def test_fit_tells_each_epochs_samples_done(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dr.callbacks, "PROGRESS_EVERY", 0.0)  # pass on every call
    X = np.random.default_rng(0).normal(size=(100, 2))
    heard = Heard()
    tiny_model().fit(X, (X[:, 0] > 0).astype(int), epochs=2, batch_size=32,
                     callbacks=[heard])
    assert [(p.epoch, p.done, p.total, p.unit) for p in heard.progress] == [
        (epoch, done, 100, "samples") for epoch in (0, 1) for done in (32, 64, 96, 100)]
    seconds = [p.seconds for p in heard.progress]
    assert seconds[:4] == sorted(seconds[:4]) and seconds[4] < seconds[3]  # per epoch


def test_a_fast_fit_tells_no_progress() -> None:
    X = np.random.default_rng(0).normal(size=(100, 2))
    heard = Heard()
    tiny_model().fit(X, (X[:, 0] > 0).astype(int), epochs=3, batch_size=32,
                     callbacks=[heard])
    assert heard.progress == []  # each epoch is far shorter than PROGRESS_EVERY
