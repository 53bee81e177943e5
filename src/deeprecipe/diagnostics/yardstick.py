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

import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .._checks import as_float_array, choice, fail, integer, row_chunks, seed_value
from ..data.split import Part, sample_positions
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
    ``error`` its dev error: the yardstick. ``measured_on`` names the part the "dev" rows
    are (``"train-dev"`` with two sources: the training distribution's held-out rows)."""

    references: tuple[Reference, ...]
    n_train: int
    n_train_total: int
    n_dev: int
    regression: bool
    seconds: float
    measured_on: str = "dev"

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
                f"({self.best.model}) on {self.measured_on}, fitted on {rows} training rows")

    def to_dict(self) -> dict[str, Any]:
        return jsonable_fields(self, best=self.best.kind, error=self.error)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Yardstick:
        """The inverse of :meth:`to_dict` (``best`` and ``error`` are read from the
        references again): how a resumed tune reads its yardstick back."""
        names = {item.name for item in fields(cls)}
        return cls(**{**{key: value for key, value in values.items() if key in names},
                      "references": tuple(Reference(**ref) for ref in values["references"])})


CHUNK = 16_384  # rows predicted at once, fewer for wide data:
CHUNK_CELLS = 2_000_000  # values (rows × features) predicted at once
MAX_CELLS = 10_000_000  # values the references are fitted on (fewer rows for wide data)
LINEAR_ROWS = 10_000  # rows the linear model's regularization is chosen on (a holdout quarter)
TREES = 100  # trees histogram gradient boosting grows at most (a multiclass one: per class)
SMALL = 10_000  # training rows below which the trees are small and boosting never stops early
BOOSTING_CELLS = 5_000_000  # rows × features × trees per iteration boosting is fitted on
ALPHAS = tuple(10.0 ** p for p in range(-3, 5))  # Ridge's regularization, chosen by GCV
CS = tuple(10.0 ** p for p in range(-3, 3))  # LogisticRegression's, chosen on a holdout


