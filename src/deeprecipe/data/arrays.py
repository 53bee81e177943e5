"""NumPy files: an ``.npz`` archive of ``X`` and ``y`` (:func:`read_npz`), or ``.npy``
arrays memory-mapped (:func:`read_npy`), checked in chunks and held as float32 without a
second copy when the file already is float32 and C-contiguous.

Rows and columns in messages are 0-based array indices (``X[row, column]``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .._checks import describe
from .cells import is_missing
from .filebase import (
    FLOAT32_LARGEST,
    DataFileError,
    Throttle,
    check_regular,
    check_rows,
    listing,
    missing_target,
    usable_feature,
)
from .labels import encode_target

CHUNK_VALUES = 1 << 22  # values converted or checked at once (16 MB of float32)
UNREADABLE = (OSError, ValueError, EOFError, zipfile.BadZipFile)
Arrays = tuple[np.ndarray, np.ndarray, list[str], list[str | float] | None, int]


def read_npz(source: Path, keys: tuple[str, ...]) -> list[np.ndarray]:
    """The arrays ``keys`` of an ``.npz`` file (never a pickled object), each read once."""
    check_regular(source)
    saving = f"help: np.savez(path, {', '.join(f'{key}={key}' for key in keys)})."
    with source.open("rb") as file:  # np.load(path) leaves a damaged file open
        try:
            archive = np.load(file, allow_pickle=False)
        except UNREADABLE as error:
            raise DataFileError(source, f"is not a readable .npz file ({error}).") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataFileError(source, f"holds a single array (.npy), not an .npz archive "
                                f"with {' and '.join(keys)}. {saving}")
        with archive:
            absent = [key for key in keys if key not in archive.files]
            if absent:
                raise DataFileError(source, f"has no array {absent[0]!r}; it holds "
                                    f"{archive.files}. {saving}")
            try:
                return [archive[key] for key in keys]
            except UNREADABLE as error:  # damaged members, or object arrays (never pickle)
                raise DataFileError(source, f"cannot be read ({error}).") from None


def read_npy(source: Path) -> np.ndarray:
    """The array of an ``.npy`` file, memory-mapped copy-on-write (pages are read when
    used; writing to it changes this process's copy, never the file)."""
    check_regular(source)
    try:
        return np.load(source, mmap_mode="c", allow_pickle=False)
    except UNREADABLE as error:
        raise DataFileError(source, f"is not a readable .npy file ({error}). help: "
                            "np.save(path, X).") from None


def labelled(source: Path, X: np.ndarray, y: np.ndarray, x_key: str, y_key: str,
             task: str, needed: int, min_classes: int, drop_missing_target: bool,
             progress: Throttle) -> Arrays:
    """``(X float32, y, names, classes, rows dropped)`` of arrays read from ``source``, as
    :func:`deeprecipe.data.load_npz` documents them."""
    check_features(source, X, x_key)
    if y.ndim != 1 or len(y) != len(X):
        raise DataFileError(source, f"{y_key} must have shape ({len(X)},); received {y.shape}.")
    labels = label_values(source, y, y_key)
    missing = missing_labels(labels)
    kept = None  # the file's row index of each row kept, when some are dropped
    if missing.any():
        if not drop_missing_target:
            rows = np.flatnonzero(missing).tolist()
            raise missing_target(source, y_key, f"{y_key}[i] is NaN or empty at 0-based "
                                 f"{listing('index', rows, 'indices')}", len(rows))
        kept = np.flatnonzero(~missing)
        labels = labels[kept]
    X = as_float32(source, X, x_key, kept, progress)
    check_rows(source, len(X), needed)
    y_encoded, classes = encode_target(
        source, y_key, labels, lambda i: (int(i if kept is None else kept[i]), None), task,
        min_classes)
    names = [f"x[{j}]" for j in range(int(np.prod(X.shape[1:])))]
    return X, y_encoded, names, classes, int(missing.sum())


def check_features(source: Path, X: np.ndarray, x_key: str) -> None:
    """``X`` holds numbers in rows of at least one feature."""
    if X.dtype.kind not in "biuf" or X.ndim < 2 or 0 in X.shape[1:]:
        raise DataFileError(source, f"{x_key} must be a numeric array of rows (m, n…) with at "
                            f"least one feature; received {describe(X)}.")


def as_float32(source: Path, X: np.ndarray, x_key: str, rows: np.ndarray | None,
               progress: Throttle) -> np.ndarray:
    """``X[rows]`` (all rows when ``None``) as float32 once every value is finite and within
    float32's range, checked and converted in chunks: ``X`` itself when it is float32,
    C-contiguous and whole. ``progress`` counts rows."""
    whole = rows is None
    count = len(X) if rows is None else len(rows)
    same = whole and X.dtype == np.float32 and X.flags.c_contiguous
    out = X if same else np.empty((count, *X.shape[1:]), dtype=np.float32)
    step = max(1, CHUNK_VALUES // max(1, int(np.prod(X.shape[1:]))))
    for start in range(0, count, step):
        index = slice(start, start + step) if rows is None else rows[start:start + step]
        chunk = X[index]
        _check_chunk(source, chunk, x_key, start if rows is None else rows[start:start + step])
        if not same:
            out[start:start + step] = chunk
        progress(start + step)
    progress.finish()
    return out


def _check_chunk(source: Path, chunk: np.ndarray, x_key: str,
                 rows: int | np.ndarray) -> None:
    """Refuse the first value of ``chunk`` that is not a usable feature; ``rows`` are the
    file's row of each chunk row (an array) or of its first (an int)."""
    if chunk.dtype.kind != "f":
        return  # every integer is within float32's range
    usable = np.abs(chunk) <= FLOAT32_LARGEST
    if usable.all():
        return
    bad = np.argwhere(~usable)[0]
    row = int(rows[bad[0]]) if isinstance(rows, np.ndarray) else rows + int(bad[0])
    where = (row, *(int(i) for i in bad[1:]))
    raise DataFileError(source, f"{x_key}{list(where)} must be "
                        f"{usable_feature(float(chunk[tuple(bad)]))}.", where[0],
                        str(where[1]) if len(where) > 1 else None)


def missing_labels(labels: np.ndarray) -> np.ndarray:
    """Which of :func:`label_values`' labels are missing: NaN, or a missing-value string
    such as ``""`` or ``"NA"``."""
    if labels.dtype.kind == "f":
        return np.isnan(labels)
    return np.array([is_missing(str(label)) for label in labels], dtype=bool)


def label_values(source: Path, y: np.ndarray, y_key: str) -> np.ndarray:
    """A ``y`` array as float64 (numbers) or stripped text (strings)."""
    if y.dtype.kind in "biuf":
        return y.astype(np.float64)
    if y.dtype.kind == "U":
        return np.char.strip(y)
    if y.dtype.kind == "S":
        try:
            return np.char.strip(np.char.decode(y, "utf-8"))
        except UnicodeDecodeError:
            raise DataFileError(source, f"{y_key} holds bytes that are not UTF-8.") from None
    raise DataFileError(source, f"{y_key} must hold numbers or strings; received "
                        f"{describe(y)}.")
