"""Tests for ``deeprecipe.diagnostics.gradient_flow``: the notes' vanishing/exploding example,
deep ReLU networks under He, small random and zeros initialization, and the statistics."""

from __future__ import annotations

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe.diagnostics import GradientFlow, gradient_flow
from deeprecipe.diagnostics.flow import EXPLODING, HEALTHY, SYMMETRIC, VANISHING, _verdict


def notes_network(c: float) -> dr.Sequential:
    """The notes' example: 10 linear layers of width 2, no bias; W[1]…W[9] = c·I and the
    output layer W[10] separate (here one unit), so ŷ = W[10]·c⁹·x."""
    layers = [dr.Dense(2, "linear") for _ in range(9)] + [dr.Dense(1, "linear")]
    model = dr.Sequential(layers, input_dim=2, dtype="float64")
    params = model.named_parameters()
    for l in range(1, 10):
        params[f"dense_{l}.W"][...] = c * np.eye(2)
    for name, value in params.items():
        if name.endswith(".b"):
            value[...] = 0.0
    return model


def regression_batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((64, 2)), rng.standard_normal(64)


# --- the notes' example ------------------------------------------------------------------------


def test_the_notes_output_scale(rng) -> None:
    X, _ = regression_batch(rng)
    for c, scale in ((1.5, 38.443359375), (0.5, 0.001953125)):
        model = notes_network(c)
        W10 = model.named_parameters()["dense_10.W"]
        assert c**9 == scale  # 1.5⁹ ≈ 38.44 and 0.5⁹ ≈ 0.00195, as the notes write
        assert np.allclose(model.predict(X), (X @ W10)[:, 0] * scale)


def test_the_notes_exploding_example(rng) -> None:
    flow = gradient_flow(notes_network(1.5), *regression_batch(rng))
    assert flow.verdict == EXPLODING
    assert flow.named == [f"dense_{l}" for l in range(1, 10)]
    assert flow.forward_gain == pytest.approx(1.5**9)  # rms(A[9]) / rms(X) = c⁹ ≈ 38.44
    assert flow.backward_gain == pytest.approx(1.5**9)  # rms(dX) / rms(dA[9])
    assert flow.actions == ["better_init", "lower_learning_rate"]
    assert "init='xavier'" in flow.advice[0].reason
    assert "dense_1…dense_9" in flow.advice[0].reason


def test_the_notes_vanishing_example(rng) -> None:
    flow = gradient_flow(notes_network(0.5), *regression_batch(rng))
    assert flow.verdict == VANISHING
    assert flow.named == [f"dense_{l}" for l in range(1, 10)]
    assert flow.forward_gain == pytest.approx(0.5**9)  # ≈ 0.00195
    assert flow.backward_gain == pytest.approx(0.5**9)
    assert flow.actions == ["better_init"]


def test_identity_layers_are_healthy(rng) -> None:
    flow = gradient_flow(notes_network(1.0), *regression_batch(rng))
    assert flow.verdict == HEALTHY
    assert flow.named == [] and flow.advice == []
    assert flow.forward_gain == pytest.approx(1.0)


@pytest.mark.parametrize("c", [1.5, 0.5])
def test_in_the_notes_example_dW_hides_what_A_and_dA_show(rng, c: float) -> None:
    # dW[l] = A[l-1]ᵀ dZ[l] ∝ c^(l-1) · c^(9-l): the same for every hidden layer …
    flow = gradient_flow(notes_network(c), *regression_batch(rng))
    hidden = flow.layers[:9]
    norms = [layer.grad_norm for layer in hidden]
    assert norms == pytest.approx([norms[0]] * 9)
    # … while the activations grow by c per layer forward and dA by c per layer backward
    for layer in hidden:
        assert layer.forward_gain == pytest.approx(c)
        assert layer.backward_gain == pytest.approx(c)
        assert layer.init_gain == pytest.approx(c)  # rms(W)·√n_in of c·I
    for deeper, shallower in zip(hidden[1:], hidden[:-1], strict=True):
        assert shallower.dA_norm / deeper.dA_norm == pytest.approx(c)
    assert flow.first_last_dA_ratio == pytest.approx(hidden[0].dA_norm / flow.layers[-1].dA_norm)


def test_the_threshold_is_a_parameter(rng) -> None:
    batch = regression_batch(rng)
    assert gradient_flow(notes_network(1.5), *batch, threshold=50.0).verdict == HEALTHY
    assert gradient_flow(notes_network(1.5), *batch, threshold=30.0).verdict == EXPLODING
    with pytest.raises(ValueError, match="gradient_flow: threshold must be a number > 1"):
        gradient_flow(notes_network(1.5), *batch, threshold=1.0)


# --- deep ReLU networks --------------------------------------------------------------------


def deep_relu(init: str) -> dr.Sequential:
    """10 layers: 9 hidden ReLU layers of 50 units and a softmax output over 3 classes."""
    layers: list[dr.Layer] = [dr.Dense(50, "relu", init=init) for _ in range(9)]
    layers.append(dr.Dense(3, "softmax"))
    return dr.Sequential(layers, input_dim=20, seed=1)


