"""Gradient checking a :class:`~deeprecipe.Sequential`: the notes' ``J`` and ``dJ/dθ``.

``J = (1/m) Σ L(ŷ, y) + (λ/2m) Σ ||W||²`` (and/or the L1 term) with ``m = len(X)``, dropout
off (``keep_prob = 1``, as the notes advise) or with the same masks at every evaluation
(``dropout="fixed"``), in float64.

It is fast because a perturbed parameter only changes its own layer's output and what comes
after: the activations before it are computed once. Perturbing ``W[i, j]`` of a Dense layer
by ``s`` moves column ``j`` of ``Z`` by ``s·X[:, i]``, so a batch of perturbations is one
array operation, and the layers after it run once for the whole batch. The branch each ReLU
unit took (and the sign of each weight under L1) is recorded, so a perturbation that
crosses a kink is known, not guessed; and inside :meth:`ModelObjective.on_branches` every
unit is held on the branch it took at θ, which is the function backpropagation
differentiates (a ReLU exactly at 0 stays off: ``relu'(0) = 0``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import activations, regularizers
from ..layers import Activation, Dense, Dropout
from ..model import Sequential
from ..parameters import Slot
from .objective import Objective, require_finite_cost

MAX_BATCH_ELEMENTS = 2_000_000  # perturbations × rows × width evaluated at once


class ModelObjective(Objective):
    """``J`` of a float64 model on fixed data, restricted to some of its terms.

    ``terms`` names what ``J`` includes: ``"data"`` and/or the penalties (``"l2"``,
    ``"l1"``). ``dropout`` is ``"off"`` or ``"fixed"`` (training-mode masks drawn from
    ``seed`` on every evaluation, so they are the same at ``θ + ε`` and ``θ − ε``).
    """

    tracks_kinks = True

    def __init__(self, model: Sequential, X: np.ndarray, targets: np.ndarray, *,
                 terms: Sequence[str], dropout: str, seed: int,
                 cache: dict[Any, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self.model = model
        self.X = X
        self.targets = targets
        self.m = len(X)
        self.batch_size = self.m
        self.terms = tuple(terms)
        self.penalty_terms = [t for t in self.terms if t in model.penalties]
        self.training = dropout == "fixed"
        self.seed = seed
        self.hold = False  # evaluate J with every unit on its branch at θ
        self.cache = {} if cache is None else cache
        self.theta = model.theta.copy()
        self.layout = model.layout
        self._slots = {slot.name: slot for slot in self.layout}
        self.j0, self.analytic = self._base()
        require_finite_cost(self.j0)

    # --- at θ --------------------------------------------------------------------------

    def _rng(self) -> np.random.Generator | None:
        return np.random.default_rng(self.seed) if self.training else None

    def _base(self) -> tuple[float, np.ndarray]:
        """Record every layer's input and output at θ; return ``(J, dJ/dθ)``."""
        model = self.model
        out, caches = model.forward(self.X, training=self.training, rng=self._rng(),
                                    logits=model.fused)
        self.caches = caches
        self.inputs = [self.X]
        for index, layer in enumerate(model.layers[:-1]):
            self.inputs.append(self._forward_layer(layer, self.inputs[-1], last=False,
                                                   masks=self._mask(index, 1)))
        self.branches = [self._branches(layer, x) for layer, x in
                         zip(model.layers, [*self.inputs[1:], out], strict=True)]
        self.signs = {s.name: np.sign(self.theta[s.start:s.stop]) for s in self._weight_slots()}
        grad = np.zeros_like(self.theta)
        data = 0.0
        if "data" in self.terms:
            data, dout = self._loss_and_gradient(out)
            grad = model.backward(dout, caches)
        views = model._grad_views(grad)
        if self.penalty_terms:
            model._add_penalty_grad(views, self.m, self.penalty_terms)
        return data + model.penalty(self.m, self.penalty_terms), grad

    def _mask(self, index: int, copies: int) -> np.ndarray | None:
        """Layer ``index``'s dropout mask at θ, stacked ``copies`` times (None: no dropout)."""
        layer = self.model.layers[index]
        if not (self.training and isinstance(layer, Dropout)) or self.caches[index] is None:
            return None
        return np.tile(self.caches[index], (copies, 1))

    def _loss_and_gradient(self, out: np.ndarray) -> tuple[float, np.ndarray]:
        loss = self.model.loss
        if self.model.fused:
            value, dout = loss.fused(out.copy(), self.targets)
            return value, dout
        return loss.value(out, self.targets), loss.gradient(out, self.targets)

    def _weight_slots(self) -> list[Slot]:
        return [self._slots[f"{layer.name}.W"] for layer in self.model.layers
                if isinstance(layer, Dense)]

    @staticmethod
    def _branches(layer: Any, out: np.ndarray) -> np.ndarray | None:
        """Which side of the kink each unit is on (ReLU-like Dense layers)."""
        if isinstance(layer, (Dense, Activation)) and layer.activation in activations.PIECEWISE:
            return out > 0
        return None

    # --- evaluating J ------------------------------------------------------------------

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

    def _activate(self, index: int, z: np.ndarray, copies: int,
                  branch: np.ndarray | None = None) -> np.ndarray:
        """Layer ``index``'s activation of stacked pre-activations ``z`` (``copies`` copies
        of the data, or the ``branch`` given), held on θ's branches inside
        :meth:`on_branches`. ``z`` is the caller's scratch: it may be overwritten."""
        layer: Any = self.model.layers[index]
        forward = activations.ACTIVATIONS[layer.activation].forward
        base = self.branches[index]
        if not self.hold or base is None:
            return forward(z, out=z)
        if branch is None:
            branch = np.tile(base, (copies, 1))
        return np.where((z > 0) != branch, -forward(-z), forward(z))

    def _forward_layer(self, layer: Any, x: np.ndarray, *, last: bool,
                       masks: np.ndarray | None) -> np.ndarray:
        if isinstance(layer, Dropout):
            if masks is None:
                return x
            return x * masks / layer.keep_prob
        if last:
            return layer.forward(x, training=False, logits=self.model.fused)[0]
        return layer.forward(x, training=False)[0]

    def _run_from(self, start: int, x: np.ndarray, copies: int
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Run layers ``start…`` on ``copies`` stacked copies of the data, ``x`` of shape
        ``(copies·m, n)``. Returns ``(data term per copy, crossed per copy)``."""
        layers = self.model.layers
        crossed = np.zeros(copies, dtype=bool)
        for index in range(start, len(layers)):
            layer = layers[index]
            if self.hold and self.branches[index] is not None:
                z = x @ layer.params["W"] + layer.params["b"] if isinstance(layer, Dense) else x
                x = self._activate(index, z, copies)
            else:
                x = self._forward_layer(layer, x, last=index == len(layers) - 1,
                                        masks=self._mask(index, copies))
            base = self.branches[index]
            if base is not None:
                moved = (x > 0).reshape(copies, self.m, -1) != base[None]
                crossed |= moved.any(axis=(1, 2))
        return self._data_rows(x, copies), crossed

    def _data_rows(self, out: np.ndarray, copies: int) -> np.ndarray:
        if "data" not in self.terms:
            return np.zeros(copies)
        targets = np.tile(self.targets, (copies,) + (1,) * (self.targets.ndim - 1))
        loss = self.model.loss
        rows = (loss.fused_rows if self.model.fused else loss.rows)(out, targets)
        return rows.reshape(copies, self.m).mean(axis=1)

    def _penalty_at(self, theta: np.ndarray) -> float:
        saved = self.model.theta.copy()
        self.model.theta[...] = theta
        try:
            return self.model.penalty(self.m, self.penalty_terms)
        finally:
            self.model.theta[...] = saved

    def costs(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``J`` at arbitrary points: a full forward pass each."""
        values = np.empty(len(thetas))
        crossed = np.zeros(len(thetas), dtype=bool)
        saved = self.model.theta.copy()
        try:
            for row, theta in enumerate(thetas):
                self.model.theta[...] = theta
                data, moved = self._run_from(0, self.X, 1) if "data" in self.terms else (
                    np.zeros(1), np.zeros(1, dtype=bool))
                values[row] = data[0] + self.model.penalty(self.m, self.penalty_terms)
                crossed[row] = moved[0] or self._signs_moved(theta)
        finally:
            self.model.theta[...] = saved
        self.evaluations += len(thetas)
        return values, crossed

    def _signs_moved(self, theta: np.ndarray) -> bool:
        if "l1" not in self.penalty_terms:
            return False
        return any(np.any(np.sign(theta[s.start:s.stop]) != self.signs[s.name])
                   for s in self._weight_slots())

    def coordinate_costs(self, slot: Slot, indices: np.ndarray, step: float
                         ) -> tuple[np.ndarray, np.ndarray]:
        """``J(θ + step·e_i)`` for coordinates of one block, the layers before it skipped."""
        layer_index, key = self._locate(slot)
        data, crossed = self._coordinate_data(slot, layer_index, key, indices, step)
        values = data + self.model.penalty(self.m, self.penalty_terms)
        if key == "W" and self.penalty_terms:
            w = self.theta[slot.start + indices]
            for name in self.penalty_terms:
                share = regularizers.PENALTIES[name][1]
                lambd = self.model.penalties[name]
                values += share(w + step, lambd, self.m) - share(w, lambd, self.m)
            if "l1" in self.penalty_terms:
                crossed = crossed | (np.sign(w + step) != np.sign(w))
        self.evaluations += len(indices)
        return values, crossed

    def _locate(self, slot: Slot) -> tuple[int, str]:
        layer_name, key = slot.name.rsplit(".", 1)
        index = next(i for i, layer in enumerate(self.model.layers) if layer.name == layer_name)
        return index, key

    def _coordinate_data(self, slot: Slot, index: int, key: str, indices: np.ndarray,
                         step: float) -> tuple[np.ndarray, np.ndarray]:
        if "data" not in self.terms:
            return np.zeros(len(indices)), np.zeros(len(indices), dtype=bool)
        cache_key = (slot.name, step, indices.tobytes(), self.hold)
        if cache_key in self.cache:
            data, crossed = self.cache[cache_key]
            return data.copy(), crossed.copy()
        layer = self.model.layers[index]
        width = max(layer.units if isinstance(layer, Dense) else 1,
                    *(getattr(l, "units", 1) for l in self.model.layers))
        chunk = max(1, MAX_BATCH_ELEMENTS // (self.m * width))
        data = np.empty(len(indices))
        crossed = np.zeros(len(indices), dtype=bool)
        for start in range(0, len(indices), chunk):
            part = slice(start, start + chunk)
            data[part], crossed[part] = self._perturbed_dense(index, key, indices[part], step)
        self.cache[cache_key] = (data.copy(), crossed.copy())
        return data, crossed

    def _perturbed_dense(self, index: int, key: str, indices: np.ndarray, step: float
                         ) -> tuple[np.ndarray, np.ndarray]:
        """Perturb ``W[i, j]`` (or ``b[j]``) of Dense layer ``index`` by ``step``, one copy
        of the data per coordinate: only column ``j`` of ``Z`` moves, by ``step·X[:, i]``."""
        layer = self._dense(index)
        x = self.inputs[index]
        copies = len(indices)
        if key == "W":
            rows_in, columns = np.unravel_index(indices, layer.params["W"].shape)
            delta = step * x[:, rows_in].T  # (copies, m)
        else:
            columns = indices
            delta = np.full((copies, self.m), step)
        z = x @ layer.params["W"] + layer.params["b"]
        if self._column_only(index):
            return self._perturbed_column(index, z, columns, delta)
        batch = np.repeat(z[None], copies, axis=0)
        batch[np.arange(copies), :, columns] += delta
        return self._finish(index, batch.reshape(copies * self.m, -1), z, copies)

    def _dense(self, index: int) -> Dense:
        layer = self.model.layers[index]
        if not isinstance(layer, Dense):
            raise TypeError(f"check_model: {layer.name} has parameters but is not Dense.")
        return layer

    def _column_only(self, index: int) -> bool:
        """Whether a change in one column of layer ``index``'s ``Z`` stays one column of its
        output ``A`` (an elementwise activation) feeding straight into a Dense layer."""
        layers = self.model.layers
        return (index + 1 < len(layers) and isinstance(layers[index + 1], Dense)
                and self._dense(index).activation != "softmax")

    def _perturbed_column(self, index: int, z: np.ndarray, columns: np.ndarray,
                          delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rank-one shortcut: when column ``j`` of ``A`` moves by ``ΔA_j``, the next
        layer's ``Z`` moves by the outer product ``ΔA_j W_next[j, :]``."""
        layer, following = self._dense(index), self._dense(index + 1)
        activation = activations.ACTIVATIONS[layer.activation].forward
        base = z[:, columns].T  # (copies, m)
        moved = base + delta
        crossed = np.zeros(len(columns), dtype=bool)
        branch = None
        branches = self.branches[index]
        if branches is not None:  # a ReLU-like layer
            crossed = ((moved > 0) != (base > 0)).any(axis=1)
            branch = branches[:, columns].T
        change = self._activate(index, moved, len(columns), branch) - activation(base)
        z_next = self.inputs[index + 1] @ following.params["W"] + following.params["b"]
        batch = z_next[None] + change[:, :, None] * following.params["W"][columns][:, None, :]
        data, moved_later = self._finish(index + 1, batch.reshape(len(columns) * self.m, -1),
                                         z_next, len(columns))
        return data, crossed | moved_later

    def _finish(self, index: int, flat: np.ndarray, z: np.ndarray, copies: int
                ) -> tuple[np.ndarray, np.ndarray]:
        """From the stacked pre-activations ``flat`` of Dense layer ``index`` (its ``Z`` at θ
        is ``z``) to the data term of each copy, recording kink crossings."""
        layer = self._dense(index)
        last = index == len(self.model.layers) - 1
        crossed = np.zeros(copies, dtype=bool)
        if not (last and self.model.fused):
            if layer.activation in activations.PIECEWISE:
                crossed = ((flat > 0).reshape(copies, self.m, -1) != (z > 0)[None]).any(
                    axis=(1, 2))
            flat = self._activate(index, flat, copies)
        if last:
            return self._data_rows(flat, copies), crossed
        data, moved = self._run_from(index + 1, flat, copies)
        return data, crossed | moved
