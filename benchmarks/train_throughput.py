"""Training throughput on CPU: deeprecipe vs PyTorch eager vs a ``jax.jit`` training step.

What is measured
----------------
For each config the same network (float32, ReLU hidden layers, softmax cross-entropy output,
He-normal weights, zero biases) is trained on the same data with plain SGD (no momentum) and
the same batch size by four implementations:

* **deeprecipe**: ``Sequential.fit(..., optimizer="sgd")``. The time is
  ``sum(history["train_time"])``: per epoch, only the training steps (shuffle + forward +
  backward + update over every mini-batch); the per-epoch evaluation ``fit`` also runs is
  excluded.
* **torch eager**: ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU``, ``F.cross_entropy`` and
  ``torch.optim.SGD``.
* **jax.jit**: one jitted step ``(params, x, y) -> (params, loss)`` built from
  ``jax.value_and_grad`` and ``jax.nn.log_softmax``, with a manual SGD update.
* **NumPy by hand**: the leanest plain NumPy loop for these networks (``HandNumpyTrainer``),
  the ceiling a NumPy network reaches on the machine: "deeprecipe/hand" is what the
  library's layers, checks and callbacks cost, "hand/jax" how far NumPy itself is from XLA.

All four do the same per-epoch work: permute the training set (a shuffled copy), walk it
in contiguous mini-batches, and take one step per batch (the last batch may be short).
Torch, JAX and the hand loop are timed around exactly that loop with ``time.perf_counter``
(JAX waits for the last step's result). Each implementation first runs one warm-up epoch
(for JAX that includes compiling the step for both batch shapes); then ``--repeats`` rounds
are timed, each round training every implementation for the config's epochs in turn
(interleaved, so a burst of load from other processes hits all alike). The table reports
the **best** round's samples/s per implementation (the least disturbed one); the details
also show the median.

The **BLAS limit** of a config is the time of only the step's matrix products on the same
shapes: per layer the forward ``X @ W`` and ``dW = Xᵀ dZ``, and ``dX = dZ Wᵀ`` for every
layer but the first, done with NumPy float32 ``np.matmul(..., out=preallocated)`` in a tight
loop (best of several repeats), converted to samples/s for one epoch. A NumPy network cannot
beat it with the same BLAS, so "deeprecipe % of BLAS limit" shows how much of deeprecipe's
step is spent outside the matrix products (activations, loss, bias, update, Python).

Configs: (A) sklearn digits, standardized, 64-128-64-10, batch 64; (B) synthetic 8192 x 784,
784-256-128-10, batch 128; (C) synthetic 8192 x 64, 20 hidden layers of 64, batch 128.

Threads
-------
``--threads N`` (default: the CPUs this process may use) is applied to all three:
``threadpoolctl.threadpool_limits`` for NumPy's BLAS, ``torch.set_num_threads`` for torch,
and for JAX ``XLA_FLAGS="--xla_cpu_multi_thread_eigen=... intra_op_parallelism_threads=N"``.
jaxlib 0.10 accepts those flags but ignores them (its CPU client sizes its thread pool from
the CPU affinity mask), so when N is smaller than the available CPUs the script also pins
every thread of the process to the first N CPUs (``os.sched_setaffinity``), which is what
actually limits XLA. Both are done before JAX creates its CPU backend.

BLAS kernel
-----------
The script prints the BLAS libraries ``threadpoolctl`` finds, with the kernel architecture
OpenBLAS picked (its "coretype"). An environment variable ``OPENBLAS_CORETYPE`` (e.g.
``Haswell``) forces that kernel on any CPU, and OpenBLAS reads it only when NumPy is
imported, so it cannot be changed from inside a running process. To use the CPU's native
kernel, run without it::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/train_throughput.py

``--native-blas`` does the same for you: it re-executes the script once with those two
variables removed from the environment.

Running
-------
From the repository root::

    .venv/bin/python benchmarks/train_throughput.py               # all configs, about 1 min
    .venv/bin/python benchmarks/train_throughput.py --quick       # fewer epochs and repeats
    .venv/bin/python benchmarks/train_throughput.py --configs A,B --threads 1
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import Protocol

# JAX reads XLA_FLAGS and sizes its thread pool when it creates its CPU backend (on first
# use), not on import, so importing it here and configuring threads in main() is in time.
import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_info, threadpool_limits

import deeprecipe as dr

OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
REEXEC_MARKER = "TRAIN_THROUGHPUT_REEXECUTED"
SYNTHETIC_ROWS = 8192
LEARNING_RATE = 0.01
FRAMEWORKS = ("deeprecipe", "torch eager", "jax.jit", "NumPy by hand")


# --- configs and data ---------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    key: str
    description: str
    dims: tuple[int, ...]  # input, hidden..., output
    batch_size: int
    epochs: int  # timed epochs per repeat
    quick_epochs: int


CONFIGS = {
    "A": Config("A", "digits 64-128-64-10, batch 64", (64, 128, 64, 10), 64, 60, 10),
    "B": Config("B", "synthetic 784-256-128-10, batch 128", (784, 256, 128, 10), 128, 10, 2),
    "C": Config("C", "synthetic 64-(64x20)-10, batch 128", (64, *[64] * 20, 10), 128, 10, 2),
}


def load_data(config: Config, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(X float32 (n, dims[0]), y int64 (n,))`` for a config."""
    if config.key == "A":
        X, y = load_digits(return_X_y=True)
        std = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    else:
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((SYNTHETIC_ROWS, config.dims[0]))
        y = rng.integers(0, config.dims[-1], size=SYNTHETIC_ROWS)
    return np.ascontiguousarray(X, dtype=np.float32), y.astype(np.int64)