def fit_references(train: Any, dev: Any, *, task: str, seed: int = 0,
                   max_rows: int = MAX_ROWS) -> Yardstick:
    """Fit the reference models on ``train`` and measure them on ``dev`` (each a
    :class:`~deeprecipe.data.Part` or a pair ``(X, y)``; ``y`` class labels (or one-hot
    rows) for a classification, values for a regression, in the units the network's errors
    use). ``task`` is ``"classification"`` or ``"regression"`` (``"binary"`` and
    ``"multiclass"`` read as ``"classification"``). Above ``max_rows`` training rows (or
    :data:`MAX_CELLS` values: fewer rows of wide data, such as images) the references see a
    seeded sample of that many (``seed``); every dev row is measured, a chunk at a time.

    The references, on the features standardized with the fitted rows' statistics: the
    constant (``DummyClassifier``: the most frequent class; ``DummyRegressor``: the mean),
    the linear model (``LogisticRegression`` with ``C`` chosen on a held-out quarter of at
    most :data:`LINEAR_ROWS` rows; ``Ridge`` with ``alpha`` chosen by leave-one-out
    cross-validation) and ``HistGradientBoosting*`` with at most :data:`TREES` trees (fewer
    iterations at a higher learning rate for many classes; early stopping from :data:`SMALL`
    rows; on a seeded sample of the rows when they hold more than :data:`BOOSTING_CELLS`
    values per iteration, said in its ``model``; none for a regression of several outputs),
    on one thread. The work depends on the data's size only, never on a clock: the same data
    and ``seed`` give the same yardstick.
    """
    where = "fit_references"
    if task in ("binary", "multiclass"):
        task = "classification"
    regression = choice(where, "task", task, ("classification", "regression")) == "regression"
    seed = seed_value(where, "seed", seed)
    max_rows = integer(where, "max_rows", max_rows, 2, "an integer >= 2 (training rows)")
    start = time.perf_counter()
    n_total, n_dev = _length(where, "train", train), _length(where, "dev", dev)
    width = _width(train)
    rows = min(max_rows, max(2, MAX_CELLS // width))
    positions = sample_positions(n_total, rows, np.random.default_rng(seed))
    X, y = _checked(where, "train", *_rows(train, positions), regression)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0  # a constant feature: centred, not scaled
    X = (X - mean) / scale
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    # one thread: the cost is the same on any machine, and threads fighting other work for
    # the cores cost far more than they save (boosting on 100,000 rows beside another job:
    # 2.6 s on one thread, 20.7 s on two)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # lbfgs may stop at its iteration cap on separable data: the fit is still a reference
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = [one for kind in KINDS if (one := _fit(kind, X, y, regression, seed))]
        models = [model for model, _, _, _ in fitted]
        train_errors = [_errors([model], [(X[rows], y[rows])], regression)[0]
                        for model, _, _, rows in fitted]  # on the rows each was fitted on
        dev_errors = _errors(models, (((X_dev - mean) / scale, y_dev) for X_dev, y_dev
                                      in _chunks(where, dev, regression, width)), regression)
    references = tuple(
        Reference(kind, name, train_error, dev_error, seconds)
        for (_, (kind, name), seconds, _), train_error, dev_error
        in zip(fitted, train_errors, dev_errors, strict=True))
    return Yardstick(references, len(X), n_total, n_dev, regression,
                     time.perf_counter() - start)


# the model, (kind, its name), seconds, and the rows of X it was fitted on
Fitted = tuple[Any, tuple[str, str], float, slice | np.ndarray]


def _fit(kind: str, X: np.ndarray, y: np.ndarray, regression: bool, seed: int) -> Fitted | None:
    """One reference fitted, or ``None`` where it does not apply (a classifier with one
    class; boosting for several outputs)."""
    start = time.perf_counter()
    rows: slice | np.ndarray = slice(None)
    classes = None if regression else np.unique(y)
    if kind == CONSTANT:
        from sklearn.dummy import DummyClassifier, DummyRegressor

        model: Any = DummyRegressor() if regression else DummyClassifier(strategy="most_frequent")
        name = "DummyRegressor(mean)" if regression else "DummyClassifier(most frequent class)"
        model.fit(X, y)
    elif classes is not None and len(classes) < 2:
        return None
    elif kind == LINEAR:
        model, name = _linear(X, y, regression, seed)
    elif regression and y.ndim == 2:
        return None
    else:
        per_iteration = 1 if classes is None or len(classes) == 2 else len(classes)
        most = max(1000, BOOSTING_CELLS // (X.shape[1] * per_iteration))
        rows = sample_positions(len(X), most, np.random.default_rng(seed))
        model, name = _boosting(X[rows], y[rows], regression, per_iteration, seed)
        if not isinstance(rows, slice):
            name += f" on {len(rows):,} of the rows"
    return model, (kind, name), time.perf_counter() - start, rows


def _linear(X: np.ndarray, y: np.ndarray, regression: bool, seed: int) -> tuple[Any, str]:
    if regression:
        from sklearn.linear_model import RidgeCV

        model = RidgeCV(alphas=ALPHAS).fit(X, y)
        return model, f"Ridge(alpha={model.alpha_:g})"
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(X))[:LINEAR_ROWS]
    cut = len(rows) * 3 // 4
    fit, held = rows[:cut], rows[cut:]
    best_C, best = 1.0, np.inf
    if len(held) >= 10 and len(np.unique(y[fit])) == len(np.unique(y)):
        model = LogisticRegression(max_iter=MAX_ITER, warm_start=True)
        for C in CS:  # ascending: each fit starts from the last, more regularized one
            model.set_params(C=C).fit(X[fit], y[fit])
            error = float(np.mean(model.predict(X[held]) != y[held]))
            if error < best - ROUNDING:  # ties: the more regularized
                best_C, best = C, error
    model = LogisticRegression(C=best_C, max_iter=MAX_ITER).fit(X, y)
    return model, f"LogisticRegression(C={best_C:g})"


def _boosting(X: np.ndarray, y: np.ndarray, regression: bool, per_iteration: int,
              seed: int) -> tuple[Any, str]:
    """At most :data:`TREES` trees: a multiclass model grows one per class each iteration,
    so it takes fewer iterations (at least 10) at a higher learning rate. Below
    :data:`SMALL` rows the trees are smaller (15 leaves, 63 bins: a bin holds a few rows);
    above, early stopping on a seeded tenth of the rows may end it sooner."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    iterations = max(10, TREES // per_iteration)
    rate = min(0.5, 10 / iterations)
    leaves, bins = (15, 63) if len(X) < SMALL else (31, 255)
    kind = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    model = kind(max_iter=iterations, learning_rate=rate, max_leaf_nodes=leaves, max_bins=bins,
                 early_stopping=len(X) >= SMALL, random_state=seed).fit(X, y)
    stopped = "" if model.n_iter_ == iterations else f", stopped early at {model.n_iter_}"
    return model, (f"{kind.__name__}(max_iter={iterations}, learning_rate={rate:g}, "
                   f"max_leaf_nodes={leaves}, max_bins={bins}{stopped})")


MAX_ITER = 500  # lbfgs iterations of the logistic regression (standardized features)
ROUNDING = 1e-12


def _length(where: str, arg: str, part: Any) -> int:
    if isinstance(part, Part):
        return len(part)
    if not isinstance(part, (tuple, list)) or len(part) != 2:
        raise fail(where, arg, "a pair (X, y) or a Part", part, error=TypeError)
    n, n_y = len(part[0]), len(part[1])
    if n == 0 or n != n_y:
        raise fail(where, f"{arg}[1]", f"as many targets as rows of {arg}[0] ({n}), at least 1",
                   f"{n_y} targets")
    return n


def _rows(part: Any, positions: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of ``part``'s rows at ``positions``."""
    if isinstance(part, Part):
        return part.take(positions)
    return np.asarray(part[0])[positions], np.asarray(part[1])[positions]


def _checked(where: str, arg: str, X: Any, y: Any, regression: bool,
             ) -> tuple[np.ndarray, np.ndarray]:
    """Features as float64 and targets as class labels (from one-hot rows) or values."""
    X = as_float_array(where, f"{arg} X", X, np.float64)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and not regression:
        y = y.argmax(axis=1)  # one-hot rows
    if regression:
        y = as_float_array(where, f"{arg} y", y, np.float64, (1, 2))
    elif y.ndim != 1:
        raise fail(where, f"{arg} y", "class labels (m,) or one-hot rows (m, k)", y)
    return X, y


def _width(part: Any) -> int:
    """The number of features of ``part``'s rows."""
    X = part.source_X if isinstance(part, Part) else np.asarray(part[0])
    return max(1, int(np.prod(X.shape[1:])))


def _chunks(where: str, part: Any, regression: bool, width: int,
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``part``'s rows (all of them), checked, :data:`CHUNK` at a time or fewer: at most
    :data:`CHUNK_CELLS` values of ``width`` features."""
    size = max(1, min(CHUNK, CHUNK_CELLS // width))
    if isinstance(part, Part):
        pieces: Iterable[Any] = row_chunks(part.indices, len(part.source_X), size)
        for rows in pieces:
            yield _checked(where, "dev", part.source_X[rows], part.source_y[rows], regression)
        return
    for start in range(0, len(part[0]), size):
        yield _checked(where, "dev", *_rows(part, slice(start, start + size)), regression)


def _errors(models: list[Any], pieces: Iterable[tuple[np.ndarray, np.ndarray]],
            regression: bool) -> list[float]:
    """Each model's error over standardized ``(X, y)`` pieces: its misclassification rate,
    or its mean squared error (over every output)."""
    totals, count = np.zeros(len(models)), 0
    for X, y in pieces:
        for i, model in enumerate(models):
            predicted = model.predict(X)
            if regression:
                totals[i] += float(np.sum((predicted.reshape(y.shape) - y) ** 2))
            else:
                totals[i] += float(np.count_nonzero(predicted != y))
        count += y.size
    return [float(total / count) for total in totals]
