"""Reading through pyarrow: CSV (typed, multi-threaded, :func:`read_csv`) and Parquet (only
the columns needed, :func:`read_parquet`), straight into one float32, C-contiguous feature
matrix filled batch by batch, and the target column kept as Arrow text or numbers
(:func:`target_values`).

The CSV reader is the fast path of :mod:`deeprecipe.data.io`: it raises :class:`Irregular`
when pyarrow refuses the file or a value is not usable, and the careful reader
(:mod:`deeprecipe.data.csvtext`) then reads the file again to name the cell.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .cells import SPACE, is_missing, parse_cell
from .csvtext import check_columns, check_header, check_names, decode
from .filebase import (
    FLOAT32_LARGEST,
    DataFileError,
    ProgressHook,
    Throttle,
    check_regular,
    usable_feature,
)

BLOCK_BYTES = 1 << 22  # CSV bytes parsed per batch (larger blocks read ahead more)
THREADED_BYTES = 1 << 29  # CSV files up to this size are parsed at once, on every core
FILL_ROWS = 1 << 14  # rows copied into the matrix at once: their block stays in the cache
HEADER_BYTES = 1 << 20  # the longest CSV header line the fast path reads


Refuse = Callable[[int, str, str], Exception]  # refuse(row, column, problem)


class Irregular(Exception):
    """pyarrow refused the CSV file, or a check failed: the careful reader must read it."""


@dataclass
class Columns:
    """What a reader read: ``X (m, len(features))`` float32, C-contiguous, and the target
    column (``None`` when none was asked for)."""

    X: np.ndarray
    features: list[str]
    header: list[str]
    target: pa.ChunkedArray | None


# --- CSV ---------------------------------------------------------------------------------


def csv_header(source: Path, delimiter: str) -> list[str]:
    """The column names on a CSV file's first line, stripped as the careful reader strips
    them; :class:`Irregular` when that line is not a plain header (blank, not UTF-8, a
    quote left open, longer than :data:`HEADER_BYTES`). Names that are not distinct and
    non-empty raise :class:`DataFileError`."""
    check_regular(source)
    with source.open("rb") as file:
        first = file.readline(HEADER_BYTES)
    try:
        text = decode(source, first)
    except DataFileError:
        raise Irregular from None
    line = text.splitlines()[0] if text.strip(SPACE) else ""
    if not line.strip(SPACE) or len(first) == HEADER_BYTES or line.count('"') % 2:
        raise Irregular
    header = [field.strip(SPACE) for field in next(csv.reader(
        [line], delimiter=delimiter, skipinitialspace=True))]
    if not any(header):
        raise Irregular  # a row of empty cells, which the careful reader skips
    check_names(source, header, 1)
    return header


def read_csv(source: Path, header: list[str], features: list[str], target: str | None,
             delimiter: str, progress: ProgressHook | None) -> Columns:
    """The ``features`` of every row of a CSV file whose first line is ``header``, and the
    ``target`` column as text; ``progress`` counts bytes."""
    types = {name: pa.float64() if name in features else pa.string() for name in header}
    options = dict(
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=header,
                                       block_size=BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(column_types=types, null_values=[],
                                             strings_can_be_null=False),
    )
    size = source.stat().st_size
    columns = [header.index(name) for name in features]
    texts = [j for j, name in enumerate(header) if name not in features]
    throttle = Throttle(progress, size)
    try:
        if size <= THREADED_BYTES:  # parsed on every core at once: a second or so
            table = pacsv.read_csv(str(source), **options)
            batches, step = table.to_batches(max_chunksize=FILL_ROWS), 0
            rows_hint: Callable[[int, int], int] = lambda *_: table.num_rows  # noqa: E731
        else:  # a block at a time: progress, and never the whole table in memory
            batches, step = pacsv.open_csv(str(source), **options), BLOCK_BYTES
            rows_hint = lambda rows, blocks: int(  # noqa: E731
                rows * 1.05 * size / min(blocks * BLOCK_BYTES, size))
        X, chunks = _fill(_blocks(batches, texts, step, throttle), columns,
                          header.index(target) if target else None, rows_hint,
                          lambda *_: Irregular())
    except pa.ArrowException:
        raise Irregular from None
    throttle.finish()
    release_memory()
    return Columns(X, features, header, None if target is None else
                   pa.chunked_array(chunks, pa.string()))


def _blocks(batches: Iterable[pa.RecordBatch], texts: list[int], step: int,
            progress: Throttle) -> Iterator[pa.RecordBatch]:
    """The batches (``step`` bytes of the file each, which ``progress`` counts; 0: a table
    read at once, told at the end), once no text value holds a line break: pyarrow may read
    a quote left open as a value running over lines, which the careful reader refuses by
    its lines."""
    for index, batch in enumerate(batches, 1):
        for j in texts:
            if pc.any(pc.match_substring_regex(batch.column(j), "[\r\n]")).as_py():
                raise Irregular
        yield batch
        if step:
            progress(index * step)


# --- Parquet -----------------------------------------------------------------------------


def read_parquet(source: Path, target: str | None, columns: list[str] | None,
                 progress: ProgressHook | None) -> Columns:
    """The features of every row of a Parquet file, and its ``target`` column: with a
    ``target``, every other column is a feature; without, the ``columns`` (by default all).
    Only those columns are read; each feature must hold numbers. ``progress`` counts rows.
    A file that is not Parquet, is damaged or truncated raises :class:`DataFileError`."""
    check_regular(source)
    try:
        file = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as error:
        raise DataFileError(source, f"is not a readable Parquet file ({error}). help: write "
                            "it with pandas' DataFrame.to_parquet or pyarrow.parquet."
                            ) from None
    with file:
        read = _read_columns(source, file, target, columns, Throttle(
            progress, file.metadata.num_rows))
    release_memory()  # the file's reader kept its pages until closed
    return read


def _read_columns(source: Path, file: pq.ParquetFile, target: str | None,
                  columns: list[str] | None, progress: Throttle) -> Columns:
    schema = file.schema_arrow
    if target is None:
        features = check_columns(source, schema.names, columns, ",")
    else:
        check_header(source, schema.names, target, ",")
        check_column_type(source, target, schema.field(target).type, "target")
        features = [name for name in schema.names if name != target]
    for name in features:
        check_column_type(source, name, schema.field(name).type, "feature")
    names = features + ([target] if target is not None else [])
    try:
        X, chunks = _fill(_row_groups(file, names, progress), list(range(len(features))),
                          len(features) if target else None,
                          lambda *_: file.metadata.num_rows,
                          lambda row, name, problem: DataFileError(
                              source, f"the value {problem}.", row, name))
    except (pa.ArrowException, OSError) as error:
        raise DataFileError(source, f"cannot be read ({error}); is it truncated or "
                            "damaged?") from None
    progress.finish()
    return Columns(X, features, schema.names, None if target is None else
                   pa.chunked_array(chunks, schema.field(target).type))


def check_column_type(source: Path, name: str, kind: pa.DataType, role: str) -> None:
    """Refuse a column that does not hold numbers: a feature's (``role="feature"``), or a
    target's that holds neither numbers nor text (``role="target"``)."""
    numeric = (pa.types.is_integer(kind) or pa.types.is_floating(kind)
               or pa.types.is_boolean(kind) or pa.types.is_decimal(kind))
    if numeric or (role == "target" and is_text(kind)):
        return
    shown = "text" if is_text(kind) else f"{kind} values"
    wanted = "numbers" if role == "feature" else "numbers or text"
    raise DataFileError(source, f"a {role} column must hold {wanted}; this one holds {shown}. "
                        "help: encode it as numbers, or drop the column.", column=name)


