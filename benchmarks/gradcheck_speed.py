"""Gradient-checking speed: deeprecipe vs ``torch.autograd.gradcheck`` and JAX's ``check_grads``.

Run it with::

    .venv/bin/python benchmarks/gradcheck_speed.py

It prints Markdown tables and ratios; the whole run takes about a minute on 2 CPU cores.

What is measured
----------------
1. **Full check, MLP 64-32-16-10** (tanh hidden layers, softmax cross-entropy, L2 λ = 0.7,
   a batch of 32 sklearn digits standardized with the full set's mean and std, float64):
   ``dr.gradcheck.check_model(model, X, y, mode="full")`` (every coordinate, central
   differences, per-block verdicts) vs ``torch.autograd.gradcheck(..., fast_mode=False)``
   (torch's slow mode: also every coordinate) on the same network written in torch as a
   function of its six parameter tensors, computing the same ``J`` with the L2 term (the
   script prints the gap between the two ``J`` values as a sanity check).
2. **Cheap checks, 784-128-64-10** (ReLU, softmax cross-entropy, 109,386 parameters, a
   synthetic batch of 32, float64): ``check_model`` in ``directional`` and ``sampled`` modes
   (per-block verdicts) vs ``torch.autograd.gradcheck(fast_mode=True)`` and
   ``jax.test_util.check_grads(f, (params,), order=1, modes=["rev"])`` on a jitted ``f``
   (compiled during a warm-up call that is not timed). Torch's slow mode cannot be run here
   in reasonable time, so it is **extrapolated**: slow mode is timed (best of 2) with only
   the biases and the output layer's ``W`` (842 numbers) as inputs — every perturbation still
   runs the whole network — and that per-coordinate cost is multiplied by 109,386.
   deeprecipe's full mode (every coordinate, one run) is timed for reference.
3. **A planted single-entry bug** in the large network: ``Dense.backward`` is monkeypatched so
   that ``dense_1``'s ``dW[100, 5]`` is multiplied by 3. deeprecipe's ``directional`` and
   ``sampled`` checks must fail, name ``dense_1.W`` and localise ``[100, 5]``. The same bug
   is planted in a hand-written ``torch.autograd.Function`` (the first layer's linear map):
   torch's fast mode answers pass/fail only (it is run with five seeds to show how often
   it notices), and ``dr.gradcheck.check_torch`` runs the deeprecipe checker on that torch
   function.

Every time is the best of 3 runs (``time.perf_counter``) unless the table says otherwise.
Thread counts are the libraries' defaults unless ``--threads N`` is given: it limits NumPy's
BLAS (``threadpoolctl``), torch (``torch.set_num_threads``) and XLA (by pinning the process
to N CPUs, which is what jaxlib's CPU client reads) alike. On a small machine shared with
other work, ``--threads 1`` gives the steadiest figures: multithreaded BLAS on tall, narrow
matrices slows down badly when another process holds a core. The load average is printed
at the start and the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import jax.test_util
import numpy as np
import torch
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_info, threadpool_limits

import deeprecipe as dr
from deeprecipe.gradcheck import GradcheckReport
from deeprecipe.layers import Dense

REPEATS = 3
SMALL_L2 = 0.7
BATCH = 32
PLANTED = ("dense_1", (100, 5), 3.0)  # layer, entry of dW, factor
TORCH_FAST_SEEDS = 5
JAX_SMALL_EPS = 1e-6
Row = dict[str, str]


def best_of(run: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    """The fastest of ``repeats`` runs and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def block_summary(report: GradcheckReport) -> str:
    verdicts = {block.verdict for block in report.blocks.values()}
    return f"{len(report.blocks)} blocks: {', '.join(sorted(verdicts))}"


# --- the networks ------------------------------------------------------------------------


def digits_batch() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    std = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return X[:BATCH], y[:BATCH]


def small_model() -> dr.Sequential:
    return dr.Sequential(
        [dr.Dense(32, activation="tanh"), dr.Dense(16, activation="tanh"),
         dr.Dense(10, activation="softmax")],
        input_dim=64, l2=SMALL_L2, seed=0, dtype="float64",
    )


def large_problem() -> tuple[dr.Sequential, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(BATCH, 784))
    y = rng.integers(0, 10, size=BATCH)
    model = dr.Sequential(
        [dr.Dense(128, activation="relu"), dr.Dense(64, activation="relu"),
         dr.Dense(10, activation="softmax")],
        input_dim=784, seed=0, dtype="float64",
    )
    return model, X, y


