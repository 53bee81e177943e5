"""The notes' lessons run side by side: :func:`initialization` (zeros vs large random vs He
on the circles) and :func:`regularization` (none vs L2 vs dropout on noisy moons).

Each returns an :class:`Experiment`: the dev set compares the networks and chooses one, and
only that one is measured on the test set, once. :func:`figures` draws it and
:func:`write_experiment` writes its page, plots and ``summary.json``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import datasets
from ._checks import choice
from .diagnostics import gradient_flow
from .diagnostics.views import Points, decision_regions
from .findings import Finding, jsonable_fields
from .layers import Dense
from .model import Sequential
from .pipeline import build_model
from .run.files import EXPERIMENT

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .training import History


@dataclass
class Trial:
    """One network of an experiment, trained: its costs, accuracies and hidden units.

    ``first_cost`` is the cost ``J`` at initialization, ``costs`` the training cost per
    epoch as trained (entry 0 measured before the first update), ``train_costs`` and
    ``dev_costs`` the data term after each epoch in inference mode (no dropout, no
    penalty), ``final_cost`` ``J`` after training. Accuracies are on the training and dev
    sets; the test set is kept for the one network the dev set chooses
    (:attr:`Experiment.test_accuracy`).
    ``distinct_units`` counts, per hidden layer, the units that differ (identical incoming
    weights, bias and outgoing weights make one unit). ``flow`` is the gradient-flow verdict
    after training.
    """

    label: str
    setting: str
    model: Sequential
    costs: list[float]
    train_costs: list[float]
    dev_costs: list[float]
    first_cost: float
    final_cost: float
    train_accuracy: float
    dev_accuracy: float
    distinct_units: dict[str, tuple[int, int]]
    flow: str
    seconds: float

    @property
    def gap(self) -> float:
        """Train minus dev accuracy: the variance the notes read off the errors."""
        return self.train_accuracy - self.dev_accuracy

    @property
    def weight_norm(self) -> float:
        """``Σ_l ||W[l]||²_F``: what L2 shrinks."""
        return float(sum(np.sum(W.astype(np.float64) ** 2) for W in self.model.weights()))

    def to_dict(self) -> dict[str, Any]:
        """The numbers (not the model); ``flow`` as ``gradient_flow``."""
        return jsonable_fields(self, "model", "flow", gap=self.gap,
                               weight_norm=self.weight_norm, gradient_flow=self.flow)


@dataclass
class Experiment:
    """An experiment's trials, the data they shared, and what they show.

    ``chosen`` is the label of the trial the dev set chose (the best dev accuracy, the
    lower dev cost on a tie) and ``test_accuracy`` its accuracy on the test set: the one
    number measured there.
    """

    name: str
    title: str
    lesson: str
    setup: str
    trials: list[Trial]
    train: Points
    dev: Points
    test: Points
    chosen: str = ""
    test_accuracy: float = math.nan
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    def trial(self, label: str) -> Trial:
        for trial in self.trials:
            if trial.label == label:
                return trial
        raise KeyError(f"{self.name} has no trial {label!r}; trials: "
                       f"{[t.label for t in self.trials]}.")

    def table(self) -> list[dict[str, str]]:
        """One row per trial, formatted for people (the CLI prints it, the page shows it)."""
        return [TABLES[self.name](trial) for trial in self.trials]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable numbers (no models, no data)."""
        return jsonable_fields(self, "lesson", "train", "dev", "test")


# --- running a trial ---------------------------------------------------------------------------


