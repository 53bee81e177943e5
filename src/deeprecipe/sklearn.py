"""scikit-learn estimators: :class:`DeepClassifier` and :class:`DeepRegressor`.

They build and train a :class:`~deeprecipe.Sequential` with :mod:`deeprecipe.pipeline`
(as ``deeprecipe run`` and ``tune`` do), work in ``Pipeline``, ``GridSearchCV``, ``clone``
and ``pickle``, and pass scikit-learn's estimator checks. The network, the stopping rule,
the dev set and ``diagnosis_`` are described in the API docs (docs/api/sklearn.md).
"""

from __future__ import annotations

import numbers
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import diagnostics, optimizers, pipeline
from ._checks import fail, flag, float_dtype, non_negative, positive_int, real
from .callbacks import EarlyStopping
from .data.split import Part, min_rows, split, split_sizes
from .diagnostics import Diagnosis, Yardstick
from .model import Sequential
from .parameters import Layout
from .runconfig import check
from .targets import TargetScale
from .training import History

__all__ = ["DeepClassifier", "DeepRegressor"]

_E = TypeVar("_E", bound="_DeepEstimator")


class _DeepEstimator(BaseEstimator):
    """What the classifier and the regressor share; they define the output layer and how
    ``y`` becomes the engine's targets."""

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (64,),
        activation: str = "relu",
        init: str | None = None,
        l2: float = 0.0,
        l1: float = 0.0,
        keep_prob: float | Sequence[float] = 1.0,
        optimizer: str = "adam",
        learning_rate: float | None = 3e-3,
        batch_size: int | None = 64,
        max_epochs: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float32",
    ) -> None:
        # scikit-learn's rule: store the arguments as given; fit validates them.
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.l2 = l2
        self.l1 = l1
        self.keep_prob = keep_prob
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.dtype = dtype

    # --- what the subclasses define ------------------------------------------------------

    def _targets(self, y: np.ndarray, *, first: bool, where: str,
                 classes: Any = None) -> np.ndarray:
        """The engine's targets for ``y``; ``first`` (a new network) sets the target's
        fitted state (``classes_``, ``n_outputs_``); errors name the method ``where``."""
        raise NotImplementedError

    def _head(self) -> tuple[str, int]:
        """The network's task and its output units."""
        raise NotImplementedError

    def _fit_scale(self, targets: np.ndarray) -> None:
        """Fit what :meth:`_scaled` applies, on the training targets."""

    def _scaled(self, targets: np.ndarray) -> np.ndarray:
        """What the network trains on for the engine's ``targets``."""
        return targets

    @property
    def _where(self) -> str:
        return type(self).__name__

    # --- fitting ---------------------------------------------------------------------------

    def _validate(self, X: ArrayLike, y: ArrayLike, *, reset: bool,
                  where: str) -> tuple[np.ndarray, Any]:
        missing = _missing_rows(y)
        if missing:  # scikit-learn's words: 'Input contains NaN', 'Unknown label type', …
            raise fail(where, "y", "free of missing values (NaN, None, NA)",
                       f"missing values in rows {missing[:10]}",
                       "drop those rows, or give them a value")
        dtype = float_dtype(self._where, self.dtype)
        return validate_data(
            self, X, y, reset=reset, dtype=dtype, y_numeric=isinstance(self, RegressorMixin),
            multi_output=isinstance(self, RegressorMixin),
        )

    def fit(self: _E, X: ArrayLike, y: ArrayLike) -> _E:
        """Train a new network on ``(X, y)`` (a classifier's ``y``: labels of any type)."""
        where = f"{self._where}.fit"
        X_array, y_array = self._validate(X, y, reset=True, where=where)
        # every hyperparameter is checked before any fitted state is set
        epochs = positive_int(where, "max_epochs", self.max_epochs)
        flag(where, "early_stopping", self.early_stopping)
        batch_size = self._batch_size(where)
        dev_fraction = self._dev_fraction(where, len(X_array))
        stopping = _NoImprovement(
            non_negative(where, "tol", self.tol),
            positive_int(where, "n_iter_no_change", self.n_iter_no_change),
            validation=bool(self.early_stopping),
        )
        targets = self._start(where, X_array.shape[1], y_array)
        dev = None
        if dev_fraction:
            parts = split(X_array, targets, ratios=(1 - dev_fraction, dev_fraction),
                          stratify=isinstance(self, ClassifierMixin),
                          seed=np.random.default_rng([self._seed, 2]))
            X_array, targets, dev = parts.train.X, parts.train.y, parts.dev
        self._fit_scale(targets)  # on the training part only, as the notes normalize
        return self._train(where, X_array, targets, dev, extend=False, epochs=epochs,
                           batch_size=batch_size, stopping=stopping)

    def _partial_fit(self: _E, X: ArrayLike, y: ArrayLike, classes: Any = None) -> _E:
        where = f"{self._where}.partial_fit"
        first = not hasattr(self, "model_")
        X_array, y_array = self._validate(X, y, reset=first, where=where)
        batch_size = self._batch_size(where)
        if first:
            targets = self._start(where, X_array.shape[1], y_array, classes)
            self._fit_scale(targets)
        else:
            targets = self._targets(y_array, first=False, where=where, classes=classes)
        self._calls += 1
        # a different shuffle (and dropout masks) on every call, reproducible from the seed
        seed = int(np.random.SeedSequence([self._seed, self._calls]).generate_state(1)[0])
        return self._train(where, X_array, targets, None, extend=not first, epochs=1,
                           batch_size=batch_size, seed=seed)

    def _train(self: _E, where: str, X: np.ndarray, targets: np.ndarray, dev: Part | None,
               *, extend: bool, **options: Any) -> _E:
        """Train ``model_`` on ``(X, targets)``, scaled, with :func:`.pipeline.train`'s
        ``options``; ``history_`` is this run's, or ``extend``-ed by it (``partial_fit``)."""
        validation = None if dev is None else (dev.X, self._scaled(dev.y))
        parts = {"train": (X, self._scaled(targets)), "dev": validation}
        history = pipeline.train(self.model_, parts, optimizer=self._optimizer, **options)
        if not extend:
            self.history_ = history
        else:
            _extend(self.history_, history)
        self.n_iter_ = len(self.history_)
        self.diagnosis_: Diagnosis | None = None
        if dev is not None and len(history):  # not when epoch 0 diverged
            self.diagnosis_ = diagnostics.diagnose(history)
        if history.stop_reason == "diverged" and history.divergence is not None:
            warnings.warn(f"{where}: {history.divergence}", RuntimeWarning, stacklevel=3)
        return self

    def _start(self, where: str, n_features: int, y: np.ndarray, classes: Any = None
               ) -> np.ndarray:
        """A new network (``model_``, :func:`deeprecipe.pipeline.build_model`) for
        ``n_features`` inputs and its optimizer, seeded from ``random_state`` (scikit-learn's
        convention); its hyperparameters are checked before ``y``'s targets (returned) set
        any fitted state."""
        sizes, keep = self._hidden_layers(where)
        optimizer = optimizers.get(check(where, "optimizer", self.optimizer), self.learning_rate)
        try:
            state = check_random_state(self.random_state)
        except ValueError:  # a Generator, a negative int, …: scikit-learn's words name neither
            raise fail(where, "random_state", "None, an int from 0 to 2**32 - 1 or a "
                       "np.random.RandomState", self.random_state) from None
        seed = int(state.randint(np.iinfo(np.int32).max))
        targets = self._targets(y, first=True, where=where, classes=classes)
        task, units = self._head()
        self.model_ = pipeline.build_model(
            n_features, task, units, sizes, activation=self.activation, init=self.init,
            keep_prob=keep, l2=self.l2, l1=self.l1, seed=seed, dtype=self.dtype)
        self._seed = seed
        self._calls = 0
        self._optimizer = _Continued(optimizer)
        return targets

    def _hidden_layers(self, where: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """The hidden layers' units and keep_probs, checked, as are ``l2``, ``l1``,
        ``activation`` and ``init`` (by their options of :data:`.runconfig.OPTIONS`)."""
        for key in ("l2", "l1", "activation") + (("init",) if self.init else ()):
            check(where, key, getattr(self, key))
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (int(sizes),)
        if isinstance(sizes, str) or not isinstance(sizes, (Sequence, np.ndarray)) or not all(
            isinstance(units, numbers.Integral) and not isinstance(units, bool) and units >= 1
            for units in sizes
        ):  # Dense's own message would name units, not hidden_layer_sizes
            raise fail(where, "hidden_layer_sizes", "a sequence of positive integers such as "
                       "(64, 32)", sizes)
        keep = check(where, "keep_prob", self.keep_prob)
        if isinstance(self.keep_prob, numbers.Real):
            keep *= len(sizes)
        if len(keep) != len(sizes):
            raise fail(where, "keep_prob", f"a number or one number per hidden layer "
                       f"({len(sizes)})", self.keep_prob)
        return tuple(int(units) for units in sizes), keep

    def _batch_size(self, where: str) -> int | None:
        return None if self.batch_size is None else check(where, "batch_size", self.batch_size)

    def _dev_fraction(self, where: str, m: int) -> float:
        """The dev set's fraction of ``m`` rows (0.0: no dev set)."""
        fraction = self.validation_fraction
        if fraction is None and not self.early_stopping:
            return 0.0
        if fraction is None:
            ratios = None
            fraction = split_sizes(m)[1] / m
        else:
            fraction = real(where, "validation_fraction", fraction, "None (the notes' size) or "
                            "a number in (0, 1)", lambda value: 0.0 < value < 1.0)
            ratios = (1 - fraction, fraction)
        if fraction * m < 1:
            raise fail(where, "n_samples", f"at least {min_rows(ratios)} to hold out a dev set "
                       f"(validation_fraction={self.validation_fraction})", m,
                       "pass more data, or early_stopping=False")
        return float(fraction)

    @property
    def loss_curve_(self) -> list[float]:
        """The training cost of each epoch, as scikit-learn's ``loss_curve_``."""
        check_is_fitted(self)
        return self.history_.to_dict().get("train_cost", [])

    # --- prediction ------------------------------------------------------------------------

    def _network(self, X: ArrayLike) -> tuple[Sequential, np.ndarray]:
        """The network and ``X`` validated for it, in float64 whatever ``dtype``: float32
        products round differently with the number of rows (BLAS picks its kernel by
        shape), and a row's prediction must not depend on its neighbours."""
        check_is_fitted(self)
        X_array = validate_data(self, X, reset=False, dtype=np.float64)
        return self.model_.astype(np.float64), X_array

    def _output(self, X: ArrayLike) -> np.ndarray:
        """The network's logits ``Z[L]``."""
        model, X_array = self._network(X)
        return model.output(X_array, logits=True)

    def diagnose(self, X_dev: ArrayLike, y_dev: ArrayLike,
                 bayes_error: float | str | Yardstick = "auto") -> Diagnosis:
        """Bias and variance of the fitted network against held-out ``(X_dev, y_dev)``.
        ``bayes_error`` is :func:`deeprecipe.diagnose`'s; the estimator keeps no training
        data, so ``"auto"`` reads as 0 (pass a yardstick,
        :func:`~deeprecipe.diagnostics.fit_references` on the training data, for an
        achievable reference).

        The train error is the last epoch's inference-mode one (the History's
        ``train_error``, at ``best_epoch`` when early stopping restored it); the dev error
        is measured here. Example::

            clf = DeepClassifier().fit(X_train, y_train)
            print(clf.diagnose(X_dev, y_dev).summary())
        """
        check_is_fitted(self)
        where = f"{self._where}.diagnose"
        X_array, y_array = self._validate(X_dev, y_dev, reset=False, where=where)
        targets = self._scaled(self._targets(y_array, first=False, where=where))
        epoch = self.history_.best_epoch
        train_error = self.history_["train_error"][-1 if epoch is None else epoch]
        dev_error = self.model_.evaluate(X_array, targets)["error"]
        regression = isinstance(self, RegressorMixin)
        return diagnostics.diagnose(
            train_error, dev_error, bayes_error, n_train=self.history_.sizes.get("train"),
            n_dev=None if regression else len(X_array), regression=regression,
        )


class DeepClassifier(ClassifierMixin, _DeepEstimator):
    """A deeprecipe network as a scikit-learn classifier.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default (64,)
        Units of each hidden Dense layer (``()``: logistic/softmax regression).
    activation : str, default "relu"
        Hidden activation: "relu", "leaky_relu", "tanh", "sigmoid" or "linear".
    init : str or None, default None
        Initializer of every Dense layer ("he", "xavier", "glorot", "random", "zeros", …);
        ``None``: He for ReLU-like layers, the notes' Xavier otherwise.
    l2, l1 : float, default 0.0
        The notes' ``λ`` for the L2 / L1 penalty on the weights.
    keep_prob : float or sequence of float, default 1.0
        Inverted-dropout keep probability, one for all hidden layers or one per hidden
        layer; 1.0 adds no dropout layer.
    optimizer : {"adam", "momentum", "sgd"}, default "adam"
    learning_rate : float or None, default 3e-3
        ``None``: the optimizer's default. Three times scikit-learn's 1e-3 (measured: "The
        network" in the API docs); ``DeepRegressor`` keeps 1e-3.
    batch_size : int or None, default 64
        ``None``: full-batch gradient descent.
    max_epochs : int, default 200
        The most epochs trained (scikit-learn's ``max_iter``).
    tol : float, default 1e-4
        The improvement of the watched value (training cost, or dev error with early
        stopping) an epoch must make to count ("When training stops" in the API docs).
    n_iter_no_change : int, default 10
        Training stops when more than this many epochs in a row did not improve by ``tol``.
    early_stopping : bool, default False
        Hold out a dev set, watch its error instead of the training cost, and keep the best
        epoch's weights.
    validation_fraction : float or None, default None
        The dev set's fraction; ``None``: the notes' size when early stopping.
    random_state : int, RandomState or None, default None
        Seeds the weights, the split, shuffling and dropout masks.
    dtype : {"float32", "float64"}, default "float32"
        The network's float type.

    Attributes
    ----------
    model_ : Sequential
        The trained network (its outputs are class codes ``0 … k-1``).
    history_ : History
        Per-epoch records of the training run.
    classes_ : ndarray
        The class labels, sorted; ``predict`` returns these.
    n_features_in_, feature_names_in_ :
        Set by scikit-learn's validation (the names only for DataFrames with string
        column names).
    n_iter_ : int
        Epochs trained.
    loss_curve_ : list of float
        The training cost of each epoch (``history_["train_cost"]``: dropout on, penalty in,
        averaged over the epoch's batches), as scikit-learn's ``loss_curve_``.
    diagnosis_ : Diagnosis or None
        Bias/variance diagnosis of the run when a dev set was held out, else ``None``.

    Example::

        >>> from sklearn.datasets import load_iris
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = DeepClassifier(hidden_layer_sizes=(16,), learning_rate=0.01,
        ...                      max_epochs=50, random_state=0).fit(X, y)
        >>> clf.predict(X[:3])
        array([0, 0, 0])
        >>> clf.predict_proba(X[:1]).shape
        (1, 3)
    """

    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, classes: ArrayLike | None = None
    ) -> DeepClassifier:
        """One more epoch on ``(X, y)``; the first call needs every class in ``classes``
        (scikit-learn's convention: a batch may not show them all)."""
        if classes is None and not hasattr(self, "model_"):
            raise fail(f"{self._where}.partial_fit", "classes", "given on the first call "
                       "(every class label, e.g. classes=np.unique(y_all))", classes)
        return self._partial_fit(X, y, classes)

    def _targets(self, y: np.ndarray, *, first: bool, where: str,
                 classes: Any = None) -> np.ndarray:
        if y.dtype == object:  # scikit-learn's words: "Unknown label type: unknown"
            text = [isinstance(label, str) for label in y]
            if any(text) and not all(text):
                row = text.index(not text[0])
                raise fail(where, "y", "labels of one kind (all text or all numbers)",
                           f"{y[0]!r} in row 0 and {y[row]!r} in row {row}",
                           "convert them to one kind, e.g. y.astype(str)")
        check_classification_targets(y)
        if first:
            classes = np.unique(y if classes is None else np.asarray(classes))
            if len(classes) < 2:
                raise fail(where, "y", "labels of at least 2 classes", f"1 class {classes[0]!r}",
                           "a classifier needs examples of two classes or more")
            self.classes_ = classes
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise fail(where, "classes", f"the classes of the first call "
                       f"{self.classes_.tolist()}", classes)
        codes = np.searchsorted(self.classes_, y)
        codes = np.minimum(codes, len(self.classes_) - 1)
        unknown = self.classes_[codes] != y
        if unknown.any():
            raise fail(where, "y", f"labels among classes_ {self.classes_.tolist()[:10]}",
                       f"unknown labels {np.unique(y[unknown]).tolist()[:10]}")
        return codes.astype(np.intp)

    def _head(self) -> tuple[str, int]:
        k = len(self.classes_)
        return ("binary", 1) if k == 2 else ("multiclass", k)

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """The logits: ``(m,)`` for two classes (``> 0`` means ``classes_[1]``), else
        ``(m, k)`` (the softmax's inputs ``Z[L]``)."""
        z = self._output(X)
        return z[:, 0] if len(self.classes_) == 2 else z

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities ``(m, k)`` in the order of ``classes_`` (float64)."""
        model, X_array = self._network(X)
        return model.predict_proba(X_array)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Class labels (from ``classes_``): the logit's sign, or the largest logit."""
        z = self._output(X)
        codes = (z[:, 0] > 0).astype(np.intp) if len(self.classes_) == 2 else z.argmax(axis=1)
        return self.classes_[codes]


