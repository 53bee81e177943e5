"""The mini-batch training loop (:meth:`Trainer.fit`, i.e. ``model.fit``), the
:class:`History` it returns and the :class:`TrainingState` it resumes from.

Each epoch shuffles the training set (seeded) and takes one optimizer step per batch. A run
that diverges (:mod:`deeprecipe.divergence`) stops at once: ``stop_reason`` becomes
``"diverged"``, ``history.divergence`` names the layer, epoch, batch and advice, and the
weights of the last epoch in the History come back (the initial ones if the first epoch
diverged; :class:`~deeprecipe.EarlyStopping` then puts back its best epoch's).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np
from numpy.typing import ArrayLike

from . import optimizers
from ._checks import as_float_array, fail, flag, positive_int, row_indices, seed_value
from .callbacks import Callback, CallbackList, Reporter
from .divergence import Divergence, advise, find_origin, first_bad_block, grew, quiet
from .targets import check_range

if TYPE_CHECKING:
    from .model import Sequential

TRAIN_EVAL_MAX = 1000  # train subsample size when there is no dev set
GATHER_ROWS = 4096  # rows of shuffled mini-batches gathered at once (one call per block)

Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]
Pair = tuple[np.ndarray, np.ndarray]  # (X, targets)
Rngs = tuple[np.random.Generator, np.random.Generator]  # shuffling and dropout, augmentation


class History:
    """Per-epoch records of one ``fit``: ``history["dev_error"]`` is a list, one per epoch.

    ``train_cost`` is the cost *as trained* (dropout on, penalty in, averaged over the
    epoch's batches while the weights change: what Keras logs); ``train_eval_cost`` and
    ``train_error`` are in inference mode, data term only, on a fixed training subsample of
    at most the dev set's size (what a bias/variance diagnosis needs); ``dev_cost`` and
    ``dev_error`` the same on ``validation_data``; ``time`` and ``train_time`` the epoch's
    wall time and the part of it spent in training steps.

    Also: ``stop_reason`` (``"max_epochs"``, ``"diverged"``, ``"patience"``,
    ``"callback"``), ``best_epoch`` (the epoch whose weights early stopping restored, else
    ``None``), ``divergence`` (a :class:`~deeprecipe.divergence.Divergence` when training
    diverged, else ``None``), ``task`` (the model's) and ``sizes`` (examples in
    ``"train"``, ``"train_eval"`` and ``"dev"``), which :func:`~deeprecipe.diagnose` reads.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.stop_reason = "max_epochs"
        self.best_epoch: int | None = None
        self.divergence: Divergence | None = None
        self.task: str | None = None
        self.sizes: dict[str, int] = {}

    def append(self, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; available: {sorted(self.history)}.")
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.history.get("train_cost", []))

    @property
    def epochs(self) -> int:
        return len(self)

    def last(self) -> dict[str, float]:
        """The last epoch's records."""
        return {key: values[-1] for key, values in self.history.items() if values}

    def to_dict(self) -> dict[str, list[float]]:
        return {key: list(values) for key, values in self.history.items()}

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={list(self.history)})"


@dataclass
class TrainingState:
    """Where a ``fit`` stands after ``epoch`` whole epochs (0: nothing trained yet), enough
    to continue it exactly: the weights, the optimizer's and each callback's
    ``state_dict()``, both random streams' ``bit_generator.state`` (shuffling/dropout,
    augmentation), the History so far, ``stop_reason`` when a callback ended training
    (resuming then only finishes) and ``initial_cost``, which the divergence check compares
    with (``None`` in older checkpoints: only non-finite values are caught then).
    """

    epoch: int = 0
    theta: np.ndarray | None = None
    optimizer: dict[str, np.ndarray] = field(default_factory=dict)
    rng: dict[str, Any] = field(default_factory=dict)
    augment_rng: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    initial_cost: float | None = None


