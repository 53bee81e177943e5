"""Optimizers: exact updates against hand-written references and torch.optim.Adam."""

from __future__ import annotations

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import optimizers
from deeprecipe.optimizers import SGD, Adam, Momentum
from deeprecipe.parameters import layout_of

FLOAT64 = np.dtype("float64")
SHAPES = {"dense_1.W": (3, 2), "dense_1.b": (2,)}
LAYOUT = layout_of(SHAPES)
SIZE = 8  # 3 · 2 + 2
STEPS = 10


def built(optimizer: optimizers.Optimizer) -> optimizers.Optimizer:
    optimizer.build(LAYOUT, FLOAT64)
    return optimizer


def gradients(rng: np.random.Generator, steps: int = STEPS) -> list[np.ndarray]:
    return [rng.standard_normal(SIZE) for _ in range(steps)]


def run(optimizer: optimizers.Optimizer, theta: np.ndarray, grads: list[np.ndarray]):
    theta = theta.copy()
    for grad in grads:
        optimizer.step(theta, grad)
    return theta


def reference_momentum(theta, grads, learning_rate, beta):
    """The notes: v = β v + (1 - β) dW; W = W - α v."""
    theta, velocity = theta.copy(), np.zeros_like(theta)
    for grad in grads:
        velocity = beta * velocity + (1 - beta) * grad
        theta = theta - learning_rate * velocity
    return theta


def reference_adam(theta, grads, learning_rate, beta1, beta2, epsilon):
    """Kingma & Ba with bias correction; ε outside the square root."""
    theta, m, v = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    for t, grad in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        theta = theta - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)
    return theta


def test_sgd_step_is_exactly_w_minus_lr_dw(rng):
    theta, grad = rng.standard_normal(SIZE), rng.standard_normal(SIZE)
    expected = theta - 0.1 * grad
    built(SGD(learning_rate=0.1)).step(theta, grad)
    np.testing.assert_array_equal(theta, expected)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_momentum_matches_the_reference(beta, rng):
    theta, grads = rng.standard_normal(SIZE), gradients(rng)
    result = run(built(Momentum(learning_rate=0.05, beta=beta)), theta, grads)
    np.testing.assert_allclose(result, reference_momentum(theta, grads, 0.05, beta), rtol=1e-13)


def test_momentum_with_beta_zero_is_sgd(rng):
    theta, grads = rng.standard_normal(SIZE), gradients(rng)
    momentum = run(built(Momentum(learning_rate=0.05, beta=0.0)), theta, grads)
    sgd = run(built(SGD(learning_rate=0.05)), theta, grads)
    np.testing.assert_allclose(momentum, sgd, rtol=1e-14)


ADAM_SETTINGS = [
    {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3},
    {"learning_rate": 0.01, "beta1": 0.0, "beta2": 0.0, "epsilon": 0.5},
]


@pytest.mark.parametrize("settings", ADAM_SETTINGS)
def test_adam_matches_the_reference(settings, rng):
    theta, grads = rng.standard_normal(SIZE), gradients(rng)
    result = run(built(Adam(**settings)), theta, grads)
    np.testing.assert_allclose(result, reference_adam(theta, grads, **settings), rtol=1e-12)


def test_adam_first_step_moves_every_weight_by_the_learning_rate(rng):
    # At t = 1, m̂ = g and v̂ = g², so the step is α g / (|g| + ε) ≈ α sign(g).
    theta, grad = rng.standard_normal(SIZE), rng.standard_normal(SIZE)
    result = run(built(Adam(learning_rate=0.01, epsilon=1e-12)), theta, [grad])
    np.testing.assert_allclose(theta - result, 0.01 * np.sign(grad), rtol=1e-9)


@pytest.mark.parametrize("settings", ADAM_SETTINGS)
def test_adam_matches_torch(settings, rng):
    torch = pytest.importorskip("torch")
    theta, grads = rng.standard_normal(SIZE), gradients(rng)
    result = run(built(Adam(**settings)), theta, grads)

    parameter = torch.nn.Parameter(torch.tensor(theta, dtype=torch.float64))
    reference = torch.optim.Adam(
        [parameter],
        lr=settings["learning_rate"],
        betas=(settings["beta1"], settings["beta2"]),
        eps=settings["epsilon"],
    )
    for grad in grads:
        parameter.grad = torch.tensor(grad, dtype=torch.float64)
        reference.step()
    np.testing.assert_allclose(result, parameter.detach().numpy(), rtol=1e-12)


def test_step_updates_in_place_and_leaves_grad_alone(rng):
    theta, grad = rng.standard_normal(SIZE), rng.standard_normal(SIZE)
    grad_before = grad.copy()
    alias = theta
    built(Adam()).step(theta, grad)
    assert alias is theta
    np.testing.assert_array_equal(grad, grad_before)


