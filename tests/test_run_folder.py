"""Tests for ``deeprecipe.run.folder``: never overwritten silently, resumable, and a clear
error for folders that are not (or no longer) readable."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import pipeline
from deeprecipe.cli.base import message
from deeprecipe.run import folder as runfolder
from deeprecipe.run.folder import RunFolderError
from deeprecipe.runconfig import RunConfig
from trial_database import HOLD_LOCK, held_elsewhere


def test_default_names_come_from_the_data_and_the_time() -> None:
    now = datetime.datetime(2025, 1, 2, 3, 4, 5)
    assert runfolder.default_name("digits", now) == "digits-20250102-030405"
    assert runfolder.default_name("data/sales.csv", now) == "sales-20250102-030405"


def test_default_names_never_collide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runfolder, "default_name", lambda data, now=None: "digits-x")
    first = runfolder.create(tmp_path, None, "digits")
    second = runfolder.create(tmp_path, None, "digits")
    assert (first.name, second.name) == ("digits-x", "digits-x-2")


def test_a_named_folder_is_never_overwritten_silently(tmp_path: Path) -> None:
    folder = runfolder.create(tmp_path, "mine", "digits")
    (folder / runfolder.RUN_FILE).write_text("{}")
    with pytest.raises(RunFolderError, match=r"already exists.*`overwrite`.*`resume`"):
        runfolder.create(tmp_path, "mine", "digits")
    assert (folder / runfolder.RUN_FILE).exists()
    replaced = runfolder.create(tmp_path, "mine", "digits", overwrite=True)
    assert replaced == folder and [path.name for path in folder.iterdir()] == [".lock"]


def test_overwrite_only_replaces_run_folders(tmp_path: Path) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("...")
    with pytest.raises(RunFolderError, match="not a deeprecipe run folder"):
        runfolder.create(tmp_path, "thesis", "digits", overwrite=True)
    assert (precious / "chapter1.tex").exists()


def test_the_fingerprint_follows_the_values() -> None:
    X, y = np.zeros((3, 2)), np.array([0, 1, 0])
    same = pipeline.fingerprint(X.copy(), y.copy())
    assert pipeline.fingerprint(X, y) == same
    X[0, 0] = 1e-12
    assert pipeline.fingerprint(X, y) != same


def make_run(tmp_path: Path, status: str = runfolder.INTERRUPTED) -> Path:
    folder = runfolder.create(tmp_path, "run", "iris")
    runfolder.write_run_file(folder, RunConfig(data="iris", epochs=4), "abc", status)
    return folder


def test_resume_point_reads_the_config_and_the_checkpoint(tmp_path: Path) -> None:
    folder = make_run(tmp_path)
    point = runfolder.resume_point(folder)
    assert point.config.epochs == 4 and point.fingerprint == "abc" and point.state is None
    runfolder.save_checkpoint(folder, dr.TrainingState(epoch=2, history={"x": [1.0, 2.0]}))
    point = runfolder.resume_point(folder)
    assert point.state is not None and point.state.epoch == 2


def edit_run_file(folder: Path, **changes: object) -> None:
    file = folder / runfolder.RUN_FILE
    record = json.loads(file.read_text())
    record.update(changes)
    file.write_text(json.dumps(record))


@pytest.mark.parametrize(("setup", "message"), [
    (lambda f: (f / runfolder.RUN_FILE).unlink(), "is not a deeprecipe run folder"),
    (lambda f: (f / runfolder.RUN_FILE).write_text("{oops"), "is not valid JSON"),
    (lambda f: (f / runfolder.RUN_FILE).write_bytes(b'{"name": "caf\xe9"}'),
     r"run\.json is not UTF-8 text \(byte 0xe9 at offset 13\)\.$"),
    (lambda f: edit_run_file(f, format="something"), "was not written by deeprecipe run"),
    (lambda f: edit_run_file(f, format_version=0, library_version="0.0.1"),
     r"format_version=0.*version that wrote it \(0.0.1\)"),
    (lambda f: edit_run_file(f, status="complete"), "is a complete run"),
    # an edited status resumed as if interrupted
    (lambda f: edit_run_file(f, status="done"), r"must have status 'running', .*; received "
                                                r"status='done'"),
    (lambda f: edit_run_file(f, status=None), "received status=None"),
    (lambda f: edit_run_file(f, config={"epochs": -1}), "epochs must be a positive integer"),
    (lambda f: (f / runfolder.CHECKPOINT_FILE).write_bytes(b"garbage"),
     "not a readable checkpoint"),
])
def test_unreadable_run_folders_are_clear_errors(tmp_path: Path, setup, message: str) -> None:
    folder = make_run(tmp_path)
    setup(folder)
    with pytest.raises(RunFolderError, match=message):
        runfolder.resume_point(folder)


def test_errors_name_option_keys_and_the_command_line_spells_them_as_flags(
    tmp_path: Path,
) -> None:
    folder = runfolder.create(tmp_path, "mine", "digits")
    with pytest.raises(RunFolderError) as raised:
        runfolder.create(tmp_path, "mine", "digits")
    assert raised.value.keys == ("name", "overwrite", "resume")
    assert message(raised.value) == (
        f"{folder} already exists; a run never overwrites one silently. help: choose another "
        f"--name, pass --overwrite to replace it, or --resume {folder} to continue it.")
    runfolder.write_run_file(folder, RunConfig(data="iris"), "", runfolder.COMPLETE)
    with pytest.raises(RunFolderError) as raised:
        runfolder.resume_point(folder)
    assert message(raised.value) == (
        f"--resume: {folder} is a complete run; there is nothing to resume. help: start a new "
        "run (or use --overwrite with its --name to redo it).")


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match="no run folder"):
        runfolder.resume_point(tmp_path / "nope")


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["..", ".", "", " ", "../esc", "a/b", "/tmp/abs", "a\\b",
                                  "-x", "nul\0", "a\tb", "\udcff"])
def test_a_name_is_a_plain_folder_name(tmp_path: Path, name: str) -> None:
    parent = tmp_path / "runs"
    with pytest.raises(RunFolderError, match=r"name must be a folder name of printable "
                       r"characters \(not '\.' or '\.\.', no '/' or '\\', not starting with "
                       r"'-'\); received "
                       + re.escape(f"name={name!r}.")) as raised:
        runfolder.create(parent, name, "digits")
    assert raised.value.keys == ("name",) and "--" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []  # nothing made, inside or beside the output folder


def test_an_output_dir_that_cannot_hold_folders_is_one_clear_error(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    with pytest.raises(RunFolderError, match=r"output_dir must be a folder; received "
                       r"output_dir='.*notes.txt', which is a file"):
        runfolder.create(file, "x", "digits")
    with pytest.raises(RunFolderError, match=r"^output_dir: cannot create the run folder "
                       r".*notes.txt/deeper/x: Not a directory\.$"):
        runfolder.create(file / "deeper", "x", "digits")
    assert file.read_text() == "mine"


# --- the lock ---------------------------------------------------------------------------------


def can_lock(folder: Path) -> bool:
    """Whether another process could take ``folder``'s lock now."""
    taken = subprocess.run([sys.executable, "-c", HOLD_LOCK, str(folder / ".lock")],
                           input="", capture_output=True, text=True, timeout=60)
    return taken.returncode == 0


