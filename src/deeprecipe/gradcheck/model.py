"""The ``J`` of a :class:`~deeprecipe.Sequential` (penalty included, ``m = len(X)``), in
float64, evaluated only through the layers' own methods: the layers before a perturbed
parameter are read off the model's trace, perturbations run as stacked copies of the data,
a moved column feeds the next layer as a rank-one update, and kink crossings are recorded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import regularizers
from ..model import Sequential
from ..parameters import Slot
from .objective import Objective, require_finite_cost

MAX_BATCH_ELEMENTS = 2_000_000  # perturbations × rows × width evaluated at once


class ModelObjective(Objective):
    """``J`` of a float64 model on fixed data, restricted to its ``terms`` (``"data"``, the
    penalties); ``dropout="fixed"`` replays the masks drawn from ``seed`` at every evaluation."""

    tracks_kinks = True

    def __init__(self, model: Sequential, X: np.ndarray, targets: np.ndarray, *,
                 terms: Sequence[str], dropout: str, seed: int,
                 cache: dict[Any, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self.model, self.X, self.targets = model, X, targets
        self.m = self.batch_size = len(X)
        self.terms = tuple(terms)
        self.penalty_terms = [t for t in self.terms if t in model.penalties]
        self.penalty = model.penalty(self.m, self.penalty_terms)  # at θ, for coordinate_costs
        self.hold = False  # evaluate J with every unit on its branch at θ
        self.cache = {} if cache is None else cache
        self.theta = model.theta.copy()
        self.layout = model.layout
        rng = np.random.default_rng(seed) if dropout == "fixed" else None
        trace = model.forward_backward(X, targets, training=rng is not None, rng=rng,
                                       terms=self.terms)
        self.inputs, self.caches = trace.activations, trace.caches  # the layers' at θ
        self.branches = [layer.replay(params, x, cache, 1)[1] for layer, params, x, cache
                         in zip(model.head, model.params, self.inputs, self.caches, strict=False)]
        self.signs = {s: np.sign(self.theta[s.start:s.stop]) for s in self.layout
                      if s.name.endswith(".W")}  # each weight's side of |w|'s kink at θ
        self.j0, self.analytic = trace.cost, trace.gradient
        require_finite_cost(self.j0)

    @contextmanager
    def on_branches(self) -> Iterator[None]:
        """Evaluate ``J`` with every ReLU-like unit held on the branch it took at θ: where a
        perturbation moves a unit across 0, its other piece is extended (``−g(−z)``, the
        mirror of the real activation), so ``J`` stays the smooth function whose derivative
        backpropagation computes, even where units sit exactly at their kink."""
        self.hold = True
        try:
            yield
        finally:
            self.hold = False

    def _held(self, index: int) -> np.ndarray | None:
        return self.branches[index] if self.hold else None

    def _crossed(self, index: int, sides: np.ndarray | None, copies: int) -> np.ndarray:
        """Per copy: whether a unit of layer ``index`` is on another side of its kink than
        at θ."""
        base = self.branches[index]
        if sides is None or base is None:
            return np.zeros(copies, dtype=bool)
        return (sides.reshape(copies, self.m, -1) != base[None]).any(axis=(1, 2))

    def _run_from(self, start: int, x: np.ndarray, copies: int
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Run layers ``start…`` on ``copies`` stacked copies of the data, ``x`` of shape
        ``(copies·m, n)``. Returns ``(data term per copy, crossed per copy)``."""
        model = self.model
        crossed = np.zeros(copies, dtype=bool)
        for index in range(start, len(model.head)):
            x, sides = model.head[index].replay(model.params[index], x, self.caches[index],
                                                copies, self._held(index))
            crossed |= self._crossed(index, sides, copies)
        return self._data_rows(x, copies), crossed

    def _data_rows(self, out: np.ndarray, copies: int) -> np.ndarray:
        if "data" not in self.terms:
            return np.zeros(copies)
        targets = np.tile(self.targets, (copies,) + (1,) * (self.targets.ndim - 1))
        rows = self.model.loss.example_costs(out, targets, self.model.from_logits)
        return rows.reshape(copies, self.m).mean(axis=1)

    def costs(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``J`` at arbitrary points: a full forward pass each."""
        values = np.empty(len(thetas))
        crossed = np.zeros(len(thetas), dtype=bool)
        saved = self.model.theta.copy()
        try:
            for row, theta in enumerate(thetas):
                self.model.theta[...] = theta
                data, moved = self._run_from(0, self.X, 1)
                values[row] = data[0] + self.model.penalty(self.m, self.penalty_terms)
                crossed[row] = moved[0] or self._signs_moved(theta)
        finally:
            self.model.theta[...] = saved
        self.evaluations += len(thetas)
        return values, crossed

    def _signs_moved(self, theta: np.ndarray) -> bool:
        if "l1" not in self.penalty_terms:
            return False
        return any(np.any(np.sign(theta[s.start:s.stop]) != sign)
                   for s, sign in self.signs.items())

    def coordinate_costs(self, slot: Slot, indices: np.ndarray, step: float
                         ) -> tuple[np.ndarray, np.ndarray]:
        """``J(θ + step·e_i)`` for coordinates of one block, the layers before it skipped."""
        name, key = slot.name.rsplit(".", 1)
        data, crossed = self._coordinate_data(slot, self.model.names.index(name), key,
                                              indices, step)
        values = data + self.penalty
        if key == "W" and self.penalty_terms:
            w = self.theta[slot.start + indices]
            for term in self.penalty_terms:
                share = regularizers.PENALTIES[term][1]
                lambd = self.model.penalties[term]
                values += share(w + step, lambd, self.m) - share(w, lambd, self.m)
            if "l1" in self.penalty_terms:
                crossed = crossed | (np.sign(w + step) != np.sign(w))
        self.evaluations += len(indices)
        return values, crossed

    def _coordinate_data(self, slot: Slot, index: int, key: str, indices: np.ndarray,
                         step: float) -> tuple[np.ndarray, np.ndarray]:
        if "data" not in self.terms:
            return np.zeros(len(indices)), np.zeros(len(indices), dtype=bool)
        cache_key = (slot.name, step, indices.tobytes(), self.hold)
        if cache_key in self.cache:
            data, crossed = self.cache[cache_key]
            return data.copy(), crossed.copy()
        chunk = max(1, MAX_BATCH_ELEMENTS // (self.m * max(self.model.dims)))
        data = np.empty(len(indices))
        crossed = np.zeros(len(indices), dtype=bool)
        for start in range(0, len(indices), chunk):
            part = slice(start, start + chunk)
            data[part], crossed[part] = self._perturbed(index, key, indices[part], step)
        self.cache[cache_key] = (data.copy(), crossed.copy())
        return data, crossed

    def _perturbed(self, index: int, key: str, indices: np.ndarray, step: float
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Data term and kink crossings per coordinate ``i`` of layer ``index``'s
        ``params[key]`` moved by ``step``: the layer's own batch of perturbations, and when
        that moves one output column per coordinate, the next layer's rank-one update."""
        model, copies = self.model, len(indices)
        layer, params, x = model.head[index], model.params[index], self.inputs[index]
        following = index + 1
        # the column form pays when the next layer has a fast moved() (Dense: rank-one)
        moved: Any = getattr(model.head[following], "moved", None) \
            if following < len(model.head) else None
        column = None if moved is None else \
            layer.perturbed_column(params, x, key, indices, step, self._held(index))
        if column is None:
            out, sides = layer.perturbed(params, x, self.caches[index], key, indices, step,
                                         self._held(index))
            crossed = self._crossed(index, sides, copies)
        else:
            columns, change, crossed = column
            out, sides = moved(
                model.params[following], self.inputs[following], self.caches[following],
                columns, change, self._held(following))
            crossed = crossed | self._crossed(following, sides, copies)
            index = following
        data, later = self._run_from(index + 1, out, copies)
        return data, crossed | later
