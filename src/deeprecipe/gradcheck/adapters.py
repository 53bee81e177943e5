"""Check gradients computed by PyTorch (:func:`check_torch`) or JAX (:func:`check_jax`) with
:func:`deeprecipe.gradcheck.check`, blocks named as the framework names them; the point is a
backward written by hand (``torch.autograd.Function``, ``jax.custom_vjp``). Each framework is
optional and imported when called.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import warnings
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any

import numpy as np

from .._checks import fail
from ..findings import Finding
from .core import check, precision_note, relative_difference
from .objective import GradcheckError
from .report import GradcheckReport

__all__ = ["check_jax", "check_torch"]


def _require(where: str, name: str) -> ModuleType:
    """Import the optional framework ``name``; the extra that installs it has its name."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(
            f"{where} needs {name}, which is not installed. help: pip install "
            f"deeprecipe[{name}]"
        ) from error


class _LazyGrads(Mapping[str, np.ndarray]):
    """The analytic gradients of one evaluation, computed on first access (the checker needs
    them only at ``θ``)."""

    def __init__(self, names: list[str], compute: Callable[[], list[np.ndarray]]) -> None:
        self.names, self.compute = names, compute

    @functools.cached_property
    def computed(self) -> dict[str, np.ndarray]:
        return dict(zip(self.names, self.compute(), strict=True))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.computed[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _precision_note(low: dict[str, str], grads: Mapping[str, np.ndarray],
                    reference: Mapping[str, np.ndarray]) -> Finding:
    """The gap between the user's own-precision gradients and the float64 ones."""
    def flat(arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(arrays[n], dtype=np.float64).ravel()
                               for n in reference])

    return precision_note(low.values(), relative_difference(flat(grads), flat(reference)))


# --- PyTorch -------------------------------------------------------------------------------


def check_torch(
    module_or_fn: Any,
    *inputs: Any,
    loss: Callable[[Any], Any] | None = None,
    params: Mapping[str, Any] | None = None,
    unpack: bool | None = None,
    **check_options: Any,
) -> GradcheckReport:
    """Check a PyTorch ``nn.Module`` (or function) and its backward with :func:`check`.

    **Module**: the blocks are its ``named_parameters()`` that require grad; the check runs
    on a float64, eval-mode copy (dropout off, batch norm on its running statistics). ``J``
    is ``module(*inputs)``, a scalar, or ``loss(module(*inputs))``::

        check_torch(net, X, loss=lambda out: F.cross_entropy(out, y))

    **Function**: ``params`` is a dict of tensors or arrays (the blocks) and ``J =
    fn(*params.values(), *inputs)`` or ``fn(params, *inputs)``, optionally through ``loss``.
    ``unpack`` picks the call (True: one tensor per parameter); by default the signature
    decides, and when it cannot (one parameter, or ``*args`` as in ``MyFunction.apply``)
    the tensors are passed one by one unless fn's first argument is called ``params``.

    Floating inputs become float64 tensors (integer ones, such as labels, are kept);
    ``check_options`` (``mode``, ``epsilon``, ...) go to :func:`check`; for a module,
    ``batch_size`` defaults to the first input's length.
    """
    where = "check_torch"
    torch = _require(where, "torch")
    notes: list[Finding] = []
    low: dict[str, str] = {}
    model: _TorchModule | _TorchFunction
    inputs = tuple(torch.from_numpy(x) if isinstance(x, np.ndarray) else x for x in inputs)
    if isinstance(module_or_fn, torch.nn.Module):
        if params is not None:
            raise fail(where, "params", "None for an nn.Module (its parameters are checked)",
                       params, error=TypeError)
        model = _TorchModule(torch, module_or_fn, inputs, loss, notes, low)
        if inputs and getattr(inputs[0], "ndim", 0) >= 1:
            check_options.setdefault("batch_size", len(inputs[0]))
    elif callable(module_or_fn):
        if not isinstance(params, Mapping) or not params:
            raise fail(where, "params", "a non-empty dict of tensors or arrays for a function",
                       params, error=TypeError)
        model = _TorchFunction(torch, module_or_fn, inputs, loss, params, unpack, notes, low)
    else:
        raise fail(where, "module_or_fn", "a torch.nn.Module or a callable", module_or_fn,
                   error=TypeError)
    start = model.start_values()
    report = check(model, start, **check_options)
    report.notes[:0] = notes
    if model.cost_dtype != torch.float64:  # of the last evaluation, as of every one
        report.notes.append(Finding("grad_torch_cost_dtype", {
            "dtype": str(model.cost_dtype).removeprefix("torch.")}))
    if low:
        try:
            own = model.own_precision_grads()
        except (RuntimeError, TypeError, ValueError) as error:  # mixed dtypes torch refuses
            report.notes.append(Finding("grad_precision:failed", {
                "error": f"{type(error).__name__}: {error}"}))
        else:
            report.notes.append(_precision_note(low, own, model(start)[1]))
    return report


