"""The basic recipe as a decision: from the best model's diagnosis to the next candidates.

The notes' loop, one round at a time::

    high bias?      → a bigger network (wider, deeper), train longer, another optimizer
                      setting (the learning rate)
    high variance?  → more data (a learning curve says whether it would help: a tune cannot
                      collect data, so this is a recommendation), augmentation (image data),
                      L2 regularization (a λ grid, then refined), dropout (keep_prob)
    neither         → stop
    diverged?       → a lower learning rate first (no bias/variance reading: the errors of a
                      run that diverged say nothing about either); when no lower rate helps,
                      stop and name the suspects outside the search (the data's scale, the
                      initialization, the loss)

:func:`decide` walks the steps the diagnosis advises, in its order (bias first when both are
high), and takes the first step that still has an untried variant of the best model; steps
with nothing left to try are passed over, and each says why. So a step is repeated while it
keeps improving the best model (a wider network that wins makes "wider again" a new
candidate) and the recipe moves on as soon as it stops helping. When nothing is left, it
stops and says so. When nothing is left around the best model while bias or variance is
still high, it goes on around the next best model (:func:`decide_ranked`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..diagnostics import Diagnosis, show_error
from ..diagnostics.bias_variance import GOOD
from .config import MAX_DEPTH, MAX_EPOCHS, MAX_WIDTH, Config, round_sig
from .trial import Trial

BASELINE = "baseline"
BASELINE_REASON = ("a sound baseline: inputs standardized with the training set's statistics, "
                   "He initialization for ReLU, Adam, a modest network, early stopping on the "
                   "dev cost")
LEARNING_CURVE_FRACTIONS = (0.25, 0.5)
L2_GRID = (1.0, 0.1, 10.0)  # the notes' λ (cost term λ/2m Σ||W||²), most likely first
KEEP_PROBS = (0.8, 0.6)
MAX_PATIENCE = 100
LEARNING_RATES = (1e-5, 0.1)
DIVERGED_FACTORS = (10, 100, 1000)  # a run that diverged: a learning rate this many times lower
# Why the recipe stops when a lower learning rate did not help a run that diverged: the other
# suspects of a divergence (the advice's normalize_inputs, better_init, clip_gradients) are
# outside this search, which always standardizes the inputs and initializes with He.
DIVERGED_STOP = (
    f"and every lower learning rate the search allows (down to {LEARNING_RATES[0]:g}) was "
    "tried around it without a better model: the learning rate could not make it converge. The "
    "search already standardizes the inputs with the training set's statistics and "
    "initializes with He, so suspect the data's scale (features or a target with extreme "
    "values that standardizing does not tame), the initialization (if the network is set up "
    "outside this search) or the loss (labels it does not expect); clipping the gradients "
    "keeps one large step from blowing up")


@dataclass(frozen=True)
class Candidate:
    """A config to train, and what changed from the best model (``"wider: 64 → 128"``)."""

    config: Config
    change: str


@dataclass(frozen=True)
class Decision:
    """One step of the recipe: ``action`` (one of :data:`deeprecipe.findings.ACTIONS`, or
    ``"baseline"``), ``reason`` (for people), the ``candidates`` to train, the steps
    ``skipped`` on the way, each with why, and ``parent``: the key of the model the
    candidates vary (``None``: the best model)."""

    action: str
    reason: str
    candidates: tuple[Candidate, ...] = ()
    skipped: tuple[str, ...] = ()
    parent: str | None = None

    @property
    def stops(self) -> bool:
        return self.action == "stop"


@dataclass(frozen=True)
class Situation:
    """What the recipe knows when it decides: the ``best`` trial so far and its
    ``diagnosis``, every trial key ``tried``, and the run's options."""

    best: Trial
    diagnosis: Diagnosis
    tried: frozenset[str]
    seed: int
    image_shape: tuple[int, ...] | None = None
    learning_curve: bool = True
    learning_curve_done: bool = False
    per_round: int = 3


