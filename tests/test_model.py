"""Tests for ``deeprecipe.model.Sequential``.

* PyTorch (float64) as an oracle for the cost ``J`` and the gradient ``dJ/dθ`` across
  activations × losses × regularizers × depths.
* Dropout inside the model, named parameters, flatten / unflatten, ``astype``.
* Properties from the notes: zero initialization keeps hidden units symmetric; a larger ``λ``
  gives smaller weights.
* Bad input: one clear error per mistake, in the STYLE template.
* A hand-worked example whose arithmetic is written in the comments.
"""

from __future__ import annotations

import math
import re
from itertools import product

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

import deeprecipe as dr
from gradients import relative_error

# --- helpers --------------------------------------------------------------------------


TEMPLATE = re.compile(r"^[^:]+: .*must.*; received ", re.DOTALL)


def assert_template(error: pytest.ExceptionInfo[BaseException]) -> None:
    """``<where>: <arg> must …; received <arg>=…`` (STYLE, "Errors")."""
    message = str(error.value)
    assert TEMPLATE.match(message), f"message does not follow the template: {message!r}"


def digits(n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits, standardized (constant pixels left at 0)."""
    X, y = load_digits(return_X_y=True)
    std = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    if n is not None:
        X, y = X[:n], y[:n]
    return X, y


# --- PyTorch as an oracle -------------------------------------------------------------

TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=1),
}

# loss -> (output activation, output units)
OUTPUTS = {
    "cross_entropy": ("softmax", 4),
    "binary_cross_entropy": ("sigmoid", 1),
    "mean_squared_error": ("linear", 3),
}
HIDDEN = ("relu", "leaky_relu", "tanh", "sigmoid", "linear")
REGULARIZATION = {"none": (0.0, 0.0), "l2": (0.7, 0.0), "l1": (0.0, 0.3), "l1+l2": (0.7, 0.3)}
WIDTHS = {1: [], 2: [6], 4: [7, 6, 5]}
M, INPUT_DIM = 16, 5


def torch_cost_and_gradients(
    model: dr.Sequential, X: np.ndarray, y: np.ndarray
) -> tuple[float, dict[str, np.ndarray]]:
    """The same ``J`` built in PyTorch from the model's parameters, and its autograd."""
    leaves = {
        name: torch.from_numpy(value.copy()).requires_grad_(True)
        for name, value in model.named_parameters().items()
    }
    a = torch.from_numpy(np.asarray(X, dtype=np.float64))
    dense = [layer for layer in model.layers if isinstance(layer, dr.Dense)]
    z = a
    for index, layer in enumerate(dense, start=1):
        z = a @ leaves[f"dense_{index}.W"] + leaves[f"dense_{index}.b"]
        a = TORCH_ACTIVATIONS[layer.activation](z)
    name, output = model.loss.name, model.output_activation
    if name == "cross_entropy":
        data = F.cross_entropy(z, torch.from_numpy(np.asarray(y, dtype=np.int64)))
    elif name == "binary_cross_entropy":
        target = torch.from_numpy(np.asarray(y, dtype=np.float64).reshape(-1, 1))
        data = F.binary_cross_entropy_with_logits(z, target)
    else:
        target = torch.from_numpy(np.asarray(y, dtype=np.float64).reshape(len(X), -1))
        prediction = z if output == "linear" else a
        data = F.mse_loss(prediction, target)
    m = len(X)
    weights = [leaves[f"dense_{i}.W"] for i in range(1, len(dense) + 1)]
    penalty = torch.zeros((), dtype=torch.float64)
    if model.l2:
        penalty = penalty + model.l2 / (2 * m) * sum((w**2).sum() for w in weights)
    if model.l1:
        penalty = penalty + model.l1 / (2 * m) * sum(w.abs().sum() for w in weights)
    cost = data + penalty
    cost.backward()
    grads = {name: leaf.grad.numpy() for name, leaf in leaves.items()}
    return float(cost.item()), grads


def make_targets(loss: str, rng: np.random.Generator, m: int = M) -> np.ndarray:
    if loss == "cross_entropy":
        return rng.integers(0, OUTPUTS[loss][1], size=m)
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, size=m).astype(np.float64)
    return rng.normal(size=(m, OUTPUTS[loss][1]))


def oracle_cases() -> list[tuple[int, str, str, str]]:
    """(depth, hidden activation, loss, regularization): every loss × regularization at
    depth 1; every hidden activation × loss at depths 2 and 4, cycling the regularization
    so that each loss meets each regularization at each depth."""
    cases = [(1, "-", loss, reg) for loss, reg in product(OUTPUTS, REGULARIZATION)]
    regs = list(REGULARIZATION)
    for depth in (2, 4):
        for i, (activation, loss) in enumerate(product(HIDDEN, OUTPUTS)):
            cases.append((depth, activation, loss, regs[(i + depth) % len(regs)]))
    return cases


