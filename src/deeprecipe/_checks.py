"""Input checks shared by the public functions: one error template, one place.

Every message follows ``<where>: <arg> must be <constraint>; received <arg>=<value>.``
Conversions between float dtypes are silent (a ``DEBUG`` record on the ``deeprecipe``
logger says what was converted); the library never prints.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

logger = logging.getLogger("deeprecipe")

FLOAT_DTYPES = ("float32", "float64")
# The largest magnitude of a usable value: a variance or a squared error sums squares of
# values, and beyond ~1e154 a square overflows float64 (inf), so the standardizer and the
# errors of larger values would be inf or NaN. 1e150 leaves room for 10^8 rows.
LARGEST = 1e150
SQUARABLE = f"smaller than {LARGEST:.0e} in magnitude (squares of larger numbers overflow float64)"
RESCALE = "rescale it (e.g. divide it by a power of 10, or take its logarithm)"


class BadValue(ValueError):
    """A value that does not satisfy a constraint (the caller names the key); its message,
    when it has one, is a hint on how to write the value."""

    @property
    def help(self) -> str:
        """`` help: <the hint>`` to end the caller's message, or ``""`` without a hint."""
        return f" help: {self}" if str(self) else ""


def describe(value: Any) -> str:
    """A short ``repr`` for error messages: arrays by shape and dtype, not by content."""
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, np.generic):  # np.str_('a') and np.float64(1.5) as 'a' and 1.5
        value = value.item()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def fail(where: str, arg: str, constraint: str, value: Any, hint: str = "",
         error: type[Exception] = ValueError) -> Exception:
    """Build the error of the STYLE template (the caller raises it): a ValueError, or
    ``error`` (a TypeError for a value of the wrong type)."""
    message = f"{where}: {arg} must be {constraint}; received {arg}={describe(value)}."
    if hint:
        message += f" help: {hint}"
    return error(message)


