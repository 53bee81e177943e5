"""DeepClassifier vs scikit-learn's MLPClassifier: 5-fold accuracy and fit time, one run.

What is compared
----------------
**Same budget.** On digits (1,797 × 64, 10 classes) and breast_cancer (569 × 30, 2
classes), both estimators sit in ``Pipeline([StandardScaler(), estimator])`` and get the
same hidden layers (ReLU), Adam with the same learning rate, the same batch size and the
same fixed budget of epochs:

* ``DeepClassifier(max_epochs=E, early_stopping=False, n_iter_no_change=E + 1)``;
* ``MLPClassifier(max_iter=E, early_stopping=False, tol=0, n_iter_no_change=E + 1)``: with
  more patience than epochs neither stops early and both run the full budget (the MLP's
  end-of-budget ``ConvergenceWarning`` is silenced).

**Defaults.** On digits, as a user would first try them: ``DeepClassifier(hidden_layer_sizes=
(128, 64), random_state=0)`` against ``MLPClassifier(hidden_layer_sizes=(128, 64),
random_state=0)``, everything else at its default (raw pixels, no scaler; each stops by its
own default rule, ``tol=1e-4`` and ``n_iter_no_change=10`` on the training loss, with its
own Adam learning rate and batch size: deeprecipe 3e-3 and 64, scikit-learn 1e-3 and 200).
The epochs column is the mean ``n_iter_`` over the folds.

Both use float math of their own kind (deeprecipe float32, scikit-learn float64) and their
own initialization (He normal vs scikit-learn's scaled Glorot uniform); the output layer is
a sigmoid unit for two classes and a softmax otherwise in both.

L2: scikit-learn and the notes scale the penalty differently
------------------------------------------------------------
scikit-learn adds ``(alpha / 2B) Σ ||W||²`` to each batch's mean loss, with ``B`` the
batch's size, so a step's weight-decay gradient is ``(alpha / B) W``. The notes' cost (and
deeprecipe's) adds ``(λ / 2m) Σ ||W||²`` with ``m`` the training-set size, a gradient of
``(λ / m) W`` at every batch size. The same decay per step needs ``λ / m = alpha / B``::

    λ = alpha · m / B

with ``m`` the training rows of a fold (4/5 of the data). ``--alpha`` (default 1e-4,
scikit-learn's default) sets both. (scikit-learn's last, shorter batch of an epoch decays
a little more; the difference is one batch in ``m / B``.)

Timing
------
``cross_validate`` gives each fold's fit time (the scaler's too, where there is one).
``--repeats`` rounds run both estimators in turn (interleaved, so a burst of load from other
processes hits both); the table shows the best round's mean fit time per fold, and the
ratio is the MLP's time over the row's (above 1: faster than scikit-learn). Accuracy is the
same in every round (fixed seeds): mean ± standard deviation over the 5 folds, and the
last column is the paired difference to the MLP over the folds. BLAS is limited to
``--threads`` threads (default 1) for both.

Running
-------
From the repository root::

    .venv/bin/python benchmarks/vs_sklearn.py                  # about a minute and a half
    .venv/bin/python benchmarks/vs_sklearn.py --epochs 50 --repeats 1 --hidden 128,64
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from deeprecipe.sklearn import DeepClassifier

DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer}
FOLDS = 5
DEFAULTS_HIDDEN = (128, 64)  # the defaults comparison's layers


@dataclass
class Result:
    setting: str  # "same budget" or "defaults"
    dataset: str
    estimator: str
    epochs: float  # mean n_iter_ over the folds
    scores: np.ndarray  # accuracy per fold
    fit_times: list[float]  # mean fit time per fold, one per round
    eval_share: float | None = None  # DeepClassifier: share of the epochs' time not training


def estimators(
    args: argparse.Namespace, n_train: int
) -> dict[str, BaseEstimator]:
    """The two pipelines, with the same settings (λ from alpha: see the module)."""
    hidden = tuple(args.hidden)
    lambd = args.alpha * n_train / args.batch_size
    deep = DeepClassifier(
        hidden_layer_sizes=hidden, activation="relu", l2=lambd, optimizer="adam",
        learning_rate=args.learning_rate, batch_size=args.batch_size,
        max_epochs=args.epochs, early_stopping=False, n_iter_no_change=args.epochs + 1,
        random_state=0,
    )
    mlp = MLPClassifier(
        hidden_layer_sizes=hidden, activation="relu", alpha=args.alpha, solver="adam",
        learning_rate_init=args.learning_rate, batch_size=args.batch_size,
        max_iter=args.epochs, early_stopping=False, tol=0.0, n_iter_no_change=args.epochs + 1,
        shuffle=True, random_state=0,
    )
    return {
        "DeepClassifier": Pipeline([("scale", StandardScaler()), ("net", deep)]),
        "MLPClassifier": Pipeline([("scale", StandardScaler()), ("net", mlp)]),
    }


def defaults() -> dict[str, BaseEstimator]:
    """Both estimators at their defaults, but for the layers and the seed."""
    return {
        "DeepClassifier": DeepClassifier(hidden_layer_sizes=DEFAULTS_HIDDEN, random_state=0),
        "MLPClassifier": MLPClassifier(hidden_layer_sizes=DEFAULTS_HIDDEN, random_state=0),
    }


def comparisons(args: argparse.Namespace) -> list[tuple[str, str, dict[str, BaseEstimator]]]:
    """``(setting, dataset, {name: estimator})``: the same-budget pairs, then the defaults."""
    pairs = []
    for dataset, load in DATASETS.items():
        m = len(load(return_X_y=True)[1])
        pairs.append(("same budget", dataset, estimators(args, m - m // FOLDS)))
    pairs.append(("defaults", "digits", defaults()))
    return pairs


def run(args: argparse.Namespace) -> list[Result]:
    results: dict[tuple[str, str, str], Result] = {}
    for setting, dataset, pipes in comparisons(args):
        X, y = DATASETS[dataset](return_X_y=True)
        folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
        for _ in range(args.repeats):
            for name, pipe in pipes.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    cv = cross_validate(pipe, X, y, cv=folds, scoring="accuracy", n_jobs=1,
                                        return_estimator=True)
                key = (setting, dataset, name)
                if key not in results:
                    nets = [_net(fitted) for fitted in cv["estimator"]]
                    results[key] = Result(setting, dataset, name,
                                          float(np.mean([net.n_iter_ for net in nets])),
                                          cv["test_score"], [], evaluation_share(nets))
                results[key].fit_times.append(float(np.mean(cv["fit_time"])))
    return list(results.values())


def _net(fitted: BaseEstimator) -> BaseEstimator:
    """The network of a fitted pipeline (or the estimator itself)."""
    return fitted[-1] if isinstance(fitted, Pipeline) else fitted


def evaluation_share(nets: Sequence[BaseEstimator]) -> float | None:
    """For DeepClassifier: the share of its epochs' time spent in the per-epoch evaluation
    the fit loop records (the History's inference-mode train error), not in training."""
    histories = [getattr(net, "history_", None) for net in nets]
    if any(history is None for history in histories):
        return None
    total = sum(sum(history["time"]) for history in histories)
    training = sum(sum(history["train_time"]) for history in histories)
    return 1 - training / total


def table(results: Sequence[Result]) -> str:
    rows = [
        "| setting | dataset | estimator | epochs | accuracy (mean ± std, 5 folds) | "
        "fit time per fold | ratio (MLP time / this) | accuracy − MLP (paired) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    reference = {(r.setting, r.dataset): r for r in results if r.estimator == "MLPClassifier"}
    for r in results:
        ref = reference[r.setting, r.dataset]
        best, ref_best = min(r.fit_times), min(ref.fit_times)
        diff = r.scores - ref.scores
        rows.append(
            f"| {r.setting} | {r.dataset} | {r.estimator} | {r.epochs:.0f} | "
            f"{r.scores.mean():.4f} ± {r.scores.std():.4f} | {best * 1000:.0f} ms | "
            f"{ref_best / best:.2f}× | {diff.mean():+.4f} ± {diff.std():.4f} |"
        )
    return "\n".join(rows)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=lambda s: [int(v) for v in s.split(",")],
                        default=[64], help="hidden layer sizes, e.g. 128,64 (default 64)")
    parser.add_argument("--epochs", type=int, default=100, help="epoch budget (default 100)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--alpha", type=float, default=1e-4,
                        help="scikit-learn's alpha; deeprecipe gets λ = alpha·m/B")
    parser.add_argument("--repeats", type=int, default=3, help="timing rounds (best kept)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    with threadpool_limits(limits=args.threads, user_api="blas"):
        results = run(args)
    print(f"same budget: hidden layers {tuple(args.hidden)}, ReLU, Adam "
          f"lr={args.learning_rate}, batch {args.batch_size}, {args.epochs} epochs (no early "
          f"stopping), alpha={args.alpha} (λ = alpha·m/B), StandardScaler; defaults: hidden "
          f"layers {DEFAULTS_HIDDEN}, random_state=0, raw pixels; {args.threads} BLAS "
          f"thread(s), best of {args.repeats} rounds\n")
    print(table(results))
    for r in results:
        if r.eval_share is not None:
            print(f"\n{r.setting}, {r.dataset}: {r.eval_share:.0%} of DeepClassifier's epoch "
                  "time is the per-epoch evaluation of the History (train error), not "
                  "training steps")
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
