"""One column of a table read from its cells (:func:`read_feature`): numbers, or text whose
distinct values are categories; missing cells are NaN either way.

A CSV column is read cell by cell as :func:`~deeprecipe.data.cells.parse_cell` reads a cell:
when every filled cell is a number, the column holds numbers; when at least half of its
filled cells are text, it holds text, and its numbers are categories too (``"3"`` among
``"S"``, ``"M"``, ``"L"``); a column where numbers are most of the filled cells and some
are text is refused, naming the
first text cell (a typo, or a missing-value marker that is not one of
:data:`~deeprecipe.data.cells.MISSING`). A Parquet column is typed: numbers are numbers (null
and NaN missing), text is categories (null and a missing-value marker missing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .cells import MISSING, SPACE, is_missing, parse_cell
from .filebase import FLOAT32_LARGEST, usable_feature

MAX_CATEGORIES = 256  # distinct texts a text column may hold (each one is an input)
KINDS = ("auto", "number", "text")  # what a feature column is read as


class CellProblem(Exception):
    """A feature cell that cannot be read: ``index`` (0-based, in the column; ``None`` for the
    column as a whole) and ``problem`` (what follows "the value", or the column's sentence)."""

    def __init__(self, index: int | None, problem: str) -> None:
        super().__init__(problem)
        self.index, self.problem = index, problem


class OddNaN(Exception):
    """A cell pyarrow reads as NaN that is not a missing-value marker (``'nan(1)'``)."""


@dataclass
class CellValues:
    """A column's cells: per row a number, a text or missing.

    ``numbers`` is float64 per row when every cell that is not missing is a number (NaN where
    missing); else ``texts`` are the distinct texts (stripped), ``codes`` each row's index
    into them, and ``numeric_text`` says which of the ``texts`` read as numbers."""

    missing: np.ndarray
    numbers: np.ndarray | None = None
    texts: np.ndarray | None = None
    codes: np.ndarray | None = None
    numeric_text: np.ndarray | None = None


@dataclass
class FeatureColumn:
    """A feature column read: ``values`` float64 ``(m,)``, numbers or the index of each row's
    category in ``categories`` (``None`` for numbers), NaN where missing; ``missing`` counts
    the missing cells."""

    values: np.ndarray
    categories: list[str] | None
    missing: int


def numbers_of(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A column as NumPy, nulls as NaN: a view of its buffer for a plain number type without
    nulls (pyarrow's conversion imports pandas where it is installed, 0.2–0.3 s), else
    converted (booleans, decimals)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if column.null_count or not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
        return column.to_numpy(zero_copy_only=False)
    code = "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
    dtype = np.dtype(f"{code}{kind.bit_width // 8}")
    return np.frombuffer(column.buffers()[1], dtype, len(column), column.offset * dtype.itemsize)


def is_text(kind: pa.DataType) -> bool:
    """Whether an Arrow type holds text (plain or dictionary-encoded)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def cell_values(column: pa.Array | pa.ChunkedArray, cells: bool, distinct: bool = False,
                blanks: bool = True) -> CellValues:
    """A column's values. ``cells``: text as CSV cells (numbers and missing-value markers read
    as such); else a typed column (Parquet), whose numbers are numbers and whose text is text
    (missing when null or a missing-value marker). ``distinct``: text always as distinct
    texts and codes (never cast to numbers at once). ``blanks``: try numbers with missing
    cells at once before the distinct texts (a feature's way; a target's missing cells are
    few, and its labels are text: 0.2 s wasted per million labels). Raises :class:`OddNaN`
    for a cell pyarrow reads as NaN that is not a marker (only when cast at once)."""
    kind = column.type
    if not is_text(kind):
        numbers = numbers_of(pc.cast(column, pa.float64()))
        return CellValues(np.isnan(numbers), numbers)
    if pa.types.is_dictionary(kind):
        column = pc.cast(column, kind.value_type)
    if cells and not distinct:
        trimmed = pc.utf8_trim(column, characters=SPACE)
        try:
            numbers = numbers_of(pc.cast(trimmed, pa.float64()))
        except pa.ArrowInvalid:
            pass
        else:
            nan_rows = np.flatnonzero(np.isnan(numbers))  # 'nan(1)' is NaN to pyarrow
            texts = trimmed.take(pa.array(nan_rows)).to_pylist() if nan_rows.size else []
            if any(text is not None and not is_missing(text) for text in texts):
                raise OddNaN
            return CellValues(np.isnan(numbers), numbers)
        numbers_and_blanks = _numbers_and_markers(trimmed) if blanks else None
        if numbers_and_blanks is not None:  # numbers with missing values, read at once
            return numbers_and_blanks
    if isinstance(column, pa.ChunkedArray):
        encoded = pc.dictionary_encode(column).combine_chunks()
    else:
        encoded = pc.dictionary_encode(column)
    nulls = numbers_of(pc.cast(encoded.is_null(), pa.uint8())).astype(bool)
    texts, remap = _stripped(encoded.dictionary.to_pylist())
    indices = encoded.indices  # (filling nulls makes a scalar, which imports pandas)
    codes = remap[numbers_of(indices.fill_null(0) if indices.null_count else indices)]
    parsed = [parse_cell(text) if cells else text for text in texts]
    missing_text = np.array([value is None or (isinstance(value, str) and is_missing(value))
                             for value in parsed], dtype=np.bool_)
    missing = nulls | (missing_text[codes] if texts else nulls)
    numeric_text = np.array([isinstance(value, float) for value in parsed], dtype=np.bool_)
    return CellValues(missing, texts=np.array(texts, dtype=str), codes=codes,
                      numeric_text=numeric_text)


def _numbers_and_markers(trimmed: pa.Array | pa.ChunkedArray) -> CellValues | None:
    """Trimmed cells as numbers when every one is a number or a missing-value marker (a
    column of numbers with blanks, read without a Python loop over its distinct cells);
    ``None`` when some are text. Raises :class:`OddNaN` as :func:`cell_values` does."""
    lowered = pc.utf8_lower(pc.utf8_ltrim(trimmed, characters="+-"))
    markers = pc.fill_null(pc.or_(pc.is_in(trimmed, value_set=pa.array(sorted(MISSING))),
                                  pc.equal(lowered, "nan")), True)
    try:
        numbers = numbers_of(pc.cast(pc.if_else(markers, pa.scalar(None, pa.string()),
                                                trimmed), pa.float64()))
    except pa.ArrowInvalid:
        return None
    missing = numbers_of(pc.cast(markers, pa.uint8())).astype(bool)
    if (np.isnan(numbers) & ~missing).any():
        raise OddNaN
    return CellValues(missing, numbers)


def _stripped(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct texts once stripped of spaces (``" a"`` is ``"a"``), and where each of
    ``texts`` went among them (``[0]`` for none: every row is null)."""
    distinct = list(dict.fromkeys(text.strip(SPACE) for text in texts))
    index = {text: i for i, text in enumerate(distinct)}
    return distinct, np.array([index[text.strip(SPACE)] for text in texts] or [0],
                              dtype=np.intp)


# --- a feature column ---------------------------------------------------------------------


def read_feature(column: pa.Array | pa.ChunkedArray, cells: bool, kind: str = "auto"
                 ) -> FeatureColumn:
    """A feature column (see the module) read as ``kind``: ``"auto"`` decides by its cells,
    ``"number"`` refuses text, ``"text"`` reads every filled cell as a category (a model's
    text column, whose cells may all look like numbers in the file it predicts on). Raises
    :class:`CellProblem` for a cell that cannot be used or a text column with more than
    :data:`MAX_CATEGORIES` categories."""
    try:
        values = cell_values(column, cells, distinct=kind == "text")
    except OddNaN:
        values = cell_values(column, cells, distinct=True)
    missing = values.missing
    if values.numbers is not None:
        if kind == "text":  # a typed column of numbers where text is expected
            raise CellProblem(None, "must hold text (the categories the model was trained "
                              f"on); this one holds {column.type} values.")
        return _numbers_column(column, values.numbers, missing)
    assert values.texts is not None and values.codes is not None
    assert values.numeric_text is not None
    filled = values.codes[~missing]
    counts = np.bincount(filled, minlength=len(values.texts))
    numeric = int(counts[values.numeric_text].sum())
    text = len(filled) - numeric
    if not cells or kind == "text" or (text and text >= numeric and kind == "auto"):
        return _text_column(values.texts, values.codes, counts, missing)
    if text:  # mostly numbers: the first text cell is a typo or an unknown marker
        index = int(np.flatnonzero(~missing & ~values.numeric_text[values.codes])[0])
        shown = str(values.texts[values.codes[index]])
        if kind == "number":  # a model's number column, in a file to predict on
            raise CellProblem(index, f"must be a finite number (the model was trained on "
                              f"numbers in this column); received {shown!r}. help: write a "
                              "missing value as an empty cell or NA")
        raise CellProblem(index, f"must be a finite number; received {shown!r} (the column "
                          f"holds {numeric:,} numbers and {text:,} text cells: it is text, "
                          "read as categories, only when at least half of its filled "
                          "cells are text). help: write a missing value as an empty cell or NA")
    numbers = np.array([parse_cell(str(text)) if number else np.nan
                        for text, number in zip(values.texts, values.numeric_text,
                                                strict=True)] or [np.nan], dtype=np.float64)
    row_numbers = numbers[values.codes]
    row_numbers[missing] = np.nan
    return _numbers_column(column, row_numbers, missing)


def _numbers_column(column: pa.Array | pa.ChunkedArray, numbers: np.ndarray,
                    missing: np.ndarray) -> FeatureColumn:
    """A column of numbers, each filled one finite and within float32's range."""
    usable = np.abs(numbers) <= FLOAT32_LARGEST
    bad = ~usable & ~missing
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        cell = column[index].as_py()
        if isinstance(cell, str):
            text = cell.strip(SPACE)
            raise CellProblem(index, cell_problem(text, parse_cell(text)))
        raise CellProblem(index, f"must be {usable_feature(float(numbers[index]))}")
    return FeatureColumn(numbers, None, int(missing.sum()))


def _text_column(texts: np.ndarray, codes: np.ndarray, counts: np.ndarray,
                 missing: np.ndarray) -> FeatureColumn:
    """A text column: its categories (the distinct filled texts, sorted) and each row's."""
    used = np.flatnonzero(counts)
    if len(used) > MAX_CATEGORIES:
        raise CellProblem(None, f"holds {len(used):,} distinct texts; a text column is "
                          f"one-hot encoded (an input per category), at most "
                          f"{MAX_CATEGORIES} categories. help: drop the column (an "
                          "identifier or free text?), or group its values.")
    order = used[np.argsort(texts[used], kind="stable")]
    position = np.full(len(texts), np.nan)
    position[order] = np.arange(len(order), dtype=np.float64)
    values = position[codes] if len(texts) else np.full(len(codes), np.nan)
    values[missing] = np.nan
    return FeatureColumn(values, [str(text) for text in texts[order]], int(missing.sum()))


def cell_problem(text: str, value: float | str | None) -> str:
    """What is wrong with a feature cell (``text``, read as ``value``), after "the value"."""
    if not text:
        return "is empty (a missing value)"
    if value is None:
        return f"is missing ({text!r} marks a missing value)"
    if isinstance(value, str) or not np.isfinite(value):
        return f"must be a finite number; received {text!r}"
    return f"must be {usable_feature(value)}"
