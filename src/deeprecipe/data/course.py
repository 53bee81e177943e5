"""The course's data files as a :class:`~deeprecipe.data.io.Dataset`: MATLAB ``.mat`` files
(:func:`load_mat`, read by SciPy; a v7.3 file, which is HDF5, by h5py) and HDF5 ``.h5`` /
``.hdf5`` files (:func:`load_h5`, h5py).

A file holds up to three sets, each a pair of arrays (features, labels), found by the
course's names (:data:`COURSE_NAMES`) or named by ``arrays``:

===========  =============================  =====================================
set          ``.mat`` (the assignments)     ``.h5`` (the cat and signs files)
===========  =============================  =====================================
``train``    ``X``, ``y``                   ``train_set_x``, ``train_set_y``
``dev``      ``Xval``, ``yval``             ``dev_set_x``, ``dev_set_y``
``test``     ``Xtest``, ``ytest``           ``test_set_x``, ``test_set_y``
===========  =============================  =====================================

The sets are stacked in that order and ``Dataset.sets`` says their sizes (a file with one set
is one unsplit set: ``()``). Labels are ``(m,)``, ``(m, 1)`` or the notes' ``(1, m)``; features
are rows ``(m, n)``, the notes' columns ``(n_x, m)`` (transposed, and said so in a note), or
images ``(m, h, w[, c])`` (kept as images, and said so). An ``.h5``'s ``list_classes`` names
the classes ``0 … k−1``. A NaN feature value is a missing value (``Dataset.missing`` counts
them by column, flattened; the run imputes them). Whole arrays are read into memory (the
course's files are small).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import scipy.io

from .._checks import choice, describe
from ..findings import Finding
from .arrays import as_float32, check_features, label_values, missing_labels
from .filebase import (
    DataFileError,
    ProgressHook,
    Throttle,
    check_regular,
    check_rows,
    listing,
    missing_target,
    needed_rows,
)
from .io import Dataset
from .labels import encode_target
from .split import SETS, TASKS

__all__ = ["COURSE_NAMES", "load_h5", "load_mat"]

# each set's (features, labels) names, by the course's conventions, per set in SETS' order
# (train, dev, test: the order of `arrays` and of the rows)
COURSE_NAMES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("X", "y"), ("train_set_x", "train_set_y")),
    (("Xval", "yval"), ("dev_set_x", "dev_set_y")),
    (("Xtest", "ytest"), ("test_set_x", "test_set_y")),
)
CLASS_NAMES = "list_classes"  # an .h5's names of the classes 0 … k-1
UNREADABLE = (OSError, ValueError, TypeError, EOFError, NotImplementedError, zlib.error,
              scipy.io.matlab.MatReadError)


@dataclass(frozen=True)
class _Set:
    """One set of a file: its name (``train``, ``dev``, ``test``) and its arrays' names."""

    name: str
    x_key: str
    y_key: str


def load_mat(
    path: str | Path, *, arrays: Sequence[str] | None = None, task: str = "auto",
    min_rows: int | None = None, min_classes: int = 2, drop_missing_target: bool = False,
    progress: ProgressHook | None = None,
) -> Dataset:
    """Read a MATLAB ``.mat`` file (``scipy.io.savemat``, MATLAB's ``save``; a v7.3 file
    too): its sets by the course's names (``X``/``y``, ``Xval``/``yval``, ``Xtest``/``ytest``),
    or by ``arrays``: 2, 4 or 6 names, the features and labels of the training set, then of the
    validation (dev) and test sets (``["X", "y", "Xval", "yval"]``).

    ``task``, ``min_rows``, ``min_classes`` and ``drop_missing_target`` are
    :func:`~deeprecipe.data.load_csv`'s; a missing label is NaN or an empty string. Rows in
    messages are 0-based indices of the named array. ``progress(done, total)`` counts rows.
    Raises :class:`~deeprecipe.data.DataFileError` for any problem in the file: not a
    ``.mat`` file, no arrays the course names (it lists those it holds), shapes that do not
    pair features with labels.

    Example (the regularization assignment's ``data.mat``)::

        data = load_mat("data.mat")     # X (211, 2), y (211, 1), Xval (200, 2), yval (200, 1)
        data.X.shape, data.sets         # (411, 2), (('train', 211), ('dev', 200))
    """
    source = Path(path)
    check_regular(source)
    if h5py.is_hdf5(source):  # MATLAB v7.3 stores HDF5, its arrays with their axes reversed
        return _load(source, _Hdf5(source, reverse=True), "load_mat", arrays, task, min_rows,
                     min_classes, drop_missing_target, progress)
    return _load(source, _Matlab(source), "load_mat", arrays, task, min_rows, min_classes,
                 drop_missing_target, progress)


