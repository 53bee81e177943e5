"""Save and read models: ``config.json`` + ``weights.safetensors`` in a folder, no pickle.

:func:`save` writes them atomically, with the SHA-256 of the weights file and of the config's
other entries; :func:`read_folder` checks everything (entries, tensors, checksums) before the
network is built, and refuses with one error naming the file: :class:`FileNotFoundError` for
a missing file, :class:`ValueError` otherwise. The checks are listed above this reference.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_tensors
from safetensors.numpy import save as serialize

from . import losses
from ._checks import FLOAT_DTYPES, describe, fail, positive_int
from .data.encode import Encoder
from .data.normalize import Standardizer
from .layers import from_config, walk
from .run.files import MODEL, atomic_write, read_bytes, read_json

if TYPE_CHECKING:
    from .model import Sequential

FORMAT_VERSION = MODEL.version
UNSEALED_VERSION = 1  # no checksums yet: read with every other check
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
SEALS = ("weights_sha256", "config_sha256")


def save(
    model: Sequential,
    path: str | Path,
    extra: dict[str, Any] | None = None,
    standardizer: Standardizer | None = None,
) -> Path:
    """Write ``model`` into the folder ``path`` (created if needed); returns the folder.

    ``standardizer`` (default: ``model.standardizer``), a fitted
    :class:`~deeprecipe.data.Standardizer` for the model's inputs, is stored in
    ``config.json``. ``extra`` adds other JSON-serializable entries to ``config.json``.
    """
    folder = _folder("save", path)
    if folder.exists() and not folder.is_dir():
        raise fail("save", "path", "a folder (a model is a folder of files)", str(folder),
                   "it is a file; choose another name")
    scaler = model.standardizer if standardizer is None else standardizer
    state = None
    if scaler is not None:
        if not isinstance(scaler, Standardizer):
            raise TypeError("save: standardizer must be a fitted deeprecipe.data.Standardizer; "
                            f"received {type(scaler).__name__}.")
        state = scaler.to_dict()  # RuntimeError if it was never fitted
        if len(state["mean"]) != model.input_dim:
            raise fail("save", "the standardizer's feature count",
                       f"the model's input_dim ({model.input_dim})", len(state["mean"]))
    weights = serialize({name: np.ascontiguousarray(value)
                         for name, value in model.named_parameters().items()})
    config = MODEL.stamp({"model": model.get_config()})
    config.update({key: value for key, value in (extra or {}).items() if key not in config})
    config["standardizer"] = state  # null: saved without one (a missing entry is damage)
    config["weights_sha256"] = hashlib.sha256(weights).hexdigest()
    config = json.loads(json.dumps(config))  # sealed as load will read it
    config["config_sha256"] = config_digest(config)
    _check_config(config, f"save: {folder / CONFIG_FILE}")  # what saves, loads
    atomic_write(folder / WEIGHTS_FILE, lambda tmp: tmp.write_bytes(weights))
    MODEL.write(folder / CONFIG_FILE, config)
    return folder


def _folder(where: str, path: Any) -> Path:
    """``path`` as a Path; anything but a str or an os.PathLike is a TypeError."""
    if not isinstance(path, (str, os.PathLike)):
        raise fail(where, "path", "a str or a pathlib.Path", path, error=TypeError)
    if not os.fspath(path):  # Path('') is the current folder
        raise fail(where, "path", "a folder's name", path)
    return Path(path)


def config_digest(config: dict[str, Any]) -> str:
    """The ``config_sha256`` of a parsed ``config.json``: the SHA-256 of its entries other
    than ``config_sha256``, as canonical JSON (so spacing and key order do not count)."""
    body = {key: value for key, value in config.items() if key != "config_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Saved(NamedTuple):
    """A saved model folder, read and checked (:func:`read_folder`): its ``config.json``,
    the tensors by name, the standardizer (``None``: saved without one) and the config
    file's path. The model is built from it at the model level (``deeprecipe.model.read``)."""

    config: dict[str, Any]
    tensors: dict[str, np.ndarray]
    standardizer: Standardizer | None
    config_file: Path


def read_folder(path: str | Path) -> Saved:
    """Read and check everything in a saved model folder (format version 1, written before
    the checksums, with every check but those)."""
    folder = _folder("load", path)
    config_file, weights_file = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    if not config_file.is_file():
        raise FileNotFoundError(f"load: no {CONFIG_FILE} in {folder}; is it a saved model "
                                "folder (written by model.save)?")
    config = read_json(config_file, "load")
    plan = _check_config(config, f"load: {config_file}")
    if not weights_file.is_file():
        raise FileNotFoundError(f"load: no {WEIGHTS_FILE} in {folder}.")
    data = read_bytes(weights_file, "load")
    tensors = _check_weights(data, plan, weights_file)
    sealed = config["format_version"] != UNSEALED_VERSION
    if sealed and config["weights_sha256"] != hashlib.sha256(data).hexdigest():
        raise ValueError(f"load: {weights_file} does not match the weights_sha256 recorded in "
                         f"{CONFIG_FILE}: it was damaged or replaced after the model was "
                         "saved. help: save or train the model again.")
    if sealed and config["config_sha256"] != config_digest(config):
        raise ValueError(f"load: {config_file} does not match its config_sha256: it was "
                         "edited or damaged after the model was saved. help: change a model "
                         "in Python (dr.load, change it, save it), not in its files.")
    return Saved(config, tensors, plan.standardizer, config_file)


