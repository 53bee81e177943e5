"""The one pipeline behind ``deeprecipe run`` (:mod:`.workflow`), ``tune`` (:mod:`.recipe`)
and the scikit-learn estimators (:mod:`.sklearn`): :func:`prepare` (standardize the inputs
and a regression's target, code the labels) → :func:`build_model` →
:func:`train_and_measure` (the estimators, which prepare their own targets: :func:`build_model`
→ :func:`train`). A network's task is one of :data:`~deeprecipe.data.KINDS`.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ._checks import choice, fail
from .callbacks import Callback
from .data import KINDS, TASKS, augment
from .data.normalize import CHUNK_ROWS, ConstantFeatureWarning, Standardizer
from .data.split import Part, Splits, auto_task, class_codes
from .diagnostics import Diagnosis, Yardstick
from .findings import Finding
from .layers import Dense, Dropout, Layer
from .model import Sequential
from .targets import FLOAT32_SAFE, TargetScale
from .training import History, TrainingState

__all__ = ["OUTPUTS", "Prepared", "augmentation", "build_model",
           "fingerprint", "measure", "prepare", "train",
           "train_and_measure"]

OUTPUTS = dict(zip(KINDS, ("sigmoid", "softmax", "linear"), strict=True))


def build_model(input_dim: int, task: str, n_outputs: int, hidden: Sequence[int] = (), *,
                activation: str = "relu", init: str | None = None, init_scale: float | None = None,
                keep_prob: float | Sequence[float] = 1.0, l2: float = 0.0, l1: float = 0.0,
                seed: int = 0, dtype: Any = "float32") -> Sequential:
    """Hidden ``Dense`` layers of ``hidden`` units, each followed by ``Dropout`` when its
    ``keep_prob`` (one for all, or one per hidden layer) is not 1, then the output layer of
    ``task`` (:data:`OUTPUTS`) with ``n_outputs`` units; ``init`` applies to every Dense
    layer (``None``: He for ReLU-like activations, else Xavier), as does ``init_scale``."""
    choice("build_model", "task", task, tuple(OUTPUTS))
    keep = [float(keep_prob)] * len(hidden) if isinstance(keep_prob, (int, float)) \
        else list(keep_prob)
    layers: list[Layer] = []
    for units, p in zip(hidden, keep, strict=True):
        layers.append(Dense(units, activation, init=init, init_scale=init_scale))
        if p != 1:
            layers.append(Dropout(p))
    layers.append(Dense(n_outputs, OUTPUTS[task], init=init, init_scale=init_scale))
    return Sequential(layers, input_dim=input_dim, l2=l2, l1=l1, seed=seed, dtype=dtype)


# --- preparation ------------------------------------------------------------------------------


@dataclass
class Prepared:
    """The splits made ready for a network.

    ``splits``: inputs standardized by ``standardizer`` (fitted on the training rows only),
    targets as class codes ``0 … k−1`` (``classes[code]`` is the label) or a regression's
    values in their own units; ``learned``: the same with a regression's target
    standardized by ``target_scale`` (what the network trains on). ``task`` and
    ``n_outputs`` are the network's; ``notes`` what was noticed (constant features).
    """

    splits: Splits
    learned: Splits
    standardizer: Standardizer
    task: str
    n_outputs: int
    classes: np.ndarray | None = None
    target_scale: TargetScale | None = None
    notes: list[Finding] = field(default_factory=list)


def prepare(splits: Splits, task: str = "auto", feature_names: list[str] | None = None,
            source: str = "data", where: str = "prepare", *, in_place: bool = False) -> Prepared:
    """Code the labels (``task``: one of :data:`TASKS`; ``"auto"`` reads text, integers and
    few distinct whole numbers as classes), standardize the inputs and a regression's
    target with the training rows' statistics. A standardized value more than 1e18 σ's from
    the training mean (the float32 network cannot use it) is an error naming ``source``, the
    part and the feature; ``where`` names the caller. ``in_place=True`` standardizes the
    splits' float ``X`` where it is (the caller's data is overwritten: for a job that owns
    it), else into a new array, float32 for float32 inputs and float64 otherwise."""
    if not isinstance(splits, Splits):
        raise fail(where, "splits", "the result of deeprecipe.data.split(X, y)", splits,
                   error=TypeError)
    choice(where, "task", task, TASKS)
    train = splits.train
    if any(part.source_X is not train.source_X or part.source_y is not train.source_y
           for part in splits.parts.values()):
        raise fail(where, "splits", "parts of one split (sharing its X and y)", splits,
                   error=TypeError)
    labels = np.asarray(train.source_y)
    values = labels[:, 0] if labels.ndim == 2 and labels.shape[1] == 1 else labels
    codes = None if _is_regression(values, task) else class_codes(values)
    if codes is None and task == "classification":
        raise fail(where, "splits", "class labels when task='classification'",
                   f"targets of dtype {values.dtype}")
    if codes is None:
        kind, classes = "regression", None
        targets = np.asarray(values, dtype=np.float64)
        n_outputs = 1 if targets.ndim == 1 else targets.shape[1]
    else:
        classes, targets = codes[0], codes[1].astype(np.intp)
        if len(classes) < 2:
            raise fail(where, "splits", "labels of at least two classes",
                       f"{len(classes)} class", "a classifier needs two classes or more")
        kind, n_outputs = ("binary", 1) if len(classes) == 2 else ("multiclass", len(classes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantFeatureWarning)  # said once, in the notes
        scaler = Standardizer().fit(train.source_X, feature_names, rows=train.indices)
    notes = [finding for finding in [scaler.constant_finding()] if finding]
    X = scaler.transform(train.source_X, out=_destination(train.source_X, in_place))
    _check_standardized(X, splits, source, feature_names)
    parts: dict[str, Any] = {name: replace(part, source_X=X, source_y=targets)
                             for name, part in splits.parts.items()}
    coded = replace(splits, **parts)
    target_scale = TargetScale.fit(coded.train.y) if kind == "regression" else None
    learned = coded if target_scale is None else coded.map(y=target_scale.scaled)
    return Prepared(coded, learned, scaler, kind, n_outputs, classes, target_scale, notes)


def _destination(X: np.ndarray, in_place: bool) -> np.ndarray:
    """Where the standardized ``X`` goes: ``X`` itself when allowed and possible, else a new
    array (float32 for float32 inputs, float64 otherwise, as the standardizer returns)."""
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    if in_place and X.dtype == dtype and X.flags.c_contiguous and X.flags.writeable:
        return X
    return np.empty(X.shape, dtype)


def _is_regression(values: np.ndarray, task: str) -> bool:
    """As ``task`` says; for ``"auto"`` text and integers are classes, floats follow
    :func:`deeprecipe.data.split.auto_task`."""
    if task != "auto":
        return task == "regression"
    if values.ndim != 1 or values.dtype.kind != "f":
        return class_codes(values) is None  # one-hot rows are classes, other columns not
    return auto_task(values) == "regression"


def _check_standardized(X: np.ndarray, splits: Splits, source: str,
                        feature_names: list[str] | None) -> None:
    """Refuse a standardized value the float32 network cannot use, naming its part."""
    for start in range(0, len(X), CHUNK_ROWS):
        distance = np.abs(X[start:start + CHUNK_ROWS])
        if not distance.size or float(distance.max()) <= FLOAT32_SAFE:
            continue
        row, column = np.unravel_index(int(np.argmax(distance)), distance.shape)
        part = next(name for name, part in splits.parts.items()
                    if np.any(part.indices == start + row))
        feature = feature_names[column] if feature_names else f"feature {column}"
        raise ValueError(
            f"{source}: a {part} row's {feature} lies {float(distance[row, column]):.3g} "
            f"training standard deviations from the training mean; the network computes in "
            f"float32 and cannot use values more than {FLOAT32_SAFE:.0e} standard deviations "
            "away. help: look for a unit or typing error in that column, or rescale it (a "
            "logarithm).")


def augmentation(image_shape: Sequence[int], mean: np.ndarray, std: np.ndarray,
                 X_train: np.ndarray, names: Sequence[str] | None = None
                 ) -> augment.InRawUnits:
    """The transforms ``names`` (:func:`~deeprecipe.data.augment.for_images`; ``None``: the
    image's :func:`~deeprecipe.data.augment.defaults`) of standardized rows in pixel units
    (``mean``, ``std``: the standardizer's), clipped to the range of the standardized
    training rows ``X_train``."""
    chosen = augment.defaults(image_shape) if names is None else names
    return augment.InRawUnits(augment.for_images(chosen, image_shape), mean, std,
                              X_train.min(axis=0), X_train.max(axis=0))


def fingerprint(*items: np.ndarray | str) -> str:
    """A SHA-256 of arrays (dtype, shape, values) and texts: resuming on other data is
    refused."""
    digest = hashlib.sha256()
    for item in items:
        if isinstance(item, str):
            digest.update(item.encode())
            continue
        array = np.ascontiguousarray(item)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)  # its own buffer: no copy of the data
    return digest.hexdigest()


# --- training and measuring -------------------------------------------------------------------


def train(
    model: Sequential, parts: Mapping[str, Any], *, epochs: int, batch_size: int | None,
    optimizer: Any, learning_rate: float | None = None, stopping: Callback | None = None,
    callbacks: Sequence[Callback] = (), seed: int | None = None,
    augment: augment.InRawUnits | None = None, state: TrainingState | None = None,
) -> History:
    """Train ``model`` on ``parts["train"]`` (each part an ``(X, y)`` pair or a
    :class:`~deeprecipe.data.Part`, whose rows are read where they are), ``stopping`` (early
    stopping) watching ``parts["dev"]`` when there is one."""
    train, dev = parts["train"], parts.get("dev")
    X, y, rows = (train.source_X, train.source_y, train.indices) if isinstance(train, Part) \
        else (*train, None)
    return model.fit(
        X, y, rows=rows, validation_data=None if dev is None else tuple(dev), epochs=epochs,
        batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate,
        callbacks=[*callbacks] if stopping is None else [stopping, *callbacks], seed=seed,
        augment=augment, state=state)


def measure(model: Sequential, parts: Mapping[str, Any], history: History,
            bayes_error: float | str | Yardstick = 0.0, **thresholds: float) -> Diagnosis:
    """The train, dev (and test, and train-dev) errors of the trained ``model``, in inference
    mode over the whole parts (a :class:`~deeprecipe.data.Part` read in chunks, never
    gathered; the training part on a sample of at most
    :data:`~deeprecipe.model.MEASURED_TRAIN_ROWS` rows), diagnosed
    (:meth:`Sequential.diagnose` with ``bayes_error``, the
    ``thresholds`` and ``history``'s divergence, if any). ``bayes_error`` passes through: a
    number, a :class:`~deeprecipe.diagnostics.Yardstick` (fitted once by the caller), or ``"auto"``
    (fit the references here); 0 by default, for the recipe's trials."""
    pairs = {name: part if isinstance(part, Part) else tuple(part)
             for name, part in parts.items() if part is not None}
    return model.diagnose(pairs["train"], pairs["dev"], bayes_error, test=pairs.get("test"),
                          diverged=history.divergence or False,
                          train_dev=pairs.get("train_dev"), **thresholds)


def train_and_measure(model: Sequential, parts: Mapping[str, Any], *,
                      bayes_error: float | str | Yardstick = 0.0,
                      **training: Any) -> tuple[History, Diagnosis]:
    """:func:`train`, then :func:`measure`."""
    history = train(model, parts, **training)
    return history, measure(model, parts, history, bayes_error)
