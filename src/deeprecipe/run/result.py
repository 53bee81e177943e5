"""What one run of the main job produced: the data the report and ``summary.json`` show.

The workflow (:mod:`deeprecipe.workflow`) fills a :class:`RunResult` step by step; the
report (:mod:`deeprecipe.report`) only reads it. Everything except ``model`` and ``splits``
is plain data or one of deeprecipe's report objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from ..data import Comparison, Splits
    from ..diagnostics import Diagnosis, GradientFlow
    from ..diagnostics.galleries import Galleries
    from ..diagnostics.views import Views
    from ..diagnostics.yardstick import Yardstick
    from ..findings import Finding
    from ..gradcheck import GradcheckReport
    from ..model import Sequential


@dataclass
class DataSummary:
    """The data and how it was split: ``task`` is binary, multiclass or regression."""

    name: str
    task: str
    n_samples: int
    n_features: int
    classes: list[Any] | None
    image_shape: tuple[int, ...] | None
    split_sizes: dict[str, int]
    split_note: str | None = None
    notes: list[Finding] = field(default_factory=list)
    dropped_missing_target: int = 0  # rows dropped because their target was missing
    # a table's columns encoded or imputed (deeprecipe.data.encode.Encoded.columns)
    encoding: list[dict[str, Any]] = field(default_factory=list)
    dev_test_data: str | None = None  # the second source's name (dev and test come from it)


@dataclass
class RunResult:
    """Everything one ``deeprecipe run`` measured, in workflow order.

    ``comparisons``: ``{"train vs dev": Comparison, "train vs test": …}``;
    ``gradchecks``: ``{"init": GradcheckReport, "trained": …}``;
    ``history``: the History's per-epoch lists (``train_cost``, ``train_error``,
    ``dev_cost``, ``dev_error``, …); ``best_epoch`` / ``stopped_epoch`` / ``stop_reason``
    from early stopping; ``grad_norms``: ``{layer: [||dW|| per recorded epoch]}`` with
    ``grad_norm_epochs`` the epochs recorded; ``flow``: the gradient-flow reading at
    initialization (the last one recorded when there is none);
    ``errors``: ``{"train": …, "dev": …, "test": …}`` (inference mode);
    ``yardstick``: the reference models' errors (``bayes_error="auto"``; ``None`` when a
    Bayes error was given); ``bayes_error``: the one the diagnosis used (the yardstick's,
    or the one given, in the errors' units: a regression's in the target's);
    ``target_variance``: a regression's training-target variance σ² (its learning curves are
    on the standardized target: their errors × σ² are in ``errors``' units);
    ``confusion``: ``(k, k)`` counts on the dev set (rows: true class) for classifiers;
    ``views``: what the report draws that needs the model (decision regions, predictions);
    ``galleries``: image data's training images beside their augmented versions and the dev
    images the network gets wrong (``None`` for data without images).
    """

    name: str
    config: dict[str, Any]
    data: DataSummary
    model_summary: str
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    gradchecks: dict[str, GradcheckReport] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int | None = None
    stopped_epoch: int | None = None
    stop_reason: str = "max_epochs"
    grad_norms: dict[str, list[float]] = field(default_factory=dict)
    grad_norm_epochs: list[int] = field(default_factory=list)
    flow: GradientFlow | None = None
    errors: dict[str, float] = field(default_factory=dict)
    bayes_error: float = 0.0
    diagnosis: Diagnosis | None = None
    confusion: np.ndarray | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[Finding] = field(default_factory=list)
    model: Sequential | None = None
    splits: Splits | None = None
    views: Views | None = None
    galleries: Galleries | None = None
    yardstick: Yardstick | None = None
    target_variance: float | None = None

    @property
    def epochs_run(self) -> int:
        """The epochs ``history`` holds (0 without a history)."""
        return len(next(iter(self.history.values()))) if self.history else 0