def _experiment(
    name: str, title: str, lesson: str, findings: Callable[[Experiment], list[Finding]], *,
    data: tuple[str, int, int, float], hidden: tuple[int, ...],
    networks: Mapping[str, tuple[str, dict[str, Any]]], seed: int, **fit: Any,
) -> Experiment:
    """One ``2 → hidden → 1`` network per ``networks`` entry (label: setting, build_model's
    options), trained by ``fit`` on ``data`` (dataset, n_train, n_test, noise). The dev set
    chooses (best dev accuracy, then lower dev cost); the chosen network alone is measured on
    the test set, once. Then the ``findings``, and the choice's."""
    start = time.perf_counter()
    dataset, n_train, n_test, noise = data
    # a training set, and independent dev and test sets, drawn from the same generator
    train, dev, test = (Points(part, *datasets.load(dataset, n_samples=size, noise=noise,
                                                    seed=3 * seed + offset))
                        for part, size, offset in [("train", n_train, 1), ("dev", n_test, 3),
                                                   ("test", n_test, 2)])
    trials = [_train(label, setting, build_model(2, "binary", 1, hidden, **options, seed=seed),
                     train, dev, seed=seed, **fit)
              for label, (setting, options) in networks.items()]
    network = " → ".join(str(units) for units in (2, *hidden, 1))
    descent = {"sgd": "gradient descent", "adam": "Adam"}[fit["optimizer"]]
    setup = (f"{dataset}: {n_train} training, {n_test} dev and {n_test} test points (noise "
             f"{noise}); network {network} (ReLU, sigmoid output); full-batch {descent}, "
             f"learning rate {fit['learning_rate']}, {fit['epochs']} epochs; seed {seed}. The "
             "dev set compares the networks and chooses one; the test set measures only that one.")
    experiment = Experiment(name, title, lesson, setup, trials, train, dev, test,
                            seconds=time.perf_counter() - start)
    best = max(trials, key=lambda t: (t.dev_accuracy, -t.dev_costs[-1]))
    experiment.chosen = best.label
    experiment.test_accuracy = 1.0 - best.model.evaluate(test.X, test.y)["error"]
    experiment.findings = [*findings(experiment), Finding("dev_chooses", {
        "label": best.label, "dev_accuracy": best.dev_accuracy, "n_test": len(test.y),
        "test_accuracy": experiment.test_accuracy})]
    return experiment


def _train(label: str, setting: str, model: Sequential, train: Points, dev: Points,
           **fit: Any) -> Trial:
    """Train ``model`` full-batch on one BLAS thread: the matrices are tiny (hundreds of rows,
    tens of units), where extra threads only add overhead, and many times more when other
    processes share the cores."""
    from threadpoolctl import threadpool_limits  # here: every command would pay its import

    start = time.perf_counter()
    with threadpool_limits(limits=1):
        first = model.cost(train.X, train.y)
        history: History = model.fit(train.X, train.y, validation_data=(dev.X, dev.y),
                                     batch_size=None, **fit)
        return Trial(
            label=label, setting=setting, model=model, costs=list(history["train_cost"]),
            train_costs=list(history["train_eval_cost"]), dev_costs=list(history["dev_cost"]),
            first_cost=first, final_cost=model.cost(train.X, train.y),
            train_accuracy=1.0 - model.evaluate(train.X, train.y)["error"],
            dev_accuracy=1.0 - model.evaluate(dev.X, dev.y)["error"],
            distinct_units=distinct_units(model),
            flow=gradient_flow(model, train.X, train.y).verdict,
            seconds=time.perf_counter() - start,
        )


def distinct_units(model: Sequential) -> dict[str, tuple[int, int]]:
    """``{layer: (distinct units, units)}`` for each hidden Dense layer.

    Unit ``j`` of a layer is its incoming weights ``W[:, j]``, its bias ``b[j]`` and its
    outgoing weights (row ``j`` of the next Dense layer's ``W``): units equal in all three
    compute the same function and receive the same gradient.
    """
    dense = [(name, params) for layer, name, params
             in zip(model.layers, model.names, model.params, strict=True)
             if isinstance(layer, Dense)]
    counts = {}
    for (name, params), (_, after) in itertools.pairwise(dense):
        units = np.hstack([params["W"].T, params["b"][:, None], after["W"]])
        counts[name] = (len(np.unique(units.astype(np.float64), axis=0)), len(units))
    return counts


# --- initialization ----------------------------------------------------------------------------

INITIALIZATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "zeros": ("W = 0", {"init": "zeros"}),
    "random ×10": ("N(0, 1) × 10", {"init": "random", "init_scale": 10.0}),
    "He": ("N(0, 1) × √(2/n)", {"init": "he"}),
}


def initialization(
    *, epochs: int = 3000, learning_rate: float = 0.05, n_samples: int = 300,
    noise: float = 0.05, seed: int = 0,
) -> Experiment:
    """Zeros vs random × 10 vs He on the circles: the same network ``2 → 10 → 5 → 1``
    (ReLU, sigmoid output), trained by full-batch gradient descent."""
    return _experiment(
        "initialization", "Initialization: zeros vs large random vs He",
        ("The same network, three ways to set its first weights. Zeros never break "
         "symmetry: every hidden unit computes the same function and receives the same "
         "gradient, so the network learns no more than a single unit could. Weights "
         "that are too large saturate the output and start from a huge cost. He "
         "initialization (variance 2/n[l-1], for ReLU) keeps the activations' scale "
         "from layer to layer and trains well."),
        _initialization_findings, data=("circles", n_samples, n_samples, noise), hidden=(10, 5),
        networks={label: (setting, {**init, "dtype": "float64"})
                  for label, (setting, init) in INITIALIZATIONS.items()},
        seed=seed, epochs=epochs, optimizer="sgd", learning_rate=learning_rate)