class Trainer:
    """The training component of :class:`~deeprecipe.Sequential` (its base class, as in
    Keras 3): :meth:`fit` uses only the model's public interface, so this module never
    imports the model."""

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        validation_data: tuple[ArrayLike, ArrayLike] | None = None,
        epochs: int = 100,
        batch_size: int | None = 64,
        optimizer: str | optimizers.Optimizer = "adam",
        learning_rate: float | None = None,
        callbacks: Sequence[Callback] = (),
        shuffle: bool = True,
        seed: int | None = None,
        augment: Augment | None = None,
        state: TrainingState | None = None,
        rows: ArrayLike | None = None,
    ) -> History:
        """Train the model in place with mini-batches and return the :class:`History`.

        ``batch_size=None`` trains on the full batch (the notes' gradient descent).
        ``optimizer`` is ``"sgd"``, ``"momentum"``, ``"adam"`` or an
        :class:`~deeprecipe.optimizers.Optimizer`; ``learning_rate`` overrides a named
        optimizer's default (an optimizer instance brings its own). ``seed`` drives shuffling
        and dropout masks (default: the model's seed), so a run is reproducible.

        ``augment`` (e.g. :class:`deeprecipe.data.augment.Compose`) is called as
        ``augment(X_batch, rng)`` on every training batch, after shuffling; it must return a
        new array of the batch's shape. Its ``rng`` is a stream of its own (seeded from
        ``seed``), so shuffling and dropout masks are the same with and without augmentation.
        The dev set and the training-error subsample are never augmented.

        ``rows`` (an index array) trains on ``X[rows]`` and ``y[rows]`` without copying
        them: each mini-batch is gathered by index into a buffer allocated once, as it is
        without ``rows`` (no shuffled copy of ``X`` per epoch), so a big data set is held once.

        ``state`` (a :class:`TrainingState`) is brought up to date at the end of every epoch,
        after the callbacks (copies swapped in at once, so an interruption mid-epoch leaves it
        at the last whole epoch; ``KeyboardInterrupt`` passes through). Given one with
        ``epoch > 0`` (on a fresh model), training resumes from it (``epochs`` counts from
        the first epoch, as Keras' ``initial_epoch``) and ends with the same weights, bit for
        bit, as a run never interrupted (same data, seed, options and callbacks).
        """
        model = cast("Sequential", self)
        where = "fit"
        float32_regression = model.loss.task == "regression" and model.dtype == np.float32
        if float32_regression:
            check_range(y, where, "y")
        X_all, targets = model.check_data(where, X, y)
        picks = None if rows is None else row_indices(where, rows, len(X_all))
        n = len(X_all) if picks is None else len(picks)
        epochs = positive_int(where, "epochs", epochs)
        batch = n if batch_size is None else positive_int(where, "batch_size", batch_size)
        dev = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise fail(where, "validation_data", "a pair (X_dev, y_dev)", validation_data)
            if float32_regression:
                check_range(validation_data[1], f"{where} (validation_data)", "y")
            dev = model.check_data(f"{where} (validation_data)", *validation_data)
        if state is not None and not isinstance(state, TrainingState):
            raise fail(where, "state", "a dr.TrainingState (or None)", state, error=TypeError)
        if augment is not None and not callable(augment):
            raise fail(where, "augment", "a callable (X_batch, rng) -> X_batch", augment,
                       error=TypeError)
        if seed is not None:
            seed = seed_value(where, "seed", seed)
        shuffle = flag(where, "shuffle", shuffle)
        rng = np.random.default_rng([model.seed, 1] if seed is None else seed)
        augment_rng = np.random.default_rng([model.seed if seed is None else seed, 2])
        eval_size = min(n, len(dev[0]) if dev is not None else TRAIN_EVAL_MAX)
        eval_rows = np.sort(rng.choice(n, size=eval_size, replace=False))
        if picks is not None:
            eval_rows = picks[eval_rows]
        train_eval = (X_all[eval_rows], targets[eval_rows])

        if not isinstance(callbacks, (list, tuple)) or not all(isinstance(c, Callback)
                                                                for c in callbacks):
            raise fail(where, "callbacks", "a list of Callback objects (e.g. "
                       "[dr.EarlyStopping()])", callbacks, error=TypeError)
        bad = first_bad_block(model.theta, model.layout)
        if bad is not None:
            raise fail(where, "the model's parameters", "finite", f"non-finite values in {bad}",
                       "set finite weights (model.set_parameters) or rebuild the model")
        opt = optimizers.get(optimizer, learning_rate, where="fit")
        opt.build(model.layout, model.dtype)
        history = History()
        history.task = model.loss.task
        history.sizes = {"train": n, "train_eval": eval_size}
        if dev is not None:
            history.sizes["dev"] = len(dev[0])
        resumed = state if state is not None and state.epoch > 0 else None
        if resumed is not None:
            resume(resumed, model, opt, (rng, augment_rng), history, len(callbacks))
            start_cost = math.inf if resumed.initial_cost is None else resumed.initial_cost
        else:
            with quiet():
                start_cost = float(model.measure(*train_eval)["loss"])
        lowest = min([start_cost, *history.history.get("train_eval_cost", [])])
        grad = np.empty_like(model.theta)
        everyone = CallbackList(callbacks)  # hears each epoch's progress
        last_finite = model.theta.copy()  # the weights the History's last epoch describes

        for callback in callbacks:
            callback.on_train_begin(model)
        if resumed is not None:
            for callback, saved in zip(callbacks, resumed.callbacks, strict=True):
                callback.load_state_dict(saved)
            if resumed.stop_reason is not None:
                history.stop_reason = resumed.stop_reason
        first = epochs if history.stop_reason != "max_epochs" else len(history)
        for epoch in range(first, epochs):
            start = time.perf_counter()
            with quiet():
                total, failure = train_epoch(
                    model, opt, grad,
                    batches(X_all, targets, batch, rng if shuffle else None, picks),
                    rng, augment, augment_rng, n, Reporter(everyone, "samples", epoch))
                train_time = time.perf_counter() - start
                if failure is None and not np.isfinite(model.theta).all():
                    failure = Failure(None, None, total / n)
                logs: dict[str, float] = {}
                if failure is None:
                    logs = epoch_logs(model, total / n, train_eval, dev)
                    failure = epoch_failure(logs, train_eval[0], lowest, start_cost)
                    lowest = min(lowest, logs["train_eval_cost"])
            if failure is not None:
                X_train = X_all if picks is None else X_all[picks]  # the advice reads it
                history.divergence = diverged(model, epoch, failure, opt, grad, last_finite,
                                              X_train)
                history.stop_reason = "diverged"
                break
            logs["time"] = time.perf_counter() - start
            logs["train_time"] = train_time
            history.append(logs)
            np.copyto(last_finite, model.theta)
            stoppers = [callback for callback in callbacks if callback.on_epoch_end(epoch, logs)]
            if stoppers:
                reason = getattr(stoppers[0], "stop_reason", None)
                history.stop_reason = reason if isinstance(reason, str) else "callback"
            if state is not None:
                snapshot(state, model, opt, (rng, augment_rng), history, callbacks, start_cost)
            if stoppers:
                break
        for callback in callbacks:
            callback.on_train_end(model, history)
        return history


