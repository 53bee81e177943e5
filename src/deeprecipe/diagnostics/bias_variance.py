"""Bias and variance from train, dev and Bayes error (given, or bounded by a
:class:`~deeprecipe.diagnostics.Yardstick`), and the basic recipe's next steps:
:func:`diagnose` → :class:`Diagnosis`; :func:`wilson_interval`; :func:`fraction`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import BadValue, fail, flag, integer, real
from ..data.cells import NUMBER
from ..divergence import GENERIC_ADVICE, Divergence
from ..findings import Advice, Finding, jsonable_fields, show_error
from .yardstick import Yardstick

if TYPE_CHECKING:
    from ..training import History

BIAS_THRESHOLD, VARIANCE_THRESHOLD, CONFIDENCE = 0.02, 0.02, 0.95
VERDICTS = HIGH_BIAS, HIGH_VARIANCE, BOTH, GOOD, DIVERGED = (
    "high bias", "high variance", "high bias and high variance", "low bias and low variance",
    "diverged")
# with a train-dev set (two sources), the verdicts with a high data mismatch (dev − train-dev)
MISMATCH_VERDICTS = {GOOD: "data mismatch", HIGH_BIAS: "high bias and data mismatch",
                     HIGH_VARIANCE: "high variance and data mismatch",
                     BOTH: "high bias, high variance and data mismatch"}
AUTO = "auto"  # bayes_error: the yardstick where there is data to fit references on, else 0
BIAS_SOURCES = GIVEN, YARDSTICK, ZERO = "given", "yardstick", "zero"


@dataclass
class Diagnosis:
    """The reading of one (train, dev, Bayes) triple; ``advice`` is ordered, first first.

    ``dev_interval``: the dev error's binomial confidence interval (given ``n_dev``);
    ``variance_significant``: whether the variance gap clears the threshold at that
    confidence (``None`` without ``n_dev``); ``epoch``: the History epoch read (``None`` for
    numbers); ``regression``: the errors are mean squared errors. ``bias_source`` says where
    ``bayes_error`` came from: ``"given"`` (the caller's), ``"yardstick"`` (the best dev
    error of the reference models in ``yardstick``, an upper bound on the Bayes error) or
    ``"zero"`` (none given and no data to fit references on). A run that diverged has
    ``verdict == "diverged"``, ``high_bias`` and ``high_variance`` ``False``, the divergence's
    advice (a lower learning rate first) and its ``divergence`` when known.

    With a ``train_dev_error`` (training-distribution rows held out of training: two
    sources), ``variance`` is train-dev − train and ``data_mismatch`` dev − train-dev;
    ``high_mismatch`` above the variance threshold makes the verdict one of
    :data:`MISMATCH_VERDICTS` (``"data mismatch"``, ``"high variance and data mismatch"``, …)
    and adds the advice ``match_training_data`` (after the bias and variance steps, in place
    of ``stop``); ``dev_interval`` is then the train-dev error's.
    """

    train_error: float
    dev_error: float
    bayes_error: float
    avoidable_bias: float
    variance: float
    verdict: str
    high_bias: bool
    high_variance: bool
    advice: list[Advice]
    test_error: float | None = None
    dev_test_gap: float | None = None
    dev_interval: tuple[float, float] | None = None
    variance_significant: bool | None = None
    epoch: int | None = None
    remarks: list[Finding] = field(default_factory=list)
    regression: bool = False
    divergence: Divergence | None = None
    bias_source: str = ZERO
    yardstick: Yardstick | None = None
    train_dev_error: float | None = None
    data_mismatch: float | None = None
    high_mismatch: bool = False

    @property
    def diverged(self) -> bool:
        return self.verdict == DIVERGED

    @property
    def yardstick_part(self) -> str:
        """Where the yardstick's references were measured: ``"train-dev"`` with two
        sources (the training distribution), else ``"dev"``."""
        return "dev" if self.train_dev_error is None else "train-dev"

    @property
    def actions(self) -> list[str]:
        """The advice's actions in order: ``["more_data", "augment", …]``."""
        return [advice.action for advice in self.advice]

    def summary(self) -> str:
        """A few lines for people: verdict, the two gaps (three with a train-dev error), the
        advice and the remarks."""
        show = partial(show_error, regression=self.regression)
        source = "" if self.yardstick is None else (
            f" (at most: the {self.yardstick_part} error of the best reference, "
            f"{self.yardstick.best.model})")
        train_dev = "" if self.train_dev_error is None else \
            f", train-dev error {show(self.train_dev_error)}"
        mismatch = "" if self.data_mismatch is None else \
            f", data mismatch {show(self.data_mismatch)}"
        return "\n".join([
            f"{self.verdict}: train error {show(self.train_error)}{train_dev}, dev error "
            f"{show(self.dev_error)}, Bayes error {show(self.bayes_error)}{source}",
            "no bias/variance reading: training diverged" if self.diverged else
            f"avoidable bias {show(self.avoidable_bias)}, variance {show(self.variance)}"
            f"{mismatch}",
            *(f"- {advice}" for advice in self.advice),
            *(f"note: {remark}" for remark in self.remarks),
        ])

    def to_dict(self) -> dict[str, Any]:
        """Plain data; each piece of advice and remark as ``{code, values, text}``."""
        return jsonable_fields(self)

    @property
    def codes(self) -> list[str]:
        """The remarks' codes in order: ``["data_is_safe", "few_examples"]``."""
        return [remark.code for remark in self.remarks]

    def finding(self, code: str) -> Finding | None:
        """The remark with this code, if the diagnosis made it."""
        return next((remark for remark in self.remarks if remark.code == code), None)


