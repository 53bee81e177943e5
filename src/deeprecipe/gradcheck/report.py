"""What a gradient check found: :class:`GradcheckReport`, one verdict per named block (the
bands :data:`DEFAULT_BANDS` sit between the notes' ``1e-7``, ``1e-5`` and ``1e-3``).
*Analytic* is the gradient under test, *numeric* the central difference.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding, jsonable_fields

GREAT, LOOK_CLOSER, WORRY, INCONCLUSIVE = "great", "look closer", "worry", "inconclusive"
UNINFORMATIVE = "uninformative"
DEFAULT_BANDS = (1e-6, 1e-4)
PASSING = (GREAT, LOOK_CLOSER)
TERM_NAMES = {"data": "data term", "l2": "L2", "l1": "L1"}  # the terms of J, as text names them


def band(difference: float, bands: tuple[float, float] = DEFAULT_BANDS) -> str:
    """The notes' verdict for a relative difference."""
    if difference < bands[0]:
        return GREAT
    return LOOK_CLOSER if difference < bands[1] else WORRY


@dataclass(frozen=True)
class Entry:
    """One checked coordinate of a block: its index in the block's own shape."""

    name: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    kink: bool = False

    @property
    def error(self) -> float:
        return abs(self.analytic - self.numeric)

    def __str__(self) -> str:
        mark = " (kink)" if self.kink else ""
        return (f"{self.name}[{', '.join(map(str, self.index))}]: analytic {self.analytic:.6g}, "
                f"numeric {self.numeric:.6g}{mark}")


class Verdict:
    """``passed``, ``failed`` and ``uninformative`` read from ``verdict`` (neither passed nor
    failed: inconclusive or uninformative)."""

    verdict: str

    @property
    def passed(self) -> bool:
        """Great or look closer: judged, and the gradients agree."""
        return self.verdict in PASSING

    @property
    def failed(self) -> bool:
        """Worry: the analytic gradient disagrees beyond the noise."""
        return self.verdict == WORRY

    @property
    def uninformative(self) -> bool:
        """Both gradients within the noise floor: nothing to judge, nothing failed."""
        return self.verdict == UNINFORMATIVE

    def to_dict(self) -> dict[str, Any]:
        """The fields and ``passed``, ``failed``, ``uninformative`` in JSON types (findings
        as ``{code, values, text}``, as in ``summary.json``)."""
        return jsonable_fields(self, passed=self.passed, failed=self.failed,
                               uninformative=self.uninformative)


@dataclass
class BlockReport(Verdict):
    """The check of one named parameter block (``dense_1.W``)."""

    name: str
    shape: tuple[int, ...]
    difference: float
    verdict: str
    noise: float = 0.0
    checked: int = 0
    kinks: int = 0
    subgradients: int = 0  # coordinates at a kink, the analytic value between its sides
    finding: Finding | None = None  # what the gradient is, for a failing block
    worst: list[Entry] = field(default_factory=list)


