"""Load user data from CSV (:func:`load_csv`) or NPZ (:func:`load_npz`) as a :class:`Dataset`.

Every problem in the file raises :class:`DataFileError` naming the file and, where it
applies, the row (counted from 1 after the header, with the file's line) and the column.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._checks import LARGEST, RESCALE, SQUARABLE, choice, describe, fail, positive_int
from .cells import SPACE, is_missing, parse_cell
from .split import TASKS, auto_task, target_kind
from .split import min_rows as split_min_rows

SHOWN_ROWS = 10  # rows named in one message
Places = Sequence[tuple[int, int | None]]  # (row, file line) of each value, for messages


class DataFileError(ValueError):
    """A data file that cannot be used, with where the problem is (``row``, ``column`` may be
    ``None``). Its help names options by key (`` `drop_missing_target` ``); the command line
    spells them as flags."""

    keys = ("drop_missing_target", "task")
    source = None

    def __init__(
        self, path: Path, problem: str, row: int | None = None, column: str | None = None,
        line: int | None = None,
    ) -> None:
        self.path, self.row, self.column = path, row, column
        where = [str(path)]
        if row is not None:
            where.append(f"row {row}" + (f" (line {line})" if line is not None else ""))
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {problem}")


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
    dropped_missing_target: int = 0  # rows dropped for a missing target (drop_missing_target)

    @property
    def task(self) -> str:
        """One of :data:`~deeprecipe.data.split.KINDS`."""
        return target_kind(None if self.classes is None else len(self.classes))

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.y))


def _listing(noun: str, numbers: list[int], plural: str | None = None) -> str:
    """``"file lines 5, 10, 13"``: at most :data:`SHOWN_ROWS` numbers, then how many more."""
    name = noun if len(numbers) == 1 else plural or noun + "s"
    shown = ", ".join(str(n) for n in numbers[:SHOWN_ROWS])
    more = len(numbers) - SHOWN_ROWS
    return f"{name} {shown}" + (f" and {more} more" if more > 0 else "")


def _missing_target(path: Path, column: str, where: str, count: int) -> DataFileError:
    """The error of targets that are missing; ``where`` says which rows, in what numbering."""
    return DataFileError(
        path, "the target is missing (empty, NA, NaN, null, …) in "
        f"{count} row{'' if count == 1 else 's'}, "
        f"{where}. A missing value is not a class or a number. help: fill them in, or drop "
        "those rows (`drop_missing_target`).",
        column=column)


def _target_labels(
    path: Path, column: str, texts: list[str], lines: list[int], task: str
) -> np.ndarray:
    """The target column's cells (none missing) as float64 when every one is a number, else
    as text; a mix of numbers and text is refused unless ``task`` says what it is."""
    values = [parse_cell(text) for text in texts]
    numeric = [isinstance(value, float) for value in values]
    if all(numeric):
        return np.array(values, dtype=np.float64)
    if any(numeric) and task == "auto":
        # name the fewer kind: '?' among prices, or a stray 3 among species
        odd_kind = (2 * numeric.count(False) > len(values))
        odd = [i for i, is_number in enumerate(numeric) if is_number == odd_kind]
        verb = "holds" if len(odd) == 1 else "hold"
        kind = ("a number" if len(odd) == 1 else "numbers") if odd_kind else "text"
        examples = ", ".join(repr(texts[i]) for i in odd[:3])
        raise DataFileError(
            path, "the target mixes numbers and text: "
            f"{_listing('file line', [lines[i] for i in odd])} {verb} {kind} ({examples}). "
            "help: if they mark missing values, write them as empty cells or NA (and drop "
            "them with `drop_missing_target`); to read every value as a class label, set "
            "`task` to classification.", column=column)
    return np.array(texts, dtype=str)


def _encode_target(
    path: Path, column: str, labels: np.ndarray, places: Places,
    task: str, min_classes: int = 2,
) -> tuple[np.ndarray, list[str | float] | None]:
    """``(y, classes)`` from the target's values (float64 or text); ``places`` are the
    (row, line) of each value for messages."""
    numeric = labels.dtype.kind == "f"
    if numeric and not (np.abs(labels) < LARGEST).all():
        i = int(np.flatnonzero(~(np.abs(labels) < LARGEST))[0])
        raise DataFileError(path, f"the target must be {_usable(labels[i])}.",
                            places[i][0], column, places[i][1])
    if task == "auto":
        task = auto_task(labels) if numeric else "classification"
    if task == "regression":
        if not numeric:
            i = next((i for i, value in enumerate(labels)  # 0: an .npz's number strings
                      if not isinstance(parse_cell(str(value)), float)), 0)
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


def _usable(value: float) -> str:
    """The constraint a value out of range breaks, and the value (for ``must be …``)."""
    if not math.isfinite(value):
        return f"finite; received {value}"
    return f"{SQUARABLE}; received {value!r}. help: {RESCALE}"


def _options(where: str, task: str, min_rows: int | None) -> tuple[str, int]:
    """``task`` checked, and the rows needed (by default what the smallest split needs)."""
    task = choice(where, "task", task, TASKS)
    return task, split_min_rows() if min_rows is None else positive_int(where, "min_rows",
                                                                        min_rows)


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
    drop_missing_target: bool = False,
) -> Dataset:
    """Read a CSV file with a header row; ``target`` names the label column.

    ``task`` is ``"classification"``, ``"regression"`` or ``"auto"``: numbers with a
    fractional part, or whole numbers with more than 20 distinct values and more than one per
    10 rows, are a regression target; text and other whole numbers are classes ``0 … k−1``
    in sorted order (``Dataset.classes`` keeps the labels). A target mixing numbers and text
    is refused unless ``task="classification"``.
    ``min_rows`` defaults to ``dr.data.min_rows()`` (5: the smallest default split);
    ``min_classes`` is 2 for training data (1 to score a model on one class's examples).
    Rows whose target is missing raise, naming up to 10 of their lines; with
    ``drop_missing_target=True`` they are dropped (``Dataset.dropped_missing_target``
    counts them) before the other checks.
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
    task, needed = _options("load_csv", task, min_rows)
    if not isinstance(target, str):
        raise fail("load_csv", "target", "a column name (str)", target, error=TypeError)
    header, data = _read_table(source, delimiter)
    if target not in header:
        raise DataFileError(source, f"has no target column {target!r}; its columns are "
                            f"{header}.{_separator_hint(header, delimiter)}")
    if len(header) < 2:
        raise DataFileError(source, f"has no feature columns besides the target {target!r}.")
    _check_widths(source, header, data)
    t = header.index(target)
    missing = [line for _, line, fields in data if is_missing(fields[t])]
    if missing and not drop_missing_target:
        raise _missing_target(source, target, "on " + _listing("file line", missing),
                              len(missing))
    data = [(row, line, fields) for row, line, fields in data if not is_missing(fields[t])]
    _check_rows(source, len(data), needed)
    features = [name for name in header if name != target]
    X = _features(source, header, data, features)
    labels = _target_labels(source, target, [fields[t] for *_, fields in data],
                            [line for _, line, _ in data], task)
    places = [(row, line) for row, line, _ in data]
    y, classes = _encode_target(source, target, labels, places, task, min_classes)
    return Dataset(X, y, features, target, classes, source, len(missing))


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
                            f"{names}, the file's columns are {header}."
                            f"{_separator_hint(header, delimiter)}")
    if not data:
        raise DataFileError(source, "has a header but no data rows.")
    _check_widths(source, header, data)
    return _features(source, header, data, names), names