def is_text(kind: pa.DataType) -> bool:
    """Whether an Arrow type holds text (plain or dictionary-encoded)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _row_groups(file: pq.ParquetFile, columns: list[str], progress: Throttle
                ) -> Iterator[pa.RecordBatch]:
    """The file's ``columns``, a row group at a time (each decoded on every core: ~5×
    faster than small batches), as batches; ``progress`` counts rows."""
    done = 0
    for group in range(file.num_row_groups):
        table = file.read_row_group(group, columns=columns, use_threads=True)
        yield from table.combine_chunks().to_batches(max_chunksize=FILL_ROWS)
        done += table.num_rows
        progress(done)


# --- both: batches into one float32 matrix -----------------------------------------------


def _fill(batches: Iterable[pa.RecordBatch], columns: list[int], target: int | None,
          rows_hint: Callable[[int, int], int], refuse: Refuse
          ) -> tuple[np.ndarray, list[pa.Array]]:
    """``X`` float32 ``(rows, len(columns))`` from the batches' ``columns``, and the
    ``target`` column's chunks. ``rows_hint(rows, batches)`` (so far) estimates the rows in all: the
    matrix is allocated once for them, grown in place when they are more and shrunk at the
    end. ``refuse(row, name, problem)`` builds the error of an unusable value (row counted
    from 1)."""
    X = np.empty((0, len(columns)), dtype=np.float32)
    chunks: list[pa.Array] = []
    done = 0
    for index, batch in enumerate(batches, 1):
        rows = done + batch.num_rows
        if rows > len(X):
            X.resize((max(rows, rows_hint(rows, index), len(X) + rows // 4), len(columns)),
                     refcheck=False)
        block = X[done:rows]
        for k, j in enumerate(columns):
            block[:, k] = _usable_column(batch.column(j), done, batch.schema.names[j], refuse)
        if target is not None:
            chunks.append(batch.column(target))
        done = rows
    if len(X) != done:
        X.resize((done, len(columns)), refcheck=False)
    return X, chunks


def _usable_column(column: pa.Array, done: int, name: str, refuse: Refuse) -> np.ndarray:
    """One batch's column as numbers, each one finite and within float32's range."""
    if column.null_count:
        row = done + int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise refuse(row + 1, name, "is missing (null)")
    values = _numbers(column)
    if values.dtype.kind != "f":  # integers, booleans, decimals
        values = values.astype(np.float64)
    usable = np.abs(values) <= FLOAT32_LARGEST
    if not usable.all():
        i = int(np.flatnonzero(~usable)[0])
        raise refuse(done + i + 1, name, f"must be {usable_feature(float(values[i]))}")
    return values


def _numbers(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
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


def release_memory() -> None:
    """Give the memory pyarrow's pool keeps for reuse back to the system once a file is
    read (or given up): after a CSV it kept more than twice the matrix, counted in the run's
    peak RSS."""
    pa.default_memory_pool().release_unused()


# --- the target column -------------------------------------------------------------------


@dataclass
class TargetValues:
    """A target column: per row a number, a text label or missing.

    ``numbers`` is float64 per row when every cell that is not missing is a number (NaN where
    missing); else ``texts`` are the distinct labels (stripped), ``codes`` each row's index
    into them, and ``numeric_text`` says which of the ``texts`` read as numbers."""

    missing: np.ndarray
    numbers: np.ndarray | None = None
    texts: np.ndarray | None = None
    codes: np.ndarray | None = None
    numeric_text: np.ndarray | None = None


def target_values(column: pa.ChunkedArray, cells: bool) -> TargetValues:
    """The target column's values. ``cells``: text as CSV cells (numbers and missing-value
    markers read as such, :func:`~deeprecipe.data.cells.parse_cell`); else a typed column
    (Parquet), whose numbers are numbers and whose text is labels (missing when null or a
    missing-value marker)."""
    try:
        return _target_values(column, cells)
    finally:
        release_memory()


def _target_values(column: pa.ChunkedArray, cells: bool) -> TargetValues:
    kind = column.type
    if not is_text(kind):
        numbers = _numbers(pc.cast(column, pa.float64()))
        return TargetValues(np.isnan(numbers), numbers)
    if pa.types.is_dictionary(kind):
        column = pc.cast(column, kind.value_type)
    if cells:
        trimmed = pc.utf8_trim(column, characters=SPACE)
        try:
            numbers = _numbers(pc.cast(trimmed, pa.float64()))
        except pa.ArrowInvalid:
            pass
        else:
            nan_rows = np.flatnonzero(np.isnan(numbers))  # 'nan(1)' is NaN to pyarrow
            texts = trimmed.take(pa.array(nan_rows)).to_pylist() if nan_rows.size else []
            if any(not is_missing(text) for text in texts):
                raise Irregular
            return TargetValues(np.isnan(numbers), numbers)
    encoded = pc.dictionary_encode(column).combine_chunks()
    nulls = _numbers(pc.cast(encoded.is_null(), pa.uint8())).astype(bool)
    distinct, remap = _stripped(encoded.dictionary.to_pylist())
    indices = encoded.indices  # (filling nulls makes a scalar, which imports pandas)
    codes = remap[_numbers(indices.fill_null(0) if indices.null_count else indices)]
    parsed = [parse_cell(text) if cells else text for text in distinct]
    missing_text = np.array([value is None or (isinstance(value, str) and is_missing(value))
                             for value in parsed], dtype=np.bool_)
    missing = nulls | (missing_text[codes] if distinct else nulls)
    numeric_text = np.array([isinstance(value, float) for value in parsed], dtype=np.bool_)
    return TargetValues(missing, texts=np.array(distinct, dtype=str), codes=codes,
                        numeric_text=numeric_text)


def _stripped(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct texts once stripped of spaces (``" a"`` is ``"a"``), and where each of
    ``texts`` went among them (``[0]`` for none: every row is null)."""
    distinct = list(dict.fromkeys(text.strip(SPACE) for text in texts))
    index = {text: i for i, text in enumerate(distinct)}
    return distinct, np.array([index[text.strip(SPACE)] for text in texts] or [0],
                              dtype=np.intp)