ORACLE_CASES = oracle_cases()


def oracle_model(depth: int, activation: str, loss: str, reg: str, seed: int) -> dr.Sequential:
    output_activation, units = OUTPUTS[loss]
    layers: list[dr.Layer] = [dr.Dense(width, activation) for width in WIDTHS[depth]]
    layers.append(dr.Dense(units, output_activation))
    l2, l1 = REGULARIZATION[reg]
    return dr.Sequential(
        layers, input_dim=INPUT_DIM, l2=l2, l1=l1, seed=seed, dtype="float64"
    )


def assert_matches_torch(model: dr.Sequential, X: np.ndarray, y: np.ndarray) -> None:
    expected_cost, expected_grads = torch_cost_and_gradients(model, X, y)
    cost = model.cost(X, y)
    assert abs(cost - expected_cost) <= 1e-12 * abs(expected_cost), (cost, expected_cost)
    grads = model.gradients(X, y)
    assert list(grads) == list(expected_grads)
    for name, grad in grads.items():
        assert grad.shape == expected_grads[name].shape, name
        difference = relative_error(grad, expected_grads[name])
        assert difference <= 1e-10, f"{name}: relative difference {difference:.3e}"


@pytest.mark.parametrize(
    ("depth", "activation", "loss", "reg"),
    ORACLE_CASES,
    ids=[f"depth{d}-{a}-{loss}-{r}" for d, a, loss, r in ORACLE_CASES],
)
def test_cost_and_gradients_match_torch(depth: int, activation: str, loss: str, reg: str) -> None:
    seed = ORACLE_CASES.index((depth, activation, loss, reg))
    rng = np.random.default_rng(1000 + seed)
    model = oracle_model(depth, activation, loss, reg, seed)
    X = rng.normal(size=(M, INPUT_DIM))
    y = make_targets(loss, rng)
    if model.l1:
        # the L1 kink: random weights are never exactly 0
        assert all(np.all(p != 0) for n, p in model.named_parameters().items() if n.endswith("W"))
    assert_matches_torch(model, X, y)


@pytest.mark.parametrize("reg", ["none", "l1+l2"])
@pytest.mark.parametrize("depth", [1, 2])
def test_unfused_sigmoid_with_mean_squared_error_matches_torch(depth: int, reg: str) -> None:
    # sigmoid output + MSE: the loss is not fused with the output activation, so the
    # gradient flows through sigmoid' explicitly
    rng = np.random.default_rng(7)
    output_layer = dr.Dense(2, "sigmoid")
    layers = [dr.Dense(6, "tanh") for _ in WIDTHS[depth]] + [output_layer]
    l2, l1 = REGULARIZATION[reg]
    model = dr.Sequential(layers, input_dim=INPUT_DIM, loss="mean_squared_error", l2=l2,
                          l1=l1, seed=3, dtype="float64")
    assert not model.from_logits
    X = rng.normal(size=(M, INPUT_DIM))
    y = rng.uniform(size=(M, 2))
    assert_matches_torch(model, X, y)


def test_activation_layer_output_matches_torch() -> None:
    # a separate Activation("softmax") as the output layer is fused like Dense(…, "softmax")
    rng = np.random.default_rng(8)
    model = dr.Sequential([dr.Dense(6, "tanh"), dr.Dense(4), dr.Activation("softmax")],
                          input_dim=INPUT_DIM, l2=0.5, seed=2, dtype="float64")
    assert model.loss.name == "cross_entropy"
    X = rng.normal(size=(M, INPUT_DIM))
    y = rng.integers(0, 4, size=M)
    assert_matches_torch(model, X, y)


# --- dropout inside the model ---------------------------------------------------------


def dropout_models() -> tuple[dr.Sequential, dr.Sequential]:
    with_dropout = dr.Sequential(
        [dr.Dense(8, "relu"), dr.Dropout(0.5), dr.Dense(6, "tanh"), dr.Dropout(0.7),
         dr.Dense(3, "softmax")],
        input_dim=INPUT_DIM, l2=0.2, seed=4, dtype="float64",
    )
    without = dr.Sequential(
        [dr.Dense(8, "relu"), dr.Dense(6, "tanh"), dr.Dense(3, "softmax")],
        input_dim=INPUT_DIM, l2=0.2, seed=99, dtype="float64",
    )
    without.set_parameters(with_dropout.named_parameters())
    return with_dropout, without


