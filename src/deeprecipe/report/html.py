"""The HTML pages: Jinja2 templates (``templates/``) filled with plain data, autoescaped
(Python never builds HTML strings). :func:`render` fills any template, :func:`render_report`
the run's ``report.html.j2``."""

from __future__ import annotations

import base64
import datetime
import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from .._version import __version__
from ..diagnostics import early_stopping_cost, show_error
from ..diagnostics.bias_variance import GIVEN, YARDSTICK, ZERO
from .plots import block_names
from .verdict import action_title, bayes_source, headline, level, stopped

if TYPE_CHECKING:
    from ..diagnostics import Diagnosis
    from ..gradcheck import GradcheckReport
    from ..run.result import RunResult

ROLES = {"train": "fitting the weights (and the standardizer's μ, σ)",
         "train_dev": "held out of the training source: variance (train-dev − train)",
         "dev": "choosing: early stopping, the diagnosis",
         "test": "the final, unbiased estimate"}


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,…``: an image the page carries inside itself."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment: package templates, autoescape on, strict undefined."""
    env = Environment(loader=PackageLoader("deeprecipe.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=lambda value: "–" if value is None else f"{value:.1%}",
                       sci=lambda value: "–" if value is None else f"{value:.1e}",
                       err=show_error, level=level, action=action_title, point=point)
    return env


def render(template: str, **context: Any) -> str:
    """Fill ``template`` (a file name in ``templates/``) with ``context``."""
    context.setdefault("version", __version__)
    context.setdefault("generated", datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    return environment().get_template(template).render(**context)


def point(name: str) -> str:
    return {"init": "at init", "trained": "after training"}.get(name, name)


def render_report(result: RunResult, images: Mapping[str, str]) -> str:
    """``report.html`` for ``result``; ``images`` maps plot names (``learning_curves``,
    ``gradcheck``, ``gradient_norms``, ``confusion``, ``predictions``, ``decision_boundary``,
    ``augmentation``, ``mistakes``) to data URIs."""
    return render("report.html.j2", **report_context(result, images))


def report_context(result: RunResult, images: Mapping[str, str]) -> dict[str, Any]:
    """The template's data: ``result`` read into rows, numbers and sentences."""
    regression = result.data.task == "regression"
    diagnosis = result.diagnosis
    # the caveat has its own box: said once, with the epoch the run kept
    caveat = None if diagnosis is None else early_stopping_cost(
        diagnosis, result.best_epoch, result.epochs_run - 1)
    remarks = [] if diagnosis is None else [
        r for r in diagnosis.remarks if r.code != "early_stopping_cost"]
    sizes = result.data.split_sizes
    return {
        "name": result.name,
        "head": headline(result),
        "regression": regression,
        "numbers": _numbers(result, regression),
        "data": result.data,
        "splits": [{"name": name, "size": size, "share": size / (sum(sizes.values()) or 1),
                    "role": ROLES.get(name, "")} for name, size in sizes.items()],
        "comparisons": result.comparisons,
        "model_summary": result.model_summary,
        "config_rows": [(str(key), "default" if value is None else value
                         if isinstance(value, str) else json.dumps(value, default=str))
                        for key, value in result.config.items()],
        "training": None if not result.history else {
            "epochs": result.epochs_run, "stopped": stopped(result.stop_reason),
            "best": None if result.best_epoch is None else result.best_epoch + 1},  # from 1
        "diagnosis": diagnosis,
        "bayes": None if diagnosis is None else _bayes(diagnosis),
        "yardstick": _yardstick(result),
        "remarks": remarks,
        "caveat": caveat,
        "gradcheck": _gradcheck(result.gradchecks),
        "flow": result.flow,
        "images": dict(images),
        "galleries": result.galleries,
        "notes": [note for note in result.notes if note not in result.data.notes],
        "seconds": [(step.replace("_", " "), value) for step, value in result.seconds.items()],
    }


def _bayes(diagnosis: Diagnosis) -> dict[str, str]:
    """The Bayes-error row of the diagnosis: what it is called and where it came from."""
    if diagnosis.bias_source == YARDSTICK and diagnosis.yardstick is not None:
        best = diagnosis.yardstick.best
        return {"label": "yardstick (Bayes error at most)",
                "reading": f"the best reference model's dev error ({best.kind}: {best.model}), "
                           "an error known to be achievable; see the yardstick below"}
    return {"label": "Bayes error (human level)",
            "reading": {GIVEN: "given (--bayes-error)", ZERO: "none given: read against "
                        "a perfect score (--bayes-error auto fits the yardstick)"}.get(
                            diagnosis.bias_source, bayes_source(diagnosis))}


def _yardstick(result: RunResult) -> dict[str, Any] | None:
    """The yardstick's table: each reference model's train and dev error, the best marked,
    and the network's beside them."""
    yardstick = result.yardstick
    if yardstick is None:
        return None
    best = yardstick.best
    rows = [{"kind": ref.kind, "model": ref.model, "train": ref.train_error,
             "dev": ref.dev_error, "seconds": ref.seconds, "best": ref == best}
            for ref in yardstick.references]
    fitted = (f"a seeded sample of {yardstick.n_train:,} of the {yardstick.n_train_total:,} "
              "training rows" if yardstick.sampled else
              f"the {yardstick.n_train:,} training rows")
    held = "dev" if yardstick.measured_on == "dev" else "train_dev"
    return {"rows": rows, "fitted": fitted, "n_dev": yardstick.n_dev,
            "part": yardstick.measured_on, "seconds": yardstick.seconds, "network": {
                "train": result.errors.get("train"), "dev": result.errors.get(held)}}


def _numbers(result: RunResult, regression: bool) -> list[tuple[str, str]]:
    numbers = [(show_error(value, regression), f"{name} error") for name, value in
               result.errors.items()]
    if result.diagnosis is not None and not result.diagnosis.diverged:
        # Bayes ≤ yardstick: at least train − yardstick is avoidable, maybe more
        bias = "train − yardstick" if result.diagnosis.bias_source == YARDSTICK else \
            "avoidable bias"
        numbers += [(show_error(result.diagnosis.avoidable_bias, regression), bias),
                    (show_error(result.diagnosis.variance, regression), "variance")]
        if result.diagnosis.data_mismatch is not None:
            numbers.append((show_error(result.diagnosis.data_mismatch, regression),
                            "data mismatch"))
    if result.best_epoch is not None:
        numbers.append((str(result.best_epoch + 1), "epoch kept"))
    return numbers


def _gradcheck(reports: Mapping[str, GradcheckReport]) -> dict[str, Any]:
    rows = []
    for name in block_names(reports):
        found = [report.blocks.get(name) for report in reports.values()]
        shape = next((b.shape for b in found if b is not None), ())
        findings = [str(b.finding) for b in found if b is not None and b.finding]
        rows.append({"block": name, "shape": "×".join(map(str, shape)) or "scalar",
                     "cells": found, "finding": "; ".join(dict.fromkeys(findings))})
    where: dict[str, list[str]] = {}  # each note once, with the points it applies to
    for point_name, report in reports.items():
        for note in [*report.findings, *report.notes]:
            where.setdefault(str(note), []).append(point(point_name))
    notes = [f"{note} ({', '.join(points)})" for note, points in where.items()]
    return {"points": list(reports.items()), "rows": rows, "notes": notes}
