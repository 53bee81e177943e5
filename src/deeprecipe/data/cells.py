"""One CSV cell as the data readers read it (:func:`parse_cell`), as ``pandas.read_csv``
does by default: missing when empty, one of pandas' markers (:data:`MISSING`) or NaN in any
case and sign; a number only in CSV's forms (:data:`NUMBER`: ``-1.5e-3``, ``.5``, ``inf``;
not ``1_000``, ``0x10``, ``1,5``, other scripts' digits or booleans); else text. Spaces and
tabs around a cell (:data:`SPACE`) never matter.
"""

from __future__ import annotations

import re

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
