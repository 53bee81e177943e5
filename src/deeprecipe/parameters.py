"""Named parameters packed into one flat vector ``θ``, with a recorded layout, as the notes'
gradient check reshapes them; the model keeps its parameters so all the time (views of
``θ``). Order is the dict's (model order: ``dense_1.W``, ``dense_1.b``, …), never sorted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, DTypeLike


class Slot(NamedTuple):
    """Where one named parameter lives in ``θ``: ``theta[start:stop].reshape(shape)``."""

    name: str
    shape: tuple[int, ...]
    start: int
    stop: int


Layout = tuple[Slot, ...]


def layout_of(shapes: Mapping[str, tuple[int, ...]]) -> Layout:
    """The layout of parameters with these shapes, in the mapping's order."""
    slots = []
    start = 0
    for name, shape in shapes.items():
        stop = start + int(np.prod(shape, dtype=np.int64))
        slots.append(Slot(name, tuple(int(s) for s in shape), start, stop))
        start = stop
    return tuple(slots)


def size(layout: Layout) -> int:
    return layout[-1].stop if layout else 0


def flatten(
    params: Mapping[str, ArrayLike], dtype: DTypeLike | None = None
) -> tuple[np.ndarray, Layout]:
    """Concatenate ``params`` (any shapes, 0-d included) into ``(θ, layout)``."""
    arrays = {name: np.asarray(value) for name, value in params.items()}
    layout = layout_of({name: a.shape for name, a in arrays.items()})
    if dtype is None:
        dtype = np.result_type(*arrays.values()) if arrays else np.float64
    theta = np.empty(size(layout), dtype=dtype)
    for slot in layout:
        theta[slot.start : slot.stop] = arrays[slot.name].ravel()
    return theta, layout


def unflatten(theta: np.ndarray, layout: Layout) -> dict[str, np.ndarray]:
    """Views of ``θ`` shaped and named by ``layout`` (the inverse of :func:`flatten`)."""
    if theta.shape != (size(layout),):
        raise ValueError(
            f"unflatten: theta must have shape ({size(layout)},); received "
            f"theta.shape={theta.shape}."
        )
    return {s.name: theta[s.start : s.stop].reshape(s.shape) for s in layout}
