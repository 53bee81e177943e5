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
import mmap
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .cells import SPACE
from .columns import CellProblem, CellValues, OddNaN, cell_values, is_text, numbers_of, read_feature
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
# A CSV's text is parsed into memory from the C library's allocator, not pyarrow's default
# (mimalloc), whose fresh pages cost more on a machine up for hours: a first read of the
# 1,000,000-row benchmark CSV in a new process took 0.81-1.13 s with mimalloc, 0.66-0.74 s
# with this pool (three of each, alternating; pandas.read_csv 0.40-0.51 s).
CSV_POOL = pa.system_memory_pool()
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
    # text feature columns (X's column index -> categories; X holds each row's index)
    categories: dict[int, list[str]] = field(default_factory=dict)
    missing: dict[int, int] = field(default_factory=dict)  # X's column -> missing cells (NaN)


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
        memory_pool=CSV_POOL,
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


def read_csv_cells(source: Path, header: list[str], features: list[str], target: str | None,
                   delimiter: str, progress: ProgressHook | None,
                   kinds: dict[str, str] | None = None) -> Columns:
    """As :func:`read_csv`, for a table as it comes: every column is read as text, then each
    feature column as numbers or categories with missing cells
    (:func:`~deeprecipe.data.columns.read_feature`; ``kinds`` may say which, by name). The
    whole file is held as text at once. :class:`Irregular` when pyarrow refuses the file or
    a cell cannot be used (the careful reader names it), a row is empty (the careful
    reader skips it) or a target is missing (its row does not count for a column's kind)."""
    options = dict(
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=header,
                                       block_size=BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in header},
                                             null_values=[], strings_can_be_null=False),
        memory_pool=CSV_POOL,
    )
    try:
        table = pacsv.read_csv(str(source), **options)
        if _has_quotes(source):  # only a quoted value may hold a line break
            for name in header:
                column = table.column(name)
                if pc.any(pc.or_(pc.match_substring(column, "\n"),
                                 pc.match_substring(column, "\r"))).as_py():
                    raise Irregular
        if _has_empty_rows(table):
            raise Irregular
        if target is not None and cell_values(table.column(target), True, True).missing.any():
            raise Irregular  # a column's kind is decided on the rows kept: carefully
        X = np.empty((table.num_rows, len(features)), dtype=np.float32)
        read = Columns(X, features, header, None if target is None else table.column(target))
        for k, name in enumerate(features):
            try:
                column = read_feature(table.column(name), True, (kinds or {}).get(name, "auto"))
            except CellProblem:
                raise Irregular from None
            X[:, k] = column.values
            if column.categories is not None:
                read.categories[k] = column.categories
            if column.missing:
                read.missing[k] = column.missing
    except pa.ArrowException:
        raise Irregular from None
    Throttle(progress, source.stat().st_size).finish()
    release_memory()
    return read


def _has_quotes(source: Path) -> bool:
    """Whether the file holds a double quote (a scan of its bytes, without a copy)."""
    if not source.stat().st_size:
        return False
    with source.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
        return view.find(b'"') >= 0


def _has_empty_rows(table: pa.Table) -> bool:
    """Whether a row's cells are all empty (spaces only): the first column's empty cells,
    then the other columns on those rows alone."""
    rows = None
    for column in table.columns:
        if rows is not None:
            column = column.take(pa.array(rows))
        blank = numbers_of(pc.cast(pc.equal(pc.utf8_trim(column, characters=SPACE), ""),
                                   pa.uint8())).astype(bool)
        rows = np.flatnonzero(blank) if rows is None else rows[blank]
        if not rows.size:
            return False
    return True


# --- Parquet -----------------------------------------------------------------------------


def read_parquet(source: Path, target: str | None, columns: list[str] | None,
                 progress: ProgressHook | None, tables: bool = False,
                 kinds: dict[str, str] | None = None) -> Columns:
    """The features of every row of a Parquet file, and its ``target`` column: with a
    ``target``, every other column is a feature; without, the ``columns`` (by default all).
    Only those columns are read; each feature must hold numbers, none missing, unless
    ``tables``: then a text column holds categories and a missing value (null, NaN) is NaN
    (``kinds`` may say, by name, that a column must be ``"number"`` or ``"text"``).
    ``progress`` counts rows. A file that is not Parquet, is damaged or truncated raises
    :class:`DataFileError`."""
    check_regular(source)
    try:
        file = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as error:
        raise DataFileError(source, f"is not a readable Parquet file ({error}). help: write "
                            "it with pandas' DataFrame.to_parquet or pyarrow.parquet."
                            ) from None
    with file:
        read = _read_columns(source, file, target, columns, Throttle(
            progress, file.metadata.num_rows), tables, kinds or {})
    release_memory()  # the file's reader kept its pages until closed
    return read