Step = Callable[[Situation], tuple[list[Candidate], str]]


def baseline_decision(config: Config) -> Decision:
    """Round 0: train the baseline."""
    return Decision(BASELINE, BASELINE_REASON, (Candidate(config, "the baseline"),))


def decide(situation: Situation) -> Decision:
    """The next step of the recipe for ``situation`` (see the module's docstring)."""
    diagnosis = situation.diagnosis
    if diagnosis.verdict == GOOD:
        return Decision("stop", f"{diagnosis.verdict} ({_errors(diagnosis)}): the recipe "
                        "stops here; the test set measures the chosen model")
    skipped: list[str] = []
    for action in plan(situation):
        candidates, note = STEPS[action](situation)
        fresh = _untried(candidates, situation)
        if fresh:
            return Decision(action, _reason(action, situation), tuple(fresh), tuple(skipped))
        skipped.append(f"{action}: {note}")
    if diagnosis.diverged:
        return Decision("stop", f"diverged ({_errors(diagnosis)}) {DIVERGED_STOP}",
                        skipped=tuple(skipped))
    return Decision(
        "stop", f"{diagnosis.verdict} ({_errors(diagnosis)}), but every step the recipe "
        "has for it was tried around the best model; what is left is outside this search "
        "(another architecture, more data)", skipped=tuple(skipped))


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
        return replace(decision, parent=model.key, skipped=first.skipped + decision.skipped,
                       reason=f"every step of the recipe was tried around the best model, so "
                       f"it goes on around the next best ({model.config.describe()}, dev "
                       f"error {model.dev_error or 0.0:.2%}): {decision.reason}")
    return first


def plan(situation: Situation) -> list[str]:
    """The steps to consider, in order: the diagnosis's advice with "another optimizer
    setting" after "train longer"; "train longer" first when the best model used all its
    epochs (its dev cost was still falling)."""
    actions: list[str] = []
    for action in situation.diagnosis.actions:
        actions += ["train_longer", "better_optimizer"] if action == "train_longer" else [action]
    if situation.diagnosis.high_bias and situation.best.stop_reason == "max_epochs":
        actions.remove("train_longer")
        actions.insert(0, "train_longer")
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
    config = situation.best.config
    candidates = []
    for factor in (2, 4):
        epochs = min(factor * config.epochs, MAX_EPOCHS)
        patience = min(factor * config.patience, MAX_PATIENCE)
        if (epochs, patience) != (config.epochs, config.patience):
            candidates.append(Candidate(
                config.replace(epochs=epochs, patience=patience),
                f"train longer: at most {config.epochs} → {epochs} epochs, early-stopping "
                f"patience {config.patience} → {patience}"))
    return candidates, "training longer than this was tried (or is past the search's limits)"


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
    return [Candidate(config.replace(learning_rate=rate),
                      f"learning rate {config.learning_rate:g} → {rate:g}") for rate in rates], (
        f"the learning rates below the best one were tried (the search stops at "
        f"{LEARNING_RATES[0]:g})")


def more_data(situation: Situation) -> tuple[list[Candidate], str]:
    if not situation.learning_curve:
        return [], "no learning curve in this run (learning_curve=False)"
    if situation.learning_curve_done:
        return [], "the learning curve was measured once already (see its recommendation)"
    config = situation.best.config
    return [Candidate(config.replace(train_fraction=fraction),
                      f"learning curve: the best model on {fraction:.0%} of the training set")
            for fraction in LEARNING_CURVE_FRACTIONS], ""


