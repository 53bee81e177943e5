"""The mini-batch training loop and its :class:`History`.

Each epoch shuffles the training set (seeded), walks it in batches of ``batch_size``, and
for every batch runs forward, backward and one optimizer step. The History records, per
epoch:

``train_cost``
    the cost *as trained* (dropout on, penalty in), averaged over the epoch's batches while
    the weights change: what Keras and scikit-learn log.
``train_eval_cost``, ``train_error``
    inference mode (no dropout), data term only, on a fixed training subsample of at most
    the dev set's size: the numbers a bias/variance diagnosis needs.
``dev_cost``, ``dev_error``
    the same on the dev set (``validation_data``).
``time``, ``train_time``
    the epoch's wall time, and the part of it spent in training steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from . import optimizers
from ._checks import describe, fail, positive_int
from .callbacks import Callback

if TYPE_CHECKING:
    from .model import Sequential

TRAIN_EVAL_MAX = 1000  # train subsample size when there is no dev set

Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


class History:
    """Per-epoch records of one ``fit``: ``history["dev_error"]`` is a list, one per epoch."""

    KEYS = ("train_cost", "train_eval_cost", "train_error", "dev_cost", "dev_error",
            "time", "train_time")

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.stop_reason = "max_epochs"

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


def fit(
    model: Sequential,
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
) -> History:
    """Train ``model`` in place and return the :class:`History`.

    ``batch_size=None`` trains on the full batch (the notes' gradient descent). ``optimizer``
    is ``"sgd"``, ``"momentum"``, ``"adam"`` or an :class:`~deeprecipe.optimizers.Optimizer`;
    ``learning_rate`` overrides a named optimizer's default. ``seed`` drives shuffling and
    dropout masks (default: the model's seed), so a run is reproducible.

    ``augment`` (e.g. :class:`deeprecipe.data.augment.Compose`) is called as
    ``augment(X_batch, rng)`` on every training batch, after shuffling; it must return a new
    array of the batch's shape. Its ``rng`` is a stream of its own (seeded from ``seed``), so
    shuffling and dropout masks are the same with and without augmentation. The dev set and
    the training-error subsample are never augmented.
    """
    where = "fit"
    X_train, targets = model._check_data(where, X, y)
    n = len(X_train)
    epochs = positive_int(where, "epochs", epochs)
    batch = n if batch_size is None else positive_int(where, "batch_size", batch_size)
    dev = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise fail(where, "validation_data", "a pair (X_dev, y_dev)", validation_data)
        dev = model._check_data(f"{where} (validation_data)", *validation_data)
    if augment is not None and not callable(augment):
        raise TypeError(f"{where}: augment must be a callable (X_batch, rng) -> X_batch; "
                        f"received augment={describe(augment)}.")
    rng = np.random.default_rng([model.seed, 1] if seed is None else seed)
    augment_rng = np.random.default_rng([model.seed if seed is None else seed, 2])
    eval_size = min(n, len(dev[0]) if dev is not None else TRAIN_EVAL_MAX)
    eval_rows = np.sort(rng.choice(n, size=eval_size, replace=False))
    train_eval = (X_train[eval_rows], targets[eval_rows])

    opt = optimizers.get(optimizer, learning_rate)
    opt.build(model.layout, model.dtype)
    grad = np.empty_like(model.theta)
    grad_views = model._grad_views(grad)
    batches = Batches(X_train, targets, batch)

    history = History()
    for callback in callbacks:
        callback.on_train_begin(model)
    for epoch in range(epochs):
        start = time.perf_counter()
        total = 0.0
        for xb, tb in batches.epoch(rng if shuffle else None):
            if augment is not None:
                xb = augmented(augment, xb, augment_rng)
            data, penalty, _ = model._value_and_grad(
                xb, tb, training=True, rng=rng, m=n, grad=grad, grad_views=grad_views
            )
            opt.step(model.theta, grad)
            total += (data + penalty) * len(xb)
        train_time = time.perf_counter() - start
        logs = {"train_cost": total / n}
        measured = model._evaluate(*train_eval)
        logs["train_eval_cost"], logs["train_error"] = measured["loss"], measured["error"]
        if dev is not None:
            measured = model._evaluate(*dev)
            logs["dev_cost"], logs["dev_error"] = measured["loss"], measured["error"]
        logs["time"] = time.perf_counter() - start
        logs["train_time"] = train_time
        history.append(logs)
        if any([callback.on_epoch_end(epoch, logs) for callback in callbacks]):
            history.stop_reason = "callback"
            break
    for callback in callbacks:
        callback.on_train_end(model, history)
    return history


def augmented(augment: Augment, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``augment(X, rng)``, checked to be an array of ``X``'s shape, in ``X``'s dtype."""
    out = np.asarray(augment(X, rng))
    if out.shape != X.shape:
        raise fail("fit", "augment(X_batch, rng).shape", f"the batch's shape {X.shape}",
                   out.shape, "an augmentation must keep the shape (and the order) of the rows")
    return out.astype(X.dtype, copy=False)


class Batches:
    """Mini-batches of one epoch: contiguous slices of a shuffled copy of the data."""

    def __init__(self, X: np.ndarray, targets: np.ndarray, batch_size: int) -> None:
        self.X, self.targets, self.batch_size = X, targets, batch_size

    def epoch(self, rng: np.random.Generator | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The batches in order (``rng=None``) or shuffled by ``rng``."""
        X, targets = self.X, self.targets
        if rng is not None:
            order = rng.permutation(len(X))
            X, targets = X[order], targets[order]
        for start in range(0, len(X), self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], targets[start:stop]