def torch_params(model: dr.Sequential) -> list[torch.Tensor]:
    """The model's parameters (``dense_1.W``, ``dense_1.b``, …) as float64 leaf tensors."""
    return [torch.tensor(value, dtype=torch.float64, requires_grad=True)
            for value in model.named_parameters().values()]


def torch_cost(params: tuple[torch.Tensor, ...], X: torch.Tensor, y: torch.Tensor,
               activation: Callable[[torch.Tensor], torch.Tensor], l2: float,
               first: Callable[..., torch.Tensor] | None = None) -> torch.Tensor:
    """The notes' ``J = (1/m) Σ L + (λ/2m) Σ ||W||²`` with deeprecipe's ``Z = X @ W + b``."""
    a = X
    weights = params[0::2]
    for layer, (W, b) in enumerate(zip(params[0::2], params[1::2], strict=True)):
        z = first(a, W, b) if (layer == 0 and first is not None) else a @ W + b
        a = activation(z) if layer < len(weights) - 1 else z
    data = torch.nn.functional.cross_entropy(a, y)
    return data + l2 / (2 * len(X)) * sum((W**2).sum() for W in weights)


def jax_cost(params: dict[str, jax.Array], X: jax.Array, y: jax.Array) -> jax.Array:
    a = X
    names = ["dense_1", "dense_2", "dense_3"]
    for layer, name in enumerate(names):
        z = a @ params[f"{name}.W"] + params[f"{name}.b"]
        a = jax.nn.relu(z) if layer < len(names) - 1 else z
    return -jnp.mean(jax.nn.log_softmax(a)[jnp.arange(len(X)), y])


# --- 1. full check of the small network ---------------------------------------------------


def bench_small() -> tuple[list[Row], dict[str, float]]:
    X, y = digits_batch()
    model = small_model()
    seconds, report = best_of(lambda: dr.gradcheck.check_model(model, X, y, mode="full"))
    params = torch_params(model)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def cost(*p: torch.Tensor) -> torch.Tensor:
        return torch_cost(p, Xt, yt, torch.tanh, SMALL_L2)

    gap = abs(cost(*params).item() - model.cost(X, y))
    torch_seconds, passed = best_of(
        lambda: torch.autograd.gradcheck(cost, tuple(params), fast_mode=False))
    n = model.n_parameters
    rows = [
        {"check": "deeprecipe check_model", "network": f"64-32-16-10 ({n})", "mode": "full",
         "seconds": f"{seconds:.4f}", "verdict": report.verdict,
         "per block": block_summary(report)},
        {"check": "torch gradcheck", "network": f"64-32-16-10 ({n})", "mode": "slow",
         "seconds": f"{torch_seconds:.4f}", "verdict": "pass" if passed else "fail",
         "per block": "no"},
    ]
    return rows, {"small_deeprecipe": seconds, "small_torch_slow": torch_seconds,
                  "small_cost_gap": gap}


# --- 2. cheap checks of the large network -------------------------------------------------


