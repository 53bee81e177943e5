"""deeprecipe's automated recipe vs Optuna's TPE sampler: equal trials, same search space.

What is compared
----------------
On digits (8×8 images, 10 classes), breast_cancer (30 features, 2 classes) and noisy moons
(2-D, 2 classes, 1,000 points, noise 0.3), for each seed the data is split 60/20/20 with
that seed, and two searches get the same budget of trials:

* **recipe**: ``dr.recipe.tune(splits, budget=B, seed=s)``: a baseline, then the basic
  recipe, round by round, from the diagnosis of the best model so far (it may stop before
  the budget when bias and variance are low, or when it has nothing left to try);
* **TPE**: Optuna's ``TPESampler(seed=s, constant_liar=True)`` asking for configs in batches
  of ``--workers`` (ask-and-tell), minimizing the dev error.

Both train exactly the same thing: a :class:`deeprecipe.recipe.Config` run by
``deeprecipe.recipe.run_trial`` in the same pool of ``--workers`` local processes, on the
same standardized data (μ, σ from the training set). The search space is the one the recipe
moves in: 1–4 hidden ReLU layers of 16–512 units, Adam's learning rate in [1e-5, 0.1], L2 λ
off or in [0.01, 100], dropout keep_prob in [0.3, 1], a training length of 200–1600 epochs
with early-stopping patience 15–100 (scaled together, as the recipe's "train longer" does),
and augmentation on or off (digits only). Both select by the dev set (lowest dev error, then
lowest dev cost) and measure the selected model's test error once.

Reported per dataset and method, over the seeds (mean ± standard deviation): the best dev
error, the test error of the selected model, the wall time of the whole search (pool start
included) and the trials used.

Running
-------
From the repository root (needs the ``bench`` extra: ``pip install -e '.[bench]'``)::

    .venv/bin/python benchmarks/recipe_vs_optuna.py              # 30 trials, 3 seeds
    .venv/bin/python benchmarks/recipe_vs_optuna.py --quick      # 10 trials, 2 seeds
    .venv/bin/python benchmarks/recipe_vs_optuna.py --datasets moons --seeds 5
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import deeprecipe as dr
from deeprecipe.pipeline import Prepared
from deeprecipe.recipe import Config, LocalRunner, Trial, TrialTask, rebuild
from deeprecipe.recipe.trial import prepare

IMAGE_SHAPES: dict[str, tuple[int, int] | None] = {
    "digits": (8, 8),
    "breast_cancer": None,
    "moons": None,
}
MOONS = {"n_samples": 1000, "noise": 0.3}
LENGTHS = (1, 2, 4, 8)  # × (200 epochs, patience 15): the recipe's "train longer" steps


@dataclass
class Outcome:
    dataset: str
    method: str
    seed: int
    dev_error: float
    test_error: float
    seconds: float
    trials: int


def load(name: str, seed: int) -> dr.data.Splits:
    """The dataset split 60/20/20 with ``seed`` (moons is also drawn with it)."""
    if name == "moons":
        X, y = dr.datasets.load("moons", n_samples=int(MOONS["n_samples"]),
                                noise=MOONS["noise"], seed=seed)
    else:
        X, y = dr.datasets.load(name)
    return dr.data.split(X, y, seed=seed)


def run_recipe(name: str, seed: int, budget: int, workers: int) -> Outcome:
    splits = load(name, seed)
    start = time.perf_counter()
    result = dr.recipe.tune(splits, budget=budget, seed=seed, workers=workers,
                            image_shape=IMAGE_SHAPES[name])
    seconds = time.perf_counter() - start
    return Outcome(name, "recipe", seed, result.dev_error, float(result.test_error or 0.0),
                   seconds, result.n_trials)


def suggest(trial: Any, image: bool) -> Config:
    """A config from an ``optuna.Trial``, in the recipe's search space."""
    depth = trial.suggest_int("depth", 1, 4)
    width = trial.suggest_int("width", 16, 512, log=True)
    use_l2 = trial.suggest_categorical("use_l2", [False, True])
    l2 = trial.suggest_float("l2", 0.01, 100.0, log=True) if use_l2 else 0.0
    length = trial.suggest_categorical("length", list(LENGTHS))
    augment = trial.suggest_categorical("augment", [False, True]) if image else False
    return Config(
        hidden=(width,) * depth,
        learning_rate=trial.suggest_float("learning_rate", 1e-5, 0.1, log=True),
        l2=l2,
        keep_prob=trial.suggest_float("keep_prob", 0.3, 1.0),
        epochs=200 * length, patience=min(15 * length, 100), augment=augment,
    )


