"""The answer first: :func:`headline` reads a :class:`~deeprecipe.run.result.RunResult` in the
order problems must be fixed (a failed gradient check, a diverged or symmetric network, splits
from different distributions, then bias and variance): the verdict, one status per check, and
the first steps of the basic recipe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from ..diagnostics.bias_variance import GIVEN, MISMATCH_VERDICTS, YARDSTICK, ZERO
from ..findings import TEXTS, say, show_error

if TYPE_CHECKING:
    from ..data import Comparison
    from ..diagnostics import Diagnosis
    from ..findings import Advice
    from ..run.result import RunResult

GOOD, WARNING, PROBLEM, UNKNOWN = "good", "warning", "problem", "unknown"
LEVELS = {  # the level of each verdict of the gradient check, the same-distribution check,
    # the gradient flow and the bias/variance diagnosis
    "great": GOOD, "look closer": WARNING, "worry": PROBLEM, "inconclusive": UNKNOWN,
    "uninformative": UNKNOWN, "indistinguishable": GOOD, "slightly different": WARNING,
    "different": PROBLEM, "healthy": GOOD, "vanishing": WARNING, "exploding": PROBLEM,
    "symmetric": PROBLEM, "low bias and low variance": GOOD, "high bias": WARNING,
    "high variance": WARNING, "high bias and high variance": WARNING, "diverged": PROBLEM,
    **{verdict: WARNING for verdict in MISMATCH_VERDICTS.values()},
}
TOP_STEPS = 3
KNOWN_MISMATCH = "train vs dev"  # with two sources: the mismatch the data has by design


@dataclass(frozen=True)
class Check:
    """One line of the health panel: ``level`` is good, warning, problem or unknown."""

    name: str
    level: str
    text: str


@dataclass(frozen=True)
class Step:
    """One thing to do next: ``action`` is an :class:`~deeprecipe.Advice` action (or
    ``fix_gradients``, ``fix_data``), ``title`` says it for people."""

    action: str
    title: str
    reason: str


@dataclass
class Headline:
    """The verdict (``level``, ``title``, ``detail``), the checks, and the next steps."""

    level: str
    title: str
    detail: str
    checks: list[Check] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def headline(result: RunResult) -> Headline:
    """The report's first lines for ``result`` (see the module's docstring)."""
    verdict = _first_problem(result) or _diagnosis_verdict(result)
    verdict.checks = [check for check in (_gradcheck(result), _training(result), _flow(result),
                                          _splits(result), *_gaps(result)) if check is not None]
    steps = verdict.steps + _recipe_steps(result)
    verdict.steps = steps[:TOP_STEPS] + [step for step in steps[TOP_STEPS:]
                                         if step.action == "match_training_data"]
    return verdict


def _gradcheck(result: RunResult) -> Check | None:
    if not result.gradchecks:
        return None
    reports = result.gradchecks.values()
    # a check with no verdict (every block within the noise floor) verified nothing
    level = PROBLEM if any(r.failed for r in reports) else (
        GOOD if all(r.passed for r in reports) else UNKNOWN)
    return Check("gradient check", level, ", ".join(
        f"{point}: {report.reading()}" for point, report in result.gradchecks.items()))


def _training(result: RunResult) -> Check | None:
    if result.stop_reason == "diverged":
        return Check("training", PROBLEM, _diverged_text(result))
    if not result.history:
        return None
    kept = "" if result.best_epoch is None else f", kept epoch {result.best_epoch + 1}"
    return Check("training", GOOD,
                 f"{result.epochs_run} epochs; {stopped(result.stop_reason)}{kept}")


def stopped(reason: str) -> str:
    """Why training ended, in words (``patience``: early stopping ended training …)."""
    code = f"stopped:{reason}"
    return say(code) if code in TEXTS else reason


def level(verdict: str) -> str:
    """The color class of a verdict: good, warning, problem or unknown."""
    return LEVELS.get(verdict, UNKNOWN)


def _flow(result: RunResult) -> Check | None:
    flow = result.flow
    if flow is None:
        return None
    named = f" in {', '.join(flow.named)}" if flow.named else ""
    return Check("gradient flow", level(flow.verdict), f"{flow.verdict}{named} at initialization")


def expected_same(result: RunResult) -> dict[str, Comparison]:
    """The comparisons of sets that must share a distribution: all of them, but for the
    known mismatch of two sources (``train vs dev``: dev and test come from the data you
    care about)."""
    known = KNOWN_MISMATCH if result.data.dev_test_data else ""
    return {name: c for name, c in result.comparisons.items() if name != known}


def _splits(result: RunResult) -> Check | None:
    if not result.comparisons:
        return None
    expected = expected_same(result)
    worst = max(expected.values(), key=lambda c: c.auc) if expected else None
    texts = [f"{name}: {c.verdict} (AUC {c.auc:.2f})" + ("" if name in expected else
                                                        " (known: two sources)")
             for name, c in result.comparisons.items()]
    return Check("same distribution", UNKNOWN if worst is None else level(worst.verdict),
                 "; ".join(texts))


def _diverged_text(result: RunResult) -> str:
    """``training diverged at epoch 3: the training cost grew to …`` (when known)."""
    d = result.diagnosis
    return f"diverged after {result.epochs_run} epochs" if d is None or d.divergence is None \
        else d.divergence.headline


def _gaps(result: RunResult) -> list[Check]:
    """The bias and the variance lines (none for a run that diverged: no such verdict)."""
    d = result.diagnosis
    if d is None or d.diverged:
        return []
    err, kind = _errors(result, d)
    bias = (f"train {kind} {err(d.train_error)}, yardstick {err(d.bayes_error)} "
            f"({d.yardstick.best.kind}): train − yardstick {err(d.avoidable_bias)}"
            if d.yardstick is not None and d.bias_source == YARDSTICK
            else f"avoidable bias {err(d.avoidable_bias)} (train {kind} {err(d.train_error)}, "
            f"Bayes {kind} {err(d.bayes_error)}: {bayes_source(d)})")
    if d.train_dev_error is None:
        return [Check("bias", WARNING if d.high_bias else GOOD, bias),
                Check("variance", WARNING if d.high_variance else GOOD, f"variance "
                      f"{err(d.variance)} (dev {kind} {err(d.dev_error)})")]
    return [Check("bias", WARNING if d.high_bias else GOOD, bias),
            Check("variance", WARNING if d.high_variance else GOOD, f"variance "
                  f"{err(d.variance)} (train-dev {kind} {err(d.train_dev_error)} − train)"),
            Check("data mismatch", WARNING if d.high_mismatch else GOOD, f"data mismatch "
                  f"{err(d.data_mismatch or 0.0)} (dev {kind} {err(d.dev_error)} − train-dev)")]


def _errors(result: RunResult, d: Diagnosis) -> tuple[Callable[[float], str], str]:
    """How the run's errors are shown, and what they are called (``error``, ``MSE``)."""
    return (partial(show_error, regression=d.regression),
            "MSE" if result.data.task == "regression" else "error")


