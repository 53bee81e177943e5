"""Load user data from CSV (:func:`load_csv`), Parquet (:func:`load_parquet`), NumPy
``.npy`` (:func:`load_npy`) or ``.npz`` (:func:`load_npz`) files as a :class:`Dataset`.

The features come as one float32, C-contiguous matrix: CSV and Parquet are read by pyarrow
batch by batch into it, an ``.npy`` is memory-mapped, and a float32 ``.npz`` member is used
as read. Every problem in the file raises :class:`DataFileError` naming the file and, where
it applies, the row and the column: a CSV file that pyarrow refuses, or whose values a check
refuses, is read again by the careful reader (:mod:`~deeprecipe.data.csvtext`), which names
the row (counted from 1 after the header, with the file's line) and the cell.

Each loader takes ``progress(done, total)``, called a few times a second at most and once
at the end: ``done`` and ``total`` count bytes for CSV, rows for the other formats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, NoReturn

import numpy as np

from .._checks import choice, fail
from ..findings import Finding
from . import arrowread, csvtext
from .arrays import as_float32, check_features, labelled, read_npy, read_npz
from .arrowread import Columns, Irregular
from .cells import parse_cell
from .columns import KINDS, CellValues
from .filebase import (
    DataFileError,
    ProgressHook,
    Throttle,
    check_rows,
    listing,
    missing_target,
    needed_rows,
)
from .labels import Place, encode_target
from .split import TASKS, target_kind

__all__ = [
    "FILE_SUFFIXES", "DataFileError", "Dataset", "ProgressHook", "Table", "load_csv",
    "load_csv_features", "load_csv_table", "load_npy", "load_npy_features", "load_npz",
    "load_npz_features", "load_parquet", "load_parquet_features", "load_parquet_table",
]

FILE_SUFFIXES = (".csv", ".tsv", ".parquet", ".npy", ".npz", ".mat", ".h5", ".hdf5")  # by suffix


@dataclass(frozen=True)
class Dataset:
    """Loaded data: ``X`` ``(m, n)`` float32, C-contiguous (an ``.npz``'s images keep their
    shape ``(m, h, w[, c])``); ``y`` ``(m,)`` class indices (``intp``) or float64 values;
    ``classes`` maps class index → original label (``None`` for regression). Unpacks as
    ``X, y = dataset``."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target: str
    classes: list[str | float] | None
    source: Path
    dropped_missing_target: int = 0  # rows dropped for a missing target (drop_missing_target)
    # the file's own sets, in row order: (("train", 211), ("dev", 200)); () = one unsplit set
    sets: tuple[tuple[str, int], ...] = ()
    # text feature columns: column index -> its categories; X holds the category's index
    # (a float), NaN where the cell is missing
    categories: dict[int, list[str]] = field(default_factory=dict)
    # what loading noticed (arrays transposed, images recognised, files skipped)
    notes: list[Finding] = field(default_factory=list)
    # feature columns with missing cells (NaN in X): column index -> how many
    missing: dict[int, int] = field(default_factory=dict)

    @property
    def task(self) -> str:
        """One of :data:`~deeprecipe.data.split.KINDS`."""
        return target_kind(None if self.classes is None else len(self.classes))

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.y))


def _options(where: str, task: str, min_rows: int | None) -> tuple[str, int]:
    """``task`` checked, and the rows needed (by default what the smallest split needs)."""
    return choice(where, "task", task, TASKS), needed_rows(where, min_rows)


def _column_name(where: str, target: object) -> str:
    if not isinstance(target, str):
        raise fail(where, "target", "a column name (str)", target, error=TypeError)
    return target


# --- CSV ---------------------------------------------------------------------------------


def load_csv(
    path: str | Path,
    target: str,
    *,
    delimiter: str = ",",
    task: str = "auto",
    min_rows: int | None = None,
    min_classes: int = 2,
    drop_missing_target: bool = False,
    progress: ProgressHook | None = None,
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
    counts them) before the other checks. Every feature value must be a finite number
    within float32's range (about ±3.4e38). ``progress(done, total)`` counts bytes.
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
    target = _column_name("load_csv", target)
    for reader in (arrowread.read_csv, arrowread.read_csv_cells):
        try:
            return _fast_csv(source, target, delimiter, task, needed, min_classes,
                             drop_missing_target, progress, reader)
        except _IrregularTarget:
            break  # the careful reader names the target's problem
        except Irregular:
            pass  # read again once this exception (it holds what was read) is gone
        arrowread.release_memory()
    arrowread.release_memory()
    X, y, features, classes, dropped, categories, missing = csvtext.read_labelled(
        source, target, delimiter, task, needed, min_classes, drop_missing_target)
    return Dataset(X, y, features, target, classes, source, dropped, categories=categories,
                   missing=missing)


