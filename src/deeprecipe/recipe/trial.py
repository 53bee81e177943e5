"""One trial: train a :class:`~.config.Config` and measure it, in whatever process runs it
(:func:`run_trial`: picklable arguments in, plain data out), and the data it trains on
(:func:`prepare`: the test part stays in the tuning process)."""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import fail
from ..callbacks import Callback, EarlyStopping
from ..data import Part, Splits
from ..diagnostics import Diagnosis
from ..diagnostics.curves import nested_order
from ..findings import Finding, jsonable_fields
from ..pipeline import Prepared, augmentation, train_and_measure
from ..pipeline import prepare as prepare_splits
from . import sample
from .config import Config, build_model


@dataclass(frozen=True)
class TrialData:
    """What every trial trains on: the standardized training rows the workers hold (all of
    them, or on big data a seeded sample of :func:`.sample.shipped_rows` rows), the dev
    set, the standardizer's ``mean`` and ``std`` (augmentation works on raw pixels), the
    ``image_shape`` ``(h, w[, c])`` of image data (else ``None``) and the ``augment``
    transforms of a trial that augments (:data:`~deeprecipe.data.augment.TRANSFORMS`;
    ``None``: the images' :func:`~deeprecipe.data.augment.defaults`)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    task: str
    n_outputs: int
    mean: np.ndarray
    std: np.ndarray
    image_shape: tuple[int, ...] | None = None
    augment: tuple[str, ...] | None = None
    # two sources: the train-dev rows (training distribution, held out), measured every trial
    X_train_dev: np.ndarray | None = None
    y_train_dev: np.ndarray | None = None


def prepare(splits: Splits, image_shape: tuple[int, ...] | None = None,
            task: str | None = None, seed: int = 0, *,
            in_place: bool = False) -> tuple[Prepared, TrialData]:
    """:func:`deeprecipe.pipeline.prepare` for a tune (``task=None``: read it from the
    labels; a regression's target scaling is noted), and the trials' :class:`TrialData`,
    ``image_shape`` checked. The test part stays in the ``Prepared``, and so does a big
    training part, but for the sample ``seed`` draws (:func:`.sample.shipped_rows`);
    ``in_place`` is :func:`~deeprecipe.pipeline.prepare`'s."""
    ready = prepare_splits(splits, task or "auto", where="tune", in_place=in_place)
    scaler, learned, target = ready.standardizer, ready.learned, ready.target_scale
    if target is not None:
        ready.notes.append(Finding("target_scaled:tune", {"mean": target.mean,
                                                          "scale": target.scale}))
    assert scaler.mean_ is not None and scaler.std_ is not None  # fitted by prepare
    X_train, y_train = learned.train.sample(sample.shipped_rows(len(learned.train)),
                                            np.random.default_rng(seed))
    data = TrialData(
        X_train=X_train, y_train=y_train, X_dev=learned.dev.X,
        y_dev=learned.dev.y, task=ready.task, n_outputs=ready.n_outputs, mean=scaler.mean_,
        std=scaler.std_, image_shape=_image_shape(image_shape, splits.train.shape[1]),
        X_train_dev=None if learned.train_dev is None else learned.train_dev.X,
        y_train_dev=None if learned.train_dev is None else learned.train_dev.y)
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


def training_rows(y: np.ndarray, config: Config, seed: int) -> np.ndarray | None:
    """The rows of the workers' training set (targets ``y``) ``config`` trains on: ``None``
    for all of them, else the first ``config.rows`` of a nested stratified order (each
    smaller sample is inside the larger), and ``config.train_fraction`` of those."""
    size = len(y) if config.rows is None else config.rows
    if size > len(y):
        raise fail("run_trial", "config.rows", f"at most {len(y):,} (the training rows the "
                   "workers hold)", config.rows)
    size = max(1, round(config.train_fraction * size))
    if size >= len(y):
        return None
    order = nested_order(y, np.random.default_rng(seed))
    return np.sort(order[:size])


def run_trial(task: TrialTask, data: TrialData) -> dict[str, Any]:
    """Train ``task.config`` with ``task.seed`` on ``data`` (its rows,
    :func:`training_rows`) and measure it (:func:`train_trial`). BLAS uses one thread:
    trials run side by side, one per core, and one thread makes a trial's arithmetic
    reproducible."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        rows = training_rows(data.y_train, task.config, task.seed)
        if rows is None:
            return train_trial(task, data, (data.X_train, data.y_train))
        return train_trial(task, data, (data.X_train[rows], data.y_train[rows]))


def train_trial(task: TrialTask, data: TrialData, train: Part | tuple[np.ndarray, np.ndarray],
                callbacks: Sequence[Callback] = ()) -> dict[str, Any]:
    """Train ``task.config`` with ``task.seed`` on ``train`` (standardized ``(X, y)``, or a
    :class:`~deeprecipe.data.Part`, read where it is; ``data`` gives the dev set and the
    task; ``callbacks`` hear the training) and measure it.

    Returns plain data: ``train_error``, ``dev_error`` and ``train_dev_error`` (inference
    mode, on the kept weights; ``None`` without a train-dev set), ``dev_cost``, ``n_train``,
    ``history`` (the History's lists), ``epochs_run``,
    ``best_epoch``, ``stop_reason``, ``weights`` (``θ`` as bytes) and ``dtype``,
    ``seconds`` and ``worker`` (host and process id).
    """
    start = time.perf_counter()
    config = task.config
    augment = None
    if config.augment:
        if data.image_shape is None:
            raise fail("run_trial", "config.augment", "False for data without an image "
                       "shape", True, "pass image_shape=(h, w) to tune() for image data")
        augment = augmentation(data.image_shape, data.mean, data.std,
                               train.X if isinstance(train, Part) else train[0], data.augment)
    model = build_model(config, data.X_dev.shape[1], data.task, data.n_outputs, task.seed)
    parts: dict[str, Any] = {"train": train, "dev": (data.X_dev, data.y_dev)}
    if data.X_train_dev is not None:
        parts["train_dev"] = (data.X_train_dev, data.y_train_dev)
    history, measured = train_and_measure(
        model, parts, epochs=config.epochs,
        batch_size=config.batch_size, optimizer=config.optimizer,
        learning_rate=config.learning_rate, seed=task.seed,
        stopping=EarlyStopping(monitor="dev_cost", patience=config.patience),
        callbacks=callbacks, augment=augment)
    epoch = history.best_epoch
    n_train = len(train) if isinstance(train, Part) else len(train[0])
    dev_cost = history["dev_cost"][-1 if epoch is None else epoch]
    train_dev = measured.train_dev_error
    return {"train_error": float(measured.train_error), "dev_error": float(measured.dev_error),
            "train_dev_error": None if train_dev is None else float(train_dev),
            "dev_cost": float(dev_cost), "n_train": n_train, "history": history.to_dict(),
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
    from the database of an earlier run instead of being trained again. ``sample`` says
    why it trains on the rows it does (a :class:`~deeprecipe.findings.Finding` of
    :func:`.sample.why`; ``n_train`` counts them).
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
    train_dev_error: float | None = None  # two sources: on the held-out training rows
    dev_cost: float | None = None
    n_train: int | None = None
    epochs_run: int | None = None
    best_epoch: int | None = None
    stop_reason: str | None = None
    sample: Finding | None = None
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
        """Done and trained on the whole training set or sample (learning-curve points,
        on a fraction of it, are not)."""
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
