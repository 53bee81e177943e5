"""Train / dev / test splits (:func:`split`): the notes' sizes (:func:`split_sizes`),
stratified by class, reproducible from a seed; and the vocabulary of targets (TASKS, KINDS)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import as_generator, describe, fail, flag, integer
from ..findings import Finding, say

SHARE = 0.2  # the notes' 60/20/20 for small data
CAP = 10_000  # … and at most 10,000 dev and test examples for big data
TOLERANCE = 1e-9  # 0.29 * 100 is 28.999999999999996 in floating point: floor it to 29


class ClassMissingWarning(UserWarning):
    """A class has no examples in one of the parts (``args[0]``: the ``class_missing``
    :class:`~deeprecipe.findings.Finding`)."""


@dataclass(frozen=True, kw_only=True)
class Part:
    """One part of a split: the rows ``indices`` of the split's whole arrays ``source_X`` and
    ``source_y``, which every part shares (a split never copies the data).

    ``X`` and ``y`` gather the part's rows (a copy on every access: cheap for dev and test,
    not for the training rows of a big data set); :meth:`take` and :meth:`sample` gather a few
    of them; unpacks as ``X, y = part``."""

    source_X: np.ndarray
    source_y: np.ndarray
    indices: np.ndarray

    @property
    def X(self) -> np.ndarray:
        return self.source_X[self.indices]

    @property
    def y(self) -> np.ndarray:
        return self.source_y[self.indices]

    @property
    def shape(self) -> tuple[int, ...]:
        """``X``'s shape, without gathering it."""
        return (len(self), *self.source_X.shape[1:])

    def take(self, positions: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of the part's rows at ``positions`` (a slice or an index array)."""
        rows = self.indices[positions]
        return self.source_X[rows], self.source_y[rows]

    def sample(self, max_rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of at most ``max_rows`` rows: all of them, in order, when the part is
        that small, else a random subset drawn with ``rng`` (kept in the part's order)."""
        return self.take(sample_positions(len(self), max_rows, rng))

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.y))

    def __repr__(self) -> str:
        return (f"Part(n={len(self)}, X={describe(self.source_X)}[indices], "
                f"y={describe(self.source_y)}[indices])")


def sample_positions(n: int, max_rows: int, rng: np.random.Generator) -> slice | np.ndarray:
    """Positions of at most ``max_rows`` of ``n`` rows: all of them (``slice(None)``, nothing
    drawn) when ``n <= max_rows``, else ``max_rows`` drawn with ``rng`` without replacement,
    sorted (the rows keep their order)."""
    if n <= max_rows:
        return slice(None)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


@dataclass(frozen=True)
class Splits:
    """The parts of :func:`split`: ``train``, ``dev`` and ``test`` (``None`` with two ratios);
    without a test set ``note`` says that the dev error is not an unbiased estimate. Two
    sources (:func:`split_sources`) add ``train_dev``: training-source rows held out of
    training, so that dev − train-dev measures the data mismatch."""

    train: Part
    dev: Part
    test: Part | None
    stratified: bool
    note: str = ""
    # rows held out of the training source, of its distribution (split_sources); else None
    train_dev: Part | None = None

    @property
    def has_test(self) -> bool:
        return self.test is not None

    @property
    def parts(self) -> dict[str, Part]:
        """``{"train": …, "train_dev": …, "dev": …, "test": …}``, in that order (no
        ``"train_dev"`` from one source, no ``"test"`` without a test set)."""
        named = {"train": self.train, "train_dev": self.train_dev, "dev": self.dev,
                 "test": self.test}
        return {name: part for name, part in named.items() if part is not None}

    def sizes(self) -> dict[str, int]:
        return {name: len(part) for name, part in self.parts.items()}

    def map(self, **columns: Callable[[np.ndarray], np.ndarray]) -> Splits:
        """The same splits over new whole arrays: each named one (``X``, ``y``) passed once
        through its function, which must map rows to rows (``splits.map(X=scaler.transform)``)."""
        sources = {f"source_{column}": function(getattr(self.train, f"source_{column}"))
                   for column, function in columns.items()}
        parts: dict[str, Any] = {name: replace(part, **sources)
                                 for name, part in self.parts.items()}
        return replace(self, **parts)

    def __iter__(self) -> Iterator[Part | None]:
        """``train, dev, test = splits`` (``test`` is ``None`` without a test set)."""
        return iter((self.train, self.dev, self.test))


def _check_ratios(ratios: Sequence[float]) -> tuple[float, ...]:
    constraint = "2 or 3 positive fractions (train, dev[, test]) summing to 1"
    try:
        values = tuple(float(r) for r in ratios)
    except (TypeError, ValueError):
        raise fail("split", "ratios", constraint, ratios) from None
    if len(values) not in (2, 3) or not all(math.isfinite(v) and v > 0 for v in values):
        raise fail("split", "ratios", constraint, ratios)
    if abs(sum(values) - 1) > 1e-6:
        raise fail("split", "ratios", constraint, ratios, f"they sum to {sum(values):g}")
    return values


def split_sizes(m: int, ratios: Sequence[float] | None = None) -> tuple[int, int, int | None]:
    """``(train, dev, test)`` sizes for ``m`` rows (``test`` is ``None`` with two ratios).

    ``split_sizes(1797)`` is ``(1079, 359, 359)``; ``split_sizes(10**6)`` is
    ``(980000, 10000, 10000)``; ``split_sizes(1797, (0.8, 0.2))`` is ``(1438, 359, None)``.
    Sizes may be 0 for tiny ``m``: :func:`split` refuses those (see :func:`min_rows`).
    """
    m = integer("split_sizes", "m", m, 0, "a number of rows (an integer >= 0)")
    if ratios is None:
        dev = test = min(math.floor(SHARE * m + TOLERANCE), CAP)
        return m - dev - test, dev, test
    values = _check_ratios(ratios)
    dev = math.floor(values[1] * m + TOLERANCE)
    if len(values) == 2:
        return m - dev, dev, None
    test = math.floor(values[2] * m + TOLERANCE)
    return m - dev - test, dev, test


def min_rows(ratios: Sequence[float] | None = None) -> int:
    """The fewest rows for which every part of the split gets at least one example.

    ``min_rows()`` is 5 (⌊0.2·5⌋ = 1 dev and 1 test row, 3 train rows);
    ``min_rows((0.7, 0.15, 0.15))`` is 7.
    """
    m = 2
    if ratios is not None:
        m = max(m, *(math.ceil(1 / r) - 1 for r in _check_ratios(ratios)))
    while min(size for size in split_sizes(m, ratios) if size is not None) < 1:
        m += 1
    return m


# TASKS: what a user says a target is ("auto": auto_task decides); KINDS: what it turns out to be.
TASKS = ("auto", "classification", "regression")
KINDS = ("binary", "multiclass", "regression")
MAX_AUTO_CLASSES, ROWS_PER_CLASS = 20, 10  # more whole numbers (> 1 per 10 rows): regression


def auto_task(values: np.ndarray) -> str:
    """``"regression"`` for numbers with a fractional part, or with more than 20 distinct
    whole numbers and more than one per 10 rows (ages, prices), else ``"classification"``."""
    if not (values == np.round(values)).all():
        return "regression"
    distinct = len(unique_codes(values)[0])
    many = distinct > MAX_AUTO_CLASSES and distinct * ROWS_PER_CLASS > len(values)
    return "regression" if many else "classification"


SMALL_RANGE = 1 << 20  # whole numbers within this range are coded by counting, not sorting


def unique_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` with 1-D codes; in linear time (by
    counting) for whole numbers within a range of :data:`SMALL_RANGE`, as class labels are:
    sorting ten million labels takes seconds."""
    if values.ndim == 1 and values.dtype.kind in "iuf" and values.size:
        low, high = values.min(), values.max()
        span = float(high) - float(low)  # NaN or inf for such values: sorted below
        if span < SMALL_RANGE and (values.dtype.kind != "f" or (values == np.round(values)).all()):
            offset = (values - low).astype(np.intp)
            present = np.bincount(offset) > 0
            classes = (np.flatnonzero(present) + low).astype(values.dtype)
            return classes, (np.cumsum(present) - 1)[offset]
    classes, codes = np.unique(values, return_inverse=True)
    return classes, codes.reshape(-1)


def target_kind(n_classes: int | None) -> str:
    """The :data:`KINDS` entry of a target with ``n_classes`` classes (``None``: regression)."""
    return "regression" if n_classes is None else "binary" if n_classes == 2 else "multiclass"


def class_codes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(classes, codes)`` with ``classes[codes]`` the labels when ``y`` holds class labels,
    else ``None`` (a continuous or multi-output target)."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2 and y.dtype.kind in "biuf" and np.isin(y, (0, 1)).all() and (
        y.sum(axis=1) == 1
    ).all():
        y = y.argmax(axis=1)  # one-hot rows
    if y.ndim != 1 or y.dtype.kind not in "biufUSO":
        return None
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all()):
        return None
    try:
        classes, codes = unique_codes(y)
    except TypeError:  # objects that do not sort: compare them as text
        classes, codes = np.unique(y.astype(str), return_inverse=True)
    return classes, codes.reshape(-1)


def largest_remainder(capacity: np.ndarray, size: int) -> np.ndarray:
    """Share ``size`` among classes in proportion to ``capacity`` (integers with a positive sum
    of at least ``size``): floors of the quotas, then +1 to the largest remainders (stable)."""
    quota = capacity * size / int(capacity.sum())
    counts = np.floor(quota + TOLERANCE).astype(np.intp)
    left = size - int(counts.sum())
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[:left]] += 1
    return counts


def _stratified(
    codes: np.ndarray, n_classes: int, sizes: tuple[int, int], rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Sorted row indices of (train, dev, test), every class shared by largest remainder;
    within a class the rows go, in order (shuffled by ``rng`` first), to train, dev, test."""
    members = [np.flatnonzero(codes == c) for c in range(n_classes)]
    if rng is not None:
        members = [rng.permutation(rows) for rows in members]
    counts = np.array([len(rows) for rows in members])
    dev = largest_remainder(counts, sizes[0])
    test = largest_remainder(counts - dev, sizes[1])
    train = counts - dev - test
    cuts = [np.split(rows, [train[c], train[c] + dev[c]]) for c, rows in enumerate(members)]
    return [_in_order(np.concatenate(part), len(codes)) for part in zip(*cuts, strict=True)]


def _in_order(rows: np.ndarray, m: int) -> np.ndarray:
    """``np.sort(rows)`` for distinct indices into ``m`` rows, by marking them: linear, where
    sorting the 9.8 million training rows of ten million took 0.8 s."""
    marked = np.zeros(m, dtype=bool)
    marked[rows] = True
    return np.flatnonzero(marked)


def _warn_missing(classes: np.ndarray, codes: np.ndarray, parts: dict[str, np.ndarray]) -> None:
    absent = {name: np.flatnonzero(np.bincount(codes[rows], minlength=len(classes)) == 0)
              for name, rows in parts.items()}
    missing = {name: [classes[i].item() for i in ids] for name, ids in absent.items() if ids.size}
    if missing:
        smallest = int(np.bincount(codes, minlength=len(classes)).min())
        warnings.warn(ClassMissingWarning(Finding("class_missing", {
            "missing": missing, "smallest": smallest})), stacklevel=3)


def _strata(
    where: str, y: np.ndarray, stratify: bool | str
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(classes, codes)`` to stratify by (``stratify`` as :func:`split` reads it), or
    ``None``."""
    if stratify not in (True, False, "auto"):
        raise fail(where, "stratify", "True, False or 'auto'", stratify)
    labels = class_codes(y) if stratify else None
    if stratify == "auto" and labels is not None and y.dtype.kind in "iuf" \
            and y.ndim == 1 and auto_task(y) == "regression":
        labels = None  # many distinct whole numbers: a regression target, not classes
    return labels


def split(
    X: ArrayLike,
    y: ArrayLike,
    ratios: Sequence[float] | None = None,
    stratify: bool | str = "auto",
    shuffle: bool = True,
    seed: int | np.random.Generator = 0,
) -> Splits:
    """Split the rows of ``X`` (any shape ``(m, …)``) and ``y`` (``(m,)`` or ``(m, k)``) into
    train, dev and test parts.

    ``ratios=None`` gives dev = test = ``min(⌊0.2·m⌋, 10,000)`` (60/20/20 for small data,
    98/1/1 for a million rows); ``ratios=(train, dev, test)`` or ``(train, dev)`` floors dev
    and test and gives the rest to train. ``stratify`` keeps class proportions (each part
    shared among the classes by largest remainder) when ``y`` holds class labels: ``"auto"``
    (default) when they are text or whole numbers with few distinct values
    (:func:`auto_task`: a continuous target, or many whole numbers such as ages, is split at
    random), ``True`` for any discrete labels, ``False`` never. ``shuffle=False`` keeps the
    row order (train, dev, test; within each class when stratified). ``seed`` (an int or a
    ``np.random.Generator``) makes the split reproducible.

    Parts are disjoint and together cover every row; each part's ``indices`` are sorted
    (``shuffle=False``) or in random order. The parts hold ``X`` and ``y`` themselves, not
    copies of their rows (a part's ``X`` gathers them when asked). A class missing from a
    part raises a :class:`ClassMissingWarning`; too few rows for a part is a ``ValueError``.

    Example::

        s = split(X, y, seed=0)                  # 1,797 digits -> 1,079 / 359 / 359
        model.fit(*s.train, validation_data=(s.dev.X, s.dev.y))
        s2 = split(X, y, ratios=(0.8, 0.2))      # s2.test is None; s2.note explains why
    """
    where = "split"
    X_array, y_array = np.asarray(X), np.asarray(y)
    if X_array.ndim < 1 or len(X_array) == 0:
        raise fail(where, "X", "an array with at least one row", X_array)
    if y_array.ndim < 1 or len(y_array) != len(X_array):
        raise fail(where, "y.shape", f"(len(X),) or (len(X), k) with len(X) = {len(X_array)}",
                   y_array.shape)
    generator = as_generator(where, "seed", seed)
    shuffle = flag(where, "shuffle", shuffle)
    m = len(X_array)
    n_train, n_dev, n_test = split_sizes(m, ratios)
    if min(n_train, n_dev, 1 if n_test is None else n_test) < 1:
        raise fail(where, "the number of rows", f"at least {min_rows(ratios)} for "
                   f"ratios={ratios} (sizes would be train={n_train}, dev={n_dev}, "
                   f"test={n_test})", m)
    rng = generator if shuffle else None
    labels = _strata(where, y_array, stratify)
    if labels is not None:
        train, dev, test = _stratified(labels[1], len(labels[0]), (n_dev, n_test or 0), rng)
    else:
        order = rng.permutation(m) if rng is not None else np.arange(m)
        train, dev, test = np.split(order, [n_train, n_train + n_dev])
    named = {"train": train, "dev": dev, "test": test}
    if n_test is None:
        del named["test"]
    if rng is not None:
        named = {name: rng.permutation(rows) for name, rows in named.items()}
    if labels is not None:  # stratify=False: the target is not classes
        _warn_missing(*labels, named)
    parts = {name: Part(source_X=X_array, source_y=y_array, indices=rows)
             for name, rows in named.items()}
    return Splits(parts["train"], parts["dev"], parts.get("test"), labels is not None,
                  note="" if n_test is not None else say("no_test_split"))


SETS = ("train", "dev", "test")  # the names of a file's own sets (Dataset.sets)


def _carve(
    rows: np.ndarray, labels: tuple[np.ndarray, np.ndarray] | None, sizes: tuple[int, int],
    rng: np.random.Generator | None,
) -> list[np.ndarray]:
    """``rows`` cut into (the rest, ``sizes[0]`` rows, ``sizes[1]`` rows): stratified by
    ``labels`` like :func:`split` when given, else at random (in order without ``rng``)."""
    if labels is not None:
        cuts = _stratified(labels[1][rows], len(labels[0]), sizes, rng)
        return [rows[cut] for cut in cuts]
    order = rng.permutation(rows) if rng is not None else rows
    return np.split(order, [len(rows) - sum(sizes), len(rows) - sizes[1]])


def _file_sets(where: str, sets: Sequence[tuple[str, int]], m: int) -> dict[str, np.ndarray]:
    """The rows of each of a file's own ``sets`` (consecutive, in order), checked."""
    constraint = (f"(name, rows) pairs with names from {SETS}, each once with at least 1 row, "
                  f"rows summing to {m}")
    try:
        pairs = [(str(name), int(size)) for name, size in sets]
    except (TypeError, ValueError):
        raise fail(where, "sets", constraint, sets) from None
    names = [name for name, _ in pairs]
    if (any(name not in SETS for name in names) or len(set(names)) < len(names)
            or any(size < 1 for _, size in pairs) or sum(size for _, size in pairs) != m):
        raise fail(where, "sets", constraint, tuple(pairs))
    stops = np.cumsum([size for _, size in pairs])
    return {name: np.arange(stop - size, stop)
            for (name, size), stop in zip(pairs, stops, strict=True)}


def split_sets(
    X: ArrayLike,
    y: ArrayLike,
    sets: Sequence[tuple[str, int]],
    stratify: bool | str = "auto",
    shuffle: bool = True,
    seed: int | np.random.Generator = 0,
) -> Splits:
    """Train, dev and test parts that keep a file's own ``sets``
    (:attr:`~deeprecipe.data.io.Dataset.sets`: ``(name, rows)`` in row order, names from
    :data:`SETS`; a file's validation set is ``"dev"``).

    The file's training set is the training part. A file with a dev and a test set keeps
    both as they are; a file with only one of them has it halved into dev (the larger half)
    and test, stratified as :func:`split` does (``stratify``, ``shuffle``, ``seed`` as there).
    No sets, or one set alone, is data the file leaves unsplit: :func:`split` with the
    notes' sizes. A class missing from a part raises a :class:`ClassMissingWarning`.

    Example::

        s = split_sets(X, y, (("train", 211), ("dev", 200)))   # train 211, dev 100, test 100
    """
    where = "split_sets"
    X_array, y_array = np.asarray(X), np.asarray(y)
    if len(tuple(sets)) <= 1:
        return split(X_array, y_array, stratify=stratify, shuffle=shuffle, seed=seed)
    if y_array.ndim < 1 or len(y_array) != len(X_array):
        raise fail(where, "y.shape", f"(len(X),) or (len(X), k) with len(X) = {len(X_array)}",
                   y_array.shape)
    given = _file_sets(where, sets, len(X_array))
    if "train" not in given:
        raise fail(where, "sets", "a training set beside the dev or test set",
                   tuple(sets), "a file of dev and test examples only is --dev-test-data")
    rng = as_generator(where, "seed", seed) if flag(where, "shuffle", shuffle) else None
    labels = _strata(where, y_array, stratify)
    named = {"train": given["train"]}
    if "dev" in given and "test" in given:
        named.update(dev=given["dev"], test=given["test"])
    else:
        held = given["dev"] if "dev" in given else given["test"]  # beside train
        if len(held) < 2:
            raise fail(where, "sets", "a dev or test set of at least 2 rows to halve",
                       tuple(sets))
        _, named["dev"], named["test"] = _carve(held, labels, (len(held) - len(held) // 2,
                                                                len(held) // 2), rng)
    if rng is not None:
        named = {name: rng.permutation(rows) for name, rows in named.items()}
    if labels is not None:
        _warn_missing(*labels, named)
    parts = {name: Part(source_X=X_array, source_y=y_array, indices=rows)
             for name, rows in named.items()}
    return Splits(parts["train"], parts["dev"], parts["test"], labels is not None)


def split_sources(
    X: ArrayLike,
    y: ArrayLike,
    first: int,
    sets: Sequence[tuple[str, int]] = (),
    stratify: bool | str = "auto",
    shuffle: bool = True,
    seed: int | np.random.Generator = 0,
) -> Splits:
    """Train, train-dev, dev and test parts from two sources: rows ``[:first]`` are the
    training source, rows ``[first:]`` the data you care about (with its own ``sets``, as
    :func:`split_sets` reads them).

    Dev and test come only from the second source: its dev and test sets as
    :func:`split_sets` keeps or halves them, or, when it leaves them unsplit, the notes'
    sizes of its rows (``min(⌊0.2·m⌋, 10,000)`` each); the rest of it joins training. The
    ``train_dev`` part is held out of the first source's rows: as many as dev (at most
    10,000 and at most half of them), stratified. The training part is the first source's
    other rows and what is left of the second. A class missing from a part raises a
    :class:`ClassMissingWarning`.

    Example::

        s = split_sources(X, y, first=209)   # 209 web photos, then 50 from phones
        s.sizes()  # {'train': 229, 'train_dev': 10, 'dev': 10, 'test': 10}
    """
    where = "split_sources"
    X_array, y_array = np.asarray(X), np.asarray(y)
    if y_array.ndim < 1 or len(y_array) != len(X_array):
        raise fail(where, "y.shape", f"(len(X),) or (len(X), k) with len(X) = {len(X_array)}",
                   y_array.shape)
    m = len(X_array)
    first = integer(where, "first", first, 2, f"the training source's rows, 2 to {m - 2}")
    if first > m - 2:
        raise fail(where, "first", f"the training source's rows, 2 to {m - 2} (the second "
                   "source needs a dev and a test row)", first)
    rng = as_generator(where, "seed", seed) if flag(where, "shuffle", shuffle) else None
    labels = _strata(where, y_array, stratify)
    second = np.arange(first, m)
    given = {name: second[rows] for name, rows in _file_sets(where, sets, m - first).items()} \
        if len(tuple(sets)) > 1 else {}
    if "dev" in given and "test" in given:
        dev, test = given["dev"], given["test"]
        rest = given.get("train", second[:0])
    elif given:
        held = given["dev"] if "dev" in given else given["test"]
        if len(held) < 2:
            raise fail(where, "sets", "a dev or test set of at least 2 rows to halve",
                       tuple(sets))
        _, dev, test = _carve(held, labels, (len(held) - len(held) // 2, len(held) // 2), rng)
        rest = given.get("train", second[:0])
    else:
        if len(second) < min_rows():
            raise fail(where, "the second source's rows", f"at least {min_rows()} (the "
                       "notes' sizes give it 1 dev and 1 test row)", len(second))
        _, n_dev, n_test = split_sizes(len(second))
        rest, dev, test = _carve(second, labels, (n_dev, n_test or 0), rng)
    n_train_dev = min(len(dev), CAP, first // 2)
    kept, train_dev, _ = _carve(np.arange(first), labels, (n_train_dev, 0), rng)
    named = {"train": np.concatenate([kept, rest]), "train_dev": train_dev, "dev": dev,
             "test": test}
    if rng is not None:
        named = {name: rng.permutation(rows) for name, rows in named.items()}
    else:
        named = {name: np.sort(rows) for name, rows in named.items()}
    if labels is not None:
        _warn_missing(*labels, named)
    parts = {name: Part(source_X=X_array, source_y=y_array, indices=rows)
             for name, rows in named.items()}
    return Splits(parts["train"], parts["dev"], parts["test"], labels is not None,
                  train_dev=parts["train_dev"])