def _fast_csv(source: Path, target: str, delimiter: str, task: str, needed: int,
              min_classes: int, drop_missing_target: bool, progress: ProgressHook | None,
              reader: Callable[..., Columns]) -> Dataset:
    """:func:`load_csv` through pyarrow (``reader``: numbers only, or a table as it comes);
    :class:`Irregular` when the careful reader must read the file."""
    header = arrowread.csv_header(source, delimiter)
    csvtext.check_header(source, header, target, delimiter)
    features = [name for name in header if name != target]
    read = reader(source, header, features, target, delimiter, progress)
    assert read.target is not None  # asked for
    try:
        values = arrowread.target_values(read.target, cells=True)
        X, y, classes, dropped = _with_target(
            source, read.X, values, target, task, needed, min_classes, drop_missing_target,
            _ask_careful_reader, _ask_careful_reader)
    except Irregular:
        raise _IrregularTarget from None
    return _dataset(read, X, y, target, classes, source, dropped)


class _IrregularTarget(Irregular):
    """The features were read; the careful reader must name a problem of the target."""


def _dataset(read: Columns, X: np.ndarray, y: np.ndarray, target: str,
             classes: list[str | float] | None, source: Path, dropped: int) -> Dataset:
    """The :class:`Dataset` of what a reader read, once rows without a target are dropped
    (the missing cells are counted again when rows were)."""
    missing = read.missing
    if dropped and missing:
        missing = {k: count for k in missing
                   if (count := int(np.isnan(X[:, k]).sum()))}
    return Dataset(X, y, read.features, target, classes, source, dropped,
                   categories=read.categories, missing=missing)


def load_csv_features(
    path: str | Path, columns: list[str] | None = None, *, delimiter: str = ",",
    progress: ProgressHook | None = None,
) -> tuple[np.ndarray, list[str]]:
    """``(X, names)`` from a CSV file with a header row and no target (to predict on), every
    value a number, none missing (:func:`load_csv_table` reads text and missing values).

    ``columns`` picks and orders the feature columns by name (others, such as a label
    column, are ignored); by default every column is a feature. Problems raise
    :class:`DataFileError` as in :func:`load_csv`.
    """
    source = Path(path)
    try:
        header = arrowread.csv_header(source, delimiter)
        names = csvtext.check_columns(source, header, columns, delimiter)
        read = arrowread.read_csv(source, header, names, None, delimiter, progress)
    except Irregular:
        read = None  # read carefully once this exception (it holds what was read) is gone
    if read is None:
        arrowread.release_memory()
        (X, _, _), names = csvtext.read_features(source, columns, delimiter)
        return X, names
    if not len(read.X):
        raise DataFileError(source, "has a header but no data rows.")
    return read.X, names


class Table(NamedTuple):
    """Feature columns read from a table as it comes (:func:`load_csv_table`,
    :func:`load_parquet_table`): ``X`` float32 ``(m, len(names))``, the text columns'
    ``categories`` (as :attr:`Dataset.categories`) and the ``missing`` cells per column (as
    :attr:`Dataset.missing`)."""

    X: np.ndarray
    names: list[str]
    categories: dict[int, list[str]]
    missing: dict[int, int]


def load_csv_table(
    path: str | Path, columns: list[str] | None = None, *, kinds: dict[str, str] | None = None,
    delimiter: str = ",", progress: ProgressHook | None = None,
) -> Table:
    """The feature ``columns`` (by default all) of a CSV file without a target, read as
    :func:`load_csv` reads a table's features: numbers or text (categories), missing cells
    NaN. ``kinds`` says, by column name, that a column must be read as ``"number"`` or
    ``"text"`` (a model's text column whose cells all look like numbers stays text);
    ``"auto"`` (the default) decides by the cells. Problems raise :class:`DataFileError`."""
    source = Path(path)
    kinds = _kinds("load_csv_table", kinds)
    try:
        header = arrowread.csv_header(source, delimiter)
        names = csvtext.check_columns(source, header, columns, delimiter)
        read = arrowread.read_csv_cells(source, header, names, None, delimiter, progress,
                                        kinds)
    except Irregular:
        read = None  # read carefully once this exception (it holds what was read) is gone
    if read is None:
        arrowread.release_memory()
        (X, categories, missing), names = csvtext.read_features(source, columns, delimiter,
                                                                 kinds)
        return Table(X, names, categories, missing)
    if not len(read.X):
        raise DataFileError(source, "has a header but no data rows.")
    return Table(read.X, names, read.categories, read.missing)


