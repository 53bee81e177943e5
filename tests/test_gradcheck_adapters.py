"""The PyTorch and JAX adapters: the same checker and report, blocks named by the framework.

The point is hand-written backward passes: a correct ``torch.autograd.Function`` or
``jax.custom_vjp`` passes, one with a planted bug fails and the report names its parameter.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import deeprecipe as dr
from deeprecipe.findings import Finding
from deeprecipe.gradcheck import GradcheckError, check_jax, check_torch
from gradients import codes, notes

# --- PyTorch --------------------------------------------------------------------------------


class HandLinear(torch.autograd.Function):
    """``y = x Wᵀ + b`` with its backward written out; ``bug`` plants one of three errors."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                bug: str = "") -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.bug = bug
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
        x, weight = ctx.saved_tensors
        d_weight = grad.T @ x
        d_bias = grad.sum(0)
        if ctx.bug == "entry":  # one wrong entry of dW
            d_weight = d_weight.clone()
            d_weight[1, 2] *= 3
        if ctx.bug == "bias_doubled":
            d_bias = 2 * d_bias
        if ctx.bug == "input_halved":  # a wrong dX: only the blocks upstream can see it
            return 0.5 * (grad @ weight), d_weight, d_bias, None
        return grad @ weight, d_weight, d_bias, None


class HandNet(torch.nn.Module):
    """fc1 (hand-written backward) → tanh → fc2 (torch's own)."""

    def __init__(self, bug: str = "") -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 8)
        self.fc2 = torch.nn.Linear(8, 3)
        self.bug = bug

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(HandLinear.apply(x, self.fc1.weight, self.fc1.bias,
                                                    self.bug)))


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(16, 6, generator=generator), torch.randint(0, 3, (16,),
                                                                  generator=generator)


def cross_entropy(y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda out: F.cross_entropy(out, y)


def test_sequential_mlp_passes_with_torch_names(batch: Any) -> None:
    torch.manual_seed(0)
    X, y = batch
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    report = check_torch(net, X, loss=cross_entropy(y))
    assert report.passed, report.table()
    assert report.verdict == dr.gradcheck.GREAT
    assert list(report.blocks) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert report.blocks["0.weight"].shape == (8, 6)
    assert report.blocks["0.weight"].checked == 48  # full mode: every coordinate


def test_dropout_is_off_and_the_report_says_so(batch: Any) -> None:
    torch.manual_seed(0)
    X, y = batch
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                              torch.nn.Linear(8, 3))
    net.train()
    report = check_torch(net, X, loss=cross_entropy(y))  # dropout on would be refused
    assert report.passed, report.table()
    assert "grad_eval_mode" in codes(report)
    assert str(notes(report, "grad_eval_mode")[0]).startswith(
        "module evaluated in eval mode: dropout off")


def test_parameters_without_requires_grad_are_left_out_and_named(batch: Any) -> None:
    torch.manual_seed(0)
    X, y = batch
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    net[0].bias.requires_grad_(False)
    report = check_torch(net, X.double(), loss=cross_entropy(y))
    assert report.passed, report.table()
    assert "0.bias" not in report.blocks
    assert notes(report, "grad_frozen") == [Finding("grad_frozen", {"blocks": ["0.bias"]})]
    assert str(notes(report, "grad_frozen")[0]) == "not checked (requires_grad=False): 0.bias"


@pytest.mark.parametrize("mode", ["full", "sampled", "directional"])
def test_correct_autograd_function_passes(batch: Any, mode: str) -> None:
    torch.manual_seed(0)
    X, y = batch
    report = check_torch(HandNet(), X, loss=cross_entropy(y), mode=mode)
    assert report.passed, report.table()
    assert list(report.blocks) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


@pytest.mark.parametrize("mode", ["full", "sampled", "directional"])
def test_single_wrong_entry_is_named_and_located(batch: Any, mode: str) -> None:
    torch.manual_seed(0)
    X, y = batch
    report = check_torch(HandNet(bug="entry"), X, loss=cross_entropy(y), mode=mode)
    assert not report.passed
    assert report.failed_blocks == ["fc1.weight"], report.table()
    worst = report.blocks["fc1.weight"].worst[0]
    assert worst.index == (1, 2)
    assert worst.analytic == pytest.approx(3 * worst.numeric, rel=1e-6)


