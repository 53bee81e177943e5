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
from .data.normalize import ConstantFeatureWarning, Standardizer
from .data.split import Splits, auto_task, class_codes
from .diagnostics import Diagnosis
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
            source: str = "data", where: str = "prepare") -> Prepared:
    """Code the labels (``task``: one of :data:`TASKS`; ``"auto"`` reads text, integers and
    few distinct whole numbers as classes), standardize the inputs and a regression's
    target with the training rows' statistics. A standardized value more than 1e18 σ's from
    the training mean (the float32 network cannot use it) is an error naming ``source``, the
    part and the feature; ``where`` names the caller."""
    if not isinstance(splits, Splits):
        raise fail(where, "splits", "the result of deeprecipe.data.split(X, y)", splits,
                   error=TypeError)
    choice(where, "task", task, TASKS)
    parts = splits.parts
    labels = np.concatenate([np.asarray(part.y).reshape(len(part), -1) for part in
                             parts.values()])
    values = labels[:, 0] if labels.shape[1] == 1 else labels
    codes = None if _is_regression(values, task) else class_codes(values)
    if codes is None and task == "classification":
        raise fail(where, "splits", "class labels when task='classification'",
                   f"targets of dtype {values.dtype}")
    if codes is None:
        kind, classes, n_outputs = "regression", None, labels.shape[1]
        targets = np.asarray(values, dtype=np.float64)
    else:
        classes, targets = codes[0], codes[1].astype(np.intp)
        if len(classes) < 2:
            raise fail(where, "splits", "labels of at least two classes",
                       f"{len(classes)} class", "a classifier needs two classes or more")
        kind, n_outputs = ("binary", 1) if len(classes) == 2 else ("multiclass", len(classes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantFeatureWarning)  # said once, in the notes
        scaler = Standardizer().fit(splits.train.X, feature_names)
    notes = [finding for finding in [scaler.constant_finding()] if finding]
    ready: dict[str, Any] = {}
    pieces = np.split(targets, np.cumsum([len(part) for part in parts.values()])[:-1])
    for (name, part), y in zip(parts.items(), pieces, strict=True):
        X = scaler.transform(part.X)
        _check_standardized(X, name, source, feature_names)
        ready[name] = replace(part, X=X, y=y)
    coded = replace(splits, **ready)
    target_scale = TargetScale.fit(coded.train.y) if kind == "regression" else None
    learned = coded if target_scale is None else coded.map(y=target_scale.scaled)
    return Prepared(coded, learned, scaler, kind, n_outputs, classes, target_scale, notes)


def _is_regression(values: np.ndarray, task: str) -> bool:
    """As ``task`` says; for ``"auto"`` text and integers are classes, floats follow
    :func:`deeprecipe.data.split.auto_task`."""
    if task != "auto":
        return task == "regression"
    if values.ndim != 1 or values.dtype.kind != "f":
        return class_codes(values) is None  # one-hot rows are classes, other columns not
    return auto_task(values) == "regression"


def _check_standardized(X: np.ndarray, part: str, source: str,
                        feature_names: list[str] | None) -> None:
    distance = np.abs(X)
    if not X.size or float(distance.max()) <= FLOAT32_SAFE:
        return
    row, column = np.unravel_index(int(np.argmax(distance)), X.shape)
    feature = feature_names[column] if feature_names else f"feature {column}"
    raise ValueError(
        f"{source}: a {part} row's {feature} lies {float(distance[row, column]):.3g} training "
        f"standard deviations from the training mean; the network computes in float32 and "
        f"cannot use values more than {FLOAT32_SAFE:.0e} standard deviations away. help: look "
        "for a unit or typing error in that column, or rescale it (a logarithm).")


def augmentation(image_shape: Sequence[int], mean: np.ndarray, std: np.ndarray,
                 X_train: np.ndarray) -> augment.InRawUnits:
    """Small rotations, shifts and zooms (:func:`~deeprecipe.data.augment.small_affine`) of
    standardized rows in pixel units (``mean``, ``std``: the standardizer's), clipped to the
    range of the standardized training rows ``X_train``."""
    return augment.InRawUnits(augment.small_affine(image_shape), mean, std,
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
    :class:`~deeprecipe.data.Part`), ``stopping`` (early stopping) watching ``parts["dev"]``
    when there is one."""
    pairs = {name: tuple(part) for name, part in parts.items() if part is not None}
    return model.fit(
        *pairs["train"], validation_data=pairs.get("dev"), epochs=epochs,
        batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate,
        callbacks=[*callbacks] if stopping is None else [stopping, *callbacks], seed=seed,
        augment=augment, state=state)


def measure(model: Sequential, parts: Mapping[str, Any], history: History,
            bayes_error: float = 0.0, **thresholds: float) -> Diagnosis:
    """The train, dev (and test) errors of the trained ``model``, in inference mode over the
    whole parts, diagnosed (:meth:`Sequential.diagnose` with ``bayes_error``, the
    ``thresholds`` and ``history``'s divergence, if any)."""
    pairs = {name: tuple(part) for name, part in parts.items() if part is not None}
    return model.diagnose(pairs["train"], pairs["dev"], bayes_error, test=pairs.get("test"),
                          diverged=history.divergence or False, **thresholds)


def train_and_measure(model: Sequential, parts: Mapping[str, Any], *, bayes_error: float = 0.0,
                      **training: Any) -> tuple[History, Diagnosis]:
    """:func:`train`, then :func:`measure`."""
    history = train(model, parts, **training)
    return history, measure(model, parts, history, bayes_error)