ROUNDING = 1e-12  # float error in a difference of two rates: a gap this close is at the threshold

BIAS_ADVICE = ["bigger_network", "train_longer", "other_architecture"]
VARIANCE_ADVICE = ["more_data", "augment", "regularize_l2", "dropout", "other_architecture"]
ADVICE = {HIGH_BIAS: BIAS_ADVICE, HIGH_VARIANCE: VARIANCE_ADVICE, GOOD: ["stop"],
          # both: fix the fit first, then generalization; another architecture last
          BOTH: [*BIAS_ADVICE[:2], *VARIANCE_ADVICE]}


def wilson_interval(error: float, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's binomial confidence interval ``(low, high)`` for an error rate measured on
    ``n`` examples (at ``confidence``, 0.95 by default).

    ``wilson_interval(0.11, 1000)`` is about ``(0.092, 0.131)``: with 1,000 dev examples an
    11% error is known to about ±2 points.
    """
    from scipy.stats import norm  # imported on first use: scipy is heavy

    where = "wilson_interval"
    error = _error(where, "error", error)
    n = _count(where, "n", n)
    real(where, "confidence", confidence, "in (0, 1)", lambda v: 0 < v < 1)
    z = float(norm.ppf(0.5 + confidence / 2))
    denominator = 1 + z * z / n
    centre = (error + z * z / (2 * n)) / denominator
    half = z * np.sqrt(error * (1 - error) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if error == 0 else max(0.0, float(centre - half))  # exact at the bounds
    high = 1.0 if error == 1 else min(1.0, float(centre + half))
    return low, high


def diagnose(
    train_error: float | History,
    dev_error: float | None = None,
    bayes_error: float | str | Yardstick = AUTO,
    test_error: float | None = None,
    n_train: int | None = None,
    n_dev: int | None = None,
    *,
    bias_threshold: float = BIAS_THRESHOLD,
    variance_threshold: float = VARIANCE_THRESHOLD,
    confidence: float = CONFIDENCE,
    regression: bool = False,
    diverged: bool | Divergence = False,
    train_dev_error: float | None = None,
    n_train_dev: int | None = None,
) -> Diagnosis:
    """Read bias and variance the notes' way and give the basic recipe's next steps.

    Avoidable bias (``train − bayes``) is high above ``bias_threshold``, variance
    (``dev − train``) above ``variance_threshold`` (both 0.02: two percentage points). The
    advice, in order: high bias → bigger network, train longer, another architecture; high
    variance → more data, augmentation, L2, dropout, another architecture; both → the bias
    steps, then the variance steps; neither → ``stop``.

    ``bayes_error`` is the Bayes (human-level) error: a number (``bias_source`` ``"given"``;
    it always wins), a :class:`~deeprecipe.diagnostics.Yardstick`
    (:func:`~deeprecipe.diagnostics.fit_references`: ``"yardstick"``), or ``"auto"``, which
    here, with errors and no data, is 0 (``"zero"``: the notes' reading;
    :meth:`~deeprecipe.model.Sequential.diagnose` has the data and fits the references). The
    yardstick's error ``e`` is an error *achieved* by a reference model, so the Bayes error
    is at most ``e`` and avoidable bias is shown only above it: high bias when ``train − e``
    exceeds ``bias_threshold``. A training error at or below ``e`` (within the threshold) that a
    Bayes error of 0 would have called high bias gets the remark ``bias_not_shown`` and the
    advice ``better_features`` (after any variance advice), never a bigger network on that
    ground; a network whose dev error is more than ``variance_threshold`` above ``e``
    without high bias gets ``reference_better`` and ``simpler_model`` first (and no
    ``stop``).

    ``train_error`` is the **inference-mode** train error, never the cost logged while
    training (``History["train_cost"]``: dropout on, penalty in, averaged while the weights
    change, it overstates the bias of a regularized network and hides its variance). It may be
    a :class:`~deeprecipe.History` (``diagnose(history)``): its inference-mode errors are read
    at ``history.best_epoch`` (set when :class:`~deeprecipe.EarlyStopping` restored the best
    weights) or the last epoch, with the set sizes ``fit`` recorded.

    ``n_dev`` gives the dev error a Wilson interval at ``confidence``; a variance gap that may
    be below the threshold within it is not significant (``remarks``). A ``test_error`` more
    than ``variance_threshold`` above the dev error means the dev set was overfitted by model
    selection. ``regression=True`` takes mean squared errors (≥ 0, thresholds in MSE units,
    no interval). Errors are fractions (``0.11``) or percentages as text (``"11%"``): see
    :func:`fraction`. ``diverged`` (``True``, or the :class:`~deeprecipe.Divergence`; read
    from ``history.divergence`` for a History) gives the verdict ``"diverged"``, its advice
    and no bias/variance verdict.

    Two sources (training data from one, dev and test from the data you care about): the
    ``train_dev_error`` of training-distribution rows held out of training separates the
    gaps: variance is ``train_dev − train`` (its interval from ``n_train_dev``), **data
    mismatch** ``dev − train_dev``, high above ``variance_threshold``: the verdict says it
    (:data:`MISMATCH_VERDICTS`), the remark ``data_mismatch`` explains it, and the advice
    ends with ``match_training_data`` (make the training data more like the dev data)
    instead of ``stop``. A yardstick is then read against the train-dev error (fit the
    references on train, measure them on train-dev).
    """
    where = "diagnose"
    regression = flag(where, "regression", regression)  # "no" would read errors as MSEs
    confidence = real(where, "confidence", confidence, "a number in (0, 1)", lambda v: 0 < v < 1)
    epoch = last = None  # of a History: the epoch read and its last
    if not isinstance(train_error, (str, int, float, np.integer, np.floating)):
        history = train_error
        records, epoch, last = _epochs(history)
        if dev_error is not None:
            raise fail(where, "dev_error", "None when train_error is a History (the History "
                       "holds both errors)", dev_error)
        train_error, dev_error = records["train_error"][epoch], records["dev_error"][epoch]
        regression = regression or getattr(history, "task", None) == "regression"
        sizes = getattr(history, "sizes", {}) or {}
        n_train = sizes.get("train") if n_train is None else n_train
        n_dev = sizes.get("dev") if n_dev is None else n_dev
        diverged = getattr(history, "divergence", None) or diverged
    if dev_error is None:
        raise fail(where, "dev_error", "given (a fraction such as 0.11)", dev_error)
    train = _error(where, "train_error", train_error, regression)
    dev = _error(where, "dev_error", dev_error, regression)
    train_dev = None if train_dev_error is None else \
        _error(where, "train_dev_error", train_dev_error, regression)
    held = dev if train_dev is None else train_dev  # the training distribution's held-out error
    bayes, source, yardstick = _bayes(where, bayes_error, regression)
    bias_threshold = _threshold(where, "bias_threshold", bias_threshold, regression)
    variance_threshold = _threshold(where, "variance_threshold", variance_threshold, regression)

    if not (diverged is True or diverged is False or isinstance(diverged, Divergence)):
        raise fail(where, "diverged", "True, False or a Divergence (history.divergence)",
                   diverged)
    divergence = diverged if isinstance(diverged, Divergence) else None
    if diverged is False:
        # "above the threshold": 0.05 - 0.03 = 0.020000000000000004 is at 2 points, not above
        high_bias = train - bayes > bias_threshold + ROUNDING
        high_variance = held - train > variance_threshold + ROUNDING
        verdict = {(True, True): BOTH, (True, False): HIGH_BIAS, (False, True): HIGH_VARIANCE,
                   (False, False): GOOD}[(high_bias, high_variance)]
        advice = [Advice(action) for action in ADVICE[verdict]]
        if yardstick is not None and not high_bias:
            advice = _yardstick_advice(advice, yardstick, train, held, bias_threshold,
                                       variance_threshold)
        high_mismatch = train_dev is not None and \
            dev - train_dev > variance_threshold + ROUNDING
        if high_mismatch:
            verdict = MISMATCH_VERDICTS[verdict]
            advice = [*(one for one in advice if one.action != "stop"),
                      Advice("match_training_data")]
    else:
        verdict, high_bias, high_variance, high_mismatch = DIVERGED, False, False, False
        advice = list(divergence.advice if divergence else ()) or list(GENERIC_ADVICE)
    diagnosis = Diagnosis(
        train, dev, bayes, train - bayes, held - train, verdict, high_bias, high_variance,
        advice, epoch=epoch, regression=regression, divergence=divergence,
        bias_source=source, yardstick=yardstick, train_dev_error=train_dev,
        data_mismatch=None if train_dev is None else dev - train_dev,
        high_mismatch=high_mismatch)
    if test_error is not None:
        diagnosis.test_error = _error(where, "test_error", test_error, regression)
        diagnosis.dev_test_gap = diagnosis.test_error - dev
    remark = diagnosis.remarks.append
    if diagnosis.diverged:
        diagnosis.remarks += [*([] if divergence is None else [divergence.finding]),
                              Finding("diverged")]
        return diagnosis
    if source == GIVEN and diagnosis.avoidable_bias < -0.005:
        remark(Finding("bayes_too_high"))
    if yardstick is not None and not high_bias:
        diagnosis.remarks += _yardstick_remarks(diagnosis, yardstick, bias_threshold,
                                                variance_threshold)
    if diagnosis.variance < -variance_threshold:
        remark(Finding("dev_below_train", {"gap": -diagnosis.variance, "regression": regression}))
    if high_bias:  # the notes' two remarks on the recipe
        remark(Finding("no_fix_for_bias"))
        remark(Finding("bigger_is_safe"))
    if high_variance:
        remark(Finding("data_is_safe"))
    if high_mismatch:
        remark(Finding("data_mismatch", {"gap": diagnosis.data_mismatch, "dev": dev,
                                         "train_dev": train_dev, "regression": regression}))
    n_held = n_dev if train_dev is None else n_train_dev
    if n_held is not None and not regression:
        _attach_interval(diagnosis, held, _count(where, "n_dev" if train_dev is None else
                                                 "n_train_dev", n_held),
                         variance_threshold, confidence)
    if diagnosis.dev_test_gap is not None and diagnosis.dev_test_gap > variance_threshold:
        remark(Finding("dev_overfitted", {"gap": diagnosis.dev_test_gap, "regression": regression}))
    if n_train is not None and high_variance and _count(where, "n_train", n_train) < 1000:
        remark(Finding("few_examples:biased" if high_bias else "few_examples",
                       {"n_train": n_train}))
    if last is not None:  # the caveat, when early stopping kept an earlier epoch
        caveat = early_stopping_cost(diagnosis, epoch, last)
        if caveat is not None:
            remark(caveat)
    return diagnosis


def _bayes(where: str, value: Any, regression: bool) -> tuple[float, str, Yardstick | None]:
    """``(bayes_error, bias_source, yardstick)`` from ``diagnose``'s ``bayes_error``."""
    if isinstance(value, Yardstick):
        if value.regression != regression:
            expected = "a regression's (mean squared errors)" if regression else \
                "a classification's (error rates)"
            raise fail(where, "bayes_error", f"a Yardstick of {expected}, like the errors",
                       value.headline())
        return value.error, YARDSTICK, value
    if is_auto(value):
        return 0.0, ZERO, None
    return _error(where, "bayes_error", value, regression,
                  ", 'auto' or a Yardstick (fit_references)"), GIVEN, None


def is_auto(value: Any) -> bool:
    """Whether a ``bayes_error`` is ``"auto"`` (any case, spaces around)."""
    return isinstance(value, str) and value.strip().lower() == AUTO


def _bias_not_shown(yardstick: Yardstick, train: float, bias_threshold: float) -> bool:
    """A training error a Bayes error of 0 would call high bias, not above the yardstick."""
    return train > bias_threshold + ROUNDING and \
        train - yardstick.error <= bias_threshold + ROUNDING


def _reference_better(yardstick: Yardstick, dev: float, variance_threshold: float) -> bool:
    return dev - yardstick.error > variance_threshold + ROUNDING


def _yardstick_advice(advice: list[Advice], yardstick: Yardstick, train: float, dev: float,
                      bias_threshold: float, variance_threshold: float) -> list[Advice]:
    """The advice of a network without high bias, read against the yardstick:
    ``better_features`` last when the bias is not shown avoidable; ``simpler_model`` first
    (and no ``stop``) when a reference generalizes clearly better."""
    if _bias_not_shown(yardstick, train, bias_threshold):
        advice = [*advice, Advice("better_features")]
    if _reference_better(yardstick, dev, variance_threshold):
        best = yardstick.best
        values = {"kind": best.kind, "model": best.model, "reference": best.dev_error,
                  "dev": dev, "regression": yardstick.regression,
                  "part": yardstick.measured_on}
        advice = [Advice("simpler_model", "simpler_model:reference", values),
                  *(one for one in advice if one.action != "stop")]
    return advice


def _yardstick_remarks(diagnosis: Diagnosis, yardstick: Yardstick, bias_threshold: float,
                       variance_threshold: float) -> list[Finding]:
    """``bias_not_shown`` and ``reference_better``, with the best reference named."""
    best, found = yardstick.best, []
    values = {"kind": best.kind, "model": best.model, "reference": best.dev_error,
              "train": diagnosis.train_error, "dev": held_error(diagnosis),
              "threshold": bias_threshold, "regression": diagnosis.regression,
              "part": diagnosis.yardstick_part}
    if _bias_not_shown(yardstick, diagnosis.train_error, bias_threshold):
        found.append(Finding("bias_not_shown", values))
    if _reference_better(yardstick, held_error(diagnosis), variance_threshold):
        found.append(Finding("reference_better", values))
    return found


def held_error(diagnosis: Diagnosis) -> float:
    """The error on held-out rows of the training distribution that variance is read from:
    the train-dev error with two sources, else the dev error."""
    return diagnosis.dev_error if diagnosis.train_dev_error is None else \
        diagnosis.train_dev_error


def early_stopping_cost(diagnosis: Diagnosis, kept: int | None, last: int) -> Finding | None:
    """The notes' caveat (``early_stopping_cost``) when early stopping kept an epoch before
    the ``last`` (both counted from 0) of a network with high bias: stopping early may have
    cost some of that bias. ``None`` otherwise."""
    if kept is None or kept >= last or not diagnosis.high_bias:
        return None
    return Finding("early_stopping_cost", {"epoch": kept + 1, "regression": diagnosis.regression,
                                           "train_error": diagnosis.train_error})


def _attach_interval(diagnosis: Diagnosis, held: float, n_dev: int, threshold: float,
                     confidence: float) -> None:
    """The interval of the ``held`` error (dev, or train-dev) measured on ``n_dev`` rows,
    and whether the variance verdict survives it."""
    low, high = diagnosis.dev_interval = wilson_interval(held, n_dev, confidence)
    limit = diagnosis.train_error + threshold
    values = {"n_dev": n_dev, "low": low, "high": high, "confidence": confidence,
              "part": diagnosis.yardstick_part}
    if diagnosis.high_variance:
        diagnosis.variance_significant = low > limit
        if not diagnosis.variance_significant:
            gap = max(low - diagnosis.train_error, 0.0)
            diagnosis.remarks.append(Finding("variance_not_significant",
                                             {**values, "gap": gap, "threshold": threshold}))
    else:
        diagnosis.variance_significant = high <= limit
        if not diagnosis.variance_significant:
            diagnosis.remarks.append(Finding("low_variance_uncertain", values))


def _error(where: str, arg: str, value: Any, regression: bool = False, more: str = "") -> float:
    """An error rate (:func:`fraction`, its refusal with the hint) or a mean squared error;
    a refusal names ``more`` forms after the number's."""
    if regression:
        return real(where, arg, value, "a mean squared error >= 0" + more, lambda v: v >= 0)
    try:
        return fraction(value)
    except BadValue as error:
        raise fail(where, arg, FRACTION + more, value, str(error)) from None


FRACTION = "a fraction in [0, 1] (0.01) or a percentage ('1%')"


def fraction(value: Any) -> float:
    """An error rate as a fraction in [0, 1], from a number or a text.

    A number is a fraction: ``0.01``, and the integers ``0`` and ``1`` (0% and 100%). A
    text is a number (``"0.01"``) or a percentage with its sign (``"1%"``, ``"0.5%"``).
    A bare number above 1 is refused (a ``BadValue`` with a hint): ``11`` is almost
    always 11% written without its ``%``. Bools, non-finite numbers and other texts are
    refused too. The one rule of the Python API, the command line's flags and ``run.toml``.
    """
    if isinstance(value, str):
        text = value.strip()
        percent = text.endswith("%")
        digits = text[:-1].strip() if percent else text
        if not NUMBER.fullmatch(digits):  # a CSV cell's forms
            raise BadValue
        number = float(digits) / 100 if percent else float(digits)
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_)):
        number, percent = float(value), False
    else:
        raise BadValue
    if not percent and 1 < number < math.inf:
        raise BadValue(f"errors are fractions: for {number:g} percent write {number:g}% "
                       f"(or {number / 100:g})")
    if not 0.0 <= number <= 1.0:  # NaN and inf too ('1e400' is text for inf)
        raise BadValue
    return number


def _threshold(where: str, arg: str, value: Any, regression: bool) -> float:
    constraint = "a number >= 0" if regression else "a number in [0, 1)"
    return real(where, arg, value, constraint, lambda v: v >= 0 and (regression or v < 1))


def _count(where: str, arg: str, value: Any) -> int:
    return integer(where, arg, value, 1, "a positive integer (a number of examples)")


def _epochs(history: Any) -> tuple[dict[str, list[float]], int, int]:
    """A :class:`~deeprecipe.History`'s records, the epoch to read (its best, else its last)
    and its last."""
    records = getattr(history, "history", None)
    divergence = getattr(history, "divergence", None)
    if isinstance(records, dict) and not records and divergence is not None:
        raise fail("diagnose", "train_error", "a History with at least one epoch", history,
                   f"{divergence.headline}, so no epoch has errors to diagnose; "
                   f"{divergence.advice[0] if divergence.advice else 'lower the learning rate'}")
    if not isinstance(records, dict) or not records.get("dev_error"):
        raise fail("diagnose", "train_error", "a number or a History with dev_error "
                   "(fit with validation_data)", history)
    last = len(records["dev_error"]) - 1
    best = getattr(history, "best_epoch", None)
    return records, last if best is None else int(best), last
