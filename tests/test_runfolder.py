"""Tests for ``deeprecipe.runfolder``: never overwritten silently, resumable, and a clear
error for folders that are not (or no longer) readable."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import runfolder
from deeprecipe.runconfig import RunConfig
from deeprecipe.runfolder import RunFolderError


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
    with pytest.raises(RunFolderError, match=r"already exists.*--overwrite.*--resume"):
        runfolder.create(tmp_path, "mine", "digits")
    assert (folder / runfolder.RUN_FILE).exists()
    replaced = runfolder.create(tmp_path, "mine", "digits", overwrite=True)
    assert replaced == folder and list(folder.iterdir()) == []


def test_overwrite_only_replaces_run_folders(tmp_path: Path) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("...")
    with pytest.raises(RunFolderError, match="not a deeprecipe run folder"):
        runfolder.create(tmp_path, "thesis", "digits", overwrite=True)
    assert (precious / "chapter1.tex").exists()


def test_the_fingerprint_follows_the_values() -> None:
    X, y = np.zeros((3, 2)), np.array([0, 1, 0])
    same = runfolder.fingerprint(X.copy(), y.copy())
    assert runfolder.fingerprint(X, y) == same
    X[0, 0] = 1e-12
    assert runfolder.fingerprint(X, y) != same


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
    (lambda f: edit_run_file(f, format="something"), "was not written by deeprecipe run"),
    (lambda f: edit_run_file(f, format_version=0, library_version="0.0.1"),
     r"format_version=0.*version that wrote it \(0.0.1\)"),
    (lambda f: edit_run_file(f, status="complete"), "is a complete run"),
    (lambda f: edit_run_file(f, config={"epochs": -1}), "epochs must be a positive integer"),
    (lambda f: (f / runfolder.CHECKPOINT_FILE).write_bytes(b"garbage"),
     "not a readable checkpoint"),
])
def test_unreadable_run_folders_are_clear_errors(tmp_path: Path, setup, message: str) -> None:
    folder = make_run(tmp_path)
    setup(folder)
    with pytest.raises(RunFolderError, match=message):
        runfolder.resume_point(folder)


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match="no run folder"):
        runfolder.resume_point(tmp_path / "nope")