def _initialization_findings(experiment: Experiment) -> list[Finding]:
    zeros, large, he = (experiment.trial(label) for label in INITIALIZATIONS)
    return [
        Finding("init_zeros", {"units": zeros.distinct_units, "final_cost": zeros.final_cost,
                               "train_accuracy": zeros.train_accuracy, "flow": zeros.flow}),
        Finding("init_large", {"first_cost": large.first_cost,
                               "ratio": large.first_cost / he.first_cost,
                               "he_first_cost": he.first_cost,
                               "train_accuracy": large.train_accuracy,
                               "dev_accuracy": large.dev_accuracy}),
        Finding("init_he", {"train_accuracy": he.train_accuracy,
                            "dev_accuracy": he.dev_accuracy, "final_cost": he.final_cost}),
    ]


def _initialization_row(trial: Trial) -> dict[str, str]:
    units = next(iter(trial.distinct_units.values()))
    return {"init": trial.label, "weights": trial.setting,
            "first cost": f"{trial.first_cost:,.4g}", "final cost": f"{trial.final_cost:.4g}",
            "train acc": f"{trial.train_accuracy:.1%}", "dev acc": f"{trial.dev_accuracy:.1%}",
            "distinct units": f"{units[0]} of {units[1]}"}


# --- regularization ----------------------------------------------------------------------------


def regularization(
    *, epochs: int = 1500, learning_rate: float = 0.01, l2: float = 0.7, keep_prob: float = 0.5,
    n_train: int = 200, n_test: int = 1000, noise: float = 0.3, hidden: int = 64, seed: int = 0,
) -> Experiment:
    """No regularization vs L2 (``l2`` = λ) vs dropout (``keep_prob`` after each hidden
    layer) on noisy moons: a ``2 → hidden → hidden → 1`` ReLU network, full-batch Adam."""
    return _experiment(
        "regularization", "Regularization: none vs L2 vs dropout",
        ("The network is much bigger than 200 noisy points need. Trained long enough "
         "(this experiment's default is 1,500 epochs), it fits the training set almost "
         "perfectly without regularization, noise included, and the dev accuracy lags "
         "behind (high variance). L2 penalizes large weights, so each layer stays closer "
         "to linear and the function simpler; dropout makes every unit work without "
         "relying on any one input, which spreads the weights like L2. Both trade a "
         "little training accuracy for a smaller train–dev gap."),
        _regularization_findings, data=("moons", n_train, n_test, noise), hidden=(hidden, hidden),
        networks={"none": ("λ = 0, keep_prob = 1", {}), "L2": (f"λ = {l2:g}", {"l2": l2}),
                  "dropout": (f"keep_prob = {keep_prob:g}", {"keep_prob": keep_prob})},
        seed=seed, epochs=epochs, optimizer="adam", learning_rate=learning_rate)


OVERFIT_GAP = 0.05  # a train-dev accuracy gap this large reads as memorized noise


def _regularization_findings(experiment: Experiment) -> list[Finding]:
    none = experiment.trial("none")
    lines = [Finding("unregularized_overfits" if none.gap >= OVERFIT_GAP else
                     "unregularized_fits", {"train_accuracy": none.train_accuracy,
                                            "dev_accuracy": none.dev_accuracy,
                                            "gap": 100 * none.gap})]
    for trial in experiment.trials[1:]:
        lines.append(Finding("regularized_gap", {
            "label": trial.label, "setting": trial.setting,
            "train_accuracy": trial.train_accuracy, "dev_accuracy": trial.dev_accuracy,
            "falls": trial.gap < none.gap, "gap_from": 100 * none.gap, "gap_to": 100 * trial.gap,
            "norm_from": none.weight_norm, "norm_to": trial.weight_norm}))
    return lines


def _regularization_row(trial: Trial) -> dict[str, str]:
    return {"method": trial.label, "setting": trial.setting,
            "train acc": f"{trial.train_accuracy:.1%}", "dev acc": f"{trial.dev_accuracy:.1%}",
            "gap (points)": f"{100 * trial.gap:.1f}", "Σ‖W‖²": f"{trial.weight_norm:,.0f}",
            # the data term, as the cost curves beside it show (final_cost adds L2's penalty)
            "train cost": f"{trial.train_costs[-1]:.3g}"}


