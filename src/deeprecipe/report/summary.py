"""``summary.json``: the run's numbers for machines (CI, the automated recipe, notebooks),
as plain JSON types (:func:`jsonable`). Beside the format's stamp, its keys are those of
:func:`summary_dict`: the :class:`~deeprecipe.run.result.RunResult` read into
``headline``, ``data``, ``comparisons`` (without the per-feature lists), ``diagnosis``,
``gradcheck`` (per point, with one entry per block), ``early_stopping``, ``gradient_flow``,
``notes``, …; every finding (advice, remarks, notes, a block's finding) is
``{code, values, text}``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._version import __version__
from ..findings import Finding
from ..run.files import SUMMARY
from .verdict import headline

if TYPE_CHECKING:
    from ..gradcheck import GradcheckReport
    from ..run.result import RunResult


def summary_dict(result: RunResult) -> dict[str, Any]:
    """Everything ``summary.json`` holds, as JSON-serializable Python objects."""
    return jsonable(SUMMARY.stamp({
        "deeprecipe_version": __version__,
        "name": result.name,
        "headline": dataclasses.asdict(headline(result)),
        "config": result.config,
        "data": dataclasses.asdict(result.data),
        "comparisons": {name: {key: value for key, value in comparison.to_dict().items()
                               if key != "features"}
                        for name, comparison in result.comparisons.items()},
        "model": {"summary": result.model_summary,
                  "n_parameters": None if result.model is None else result.model.n_parameters},
        "errors": result.errors,
        "bayes_error": result.bayes_error,
        "diagnosis": None if result.diagnosis is None else result.diagnosis.to_dict(),
        "gradcheck": {point: _gradcheck(report) for point, report in result.gradchecks.items()},
        "early_stopping": {"best_epoch": result.best_epoch, "stopped_epoch": result.stopped_epoch,
                           "stop_reason": result.stop_reason, "epochs_run": result.epochs_run},
        "history": result.history,
        "gradient_flow": {"verdict": None if result.flow is None else result.flow.verdict,
                          "named": [] if result.flow is None else result.flow.named,
                          "epochs": result.grad_norm_epochs, "grad_norms": result.grad_norms},
        "confusion": result.confusion,
        "seconds": result.seconds,
        "notes": result.notes,
    }))


def _gradcheck(report: GradcheckReport) -> dict[str, Any]:
    return {
        "difference": report.difference, "verdict": report.verdict, "passed": report.passed,
        "failed": report.failed,  # a block reads worry; neither: no verdict
        "mode": report.mode, "epsilon": report.epsilon,
        "blocks": {name: {"shape": block.shape, "difference": block.difference,
                          "verdict": block.verdict, "passed": block.passed,
                          "uninformative": block.uninformative, "checked": block.checked,
                          "finding": block.finding} for name, block in report.blocks.items()},
        "terms": {name: {"difference": term.difference, "verdict": term.verdict}
                  for name, term in report.terms.items()},
        "findings": report.findings, "notes": report.notes, "seconds": report.seconds,
    }


def jsonable(value: Any) -> Any:
    """``value`` in JSON types: NumPy numbers as Python numbers, tuples as lists,
    dataclasses as dicts, non-finite floats as ``None``; anything else unknown as its
    ``str``."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, Finding):
        return jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)
