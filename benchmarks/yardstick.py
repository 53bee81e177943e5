"""The yardstick (issue 16): does it stop the diagnosis from calling noisy data high bias, and
what does it cost?

What is measured
----------------
**Verdicts on data with known noise.** Seeded synthetic data, ``d`` standard normal features
of which the first two or three matter through a nonlinear ``f`` (``--functions``):
``additive``, ``f(x) = sin(2·x₀) + (x₁² − 1)/2`` (trees approximate it well), and
``product``, ``f(x) = sin(2·x₀) + x₁·x₂`` (an interaction: harder for the references):

* regression: ``y = f(x) + N(0, σ²)``, σ = 0.5: the Bayes error (the least mean squared
  error any model can reach) is σ² = 0.25;
* classification: the label ``f(x) > 0`` flipped at random with probability p = 0.1: a
  deterministic, learnable boundary, so the Bayes error is p (the realized rate is shown).

Each at ``n`` = 1,000 and 10,000 rows (16 runs) and ``d`` = 5 and 20 features (``--sizes``,
``--dims``), written as a CSV (cached in ``--data-dir``) and given to ``python -m deeprecipe
run --data FILE --target y`` with every other option at its default (so ``--bayes-error
auto``: the run fits the reference models and diagnoses against the best one's dev error),
one process per run, for each seed in ``--seeds``. From the run folder's ``summary.json``:
the network's train and dev error, the yardstick (each reference's dev error; the best) and
the verdict. Beside it, from the same errors (``dr.diagnose`` with numbers, the run's
thresholds: 2 points, for a regression 2% of the training targets' variance): the verdict
the old default gave (Bayes error 0) and the verdict the true Bayes error gives.

The goal (printed PASS or FAIL): wherever the network already reaches the noise level (its
train error is within the bias threshold of the true Bayes error, so the true verdict has no
high bias), the run's verdict has no "high bias" either. The table also counts where the
yardstick is conservative: the truth says high bias and the yardstick does not show it (no
reference reached the error that would demonstrate it).

**Cost.** ``deeprecipe run --data NAME --bayes-error auto`` against ``--bayes-error 0`` (no
references) on each built-in dataset (digits, breast_cancer, moons, diabetes), interleaved
(auto first in even rounds, 0 first in odd ones), ``--repeats`` rounds: the ``yardstick``
step's seconds from ``summary.json`` against the sum of the run's step seconds there (the
run's own time: interpreter start, imports and the report step, which writes
``summary.json`` inside itself, excluded), and against the process's wall time; the wall
time of both kinds of run.
Goal: the yardstick step ≤ 20% of the run's time (median over the rounds) on each dataset.

**At scale.** The additive classification data (d = 20) as ``.npz`` with 100,000 and
1,000,000 rows, ``deeprecipe run --epochs 1``: the yardstick step's seconds and how many
training rows the references were fitted on (at most 100,000: a seeded sample above). Goal:
on 1,000,000 rows the step takes at most 1.5× its time on 100,000 rows (best of
``--repeats``): its cost does not grow with the data.

**Tune on diabetes** (``--parts tune``, not run by default). ``deeprecipe tune --data
diabetes --budget 30`` read against the yardstick (``--bayes-error auto``) and against 0 (the
tune before the yardstick), for each seed in ``--seeds`` (the split's and the tune's): the
chosen model's dev and test MSE in the target's units, the trials, the first round, the
decision trail. Goals: read against the yardstick the first round is never a bigger network,
and the chosen models' mean dev MSE is at most the one read against 0 (88 dev rows: the
lowest of 30 dev errors is partly luck, so compare means over seeds, not one seed).

The machine's load average (``os.getloadavg``) is printed at the start and end of each part.
On a busy machine add ``--blas-threads 1``: BLAS threads that wait for a core slow the
network's training far more than the references' fits (which use one thread on small data),
so with the default threads the yardstick's share reads too small there.

Running
-------
From the repository root (on a quiet 2-core machine about 10 minutes; beside other jobs much
longer: the 16 verdict runs took 15–25 minutes at a load average of 7–9; ``--quick``: 1,000
rows and 5 features only (4 runs), one round, no scale part)::

    .venv/bin/python benchmarks/yardstick.py
    .venv/bin/python benchmarks/yardstick.py --parts verdicts --seeds 0,1,2
    .venv/bin/python benchmarks/yardstick.py --parts cost --repeats 5 --datasets digits
    .venv/bin/python benchmarks/yardstick.py --parts tune --seeds 0,1,2,3,4

The exit status is 1 when a goal fails (or a run fails).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import deeprecipe as dr
from deeprecipe.diagnostics import BIAS_THRESHOLD, VARIANCE_THRESHOLD

SIGMA = 0.5  # regression noise: Bayes MSE = σ² = 0.25
FLIP = 0.1  # classification: labels flipped at this rate, the Bayes error
COST_GOAL = 0.20  # the yardstick step's share of the run's time
SCALE_GOAL = 1.5  # the step on 1M rows against 100k rows
SCALE_ROWS = (100_000, 1_000_000)
BUILTINS = ("digits", "breast_cancer", "moons", "diabetes")
TUNE_BUDGET = 30  # the guide's tune on diabetes


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


# --- data ---------------------------------------------------------------------------------------


FUNCTIONS = {  # f(x), of the first features only
    "additive": lambda X: np.sin(2 * X[:, 0]) + 0.5 * (X[:, 1] ** 2 - 1),
    "product": lambda X: np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2],
}


def generate(task: str, function: str, n: int, d: int, seed: int
             ) -> tuple[np.ndarray, np.ndarray, float]:
    """``(X, y, realized Bayes error)``: the realized noise (mean ε², or the share of flipped
    labels) over all ``n`` rows."""
    rng = np.random.default_rng([seed, d, n, task == "regression", function == "product"])
    X = rng.standard_normal((n, d))
    f = FUNCTIONS[function](X)
    if task == "regression":
        noise = SIGMA * rng.standard_normal(n)
        return X, f + noise, float(np.mean(noise**2))
    flipped = rng.random(n) < FLIP
    return X, ((f > 0) ^ flipped).astype(np.int64), float(flipped.mean())


def csv_file(folder: Path, task: str, function: str, n: int, d: int, seed: int
             ) -> tuple[Path, float]:
    """The data as a CSV (columns ``x0`` … and ``y``), cached; and its realized noise."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    X, y, realized = generate(task, function, n, d, seed)
    path = folder / f"{task}_{function}_{n}x{d}_seed{seed}.csv"
    if not path.exists():
        columns = {f"x{j}": X[:, j] for j in range(d)} | {"y": y}
        pacsv.write_csv(pa.table(columns), path.with_suffix(".tmp"))
        path.with_suffix(".tmp").rename(path)
    return path, realized