def _first_problem(result: RunResult) -> Headline | None:
    failed = {point: report for point, report in result.gradchecks.items() if report.failed}
    if failed:
        blocks = sorted({b for report in failed.values() for b in report.failed_blocks})
        where = ", ".join(blocks) or "the whole parameter vector"
        findings = [f for report in failed.values() for f in report.findings]
        return Headline(
            PROBLEM, "Backpropagation looks wrong: fix the gradients first",
            f"The gradient check failed at {', '.join(failed)} (blocks: {where}). Until it "
            "passes, the learning curves and the diagnosis below describe a buggy network.",
            steps=[Step("fix_gradients", f"Fix the gradient of {where}",
                        str(findings[0]) if findings else "compare dθ and dθ_approx component "
                        "by component in the table below")],
        )
    if result.stop_reason == "diverged":
        kept = "the initial weights" if not result.history else (
            "the weights of the last epoch before it" if result.best_epoch is None
            else f"the weights of epoch {result.best_epoch + 1}")
        text = _diverged_text(result)
        return Headline(
            PROBLEM, "Training diverged: lower the learning rate",
            f"{text[:1].upper()}{text[1:]}; {kept} are kept. A diverged run has no bias/variance "
            "reading: fix the divergence first.",
            steps=[] if result.diagnosis is not None else [
                Step("lower_learning_rate", "Lower the learning rate",
                     "a step too large makes the cost blow up")],
        )
    flow = result.flow
    if flow is not None and flow.verdict in ("symmetric", "exploding"):
        title = {"symmetric": "The hidden units are identical: symmetry was never broken",
                 "exploding": "Gradients explode through the layers"}[flow.verdict]
        reading = flow.summary().splitlines()[0]
        return Headline(PROBLEM, title, f"Gradient flow after training: {reading}. Until "
                        "this is fixed the network cannot learn what its size allows.",
                        steps=_advice_steps(flow.advice))
    different = [name for name, c in expected_same(result).items() if not c.passed]
    if different:
        return Headline(
            WARNING, "The splits come from different distributions",
            f"{', '.join(different)}: a classifier tells the sets apart, so the dev error "
            "does not measure what the network will meet.",
            steps=[Step("fix_data", "Shuffle before splitting",
                        "take dev and test from the data you care about")],
        )
    return None