def classification_batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((256, 20)), rng.integers(0, 3, 256)


def test_a_deep_relu_network_with_he_init_is_healthy(rng) -> None:
    flow = gradient_flow(deep_relu("he"), *classification_batch(rng))
    assert flow.verdict == HEALTHY
    assert flow.forward_gain is not None and 0.3 < flow.forward_gain < 3
    assert all(layer.dead is not None and layer.dead < 0.2 for layer in flow.layers[:9])


def test_a_network_that_widens_is_not_exploding(rng) -> None:
    # 2-D inputs → 512 → 512 → 3 with He init: the widening layer multiplies the rms of
    # dJ/d(input) by about √(512/2) = 16 while the norm stays put; only the norm counts
    layers = [dr.Dense(512, "relu"), dr.Dense(512, "relu"), dr.Dense(3, "softmax")]
    model = dr.Sequential(layers, input_dim=2, seed=0, dtype="float64")
    X, y = rng.standard_normal((256, 2)), rng.integers(0, 3, 256)
    flow = gradient_flow(model, X, y)
    assert flow.verdict == HEALTHY, flow.summary()
    assert flow.backward_gain is not None and 0.2 < flow.backward_gain < 5
    first = flow.layer("dense_1")
    assert first.backward_gain is not None and 0.2 < first.backward_gain < 5


def test_a_deep_relu_network_with_small_random_init_vanishes(rng) -> None:
    # each layer multiplies the signal by about 0.01 · √(50/2) = 0.05
    flow = gradient_flow(deep_relu("random"), *classification_batch(rng))
    assert flow.verdict == VANISHING
    assert flow.forward_gain is not None and flow.forward_gain < 1e-6
    assert flow.backward_gain is not None and flow.backward_gain < 1e-6
    assert flow.named == [f"dense_{l}" for l in range(1, 10)]
    assert flow.actions == ["better_init"]
    assert "init='he'" in flow.advice[0].reason


def deep_sigmoid(init: str) -> dr.Sequential:
    layers: list[dr.Layer] = [dr.Dense(50, "sigmoid", init=init) for _ in range(9)]
    return dr.Sequential([*layers, dr.Dense(3, "softmax")], input_dim=20, seed=1)


def test_a_deep_sigmoid_network_with_xavier_init_blames_the_sigmoid_not_the_init(rng) -> None:
    # the forward signal keeps its scale; backward, each sigmoid's slope (≤ ¼) divides dA
    flow = gradient_flow(deep_sigmoid("xavier"), *classification_batch(rng))
    assert flow.verdict == VANISHING
    assert flow.forward_gain is not None and flow.forward_gain > 0.1
    assert flow.backward_gain is not None and flow.backward_gain < 1e-4
    assert flow.actions == ["other_architecture"]
    assert flow.advice[0].code == "other_architecture:sigmoid"
    assert flow.advice[0].values == {"layers": [f"dense_{i}" for i in range(1, 10)]}


def test_a_deep_sigmoid_network_with_small_init_is_told_to_initialize_better(rng) -> None:
    flow = gradient_flow(deep_sigmoid("random"), *classification_batch(rng))
    assert flow.verdict == VANISHING
    assert flow.actions == ["better_init"]
    assert "init='xavier'" in flow.advice[0].reason


def test_a_network_initialized_with_zeros_is_symmetric(rng) -> None:
    layers: list[dr.Layer] = [dr.Dense(50, "relu", init="zeros") for _ in range(9)]
    layers.append(dr.Dense(3, "softmax", init="zeros"))
    model = dr.Sequential(layers, input_dim=20)
    flow = gradient_flow(model, *classification_batch(rng))
    assert flow.verdict == SYMMETRIC
    assert flow.named == [f"dense_{l}" for l in range(1, 10)]
    assert all(layer.symmetric for layer in flow.layers[:9])
    assert flow.actions == ["better_init"]
    assert "identical" in flow.advice[0].reason


def test_symmetry_needs_identical_outgoing_weights_too(rng) -> None:
    # identical incoming weights, but a random next layer tells the units apart
    layers = [dr.Dense(8, "tanh", init="zeros"), dr.Dense(3, "softmax")]
    flow = gradient_flow(dr.Sequential(layers, input_dim=20), *classification_batch(rng))
    assert flow.verdict != SYMMETRIC
    assert not flow.layers[0].symmetric


def test_symmetric_takes_precedence_over_exploding(rng) -> None:
    model = notes_network(1.5)
    params = model.named_parameters()
    params["dense_9.W"][...] = 1.5  # both units of layer 9 compute 1.5 (a + b) …
    params["dense_10.W"][...] = 0.7  # … and feed the output through equal weights
    flow = gradient_flow(model, *regression_batch(rng))
    assert flow.verdict == SYMMETRIC
    assert flow.named == ["dense_9"]