TABLES: dict[str, Callable[[Trial], dict[str, str]]] = {
    "initialization": _initialization_row,
    "regularization": _regularization_row,
}
EXPERIMENTS: dict[str, Callable[..., Experiment]] = {
    "initialization": initialization,
    "regularization": regularization,
}
NAMES = tuple(EXPERIMENTS)


def run(name: str, **options: Any) -> Experiment:
    """Run the experiment called ``name`` (``"initialization"`` or ``"regularization"``)."""
    return EXPERIMENTS[choice("experiments.run", "name", name, NAMES)](**options)


# --- figures and the page ----------------------------------------------------------------------


def figures(experiment: Experiment) -> dict[str, Figure]:
    """The experiment's plots by file name: ``boundaries`` (one decision-boundary panel
    per trial, over the training and dev points); for initialization, ``costs`` (cost per
    epoch, log scale) and ``hidden_units`` (the first hidden layer's weights: identical
    columns are identical units); for regularization, ``curves`` (train and dev cost per
    epoch). The test set is not drawn: it is measured once, on the chosen network."""
    from .report import plots  # matplotlib: imported on first use

    drawn: dict[str, Figure] = {}
    if experiment.name == "initialization":
        drawn["costs"] = plots.cost_curves(
            {t.label: t.costs for t in experiment.trials},
            title="Training cost per epoch (log scale)")
        drawn["hidden_units"] = plots.unit_weights(
            {t.label: _first_layer(t.model) for t in experiment.trials})
    else:
        drawn["curves"] = plots.train_dev_curves(
            {t.label: (t.train_costs, t.dev_costs) for t in experiment.trials})
    points = [experiment.train, experiment.dev]
    drawn["boundaries"] = plots.boundary_panels(
        {f"{t.label}: train {t.train_accuracy:.0%}, dev {t.dev_accuracy:.0%}":
         decision_regions(t.model, points) for t in experiment.trials}, points)
    return drawn


def _first_layer(model: Sequential) -> np.ndarray:
    """The first Dense layer's ``[W; b]``: ``(n_in + 1, units)``, one column per unit."""
    first = next(params for layer, params in zip(model.layers, model.params, strict=True)
                 if isinstance(layer, Dense))
    return np.vstack([first["W"], first["b"][None, :]]).astype(np.float64)


def write_experiment(experiment: Experiment, folder: Path) -> dict[str, Path]:
    """Write ``report.html`` (plots embedded), the plots as PNG and ``summary.json`` into
    ``folder``; returns ``{"report": …, "summary": …, <plot>: …}``."""
    from .report import render, write_page  # matplotlib, Jinja2: imported on first use

    return write_page(
        folder, figures(experiment),
        lambda images: render("experiment.html.j2", experiment=experiment, images=images,
                              table=experiment.table(), captions=CAPTIONS[experiment.name]),
        EXPERIMENT.dumps(experiment.to_dict(), allow_nan=False))


CAPTIONS: Mapping[str, Mapping[str, tuple[str, str]]] = {  # plot: (heading, caption)
    "initialization": {
        "costs": ("Cost per epoch", "The cost J per epoch on a log scale. Zeros: flat at ln 2 "
                  "(nothing learns). ×10: starts orders of magnitude higher and oscillates. "
                  "He: falls steadily."),
        "hidden_units": ("The hidden units", "The first hidden layer after training: one "
                         "column per unit (its weights from x₁ and x₂, then its bias). "
                         "Identical columns are identical units: with zeros every column is "
                         "the same."),
        "boundaries": ("Decision boundaries", "What each network predicts everywhere "
                       "(background) over the training points (small, faint circles) and the "
                       "dev points (triangles, in front). The test points are not drawn: the "
                       "test set measures the chosen network only."),
    },
    "regularization": {
        "curves": ("Train and dev cost", "Train (solid) and dev (dashed) cost per epoch, "
                   "data term only: without regularization the dev cost turns up while the "
                   "train cost keeps falling: overfitting."),
        "boundaries": ("Decision boundaries", "Over the training points (small, faint "
                       "circles) and the dev points (triangles, in front): the unregularized "
                       "boundary bends around single noisy points; L2 and dropout draw "
                       "smoother ones. The test points are not drawn: the test set measures "
                       "the chosen network only."),
    },
}