def test_dropout_gradients_are_reproducible_with_the_same_rng() -> None:
    model, _ = dropout_models()
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, INPUT_DIM)), rng.integers(0, 3, size=20)
    first = model.gradients(X, y, training=True, rng=np.random.default_rng(5))
    second = model.gradients(X, y, training=True, rng=np.random.default_rng(5))
    other = model.gradients(X, y, training=True, rng=np.random.default_rng(6))
    for name in first:
        assert np.array_equal(first[name], second[name]), name
    # dropout is really on: another seed draws other masks
    assert not np.array_equal(first["dense_1.W"], other["dense_1.W"])
    inference = model.gradients(X, y)
    assert not np.array_equal(first["dense_1.W"], inference["dense_1.W"])


def test_dropout_is_off_when_not_training() -> None:
    model, without = dropout_models()
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, INPUT_DIM)), rng.integers(0, 3, size=20)
    assert list(model.named_parameters()) == list(without.named_parameters())
    assert model.cost(X, y) == without.cost(X, y)
    grads, expected = model.gradients(X, y), without.gradients(X, y)
    for name in expected:
        assert np.array_equal(grads[name], expected[name]), name
    assert np.array_equal(model.predict_proba(X), without.predict_proba(X))


def test_dropout_training_needs_an_rng() -> None:
    model, _ = dropout_models()
    X, y = np.zeros((4, INPUT_DIM)), np.zeros(4, dtype=int)
    with pytest.raises(ValueError, match="rng") as error:
        model.gradients(X, y, training=True)
    assert "dropout_1" in str(error.value)


# --- named parameters, flatten / unflatten, astype ------------------------------------


def three_layer_model(dtype: str = "float64") -> dr.Sequential:
    return dr.Sequential(
        [dr.Dense(7, "relu"), dr.Dropout(0.8), dr.Dense(6, "tanh"), dr.Dropout(0.9),
         dr.Dense(3, "softmax")],
        input_dim=INPUT_DIM, seed=11, dtype=dtype,
    )


def test_layers_and_parameters_are_named_in_model_order() -> None:
    model = three_layer_model()
    assert model.names == [
        "dense_1", "dropout_1", "dense_2", "dropout_2", "dense_3"
    ]
    params = model.named_parameters()
    assert list(params) == [
        "dense_1.W", "dense_1.b", "dense_2.W", "dense_2.b", "dense_3.W", "dense_3.b"
    ]
    # W is (n_in, n_out) because Z = X @ W + b
    assert params["dense_1.W"].shape == (INPUT_DIM, 7)
    assert params["dense_2.W"].shape == (7, 6)
    assert params["dense_3.W"].shape == (6, 3)
    assert params["dense_3.b"].shape == (3,)
    assert list(model.gradients(np.zeros((2, INPUT_DIM)), [0, 1])) == list(params)


def test_named_parameters_are_views() -> None:
    model = three_layer_model()
    X = np.random.default_rng(2).normal(size=(10, INPUT_DIM))
    before = model.predict_proba(X)
    params = model.named_parameters()
    assert np.shares_memory(params["dense_2.W"], model.params[2]["W"])
    params["dense_3.b"][...] = [5.0, 0.0, -5.0]
    after = model.predict_proba(X)
    assert not np.allclose(before, after)
    assert np.array_equal(model.predict(X), np.zeros(10))


def test_flatten_unflatten_set_parameters_round_trip() -> None:
    model = three_layer_model()
    params = {name: value.copy() for name, value in model.named_parameters().items()}
    theta = model.flatten()
    assert theta.shape == (model.n_parameters,)
    assert model.n_parameters == sum(v.size for v in params.values())
    assert np.array_equal(theta, np.concatenate([v.ravel() for v in params.values()]))
    theta[:] = 0.0  # a copy: the model keeps its weights
    assert np.array_equal(model.named_parameters()["dense_1.W"], params["dense_1.W"])

    rebuilt = model.unflatten(model.flatten())
    assert list(rebuilt) == list(params)
    for name, value in params.items():
        assert np.array_equal(rebuilt[name], value), name

    X = np.random.default_rng(3).normal(size=(6, INPUT_DIM))
    before = model.predict_proba(X)
    new_theta = np.random.default_rng(4).normal(size=model.n_parameters)
    model.set_parameters(new_theta)
    assert np.array_equal(model.flatten(), new_theta)
    assert np.array_equal(model.unflatten(new_theta)["dense_2.W"],
                          model.named_parameters()["dense_2.W"])
    model.set_parameters(params)
    assert np.array_equal(model.predict_proba(X), before)


def test_set_parameters_refuses_wrong_names_and_shapes() -> None:
    model = three_layer_model()
    params = dict(model.named_parameters())
    with pytest.raises(ValueError, match="params"):
        model.set_parameters({k: v for k, v in params.items() if k != "dense_1.b"})
    with pytest.raises(ValueError, match=re.escape("params['dense_1.W'].shape")):
        model.set_parameters({**params, "dense_1.W": np.zeros((7, INPUT_DIM))})
    with pytest.raises(ValueError, match=re.escape("theta.shape")):
        model.set_parameters(np.zeros(model.n_parameters + 1))


