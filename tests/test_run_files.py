"""Tests for ``deeprecipe.run.files``: every file format stamped, written atomically and
refused with one message when this deeprecipe cannot read its version."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import deeprecipe as dr
from deeprecipe import recipe
from deeprecipe.run import files
from deeprecipe.run.files import FormatError
from deeprecipe.run.folder import RunFolderError, read_record

FORMATS = [files.MODEL, files.RUN, files.CHECKPOINT, files.SUMMARY, files.TUNE, files.TRIALS,
           files.TUNE_SUMMARY, files.EXPERIMENT]


def test_one_format_per_file_kind() -> None:
    assert len({f.name for f in FORMATS}) == len(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_a_written_record_is_stamped_and_read_back(tmp_path: Path, fmt: files.Format) -> None:
    path = fmt.write(tmp_path / "f.json", {"x": 1, "format_version": 99, "format": "other"})
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record == {"format": fmt.name, "format_version": fmt.version,
                      "library": "deeprecipe", "library_version": dr.__version__, "x": 1}
    assert fmt.read(path, "load") == record
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temporary file left


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("version", [99, 0, True, 1.0, "1", None])
def test_an_unknown_version_is_one_message(fmt: files.Format, version: object) -> None:
    record = {"format": fmt.name, "format_version": version, "library_version": "9.1"}
    with pytest.raises(FormatError) as error:
        fmt.check(record, "load: x.json")
    known = " and ".join(map(str, sorted((*fmt.older, fmt.version))))
    assert str(error.value) == (
        f"load: x.json has format_version={version!r}; this deeprecipe reads {fmt.name} "
        f"format_version {known}. help: open it with the deeprecipe version that wrote it "
        "(9.1).")


def test_another_format_is_refused_and_untagged_versions_are_read() -> None:
    with pytest.raises(FormatError, match="format must be 'deeprecipe-run'; received "
                       "format='deeprecipe-tune'"):
        files.RUN.check({"format": "deeprecipe-tune", "format_version": 1}, "x")
    with pytest.raises(FormatError, match="received format=None"):  # run.json always had it
        files.RUN.check({"format_version": 1}, "x")
    with pytest.raises(FormatError, match="must hold a JSON object"):
        files.RUN.check([1], "x")
    # model configs (versions 1 and 2) and trial databases were written without the tag
    assert files.MODEL.check({"format_version": 1}, "x") == {"format_version": 1}
    assert files.TRIALS.check({"format_version": 1}, "x") == {"format_version": 1}


def test_the_trial_database_is_stamped_and_an_unknown_version_refused(tmp_path: Path) -> None:
    with recipe.TrialStore(tmp_path) as store:
        settings = store.settings()
    assert settings["format"] == "deeprecipe-trials" and settings["format_version"] == 1
    connection = sqlite3.connect(tmp_path / recipe.DATABASE)
    with connection:
        connection.execute("DELETE FROM settings WHERE name = 'format'")  # as before the tag
    with recipe.TrialStore(tmp_path):
        pass
    with connection:
        connection.execute("UPDATE settings SET value = '7' WHERE name = 'format_version'")
    with pytest.raises(RunFolderError, match=r"trials.sqlite has format_version=7; this "
                       "deeprecipe reads deeprecipe-trials format_version 1"):
        recipe.TrialStore(tmp_path)
    with connection:
        connection.execute("UPDATE settings SET value = '1' WHERE name = 'format_version'")
    connection.close()
    with recipe.TrialStore(tmp_path):  # the refused store was closed: the folder opens again
        pass


def test_run_and_tune_folders_are_read_by_one_reader(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match=r"^tune --resume: no tune folder"):
        read_record(tmp_path / "nope", files.TUNE, "tune --resume")
    with pytest.raises(RunFolderError, match=r"is not a deeprecipe run folder \(no run.json\)"):
        read_record(tmp_path, files.RUN, "--resume")
    record = {**files.TUNE.stamp({"options": {}}), "format_version": 9}
    (tmp_path / "tune.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(RunFolderError, match=r"tune.json has format_version=9; this deeprecipe "
                       "reads deeprecipe-tune format_version 1"):
        read_record(tmp_path, files.TUNE, "tune --resume")
