"""Tests for ``deeprecipe.training``: the fit loop, its History, callbacks and optimizers.

The exact checks run in float64: one full-batch SGD epoch is the notes' gradient descent
``θ = θ - α dJ/dθ``, and in mini-batch training the penalty's ``m`` is the training-set size.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

import deeprecipe as dr


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's digits, standardized with train statistics: (X_train, y_train, X_dev,
    y_dev), 1400 / 397 rows."""
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    X_train, X_dev = X[:1400], X[1400:]
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, y[:1400], (X_dev - mean) / std, y[1400:]


def classifier(dropout: float | None = None, seed: int = 0, **kwargs) -> dr.Sequential:
    layers: list[dr.Layer] = [dr.Dense(32, "relu")]
    if dropout is not None:
        layers.append(dr.Dropout(dropout))
    layers.append(dr.Dense(10, "softmax"))
    return dr.Sequential(layers, input_dim=64, seed=seed, **kwargs)


def weight_slots(model: dr.Sequential) -> np.ndarray:
    """A mask over θ that is True on the weights ``W`` (not the biases)."""
    mask = np.zeros(model.n_parameters, dtype=bool)
    for slot in model.layout:
        if slot.name.endswith(".W"):
            mask[slot.start : slot.stop] = True
    return mask


# --- training works, and History records it ---------------------------------------------


def test_training_reduces_the_cost_on_digits() -> None:
    X, y, X_dev, y_dev = digits()
    model = classifier(l2=0.1)
    epochs = 8
    history = model.fit(X, y, validation_data=(X_dev, y_dev), epochs=epochs, batch_size=64,
                        optimizer="adam", learning_rate=1e-3)
    assert isinstance(history, dr.History)
    assert set(history.history) == {
        "train_cost", "train_eval_cost", "train_error", "dev_cost", "dev_error", "time",
        "train_time",
    }
    for key in history.history:
        assert len(history[key]) == epochs, key
    assert len(history) == history.epochs == epochs
    assert history["train_cost"][-1] < history["train_cost"][0]
    assert history["dev_cost"][-1] < history["dev_cost"][0]
    assert history["dev_error"][-1] < 0.2
    times = zip(history["train_time"], history["time"], strict=True)
    assert all(0.0 <= train_time <= total for train_time, total in times)
    assert history.stop_reason == "max_epochs"
    assert history.last()["dev_error"] == history["dev_error"][-1]


def test_without_validation_data_there_are_no_dev_records() -> None:
    X, y, _, _ = digits()
    history = classifier().fit(X[:200], y[:200], epochs=2)
    assert "dev_cost" not in history
    assert len(history["train_eval_cost"]) == 2
    with pytest.raises(KeyError, match="dev_error"):
        history["dev_error"]


def test_train_cost_is_as_trained_and_eval_costs_are_inference_data_terms() -> None:
    # train_cost: dropout on, penalty in. train_eval_cost, train_error, dev_cost, dev_error:
    # inference mode, data term only (here the dev set is as large as the training set, so
    # the training subsample is the whole training set).
    X, y, _, _ = digits()
    X_train, y_train, X_dev, y_dev = X[:300], y[:300], X[300:700], y[300:700]
    model = classifier(dropout=0.5, l2=5.0, dtype="float64")
    history = model.fit(X_train, y_train, validation_data=(X_dev, y_dev), epochs=2,
                        batch_size=50, learning_rate=1e-3)
    costs = zip(history["train_cost"], history["train_eval_cost"], strict=True)
    for train_cost, eval_cost in costs:
        assert train_cost != pytest.approx(eval_cost, rel=1e-3)
    train = model.evaluate(X_train, y_train)
    dev = model.evaluate(X_dev, y_dev)
    assert history["train_eval_cost"][-1] == pytest.approx(train["loss"], rel=1e-12)
    assert history["train_error"][-1] == pytest.approx(train["error"], abs=1e-15)
    assert history["dev_cost"][-1] == pytest.approx(dev["loss"], rel=1e-12)
    assert history["dev_error"][-1] == pytest.approx(dev["error"], abs=1e-15)
    # the dev cost has no penalty: it is below the full J on the dev set
    assert history["dev_cost"][-1] < model.cost(X_dev, y_dev)


# --- the notes' gradient descent, exactly ----------------------------------------------