def choice(where: str, arg: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise listing them."""
    options = list(choices)
    if not isinstance(value, str):
        raise fail(where, arg, "a string", value, error=TypeError)
    if value not in options:
        raise fail(where, arg, "one of " + ", ".join(repr(o) for o in options), value)
    return value


def float_dtype(where: str, dtype: DTypeLike) -> np.dtype:
    """Resolve ``dtype`` to float32 or float64."""
    resolved = np.dtype(dtype)
    if resolved.name not in FLOAT_DTYPES:
        raise fail(where, "dtype", "'float32' or 'float64'", dtype)
    return resolved


def real(where: str, arg: str, value: Any, constraint: str = "a finite number",
         ok: Callable[[float], bool] | None = None) -> float:
    """``value`` as a finite float for which ``ok`` holds (bools, strings and arrays are
    refused), else the ValueError saying ``constraint``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or (ok is not None and not ok(float(value))):
        raise fail(where, arg, constraint, value)
    return float(value)


def non_negative(where: str, arg: str, value: Any) -> float:
    return real(where, arg, value, "a finite number >= 0", lambda v: v >= 0)


def integer(where: str, arg: str, value: Any, minimum: int = 1, constraint: str = "") -> int:
    """``value`` as an int >= ``minimum`` (bools and floats refused), else the ValueError
    saying ``constraint`` (by default ``an integer >= minimum``)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise fail(where, arg, constraint or f"an integer >= {minimum}", value)
    return int(value)


def positive_int(where: str, arg: str, value: Any) -> int:
    return integer(where, arg, value, 1, "a positive integer")


def flag(where: str, arg: str, value: Any) -> bool:
    """``value`` as a bool: True or False only (``bool("no")`` is True, so text is refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(where, arg, "True or False", value, error=TypeError)
    return bool(value)


def seed_value(where: str, arg: str, value: Any) -> int:
    """``value`` as a seed NumPy accepts: an integer >= 0 (bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise fail(where, arg, "an integer >= 0", value, error=TypeError)
    if value < 0:
        raise fail(where, arg, "an integer >= 0", value)
    return int(value)


def as_generator(where: str, arg: str, value: Any) -> np.random.Generator:
    """``value`` if it is a ``np.random.Generator``, else one seeded with the integer
    ``value`` (:func:`seed_value`)."""
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise fail(where, arg, "an int or a np.random.Generator", value,
                   f"pass {arg}=0 or {arg}=np.random.default_rng(0)", TypeError)
    return np.random.default_rng(seed_value(where, arg, value))


def check_feature_names(where: str, names: Iterable[Any] | None, n_features: int,
                        data: Any = None) -> list[str] | None:
    """``names`` (by default a DataFrame ``data``'s columns) as ``n_features`` strings, or
    ``None`` when there are none."""
    if names is None and hasattr(data, "columns"):
        names = data.columns
    if names is None:
        return None
    if isinstance(names, str):  # "age" would name three features 'a', 'g', 'e'
        raise fail(where, "feature_names", "a list of names", names)
    listed = [str(name) for name in names]
    if len(listed) != n_features:
        raise fail(where, "len(feature_names)", f"{n_features} (the number of features)",
                   len(listed))
    return listed


def as_float_array(
    where: str, arg: str, value: ArrayLike, dtype: DTypeLike, ndim: int | tuple[int, ...] = 2
) -> np.ndarray:
    """Convert ``value`` to a finite, C-contiguous float array of ``dtype``.

    Lists, integer and boolean arrays and other float dtypes are converted; strings,
    objects, NaN and inf are refused with a message naming ``arg``.
    """
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged lists
        raise fail(where, arg, "a rectangular numeric array", value, str(error)) from None
    if array.dtype == object and hasattr(value, "to_numpy"):  # pandas' Int64, Float64, …
        with contextlib.suppress(TypeError, ValueError):  # text stays object, refused below
            array = value.to_numpy(dtype=np.float64, na_value=np.nan)
    if array.dtype.kind not in "biuf":
        raise fail(where, arg, "numeric (int, bool or float)", value)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if array.ndim not in allowed:
        shapes = " or ".join(f"{d}-D" for d in allowed)
        hint = "use X.reshape(-1, 1) for a single feature" if array.ndim == 1 else ""
        raise fail(where, f"{arg}.ndim", shapes, array.ndim, hint)
    target = np.dtype(dtype)
    if array.dtype != target:
        logger.debug("%s: converted %s from %s to %s", where, arg, array.dtype, target)
    with np.errstate(over="ignore"):  # a value beyond the target's range is named below
        converted = np.ascontiguousarray(array, dtype=target)
    # min and max see a NaN or an inf without a boolean array of X's size
    if converted.size and not (np.isfinite(converted.min()) and np.isfinite(converted.max())):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(converted))[0])
        if array.dtype.kind == "f" and np.isfinite(array[bad]):  # finite, too large for target
            raise fail(where, arg, f"within {target.name}'s range (|x| <= "
                       f"{np.finfo(target).max:.3g})", f"{array[bad].item():g} at index {bad}",
                       "rescale it, or use dtype='float64'")
        raise fail(where, arg, "finite (no NaN or inf)", f"non-finite value at index {bad}")
    return converted


def row_indices(where: str, rows: ArrayLike, m: int) -> np.ndarray:
    """``rows`` as a non-empty 1-D array of indices into ``m`` rows."""
    picks = np.asarray(rows)
    if picks.ndim != 1 or picks.dtype.kind not in "iu" or not len(picks) \
            or picks.min() < 0 or picks.max() >= m:
        raise fail(where, "rows", f"a non-empty 1-D array of row indices in [0, {m})", rows)
    return picks


def row_chunks(rows: np.ndarray, m: int, size: int) -> Iterator[np.ndarray]:
    """``rows`` (indices into ``m`` rows) at most ``size`` at a time, for sums that do not
    depend on the order: as given when they fit in one chunk; when they are distinct (a
    split's part), in increasing order, so that big data is read in order and not at random
    (several times faster); else in the order given."""
    if len(rows) > size:
        picked = np.zeros(m, dtype=bool)
        picked[rows] = True
        if np.count_nonzero(picked) == len(rows):
            for start in range(0, m, size):
                found = np.flatnonzero(picked[start : start + size])
                if found.size:
                    yield found + start
            return
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def is_model(value: Any) -> bool:
    """Whether ``value`` is a deeprecipe model (it runs the engine's loop), for the modules
    that take one and never import the model."""
    return callable(getattr(value, "forward_backward", None))


def squarable(where: str, arg: str, array: np.ndarray) -> np.ndarray:
    """``array`` (finite floats) if its values' squares fit float64, as a mean and a
    variance need; else the ValueError naming ``arg`` (σ would be inf and every value
    standardized to 0, without a word)."""
    peak = float(np.abs(array).max(initial=0.0))
    if peak >= LARGEST:
        raise fail(where, arg, SQUARABLE, f"values up to {peak:.3g}", RESCALE)
    return array
