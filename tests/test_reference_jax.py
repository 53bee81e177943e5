"""JAX as a second oracle: costs and gradients equal ``jax.grad`` in float64."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import deeprecipe as dr

jax.config.update("jax_enable_x64", True)

JAX_ACTIVATIONS = {
    "relu": jax.nn.relu,
    "leaky_relu": lambda z: jax.nn.leaky_relu(z, negative_slope=0.01),
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "linear": lambda z: z,
}


def jax_cost(params: dict, X: np.ndarray, y: np.ndarray, model: dr.Sequential) -> jax.Array:
    """The notes' J written independently in JAX: mean loss + λ/(2m) Σ||W||² + λ/(2m) Σ|W|."""
    a = jnp.asarray(X)
    dense = [(layer, name) for layer, name in zip(model.layers, model.names, strict=True)
             if isinstance(layer, dr.Dense)]
    for layer, name in dense[:-1]:
        a = JAX_ACTIVATIONS[layer.activation](a @ params[f"{name}.W"] + params[f"{name}.b"])
    last = dense[-1][1]
    z = a @ params[f"{last}.W"] + params[f"{last}.b"]
    m = len(X)
    if model.loss.name == "cross_entropy":
        data = -jnp.mean(jax.nn.log_softmax(z)[jnp.arange(m), y])
    elif model.loss.name == "binary_cross_entropy":
        data = jnp.mean(jnp.logaddexp(0.0, z[:, 0]) - y * z[:, 0])
    else:
        data = jnp.mean((z - y.reshape(z.shape)) ** 2)
    weights = [params[f"{name}.W"] for _, name in dense]
    l2 = model.l2 / (2 * m) * sum(jnp.sum(w**2) for w in weights)
    l1 = model.l1 / (2 * m) * sum(jnp.sum(jnp.abs(w)) for w in weights)
    return data + l2 + l1


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))


@pytest.mark.parametrize("activation", sorted(JAX_ACTIVATIONS))
@pytest.mark.parametrize(
    ("output", "units"), [("softmax", 4), ("sigmoid", 1), ("linear", 2)]
)
def test_cost_and_gradients_equal_jax(activation: str, output: str, units: int) -> None:
    rng = np.random.default_rng(7)
    model = dr.Sequential(
        [dr.Dense(6, activation), dr.Dense(5, activation), dr.Dense(units, output)],
        input_dim=3, l2=0.3, l1=0.2, seed=3, dtype="float64",
    )
    X = rng.standard_normal((11, 3))
    if output == "linear":
        y = rng.standard_normal((11, units))
    else:
        y = rng.integers(0, max(units, 2), 11)

    params = {name: jnp.asarray(value) for name, value in model.named_parameters().items()}
    expected_cost, expected = jax.value_and_grad(jax_cost)(params, X, y, model)

    assert model.cost(X, y) == pytest.approx(float(expected_cost), rel=1e-12)
    grads = model.gradients(X, y)
    assert list(grads) == list(params)
    for name, grad in grads.items():
        assert relative(grad, np.asarray(expected[name])) <= 1e-10, name