def load_h5(
    path: str | Path, *, arrays: Sequence[str] | None = None, task: str = "auto",
    min_rows: int | None = None, min_classes: int = 2, drop_missing_target: bool = False,
    progress: ProgressHook | None = None,
) -> Dataset:
    """Read an HDF5 file (``.h5``, ``.hdf5``): its sets by the course's names
    (``train_set_x``/``train_set_y``, ``dev_set_x``/``dev_set_y``, ``test_set_x``/
    ``test_set_y``; ``list_classes`` names the classes) or by ``arrays``, as
    :func:`load_mat` (a name may be a path inside the file, ``group/X``).

    Example (the course's ``train_catvnoncat.h5``)::

        data = load_h5("train_catvnoncat.h5")   # train_set_x (209, 64, 64, 3), uint8
        data.X.shape, data.classes              # (209, 64, 64, 3), ['non-cat', 'cat']
    """
    source = Path(path)
    check_regular(source)
    if not h5py.is_hdf5(source):
        raise DataFileError(source, "is not an HDF5 file (no HDF5 signature). help: write it "
                            "with h5py, or give a file of another kind its own suffix.")
    return _load(source, _Hdf5(source, reverse=False), "load_h5", arrays, task, min_rows,
                 min_classes, drop_missing_target, progress)


# --- the files' arrays -------------------------------------------------------------------


class _Matlab:
    """A MAT file (v4 to v7) through SciPy: its arrays' names, then the arrays asked for."""

    def __init__(self, source: Path) -> None:
        self.source = source
        try:
            self.names = [name for name, _, _ in scipy.io.whosmat(source)]
        except UNREADABLE as error:
            raise DataFileError(source, f"is not a readable .mat file ({error}).") from None

    def read(self, names: list[str]) -> dict[str, np.ndarray]:
        try:
            found = scipy.io.loadmat(self.source, variable_names=names)
        except UNREADABLE as error:
            raise DataFileError(self.source, f"cannot be read ({error}).") from None
        return {name: found[name] for name in names}


class _Hdf5:
    """An HDF5 file through h5py: its datasets' paths, then the arrays asked for
    (``reverse``: each array's axes reversed, as MATLAB v7.3 needs)."""

    def __init__(self, source: Path, reverse: bool) -> None:
        self.source, self.reverse = source, reverse
        found: list[str] = []

        def visit(name: str, item: object) -> None:
            if isinstance(item, h5py.Dataset) and not name.startswith("#"):  # MATLAB's #refs#
                found.append(name)

        try:
            with h5py.File(source, "r") as file:
                file.visititems(visit)
        except UNREADABLE as error:
            raise DataFileError(source, f"is not a readable HDF5 file ({error}).") from None
        self.names = found

    def read(self, names: list[str]) -> dict[str, np.ndarray]:
        try:
            with h5py.File(self.source, "r") as file:
                read = {name: np.asarray(file[name][()]) for name in names}
        except UNREADABLE as error:
            raise DataFileError(self.source, f"cannot be read ({error}).") from None
        return {name: array.T if self.reverse else array for name, array in read.items()}


# --- from arrays to a Dataset ------------------------------------------------------------