Rows = list[tuple[int, int, list[str]]]  # (row counted from 1 after the header, line, fields)


def _read_text(source: Path) -> str:
    """The text of a UTF-8 file (a byte-order mark is dropped); a folder, an unreadable file
    and bytes that are not UTF-8 (named by offset and line) raise :class:`DataFileError`."""
    _check_regular(source)
    try:
        raw = source.read_bytes()
    except OSError as error:
        raise DataFileError(source, f"cannot be read ({error.strerror or error}).") from None
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = bom + error.start
        line = len(re.findall(rb"\r\n|\r|\n", raw[:offset])) + 1
        utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        guess = "UTF-16 text" if utf16 else "Latin-1 or Windows-1252 text, or not text at all"
        raise DataFileError(source, f"is not UTF-8 text: byte {offset} of the file (line "
                            f"{line}) is 0x{raw[offset]:02x}. help: it may be {guess}; save "
                            "it as UTF-8.") from None


def _separator_hint(header: list[str], delimiter: str) -> str:
    """A help for a header read as one column that another separator would split (a
    semicolon-separated file, as spreadsheets write where the decimal mark is a comma)."""
    others = [mark for mark in (";", "\t", "|") if mark != delimiter and mark in header[0]]
    if len(header) != 1 or not others:
        return ""
    shown = "a tab" if others[0] == "\t" else repr(others[0])
    return (f" help: its header reads as one column; it looks separated by {shown}, and "
            f"columns are separated by {delimiter!r} here: save it as comma-separated CSV.")


