"""``deeprecipe tune``: the run folder, the report, resuming, a Dask scheduler, signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import cli
from trial_database import finished_trials, held_elsewhere, living, stop_group

SMALL = ["--data", "breast_cancer", "--workers", "1"]


def tune(tmp_path: Path, *options: str) -> int:
    return cli.main(["tune", "--output-dir", str(tmp_path), *options])


def test_tune_writes_the_folder_the_report_and_the_chosen_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tune(tmp_path, *SMALL, "--budget", "2", "--name", "t") == cli.EXIT_OK
    out = capsys.readouterr().out
    folder = tmp_path / "t"
    assert "✓ round 0 baseline, 1 trial: best dev error" in out
    # no --bayes-error: the yardstick, its own step line, then in the summary and the page
    assert "✓ fitting the reference models (the yardstick): yardstick " in out
    assert "the references' train/dev errors: constant " in out
    assert "the test error was measured once" in out
    assert f"open {folder / 'report.html'}" in out
    assert {"tune.json", "trials.sqlite", "report.html", "decision_trail.png", "summary.json",
            "model"} <= {path.name for path in folder.iterdir()}

    summary = json.loads((folder / "summary.json").read_text())
    assert len(summary["trials"]) == 2 and summary["budget"] == 2
    assert 0 <= summary["test_error"] < 0.1
    page = (folder / "report.html").read_text()
    assert "Decision trail" in page and "Round 1:" in page
    assert 'id="yardstick"' in page and summary["yardstick"]["best"] in ("linear", "boosting")
    assert summary["bayes_error"] == summary["yardstick"]["error"]
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 1
    assert page.count(">chosen</span>") == 1
    next_step = summary["next_step"]["action"]  # a budget of 2 runs out before the recipe
    assert ("What the recipe would try next" in page) == (next_step != "stop")
    if next_step != "stop":
        assert "--budget 12</code>" in page
    # why the loop ended, as data: the budget ran out, or the stopping decision's reason
    ended = summary["stop_reason"]
    assert ended["code"] == "budget_spent" if next_step != "stop" else ended["code"] in (
        "recipe_done", "recipe_exhausted", "recipe_diverged_stop")
    assert ended["values"]["budget" if next_step != "stop" else "verdict"]

    X, y = dr.datasets.load("breast_cancer")
    model = dr.load(folder / "model")  # raw inputs: the standardizer travels with it
    assert np.mean(model.predict(X).ravel() != y) < 0.1


def test_resume_reads_finished_trials_back_and_the_budget_may_grow(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tune(tmp_path, *SMALL, "--budget", "2", "--name", "t") == cli.EXIT_OK
    folder = tmp_path / "t"
    first = json.loads((folder / "summary.json").read_text())
    capsys.readouterr()

    assert cli.main(["tune", "--resume", str(folder), "--budget", "3"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert f"resuming {folder}" in out
    # the yardstick is read back from trials.sqlite, not fitted again
    assert "fitting the reference models" not in out and "yardstick " in out
    again = json.loads((folder / "summary.json").read_text())
    assert len(again["trials"]) == 3
    resumed = [trial for trial in again["trials"] if trial["resumed"]]
    assert {trial["key"] for trial in resumed} == {trial["key"] for trial in first["trials"]}
    assert json.loads((folder / "tune.json").read_text())["options"]["budget"] == 3

    # a smaller budget would choose among fewer trials and replace the result with it
    before = (folder / "summary.json").read_text()
    assert cli.main(["tune", "--resume", str(folder), "--budget", "2"]) == cli.EXIT_USAGE
    assert "--budget must be at least 3, the budget this tune ran with; received " \
        "--budget=2" in capsys.readouterr().err
    assert (folder / "summary.json").read_text() == before


def test_workers_on_resume_run_the_rest_locally_instead_of_the_saved_scheduler(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tune(tmp_path, *SMALL, "--budget", "1", "--name", "t") == cli.EXIT_OK
    folder = tmp_path / "t"
    record = json.loads((folder / "tune.json").read_text())
    record["options"]["scheduler"] = "tcp://127.0.0.1:9"  # a cluster that is gone
    (folder / "tune.json").write_text(json.dumps(record))
    capsys.readouterr()
    assert cli.main(["tune", "--resume", str(folder), "--workers", "1", "--budget", "2"]) \
        == cli.EXIT_OK
    assert "2 of 2 trials on 1 local worker process (" in capsys.readouterr().out
    assert json.loads((folder / "tune.json").read_text())["options"]["scheduler"] is None


@pytest.mark.parametrize(("options", "message"), [
    # the library's one rule and message (recipe.loop.check_bayes_error), spelled as a flag
    (["--bayes-error", "150%"], "tune: --bayes-error must be 'auto' or an error rate in "
     "[0, 1): a fraction (0.01) or a percentage ('1%'); received --bayes-error='150%'."),
    (["--bayes-error", "1"], "tune: --bayes-error must be 'auto' or an error rate in [0, 1): "
     "a fraction (0.01) or a percentage ('1%'); received --bayes-error='1'."),  # 100%: no
    (["--data", "nope"], "--data must be a built-in dataset"),
    (["--budget", "0"], "tune: --budget must be a positive integer; received --budget=0."),
    (["--workers", "-1"], "tune: --workers must be a positive integer; received --workers=-1."),
    (["--task", "both"], "tune: --task must be one of 'auto', 'classification', 'regression'; "
     "received --task=both."),  # checked by runconfig.OPTIONS, as run's --task
])
def test_bad_options_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         options: list[str], message: str) -> None:
    assert tune(tmp_path, *options) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no run folder left behind


def test_resume_refuses_other_options_and_folders_that_are_not_tunes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["tune", "--resume", str(tmp_path)]) == cli.EXIT_USAGE
    assert "is not a deeprecipe tune folder (no tune.json)" in capsys.readouterr().err
    (tmp_path / "tune.json").write_text(json.dumps({"format": "deeprecipe-tune",
                                                    "format_version": 1, "options": {}}))
    assert cli.main(["tune", "--resume", str(tmp_path), "--seed", "3"]) == cli.EXIT_USAGE
    assert "received --seed as well" in capsys.readouterr().err



def test_a_tune_json_that_is_not_utf8_is_named_with_its_byte(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tune.json").write_bytes(b'{"name": "caf\xe9"}')  # it showed the codec's words
    assert cli.main(["tune", "--resume", str(tmp_path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"tune --resume: {tmp_path / 'tune.json'} is not UTF-8 text (byte 0xe9 "
                        "at offset 13).")
    assert len(err.splitlines()) == 1 and "codec" not in err

def test_an_existing_folder_is_never_overwritten_silently(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "thesis.tex").write_text("mine")
    assert tune(tmp_path, *SMALL, "--name", "t") == cli.EXIT_USAGE
    assert "already exists" in capsys.readouterr().err
    assert tune(tmp_path, *SMALL, "--name", "t", "--overwrite") == cli.EXIT_USAGE
    assert "not a deeprecipe run folder" in capsys.readouterr().err
    assert (tmp_path / "t" / "thesis.tex").read_text() == "mine"


@pytest.mark.slow
def test_scheduler_runs_the_trials_on_a_dask_cluster(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert tune(tmp_path, "--data", "breast_cancer", "--budget", "2", "--name", "d",
                    "--scheduler", address) == cli.EXIT_OK
    assert f"trials on Dask cluster at {address}" in capsys.readouterr().out
    summary = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert summary["runner"] == f"Dask cluster at {address}"


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tune(tmp_path, *SMALL, "--scheduler", "tcp://127.0.0.1:9") == cli.EXIT_USAGE
    assert "no Dask scheduler answered at --scheduler='tcp://127.0.0.1:9'" in \
        capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no folder that could only be resumed to fail


@pytest.mark.slow
def test_sigterm_keeps_finished_trials_and_resume_trains_only_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "sig"
    command = [sys.executable, "-m", "deeprecipe.cli", "tune", "--data", "digits",
               "--budget", "6", "--workers", "1", "--output-dir", str(tmp_path), "--name", "sig"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    database = folder / dr.recipe.DATABASE
    try:
        deadline = time.monotonic() + 120
        while len(finished_trials(database)) < 1:
            assert process.poll() is None, stop_group(process)
            assert time.monotonic() < deadline, "no trial finished in 2 minutes"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)  # the tune alone, as a service manager does
        _, err = process.communicate(timeout=120)
    finally:  # a failed assertion must not leave the tune running into the next test
        if process.poll() is None:
            stop_group(process)
    assert process.returncode == 143, err
    assert "terminated (SIGTERM)" in err and f"resume with: deeprecipe tune --resume {folder}" \
        in err and "Traceback" not in err
    kept = len(finished_trials(database))
    assert 1 <= kept < 6

    assert cli.main(["tune", "--resume", str(folder)]) == cli.EXIT_OK
    summary: dict[str, Any] = json.loads((folder / "summary.json").read_text())
    assert sum(trial["resumed"] for trial in summary["trials"]) >= kept


@pytest.mark.slow
def test_ctrl_c_in_a_terminal_stops_the_tune_without_a_traceback(tmp_path: Path) -> None:
    # a terminal's Ctrl-C reaches the whole process group: the tune, its forkserver and
    # its workers; only the tune may speak
    folder = tmp_path / "int"
    command = [sys.executable, "-m", "deeprecipe.cli", "tune", "--data", "digits",
               "--budget", "6", "--workers", "2", "--output-dir", str(tmp_path), "--name",
               "int"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(finished_trials(folder / dr.recipe.DATABASE)) < 1:
            assert process.poll() is None, stop_group(process)
            assert time.monotonic() < deadline, "no trial finished in 2 minutes"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            stop_group(process)
    assert process.returncode == cli.EXIT_INTERRUPTED, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert f"resume with: deeprecipe tune --resume {folder}" in err


def test_the_progress_bar_counts_trials_and_a_line_says_each_round() -> None:
    import io

    from rich.console import Console

    from deeprecipe.cli.base import ConsoleProgress

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    progress = ConsoleProgress(console, regression=False)
    progress.on_step_begin("tune", "tuning", total=5, done=2)
    assert progress.progress is not None and progress.task is not None
    assert progress.progress.tasks[0].fields["status"] == "2 read back from the earlier run"
    config = dr.recipe.Config()
    trial = dr.recipe.Trial("k", config, 0, 1, "bigger_network", "high bias", status="done",
                            dev_error=0.031)
    progress.on_trial_end(trial)
    task = progress.progress.tasks[0]
    assert (task.completed, task.total) == (3, 5)
    assert task.fields["status"] == "last dev error 3.10%"
    progress.on_round_end(dr.recipe.Round(1, None, "bigger_network", "high bias", [trial],
                                          best_key="k"))
    progress.close()
    assert "round 1 bigger network, 1 trial: best dev error 3.10%" in buffer.getvalue()


def test_tunes_loading_is_a_live_line_that_leaves_no_line() -> None:
    import io

    from rich.console import Console

    from deeprecipe.callbacks import Progress
    from deeprecipe.cli.base import live_line

    for terminal in (True, False):
        buffer = io.StringIO()
        console = Console(file=buffer, force_terminal=terminal, width=100)
        with live_line(console, "loading big.csv") as loading:
            assert (loading.progress is not None) == terminal  # drawn on a terminal only
            loading.on_progress(Progress(152_000_000, 380_000_000, "bytes", 2.0))
        assert loading.progress is None  # closed
        assert "✓" not in buffer.getvalue()  # no line for a finished step
    assert buffer.getvalue() == ""  # a log file (no terminal) gets nothing at all


def test_a_tuned_model_predicts_the_files_own_labels(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    X, y = dr.datasets.load("iris")
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    path = tmp_path / "iris.csv"
    path.write_text("a,b,c,d,species\n" + "\n".join(
        ",".join([*map(str, row), name]) for row, name in zip(X, names, strict=True)) + "\n")
    assert tune(tmp_path, "--data", str(path), "--target", "species", "--budget", "1",
                "--workers", "1", "--name", "t") == cli.EXIT_OK
    capsys.readouterr()
    assert cli.main(["predict", str(tmp_path / "t" / "model"), "--data", str(path),
                     "--target", "species"]) == cli.EXIT_OK
    captured = capsys.readouterr()
    header, first = captured.out.splitlines()[:2]
    assert header == "label,p_setosa,p_versicolor,p_virginica"
    assert first.split(",")[0] in names
    assert "error on" in captured.err


# --- the run folder: names, the lock, processes ----------------------------------------------


@pytest.mark.parametrize("name", ["../esc", "a/b", "/tmp/abs", "..", ".", ""])
def test_a_name_is_a_plain_folder_name(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       name: str) -> None:
    assert tune(tmp_path / "runs", *SMALL, "--budget", "1", "--name", name) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "tune: --name must be a folder name of printable characters (not '.' or '..', no " \
        f"'/' or '\\', not starting with '-'); received --name={name!r}." in err
    assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing written, inside or outside --output-dir


@pytest.mark.parametrize(("options", "message"), [
    (["--seed", str(2**32)], "tune: --seed must be an integer from 0 to 4294967295 "
                             "(2**32 - 1); received --seed=4294967296."),
    (["--workers", str(10**11)], "tune: --workers must be a positive integer up to 1024; "
                                 "received --workers=100000000000."),  # an OverflowError
])
def test_numbers_numpy_or_multiprocessing_cannot_take_are_usage_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str],
        message: str) -> None:
    assert tune(tmp_path, "--data", "breast_cancer", *options) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_overwrite_and_resume_refuse_a_folder_another_process_works_in(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tune(tmp_path, *SMALL, "--budget", "1", "--name", "t") == cli.EXIT_OK
    folder = tmp_path / "t"
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    capsys.readouterr()
    with held_elsewhere(folder):
        assert tune(tmp_path, *SMALL, "--name", "t", "--overwrite") == cli.EXIT_USAGE
        err = capsys.readouterr().err
        assert f"--overwrite: {folder} is in use by another deeprecipe process (it holds " \
            f"{folder / '.lock'})" in err and len(err.splitlines()) == 1
        assert cli.main(["tune", "--resume", str(folder), "--budget", "2"]) == cli.EXIT_USAGE
        err = capsys.readouterr().err
        assert f"tune --resume: {folder} is in use by another deeprecipe process" in err
        assert len(err.splitlines()) == 1  # no traceback
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before


@pytest.mark.parametrize("damage", ["not a database", "a folder"])
def test_a_damaged_trial_database_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str) -> None:
    (tmp_path / "tune.json").write_text(json.dumps({"format": "deeprecipe-tune",
                                                    "format_version": 1, "options": {}}))
    database = tmp_path / "trials.sqlite"
    if damage == "a folder":  # sqlite cannot open it at all (it was a traceback)
        database.mkdir()
    else:
        database.write_text(damage)
    assert cli.main(["tune", "--resume", str(tmp_path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"tune: {database} is not a readable trial database" in err
    assert len(err.splitlines()) == 1
    # the refusal let go of the folder: once repaired, this process opens it again
    if database.is_dir():
        database.rmdir()
    else:
        database.unlink()
    dr.recipe.TrialStore(tmp_path).close()


def start_tune(tmp_path: Path, name: str) -> subprocess.Popen[str]:
    """A tune of digits in its own session (stop it with stop_group), once a trial has
    finished: its forkserver, its workers and the resource tracker are running."""
    command = [sys.executable, "-m", "deeprecipe.cli", "tune", "--data", "digits",
               "--budget", "30", "--workers", "2", "--output-dir", str(tmp_path), "--name",
               name]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not finished_trials(tmp_path / name / dr.recipe.DATABASE):
            assert process.poll() is None, stop_group(process)
            assert time.monotonic() < deadline, "no trial finished in 2 minutes"
            time.sleep(0.05)
    except BaseException:
        stop_group(process)
        raise
    return process


@pytest.mark.slow
def test_a_running_tune_keeps_overwrite_and_resume_out(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    process = start_tune(tmp_path, "busy")
    try:
        # a tune of other data, as the issue's: it would have mixed the two tunes' files
        assert tune(tmp_path, *SMALL, "--budget", "1", "--name", "busy", "--overwrite") \
            == cli.EXIT_USAGE
        assert "is in use by another deeprecipe process" in capsys.readouterr().err
        assert cli.main(["tune", "--resume", str(tmp_path / "busy")]) == cli.EXIT_USAGE
        err = capsys.readouterr().err
        assert "is in use by another deeprecipe process" in err and "Traceback" not in err
        options = json.loads((tmp_path / "busy" / "tune.json").read_text())["options"]
        assert options["data"] == "digits" and process.poll() is None
    finally:
        stop_group(process)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_kill_9_of_a_tune_leaves_no_process_behind(tmp_path: Path) -> None:
    process = start_tune(tmp_path, "k")
    try:
        started = living(process.pid)  # the tune, its forkserver, workers, resource tracker
        assert len(started) >= 4, started
        os.kill(process.pid, signal.SIGKILL)  # the tune alone: its group lives on
        process.wait(timeout=60)
        deadline = time.monotonic() + 60  # a bound, so that a failure cannot hang the suite
        while living(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert living(process.pid) == [], f"still running after the tune died: " \
            f"{living(process.pid)} (started: {started})"
    finally:
        stop_group(process)


def test_augment_asked_for_data_without_images_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tune(tmp_path, "--data", "iris", "--augment", "flip") == cli.EXIT_USAGE
    assert "--augment needs image data; received --data='iris'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # refused before a folder was made


def test_tune_on_images_keeps_the_transforms_it_was_given(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "pictures.npz", X=rng.integers(0, 256, (60, 6, 6, 3)),
             y=np.arange(60) % 2)
    assert tune(tmp_path, "--data", str(tmp_path / "pictures.npz"), "--augment", "flip,distort",
                "--budget", "1", "--workers", "1", "--bayes-error", "0",
                "--name", "t") == cli.EXIT_OK
    folder = tmp_path / "t"
    assert json.loads((folder / "tune.json").read_text())["options"]["augment"] == [
        "flip", "distort"]
    with dr.recipe.TrialStore(folder) as store:  # a resumed tune must augment alike
        assert store.settings()["augment"] == ["flip", "distort"]