def _load(source: Path, file: _Matlab | _Hdf5, where: str, arrays: Sequence[str] | None,
          task: str, min_rows: int | None, min_classes: int, drop_missing_target: bool,
          progress: ProgressHook | None) -> Dataset:
    task = choice(where, "task", task, TASKS)
    needed = needed_rows(where, min_rows)
    sets = _named_sets(source, file.names, where, arrays)
    extra = [CLASS_NAMES] if CLASS_NAMES in file.names else []
    read = file.read([key for s in sets for key in (s.x_key, s.y_key)] + extra)
    notes: list[Finding] = []
    features, labels, kept = [], [], []  # per set: (m, …) arrays, labels kept, their rows
    for s in sets:
        array, y = _oriented(source, read[s.x_key], read[s.y_key], s, notes)
        values, rows = _kept_labels(source, y, s, drop_missing_target)
        features.append(array)
        labels.append(values)
        kept.append(rows)
    shapes = {s.x_key: array.shape[1:] for s, array in zip(sets, features, strict=True)}
    if len(set(shapes.values())) > 1:
        raise DataFileError(source, "the sets' examples must have one shape; received "
                            + ", ".join(f"{key}: {_shape(shape)}" for key, shape in
                                        shapes.items()) + " (per example).")
    sizes = [len(values) for values in labels]
    check_rows(source, sum(sizes), needed)
    X = np.concatenate([_features(source, array, s.x_key, rows)
                        for s, array, rows in zip(sets, features, kept, strict=True)])
    Throttle(progress, len(X)).finish()  # the arrays are read whole: one call at the end
    gaps = np.isnan(X.reshape(len(X), -1)).sum(axis=0)
    missing = {int(j): int(gaps[j]) for j in np.flatnonzero(gaps)}
    dropped = sum(len(array) for array in features) - len(X)
    y, classes = _encoded(source, sets, labels, kept, task, min_classes,
                          read.get(CLASS_NAMES))
    notes.insert(0, Finding("course_sets", {"file": source.name, "sets": [
        [s.name, s.x_key, s.y_key, size] for s, size in zip(sets, sizes, strict=True)]}))
    names = [f"x[{j}]" for j in range(int(np.prod(X.shape[1:])))]
    own = tuple((s.name, size) for s, size in zip(sets, sizes, strict=True)) \
        if len(sets) > 1 else ()
    return Dataset(X, y, names, sets[0].y_key, classes, source, dropped, own, notes=notes,
                   missing=missing)


