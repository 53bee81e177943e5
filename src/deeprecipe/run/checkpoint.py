"""Checkpoints: a :class:`~deeprecipe.training.TrainingState` in one ``.safetensors`` file,
written atomically (an interruption leaves the previous checkpoint, never half of one).

The arrays anywhere in the state are tensors named by their path (``callbacks/0/best_theta``,
``{"__tensor__": "<path>"}`` in the JSON); everything else is JSON in the header's metadata,
with a SHA-256 of both (``sha256``), checked when read: a damaged or edited checkpoint is
refused. No pickle. Format version 1 (before the checksum) is still read, without it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from ..training import TrainingState
from .files import CHECKPOINT, FormatError, atomic_write

UNSEALED_VERSION = 1  # no checksum yet
METADATA_KEY = "deeprecipe"
SEAL_KEY = "sha256"
TENSOR = "__tensor__"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read: missing, damaged, or from another version."""


def write_checkpoint(path: str | Path, state: TrainingState) -> Path:
    """Write ``state`` to ``path`` (temporary file + rename); returns the path."""
    tensors: dict[str, np.ndarray] = {}
    fields_ = {f.name: getattr(state, f.name) for f in fields(state)}  # arrays not copied
    text = json.dumps(CHECKPOINT.stamp({"state": _split(fields_, "", tensors)}))
    metadata = {METADATA_KEY: text, SEAL_KEY: digest(text, tensors)}
    target = Path(path)
    atomic_write(target, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))
    return target


def read_checkpoint(path: str | Path) -> TrainingState:
    """The :class:`TrainingState` in ``path``; :class:`CheckpointError` names what is wrong."""
    source = Path(path)
    if not source.is_file():
        raise CheckpointError(f"{source}: no checkpoint file.")
    try:
        with safe_open(str(source), "np") as file:
            metadata = file.metadata() or {}
            tensors = {key: file.get_tensor(key) for key in file.keys()}
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{source} is not a readable checkpoint (truncated or edited?): "
                              f"{error}") from None
    if METADATA_KEY not in metadata:
        raise CheckpointError(f"{source} is a safetensors file but not a deeprecipe checkpoint "
                              f"(no {METADATA_KEY!r} metadata).")
    try:
        header = json.loads(metadata[METADATA_KEY])
    except (ValueError, RecursionError) as error:  # JSONDecodeError, a 5,000-digit number
        raise CheckpointError(f"{source}: the checkpoint's metadata is not JSON ({error}).") \
            from None
    try:
        CHECKPOINT.check(header, str(source))
    except FormatError as error:
        raise CheckpointError(str(error)) from None
    if header["format_version"] != UNSEALED_VERSION and \
            metadata.get(SEAL_KEY) != digest(metadata[METADATA_KEY], tensors):
        raise CheckpointError(f"{source} does not match its checksum: it was damaged or "
                              "changed after it was written. help: start the run again "
                              "(without `resume`).")
    try:
        body = _join(header["state"], tensors)
        known = {f.name for f in fields(TrainingState)}
        return TrainingState(**{key: value for key, value in body.items() if key in known})
    except (KeyError, TypeError, AttributeError) as error:  # AttributeError: not an object
        raise CheckpointError(f"{source}: the checkpoint's state is incomplete ({error}).") \
            from None


def digest(header: str, tensors: dict[str, np.ndarray]) -> str:
    """The SHA-256 of a checkpoint's JSON header and of every tensor (name, dtype, shape,
    bytes), in name order."""
    hasher = hashlib.sha256(header.encode("utf-8"))
    for name in sorted(tensors):
        tensor = tensors[name]
        hasher.update(json.dumps([name, tensor.dtype.str, tensor.shape]).encode("utf-8"))
        hasher.update(np.ascontiguousarray(tensor).data)  # its own buffer: no copy
    return hasher.hexdigest()


def _split(value: Any, path: str, tensors: dict[str, np.ndarray]) -> Any:
    """``value`` with every array moved into ``tensors`` and replaced by a reference."""
    if isinstance(value, np.ndarray):
        # np.ascontiguousarray would turn a 0-d array (a step count) into shape (1,)
        tensors[path] = value if value.flags.c_contiguous else value.copy(order="C")
        return {TENSOR: path}
    if isinstance(value, dict):
        return {str(key): _split(item, f"{path}/{key}" if path else str(key), tensors)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split(item, f"{path}/{index}", tensors) for index, item in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _join(value: Any, tensors: dict[str, np.ndarray]) -> Any:
    """The inverse of :func:`_split`."""
    if isinstance(value, dict):
        if set(value) == {TENSOR}:
            return tensors[value[TENSOR]]
        return {key: _join(item, tensors) for key, item in value.items()}
    if isinstance(value, list):
        return [_join(item, tensors) for item in value]
    return value
