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
Everything is written atomically. One process at a time: ``run`` and ``tune`` hold their
folder's ``.lock`` (:func:`hold`). A folder that cannot be used is a :class:`RunFolderError`
naming the options by key (``name``, ``output_dir``, ``overwrite``, ``resume``), which the
command line spells as flags.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..runconfig import OPTIONS, BadValue, ConfigError, RunConfig, folder_name
from ..training import TrainingState
from .checkpoint import CheckpointError, read_checkpoint, write_checkpoint
from .files import RUN, TUNE, Format

RUN_FILE = "run.json"
TUNE_FILE = "tune.json"  # a tune's folder (deeprecipe tune)
CHECKPOINT_FILE = "checkpoint.safetensors"
MODEL_DIR = "model"
LOCK_FILE = ".lock"  # held by the process working in the folder (see hold)
RUNNING, INTERRUPTED, FAILED, COMPLETE = "running", "interrupted", "failed", "complete"


class RunFolderError(ConfigError):
    """A run folder that cannot be created or resumed; the message says why and what to do,
    naming the option keys in ``keys`` (``key must``, ``key:``, ``key=``, or ```key``` in a
    hint)."""


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


def check_name(name: str, where: str = "run folder") -> str:
    """``name`` if it is a plain folder name (:func:`deeprecipe.runconfig.folder_name`), else
    :class:`RunFolderError`."""
    try:
        return folder_name(name)
    except BadValue:
        raise RunFolderError(f"{where}: name must be {OPTIONS['name'].constraint}; received "
                             f"name={name!r}.", "name") from None


def create(output_dir: str | Path, name: str | None, data: str, overwrite: bool = False
           ) -> Path:
    """Make the run's empty folder ``output_dir/name``, :func:`hold` it and return it.

    Without ``name`` the folder is named by :func:`default_name` (``-2``, ``-3``, …
    appended if that exists). An existing ``name`` is an error unless ``overwrite``, which
    empties it only if it is a run folder (it has a ``run.json`` or ``tune.json``) or empty,
    and no other process holds it.
    """
    parent = Path(output_dir)
    if parent.exists() and not parent.is_dir():
        raise RunFolderError(f"output_dir must be a folder; received output_dir="
                             f"{str(output_dir)!r}, which is a file.", "output_dir")
    base = default_name(data) if name is None else check_name(name)
    folder, counter = parent / base, 1
    while True:
        try:
            folder.mkdir(parents=True)
            break
        except FileExistsError:
            if name is not None:
                _replace(folder, overwrite)
                return folder
            counter += 1
            folder = parent / f"{base}-{counter}"
        except OSError as error:  # a file on the way, no permission, a read-only disk
            raise RunFolderError(f"output_dir: cannot create the run folder {folder}: "
                                 f"{error.strerror}.", "output_dir") from None
    hold(folder, "run folder")
    return folder


def _replace(folder: Path, overwrite: bool) -> None:
    """Empty the existing ``folder`` to overwrite it: refused for anything but a run folder,
    and while another process holds it. The lock is taken first and its file kept: deleted,
    it would let another process lock a new one while this one works."""
    if folder.is_symlink() or not folder.is_dir():
        raise RunFolderError(f"{folder} exists and is not a folder. help: choose another "
                             "`name`.", "name")
    if not overwrite:
        raise RunFolderError(f"{folder} already exists; a run never overwrites one silently. "
                             f"help: choose another `name`, pass `overwrite` to replace it, "
                             f"or `resume` {folder} to continue it.", "name", "overwrite",
                             "resume")
    marked = any((folder / marker).is_file() for marker in (RUN_FILE, TUNE_FILE))
    if not marked and any(path.name != LOCK_FILE for path in folder.iterdir()):
        raise RunFolderError(f"{folder} is not a deeprecipe run folder (no {RUN_FILE} or "
                             f"{TUNE_FILE}) and is not empty; `overwrite` only replaces run "
                             "folders.", "overwrite")
    hold(folder, "overwrite", "overwrite")
    for path in folder.iterdir():
        if path.name == LOCK_FILE:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


_held: dict[Path, tuple[IO[str] | None, int]] = {}  # folder → (its open .lock, holds)
_held_guard = threading.Lock()