def _named_sets(source: Path, names: list[str], where: str,
                arrays: Sequence[str] | None) -> list[_Set]:
    """The file's sets: those ``arrays`` names (each must be there), else those the
    course's names find (at least one)."""
    held = f"it holds {_names(names)}"
    if arrays is not None:
        keys = list(arrays)
        if len(keys) not in (2, 4, 6) or not all(isinstance(k, str) and k for k in keys) \
                or len(set(keys)) != len(keys):
            raise ValueError(f"{where}: arrays must be 2, 4 or 6 distinct array names (the "
                             "features and labels of the training set, then of the dev and "
                             f"test sets); received arrays={describe(keys)}.")
        absent = [key for key in keys if key not in names]
        if absent:
            raise DataFileError(source, f"has no array {absent[0]!r} (named by `arrays`); "
                                f"{held}.")
        return [_Set(SETS[i // 2], keys[i], keys[i + 1]) for i in range(0, len(keys), 2)]
    sets = []
    for name, pairs in zip(SETS, COURSE_NAMES, strict=True):
        found = [(x, y) for x, y in pairs if x in names or y in names]
        if len(found) > 1:
            raise DataFileError(source, f"holds two {name} sets ({_pairs(found)}). help: "
                                "name the arrays to use with `arrays`.")
        for x, y in found:
            if x not in names or y not in names:
                raise DataFileError(source, f"has {y if x not in names else x!r} but no "
                                    f"{x if x not in names else y!r} to pair it with; "
                                    f"{held}. help: name the arrays with `arrays`.")
            sets.append(_Set(name, x, y))
    if not sets:
        raise DataFileError(source, "has no arrays by the course's names ("
                            + "; ".join(_pairs(pairs) for pairs in COURSE_NAMES)
                            + f"); {held}. help: name the features and labels with "
                            "`arrays` (e.g. arrays = [\"features\", \"labels\"]).")
    return sets


def _oriented(source: Path, X: np.ndarray, y: np.ndarray, s: _Set, notes: list[Finding]
              ) -> tuple[np.ndarray, np.ndarray]:
    """``(X (m, …), y (m,))`` of one set: labels ``(m,)``, ``(m, 1)`` or ``(1, m)``;
    features as rows, as the notes' columns ``(n_x, m)`` (transposed) or images
    ``(m, h, w[, c])``; ``notes`` gains what was recognised."""
    if y.ndim > 2 or (y.ndim == 2 and 1 not in y.shape) or y.ndim == 0:
        raise DataFileError(source, f"{s.y_key} must hold one label per example: shape (m,), "
                            f"(m, 1) or (1, m); received {describe(y)}.")
    row_of_labels = y.ndim == 2 and y.shape[0] == 1 and y.shape[1] != 1  # the notes' (1, m)
    y = y.reshape(-1)
    m = len(y)
    check_features(source, X, s.x_key)
    pairing = f"{s.x_key} {_shape(X.shape)} and {s.y_key} ({m:,} labels)"
    if X.ndim == 2 and X.shape[1] == m and (X.shape[0] != m or row_of_labels):
        notes.append(Finding("course_columns", {"array": s.x_key, "shape": list(X.shape)}))
        return X.T, y
    if X.shape[0] != m:
        raise DataFileError(source, f"{pairing} do not pair: the features must have one row "
                            "per label (m, n), one column per label (n_x, m) or one image "
                            "per label (m, h, w[, c]).")
    if X.ndim > 2:
        notes.append(Finding("course_images", {"array": s.x_key, "shape": list(X.shape)}))
    return X, y


def _features(source: Path, array: np.ndarray, key: str, rows: np.ndarray | None
              ) -> np.ndarray:
    """``array[rows]`` (all rows when ``None``) as float32, checked as an ``.npz``'s ``X``
    is, except that NaN is a missing value and stays NaN (imputed later, or refused with
    ``missing = "error"``)."""
    gaps = np.isnan(array) if array.dtype.kind == "f" else None
    if gaps is None or not gaps.any():
        return as_float32(source, array, key, rows, Throttle(None, len(array)))
    converted = as_float32(source, np.where(gaps, 0, array), key, rows,
                           Throttle(None, len(array)))
    converted[gaps if rows is None else gaps[rows]] = np.nan
    return converted


def _kept_labels(source: Path, y: np.ndarray, s: _Set, drop: bool
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """``(labels, rows kept or None)``: missing labels refused, or (``drop``) dropped."""
    values = label_values(source, y, s.y_key)
    missing = missing_labels(values)
    if not missing.any():
        return values, None
    if not drop:
        rows = np.flatnonzero(missing).tolist()
        raise missing_target(source, s.y_key, f"{s.y_key}[i] is NaN or empty at 0-based "
                             f"{listing('index', rows, 'indices')}", len(rows))
    kept = np.flatnonzero(~missing)
    return values[kept], kept


def _encoded(source: Path, sets: list[_Set], labels: list[np.ndarray],
             kept: list[np.ndarray | None], task: str, min_classes: int,
             class_names: np.ndarray | None) -> tuple[np.ndarray, list[str | float] | None]:
    """The sets' labels as one ``(y, classes)``; ``list_classes`` names integer classes."""
    if len({values.dtype.kind == "f" for values in labels}) > 1:
        raise DataFileError(source, "the sets' labels must all be numbers or all be text; "
                            "received " + ", ".join(
                                f"{s.y_key}: {'numbers' if values.dtype.kind == 'f' else 'text'}"
                                for s, values in zip(sets, labels, strict=True)) + ".")
    starts = np.cumsum([0] + [len(values) for values in labels])

    def where(i: int) -> tuple[int, None]:  # the 0-based index in its own array
        k = int(np.searchsorted(starts, i, side="right")) - 1
        rows = kept[k]
        return (int(i - starts[k]) if rows is None else int(rows[i - starts[k]])), None

    y, classes = encode_target(source, sets[0].y_key, np.concatenate(labels), where, task,
                               min_classes)
    if classes is None or class_names is None:
        return y, classes
    names = [str(name) for name in label_values(source, class_names.reshape(-1), CLASS_NAMES)]
    if not all(isinstance(c, int) and 0 <= c < len(names) for c in classes):
        raise DataFileError(source, f"{CLASS_NAMES} names {len(names)} classes "
                            f"({_names(names)}), so the labels must be 0 to {len(names) - 1}; "
                            f"received the labels {_names([str(c) for c in classes])}.")
    return y, [names[int(c)] for c in classes]


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(f"{n:,}" for n in shape) + ")"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(map(repr, names[:10]))
    return (shown + f" and {len(names) - 10} more" if len(names) > 10 else shown) or "nothing"


def _pairs(pairs: Sequence[tuple[str, str]]) -> str:
    return " or ".join(f"{x}/{y}" for x, y in pairs)
