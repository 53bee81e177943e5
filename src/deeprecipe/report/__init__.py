"""The run's report: plots (matplotlib), one self-contained HTML page (Jinja2) and a JSON
summary, answering "is my network healthy, and what should I do next?".

::

    from deeprecipe.report import write_report

    paths = write_report(result, Path("runs/digits"))   # result: a RunResult
    paths["report"]    # runs/digits/report.html (plots embedded: readable offline)
    paths["summary"]   # runs/digits/summary.json
    paths["learning_curves"], paths["gradcheck"], …       # each plot as PNG

``summary.json`` holds the run's numbers for machines (CI, the automated recipe, notebooks)
as plain JSON types; every finding (advice, remarks, notes, a block's finding) is
``{code, values, text}``. Modules: :mod:`.plots` (the figures), :mod:`.verdict` (the
headline), :mod:`.html` (the Jinja2 pages). Every file is written atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..findings import jsonable
from ..run.files import SUMMARY, atomic_write
from . import galleries, plots
from .html import data_uri, render, render_report
from .style import png_bytes
from .verdict import Headline, bayes_label, headline

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..run.result import RunResult

REPORT_FILE, SUMMARY_FILE = "report.html", "summary.json"

__all__ = ["REPORT_FILE", "SUMMARY_FILE", "Headline", "figures", "headline", "jsonable",
           "render", "summary_dict", "write_page", "write_report"]


def figures(result: RunResult) -> dict[str, Figure]:
    """The plots ``result`` has data for, by file name (without ``.png``):
    ``learning_curves``, ``gradcheck``, ``gradient_norms``, ``confusion`` (classifiers),
    ``predictions`` (a regression of one target) and ``decision_boundary`` (classifiers with
    2 features), both from ``result.views``, and for image data the galleries
    ``augmentation`` (with augmentation on) and ``mistakes`` (from ``result.galleries``)."""
    drawn: dict[str, Figure] = {}
    regression = result.data.task == "regression"
    if result.history:
        bayes, label = _bayes_line(result, regression)
        drawn["learning_curves"] = plots.learning_curves(
            result.history, best_epoch=result.best_epoch, stopped_epoch=result.stopped_epoch,
            bayes_error=bayes, regression=regression, bayes_label=label)
    if result.gradchecks:
        drawn["gradcheck"] = plots.gradcheck_bars(result.gradchecks)
    if result.grad_norms:
        drawn["gradient_norms"] = plots.gradient_norms(
            result.grad_norms, result.grad_norm_epochs or None,
            verdict=None if result.flow is None else result.flow.verdict)
    if result.confusion is not None and not regression:
        drawn["confusion"] = plots.confusion_matrix(result.confusion, result.data.classes)
    views = result.views
    if views is not None and views.predictions is not None:
        drawn["predictions"] = plots.predictions(*views.predictions)
    if views is not None and views.regions is not None:
        drawn["decision_boundary"] = plots.decision_boundary(
            views.regions, views.points, title=f"Decision boundary: {result.data.name}")
    shown = result.galleries
    if shown is not None and shown.augmented is not None:
        drawn["augmentation"] = galleries.augmented(shown.augmented)
    if shown is not None and shown.mistakes is not None:
        drawn["mistakes"] = galleries.mistakes(shown.mistakes)
    return drawn


def _bayes_line(result: RunResult, regression: bool) -> tuple[float | None, str | None]:
    """The learning curves' Bayes line and its legend (its source): a regression's curves
    are on the standardized target, so its line is ``bayes_error / σ²`` (none at 0, the
    axis, or without σ²)."""
    d = result.diagnosis
    label = None if d is None else bayes_label(d)
    if not regression:
        return result.bayes_error, label
    variance = result.target_variance
    if d is None or variance is None or not result.bayes_error:
        return None, None
    line = result.bayes_error / variance
    return line, f"{label}; {line:.3g} × the target's variance"


def write_page(folder: Path, drawn: Mapping[str, Figure],
               page: Callable[[dict[str, str]], str], summary: str) -> dict[str, Path]:
    """Write each figure as ``<name>.png``, ``page(images)`` (the figures as data URIs,
    embedded: the page reads offline) as ``report.html`` and ``summary`` as ``summary.json``
    into ``folder``, each atomically; returns ``{<figure name>: …, "report": …, "summary": …}``."""
    folder = Path(folder)
    pngs = {name: png_bytes(figure) for name, figure in drawn.items()}
    html = page({name: data_uri(png) for name, png in pngs.items()})
    files = {**{f"{name}.png": png for name, png in pngs.items()},
             REPORT_FILE: html.encode(), SUMMARY_FILE: summary.encode()}
    for name, content in files.items():
        atomic_write(folder / name, partial(Path.write_bytes, data=content))
    return {**{name: folder / f"{name}.png" for name in pngs}, "report": folder / REPORT_FILE,
            "summary": folder / SUMMARY_FILE}


def write_report(result: RunResult, folder: Path) -> dict[str, Path]:
    """Write ``report.html``, ``summary.json`` and each plot as PNG into ``folder``
    (created if needed). Returns ``{"report": …, "summary": …, <plot name>: …}``.

    The report only reads ``result``: what needs the model (the decision regions, the dev
    predictions) is in ``result.views`` (:func:`deeprecipe.diagnostics.views.views`).
    """
    return write_page(folder, figures(result), lambda images: render_report(result, images),
                      SUMMARY.dumps(summary_dict(result), allow_nan=False))


def summary_dict(result: RunResult) -> dict[str, Any]:
    """Everything ``summary.json`` holds, as JSON-serializable Python objects."""
    return jsonable(SUMMARY.stamp({
        "deeprecipe_version": __version__,
        "name": result.name,
        "headline": headline(result),
        "config": result.config,
        "data": result.data,
        "comparisons": {name: {key: value for key, value in comparison.to_dict().items()
                               if key != "features"}
                        for name, comparison in result.comparisons.items()},
        "model": {"summary": result.model_summary,
                  "n_parameters": None if result.model is None else result.model.n_parameters},
        "errors": result.errors,
        "bayes_error": result.bayes_error,
        "yardstick": result.yardstick,
        "diagnosis": result.diagnosis,
        "gradcheck": result.gradchecks,
        "early_stopping": {"best_epoch": result.best_epoch, "stopped_epoch": result.stopped_epoch,
                           "stop_reason": result.stop_reason, "epochs_run": result.epochs_run},
        "history": result.history,
        "gradient_flow": {"verdict": None if result.flow is None else result.flow.verdict,
                          "named": [] if result.flow is None else result.flow.named,
                          "epochs": result.grad_norm_epochs, "grad_norms": result.grad_norms},
        "confusion": result.confusion,
        "galleries": result.galleries,
        "seconds": result.seconds,
        "notes": result.notes,
    }))