def hold(folder: Path, where: str, *keys: str) -> None:
    """Lock ``folder`` for this process: an exclusive ``fcntl.flock`` on ``folder/.lock``,
    kept until :func:`release` or the end of the process (the operating system releases it
    then, after a kill -9 too). This process may hold a folder again (each hold needs its
    release); another process's hold is a :class:`RunFolderError` that names the folder.
    ``where`` starts its message (``"tune"``), ``keys`` are the options it names. Without
    ``fcntl`` (Windows), nothing is locked."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFolderError(f"{where}: no run folder {folder}.", *keys)
    key = folder.resolve()
    with _held_guard:
        handle, count = _held[key] if key in _held else (_lock(folder, where, keys), 0)
        _held[key] = (handle, count + 1)


def release(folder: Path) -> None:
    """Undo one :func:`hold` of ``folder``; the last one unlocks it."""
    key = Path(folder).resolve()
    with _held_guard:
        handle, count = _held.pop(key, (None, 0))
        if count > 1:
            _held[key] = (handle, count - 1)
        elif handle is not None:
            handle.close()  # closing the file releases the lock


@atexit.register
def _release_all() -> None:
    """Close the locks still held as Python exits: the OS would release them anyway, but a
    file left for the interpreter to close is a ResourceWarning."""
    with _held_guard:
        for handle, _ in _held.values():
            if handle is not None:
                handle.close()
        _held.clear()


def _lock(folder: Path, where: str, keys: tuple[str, ...]) -> IO[str] | None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        return None
    handle = (folder / LOCK_FILE).open("a", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RunFolderError(
            f"{where}: {folder} is in use by another deeprecipe process (it holds "
            f"{folder / LOCK_FILE}). help: wait for that run to end (or stop it), or choose "
            "another folder.", *keys) from None
    return handle


def write_run_file(folder: Path, config: RunConfig, data_fingerprint: str, status: str) -> None:
    """Write ``run.json`` (atomically)."""
    RUN.write(folder / RUN_FILE, {"status": status, "data_fingerprint": data_fingerprint,
                                  "config": config.to_dict()})


def read_run_file(folder: Path) -> dict[str, Any]:
    """The checked contents of ``folder/run.json``."""
    return read_record(folder, RUN, "resume", "resume")


def read_record(folder: Path, fmt: Format, where: str, *keys: str) -> dict[str, Any]:
    """The checked ``run.json`` (``fmt`` :data:`~.files.RUN`) or ``tune.json``
    (:data:`~.files.TUNE`) of ``folder``; errors start with ``where`` and name ``keys``."""
    file_name, kind, example = {RUN: (RUN_FILE, "run", "digits-20250101-120000"),
                                TUNE: (TUNE_FILE, "tune", "digits-tune-20250101-120000")}[fmt]
    if not folder.is_dir():
        raise RunFolderError(f"{where}: no {kind} folder {folder}.", *keys)
    file = folder / file_name
    if not file.is_file():
        raise RunFolderError(f"{where}: {folder} is not a deeprecipe {kind} folder (no "
                             f"{file_name}). help: pass the folder a {kind} printed, e.g. "
                             f"runs/{example}.", *keys)
    try:
        return fmt.read(file, where)
    except ValueError as error:
        raise RunFolderError(str(error), *keys) from None


def resume_point(folder: Path) -> ResumePoint:
    """Everything resuming ``folder`` needs, checked; :class:`RunFolderError` otherwise."""
    record = read_run_file(folder)
    if record.get("status") not in (RUNNING, INTERRUPTED, FAILED, COMPLETE):
        raise RunFolderError(f"resume: {folder / RUN_FILE} must have status "
                             f"{RUNNING!r}, {INTERRUPTED!r}, {FAILED!r} or {COMPLETE!r}; "
                             f"received status={record.get('status')!r}.", "resume")
    if record.get("status") == COMPLETE:
        raise RunFolderError(f"resume: {folder} is a complete run; there is nothing to "
                             "resume. help: start a new run (or use `overwrite` with its "
                             "`name` to redo it).", "resume", "overwrite", "name")
    state = None
    try:
        config = RunConfig.from_dict(record.get("config", {}), f"{folder / RUN_FILE}")
        if (folder / CHECKPOINT_FILE).exists():
            state = read_checkpoint(folder / CHECKPOINT_FILE)
    except (ConfigError, CheckpointError) as error:
        raise RunFolderError(f"resume: {error}", "resume") from None
    return ResumePoint(config, str(record.get("data_fingerprint", "")), state)


def discard(folder: Path) -> None:
    """Remove a run folder that holds nothing but its ``run.json`` and lock (a run that
    failed before producing anything), and let go of its lock; a folder with anything
    else in it is left alone."""
    if {path.name for path in folder.iterdir()} <= {RUN_FILE, LOCK_FILE}:
        with _held_guard:  # all holds end: a new folder of this name starts unlocked
            handle, _ = _held.pop(folder.resolve(), (None, 0))
        (folder / RUN_FILE).unlink(missing_ok=True)
        (folder / LOCK_FILE).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # another process made a new .lock: it is theirs
            folder.rmdir()
        if handle is not None:
            handle.close()


def save_checkpoint(folder: Path, state: TrainingState) -> Path:
    """Write the checkpoint of ``folder`` (atomically)."""
    return write_checkpoint(folder / CHECKPOINT_FILE, state)