class DeepRegressor(RegressorMixin, _DeepEstimator):
    """A deeprecipe network as a scikit-learn regressor: a linear output and the mean
    squared error, one output unit per target column.

    Takes the same parameters as :class:`DeepClassifier`, and ``normalize_y`` (default
    True): the network learns each target column standardized with the training part's
    mean and standard deviation (``target_scale_``, the
    :class:`~deeprecipe.targets.TargetScale` of ``deeprecipe run`` and ``tune``; its
    ``mean`` and ``scale`` are also ``y_mean_`` and ``y_scale_``, zeros and ones with
    ``normalize_y=False``), and ``predict`` maps its outputs back: a target in the hundreds
    trains as fast as one near 1. ``y`` is ``(m,)`` or ``(m, k)``; ``predict`` returns
    ``(m,)`` for a single target (like ``MLPRegressor``), else ``(m, k)``. Its
    ``learning_rate`` defaults to scikit-learn's 1e-3.

    Attributes: ``model_``, ``history_``, ``n_outputs_``, ``target_scale_``,
    ``n_features_in_``, ``feature_names_in_`` (for DataFrames), ``n_iter_``,
    ``loss_curve_``, ``diagnosis_``.

    Example::

        >>> import numpy as np
        >>> X = np.linspace(-1, 1, 200).reshape(-1, 1)
        >>> reg = DeepRegressor(hidden_layer_sizes=(16,), learning_rate=0.01,
        ...                     max_epochs=100, random_state=0).fit(X, 2 * X[:, 0])
        >>> reg.predict(X[:2]).shape
        (2,)
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (64,),
        activation: str = "relu",
        init: str | None = None,
        l2: float = 0.0,
        l1: float = 0.0,
        keep_prob: float | Sequence[float] = 1.0,
        optimizer: str = "adam",
        learning_rate: float | None = 1e-3,
        batch_size: int | None = 64,
        max_epochs: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float32",
        normalize_y: bool = True,
    ) -> None:
        super().__init__(
            hidden_layer_sizes, activation, init, l2, l1, keep_prob, optimizer, learning_rate,
            batch_size, max_epochs, tol, n_iter_no_change, early_stopping,
            validation_fraction, random_state, dtype,
        )
        self.normalize_y = normalize_y

    def partial_fit(self, X: ArrayLike, y: ArrayLike) -> DeepRegressor:
        """One more epoch on ``(X, y)`` (a new network on the first call)."""
        return self._partial_fit(X, y)

    def _targets(self, y: np.ndarray, *, first: bool, where: str,
                 classes: Any = None) -> np.ndarray:
        try:
            targets = np.asarray(y, dtype=float_dtype(self._where, self.dtype))
        except (TypeError, ValueError):  # text: NumPy's words name neither y nor the value
            raise fail(where, "y", "numbers (a regression target)", y,
                       "for class labels use DeepClassifier") from None
        targets = targets.reshape(len(targets), -1)
        if first:
            flag(self._where, "normalize_y", self.normalize_y)
            self.n_outputs_ = targets.shape[1]
        elif targets.shape[1] != self.n_outputs_:
            raise fail(where, "y.shape[1]",
                       f"{self.n_outputs_} (the number of targets of the first call)",
                       targets.shape[1])
        return targets

    def _head(self) -> tuple[str, int]:
        return "regression", self.n_outputs_

    def _fit_scale(self, targets: np.ndarray) -> None:
        k = targets.shape[1]
        self.target_scale_ = (TargetScale.fit(targets, axis=0) if self.normalize_y
                              else TargetScale(np.zeros(k), np.ones(k)))
        self.y_mean_, self.y_scale_ = self.target_scale_.mean, self.target_scale_.scale

    def _scaled(self, targets: np.ndarray) -> np.ndarray:
        return self.target_scale_.scaled(targets)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted targets: ``(m,)`` for one target, else ``(m, k)`` (float64)."""
        out = self._output(X) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class _NoImprovement(EarlyStopping):
    """scikit-learn's MLP stopping rule (``_update_no_improvement_count``; "When training
    stops" in docs/api/sklearn.md) on the machinery of :class:`~deeprecipe.EarlyStopping`:
    an epoch that misses the best value by less than ``tol`` counts, yet moves the best."""

    def __init__(self, tol: float, n_iter_no_change: int, *, validation: bool) -> None:
        super().__init__("dev_error" if validation else "train_cost",
                         patience=n_iter_no_change + 1, min_delta=tol, mode="min",
                         restore_best=validation)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        value = float(logs[self.monitor])
        if self.best is not None and value > self.best - self.min_delta:
            self.wait += 1
        else:
            self.wait = 0
        if self.best is None or value < self.best:
            self._record_best(epoch, value, logs)
        if self.wait >= self.patience:
            return self._stop(epoch, "patience")
        return False