def test_a_new_folder_is_locked_for_this_process(tmp_path: Path) -> None:
    folder = runfolder.create(tmp_path, "mine", "digits")
    assert not can_lock(folder)
    runfolder.hold(folder, "again")  # this process may hold it again: holds are counted
    runfolder.release(folder)
    assert not can_lock(folder)
    runfolder.release(folder)
    assert can_lock(folder)


def test_overwrite_and_resume_refuse_a_folder_another_process_holds(tmp_path: Path) -> None:
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / runfolder.RUN_FILE).write_text("{}")
    with held_elsewhere(folder):
        with pytest.raises(RunFolderError, match=r"^overwrite: .*busy is in use by another "
                           r"deeprecipe process \(it holds .*busy/\.lock\)"):
            runfolder.create(tmp_path, "busy", "digits", overwrite=True)
        with pytest.raises(RunFolderError, match=r"--resume: .*busy is in use"):
            runfolder.hold(folder, "--resume")
        assert (folder / runfolder.RUN_FILE).read_text() == "{}"  # untouched
    # the holder ended (killed): the operating system released its lock
    assert runfolder.create(tmp_path, "busy", "digits", overwrite=True) == folder
    assert not (folder / runfolder.RUN_FILE).exists()
    runfolder.release(folder)


def test_overwrite_keeps_the_lock_file_it_holds(tmp_path: Path) -> None:
    # deleting the lock file would let a second process lock a new one beside the first
    folder = runfolder.create(tmp_path, "mine", "digits")
    (folder / runfolder.RUN_FILE).write_text("{}")
    (folder / "model").mkdir()
    inode = os.stat(folder / ".lock").st_ino
    assert runfolder.create(tmp_path, "mine", "digits", overwrite=True) == folder
    assert [path.name for path in folder.iterdir()] == [".lock"]
    assert os.stat(folder / ".lock").st_ino == inode
    assert not can_lock(folder)
    runfolder.release(folder)
    runfolder.release(folder)


def test_discard_removes_the_folder_and_its_lock(tmp_path: Path) -> None:
    folder = runfolder.create(tmp_path, "failed", "digits")
    (folder / runfolder.RUN_FILE).write_text("{}")
    runfolder.discard(folder)
    assert list(tmp_path.iterdir()) == []
    again = runfolder.create(tmp_path, "failed", "digits")  # a new folder, locked anew
    assert not can_lock(again)
    runfolder.release(again)
