"""What every data-file reader shares: :class:`DataFileError` and the wording of its
messages, the regular-file check, the float32 range of a feature value, and the throttle of
a loader's ``progress`` hook.
"""

from __future__ import annotations

import math
import mmap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._checks import LARGEST, RESCALE, SQUARABLE, positive_int
from .split import min_rows as split_min_rows

SHOWN_ROWS = 10  # rows named in one message
FLOAT32_LARGEST = float(np.finfo(np.float32).max)  # features are held as float32
ProgressHook = Callable[[int, int], None]  # progress(done, total): bytes or rows, as said


def filled_once(shape: tuple[int, ...], dtype: type[np.generic] = np.float32) -> np.ndarray:
    """An uninitialised array for a big buffer that is written once (a folder's decoded
    images), in an anonymous memory mapping of its own rather than NumPy's allocator. NumPy
    asks the kernel for huge pages on every allocation of 4 MB or more, and a kernel that
    must first compact its memory for them (a machine up for hours) makes the first touch
    slow: 492 MB took 2.1–3.7 s on the CI-like 2-core machine, against
    0.27 s in a mapping it is not asked to back with huge pages (0.05 s when free huge
    pages happened to be there). The mapping is freed with the last view of the array."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    if nbytes == 0:
        return np.empty(shape, dtype)
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype).reshape(shape)


class DataFileError(ValueError):
    """A data file that cannot be used, with where the problem is (``row``, ``column`` may be
    ``None``). Its help names options by key (`` `drop_missing_target` ``); the command line
    spells them as flags."""

    keys = ("drop_missing_target", "task", "arrays", "missing")
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


def listing(noun: str, numbers: list[int], plural: str | None = None) -> str:
    """``"file lines 5, 10, 13"``: at most :data:`SHOWN_ROWS` numbers, then how many more."""
    name = noun if len(numbers) == 1 else plural or noun + "s"
    shown = ", ".join(str(n) for n in numbers[:SHOWN_ROWS])
    more = len(numbers) - SHOWN_ROWS
    return f"{name} {shown}" + (f" and {more} more" if more > 0 else "")


def missing_target(path: Path, column: str, where: str, count: int) -> DataFileError:
    """The error of targets that are missing; ``where`` says which rows, in what numbering."""
    return DataFileError(
        path, "the target is missing (empty, NA, NaN, null, …) in "
        f"{count} row{'' if count == 1 else 's'}, "
        f"{where}. A missing value is not a class or a number. help: fill them in, or drop "
        "those rows (`drop_missing_target`).",
        column=column)


def usable(value: float) -> str:
    """The constraint a target value out of range breaks, and the value (for ``must be …``)."""
    if not math.isfinite(value):
        return f"finite; received {value}"
    return f"{SQUARABLE}; received {value!r}. help: {RESCALE}"


def usable_feature(value: float) -> str:
    """As :func:`usable`, for a feature value, which must also fit float32."""
    if not math.isfinite(value) or abs(value) >= LARGEST:
        return usable(value)
    return (f"at most {FLOAT32_LARGEST:.4g} in magnitude (features are held as float32); "
            f"received {value!r}. help: {RESCALE}")


def is_usable_feature(value: float) -> bool:
    """Whether a feature value is finite and fits float32 (NaN is not)."""
    return abs(value) <= FLOAT32_LARGEST


def is_usable_column(values: np.ndarray) -> bool:
    """Whether every value is a usable feature value (:func:`is_usable_feature`)."""
    return bool((np.abs(values) <= FLOAT32_LARGEST).all())


def needed_rows(where: str, min_rows: int | None) -> int:
    """The rows a loader needs: ``min_rows`` checked, by default what the smallest split
    needs."""
    return split_min_rows() if min_rows is None else positive_int(where, "min_rows", min_rows)


def check_rows(path: Path, m: int, min_rows: int) -> None:
    if m < min_rows:
        raise DataFileError(path, f"must have at least {min_rows} data rows (a train/dev/test "
                            f"split needs them); received {m}. help: add rows, or lower "
                            "min_rows for a smaller split.")


def check_regular(source: Path) -> None:
    """Refuse a missing file, a folder, a pipe or a device (reading a pipe or a device never
    ends)."""
    if source.is_dir():
        raise DataFileError(source, "is a folder, not a data file. help: pass a data file "
                            "(.csv, .parquet, .npy or .npz) or a built-in dataset name.")
    if not source.exists():
        raise FileNotFoundError(f"no file {source}.")
    if not source.is_file():
        raise DataFileError(source, "is not a regular file (a pipe or a device?).")


class Throttle:
    """Calls ``progress(done, total)`` at most every ``interval`` seconds, and always at the
    end (:meth:`finish`)."""

    def __init__(self, progress: ProgressHook | None, total: int, interval: float = 0.25) -> None:
        self.progress, self.total, self.interval = progress, total, interval
        self.last = -math.inf

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if self.progress is not None and now - self.last >= self.interval:
            self.last = now
            self.progress(min(done, self.total), self.total)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)