def test_state_is_keyed_by_parameter_name(rng):
    adam = built(Adam(beta1=0.9, beta2=0.999))
    grad = rng.standard_normal(SIZE)
    adam.step(rng.standard_normal(SIZE), grad)
    state = adam.state
    assert list(state) == ["dense_1.W", "dense_1.b"]
    assert list(state["dense_1.W"]) == ["m", "v"]
    assert state["dense_1.W"]["m"].shape == (3, 2)
    assert state["dense_1.b"]["v"].shape == (2,)
    # After one step m = (1 - β1) g and v = (1 - β2) g², laid out W first, then b.
    np.testing.assert_allclose(state["dense_1.W"]["m"], 0.1 * grad[:6].reshape(3, 2))
    np.testing.assert_allclose(state["dense_1.b"]["v"], 0.001 * grad[6:] ** 2)


def test_momentum_state_names_its_velocity(rng):
    momentum = built(Momentum(beta=0.9))
    grad = rng.standard_normal(SIZE)
    momentum.step(rng.standard_normal(SIZE), grad)
    assert list(momentum.state["dense_1.b"]) == ["velocity"]
    np.testing.assert_allclose(momentum.state["dense_1.b"]["velocity"], 0.1 * grad[6:])


def test_sgd_has_no_state():
    assert built(SGD()).state == {"dense_1.W": {}, "dense_1.b": {}}


@pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
def test_state_dict_round_trips(cls, rng):
    theta, grads = rng.standard_normal(SIZE), gradients(rng, 6)
    original = built(cls(learning_rate=0.01))
    theta = run(original, theta, grads[:3])
    saved = original.state_dict()
    assert saved["iterations"] == 3
    expected_keys = {f"{name}/{kind}" for name in SHAPES for kind in cls.slots} | {"iterations"}
    assert set(saved) == expected_keys

    restored = built(cls(learning_rate=0.01))
    restored.load_state_dict(saved)
    assert restored.iterations == 3
    # Both continue identically from the same θ.
    np.testing.assert_array_equal(run(restored, theta, grads[3:]), run(original, theta, grads[3:]))


def test_state_dict_is_a_copy(rng):
    adam = built(Adam())
    adam.step(rng.standard_normal(SIZE), rng.standard_normal(SIZE))
    saved = adam.state_dict()
    saved["dense_1.W/m"][...] = 123.0
    assert not np.any(adam.state["dense_1.W"]["m"] == 123.0)


def test_build_resets_state_and_iterations(rng):
    adam = built(Adam())
    adam.step(rng.standard_normal(SIZE), rng.standard_normal(SIZE))
    adam.build(LAYOUT, FLOAT64)
    assert adam.iterations == 0
    np.testing.assert_array_equal(adam.state["dense_1.W"]["m"], 0.0)


@pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
def test_step_before_build_raises(cls, rng):
    with pytest.raises(RuntimeError, match="before build"):
        cls().step(rng.standard_normal(SIZE), rng.standard_normal(SIZE))


@pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
def test_step_with_mismatched_grad_raises(cls, rng):
    with pytest.raises(ValueError, match="grad"):
        built(cls()).step(rng.standard_normal(SIZE), rng.standard_normal(SIZE + 1))


@pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
def test_step_with_theta_of_another_layout_raises(cls, rng):
    # The optimizer was built for 8 parameters; a 10-parameter θ is a different model.
    with pytest.raises((ValueError, RuntimeError)):
        built(cls()).step(rng.standard_normal(SIZE + 2), rng.standard_normal(SIZE + 2))


@pytest.mark.parametrize("learning_rate", [0.0, -0.1, np.nan, np.inf, None, [0.1]])
@pytest.mark.parametrize("cls", [SGD, Momentum, Adam])
def test_bad_learning_rate_raises_naming_it(cls, learning_rate):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: learning_rate must be"):
        cls(learning_rate=learning_rate)


@pytest.mark.parametrize(
    ("cls", "kwargs", "arg"),
    [
        (Momentum, {"beta": 1.0}, "beta"),
        (Momentum, {"beta": -0.1}, "beta"),
        (Adam, {"beta1": 1.0}, "beta1"),
        (Adam, {"beta2": -0.5}, "beta2"),
        (Adam, {"epsilon": 0.0}, "epsilon"),
    ],
)
def test_bad_hyperparameters_raise_naming_them(cls, kwargs, arg):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: {arg} must be"):
        cls(**kwargs)


def test_get_by_name_and_instance():
    adam = optimizers.get("adam", learning_rate=0.02)
    assert isinstance(adam, Adam)
    assert adam.learning_rate == 0.02
    assert optimizers.get(adam) is adam
    assert optimizers.get("momentum").get_config() == {
        "name": "momentum",
        "learning_rate": 0.01,
        "beta": 0.9,
    }


def test_an_instance_with_a_second_learning_rate_is_an_error_not_silently_ignored():
    adam = Adam(learning_rate=0.01)
    assert optimizers.get(adam, 0.01) is adam  # the same rate says nothing new
    model = dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2)
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"fit: learning_rate must be None when optimizer is "
                       r"an instance \(it has learning_rate=0.01\); received learning_rate=0.5"):
        model.fit(X, y, optimizer=adam, learning_rate=0.5, epochs=1)


def test_get_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="optimizer") as info:
        optimizers.get("rmsprop")
    for name in optimizers.OPTIMIZERS:
        assert repr(name) in str(info.value)
