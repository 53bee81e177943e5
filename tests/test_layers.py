"""Layers: Dense, Dropout and Activation against finite differences, and the layer contract."""

from __future__ import annotations

import re

import numpy as np
import pytest

from deeprecipe import activations, initializers
from deeprecipe.layers import LAYERS, Activation, Dense, Dropout
from deeprecipe.parameters import layout_of, unflatten
from gradients import numerical_gradient, relative_error

M, N_IN, UNITS = 4, 3, 5
FLOAT64 = np.dtype("float64")
ACTIVATION_NAMES = list(activations.ACTIVATIONS)


class Bound:
    """A layer spec with the parameters a model would pass it (layers hold none): the
    old ``layer.forward(x, …)`` calls, ``logits=True`` running ``layer.logits()``."""

    def __init__(self, layer, params=None) -> None:
        self.layer, self.params, self.head = layer, params if params is not None else {}, layer

    def forward(self, x, *, logits=False, **kwargs):
        self.head = self.layer.logits() if logits else self.layer
        return self.head.forward(self.params, x, **kwargs)

    def backward(self, dout, cache, **kwargs):
        return self.head.backward(self.params, dout, cache, **kwargs)


def built(layer, input_dim: int, rng: np.random.Generator, dtype=FLOAT64) -> Bound:
    params, _ = layer.build(input_dim, rng, dtype)
    return Bound(layer, params)


def built_dense(rng: np.random.Generator, activation: str = "tanh", **kwargs) -> Bound:
    """A Dense(5) on 3 inputs with its parameters, a random (non-zero) bias."""
    layer = built(Dense(UNITS, activation=activation, **kwargs), N_IN, rng)
    layer.params["b"] = rng.standard_normal(UNITS)
    return layer


def dense_case(rng: np.random.Generator, activation: str, logits: bool = False):
    """A layer, an input ``x`` and an upstream ``dout``; pre-activations kept away from 0."""
    layer = built_dense(rng, activation)
    x = rng.standard_normal((M, N_IN))
    dout = rng.standard_normal((M, UNITS))
    z = x @ layer.params["W"] + layer.params["b"]
    # relu/leaky_relu have a kink at 0; a difference of eps = 1e-6 never crosses it from here.
    assert np.abs(z).min() > 1e-3
    return layer, x, dout


def projected(layer, x: np.ndarray, dout: np.ndarray, **forward_kwargs) -> float:
    """``Σ dout * forward(x)``: its gradient is what ``backward(dout, cache)`` returns."""
    out, _ = layer.forward(x, **forward_kwargs)
    return float(np.sum(dout * out))


def numeric_param_grad(layer, name: str, x, dout, **forward_kwargs) -> np.ndarray:
    saved = layer.params[name]

    def f(value: np.ndarray) -> float:
        layer.params[name] = value
        try:
            return projected(layer, x, dout, **forward_kwargs)
        finally:
            layer.params[name] = saved

    return numerical_gradient(f, saved)


# --- Dense ---------------------------------------------------------------------------


@pytest.mark.parametrize("logits", [False, True], ids=["activation", "logits"])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_dense_backward_matches_finite_differences(activation, logits, rng):
    layer, x, dout = dense_case(rng, activation)
    kwargs = {"training": False, "logits": logits}
    _, cache = layer.forward(x, **kwargs)
    dx, grads = layer.backward(dout, cache)
    assert list(grads) == ["W", "b"]
    numeric_dx = numerical_gradient(lambda v: projected(layer, v, dout, **kwargs), x)
    assert relative_error(dx, numeric_dx) < 1e-8, "dx"
    for name in ("W", "b"):
        numeric = numeric_param_grad(layer, name, x, dout, **kwargs)
        assert grads[name].shape == layer.params[name].shape
        assert relative_error(grads[name], numeric) < 1e-8, name


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_dense_forward_is_g_of_xw_plus_b(activation, rng):
    layer, x, _ = dense_case(rng, activation)
    z = x @ layer.params["W"] + layer.params["b"]
    out, _ = layer.forward(x, training=False)
    np.testing.assert_allclose(out, activations.get(activation).forward(z), rtol=1e-14)
    logits, _ = layer.forward(x, training=False, logits=True)
    np.testing.assert_allclose(logits, z, rtol=1e-14)


