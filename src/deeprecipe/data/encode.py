"""Tables as they come, made numbers for a network: an :class:`Encoder` fitted on the
training part only, applied to every part and saved with the model.

* **Numbers**: a missing value (NaN) is the training part's median of its column.
* **Text** (a :attr:`~deeprecipe.data.Dataset.categories` column): one-hot, one input per
  category of the training part, in sorted order, named ``column=category``; when the
  training part has missing cells in the column, they are a category of their own,
  ``column=(missing)``.
* **The unseen rule**: a category the training part does not have (in the dev or test part,
  or at prediction time), or a missing cell in a column whose training part had none, sets
  none of the column's inputs (all zeros: "none of the known categories"). Such values are
  counted (:meth:`Encoder.unseen`), never refused.

Text cells arrive as category indices into a file's own ``categories`` (what the loaders
give); :meth:`Encoder.transform` maps them by text, so a file whose categories differ (a file
to predict on) is encoded by the training part's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import fail
from ..findings import Finding
from .filebase import DataFileError
from .split import Splits

__all__ = ["MISSING_CATEGORY", "MISSING_POLICIES", "Encoded", "Encoder", "encode_splits",
           "refuse_missing"]

MISSING_CATEGORY = "(missing)"  # the name of a text column's input for its missing cells
MISSING_POLICIES = ("impute", "error")  # the `missing` option: impute, or refuse
CHUNK_ROWS = 1 << 14  # rows encoded at once


@dataclass
class Encoder:
    """Numbers imputed by their training median, text one-hot encoded (see the module).

    Fitted state: ``n_inputs_`` (the columns it reads), ``names_`` (their names, or ``None``),
    ``medians_`` (number column → the training part's median, 0.0 when the training part has
    no value), ``categories_`` (text column → its categories, the one-hot order) and
    ``missing_`` (the text columns with a ``(missing)`` input).
    """

    n_inputs_: int = 0
    names_: list[str] | None = None
    medians_: dict[int, float] = field(default_factory=dict)
    categories_: dict[int, list[str]] = field(default_factory=dict)
    missing_: list[int] = field(default_factory=list)

    def fit(self, X: np.ndarray, categories: Mapping[int, Sequence[str]] | None = None, *,
            rows: np.ndarray | None = None, feature_names: Sequence[str] | None = None
            ) -> Encoder:
        """Learn from ``X[rows]`` (the training part; all rows by default): ``categories``
        are the text columns' categories as the file has them (``X`` holds indices into
        them, NaN where missing); every other column holds numbers."""
        X = _matrix("Encoder.fit", X)
        categories = dict(categories or {})
        n = X.shape[1]
        bad = [j for j in categories if not 0 <= j < n]
        if bad:
            raise fail("Encoder.fit", "categories", f"column indices of X (0 … {n - 1})", bad)
        if feature_names is not None and len(feature_names) != n:
            raise fail("Encoder.fit", "feature_names", f"{n} names (one per column of X)",
                       len(feature_names))
        self.n_inputs_, self.names_ = n, None if feature_names is None else list(feature_names)
        self.medians_, self.categories_, self.missing_ = {}, {}, []
        for j in range(n):
            values = X[:, j] if rows is None else X[rows, j]
            if j not in categories:
                filled = values[~np.isnan(values)]
                self.medians_[j] = float(np.median(filled)) if filled.size else 0.0
                continue
            codes = values[~np.isnan(values)].astype(np.intp)
            used = np.flatnonzero(np.bincount(codes, minlength=len(categories[j])))
            self.categories_[j] = sorted(str(categories[j][int(c)]) for c in used)
            if np.isnan(values).any():
                self.missing_.append(j)
        return self

    # --- what it makes -----------------------------------------------------------------

    @property
    def n_outputs(self) -> int:
        """The encoded columns: one per number column, one per category and ``(missing)``."""
        return sum(width for _, _, width in self._layout())

    @property
    def is_identity(self) -> bool:
        """No text column: the encoding only fills missing numbers, column for column."""
        return not self.categories_

    def output_names(self) -> list[str]:
        """The encoded columns' names: a number column's own, ``column=category`` for text."""
        names = self.names_ or [f"feature {j}" for j in range(self.n_inputs_)]
        out: list[str] = []
        for j in range(self.n_inputs_):
            if j not in self.categories_:
                out.append(names[j])
                continue
            out += [f"{names[j]}={category}" for category in self.categories_[j]]
            if j in self.missing_:
                out.append(f"{names[j]}={MISSING_CATEGORY}")
        return out

    def kinds(self) -> dict[str, str]:
        """Each named input column's kind, ``"number"`` or ``"text"`` (to read a file to
        predict on as the training file was read)."""
        names = self.names_ or []
        return {name: "text" if j in self.categories_ else "number"
                for j, name in enumerate(names)}

    def _layout(self) -> list[tuple[int, int, int]]:
        """``(input column, first output column, width)`` per input column."""
        layout, start = [], 0
        for j in range(self.n_inputs_):
            width = len(self.categories_[j]) + (j in self.missing_) \
                if j in self.categories_ else 1
            layout.append((j, start, width))
            start += width
        return layout

    def _maps(self, categories: Mapping[int, Sequence[str]] | None) -> dict[int, np.ndarray]:
        """Per text column, each of the file's categories' one-hot position (−1: unseen)."""
        self._check_fitted()
        given = dict(categories or {})
        missing = [j for j in self.categories_ if j not in given]
        if missing:
            raise fail("Encoder.transform", "categories",
                       f"the categories of the text columns {sorted(self.categories_)}",
                       f"none for column(s) {missing}")
        maps = {}
        for j, known in self.categories_.items():
            index = {category: i for i, category in enumerate(known)}
            maps[j] = np.array([index.get(str(c), -1) for c in given[j]] + [-1], np.intp)
        return maps

    def transform(self, X: np.ndarray, categories: Mapping[int, Sequence[str]] | None = None,
                  *, out: np.ndarray | None = None) -> np.ndarray:
        """``X`` encoded, float32 ``(m, n_outputs)`` (see the module); ``categories`` are the
        file's (``X``'s text columns hold indices into them). ``out`` receives the result
        (it may be ``X`` itself when :attr:`is_identity`)."""
        X = _matrix("Encoder.transform", X)
        self._check_width(X)
        maps = self._maps(categories)
        shape = (len(X), self.n_outputs)
        if out is None:
            out = np.empty(shape, np.float32)
        elif out.shape != shape:
            raise fail("Encoder.transform", "out", f"an array of shape {shape}", out.shape)
        layout = self._layout()
        for start in range(0, len(X), CHUNK_ROWS):
            block = X[start:start + CHUNK_ROWS]
            target = out[start:start + CHUNK_ROWS]
            for j, first, width in layout:
                values = block[:, j]
                blank = np.isnan(values)
                if j not in self.categories_:
                    target[:, first] = np.where(blank, self.medians_[j], values)
                    continue
                codes = maps[j][np.where(blank, -1, values).astype(np.intp)]
                onehot = np.zeros((len(block), width), np.float32)
                hit = np.flatnonzero(codes >= 0)
                onehot[hit, codes[hit]] = 1.0
                if j in self.missing_:
                    onehot[blank, -1] = 1.0
                target[:, first:first + width] = onehot
        return out

    def unseen(self, X: np.ndarray, categories: Mapping[int, Sequence[str]] | None = None
               ) -> dict[int, int]:
        """Per text column, the cells that set none of its inputs (the unseen rule): a
        category the training part does not have, or a missing cell where it had none."""
        X = _matrix("Encoder.unseen", X)
        self._check_width(X)
        counts = {}
        for j, mapping in self._maps(categories).items():
            values = X[:, j]
            blank = np.isnan(values)
            codes = mapping[np.where(blank, -1, values).astype(np.intp)]
            count = int(((codes < 0) & ~blank).sum()) + (0 if j in self.missing_ else
                                                         int(blank.sum()))
            if count:
                counts[j] = count
        return counts

    # --- saving ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON types: what ``config.json`` stores beside the standardizer."""
        self._check_fitted()
        columns: list[dict[str, Any]] = []
        for j in range(self.n_inputs_):
            if j in self.categories_:
                columns.append({"kind": "text", "categories": list(self.categories_[j]),
                                "missing": j in self.missing_})
            else:
                columns.append({"kind": "number", "median": self.medians_[j]})
        return {"names": self.names_, "columns": columns}

    @classmethod
    def from_dict(cls, state: Any, n_outputs: int | None = None) -> Encoder:
        """An encoder from :meth:`to_dict`, checked (``n_outputs``: the model's inputs)."""
        where = "Encoder.from_dict"
        if not isinstance(state, dict) or not isinstance(state.get("columns"), list) \
                or not state["columns"]:
            raise fail(where, "state", "{'names': [...], 'columns': [...]} with one column or "
                       "more", state)
        columns, names = state["columns"], state.get("names")
        if names is not None and (not isinstance(names, list) or len(names) != len(columns)
                                  or not all(isinstance(name, str) for name in names)):
            raise fail(where, "names", f"null or {len(columns)} column names", names)
        encoder = cls(len(columns), names)
        for j, column in enumerate(columns):
            kind = column.get("kind") if isinstance(column, dict) else None
            if kind == "number" and isinstance(column.get("median"), (int, float)) and \
                    not isinstance(column["median"], bool) and math.isfinite(column["median"]):
                encoder.medians_[j] = float(column["median"])
            elif kind == "text" and isinstance(column.get("categories"), list) and \
                    all(isinstance(c, str) for c in column["categories"]) and \
                    len(set(column["categories"])) == len(column["categories"]) and \
                    isinstance(column.get("missing"), bool):
                encoder.categories_[j] = list(column["categories"])
                if column["missing"]:
                    encoder.missing_.append(j)
            else:
                raise fail(where, f"columns[{j}]", "{'kind': 'number', 'median': a finite "
                           "number} or {'kind': 'text', 'categories': [distinct texts], "
                           "'missing': true or false}", column)
        if n_outputs is not None and encoder.n_outputs != n_outputs:
            raise fail(where, "columns", f"an encoding into the model's {n_outputs} inputs",
                       f"{encoder.n_outputs} encoded columns")
        return encoder

    def _check_fitted(self) -> None:
        if not self.n_inputs_:
            raise RuntimeError("Encoder: transform called before fit.")

    def _check_width(self, X: np.ndarray) -> None:
        self._check_fitted()
        if X.shape[1] != self.n_inputs_:
            raise fail("Encoder.transform", "X", f"{self.n_inputs_} columns (as fitted)",
                       X.shape[1])


