"""One protocol for everything that reports or steers while it runs: :class:`Callback`.

Training (``fit``) calls

``on_train_begin(model)``
    before the first epoch;
``on_epoch_end(epoch, logs) -> bool``
    after each epoch (``epoch`` counts from 0; ``logs`` holds that epoch's History entries);
    return ``True`` to stop training;
``on_train_end(model, history)``
    after the last epoch, however training ended;
``state_dict() -> dict`` and ``load_state_dict(state)``
    what the callback has learned so far (copies: arrays and JSON types), so that a
    training run can be resumed (:class:`~deeprecipe.training.TrainingState`). On resume,
    ``fit`` calls ``on_train_begin(model)`` and then ``load_state_dict(saved)``.

A job of steps (:func:`~deeprecipe.workflow.run`, :func:`~deeprecipe.recipe.tune`) passes
its callbacks to ``fit`` and also calls

``on_step_begin(step, description, total=None, done=0)``
    a step begins; one that counts (training's epochs, a tune's trials) gives its
    ``total`` and the ``done`` already (a resumed run's);
``on_step_end(step, seconds, summary)``
    it ended; ``summary`` is one line of what it found;
``on_trial_end(trial)`` and ``on_round_end(round)``
    a tune's trial (:class:`~deeprecipe.recipe.Trial`) or round
    (:class:`~deeprecipe.recipe.Round`) finished.

Inside a long piece of work, a training epoch (``fit``) or the reading of a data file (a
run's ``"data"`` step), a :class:`Reporter` calls

``on_progress(progress)``
    how far it has come (a :class:`Progress`): at most every :data:`PROGRESS_EVERY`
    seconds, the first time that long after it began, so short work never calls it.

Stopping on divergence is no callback: the fit loop does it (:mod:`deeprecipe.training`,
``stop_reason`` ``"diverged"``). The library never prints: the command line's callback draws
the progress.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import choice, fail, flag, integer, non_negative, seed_value
from .diagnostics.flow import GradientFlow, gradient_flow
from .findings import say

if TYPE_CHECKING:
    from .model import Sequential
    from .training import History


class Callback:
    """Base class with hooks that do nothing (see the module for when each is called)."""

    def on_step_begin(self, step: str, description: str, total: int | None = None,
                      done: int = 0) -> None:
        return None

    def on_step_end(self, step: str, seconds: float, summary: str) -> None:
        return None

    def on_train_begin(self, model: Sequential) -> None:
        return None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        return False

    def on_train_end(self, model: Sequential, history: History) -> None:
        return None

    def on_trial_end(self, trial: Any) -> None:
        return None

    def on_round_end(self, round: Any) -> None:
        return None

    def on_progress(self, progress: Progress) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        """What must survive an interruption (copies); nothing by default."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (after ``on_train_begin``)."""
        return None


class CallbackList(Callback):
    """``callbacks`` as one: each hook is called on each in order (training stops when any
    says stop). A job gives ``fit`` its callbacks as one of these: what they hold is not
    part of the training state (a resumed run may report to other callbacks)."""

    def __init__(self, callbacks: Sequence[Callback] = ()) -> None:
        self.callbacks = list(callbacks)


def _calls_each(hook: str) -> Any:
    def call(self: CallbackList, *args: Any, **kwargs: Any) -> Any:
        results = [getattr(callback, hook)(*args, **kwargs) for callback in self.callbacks]
        return any(results) if hook == "on_epoch_end" else None
    return call


for _hook in [name for name in vars(Callback) if name.startswith("on_")]:
    setattr(CallbackList, _hook, _calls_each(_hook))


PROGRESS_EVERY = 0.5  # seconds: the most often a Reporter calls on_progress