@pytest.mark.parametrize(("l2", "l1"), [(0.0, 0.0), (0.7, 0.0), (0.5, 0.2)])
def test_full_batch_sgd_is_the_notes_gradient_descent(l2: float, l1: float) -> None:
    X, y, _, _ = digits()
    X, y = X[:150], y[:150]
    model = classifier(l2=l2, l1=l1, dtype="float64")
    theta = model.flatten()
    cost = model.cost(X, y)
    grad = np.concatenate([g.ravel() for g in model.gradients(X, y).values()])
    alpha = 0.05
    history = model.fit(X, y, epochs=1, batch_size=None, optimizer="sgd",
                        learning_rate=alpha, shuffle=False)
    expected = theta - alpha * grad
    np.testing.assert_allclose(model.flatten(), expected, rtol=1e-12, atol=1e-15)
    # the one batch's cost is J before the step, penalty with m = len(X)
    assert history["train_cost"][0] == pytest.approx(cost, rel=1e-12)


class RecordingSGD(dr.optimizers.SGD):
    """SGD that keeps a copy of every gradient and every θ it was given."""

    def __init__(self, learning_rate: float) -> None:
        super().__init__(learning_rate)
        self.grads: list[np.ndarray] = []
        self.thetas: list[np.ndarray] = []

    def _update(self, theta: np.ndarray, grad: np.ndarray) -> None:
        self.thetas.append(theta.copy())
        self.grads.append(grad.copy())
        super()._update(theta, grad)


def test_minibatch_penalty_uses_the_training_set_size() -> None:
    X, y, _, _ = digits()
    X, y = X[:120], y[:120]
    m_train, half = len(X), len(X) // 2
    lambd, alpha = 3.0, 0.1
    model = classifier(l2=lambd, dtype="float64")
    theta0 = model.flatten()
    # the data term's gradient on the first half, by a copy of the model without penalty
    data_only = dr.Sequential.from_config({**model.get_config(), "l2": 0.0})
    data_only.set_parameters(theta0)
    data_grad = data_only.cost_and_gradients(X[:half], y[:half])[1]
    expected_grad = data_grad + weight_slots(model) * (lambd / m_train) * theta0

    optimizer = RecordingSGD(alpha)
    model.fit(X, y, epochs=1, batch_size=half, optimizer=optimizer, shuffle=False)
    assert len(optimizer.grads) == 2
    assert np.array_equal(optimizer.thetas[0], theta0)
    np.testing.assert_allclose(optimizer.grads[0], expected_grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(optimizer.thetas[1], theta0 - alpha * expected_grad,
                               rtol=1e-12, atol=1e-15)
    # not (λ / batch size) W: that would be twice the penalty's gradient
    wrong = data_grad + weight_slots(model) * (lambd / half) * theta0
    assert not np.allclose(optimizer.grads[0], wrong, rtol=1e-6)

    # the second step: second half's data gradient at θ1, same λ / m_train
    theta1 = optimizer.thetas[1]
    data_only.set_parameters(theta1)
    second = data_only.cost_and_gradients(X[half:], y[half:])[1]
    second += weight_slots(model) * (lambd / m_train) * theta1
    np.testing.assert_allclose(optimizer.grads[1], second, rtol=1e-12, atol=1e-15)


# --- reproducibility --------------------------------------------------------------------


def test_training_is_reproducible() -> None:
    X, y, _, _ = digits()
    X, y = X[:300], y[:300]

    def train(model_seed: int, fit_seed: int | None) -> np.ndarray:
        model = classifier(dropout=0.7, seed=model_seed)
        model.fit(X, y, epochs=2, batch_size=32, seed=fit_seed)
        return model.flatten()

    first = train(0, None)
    assert np.array_equal(first, train(0, None))
    assert np.array_equal(train(0, 5), train(0, 5))
    assert not np.array_equal(first, train(0, 5))  # another shuffle and other masks
    assert not np.array_equal(first, train(1, None))  # another initialization


# --- callbacks --------------------------------------------------------------------------


class StopAtEpoch(dr.Callback):
    def __init__(self, stop_at: int | None) -> None:
        self.stop_at = stop_at
        self.began: list[dr.Sequential] = []
        self.ended: list[tuple[dr.Sequential, dr.History]] = []
        self.epochs: list[int] = []
        self.logs: list[dict[str, float]] = []

    def on_train_begin(self, model: dr.Sequential) -> None:
        self.began.append(model)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        self.epochs.append(epoch)
        self.logs.append(dict(logs))
        return epoch == self.stop_at

    def on_train_end(self, model: dr.Sequential, history: dr.History) -> None:
        self.ended.append((model, history))


def test_a_callback_stops_training() -> None:
    X, y, X_dev, y_dev = digits()
    model = classifier()
    stopper, watcher = StopAtEpoch(2), StopAtEpoch(None)
    history = model.fit(X[:200], y[:200], validation_data=(X_dev, y_dev), epochs=10,
                        callbacks=[stopper, watcher])
    assert len(history) == 3
    assert history.stop_reason == "callback"
    for callback in (stopper, watcher):
        assert callback.began == [model]
        assert len(callback.ended) == 1
        assert callback.ended[0][0] is model
        assert callback.ended[0][1] is history
        assert callback.epochs == [0, 1, 2]
    assert watcher.logs[1]["dev_error"] == history["dev_error"][1]
    assert set(watcher.logs[0]) == set(history.history)


@pytest.mark.parametrize("callbacks", [dr.EarlyStopping(), [print], [dr.EarlyStopping, 3],
                                       None, iter([dr.EarlyStopping()])],
                         ids=["one-callback-not-a-list", "a-function", "a-class", "none",
                              "an-iterator-it-would-use-up"])
def test_callbacks_that_are_not_a_list_of_callbacks_are_a_clear_error(callbacks) -> None:
    X, y, _, _ = digits()
    with pytest.raises(TypeError, match=r"fit: callbacks must be a list of Callback objects "
                       r"\(e\.g\. \[dr\.EarlyStopping\(\)\]\); received callbacks="):
        classifier().fit(X[:50], y[:50], epochs=1, callbacks=callbacks)


def test_training_runs_all_epochs_when_no_callback_stops() -> None:
    X, y, _, _ = digits()
    watcher = StopAtEpoch(None)
    history = classifier().fit(X[:100], y[:100], epochs=4, callbacks=[watcher])
    assert len(history) == 4
    assert history.stop_reason == "max_epochs"
    assert watcher.epochs == [0, 1, 2, 3]
    assert len(watcher.began) == len(watcher.ended) == 1


# --- optimizers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("optimizer", "learning_rate"),
    [("sgd", 0.1), ("momentum", 0.1), ("adam", 0.01), ("instance", None)],
)
def test_every_optimizer_trains(optimizer: str, learning_rate: float | None) -> None:
    X, y, _, _ = digits()
    X, y = X[:500], y[:500]
    model = classifier()
    initial = model.cost(X, y)
    chosen: str | dr.optimizers.Optimizer = optimizer
    if optimizer == "instance":
        chosen = dr.optimizers.Momentum(learning_rate=0.05, beta=0.8)
    history = model.fit(X, y, epochs=5, batch_size=50, optimizer=chosen,
                        learning_rate=learning_rate)
    assert history["train_cost"][-1] < history["train_cost"][0]
    assert model.cost(X, y) < 0.5 * initial
    if isinstance(chosen, dr.optimizers.Optimizer):
        assert chosen.iterations == 5 * 10  # the instance itself took every step


