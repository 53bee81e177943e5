"""The report's image galleries (:func:`galleries` → :class:`Galleries`): training images
beside their augmented versions (:class:`Augmented`), and the dev images the network gets
wrong (:class:`Mistakes`). Computed once by the workflow, in the images' own pixel units;
the report only draws them, it never runs the model or the augmentation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import fail
from ..data.normalize import CHUNK_ROWS

if TYPE_CHECKING:
    from ..data import Part, Splits
    from ..data.normalize import Standardizer
    from ..model import Sequential

ORIGINALS = 6  # training images the augmentation gallery shows, of as many classes as it can
VERSIONS = 5  # augmented versions of each
MISTAKES = 24  # dev images the mistakes gallery shows at most: the most confident first
SEARCH = 10_000  # training rows searched for one image of each class (a big part is sampled)


@dataclass(frozen=True)
class Augmented:
    """Training images and what augmentation makes of them: ``originals`` ``(k, h, w[, c])``
    and ``versions`` ``(k, v, h, w[, c])``, each a fresh draw of the run's augmentation
    (as training sees it, clipped to the training range), ``transforms`` its names and
    ``rows`` the originals' rows in the data."""

    originals: np.ndarray
    versions: np.ndarray
    transforms: tuple[str, ...]
    rows: list[int]

    def to_dict(self) -> dict[str, Any]:
        """What ``summary.json`` keeps: the transforms, the rows and how many versions."""
        return {"transforms": list(self.transforms), "rows": self.rows,
                "versions": int(self.versions.shape[1])}


@dataclass(frozen=True)
class Mistakes:
    """Dev images the network gets wrong, at most :data:`MISTAKES` of the ``total``
    (of ``n_dev`` dev images): ``images`` ``(k, h, w[, c])``, their ``true`` and
    ``predicted`` labels and the network's ``confidence`` in its prediction, most confident
    first (a regression's: the largest errors first, ``confidence`` ``None``); ``rows``
    are their rows in the data."""

    images: np.ndarray
    true: list[Any]
    predicted: list[Any]
    confidence: list[float] | None
    rows: list[int]
    total: int
    n_dev: int

    def to_dict(self) -> dict[str, Any]:
        """What ``summary.json`` keeps: everything but the pixels."""
        return {"total": self.total, "n_dev": self.n_dev, "rows": self.rows, "true": self.true,
                "predicted": self.predicted, "confidence": self.confidence}


@dataclass(frozen=True)
class Galleries:
    """A run's galleries: ``augmented`` (``None`` without augmentation) and ``mistakes``
    (``None`` when the dev set has none)."""

    augmented: Augmented | None = None
    mistakes: Mistakes | None = None


def galleries(
    model: Sequential, splits: Splits, standardizer: Standardizer,
    image_shape: Sequence[int], task: str, classes: Sequence[Any] | None = None, *,
    augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    transforms: Sequence[str] = (), seed: int = 0,
) -> Galleries:
    """The galleries of a trained ``model`` on the standardized ``splits`` it was trained
    on (``standardizer`` maps their rows back to pixels of ``image_shape``): the
    :class:`Augmented` gallery when ``augment`` (the run's, on standardized rows; its
    ``transforms`` names) is given, drawn with ``seed``, and the :class:`Mistakes` of the
    dev part. ``task`` is ``"regression"`` or a classification's; ``classes[code]`` names
    a class code (``None``: the codes)."""
    shape = tuple(int(d) for d in image_shape)
    if int(np.prod(shape)) != splits.train.shape[1]:
        raise fail("galleries", "image_shape", f"a shape of {splits.train.shape[1]} pixels "
                   "(the splits' features)", image_shape)
    pixels = _pixels(standardizer, shape)
    augmented = None
    if augment is not None:
        augmented = _augmented(splits.train, augment, tuple(transforms), pixels,
                               np.random.default_rng(seed))
    return Galleries(augmented, _mistakes(model, splits.dev, task, classes, pixels,
                                          standardizer))


def _pixels(standardizer: Standardizer, shape: tuple[int, ...]
            ) -> Callable[[np.ndarray], np.ndarray]:
    """Standardized rows → images of ``shape`` in the data's units (float64)."""
    def images(rows: np.ndarray) -> np.ndarray:
        raw = standardizer.inverse_transform(np.asarray(rows, dtype=np.float64))
        return raw.reshape(len(rows), *shape)

    return images


def _augmented(train: Part, augment: Callable[[np.ndarray, np.random.Generator], np.ndarray],
               transforms: tuple[str, ...], pixels: Callable[[np.ndarray], np.ndarray],
               rng: np.random.Generator) -> Augmented:
    """:data:`ORIGINALS` training images, one per class while classes last (among
    :data:`SEARCH` random rows), and :data:`VERSIONS` augmented versions of each."""
    order = rng.choice(len(train), size=min(len(train), SEARCH), replace=False)
    y = train.source_y[train.indices[order]]
    firsts = order[np.unique(y, return_index=True)[1]]  # a random row of each class
    rest = np.setdiff1d(order, firsts, assume_unique=True)
    picked = np.concatenate([rng.permutation(firsts), rng.permutation(rest)])[:ORIGINALS]
    X, _ = train.take(picked)
    versions = np.stack([pixels(augment(X, rng)) for _ in range(VERSIONS)], axis=1)
    return Augmented(pixels(X), versions, transforms,
                     [int(row) for row in train.indices[picked]])


def _mistakes(model: Sequential, dev: Part, task: str, classes: Sequence[Any] | None,
              pixels: Callable[[np.ndarray], np.ndarray], standardizer: Standardizer
              ) -> Mistakes | None:
    """The dev images a classifier gets wrong, most confident first, or a regression's
    largest errors (at most :data:`MISTAKES`); ``None`` when there are none."""
    if not len(dev):
        return None
    outputs = []
    for start in range(0, len(dev), CHUNK_ROWS):  # the dev part is read a chunk at a time
        X, _ = dev.take(slice(start, start + CHUNK_ROWS))
        if model.standardizer is not None:  # the model standardizes raw inputs itself
            X = standardizer.inverse_transform(X)
        outputs.append(model.predict(X) if task == "regression" else model.predict_proba(X))
    y = dev.source_y[dev.indices]
    out = np.concatenate(outputs)
    if task == "regression":
        error = np.abs(np.asarray(out, dtype=np.float64).reshape(len(y), -1)[:, 0] - y)
        shown = np.argsort(-error, kind="stable")[:MISTAKES]
        total, confidence = len(y), None
        predicted = [float(v) for v in out[shown]]
        true = [float(v) for v in y[shown]]
    else:
        guess = out.argmax(axis=1)
        wrong = np.flatnonzero(guess != y)
        sure = out[wrong, guess[wrong]]
        shown = wrong[np.argsort(-sure, kind="stable")][:MISTAKES]
        total, confidence = len(wrong), [float(p) for p in out[shown, guess[shown]]]
        names = list(range(out.shape[-1])) if classes is None else list(classes)
        true = [_plain(names[int(code)]) for code in y[shown]]
        predicted = [_plain(names[int(code)]) for code in guess[shown]]
    if total == 0:
        return None
    X, _ = dev.take(shown)
    return Mistakes(pixels(X), true, predicted, confidence,
                    [int(row) for row in dev.indices[shown]], total, len(dev))


def _plain(label: Any) -> Any:
    """A label as a JSON type (NumPy numbers and strings as Python's)."""
    return label.item() if isinstance(label, np.generic) else label
