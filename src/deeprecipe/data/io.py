"""Load user data from CSV or NPZ, with errors that say which file, row and column is wrong.

``load_csv(path, target="label")`` reads a CSV file with a header row: every column but
``target`` is a numeric feature. ``load_npz(path)`` reads the arrays ``X`` and ``y`` of a
``.npz`` file (``np.savez``; no pickled objects). Both return a :class:`Dataset` that
unpacks as ``X, y = load_csv(...)``.

Targets: numbers with a fractional part are a regression target (``y`` float64), and so
are whole numbers with many distinct values (more than 20 and more than one per 10 rows:
ages, prices, counts); text such as ``cat``/``dog`` and whole numbers with few distinct
values are a set of classes, mapped to class indices ``0 … k−1`` in sorted order, with the
mapping kept in ``Dataset.classes`` (``classes[y[i]]`` is row ``i``'s original label). Pass
``task=`` to decide yourself.

Every problem in the file raises :class:`DataFileError` (a ``ValueError``) naming the file
and, where it applies, the row and column: a non-numeric or missing value, NaN or inf,
a ragged row, an empty file, a missing target column, a single class, fewer rows than the
split needs (``min_rows``, by default what :func:`~deeprecipe.data.split` needs: 5). Rows
are counted from 1 after the header; the message also gives the line of the file.
"""

from __future__ import annotations

import csv
import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._checks import choice, describe, positive_int
from .split import auto_task
from .split import min_rows as split_min_rows

TASKS = ("auto", "classification", "regression")


class DataFileError(ValueError):
    """A data file that cannot be used, with where the problem is (``row``, ``column`` may be
    ``None``)."""

    def __init__(
        self, path: Path, problem: str, row: int | None = None, column: str | None = None,
        line: int | None = None,
    ) -> None:
        self.path, self.row, self.column = path, row, column
        where = []
        if row is not None:
            where.append(f"row {row}" + (f" (line {line})" if line is not None else ""))
        if column is not None:
            where.append(f"column {column!r}")
        place = f", {', '.join(where)}" if where else ""
        super().__init__(f"{path}{place}: {problem}")