class TransposedGradDense(Dense):
    """A planted bug: dW transposed (W is square so the shapes still agree)."""

    def backward(self, params, dout, cache, *, out=None, input_grad=True):
        dx, grads = super().backward(params, dout, cache, out=out, input_grad=input_grad)
        return dx, {"W": grads["W"].T.copy(), "b": grads["b"]}


def test_the_check_catches_a_transposed_dw(rng):
    layer = built(TransposedGradDense(N_IN, activation="tanh"), N_IN, rng)
    x = rng.standard_normal((M, N_IN))
    dout = rng.standard_normal((M, N_IN))
    _, cache = layer.forward(x, training=False)
    _, grads = layer.backward(dout, cache)
    numeric_w = numeric_param_grad(layer, "W", x, dout, training=False)
    numeric_b = numeric_param_grad(layer, "b", x, dout, training=False)
    assert relative_error(grads["W"], numeric_w) > 1e-2
    assert relative_error(grads["b"], numeric_b) < 1e-8


@pytest.mark.parametrize("logits", [False, True], ids=["activation", "logits"])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_dense_grads_into_out_views_equal_fresh_grads(activation, logits, rng):
    layer, x, dout = dense_case(rng, activation)
    _, cache = layer.forward(x, training=False, logits=logits)
    _, fresh = layer.backward(dout, cache)
    layout = layout_of({"W": (N_IN, UNITS), "b": (UNITS,)})
    buffer = np.full(layout[-1].stop, 1e3)  # stale values must be overwritten, not added to
    views = unflatten(buffer, layout)
    _, grads = layer.backward(dout, cache, out=views)
    for name in ("W", "b"):
        assert grads[name] is views[name]
        np.testing.assert_allclose(views[name], fresh[name], rtol=1e-14)
    np.testing.assert_allclose(buffer, np.concatenate([fresh["W"].ravel(), fresh["b"]]))


@pytest.mark.parametrize("use_out", [False, True], ids=["fresh", "out"])
def test_dense_gradients_do_not_accumulate_across_calls(use_out, rng):
    layer, x, dout = dense_case(rng, "relu")
    _, cache = layer.forward(x, training=False)
    layout = layout_of({"W": (N_IN, UNITS), "b": (UNITS,)})
    out = unflatten(np.zeros(layout[-1].stop), layout) if use_out else None
    _, first = layer.backward(dout, cache, out=out)
    first = {name: value.copy() for name, value in first.items()}
    _, second = layer.backward(dout, cache, out=out)
    for name in ("W", "b"):
        np.testing.assert_array_equal(second[name], first[name])


def test_dense_fresh_grads_are_new_arrays(rng):
    layer, x, dout = dense_case(rng, "linear")
    _, cache = layer.forward(x, training=False)
    _, first = layer.backward(dout, cache)
    _, second = layer.backward(dout, cache)
    for name in ("W", "b"):
        assert not np.shares_memory(first[name], second[name])
        assert not np.shares_memory(first[name], layer.params[name])


@pytest.mark.parametrize("logits", [False, True], ids=["activation", "logits"])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_dense_does_not_modify_x_dout_or_the_cache(activation, logits, rng):
    layer, x, dout = dense_case(rng, activation)
    x_before, dout_before = x.copy(), dout.copy()
    _, cache = layer.forward(x, training=False, logits=logits)
    np.testing.assert_array_equal(x, x_before)
    cache_before = [None if item is None else item.copy() for item in cache]
    params_before = {name: value.copy() for name, value in layer.params.items()}
    layer.backward(dout, cache)
    np.testing.assert_array_equal(dout, dout_before)
    for item, before in zip(cache, cache_before, strict=True):
        np.testing.assert_array_equal(item, before)
    for name, value in layer.params.items():
        np.testing.assert_array_equal(value, params_before[name])


def test_dense_input_grad_false_skips_dx(rng):
    layer, x, dout = dense_case(rng, "sigmoid")
    _, cache = layer.forward(x, training=False)
    dx, grads = layer.backward(dout, cache, input_grad=False)
    _, expected = layer.backward(dout, cache)
    assert dx is None
    for name in ("W", "b"):
        np.testing.assert_array_equal(grads[name], expected[name])


@pytest.mark.parametrize("shape", [(M, N_IN + 2), (M, N_IN - 1), (N_IN,), (1, M, N_IN)])
def test_dense_wrong_input_shape_names_the_layer_and_both_shapes(shape, rng):
    layer = built_dense(rng)  # the layer's kind; a model names it (test_model)
    with pytest.raises(ValueError, match="Dense") as info:
        layer.forward(np.zeros(shape), training=False)
    message = str(info.value)
    assert f"(m, {N_IN})" in message
    assert str(shape) in message


