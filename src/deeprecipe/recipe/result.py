"""What a tune returns: its rounds, its trials, the chosen model and its one test error."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Standardizer
from ..diagnostics import Diagnosis, Yardstick, show_error
from ..findings import Finding, jsonable, jsonable_fields
from ..model import Sequential
from ..targets import TargetScale
from .config import Config, build_model
from .policy import FINAL, Decision
from .store import ROUND_COLUMNS
from .trial import Trial


@dataclass
class Round:
    """One round of the recipe: the ``diagnosis`` of the best model before it (``None``
    for the baseline), the ``action`` and its ``reason``, its ``trials``, the best trial
    after it, the learning curve's reading and the steps ``skipped``, each with why."""

    number: int
    diagnosis: Diagnosis | None
    action: str
    reason: str
    trials: list[Trial]
    best_key: str | None = None
    recommendation: Finding | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def trial_keys(self) -> list[str]:
        return [trial.key for trial in self.trials]

    def to_dict(self) -> dict[str, Any]:
        """The round as the trial database stores it."""
        return jsonable({name: getattr(self, name) for name in ROUND_COLUMNS})


@dataclass
class TuneResult:
    """The outcome of :func:`~deeprecipe.recipe.tune`.

    ``best`` is the chosen trial (lowest dev error, then lowest dev cost, among the trials
    trained on the whole training set); ``test_error`` its test error, measured once at the
    end (``None`` without a test set); ``diagnosis`` its bias/variance reading.
    ``next_step`` is the recipe's last decision (``stop``, or the step the budget left
    undone), ``stop_reason`` why the loop ended (the stopping decision's finding, or
    ``budget_spent``); ``recommendations`` what the recipe cannot do itself (more data),
    ``remarks`` notes on the data and the run. ``bayes_error`` is the Bayes error the
    diagnoses read: the one given, or the ``yardstick``'s error (``bayes_error="auto"``;
    its references' errors are in the trials' units: a regression's standardized target).
    """

    best: Trial
    dev_error: float
    test_error: float | None
    diagnosis: Diagnosis
    rounds: list[Round]
    trials: list[Trial]
    next_step: Decision
    stop_reason: Finding
    bayes_error: float
    budget: int
    seed: int
    standardizer: Standardizer
    classes: np.ndarray | None
    task: str
    input_dim: int
    n_outputs: int
    runner: str
    folder: Path | None = None
    seconds: float = 0.0
    recommendations: list[Finding] = field(default_factory=list)
    remarks: list[Finding] = field(default_factory=list)
    test_note: Finding = field(default_factory=lambda: Finding("test_unbiased"))
    target_scale: TargetScale | None = None
    yardstick: Yardstick | None = None

    @property
    def config(self) -> Config:
        """The chosen :class:`~deeprecipe.recipe.Config`."""
        return self.best.config

    @property
    def regression(self) -> bool:
        return self.task == "regression"

    @property
    def n_trials(self) -> int:
        """The search's trials (the final training on all the rows is not one)."""
        return sum(trial.action != FINAL for trial in self.trials)

    @property
    def resumed_trials(self) -> int:
        """Trials read back from an interrupted run's database instead of trained again."""
        return sum(trial.resumed for trial in self.trials)

    def model(self) -> Sequential:
        """The chosen model, with its trained weights and the standardizer (so it predicts
        from raw inputs). Outputs are class codes ``0 … k−1``: ``classes[code]`` is the
        label; a regression's predict the target in its own units."""
        model = rebuild(self.best, self.input_dim, self.task, self.n_outputs,
                        self.standardizer)
        if self.target_scale is not None:
            self.target_scale.fold(model)
        return model

    def summary(self) -> str:
        """A few lines for people: the choice, its errors (and, when its training
        diverged, that and what to do about it), why the loop ended, the trail."""
        lines = [
            f"chosen: {self.best.config.describe()} (trial {self.best.key}, round "
            f"{self.best.round})",
            f"dev error {show_error(self.dev_error, self.regression)}, test error "
            f"{show_error(self.test_error, self.regression)}",
            f"note: {self.test_note}",
            *([] if self.yardstick is None else [
                f"{self.yardstick.headline()}; the references' train/dev errors: "
                + ", ".join(f"{ref.kind} {show_error(ref.train_error, self.regression)}/"
                            f"{show_error(ref.dev_error, self.regression)}"
                            for ref in self.yardstick.references)]),
            *(["the chosen model's training diverged: no bias/variance reading",
               *(f"- {advice}" for advice in self.diagnosis.advice)]
              if self.diagnosis.diverged else []),
            f"{self.n_trials} of {self.budget} trials on {self.runner} in {self.seconds:.1f} s"
            + (f" ({self.resumed_trials} read back from the earlier run)"
               if self.resumed_trials else ""),
            f"ended: {self.stop_reason}",
            "decision trail:",
        ]
        for trail in self.rounds:
            lines += [f"  {trail.number}. {trail.action}: {trail.reason}",
                      *(f"     - {_trial_line(t, self.regression)}" for t in trail.trials)]
            if trail.recommendation:
                lines.append(f"     recommendation: {trail.recommendation}")
        lines += [f"recommendation: {text}" for text in self.recommendations]
        lines += [f"note: {text}" for text in self.remarks]
        return "\n".join(lines)

    def table(self) -> str:
        """Every trial as a Markdown table, in the order they ran."""
        return "\n".join([
            "| round | action | config | train error | dev error | status |",
            "|---|---|---|---|---|---|",
            *(f"| {trial.round} | {trial.action} | {trial.config.describe()} | "
              f"{show_error(trial.train_error, self.regression)} | "
              f"{show_error(trial.dev_error, self.regression)} | {trial.status}{_diverged(trial)} |"
              for trial in self.trials)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the model's own parts (weights, standardizer, shapes, target scale)
        are left out: they are in ``trials.sqlite`` and ``model/``."""
        return jsonable_fields(self, "standardizer", "input_dim", "n_outputs", "target_scale",
                               next_step={"action": self.next_step.action,
                                          "reason": self.next_step.reason})


def rebuild(trial: Trial, input_dim: int, task: str, n_outputs: int,
            standardizer: Standardizer | None = None) -> Sequential:
    """A finished trial's model: its config, its trained weights, ``standardizer``."""
    if trial.weights is None:
        raise RuntimeError(f"rebuild: trial {trial.key} has no weights (status "
                           f"{trial.status!r}); only finished trials can be rebuilt.")
    model = build_model(trial.config, input_dim, task, n_outputs, trial.seed)
    model.set_parameters(np.frombuffer(trial.weights, dtype=trial.dtype))
    model.standardizer = standardizer
    return model


def _trial_line(trial: Trial, regression: bool) -> str:
    if trial.status != "done":
        return f"{trial.config.describe()}: {trial.status} ({trial.error})"
    return (f"{trial.config.describe()}: train {show_error(trial.train_error, regression)}, "
            f"dev {show_error(trial.dev_error, regression)}{_diverged(trial, ', diverged')}")


def _diverged(trial: Trial, text: str = " (diverged)") -> str:
    """``text`` when the trial's training diverged, else nothing."""
    return text if trial.stop_reason == "diverged" else ""
