"""What the checker differentiates: a cost ``J(θ)`` it evaluates at many perturbed points
(:class:`Objective`), and :class:`FunctionObjective`, a user's ``fn(params)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from .._checks import describe, fail
from ..findings import Finding
from ..parameters import Layout, Slot, flatten, unflatten

CostAndGrads = tuple[Any, Mapping[str, Any]]
# each term's (cost, the float dtype it came back in or None for a Python number); the key
# None names a plain (cost, grads)
Costs = dict[str | None, tuple[float, np.dtype | None]]
# fn(params) -> (cost, grads), or {term: (cost, grads)} when J is a sum of named terms
Function = Callable[[dict[str, np.ndarray]], "CostAndGrads | Mapping[str, CostAndGrads]"]


class GradcheckError(ValueError):
    """The function cannot be checked as given (not deterministic, changes its input, …)."""


class Objective:
    """Base class: evaluate ``J`` at ``θ + step·e_i`` (coordinates) or ``θ + step·u``.

    ``crossed`` flags, when an objective can tell, mark evaluations whose perturbation moved
    a unit across a kink (ReLU at 0, ``|w|`` at 0); ``None`` means it cannot tell.
    """

    theta: np.ndarray
    layout: Layout
    analytic: np.ndarray
    j0: float
    # a term's check: |J| of the whole objective, whose round-off floor the term inherits (a
    # term's gradient below what J's own check resolves cannot change training: judged
    # uninformative, not wrong; e.g. a data term of ~1e-36 beside a penalty of 1)
    whole_j: float = 0.0
    eps_machine: float = float(np.finfo(np.float64).eps)
    batch_size: int | None = None
    tracks_kinks = False
    evaluations = 0

    def costs(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``J`` at each row of ``thetas`` (shape ``(k, n)``)."""
        raise NotImplementedError

    def on_branches(self) -> AbstractContextManager[None]:
        """Within it, ``J`` is evaluated with every unit held on its branch at θ (only
        objectives that ``tracks_kinks``)."""
        raise NotImplementedError

    def coordinate_costs(self, slot: Slot, indices: np.ndarray, step: float
                         ) -> tuple[np.ndarray, np.ndarray | None]:
        """``J(θ + step·e_i)`` for block-local ``indices`` of ``slot``."""
        thetas = np.repeat(self.theta[None, :], len(indices), axis=0)
        thetas[np.arange(len(indices)), slot.start + indices] += step
        return self.costs(thetas)

    def direction_costs(self, slot: Slot, directions: np.ndarray, step: float
                        ) -> tuple[np.ndarray, np.ndarray | None]:
        """``J(θ + step·u)`` for block-local directions ``u`` (rows of ``directions``)."""
        thetas = np.repeat(self.theta[None, :], len(directions), axis=0)
        thetas[:, slot.start : slot.stop] += step * directions
        return self.costs(thetas)


def require_finite_cost(cost: float) -> None:
    """Refuse a non-finite ``J(θ)``: nothing can be measured around it."""
    if not np.isfinite(cost):
        raise GradcheckError(
            f"check: the cost J(θ) must be finite at the parameters given; received "
            f"J(θ)={cost}. help: look for an overflow or a log of 0 in the forward pass, "
            "or check at smaller parameters")


def _as_params(value: Any) -> dict[str, np.ndarray]:
    if not isinstance(value, Mapping) or not value:
        raise fail("check", "params", "a non-empty dict of arrays", value, error=TypeError)
    params = {str(k): np.asarray(v) for k, v in value.items()}
    for name, array in params.items():
        if array.dtype.kind not in "biuf":
            raise TypeError(f"check: params[{name!r}] must be a numeric array; received "
                            f"{describe(value[name])}.")
    return params


