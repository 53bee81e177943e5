"""The careful CSV reader: cell by cell, in Python, so that every problem is named by its
row, file line and column (a bad byte by its offset, a quote left open by its lines).

:mod:`deeprecipe.data.io` reads a CSV file with pyarrow first and turns to this reader when
pyarrow refuses the file or a check fails: it holds every cell as text and is slow (a
million rows of 20 features: 20 s and 2.1 GB, measured with the problem on the last row), and
exact. Both share the header checks (:func:`check_header`); a column's numbers are read at
once by pyarrow, cell by cell only in a column that holds a bad one.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .cells import SPACE, is_missing, parse_cell
from .columns import CellProblem, cell_problem, read_feature
from .filebase import (
    DataFileError,
    check_regular,
    check_rows,
    is_usable_column,
    is_usable_feature,
    listing,
    missing_target,
)
from .labels import encode_target, target_labels

LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # a line and its end, if any
Rows = list[tuple[int, int, list[str]]]  # (row counted from 1 after the header, line, fields)
# X, y, feature names, classes, rows dropped, categories, missing cells (as Dataset has them)
Table = tuple[np.ndarray, np.ndarray, list[str], list[str | float] | None, int,
              dict[int, list[str]], dict[int, int]]
Read = tuple[np.ndarray, dict[int, list[str]], dict[int, int]]  # X, categories, missing


def read_labelled(source: Path, target: str, delimiter: str, task: str, needed: int,
                  min_classes: int, drop_missing_target: bool) -> Table:
    """``(X, y, feature names, classes, rows dropped, categories, missing)`` of a CSV file
    with a ``target`` column, as :func:`deeprecipe.data.load_csv` documents them."""
    header, data = _read_table(source, delimiter)
    check_header(source, header, target, delimiter)
    _check_widths(source, header, data)
    t = header.index(target)
    missing = [line for _, line, fields in data if is_missing(fields[t])]
    if missing and not drop_missing_target:
        raise missing_target(source, target, "on " + listing("file line", missing),
                             len(missing))
    data = [(row, line, fields) for row, line, fields in data if not is_missing(fields[t])]
    check_rows(source, len(data), needed)
    features = [name for name in header if name != target]
    X, categories, blanks = _features(source, header, data, features, {})
    labels = target_labels(source, target, [fields[t] for *_, fields in data],
                           [line for _, line, _ in data], task)
    y, classes = encode_target(source, target, labels, lambda i: data[i][:2], task,
                               min_classes)
    return X, y, features, classes, len(missing), categories, blanks


def read_features(source: Path, names: list[str] | None, delimiter: str,
                  kinds: dict[str, str] | None = None) -> tuple[Read, list[str]]:
    """``((X, categories, missing), names)`` of a CSV file without a target: every value a
    number, none missing (:func:`deeprecipe.data.load_csv_features`), or with ``kinds`` a
    table as it comes (:func:`deeprecipe.data.load_csv_table`)."""
    header, data = _read_table(source, delimiter)
    names = check_columns(source, header, names, delimiter)
    if not data:
        raise DataFileError(source, "has a header but no data rows.")
    _check_widths(source, header, data)
    return _features(source, header, data, names, kinds), names


def check_header(source: Path, header: list[str], target: str, delimiter: str) -> None:
    """Refuse a header without the ``target`` column, or with no other column."""
    if target not in header:
        raise DataFileError(source, f"has no target column {target!r}; its columns are "
                            f"{header}.{_separator_hint(header, delimiter)}")
    if len(header) < 2:
        raise DataFileError(source, f"has no feature columns besides the target {target!r}.")


def check_columns(source: Path, header: list[str], names: list[str] | None,
                  delimiter: str) -> list[str]:
    """The feature columns ``names`` (by default all), each one in the ``header``."""
    names = list(header) if names is None else list(names)
    missing = [name for name in names if name not in header]
    if missing:
        raise DataFileError(source, f"has no column(s) {missing}; the model was trained on "
                            f"{names}, the file's columns are {header}."
                            f"{_separator_hint(header, delimiter)}")
    return names


def check_names(source: Path, header: list[str], line: int) -> None:
    """Refuse a header whose column names are not distinct and non-empty."""
    if len(set(header)) != len(header) or "" in header:
        raise DataFileError(source, f"the header (line {line}) must have distinct, "
                            f"non-empty column names; received {header}.")


def decode(source: Path, raw: bytes) -> str:
    """The text of a UTF-8 file's bytes (a byte-order mark is dropped); bytes that are not
    UTF-8 raise :class:`DataFileError`, named by offset and line."""
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


def _read_text(source: Path) -> str:
    """The text of a UTF-8 file; a folder and an unreadable file raise
    :class:`DataFileError`."""
    check_regular(source)
    try:
        raw = source.read_bytes()
    except OSError as error:
        raise DataFileError(source, f"cannot be read ({error.strerror or error}).") from None
    return decode(source, raw)


def _separator_hint(header: list[str], delimiter: str) -> str:
    """A help for a header read as one column that another separator would split (a
    semicolon-separated file, as spreadsheets write where the decimal mark is a comma)."""
    others = [mark for mark in (";", "\t", "|") if mark != delimiter and mark in header[0]]
    if len(header) != 1 or not others:
        return ""
    shown = "a tab" if others[0] == "\t" else repr(others[0])
    return (f" help: its header reads as one column; it looks separated by {shown}, and "
            f"columns are separated by {delimiter!r} here: save it as comma-separated CSV.")


def _read_table(source: Path, delimiter: str) -> tuple[list[str], Rows]:
    """The header and the non-empty data rows of a CSV file."""
    rows = []
    reader = csv.reader(_lines(_read_text(source)), delimiter=delimiter,
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
    check_names(source, header, header_line)
    return header, [(row, line, fields) for row, (line, fields) in enumerate(rows[1:], 1)]


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their ends, as ``io.StringIO(text, newline="")`` gives
    them (a line ends at \\n, \\r or \\r\\n), without its copy of the text (four bytes a
    character: 860 MB for a 225 MB file)."""
    return (match.group() for match in LINE.finditer(text))