def _torch_inputs(torch: ModuleType, inputs: tuple[Any, ...], device: Any,
                  notes: list[Finding], low: dict[str, str]) -> tuple[Any, ...]:
    """Floating inputs as detached float64 tensors on ``device``; the rest unchanged."""
    converted = []
    promoted: dict[str, str] = {}
    for position, value in enumerate(inputs):
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            if value.dtype != torch.float64:
                promoted[f"input {position}"] = str(value.dtype).removeprefix("torch.")
            value = value.detach().to(device=device, dtype=torch.float64)
        elif isinstance(value, torch.Tensor):
            value = value.detach().to(device=device)
        converted.append(value)
    _promoted(promoted, notes, low)
    return tuple(converted)


def _promoted(dtypes: dict[str, str], notes: list[Finding], low: dict[str, str]) -> None:
    """Record the blocks or inputs promoted to float64 from ``dtypes`` in ``low``, and say so."""
    low.update(dtypes)
    if dtypes:
        notes.append(Finding("grad_promoted", {"dtypes": dtypes}))


def _scalar(torch: ModuleType, output: Any, loss: Callable[[Any], Any] | None,
            what: str) -> Any:
    cost = loss(output) if loss is not None else output
    if not isinstance(cost, torch.Tensor) or cost.numel() != 1:
        shape = tuple(cost.shape) if isinstance(cost, torch.Tensor) else type(cost).__name__
        hint = ("pass loss=, e.g. loss=lambda out: F.cross_entropy(out, y)" if loss is None
                else "loss must reduce the output to one number (a mean or a sum)")
        raise ValueError(f"check_torch: {what} must be a scalar cost; received {shape}. "
                         f"help: {hint}")
    return cost.reshape(())


def _torch_grads(torch: ModuleType, cost: Any, tensors: Mapping[str, Any]) -> list[np.ndarray]:
    """``d cost / d tensor`` for each of ``tensors`` as arrays (zeros where it is unused)."""
    grads = torch.autograd.grad(cost, list(tensors.values()), allow_unused=True)
    return [np.zeros(tuple(t.shape)) if g is None else g.detach().cpu().numpy()
            for t, g in zip(tensors.values(), grads, strict=True)]