@dataclass(frozen=True)
class Progress:
    """How far a long piece of work has come: ``done`` of ``total`` ``unit``
    (``"samples"`` trained in an epoch; ``"bytes"`` or ``"rows"`` of a file read) in its
    first ``seconds``; ``epoch`` (counted from 0) when it is a training epoch."""

    done: int
    total: int
    unit: str
    seconds: float
    epoch: int | None = None

    @property
    def rate(self) -> float:
        """Units per second so far (0.0 before any time has passed)."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        """Seconds until ``total`` at :attr:`rate` (``None`` while nothing is done, or
        past ``total``)."""
        if self.rate <= 0 or self.done > self.total:
            return None
        return (self.total - self.done) / self.rate


class Reporter:
    """A ``progress(done, total)`` hook that tells ``callback.on_progress`` in ``unit``
    (with ``epoch``, for a training epoch's): call it as often as convenient (after every
    batch, every block read); it checks the clock and passes on at most one call per
    :data:`PROGRESS_EVERY` seconds, the first that long after it was made. A call that
    passes nothing on costs about 0.15 µs (0.1% of a 134 µs batch of
    ``benchmarks/train_throughput.py``'s config A). It is the ``progress`` hook the file
    loaders take."""

    def __init__(self, callback: Callback, unit: str, epoch: int | None = None) -> None:
        self.callback, self.unit, self.epoch = callback, unit, epoch
        self.start = time.perf_counter()
        self.due = self.start + PROGRESS_EVERY

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now >= self.due:
            self.due = now + PROGRESS_EVERY
            self.callback.on_progress(
                Progress(done, total, self.unit, now - self.start, self.epoch))


STOP_REASONS = ("patience", "diverged", "max_epochs", "callback")


class EarlyStopping(Callback):
    """The notes' early stopping: stop when ``monitor`` (the dev cost) stops improving, and
    keep the weights of its best epoch.

    ``monitor`` is a History key, ``"dev_cost"`` (default) or ``"dev_error"`` (both need
    ``fit(..., validation_data=...)``). ``mode`` is ``"min"``, ``"max"`` or ``"auto"`` (max
    for names containing "acc" or "score", else min).

    An epoch **improves** when its value beats the best so far by more than ``min_delta``
    (mode min: ``value < best − min_delta``); the first monitored epoch always improves.
    **patience** (an integer ≥ 1) is the number of consecutive epochs without improvement
    after which training stops: at the end of the ``patience``-th one, as in Keras
    (``patience=1`` stops at the first epoch that does not improve). Epochs before
    ``start_from_epoch`` (counted from 0) are ignored: they can neither improve nor use up
    patience. Example: values 1.0, 0.9, 0.95, 0.96 with ``patience=2`` stop after epoch 3
    (0-based); the best epoch is 1.

    With ``restore_best=True`` (default) the weights of the best epoch are put back however
    training ends: on patience, on divergence (after ``fit`` restored the weights of the
    last recorded epoch), at the last epoch, or when another callback stops it; the History's
    ``best_epoch`` then says which epoch's weights the model holds (and
    :func:`~deeprecipe.diagnose` reads its errors there). Snapshots are copies of the flat
    parameter vector ``θ``, taken only on improving epochs.

    After training: ``best_epoch``, ``best`` (its value), ``best_logs`` (its History
    entries, with the train error at the point kept: early stopping couples bias and
    variance), ``stopped_epoch`` (the last epoch that ran; after divergence, the one that
    diverged) and ``stop_reason``: ``"patience"``, ``"diverged"`` (training diverged, or the
    monitored value became non-finite), ``"max_epochs"``, or ``"callback"`` (another
    callback stopped training). These are indices from 0, as in the History;
    :meth:`summary` writes them for people, counted from 1.
    """

    def __init__(
        self,
        monitor: str = "dev_cost",
        patience: int = 10,
        min_delta: float = 0.0,
        mode: str = "auto",
        start_from_epoch: int = 0,
        restore_best: bool = True,
    ) -> None:
        where = "EarlyStopping"
        if not isinstance(monitor, str):
            raise fail(where, "monitor", "a string such as 'dev_cost'", monitor, error=TypeError)
        self.monitor = monitor
        self.patience = integer(where, "patience", patience)
        self.min_delta = non_negative(where, "min_delta", min_delta)
        mode = choice(where, "mode", mode, ("auto", "min", "max"))
        if mode == "auto":
            mode = "max" if "acc" in monitor or "score" in monitor else "min"
        self.mode = mode
        self.start_from_epoch = integer(where, "start_from_epoch", start_from_epoch, 0)
        self.restore_best = flag(where, "restore_best", restore_best)
        self._model: Sequential | None = None
        self._best_theta: np.ndarray | None = None
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_logs: dict[str, float] = {}
        self.stopped_epoch: int | None = None
        self.stop_reason: str | None = None
        self.restored = False
        self.wait = 0

    def on_train_begin(self, model: Sequential) -> None:
        self._reset()
        self._model = model
        self._best_theta = model.theta.copy() if self.restore_best else None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if self.monitor not in logs:
            hint = ("dev_cost and dev_error need fit(..., validation_data=(X_dev, y_dev))"
                    if self.monitor.startswith("dev_") else "")
            raise fail("EarlyStopping", "monitor", "one of the logged keys "
                       + ", ".join(map(repr, logs)), self.monitor, hint)
        if epoch < self.start_from_epoch:
            return False
        value = float(logs[self.monitor])
        if not math.isfinite(value):
            return self._stop(epoch, "diverged")
        if self._improves(value):
            self._record_best(epoch, value, logs)
            self.wait = 0
            return False
        self.wait += 1
        return self.wait >= self.patience and self._stop(epoch, "patience")

    def _improves(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def _record_best(self, epoch: int, value: float, logs: dict[str, float]) -> None:
        self.best, self.best_epoch, self.best_logs = value, epoch, dict(logs)
        if self._best_theta is not None and self._model is not None:
            np.copyto(self._best_theta, self._model.theta)

    def _stop(self, epoch: int, reason: str) -> bool:
        self.stopped_epoch, self.stop_reason = epoch, reason
        return True

    def on_train_end(self, model: Sequential, history: History) -> None:
        if self.stop_reason is None:
            reason, divergence = history.stop_reason, history.divergence
            self.stop_reason = reason if reason in STOP_REASONS else "callback"
            self.stopped_epoch = len(history) - 1 if divergence is None else divergence.epoch
        if self.restore_best and self._best_theta is not None and self.best_epoch is not None:
            model.theta[...] = self._best_theta
            history.best_epoch = self.best_epoch
            self.restored = True

    def state_dict(self) -> dict[str, Any]:
        """The best value, epoch and weights so far, and the patience used up."""
        theta = self._best_theta
        return {"best": self.best, "best_epoch": self.best_epoch,
                "best_logs": dict(self.best_logs), "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "stop_reason": self.stop_reason,
                "best_theta": None if theta is None else theta.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.best_logs = dict(state["best_logs"])
        self.wait = int(state["wait"])
        self.stopped_epoch, self.stop_reason = state["stopped_epoch"], state["stop_reason"]
        saved = state.get("best_theta")
        if self._best_theta is not None and saved is not None:
            if np.shape(saved) != self._best_theta.shape:
                raise fail("EarlyStopping.load_state_dict", "best_theta.shape",
                           str(self._best_theta.shape), np.shape(saved))
            np.copyto(self._best_theta, saved)

    def summary(self) -> str:
        """One paragraph for a report: why and when training stopped, the epoch kept, and
        the train error there (early stopping couples bias and variance)."""
        if self.stop_reason is None:
            return "early stopping: training has not ended"
        stopped = "" if self.stopped_epoch is None else f" after epoch {self.stopped_epoch + 1}"
        text = f"early stopping: stopped{stopped} ({self.stop_reason})"
        if self.best_epoch is None:
            return text + f"; {self.monitor} was never monitored"
        kept = "restored" if self.restored else "not restored"
        text += (f"; best {self.monitor} {self.best:.4g} at epoch {self.best_epoch + 1} "
                 f"(weights {kept})")
        if "train_error" in self.best_logs:  # the notes' caveat, as the diagnosis says it
            train_error = self.best_logs["train_error"]
            text += "; " + say("early_stopping_cost",
                               {"epoch": self.best_epoch + 1, "train_error": train_error})
        return text


class GradientFlowRecorder(Callback):
    """Record :func:`deeprecipe.diagnostics.gradient_flow` on a fixed small batch: once
    before training (``initial``) and after every ``every``-th epoch (``flows``, at
    ``epochs``).

    ``X (m, n_x)`` and ``y`` are network inputs, as passed to ``fit``; at most ``max_rows``
    of them (a seeded sample, the same every epoch) are used, so a record costs one forward
    and backward pass on a small batch. ``grad_norms()`` gives ``||dW||`` per layer per
    recorded epoch, for a report's plot; ``verdicts`` the verdict of each record.
    """

    def __init__(
        self, X: Any, y: Any, *, max_rows: int = 256, every: int = 1, seed: int = 0
    ) -> None:
        where = "GradientFlowRecorder"
        self.max_rows = integer(where, "max_rows", max_rows)
        self.every = integer(where, "every", every)
        seed = seed_value(where, "seed", seed)
        X, y = np.asarray(X), np.asarray(y)
        if len(X) != len(y) or len(X) == 0:
            raise fail(where, "len(y)", f"len(X) = {len(X)} (at least one row)", len(y))
        rows = np.arange(len(X))
        if len(X) > self.max_rows:
            rows = np.sort(np.random.default_rng(seed).choice(len(X), self.max_rows, False))
        self.X, self.y = X[rows], y[rows]
        self._model: Sequential | None = None
        self.initial: GradientFlow | None = None
        self.flows: list[GradientFlow] = []
        self.epochs: list[int] = []
        self._converted: list[dict[str, Any]] = []  # flows[:k] as dicts, for state_dict

    def on_train_begin(self, model: Sequential) -> None:
        self._model = model
        self.flows, self.epochs = [], []
        self._converted = []
        self.initial = gradient_flow(model, self.X, self.y)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if self._model is not None and (epoch + 1) % self.every == 0:
            self.flows.append(gradient_flow(self._model, self.X, self.y))
            self.epochs.append(epoch)
        return False

    def state_dict(self) -> dict[str, Any]:
        """The records so far, as plain data (``GradientFlow.to_dict``). Records never
        change once taken, so each is converted once and the dicts are shared."""
        converted = self._converted
        converted += [flow.to_dict() for flow in self.flows[len(converted):]]
        return {
            "initial": None if self.initial is None else self.initial.to_dict(),
            "flows": list(converted),
            "epochs": list(self.epochs),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        initial = state.get("initial")
        self.initial = None if initial is None else GradientFlow.from_dict(initial)
        self.flows = [GradientFlow.from_dict(flow) for flow in state["flows"]]
        self.epochs = [int(epoch) for epoch in state["epochs"]]
        self._converted = list(state["flows"])

    @property
    def verdicts(self) -> list[str]:
        return [flow.verdict for flow in self.flows]

    def grad_norms(self, statistic: str = "grad_norm") -> dict[str, list[float]]:
        """``{layer: [value per recorded epoch]}`` for a :class:`LayerFlow` field
        (``"grad_norm"``, ``"grad_ratio"``, ``"dA_norm"``, …)."""
        series: dict[str, list[float]] = {}
        for flow in self.flows:
            for layer in flow.layers:
                series.setdefault(layer.name, []).append(float(getattr(layer, statistic)))
        return series