def _check_widths(source: Path, header: list[str], data: Rows) -> None:
    """Refuse a row with more or fewer fields than the header (its columns are unknown)."""
    for row, line, fields in data:
        if len(fields) != len(header):
            raise DataFileError(source, f"has {len(fields)} fields; the header has "
                                f"{len(header)}.", row, line=line)


def _features(source: Path, header: list[str], data: Rows, names: list[str],
              kinds: dict[str, str] | None) -> Read:
    """The columns ``names`` of every row as float32, ``(len(data), len(names))``: with
    ``kinds`` (``{}``: each column by its cells) as
    :func:`~deeprecipe.data.columns.read_feature` reads them, the text columns' categories
    and the missing cells' counts; without, each value a finite number within float32's
    range. The first bad cell (by row, then column) is named."""
    X = np.empty((len(data), len(names)), dtype=np.float32)
    categories: dict[int, list[str]] = {}
    missing: dict[int, int] = {}
    bad = []  # (row index, column index, problem) of each column's first bad cell
    for k, name in enumerate(names):
        j = header.index(name)
        texts = [fields[j] for _, _, fields in data]
        if kinds is not None:
            try:
                column = read_feature(pa.array(texts, pa.string()), True,
                                      kinds.get(name, "auto"))
            except CellProblem as problem:
                if problem.index is None:
                    raise DataFileError(source, f"the column {problem.problem}", column=name
                                        ) from None
                bad.append((problem.index, j, problem.problem))
                continue
            X[:, k] = column.values
            if column.categories is not None:
                categories[k] = column.categories
            if column.missing:
                missing[k] = column.missing
            continue
        numbers = _numbers(texts)
        if numbers is not None:
            X[:, k] = numbers
            continue
        i = next(i for i, text in enumerate(texts) if not _usable_cell(parse_cell(text)))
        bad.append((i, j, cell_problem(texts[i], parse_cell(texts[i]))))
    if bad:
        i, j, first = min(bad)
        row, line, _ = data[i]
        raise DataFileError(source, f"the value {first}.", row, header[j], line)
    return X, categories, missing


def _numbers(texts: list[str]) -> np.ndarray | None:
    """A column's cells as numbers when every one is a usable feature value, read at once
    by pyarrow (which reads a number as :func:`~deeprecipe.data.cells.parse_cell` does; NaN,
    which it also reads from text such as 'nan(1)', sends the column to the cell-by-cell
    reading); else ``None``."""
    try:
        numbers = pc.cast(pa.array(texts, pa.string()), pa.float64()).to_numpy()
    except pa.ArrowInvalid:
        return None
    return numbers if is_usable_column(numbers) else None


def _usable_cell(value: float | str | None) -> bool:
    return isinstance(value, float) and is_usable_feature(value)