class _TorchModule:
    """``fn(params) -> (cost, grads)`` over a float64, eval-mode copy of a module."""

    def __init__(self, torch: ModuleType, module: Any, inputs: tuple[Any, ...],
                 loss: Callable[[Any], Any] | None, notes: list[Finding],
                 low: dict[str, str]) -> None:
        self.torch, self.original, self.loss, self.raw_inputs = torch, module, loss, inputs
        trainable = {n: p for n, p in module.named_parameters() if p.requires_grad}
        if not trainable:
            raise ValueError("check_torch: the module must have parameters that require "
                             "grad; received a module with none.")
        frozen = [n for n, p in module.named_parameters() if not p.requires_grad]
        low.update({n: str(p.dtype).removeprefix("torch.") for n, p in trainable.items()
                    if p.dtype != torch.float64})
        self.double_copy = copy.deepcopy(module).double().eval()
        self.params = {n: p for n, p in self.double_copy.named_parameters() if n in trainable}
        device = next(iter(self.params.values())).device
        if low:
            notes.append(Finding("grad_promoted_copy", {
                "dtype": ", ".join(sorted(set(low.values()))), "what": "module"}))
        self.inputs = _torch_inputs(torch, inputs, device, notes, low)
        notes.append(Finding("grad_eval_mode"))
        if frozen:
            notes.append(Finding("grad_frozen", {"blocks": frozen}))

    def start_values(self) -> dict[str, np.ndarray]:
        return {n: p.detach().cpu().numpy().copy() for n, p in self.params.items()}

    def __call__(self, values: Mapping[str, np.ndarray]) -> tuple[float, _LazyGrads]:
        torch = self.torch
        loaded = {}
        with torch.no_grad():
            for name, parameter in self.params.items():
                loaded[name] = torch.from_numpy(np.asarray(values[name], dtype=np.float64))
                parameter.copy_(loaded[name])
        with torch.enable_grad():
            cost = _scalar(torch, self.double_copy(*self.inputs), self.loss,
                           "the module's output")
        for name, parameter in self.params.items():
            if not torch.equal(parameter.detach().cpu(), loaded[name]):
                raise GradcheckError(
                    f"check_torch: the forward pass changed the parameter {name!r}; it must "
                    "not modify the parameters (an in-place update left in forward?).")
        self.cost_dtype = cost.dtype
        return float(cost.detach()), _LazyGrads(list(self.params),
                                                lambda: _torch_grads(torch, cost, self.params))

    def own_precision_grads(self) -> dict[str, np.ndarray]:
        """Gradients of an eval-mode copy in the module's own dtype, at its own values."""
        torch = self.torch
        twin = copy.deepcopy(self.original).eval()
        params = {n: p for n, p in twin.named_parameters() if n in self.params}
        first = next(iter(params.values()))
        inputs = tuple(v.detach().to(device=first.device, dtype=first.dtype)
                       if isinstance(v, torch.Tensor) and v.is_floating_point() else v
                       for v in self.raw_inputs)
        with torch.enable_grad():
            cost = _scalar(torch, twin(*inputs), self.loss, "the module's output")
        return dict(zip(params, _torch_grads(torch, cost, params), strict=True))


class _TorchFunction:
    """``fn(params) -> (cost, grads)`` for a function of tensors: fresh leaves per call."""

    def __init__(self, torch: ModuleType, fn: Callable[..., Any], inputs: tuple[Any, ...],
                 loss: Callable[[Any], Any] | None, params: Mapping[str, Any],
                 unpack: bool | None, notes: list[Finding], low: dict[str, str]) -> None:
        self.torch, self.fn, self.loss, self.raw_inputs = torch, fn, loss, inputs
        self.names = [str(name) for name in params]
        self.given: dict[str, np.ndarray] = {}
        promoted: dict[str, str] = {}
        for name, value in zip(self.names, params.values(), strict=True):
            array = (value.detach().cpu().numpy() if isinstance(value, torch.Tensor)
                     else np.asarray(value))
            if array.dtype.kind != "f":
                raise TypeError(f"check_torch: params[{name!r}] must be a floating tensor "
                                f"or array; received dtype {array.dtype}.")
            if array.dtype != np.float64:
                promoted[name] = array.dtype.name
            self.given[name] = array
        _promoted(promoted, notes, low)
        self.unpack = _resolve_unpack(fn, len(self.names), len(inputs)) if unpack is None \
            else bool(unpack)
        self.inputs = _torch_inputs(torch, inputs, "cpu", notes, low)

    def start_values(self) -> dict[str, np.ndarray]:
        return {n: np.asarray(v, dtype=np.float64).copy() for n, v in self.given.items()}

    def _cost(self, leaves: dict[str, Any], inputs: tuple[Any, ...]) -> Any:
        with self.torch.enable_grad():
            if self.unpack:
                output = self.fn(*leaves.values(), *inputs)
            else:
                output = self.fn(dict(leaves), *inputs)
            return _scalar(self.torch, output, self.loss, "fn's output")

    def __call__(self, values: Mapping[str, np.ndarray]) -> tuple[float, _LazyGrads]:
        torch = self.torch
        leaves = {n: torch.tensor(np.asarray(values[n], dtype=np.float64), requires_grad=True)
                  for n in self.names}
        cost = self._cost(leaves, self.inputs)
        self.cost_dtype = cost.dtype
        return float(cost.detach()), _LazyGrads(self.names,
                                                lambda: _torch_grads(torch, cost, leaves))

    def own_precision_grads(self) -> dict[str, np.ndarray]:
        """Gradients at the parameters and inputs exactly as given (their own dtypes)."""
        torch = self.torch
        leaves = {n: torch.tensor(v, requires_grad=True) for n, v in self.given.items()}
        cost = self._cost(leaves, self.raw_inputs)
        return dict(zip(self.names, _torch_grads(torch, cost, leaves), strict=True))


