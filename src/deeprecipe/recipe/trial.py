"""One trial: train a :class:`~.config.Config` and measure it, in whatever process runs it
(:func:`run_trial`: picklable arguments in, plain data out), and the data it trains on
(:func:`prepare`: the test part stays in the tuning process)."""

from __future__ import annotations

import math
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import fail
from ..callbacks import EarlyStopping
from ..data import Splits
from ..diagnostics import Diagnosis
from ..diagnostics.curves import nested_order
from ..findings import Finding, jsonable_fields
from ..pipeline import Prepared, augmentation, train_and_measure
from ..pipeline import prepare as prepare_splits
from .config import Config, build_model


@dataclass(frozen=True)
class TrialData:
    """What every trial trains on: the standardized train and dev sets, the standardizer's
    ``mean`` and ``std`` (augmentation works on raw pixels) and the ``image_shape``
    ``(h, w[, c])`` of image data (else ``None``)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    task: str
    n_outputs: int
    mean: np.ndarray
    std: np.ndarray
    image_shape: tuple[int, ...] | None = None


def prepare(splits: Splits, image_shape: tuple[int, ...] | None = None,
            task: str | None = None) -> tuple[Prepared, TrialData]:
    """:func:`deeprecipe.pipeline.prepare` for a tune (``task=None``: read it from the
    labels; a regression's target scaling is noted), and the trials' :class:`TrialData`,
    ``image_shape`` checked (the test part stays in the ``Prepared``)."""
    ready = prepare_splits(splits, task or "auto", where="tune")
    scaler, learned, target = ready.standardizer, ready.learned, ready.target_scale
    if target is not None:
        ready.notes.append(Finding("target_scaled:tune", {"mean": target.mean,
                                                          "scale": target.scale}))
    assert scaler.mean_ is not None and scaler.std_ is not None  # fitted by prepare
    data = TrialData(
        X_train=learned.train.X, y_train=learned.train.y, X_dev=learned.dev.X,
        y_dev=learned.dev.y, task=ready.task, n_outputs=ready.n_outputs, mean=scaler.mean_,
        std=scaler.std_, image_shape=_image_shape(image_shape, splits.train.X.shape[1]))
    return ready, data


def _image_shape(image_shape: tuple[int, ...] | None, n_features: int) -> tuple[int, ...] | None:
    if image_shape is None:
        return None
    try:
        shape = tuple(int(d) for d in image_shape)
    except (TypeError, ValueError):
        raise fail("tune", "image_shape", "(height, width) or (height, width, channels)",
                   image_shape) from None
    if len(shape) not in (2, 3) or min(shape) < 1 or math.prod(shape) != n_features:
        raise fail("tune", "image_shape", f"(h, w[, c]) with h·w·c = {n_features} (the number "
                   "of features)", image_shape)
    return shape


@dataclass(frozen=True)
class TrialTask:
    """A trial to run: its ``key`` (:meth:`Config.key`), ``config``, ``seed`` and which
    ``attempt`` this is (1 for the first)."""

    key: str
    config: Config
    seed: int
    attempt: int = 1


def training_rows(data: TrialData, fraction: float, seed: int) -> np.ndarray:
    """All rows, or a nested stratified part (each smaller fraction is inside the larger)."""
    if fraction >= 1:
        return np.arange(len(data.X_train))
    order = nested_order(data.y_train, np.random.default_rng(seed))
    return np.sort(order[: max(1, round(fraction * len(data.X_train)))])


def run_trial(task: TrialTask, data: TrialData) -> dict[str, Any]:
    """Train ``task.config`` with ``task.seed`` on ``data`` and measure it.

    Returns plain data: ``train_error`` and ``dev_error`` (inference mode, on the kept
    weights), ``dev_cost``, ``n_train``, ``history`` (the History's lists), ``epochs_run``,
    ``best_epoch``, ``stop_reason``, ``weights`` (``θ`` as bytes) and ``dtype``,
    ``seconds`` and ``worker`` (host and process id). BLAS uses one thread: trials run
    side by side, one per core, and one thread makes a trial's arithmetic reproducible.
    """
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    config = task.config
    with threadpool_limits(limits=1):
        rows = training_rows(data, config.train_fraction, task.seed)
        X, y = data.X_train[rows], data.y_train[rows]
        augment = None
        if config.augment:
            if data.image_shape is None:
                raise fail("run_trial", "config.augment", "False for data without an image "
                           "shape", True, "pass image_shape=(h, w) to tune() for image data")
            augment = augmentation(data.image_shape, data.mean, data.std, X)
        model = build_model(config, X.shape[1], data.task, data.n_outputs, task.seed)
        history, measured = train_and_measure(
            model, {"train": (X, y), "dev": (data.X_dev, data.y_dev)}, epochs=config.epochs,
            batch_size=config.batch_size, optimizer=config.optimizer,
            learning_rate=config.learning_rate, seed=task.seed,
            stopping=EarlyStopping(monitor="dev_cost", patience=config.patience),
            augment=augment)
        epoch = history.best_epoch
        dev_cost = history["dev_cost"][-1 if epoch is None else epoch]
    return {"train_error": float(measured.train_error), "dev_error": float(measured.dev_error),
            "dev_cost": float(dev_cost), "n_train": len(rows), "history": history.to_dict(),
            "epochs_run": len(history), "best_epoch": history.best_epoch,
            "stop_reason": history.stop_reason, "weights": model.theta.tobytes(),
            "dtype": model.dtype.name, "seconds": time.perf_counter() - start,
            "worker": f"{socket.gethostname()}:{os.getpid()}"}


@dataclass
class Trial:
    """A trial as the tuning loop and the trial database know it.

    Why it ran: ``round``, ``action`` (one of :data:`deeprecipe.findings.ACTIONS`, or
    ``"baseline"`` for round 0), ``reason`` (the round's: the diagnosis and the step's
    rationale), ``change`` (what differs from ``parent``, the key of the model it varies:
    ``"wider: 64 → 128 units"``). What it gave (once ``status`` is ``"done"``): the
    errors, ``history``, ``diagnosis`` (its own bias/variance reading) and ``weights``.
    ``status`` is ``"running"``, ``"done"`` or ``"failed"`` (then ``error`` says why);
    ``attempts`` counts the runs started; ``resumed`` is True when the result was read back
    from the database of an earlier run instead of being trained again.
    """

    key: str
    config: Config
    seed: int
    round: int
    action: str
    reason: str
    change: str = ""
    parent: str | None = None
    status: str = "running"
    attempts: int = 0
    train_error: float | None = None
    dev_error: float | None = None
    dev_cost: float | None = None
    n_train: int | None = None
    epochs_run: int | None = None
    best_epoch: int | None = None
    stop_reason: str | None = None
    history: dict[str, list[float]] = field(default_factory=dict, repr=False)
    diagnosis: Diagnosis | None = field(default=None, repr=False)
    error: str | None = None
    worker: str | None = None
    seconds: float | None = None
    finished_at: float | None = None
    resumed: bool = False
    weights: bytes | None = field(default=None, repr=False)
    dtype: str = "float32"

    def to_dict(self) -> dict[str, Any]:
        """JSON types, without the weights, the history and the bookkeeping."""
        return jsonable_fields(self, "change", "history", "finished_at", "weights", "dtype")

    @property
    def done(self) -> bool:
        return self.status == "done"

    @property
    def selectable(self) -> bool:
        """Done and trained on the whole training set (learning-curve points are not)."""
        return self.done and self.config.train_fraction == 1

    def rank(self) -> tuple[float, float]:
        """How the dev set orders trials: dev error, then dev cost (finer-grained)."""
        if self.dev_error is None or self.dev_cost is None:
            return (float("inf"), float("inf"))
        return (self.dev_error, self.dev_cost)

    def absorb(self, outcome: dict[str, Any]) -> None:
        """Take a worker's result (the fields :func:`run_trial` returns)."""
        for name, value in outcome.items():
            setattr(self, name, value)
        self.status, self.error = "done", None