class FunctionObjective(Objective):
    """A user's ``fn(params) -> (cost, grads)`` or ``{term: (cost, grads)}`` (see
    :func:`~deeprecipe.gradcheck.check`); ``term`` restricts ``J`` to one term (``None``: the
    sum). A preflight refuses an ``fn`` that is not deterministic or modifies its input, then
    evaluates ``J`` near ``θ``, where its values show its precision (``cost_dtype``)."""

    def __init__(self, fn: Function, params: Mapping[str, Any], term: str | None = None,
                 cache: dict[int, Costs] | None = None) -> None:
        if not callable(fn):
            raise fail("check", "fn", "callable", fn, error=TypeError)
        original = _as_params(params)
        self.fn = fn
        self.term = term
        self.terms: tuple[str, ...] = ()  # the names of fn's terms, when it returns them
        # hash of θ's bytes -> each term's (cost, dtype), shared by the terms' checks
        self.cache = {} if cache is None else cache
        # J's precision, from evidence that a round J(θ) (0.5, 1.0) cannot fake: the float
        # dtype fn returns its cost in (a NumPy scalar: the coarsest seen), and its values.
        # A cost computed in float32 and handed back as a Python float is a float32 number
        # at every θ, which a float64 computation almost never is; so the values show a
        # lower precision only once J has taken two different values (``moved``), every
        # one of them representable in it (``cost_types``, coarsest first).
        self.returned_dtype = np.dtype(np.float64)
        self.cost_types: list[type[np.floating]] = [np.float16, np.float32]
        self.cost_values: set[float] = set()  # up to two different finite costs seen
        self.input_dtypes = {name: value.dtype for name, value in original.items()}
        self.theta, self.layout = flatten(original, dtype=np.float64)
        lower = {n: d.name for n, d in self.input_dtypes.items() if d != np.float64}
        self.notes = [Finding("grad_promoted", {"dtypes": lower})] if lower else []
        values = []
        for _ in range(3):
            cost, grads = self._call(self.theta, check_input=True)
            values.append(cost)
            require_finite_cost(cost)
        self.shape_errors: dict[str, Finding] = {}
        if len(set(values)) != 1:
            raise GradcheckError(
                "check: fn is not deterministic: J(θ) gave "
                + ", ".join(f"{v:.17g}" for v in values)
                + " at the same θ. help: turn dropout and augmentation off (keep_prob=1, as "
                "the notes advise) or re-seed the randomness inside fn on every call.")
        self.j0 = values[0]
        self.analytic = self._flatten_grads(grads)
        self._probe_precision()

    def _probe_precision(self) -> None:
        """Evaluate ``J`` at ``θ ± 0.001·u·max(|θ|, 1)`` (``u`` a fixed ±1 direction) so
        that its values, not ``J(θ)`` alone, tell its precision before anything is measured.
        A point where fn fails or ``J`` is not finite tells nothing."""
        direction = np.random.default_rng(0).choice((-1.0, 1.0), size=self.theta.shape)
        step = 1e-3 * direction * np.maximum(np.abs(self.theta), 1.0)
        for theta in (self.theta + step, self.theta - step):
            try:
                with np.errstate(all="ignore"):
                    self._call(theta)
            except Exception:  # outside fn's domain, say: no evidence
                pass

    @property
    def cost_dtype(self) -> np.dtype:
        """The precision ``J`` is computed in: the dtype fn returns its cost in, or a lower
        one its values show (see ``__init__``); float64 for a Python float otherwise."""
        moved = len(self.cost_values) > 1  # J took two different finite values
        shown = self.cost_types[0] if self.cost_types and moved else np.float64
        return max(self.returned_dtype, np.dtype(shown), key=lambda d: np.finfo(d).eps)

    @property
    def eps_machine(self) -> float:  # type: ignore[override]
        """Machine epsilon of the precision ``J`` is computed in: its rounding noise."""
        return float(np.finfo(self.cost_dtype).eps)

    def _call(self, theta: np.ndarray, check_input: bool = False
              ) -> tuple[float, dict[str | None, Mapping[str, Any]]]:
        """``(J, {term: grads})`` at ``theta``: ``J`` of the term checked (or their sum),
        the gradients of every term it sums (``None`` names a plain ``(cost, grads)``)."""
        params = {name: view.copy() for name, view in unflatten(theta, self.layout).items()}
        before = {name: value.copy() for name, value in params.items()} if check_input else {}
        result = self.fn(params)
        self.evaluations += 1
        costs, grads = self._terms(result)
        if self.terms:  # each term's check evaluates fn at the same points: once is enough
            self.cache[hash(theta.tobytes())] = costs
        cost = self._seen(costs)
        for name in before:
            if not np.array_equal(before[name], params[name]):
                raise GradcheckError(
                    f"check: fn changed the parameter {name!r} it was given; the forward "
                    "pass must not modify the parameters (an update left in the cost?).")
        return cost, self._summed(grads)

    def _summed(self, by_term: Mapping[str | None, Any]) -> dict[str | None, Any]:
        """The entries of ``by_term`` for the terms ``J`` sums: every one, or ``term``'s."""
        return dict(by_term) if self.term is None else {self.term: by_term[self.term]}

    def _seen(self, costs: Costs) -> float:
        """``J`` from its terms' ``costs``, recorded as one more value of ``J`` beside the
        float dtypes its terms came back in; a non-finite value tells nothing."""
        summed = self._summed(costs).values()
        for _, dtype in summed:
            if dtype is not None:
                self.returned_dtype = max(self.returned_dtype, dtype,
                                          key=lambda d: np.finfo(d).eps)
        cost = sum(value for value, _ in summed)
        if not np.isfinite(cost):
            return cost
        if len(self.cost_values) < 2:
            self.cost_values.add(cost)
        with np.errstate(over="ignore"):
            self.cost_types = [t for t in self.cost_types if float(t(cost)) == cost]
        return cost

    def _terms(self, result: Any) -> tuple[Costs, dict[str | None, Any]]:
        """``fn``'s result as ``({term: (cost, dtype)}, {term: grads})``, each cost a checked
        float and ``dtype`` the float dtype it came back in (``None``: a Python number)."""
        if isinstance(result, Mapping):
            if not result or not all(isinstance(name, str) for name in result):
                raise TypeError(f"check: fn's terms must be a non-empty dict {{name: (cost, "
                                f"grads)}}; received {describe(result)}.")
            names = tuple(result)
            if self.terms and names != self.terms:
                raise GradcheckError(f"check: fn must return the same terms at every call; "
                                     f"received {list(names)} after {list(self.terms)}.")
            self.terms = names
            pairs = {name: self._pair(value, f"fn's term {name!r}")
                     for name, value in result.items()}
        else:
            pairs = {None: self._pair(result, "fn")}
        return ({name: cost for name, (cost, _) in pairs.items()},
                {name: grads for name, (_, grads) in pairs.items()})

    def _pair(self, result: Any, what: str) -> tuple[tuple[float, np.dtype | None], Any]:
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError(f"check: {what} must return (cost, grads); received "
                            f"{type(result).__name__}.")
        cost, grads = result
        if isinstance(cost, Mapping):
            raise TypeError("check: fn must return (cost, grads) in that order; received a "
                            f"dict first and {describe(grads)} second.")
        if np.ndim(cost) != 0 and np.size(cost) != 1:
            raise TypeError("check: fn's cost must be a scalar; received a cost of shape "
                            f"{np.shape(cost)}.")
        if np.asarray(cost).dtype.kind not in "biuf":
            raise TypeError(f"check: fn's cost must be a real number; received "
                            f"{describe(cost)}.")
        dtype = np.asarray(cost).dtype
        # a Python float is a float64 that may hold a value computed in any precision
        python_number = isinstance(cost, (int, float)) and not isinstance(cost, np.generic)
        declared = dtype if dtype.kind == "f" and not python_number else None
        return (float(np.asarray(cost).reshape(())), declared), grads

    def _flatten_grads(self, terms: Mapping[str | None, Mapping[str, Any]]) -> np.ndarray:
        """The gradients of ``terms`` summed into one float64 vector; a block of the wrong
        shape is recorded in ``shape_errors`` (it fails without being measured)."""
        flat = np.zeros(self.theta.shape)
        names = [slot.name for slot in self.layout]
        for term, grads in terms.items():
            what = "grads" if term is None else f"the grads of term {term!r}"
            if not isinstance(grads, Mapping):
                raise TypeError(f"check: fn's {what} must be a dict; received "
                                f"{type(grads).__name__}.")
            # a term may leave out the blocks it does not touch (an L2 term, the biases)
            missing = [n for n in names if n not in grads] if term is None else []
            unknown = [str(n) for n in grads if n not in names]
            if missing or unknown:
                raise GradcheckError(f"check: {what} must have the keys of params {names}; "
                                     f"missing {missing}, unknown {unknown}.")
            for slot in self.layout:
                if slot.name not in grads:
                    continue
                grad = np.asarray(grads[slot.name], dtype=np.float64)
                if grad.shape != slot.shape:
                    self.shape_errors[slot.name] = Finding("grad_shape", {
                        "shape": grad.shape, "expected": slot.shape})
                    flat[slot.start : slot.stop] = np.nan
                    continue
                flat[slot.start : slot.stop] += grad.ravel()
        return flat

    def costs(self, thetas: np.ndarray) -> tuple[np.ndarray, None]:
        values = []
        for theta in thetas:
            # another term's check may have evaluated fn here (no terms: nothing cached)
            cached = self.cache.get(hash(theta.tobytes())) if self.terms else None
            values.append(self._call(theta)[0] if cached is None else self._seen(cached))
        return np.array(values), None

    def gradients_at(self, params: Mapping[str, Any]) -> np.ndarray:
        """The analytic gradient (flat, float64) for ``params`` as given (no promotion)."""
        _, grads = self._terms(self.fn(dict(params)))
        return self._flatten_grads(self._summed(grads))