def bench_large() -> tuple[list[Row], dict[str, float]]:
    model, X, y = large_problem()
    n = model.n_parameters
    net = f"784-128-64-10 ({n:,})"
    rows: list[Row] = []
    times: dict[str, float] = {}
    for mode in ("directional", "sampled"):
        seconds, report = best_of(partial(dr.gradcheck.check_model, model, X, y, mode=mode))
        times[mode] = seconds
        rows.append({"check": "deeprecipe check_model", "network": net, "mode": mode,
                     "seconds": f"{seconds:.4f}", "verdict": report.verdict,
                     "per block": block_summary(report)})
    seconds, report = best_of(lambda: dr.gradcheck.check_model(model, X, y, mode="full"), 1)
    times["full"] = seconds
    rows.append({"check": "deeprecipe check_model", "network": net, "mode": "full (1 run)",
                 "seconds": f"{seconds:.3f}", "verdict": report.verdict,
                 "per block": block_summary(report)})

    params = torch_params(model)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def cost(*p: torch.Tensor) -> torch.Tensor:
        return torch_cost(p, Xt, yt, torch.relu, 0.0)

    seconds, passed = best_of(
        lambda: torch.autograd.gradcheck(cost, tuple(params), fast_mode=True))
    times["torch_fast"] = seconds
    rows.append({"check": "torch gradcheck", "network": net, "mode": "fast",
                 "seconds": f"{seconds:.4f}", "verdict": "pass" if passed else "fail",
                 "per block": "no"})

    # Every block but the two big weight matrices: 842 coordinates, each perturbation a
    # whole forward pass, as for any coordinate (the cost per coordinate does not depend on
    # the block: measured 0.7-1.7 ms for b1, W2 and W3 alike on this machine).
    W1, W2 = (p.detach() for p in params[0:3:2])

    def subset_cost(b1: torch.Tensor, b2: torch.Tensor, W3: torch.Tensor,
                    b3: torch.Tensor) -> torch.Tensor:
        return torch_cost((W1, b1, W2, b2, W3, b3), Xt, yt, torch.relu, 0.0)

    subset = (params[1], params[3], params[4], params[5])
    subset_size = sum(p.numel() for p in subset)
    seconds, _ = best_of(lambda: torch.autograd.gradcheck(subset_cost, subset,
                                                          fast_mode=False), 2)
    times["torch_slow"] = seconds / subset_size * n
    rows.append({"check": "torch gradcheck", "network": net, "mode": "slow (extrapolated)",
                 "seconds": f"≈{times['torch_slow']:.0f}", "verdict": "-",
                 "per block": f"no; {seconds:.2f} s for {subset_size} coords × {n:,}"})

    with jax.enable_x64(True):
        jparams = {name: jnp.asarray(value) for name, value in model.named_parameters().items()}
        Xj, yj = jnp.asarray(X), jnp.asarray(y)
        f = jax.jit(lambda p: jax_cost(p, Xj, yj))
        f(jparams).block_until_ready()  # compile outside the timing
        for eps in (None, JAX_SMALL_EPS):
            jax_check(f, jparams, eps)  # warm-up: compiles the VJP
            seconds, passed = best_of(partial(jax_check, f, jparams, eps))
            times["jax" if eps is None else "jax_small_eps"] = seconds
            label = "default eps" if eps is None else f"eps={eps:g}"
            verdict = "pass" if passed else "FAIL (false alarm: the step crosses ReLU kinks)"
            rows.append({"check": "jax check_grads", "network": net,
                         "mode": f"rev, order 1, jit, {label}", "seconds": f"{seconds:.4f}",
                         "verdict": verdict, "per block": "no"})
    return rows, times


def jax_check(f: Callable[[Any], Any], params: Any, eps: float | None) -> bool:
    """``check_grads`` in one random direction; False where it raises."""
    try:
        jax.test_util.check_grads(f, (params,), order=1, modes=["rev"], eps=eps)
    except AssertionError:
        return False
    return True


# --- 3. a planted single-entry bug -------------------------------------------------------


def planted_backward() -> Callable[..., Any]:
    original = Dense.backward
    _, index, factor = PLANTED

    def backward(self: Dense, params: Any, dout: np.ndarray, cache: Any,
                 **options: Any) -> Any:
        dx, grads = original(self, params, dout, cache, **options)
        if params["W"].shape == (784, 128):  # dense_1 of the large network
            grads["W"][index] *= factor
        return dx, grads

    return backward