def test_astype_float64_gives_the_same_predictions() -> None:
    model = three_layer_model("float32")
    X = np.random.default_rng(5).normal(size=(50, INPUT_DIM))
    copy = model.astype("float64")
    assert copy.dtype == np.float64
    assert model.dtype == np.float32
    assert copy.flatten().dtype == np.float64
    assert np.array_equal(copy.flatten(), model.flatten().astype(np.float64))
    np.testing.assert_allclose(copy.predict_proba(X), model.predict_proba(X),
                               rtol=1e-5, atol=1e-6)
    assert np.array_equal(copy.predict(X), model.predict(X))
    assert copy.names == model.names


# --- properties from the notes --------------------------------------------------------


def test_zero_initialization_keeps_hidden_units_symmetric() -> None:
    X, y = digits()
    layers = [dr.Dense(16, "tanh", init="zeros"), dr.Dense(16, "tanh", init="zeros"),
              dr.Dense(10, "softmax", init="zeros")]
    model = dr.Sequential(layers, input_dim=64, dtype="float64")
    history = model.fit(X, y, epochs=5, batch_size=64, optimizer="adam", learning_rate=0.01)
    assert history["train_cost"][-1] < history["train_cost"][0]  # it did train (the biases)
    params = model.named_parameters()
    for name in ("dense_1", "dense_2"):
        W, b = params[f"{name}.W"], params[f"{name}.b"]
        assert np.all(W == W[:, :1]), f"{name}: hidden units differ"
        assert np.all(b == b[0]), f"{name}: hidden biases differ"
    # with random initialization the hidden units do differ
    other = dr.Sequential([dr.Dense(16, "tanh"), dr.Dense(16, "tanh"),
                           dr.Dense(10, "softmax")], input_dim=64, dtype="float64")
    other.fit(X, y, epochs=1, batch_size=64, learning_rate=0.01)
    W = other.named_parameters()["dense_1.W"]
    assert not np.all(W == W[:, :1])


def test_larger_l2_gives_smaller_weights() -> None:
    X, y = digits(400)
    norms = []
    for l2 in (0.0, 1.0, 10.0):
        model = dr.Sequential([dr.Dense(32, "relu"), dr.Dense(10, "softmax")], input_dim=64,
                              l2=l2, seed=3)
        model.fit(X, y, epochs=20, batch_size=64, optimizer="adam", learning_rate=0.01, seed=0)
        weights = [p for n, p in model.named_parameters().items() if n.endswith(".W")]
        norms.append(math.sqrt(sum(float(np.sum(np.square(w, dtype=np.float64)))
                                   for w in weights)))
    assert norms[0] > norms[1] > norms[2], norms


# --- bad input ------------------------------------------------------------------------


def small_classifier(units: int = 10, activation: str = "softmax") -> dr.Sequential:
    return dr.Sequential([dr.Dense(8, "relu"), dr.Dense(units, activation)], input_dim=4)


def raise_on_fit(X, y, **kwargs) -> None:
    small_classifier().fit(X, y, epochs=1, **kwargs)


GOOD_X = np.random.default_rng(0).normal(size=(12, 4))
GOOD_Y = np.arange(12) % 10


def with_value(array: np.ndarray, index: tuple[int, ...], value: float) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array[index] = value
    return array