def test_scale_bug_in_bias_is_classified(batch: Any) -> None:
    torch.manual_seed(0)
    X, y = batch
    report = check_torch(HandNet(bug="bias_doubled"), X, loss=cross_entropy(y))
    assert report.failed_blocks == ["fc1.bias"]
    assert report.blocks["fc1.bias"].finding.code == "grad_doubled"


def test_wrong_input_gradient_fails_upstream_blocks_only(batch: Any) -> None:
    # A wrong dX in the first layer is invisible (nothing upstream), so plant it in a
    # hand-written second layer: fc1's blocks fail, fc2's own gradients are right.
    torch.manual_seed(0)
    X, y = batch

    class Stacked(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = torch.nn.Linear(6, 8)
            self.fc2 = torch.nn.Linear(8, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            hidden = torch.tanh(self.fc1(x))
            return HandLinear.apply(hidden, self.fc2.weight, self.fc2.bias, "input_halved")

    report = check_torch(Stacked(), X, loss=cross_entropy(y))
    assert set(report.failed_blocks) == {"fc1.weight", "fc1.bias"}


def test_users_module_is_unchanged(batch: Any) -> None:
    torch.manual_seed(0)
    X, y = batch
    net = HandNet()
    net.train()
    before = {name: value.detach().clone() for name, value in net.state_dict().items()}
    X_before = X.clone()
    check_torch(net, X, loss=cross_entropy(y))
    assert net.training
    for name, value in net.state_dict().items():
        assert value.dtype == torch.float32
        assert torch.equal(value, before[name])
    assert all(parameter.grad is None for parameter in net.parameters())
    assert X.dtype == torch.float32 and torch.equal(X, X_before)


def test_float32_promotion_and_precision_are_reported(batch: Any) -> None:
    torch.manual_seed(0)
    X, y = batch
    report = check_torch(HandNet(), X, loss=cross_entropy(y))
    copy, = notes(report, "grad_promoted_copy")
    assert copy.values == {"dtype": "float32", "what": "module"}
    assert str(copy).startswith("promoted the float32 module to float64")
    assert notes(report, "grad_promoted") == [Finding("grad_promoted",
                                                      {"dtypes": {"input 0": "float32"}})]
    precision = [n for n in report.notes if n.code.startswith("grad_precision:")]
    assert precision[0].code in ("grad_precision:rounding", "grad_precision:beyond")
    assert str(precision[0]).startswith("precision: your float32 gradients differ")


def test_float64_module_needs_no_promotion(batch: Any) -> None:
    torch.manual_seed(0)
    X, y = batch
    report = check_torch(HandNet().double(), X.double(), loss=cross_entropy(y))
    assert report.passed
    assert not any(code.startswith(("grad_promoted", "grad_precision"))
                   for code in codes(report))


def test_a_float32_tensor_inside_the_loss_is_pointed_at(batch: Any) -> None:
    torch.manual_seed(0)
    X, y = batch
    target = F.one_hot(y, 3).float()  # float32, captured by the loss: J comes back float32
    report = check_torch(HandNet().double(), X.double(),
                         loss=lambda out: F.binary_cross_entropy_with_logits(out, target))
    assert not report.passed
    assert Finding("grad_torch_cost_dtype", {"dtype": "float32"}) in report.notes
    text = str(notes(report, "grad_torch_cost_dtype")[0])
    assert text.startswith("J came back as float32 although the parameters and inputs were "
                           "float64") and ".double()" in text
    fixed = check_torch(HandNet().double(), X.double(),
                        loss=lambda out: F.binary_cross_entropy_with_logits(out, target.double()))
    assert fixed.passed and "grad_torch_cost_dtype" not in codes(fixed)


def test_numpy_float64_params_with_a_float32_input_keep_their_report(batch: Any) -> None:
    X, _ = batch  # float32; the function cannot run in its own mixed dtypes
    params = {"w": np.random.default_rng(0).standard_normal((6, 1))}
    report = check_torch(lambda w, x: (x @ w).pow(2).mean(), X, params=params)
    assert report.passed
    assert report.notes[-1].code == "grad_precision:failed"
    assert str(report.notes[-1]).startswith("precision: fn could not run in its own dtypes")


def test_function_of_tensors_positional_and_dict(batch: Any) -> None:
    X, _ = batch
    generator = torch.Generator().manual_seed(1)
    params = {"w": torch.randn(4, 6, generator=generator), "b": torch.zeros(4)}

    def positional(w: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(HandLinear.apply(x, w, b)).pow(2).mean()

    def by_dict(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return positional(params["w"], params["b"], x)

    for fn in (positional, by_dict):
        report = check_torch(fn, X, params=params)
        assert report.passed, report.table()
        assert list(report.blocks) == ["w", "b"]


def test_function_with_planted_bug_names_the_parameter(batch: Any) -> None:
    X, _ = batch
    params = {"w": np.random.default_rng(0).normal(size=(4, 6)), "b": np.zeros(4)}

    def fn(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return HandLinear.apply(X.double(), w, b, "bias_doubled").pow(2).mean()

    report = check_torch(fn, params=params)
    assert report.failed_blocks == ["b"]
    assert report.blocks["b"].finding.code == "grad_doubled"


def test_single_parameter_function_gets_its_tensor() -> None:
    report = check_torch(lambda w: (w**3).sum(), params={"w": np.array([0.5, -1.0])})
    assert report.passed
    report = check_torch(lambda params: (params["w"] ** 3).sum(),
                         params={"w": np.array([0.5, -1.0])})
    assert report.passed


def test_non_scalar_output_asks_for_a_loss(batch: Any) -> None:
    X, _ = batch
    with pytest.raises(ValueError, match=r"must be a scalar cost.*help: pass loss="):
        check_torch(torch.nn.Linear(6, 3), X)


def test_forward_that_changes_parameters_is_refused(batch: Any) -> None:
    X, _ = batch

    class Drifting(torch.nn.Linear):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                self.bias.add_(1.0)
            return super().forward(x).sum()

    with pytest.raises(GradcheckError, match="changed the parameter 'bias'"):
        check_torch(Drifting(6, 3), X)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="params must be None"):
        check_torch(torch.nn.Linear(2, 1), params={"w": np.ones(2)})
    with pytest.raises(TypeError, match="params must be a non-empty dict"):
        check_torch(lambda w: w.sum())
    with pytest.raises(TypeError, match="must be a floating"):
        check_torch(lambda w: w.sum(), params={"w": np.arange(3)})
    with pytest.raises(TypeError, match=r"torch\.nn\.Module or a callable"):
        check_torch(3)


# --- JAX ------------------------------------------------------------------------------------


def make_dense(scale_w: float = 1.0) -> Callable[..., jax.Array]:
    """``tanh(x @ w + b)`` as a ``jax.custom_vjp``; ``scale_w`` ≠ 1 plants a bug in dw."""

    @jax.custom_vjp
    def dense(w: jax.Array, b: jax.Array, x: jax.Array) -> jax.Array:
        return jnp.tanh(x @ w + b)

    def forward(w: jax.Array, b: jax.Array, x: jax.Array) -> tuple[jax.Array, tuple]:
        out = dense(w, b, x)
        return out, (w, x, out)

    def backward(residuals: tuple, grad: jax.Array) -> tuple[jax.Array, ...]:
        w, x, out = residuals
        dz = grad * (1 - out**2)  # tanh' from the cached output
        return scale_w * (x.T @ dz), dz.sum(0), dz @ w.T

    dense.defvjp(forward, backward)
    return dense


def jax_problem(scale_w: float = 1.0, dtype: Any = np.float64
                ) -> tuple[Callable[[Any], jax.Array], dict[str, Any]]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 5))
    targets = rng.normal(size=(10, 2))
    dense = make_dense(scale_w)
    params = {
        "hidden": {"w": rng.normal(size=(5, 4)).astype(dtype), "b": np.zeros(4, dtype)},
        "out": {"w": rng.normal(size=(4, 2)).astype(dtype), "b": np.zeros(2, dtype)},
    }

    def cost(p: dict[str, Any]) -> jax.Array:
        hidden = dense(p["hidden"]["w"], p["hidden"]["b"], x)
        return jnp.mean((hidden @ p["out"]["w"] + p["out"]["b"] - targets) ** 2)

    return cost, params


@pytest.mark.parametrize("mode", ["full", "sampled", "directional"])
def test_correct_custom_vjp_passes(mode: str) -> None:
    cost, params = jax_problem()
    report = check_jax(cost, params, mode=mode)
    assert report.passed, report.table()


@pytest.mark.parametrize("mode", ["full", "sampled", "directional"])
def test_buggy_custom_vjp_names_the_leaf(mode: str) -> None:
    cost, params = jax_problem(scale_w=2.0)
    report = check_jax(cost, params, mode=mode)
    assert report.failed_blocks == ["hidden.w"], report.table()
    assert report.blocks["hidden.w"].finding.code == "grad_doubled"


def test_names_come_from_pytree_paths() -> None:
    params = {"layers": [{"w": np.ones((2, 2))}, {"w": np.ones(2)}], "scale": np.array(0.5)}
    report = check_jax(lambda p: p["scale"] * jnp.sum(p["layers"][0]["w"] @ p["layers"][1]["w"]),
                       params)
    assert report.passed
    assert set(report.blocks) == {"layers.0.w", "layers.1.w", "scale"}
    bare = check_jax(lambda w: jnp.sum(jnp.sin(w)), np.linspace(0, 1, 5))
    assert list(bare.blocks) == ["params"]


def test_float32_leaves_promoted_and_global_x64_restored() -> None:
    before = jax.config.jax_enable_x64
    cost, params = jax_problem(dtype=np.float32)
    report = check_jax(cost, params)
    assert report.passed, report.table()
    promoted, = notes(report, "grad_promoted")
    assert promoted.values["dtypes"]["hidden.w"] == "float32"
    assert "hidden.w (float32)" in str(promoted)
    precision = [n for n in report.notes if n.code.startswith("grad_precision:")]
    assert precision[0].code in ("grad_precision:rounding", "grad_precision:beyond")
    assert precision[0].values["dtypes"] == "float32"
    assert jax.config.jax_enable_x64 == before


def test_callers_32_bit_jax_still_works_afterwards() -> None:
    # jit under 64-bit types caches float64 copies of NumPy constants (here `targets`);
    # without clearing them, the caller's 32-bit gradient afterwards fails in jaxlib 0.10.
    targets = np.random.default_rng(0).normal(size=(10, 2))

    def cost(w: jax.Array) -> jax.Array:
        return jnp.mean((w - targets) ** 2)

    with jax.enable_x64(False):
        assert check_jax(cost, np.ones((10, 2))).passed
        grad = jax.grad(cost)(np.ones((10, 2), np.float32))
        assert grad.dtype == np.float32


def test_untraceable_function_is_evaluated_eagerly() -> None:
    def kinked(p: dict[str, Any]) -> jax.Array:
        return jnp.sum(p["w"] ** 2) if p["w"][0] > 0 else jnp.sum(p["w"])

    report = check_jax(kinked, {"w": np.array([1.0, 2.0])})
    assert report.passed
    assert "grad_eager" in codes(report)
    assert "evaluated eagerly" in str(notes(report, "grad_eager")[0])


def test_jax_non_scalar_output_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a scalar cost"):
        check_jax(lambda p: p["w"] * 2, {"w": np.ones(3)})
    with pytest.raises(ValueError, match=r"received a tuple of 2 \(a cost and auxiliary "
                       r"values\?\)"):
        check_jax(lambda p: (jnp.sum(p["w"] ** 2), p["w"]), {"w": np.ones(3)})


# --- optional dependencies -------------------------------------------------------------------


@pytest.mark.parametrize(("adapter", "module"), [(check_torch, "torch"), (check_jax, "jax")])
def test_missing_framework_names_the_extra(monkeypatch: pytest.MonkeyPatch, adapter: Any,
                                           module: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=rf"pip install deeprecipe\[{module}\]"):
        adapter(lambda p: p, {"w": np.ones(1)})


def test_importing_deeprecipe_imports_neither_framework() -> None:
    code = ("import sys, deeprecipe, deeprecipe.gradcheck; "
            "print('torch' in sys.modules, 'jax' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"]