class PlantedLinear(torch.autograd.Function):
    """``X @ W + b`` with a hand-written backward whose ``dW[100, 5]`` is multiplied by 3."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, W)
        return x @ W + b

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x, W = ctx.saved_tensors
        dW = x.T @ grad
        dW[PLANTED[1]] *= PLANTED[2]
        return grad @ W.T, dW, grad.sum(0)


def located(report: GradcheckReport) -> str:
    if not report.failed_blocks:
        return "nothing (passed)"
    block = report.blocks[report.failed_blocks[0]]
    where = f"{block.name}{list(block.worst[0].index)}" if block.worst else block.name
    return ", ".join([where, *report.failed_blocks[1:]])


def bench_planted() -> list[Row]:
    model, X, y = large_problem()
    planted = f"{PLANTED[0]}.W{list(PLANTED[1])} ×{PLANTED[2]:g}"
    rows: list[Row] = []
    original = Dense.backward
    Dense.backward = planted_backward()  # type: ignore[method-assign]
    try:
        for mode in ("directional", "sampled"):
            seconds, report = best_of(partial(dr.gradcheck.check_model, model, X, y,
                                              mode=mode))
            rows.append({"check": "deeprecipe check_model", "mode": mode, "planted": planted,
                         "verdict": report.verdict, "reported": located(report),
                         "seconds": f"{seconds:.4f}"})
    finally:
        Dense.backward = original  # type: ignore[method-assign]

    params = torch_params(model)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def cost(*p: torch.Tensor) -> torch.Tensor:
        return torch_cost(p, Xt, yt, torch.relu, 0.0, first=PlantedLinear.apply)

    flagged, seconds = 0, float("inf")
    for seed in range(TORCH_FAST_SEEDS):
        torch.manual_seed(seed)
        start = time.perf_counter()
        passed = torch.autograd.gradcheck(cost, tuple(params), fast_mode=True,
                                          raise_exception=False)
        seconds = min(seconds, time.perf_counter() - start)
        flagged += not passed
    rows.append({"check": "torch gradcheck (custom Function)", "mode": "fast",
                 "planted": "same entry, in backward", "verdict":
                 f"failed in {flagged}/{TORCH_FAST_SEEDS} seeds", "reported":
                 "pass/fail only (no block, no entry)", "seconds": f"{seconds:.4f}"})

    def cost_of_dict(p: dict[str, torch.Tensor]) -> torch.Tensor:
        return cost(*p.values())

    named = dict(zip(model.named_parameters(), params, strict=True))
    for mode in ("directional", "sampled"):
        seconds, report = best_of(partial(dr.gradcheck.check_torch, cost_of_dict,
                                          params=named, mode=mode))
        rows.append({"check": "deeprecipe check_torch (custom Function)", "mode": mode,
                     "planted": "same entry, in backward", "verdict": report.verdict,
                     "reported": located(report), "seconds": f"{seconds:.4f}"})
    return rows


# --- output ------------------------------------------------------------------------------


def markdown(rows: list[Row]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row[c] for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def limit_threads(threads: int) -> None:
    """``threads`` for NumPy's BLAS, torch and (through the CPU affinity) XLA."""
    cpus = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cpus)  # before JAX starts its CPU client, which reads it
    threadpool_limits(limits=threads)
    torch.set_num_threads(threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="limit NumPy/BLAS, torch and XLA to this many threads "
                             "(default: the libraries' defaults)")
    args = parser.parse_args()
    if args.threads:
        limit_threads(args.threads)
    blas = ", ".join(f"{i['internal_api']} {i['num_threads']} threads"
                     for i in threadpool_info() if i["user_api"] == "blas")
    print(f"# gradient-check speed ({platform.machine()}, {len(os.sched_getaffinity(0))} of "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; numpy "
          f"{np.__version__} ({blas}), torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), jax {jax.__version__})\n")
    small_rows, small = bench_small()
    print("## Full check: 64-32-16-10, tanh, softmax CE, L2 λ=0.7, batch 32 digits, float64\n")
    print(markdown(small_rows))
    speedup = small["small_torch_slow"] / small["small_deeprecipe"]
    print(f"\nspeed-up over torch slow mode: {speedup:.1f}× (goal ≥ 10×); "
          f"|J_torch − J_deeprecipe| = {small['small_cost_gap']:.1e}\n")

    large_rows, large = bench_large()
    print("## Cheap checks: 784-128-64-10, ReLU, softmax CE, batch 32 synthetic, float64\n")
    print(markdown(large_rows))
    best = min(large["directional"], large["sampled"])
    print(f"\ndeeprecipe directional / sampled: {large['directional']:.4f} s / "
          f"{large['sampled']:.4f} s per check (goal ≤ 0.2 s, per-block verdicts); "
          f"torch slow (extrapolated) / deeprecipe directional = "
          f"{large['torch_slow'] / large['directional']:,.0f}×; torch fast / deeprecipe "
          f"best = {large['torch_fast'] / best:.1f}×; jax / deeprecipe best = "
          f"{large['jax'] / best:.2f}×; deeprecipe full mode {large['full']:.2f} s vs torch "
          f"slow ≈{large['torch_slow']:.0f} s ({large['torch_slow'] / large['full']:.0f}×)\n")

    print("## Planted single-entry bug in the large network's backprop\n")
    print(markdown(bench_planted()))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