def run_tpe(name: str, seed: int, budget: int, workers: int) -> Outcome:
    import optuna

    splits = load(name, seed)
    start = time.perf_counter()
    ready, data = prepare(splits, IMAGE_SHAPES[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # constant_liar
        sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    finished: list[Trial] = []
    with LocalRunner(data, workers) as runner:
        while len(finished) < budget:
            asked = [study.ask() for _ in range(min(workers, budget - len(finished)))]
            tasks = {}
            for number, optuna_trial in enumerate(asked):
                config = suggest(optuna_trial, data.image_shape is not None)
                tasks[f"{len(finished)}-{number}"] = (optuna_trial, config)
            batch = [TrialTask(key, config, seed) for key, (_, config) in tasks.items()]
            for outcome in runner.run(batch):
                optuna_trial, config = tasks[outcome.task.key]
                trial = Trial(outcome.task.key, config, seed, 0, "tpe", "")
                if outcome.result is None:
                    study.tell(optuna_trial, state=optuna.trial.TrialState.FAIL)
                    trial.status = "failed"
                else:
                    trial.absorb(outcome.result)
                    study.tell(optuna_trial, float(trial.dev_error or 0.0))
                finished.append(trial)
    best = min((trial for trial in finished if trial.done), key=Trial.rank)
    test_error = selected_test_error(best, ready)
    seconds = time.perf_counter() - start
    return Outcome(name, "TPE", seed, float(best.dev_error or 0.0), test_error, seconds,
                   len(finished))


def selected_test_error(best: Trial, ready: Prepared) -> float:
    """The selected model's test error, measured once (as the recipe does)."""
    test = ready.learned.test
    if test is None:
        raise ValueError("selected_test_error: the splits must have a test part.")
    model = rebuild(best, test.X.shape[1], ready.task, ready.n_outputs)
    return float(model.evaluate(test.X, test.y)["error"])


def spread(values: Sequence[float], percent: bool = True) -> str:
    mean = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    if percent:
        return f"{mean:.2%} ± {sd:.2%}"
    return f"{mean:.1f} ± {sd:.1f}"


def table(outcomes: list[Outcome]) -> str:
    lines = ["| dataset | method | best dev error | test error (selected) | wall time (s) | "
             "trials |", "|---|---|---|---|---|---|"]
    for name in dict.fromkeys(o.dataset for o in outcomes):
        for method in ("recipe", "TPE"):
            rows = [o for o in outcomes if o.dataset == name and o.method == method]
            if rows:
                lines.append(
                    f"| {name} | {method} | {spread([o.dev_error for o in rows])} | "
                    f"{spread([o.test_error for o in rows])} | "
                    f"{spread([o.seconds for o in rows], percent=False)} | "
                    f"{statistics.mean(o.trials for o in rows):.1f} |")
    return "\n".join(lines)


def per_seed(outcomes: list[Outcome]) -> str:
    lines = ["| dataset | seed | method | dev error | test error | seconds | trials |",
             "|---|---|---|---|---|---|---|"]
    for o in outcomes:
        lines.append(f"| {o.dataset} | {o.seed} | {o.method} | {o.dev_error:.2%} | "
                     f"{o.test_error:.2%} | {o.seconds:.1f} | {o.trials} |")
    return "\n".join(lines)


def verdict(outcomes: list[Outcome]) -> list[str]:
    """Per dataset: the paired mean differences recipe − TPE (negative: the recipe is
    better or faster)."""
    lines = []
    for name in dict.fromkeys(o.dataset for o in outcomes):
        pairs = [(r, t) for r in outcomes for t in outcomes if r.dataset == t.dataset == name
                 and r.seed == t.seed and r.method == "recipe" and t.method == "TPE"]
        if not pairs:
            continue
        dev = statistics.mean(r.dev_error - t.dev_error for r, t in pairs)
        test = statistics.mean(r.test_error - t.test_error for r, t in pairs)
        ratio = statistics.mean(r.seconds for r, _ in pairs) / statistics.mean(
            t.seconds for _, t in pairs)
        lines.append(f"{name}: recipe − TPE: dev error {dev:+.2%}, test error {test:+.2%}; "
                     f"wall time ratio recipe/TPE {ratio:.2f}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=None, help="trials (30; --quick: 10)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds (3; --quick: 2)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", default=list(IMAGE_SHAPES),
                        choices=IMAGE_SHAPES)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    budget = args.budget or (10 if args.quick else 30)
    seeds = args.seeds or (2 if args.quick else 3)

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"{budget} trials per search, seeds 0–{seeds - 1}, {args.workers} worker processes")
    run_recipe("breast_cancer", 0, 1, args.workers)  # warm-up: start the fork server once
    outcomes = []
    for name in args.datasets:
        for seed in range(seeds):
            for run in (run_recipe, run_tpe):  # interleaved: a burst of load hits both
                outcome = run(name, seed, budget, args.workers)
                outcomes.append(outcome)
                print(f"  {name} seed {seed} {outcome.method}: dev {outcome.dev_error:.2%}, "
                      f"test {outcome.test_error:.2%}, {outcome.seconds:.1f} s, "
                      f"{outcome.trials} trials", flush=True)
    print()
    print(table(outcomes))
    print()
    print(per_seed(outcomes))
    print()
    print("\n".join(verdict(outcomes)))
    return 0


if __name__ == "__main__":  # local worker processes import this file again
    raise SystemExit(main())
