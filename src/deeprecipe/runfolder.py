"""The run folder ``runs/<name>/``: created once, never overwritten silently, resumable.

::

    runs/digits-20250101-120000/
        run.json                 format_version, the config, the data's fingerprint, status
        checkpoint.safetensors   where training stands (written on an interruption, and
                                 every ``checkpoint_every`` epochs)
        model/                   the trained network and its standardizer (``dr.load``)
        report.html  summary.json  *.png

``status`` in ``run.json`` is ``"running"``, ``"interrupted"``, ``"failed"`` (an error after
training started; the checkpoint is kept) or ``"complete"``; all but complete can be resumed.
Everything is written atomically. A folder that is not a run folder, comes from another
version, or lacks its files gives a :class:`RunFolderError` that says so, not a traceback.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import CheckpointError, read_checkpoint, write_checkpoint
from .persistence import atomic_write
from .runconfig import ConfigError, RunConfig
from .training import TrainingState

FORMAT = "deeprecipe-run"
FORMAT_VERSION = 1
RUN_FILE = "run.json"
TUNE_FILE = "tune.json"  # a tune's folder (deeprecipe tune)
CHECKPOINT_FILE = "checkpoint.safetensors"
MODEL_DIR = "model"
RUNNING, INTERRUPTED, FAILED, COMPLETE = "running", "interrupted", "failed", "complete"


class RunFolderError(ValueError):
    """A run folder that cannot be created or resumed; the message says why and what to do."""


@dataclass(frozen=True)
class ResumePoint:
    """What ``--resume`` continues: the run's config, its data fingerprint and the training
    state of its checkpoint (``None``: training had not started, so it starts over)."""

    config: RunConfig
    fingerprint: str
    state: TrainingState | None


def default_name(data: str, now: datetime.datetime | None = None) -> str:
    """``<data>-<YYYYmmdd-HHMMSS>``: ``digits-20250101-120000``, ``sales-…`` for sales.csv."""
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"{Path(data).stem or 'run'}-{stamp}"


def create(output_dir: str | Path, name: str | None, data: str, overwrite: bool = False
           ) -> Path:
    """Make the run's empty folder ``output_dir/name`` and return it.

    Without ``name`` the folder is named by :func:`default_name`, with ``-2``, ``-3``, …
    appended if that exists. An existing ``name`` is an error unless ``overwrite``, which
    replaces it only if it is a run folder (it has a ``run.json``) or empty.
    """
    parent = Path(output_dir)
    if name is None:
        base = default_name(data)
        folder, counter = parent / base, 1
        while folder.exists():
            counter += 1
            folder = parent / f"{base}-{counter}"
    else:
        folder = parent / name
        if folder.exists():
            _replace(folder, overwrite)
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def _replace(folder: Path, overwrite: bool) -> None:
    if not folder.is_dir():
        raise RunFolderError(f"{folder} exists and is not a folder. help: choose another "
                             "--name.")
    if not overwrite:
        raise RunFolderError(f"{folder} already exists; a run never overwrites one silently. "
                             f"help: choose another --name, pass --overwrite to replace it, "
                             f"or --resume {folder} to continue it.")
    marked = any((folder / marker).is_file() for marker in (RUN_FILE, TUNE_FILE))
    if not marked and any(folder.iterdir()):
        raise RunFolderError(f"{folder} is not a deeprecipe run folder (no {RUN_FILE} or "
                             f"{TUNE_FILE}) and is not empty; --overwrite only replaces run "
                             "folders.")
    shutil.rmtree(folder)


def fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the data's values and shapes: resuming on changed data is refused."""
    digest = hashlib.sha256()
    for array in (X, y):
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{contiguous.dtype.str}{contiguous.shape}".encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


def write_run_file(folder: Path, config: RunConfig, data_fingerprint: str, status: str) -> None:
    """Write ``run.json`` (atomically)."""
    from . import __version__

    record = {"format": FORMAT, "format_version": FORMAT_VERSION, "library": "deeprecipe",
              "library_version": __version__, "status": status,
              "data_fingerprint": data_fingerprint, "config": config.to_dict()}
    text = json.dumps(record, indent=2) + "\n"

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_write(folder / RUN_FILE, write)


def read_run_file(folder: Path) -> dict[str, Any]:
    """The checked contents of ``folder/run.json``."""
    if not folder.is_dir():
        raise RunFolderError(f"--resume: no run folder {folder}.")
    file = folder / RUN_FILE
    if not file.is_file():
        raise RunFolderError(f"--resume: {folder} is not a deeprecipe run folder (no "
                             f"{RUN_FILE}). help: pass the folder a run printed, e.g. "
                             "runs/digits-20250101-120000.")
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunFolderError(f"--resume: {file} is not valid JSON ({error}).") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise RunFolderError(f"--resume: {file} was not written by deeprecipe run.")
    if record.get("format_version") != FORMAT_VERSION:
        raise RunFolderError(
            f"--resume: {folder} has run format_version={record.get('format_version')!r}; this "
            f"deeprecipe reads format_version={FORMAT_VERSION}. help: resume it with the "
            f"deeprecipe version that wrote it ({record.get('library_version', 'unknown')}), "
            "or start a new run."
        )
    return record


def resume_point(folder: Path) -> ResumePoint:
    """Everything ``--resume folder`` needs, checked; :class:`RunFolderError` otherwise."""
    record = read_run_file(folder)
    if record.get("status") == COMPLETE:
        raise RunFolderError(f"--resume: {folder} is a complete run; there is nothing to "
                             "resume. help: start a new run (or use --overwrite with its "
                             "--name to redo it).")
    try:
        config = RunConfig.from_dict(record.get("config", {}), f"{folder / RUN_FILE}")
    except ConfigError as error:
        raise RunFolderError(f"--resume: {error}") from None
    state = None
    checkpoint = folder / CHECKPOINT_FILE
    if checkpoint.exists():
        try:
            state = read_checkpoint(checkpoint)
        except CheckpointError as error:
            raise RunFolderError(f"--resume: {error}") from None
    return ResumePoint(config, str(record.get("data_fingerprint", "")), state)


def discard(folder: Path) -> None:
    """Remove a run folder that holds nothing but its ``run.json`` (a run that failed
    before producing anything); a folder with anything else in it is left alone."""
    if {path.name for path in folder.iterdir()} <= {RUN_FILE}:
        (folder / RUN_FILE).unlink(missing_ok=True)
        folder.rmdir()


def save_checkpoint(folder: Path, state: TrainingState) -> Path:
    """Write the checkpoint of ``folder`` (atomically)."""
    return write_checkpoint(folder / CHECKPOINT_FILE, state)
