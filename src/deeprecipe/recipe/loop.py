"""``tune``: the notes' highly iterative process, run by its reasons."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import describe, fail, positive_int, real
from ..callbacks import Callback, CallbackList
from ..data import Splits
from ..data.augment import chosen
from ..data.encode import Encoder
from ..data.normalize import CHUNK_ROWS
from ..diagnostics import Diagnosis, LearningCurve, Yardstick, diagnose, fit_references, show_error
from ..diagnostics.bias_variance import AUTO
from ..findings import Finding, jsonable_fields
from ..persistence import save
from ..pipeline import Prepared
from ..runconfig import OPTIONS, BadValue, ConfigError, check
from . import sample
from .config import Config
from .policy import FINAL, Candidate, Decision, Situation, baseline_decision, decide_ranked
from .result import Round, TuneResult, rebuild
from .runners import DaskRunner, LocalRunner, Runner
from .store import DATABASE, TrialStore
from .trial import Trial, TrialTask, prepare, train_trial

logger = logging.getLogger("deeprecipe.recipe")

MODEL_FOLDER = "model"
# a gap is "low" below one point (diagnose: two): on digits that roughly halves the test
# error the recipe reaches, for more trials (benchmarks/recipe_vs_optuna.py)
TUNE_THRESHOLD = 0.01
YARDSTICK = "yardstick"  # the settings' key (and the callbacks' step) of the yardstick


@dataclass(frozen=True)
class Options:
    """The run's settings, checked here (``image_shape`` by :func:`.trial.prepare`); see
    :func:`tune` for their meaning."""

    budget: int
    bayes_error: float | str
    seed: int
    baseline: Config
    image_shape: tuple[int, ...] | None
    per_round: int
    learning_curve: bool
    max_attempts: int
    bias_threshold: float
    variance_threshold: float
    task: str | None = None
    n_train: int = 0
    augment: bool | tuple[str, ...] = True

    def __post_init__(self) -> None:
        where = "tune"
        if not isinstance(self.baseline, Config):
            raise fail(where, "baseline", "a deeprecipe.recipe.Config or None", self.baseline,
                       error=TypeError)
        held = sample.shipped_rows(self.n_train)
        # on big data the baseline trains on a sample
        object.__setattr__(self, "baseline", sample.baseline(self.baseline, self.n_train))
        if self.baseline.rows is not None and self.baseline.rows > held:
            raise fail(where, "baseline", f"a Config with rows at most {held:,} (the training "
                       "rows the workers hold)", self.baseline.rows)
        if not isinstance(self.learning_curve, bool):
            raise fail(where, "learning_curve", "a bool", self.learning_curve, error=TypeError)
        checked = {"budget": positive_int(where, "budget", self.budget),
                   "bayes_error": check_bayes_error(where, self.bayes_error),
                   "seed": check(where, "seed", self.seed),
                   "augment": check(where, "augment", self.augment),
                   "per_round": positive_int(where, "per_round", self.per_round),
                   "max_attempts": positive_int(where, "max_attempts", self.max_attempts),
                   "bias_threshold": real(where, "bias_threshold", self.bias_threshold),
                   "variance_threshold": real(where, "variance_threshold",
                                              self.variance_threshold)}
        for key, value in checked.items():
            object.__setattr__(self, key, value)

    def settings(self, digest: str) -> dict[str, Any]:
        """What a resumed run must share with the original (all but the budget and the
        attempts; the data by its fingerprint), as JSON; ``augment`` when it is not the
        default (the settings of a tune from before the option read the same)."""
        default = ("augment",) if self.augment is True else ()
        return jsonable_fields(self, "budget", "max_attempts", "n_train", *default,
                               fingerprint=digest[:32])


def tune(
    splits: Any,
    budget: int = 30,
    bayes_error: float | str = AUTO,
    client: Any = None,
    workers: int = 2,
    seed: int = 0,
    folder: str | Path | None = None,
    resume: bool = False,
    *,
    image_shape: tuple[int, ...] | None = None,
    task: str | None = None,
    baseline: Config | None = None,
    per_round: int = 3,
    learning_curve: bool = True,
    max_attempts: int = 2,
    bias_threshold: float = TUNE_THRESHOLD,
    variance_threshold: float = TUNE_THRESHOLD,
    callbacks: Sequence[Callback] = (),
    in_place: bool = False,
    classes: Sequence[Any] | None = None,
    augment: bool | Sequence[str] = True,
    encoder: Encoder | None = None,
) -> TuneResult:
    """Run the basic recipe on ``splits`` for at most ``budget`` trials.

    Round 0 trains the baseline; each later round diagnoses the best model so far and trains
    the recipe's next candidates (:func:`decide_ranked`) in parallel, until bias and variance
    are low, no step is left or the budget is spent.

    ``splits`` comes from :func:`deeprecipe.data.split` (raw inputs: they are standardized
    here with the training set's statistics). ``bayes_error`` is the notes' Bayes
    (human-level) error, a fraction (for a regression, of the target's variance), or
    ``"auto"``: the yardstick (:func:`~deeprecipe.diagnostics.yardstick.fit_references`,
    fitted once on the training and dev parts the trials use, before the baseline; a
    resumed run reads it back), an error known to be achievable, so bias counts as high
    only above it and the recipe stops when the best network reaches it with low variance
    (:attr:`TuneResult.yardstick`). Trials run in ``workers`` local processes, or on a
    Dask cluster when ``client`` is a ``distributed.Client`` or a scheduler address
    (``workers`` is then the cluster's business). ``seed`` seeds every trial.

    ``folder`` is the run folder: ``trials.sqlite`` records every trial and round, and the
    chosen model is saved in ``folder/model``. ``folder=None`` keeps the record in memory.
    ``resume=True`` continues the interrupted (or finished) run in ``folder``: finished
    trials are read back, not trained again; the settings must be the run's own, except
    ``budget``, which may grow.

    On big data (a training part above :data:`.sample.SAMPLE_ABOVE`, 200,000 rows) the
    trials train on a seeded sample (:mod:`.sample`: 100,000 rows, grown 4× up to 400,000
    when the best model's variance is high; at most 10,000,000 examples a trial), so a
    trial takes seconds to a minute or two and the workers never receive the whole
    training part; the chosen configuration then trains once more on
    every training row, here (a ``"final"`` round, outside the budget), and that model is
    the result. Each trial records its rows and why (:attr:`Trial.sample`). A ``baseline``
    with ``rows`` set keeps its own sample.

    ``image_shape`` ``(h, w[, c])`` marks image data (augmentation becomes a step of the
    recipe); ``augment`` is what that step does, as ``deeprecipe run``'s option: ``True``
    the images' :func:`~deeprecipe.data.augment.defaults`, transform names of
    :data:`~deeprecipe.data.augment.TRANSFORMS` (``["flip", "rotate"]``), or ``False`` (the
    recipe never augments). ``task`` (``"classification"`` or ``"regression"``) says what
    the targets are; ``None`` reads it from them (text, integers and few distinct whole
    numbers are classes). A regression's target is standardized with the training rows'
    statistics: its errors are in units of the target's variance, and the saved model
    predicts the target itself. ``baseline`` replaces the default starting :class:`Config`.
    ``per_round`` caps the candidates of a round; ``learning_curve=False`` skips the
    learning curve of the "more data" step. A trial whose worker dies is run again, up to
    ``max_attempts`` runs, then marked failed. ``bias_threshold`` and ``variance_threshold``
    are :func:`~deeprecipe.diagnose`'s (0.01 here: :data:`TUNE_THRESHOLD`). ``callbacks``
    (:class:`~deeprecipe.callbacks.Callback`) hear of the ``"tune"`` step, each trial and
    each round as it finishes, and of the final training's epochs. ``in_place=True``
    standardizes the splits' inputs where they are, overwriting the caller's array (what
    ``deeprecipe tune`` does with the data it loaded: the run holds it once). ``classes``
    names the labels of targets that are class codes ``0 … k−1`` (``deeprecipe tune`` passes
    the file's): the result and the saved model say them. ``encoder`` (a table's
    :class:`~deeprecipe.data.encode.Encoder`, which made ``splits``' inputs) is saved with
    the model, so ``deeprecipe predict`` reads raw rows. The test error is measured once, on
    the chosen model.

    The worker processes import the main script again: a script that calls ``tune`` keeps
    its work under ``if __name__ == "__main__":``.
    """
    # what multiprocessing's own check reads: a new worker still importing the main script
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(
            "tune: called while a worker process imported your script (its first call "
            "started the workers, which import the script again). help: put the call under "
            "if __name__ == \"__main__\":")
    start = time.perf_counter()
    # the data as given (before an in-place standardization) that a resume must match;
    # what is not a split, prepare refuses
    names = None
    if isinstance(splits, Splits) and classes is not None:
        names = _labels(classes, splits.train.source_y)
    digest = data_fingerprint(splits, names) if isinstance(splits, Splits) else ""
    augmenting: bool | tuple[str, ...] = check("tune", "augment", augment)  # before any work
    ready, data = prepare(splits, image_shape, task, seed, in_place=in_place)
    data = replace(data, augment=chosen(augmenting, data.image_shape) or None)
    if names is not None and ready.classes is not None:
        ready.classes = names[ready.classes]
    options = Options(budget, bayes_error, seed, Config() if baseline is None else baseline,
                      data.image_shape, per_round, learning_curve, max_attempts,
                      bias_threshold, variance_threshold, task, len(ready.learned.train),
                      augmenting)
    workers = positive_int("tune", "workers", workers)
    path = _run_folder(folder, resume)
    settings = options.settings(digest)
    with TrialStore(path) as store:
        if resume:
            _check_settings(store, settings)
        store.write_settings({**settings, "budget": options.budget})
        runner = LocalRunner(data, workers) if client is None else DaskRunner(data, client)
        with runner:
            loop = Loop(store, runner, ready, options, CallbackList(callbacks))
            loop.encoder = encoder
            loop.run()
        loop.train_final()
        return loop.finish(path, time.perf_counter() - start)


class Loop:
    """The rounds of one tune, their trials and the record (see :func:`tune`); ``ready``
    is the data :func:`.trial.prepare` made ready, the test part with it."""

    def __init__(self, store: TrialStore, runner: Runner, ready: Prepared, options: Options,
                 callbacks: CallbackList | None = None) -> None:
        self.store, self.runner, self.ready, self.options = store, runner, ready, options
        self.regression = ready.task == "regression"
        self.callbacks = callbacks or CallbackList()
        self.stored = store.trials()  # from an earlier, interrupted run of this folder
        self.trials: dict[str, Trial] = {}
        self.rounds: list[Round] = []
        self.losses: Counter[str] = Counter()  # a trial's lost workers, in this process
        self.recommendations: list[Finding] = []
        self.learning_curve_done = False
        self.next_step: Decision = baseline_decision(options.baseline)
        self.final: Trial | None = None  # the chosen configuration trained on all rows
        self.yardstick: Yardstick | None = None  # bayes_error "auto": fitted by bayes()
        self.encoder: Encoder | None = None  # a table's encoding, saved with the model

    # --- the rounds -----------------------------------------------------------------------

    def run(self) -> None:
        """Play rounds until the recipe stops or the budget is spent."""
        self.bayes()  # the yardstick first, when there is one to fit
        self.callbacks.on_step_begin("tune", "tuning", self.options.budget,
                                     self.store.count("done", "failed"))
        start = time.perf_counter()
        decision, diagnosis = self.next_step, None
        while not decision.stops:
            left = self.options.budget - len(self.trials)
            if left <= 0:
                break
            self.play(diagnosis, decision, decision.candidates[:left])
            situations = [self.situation(trial) for trial in self.ranked()]
            decision = decide_ranked(situations)
            # the diagnosis the decision read: the best model's, or the runner-up's
            diagnosis = next(s.diagnosis for s in situations
                             if decision.parent in (None, s.best.key))
        self.next_step = decision
        self.callbacks.on_step_end("tune", time.perf_counter() - start,
                                   f"{len(self.trials)} trials")

    def situation(self, trial: Trial) -> Situation:
        """What the recipe knows, seen from ``trial`` (the best model, or a runner-up)."""
        return Situation(
            trial, trial.diagnosis or self.diagnose(trial), frozenset(self.trials),
            self.options.seed, self.options.image_shape, self.options.learning_curve,
            self.learning_curve_done, self.options.per_round, self.options.n_train,
            chosen(self.options.augment, self.options.image_shape),
        )

    def play(self, diagnosis: Diagnosis | None, decision: Decision,
             candidates: tuple[Candidate, ...]) -> None:
        """One round: record the decision, train its candidates, record the outcome."""
        parent = decision.parent or (self.best().key if self.rounds else None)
        number = len(self.rounds)
        trials = [self.trial(candidate, number, decision, parent) for candidate in candidates]
        trail = Round(number, diagnosis, decision.action, decision.reason, trials,
                      skipped=list(decision.skipped))
        self.store.save_round(trail.to_dict())
        self.execute([trial for trial in trials if trial.status == "running"])
        if decision.action == "more_data":
            trail.recommendation = self.read_learning_curve(trials, parent)
        trail.best_key = self.best().key
        self.store.save_round(trail.to_dict())
        self.rounds.append(trail)
        self.callbacks.on_round_end(trail)

    def trial(self, candidate: Candidate, number: int, decision: Decision,
              parent: str | None) -> Trial:
        """The round's trial for ``candidate``: read back when an earlier run finished it."""
        key = candidate.config.key(self.options.seed)
        stored = self.stored.get(key)
        if stored is not None and stored.status in ("done", "failed"):
            stored.resumed = True
            if stored.done:
                stored.diagnosis = self.diagnose(stored)
            trial = stored
        else:
            parent_rows = None if parent is None else self.trials[parent].config.rows
            why = sample.why(candidate.config.rows, parent_rows, self.options.n_train,
                             final=decision.action == FINAL)
            trial = Trial(key, candidate.config, self.options.seed, number, decision.action,
                          decision.reason, candidate.change, parent, sample=why,
                          attempts=0 if stored is None else stored.attempts)
        self.trials[key] = trial
        return trial

    def execute(self, trials: list[Trial]) -> None:
        """Run ``trials`` in parallel; write each as it finishes. A trial whose worker died
        runs again until it has been lost ``max_attempts`` times, then it is failed."""
        tasks = [TrialTask(trial.key, trial.config, trial.seed, trial.attempts + 1)
                 for trial in trials]
        while tasks:
            for task in tasks:
                self.trials[task.key].attempts = task.attempt
                self.store.started(self.trials[task.key])
            retry = []
            for outcome in self.runner.run(tasks):
                trial = self.trials[outcome.task.key]
                self.losses[trial.key] += outcome.lost
                if outcome.result is not None:
                    trial.absorb(outcome.result)
                    trial.diagnosis = self.diagnose(trial)
                elif outcome.lost and self.losses[trial.key] < self.options.max_attempts:
                    logger.warning("trial %s: running it again (%s)", trial.key, outcome.error)
                    retry.append(replace(outcome.task, attempt=outcome.task.attempt + 1))
                    continue
                else:
                    trial.status, trial.error = "failed", outcome.error
                self.store.finished(trial)
                self.callbacks.on_trial_end(trial)
            tasks = retry

    def read_learning_curve(self, trials: list[Trial], parent: str | None) -> Finding:
        """The "more data" round's reading: the best model at 25%, 50% and 100%, or on its
        sample and the larger one (a tune that grows its sample is not told to get more
        data)."""
        grown = any(trial.config.train_fraction == 1 for trial in trials)
        self.learning_curve_done = self.learning_curve_done or not grown
        points = [trial for trial in trials if trial.done]
        if parent is not None:
            points.append(self.trials[parent])
        points.sort(key=lambda trial: trial.n_train or 0)
        if len(points) < 2:
            return Finding("tune_curve_failed")
        curve = LearningCurve(
            sizes=[int(trial.n_train or 0) for trial in points],
            train_error=[float(trial.train_error or 0.0) for trial in points],
            dev_error=[float(trial.dev_error or 0.0) for trial in points],
            epochs_run=[int(trial.epochs_run or 0) for trial in points],
            n_dev=len(self.ready.learned.dev), regression=self.regression,
        )
        reading = curve.finding(self.options.variance_threshold)
        values = {**reading.values, "reading": reading.code}
        if grown:
            return Finding("tune_sample_curve", values)
        finding = Finding("tune_curve", {**values,
                                         "more_data": reading.code == "curve_more_data"})
        self.recommendations.append(finding)
        return finding

    # --- reading the trials -------------------------------------------------------------

    def best(self) -> Trial:
        """The dev set's choice (:meth:`ranked`'s first)."""
        return self.ranked()[0]

    def ranked(self) -> list[Trial]:
        """The trials the dev set can choose from (done, on the whole training set or
        sample; not the final training), best first: by dev error, then dev cost, then the
        earliest."""
        candidates = [trial for trial in self.trials.values()
                      if trial.selectable and trial.action != FINAL]
        if not candidates:
            failed = next(iter(self.trials.values()))
            raise RuntimeError(f"tune: the baseline trial failed, so there is nothing to "
                               f"improve on: {failed.error}")
        return sorted(candidates, key=Trial.rank)  # stable: ties keep their order

    def bayes(self) -> float | Yardstick:
        """What the diagnoses read bias against: the Bayes error given, or (``"auto"``) the
        yardstick, fitted once on the trials' training and dev parts (the errors' units:
        a regression's standardized target) and recorded in the store, from which a
        resumed run reads it back."""
        if self.options.bayes_error != AUTO:
            return float(self.options.bayes_error)
        if self.yardstick is None:
            recorded = self.store.settings().get(YARDSTICK)
            self.yardstick = self.fit_yardstick() if recorded is None else \
                Yardstick.from_dict(recorded)
        return self.yardstick

    def fit_yardstick(self) -> Yardstick:
        """:func:`~deeprecipe.diagnostics.yardstick.fit_references` on the trials' data,
        said to the callbacks as the ``"yardstick"`` step, and recorded."""
        self.callbacks.on_step_begin(YARDSTICK, "fitting the reference models (the yardstick)")
        start = time.perf_counter()
        learned = self.ready.learned
        if learned.train_dev is None:
            yardstick = fit_references(learned.train, learned.dev, task=self.ready.task,
                                       seed=self.options.seed)
        else:  # two sources: the training distribution's Bayes error, on train-dev
            yardstick = replace(fit_references(learned.train, learned.train_dev,
                                               task=self.ready.task, seed=self.options.seed),
                                measured_on="train-dev")
        self.store.write_settings({YARDSTICK: yardstick.to_dict()})
        self.callbacks.on_step_end(YARDSTICK, time.perf_counter() - start,
                                   yardstick.headline())
        return yardstick

    def diagnose(self, trial: Trial, test_error: float | None = None) -> Diagnosis:
        """The notes' bias/variance reading of a finished trial (``diverged`` if it did),
        against :meth:`bayes`."""
        return diagnose(
            float(trial.train_error or 0.0), float(trial.dev_error or 0.0),
            self.bayes(), test_error=test_error, n_train=trial.n_train,
            n_dev=None if self.regression else len(self.ready.learned.dev),
            bias_threshold=self.options.bias_threshold,
            variance_threshold=self.options.variance_threshold, regression=self.regression,
            diverged=trial.stop_reason == "diverged", train_dev_error=trial.train_dev_error,
            n_train_dev=None if self.regression or self.ready.learned.train_dev is None
            else len(self.ready.learned.train_dev),
        )

    # --- the end ------------------------------------------------------------------------

    def train_final(self) -> None:
        """When the dev set chose a configuration trained on a sample, train it on all the
        training rows, here where the data is, for :func:`.sample.final_epochs` (a resumed
        run reads it back); it becomes the chosen model."""
        best, n_train = self.best(), self.options.n_train
        if best.config.rows is None:
            return
        epochs = sample.final_epochs(best.best_epoch, int(best.epochs_run or 1),
                                     int(best.n_train or 1), n_train, best.config.epochs)
        config = best.config.replace(rows=None, epochs=epochs,
                                     patience=min(best.config.patience, epochs))
        why = Finding("recipe_final", {"parent_rows": best.config.rows, "n_train": n_train,
                                       "epochs": epochs})
        decision = Decision(FINAL, why, (Candidate(config, f"all {n_train:,} training rows, "
                                                           f"{epochs} epoch(s)"),))
        trial = self.trial(decision.candidates[0], len(self.rounds), decision, best.key)
        trail = Round(len(self.rounds), best.diagnosis, FINAL, decision.reason, [trial])
        self.store.save_round(trail.to_dict())
        start = time.perf_counter()
        self.callbacks.on_step_begin(FINAL, f"training the chosen configuration on all "
                                            f"{n_train:,} training rows", epochs)
        if trial.status == "running":
            trial.attempts += 1
            self.store.started(trial)
            task = TrialTask(trial.key, config, trial.seed, trial.attempts)
            trial.absorb(train_trial(task, self.runner.data, self.ready.learned.train,
                                     callbacks=[self.callbacks]))
            trial.diagnosis = self.diagnose(trial)
            self.store.finished(trial)
            self.callbacks.on_trial_end(trial)
        trail.best_key = trial.key
        self.store.save_round(trail.to_dict())
        self.rounds.append(trail)
        self.final = trial
        self.callbacks.on_round_end(trail)
        self.callbacks.on_step_end(FINAL, time.perf_counter() - start,
                                   f"dev error {show_error(trial.dev_error, self.regression)}")

    def finish(self, folder: Path | None, seconds: float) -> TuneResult:
        """Measure the chosen model (the final one, when there is one) on the test set
        (once), build the result, save the model (it predicts a regression's target in its
        own units)."""
        searched, ready = self.best(), self.ready
        best = self.final or searched
        remarks = list(ready.notes)
        if best.dev_error is not None and best.dev_error > (searched.dev_error or 0.0) \
                and best is not searched:
            remarks.append(Finding("tune_final_worse", {
                "final": best.dev_error, "trial": searched.dev_error,
                "regression": self.regression}))
        test_error = self.measure_test(best, remarks)  # in the trials' units
        result = TuneResult(
            best=best, dev_error=float(best.dev_error or 0.0), test_error=test_error,
            diagnosis=self.diagnose(best, test_error), rounds=self.rounds,
            trials=list(self.trials.values()), next_step=self.next_step,
            stop_reason=self.stop_reason(), bayes_error=self.bayes_number(),
            yardstick=self.yardstick,
            budget=self.options.budget, seed=self.options.seed,
            standardizer=ready.standardizer, classes=ready.classes,
            target_scale=ready.target_scale, task=ready.task,
            input_dim=ready.learned.dev.shape[1], n_outputs=ready.n_outputs,
            runner=self.runner.description, folder=folder, seconds=seconds,
            recommendations=self.recommendations, remarks=remarks,
            test_note=Finding("no_test_set" if ready.learned.test is None else "test_unbiased"),
        )
        if folder is not None:
            # the keys deeprecipe run writes too: predict reads "classes" for the labels
            save(result.model(), folder / MODEL_FOLDER, standardizer=ready.standardizer,
                 extra={"task": ready.task, "classes": None if ready.classes is None
                        else ready.classes.tolist(), "tune": {"trial": best.key},
                        "image_shape": None if self.options.image_shape is None
                        else list(self.options.image_shape),
                        "encoder": None if self.encoder is None else self.encoder.to_dict()})
        return result

    def measure_test(self, best: Trial, remarks: list[Finding]) -> float | None:
        """The chosen model's test error: measured once (a resumed run that already
        measured this model reads the number back)."""
        test = self.ready.learned.test
        if test is None:
            return None
        measured = self.store.settings().get("test_measurements", [])
        for entry in measured:
            if entry["trial"] == best.key:
                return float(entry["test_error"])
        if measured:
            remarks.append(Finding("test_reused", {"trial": measured[-1]["trial"]}))
        # the test inputs are standardized already: the model needs no standardizer
        model = rebuild(best, test.shape[1], self.ready.task, self.ready.n_outputs)
        error = float(model.evaluate(test.source_X, test.source_y, rows=test.indices)["error"])
        self.store.write_settings({"test_measurements": [
            *measured, {"trial": best.key, "test_error": error, "at": time.time()}]})
        return error

    def bayes_number(self) -> float:
        """The Bayes error the diagnoses read: the given one, or the yardstick's error."""
        bayes = self.bayes()
        return bayes.error if isinstance(bayes, Yardstick) else bayes

    def stop_reason(self) -> Finding:
        decision = self.next_step
        if decision.stops:
            return decision.why
        return Finding("budget_spent", {**decision.why.values, "step": decision.why.code,
                                        "budget": self.options.budget,
                                        "action": decision.action})


# --- checks -------------------------------------------------------------------------------------


def data_fingerprint(splits: Splits, classes: Sequence[Any] | np.ndarray | None = None) -> str:
    """:func:`~deeprecipe.pipeline.fingerprint` of each part's name, ``X``, ``y`` (the
    labels ``classes`` names, when given: ``y`` holds their codes) and ``indices``, the
    rows hashed :data:`~deeprecipe.data.normalize.CHUNK_ROWS` at a time (the same digest,
    without gathering a big part)."""
    digest = hashlib.sha256()
    labels = None if classes is None else np.asarray(classes)
    for name, part in splits.parts.items():
        digest.update(name.encode())
        for source, names in ((part.source_X, None), (part.source_y, labels)):
            dtype = source.dtype if names is None else names.dtype
            digest.update(f"{dtype.str}{(len(part), *source.shape[1:])}".encode())
            for start in range(0, len(part), CHUNK_ROWS):
                values = source[part.indices[start:start + CHUNK_ROWS]]
                digest.update(np.ascontiguousarray(
                    values if names is None else names[values]).data)
        indices = np.ascontiguousarray(part.indices)
        digest.update(f"{indices.dtype.str}{indices.shape}".encode())
        digest.update(indices.data)
    return digest.hexdigest()


BAYES_ERROR = ("'auto' or an error rate in [0, 1): a fraction (0.01) or a percentage "
               "('1%')")


def check_bayes_error(where: str, value: Any) -> float | str:
    """``"auto"``, or ``value`` read by run's ``bayes_error`` option
    (:data:`deeprecipe.runconfig.OPTIONS`) below 1 (the recipe needs an error left to
    learn); else a ConfigError naming the key."""
    try:
        error = OPTIONS["bayes_error"].parse(value)  # "auto" or a fraction
        if error != AUTO and error >= 1:
            raise BadValue
    except BadValue as bad:
        raise ConfigError(f"{where}: bayes_error must be {BAYES_ERROR}; received "
                          f"bayes_error={describe(value)}.{bad.help}", "bayes_error") from None
    return AUTO if error == AUTO else float(error)


def _labels(classes: Sequence[Any], y: np.ndarray) -> np.ndarray:
    """``classes`` as an array, once checked against the class codes ``y`` holds."""
    names = np.asarray(classes)
    if y.dtype.kind not in "iu" or not 0 <= y.min() <= y.max() < len(names):
        raise fail("tune", "classes", f"a label for each class code 0 … k−1 of the targets "
                   f"(integers from 0 to {len(names) - 1})", classes)
    return names


def _run_folder(folder: str | Path | None, resume: bool) -> Path | None:
    """The run folder, checked against ``resume``."""
    if folder is None:
        if resume:
            raise fail("tune", "folder", "the run folder to resume when resume=True", folder)
        return None
    if not isinstance(folder, (str, Path)):
        raise fail("tune", "folder", "a path or None", folder, error=TypeError)
    path = Path(folder)
    exists = (path / DATABASE).exists()
    if resume and not exists:
        raise fail("tune", "folder", f"a run folder holding {DATABASE} when resume=True",
                   str(path), "start a new run with resume=False")
    if not resume and exists:
        raise fail("tune", "folder", f"a new run folder (this one already holds {DATABASE})",
                   str(path), "pass resume=True to continue that run, or choose another folder")
    return path


def _check_settings(store: TrialStore, settings: dict[str, Any]) -> None:
    """A resumed run must be the same run: same data, seed, Bayes error, options."""
    recorded = store.settings()
    for name, value in settings.items():
        if name in recorded and recorded[name] != value:
            raise fail("tune", name, f"{recorded[name]!r} to resume the run in "
                       f"{store.folder} (it was started with that)", value,
                       "resume with the run's own settings, or start a new run")