BAD_INPUT = {
    "X-columns-fit": (lambda: raise_on_fit(GOOD_X[:, :3], GOOD_Y), r"X\.shape\[1\]"),
    "X-columns-predict": (lambda: small_classifier().predict(np.zeros((2, 5))),
                          r"X\.shape\[1\]"),
    "X-nan": (lambda: raise_on_fit(with_value(GOOD_X, (3, 1), np.nan), GOOD_Y), "X"),
    "X-inf": (lambda: small_classifier().predict(with_value(GOOD_X, (0, 0), np.inf)), "X"),
    "X-strings": (lambda: raise_on_fit(np.full((12, 4), "a"), GOOD_Y), "X"),
    "y-nan": (lambda: raise_on_fit(GOOD_X, with_value(GOOD_Y, (2,), np.nan)), "y"),
    "y-label-10-softmax-10": (lambda: raise_on_fit(GOOD_X, with_value(GOOD_Y, (0,), 10)), "y"),
    "y-label-2-sigmoid": (
        lambda: small_classifier(1, "sigmoid").fit(GOOD_X, GOOD_Y % 3, epochs=1), "y"
    ),
    "len-y": (lambda: raise_on_fit(GOOD_X, GOOD_Y[:-1]), r"len\(y\)"),
    "keep_prob-0": (lambda: dr.Dropout(0.0), "keep_prob"),
    "keep_prob-1.5": (lambda: dr.Dropout(1.5), "keep_prob"),
    "l2-negative": (lambda: dr.Sequential([dr.Dense(2)], input_dim=3, l2=-0.1), "l2"),
    "l1-negative": (lambda: dr.Sequential([dr.Dense(2)], input_dim=3, l1=-1.0), "l1"),
    "unknown-loss": (lambda: dr.Sequential([dr.Dense(2)], input_dim=3, loss="hinge"), "loss"),
    "unknown-optimizer": (lambda: raise_on_fit(GOOD_X, GOOD_Y, optimizer="rmsprop"),
                          "optimizer"),
    "epochs-0": (lambda: small_classifier().fit(GOOD_X, GOOD_Y, epochs=0), "epochs"),
    "batch_size-0": (lambda: raise_on_fit(GOOD_X, GOOD_Y, batch_size=0), "batch_size"),
    "linear-output-cross-entropy": (
        lambda: dr.Sequential([dr.Dense(2, "linear")], input_dim=3, loss="cross_entropy"),
        "the output activation",
    ),
    "tanh-output-binary-cross-entropy": (
        lambda: dr.Sequential([dr.Dense(1, "tanh")], input_dim=3, loss="binary_cross_entropy"),
        "the output activation",
    ),
    "softmax-one-unit": (lambda: dr.Sequential([dr.Dense(1, "softmax")], input_dim=3),
                         "the output layer's units"),
    "input_dim-fraction": (lambda: dr.Sequential([dr.Dense(2)], input_dim=2.9), "input_dim"),
    "input_dim-bool": (lambda: dr.Sequential([dr.Dense(2)], input_dim=True), "input_dim"),
    "seed-none": (lambda: dr.Sequential([dr.Dense(2)], input_dim=3, seed=None), "seed"),
    "dropout-last": (
        lambda: dr.Sequential([dr.Dense(3, "relu"), dr.Dropout(0.5)], input_dim=4),
        r"layers\[-1\]",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_a_clear_error(case: str) -> None:
    call, arg = BAD_INPUT[case]
    with pytest.raises((ValueError, TypeError), match=arg + " must") as error:
        call()
    assert_template(error)


def test_layers_are_specs_that_several_models_share_without_changing_them() -> None:
    # layers hold no parameters or name: each model owns its θ, and building a second model
    # from the same layer objects leaves the first one as it was (issue 14)
    hidden = dr.Dense(8, "relu")
    layers = [hidden, dr.Dense(1, "sigmoid")]
    config = [layer.get_config() for layer in layers]
    first = dr.Sequential(layers, input_dim=2, seed=0)
    before = first.theta.copy()
    second = dr.Sequential(layers, input_dim=2, l2=10.0, seed=1)
    twice = dr.Sequential([hidden, hidden, dr.Dense(1, "sigmoid")], input_dim=8, seed=0)
    assert np.array_equal(first.theta, before)
    assert not np.shares_memory(first.theta, second.theta)
    assert [layer.get_config() for layer in layers] == config
    assert not hasattr(hidden, "params") and not hasattr(hidden, "name")
    assert twice.names == ["dense_1", "dense_2", "dense_3"]
    assert not np.array_equal(twice.params[0]["W"][:, 0], twice.params[1]["W"][:, 0])
    X = np.random.default_rng(0).normal(size=(5, 2))
    second.fit(X, [0, 1, 0, 1, 1], epochs=2, batch_size=5)
    assert np.array_equal(first.theta, before)


def test_wrong_number_of_features_names_the_expected_input_dim() -> None:
    model = small_classifier()
    with pytest.raises(ValueError, match=r"X\.shape\[1\] must be 4") as error:
        model.predict(np.zeros((2, 5)))
    assert "input_dim" in str(error.value)
    assert "X.shape[1]=5" in str(error.value)


def test_wrong_shape_inside_the_network_names_the_layer_kind_and_both_shapes() -> None:
    model = dr.Sequential([dr.Dense(5, "relu"), dr.Dense(3, "tanh"), dr.Dense(2, "softmax")],
                          input_dim=4)
    dense_2, params = model.layers[1], model.params[1]
    with pytest.raises(ValueError, match="Dense") as error:
        dense_2.forward(params, np.zeros((7, 4), dtype=np.float32), training=False)
    message = str(error.value)
    assert "(m, 5)" in message  # what dense_2 expects
    assert "(7, 4)" in message  # what it received
    assert_template(error)


@pytest.mark.parametrize(
    ("call", "arg", "choices"),
    [
        (lambda: dr.Dense(3, "relux"), "activation", ["relu", "leaky_relu", "tanh", "softmax"]),
        (lambda: dr.Dense(3, "relu", init="kaiming"), "init", ["zeros", "he", "xavier"]),
        (lambda: dr.Sequential([dr.Dense(2)], input_dim=3, loss="hinge"), "loss",
         ["cross_entropy", "binary_cross_entropy", "mean_squared_error"]),
        (lambda: raise_on_fit(GOOD_X, GOOD_Y, optimizer="rmsprop"), "optimizer",
         ["sgd", "momentum", "adam"]),
    ],
    ids=["activation", "init", "loss", "optimizer"],
)
def test_unknown_names_list_the_valid_choices(call, arg: str, choices: list[str]) -> None:
    with pytest.raises(ValueError, match=arg + " must be one of") as error:
        call()
    for name in choices:
        assert repr(name) in str(error.value)
    assert_template(error)


def test_non_finite_message_shows_a_plain_index() -> None:
    # the index of the first bad value should read (3, 1), not (np.int64(3), np.int64(1))
    with pytest.raises(ValueError, match="X must be finite") as error:
        small_classifier().predict(with_value(GOOD_X, (3, 1), np.nan))
    assert "(3, 1)" in str(error.value)


# --- input conversion and outputs -----------------------------------------------------


def test_lists_and_integer_or_float64_arrays_are_accepted() -> None:
    model = small_classifier()
    rng = np.random.default_rng(6)
    X_int = rng.integers(-3, 4, size=(9, 4))
    expected = model.predict(X_int.astype(np.float32))
    assert np.array_equal(model.predict(X_int), expected)
    assert np.array_equal(model.predict(X_int.astype(np.float64)), expected)
    assert np.array_equal(model.predict(X_int.tolist()), expected)
    y = (np.arange(9) % 10).tolist()
    history = model.fit(X_int.tolist(), y, epochs=1, batch_size=4)
    assert len(history) == 1
    assert set(model.evaluate(X_int, y)) == {"loss", "error"}


def test_predict_and_predict_proba_by_output_kind() -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, 4))

    softmax = small_classifier(5)
    proba = softmax.predict_proba(X)
    assert proba.shape == (30, 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert np.array_equal(softmax.predict(X), proba.argmax(axis=1))

    sigmoid = small_classifier(1, "sigmoid")
    proba = sigmoid.predict_proba(X)
    assert proba.shape == (30, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    labels = sigmoid.predict(X)
    assert labels.shape == (30,)
    assert set(np.unique(labels)) <= {0, 1}
    assert np.array_equal(labels, (proba[:, 1] > 0.5).astype(int))

    linear = small_classifier(1, "linear")
    values = linear.predict(X)
    assert values.shape == (30,)
    np.testing.assert_array_equal(values, linear.output(X)[:, 0])
    assert len(np.unique(values)) > 2  # values, not labels
    linear3 = small_classifier(3, "linear")
    assert linear3.predict(X).shape == (30, 3)
    with pytest.raises(TypeError, match="predict_proba"):
        linear.predict_proba(X)


def test_evaluate_returns_loss_and_error() -> None:
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 10, size=40)
    model = dr.Sequential([dr.Dense(8, "relu"), dr.Dense(10, "softmax")], input_dim=4,
                          dtype="float64")
    result = model.evaluate(X, y)
    assert set(result) == {"loss", "error"}
    assert result["loss"] == pytest.approx(model.cost(X, y), rel=1e-12)  # l2 = 0
    assert result["error"] == pytest.approx(np.mean(model.predict(X) != y))

    regressor = dr.Sequential([dr.Dense(1)], input_dim=4, dtype="float64")
    targets = rng.normal(size=40)
    result = regressor.evaluate(X, targets)
    assert result["error"] == pytest.approx(result["loss"])
    assert result["loss"] == pytest.approx(np.mean((regressor.predict(X) - targets) ** 2))


def test_summary_lists_every_layer_and_the_parameter_count() -> None:
    model = dr.Sequential(
        [dr.Dense(40, "relu"), dr.Dropout(0.8), dr.Dense(30, "tanh"), dr.Dense(10, "softmax")],
        input_dim=64,
    )
    text = model.summary()
    assert isinstance(text, str)
    for name in ("dense_1", "dropout_1", "dense_2", "dense_3"):
        assert name in text
    total = (64 * 40 + 40) + (40 * 30 + 30) + (30 * 10 + 10)
    assert model.n_parameters == total
    assert f"{total:,}" in text or str(total) in text


# --- a hand-worked example ------------------------------------------------------------


def test_hand_worked_logistic_regression() -> None:
    # One sigmoid unit, two inputs, two examples, λ = 0.5 (L2):
    #   w = [0.5, -1.0], b = 0.25
    #   x1 = [1, 2],  y1 = 1:  z1 = 1(0.5) + 2(-1.0) + 0.25 = -1.25,  a1 = σ(-1.25) ≈ 0.2227001
    #   x2 = [3, -1], y2 = 0:  z2 = 3(0.5) - 1(-1.0) + 0.25 =  2.75,  a2 = σ(2.75)  ≈ 0.9399134
    #   J_data = -(1/m) Σ [y log a + (1 - y) log(1 - a)]
    #          = -(1/2) [log a1 + log(1 - a2)] = -(1/2) [-1.5019291 - 2.8119676] ≈ 2.1569483
    #   penalty = λ/(2m) ||w||² = 0.5/4 · (0.25 + 1.0) = 0.15625
    #   J ≈ 2.3131983
    model = dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2, l2=0.5, dtype="float64")
    model.set_parameters({"dense_1.W": [[0.5], [-1.0]], "dense_1.b": [0.25]})
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.array([1, 0])

    def sigma(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    a1, a2 = sigma(-1.25), sigma(2.75)
    expected = -0.5 * (math.log(a1) + math.log(1.0 - a2)) + 0.5 / 4 * (0.5**2 + 1.0**2)
    assert model.cost(X, y) == pytest.approx(expected, rel=1e-12)
    assert model.cost(X, y) == pytest.approx(2.3131983, abs=1e-7)

    # dW = (1/m) Xᵀ(A - Y) + (λ/m) W
    #   A - Y = [a1 - 1, a2 - 0] ≈ [-0.7772999, 0.9399134]
    #   Xᵀ(A - Y) = [1(-0.7773) + 3(0.9399), 2(-0.7773) - 1(0.9399)] ≈ [2.0424402, -2.4945131]
    #   dW ≈ [1.0212201, -1.2472565] + (0.5/2) [0.5, -1.0] = [1.1462201, -1.4972565]
    #   db = (1/m) Σ (A - Y) ≈ 0.0813067 (not regularized)
    grads = model.gradients(X, y)
    dW = np.array([(a1 - 1) + 3 * a2, 2 * (a1 - 1) - a2]) / 2 + 0.5 / 2 * np.array([0.5, -1.0])
    np.testing.assert_allclose(grads["dense_1.W"][:, 0], dW, rtol=1e-12)
    np.testing.assert_allclose(grads["dense_1.W"][:, 0], [1.1462201, -1.4972565], atol=1e-7)
    assert grads["dense_1.b"][0] == pytest.approx(((a1 - 1) + a2) / 2, rel=1e-12)
    assert grads["dense_1.b"][0] == pytest.approx(0.0813067, abs=1e-7)


def test_pickle_and_deepcopy_keep_the_parameters_views_of_theta() -> None:
    import copy
    import pickle

    model = dr.Sequential([dr.Dense(4, "relu"), dr.Dense(3, "softmax")], input_dim=2, seed=1)
    X = np.random.default_rng(0).standard_normal((6, 2))
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(clone.predict_proba(X), model.predict_proba(X))
        assert np.shares_memory(clone.params[0]["W"], clone.theta)
        clone.fit(X, [0, 1, 2, 0, 1, 2], epochs=3, batch_size=6)
        assert not np.array_equal(clone.predict_proba(X), model.predict_proba(X))


def test_an_activation_output_layer_after_relu_gets_exact_gradients() -> None:
    """The fused loss overwrites the logits in place; the previous layer's cached output
    (needed by ReLU's backward) must not be that array."""
    rng = np.random.default_rng(3)
    model = dr.Sequential([dr.Dense(5, "relu"), dr.Activation("softmax")], input_dim=3,
                          dtype="float64", seed=2)
    X, y = rng.standard_normal((7, 3)), rng.integers(0, 5, 7)

    def cost_and_gradients(params: dict[str, np.ndarray]) -> tuple[float, dict]:
        model.set_parameters(params)
        return model.cost(X, y), model.gradients(X, y)

    report = dr.gradcheck.check(cost_and_gradients, model.unflatten(model.flatten()))
    assert report.passed, report.summary()


def test_a_negative_seed_is_named() -> None:
    with pytest.raises(ValueError, match=r"Sequential: seed must be an integer >= 0; received "
                       r"seed=-1\."):  # was NumPy's 'expected non-negative integer'
        dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2, seed=-1)