def read_config_file(path: str | Path) -> tuple[dict[str, Any], str]:
    """``(model config, where)`` from a config file: a saved model's ``config.json`` or a
    bare ``Sequential.get_config()``, checked as a saved config is; with no weights to
    measure the sizes against, a network whose parameters would take more than a quarter of
    this machine's memory is refused. ``where`` (``"load: <file>"``) starts errors."""
    file = Path(path)
    where = f"load: {file}"
    config = read_json(file, "load")
    if isinstance(config, dict) and "model" in config:
        plan = _check_config(config, where)
        spec = config["model"]
    else:
        spec = config
        plan = _check_model(spec, where)
    needed = sum(math.prod(shape) for shape in plan.shapes.values()) * plan.dtype.itemsize
    try:  # this machine's physical memory (infinite where the OS does not say)
        allowed = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 4
    except (AttributeError, ValueError, OSError):
        allowed = math.inf
    if needed > allowed:  # an int of any size: a 400-digit one is not a float
        raise ValueError(f"{where} describes a network of more than {allowed / 2**30:.3g} GiB "
                         "of parameters (a quarter of this machine's memory).")
    return spec, where


# --- reading and checking -------------------------------------------------------------------


class _Plan(NamedTuple):
    """What a checked config promises: each tensor's shape, their dtype, the standardizer."""

    shapes: dict[str, tuple[int, ...]]
    dtype: np.dtype
    standardizer: Standardizer | None


def _check_config(config: Any, where: str) -> _Plan:
    """Check every entry of a parsed ``config.json`` that predictions depend on; ``where``
    (``"load: <file>"``) starts each error. Nothing is allocated."""
    version = MODEL.check(config, where)["format_version"]
    required = ("model",) if version == UNSEALED_VERSION else ("model", "standardizer", *SEALS)
    missing = [key for key in required if key not in config]
    if missing:
        raise ValueError(f"{where} has no {missing[0]!r} entry; a format_version {version} "
                         f"config has {', '.join(map(repr, required))}.")
    plan = _check_model(config["model"], where, config.get("standardizer"),
                        config.get("classes"))
    if config.get("encoder") is not None:  # a table's encoding of the raw columns
        try:
            Encoder.from_dict(config["encoder"], n_outputs=config["model"]["input_dim"])
        except ValueError as error:
            raise ValueError(f"{where} has an invalid 'encoder': {error}") from None
    return plan


def _check_model(spec: Any, where: str, standardizer: Any = None, classes: Any = None
                 ) -> _Plan:
    """The ``model`` entry (``Sequential.get_config()``), the standardizer's state and the
    class labels: the layers are checked by their own constructors (which allocate nothing),
    the tensors named as ``Sequential`` names them and shaped by each layer's ``shapes``."""
    if not isinstance(spec, dict):
        raise fail(where, "model", "a JSON object (Sequential.get_config())", spec)
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers:
        raise fail(where, "model.layers", "a non-empty list of layers", layers)
    input_dim = positive_int(where, "model.input_dim", spec.get("input_dim"))
    dtype = spec.get("dtype", "float32")
    if dtype not in FLOAT_DTYPES:
        raise fail(where, "model.dtype", " or ".join(map(repr, FLOAT_DTYPES)), dtype)
    built = [from_config(layer_spec, where, f"model.layers[{index}]")
             for index, layer_spec in enumerate(layers)]
    shapes, _, dims = walk(built, input_dim, lambda layer, dim: layer.shapes(dim))
    scaler = None
    if standardizer is not None:
        try:
            scaler = Standardizer.from_dict(standardizer, n_features=input_dim)
        except ValueError as error:
            raise ValueError(f"{where} has an invalid 'standardizer': {error}") from None
    _check_classes(classes, spec.get("loss"), getattr(built[-1], "activation", ""), dims[-1],
                   where)
    return _Plan(shapes, np.dtype(dtype), scaler)


def _check_classes(classes: Any, loss: Any, activation: str, units: int, where: str) -> None:
    """``classes`` (the labels of the output's classes, from a run) must match the output
    layer: two for a sigmoid, one per unit for a softmax, none for a regression."""
    if classes is None:
        return
    try:
        task = losses.get(losses.default_for(activation) if loss is None else loss).task
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: model.loss: {error}") from None
    if task == "regression":
        raise fail(where, "classes", "null for a regression model", classes)
    count = 2 if task == "binary" else units
    if not isinstance(classes, list) or len(classes) != count or not all(
        isinstance(label, (str, int, float)) for label in classes
    ) or len(set(classes)) != len(classes):
        raise fail(where, "classes", f"a list of {count} distinct labels (the output layer's "
                   "classes)", classes)


def _check_weights(data: bytes, plan: _Plan, file: Path) -> dict[str, np.ndarray]:
    """The tensors of ``data``, which must be those ``plan`` describes, all finite."""
    try:
        tensors = load_tensors(data)
    except (SafetensorError, TypeError, ValueError) as error:
        raise ValueError(f"load: {file} is unreadable (truncated or edited?): {error}") \
            from None
    missing = [name for name in plan.shapes if name not in tensors]
    unexpected = [name for name in tensors if name not in plan.shapes]
    if missing or unexpected:
        raise ValueError(f"load: {file} must hold the tensors {CONFIG_FILE} describes; "
                         f"missing {describe(missing)}, unexpected {describe(unexpected)}.")
    for name, shape in plan.shapes.items():
        tensor = tensors[name]
        if tensor.shape != shape or tensor.dtype != plan.dtype:
            raise ValueError(
                f"load: {file}: tensor {name} must be {plan.dtype} of shape {shape} (as "
                f"{CONFIG_FILE} describes); received {tensor.dtype} of shape {tensor.shape}."
            )
        if not np.isfinite(tensor).all():
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(tensor))[0])
            raise ValueError(f"load: {file}: tensor {name} must be finite; received "
                             f"{tensor[index]} at index {index}.")
    return tensors