def _matrix(where: str, X: Any) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.dtype.kind != "f":
        raise fail(where, "X", "a 2-D float array", f"{X.dtype} of shape {X.shape}")
    return X


# --- a run's splits ---------------------------------------------------------------------------


@dataclass
class Encoded:
    """A split encoded (:func:`encode_splits`): the ``splits`` (parts sharing one encoded
    ``X``), the fitted ``encoder``, the encoded ``feature_names``, and per input column what
    was done (``columns``: ``{"column", "kind", "missing", "filled_with", "unseen",
    "inputs"}``, for the report) and the ``notes`` (one finding per column imputed or with
    unseen values)."""

    splits: Splits
    encoder: Encoder
    feature_names: list[str]
    columns: list[dict[str, Any]]
    notes: list[Finding]


def encode_splits(splits: Splits, categories: Mapping[int, Sequence[str]],
                  feature_names: Sequence[str] | None = None, *, in_place: bool = False
                  ) -> Encoded:
    """Fit an :class:`Encoder` on the training part and encode the split's one ``X``:
    ``in_place`` fills a numbers-only table's missing values where they are (the caller's
    data is changed: for a job that owns it), else the encoding is a new array."""
    X = splits.train.source_X
    encoder = Encoder().fit(X, categories, rows=splits.train.indices,
                            feature_names=feature_names)
    blanks = {j: int(np.isnan(X[:, j]).sum()) for j in range(X.shape[1])}
    unseen = encoder.unseen(X, categories)
    own = in_place and encoder.is_identity and X.flags.writeable and X.dtype == np.float32
    encoded = encoder.transform(X, categories, out=X if own else None)
    parts: dict[str, Any] = {name: replace(part, source_X=encoded)
                             for name, part in splits.parts.items()}
    names = encoder.names_ or [f"feature {j}" for j in range(X.shape[1])]
    columns, notes = [], []
    for j, name in enumerate(names):
        text = j in encoder.categories_
        if not (blanks[j] or unseen.get(j) or text):
            continue
        filled: Any = (MISSING_CATEGORY if j in encoder.missing_ else None) if text \
            else encoder.medians_[j]
        columns.append({"column": name, "kind": "text" if text else "number",
                        "missing": blanks[j], "filled_with": filled,
                        "unseen": unseen.get(j, 0),
                        "inputs": len(encoder.categories_[j]) + (j in encoder.missing_)
                        if text else 1})
        if blanks[j] and (not text or j in encoder.missing_):
            notes.append(Finding("imputed", {"column": name, "count": blanks[j],
                                             "value": filled}))
        if unseen.get(j):
            notes.append(Finding("unseen_categories", {"column": name,
                                                       "count": unseen[j]}))
    return Encoded(replace(splits, **parts), encoder, encoder.output_names(), columns, notes)


def refuse_missing(source: str | Path, missing: Mapping[int, int],
                   feature_names: Sequence[str] | None) -> None:
    """The error of ``missing = "error"``: the data's missing feature cells, by column."""
    if not missing:
        return
    names = feature_names or [f"feature {j}" for j in range(max(missing) + 1)]
    total = sum(missing.values())
    shown = ", ".join(f"{names[j]!r}: {count:,}" for j, count in sorted(missing.items())[:10])
    more = "" if len(missing) <= 10 else f" and {len(missing) - 10} more columns"
    raise DataFileError(Path(source), f"{total:,} feature value{'s are' if total > 1 else ' is'} "
                        f"missing (by column: {shown}{more}), and `missing` is error. help: "
                        "fill them in, or let them be imputed with the training part's "
                        "median or a category of their own (`missing` impute).")