# --- resuming: the same weights, bit for bit -------------------------------------------------


class InterruptAt(dr.Callback):
    """Raises KeyboardInterrupt at the end of epoch ``epoch``, as Ctrl-C would."""

    def __init__(self, epoch: int | None) -> None:
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if epoch == self.epoch:
            raise KeyboardInterrupt
        return False


def resumable_fit(
    interrupt_at: int | None, state: dr.TrainingState | None, min_delta: float = 0.0
) -> tuple[dr.Sequential, dr.History, list[dr.Callback]]:
    """Adam, dropout and augmentation: every random stream and every kind of state."""
    X, y, X_dev, y_dev = digits()
    X, y, X_dev, y_dev = X[:300], y[:300], X_dev[:100], y_dev[:100]
    augment = dr.data.augment.Compose([dr.data.augment.Rotation(10)], image_shape=(8, 8))
    callbacks: list[dr.Callback] = [
        dr.EarlyStopping(patience=2, min_delta=min_delta),
        dr.GradientFlowRecorder(X, y, max_rows=32),
        InterruptAt(interrupt_at),
    ]
    model = classifier(dropout=0.8, seed=2, l2=0.3)
    history = model.fit(X, y, validation_data=(X_dev, y_dev), epochs=9, batch_size=32,
                        callbacks=callbacks, augment=augment, seed=4, state=state)
    return model, history, callbacks