def snapshot(state: TrainingState, model: Sequential, opt: optimizers.Optimizer, rngs: Rngs,
             history: History, callbacks: Sequence[Callback],
             initial_cost: float | None = None) -> None:
    """Copy where training stands into ``state``. The copies are swapped in by one
    ``dict.update`` (a C call no signal handler splits): an interrupted snapshot leaves
    ``state`` wholly at the previous epoch."""
    vars(state).update(
        epoch=len(history),
        theta=model.theta.copy(),
        optimizer=opt.state_dict(),
        rng=dict(rngs[0].bit_generator.state),
        augment_rng=dict(rngs[1].bit_generator.state),
        history=history.to_dict(),
        callbacks=[callback.state_dict() for callback in callbacks],
        stop_reason=None if history.stop_reason == "max_epochs" else history.stop_reason,
        initial_cost=initial_cost,
    )


def resume(state: TrainingState, model: Sequential, opt: optimizers.Optimizer, rngs: Rngs,
           history: History, n_callbacks: int) -> None:
    """Put the weights, optimizer, random streams and History of ``state`` back in place."""
    where = "fit"
    hint = "resume with the model, optimizer and callbacks of the run that wrote the state"
    theta = np.asarray(state.theta)
    if theta.shape != model.theta.shape:
        raise fail(where, "state.theta.shape", f"the model's {model.theta.shape}", theta.shape,
                   hint)
    expected = set(opt.state_dict())
    if set(state.optimizer) != expected:
        raise fail(where, "state.optimizer", f"the state of {type(opt).__name__} (keys "
                   f"{sorted(expected)})", sorted(state.optimizer), hint)
    if len(state.callbacks) != n_callbacks:
        raise fail(where, "len(state.callbacks)", f"the number of callbacks ({n_callbacks})",
                   len(state.callbacks), hint)
    lengths = {len(values) for values in state.history.values()}
    if lengths != {state.epoch}:
        raise fail(where, "state.history", f"{state.epoch} entries per key (state.epoch)",
                   sorted(lengths))
    model.theta[...] = theta
    opt.load_state_dict(state.optimizer)
    rngs[0].bit_generator.state = state.rng
    rngs[1].bit_generator.state = state.augment_rng
    for key, values in state.history.items():
        history.history[key] = list(values)


class Failure(NamedTuple):
    """A divergence seen in the fit loop: the batch (``None``: at the end of the epoch), its
    inputs (when a forward pass can locate a non-finite value), the cost (non-finite, the
    epoch's finite training cost when the end-of-epoch check found non-finite weights, or
    the cost that grew) and, for a cost that grew, the lowest cost before it."""

    batch: int | None
    X: np.ndarray | None
    cost: float
    lowest: float | None = None