def test_inputs_beyond_float32_are_named_as_too_large_not_as_non_finite(rng) -> None:
    model = dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2)
    X = rng.normal(size=(10, 2))
    X[3, 1] = 1e39  # finite in float64; it was called 'non-finite'
    with pytest.raises(ValueError, match=r"predict: X must be within float32's range "
                       r"\(\|x\| <= 3.4e\+38\); received X='1e\+39 at index \(3, 1\)'.*float64"):
        model.predict(X)
    float64 = dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2, dtype="float64")
    assert float64.predict(X).shape == (10,)


def test_a_regression_target_too_large_for_float32_is_named(rng) -> None:
    # its squared errors overflowed and fit reported a divergence blamed on the learning rate
    X = rng.normal(size=(50, 2))
    model = dr.Sequential([dr.Dense(1, "linear")], input_dim=2)
    with pytest.raises(ValueError, match=r"fit: y must be smaller than 1e\+18 in magnitude for a "
                       r"float32 network .*received y='values up to 3e\+20'"):
        model.fit(X, np.full(50, 3e20), epochs=1)
    wide = dr.Sequential([dr.Dense(1, "linear")], input_dim=2, dtype="float64")
    assert wide.fit(X, np.full(50, 3e20), epochs=1).stop_reason == "max_epochs"


