"""One CSV cell as the data readers read it: a number, text, or a missing value.

Cells (:func:`parse_cell`) are read the way ``pandas.read_csv`` reads them by default, so
that a file means the same here and in a notebook.

- Whitespace around a cell (spaces, tabs: :data:`SPACE`, not Unicode spaces) is dropped, as
  pandas drops it around numbers; unlike pandas, it never matters here (pandas reads
  ``" NA"`` and ``"inf "`` as text).
- A cell is *missing* when it is empty or one of pandas' default missing-value markers
  (:data:`MISSING`: ``NA``, ``N/A``, ``NaN``, ``nan``, ``null``, ``NULL``, ``None``,
  ``#N/A``, …), or NaN in another case or sign (``NAN``, ``+nan``: text to pandas).
- It is a *number* only in the forms of CSV files (:data:`NUMBER`): an optional sign, ASCII
  digits with an optional decimal point, an optional exponent (``-1.5e-3``, ``.5``, ``5.``),
  or ``inf``/``infinity`` in any case.
- Anything else is text: ``1_000``, ``0x10``, ``1,5``, ``1 000``, Arabic-Indic or full-width
  digits (Python's ``float()`` reads some of these as numbers; pandas and deeprecipe do not),
  and ``TRUE``/``False`` (pandas' booleans).

Values of ``1e150`` (``_checks.LARGEST``) and more in magnitude are numbers, but no reader uses
them.
"""

from __future__ import annotations

import re

from .._checks import LARGEST as LARGEST  # the readers' bound, defined with its checks

# pandas' default missing-value markers (pandas._libs.parsers.STR_NA_VALUES, pandas 2 and 3)
MISSING = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
SPACE = " \t\r\n\x0b\x0c"  # what pandas skips around a number (not Unicode spaces)
NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?)",
                    re.IGNORECASE)


def parse_cell(text: str) -> float | str | None:
    """One cell as the reader reads it (see the module): ``None`` when missing, a ``float``
    when a number (``inf`` included), else the text without its surrounding spaces.

    >>> parse_cell(" 1.5e3 "), parse_cell("NA"), parse_cell("1_000")
    (1500.0, None, '1_000')
    """
    cell = text.strip(SPACE)
    if is_missing(cell):
        return None
    if NUMBER.fullmatch(cell):
        return float(cell)
    return cell


def is_missing(text: str) -> bool:
    """Whether a cell (or a string label) marks a missing value: empty, one of
    :data:`MISSING`, or NaN in any case and sign (``NAN``, ``+nan``)."""
    cell = text.strip(SPACE)
    return cell in MISSING or cell.lstrip("+-").lower() == "nan"