@dataclass
class GradcheckReport(Verdict):
    """The whole check: the notes' single difference over θ, and one :class:`BlockReport`
    per named block. ``terms`` holds the separate checks of the data term and each penalty
    (``check_model``); ``notes`` (findings) say what was converted, excluded or assumed."""

    difference: float
    verdict: str
    blocks: dict[str, BlockReport]
    mode: str
    epsilon: float
    bands: tuple[float, float] = DEFAULT_BANDS
    noise: float = 0.0
    evaluations: int = 0
    seconds: float = 0.0
    notes: list[Finding] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    terms: dict[str, GradcheckReport] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if any(block.failed for block in self.blocks.values()):
            self.verdict = WORRY  # one failing block fails the check, whatever the sum says

    @property
    def failed_blocks(self) -> list[str]:
        """The blocks that read worry."""
        return self.blocks_reading(WORRY)

    @property
    def failed_terms(self) -> list[str]:
        """The terms of ``J`` (``"data"``, ``"l2"``, …) whose own check reads worry."""
        return [name for name, term in self.terms.items() if term.failed]

    def blocks_reading(self, verdict: str) -> list[str]:
        """The names of the blocks with ``verdict``."""
        return [name for name, block in self.blocks.items() if block.verdict == verdict]

    @property
    def worst(self) -> list[Entry]:
        """The worst entries of the failing blocks (of every block when none fails), largest
        error first: a passing block's near-zero errors say nothing about a bug."""
        failing = [block for block in self.blocks.values() if block.failed]
        entries = [entry for block in failing or self.blocks.values() for entry in block.worst]
        return sorted(entries, key=lambda entry: -entry.error)

    @property
    def state(self) -> str:
        """``passed``, ``FAILED`` or ``no verdict``."""
        return "passed" if self.passed else "FAILED" if self.failed else "no verdict"

    def reading(self) -> str:
        """The verdict and the block it comes from: ``great (worst block W1, 2.4e-07)``,
        ``worry in dense_2.W (3.3e-01)``, ``every block uninformative (…)``."""
        if self.failed:
            where = [f"{name} ({self.blocks[name].difference:.1e})"
                     for name in self.failed_blocks]
            text = f"worry in {', '.join(where)}" if where else "worry"
            terms = [f"the {TERM_NAMES.get(t, t).removesuffix(' term')} term's"
                     for t in self.failed_terms]
            return text + (f"; wrong gradient: {', '.join(terms)}" if terms else "")
        if self.passed:
            judged = [b for b in self.blocks.values() if b.passed]
            worst = max(judged, key=lambda b: b.difference)
            return f"{self.verdict} (worst block {worst.name}, {worst.difference:.1e})"
        if self.verdict == INCONCLUSIVE:
            rest = ", the rest uninformative" if self.blocks_reading(UNINFORMATIVE) else ""
            return ("inconclusive in " + ", ".join(self.blocks_reading(INCONCLUSIVE))
                    + " (the noise floor could explain the difference)" + rest)
        return ("every block uninformative (its gradient is within the finite-difference "
                "noise floor)")

    def headline(self) -> str:
        """``passed: great (…)``, ``FAILED: worry in dense_2.W (…)`` or ``no verdict: …``:
        the state and the verdict it comes from, never two that disagree."""
        return f"{self.state}: {self.reading()}"

    def summary(self) -> str:
        """One line: the headline, the difference over θ, and the blocks not judged."""
        line = (f"gradient check {self.headline()}; difference over θ {self.difference:.2e}, "
                f"{self.mode} mode, epsilon {self.epsilon:g}")
        if self.passed or self.failed:
            for verdict in (INCONCLUSIVE, UNINFORMATIVE):
                names = self.blocks_reading(verdict)
                if names:
                    line += f"; {verdict}: {', '.join(names)}"
        return line

    def table(self, width: int = 110) -> str:
        """A table for people (rendered by rich, returned as text): one row per block with
        its worst entry."""
        from rich.console import Console  # imported on first use: import stays fast
        from rich.table import Table

        table = Table(title=self.summary(), title_justify="left")
        for column in ("block", "shape", "difference", "verdict", "worst at", "analytic",
                       "numeric", "finding"):
            table.add_column(column, overflow="fold",
                             justify="right" if column in ("analytic", "numeric") else "left")
        for block in self.blocks.values():
            worst = block.worst[0] if block.worst else None
            cells = ("", "", "") if worst is None else (
                f"[{', '.join(map(str, worst.index))}]", f"{worst.analytic:.6g}",
                f"{worst.numeric:.6g}")
            table.add_row(block.name, "×".join(map(str, block.shape)) or "scalar",
                          f"{block.difference:.2e}", block.verdict, *cells,
                          str(block.finding or ""))
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
        console.print(table)
        for line in [*self.findings, *self.notes]:
            console.print(f"- {line}", highlight=False)
        for name, term in self.terms.items():
            console.print(f"- {name} term: difference {term.difference:.2e} ({term.verdict})"
                          + "".join(f"; {finding}" for finding in term.findings),
                          highlight=False)
        return buffer.getvalue()

    def to_json(self) -> str:
        """The report as JSON (for CI)."""
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self) -> str:
        return self.table()