@pytest.mark.parametrize("config", [[1], {"layers": 3}, {"layers": []}])
def test_from_config_names_a_config_that_is_not_one(config) -> None:
    # a list or a missing key was Python's TypeError or KeyError
    with pytest.raises(ValueError, match=r"Sequential.from_config: config must be a mapping "
                       r"like get_config\(\)'s"):
        dr.Sequential.from_config(config)


def test_trace_records_every_layer_and_the_terms_of_j() -> None:
    rng = np.random.default_rng(4)
    model = dr.Sequential([dr.Dense(5, "tanh"), dr.Dropout(0.8), dr.Dense(3, "softmax")],
                          input_dim=INPUT_DIM, l2=0.3, l1=0.1, seed=2, dtype="float64")
    X, y = rng.normal(size=(6, INPUT_DIM)), np.arange(6) % 3
    trace = model.trace(X, y)
    assert len(trace.activations) == 4 and len(trace.caches) == 3 and len(trace.deltas) == 4
    assert np.array_equal(trace.activations[0], X)
    np.testing.assert_array_equal(trace.activations[1], trace.activations[2])  # dropout off
    # the loss takes the logits and applies softmax itself; the user's layer is untouched
    assert model.from_logits and model.head[-1].activation == "linear"
    assert model.layers[-1].activation == "softmax"
    np.testing.assert_allclose(model.loss.predictions(trace.output.copy(), True),
                               model.output(X), rtol=1e-12)
    assert set(trace.terms) == {"data", "l2", "l1"}
    assert trace.cost == pytest.approx(model.cost(X, y), rel=1e-12)
    flat = np.concatenate([g.ravel() for g in model.gradients(X, y).values()])
    np.testing.assert_allclose(trace.gradient, flat, rtol=1e-12)
    assert np.shares_memory(trace.grads[2]["W"], trace.gradient)
    # deltas[0] is dJ/dX: central differences of J in X
    eps, numeric = 1e-6, np.zeros_like(X)
    for index in np.ndindex(*X.shape):
        plus, minus = X.copy(), X.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (model.cost(plus, y) - model.cost(minus, y)) / (2 * eps)
    np.testing.assert_allclose(trace.deltas[0], numeric, rtol=1e-6, atol=1e-9)