# (high bias, bias not shown): what train − yardstick says of the bias
BIAS_READING = {(True, False): " (avoidable bias shown)", (False, True): " (the bias is not shown "
                "to be avoidable)", (False, False): ""}


def _diagnosis_verdict(result: RunResult) -> Headline:
    d = result.diagnosis
    if d is None:
        return Headline(UNKNOWN, "No diagnosis", "The run did not measure train and dev error.")
    titles = {
        "high bias": "High bias: the network underfits the training set",
        "high variance": "High variance: the network overfits the training set",
        "high bias and high variance": "High bias and high variance",
        "low bias and low variance": "Healthy: low bias and low variance",
        "data mismatch": "Data mismatch: the dev data differ from the training data",
        "high bias and data mismatch": "High bias, and a data mismatch",
        "high variance and data mismatch": "High variance, and a data mismatch",
        "high bias, high variance and data mismatch": "High bias, high variance and a data "
                                                      "mismatch",
    }
    if d.finding("bias_not_shown") is not None:  # at or below the yardstick
        titles[GOOD] = "Low variance; the remaining bias is not shown to be avoidable"
    level = GOOD if not (d.high_bias or d.high_variance or d.high_mismatch) else WARNING
    err, kind = _errors(result, d)
    errors = f"Train {kind} {err(d.train_error)}, dev {kind} {err(d.dev_error)}"
    variance = f"variance {err(d.variance)}"
    if d.train_dev_error is not None:
        errors = (f"Train {kind} {err(d.train_error)}, train-dev {kind} "
                  f"{err(d.train_dev_error)}, dev {kind} {err(d.dev_error)}")
        variance = (f"variance (train-dev − train) {err(d.variance)}, data mismatch "
                    f"(dev − train-dev) {err(d.data_mismatch or 0.0)}")
    if d.yardstick is not None and d.bias_source == YARDSTICK:
        best = d.yardstick.best
        detail = (f"{errors}; the yardstick, {err(d.bayes_error)}, is the "
                  f"{d.yardstick_part} {kind} of the "
                  f"best reference model ({best.kind}: {best.model}), an error known to be "
                  f"achievable: train − yardstick {err(d.avoidable_bias)}"
                  f"{BIAS_READING[d.high_bias, d.finding('bias_not_shown') is not None]}, "
                  f"{variance}.")
    else:
        detail = (f"{errors}, Bayes {kind} {err(d.bayes_error)} ({bayes_source(d)}): "
                  f"avoidable bias {err(d.avoidable_bias)}, {variance}.")
    return Headline(level, titles.get(d.verdict, d.verdict), detail)


def bayes_source(d: Diagnosis) -> str:
    """Where the Bayes error of ``d`` came from, for people: ``given``, ``yardstick: linear
    (Ridge(alpha=10))`` (the best reference model's dev error) or ``none given``."""
    if d.bias_source == YARDSTICK and d.yardstick is not None:
        return f"yardstick: {d.yardstick.best.kind} ({d.yardstick.best.model})"
    return {GIVEN: "given", ZERO: "none given"}.get(d.bias_source, d.bias_source)


def bayes_label(d: Diagnosis) -> str:
    """The Bayes error of ``d`` and its source, short, for a plot's legend: ``yardstick
    2.92%: linear (LogisticRegression)`` (the model's settings are the report's),
    ``Bayes error 1.00% (given)``."""
    shown = show_error(d.bayes_error, d.regression)
    if d.bias_source == YARDSTICK and d.yardstick is not None:
        best = d.yardstick.best
        return f"yardstick {shown}: {best.kind} ({best.model.split('(')[0]})"
    return f"Bayes error {shown} ({bayes_source(d)})"


def _recipe_steps(result: RunResult) -> list[Step]:
    flow, d = result.flow, result.diagnosis
    if result.stop_reason == "diverged":  # the divergence's advice: the learning rate first
        return _advice_steps(d.advice) if d else []
    vanishing = flow.advice[:1] if flow is not None and flow.verdict == "vanishing" else []
    return _advice_steps([*vanishing, *(d.advice if d is not None else [])])


def _advice_steps(advice: Iterable[Advice]) -> list[Step]:
    return [Step(a.action, action_title(a.action), a.reason) for a in advice]


def action_title(action: str) -> str:
    """``regularize_l2`` → ``Regularize L2``."""
    text = action.replace("_", " ").replace("l2", "L2")
    return text[:1].upper() + text[1:]