def test_exploding_takes_precedence_over_vanishing() -> None:
    layer = dr.diagnostics.LayerFlow("dense_1", "relu", 4, 0.0, 1.0, 0.0, None, 1.0, 1.0, 1.0,
                                     1.0, 1.0, 1.0, forward_gain=20.0, backward_gain=0.01)
    output = dr.diagnostics.LayerFlow("dense_2", "softmax", 2, 0.5, 0.1, None, None, 1.0, 1.0,
                                      1.0, 1.0, 1.0, 1.0)
    assert _verdict([layer, output], (20.0, 0.01), 10.0) == (EXPLODING, ["dense_1"])


# --- per-layer statistics -------------------------------------------------------------------


def test_layer_statistics_match_a_direct_computation(rng) -> None:
    layers = [dr.Dense(6, "relu"), dr.Dropout(0.5), dr.Dense(5, "tanh"), dr.Dense(3, "softmax")]
    model = dr.Sequential(layers, input_dim=4, dtype="float64")
    X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    flow = gradient_flow(model, X, y)
    assert [layer.name for layer in flow.layers] == ["dense_1", "dense_2", "dense_3"]
    grads = model.gradients(X, y)
    params = model.named_parameters()
    A1 = np.maximum(X @ params["dense_1.W"] + params["dense_1.b"], 0)
    first = flow.layer("dense_1")
    assert first.activation_mean == pytest.approx(A1.mean())
    assert first.activation_std == pytest.approx(A1.std())
    assert first.dead == pytest.approx(np.mean(np.all(A1 == 0, axis=0)))
    assert first.grad_norm == pytest.approx(np.linalg.norm(grads["dense_1.W"]))
    assert first.weight_norm == pytest.approx(np.linalg.norm(params["dense_1.W"]))
    assert first.grad_ratio == pytest.approx(first.grad_norm / first.weight_norm)
    assert flow.layer("dense_2").saturated is not None and flow.layer("dense_2").dead is None
    assert flow.first_last_ratio == pytest.approx(first.grad_norm
                                                  / flow.layer("dense_3").grad_norm)
    with pytest.raises(KeyError, match="no layer 'dense_9'"):
        flow.layer("dense_9")


def test_dead_relus_and_saturated_tanh_units_are_remarked(rng) -> None:
    layers = [dr.Dense(8, "relu"), dr.Dense(8, "tanh"), dr.Dense(2, "softmax")]
    model = dr.Sequential(layers, input_dim=4)
    params = model.named_parameters()
    params["dense_1.b"][:6] = -100.0  # 6 of 8 units never fire
    params["dense_2.W"][...] *= 1000.0  # tanh pinned at ±1
    flow = gradient_flow(model, rng.standard_normal((50, 4)), rng.integers(0, 2, 50))
    assert flow.layer("dense_1").dead == pytest.approx(0.75)
    saturated = flow.layer("dense_2").saturated
    assert saturated is not None and saturated > 0.5
    dead, saturated_units = flow.remarks
    assert dead.code == "dead_relu" and dead.values == {"layers": [("dense_1", 0.75)]}
    assert "dense_1 (75%)" in str(dead)  # the layer and its share, as people read them
    assert saturated_units.code == "saturated"
    assert [name for name, _ in saturated_units.values["layers"]] == ["dense_2"]


def test_a_network_without_hidden_layers_is_healthy(rng) -> None:
    model = dr.Sequential([dr.Dense(3, "softmax")], input_dim=20)
    flow = gradient_flow(model, *classification_batch(rng))
    assert flow.verdict == HEALTHY
    assert flow.forward_gain is None and flow.backward_gain is None
    assert [remark.code for remark in flow.remarks] == ["no_hidden_layers"]


def test_an_overflowing_network_is_exploding_without_warnings() -> None:
    layers = [dr.Dense(8, "linear"), dr.Dense(8, "linear"), dr.Dense(2, "softmax")]
    model = dr.Sequential(layers, input_dim=4)
    model.named_parameters()["dense_1.W"][...] *= 1e20  # random, so not symmetric
    model.named_parameters()["dense_2.W"][...] *= 1e20
    flow = gradient_flow(model, np.ones((5, 4)), [0, 1, 0, 1, 0])
    assert flow.verdict == EXPLODING
    assert "dense_2" in flow.named


def test_summary_and_table(rng) -> None:
    flow = gradient_flow(notes_network(1.5), *regression_batch(rng))
    assert isinstance(flow, GradientFlow)
    assert flow.summary().startswith("exploding (dense_1…dense_9)")
    assert "×38.44" in flow.summary()
    table = flow.table().splitlines()
    assert len(table) == 11 and "||dW||/||W||" in table[0]


def test_bad_data_is_refused() -> None:
    with pytest.raises(ValueError, match=r"gradient_flow: X.shape\[1\] must be 2"):
        gradient_flow(notes_network(1.5), np.ones((3, 4)), np.ones(3))


def test_a_model_that_is_not_a_sequential_is_named() -> None:
    with pytest.raises(TypeError, match=r"gradient_flow: model must be a Sequential; received "
                       r"model='model'\."):  # it was an AttributeError on _check_data
        gradient_flow("model", np.zeros((2, 2)), np.zeros(2))  # type: ignore[arg-type]