def _read_columns(source: Path, file: pq.ParquetFile, target: str | None,
                  columns: list[str] | None, progress: Throttle, tables: bool,
                  kinds: dict[str, str]) -> Columns:
    schema = file.schema_arrow
    if target is None:
        features = check_columns(source, schema.names, columns, ",")
    else:
        check_header(source, schema.names, target, ",")
        check_column_type(source, target, schema.field(target).type, "target")
        features = [name for name in schema.names if name != target]
    texts = [name for name in features if tables and is_text(schema.field(name).type)]
    for name in features:
        check_column_type(source, name, schema.field(name).type,
                          "text" if name in texts else "feature")
        if kinds.get(name, "auto") != "auto" and (name in texts) != (kinds[name] == "text"):
            shown = "text" if name in texts else "numbers"
            raise DataFileError(source, f"the column must hold {kinds[name]}s (as the model "
                                f"was trained on); this one holds {shown}.", column=name)
    numbers = [name for name in features if name not in texts]
    names = numbers + ([target] if target is not None else [])
    missing: dict[int, int] | None = {} if tables else None
    try:
        X, chunks = _fill(_row_groups(file, names, progress),
                          [None if name in texts else numbers.index(name) for name in features],
                          len(numbers) if target else None,
                          lambda *_: file.metadata.num_rows,
                          lambda row, name, problem: DataFileError(
                              source, f"the value {problem}.", row, name), missing)
        read = Columns(X, features, schema.names, None if target is None else
                       pa.chunked_array(chunks, schema.field(target).type),
                       missing=missing or {})
        for name in texts:
            k = features.index(name)
            try:
                column = read_feature(file.read(columns=[name]).column(name), False, "text")
            except CellProblem as problem:
                raise DataFileError(source, f"the column {problem.problem}", column=name
                                    ) from None
            assert column.categories is not None
            X[:, k] = column.values
            read.categories[k] = column.categories
            if column.missing:
                read.missing[k] = column.missing
    except (pa.ArrowException, OSError) as error:
        raise DataFileError(source, f"cannot be read ({error}); is it truncated or "
                            "damaged?") from None
    progress.finish()
    return read


def check_column_type(source: Path, name: str, kind: pa.DataType, role: str) -> None:
    """Refuse a column that does not hold numbers: a feature's (``role="feature"``), or a
    target's that holds neither numbers nor text (``role="target"``); a ``"text"`` feature
    holds text."""
    numeric = (pa.types.is_integer(kind) or pa.types.is_floating(kind)
               or pa.types.is_boolean(kind) or pa.types.is_decimal(kind))
    if numeric or (role in ("target", "text") and is_text(kind)):
        return
    shown = "text" if is_text(kind) else f"{kind} values"
    wanted = "numbers" if role == "feature" else "numbers or text"
    role = "feature" if role == "text" else role
    raise DataFileError(source, f"a {role} column must hold {wanted}; this one holds {shown}. "
                        "help: encode it as numbers, or drop the column.", column=name)


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


def _fill(batches: Iterable[pa.RecordBatch], columns: Sequence[int | None], target: int | None,
          rows_hint: Callable[[int, int], int], refuse: Refuse,
          missing: dict[int, int] | None = None) -> tuple[np.ndarray, list[pa.Array]]:
    """``X`` float32 ``(rows, len(columns))`` from the batches' ``columns`` (``None``: a
    column of ``X`` left for the caller to fill), and the ``target`` column's chunks.
    ``rows_hint(rows, batches)`` (so far) estimates the rows in all: the matrix is allocated
    once for them, grown in place when they are more and shrunk at the end.
    ``refuse(row, name, problem)`` builds the error of an unusable value (row counted from
    1); a missing value (null, NaN) is refused too unless ``missing`` is given, which then
    counts them by ``X``'s column."""
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
            if j is None:
                continue
            block[:, k] = _usable_column(batch.column(j), done, batch.schema.names[j], refuse,
                                         None if missing is None else (missing, k))
        if target is not None:
            chunks.append(batch.column(target))
        done = rows
    if len(X) != done:
        X.resize((done, len(columns)), refcheck=False)
    return X, chunks


def _usable_column(column: pa.Array, done: int, name: str, refuse: Refuse,
                   missing: tuple[dict[int, int], int] | None) -> np.ndarray:
    """One batch's column as numbers, each one finite and within float32's range, or
    missing (NaN) when ``missing`` (the counts, and this column's key) is given."""
    if column.null_count:
        if missing is None:
            row = done + int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
            raise refuse(row + 1, name, "is missing (null)")
        column = pc.cast(column, pa.float64())  # booleans and decimals too: nulls as NaN
    values = numbers_of(column)
    if values.dtype.kind != "f":  # integers, booleans, decimals
        values = values.astype(np.float64)
    usable = np.abs(values) <= FLOAT32_LARGEST
    if not usable.all():
        blank = np.isnan(values) if missing is not None else np.zeros(len(values), bool)
        if not (usable | blank).all():
            i = int(np.flatnonzero(~usable & ~blank)[0])
            raise refuse(done + i + 1, name, f"must be {usable_feature(float(values[i]))}")
        if missing is not None:
            counts, k = missing
            counts[k] = counts.get(k, 0) + int(blank.sum())
    return values


def release_memory() -> None:
    """Give the memory pyarrow's pool keeps for reuse back to the system once a file is
    read (or given up): after a CSV it kept more than twice the matrix, counted in the run's
    peak RSS. Both pools: the default one and the C library's (:data:`CSV_POOL`), whose
    freed pages ``malloc_trim`` returns."""
    pa.default_memory_pool().release_unused()
    CSV_POOL.release_unused()


# --- the target column -------------------------------------------------------------------


def target_values(column: pa.ChunkedArray, cells: bool) -> CellValues:
    """The target column's values (:func:`~deeprecipe.data.columns.cell_values`): ``cells``
    reads text as CSV cells, else as a typed column (Parquet); :class:`Irregular` for a cell
    pyarrow reads as NaN that is not a missing-value marker (the careful reader names it)."""
    try:
        return cell_values(column, cells, blanks=False)
    except OddNaN:
        raise Irregular from None
    finally:
        release_memory()