def test_forward_backward_restricts_j_to_the_terms_asked_for() -> None:
    model = dr.Sequential([dr.Dense(4, "relu"), dr.Dense(1, "sigmoid")], input_dim=2, l2=0.5,
                          seed=0, dtype="float64")
    X, targets = model.check_data("test", np.eye(2), [0, 1])
    only_l2 = model.forward_backward(X, targets, terms=("l2",))
    assert set(only_l2.terms) == {"l2"}
    assert only_l2.cost == pytest.approx(model.penalty(2))
    np.testing.assert_allclose(only_l2.grads[0]["W"], 0.5 / 2 * model.params[0]["W"])
    np.testing.assert_array_equal(only_l2.grads[0]["b"], 0.0)
    forward_only = model.forward_backward(X)
    assert forward_only.terms == {} and forward_only.deltas == []


def test_rebuilt_is_a_fresh_model_of_the_same_layer_objects() -> None:
    model = dr.Sequential([dr.Dense(4, "relu"), dr.Dense(3, "softmax")], input_dim=2, l2=0.2,
                          seed=5)
    model.theta[...] = 0.0
    fresh = model.rebuilt()
    assert fresh.layers == model.layers and fresh.get_config() == model.get_config()
    np.testing.assert_array_equal(fresh.theta, dr.Sequential(model.layers, input_dim=2,
                                                             l2=0.2, seed=5).theta)
    assert model.rebuilt("float64").dtype == np.float64
    assert np.count_nonzero(fresh.params[0]["W"]) == fresh.params[0]["W"].size
