"""Gradient checking: the notes' algorithm, with per-block reports that point at the bug.

``check(fn, params)`` compares the gradients ``fn`` returns with central differences
``(J(θ+ε) − J(θ−ε)) / 2ε`` and reports the notes' relative difference
``||dθ_approx − dθ||₂ / (||dθ_approx||₂ + ||dθ||₂)`` overall and per named block.
``check_model(model, X, y)`` does the same for a :class:`~deeprecipe.Sequential`, dropout
off and regularization in, as the notes advise.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike

from .._checks import choice, fail
from ..findings import Finding
from ..model import Sequential
from .adapters import check_jax, check_torch
from .core import (
    MODES,
    Checker,
    check,
    check_options,
    diagnose_terms,
    relative_difference,
    term_of,
)
from .model import ModelObjective
from .objective import GradcheckError
from .report import (
    DEFAULT_BANDS,
    GREAT,
    INCONCLUSIVE,
    LOOK_CLOSER,
    UNINFORMATIVE,
    WORRY,
    BlockReport,
    Entry,
    GradcheckReport,
)

__all__ = [
    "DEFAULT_BANDS", "GREAT", "INCONCLUSIVE", "LOOK_CLOSER", "MODES", "UNINFORMATIVE", "WORRY",
    "BlockReport", "Entry", "GradcheckError", "GradcheckReport", "check", "check_jax",
    "check_model", "check_torch", "relative_difference",
]

DROPOUT_MODES = ("off", "fixed")
POINTS = ("current", "init", "trained")


@overload
def check_model(
    model: Sequential, X: ArrayLike, y: ArrayLike, epsilon: float = ..., *,
    points: str = ..., mode: str = ..., dropout: str = ..., samples: int = ...,
    probes: int = ..., bands: tuple[float, float] = ..., seed: int = ..., worst: int = ...,
    train_epochs: int = ...,
) -> GradcheckReport: ...


@overload
def check_model(
    model: Sequential, X: ArrayLike, y: ArrayLike, epsilon: float = ..., *,
    points: tuple[str, ...] | list[str], mode: str = ..., dropout: str = ...,
    samples: int = ..., probes: int = ..., bands: tuple[float, float] = ..., seed: int = ...,
    worst: int = ..., train_epochs: int = ...,
) -> dict[str, GradcheckReport]: ...


def check_model(
    model: Sequential, X: ArrayLike, y: ArrayLike, epsilon: float = 1e-7, *,
    points: str | tuple[str, ...] | list[str] = "current", mode: str = "full",
    dropout: str = "off", samples: int = 16, probes: int = 4,
    bands: tuple[float, float] = DEFAULT_BANDS, seed: int = 0, worst: int = 5,
    train_epochs: int = 20,
) -> GradcheckReport | dict[str, GradcheckReport]:
    """Check ``model``'s backpropagation on ``(X, y)``: the notes' ``J`` with its penalty.

    The model is copied to float64. ``dropout="off"`` (default) checks with
    ``keep_prob = 1``, as the notes advise; ``"fixed"`` keeps dropout on with the same
    masks at every evaluation (re-seeded), so a dropout backward bug shows in the blocks
    before the Dropout layer. With L2/L1 on, the data term and each penalty are also checked
    on their own (``report.terms``) and a wrong penalty gradient is named.

    ``points`` is ``"current"`` (the model as given), ``"init"`` (a fresh initialization
    from the model's config), ``"trained"`` (a copy trained ``train_epochs`` epochs on
    ``X, y``), or a tuple of them — the notes: "run at random initialization; perhaps again
    after some training" — which returns ``{point: report}`` instead of one report.
    """
    where = "check_model"
    check_options(where, mode, epsilon, samples, probes, bands, worst)
    choice(where, "dropout", dropout, DROPOUT_MODES)
    if not isinstance(model, Sequential):
        raise fail(where, "model", "a deeprecipe Sequential", model, error=TypeError)
    names = (points,) if isinstance(points, str) else tuple(points)
    for name in names:
        choice(where, "points", name, POINTS)
    model64 = model.astype("float64")
    X64, targets = model64.check_data(where, X, y)
    options = dict(mode=mode, epsilon=epsilon, samples=samples, probes=probes, bands=bands,
                   seed=seed, n_worst=worst)
    reports = {}
    for name in names:
        at = model64 if name == "current" else model64.rebuilt()
        if name == "trained":
            at.fit(X64, y, epochs=train_epochs, batch_size=min(64, len(X64)), seed=seed)
        reports[name] = _check_point(at, X64, targets, dropout, options)
        if model.dtype != np.float64:
            reports[name].notes.insert(0, Finding("grad_promoted_copy", {
                "dtype": model.dtype.name, "what": "model"}))
    return reports[names[0]] if isinstance(points, str) else reports


def _check_point(model: Sequential, X: np.ndarray, targets: np.ndarray, dropout: str,
                 options: dict[str, Any]) -> GradcheckReport:
    cache: dict[Any, Any] = {}
    terms = ("data", *model.penalties)

    def objective(which: tuple[str, ...]) -> ModelObjective:
        return ModelObjective(model, X, targets, terms=which, dropout=dropout,
                              seed=options["seed"], cache=cache)

    whole = objective(terms)
    report = Checker(whole, **options).run()
    report.notes.append(Finding(f"grad_dropout:{dropout}"))
    if len(terms) > 1:
        diagnose_terms(report, {term: Checker(term_of(whole, objective((term,))), **options).run()
                                for term in terms})
    return report