def _missing_rows(y: ArrayLike) -> list[int]:
    """The rows of ``y`` that hold a missing value: NaN, None or pandas' NA."""
    try:
        values = np.asarray(y)
    except ValueError:  # ragged: scikit-learn's validation names it
        return []
    if values.dtype.kind == "f" and values.ndim in (1, 2):
        return np.flatnonzero(np.isnan(values).reshape(len(values), -1).any(axis=1)).tolist()
    if values.dtype != object or values.ndim != 1:
        return []
    na = getattr(sys.modules.get("pandas"), "NA", None)  # pandas is not imported for this
    return [i for i, value in enumerate(values) if value is None or value is na
            or (isinstance(value, float) and value != value)]


class _Continued(optimizers.Optimizer):
    """``optimizer``, built (zeroed) only by the first ``fit`` call, so that ``partial_fit``
    continues Adam's moments and step count."""

    def __init__(self, optimizer: optimizers.Optimizer) -> None:
        super().__init__(optimizer.learning_rate)
        self.optimizer = optimizer
        self.built = False

    def build(self, layout: Layout, dtype: np.dtype) -> None:
        if not self.built:
            self.optimizer.build(layout, dtype)
            self.built = True

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        self.optimizer.step(theta, grad)

    def get_config(self) -> dict[str, Any]:
        return self.optimizer.get_config()


def _extend(history: History, more: History) -> None:
    """Append ``more``'s epochs (one ``partial_fit`` call) to ``history``."""
    for key, values in more.history.items():
        history.history.setdefault(key, []).extend(values)
    history.stop_reason, history.divergence = more.stop_reason, more.divergence
    history.task, history.sizes = more.task, dict(more.sizes)