def train_epoch(model: Sequential, opt: optimizers.Optimizer, grad: np.ndarray,
                batches: Iterator[Pair], rng: np.random.Generator, augment: Augment | None,
                augment_rng: np.random.Generator, m: int, progress: Reporter
                ) -> tuple[float, Failure | None]:
    """One optimizer step per batch (the gradient in the buffer ``grad``, the penalty's ``m``,
    the ``m`` samples done told to ``progress`` after each step): ``(Σ cost × batch size,
    None)``, or stop at the first non-finite cost without taking its step: ``(…, Failure)``."""
    total, done = 0.0, 0
    for index, (xb, tb) in enumerate(batches):
        if augment is not None:
            xb = augmented(augment, xb, augment_rng)
        cost = model.forward_backward(xb, tb, training=True, rng=rng, m=m, out=grad).cost
        if not math.isfinite(cost):
            return total, Failure(index, xb, float(cost))
        opt.step(model.theta, grad)
        total += cost * len(xb)
        done += len(xb)
        progress(done, m)
    return total, None


def epoch_logs(model: Sequential, train_cost: float, train_eval: Pair,
               dev: Pair | None) -> dict[str, float]:
    """One epoch's records (inference mode, data term only; see :class:`History`)."""
    logs = {"train_cost": train_cost}
    measured = model.measure(*train_eval)
    logs["train_eval_cost"], logs["train_error"] = measured["loss"], measured["error"]
    if dev is not None:
        measured = model.measure(*dev)
        logs["dev_cost"], logs["dev_error"] = measured["loss"], measured["error"]
    return logs


def epoch_failure(logs: dict[str, float], X: np.ndarray, lowest: float,
                  start: float) -> Failure | None:
    """The end-of-epoch check: a :class:`Failure` when an evaluated cost is non-finite
    (finite weights overflowing) or the training set's cost grew too much against its
    ``lowest`` value so far and its value at initialization, ``start`` (:func:`grew`)."""
    for key in ("train_eval_cost", "dev_cost"):
        if key in logs and not math.isfinite(logs[key]):
            return Failure(None, X, logs[key])
    if grew(logs["train_eval_cost"], lowest, start):
        return Failure(None, None, logs["train_eval_cost"], lowest)
    return None


def diverged(model: Sequential, epoch: int, failure: Failure, opt: optimizers.Optimizer,
             grad: np.ndarray, last_finite: np.ndarray, X_train: np.ndarray) -> Divergence:
    """Locate the divergence, then restore the weights of the last recorded epoch."""
    if failure.lowest is not None:  # a finite cost that grew: nothing non-finite to find
        layer, source, parameter = model.names[-1], "growth", None
    else:
        layer, source, parameter = find_origin(model, failure.X,
                                               grad if failure.batch is not None else None)
    learning_rate: Any = getattr(opt, "learning_rate", None)
    divergence = Divergence(
        epoch, failure.batch, layer, source, parameter, failure.cost,
        advise(model, layer, learning_rate, X_train), failure.lowest,
    )
    model.theta[...] = last_finite
    return divergence


def augmented(augment: Augment, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``augment(X, rng)``, checked to be a finite array of ``X``'s shape, in ``X``'s dtype
    (a NaN it makes would otherwise read as a diverged run, blamed on the learning rate)."""
    out = np.asarray(augment(X, rng))
    if out.shape != X.shape:
        raise fail("fit", "augment(X_batch, rng).shape", f"the batch's shape {X.shape}",
                   out.shape, "an augmentation must keep the shape (and the order) of the rows")
    return as_float_array("fit", "augment(X_batch, rng)", out, X.dtype, ndim=X.ndim)


def batches(X: np.ndarray, targets: np.ndarray, size: int, rng: np.random.Generator | None,
            rows: np.ndarray | None = None) -> Iterator[Pair]:
    """One epoch's mini-batches of the rows ``rows`` of the data (all of them when None),
    shuffled by ``rng`` first (in order when ``rng`` is None). Shuffled or picked batches are
    gathered :data:`GATHER_ROWS` rows at a time into one buffer, so each batch is valid
    until the next one is drawn."""
    n = len(X) if rows is None else len(rows)
    if rows is None:
        if rng is None:
            for start in range(0, n, size):
                yield X[start : start + size], targets[start : start + size]
            return
        order = rng.permutation(n)
    else:
        order = rows if rng is None else rows[rng.permutation(n)]
    block = size * max(1, GATHER_ROWS // size)  # whole batches
    buffer = np.empty((min(block, n), *X.shape[1:]), X.dtype)
    for start in range(0, n, block):
        index = order[start : start + block]
        # mode="clip": the indices are valid, and "raise" would buffer the gather twice
        inputs = np.take(X, index, axis=0, out=buffer[: len(index)], mode="clip")
        outputs = targets[index]
        for first in range(0, len(index), size):
            yield inputs[first : first + size], outputs[first : first + size]