def test_dense_build_shapes_order_and_zero_bias(rng):
    spec = Dense(UNITS, activation="relu")
    params, units = spec.build(N_IN, rng, np.dtype("float32"))
    assert units == UNITS
    layer = Bound(spec, params)
    assert list(layer.params) == ["W", "b"]
    assert layer.params["W"].shape == (N_IN, UNITS)
    assert layer.params["b"].shape == (UNITS,)
    np.testing.assert_array_equal(layer.params["b"], 0.0)
    assert all(value.dtype == np.float32 for value in layer.params.values())
    out, _ = layer.forward(np.ones((M, N_IN), dtype=np.float32), training=False)
    assert out.dtype == np.float32


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_dense_default_init_follows_the_activation(activation):
    assert Dense(2, activation=activation).init == initializers.default_for(activation)


def test_dense_activation_none_is_linear_as_in_keras():
    layer = Dense(2, activation=None)
    assert (layer.activation, layer.init) == ("linear", initializers.default_for("linear"))
    assert layer.get_config() == Dense(2, "linear").get_config()


def test_dense_init_scale_sets_the_random_scale(rng):
    w = Dense(400, init="random", init_scale=10.0).build(400, rng, FLOAT64)[0]["W"]
    # Standard error of the sample std of 160,000 normal draws: 10 / sqrt(2 · 160000).
    assert abs(w.std() - 10.0) < 5 * 10.0 / np.sqrt(2 * w.size)


def test_dense_is_reproducible_from_the_rng():
    layer = Dense(UNITS, "relu")
    first = layer.build(N_IN, np.random.default_rng(3), FLOAT64)[0]
    second = layer.build(N_IN, np.random.default_rng(3), FLOAT64)[0]
    np.testing.assert_array_equal(first["W"], second["W"])
    assert not np.shares_memory(first["W"], second["W"])  # fresh parameters each time


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"units": 0}, "units"),
        ({"units": 2.5}, "units"),
        ({"units": True}, "units"),
        ({"units": 3, "init_scale": 10.0}, "init_scale"),
        ({"units": 3, "init": "he", "init_scale": 10.0}, "init_scale"),
    ],
)
def test_dense_rejects_bad_arguments(kwargs, arg):
    with pytest.raises(ValueError, match=rf"Dense: {arg} must be"):
        Dense(**kwargs)


def test_dense_unknown_activation_lists_the_choices():
    with pytest.raises(ValueError, match="activation") as info:
        Dense(3, activation="swish")
    for name in ACTIVATION_NAMES:
        assert repr(name) in str(info.value)


def test_dense_unknown_init_lists_the_choices():
    with pytest.raises(ValueError, match="init") as info:
        Dense(3, init="orthogonal")
    for name in initializers.INITIALIZERS:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize(
    "layer",
    [Dense(3, "relu", init="random", init_scale=0.5), Dropout(0.7), Activation("tanh")],
    ids=["dense", "dropout", "activation"],
)
def test_get_config_round_trips(layer):
    rebuilt = LAYERS[layer.kind](**layer.get_config())
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == layer.get_config()


# --- Dropout -------------------------------------------------------------------------


def built_dropout(keep_prob: float, input_dim: int, rng: np.random.Generator) -> Bound:
    return built(Dropout(keep_prob), input_dim, rng)


@pytest.mark.parametrize("keep_prob", [0.2, 0.5, 0.8])
def test_dropout_outputs_are_zero_or_scaled_input(keep_prob, rng):
    layer = built_dropout(keep_prob, 50, rng)
    x = rng.uniform(1.0, 2.0, size=(40, 50))  # no zeros, so a dropped unit is unambiguous
    out, _ = layer.forward(x, training=True, rng=rng)
    assert np.all((out == 0) | (out == x / keep_prob))