def npz_file(folder: Path, n: int, seed: int) -> Path:
    path = folder / f"classification_additive_{n}x20_seed{seed}.npz"
    if not path.exists():
        X, y, _ = generate("classification", "additive", n, 20, seed)
        with open(path.with_suffix(".tmp"), "wb") as out:
            np.savez(out, X=X.astype(np.float32), y=y)
        path.with_suffix(".tmp").rename(path)
    return path


# --- one run ------------------------------------------------------------------------------------


@dataclass
class Run:
    """One ``deeprecipe run`` process: its ``summary.json`` and wall seconds."""

    summary: dict[str, Any]
    wall: float

    @property
    def diagnosis(self) -> dict[str, Any]:
        return dict(self.summary["diagnosis"])

    @property
    def yardstick(self) -> dict[str, Any] | None:
        found = self.summary.get("yardstick") or self.diagnosis.get("yardstick")
        return dict(found) if found else None

    @property
    def step_seconds(self) -> float:
        return float(sum(self.summary["seconds"].values()))

    @property
    def yardstick_seconds(self) -> float:
        return float(self.summary["seconds"].get("yardstick", 0.0))

    @property
    def variance_scale(self) -> float:
        """The regression thresholds' unit: the training targets' variance (1 otherwise)."""
        for note in self.summary.get("notes", ()):
            if note["code"].startswith("target_scaled"):
                return float(note["values"]["scale"]) ** 2
        return 1.0


