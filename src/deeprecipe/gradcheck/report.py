"""What a gradient check found: :class:`GradcheckReport`, per named block, with verdicts.

The notes' reading of the relative difference ``||dθ_approx − dθ|| / (||dθ_approx|| + ||dθ||)``
with ``ε = 1e-7``: about ``1e-7`` is great, ``1e-5`` calls for a careful look at the
components, ``1e-3`` is a worry. The verdict bands sit at the geometric midpoints,
:data:`DEFAULT_BANDS` ``= (1e-6, 1e-4)``:

================= ============================ ========
verdict           difference                   passed
================= ============================ ========
``great``         below ``1e-6``               yes
``look closer``   from ``1e-6``                yes
``worry``         from ``1e-4``                no
``inconclusive``  the noise floor forbids one  no
================= ============================ ========

Every value is labelled: *analytic* is the gradient the code under test returned (``dθ``),
*numeric* is the central difference (``dθ_approx``).
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any

GREAT, LOOK_CLOSER, WORRY, INCONCLUSIVE = "great", "look closer", "worry", "inconclusive"
DEFAULT_BANDS = (1e-6, 1e-4)
PASSING = (GREAT, LOOK_CLOSER)


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


@dataclass
class BlockReport:
    """The check of one named parameter block (``dense_1.W``)."""

    name: str
    shape: tuple[int, ...]
    difference: float
    verdict: str
    noise: float = 0.0
    checked: int = 0
    kinks: int = 0
    uninformative: bool = False
    finding: str = ""
    worst: list[Entry] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict in PASSING


@dataclass
class GradcheckReport:
    """The whole check: the notes' single difference over θ, and one :class:`BlockReport`
    per named block. ``terms`` holds the separate checks of the data term and each penalty
    (``check_model``); ``notes`` says what was converted, excluded or assumed."""

    difference: float
    verdict: str
    blocks: dict[str, BlockReport]
    mode: str
    epsilon: float
    bands: tuple[float, float] = DEFAULT_BANDS
    noise: float = 0.0
    evaluations: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    terms: dict[str, GradcheckReport] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True for great or look closer, in every block and every term."""
        parts: list[BlockReport | GradcheckReport] = [*self.blocks.values(),
                                                      *self.terms.values()]
        return self.verdict in PASSING and all(part.passed for part in parts)

    @property
    def failed_blocks(self) -> list[str]:
        return [name for name, block in self.blocks.items() if not block.passed]

    @property
    def worst(self) -> list[Entry]:
        """The worst entries of the failing blocks (of every block when none fails), largest
        error first: a passing block's near-zero errors say nothing about a bug."""
        failing = [block for block in self.blocks.values() if not block.passed]
        entries = [entry for block in failing or self.blocks.values() for entry in block.worst]
        return sorted(entries, key=lambda entry: -entry.error)

    def summary(self) -> str:
        """One line: the verdict, the difference and what is wrong."""
        state = "passed" if self.passed else "FAILED"
        line = (f"gradient check {state}: difference {self.difference:.2e} ({self.verdict}), "
                f"{self.mode} mode, epsilon {self.epsilon:g}")
        if self.failed_blocks:  # with each one's verdict: worry, or inconclusive (noise)
            line += "; failing blocks: " + ", ".join(
                f"{name} ({self.blocks[name].verdict})" for name in self.failed_blocks)
        return line

    def table(self, width: int = 110) -> str:
        """A table for people (rendered by rich, returned as text): one row per block with
        its worst entry, the analytic (backprop) and numeric (central difference) values
        side by side."""
        from rich.console import Console
        from rich.table import Table

        table = Table(title=self.summary(), title_justify="left")
        for column in ("block", "shape", "difference", "verdict", "worst at", "analytic",
                       "numeric", "finding"):
            table.add_column(column, overflow="fold",
                             justify="right" if column in ("analytic", "numeric") else "left")
        for block in self.blocks.values():
            worst = block.worst[0] if block.worst else None
            table.add_row(
                block.name, "×".join(map(str, block.shape)) or "scalar",
                f"{block.difference:.2e}", block.verdict,
                f"[{', '.join(map(str, worst.index))}]" if worst else "",
                f"{worst.analytic:.6g}" if worst else "", f"{worst.numeric:.6g}" if worst else "",
                block.finding,
            )
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
        console.print(table)
        for line in [*self.findings, *self.notes]:
            console.print(f"- {line}", highlight=False)
        for name, term in self.terms.items():
            console.print(f"- {name} term: difference {term.difference:.2e} ({term.verdict})"
                          + (f"; {'; '.join(term.findings)}" if term.findings else ""),
                          highlight=False)
        return buffer.getvalue()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data

    def to_json(self) -> str:
        """The report as JSON (for CI)."""
        return json.dumps(self.to_dict(), indent=2, default=float)

    def __str__(self) -> str:
        return self.table()