def augment(situation: Situation) -> tuple[list[Candidate], str]:
    config = situation.best.config
    if situation.image_shape is None:
        return [], "not image data (no image_shape), so no augmentation"
    if config.augment:
        return [], "the best model already trains on augmented images"
    change = "augmentation: small rotations, shifts and zooms of the training images"
    patience = min(2 * config.patience, MAX_PATIENCE)
    return [Candidate(config.replace(augment=True), change),
            Candidate(config.replace(augment=True, patience=patience),
                      f"{change}, with early-stopping patience {config.patience} → {patience} "
                      "(augmented data takes longer to fit)")], ""


def regularize_l2(situation: Situation) -> tuple[list[Candidate], str]:
    config = situation.best.config
    if config.l2 == 0:
        grid = list(L2_GRID)
    else:
        grid = [round_sig(config.l2 * 3), round_sig(config.l2 / 3)]
    candidates = [Candidate(config.replace(l2=value), f"L2: λ {config.l2:g} → {value:g}")
                  for value in grid]
    return candidates, "the λ values around the best one were tried"


def dropout(situation: Situation) -> tuple[list[Candidate], str]:
    config = situation.best.config
    if config.keep_prob == 1:
        values = list(KEEP_PROBS)
    else:
        values = [round(config.keep_prob - 0.1, 2), round(config.keep_prob + 0.1, 2)]
    candidates = [Candidate(config.replace(keep_prob=value),
                            f"dropout: keep_prob {config.keep_prob:g} → {value:g}")
                  for value in values if 0.3 <= value < 1]
    return candidates, "the keep_prob values around the best one were tried"


def other_architecture(situation: Situation) -> tuple[list[Candidate], str]:
    return [], ("another architecture (a CNN for images, an RNN for sequences) is outside "
                "this search of fully connected networks: worth trying yourself")


STEPS: dict[str, Step] = {
    "lower_learning_rate": lower_learning_rate,
    "bigger_network": bigger_network,
    "train_longer": train_longer,
    "better_optimizer": better_optimizer,
    "more_data": more_data,
    "augment": augment,
    "regularize_l2": regularize_l2,
    "dropout": dropout,
    "other_architecture": other_architecture,
}

WHY = {
    "lower_learning_rate": "training diverged (its cost grew by orders of magnitude): the "
                           "learning rate is the first suspect",
    "bigger_network": "a bigger network fits the training set better, and regularized well "
                      "it does not hurt variance much (the notes' first step against bias)",
    "train_longer": "training longer lets the network fit the training set",
    "better_optimizer": "another optimizer setting: a different learning rate may reach a "
                        "lower training error",
    "more_data": "more data is the surest cure for variance, but a tune cannot collect it: a "
                 "learning curve of the best model says whether getting more would help",
    "augment": "augmented images are more training data for free",
    "regularize_l2": "L2 regularization keeps the weights small and the function simpler",
    "dropout": "dropout keeps units from co-adapting, a regularizer like L2",
}


def _reason(action: str, situation: Situation) -> str:
    """Why ``action`` now: the diagnosis in numbers, then the step's rationale."""
    diagnosis = situation.diagnosis
    text = f"{diagnosis.verdict} ({_errors(diagnosis)}): {WHY[action]}"
    if action == "train_longer" and situation.best.stop_reason == "max_epochs":
        text += (f"; the best model used all its {situation.best.config.epochs} epochs and its "
                 "dev cost was still falling")
    if diagnosis.high_bias and situation.best.config.regularized:
        text += "; note that too much regularization also causes high bias"
    return text


def _errors(diagnosis: Diagnosis) -> str:
    def show(value: float) -> str:
        return show_error(value, diagnosis.regression)

    errors = (f"train error {show(diagnosis.train_error)}, dev error "
              f"{show(diagnosis.dev_error)}, Bayes error {show(diagnosis.bayes_error)}")
    if diagnosis.diverged:  # no bias/variance reading
        return errors
    return (f"{errors}: avoidable bias {show(diagnosis.avoidable_bias)}, variance "
            f"{show(diagnosis.variance)}")


def _widths(hidden: tuple[int, ...]) -> str:
    return "-".join(map(str, hidden))