def _resolve_unpack(fn: Callable[..., Any], n_params: int, n_inputs: int) -> bool:
    """True: call ``fn(*tensors, *inputs)``; False: ``fn(params_dict, *inputs)``."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return True

    def binds(count: int) -> bool:
        try:
            signature.bind(*range(count))
        except TypeError:
            return False
        return True

    one_by_one, as_dict = binds(n_params + n_inputs), binds(1 + n_inputs)
    if one_by_one != as_dict:
        return one_by_one
    first = next(iter(signature.parameters.values()), None)
    return not (first is not None and first.name == "params")


# --- JAX -----------------------------------------------------------------------------------


def check_jax(fn: Callable[[Any], Any], params: Any, *, jit: bool = True,
              **check_options: Any) -> GradcheckReport:
    """Check a JAX function of a pytree, ``fn(params) -> scalar``, with :func:`check`.

    The analytic gradient is ``jax.grad(fn)``, so whatever ``fn`` differentiates through —
    ``jax.custom_vjp`` / ``custom_jvp`` rules included — is what gets checked. The blocks
    are the pytree's leaves, named by their paths: ``{"dense": {"w": ...}}`` gives
    ``dense.w``, a list gives ``layers.0.b``; a bare array is ``params``.

    It runs with 64-bit types on (``jax.enable_x64``, restored afterwards), the leaves in
    float64, ``fn`` and its gradient under ``jax.jit`` unless ``jit=False`` (or tracing
    fails: a note says so). ``check_options`` go to :func:`check`.
    """
    where = "check_jax"
    jax = _require(where, "jax")
    ambient = bool(jax.config.jax_enable_x64)
    try:
        with jax.enable_x64(True):
            model = _JaxFunction(jax, fn, params, jit)
            report = check(model, model.start_values(), **check_options)
            report.notes[:0] = model.notes
            reference = dict(model(model.start_values())[1]) if model.low else {}
    finally:
        if not ambient:
            # jaxlib 0.10 keeps float64 device copies of NumPy constants that jit captured
            # with 64-bit types on and hands them to 32-bit code afterwards ("expected
            # f32[...] but got f64[...]"); dropping the caches keeps the caller's code working.
            jax.clear_caches()
    if model.low:  # back in the caller's setting: the gradients as they get them
        report.notes.append(_precision_note(model.low, model.own_precision_grads(), reference))
    return report


class _JaxFunction:
    """``fn(params) -> (cost, grads)`` for a JAX function of a pytree, in float64."""

    def __init__(self, jax: ModuleType, fn: Callable[[Any], Any], params: Any,
                 jit: bool) -> None:
        if not callable(fn):
            raise fail("check_jax", "fn", "callable", fn, error=TypeError)
        self.jax, self.fn = jax, fn
        pairs, self.treedef = jax.tree_util.tree_flatten_with_path(params)
        if not pairs:
            raise fail("check_jax", "params", "a pytree with at least one array leaf", params,
                       error=TypeError)
        paths = [path for path, _ in pairs]
        self.names = [jax.tree_util.keystr(p, simple=True, separator=".") or "params"
                      for p in paths]
        if len(set(self.names)) != len(paths):  # "a.b" as a key and as a path: keep brackets
            self.names = [jax.tree_util.keystr(p) or "params" for p in paths]
        self.given = [np.asarray(leaf) for _, leaf in pairs]
        self.notes: list[Finding] = []
        self.low: dict[str, str] = {}
        for name, leaf in zip(self.names, self.given, strict=True):
            if leaf.dtype.kind != "f":
                raise TypeError(f"check_jax: the leaf {name} must be a floating array; "
                                f"received dtype {leaf.dtype}.")
        _promoted({n: leaf.dtype.name for n, leaf in zip(self.names, self.given, strict=True)
                   if leaf.dtype != np.float64}, self.notes, self.low)
        self.cost_fn, self.grad_fn = self._compile(jit)

    def _tree(self, leaves: list[Any]) -> Any:
        return self.jax.tree_util.tree_unflatten(self.treedef, leaves)

    def _compile(self, jit: bool) -> tuple[Callable[..., Any], Callable[..., Any]]:
        jax = self.jax
        cost, grad = self.fn, jax.grad(self.fn)
        if not jit:
            return cost, grad
        jitted_cost, jitted_grad = jax.jit(cost), jax.jit(grad)
        start = self._tree([np.asarray(v, dtype=np.float64) for v in self.given])
        try:
            jitted_cost(start)
        except (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                jax.errors.TracerIntegerConversionError,
                jax.errors.TracerArrayConversionError):
            self.notes.append(Finding("grad_eager"))
            return cost, grad
        return jitted_cost, jitted_grad

    def start_values(self) -> dict[str, np.ndarray]:
        return {n: np.asarray(v, dtype=np.float64).copy()
                for n, v in zip(self.names, self.given, strict=True)}

    def _scalar(self, value: Any) -> float:
        if isinstance(value, (tuple, list)):
            raise ValueError(f"check_jax: fn's output must be a scalar cost; received a "
                             f"{type(value).__name__} of {len(value)} (a cost and auxiliary "
                             "values?). help: check lambda params: fn(params)[0].")
        array = np.asarray(value)
        if array.size != 1:
            raise ValueError(f"check_jax: fn's output must be a scalar cost; received "
                             f"shape {array.shape}. help: reduce it (a mean or a sum).")
        return float(array.reshape(()))

    def __call__(self, values: Mapping[str, np.ndarray]) -> tuple[float, _LazyGrads]:
        tree = self._tree([np.asarray(values[n], dtype=np.float64) for n in self.names])
        cost = self._scalar(self.cost_fn(tree))
        return cost, _LazyGrads(self.names, lambda: self._grads(self.grad_fn, tree))

    def _grads(self, grad_fn: Callable[..., Any], tree: Any) -> list[np.ndarray]:
        leaves = self.jax.tree_util.tree_leaves(grad_fn(tree))
        return [np.asarray(leaf) for leaf in leaves]

    def own_precision_grads(self) -> dict[str, np.ndarray]:
        """``jax.grad(fn)`` at the leaves as given, in their own dtypes (call it outside
        the float64 context: 64-bit types as the caller has them)."""
        with warnings.catch_warnings():
            # With 64-bit types off, JAX warns that float64 data in fn becomes float32:
            # that truncation is exactly the precision being measured here.
            warnings.filterwarnings("ignore", message=".*truncated to dtype float32",
                                    category=UserWarning)
            tree = self._tree([self.jax.numpy.asarray(v) for v in self.given])
            grads = self._grads(self.jax.grad(self.fn), tree)
        return dict(zip(self.names, grads, strict=True))