@pytest.mark.parametrize("keep_prob", [0.2, 0.5, 0.8])
def test_dropout_keeps_the_expected_fraction_and_the_mean(keep_prob, rng):
    layer = built_dropout(keep_prob, 500, rng)
    x = rng.uniform(1.0, 2.0, size=(200, 500))
    n = x.size
    out, _ = layer.forward(x, training=True, rng=rng)
    kept = np.mean(out != 0)
    # The kept count is Binomial(n, p): the fraction's standard error is sqrt(p (1 - p) / n).
    assert abs(kept - keep_prob) < 5 * np.sqrt(keep_prob * (1 - keep_prob) / n)
    # E[x d / p] = x; Var(x d / p) = x² (1 - p) / p, so the mean's standard error is
    # sqrt(Σ x² (1 - p) / p) / n.
    standard_error = np.sqrt(np.sum(x**2) * (1 - keep_prob) / keep_prob) / n
    assert abs(out.mean() - x.mean()) < 5 * standard_error


@pytest.mark.parametrize("keep_prob", [0.5, 1.0])
def test_dropout_is_the_identity_when_not_training(keep_prob, rng):
    layer = built_dropout(keep_prob, 6, rng)
    x = rng.standard_normal((5, 6))
    out, cache = layer.forward(x, training=False)
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal((5, 6))
    dx, grads = layer.backward(dout, cache)
    np.testing.assert_array_equal(dx, dout)
    assert grads == {}


def test_dropout_keep_prob_one_is_the_identity_when_training(rng):
    layer = built_dropout(1.0, 6, rng)
    x = rng.standard_normal((5, 6))
    out, cache = layer.forward(x, training=True, rng=rng)
    np.testing.assert_array_equal(out, x)
    dout = rng.standard_normal((5, 6))
    np.testing.assert_array_equal(layer.backward(dout, cache)[0], dout)


@pytest.mark.parametrize("keep_prob", [0.3, 0.8])
def test_dropout_backward_uses_the_forward_mask_and_scale(keep_prob, rng):
    layer = built_dropout(keep_prob, 30, rng)
    x = rng.uniform(1.0, 2.0, size=(20, 30))
    dout = rng.standard_normal((20, 30))
    out, cache = layer.forward(x, training=True, rng=rng)
    mask = out != 0
    dout_before = dout.copy()
    dx, grads = layer.backward(dout, cache)
    np.testing.assert_array_equal(dx, dout * mask / keep_prob)
    np.testing.assert_array_equal(dout, dout_before)
    assert grads == {}
    # A second backward with the same cache gives the same answer: the mask lives in the cache.
    np.testing.assert_array_equal(layer.backward(dout, cache)[0], dx)


def test_dropout_backward_matches_finite_differences_with_the_same_mask(rng):
    layer = built_dropout(0.6, 7, rng)
    x = rng.standard_normal((5, 7))
    dout = rng.standard_normal((5, 7))

    def f(v: np.ndarray) -> float:
        # Reseeding the rng replays the same mask at every evaluation.
        return projected(layer, v, dout, training=True, rng=np.random.default_rng(7))

    _, cache = layer.forward(x, training=True, rng=np.random.default_rng(7))
    dx, _ = layer.backward(dout, cache)
    assert relative_error(dx, numerical_gradient(f, x)) < 1e-8


class MasklessDropout(Dropout):
    """A planted bug (numpy-ml's): backward scales but never re-applies the mask."""

    def backward(self, params, dout, cache, *, out=None, input_grad=True):
        return dout / self.keep_prob, {}


def test_the_check_catches_a_dropout_backward_without_the_mask(rng):
    layer = built(MasklessDropout(0.6), 7, rng)
    x = rng.standard_normal((5, 7))
    dout = rng.standard_normal((5, 7))
    _, cache = layer.forward(x, training=True, rng=np.random.default_rng(7))
    dx, _ = layer.backward(dout, cache)
    numeric = numerical_gradient(
        lambda v: projected(layer, v, dout, training=True, rng=np.random.default_rng(7)), x
    )
    assert relative_error(dx, numeric) > 1e-2