def _check_regular(source: Path) -> None:
    """Refuse a missing file, a folder, a pipe or a device (reading a pipe or a device never
    ends)."""
    if source.is_dir():
        raise DataFileError(source, "is a folder, not a data file. help: pass a data file "
                            "(.csv or .npz) or a built-in dataset name.")
    if not source.exists():
        raise FileNotFoundError(f"no file {source}.")
    if not source.is_file():
        raise DataFileError(source, "is not a regular file (a pipe or a device?).")


def _read_table(source: Path, delimiter: str) -> tuple[list[str], Rows]:
    """The header and the non-empty data rows of a CSV file."""
    rows = []
    reader = csv.reader(io.StringIO(_read_text(source), newline=""), delimiter=delimiter,
                        skipinitialspace=True)
    start = 1  # the line where the row being read starts
    try:
        for fields in reader:
            if any("\n" in field or "\r" in field for field in fields):
                raise DataFileError(source, f"a quoted value runs from line {start} to "
                                    f"line {reader.line_num}. help: is a quote left open?")
            if fields and any(field.strip(SPACE) for field in fields):
                rows.append((reader.line_num, [field.strip(SPACE) for field in fields]))
            start = reader.line_num + 1
    except csv.Error as error:
        if "field limit" in str(error):
            raise DataFileError(source, f"a value of the row starting on line {start} is "
                                f"longer than {csv.field_size_limit():,} characters. help: is "
                                "a quote left open?") from None
        raise DataFileError(source, f"is not valid CSV at line {start} ({error}).") from None
    if not rows:
        raise DataFileError(source, "is empty: expected a header row and data rows.")
    header_line, header = rows[0]
    if len(set(header)) != len(header) or "" in header:
        raise DataFileError(source, f"the header (line {header_line}) must have distinct, "
                            f"non-empty column names; received {header}.")
    return header, [(row, line, fields) for row, (line, fields) in enumerate(rows[1:], 1)]


def _check_widths(source: Path, header: list[str], data: Rows) -> None:
    """Refuse a row with more or fewer fields than the header (its columns are unknown)."""
    for row, line, fields in data:
        if len(fields) != len(header):
            raise DataFileError(source, f"has {len(fields)} fields; the header has "
                                f"{len(header)}.", row, line=line)


def _features(source: Path, header: list[str], data: Rows, names: list[str]) -> np.ndarray:
    """The columns ``names`` of every row as finite float64, ``(len(data), len(names))``."""
    columns = [header.index(name) for name in names]
    X = np.empty((len(data), len(columns)))
    for i, (row, line, fields) in enumerate(data):
        for k, j in enumerate(columns):
            value = parse_cell(fields[j])
            if not isinstance(value, float) or not abs(value) < LARGEST:
                if not fields[j]:
                    what = "is empty (a missing value)"
                elif value is None:
                    what = f"is missing ({fields[j]!r} marks a missing value)"
                elif isinstance(value, str) or not math.isfinite(value):
                    what = f"must be a finite number; received {fields[j]!r}"
                else:
                    what = f"must be {_usable(value)}"
                raise DataFileError(source, f"the value {what}.", row, header[j], line)
            X[i, k] = value
    return X


