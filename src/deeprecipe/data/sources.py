"""Two sources of data joined into one (``--dev-test-data``): the training source's rows
first, then the rows of the data you care about, which dev and test come from
(:func:`~deeprecipe.data.split.split_sources` splits the result).

:func:`join` merges the classes by label, the text columns' categories by text, and
refuses features that do not match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

__all__ = ["Joined", "Source", "join"]


class Source(Protocol):
    """What :func:`join` reads of each source (a :class:`~deeprecipe.data.Dataset` or a
    loaded data set): ``y`` holds class indices into ``classes`` (``None``: regression
    values); ``categories`` maps a text column to its categories (``X`` holds the index)."""

    @property
    def X(self) -> np.ndarray: ...
    @property
    def y(self) -> np.ndarray: ...
    @property
    def classes(self) -> Any: ...
    @property
    def feature_names(self) -> Any: ...
    @property
    def categories(self) -> dict[int, list[str]]: ...


@dataclass(frozen=True)
class Joined:
    """The rows of both sources (the first's, then the second's): ``X`` ``(m, n)``, ``y``
    class indices into ``classes`` (``None``: regression), ``categories`` merged."""

    X: np.ndarray
    y: np.ndarray
    classes: list[Any] | None
    categories: dict[int, list[str]]


def join(first: Source, second: Source, names: tuple[str, str] = ("data", "dev_test_data")
         ) -> Joined:
    """Join ``second``'s rows after ``first``'s (``names`` name them in errors).

    The features must match: as many (rows flattened), with the same names in the same
    order when both have names, the same text columns. Classes are merged by label (the
    union, sorted when the labels sort: a class of one source only is allowed); categories
    by text (the first's, then the second's new ones). A regression target beside class
    labels is refused. Every refusal is a ``ValueError`` naming ``dev_test_data``.
    """
    a, b = names
    X1, X2 = first.X.reshape(len(first.X), -1), second.X.reshape(len(second.X), -1)
    where = f"dev_test_data: {b} must have the features of {a}"
    if X1.shape[1] != X2.shape[1]:
        raise ValueError(f"{where}; received {X2.shape[1]} features beside {X1.shape[1]}. "
                         "help: both files need the same feature columns (and the same "
                         "image size).")
    names1, names2 = first.feature_names, second.feature_names
    if names1 and names2 and list(names1) != list(names2):
        differ = next(i for i, pair in enumerate(zip(names1, names2, strict=True))
                      if pair[0] != pair[1])
        raise ValueError(f"{where}, in the same order; received column {differ + 1} "
                         f"{names2[differ]!r} where {a} has {names1[differ]!r}.")
    if set(first.categories) != set(second.categories):
        columns = sorted(set(first.categories) ^ set(second.categories))
        raise ValueError(f"{where}; received text in column(s) {[c + 1 for c in columns]} of "
                         "one file and numbers in the other.")
    if (first.classes is None) != (second.classes is None):
        kinds = ["a regression target" if s.classes is None else "class labels"
                 for s in (first, second)]
        raise ValueError(f"dev_test_data: {b} must have the kind of target {a} has "
                         f"({kinds[0]}); received {kinds[1]}. help: set `task` to say what "
                         "the target is.")
    X = np.concatenate([X1, X2.astype(X1.dtype, copy=False)])
    categories = {}
    for column, known in first.categories.items():
        merged = list(known) + [c for c in second.categories[column] if c not in known]
        codes = np.array([merged.index(c) for c in second.categories[column]], dtype=X.dtype)
        tail = X[len(X1):, column]
        present = ~np.isnan(tail)
        tail[present] = codes[tail[present].astype(np.intp)]
        categories[column] = merged
    if first.classes is None:
        y = np.concatenate([first.y, second.y]).astype(np.float64, copy=False)
        return Joined(X, y, None, categories)
    classes = _merged(list(first.classes), list(second.classes))
    index = {_key(label): i for i, label in enumerate(classes)}
    recode = [np.array([index[_key(label)] for label in source.classes], dtype=np.intp)
              for source in (first, second)]
    y = np.concatenate([recode[0][np.asarray(first.y, dtype=np.intp)],
                        recode[1][np.asarray(second.y, dtype=np.intp)]])
    return Joined(X, y, classes, categories)


def _key(label: Any) -> Any:
    """A label as a dictionary key: ``1``, ``1.0`` and ``np.int64(1)`` are one class."""
    return label.item() if isinstance(label, np.generic) else label


def _merged(first: list[Any], second: list[Any]) -> list[Any]:
    """The union of two label lists: sorted when the labels sort, else the first's order
    then the second's new ones."""
    keys = [_key(label) for label in first]
    union = keys + [key for key in (_key(label) for label in second) if key not in keys]
    try:
        return sorted(union)
    except TypeError:  # text beside numbers
        return union