def _kinds(where: str, kinds: dict[str, str] | None) -> dict[str, str]:
    """``kinds`` checked: each value one of :data:`~deeprecipe.data.columns.KINDS`."""
    kinds = dict(kinds or {})
    for name, kind in kinds.items():
        choice(where, f"kinds[{name!r}]", kind, KINDS)
    return kinds


def _ask_careful_reader(*_: object) -> NoReturn:
    """The fast path's answer to a problem it cannot locate: the careful reader names it."""
    raise Irregular


# --- Parquet -----------------------------------------------------------------------------


def load_parquet(
    path: str | Path, target: str, *, task: str = "auto", min_rows: int | None = None,
    min_classes: int = 2, drop_missing_target: bool = False,
    progress: ProgressHook | None = None,
) -> Dataset:
    """Read a Parquet file; ``target`` names the label column, every other column is a
    feature and must hold numbers (integers, floats, booleans or decimals).

    Only the columns needed are read. A numeric target is read as :func:`load_csv` reads
    numbers (classes or regression by ``task``); a text target holds class labels (a
    missing-value marker such as ``"NA"`` and null are missing). ``task``, ``min_rows``,
    ``min_classes`` and ``drop_missing_target`` are :func:`load_csv`'s; rows in messages are
    counted from 1. ``progress(done, total)`` counts rows. Raises :class:`DataFileError`
    for any problem in the file (not Parquet, truncated, a column of the wrong type, a
    missing value).
    """
    source = Path(path)
    task, needed = _options("load_parquet", task, min_rows)
    target = _column_name("load_parquet", target)
    read = arrowread.read_parquet(source, target, None, progress, tables=True)
    assert read.target is not None  # asked for
    values = arrowread.target_values(read.target, cells=False)

    def refuse_missing(rows: np.ndarray) -> NoReturn:
        raise missing_target(source, target, "on " + listing("row", (rows + 1).tolist()),
                             len(rows))

    X, y, classes, dropped = _with_target(
        source, read.X, values, target, task, needed, min_classes, drop_missing_target,
        refuse_missing, None)
    return _dataset(read, X, y, target, classes, source, dropped)


def load_parquet_table(
    path: str | Path, columns: list[str] | None = None, *, kinds: dict[str, str] | None = None,
    progress: ProgressHook | None = None,
) -> Table:
    """The feature ``columns`` (by default all) of a Parquet file, read as
    :func:`load_parquet` reads a table's features (text columns as categories, null and NaN
    missing); ``kinds`` as in :func:`load_csv_table`. Problems raise
    :class:`DataFileError`."""
    source = Path(path)
    read = arrowread.read_parquet(source, None, columns, progress, tables=True,
                                  kinds=_kinds("load_parquet_table", kinds))
    if not len(read.X):
        raise DataFileError(source, "has no data rows.")
    return Table(read.X, read.features, read.categories, read.missing)


def load_parquet_features(
    path: str | Path, columns: list[str] | None = None, *, progress: ProgressHook | None = None,
) -> tuple[np.ndarray, list[str]]:
    """``(X, names)`` from a Parquet file (to predict on): ``columns`` picks and orders the
    feature columns by name (by default every column). Problems raise
    :class:`DataFileError` as in :func:`load_parquet`."""
    source = Path(path)
    read = arrowread.read_parquet(source, None, columns, progress)
    if not len(read.X):
        raise DataFileError(source, "has no data rows.")
    return read.X, read.features


# --- the target of CSV and Parquet -------------------------------------------------------


def _with_target(
    source: Path, X: np.ndarray, values: CellValues, target: str, task: str, needed: int,
    min_classes: int, drop_missing_target: bool,
    refuse_missing: Callable[[np.ndarray], NoReturn], where: Place | None,
) -> tuple[np.ndarray, np.ndarray, list[str | float] | None, int]:
    """``(X, y, classes, rows dropped)`` once the target's values are checked as
    :func:`load_csv` checks them. ``refuse_missing(rows)`` raises for missing targets (0-based
    rows); ``where(i)`` locates the ``i``-th kept row for a message (``None``: the row counted
    from 1)."""
    missing = values.missing
    dropped = int(missing.sum())
    if dropped and not drop_missing_target:
        refuse_missing(np.flatnonzero(missing))
    kept = np.flatnonzero(~missing) if dropped else None  # the rows kept, when some are not
    if kept is not None:
        X = X[kept]
    check_rows(source, len(X), needed)
    labels, codes = _labels(values, kept, task)
    row = (lambda i: i + 1) if kept is None else (lambda i: int(kept[i]) + 1)
    y, classes = encode_target(source, target, labels, where or (lambda i: (row(i), None)),
                               task, min_classes, codes=codes)
    return X, y, classes, dropped