def load_npz(
    path: str | Path, *, x_key: str = "X", y_key: str = "y", task: str = "auto",
    min_rows: int | None = None, min_classes: int = 2, drop_missing_target: bool = False,
) -> Dataset:
    """Read ``X`` ``(m, …)`` and ``y`` ``(m,)`` from an ``.npz`` file (``np.savez``).

    ``y`` may hold numbers or strings (mapped to class indices as in :func:`load_csv`);
    ``task``, ``min_rows``, ``min_classes`` and ``drop_missing_target`` are
    :func:`load_csv`'s (a missing target is NaN, or a missing-value string such as ``""``).
    Rows and columns in messages are 0-based array indices (``X[row, column]``).
    Raises :class:`DataFileError` for any problem in the file.
    """
    source = Path(path)
    task, needed = _options("load_npz", task, min_rows)
    X, y = _read_npz(source, (x_key, y_key))
    _check_features(source, X, x_key)
    if y.ndim != 1 or len(y) != len(X):
        raise DataFileError(source, f"{y_key} must have shape ({len(X)},); received {y.shape}.")
    labels = _npz_labels(source, y, y_key)
    if labels.dtype.kind == "f":
        missing = np.isnan(labels)
    else:
        missing = np.array([is_missing(str(label)) for label in labels], dtype=bool)
    kept = np.flatnonzero(~missing)  # the file's row index of each row kept
    if missing.any() and not drop_missing_target:
        rows = np.flatnonzero(missing).tolist()
        raise _missing_target(source, y_key, f"{y_key}[i] is NaN or empty at 0-based "
                              f"{_listing('index', rows, 'indices')}", len(rows))
    X, labels = _usable_values(source, X[kept], x_key, kept), labels[kept]
    _check_rows(source, len(X), needed)
    places = [(int(i), None) for i in kept]
    y_encoded, classes = _encode_target(source, y_key, labels, places, task, min_classes)
    names = [f"x[{j}]" for j in range(int(np.prod(X.shape[1:])))]
    return Dataset(X, y_encoded, names, y_key, classes, source, int(missing.sum()))


def load_npz_features(path: str | Path, *, x_key: str = "X") -> np.ndarray:
    """``X`` ``(m, …)`` as float64 from an ``.npz`` file, without labels (to predict on);
    checked as :func:`load_npz` checks it. Raises :class:`DataFileError`."""
    source = Path(path)
    (X,) = _read_npz(source, (x_key,))
    _check_features(source, X, x_key)
    if len(X) == 0:
        raise DataFileError(source, f"{x_key} has no rows.")
    return _usable_values(source, X, x_key, np.arange(len(X)))


def _read_npz(source: Path, keys: tuple[str, ...]) -> list[np.ndarray]:
    """The arrays ``keys`` of an ``.npz`` file (never a pickled object)."""
    _check_regular(source)
    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile)
    saving = f"help: np.savez(path, {', '.join(f'{key}={key}' for key in keys)})."
    with source.open("rb") as file:  # np.load(path) leaves a damaged file open
        try:
            archive = np.load(file, allow_pickle=False)
        except unreadable as error:
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
            except unreadable as error:  # damaged members, or object arrays (never pickle)
                raise DataFileError(source, f"cannot be read ({error}).") from None


def _check_features(source: Path, X: np.ndarray, x_key: str) -> None:
    """``X`` holds numbers in rows of at least one feature."""
    if X.dtype.kind not in "biuf" or X.ndim < 2 or 0 in X.shape[1:]:
        raise DataFileError(source, f"{x_key} must be a numeric array of rows (m, n…) with at "
                            f"least one feature; received {describe(X)}.")


def _usable_values(source: Path, X: np.ndarray, x_key: str, rows: np.ndarray) -> np.ndarray:
    """``X`` as float64 once every value is usable (:func:`_usable`); ``rows`` are the
    file's row index of each row, for the message."""
    X = X.astype(np.float64)
    bad = np.argwhere(~(np.abs(X) < LARGEST))
    if bad.size:
        where = (int(rows[bad[0][0]]), *(int(i) for i in bad[0][1:]))
        raise DataFileError(source, f"{x_key}{list(where)} must be "
                            f"{_usable(float(X[tuple(bad[0])]))}.", where[0],
                            str(where[1]) if len(where) > 1 else None)
    return X


def _npz_labels(source: Path, y: np.ndarray, y_key: str) -> np.ndarray:
    """An ``.npz`` file's ``y`` as float64 (numbers) or stripped text (strings)."""
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