def he_normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(np.float32)


# --- the three trainers -------------------------------------------------------------------


class Trainer(Protocol):
    def run(self, epochs: int) -> tuple[float, float]:
        """Train ``epochs`` epochs; return (seconds of training steps, last loss)."""
        ...


class DeeprecipeTrainer:
    def __init__(self, config: Config, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        hidden = [dr.Dense(units, activation="relu", init="he") for units in config.dims[1:-1]]
        output = dr.Dense(config.dims[-1], activation="softmax", init="he")
        self.model = dr.Sequential(
            [*hidden, output], input_dim=config.dims[0], seed=seed, dtype="float32"
        )
        self.X, self.y, self.batch_size = X, y, config.batch_size
        self.seed = seed

    def run(self, epochs: int) -> tuple[float, float]:
        self.seed += 1  # a fresh shuffle order on every call, as the others do
        history = self.model.fit(
            self.X, self.y, epochs=epochs, batch_size=self.batch_size, optimizer="sgd",
            learning_rate=LEARNING_RATE, shuffle=True, seed=self.seed,
        )
        return sum(history["train_time"]), history["train_cost"][-1]


class TorchTrainer:
    def __init__(self, config: Config, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        torch.manual_seed(seed)
        modules: list[torch.nn.Module] = []
        for fan_in, fan_out in pairwise(config.dims):
            linear = torch.nn.Linear(fan_in, fan_out)
            torch.nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            torch.nn.init.zeros_(linear.bias)
            modules += [linear, torch.nn.ReLU()]
        self.net = torch.nn.Sequential(*modules[:-1])  # no ReLU after the output layer
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=LEARNING_RATE, momentum=0.0)
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.batch_size = config.batch_size
        self.rng = np.random.default_rng(seed)

    def run(self, epochs: int) -> tuple[float, float]:
        n, b = len(self.X), self.batch_size
        seconds, loss = 0.0, torch.tensor(float("nan"))
        for _ in range(epochs):
            start = time.perf_counter()
            order = torch.from_numpy(self.rng.permutation(n))
            X, y = self.X[order], self.y[order]
            for i in range(0, n, b):
                loss = F.cross_entropy(self.net(X[i : i + b]), y[i : i + b])
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
            seconds += time.perf_counter() - start
        return seconds, loss.item()


Params = list[tuple[jax.Array, jax.Array]]


def _jax_loss(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
    h = x
    for W, b in params[:-1]:
        h = jax.nn.relu(h @ W + b)
    W, b = params[-1]
    log_p = jax.nn.log_softmax(h @ W + b)
    return -jnp.mean(jnp.take_along_axis(log_p, y[:, None], axis=1))


@partial(jax.jit, donate_argnums=0)
def _jax_sgd_step(params: Params, x: jax.Array, y: jax.Array) -> tuple[Params, jax.Array]:
    loss, grads = jax.value_and_grad(_jax_loss)(params, x, y)
    return jax.tree.map(lambda p, g: p - LEARNING_RATE * g, params, grads), loss


class JaxTrainer:
    def __init__(self, config: Config, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.params: Params = [
            (jnp.asarray(he_normal(self.rng, fan_in, fan_out)), jnp.zeros(fan_out, jnp.float32))
            for fan_in, fan_out in pairwise(config.dims)
        ]
        self.X, self.y, self.batch_size = X, y.astype(np.int32), config.batch_size

    def run(self, epochs: int) -> tuple[float, float]:
        n, b = len(self.X), self.batch_size
        params, seconds, loss = self.params, 0.0, jnp.nan
        for _ in range(epochs):
            start = time.perf_counter()
            order = self.rng.permutation(n)
            X, y = self.X[order], self.y[order]
            for i in range(0, n, b):
                params, loss = _jax_sgd_step(params, X[i : i + b], y[i : i + b])
            jax.block_until_ready(params)
            seconds += time.perf_counter() - start
        self.params = params
        return seconds, float(loss)


class HandNumpyTrainer:
    """The leanest NumPy loop we could write for these networks: no checks, no layers, no
    callbacks; every matrix product and activation written into a buffer allocated once,
    the softmax gradient fused (``p - onehot``), the parameters and gradients each one flat
    vector so the SGD update is two passes, the loss read once per epoch. It is the ceiling
    of a NumPy network on this machine, measured beside the others. (SciPy's ``saxpy``
    would make the update one pass, but SciPy's OpenBLAS threads then fight NumPy's for
    the cores: 100x slower here.)"""

    def __init__(self, config: Config, X: np.ndarray, y: np.ndarray, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        pairs = list(pairwise(config.dims))
        self.theta = np.empty(sum(n_in * n_out + n_out for n_in, n_out in pairs), np.float32)
        self.grad = np.empty_like(self.theta)
        self.W, self.b, self.dW, self.db = [], [], [], []
        start = 0
        for n_in, n_out in pairs:
            stop = start + n_in * n_out
            self.W.append(self.theta[start:stop].reshape(n_in, n_out))
            self.dW.append(self.grad[start:stop].reshape(n_in, n_out))
            self.b.append(self.theta[stop : stop + n_out])
            self.db.append(self.grad[stop : stop + n_out])
            self.W[-1][...] = he_normal(self.rng, n_in, n_out)
            self.b[-1][...] = 0
            start = stop + n_out
        size = config.batch_size
        self.z = [np.empty((size, n_out), np.float32) for _, n_out in pairs]
        self.dx = [np.empty((size, n_in), np.float32) for n_in, _ in pairs]
        self.mask = [np.empty((size, n_in), bool) for n_in, _ in pairs]
        self.X, self.y, self.batch_size = X, y, size

    def run(self, epochs: int) -> tuple[float, float]:
        n, size, W, b, dW, db = len(self.X), self.batch_size, self.W, self.b, self.dW, self.db
        lr, seconds, loss = np.float32(LEARNING_RATE), 0.0, float("nan")
        for _ in range(epochs):
            start = time.perf_counter()
            order = self.rng.permutation(n)
            X, y = self.X[order], self.y[order]
            for i in range(0, n, size):
                xb, yb = X[i : i + size], y[i : i + size]
                m, rows = len(xb), np.arange(len(xb))
                acts = [xb]
                for layer in range(len(W)):
                    z = np.matmul(acts[-1], W[layer], out=self.z[layer][:m])
                    z += b[layer]
                    if layer < len(W) - 1:
                        np.maximum(z, 0, out=z)
                    acts.append(z)
                z -= z.max(axis=1, keepdims=True)
                np.exp(z, out=z)
                z /= z.sum(axis=1, keepdims=True)
                if i + size >= n:
                    loss = float(-np.log(z[rows, yb]).mean())
                z[rows, yb] -= 1
                z *= np.float32(1 / m)
                dz = z
                for layer in range(len(W) - 1, -1, -1):
                    a = acts[layer]
                    np.matmul(a.T, dz, out=dW[layer])
                    np.add.reduce(dz, axis=0, out=db[layer])
                    if layer:
                        dx = np.matmul(dz, W[layer].T, out=self.dx[layer][:m])
                        dx *= np.greater(a, 0, out=self.mask[layer][:m])
                        dz = dx
                self.grad *= lr
                self.theta -= self.grad
            seconds += time.perf_counter() - start
        return seconds, loss


TRAINERS: dict[str, Callable[[Config, np.ndarray, np.ndarray, int], Trainer]] = {
    "deeprecipe": DeeprecipeTrainer,
    "torch eager": TorchTrainer,
    "jax.jit": JaxTrainer,
    "NumPy by hand": HandNumpyTrainer,
}


@dataclass
class Measurement:
    samples_per_s: list[float]
    loss: float = float("nan")  # the last training step's loss, a sanity check

    @property
    def best(self) -> float:
        return max(self.samples_per_s)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_per_s)


def measure(
    config: Config, X: np.ndarray, y: np.ndarray, epochs: int, repeats: int, seed: int
) -> dict[str, Measurement]:
    """One warm-up epoch per framework, then ``repeats`` interleaved rounds of ``epochs``."""
    trainers = {name: TRAINERS[name](config, X, y, seed) for name in FRAMEWORKS}
    for trainer in trainers.values():
        trainer.run(1)
    results = {name: Measurement([]) for name in FRAMEWORKS}
    for _ in range(repeats):
        for name, trainer in trainers.items():
            seconds, results[name].loss = trainer.run(epochs)
            results[name].samples_per_s.append(len(X) * epochs / seconds)
    return results


# --- the BLAS limit -----------------------------------------------------------------------


def matmul_step_seconds(dims: Sequence[int], batch: int, repeats: int = 5) -> float:
    """Best time of one step's matrix products alone (NumPy float32, preallocated outputs)."""
    rng = np.random.default_rng(0)
    ops: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for layer, (fan_in, fan_out) in enumerate(pairwise(dims)):
        X = rng.standard_normal((batch, fan_in), dtype=np.float32)
        W = rng.standard_normal((fan_in, fan_out), dtype=np.float32)
        dZ = rng.standard_normal((batch, fan_out), dtype=np.float32)
        ops.append((X, W, np.empty((batch, fan_out), np.float32)))  # Z = X W
        ops.append((X.T, dZ, np.empty((fan_in, fan_out), np.float32)))  # dW = Xᵀ dZ
        if layer > 0:
            ops.append((dZ, W.T, np.empty((batch, fan_in), np.float32)))  # dX = dZ Wᵀ

    def run(loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            for a, b, out in ops:
                np.matmul(a, b, out=out)
        return time.perf_counter() - start

    loops = 1
    while run(loops) < 0.05:  # calibrate: about 0.05-0.1 s per timing
        loops *= 2
    return min(run(loops) for _ in range(repeats)) / loops


def blas_limit(config: Config, n: int) -> float:
    """Samples/s of one epoch if a step cost only its matrix products."""
    full, rest = divmod(n, config.batch_size)
    seconds = full * matmul_step_seconds(config.dims, config.batch_size)
    if rest:
        seconds += matmul_step_seconds(config.dims, rest)
    return n / seconds


# --- environment: threads and BLAS --------------------------------------------------------


def reexec_without_openblas_overrides() -> None:
    """Replace this process by the same command without OPENBLAS_CORETYPE/L2_SIZE."""
    env = {key: value for key, value in os.environ.items() if key not in OPENBLAS_OVERRIDES}
    env[REEXEC_MARKER] = "1"
    removed = [key for key in OPENBLAS_OVERRIDES if key in os.environ]
    print(f"--native-blas: re-executing without {', '.join(removed)}", flush=True)
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)


def limit_threads(threads: int) -> list[str]:
    """Use ``threads`` threads in torch and JAX (NumPy: see threadpool_limits in main).

    Returns notes for the printout."""
    notes = []
    eigen = "true" if threads > 1 else "false"
    flags = f"--xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={threads}"
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    notes.append(f"XLA_FLAGS={os.environ['XLA_FLAGS']!r}")
    available = sorted(os.sched_getaffinity(0))
    if threads < len(available):
        cpus = set(available[:threads])
        for task in os.listdir("/proc/self/task"):  # every thread, not only this one
            os.sched_setaffinity(int(task), cpus)
        notes.append(f"pinned the process to CPUs {sorted(cpus)} (limits XLA's thread pool)")
    elif threads > len(available):
        notes.append(f"warning: {threads} threads on {len(available)} available CPUs")
    torch.set_num_threads(threads)
    return notes


def load_average() -> str:
    return ", ".join(f"{load:.1f}" for load in os.getloadavg())


def blas_description() -> list[str]:
    lines = []
    for info in threadpool_info():
        if info["user_api"] != "blas":
            continue
        lines.append(
            f"{info['internal_api']} {info['version']} ({os.path.basename(info['filepath'])}): "
            f"coretype/architecture={info.get('architecture')}, threads={info['num_threads']}"
        )
    overrides = ", ".join(f"{key}={os.environ.get(key, '(unset)')}" for key in OPENBLAS_OVERRIDES)
    lines.append(f"environment: {overrides}")
    blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    lines.append(f"torch {torch.__version__}: BLAS={blas.group(1) if blas else '?'}, "
                 f"threads={torch.get_num_threads()}")
    lines.append(f"jax {jax.__version__}: devices={jax.devices()}")
    return lines


# --- output -------------------------------------------------------------------------------


def fmt_rate(rate: float) -> str:
    return f"{rate:,.0f}"


def markdown_table(rows: list[tuple[Config, dict[str, Measurement], float]]) -> str:
    header = (
        "| config | deeprecipe samples/s | torch eager | jax.jit | NumPy by hand "
        "| deeprecipe/jax | deeprecipe/torch | deeprecipe/hand | hand/jax | BLAS limit "
        "| deeprecipe % of BLAS limit |"
    )
    lines = [header, "|" + "---|" * 11]
    for config, results, limit in rows:
        ours, torch_rate, jax_rate, hand = (results[name].best for name in FRAMEWORKS)
        lines.append(
            f"| {config.key}: {config.description} | {fmt_rate(ours)} | {fmt_rate(torch_rate)} "
            f"| {fmt_rate(jax_rate)} | {fmt_rate(hand)} | {ours / jax_rate:.2f} "
            f"| {ours / torch_rate:.2f} | {ours / hand:.2f} | {hand / jax_rate:.2f} "
            f"| {fmt_rate(limit)} | {100 * ours / limit:.0f}% |"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="threads for every framework (default: the available CPUs)")
    parser.add_argument("--configs", default="A,B,C", help="comma-separated, from A,B,C")
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed rounds (default 5, --quick 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--native-blas", action="store_true",
                        help="re-run without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE")
    args = parser.parse_args(argv)
    args.configs = [key.strip().upper() for key in args.configs.split(",") if key.strip()]
    unknown = sorted(set(args.configs) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown config(s) {unknown}; choose from {sorted(CONFIGS)}")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if (args.native_blas and REEXEC_MARKER not in os.environ
            and any(key in os.environ for key in OPENBLAS_OVERRIDES)):
        reexec_without_openblas_overrides()
    notes = limit_threads(args.threads)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        print(f"# Training throughput, {args.threads} thread(s), float32, plain SGD "
              f"lr={LEARNING_RATE}")
        for line in [*notes, *blas_description()]:
            print(f"  {line}")
        print(
            "  timing: deeprecipe = sum(history['train_time']) of fit() (training steps incl. "
            "the\n  per-epoch shuffle; fit's per-epoch evaluation excluded); torch/jax = "
            "perf_counter around\n  the same shuffle + mini-batch loop. After 1 warm-up "
            f"epoch, best of {args.repeats} interleaved rounds.\n  BLAS limit = best-of-5 "
            "NumPy matmul-only step (forward, dW, dX) for one epoch."
        )
        print(f"  load average before: {load_average()}")
        rows = []
        for key in args.configs:
            config = CONFIGS[key]
            epochs = config.quick_epochs if args.quick else config.epochs
            X, y = load_data(config, args.seed)
            print(f"\n## {key}: {config.description}; {len(X)} rows, {epochs} epochs x "
                  f"{args.repeats} repeats")
            results = measure(config, X, y, epochs, args.repeats, args.seed)
            for name, result in results.items():
                print(f"  {name:12s} best {fmt_rate(result.best):>9s} samples/s "
                      f"(median {fmt_rate(result.median)}, "
                      f"worst {fmt_rate(min(result.samples_per_s))}), last loss {result.loss:.3f}")
            limit = blas_limit(config, len(X))
            print(f"  {'BLAS limit':12s} best {fmt_rate(limit):>9s} samples/s")
            rows.append((config, results, limit))
        print(f"\n  load average after: {load_average()} (other processes on the machine skew "
              "results)\n")
        print(markdown_table(rows))


if __name__ == "__main__":
    main()
