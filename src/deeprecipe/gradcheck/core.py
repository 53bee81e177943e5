"""The checking algorithm, shared by every objective: central differences per coordinate or
along random directions, noise estimates, kinks, and what a failing block's bug looks like.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import numpy as np

from .._checks import choice, fail, integer, positive_int, real
from ..findings import Finding
from ..parameters import Slot
from .objective import Function, FunctionObjective, Objective
from .report import (
    DEFAULT_BANDS,
    GREAT,
    INCONCLUSIVE,
    LOOK_CLOSER,
    TERM_NAMES,
    UNINFORMATIVE,
    WORRY,
    BlockReport,
    Entry,
    GradcheckReport,
    band,
)

MODES = ("full", "sampled", "directional")
# Rounding error of one J evaluation, in units of eps_machine·|J| (sums of m terms round
# more than once); the noise of a central difference is about this over ε.
ROUNDOFF_FACTOR = 8.0
NOISE_MARGIN = 3.0  # a difference within this many noise floors is noise
MAX_LOCALIZED = 8
# A disagreement is re-measured at steps ε·10^k up to MAX_WIDER_STEP (rounding shrinks as
# the step grows, truncation grows with it).
MAX_WIDER_STEP = 1e-2
LADDER_SAMPLE = 32  # disagreements re-measured first; the rest only if one was rounding

# evaluate(step, rows) -> (J at each perturbation, crossed flags or None); rows=None: all.
Evaluate = Callable[[float, "np.ndarray | None"], "tuple[np.ndarray, np.ndarray | None]"]


def relative_difference(numeric: np.ndarray, analytic: np.ndarray) -> float:
    """The notes' ``||approx − grad|| / (||approx|| + ||grad||)``; 0 when both are zero,
    NaN when either holds a non-finite value."""
    return _norm_ratio(np.subtract(numeric, analytic), numeric, analytic)


def _norm_ratio(top: np.ndarray, numeric: np.ndarray, analytic: np.ndarray) -> float:
    """``||top|| / (||numeric|| + ||analytic||)``, every array divided by the same largest
    magnitude first (the ratio does not change), so gradients of 1e300 do not overflow."""
    arrays = [np.asarray(a, dtype=np.float64) for a in (top, numeric, analytic)]
    with np.errstate(invalid="ignore"):
        scale = max(float(np.max(np.abs(a), initial=0.0)) for a in arrays[1:])
    if not np.isfinite(scale) or not np.all(np.isfinite(arrays[0])):
        return float("nan")
    if scale == 0:
        return 0.0
    top, numeric, analytic = (a / scale for a in arrays)
    return float(np.linalg.norm(top) / (np.linalg.norm(numeric) + np.linalg.norm(analytic)))


@dataclass
class Measurements:
    """Numeric and analytic values of one block: coordinates or probe projections."""

    numeric: list[float] = field(default_factory=list)
    analytic: list[float] = field(default_factory=list)
    noise: list[float] = field(default_factory=list)
    index: list[int] = field(default_factory=list)  # block-local coordinate, -1 for a probe
    kink: list[bool] = field(default_factory=list)  # a perturbation crossed a kink
    excluded: list[bool] = field(default_factory=list)  # no valid measurement: left out
    subgradient: list[bool] = field(default_factory=list)  # a kink at θ itself, no derivative

    def add(self, *columns: np.ndarray) -> None:
        """Append arrays of measurements, one per field, in the fields' order."""
        for column, values in zip(fields(self), columns, strict=True):
            getattr(self, column.name).extend(values.tolist())

    def extend(self, other: Measurements) -> None:
        """Append ``other``'s measurements (another block's)."""
        for column in fields(self):
            getattr(self, column.name).extend(getattr(other, column.name))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(numeric, analytic, noise)`` of the measurements in the verdict."""
        keep = ~np.array(self.excluded, dtype=bool)
        return (np.array(self.numeric)[keep], np.array(self.analytic)[keep],
                np.array(self.noise)[keep])

    def informative(self) -> bool:
        """Whether the numeric or the analytic values rise clearly above the noise floor."""
        arrays = self.arrays()
        if not np.all(np.isfinite(arrays[0])):  # an overflow is no floor
            return True
        scale = max(float(np.max(np.abs(a), initial=0.0)) for a in arrays)
        if scale == 0:
            return False
        numeric, analytic, noise = (a / scale for a in arrays)  # no overflow in the norms
        floor = NOISE_MARGIN * np.linalg.norm(noise)
        return bool(max(np.linalg.norm(numeric), np.linalg.norm(analytic)) > floor)


class Checker:
    """Runs one check of ``objective``; see :func:`deeprecipe.gradcheck.check`."""

    def __init__(self, objective: Objective, *, mode: str, epsilon: float, samples: int,
                 probes: int, bands: tuple[float, float], seed: int, n_worst: int) -> None:
        self.obj, self.mode, self.epsilon, self.bands = objective, mode, epsilon, bands
        self.samples, self.probes, self.n_worst = samples, probes, n_worst
        self.rng = np.random.default_rng(seed)

    def _roundoff(self, *costs: np.ndarray, step: float) -> np.ndarray:
        scale = np.maximum(np.maximum.reduce([np.abs(c) for c in costs]),
                           max(abs(self.obj.j0), abs(self.obj.whole_j)))
        return ROUNDOFF_FACTOR * self.obj.eps_machine * scale / step

    def _central(self, evaluate: Evaluate, step: float, rows: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(D, J+, J−, crossed)``; ``crossed`` is 1 (+ side), 2 (− side), 3 (both) or 0."""
        plus, crossed_plus = evaluate(step, rows)
        minus, crossed_minus = evaluate(-step, rows)
        crossed = np.zeros(len(plus), dtype=np.int8)
        if crossed_plus is not None and crossed_minus is not None:
            crossed = crossed_plus.astype(np.int8) + 2 * crossed_minus.astype(np.int8)
        return (plus - minus) / (2 * step), plus, minus, crossed

    def _measure(self, evaluate: Evaluate, analytic: np.ndarray, *, sides: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Central differences ``(D, noise, kink, excluded, subgradient)``; ``excluded``
        measurements stay out of the verdict. Known kink crossings are re-measured on the
        side that crossed nothing (:meth:`_on_branch`); otherwise a disagreement is
        re-measured at ``ε/10`` (:meth:`_detect_kinks`), gets Richardson's truncation
        estimate ``|D(ε) − D(2ε)| / 3`` added to its noise, and climbs :meth:`_wider_steps`.
        At a kink at θ itself (``subgradient``) ``J`` is measured held on θ's branches when
        the objective records them, else (coordinates, ``sides``) :meth:`_between_sides`
        accepts a value between the one-sided derivatives; the rest is excluded.
        """
        eps = self.epsilon
        numeric, plus, minus, crossed = self._central(evaluate, eps)
        noise = self._roundoff(plus, minus, step=eps)
        kink = np.zeros(len(numeric), dtype=bool)
        j0 = self.obj.j0
        excluded = np.zeros(len(numeric), dtype=bool)
        if crossed.any():
            one_sided = np.where(crossed == 1, (j0 - minus) / eps, (plus - j0) / eps)
            numeric = np.where(crossed == 3, numeric, np.where(crossed > 0, one_sided, numeric))
            kink = crossed > 0
            noise = np.where(kink, noise * 2, noise)
            excluded = kink.copy()
            self._on_branch(evaluate, crossed, plus, minus, numeric, noise, excluded)
        suspicious = self._disagrees(numeric, analytic, noise) & ~kink
        if suspicious.any():
            rows = np.flatnonzero(suspicious)
            wide, _, _, _ = self._central(evaluate, 2 * eps, rows)
            noise[rows] += np.abs(numeric[rows] - wide) / 3
            if not self.obj.tracks_kinks:
                self._detect_kinks(evaluate, rows, numeric, noise, kink, plus, minus)
                excluded |= kink
            rows = rows[~kink[rows]]
            rows = rows[self._disagrees(numeric[rows], analytic[rows], noise[rows])]
            # a sample first: where none of it is rounding, the rest is a bug (no ladder)
            sample = np.unique(np.linspace(0, len(rows) - 1, LADDER_SAMPLE).astype(int))
            if len(rows) and self._wider_steps(evaluate, rows[sample], analytic, numeric,
                                               noise):
                self._wider_steps(evaluate, np.delete(rows, sample), analytic, numeric, noise)
        subgradient = excluded.copy()
        rows = np.flatnonzero(excluded)
        if self.obj.tracks_kinks and len(rows):
            with self.obj.on_branches():
                held, held_plus, held_minus, _ = self._central(evaluate, eps, rows)
            numeric[rows] = held
            noise[rows] = self._roundoff(held_plus, held_minus, step=eps)
            excluded[rows] = False
        elif sides and len(rows):
            inside = self._between_sides(evaluate, rows, analytic, plus, minus, numeric, noise)
            excluded[rows[inside]] = False
        return numeric, noise, kink, excluded, subgradient

    def _wider_steps(self, evaluate: Evaluate, rows: np.ndarray, analytic: np.ndarray,
                     numeric: np.ndarray, noise: np.ndarray) -> bool:
        """Re-measure disagreeing ``rows`` on the ladder ``h = ε, 10ε, …, MAX_WIDER_STEP``
        (``J`` may be a staircase, as ``−log(1 − A2)`` with a saturated sigmoid is): the
        smallest step whose ``D(h)`` agrees with ``analytic`` within ``|D(h) − D(10h)|`` plus
        its round-off, and moves less than a tenth of the disagreement, replaces the
        measurement at ``ε``; steps that cross a known kink are not used. Returns whether it
        did for any row."""
        steps = [self.epsilon]
        while steps[-1] * 10 <= MAX_WIDER_STEP * (1 + 1e-9):
            steps.append(steps[-1] * 10)
        if not len(rows) or len(steps) < 3:
            return False
        ladder, rounding = [numeric[rows]], [noise[rows]]
        usable = [np.ones(len(rows), dtype=bool)]
        for step in steps[1:]:
            values, plus, minus, crossed = self._central(evaluate, step, rows)
            ladder.append(values)
            rounding.append(self._roundoff(plus, minus, step=step))
            usable.append(crossed == 0)
        pending = np.ones(len(rows), dtype=bool)
        at_epsilon = np.abs(numeric[rows] - analytic[rows])
        for k in range(len(steps) - 1):
            spread = np.abs(ladder[k] - ladder[k + 1]) + rounding[k]
            # a measurement ten times as precise as the disagreement it explains: a ladder
            # that crosses kinks moves as much as the difference and explains nothing
            agrees = (pending & usable[k] & usable[k + 1] & (spread <= at_epsilon / 10)
                      & ~self._disagrees(ladder[k], analytic[rows], spread))
            numeric[rows[agrees]] = ladder[k][agrees]
            noise[rows[agrees]] = spread[agrees]
            pending &= ~agrees
        return not pending.all()

    def _between_sides(self, evaluate: Evaluate, rows: np.ndarray, analytic: np.ndarray,
                       plus: np.ndarray, minus: np.ndarray, numeric: np.ndarray,
                       noise: np.ndarray) -> np.ndarray:
        """At a kink at θ a value between the one-sided derivatives (first and second order,
        each side) is a valid subgradient (``|w|'(0) = 0`` is one): where ``analytic`` lies
        between them (within the noise) the measurement becomes ``analytic`` and the mask
        returned is True. Outside, several units at their kinks may still make it valid, so
        the caller leaves it out rather than failing it."""
        eps, j0 = self.epsilon, self.obj.j0
        near_plus, near_minus = plus[rows], minus[rows]
        plus_slope, plus_noise = self._second_order(1.0, near_plus, evaluate(2 * eps, rows)[0])
        minus_slope, minus_noise = self._second_order(-1.0, near_minus,
                                                      evaluate(-2 * eps, rows)[0])
        slopes = np.stack([(near_plus - j0) / eps, plus_slope,
                           (j0 - near_minus) / eps, minus_slope])
        nearest = np.clip(analytic[rows], slopes.min(axis=0), slopes.max(axis=0))
        side_noise = np.maximum(plus_noise, minus_noise)
        inside = ~self._disagrees(nearest, analytic[rows], side_noise)
        numeric[rows[inside]] = nearest[inside]
        noise[rows[inside]] = side_noise[inside]
        return inside

    def _on_branch(self, evaluate: Evaluate, crossed: np.ndarray, plus: np.ndarray,
                   minus: np.ndarray, numeric: np.ndarray, noise: np.ndarray,
                   excluded: np.ndarray) -> None:
        """Re-measure known crossings on the side that crossed nothing (every unit keeps θ's
        branch, the one backpropagation differentiates) with :meth:`_second_order`; where
        ``2sε`` crosses too, the measurement stays excluded."""
        for side, code, near in ((1.0, 2, plus), (-1.0, 1, minus)):
            rows = np.flatnonzero(crossed == code)  # code 2: the − side crossed; use the +
            if not len(rows):
                continue
            far, far_crossed = evaluate(2 * side * self.epsilon, rows)
            clean = np.zeros(len(rows), dtype=bool) if far_crossed is None else ~far_crossed
            rows, far = rows[clean], far[clean]
            numeric[rows], noise[rows] = self._second_order(side, near[rows], far)
            excluded[rows] = False

    def _second_order(self, side: float, near: np.ndarray, far: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """The one-sided derivative ``(−3 J(θ) + 4 J(θ+sε) − J(θ+2sε)) / 2sε`` on the side
        ``s = ±1`` from ``near = J(θ+sε)`` and ``far = J(θ+2sε)``, and its round-off:
        ``(3 + 4 + 1)/2`` = 4 times a single evaluation's over ``ε``."""
        eps, j0 = self.epsilon, self.obj.j0
        return ((-3 * j0 + 4 * near - far) / (2 * side * eps),
                4 * self._roundoff(near, far, step=eps))

    def _detect_kinks(self, evaluate: Evaluate, rows: np.ndarray, numeric: np.ndarray,
                      noise: np.ndarray, kink: np.ndarray, plus: np.ndarray,
                      minus: np.ndarray) -> None:
        eps, j0 = self.epsilon, self.obj.j0
        gap = np.abs((plus[rows] - j0) - (j0 - minus[rows])) / eps
        small, small_plus, small_minus, _ = self._central(evaluate, eps / 10, rows)
        small_gap = np.abs((small_plus - j0) - (j0 - small_minus)) / (eps / 10)
        small_noise = self._roundoff(small_plus, small_minus, step=eps / 10)
        # The gap between one-sided slopes shrinks ×10 with ε/10 on a smooth function, stays
        # at a kink at θ, vanishes once ε/10 no longer reaches a crossed kink; else: a kink.
        has_kink = gap > 10 * noise[rows]
        smooth = np.abs(small_gap - gap / 10) <= 0.03 * gap + 10 * small_noise
        crossed_only = has_kink & (small_gap < 0.02 * gap + 10 * small_noise)
        numeric[rows[crossed_only]] = small[crossed_only]
        noise[rows[crossed_only]] = small_noise[crossed_only]
        kink[rows[has_kink & ~crossed_only & ~smooth]] = True

    def _disagrees(self, numeric: np.ndarray, analytic: np.ndarray,
                   noise: np.ndarray) -> np.ndarray:
        error = np.abs(numeric - analytic)
        scale = np.abs(numeric) + np.abs(analytic)
        return (error > NOISE_MARGIN * noise) & (error > self.bands[0] * scale)

    def _stratified(self, slot: Slot) -> np.ndarray:
        """One coordinate from each of ``samples`` contiguous strata, without replacement."""
        size = slot.stop - slot.start
        edges = np.linspace(0, size, self.samples + 1).astype(int)
        return np.array([self.rng.integers(lo, hi) for lo, hi in itertools.pairwise(edges)])

    def _probe(self, slot: Slot, support: np.ndarray, count: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``count`` random ±1 probes on ``support``: ``(D, g·u, noise, kink, excluded)``
        (a probe through a kink at θ is excluded: it moves many units at once)."""
        size = slot.stop - slot.start
        directions = np.zeros((count, size))
        directions[:, support] = self.rng.choice((-1.0, 1.0), size=(count, len(support)))
        analytic = directions @ self.obj.analytic[slot.start : slot.stop]
        evaluate = self._evaluator(self.obj.direction_costs, slot, directions)
        numeric, noise, kink, excluded, _ = self._measure(evaluate, analytic)
        return numeric, analytic, noise, kink, excluded

    @staticmethod
    def _evaluator(costs: Callable[[Slot, np.ndarray, float], tuple[np.ndarray, np.ndarray | None]],
                   slot: Slot, moves: np.ndarray) -> Evaluate:
        """``costs`` at ``moves[rows]`` (coordinates or directions; all when rows is None)."""
        return lambda step, rows: costs(slot, moves if rows is None else moves[rows], step)

    def block(self, slot: Slot) -> tuple[BlockReport, Measurements, Measurements]:
        coords, probes = Measurements(), Measurements()
        size = slot.stop - slot.start
        small = size <= self.samples
        if self.mode == "full" or small:
            indices = np.arange(size)
        else:
            indices = self._stratified(slot) if self.mode == "sampled" else np.arange(0)
        if len(indices):
            coords.add(*self._measure_coordinates(slot, indices))
        # sampled: guard probes, so a single wrong entry cannot hide between the samples
        count = 0 if self.mode == "full" or (self.mode == "sampled" and small) else self.probes
        if count:
            support = np.arange(size)
            numeric, analytic, noise, kink, excluded = self._probe(slot, support, count)
            probes.add(numeric, analytic, noise, np.full(count, -1), kink, excluded,
                       np.zeros(count, dtype=bool))
            # A probe moves every coordinate of the block, so one unit at a kink can spoil
            # it (it is left out of the verdict), and a probe along which J is flat (a
            # softmax bias along (1, …, 1)) says nothing: measure coordinates instead.
            silent = np.maximum(np.abs(numeric), np.abs(analytic)) <= NOISE_MARGIN * noise
            if (excluded.any() or silent.all()) and not len(indices):
                coords.add(*self._measure_coordinates(slot, self._stratified(slot)))
        report = self._judge_block(slot, coords, probes)
        return report, coords, probes

    def _measure_coordinates(self, slot: Slot, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """``Measurements.add`` arguments for block-local ``indices``."""
        analytic = self.obj.analytic[slot.start + indices]
        evaluate = self._evaluator(self.obj.coordinate_costs, slot, indices)
        numeric, noise, kink, excluded, subgradient = self._measure(evaluate, analytic,
                                                                    sides=True)
        return numeric, analytic, noise, indices, kink, excluded, subgradient

    def _judge_block(self, slot: Slot, coords: Measurements,
                     probes: Measurements) -> BlockReport:
        parts = [m for m in (coords, probes) if m.numeric]
        worst_part, difference, noise = self._worst_part(parts)
        if any(m.informative() for m in parts):
            verdict = judge(difference, noise, self.bands)
        elif parts and all(all(m.excluded) for m in parts):
            # every measurement was left out (kinks): nothing shows the gradient is small,
            # so the block is not judged rather than called uninformative
            verdict = INCONCLUSIVE
        else:
            verdict = UNINFORMATIVE
        # coordinates at a kink whose analytic value lies between the one-sided derivatives
        at_kink = np.array(coords.subgradient, dtype=bool)
        agrees = ~self._disagrees(np.array(coords.numeric), np.array(coords.analytic),
                                  np.array(coords.noise))
        report = BlockReport(
            name=slot.name, shape=slot.shape, difference=difference, verdict=verdict,
            noise=noise, checked=len(coords.numeric) + len(probes.numeric),
            kinks=int(np.sum(coords.kink) + np.sum(probes.kink)),
            subgradients=int(np.sum(at_kink & agrees)))
        if verdict == WORRY and parts:  # an inconclusive ratio is noise: name nothing
            numeric, analytic, _ = parts[worst_part].arrays()
            if np.all(np.isfinite(numeric)):
                report.finding = (classify_scale(numeric, analytic, self.obj.batch_size)
                                  or self._transposed(slot, coords))
            else:
                report.finding = Finding("grad_numeric_not_finite")
        report.worst = self._worst_entries(slot, coords.index, coords.analytic, coords.numeric,
                                           coords.kink)
        if verdict == WORRY and self.mode != "full" and not report.finding:
            report.worst = self._localize(slot) or report.worst
        return report

    def _transposed(self, slot: Slot, coords: Measurements) -> Finding | None:
        """Name ``analytic = numericᵀ`` for a square matrix measured entry by entry: the
        shape check cannot see a transposed ``dW`` when ``W`` is square."""
        shape = slot.shape
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 2:
            return None
        size = slot.stop - slot.start
        numeric, analytic = np.full(size, np.nan), np.full(size, np.nan)
        index = np.asarray(coords.index, dtype=np.intp)
        numeric[index], analytic[index] = coords.numeric, coords.analytic
        if np.isnan(numeric).any():  # not every entry measured
            return None
        transposed = numeric.reshape(shape).T.ravel()
        if relative_difference(transposed, analytic) >= self.bands[0]:
            return None
        return Finding("grad_transposed")

    def _worst_part(self, parts: list[Measurements]) -> tuple[int, float, float]:
        """``(index, difference, noise)`` of the part (coordinates, probes) with the largest
        difference among those the noise does not swamp (any part when all are swamped)."""
        if not parts:
            return 0, 0.0, 0.0
        arrays = [m.arrays() for m in parts]
        differences = [relative_difference(numeric, analytic) for numeric, analytic, _ in arrays]
        noises = [_norm_ratio(noise, numeric, analytic) for numeric, analytic, noise in arrays]
        verdicts = [judge(d, n, self.bands) for d, n in zip(differences, noises, strict=True)]
        pool = [i for i, v in enumerate(verdicts) if v != INCONCLUSIVE] or range(len(parts))
        worst = max(pool, key=lambda i: differences[i])
        return worst, differences[worst], noises[worst]

    def _worst_entries(self, slot: Slot, index: Any, analytic: Any, numeric: Any,
                       kink: Any) -> list[Entry]:
        """The ``n_worst`` coordinates (block-local ``index``) with the largest error."""
        error = np.abs(np.asarray(numeric, dtype=float) - np.asarray(analytic, dtype=float))
        return [Entry(slot.name, tuple(int(j) for j in np.unravel_index(index[i], slot.shape)),
                      float(analytic[i]), float(numeric[i]), bool(kink[i]))
                for i in np.argsort(-error, kind="stable")[: self.n_worst]]

    def _localize(self, slot: Slot) -> list[Entry]:
        """Bisect the block with random-sign probes to the coordinates that disagree, then
        confirm them coordinate-wise (central differences)."""
        pending = [np.arange(slot.stop - slot.start)]
        found: list[int] = []
        budget = 64 * int(np.log2(slot.stop - slot.start + 1) + 1)
        probes = 0
        while pending and len(found) < MAX_LOCALIZED and probes < budget:
            support = pending.pop()
            if len(support) == 1:
                found.append(int(support[0]))
                continue
            for half in (support[: len(support) // 2], support[len(support) // 2 :]):
                numeric, analytic, noise, _, excluded = self._probe(slot, half, 1)
                probes += 1
                if not excluded[0] and self._disagrees(numeric, analytic, noise)[0]:
                    pending.append(half)
        if not found:
            return []
        numeric, analytic, _, indices, kink, _, _ = self._measure_coordinates(slot,
                                                                               np.array(found))
        return self._worst_entries(slot, indices, analytic, numeric, kink)

    def run(self) -> GradcheckReport:
        start = time.perf_counter()
        blocks: dict[str, BlockReport] = {}
        all_coords, all_probes = Measurements(), Measurements()
        broken = self._broken_blocks()
        for slot in self.obj.layout:
            if slot.name in broken:
                blocks[slot.name] = BlockReport(slot.name, slot.shape, 1.0, WORRY,
                                                finding=broken[slot.name])
                continue
            blocks[slot.name], coords, probes = self.block(slot)
            all_coords.extend(coords)
            all_probes.extend(probes)
        parts = [m for m in (all_coords, all_probes) if m.numeric]
        _, difference, noise = self._worst_part(parts)
        verdict = combine([block.verdict for block in blocks.values()])
        if broken:
            difference = 1.0
        report = GradcheckReport(
            difference=difference, verdict=verdict, blocks=blocks, mode=self.mode,
            epsilon=self.epsilon, bands=self.bands, noise=noise)
        kinks = sum(block.kinks for block in blocks.values())
        if kinks:
            report.notes.append(Finding("grad_kinks", {
                "kinks": kinks, "accepted": sum(block.subgradients for block in blocks.values()),
                "held": self.obj.tracks_kinks,
                "left_out": int(np.sum(all_coords.excluded) + np.sum(all_probes.excluded))}))
        unsure = [b for b in blocks.values() if b.verdict == INCONCLUSIVE]
        flat = not any(np.any(m.numeric) or np.any(m.analytic) for m in parts)
        if verdict == UNINFORMATIVE and flat:
            report.notes.append(Finding("grad_flat"))
        elif unsure or verdict == UNINFORMATIVE:
            report.notes.append(self._noise(max([noise] + [b.noise for b in unsure]), verdict))
        for block in blocks.values():
            if block.finding and block.failed:
                report.findings.append(Finding("grad_block", {
                    "block": block.name, "then": block.finding.code, **block.finding.values}))
        report.evaluations = self.obj.evaluations
        report.seconds = time.perf_counter() - start
        return report

    def _broken_blocks(self) -> dict[str, Finding]:
        """``{name: finding}`` of blocks whose analytic gradient cannot be compared: the
        wrong shape, or values that are not finite (they fail without being measured)."""
        broken = dict(getattr(self.obj, "shape_errors", {}))
        for slot in self.obj.layout:
            values = self.obj.analytic[slot.start : slot.stop]
            bad = ~np.isfinite(values)
            if slot.name not in broken and bad.any():
                first = np.unravel_index(int(np.argmax(bad)), slot.shape)
                broken[slot.name] = Finding("grad_not_finite", {
                    "count": int(bad.sum()), "value": float(values[np.argmax(bad)]),
                    "index": tuple(int(i) for i in first)})
        return broken

    def _noise(self, noise: float, verdict: str) -> Finding:
        """Why the noise floor left blocks (or the whole check) without a verdict, and what to
        change: round-off and truncation balance near ``h = ε_machine^(1/3)``."""
        eps_machine = self.obj.eps_machine
        step = 10.0 ** np.floor(np.log10(np.cbrt(eps_machine)))
        fix = ("smaller_epsilon" if self.epsilon > 10 * step else
               "larger_epsilon" if self.epsilon < step else "larger_gradients")
        return Finding("grad_noise", {
            "verdict": verdict, "noise": noise, "fix": fix, "step": float(step),
            "epsilon": self.epsilon, "float64": eps_machine > np.finfo(np.float64).eps})


def combine(verdicts: list[str]) -> str:
    """The check's verdict from its blocks': any worry fails it; otherwise the worst verdict
    of the blocks that could be judged; "inconclusive" or "uninformative" when none could."""
    for verdict in (WORRY, LOOK_CLOSER, GREAT, INCONCLUSIVE):
        if verdict in verdicts:
            return verdict
    return UNINFORMATIVE


def judge(difference: float, noise: float, bands: tuple[float, float] = DEFAULT_BANDS) -> str:
    """The notes' band, unless the noise floor explains a "worry" difference: then "look
    closer" while the noise itself is tolerable, "inconclusive" when it is not."""
    verdict = band(difference, bands)
    if verdict != WORRY or not difference <= NOISE_MARGIN * noise:  # NaN: no excuse
        return verdict
    return INCONCLUSIVE if band(noise, bands) == WORRY else LOOK_CLOSER


NAMED_SCALES = ((0.0, "grad_missing"), (-1.0, "grad_flipped"), (2.0, "grad_doubled"),
                (0.5, "grad_halved"))


def classify_scale(numeric: np.ndarray, analytic: np.ndarray, m: int | None) -> Finding | None:
    """Name a pure scale error ``analytic = c × numeric``, or return None when it is not one."""
    if not np.any(numeric):
        return Finding("grad_zero_numeric") if np.any(analytic) else None
    # fit analytic ≈ c × numeric on both divided by their largest magnitude (no overflow)
    analytic_scale, numeric_scale = np.max(np.abs(analytic)), np.max(np.abs(numeric))
    if not analytic_scale:
        return Finding(NAMED_SCALES[0][1])
    a, n = analytic / analytic_scale, numeric / numeric_scale
    fitted = float(a @ n / (n @ n))
    residual = np.linalg.norm(a - fitted * n)
    if residual > 1e-3 * (np.linalg.norm(a) + abs(fitted) * np.linalg.norm(n)):
        return None
    c = fitted * float(analytic_scale / numeric_scale)
    named = list(NAMED_SCALES)
    if m and m > 2:
        named += [(float(m), "grad_missing_m"), (1.0 / m, "grad_extra_m")]
    for value, code in named:
        if abs(c - value) <= 0.02 * max(abs(value), 1e-2) + (1e-3 if value == 0 else 0):
            return Finding(code, {"m": m})
    # never print a failing 1.0002 as "1"
    return Finding("grad_scale", {"c": c, "digits": 4 if abs(c - 1) >= 1e-3 else 7})


def check_options(where: str, mode: str, epsilon: float, samples: int, probes: int,
                  bands: tuple[float, float], worst: int) -> None:
    """Refuse options :func:`check` and ``check_model`` cannot use."""
    choice(where, "mode", mode, MODES)
    integer(where, "worst", worst, 0, "an integer >= 0 (entries listed per block)")
    real(where, "epsilon", epsilon, "a number in (0, 1)", lambda v: 0 < v < 1)
    positive_int(where, "samples", samples)
    positive_int(where, "probes", probes)
    if len(bands) != 2 or not 0 < bands[0] < bands[1]:
        raise fail(where, "bands", "(great_below, worry_from) with 0 < great < worry", bands)


def check(
    fn: Function, params: Mapping[str, Any], epsilon: float = 1e-7, *, mode: str = "full",
    samples: int = 16, probes: int = 4, bands: tuple[float, float] = DEFAULT_BANDS,
    seed: int = 0, worst: int = 5, batch_size: int | None = None,
) -> GradcheckReport:
    """Check the gradients of ``fn(params) -> (cost, grads)`` against central differences.

    ``params`` is a dict of arrays of any shapes (0-d too); ``grads`` must have the same
    keys and shapes. Parameters are promoted to float64 (the report says so); ``fn`` must be
    deterministic (checked three times) and must not modify its input.

    ``fn`` may return the terms of ``J`` separately, ``{"data": (cost, grads), "l2": (cost,
    grads)}`` (each term's ``grads`` holding the blocks it touches): ``J`` is checked as their
    sum, then each term on its own (``report.terms``), so a wrong penalty gradient is named.

    ``mode``: ``"full"`` measures every coordinate (the notes' algorithm); ``"sampled"``
    ``samples`` coordinates per block (stratified, seeded) plus ``probes`` random-direction
    guard probes; ``"directional"`` compares ``g·u`` with the central difference along
    ``probes`` random ±1 directions per block. A failing block is classified (a pure scale
    error such as ×2 or a missing 1/m, ``m`` being ``batch_size``) or, in the cheap modes,
    bisected down to the wrong coordinates.

    Example (the notes' ``J(θ) = θ·x``)::

        >>> report = check(lambda p: (p["theta"] * 2.0, {"theta": 2.0}), {"theta": 4.0})
        >>> report.verdict
        'great'
    """
    where = "check"
    check_options(where, mode, epsilon, samples, probes, bands, worst)
    if batch_size is not None:
        positive_int(where, "batch_size", batch_size)

    def run(checked: FunctionObjective) -> GradcheckReport:
        checked.batch_size = batch_size
        return Checker(checked, mode=mode, epsilon=epsilon, samples=samples, probes=probes,
                       bands=bands, seed=seed, n_worst=worst).run()

    objective = FunctionObjective(fn, params)
    report = run(objective)
    if objective.terms:
        diagnose_terms(report, {term: run(term_of(objective, FunctionObjective(
            fn, params, term=term, cache=objective.cache))) for term in objective.terms})
    report.notes[:0] = objective.notes
    if objective.cost_dtype != np.float64:  # shown by the dtype fn returns, or by J's values
        evidence = ("values" if objective.cost_dtype != objective.returned_dtype else
                    "term" if objective.terms else "cost")
        report.notes.append(Finding("grad_cost_dtype", {"dtype": objective.cost_dtype.name,
                                                        "evidence": evidence}))
    # float32 parameters: their own gradients against the float64 ones (precision, not a bug)
    low = {d.name for d in objective.input_dtypes.values() if d.kind == "f" and d.itemsize < 8}
    if low:
        own = objective.gradients_at({n: np.asarray(v) for n, v in params.items()})
        report.notes.append(precision_note(low, relative_difference(own, objective.analytic)))
    return report


TermObjective = TypeVar("TermObjective", bound=Objective)


def term_of(whole: Objective, term: TermObjective) -> TermObjective:
    """``term``'s objective (one term of ``whole``'s J), measured at the resolution of the
    whole J's check (:attr:`Objective.whole_j`)."""
    term.whole_j = whole.j0
    return term


def diagnose_terms(report: GradcheckReport, terms: dict[str, GradcheckReport]) -> None:
    """Record each term's own check in ``report.terms`` and name a term whose gradient is
    wrong; the check fails when one does, even if the sum hides it below the bands."""
    report.terms = terms
    for term, part in terms.items():
        if part.failed:
            report.findings.insert(0, Finding("grad_term", {
                "term": TERM_NAMES.get(term, f"{term!r} term"), "difference": part.difference,
                "findings": [{"code": f.code, "values": f.values} for f in part.findings]}))
            report.verdict = WORRY


def precision_note(dtypes: Iterable[str], gap: float) -> Finding:
    """The gap between gradients computed in ``dtypes`` and the float64 ones, called rounding
    up to ``√ε`` of the coarsest of ``dtypes``."""
    dtypes = set(dtypes)
    names = ", ".join(sorted(dtypes))
    if not np.isfinite(gap):
        return Finding("grad_precision:not_finite", {"dtypes": names})
    root = np.sqrt(max(2.0**-7 if name == "bfloat16" else float(np.finfo(np.dtype(name)).eps)
                       for name in dtypes))
    return Finding("grad_precision:rounding" if gap <= root else "grad_precision:beyond",
                   {"dtypes": names, "gap": gap, "root": root})
