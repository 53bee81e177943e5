"""Save and load models: ``config.json`` + ``weights.safetensors`` in a folder. No pickle.

``config.json`` holds ``format_version``, the library version, the model's config and, when
the model was saved with one, the fitted standardizer's statistics (``"standardizer"``: μ and
σ per feature, so the loaded model predicts from raw inputs); ``weights.safetensors`` holds
one tensor per named parameter (``dense_1.W``, …). Files are written to a temporary name
and renamed, so an interrupted save never leaves a corrupt file.
Loading checks everything it reads and names the file and the problem.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from ._checks import fail
from .data.normalize import Standardizer
from .model import Sequential

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The temporary file is created with the usual permissions (0o666 less the umask), not
    ``mkstemp``'s owner-only 0o600: a report or model is meant to be shared.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    mode = tmp.stat().st_mode  # 0o666 less the umask
    try:
        write(tmp)
        os.chmod(tmp, mode)  # writers that replace the file (safetensors) set their own
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


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
    from . import __version__

    folder = Path(path)
    scaler = model.standardizer if standardizer is None else standardizer
    config = {
        "format_version": FORMAT_VERSION,
        "library": "deeprecipe",
        "library_version": __version__,
        "model": model.get_config(),
        **(extra or {}),
    }
    if scaler is not None:
        if not isinstance(scaler, Standardizer):
            raise TypeError("save: standardizer must be a fitted deeprecipe.data.Standardizer; "
                            f"received {type(scaler).__name__}.")
        state = scaler.to_dict()  # RuntimeError if it was never fitted
        if len(state["mean"]) != model.input_dim:
            raise fail("save", "the standardizer's feature count",
                       f"the model's input_dim ({model.input_dim})", len(state["mean"]))
        config["standardizer"] = state
    tensors = {name: np.ascontiguousarray(v) for name, v in model.named_parameters().items()}
    atomic_write(folder / WEIGHTS_FILE, lambda tmp: save_file(tensors, str(tmp)))
    text = json.dumps(config, indent=2)
    atomic_write(folder / CONFIG_FILE, lambda tmp: _write_text(tmp, text))
    return folder


def read_config(path: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a saved model folder, version-checked."""
    file = Path(path) / CONFIG_FILE
    if not file.is_file():
        raise FileNotFoundError(f"load: no {CONFIG_FILE} in {Path(path)}; is it a saved model "
                                "folder (written by model.save)?")
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"load: {file} is not valid JSON ({error}).") from None
    if not isinstance(config, dict) or "format_version" not in config or "model" not in config:
        raise ValueError(f"load: {file} must have 'format_version' and 'model' entries; "
                         f"received keys {sorted(config) if isinstance(config, dict) else config}.")
    if config["format_version"] != FORMAT_VERSION:
        raise ValueError(
            f"load: {file} has format_version={config['format_version']!r}; this deeprecipe "
            f"reads format_version={FORMAT_VERSION}. help: load it with the deeprecipe "
            f"version that wrote it ({config.get('library_version', 'unknown')})."
        )
    return config


def load(path: str | Path) -> Sequential:
    """Rebuild the model saved in ``path``: same config, same weights, same predictions.

    A model saved with a standardizer comes back with ``model.standardizer`` set, so its
    ``predict``/``predict_proba``/``evaluate`` take raw inputs.
    """
    folder = Path(path)
    config = read_config(folder)
    try:
        model = Sequential.from_config(config["model"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"load: {folder / CONFIG_FILE} describes no valid model: "
                         f"{error}") from None
    weights_file = folder / WEIGHTS_FILE
    if not weights_file.is_file():
        raise FileNotFoundError(f"load: no {WEIGHTS_FILE} in {folder}.")
    try:
        tensors = load_file(str(weights_file))
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(f"load: {weights_file} is unreadable (truncated or edited?): "
                         f"{error}") from None
    expected = model.named_parameters()
    if set(tensors) != set(expected):
        raise ValueError(
            f"load: {weights_file} must hold the tensors {list(expected)}; received "
            f"{sorted(tensors)}."
        )
    for name, view in expected.items():
        tensor = tensors[name]
        if tensor.shape != view.shape or tensor.dtype != view.dtype:
            raise ValueError(
                f"load: {weights_file}: tensor {name} must be {view.dtype} of shape "
                f"{view.shape}; received {tensor.dtype} of shape {tensor.shape}."
            )
        view[...] = tensor
    if config.get("standardizer") is not None:
        model.standardizer = _read_standardizer(config["standardizer"], folder, model.input_dim)
    return model


def _read_standardizer(state: Any, folder: Path, input_dim: int) -> Standardizer:
    """The standardizer stored in ``config.json``, checked against the model."""
    try:
        scaler = Standardizer.from_dict(state)
    except ValueError as error:
        raise ValueError(f"load: {folder / CONFIG_FILE} has an invalid 'standardizer': "
                         f"{error}") from None
    if scaler.n_features_in_ != input_dim:
        raise ValueError(f"load: {folder / CONFIG_FILE}: the standardizer has "
                         f"{scaler.n_features_in_} features; the model's input_dim is "
                         f"{input_dim}.")
    return scaler
