"""``Sequential``: a stack of layers, its cost ``J`` and the gradient ``dJ/dθ``.

``J = (1/m) Σ L(ŷ, y)`` plus the penalties of :mod:`deeprecipe.regularizers` (biases are
not penalized). The model names its layers (``dense_1``, …) and owns their parameters: one
flat vector ``θ`` (:attr:`Sequential.theta`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import losses, persistence, regularizers
from ._checks import (
    as_float_array,
    fail,
    float_dtype,
    non_negative,
    positive_int,
    row_chunks,
    row_indices,
    seed_value,
)
from .data.split import Part, sample_positions
from .diagnostics import Diagnosis, Yardstick, diagnose, fit_references
from .diagnostics.bias_variance import is_auto
from .findings import Finding
from .layers import Activation, Dense, Dropout, Layer, from_config, walk
from .parameters import flatten, unflatten
from .training import Trainer

if TYPE_CHECKING:
    from .data.normalize import Standardizer
    from .divergence import Divergence

PREDICT_BATCH = 4096
# The training error is measured on at most this many training rows (a sample, the same for
# the same size): its standard error is then at most 0.05 points, where measuring 9.8
# million rows cost one eighth of a training epoch (the measuring step, 4.3 s of 17 s
# outside training, benchmarks/big_data.py). Dev, test and train-dev are measured whole.
MEASURED_TRAIN_ROWS = 1_000_000


class Sequential(Trainer):
    """A feed-forward network: ``layers`` applied in order to ``X`` of shape ``(m, input_dim)``.

    ``loss`` defaults to the one the output activation implies (sigmoid → binary
    cross-entropy, softmax → cross-entropy, linear → mean squared error), which then applies
    the output activation itself, from the logits (:attr:`from_logits`; ``dZ[L] = A[L] -
    Y``): the network runs :attr:`head`, its last layer without that activation. ``l2``
    and ``l1`` are the notes' ``λ``. ``seed`` draws the initial weights. ``dtype`` is
    ``"float32"`` (fast) or ``"float64"``.

    ``standardizer`` (``None`` until set; :meth:`save` stores it, ``dr.load`` sets it) is a
    fitted :class:`~deeprecipe.data.Standardizer`: when set, :meth:`output`, :meth:`predict`,
    :meth:`predict_proba` and :meth:`evaluate` take **raw** inputs, while :meth:`fit`,
    :meth:`cost` and :meth:`gradients` work on standardized data.

    Example::

        model = Sequential([Dense(64, "relu"), Dropout(0.8), Dense(10, "softmax")],
                           input_dim=64, l2=0.7)
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        input_dim: int,
        loss: str | None = None,
        l2: float = 0.0,
        l1: float = 0.0,
        seed: int = 0,
        dtype: DTypeLike = "float32",
    ) -> None:
        where = "Sequential"
        self.layers = list(layers)
        if not self.layers or not all(isinstance(layer, Layer) for layer in self.layers):
            raise fail(where, "layers", "a non-empty list of Layer objects", layers)
        output = self.layers[-1]
        if not isinstance(output, (Dense, Activation)):
            raise fail(where, "layers[-1]", "a Dense or Activation layer", output)
        self.input_dim = positive_int(where, "input_dim", input_dim)
        self.output_activation = output.activation
        self.loss = losses.get(loss or losses.default_for(output.activation))
        if self.loss.task != "regression" and output.activation != self.loss.activation:
            raise fail(where, "the output activation",
                       f"{self.loss.activation!r} for loss={self.loss.name!r}",
                       output.activation, f"end with Dense(units, {self.loss.activation!r}), "
                       "or use loss='mean_squared_error' for a regression")
        self.from_logits = self.loss.activation == output.activation
        self.head = [*self.layers[:-1], output.logits()] if self.from_logits else self.layers
        self.l2 = non_negative(where, "l2", l2)
        self.l1 = non_negative(where, "l1", l1)
        self.seed = seed_value(where, "seed", seed)
        self.dtype = float_dtype(where, dtype)
        self.standardizer: Standardizer | None = None
        self._build()

    # --- construction -----------------------------------------------------------------

    def _build(self) -> None:
        """Name the layers, draw their parameters and pack them into one vector ``θ``."""
        rng = np.random.default_rng(self.seed)
        initial, self.names, self.dims = walk(  # dims: each layer's output width
            self.layers, self.input_dim, lambda layer, dim: layer.build(dim, rng, self.dtype))
        self.output_dim = self.dims[-1]
        if self.loss.task == "binary" and self.output_dim != 1:
            raise fail("Sequential", "the output layer's units", "1 for binary "
                       "cross-entropy", self.output_dim, "use softmax for more than two classes")
        if self.output_activation == "softmax" and self.output_dim < 2:
            raise fail("Sequential", "the output layer's units", "at least 2 for softmax",
                       self.output_dim, "a softmax over one unit is always 1; use "
                       "Dense(1, 'sigmoid') for two classes")
        self.theta, self.layout = flatten(initial, self.dtype)
        self._groups = [[slot for slot in self.layout if slot.name.rsplit(".", 1)[0] == name]
                        for name in self.names]
        self._views: tuple[np.ndarray, list[dict[str, np.ndarray]]] | None = None
        self.params = self.param_views(self.theta)

    def param_views(self, vector: np.ndarray) -> list[dict[str, np.ndarray]]:
        """Per-layer views of a vector laid out like :attr:`theta`: ``[{"W": …, "b": …},
        {}, …]``, one dict per layer (:attr:`params` are those of ``θ``). The views of the
        last vector asked for are kept, so a training loop's buffer costs nothing."""
        last = self._views  # read once: another thread may replace it
        if last is not None and last[0] is vector:
            return last[1]
        views = [{slot.name.rsplit(".", 1)[1]: vector[slot.start : slot.stop].reshape(slot.shape)
                  for slot in group} for group in self._groups]
        self._views = (vector, views)
        return views

    def get_config(self) -> dict[str, Any]:
        """Everything needed to rebuild the model (weights aside); JSON-serializable."""
        return {
            "layers": [{"kind": layer.kind, **layer.get_config()} for layer in self.layers],
            "input_dim": self.input_dim,
            "loss": self.loss.name,
            "l2": self.l2,
            "l1": self.l1,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Sequential:
        """Rebuild a model (freshly initialized) from :meth:`get_config`'s output."""
        if not isinstance(config, Mapping) or not isinstance(config.get("layers"), (list, tuple)) \
                or "input_dim" not in config:
            raise fail("Sequential.from_config", "config", "a mapping like get_config()'s, "
                       "with 'layers' (a list) and 'input_dim'", config)
        layers = [from_config(spec, "Sequential.from_config", f"layers[{index}]")
                  for index, spec in enumerate(config["layers"])]
        options = {k: config[k] for k in ("loss", "l2", "l1", "seed", "dtype") if k in config}
        return cls(layers, input_dim=config["input_dim"], **options)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle and copy as layers, options and ``θ`` (a plain pickle would copy the
        parameters apart from ``θ``; scikit-learn users expect estimators to pickle)."""
        return (_restore, (self.layers, self._options(), self.theta.copy(), self.standardizer))

    def _options(self, dtype: DTypeLike | None = None) -> dict[str, Any]:
        options = {key: value for key, value in self.get_config().items() if key != "layers"}
        return options if dtype is None else {**options, "dtype": dtype}

    def rebuilt(self, dtype: DTypeLike | None = None) -> Sequential:
        """A freshly initialized model of the same layers and options (in ``dtype``)."""
        return Sequential(self.layers, **self._options(dtype))

    def astype(self, dtype: DTypeLike) -> Sequential:
        """A copy of this model whose parameters (and computations) use ``dtype``."""
        return _restore(self.layers, self._options(dtype), self.theta, self.standardizer)

    # --- parameters -------------------------------------------------------------------

    def named_parameters(self) -> dict[str, np.ndarray]:
        """``{"dense_1.W": W, "dense_1.b": b, …}`` in model order (views: writing updates
        the model)."""
        return unflatten(self.theta, self.layout)

    def flatten(self) -> np.ndarray:
        """A copy of all parameters as one vector ``θ`` (layout: :attr:`layout`)."""
        return self.theta.copy()

    def unflatten(self, theta: ArrayLike) -> dict[str, np.ndarray]:
        """Split a vector laid out like :attr:`theta` into named arrays (a copy)."""
        return unflatten(np.array(theta, dtype=self.dtype), self.layout)

    def set_parameters(self, params: Mapping[str, ArrayLike] | ArrayLike) -> None:
        """Overwrite the parameters from a flat ``θ`` or a ``{name: array}`` mapping."""
        if not isinstance(params, Mapping):
            theta = np.asarray(params)
            if theta.shape != self.theta.shape:
                raise fail("set_parameters", "theta.shape", str(self.theta.shape), theta.shape)
            self.theta[...] = theta
            return
        views = self.named_parameters()
        if set(params) != set(views):
            raise fail("set_parameters", "params", "the model's parameter names (missing "
                       f"{sorted(set(views) - set(params))}, unknown "
                       f"{sorted(set(params) - set(views))})", list(params))
        for name, value in params.items():
            value = np.asarray(value)
            if value.shape != views[name].shape:
                raise fail("set_parameters", f"params[{name!r}].shape",
                           str(views[name].shape), value.shape)
            views[name][...] = value

    @property
    def n_parameters(self) -> int:
        return int(self.theta.size)

    # --- forward, cost, gradients -----------------------------------------------------

    def forward_backward(
        self,
        X: np.ndarray,
        targets: np.ndarray | None = None,
        *,
        training: bool = False,
        rng: np.random.Generator | None = None,
        m: int | None = None,
        terms: Sequence[str] | None = None,
        out: np.ndarray | None = None,
        input_grad: bool = False,
    ) -> Trace:
        """The one loop over the layers: forward, then (given encoded ``targets``) the
        loss and backward, recorded in a :class:`Trace`. ``terms`` restricts ``J`` to some
        of ``"data"``, ``"l2"``, ``"l1"`` (default: all); the penalty uses ``m`` (default
        ``len(X)``). The gradient is written into ``out`` when given. ``input_grad`` also
        computes ``dJ/dX``. ``X`` and ``targets`` are taken as checked (:meth:`check_data`)."""
        activations, caches = [X], []
        x = X
        for name, layer, params in zip(self.names, self.head, self.params, strict=True):
            try:
                x, cache = layer.forward(params, x, training=training, rng=rng)
            except ValueError as error:  # the layer's message, naming it as the model does
                message = str(error).removeprefix(f"{type(layer).__name__}: ")
                raise ValueError(f"{name}: {message}") from None
            activations.append(x)
            caches.append(cache)
        if targets is None:
            return Trace(activations, caches, [], [], np.empty(0), {})
        grad = np.empty_like(self.theta) if out is None else out
        grads = self.param_views(grad)
        deltas: list[np.ndarray | None] = [None] * len(activations)
        values: dict[str, float] = {}
        if terms is None or "data" in terms:
            dout: Any  # dJ/d activations[index + 1], then the layer's dJ/d its input
            values["data"], dout = self.loss.cost_and_grad(x, targets, self.from_logits)
            deltas[-1] = dout
            for index in range(len(caches) - 1, -1, -1):  # the hot loop: plain locals
                dout, _ = self.head[index].backward(
                    self.params[index], dout, caches[index], out=grads[index],
                    input_grad=index > 0 or input_grad)
                deltas[index] = dout
        else:
            grad[...] = 0
        if self.l1 or self.l2:
            m = len(X) if m is None else m
            for name, lambd in self.penalties.items():
                if terms is None or name in terms:
                    penalty, _, gradient = regularizers.PENALTIES[name]
                    values[name] = penalty(self.weights(), lambd, m)
                    for params, layer_grads in zip(self.params, grads, strict=True):
                        if "W" in params:
                            layer_grads["W"] += gradient(params["W"], lambd, m)
        return Trace(activations, caches, deltas, grads, grad, values)

    def forward(self, X: np.ndarray, *, training: bool = False,
                rng: np.random.Generator | None = None, logits: bool = False
                ) -> tuple[np.ndarray, list[Any]]:
        """Run every layer: ``(output, caches)``. ``logits=True`` returns what the loss
        takes (``Z[L]`` when it applies the output activation itself)."""
        trace = self.forward_backward(X, training=training, rng=rng)
        out = trace.activations[-1]
        return (out if logits else self.loss.predictions(out, self.from_logits)), trace.caches

    def weights(self) -> list[np.ndarray]:
        """The penalized parameters (every layer's ``W``; biases are not penalized)."""
        return [params["W"] for params in self.params if "W" in params]

    @property
    def penalties(self) -> dict[str, float]:
        """The active penalty terms and their ``λ``: ``{"l2": 0.7}``."""
        return {name: lambd for name, lambd in (("l2", self.l2), ("l1", self.l1)) if lambd}

    def penalty(self, m: int, terms: Sequence[str] | None = None) -> float:
        """The regularization term of ``J`` for ``m`` training examples."""
        return sum(
            regularizers.PENALTIES[name][0](self.weights(), lambd, m)
            for name, lambd in self.penalties.items()
            if terms is None or name in terms
        )

    def trace(self, X: ArrayLike, y: ArrayLike, *, training: bool = False,
              rng: np.random.Generator | None = None) -> Trace:
        """Forward and backward on ``(X, y)`` (``m = len(X)``, dropout off unless
        ``training``), every layer's input, output and gradients recorded: see
        :class:`Trace`. Training, gradient flow, divergence and the gradient checker read it."""
        X, targets = self.check_data("trace", X, y)
        return self.forward_backward(X, targets, training=training, rng=rng, input_grad=True)

    def cost(self, X: ArrayLike, y: ArrayLike) -> float:
        """The notes' ``J``: mean loss plus penalty with ``m = len(X)``, dropout off."""
        X, targets = self.check_data("cost", X, y)
        out = self.forward_backward(X).activations[-1]
        return self.loss.cost(out, targets, self.from_logits) + self.penalty(len(X))

    def gradients(self, X: ArrayLike, y: ArrayLike, *, training: bool = False,
                  rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
        """``dJ/dθ`` by name (``dense_1.W`` …), penalty included, ``m = len(X)``, fresh
        arrays. Dropout is off unless ``training=True`` (then ``rng`` draws the masks)."""
        return unflatten(self.cost_and_gradients(X, y, training=training, rng=rng)[1],
                         self.layout)

    def cost_and_gradients(self, X: ArrayLike, y: ArrayLike, *, training: bool = False,
                           rng: np.random.Generator | None = None) -> tuple[float, np.ndarray]:
        """``(J, dJ/dθ)`` with the gradient flat, laid out like :attr:`theta`."""
        X, targets = self.check_data("gradients", X, y)
        trace = self.forward_backward(X, targets, training=training, rng=rng)
        return trace.cost, trace.gradient

    # --- prediction and evaluation ----------------------------------------------------

    def output(self, X: ArrayLike, *, logits: bool = False) -> np.ndarray:
        """The network's output activations ``A[L]`` for ``X`` (inference mode, batched);
        ``logits=True``: what the loss takes, as :meth:`forward`'s."""
        X = self.check_X("predict", self.standardized(X))
        if len(X) == 0:
            return np.empty((0, self.output_dim), self.dtype)
        return np.concatenate([self.forward(X[start : start + PREDICT_BATCH], logits=logits)[0]
                               for start in range(0, len(X), PREDICT_BATCH)])

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities ``(m, k)``; a sigmoid output gives ``(m, 2)``: ``[1 - p, p]``."""
        if self.loss.task == "regression":
            raise TypeError("predict_proba: the model is a regressor (mean squared error); "
                            "use predict.")
        out = self.output(X)
        return np.hstack([1 - out, out]) if self.loss.task == "binary" else out

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Class labels ``(m,)`` for classifiers; values for regression (``(m,)`` for one
        output, else ``(m, k)``)."""
        out = self.output(X)
        if self.loss.task == "multiclass":
            return out.argmax(axis=1)
        if self.loss.task == "binary":
            return (out[:, 0] > 0.5).astype(np.intp)
        return out[:, 0] if out.shape[1] == 1 else out

    def evaluate(self, X: ArrayLike, y: ArrayLike, *,
                 rows: ArrayLike | None = None) -> dict[str, float]:
        """``{"loss": mean data loss, "error": …}`` in inference mode, no penalty. The error
        is the misclassification rate for classifiers and the MSE for regression. ``rows``
        (an index array) measures ``X[rows]`` only, without copying them."""
        X, targets = self.check_data("evaluate", self.standardized(X), y)
        return self.measure(X, targets, None if rows is None else
                            row_indices("evaluate", rows, len(X)))

    def measure(self, X: np.ndarray, targets: np.ndarray,
                rows: np.ndarray | None = None) -> dict[str, float]:
        """:meth:`evaluate` on checked network inputs and encoded targets
        (:meth:`check_data`'s), :data:`PREDICT_BATCH` rows at a time."""
        total, wrong = 0.0, 0.0
        n = len(X) if rows is None else len(rows)
        batches: Iterable[slice | np.ndarray] = (
            (slice(start, start + PREDICT_BATCH) for start in range(0, n, PREDICT_BATCH))
            if rows is None else row_chunks(rows, len(X), PREDICT_BATCH))
        for batch in batches:
            out, _ = self.forward(X[batch], logits=True)
            if self.loss.task == "regression":  # squared errors overflow float32 above ~1.8e19
                out = out.astype(np.float64)
            t = targets[batch]
            if self.loss.task == "multiclass":
                wrong += float(np.count_nonzero(out.argmax(axis=1) != t))
            elif self.loss.task == "binary":
                # sigmoid(z) > 0.5 exactly when z > 0
                threshold = 0.0 if self.from_logits else 0.5
                wrong += float(np.count_nonzero((out > threshold) != (t > 0.5)))
            total += self.loss.cost(out, t, self.from_logits) * len(out)
        loss = total / n
        error = loss if self.loss.task == "regression" else wrong / n
        return {"loss": loss, "error": error}

    def diagnose(
        self,
        train: tuple[ArrayLike, ArrayLike] | Part,
        dev: tuple[ArrayLike, ArrayLike] | Part,
        bayes_error: float | str | Yardstick = "auto",
        test: tuple[ArrayLike, ArrayLike] | Part | None = None,
        diverged: bool | Divergence = False,
        train_dev: tuple[ArrayLike, ArrayLike] | Part | None = None,
        **thresholds: float,
    ) -> Diagnosis:
        """Bias and variance of this model: :func:`deeprecipe.diagnose` fed with the errors
        :meth:`evaluate` measures on ``train``, ``dev`` (and ``test``), each ``(X, y)`` or a
        :class:`~deeprecipe.data.Part` (read without gathering it), in inference mode on the
        final weights (never the training cost logged while training); a training part of
        more than :data:`MEASURED_TRAIN_ROWS` rows on a seeded sample of that many (the
        remark ``train_error_sampled`` says so).
        ``bayes_error`` is :func:`~deeprecipe.diagnose`'s; ``"auto"`` (the default) fits
        the reference models on ``train`` and measures them on ``dev``
        (:func:`~deeprecipe.diagnostics.fit_references`, seed 0): their best dev error is
        the yardstick (pass ``0.0`` for the notes' reading of a zero Bayes error). ``diverged``
        (``history.divergence``) and ``thresholds`` (``bias_threshold``,
        ``variance_threshold``) are :func:`~deeprecipe.diagnose`'s. With two sources,
        ``train_dev`` (training-distribution rows held out of training) gives the train-dev
        error: variance is then train-dev − train, the data mismatch dev − train-dev, and
        ``"auto"`` measures the references on ``train_dev``.
        """
        errors, sizes = {}, {}
        for name, part in (("train", train), ("train_dev", train_dev), ("dev", dev),
                           ("test", test)):
            if part is None:
                continue
            X: ArrayLike
            y: ArrayLike
            rows: np.ndarray | None
            if isinstance(part, Part):
                X, y, rows = part.source_X, part.source_y, part.indices
            elif not isinstance(part, (tuple, list)) or len(part) != 2:
                raise fail("Sequential.diagnose", name, "a pair (X, y) or a Part", part)
            else:
                X, y, rows = part[0], part[1], None
            sizes[name] = len(part) if isinstance(part, Part) else len(np.asarray(X))
            picked = measured_rows(sizes[name]) if name == "train" else slice(None)
            if not isinstance(picked, slice):  # more than MEASURED_TRAIN_ROWS: a sample
                rows = picked if rows is None else rows[picked]
            errors[name] = self.evaluate(X, y, rows=rows)["error"]
        regression = self.loss.task == "regression"
        if is_auto(bayes_error) and diverged is False:  # a diverged run has no bias reading
            bayes_error = fit_references(train, dev if train_dev is None else train_dev,
                                         task=self.loss.task)
        diagnosis = diagnose(
            errors["train"], errors["dev"], bayes_error, test_error=errors.get("test"),
            n_train=sizes["train"], n_dev=None if regression else sizes["dev"],
            regression=regression, diverged=diverged, train_dev_error=errors.get("train_dev"),
            n_train_dev=None if regression else sizes.get("train_dev"), **thresholds,
        )
        if sizes["train"] > MEASURED_TRAIN_ROWS:
            diagnosis.remarks.append(Finding("train_error_sampled", {
                "rows": MEASURED_TRAIN_ROWS, "total": sizes["train"]}))
        regularization = self.regularization()
        if diagnosis.high_bias and regularization:
            diagnosis.remarks.append(Finding("regularized", {"regularization": regularization}))
        return diagnosis

    def regularization(self) -> str:
        """The active regularization, e.g. ``"l2=0.7, dropout keep_prob=0.8"``."""
        terms = [f"{name}={lambd:g}" for name, lambd in self.penalties.items()]
        terms += [f"dropout keep_prob={layer.keep_prob:g}" for layer in self.layers
                  if isinstance(layer, Dropout) and layer.keep_prob < 1]
        return ", ".join(terms)

    # --- checks, persistence, display ---------------------------------------------------

    def standardized(self, X: ArrayLike) -> ArrayLike:
        """``X`` through :attr:`standardizer` when one is set (raw inputs → network inputs)."""
        return X if self.standardizer is None else self.standardizer.transform(X)

    def check_X(self, where: str, X: ArrayLike) -> np.ndarray:
        """``X`` as the network's input array (dtype, 2-D, ``input_dim`` columns); errors
        start with ``where``."""
        X = as_float_array(where, "X", X, self.dtype)
        if X.shape[1] != self.input_dim:
            raise fail(where, "X.shape[1]", f"{self.input_dim} (the model's input_dim)",
                       X.shape[1])
        return X

    def check_data(self, where: str, X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """``(X, targets)`` checked and encoded for the loss (class indices, ``(m, 1)``
        zeros and ones, or ``(m, k)`` values); errors start with ``where``."""
        X = self.check_X(where, X)
        if len(X) == 0:
            raise fail(where, "X", "at least one example", X)
        targets = losses.encode_targets(
            self.loss.task, np.asarray(y), self.output_dim, self.dtype, where
        )
        if len(targets) != len(X):
            raise fail(where, "len(y)", f"len(X) = {len(X)}", len(targets))
        return X, targets

    def save(self, path: str | Path, standardizer: Standardizer | None = None) -> Path:
        """Write ``config.json`` and ``weights.safetensors`` into the folder ``path``, with
        ``standardizer`` (default: :attr:`standardizer`), so that ``dr.load`` returns a model
        that standardizes raw inputs itself."""
        return persistence.save(self, path, standardizer=standardizer)

    def summary(self) -> str:
        """A table of layers, output shapes and parameter counts (returned, not printed)."""
        rows = [("layer", "config", "output", "parameters")]
        for layer, name, params, dim in zip(self.layers, self.names, self.params, self.dims,
                                            strict=True):
            count = sum(v.size for v in params.values())
            config = ", ".join(f"{k}={v}" for k, v in layer.get_config().items() if v is not None)
            rows.append((name, config, f"(m, {dim})", f"{count:,}"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(f"total parameters: {self.n_parameters:,}; loss: {self.loss.name}; "
                     f"l2={self.l2}, l1={self.l1}; dtype={self.dtype.name}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Sequential({self.layers!r}, input_dim={self.input_dim}, "
                f"loss={self.loss.name!r}, l2={self.l2}, l1={self.l1}, dtype={self.dtype.name!r})")


def measured_rows(n: int) -> np.ndarray | slice:
    """The rows of ``n`` training rows whose error is measured: at most
    :data:`MEASURED_TRAIN_ROWS`, a seeded sample (seed 0) in increasing order."""
    return sample_positions(n, MEASURED_TRAIN_ROWS, np.random.default_rng(0))


def load(path: str | Path) -> Sequential:
    """Rebuild the model saved in ``path``: same config, same weights, same predictions.

    A model saved with a standardizer comes back with ``model.standardizer`` set, so its
    ``predict``/``predict_proba``/``evaluate`` take raw inputs. Everything is checked first
    (see :mod:`deeprecipe.persistence`).
    """
    return read(path)[0]


def read(path: str | Path) -> tuple[Sequential, dict[str, Any]]:
    """The model saved in ``path`` (as :func:`load`) and its checked ``config.json``, for
    the entries the model does not hold (``classes``, …)."""
    saved = persistence.read_folder(path)
    model = _built(saved.config["model"], f"load: {saved.config_file}")
    model.set_parameters(saved.tensors)
    model.standardizer = saved.standardizer
    return model, saved.config


def from_config_file(path: str | Path) -> Sequential:
    """A freshly initialized model from a config file: a saved model's ``config.json`` or a
    bare :meth:`Sequential.get_config` (checked by
    :func:`deeprecipe.persistence.read_config_file`)."""
    return _built(*persistence.read_config_file(path))


def _built(spec: dict[str, Any], where: str) -> Sequential:
    try:
        return Sequential.from_config(spec)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where} describes no valid model: {error}") from None


def _restore(layers: list[Layer], options: dict[str, Any], theta: np.ndarray,
             standardizer: Standardizer | None) -> Sequential:
    """Rebuild a pickled or copied :class:`Sequential` (see ``Sequential.__reduce__``)."""
    model = Sequential(layers, **options)
    model.theta[...] = theta
    model.standardizer = standardizer
    return model


@dataclass
class Trace:
    """One pass through the network (:meth:`Sequential.trace`), layer by layer.

    Layer ``i``'s input is ``activations[i]`` and its output ``activations[i + 1]`` (the
    last one is what the loss takes: the logits when it applies the output activation
    itself); ``caches[i]`` is its cache. ``deltas[i]`` is ``dJ/d activations[i]``
    (``deltas[0]``, ``dJ/dX``, only when asked for). ``grads[i]`` holds layer ``i``'s
    parameter gradients, views of the flat ``gradient`` (data term and penalties).
    ``terms`` are ``J``'s terms (``"data"``, ``"l2"``, ``"l1"``); :attr:`cost` their sum.
    A forward-only trace (no targets) has no deltas, gradient or terms.
    """

    activations: list[np.ndarray]
    caches: list[Any]
    deltas: list[np.ndarray | None]
    grads: list[dict[str, np.ndarray]]
    gradient: np.ndarray
    terms: dict[str, float]

    @property
    def cost(self) -> float:
        data = self.terms.get("data", 0.0)  # plus the penalty, grouped as Sequential.cost adds it
        return data + sum([value for term, value in self.terms.items() if term != "data"])

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]
