"""Real :class:`~deeprecipe.run.result.RunResult` objects for the report's tests, built by
running deeprecipe's own pieces quickly (a few epochs, sampled gradient checks).

``run_result("digits")`` is a 10-class image problem (confusion matrix, no boundary);
``run_result("moons")`` a 2-D binary one (decision boundary). The model carries its
standardizer and ``splits`` are the standardized ones, as the workflow keeps them.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import deeprecipe as dr
from deeprecipe.diagnostics.views import views
from deeprecipe.run.result import DataSummary, RunResult

SETTINGS = {
    "digits": {"hidden": 32, "keep_prob": 0.9, "l2": 0.5, "epochs": 40, "rows": 64},
    "moons": {"hidden": 16, "keep_prob": 1.0, "l2": 0.0, "epochs": 40, "rows": 64},
}


def confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def run_result(name: str = "digits", seed: int = 0) -> RunResult:
    """Split, compare, standardize, build, check, train, check, evaluate and diagnose (on one
    BLAS thread: faster for these small matrices, and steady when the cores are shared)."""
    with threadpool_limits(limits=1):
        return _run_result(name, seed)


def _run_result(name: str, seed: int) -> RunResult:
    settings = SETTINGS[name]
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    X, y = dr.datasets.load(name) if name == "digits" else dr.datasets.load(
        name, n_samples=400, noise=0.25, seed=seed)
    info = dr.datasets.info(name)
    raw = dr.data.split(X, y, seed=seed)
    comparisons = {
        "train vs dev": dr.data.compare(raw.train.X, raw.dev.X, labels=("train", "dev")),
        "train vs test": dr.data.compare(raw.train.X, raw.test.X, labels=("train", "test")),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dr.data.ConstantFeatureWarning)
        splits, scaler = dr.data.standardize_splits(raw)
    notes = [scaler.constant_finding()] if scaler.constant_features_.size else []
    seconds["data"] = time.perf_counter() - start

    k = len(np.unique(y))
    model = dr.Sequential(
        [dr.Dense(settings["hidden"], "relu"), dr.Dropout(settings["keep_prob"]),
         dr.Dense(settings["hidden"], "relu"), dr.Dense(k, "softmax")],
        input_dim=X.shape[1], l2=settings["l2"], seed=seed)
    rows = slice(0, settings["rows"])
    start = time.perf_counter()
    at_init = dr.gradcheck.check_model(model, splits.train.X[rows], splits.train.y[rows],
                                       mode="sampled")
    stopper = dr.EarlyStopping(patience=4)
    recorder = dr.GradientFlowRecorder(splits.train.X, splits.train.y, max_rows=128)
    history = model.fit(*splits.train, validation_data=(splits.dev.X, splits.dev.y),
                        epochs=settings["epochs"], batch_size=64, learning_rate=3e-3,
                        callbacks=[stopper, recorder], seed=seed)
    seconds["training"] = time.perf_counter() - start
    trained = dr.gradcheck.check_model(model, splits.train.X[rows], splits.train.y[rows],
                                       mode="sampled")
    errors = {part: model.evaluate(p.X, p.y)["error"] for part, p in splits.parts.items()}
    diagnosis = model.diagnose(tuple(splits.train), tuple(splits.dev), 0.0,
                               test=tuple(splits.test))
    predicted = model.predict(splits.dev.X)
    model.standardizer = scaler
    return RunResult(
        name=name,
        config={"data": name, "hidden": settings["hidden"], "l2": settings["l2"],
                "keep_prob": settings["keep_prob"], "optimizer": "adam", "seed": seed},
        data=DataSummary(name, info.task, X.shape[0], X.shape[1], list(range(k)),
                         info.image_shape, raw.sizes(), raw.note or None, notes),
        model_summary=model.summary(),
        comparisons=comparisons,
        gradchecks={"init": at_init, "trained": trained},
        history=history.to_dict(),
        best_epoch=stopper.best_epoch,
        stopped_epoch=stopper.stopped_epoch,
        stop_reason=stopper.stop_reason or history.stop_reason,
        grad_norms=recorder.grad_norms(),
        grad_norm_epochs=recorder.epochs,
        flow=recorder.initial,
        errors=errors,
        diagnosis=diagnosis,
        confusion=confusion(splits.dev.y, predicted, k),
        seconds=seconds,
        notes=[f"built by tests/report_fixtures.py: {settings['epochs']} epochs at most"],
        model=model,
        splits=splits,
        views=views(model, splits, info.task),  # the pipeline's step: the report runs nothing
    )
