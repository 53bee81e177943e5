"""Bias/variance diagnosis on built-in data: does following the advice move the verdict?

What is measured
----------------
scikit-learn's 8×8 digits are split once with ``dr.data.split`` (seed 0: 1,079 train / 359
dev / 359 test) and standardized with the training part's statistics. Every network is
trained the same way (Adam, learning rate 1e-3, batch 32, 200 epochs) and then diagnosed
with ``model.diagnose(train=..., dev=...)``: inference-mode errors on the whole training
set and the dev set, Bayes error 0, the default 2-point thresholds, and a 95% interval on
the dev error (359 examples). Each case runs with seeds 0–4 (``--seeds``): the seed draws
the initial weights, the batch order and the 100-example sample. The table gives the mean
errors over the seeds, the most common verdict (and in how many seeds), its first advice
action, and in how many seeds the variance gap was significant (its 95% interval clears
the 2-point threshold). A dev set of 359 examples resolves about ±2 points, so a verdict
that rests on a gap near the threshold can differ between seeds: the counts show where.

The cases:

* **too small** — 64 → 1 ReLU unit → 10: the notes' high-bias network;
* **too large for its data** — 64 → 256 → 256 → 10, no regularization, trained on 100
  examples (a seeded sample of the training part): the notes' high-variance network.

Then the first advice is followed once for each:

* too small → ``bigger_network``: 64 hidden units instead of 1; that network's own first
  actionable advice (the digits set cannot grow, so ``regularize_l2``: λ = 30) is followed
  once more, to walk the recipe to its end;
* too large for its data → ``more_data``: the same network on all 1,079 training examples.

A second table reads ``gradient_flow`` on the notes' vanishing/exploding example and on a
deep ReLU network under three initializations, and a learning curve of the large network
shows whether more data helps.

Running
-------
From the repository root (about 30–60 s on 2 cores)::

    .venv/bin/python benchmarks/diagnosis.py
    .venv/bin/python benchmarks/diagnosis.py --seeds 1 --epochs 300

The exit status is 1 unless, in every seed, the bigger network removes the high bias and
more data at least halves the variance, and the regularized network is most often
diagnosed low bias and low variance.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import deeprecipe as dr
from deeprecipe.data.normalize import standardize_splits
from deeprecipe.data.split import Splits
from deeprecipe.diagnostics import Diagnosis

SMALL = 100


@dataclass
class Case:
    """One case, diagnosed once per seed."""

    name: str
    diagnoses: list[Diagnosis]

    @property
    def verdict(self) -> tuple[str, int]:
        """The most common verdict and in how many seeds."""
        return Counter(d.verdict for d in self.diagnoses).most_common(1)[0]

    def row(self) -> str:
        verdict, count = self.verdict
        first = next(d for d in self.diagnoses if d.verdict == verdict).actions[0]
        train = statistics.mean(d.train_error for d in self.diagnoses)
        dev = statistics.mean(d.dev_error for d in self.diagnoses)
        seeds = len(self.diagnoses)
        significant = sum(bool(d.variance_significant) for d in self.diagnoses
                          if d.high_variance)
        high = sum(d.high_variance for d in self.diagnoses)
        gap = f"{significant}/{high}" if high else "-"
        return (f"| {self.name} | {train:.2%} | {dev:.2%} | {verdict} ({count}/{seeds}) | "
                f"{first} | {gap} |")


def load(seed: int) -> tuple[Splits, tuple[np.ndarray, np.ndarray]]:
    """The standardized split and a seeded sample of ``SMALL`` training examples."""
    X, y = dr.datasets.load("digits")
    with warnings.catch_warnings():  # digits has constant border pixels: σ is set to 1
        warnings.simplefilter("ignore", dr.data.normalize.ConstantFeatureWarning)
        splits, _ = standardize_splits(dr.data.split(X, y, seed=0))
    rows = np.sort(np.random.default_rng(seed).choice(len(splits.train), SMALL, replace=False))
    return splits, (splits.train.X[rows], splits.train.y[rows])


def network(hidden: Sequence[int], l2: float = 0.0, seed: int = 0) -> dr.Sequential:
    layers: list[dr.Layer] = [dr.Dense(units, "relu") for units in hidden]
    layers.append(dr.Dense(10, "softmax"))
    return dr.Sequential(layers, input_dim=64, l2=l2, seed=seed)


def diagnosed(
    model: dr.Sequential, train: tuple[np.ndarray, np.ndarray], splits: Splits, epochs: int,
    seed: int,
) -> Diagnosis:
    dev = (splits.dev.X, splits.dev.y)
    model.fit(*train, validation_data=dev, epochs=epochs, batch_size=32, optimizer="adam",
              learning_rate=1e-3, seed=seed)
    return model.diagnose(train=train, dev=dev)


CASES = {
    # name: (hidden layers, λ, trained on the 100-example sample?)
    "too small: 64-1-10, all 1,079 examples": ([1], 0.0, False),
    f"too large: 64-256-256-10, {SMALL} examples, no regularization": ([256, 256], 0.0, True),
    "advice followed (more_data): 64-256-256-10, all 1,079 examples": ([256, 256], 0.0, False),
    "advice followed (bigger_network): 64-64-10": ([64], 0.0, False),
    "advice followed again (regularize_l2): 64-64-10, λ = 30": ([64], 30.0, False),
}


def run_cases(seeds: int, epochs: int) -> list[Case]:
    cases = [Case(name, []) for name in CASES]
    for seed in range(seeds):
        splits, small = load(seed)
        full = (splits.train.X, splits.train.y)
        for case, (hidden, l2, on_small) in zip(cases, CASES.values(), strict=True):
            model = network(hidden, l2=l2, seed=seed)
            case.diagnoses.append(diagnosed(model, small if on_small else full, splits,
                                            epochs, seed))
    return cases


def diagnosis_table(cases: list[Case]) -> str:
    lines = ["| case | train error | dev error | verdict (seeds) | first advice action | "
             "variance gap significant |", "|---|---|---|---|---|---|"]
    lines += [case.row() for case in cases]
    return "\n".join(lines)


def flow_table(seed: int) -> str:
    """gradient_flow's verdicts: the notes' example and a deep ReLU network."""
    rng = np.random.default_rng(seed)
    rows = ["| network | verdict | forward gain | backward gain | first advice |",
            "|---|---|---|---|---|"]
    X2, y2 = rng.standard_normal((256, 2)), rng.standard_normal(256)
    for c in (1.5, 0.5):
        layers = [dr.Dense(2, "linear") for _ in range(9)] + [dr.Dense(1, "linear")]
        model = dr.Sequential(layers, input_dim=2, dtype="float64", seed=seed)
        params = model.named_parameters()
        for l in range(1, 10):
            params[f"dense_{l}.W"][...] = c * np.eye(2)
        for name, value in params.items():
            if name.endswith(".b"):
                value[...] = 0.0
        rows.append(_flow_row(f"notes: 10 linear layers, W = {c}·I", model, X2, y2))
    X20, y20 = rng.standard_normal((256, 20)), rng.integers(0, 3, 256)
    for init in ("he", "random", "zeros"):
        layers = [dr.Dense(50, "relu", init=init) for _ in range(9)]
        layers.append(dr.Dense(3, "softmax", init=None if init != "zeros" else "zeros"))
        model = dr.Sequential(layers, input_dim=20, seed=seed)
        label = "random (×0.01)" if init == "random" else init
        rows.append(_flow_row(f"9×50 ReLU + softmax, init={label}", model, X20, y20))
    return "\n".join(rows)


def _flow_row(name: str, model: dr.Sequential, X: np.ndarray, y: np.ndarray) -> str:
    flow = dr.diagnostics.gradient_flow(model, X, y)
    forward = "-" if flow.forward_gain is None else f"{flow.forward_gain:.4g}"
    backward = "-" if flow.backward_gain is None else f"{flow.backward_gain:.4g}"
    first = flow.actions[0] if flow.actions else "-"
    return f"| {name} | {flow.verdict} | {forward} | {backward} | {first} |"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    cases = run_cases(args.seeds, args.epochs)
    tiny, large, more, bigger, regularized = cases

    splits, _ = load(0)
    print(f"digits: {len(splits.train)} train / {len(splits.dev)} dev examples; Adam 1e-3, "
          f"batch 32, {args.epochs} epochs, seeds 0–{args.seeds - 1}; Bayes error 0; "
          "thresholds 2 points; errors are means over the seeds\n")
    print(diagnosis_table(cases))
    print(f"\nthe too-large network's advice: {', '.join(large.diagnoses[0].actions)}")
    print(f"the too-small network's remarks: {'; '.join(tiny.diagnoses[0].remarks[:2])}")

    curve = dr.diagnostics.learning_curve(
        lambda: network([256, 256]), splits, sizes=(SMALL, 270, 540, 1.0),
        epochs=args.epochs, seed=0, batch_size=32, learning_rate=1e-3,
    )
    print("\nlearning curve of 64-256-256-10 (seed 0):\n")
    print(curve.table())
    print(f"\n{curve.reading()}")
    print("\ngradient_flow at initialization:\n")
    print(flow_table(0))
    print(f"\n({time.perf_counter() - start:.1f} s)")

    bias_fixed = all(not d.high_bias for d in bigger.diagnoses)
    variance_halved = all(after.variance <= before.variance / 2 for before, after
                          in zip(large.diagnoses, more.diagnoses, strict=True))
    done = regularized.verdict[0] == "low bias and low variance"
    return 0 if bias_fixed and variance_halved and done else 1


if __name__ == "__main__":
    sys.exit(main())