@pytest.mark.parametrize("interrupt_at", [0, 4, 8])
def test_a_resumed_fit_ends_with_the_same_weights_bit_for_bit(interrupt_at: int) -> None:
    reference, expected, _ = resumable_fit(None, None)
    state = dr.TrainingState()
    with pytest.raises(KeyboardInterrupt):
        resumable_fit(interrupt_at, state)
    # the interruption came during epoch `interrupt_at`'s callbacks: the state holds the
    # epochs before it, whole
    assert state.epoch == interrupt_at
    model, history, callbacks = resumable_fit(None, state)
    assert np.array_equal(model.theta, reference.theta)
    for key in ("train_cost", "dev_cost", "train_error"):
        assert history[key] == expected[key]
    assert history.best_epoch == expected.best_epoch
    recorder = callbacks[1]
    assert isinstance(recorder, dr.GradientFlowRecorder)
    assert recorder.epochs == list(range(9)) and len(recorder.flows) == 9


def test_resuming_a_run_that_early_stopping_ended_only_restores_the_best_weights() -> None:
    # min_delta so large that only the first epoch improves: patience ends epoch 2
    reference, expected, _ = resumable_fit(None, None, min_delta=100.0)
    assert expected.stop_reason == "patience" and len(expected) == 3
    state = dr.TrainingState()
    resumable_fit(None, state, min_delta=100.0)
    assert state.stop_reason == "patience" and state.epoch == len(expected)
    assert state.theta is not None and not np.array_equal(state.theta, reference.theta)
    model, history, _ = resumable_fit(None, state, min_delta=100.0)
    assert np.array_equal(model.theta, reference.theta)
    assert len(history) == len(expected) and history.stop_reason == "patience"


def test_a_state_from_another_model_or_optimizer_is_refused() -> None:
    X, y, _, _ = digits()
    state = dr.TrainingState()
    classifier().fit(X[:64], y[:64], epochs=1, state=state)
    other = dr.Sequential([dr.Dense(8, "relu"), dr.Dense(10, "softmax")], input_dim=64)
    with pytest.raises(ValueError, match=r"state.theta.shape must be the model's"):
        other.fit(X[:64], y[:64], epochs=2, state=state)
    with pytest.raises(ValueError, match=r"state.optimizer must be the state of SGD"):
        classifier().fit(X[:64], y[:64], epochs=2, state=state, optimizer="sgd")
    with pytest.raises(ValueError, match=r"len\(state.callbacks\) must be"):
        classifier().fit(X[:64], y[:64], epochs=2, state=state,
                         callbacks=[dr.EarlyStopping(monitor="train_cost")])


def test_a_negative_seed_is_named() -> None:
    model = dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2)
    with pytest.raises(ValueError, match=r"fit: seed must be an integer >= 0; received "
                       r"seed=-1\."):
        model.fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]), epochs=1, seed=-1)


def test_an_augmentation_that_makes_nan_is_named_not_called_divergence() -> None:
    # the NaN it returned read as a diverged run, blamed on the learning rate
    model = dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2)
    with pytest.raises(ValueError, match=r"fit: augment\(X_batch, rng\) must be finite"):
        model.fit(np.ones((8, 2)), np.array([0, 1] * 4), epochs=1,
                  augment=lambda X, rng: X * np.nan)


def test_shuffle_must_be_a_bool() -> None:
    model = dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2)
    with pytest.raises(TypeError, match=r"fit: shuffle must be True or False; received "
                       r"shuffle='no'\."):  # bool('no') is True: it shuffled
        model.fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]), epochs=1, shuffle="no")


def test_a_dev_target_too_large_for_float32_is_named() -> None:
    # its dev cost overflowed: EarlyStopping read a non-finite value as a divergence
    X = np.random.default_rng(0).normal(size=(20, 2))
    model = dr.Sequential([dr.Dense(1, "linear")], input_dim=2)
    with pytest.raises(ValueError, match=r"fit \(validation_data\): y must be smaller than "
                       r"1e\+18 in magnitude for a float32 network"):
        model.fit(X, X[:, 0], epochs=1, validation_data=(X, np.full(20, 3e20)))


def test_a_state_that_is_not_a_training_state_is_named() -> None:
    model = dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2)
    with pytest.raises(TypeError, match=r"fit: state must be a dr.TrainingState \(or None\); "
                       r"received state='run.ckpt'\."):  # an AttributeError on .epoch
        model.fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]), epochs=1, state="run.ckpt")
