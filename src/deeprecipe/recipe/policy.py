"""The basic recipe as a decision: from the best model's diagnosis to the next candidates."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..data.augment import defaults
from ..diagnostics import Diagnosis
from ..diagnostics.bias_variance import GOOD
from ..findings import Finding
from . import sample
from .config import MAX_DEPTH, MAX_WIDTH, Config
from .trial import Trial

BASELINE = "baseline"
FINAL = "final"  # the chosen configuration trained on all the rows (after a sampled search)
LEARNING_CURVE_FRACTIONS = (0.25, 0.5)
L2_GRID = (1.0, 0.1, 10.0)  # the notes' λ (cost term λ/2m Σ||W||²), most likely first
KEEP_PROBS = (0.8, 0.6)
MAX_PATIENCE = 100
LEARNING_RATES = (1e-5, 0.1)
DIVERGED_FACTORS = (10, 100, 1000)  # a run that diverged: a learning rate this many times lower
MIN_WIDTH = 8  # a simpler model's layers are halved down to this many units, not below
# bias not shown to be avoidable (at the yardstick) is not shown unavoidable: the bias steps
# test it, judged on dev like any trial, last before better features
PROBES = ("bigger_network", "train_longer", "better_optimizer")


@dataclass(frozen=True)
class Candidate:
    """A config to train, and what changed from the best model (``"wider: 64 → 128"``)."""

    config: Config
    change: str


@dataclass(frozen=True)
class Decision:
    """One step of the recipe: ``action`` (one of :data:`deeprecipe.findings.ACTIONS`,
    ``"baseline"`` or ``"final"``), ``why`` (a :class:`~deeprecipe.findings.Finding`;
    ``reason`` says it for people), the ``candidates`` to train, the steps ``skipped`` on
    the way, each with why, and ``parent``: the key of the model the candidates vary
    (``None``: the best model)."""

    action: str
    why: Finding
    candidates: tuple[Candidate, ...] = ()
    skipped: tuple[str, ...] = ()
    parent: str | None = None

    @property
    def stops(self) -> bool:
        return self.action == "stop"

    @property
    def reason(self) -> str:
        return self.why.text


@dataclass(frozen=True)
class Situation:
    """What the recipe knows when it decides: the ``best`` trial so far and its
    ``diagnosis``, every trial key ``tried``, the run's options and ``n_train``, the
    training part's rows (``None``: unknown, the sample never grows); ``augment``, the
    transforms of the augmentation step (``()``: none, the step is off)."""

    best: Trial
    diagnosis: Diagnosis
    tried: frozenset[str]
    seed: int
    image_shape: tuple[int, ...] | None = None
    learning_curve: bool = True
    learning_curve_done: bool = False
    per_round: int = 3
    n_train: int | None = None
    augment: tuple[str, ...] | None = None  # its transforms (None: the images' defaults)


Step = Callable[[Situation], tuple[list[Candidate], str]]


def baseline_decision(config: Config) -> Decision:
    """Round 0: train the baseline."""
    return Decision(BASELINE, Finding("recipe_baseline"), (Candidate(config, "the baseline"),))


def decide(situation: Situation) -> Decision:
    """The next step of the recipe for ``situation``: stop when the diagnosis says so (low
    bias and low variance, and no reference model generalizing clearly better), else the
    first of the steps it advises (:data:`STEPS`, bias first; a diverged run tries lower
    learning rates first) that still has an untried variant of the best model, saying why
    it passed over the others. A good verdict whose bias is not shown to be avoidable
    (advice ``better_features``) stops only once the :data:`PROBES` were tried around it."""
    diagnosis = situation.diagnosis
    done = diagnosis.verdict == GOOD and "stop" in diagnosis.actions
    if done and "better_features" not in diagnosis.actions:
        return Decision("stop", _why("recipe_done", diagnosis))
    skipped: list[str] = []
    for action in plan(situation):
        candidates, note = STEPS[action](situation)
        fresh = _untried(candidates, situation)
        if fresh:
            return Decision(action, _reason(action, situation), tuple(fresh), tuple(skipped))
        skipped.append(f"{action}: {note}")
    if done:
        return Decision("stop", _why("recipe_done", diagnosis), skipped=tuple(skipped))
    if diagnosis.diverged:
        return Decision("stop", _why("recipe_diverged_stop", diagnosis,
                                     lowest_rate=LEARNING_RATES[0]), skipped=tuple(skipped))
    if "match_training_data" in diagnosis.actions:  # advice only: the data is the user's
        return Decision("stop", _why("recipe_mismatch", diagnosis), skipped=tuple(skipped))
    return Decision("stop", _why("recipe_exhausted", diagnosis), skipped=tuple(skipped))


def decide_ranked(situations: Sequence[Situation]) -> Decision:
    """:func:`decide` for the best model (``situations[0]``; the others follow in the dev
    set's order). When every step for its diagnosis was tried around it while bias or
    variance is still high (or its training diverged), the recipe goes on around the next
    best model that has a step left, and says so; it stops only when none has."""
    first = decide(situations[0])
    if not first.stops or situations[0].diagnosis.verdict == GOOD:
        return first
    for runner_up in situations[1:]:
        decision = decide(runner_up)
        if decision.stops:
            continue
        model = runner_up.best
        why = Finding("recipe_next_best", {
            **decision.why.values, "then": decision.why.code,
            "config": model.config.describe(), "model_dev_error": model.dev_error or 0.0})
        return replace(decision, parent=model.key, skipped=first.skipped + decision.skipped,
                       why=why)
    return first


def plan(situation: Situation) -> list[str]:
    """The steps to consider, in order: the diagnosis's advice with "another optimizer
    setting" after "train longer"; "train longer" first when the best model used all its
    epochs (its dev cost was still falling); the :data:`PROBES` right before "better
    features" (after any variance step) when the bias is not shown to be avoidable."""
    actions: list[str] = []
    for action in situation.diagnosis.actions:
        actions += ["train_longer", "better_optimizer"] if action == "train_longer" else [action]
    if situation.diagnosis.high_bias and situation.best.stop_reason == "max_epochs":
        actions.remove("train_longer")
        actions.insert(0, "train_longer")
    if "better_features" in actions:
        at = actions.index("better_features")
        actions[at:at] = [step for step in PROBES if step not in actions]
    return [action for action in actions if action in STEPS]


def _untried(candidates: list[Candidate], situation: Situation) -> list[Candidate]:
    """Candidates not trained yet (and not twice in one round), at most ``per_round``."""
    fresh: list[Candidate] = []
    keys = set(situation.tried)
    for candidate in candidates:
        key = candidate.config.key(situation.seed)
        if key not in keys:
            keys.add(key)
            fresh.append(candidate)
    return fresh[: situation.per_round]


# --- the steps: each gives candidates around the best model, and a note for when none is new --


def bigger_network(situation: Situation) -> tuple[list[Candidate], str]:
    config = situation.best.config
    candidates = []
    wider = tuple(min(2 * width, MAX_WIDTH) for width in config.hidden)
    if wider != config.hidden:
        candidates.append(Candidate(config.replace(hidden=wider),
                                    f"wider: {_widths(config.hidden)} → {_widths(wider)} units"))
    if len(config.hidden) < MAX_DEPTH:
        deeper = (*config.hidden, config.hidden[-1])
        candidates.append(Candidate(config.replace(hidden=deeper), f"deeper: "
                                    f"{len(config.hidden)} → {len(deeper)} hidden layers"))
    if wider != config.hidden and len(config.hidden) < MAX_DEPTH:
        both = (*wider, wider[-1])
        candidates.append(Candidate(config.replace(hidden=both), f"wider and deeper: "
                                    f"{_widths(config.hidden)} → {_widths(both)}"))
    return candidates, (f"the wider and deeper networks around the best one were tried (the "
                        f"search stops at {MAX_DEPTH} layers of {MAX_WIDTH} units)")


def train_longer(situation: Situation) -> tuple[list[Candidate], str]:
    """The best model trained longer: one candidate, the longer of 2× and 4× its epochs and
    early-stopping patience that the search's limits allow. The epoch limit does not change
    the training up to it, so a shorter candidate would be the first epochs of this one, a
    model it passes through (early stopping keeps its epoch of lowest dev cost): a trial
    spent to learn nothing more. None when it would train the best model again, epoch for
    epoch: early stopping ended that before its epoch limit and the patience cannot grow."""
    best = situation.best
    config = best.config
    most = sample.most_epochs(config)
    # at the limit the longer of the two is the same training; on a sample, more patience
    # alone passes no limit
    previous = config.epochs if config.rows is not None else None
    candidates = []
    for factor in (2, 4):
        epochs = min(factor * config.epochs, most)
        patience = min(factor * config.patience, MAX_PATIENCE)
        if (epochs, patience) != (config.epochs, config.patience) and epochs != previous:
            previous = epochs
            candidates.append(Candidate(
                config.replace(epochs=epochs, patience=patience),
                f"train longer: at most {config.epochs} → {epochs} epochs, early-stopping "
                f"patience {config.patience} → {patience}"))
    longest = candidates[-1:]
    if longest and best.stop_reason == "patience" and \
            longest[0].config.patience <= config.patience:
        return [], (f"early stopping ended the best model's training before its "
                    f"{config.epochs} epochs, and its patience ({config.patience} epochs) "
                    f"cannot grow (the search's longest: {MAX_PATIENCE}): more epochs would "
                    "train the same model")
    limit = "" if config.rows is None else (
        f"; a trial on a sample sees at most {sample.MOST_EXAMPLES:,} examples, {most} epochs "
        f"of {config.rows:,} rows: the final training on every row goes further")
    return longest, ("training longer than this was tried (or is past the search's "
                     f"limits){limit}")


def better_optimizer(situation: Situation) -> tuple[list[Candidate], str]:
    config = situation.best.config
    candidates = []
    if config.optimizer != "adam":
        candidates.append(Candidate(config.replace(optimizer="adam"),
                                    f"optimizer {config.optimizer} → adam"))
    low, high = LEARNING_RATES
    for factor in (3.0, 1 / 3):
        rate = round_sig(config.learning_rate * factor)
        if low <= rate <= high:
            candidates.append(Candidate(config.replace(learning_rate=rate),
                                        f"learning rate {config.learning_rate:g} → {rate:g}"))
    return candidates, "the learning rates around the best one were tried"


def lower_learning_rate(situation: Situation) -> tuple[list[Candidate], str]:
    config = situation.best.config
    rates = sorted({round_sig(config.learning_rate / factor) for factor in DIVERGED_FACTORS
                    if config.learning_rate / factor >= LEARNING_RATES[0]}, reverse=True)
    candidates = [Candidate(config.replace(learning_rate=rate),
                            f"learning rate {config.learning_rate:g} → {rate:g}")
                  for rate in rates]
    return candidates, (f"the learning rates below the best one were tried (the search stops "
                        f"at {LEARNING_RATES[0]:g})")


def more_data(situation: Situation) -> tuple[list[Candidate], str]:
    config = situation.best.config
    if config.rows is not None and situation.n_train is not None:
        return larger_sample(config, situation.n_train)
    if not situation.learning_curve:
        return [], "no learning curve in this run (learning_curve=False)"
    if situation.learning_curve_done:
        return [], "the learning curve was measured once already (see its recommendation)"
    return [Candidate(config.replace(train_fraction=fraction),
                      f"learning curve: the best model on {fraction:.0%} of the training set")
            for fraction in LEARNING_CURVE_FRACTIONS], ""


def larger_sample(config: Config, n_train: int) -> tuple[list[Candidate], str]:
    """More data for a model trained on a sample: the same config on a larger one
    (:func:`.sample.grown`)."""
    larger = sample.grown(config, n_train)
    if larger is None:
        return [], (f"the sample is as large as a trial's gets ({config.rows:,} rows); the "
                    f"chosen configuration trains on all {n_train:,} at the end")
    rows = n_train if larger.rows is None else larger.rows
    return [Candidate(larger, f"more data: a sample of {config.rows:,} → {rows:,} training "
                              f"rows, ≤{config.epochs} → ≤{larger.epochs} epochs (as many "
                              "examples)")], \
        f"the best configuration on {rows:,} rows was tried"


def augment(situation: Situation) -> tuple[list[Candidate], str]:
    config = situation.best.config
    if situation.image_shape is None:
        return [], "not image data (no image_shape), so no augmentation"
    if situation.augment == ():
        return [], "augmentation is turned off (augment = false)"
    if config.augment:
        return [], "the best model already trains on augmented images"
    names = situation.augment or defaults(situation.image_shape)
    change = f"augmentation ({', '.join(names)}) of the training images"
    patience = min(2 * config.patience, MAX_PATIENCE)
    return [Candidate(config.replace(augment=True), change),
            Candidate(config.replace(augment=True, patience=patience),
                      f"{change}, with early-stopping patience {config.patience} → {patience} "
                      "(augmented data takes longer to fit)")], ""


def regularize_l2(situation: Situation) -> tuple[list[Candidate], str]:
    config = situation.best.config
    grid = L2_GRID if config.l2 == 0 else (round_sig(config.l2 * 3), round_sig(config.l2 / 3))
    return [Candidate(config.replace(l2=value), f"L2: λ {config.l2:g} → {value:g}")
            for value in grid], "the λ values around the best one were tried"


def dropout(situation: Situation) -> tuple[list[Candidate], str]:
    config = situation.best.config
    keep = config.keep_prob
    values = KEEP_PROBS if keep == 1 else (round(keep - 0.1, 2), round(keep + 0.1, 2))
    candidates = [Candidate(config.replace(keep_prob=value),
                            f"dropout: keep_prob {keep:g} → {value:g}")
                  for value in values if 0.3 <= value < 1]
    return candidates, "the keep_prob values around the best one were tried"


def simpler_model(situation: Situation) -> tuple[list[Candidate], str]:
    """A reference model generalizes better: the network narrower (each width halved, not
    below :data:`MIN_WIDTH`) and shallower (its last hidden layer dropped)."""
    config = situation.best.config
    candidates = []
    narrower = tuple(min(width, max(width // 2, MIN_WIDTH)) for width in config.hidden)
    if narrower != config.hidden:
        candidates.append(Candidate(config.replace(hidden=narrower), f"narrower: "
                                    f"{_widths(config.hidden)} → {_widths(narrower)} units"))
    if len(config.hidden) > 1:
        shallower = config.hidden[:-1]
        candidates.append(Candidate(config.replace(hidden=shallower), f"shallower: "
                                    f"{len(config.hidden)} → {len(shallower)} hidden layers"))
    return candidates, (f"the narrower and shallower networks around the best one were tried "
                        f"(the search stops at one hidden layer of {MIN_WIDTH} units)")


def better_features(situation: Situation) -> tuple[list[Candidate], str]:
    return [], ("better features (or a known Bayes error) would tell whether the bias left is "
                "avoidable; no reference model did better, and features are outside this "
                "search (the bias steps around the best model test it first)")


def other_architecture(situation: Situation) -> tuple[list[Candidate], str]:
    return [], ("another architecture (a CNN for images, an RNN for sequences) is outside "
                "this search of fully connected networks: worth trying yourself")


STEPS: dict[str, Step] = {step.__name__: step for step in (
    lower_learning_rate, bigger_network, train_longer, better_optimizer, simpler_model,
    more_data, augment, regularize_l2, dropout, better_features, other_architecture)}


def _reason(action: str, situation: Situation) -> Finding:
    """Why ``action`` now: the diagnosis in numbers, then the step's rationale."""
    best = situation.best
    used_all = action == "train_longer" and best.stop_reason == "max_epochs"
    sampled = action == "more_data" and best.config.rows is not None
    probe = action in PROBES and "better_features" in situation.diagnosis.actions
    suffix = ":sample" if sampled else ":probe" if probe else ""
    return _why(f"recipe_{action}{suffix}", situation.diagnosis,
                epochs=best.config.epochs if used_all else None,
                regularized=situation.diagnosis.high_bias and best.config.regularized)


def _why(code: str, diagnosis: Diagnosis, **values: Any) -> Finding:
    """A reason as data: the diagnosis's numbers (its yardstick's best reference named,
    when bias was read against one) and the code's own ``values``."""
    yardstick = diagnosis.yardstick
    reference = None if yardstick is None else f"{yardstick.best.kind}: {yardstick.best.model}"
    return Finding(code, {"verdict": diagnosis.verdict, "train": diagnosis.train_error,
                          "dev": diagnosis.dev_error, "bayes": diagnosis.bayes_error,
                          "bias": diagnosis.avoidable_bias, "variance": diagnosis.variance,
                          "mismatch": diagnosis.data_mismatch,
                          "diverged": diagnosis.diverged, "regression": diagnosis.regression,
                          "reference": reference, **values})


def _widths(hidden: tuple[int, ...]) -> str:
    return "-".join(map(str, hidden))


def round_sig(value: float, digits: int = 2) -> float:
    """``value`` rounded to ``digits`` significant digits (0.0030000000000000005 → 0.003),
    so configs reached by different paths compare equal."""
    if value == 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))
