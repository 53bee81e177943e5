"""Tests for divergence handling: the fit loop stops on a cost that grew 10⁴-fold or on a
non-finite cost, gradient or weight, restores the last good weights, keeps the History,
names the layer and advises (the learning rate first).

pytest turns warnings into errors here, so these tests also show that no numpy overflow
warning leaks out of a diverging ``fit``.
"""

from __future__ import annotations

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe.divergence import GROWTH, Divergence, advise, find_origin, grew
from deeprecipe.run.checkpoint import read_checkpoint, write_checkpoint


def regression_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """64 rows of 3 features with a linear target, and the largest eigenvalue of the MSE
    cost's Hessian ``(2/m) [X 1]ᵀ [X 1]`` (the bias included)."""
    X = rng.standard_normal((64, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(64)
    augmented = np.hstack([X, np.ones((64, 1))])
    return X, y, float(np.linalg.eigvalsh(2 / 64 * augmented.T @ augmented).max())


class Snapshots(dr.Callback):
    """The weights at the end of every recorded epoch."""

    def __init__(self) -> None:
        self.model: dr.Sequential | None = None
        self.thetas: list[np.ndarray] = []

    def on_train_begin(self, model: dr.Sequential) -> None:
        self.model = model

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        assert self.model is not None
        self.thetas.append(self.model.theta.copy())
        return False


def test_gradient_descent_past_its_stable_step_stops_once_the_cost_has_grown_10_000_fold(
    rng,
) -> None:
    # Full-batch gradient descent with α = 4/λmax multiplies the error along the top
    # eigenvector by |1 − 4| = 3 per step (the cost by 9): divergence, long before the
    # float32 cost overflows (it used to run until then, to a cost above 1e20).
    X, y, top = regression_data(rng)
    model = dr.Sequential([dr.Dense(1, "linear")], input_dim=3)
    initial = model.cost(X, y)
    snapshots = Snapshots()
    history = model.fit(X, y, validation_data=(X, y), epochs=500, batch_size=None,
                        optimizer="sgd", learning_rate=4 / top, callbacks=[snapshots])
    assert history.stop_reason == "diverged"
    divergence = history.divergence
    assert isinstance(divergence, Divergence)
    assert 2 < len(history) < 30
    # nothing lost: every epoch before it is in the History, in every key
    assert all(len(values) == len(history) for values in history.history.values())
    assert all(np.isfinite(values).all() for values in history.history.values())
    # the rule: the training set's cost more than 10⁴ × its lowest so far (the cost at
    # initialization included) and above the cost at initialization
    lowest = min(initial, *history["train_eval_cost"])
    assert divergence.source == "growth"
    assert divergence.lowest == pytest.approx(lowest, rel=1e-5)
    assert divergence.cost > 1e4 * lowest and np.isfinite(divergence.cost)
    assert divergence.cost < 1e20
    assert max(history["train_eval_cost"]) <= 1e4 * lowest
    # the diverging epoch is the one after the last recorded; the model holds its weights
    assert divergence.epoch == len(history)
    assert divergence.batch is None
    assert divergence.layer == "dense_1"
    assert np.array_equal(model.theta, snapshots.thetas[-1])
    assert divergence.actions[0] == "lower_learning_rate"
    # normalized inputs and the recommended initialization clear both other suspects
    assert divergence.actions == ["lower_learning_rate"]
    # for people, counted from 1: the epoch after the History's last
    assert divergence.finding.code == "diverged_at"
    assert divergence.finding.values["source"] == "growth"
    assert f"training diverged at epoch {len(history) + 1}: the training cost grew to" in str(
        divergence)


def test_a_diverging_first_epoch_restores_the_initial_weights(rng) -> None:
    X, y, _ = regression_data(rng)
    model = dr.Sequential([dr.Dense(4, "linear"), dr.Dense(1, "linear")], input_dim=3)
    initial = model.theta.copy()
    history = model.fit(1e3 * X, y, epochs=5, batch_size=8, optimizer="sgd",
                        learning_rate=10.0)
    assert history.stop_reason == "diverged"
    assert len(history) == 0 and history.history == {}
    assert history.divergence is not None and history.divergence.epoch == 0
    assert history.divergence.source != "growth"  # non-finite within the first epoch
    assert np.array_equal(model.theta, initial)
    # the learning rate is the first suspect; inputs of scale 1000 are visibly not
    # normalized: that advice comes next
    assert history.divergence.actions[:2] == ["lower_learning_rate", "normalize_inputs"]


class PlantNaN(dr.Callback):
    def __init__(self, name: str, at: int) -> None:
        self.name, self.at = name, at
        self.model: dr.Sequential | None = None

    def on_train_begin(self, model: dr.Sequential) -> None:
        self.model = model

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if epoch == self.at and self.model is not None:
            self.model.named_parameters()[self.name][0, 0] = np.nan
        return False


def test_non_finite_weights_name_their_layer(rng) -> None:
    X = rng.standard_normal((40, 4))
    y = (X[:, 0] > 0).astype(int)
    layers = [dr.Dense(6, "tanh"), dr.Dense(6, "tanh"), dr.Dense(2, "softmax")]
    model = dr.Sequential(layers, input_dim=4)
    snapshots = Snapshots()
    history = model.fit(X, y, epochs=10, batch_size=10,
                        callbacks=[snapshots, PlantNaN("dense_2.W", at=2)])
    divergence = history.divergence
    assert divergence is not None
    assert (divergence.epoch, divergence.batch) == (3, 0)
    assert (divergence.layer, divergence.source, divergence.parameter) == (
        "dense_2", "weights", "dense_2.W")
    assert len(history) == 3
    assert np.array_equal(model.theta, snapshots.thetas[2])  # before the NaN was planted


def test_fit_refuses_non_finite_initial_parameters(rng) -> None:
    model = dr.Sequential([dr.Dense(3, "relu"), dr.Dense(2, "softmax")], input_dim=2)
    model.named_parameters()["dense_2.b"][1] = np.inf
    with pytest.raises(ValueError, match=r"fit: the model's parameters must be finite.*dense_2\.b"):
        model.fit(rng.standard_normal((4, 2)), [0, 1, 0, 1], epochs=1)


# --- locating the origin ------------------------------------------------------------------


def three_layers() -> dr.Sequential:
    layers = [dr.Dense(8, "tanh"), dr.Dense(8, "tanh"), dr.Dense(2, "softmax")]
    return dr.Sequential(layers, input_dim=4)


def test_origin_in_the_weights_is_the_first_bad_block(rng) -> None:
    model = three_layers()
    params = model.named_parameters()
    params["dense_3.W"][0, 0] = np.nan
    params["dense_2.b"][0] = np.inf
    assert find_origin(model, rng.standard_normal((5, 4))) == ("dense_2", "weights", "dense_2.b")


def test_origin_in_the_activations_is_the_first_layer_that_overflows() -> None:
    layers = [dr.Dense(8, "tanh"), dr.Dense(8, "linear"), dr.Dense(2, "softmax")]
    model = dr.Sequential(layers, input_dim=4)
    params = model.named_parameters()
    params["dense_1.W"][...] = 1.0  # A[1] = tanh(4) ≈ 1 for inputs of ones
    params["dense_2.W"][...] = 3e38  # finite, but Z[2] ≈ 8 · 3e38 overflows float32
    assert find_origin(model, np.ones((5, 4))) == ("dense_2", "activations", None)


def test_origin_in_the_gradients_is_the_deepest_bad_block(rng) -> None:
    # backpropagation carries an overflow from where it starts to every layer below it
    model = three_layers()
    grad = np.zeros_like(model.theta)
    slots = {slot.name: slot for slot in model.layout}
    for name in ("dense_1.W", "dense_2.W"):
        grad[slots[name].start] = np.inf
    origin = find_origin(model, rng.standard_normal((5, 4)), grad)
    assert origin == ("dense_2", "gradients", "dense_2.W")


def test_origin_is_the_cost_when_everything_else_is_finite(rng) -> None:
    model = three_layers()
    grad = np.zeros_like(model.theta)
    assert find_origin(model, rng.standard_normal((5, 4)), grad) == ("dense_3", "cost", None)


# --- advice ------------------------------------------------------------------------------------


def test_advice_puts_initialization_first_among_causes_when_it_is_not_the_recommended_one(
    rng,
) -> None:
    layers = [dr.Dense(8, "relu", init="random", init_scale=10.0), dr.Dense(2, "softmax")]
    model = dr.Sequential(layers, input_dim=4)
    advice = advise(model, "dense_1", 0.1, rng.standard_normal((50, 4)))
    assert [a.action for a in advice] == ["lower_learning_rate", "better_init"]
    assert "init='he'" in advice[1].reason and "init='random'" in advice[1].reason
    assert "(it was 0.1)" in advice[0].reason


def test_advice_leaves_out_what_is_already_done(rng) -> None:
    # normalized inputs and the recommended initialization: lowering the learning rate is
    # the one suspect left (a run standardizes its inputs: "normalize the inputs" misled)
    model = three_layers()
    advice = advise(model, "dense_2", None, rng.standard_normal((50, 4)))
    assert [a.action for a in advice] == ["lower_learning_rate"]


def test_advice_puts_normalization_right_after_the_learning_rate_for_raw_inputs(rng) -> None:
    model = three_layers()
    raw = 100 + 30 * rng.standard_normal((50, 4))
    advice = advise(model, "dense_1", 0.01, raw)
    assert [a.action for a in advice][:2] == ["lower_learning_rate", "normalize_inputs"]
    assert advice[1].code == "normalize_inputs:reach"
    assert advice[1].values["mean"] > 50 and advice[1].values["std"] > 5


class PoisonedSGD(dr.optimizers.SGD):
    """SGD whose ``at``-th step writes NaN into the first entry of block ``name``, as a
    non-finite gradient with a finite cost would."""

    def __init__(self, name: str, at: int) -> None:
        super().__init__(learning_rate=0.01)
        self.name, self.at = name, at

    def _update(self, theta: np.ndarray, grad: np.ndarray) -> None:
        super()._update(theta, grad)
        if self.iterations == self.at:
            slot = next(slot for slot in self._layout if slot.name == self.name)
            theta[slot.start] = np.nan


def test_weights_made_non_finite_by_the_last_step_are_caught_at_the_end_of_the_epoch(
    rng,
) -> None:
    X = rng.standard_normal((30, 4))
    y = (X[:, 0] > 0).astype(int)
    model = three_layers()
    snapshots = Snapshots()
    # 3 batches per epoch: step 6 is the last step of epoch 1
    history = model.fit(X, y, epochs=5, batch_size=10, optimizer=PoisonedSGD("dense_1.b", 6),
                        callbacks=[snapshots])
    divergence = history.divergence
    assert divergence is not None
    assert (divergence.epoch, divergence.batch) == (1, None)
    assert (divergence.layer, divergence.source, divergence.parameter) == (
        "dense_1", "weights", "dense_1.b")
    assert np.isfinite(divergence.cost)  # the epoch's training cost was still finite
    assert len(history) == 1
    assert np.array_equal(model.theta, snapshots.thetas[0])


# --- growth: divergence while the cost is still finite -----------------------------------------


@pytest.mark.parametrize(("cost", "lowest", "start", "expected"), [
    (1e33, 1.1, 1.1, True),  # the iris run at learning rate 1e10
    (1.1e4, 1.0, 1.1, True),  # 11,000 > 10⁴ × 1 and above where it started
    (9e3, 1.0, 1.1, False),  # under 10⁴ × the lowest: a bad epoch, not divergence
    (0.02, 1e-6, 0.69, False),  # 20,000 × a near-zero lowest, but far below the start
    (0.7, 1e-6, 0.69, True),  # fitted to 1e-6, then back above where it started
])
def test_a_cost_has_diverged_when_it_is_10_000_times_its_lowest_and_above_its_start(
    cost: float, lowest: float, start: float, expected: bool
) -> None:
    assert grew(cost, lowest, start) is expected
    assert GROWTH == 1e4


def test_a_network_fitted_to_a_near_zero_cost_is_not_called_diverged(rng) -> None:
    # separable data, Adam at a high rate: the cost falls to ~1e-6 and wobbles from there
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = dr.Sequential([dr.Dense(16, "relu"), dr.Dense(1, "sigmoid")], input_dim=2,
                          dtype="float64")
    history = model.fit(X, y, validation_data=(X, y), epochs=300, batch_size=20,
                        learning_rate=0.05)
    assert min(history["train_eval_cost"]) < 1e-3
    assert history.stop_reason == "max_epochs"
    assert history.divergence is None


def diverge(rng: np.random.Generator, state: dr.TrainingState | None, epochs: int
            ) -> tuple[dr.Sequential, dr.History]:
    X, y, top = regression_data(rng)
    model = dr.Sequential([dr.Dense(1, "linear")], input_dim=3)
    history = model.fit(X, y, epochs=epochs, batch_size=None, optimizer="sgd",
                        learning_rate=4 / top, state=state)
    return model, history


def test_a_resumed_fit_diverges_at_the_same_epoch(tmp_path) -> None:
    _, whole = diverge(np.random.default_rng(0), None, 100)
    assert whole.divergence is not None and whole.divergence.source == "growth"
    state = dr.TrainingState()
    diverge(np.random.default_rng(0), state, 3)  # interrupted after 3 epochs
    assert state.initial_cost is not None and np.isfinite(state.initial_cost)
    path = write_checkpoint(tmp_path / "state.safetensors", state)
    restored = read_checkpoint(path)
    assert restored.initial_cost == state.initial_cost  # the reference survives the file
    _, resumed = diverge(np.random.default_rng(0), restored, 100)
    assert resumed.divergence is not None
    assert (resumed.divergence.epoch, resumed.divergence.cost) == (
        whole.divergence.epoch, whole.divergence.cost)
