"""A tune's report: ``report.html`` (the report's template ``tune.html.j2``: the decision
trail, round by round), the trail as ``decision_trail.png`` and ``summary.json``."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from ..diagnostics import show_error
from ..report import render, write_page
from ..run.files import TUNE_SUMMARY
from .plots import plot_decision_trail
from .result import Round, TuneResult
from .trial import Trial


def write_tune_report(result: TuneResult, folder: Path) -> dict[str, Path]:
    """Write ``report.html``, ``decision_trail.png`` and ``summary.json`` into ``folder``
    (atomically); returns ``{"report": …, "decision_trail": …, "summary": …}``."""
    return write_page(
        folder, {"decision_trail": plot_decision_trail(result)},
        lambda images: render("tune.html.j2", **tune_context(result, images["decision_trail"])),
        TUNE_SUMMARY.dumps(result.to_dict()))


def tune_context(result: TuneResult, trail_image: str) -> dict[str, Any]:
    """The template's data: ``result`` read into numbers, rounds and sentences."""
    regression, diagnosis = result.regression, result.diagnosis
    numbers = [(show_error(result.dev_error, regression), "dev error (chose the model)"),
               (show_error(result.test_error, regression), "test error (measured once)")]
    if not diagnosis.diverged:  # a run that diverged has no bias/variance reading
        numbers += [(show_error(diagnosis.avoidable_bias, regression), "avoidable bias"),
                    (show_error(diagnosis.variance, regression), "variance")]
        if diagnosis.data_mismatch is not None:
            numbers.append((show_error(diagnosis.data_mismatch, regression), "data mismatch"))
    numbers += [(f"{result.n_trials} / {result.budget}", "trials / budget"),
                (f"{result.seconds:.0f} s", "wall time")]
    return {
        "name": "" if result.folder is None else result.folder.name,
        "result": result,
        "regression": regression,
        "level": "problem" if diagnosis.diverged else (
            "good" if result.next_step.stops else "warning"),
        # the divergence's advice, the learning rate first
        "diverged_advice": diagnosis.advice if diagnosis.diverged else [],
        "numbers": numbers,
        "rounds": [_round(trail, result) for trail in result.rounds],
        "trail_image": trail_image,
        "bayes_line": bayes_line(result),
        "references": _references(result),
    }


def bayes_line(result: TuneResult) -> str:
    """Where the Bayes error the diagnoses read came from, for people: the yardstick
    (its best reference named) or the number given."""
    if result.yardstick is None:
        return f"Bayes error {show_error(result.bayes_error, result.regression)} (given)"
    return (f"{result.yardstick.headline()}: the best dev error a reference model reached, "
            "an error known to be achievable")


def _references(result: TuneResult) -> list[dict[str, Any]]:
    """The yardstick's references beside the chosen network: what each is, its train and
    dev error (the trials' units), and whether it is the yardstick's best."""
    if result.yardstick is None:
        return []
    show, best = partial(show_error, regression=result.regression), result.yardstick.best
    return [*({"name": f"{ref.kind}: {ref.model}", "train": show(ref.train_error),
               "dev": show(ref.dev_error), "best": ref is best}
              for ref in result.yardstick.references),
            {"name": f"the chosen network: {result.config.describe()}",
             "train": show(result.best.train_error), "dev": show(result.dev_error),
             "best": False}]


def _round(trail: Round, result: TuneResult) -> dict[str, Any]:
    diagnosis = trail.diagnosis
    return {
        "number": trail.number,
        "action": trail.action,
        "reason": trail.reason,
        "verdict": None if diagnosis is None else diagnosis.verdict,
        "errors": None if diagnosis is None else (
            f"train {show_error(diagnosis.train_error, result.regression)}, dev "
            f"{show_error(diagnosis.dev_error, result.regression)}"),
        "trials": [_trial(trial, trail, result) for trial in trail.trials],
        "recommendation": trail.recommendation,
        "skipped": trail.skipped,
    }


def _trial(trial: Trial, trail: Round, result: TuneResult) -> dict[str, Any]:
    return {
        "config": trial.config.describe(),
        "change": trial.change,
        "train": show_error(trial.train_error, result.regression),
        "dev": show_error(trial.dev_error, result.regression),
        "status": trial.status if trial.status != "done" else (
            "diverged" if trial.stop_reason == "diverged" else
            "read back" if trial.resumed else "trained"),
        "problem": trial.status == "failed" or trial.stop_reason == "diverged",
        # why it trained on the rows it did, said where a sample was drawn
        "sample": None if trial.sample is None or trial.sample.code == "sample_all"
        else str(trial.sample),
        "best_so_far": trial.key == trail.best_key,
        "chosen": trial.key == result.best.key,
    }
