"""A data file's target column as ``(y, classes)``: numbers or text, classification or
regression (:func:`encode_target`), and the CSV rule that refuses a target mixing numbers and
text (:func:`target_labels`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._checks import LARGEST, describe
from .cells import parse_cell
from .filebase import DataFileError, listing, usable
from .split import auto_task, unique_codes

# where(i): the (row, file line) of the i-th value, for a message
Place = Callable[[int], tuple[int, int | None]]


def target_labels(
    path: Path, column: str, texts: list[str], lines: list[int], task: str
) -> np.ndarray:
    """The target column's cells (none missing) as float64 when every one is a number, else
    as text; a mix of numbers and text is refused unless ``task`` says what it is."""
    values = [parse_cell(text) for text in texts]
    numeric = [isinstance(value, float) for value in values]
    if all(numeric):
        return np.array(values, dtype=np.float64)
    if any(numeric) and task == "auto":
        raise mixed_target(path, column, texts, numeric, lines)
    return np.array(texts, dtype=str)


def mixed_target(path: Path, column: str, texts: list[str], numeric: list[bool],
                 lines: list[int]) -> DataFileError:
    """The error of a target that mixes numbers and text, naming the fewer kind: '?' among
    prices, or a stray 3 among species."""
    odd_kind = (2 * numeric.count(False) > len(numeric))
    odd = [i for i, is_number in enumerate(numeric) if is_number == odd_kind]
    verb = "holds" if len(odd) == 1 else "hold"
    kind = ("a number" if len(odd) == 1 else "numbers") if odd_kind else "text"
    examples = ", ".join(repr(texts[i]) for i in odd[:3])
    return DataFileError(
        path, "the target mixes numbers and text: "
        f"{listing('file line', [lines[i] for i in odd])} {verb} {kind} ({examples}). "
        "help: if they mark missing values, write them as empty cells or NA (and drop "
        "them with `drop_missing_target`); to read every value as a class label, set "
        "`task` to classification.", column=column)


def encode_target(
    path: Path, column: str, labels: np.ndarray, where: Place, task: str,
    min_classes: int = 2, codes: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str | float] | None]:
    """``(y, classes)`` from the target's values (float64 or text). ``where(i)`` locates the
    ``i``-th value for a message. With ``codes``, ``labels`` are the distinct text labels and
    row ``r``'s label is ``labels[codes[r]]`` (a columnar reader's dictionary)."""
    numeric = labels.dtype.kind == "f"
    if numeric and not (np.abs(labels) < LARGEST).all():
        i = int(np.flatnonzero(~(np.abs(labels) < LARGEST))[0])
        raise DataFileError(path, f"the target must be {usable(labels[i])}.",
                            *_located(where, i, column))
    if task == "auto":
        task = auto_task(labels) if numeric else "classification"
    if task == "regression":
        if not numeric:
            i = next((i for i, value in enumerate(labels)  # 0: an .npz's number strings
                      if not isinstance(parse_cell(str(value)), float)), 0)
            row = i if codes is None else int(np.flatnonzero(codes == i)[0])
            raise DataFileError(path, "a regression target must be numeric; received "
                                f"{describe(labels[i])}.", *_located(where, row, column))
        return labels, None
    classes, y = unique_codes(labels)
    if codes is not None:
        y = y[codes]
    mapping: list[str | float] = [
        (int(c) if c == round(c) else float(c)) if numeric else str(c) for c in classes
    ]
    if len(mapping) < min_classes:
        raise DataFileError(path, f"the target has a single class ({mapping[0]!r}); a "
                            "classifier needs at least 2. help: check the target column, or "
                            "pass task='regression'.", column=column)
    return y.astype(np.intp, copy=False), mapping


def _located(where: Place, i: int, column: str) -> tuple[int, str, int | None]:
    """``(row, column, line)`` for :class:`DataFileError` of the ``i``-th value."""
    row, line = where(i)
    return row, column, line
