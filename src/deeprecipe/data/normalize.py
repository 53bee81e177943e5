"""Input normalization, the notes' ``x_norm = (x − μ) / σ`` (population σ, ``ddof=0``), with
μ and σ from the training set only: :class:`Standardizer`, :func:`standardize_splits`."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import as_float_array, check_feature_names, fail, row_chunks, squarable
from ..findings import Finding
from .split import Splits

RELATIVE_TOLERANCE = 1e-12  # σ ≤ 1e-12·|μ| is rounding noise: a constant feature
CHUNK_ROWS = 16_384  # rows fitted or transformed at once when a whole array would be a copy


class ConstantFeatureWarning(UserWarning):
    """Features with zero variance on the data a :class:`Standardizer` was fit on."""


class Standardizer:
    """Per-feature ``(x − μ) / σ`` with μ, σ learned by :meth:`fit` on the training set.

    Fitted state (trailing underscore, as in scikit-learn):

    ``mean_``, ``std_``
        μ and σ, float64 arrays of shape ``(n_features,)``; σ is 1 for constant features.
    ``constant_features_``
        indices of the features with zero variance (a :class:`ConstantFeatureWarning` names
        them at fit time; they are centred but not scaled).
    ``feature_names_``
        the names given to :meth:`fit` (a DataFrame's columns), or ``None``; a DataFrame
        given to :meth:`transform` must have these columns, in this order.

    Transforms return a new array of ``X``'s shape ``(m, n_features)``, float32 for float32
    input and float64 otherwise.

    Example::

        s = Standardizer().fit([[1, 10], [3, 10]])  # warns: feature 1 is constant, σ set to 1
        s.transform([[5, 12]])                       # [[3.0, 2.0]]
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None
        self.constant_features_: np.ndarray | None = None
        self.feature_names_: list[str] | None = None

    def fit(self, X: ArrayLike, feature_names: Sequence[str] | None = None, *,
            rows: np.ndarray | None = None) -> Standardizer:
        """Learn μ and σ from the training set ``X`` ``(m, n)``; returns ``self``. A
        DataFrame's column names are the ``feature_names`` unless they are given. ``rows``
        (an index array) fits on ``X[rows]`` only, read :data:`CHUNK_ROWS` rows at a time (a
        big data set's training rows are never copied)."""
        where = "Standardizer.fit"
        if rows is None or len(rows) <= CHUNK_ROWS:
            array = _squarable(X if rows is None else np.asarray(X)[rows])
            if len(array) == 0:
                raise fail(where, "X", "at least one row", array)
            mean, std = array.mean(axis=0), array.std(axis=0)
        else:
            mean, std = _chunked_moments(np.asarray(X), rows)
        names = check_feature_names(where, feature_names, len(mean), X)
        constant = np.flatnonzero(std <= RELATIVE_TOLERANCE * np.abs(mean))
        std[constant] = 1.0
        self.mean_, self.std_, self.feature_names_ = mean, std, names
        self.constant_features_ = constant
        finding = self.constant_finding()
        if finding is not None:
            warnings.warn(finding.text, ConstantFeatureWarning, stacklevel=2)
        return self

    def constant_finding(self) -> Finding | None:
        """``constant_features`` (their names), or None when no feature is constant."""
        constant = self._state("constant_finding")[2]
        names = self.feature_names_
        return Finding("constant_features", {"features": [
            names[i] if names else str(i) for i in constant]}) if constant.size else None

    def transform(self, X: ArrayLike, *, out: np.ndarray | None = None) -> np.ndarray:
        """``(X − μ) / σ`` with the fitted μ, σ. With ``out`` (an array of ``X``'s shape,
        ``X`` itself to standardize in place) the result is written there,
        :data:`CHUNK_ROWS` rows at a time, and ``out`` is returned."""
        array, mean, std = self._check_X("transform", X)
        if out is None:
            return ((array - mean) / std).astype(array.dtype, copy=False)
        for start in range(0, len(array), CHUNK_ROWS):
            chunk = slice(start, start + CHUNK_ROWS)
            out[chunk] = (array[chunk] - mean) / std
        return out

    def fit_transform(self, X: ArrayLike, feature_names: Sequence[str] | None = None) -> np.ndarray:
        """:meth:`fit` on ``X``, then :meth:`transform` it (for the training set only)."""
        return self.fit(X, feature_names).transform(X)

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
        """``X · σ + μ``: back to the original units."""
        array, mean, std = self._check_X("inverse_transform", X)
        return (array * std + mean).astype(array.dtype, copy=False)

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-serializable lists (floats round-trip exactly)."""
        mean, std, constant = self._state("to_dict")
        return {
            "kind": "standardizer",
            "mean": mean.tolist(),
            "std": std.tolist(),
            "constant_features": constant.tolist(),
            "feature_names": self.feature_names_,
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any], n_features: int | None = None) -> Standardizer:
        """Rebuild a fitted Standardizer from :meth:`to_dict`'s output, checked entry by
        entry (a saved model's file may have been edited). ``n_features``, when given, is
        the number of features every entry must describe (a model's ``input_dim``)."""
        where = "Standardizer.from_dict"
        if not isinstance(state, Mapping) or not {"mean", "std"} <= set(state):
            raise fail(where, "state", "a mapping with 'mean' and 'std' lists", state)
        if state.get("kind", "standardizer") != "standardizer":
            raise fail(where, "state['kind']", "'standardizer'", state["kind"])
        mean = _numbers(where, "mean", state["mean"], n_features,
                        f"{n_features} (the model's input size)")
        std = _numbers(where, "std", state["std"], len(mean),
                       f"len(state['mean']) = {len(mean)}")
        if not (std > 0).all():
            raise fail(where, "state['std']", "positive numbers (σ > 0)", std.tolist())
        constant = state.get("constant_features", [])
        if not isinstance(constant, list) or not all(
            type(i) is int and 0 <= i < len(mean) for i in constant
        ) or len(set(constant)) != len(constant):
            raise fail(where, "state['constant_features']",
                       f"a list of distinct feature indices below {len(mean)}", constant)
        names = state.get("feature_names")
        if names is not None and (
            not isinstance(names, list) or len(names) != len(mean)
            or not all(isinstance(name, str) for name in names)
            or len(set(names)) != len(names)
        ):
            raise fail(where, "state['feature_names']",
                       f"null or a list of {len(mean)} distinct strings", names)
        scaler = cls()
        scaler.mean_, scaler.std_, scaler.feature_names_ = mean, std, names
        scaler.constant_features_ = np.array(constant, dtype=np.intp)
        return scaler

    def _state(self, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean_, std_, constant_features_)``, or the RuntimeError of an unfitted one."""
        if self.mean_ is None or self.std_ is None or self.constant_features_ is None:
            raise RuntimeError(
                f"Standardizer.{method}: called before fit. help: fit it on the training set "
                "first (scaler = Standardizer().fit(X_train)), then transform dev and test."
            )
        return self.mean_, self.std_, self.constant_features_

    def _check_X(self, method: str, X: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, mean_, std_)``: ``X`` as a float array of the features it was fit on; a
        DataFrame's columns must be their names, in the same order (reordered columns would
        be scaled by the wrong μ and σ without a word)."""
        mean, std, _ = self._state(method)
        where = f"Standardizer.{method}"
        columns = getattr(X, "columns", None)
        if columns is not None and self.feature_names_ is not None:
            received = [str(column) for column in columns]
            if received != self.feature_names_:
                raise fail(where, "X.columns", f"the features it was fit on, in order "
                           f"{self.feature_names_[:8]}", received[:8],
                           "select them as X[scaler.feature_names_]")
        given = np.asarray(X)
        dtype = np.float32 if given.dtype == np.float32 else np.float64
        array = as_float_array(where, "X", X if given.dtype == object else given, dtype)
        if array.shape[1] != len(mean):
            raise fail(where, "X.shape[1]", f"{len(mean)} (the features it was fit on)",
                       array.shape[1])
        return array, mean, std

    def __repr__(self) -> str:
        if self.mean_ is None or self.constant_features_ is None:
            return "Standardizer(unfitted)"
        return (f"Standardizer(n_features={len(self.mean_)}, "
                f"constant_features={self.constant_features_.tolist()})")


def _squarable(X: ArrayLike) -> np.ndarray:
    """``X`` as float64, refused beyond squarable's bound (σ would be inf and every z-score
    0)."""
    return squarable("Standardizer.fit", "X", as_float_array("Standardizer.fit", "X", X,
                                                             np.float64))


def _chunked_moments(X: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population σ of ``X[rows]``, merged chunk by chunk (Chan, Golub and
    LeVeque's pairwise update)."""
    n, mean, m2 = 0, np.zeros(X.shape[1]), np.zeros(X.shape[1])
    for chunk_rows in row_chunks(rows, len(X), CHUNK_ROWS):
        chunk = _squarable(X[chunk_rows])
        k, chunk_mean = len(chunk), chunk.mean(axis=0)
        delta, total = chunk_mean - mean, n + k
        mean = mean + delta * (k / total)
        m2 = m2 + ((chunk - chunk_mean) ** 2).sum(axis=0) + delta**2 * (n * k / total)
        n = total
    return mean, np.sqrt(m2 / n)


def _numbers(where: str, key: str, values: Any, length: int | None, length_is: str
             ) -> np.ndarray:
    """``state[key]``, a list of finite numbers (bools and text refused), as float64, of
    ``length`` entries (unless None), described by ``length_is``."""
    arg = f"state[{key!r}]"
    try:
        array = np.asarray(values) if isinstance(values, (list, tuple, np.ndarray)) else None
    except ValueError:  # a ragged list
        array = None
    if array is None or array.ndim != 1 or array.dtype.kind not in "iuf" \
            or not np.isfinite(array).all():
        raise fail(where, arg, "a list of finite numbers", values)
    if length is not None and len(array) != length:
        raise fail(where, f"len({arg})", length_is, len(array))
    return array.astype(np.float64)


def standardize_splits(splits: Splits) -> tuple[Splits, Standardizer]:
    """Fit a :class:`Standardizer` on ``splits.train.X`` **only** and apply it to every part.

    Returns the standardized splits (same rows, ``y`` and ``indices``) and the fitted
    standardizer, to save with the model (fitting on all rows would leak dev and test
    statistics into training). A :class:`ConstantFeatureWarning` from the fit passes through.
    """
    if not isinstance(splits, Splits):
        raise fail("standardize_splits", "splits", "the result of split()", splits,
                   error=TypeError)
    scaler = Standardizer().fit(splits.train.source_X, rows=splits.train.indices)
    return splits.map(X=scaler.transform), scaler