@dataclass(frozen=True)
class Dataset:
    """Loaded data: ``X`` ``(m, n)`` float64, ``y`` ``(m,)`` class indices (``intp``) or
    float64 values; ``classes`` maps class index → original label (``None`` for regression).
    Unpacks as ``X, y = dataset``."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target: str
    classes: list[str | float] | None
    source: Path

    @property
    def task(self) -> str:
        if self.classes is None:
            return "regression"
        return "binary" if len(self.classes) == 2 else "multiclass"

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.y))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _parse_target(values: list[str]) -> np.ndarray:
    """The target column as float64 when every value is a number, else as text."""
    numbers = [_number(value) for value in values]
    if all(number is not None for number in numbers):
        return np.array(numbers, dtype=np.float64)
    return np.array(values, dtype=str)


def _encode_target(
    path: Path, column: str, labels: np.ndarray, places: list[tuple[int, int | None]],
    task: str, min_classes: int = 2,
) -> tuple[np.ndarray, list[str | float] | None]:
    """``(y, classes)`` from the target's values (float64 or text); ``places`` are the
    (row, line) of each value for messages."""
    numeric = labels.dtype.kind == "f"
    if numeric and not np.isfinite(labels).all():
        i = int(np.flatnonzero(~np.isfinite(labels))[0])
        raise DataFileError(path, f"the target must be finite; received {labels[i]}.",
                            places[i][0], column, places[i][1])
    if task == "auto":
        task = auto_task(labels) if numeric else "classification"
    if task == "regression":
        if not numeric:
            i = next(i for i, value in enumerate(labels) if _number(str(value)) is None)
            raise DataFileError(path, "a regression target must be numeric; received "
                                f"{describe(labels[i])}.", places[i][0], column, places[i][1])
        return labels, None
    classes, y = np.unique(labels, return_inverse=True)
    mapping: list[str | float] = [
        (int(c) if c == round(c) else float(c)) if numeric else str(c) for c in classes
    ]
    if len(mapping) < min_classes:
        raise DataFileError(path, f"the target has a single class ({mapping[0]!r}); a "
                            "classifier needs at least 2. help: check the target column, or "
                            "pass task='regression'.", column=column)
    return y.reshape(-1).astype(np.intp), mapping


def _check_rows(path: Path, m: int, min_rows: int) -> None:
    if m < min_rows:
        raise DataFileError(path, f"must have at least {min_rows} data rows (a train/dev/test "
                            f"split needs them); received {m}. help: add rows, or lower "
                            "min_rows for a smaller split.")


def load_csv(
    path: str | Path,
    target: str,
    *,
    delimiter: str = ",",
    task: str = "auto",
    min_rows: int | None = None,
    min_classes: int = 2,
) -> Dataset:
    """Read a CSV file with a header row; ``target`` names the label column.

    ``task`` is ``"auto"`` (see the module), ``"classification"`` or ``"regression"``.
    ``min_rows`` defaults to ``dr.data.min_rows()`` (5: the smallest default split);
    ``min_classes`` is 2 for training data (1 to score a model on one class's examples).
    Raises :class:`DataFileError` for any problem in the file, ``FileNotFoundError`` when
    there is no file.

    Example (``flowers.csv``)::

        petal_length,petal_width,species
        1.4,0.2,setosa
        4.7,1.4,versicolor
        ...
        data = load_csv("flowers.csv", target="species")
        data.X.shape, data.classes          # (m, 2), ['setosa', 'versicolor', ...]
    """
    source = Path(path)
    task = choice("load_csv", "task", task, TASKS)
    needed = split_min_rows() if min_rows is None else positive_int("load_csv", "min_rows",
                                                                    min_rows)
    if not isinstance(target, str):
        raise TypeError(f"load_csv: target must be a column name (str); received "
                        f"target={describe(target)}.")
    header, data = _read_table(source, delimiter)
    if target not in header:
        raise DataFileError(source, f"has no target column {target!r}; its columns are "
                            f"{header}.")
    if len(header) < 2:
        raise DataFileError(source, f"has no feature columns besides the target {target!r}.")
    _check_rows(source, len(data), needed)
    t = header.index(target)
    features = [name for name in header if name != target]
    X = _features(source, header, data, features)
    labels = _parse_target([fields[t] for _, fields in data])
    places: list[tuple[int, int | None]] = [(i + 1, line) for i, (line, _) in enumerate(data)]
    y, classes = _encode_target(source, target, labels, places, task, min_classes)
    return Dataset(X, y, features, target, classes, source)


def load_csv_features(
    path: str | Path, columns: list[str] | None = None, *, delimiter: str = ","
) -> tuple[np.ndarray, list[str]]:
    """``(X, names)`` from a CSV file with a header row and no target (to predict on).

    ``columns`` picks and orders the feature columns by name (others, such as a label
    column, are ignored); by default every column is a feature. Problems raise
    :class:`DataFileError` as in :func:`load_csv`.
    """
    source = Path(path)
    header, data = _read_table(source, delimiter)
    names = list(header) if columns is None else list(columns)
    missing = [name for name in names if name not in header]
    if missing:
        raise DataFileError(source, f"has no column(s) {missing}; the model was trained on "
                            f"{names}, the file's columns are {header}.")
    if not data:
        raise DataFileError(source, "has a header but no data rows.")
    return _features(source, header, data, names), names


Rows = list[tuple[int, list[str]]]


def _read_table(source: Path, delimiter: str) -> tuple[list[str], Rows]:
    """The header and the non-empty data rows ``(line, fields)`` of a CSV file."""
    rows = []
    try:
        with source.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file, delimiter=delimiter, skipinitialspace=True)
            start = 1
            for fields in reader:
                if any("\n" in field or "\r" in field for field in fields):
                    raise DataFileError(source, f"a quoted value runs from line {start} to "
                                        f"line {reader.line_num}. help: is a quote left open?")
                if fields and any(field.strip() for field in fields):
                    rows.append((reader.line_num, [field.strip() for field in fields]))
                start = reader.line_num + 1
    except UnicodeDecodeError as error:
        raise DataFileError(source, f"is not UTF-8 text ({error.reason} at byte "
                            f"{error.start}).") from None
    except csv.Error as error:  # e.g. a field larger than csv.field_size_limit()
        raise DataFileError(source, f"is not valid CSV at line {reader.line_num} "
                            f"({error}).") from None
    if not rows:
        raise DataFileError(source, "is empty: expected a header row and data rows.")
    header_line, header = rows[0]
    if len(set(header)) != len(header) or "" in header:
        raise DataFileError(source, f"the header (line {header_line}) must have distinct, "
                            f"non-empty column names; received {header}.")
    return header, rows[1:]


def _features(source: Path, header: list[str], data: Rows, names: list[str]) -> np.ndarray:
    """The columns ``names`` of every row as finite float64, ``(len(data), len(names))``."""
    columns = [header.index(name) for name in names]
    X = np.empty((len(data), len(columns)))
    for i, (line, fields) in enumerate(data):
        if len(fields) != len(header):
            raise DataFileError(source, f"has {len(fields)} fields; the header has "
                                f"{len(header)}.", i + 1, line=line)
        for k, j in enumerate(columns):
            value = _number(fields[j])
            if value is None or not math.isfinite(value):
                what = "is empty (a missing value)" if not fields[j] else (
                    f"must be a finite number; received {fields[j]!r}")
                raise DataFileError(source, f"the value {what}.", i + 1, header[j], line)
            X[i, k] = value
    return X


def load_npz(
    path: str | Path, *, x_key: str = "X", y_key: str = "y", task: str = "auto",
    min_rows: int | None = None, min_classes: int = 2,
) -> Dataset:
    """Read ``X`` ``(m, …)`` and ``y`` ``(m,)`` from an ``.npz`` file (``np.savez``).

    ``y`` may hold numbers or strings (mapped to class indices as in :func:`load_csv`);
    ``task``, ``min_rows`` and ``min_classes`` are :func:`load_csv`'s.
    Rows and columns in messages are 0-based array indices (``X[row, column]``).
    Raises :class:`DataFileError` for any problem in the file.
    """
    source = Path(path)
    task = choice("load_npz", "task", task, TASKS)
    needed = split_min_rows() if min_rows is None else positive_int("load_npz", "min_rows",
                                                                    min_rows)
    if not source.is_file():
        raise FileNotFoundError(f"load_npz: no file {source}.")
    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile)
    try:
        archive = np.load(source, allow_pickle=False)
    except unreadable as error:
        raise DataFileError(source, f"is not a readable .npz file ({error}).") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataFileError(source, "holds a single array (.npy), not an .npz archive with "
                            f"{x_key} and {y_key}. help: np.savez(path, {x_key}=X, {y_key}=y).")
    with archive:
        missing = [key for key in (x_key, y_key) if key not in archive.files]
        if missing:
            raise DataFileError(source, f"has no array {missing[0]!r}; it holds "
                                f"{archive.files}. help: np.savez(path, {x_key}=X, {y_key}=y).")
        try:
            X, y = archive[x_key], archive[y_key]
        except unreadable as error:  # damaged members, or object arrays (pickle is never used)
            raise DataFileError(source, f"cannot be read ({error}).") from None
    if X.dtype.kind not in "biuf" or X.ndim < 2:
        raise DataFileError(source, f"{x_key} must be a numeric array of rows (m, n…); received "
                            f"{describe(X)}.")
    if y.ndim != 1 or len(y) != len(X):
        raise DataFileError(source, f"{y_key} must have shape ({len(X)},); received {y.shape}.")
    X = X.astype(np.float64)
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        where = tuple(int(i) for i in bad[0])
        raise DataFileError(source, f"{x_key}{list(where)} must be finite; received "
                            f"{X[where]}.", where[0], str(where[1]) if len(where) > 1 else None)
    _check_rows(source, len(X), needed)
    labels: np.ndarray
    if y.dtype.kind in "biuf":
        labels = y.astype(np.float64)
    elif y.dtype.kind == "U":
        labels = np.char.strip(y)
    elif y.dtype.kind == "S":
        try:
            labels = np.char.strip(np.char.decode(y, "utf-8"))
        except UnicodeDecodeError as error:
            raise DataFileError(source, f"{y_key} holds bytes that are not UTF-8 ({error})."
                                ) from None
    else:
        raise DataFileError(source, f"{y_key} must hold numbers or strings; received "
                            f"{describe(y)}.")
    places: list[tuple[int, int | None]] = [(i, None) for i in range(len(y))]
    y_encoded, classes = _encode_target(source, y_key, labels, places, task, min_classes)
    names = [f"x[{j}]" for j in range(int(np.prod(X.shape[1:])))]
    return Dataset(X, y_encoded, names, y_key, classes, source)