def test_dropout_is_reproducible_from_the_rng(rng):
    layer = built_dropout(0.5, 10, rng)
    x = rng.uniform(1.0, 2.0, size=(8, 10))
    first, _ = layer.forward(x, training=True, rng=np.random.default_rng(1))
    second, _ = layer.forward(x, training=True, rng=np.random.default_rng(1))
    other, _ = layer.forward(x, training=True, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_dropout_does_not_modify_x(rng):
    layer = built_dropout(0.5, 10, rng)
    x = rng.standard_normal((8, 10))
    before = x.copy()
    out, _ = layer.forward(x, training=True, rng=rng)
    np.testing.assert_array_equal(x, before)
    assert not np.shares_memory(out, x)


def test_dropout_without_rng_when_training_raises(rng):
    layer = built_dropout(0.5, 4, rng)
    with pytest.raises(ValueError, match="Dropout: rng must be"):  # a model names dropout_1
        layer.forward(np.ones((2, 4)), training=True)


@pytest.mark.parametrize("keep_prob", [0.0, 1.5, -0.1, np.nan, "0.5", None])
def test_dropout_rejects_bad_keep_prob(keep_prob):
    with pytest.raises(ValueError, match="Dropout: keep_prob must be"):
        Dropout(keep_prob)


def test_dropout_wrong_input_shape_names_the_layer_and_both_shapes(rng):
    # a Dropout holds no width (the model checks X's columns); its input must be (m, n)
    layer = built_dropout(0.5, 4, rng)
    with pytest.raises(ValueError, match=re.escape("Dropout: x.shape must be (m, n); "
                                                   "received x.shape=(4,)")):
        layer.forward(np.ones(4), training=True, rng=rng)


# --- Activation ----------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_activation_layer_backward_matches_finite_differences(activation, rng):
    layer = built(Activation(activation), UNITS, rng)
    # |x| in [0.1, 3]: away from the kink of relu and leaky_relu.
    x = rng.uniform(0.1, 3.0, size=(M, UNITS)) * rng.choice([-1.0, 1.0], size=(M, UNITS))
    dout = rng.standard_normal((M, UNITS))
    out, cache = layer.forward(x, training=False)
    np.testing.assert_allclose(out, activations.get(activation).forward(x), rtol=1e-15)
    dx, grads = layer.backward(dout, cache)
    numeric = numerical_gradient(lambda v: projected(layer, v, dout, training=False), x)
    assert relative_error(dx, numeric) < 1e-8
    assert grads == {}


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_activation_layer_does_not_modify_x_or_dout(activation, rng):
    layer = built(Activation(activation), UNITS, rng)
    x = rng.standard_normal((M, UNITS))
    dout = rng.standard_normal((M, UNITS))
    x_before, dout_before = x.copy(), dout.copy()
    _, cache = layer.forward(x, training=False)
    cache_before = cache.copy()
    layer.backward(dout, cache)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)
    np.testing.assert_array_equal(cache, cache_before)


def test_activation_layer_logits_passes_through(rng):
    layer = built(Activation("softmax"), UNITS, rng)
    x = rng.standard_normal((M, UNITS))
    out, cache = layer.forward(x, training=False, logits=True)
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)  # the previous layer's cache keeps x
    dout = rng.standard_normal((M, UNITS))
    np.testing.assert_array_equal(layer.backward(dout, cache)[0], dout)


def test_activation_layer_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="activation") as info:
        Activation("gelu")
    for name in ACTIVATION_NAMES:
        assert repr(name) in str(info.value)


def test_layers_table_maps_kind_to_class():
    assert LAYERS == {"dense": Dense, "dropout": Dropout, "activation": Activation}


@pytest.mark.parametrize("scale", [float("nan"), -1.0, 0, "0.1"])
def test_init_scale_must_be_a_positive_number(scale) -> None:
    # nan drew NaN weights, -1 and 0 were accepted, '0.1' was NumPy's UFuncTypeError
    with pytest.raises(ValueError, match=r"Dense: init_scale must be a finite number > 0"):
        Dense(3, init="random", init_scale=scale)


@pytest.mark.parametrize("layer", [Dense(3), Dropout(0.5), Activation("relu")])
def test_a_layer_is_a_spec_that_build_never_changes(layer) -> None:
    # layers hold no parameters and no name (issue 14): build returns fresh parameters and
    # leaves the layer as it was, so one layer object can sit in several models
    before = dict(vars(layer))
    first, dim = layer.build(3, np.random.default_rng(0), FLOAT64)
    second, _ = layer.build(3, np.random.default_rng(0), FLOAT64)
    assert vars(layer) == before
    assert dim == getattr(layer, "units", 3)
    assert all(not np.shares_memory(first[k], second[k]) for k in first)


def test_dense_forward_with_parameters_of_another_width_names_both_shapes(rng) -> None:
    params = Dense(3).build(4, rng, FLOAT64)[0]
    with pytest.raises(ValueError, match=re.escape("Dense: x.shape must be (m, 4); received "
                                                   "x.shape=(2, 3)")):
        Dense(3).forward(params, np.zeros((2, 3)), training=False)
