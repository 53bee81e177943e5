"""The decision trail as a figure: each round's train and dev error moving toward the Bayes
error, annotated with the action the recipe took (drawn as every report figure is,
:mod:`deeprecipe.report.style`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..findings import show_error

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .result import TuneResult


def plot_decision_trail(result: TuneResult) -> Figure:
    """One point per round: the train and dev error of the best model after it (lines),
    every trial's dev error (faint dots), the Bayes error given or the yardstick (dashed,
    named), the chosen model's test
    error (a star at the end, measured once), and each round's action above it."""
    from ..report.style import themed  # imported on first use: matplotlib is heavy

    return themed(_draw)(result)


def _draw(result: TuneResult) -> Figure:
    from matplotlib.ticker import PercentFormatter  # matplotlib: imported on first use

    from ..report.style import BAYES, DEV, MUTED, TEST, TRAIN, new_figure

    figure, ax = new_figure(max(6.0, 1.1 * len(result.rounds) + 3), 5.0)
    regression = result.regression
    numbers = [trail.number for trail in result.rounds]
    by_key = {trial.key: trial for trial in result.trials}
    bests = [by_key[trail.best_key] for trail in result.rounds if trail.best_key in by_key]

    for trail in result.rounds:
        devs = [trial.dev_error for trial in trail.trials if trial.dev_error is not None]
        ax.scatter([trail.number] * len(devs), devs, s=14, color=MUTED, alpha=0.6,
                   zorder=2, label="a trial's dev error" if trail.number == 0 else None)
    ax.plot(numbers[: len(bests)], [float(t.train_error or 0.0) for t in bests], "o-",
            color=TRAIN, label="train error (best model so far)", zorder=3)
    ax.plot(numbers[: len(bests)], [float(t.dev_error or 0.0) for t in bests], "o-",
            color=DEV, label="dev error (best model so far)", zorder=3)
    yardstick, bayes = result.yardstick, show_error(result.bayes_error, regression)
    ax.axhline(result.bayes_error, color=BAYES, linestyle="--", linewidth=1,
               label=f"Bayes error {bayes} (given)" if yardstick is None else
               f"yardstick {bayes} ({yardstick.best.kind}: {yardstick.best.model}, dev)")
    if result.test_error is not None and numbers:
        ax.scatter([numbers[-1] + 0.35], [result.test_error], marker="*", s=160, color=TEST,
                   zorder=4, label="test error (chosen model, measured once)")
    for trail in result.rounds:  # the diagnosis that led to each round, by its dev point
        best = by_key.get(trail.best_key or "")
        if best is not None and best.dev_error is not None and trail.diagnosis is not None:
            ax.annotate(trail.diagnosis.verdict.replace(" and ", " &\n"),
                        (trail.number, best.dev_error), textcoords="offset points",
                        xytext=(0, 8), ha="center", fontsize=7, color=BAYES)
    ax.set_xticks(numbers, [f"{trail.number}\n{trail.action.replace('_', ' ')}"
                            for trail in result.rounds], fontsize=8)
    ax.set_xlabel("round (the action it took)")
    ax.set_ylabel("MSE (target standardized)" if regression else "error")
    if not regression:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    ax.set_title("Decision trail: the basic recipe, round by round")
    # below the axes (inside, it would cover the points and the verdicts written beside
    # them), where the constrained layout makes room for it
    figure.legend(loc="outside lower center", ncol=2, fontsize=8)
    return figure

