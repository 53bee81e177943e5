"""Built-in datasets: ``X, y = load(name)``; ``info(name)`` says the task, shape and (for
images) image shape. Nothing is downloaded: the real sets ship inside scikit-learn, the 2-D
sets are generated from ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from ._checks import choice, fail, non_negative, positive_int
from .data.split import target_kind


@dataclass(frozen=True)
class DatasetInfo:
    """What a built-in dataset is: ``task`` is binary, multiclass or regression
    (``n_classes`` 0)."""

    name: str
    task: str
    n_samples: int
    n_features: int
    n_classes: int
    image_shape: tuple[int, int] | None
    description: str


Pair = tuple[np.ndarray, np.ndarray]


def _class_sizes(n_samples: int) -> tuple[int, int]:
    return n_samples // 2, n_samples - n_samples // 2  # exactly n in all


def _flower(n_samples: int, noise: float, rng: np.random.Generator) -> Pair:
    """The course's planar "flower": two classes in the petals of ``r = 4 sin(4t)``."""
    X, sizes = [], _class_sizes(n_samples)
    for label, count in enumerate(sizes):
        t = np.linspace(label * 3.12, (label + 1) * 3.12, count)
        t += rng.normal(size=count) * 0.2 * (1 + noise)
        r = 4 * np.sin(4 * t) + rng.normal(size=count) * 0.2 * (1 + noise)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    return np.vstack(X), np.repeat([0, 1], sizes)


def _spirals(n_samples: int, noise: float, rng: np.random.Generator) -> Pair:
    """Two interleaved spirals."""
    first, second = _class_sizes(n_samples)
    t = np.sqrt(rng.random(second)) * 3 * np.pi
    arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) / (3 * np.pi)
    X = np.vstack([arm[:first], -arm]) + rng.normal(scale=noise, size=(n_samples, 2))
    return X, np.repeat([0, 1], (first, second))


def _sklearn() -> ModuleType:
    """scikit-learn's datasets, imported when first used (the import takes most of a second)."""
    import sklearn.datasets

    return sklearn.datasets


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31))  # scikit-learn's random_state


GENERATED: dict[str, tuple[Callable[[int, float, np.random.Generator], Pair], str]] = {
    "circles": (lambda n, noise, rng: _sklearn().make_circles(
        n, noise=noise, factor=0.5, random_state=_seed(rng)),
        "two concentric circles (the course's initialization exercise)"),
    "moons": (lambda n, noise, rng: _sklearn().make_moons(
        n, noise=noise, random_state=_seed(rng)), "two interleaving half moons"),
    "blobs": (lambda n, noise, rng: _sklearn().make_blobs(
        n, centers=3, cluster_std=1.0 + noise, random_state=_seed(rng)), "three Gaussian blobs"),
    "flower": (_flower, "the course's planar petals (two classes)"),
    "spirals": (_spirals, "two interleaved spirals"),
}

# scikit-learn's loader (a function of sklearn.datasets), image shape, description
REAL: dict[str, tuple[str, tuple[int, int] | None, str]] = {
    "digits": ("load_digits", (8, 8), "8x8 images of handwritten digits, 10 classes"),
    "breast_cancer": ("load_breast_cancer", None, "Wisconsin breast cancer, binary"),
    "iris": ("load_iris", None, "Fisher's iris, 3 classes"),
    "wine": ("load_wine", None, "wine cultivars, 3 classes"),
    "diabetes": ("load_diabetes", None, "disease progression a year after baseline, "
                 "regression (10 features, scaled)"),
}
REGRESSION = frozenset({"diabetes"})  # sets whose target is a value, not a class

NAMES = (*REAL, *GENERATED)


def list() -> tuple[str, ...]:
    """The names :func:`load` accepts."""
    return NAMES


def load(
    name: str, *, n_samples: int = 600, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` for a built-in dataset: ``X`` float64 ``(m, n)``, ``y`` integer labels
    (float64 values for a regression set: :data:`REGRESSION`).

    ``n_samples`` (exactly that many rows), ``noise`` and ``seed`` apply to the generated
    2-D sets only; the same ``seed`` gives the same data.
    """
    where = "datasets.load"
    choice(where, "name", name, NAMES)
    if name in REAL:
        X, y = getattr(_sklearn(), REAL[name][0])(return_X_y=True)
    else:
        if positive_int(where, "n_samples", n_samples) < 2:
            raise fail(where, "n_samples", ">= 2", n_samples)
        noise = non_negative(where, "noise", noise)
        X, y = GENERATED[name][0](n_samples, noise, np.random.default_rng(seed))
    return np.asarray(X, dtype=np.float64), np.asarray(
        y, dtype=np.float64 if name in REGRESSION else np.intp)


def info(name: str) -> DatasetInfo:
    """Task, shape and description of a built-in dataset (default generation options)."""
    X, y = load(name)
    n_classes = 0 if name in REGRESSION else len(np.unique(y))
    image_shape, description = REAL[name][1:] if name in REAL else (None, GENERATED[name][1])
    return DatasetInfo(name, target_kind(n_classes or None), X.shape[0], X.shape[1], n_classes,
                       image_shape, description)