def _labels(values: CellValues, kept: np.ndarray | None, task: str
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """The ``kept`` rows' labels (all when ``None``): float64 per row, or distinct text and
    each row's code."""
    if values.numbers is not None:
        return (values.numbers if kept is None else values.numbers[kept]), None
    assert values.texts is not None and values.codes is not None
    assert values.numeric_text is not None
    codes = values.codes if kept is None else values.codes[kept]
    used = np.zeros(len(values.texts), dtype=bool)
    used[codes] = True
    numeric = values.numeric_text[used]
    if numeric.size and numeric.all():
        numbers = np.array([parse_cell(str(text)) if number else np.nan
                            for text, number in zip(values.texts, values.numeric_text,
                                                    strict=True)], dtype=np.float64)
        return numbers[codes], None
    if numeric.any() and task == "auto":
        raise Irregular  # a CSV target mixing numbers and text: the careful reader names them
    remap = np.cumsum(used) - 1
    return values.texts[used], remap[codes]


# --- NumPy -------------------------------------------------------------------------------


def load_npz(
    path: str | Path, *, x_key: str = "X", y_key: str = "y", task: str = "auto",
    min_rows: int | None = None, min_classes: int = 2, drop_missing_target: bool = False,
    progress: ProgressHook | None = None,
) -> Dataset:
    """Read ``X`` ``(m, …)`` and ``y`` ``(m,)`` from an ``.npz`` file (``np.savez``).

    ``y`` may hold numbers or strings (mapped to class indices as in :func:`load_csv`);
    ``task``, ``min_rows``, ``min_classes`` and ``drop_missing_target`` are
    :func:`load_csv`'s (a missing target is NaN, or a missing-value string such as ``""``).
    A float32, C-contiguous ``X`` is used as read (no copy); others are converted to
    float32. Rows and columns in messages are 0-based array indices (``X[row, column]``).
    ``progress(done, total)`` counts the rows checked. Raises :class:`DataFileError` for
    any problem in the file.
    """
    source = Path(path)
    task, needed = _options("load_npz", task, min_rows)
    X, y = read_npz(source, (x_key, y_key))
    X, y_encoded, names, classes, dropped = labelled(
        source, X, y, x_key, y_key, task, needed, min_classes, drop_missing_target,
        Throttle(progress, len(X)))
    return Dataset(X, y_encoded, names, y_key, classes, source, dropped)


def load_npz_features(path: str | Path, *, x_key: str = "X",
                      progress: ProgressHook | None = None) -> np.ndarray:
    """``X`` ``(m, …)`` as float32 from an ``.npz`` file, without labels (to predict on);
    checked as :func:`load_npz` checks it. Raises :class:`DataFileError`."""
    source = Path(path)
    (X,) = read_npz(source, (x_key,))
    return _features_only(source, X, x_key, progress)


def load_npy(
    path: str | Path, target_file: str | Path, *, task: str = "auto",
    min_rows: int | None = None, min_classes: int = 2, drop_missing_target: bool = False,
    progress: ProgressHook | None = None,
) -> Dataset:
    """Read the features ``X`` ``(m, …)`` of an ``.npy`` file (``np.save``) and their labels
    from a second one, ``target_file`` (``(m,)``, numbers or strings).

    ``X`` is memory-mapped, copy-on-write: a float32, C-contiguous ``X`` is not read into
    memory until used and never copied (writing to it changes this process's pages, never
    the file); others are converted to float32. The options and messages are
    :func:`load_npz`'s. Raises :class:`DataFileError` for any problem in either file.
    """
    source, labels_file = Path(path), Path(target_file)
    task, needed = _options("load_npy", task, min_rows)
    X = read_npy(source)
    y = read_npy(labels_file)
    if y.ndim != 1 or len(y) != len(X):
        raise DataFileError(labels_file, f"the labels must have shape ({len(X)},), one per "
                            f"row of {source.name}; received {y.shape}.")
    X, y_encoded, names, classes, dropped = labelled(
        source, X, np.asarray(y), "X", "y", task, needed, min_classes, drop_missing_target,
        Throttle(progress, len(X)))
    return Dataset(X, y_encoded, names, labels_file.name, classes, source, dropped)


def load_npy_features(path: str | Path, *, progress: ProgressHook | None = None) -> np.ndarray:
    """``X`` ``(m, …)`` of an ``.npy`` file as float32 (to predict on), memory-mapped and
    checked as :func:`load_npy` does. Raises :class:`DataFileError`."""
    source = Path(path)
    return _features_only(source, read_npy(source), "X", progress)


def _features_only(source: Path, X: np.ndarray, x_key: str,
                   progress: ProgressHook | None) -> np.ndarray:
    check_features(source, X, x_key)
    if len(X) == 0:
        raise DataFileError(source, f"{x_key} has no rows.")
    return as_float32(source, X, x_key, None, Throttle(progress, len(X)))
