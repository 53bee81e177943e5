"""The yardstick: when no human sets the Bayes error, the best dev error a few standard
learners reach on the same split is an error *known to be achievable* (:func:`fit_references`
→ :class:`Yardstick`). The Bayes error is at most that, so avoidable bias is demonstrable
only above it (:func:`~deeprecipe.diagnose` with ``bayes_error=yardstick``).

The references are scikit-learn's: a constant predictor (the floor of sense), a regularized
linear model with a small internal cross-validation, and histogram gradient boosting. They
are fitted on at most :data:`MAX_ROWS` training rows (a seeded sample above that, said in
the result) with deterministic work caps, so the same data and seed give the same yardstick
on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..findings import jsonable_fields, show_error

MAX_ROWS = 100_000  # training rows the references are fitted on (a seeded sample above)
KINDS = CONSTANT, LINEAR, BOOSTING = "constant", "linear", "boosting"


@dataclass(frozen=True)
class Reference:
    """One reference model's errors: ``kind`` (``"constant"``, ``"linear"`` or
    ``"boosting"``), ``model`` (what was fitted, for people: ``"Ridge(alpha=10)"``),
    ``train_error`` on the rows it was fitted on and ``dev_error`` on the dev part, in the
    units of the network's errors (error rate, or mean squared error of the targets given),
    and the ``seconds`` its fit took."""

    kind: str
    model: str
    train_error: float
    dev_error: float
    seconds: float


@dataclass(frozen=True)
class Yardstick:
    """The references' errors on one split. ``n_train`` rows were fitted on, of
    ``n_train_total`` (fewer: a seeded sample); ``n_dev`` dev rows measured. ``best`` is the
    reference with the lowest dev error (ties: the simpler, in :data:`KINDS` order) and
    ``error`` its dev error: the yardstick."""

    references: tuple[Reference, ...]
    n_train: int
    n_train_total: int
    n_dev: int
    regression: bool
    seconds: float

    @property
    def best(self) -> Reference:
        return min(self.references, key=lambda ref: (ref.dev_error, KINDS.index(ref.kind)))

    @property
    def error(self) -> float:
        return self.best.dev_error

    @property
    def sampled(self) -> bool:
        return self.n_train < self.n_train_total

    def headline(self) -> str:
        """``yardstick 2.92%: linear (LogisticRegression(C=1)) on dev, fitted on 1,078
        training rows``."""
        rows = f"{self.n_train:,} of {self.n_train_total:,}" if self.sampled else \
            f"{self.n_train:,}"
        return (f"yardstick {show_error(self.error, self.regression)}: {self.best.kind} "
                f"({self.best.model}) on dev, fitted on {rows} training rows")

    def to_dict(self) -> dict[str, Any]:
        return jsonable_fields(self, best=self.best.kind, error=self.error)


def fit_references(train: Any, dev: Any, *, task: str, seed: int = 0,
                   max_rows: int = MAX_ROWS) -> Yardstick:
    """Fit the reference models on ``train`` and measure them on ``dev`` (each a
    :class:`~deeprecipe.data.Part` or a pair ``(X, y)``; ``y`` class codes for a
    classification, values for a regression, in the units the network's errors use).
    ``task`` is ``"classification"`` or ``"regression"``. Above ``max_rows`` training rows
    the references see a seeded sample of that many (``seed``)."""
    raise NotImplementedError("fit_references: being built (issue 16)")