def run(runs: Path, name: str, args: Sequence[str], env: dict[str, str],
        subcommand: str = "run") -> Run:
    """``python -m deeprecipe SUBCOMMAND ARGS`` into ``runs/name``; a failure stops the
    benchmark."""
    command = [sys.executable, "-m", "deeprecipe", subcommand, *args, "--output-dir",
               str(runs), "--name", name, "--overwrite"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    path = runs / name / "summary.json"
    if not path.exists():  # exit status 1 (a failed check) still writes its summary
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    summary = json.loads(path.read_text())
    shutil.rmtree(runs / name)
    return Run(summary, wall)


# --- verdicts on data with known noise ------------------------------------------------------


@dataclass
class Case:
    task: str
    function: str
    n: int
    d: int
    seed: int
    bayes: float  # in the errors' units: σ², or p
    realized: float
    run: Run

    def verdict(self, bayes_error: float) -> Any:
        """The run's errors read against ``bayes_error``, with the run's thresholds."""
        d, scale = self.run.diagnosis, self.run.variance_scale
        return dr.diagnose(train_error=d["train_error"], dev_error=d["dev_error"],
                           bayes_error=bayes_error, bias_threshold=BIAS_THRESHOLD * scale,
                           variance_threshold=VARIANCE_THRESHOLD * scale,
                           regression=self.task == "regression")

    @property
    def at_noise_level(self) -> bool:
        """The truth has no high bias: the train error is within the threshold of Bayes."""
        return not self.verdict(self.bayes).high_bias

    @property
    def high_bias(self) -> bool:
        return bool(self.run.diagnosis["high_bias"])

    def show(self, error: float) -> str:
        return f"{error:.3f}" if self.task == "regression" else f"{error:.1%}"

    def row(self) -> str:
        d, yard = self.run.diagnosis, self.run.yardstick
        if yard is None:
            stick = "-"
        else:
            refs = ", ".join(f"{ref['kind']} {self.show(ref['dev_error'])}"
                             for ref in yard["references"])
            stick = f"**{self.show(yard['error'])}** ({refs})"
        first = (d.get("advice") or [{}])[0].get("action", "-")
        old = self.verdict(0.0)
        true = self.verdict(self.bayes)
        source = d.get("bias_source", "?")
        return (f"| {self.task} | {self.function} | {self.n:,} | {self.d} | "
                f"{self.show(self.bayes)} ({self.show(self.realized)}) | {stick} | "
                f"{self.show(d['train_error'])} / {self.show(d['dev_error'])} | "
                f"{d['verdict']} ({source}; {first}) | {old.verdict} ({old.actions[0]}) | "
                f"{true.verdict} |")


def verdicts(args: argparse.Namespace, runs: Path, env: dict[str, str]) -> tuple[str, bool]:
    cases: list[Case] = []
    for seed in args.seeds:
        for task, function, n, d in itertools.product(
                ("regression", "classification"), args.functions, args.sizes, args.dims):
            path, realized = csv_file(args.data_dir, task, function, n, d, seed)
            one = run(runs, f"{task}-{function}-{n}x{d}-{seed}",
                      ["--data", str(path), "--target", "y", "--task", task, "--seed",
                       str(seed)], env)
            bayes = SIGMA**2 if task == "regression" else FLIP
            cases.append(Case(task, function, n, d, seed, bayes, realized, one))
            print(f"  {cases[-1].row()}", file=sys.stderr, flush=True)
    lines = ["| task | f | n | d | Bayes error (realized) | yardstick (references' dev errors) | "
             "network train / dev | verdict: yardstick (source; first advice) | "
             "verdict: Bayes 0, before (first advice) | verdict: true Bayes |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [case.row() for case in cases]
    reached = [case for case in cases if case.at_noise_level]
    false_alarms = [case for case in reached if case.high_bias]
    old_alarms = [case for case in reached if case.verdict(0.0).high_bias]
    missed = [case for case in cases if not case.at_noise_level and not case.high_bias]
    below = [case for case in cases if case.run.yardstick is not None
             and case.run.yardstick["error"] < case.bayes]
    passed = bool(reached) and not false_alarms
    lines += [
        "",
        f"{len(reached)} of {len(cases)} networks reach the noise level (train error within "
        f"the threshold of the Bayes error); the old default (Bayes 0) called "
        f"{len(old_alarms)} of them high bias, the yardstick {len(false_alarms)}.",
        f"the truth says high bias and the yardstick does not show it: {len(missed)} of "
        f"{len(cases) - len(reached)}; the yardstick below the true Bayes error (dev "
        f"sampling): {len(below)} of {len(cases)}.",
        f"{'PASS' if passed else 'FAIL'}: no 'high bias' verdict where the network reaches "
        "the noise level" + ("" if reached else " (no such case: nothing shown)"),
    ]
    return "\n".join(lines), passed


# --- cost -----------------------------------------------------------------------------------


def cost(args: argparse.Namespace, runs: Path, env: dict[str, str]) -> tuple[str, bool]:
    results: dict[tuple[str, str], list[Run]] = {}
    for round_ in range(args.repeats):
        for data in args.datasets:
            modes = ("auto", "0") if round_ % 2 == 0 else ("0", "auto")
            for mode in modes:
                one = run(runs, f"cost-{data}-{mode}",
                          ["--data", data, "--bayes-error", mode], env)
                results.setdefault((data, mode), []).append(one)
    lines = ["| data | yardstick step | the run's steps (auto) | share | share of the wall "
             "time | wall: auto / 0 | best reference (dev error) |",
             "|---|---|---|---|---|---|---|"]
    passed = True
    for data in args.datasets:
        auto, zero = results[(data, "auto")], results[(data, "0")]
        shares = [one.yardstick_seconds / one.step_seconds for one in auto]
        share = statistics.median(shares)
        passed &= share <= COST_GOAL
        yard = auto[0].yardstick or {}
        best = next((ref for ref in yard.get("references", ())
                     if ref["kind"] == yard.get("best")), None)
        shown = "-" if best is None else \
            f"{best['kind']}: {best['model']} ({best['dev_error']:.4g})"
        lines.append(
            f"| {data} | {statistics.median(o.yardstick_seconds for o in auto):.2f} s | "
            f"{statistics.median(o.step_seconds for o in auto):.2f} s | {share:.1%} "
            f"({min(shares):.1%}–{max(shares):.1%}) | "
            f"{statistics.median(o.yardstick_seconds / o.wall for o in auto):.1%} | "
            f"{statistics.median(o.wall for o in auto):.2f} / "
            f"{statistics.median(o.wall for o in zero):.2f} s | {shown} |")
    lines += ["", f"medians over {args.repeats} rounds (share: its range in brackets)",
              f"{'PASS' if passed else 'FAIL'}: the yardstick step ≤ {COST_GOAL:.0%} of the "
              "run's time on every built-in dataset"]
    return "\n".join(lines), passed


def scale(args: argparse.Namespace, runs: Path, env: dict[str, str]) -> tuple[str, bool]:
    files = {n: npz_file(args.data_dir, n, 0) for n in SCALE_ROWS}
    results: dict[int, list[Run]] = {n: [] for n in SCALE_ROWS}
    for _ in range(args.repeats):
        for n, path in files.items():
            results[n].append(run(runs, f"scale-{n}", ["--data", str(path), "--epochs", "1"],
                                  env))
    lines = ["| rows | references fitted on | yardstick step (best) | one training epoch | "
             "the run's steps | best reference (dev error) |", "|---|---|---|---|---|---|"]
    best_seconds = {}
    for n in SCALE_ROWS:
        fastest = min(results[n], key=lambda one: one.yardstick_seconds)
        best_seconds[n] = fastest.yardstick_seconds
        yard = fastest.yardstick or {}
        rows = f"{yard.get('n_train', 0):,} of {yard.get('n_train_total', 0):,}"
        lines.append(f"| {n:,} | {rows} | {fastest.yardstick_seconds:.2f} s | "
                     f"{fastest.summary['seconds'].get('train', 0.0):.2f} s | "
                     f"{fastest.step_seconds:.2f} s | "
                     f"{yard.get('best', '-')} ({yard.get('error', float('nan')):.2%}) |")
    small, big = SCALE_ROWS
    ratio = best_seconds[big] / best_seconds[small] if best_seconds[small] else float("inf")
    passed = ratio <= SCALE_GOAL
    lines += ["", f"{'PASS' if passed else 'FAIL'}: the yardstick step on {big:,} rows is "
              f"{ratio:.2f}× its time on {small:,} rows (goal ≤ {SCALE_GOAL}×)"]
    return "\n".join(lines), passed


# --- tune on diabetes ---------------------------------------------------------------------------


def tune_row(one: Run) -> dict[str, Any]:
    """A tune's chosen model in the target's units (MSE), its trials, its first round."""
    summary = one.summary
    scale = next(float(note["values"]["scale"]) ** 2 for note in summary["remarks"]
                 if note["code"].startswith("target_scaled"))
    rounds = summary["rounds"]
    return {"dev": summary["dev_error"] * scale, "test": summary["test_error"] * scale,
            "trials": len(summary["trials"]),
            "first": rounds[1]["action"] if len(rounds) > 1 else "-",
            "trail": " ".join(f"{r['action']}:{len(r['trial_keys'])}" for r in rounds[1:])}


def tune(args: argparse.Namespace, runs: Path, env: dict[str, str]) -> tuple[str, bool]:
    results: dict[tuple[int, str], dict[str, Any]] = {}
    for seed in args.seeds:
        for mode in ("auto", "0"):
            one = run(runs, f"tune-{seed}-{mode}",
                      ["--data", "diabetes", "--seed", str(seed), "--bayes-error", mode,
                       "--budget", str(TUNE_BUDGET)], env, subcommand="tune")
            results[(seed, mode)] = tune_row(one)
    lines = ["| seed | auto: dev / test MSE | trials | first round | 0: dev / test MSE | "
             "trials | first round |", "|---|---|---|---|---|---|---|"]
    for seed in args.seeds:
        auto, zero = results[(seed, "auto")], results[(seed, "0")]
        lines.append(f"| {seed} | {auto['dev']:,.0f} / {auto['test']:,.0f} | "
                     f"{auto['trials']} | {auto['first']} | {zero['dev']:,.0f} / "
                     f"{zero['test']:,.0f} | {zero['trials']} | {zero['first']} |")
    means = {mode: {key: statistics.mean(results[(seed, mode)][key] for seed in args.seeds)
                    for key in ("dev", "test")} for mode in ("auto", "0")}
    lines.append(f"| mean | {means['auto']['dev']:,.0f} / {means['auto']['test']:,.0f} | | | "
                 f"{means['0']['dev']:,.0f} / {means['0']['test']:,.0f} | | |")
    never_bigger = all(results[(seed, "auto")]["first"] != "bigger_network"
                       for seed in args.seeds)
    as_good = means["auto"]["dev"] <= means["0"]["dev"]
    lines += ["", "decision trails (round: trials):"]
    lines += [f"- seed {seed}, {mode}: {results[(seed, mode)]['trail']}"
              for seed in args.seeds for mode in ("auto", "0")]
    lines += ["", f"{'PASS' if never_bigger else 'FAIL'}: the first round read against the "
              "yardstick is never a bigger network",
              f"{'PASS' if as_good else 'FAIL'}: the chosen models' mean dev MSE read against "
              f"the yardstick ({means['auto']['dev']:,.0f}) is at most read against 0's "
              f"({means['0']['dev']:,.0f})"]
    return "\n".join(lines), never_bigger and as_good


# --- main -----------------------------------------------------------------------------------


def integers(text: str) -> list[int]:
    return [int(item) for item in text.split(",")]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="verdicts,cost,scale",
                        help="which parts to run (verdicts, cost, scale, tune)")
    parser.add_argument("--sizes", type=integers, default=[1_000, 10_000])
    parser.add_argument("--dims", type=integers, default=[5, 20])
    parser.add_argument("--functions", type=lambda text: text.split(","),
                        default=list(FUNCTIONS))
    parser.add_argument("--seeds", type=integers, default=[0])
    parser.add_argument("--datasets", type=lambda text: text.split(","), default=list(BUILTINS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="1,000 rows, 5 features, one round, no scale part")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/deeprecipe-yardstick"))
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="threads of BLAS and OpenMP in the runs (default: theirs)")
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    if args.quick:
        args.sizes, args.dims, args.repeats = [1_000], [5], 1
        parts = [part for part in parts if part != "scale"]
    args.data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if args.blas_threads is not None:  # on a busy machine: 1 (see the docstring)
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(args.blas_threads)
    passed = True
    with tempfile.TemporaryDirectory(prefix="yardstick-runs-") as tmp:
        runs = Path(tmp)
        for part, measure in (("verdicts", verdicts), ("cost", cost), ("scale", scale),
                              ("tune", tune)):
            if part not in parts:
                continue
            start, before = time.perf_counter(), load()
            table, ok = measure(args, runs, env)
            passed &= ok
            print(f"\n## {part} ({before}; at the end {load()}; "
                  f"{time.perf_counter() - start:.0f} s)\n\n{table}", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
