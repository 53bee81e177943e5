"""``deeprecipe run``: the folder it writes, never overwriting one, config errors that name
the key, exit codes, and Ctrl-C/SIGTERM → checkpoint → ``--resume`` → the same weights."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import cli, gradcheck, runconfig, workflow
from deeprecipe.run import folder as runfolder
from gradients import plant_doubled_dW
from trial_database import held_elsewhere, stop_group

TINY = ["--data", "iris", "--hidden", "8", "--epochs", "3", "--patience", "2"]


def run(tmp_path: Path, *args: str) -> int:
    return cli.main(["run", "--output-dir", str(tmp_path), *args])


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


@pytest.fixture(scope="module")
def iris_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One real run of the CLI (iris, 3 epochs), shared by the tests that read it."""
    parent = tmp_path_factory.mktemp("runs")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["run", "--output-dir", str(parent), "--name", "iris", *TINY])
    assert code == cli.EXIT_OK
    return parent / "iris", out.getvalue()


def test_run_writes_the_report_the_plots_and_the_model(iris_folder: tuple[Path, str]) -> None:
    folder, _ = iris_folder
    names = {path.name for path in folder.iterdir()}
    assert {"report.html", "summary.json", "run.json", "learning_curves.png", "gradcheck.png",
            "gradient_norms.png", "confusion.png", "model"} <= names
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["name"] == "iris" and set(summary["errors"]) == {"train", "dev", "test"}
    model = dr.load(folder / "model")
    assert model.standardizer is not None
    X, y = dr.datasets.load("iris")
    test = dr.data.split(X, y, seed=0).test  # the run's split (seed 0), raw inputs
    assert test is not None
    # the loaded model standardizes raw inputs itself: the run's own test error comes back
    assert model.evaluate(test.X, test.y)["error"] == pytest.approx(summary["errors"]["test"])


def test_run_prints_the_steps_and_a_summary_table(iris_folder: tuple[Path, str]) -> None:
    folder, out = iris_folder
    assert f"run folder: {folder}" in out
    for step in ("loading iris", "splitting", "gradient check at initialization (full)",
                 "training: 3 epochs", "gradient check after training"):
        assert step in out
    for name, size in (("train", "90"), ("dev", "30"), ("test", "30")):
        assert any(name in line and size in line for line in out.splitlines())
    assert "diagnosis:" in out and f"open {folder / 'report.html'}" in out
    # the yardstick: its own step, and its headline beside the diagnosis it reads
    summary = json.loads((folder / "summary.json").read_text())
    headline = f"yardstick {summary['yardstick']['error']:.2%}: {summary['yardstick']['best']}"
    assert "fitting reference models (the yardstick)" in out
    assert sum(line.lstrip(" ✓").startswith(headline) for line in out.splitlines()) >= 1
    # the bias is read as shown, or not, against the yardstick (the Bayes error is at most it)
    diagnosis = summary["diagnosis"]
    codes = [remark["code"] for remark in diagnosis["remarks"]]
    shown = ": bias not shown to be avoidable" if "bias_not_shown" in codes else ""
    assert f"train − yardstick {diagnosis['avoidable_bias']:.2%}{shown}, variance" in out


def test_run_with_a_bayes_error_of_0_fits_no_yardstick(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert run(tmp_path, "--name", "zero", *TINY, "--gradcheck", "off",
               "--bayes-error", "0") == cli.EXIT_OK
    out = " ".join(capsys.readouterr().out.split())
    assert "yardstick" not in out and "against the Bayes error given, variance" in out
    summary = json.loads((tmp_path / "zero" / "summary.json").read_text())
    assert summary["yardstick"] is None and summary["diagnosis"]["bias_source"] == "given"


def terminal_progress(step: str, total: int | None = None) -> cli.base.ConsoleProgress:
    """A ConsoleProgress drawing on a (pretend) terminal, with ``step`` begun."""
    from rich.console import Console

    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    progress = cli.base.ConsoleProgress(console)
    progress.on_step_begin(step, "training" if step == "train" else "loading big.csv", total)
    return progress


def status(progress: cli.base.ConsoleProgress) -> str:
    assert progress.progress is not None
    return str(progress.progress.tasks[0].fields["status"])


def test_a_long_epoch_shows_samples_a_second_and_the_time_left_beside_the_dev_error() -> None:
    from deeprecipe.callbacks import Progress

    progress = terminal_progress("train", total=10)
    progress.on_progress(Progress(100, 400, "samples", 1.0, epoch=0))  # not long enough
    assert status(progress) == ""
    progress.on_progress(Progress(100, 400, "samples", 2.5, epoch=0))
    assert status(progress) == "epoch 1: 25% of 400 samples, 40 samples/s, 0:00:08 left"
    progress.on_epoch_end(0, {"dev_error": 0.05})
    assert status(progress) == "dev error 5.00%"  # the epoch's progress ends with it
    progress.on_progress(Progress(300, 400, "samples", 3.0, epoch=1))
    assert status(progress) == ("dev error 5.00% · epoch 2: 75% of 400 samples, "
                                "100 samples/s, 0:00:01 left")
    progress.close()


def test_reading_a_file_shows_its_bytes_a_second_and_the_time_left() -> None:
    from deeprecipe.callbacks import Progress

    progress = terminal_progress("data")
    progress.on_progress(Progress(152_000_000, 380_000_000, "bytes", 2.0))
    assert status(progress) == "40% of 380.0 MB, 76.0 MB/s, 0:00:03 left"
    progress.close()


def test_progress_inside_a_step_leaves_a_log_file_as_it_was() -> None:
    from rich.console import Console

    from deeprecipe.callbacks import Progress

    out = io.StringIO()
    progress = cli.base.ConsoleProgress(Console(file=out, width=120))  # not a terminal
    progress.on_step_begin("data", "loading big.csv")
    progress.on_progress(Progress(152_000_000, 380_000_000, "bytes", 2.0))
    progress.on_step_end("data", 4.0, "1,000,000 examples")
    assert out.getvalue() == "✓ loading big.csv: 1,000,000 examples (4.0 s)\n"


def test_an_existing_run_folder_is_never_overwritten_silently(
    iris_folder: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = iris_folder
    before = (folder / "report.html").stat().st_mtime_ns
    assert run(folder.parent, "--name", "iris", *TINY) == cli.EXIT_USAGE
    assert "already exists" in one_line_error(capsys)
    assert (folder / "report.html").stat().st_mtime_ns == before


def test_overwrite_replaces_a_run_folder(tmp_path: Path) -> None:
    assert run(tmp_path, "--name", "again", *TINY, "--gradcheck", "off") == cli.EXIT_OK
    (tmp_path / "again" / "stale.txt").write_text("from the first run")
    assert run(tmp_path, "--name", "again", *TINY, "--gradcheck", "off",
               "--overwrite") == cli.EXIT_OK
    assert not (tmp_path / "again" / "stale.txt").exists()


def test_every_option_is_also_a_flag() -> None:
    parser = cli.build_parser()
    for key in runconfig.OPTIONS:
        flag = cli.base.flag(key)
        switch = runconfig.OPTIONS[key].parse is runconfig.boolean  # --augment/--no-augment
        argv = ["run", flag] if switch else ["run", flag, "1"]
        assert key in vars(parser.parse_args(argv)), flag


@pytest.mark.parametrize(("argv", "parsed"), [
    (["--augment"], True), (["--augment", "flip,rotate"], ("flip", "rotate")),
    (["--no-augment"], False), ([], False),
])
@pytest.mark.parametrize("command", ["run", "tune"])
def test_augment_alone_takes_the_datas_defaults_or_names_transforms(
        command: str, argv: list[str], parsed: object) -> None:
    args = vars(cli.build_parser().parse_args([command, *argv]))
    value = runconfig.augmentations(args["augment"]) if "augment" in args else False
    assert value == parsed


@pytest.mark.parametrize("command", ["run", "gradcheck", "diagnose", "predict", "experiment"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main([command, "--help"])
    assert stop.value.code == 0
    assert f"usage: deeprecipe {command}" in capsys.readouterr().out


def test_the_config_file_with_flags_overriding_it(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('data = "iris"\nhidden = [8]\nepochs = 5\npatience = 2\nseed = 4\n'
                      'gradcheck = "off"\n')
    code = run(tmp_path, "--config", str(config), "--epochs", "2", "--name", "file")
    assert code == cli.EXIT_OK
    record = json.loads((tmp_path / "file" / "run.json").read_text())
    assert record["config"]["epochs"] == 2 and record["config"]["seed"] == 4
    assert record["config"]["hidden"] == [8]


@pytest.mark.parametrize(("text", "message"), [
    ("epoch = 3\n", "unknown key 'epoch'. help: did you mean 'epochs'?"),
    ("learning_rate = -1\n", "learning_rate must be a number > 0; received learning_rate=-1."),
    ("hidden = 8\nkeep_prob = [0.5, 0.5]\n", "keep_prob must have one value per hidden layer"),
    ("[model]\nhidden = [3]\n", "[model] tables are not options"),  # brackets print as is
])
def test_config_errors_name_the_key_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    config = tmp_path / "run.toml"
    config.write_text(text)
    assert run(tmp_path, "--config", str(config)) == cli.EXIT_USAGE
    assert message in one_line_error(capsys)
    assert not any(tmp_path.glob("*/run.json"))  # nothing was started


@pytest.mark.parametrize(("args", "message"), [
    (["--epochs", "0"], "--epochs must be a positive integer; received --epochs='0'."),
    (["--bayes-error", "150%"], "--bayes-error must be 'auto' or a fraction in [0, 1] "
                                "(0.01) or a percentage ('1%')"),
    (["--bayes-error", "automatic"], "--bayes-error must be 'auto' or a fraction"),
    (["--data", "nope.xlsx"], "--data must be a built-in dataset"),
    (["--data", "missing.csv", "--target", "y"], "--data: no file missing.csv"),
    (["--data", "missing.npz"], "--data: no file missing.npz"),
    (["--data", "iris", "--augment"], "--augment needs image data; received --data='iris', "
     "which has no image shape"),
    (["--data", "missing.csv"], "--data: no file missing.csv"),  # not "--target must name"
])
def test_bad_flags_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert run(tmp_path, *args) == cli.EXIT_USAGE
    assert message in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []  # a run that never started leaves no folder


def test_argparse_errors_are_one_line_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "--no-such-flag"])
    assert stop.value.code == cli.EXIT_USAGE
    err = one_line_error(capsys)
    assert err.startswith("deeprecipe: error: unrecognized arguments: --no-such-flag.")
    with pytest.raises(SystemExit):
        cli.main(["run", "--epochs"])
    err = one_line_error(capsys)
    assert "deeprecipe run: error: argument --epochs: expected one argument" in err
    assert err.endswith("help: deeprecipe run --help")


def test_a_failed_gradient_check_exits_1_and_still_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plant_doubled_dW(monkeypatch, "dense_2")
    assert run(tmp_path, "--name", "buggy", *TINY) == cli.EXIT_FAILED_CHECK
    assert (tmp_path / "buggy" / "report.html").is_file()
    summary = json.loads((tmp_path / "buggy" / "summary.json").read_text())
    assert summary["gradcheck"]["init"]["passed"] is False
    err = capsys.readouterr().err
    assert "check failed: gradient check init: worry" in err


# --- resume -------------------------------------------------------------------------------------


def make_interrupted(folder: Path) -> None:
    runfolder.write_run_file(folder, runconfig.RunConfig(data="iris"), "", runfolder.INTERRUPTED)


@pytest.mark.parametrize(("setup", "message"), [
    (lambda f: None, "no run folder"),
    (lambda f: f.mkdir(), "is not a deeprecipe run folder (no run.json)"),
    (lambda f: (f.mkdir(), (f / "run.json").write_text(json.dumps(
        {"format": "deeprecipe-run", "format_version": 0, "library_version": "0.0.1"}))),
     "format_version=0"),
    (lambda f: (f.mkdir(), make_interrupted(f),
                (f / runfolder.CHECKPOINT_FILE).write_bytes(b"\x00" * 20)),
     "not a readable checkpoint"),
])
def test_old_or_foreign_run_folders_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup, message: str
) -> None:
    folder = tmp_path / "old"
    setup(folder)
    assert cli.main(["run", "--resume", str(folder)]) == cli.EXIT_USAGE
    assert message in one_line_error(capsys)


def test_resume_takes_no_other_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", "--resume", str(tmp_path), "--epochs", "3"]) == cli.EXIT_USAGE
    assert "--resume continues a run with the options it started with" in one_line_error(capsys)


def test_a_complete_run_cannot_be_resumed(
    iris_folder: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = iris_folder
    assert cli.main(["run", "--resume", str(folder)]) == cli.EXIT_USAGE
    assert "is a complete run" in one_line_error(capsys)


def test_resuming_on_changed_data_names_the_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "changed"
    folder.mkdir()
    runfolder.write_run_file(folder, runconfig.RunConfig(data="iris"), "0" * 64,
                             runfolder.INTERRUPTED)
    assert cli.main(["run", "--resume", str(folder)]) == cli.EXIT_USAGE
    error = one_line_error(capsys)
    assert f"--resume: the data iris changed since {folder} started" in error
    assert "help: restore the original --data, or start a new run." in error


RESUMABLE = ["--hidden", "16", "--epochs", "8", "--patience", "3", "--augment", "--seed", "2",
             "--gradcheck", "off"]


@pytest.mark.slow
def test_ctrl_c_then_resume_gives_the_uninterrupted_weights_bit_for_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "--name", "whole", *RESUMABLE) == cli.EXIT_OK
    expected = dr.load(tmp_path / "whole" / "model").theta

    original = cli.base.ConsoleProgress.on_epoch_end

    def ctrl_c_after_epoch_4(self, epoch: int, logs: dict[str, float]) -> bool:  # type: ignore[no-untyped-def]
        original(self, epoch, logs)
        if epoch == 4:
            raise KeyboardInterrupt
        return False

    with monkeypatch.context() as patch:
        patch.setattr(cli.base.ConsoleProgress, "on_epoch_end", ctrl_c_after_epoch_4)
        capsys.readouterr()
        assert run(tmp_path, "--name", "cut", *RESUMABLE) == cli.EXIT_INTERRUPTED
    folder = tmp_path / "cut"
    err = capsys.readouterr().err
    assert "interrupted: checkpoint after epoch 4 written to" in err
    assert f"resume with: deeprecipe run --resume {folder}" in err
    assert json.loads((folder / "run.json").read_text())["status"] == "interrupted"
    assert not (folder / "report.html").exists()

    assert cli.main(["run", "--resume", str(folder)]) == cli.EXIT_OK
    assert f"resuming {folder} after epoch 4" in capsys.readouterr().out
    assert np.array_equal(dr.load(folder / "model").theta, expected)
    assert not (folder / runfolder.CHECKPOINT_FILE).exists()


def wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"no {path} (exit {process.returncode}):\n{out}\n{err}")
        time.sleep(0.05)


def checkpointing_run(tmp_path: Path, epochs: int) -> list[str]:
    """A ``deeprecipe run`` command (digits) that writes a checkpoint after every epoch."""
    options = ["--data", "digits", "--hidden", "32", "--epochs", str(epochs), "--patience",
               str(epochs), "--checkpoint-every", "1", "--gradcheck", "off", "--output-dir",
               str(tmp_path)]
    return [sys.executable, "-m", "deeprecipe.cli", "run", *options]


def resume_matches_the_whole_run(command: list[str], folder: Path) -> str:
    """``--resume folder`` ends with the weights of ``command`` run uninterrupted (in
    ``whole`` beside it); returns the resumed run's output."""
    resumed = subprocess.run([sys.executable, "-m", "deeprecipe.cli", "run", "--resume",
                              str(folder)], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == cli.EXIT_OK, resumed.stderr
    whole = subprocess.run([*command, "--name", "whole"], capture_output=True, text=True,
                           timeout=300)
    assert whole.returncode == cli.EXIT_OK, whole.stderr
    assert np.array_equal(dr.load(folder / "model").theta,
                          dr.load(folder.parent / "whole" / "model").theta)
    return resumed.stdout


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code", "said"), [
    (signal.SIGINT, cli.EXIT_INTERRUPTED, "interrupted"),
    (signal.SIGTERM, cli.EXIT_TERMINATED, "terminated (SIGTERM)"),
])
def test_a_signal_to_the_process_writes_a_checkpoint_and_resume_finishes_it(
    tmp_path: Path, signum: int, code: int, said: str
) -> None:
    command = checkpointing_run(tmp_path, epochs=60)
    process = subprocess.Popen([*command, "--name", "sig"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    folder = tmp_path / "sig"
    wait_for(folder / runfolder.CHECKPOINT_FILE, process)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert f"{said}: checkpoint after epoch" in err
    assert f"resume with: deeprecipe run --resume {folder}" in err
    assert "Traceback" not in err
    assert json.loads((folder / "run.json").read_text())["status"] == "interrupted"
    resume_matches_the_whole_run(command, folder)


@pytest.mark.slow
def test_kill_9_then_resume_finishes_from_the_last_checkpoint_bit_for_bit(
    tmp_path: Path
) -> None:
    # kill -9 gives the process no chance to write anything: its lock goes with it, and the
    # checkpoint written every epoch is where --resume starts
    command = checkpointing_run(tmp_path, epochs=40)
    process = subprocess.Popen([*command, "--name", "killed"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    folder = tmp_path / "killed"
    wait_for(folder / runfolder.CHECKPOINT_FILE, process)
    process.kill()
    process.communicate(timeout=60)
    assert not (folder / "report.html").exists()
    assert f"resuming {folder} after epoch" in resume_matches_the_whole_run(command, folder)


def iris_csv(tmp_path: Path, missing: dict[int, str]) -> Path:
    """Iris as CSV with the species of some rows (0-based, after the header) replaced."""
    X, y = dr.datasets.load("iris")
    names = ["setosa", "versicolor", "virginica"]
    rows = [",".join([*(repr(float(v)) for v in row), missing.get(i, names[label])])
            for i, (row, label) in enumerate(zip(X, y, strict=True))]
    path = tmp_path / "iris.csv"
    path.write_text("sl,sw,pl,pw,species\n" + "\n".join(rows) + "\n")
    return path


def test_a_missing_target_is_an_error_or_dropped_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = iris_csv(tmp_path, {3: "nan", 70: ""})
    tiny = ["--data", str(data), "--target", "species", "--hidden", "4", "--epochs", "1",
            "--gradcheck", "off", "--name", "iris"]
    assert run(tmp_path, *tiny) == cli.EXIT_USAGE
    err = one_line_error(capsys)
    assert "the target is missing" in err and "on file lines 5, 72" in err
    assert "--drop-missing-target" in err
    assert run(tmp_path, *tiny, "--drop-missing-target") == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "dropped 2 rows whose target is missing" in out
    folder = tmp_path / "iris"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["data"]["dropped_missing_target"] == 2
    assert summary["data"]["n_samples"] == 148
    assert summary["data"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert "dropped 2 rows whose target is missing" in (folder / "report.html").read_text()


def test_a_folder_as_data_is_images_and_target_does_not_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "folder").mkdir()
    assert run(tmp_path, "--data", f"{tmp_path / 'folder'}/", "--target", "y") == \
        cli.EXIT_USAGE
    err = one_line_error(capsys)
    assert err.startswith("error: command line: --target applies to CSV, TSV and Parquet") and \
        "a folder of images has one subfolder per class" in err
    assert run(tmp_path, "--data", f"{tmp_path / 'folder'}/") == cli.EXIT_USAGE
    assert "folder: has no class subfolders" in one_line_error(capsys)


def test_tune_takes_drop_missing_target_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = iris_csv(tmp_path, {3: "NA"})
    options = ["tune", "--data", str(data), "--target", "species", "--output-dir",
               str(tmp_path), "--budget", "1", "--workers", "1"]
    assert cli.main(options) == cli.EXIT_USAGE  # before any folder is made
    assert "the target is missing" in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == [data]
    args = cli.build_parser().parse_args([*options, "--drop-missing-target"])
    assert args.drop_missing_target is True


def test_a_run_whose_cost_grows_by_orders_of_magnitude_is_diverged_not_high_bias(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the issue: at learning rate 1e10 the cost reached 1e33 (finite), every error was 100%,
    # and the diagnosis read "high bias → bigger network"
    code = run(tmp_path, "--name", "diverged", "--data", str(iris_csv(tmp_path, {})),
               "--target", "species", "--learning-rate", "1e10", "--epochs", "3",
               "--gradcheck", "off")
    out, err = capsys.readouterr()
    assert code == cli.EXIT_FAILED_CHECK
    assert "diagnosis: diverged (no bias/variance verdict)" in out
    assert "high bias" not in out and "bigger network" not in out
    assert "next: lower learning rate" in out.split("diagnosis: diverged")[1].splitlines()[1]
    assert "check failed: training diverged at epoch 1: the training cost grew to" in err
    summary = json.loads((tmp_path / "diverged" / "summary.json").read_text())
    diagnosis = summary["diagnosis"]
    assert diagnosis["verdict"] == "diverged"
    assert not diagnosis["high_bias"] and not diagnosis["high_variance"]
    assert diagnosis["advice"][0]["action"] == "lower_learning_rate"
    assert diagnosis["divergence"]["source"] == "growth"
    assert summary["early_stopping"]["stop_reason"] == "diverged"
    assert summary["headline"]["title"].startswith("Training diverged")
    assert summary["headline"]["steps"][0]["action"] == "lower_learning_rate"
    assert "bias" not in {check["name"] for check in summary["headline"]["checks"]}
    # no bias reading, so no yardstick to read it against: "auto" fits nothing
    assert summary["yardstick"] is None and "yardstick" not in summary["seconds"]
    assert diagnosis["bias_source"] == "zero"


@pytest.mark.parametrize("source", ["flag", "toml"])
def test_a_bayes_error_above_1_is_refused_with_the_hint_to_write_percent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    # one rule for run.toml, the flags and the library: a bare 2 is 2% without its sign
    if source == "toml":
        (tmp_path / "run.toml").write_text("bayes_error = 2\n")
        args = ["--config", str(tmp_path / "run.toml")]
    else:
        args = ["--bayes-error", "2"]
    assert run(tmp_path, *args) == cli.EXIT_USAGE
    assert "help: errors are fractions: for 2 percent write 2% (or 0.02)" in one_line_error(
        capsys)
    assert runconfig.RunConfig.from_dict({"bayes_error": 1}).bayes_error == 1.0  # an int
    assert runconfig.RunConfig.from_dict({"bayes_error": "1.5%"}).bayes_error == 0.015


# --- the run folder's lock, names and messages (issue 13, C and G) ------------------------------


def test_overwrite_and_resume_refuse_a_run_folder_another_process_works_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "busy"
    folder.mkdir()
    runfolder.write_run_file(folder, runconfig.RunConfig(data="iris"), "", runfolder.INTERRUPTED)
    before = (folder / runfolder.RUN_FILE).read_text()
    with held_elsewhere(folder):
        assert run(tmp_path, *TINY, "--name", "busy", "--overwrite") == cli.EXIT_USAGE
        assert f"--overwrite: {folder} is in use by another deeprecipe process (it holds " \
            f"{folder / '.lock'})" in one_line_error(capsys)
        assert cli.main(["run", "--resume", str(folder)]) == cli.EXIT_USAGE
        assert f"--resume: {folder} is in use by another deeprecipe process" in \
            one_line_error(capsys)
    assert (folder / runfolder.RUN_FILE).read_text() == before


@pytest.mark.slow
def test_a_training_run_keeps_overwrite_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command = [sys.executable, "-m", "deeprecipe.cli", "run", "--data", "digits", "--hidden",
               "32", "--epochs", "100000", "--patience", "100000", "--gradcheck", "off",
               "--output-dir", str(tmp_path), "--name", "busy"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        wait_for(tmp_path / "busy" / runfolder.RUN_FILE, process)
        assert run(tmp_path, *TINY, "--name", "busy", "--overwrite") == cli.EXIT_USAGE
        assert "is in use by another deeprecipe process" in one_line_error(capsys)
        record = json.loads((tmp_path / "busy" / runfolder.RUN_FILE).read_text())
        assert record["config"]["data"] == "digits" and process.poll() is None
    finally:
        stop_group(process)


@pytest.mark.parametrize(("args", "message"), [
    (["--seed", str(2**32)], "--seed must be an integer from 0 to 4294967295 (2**32 - 1); "
                             "received --seed='4294967296'."),
    (["--name", ".."], "--name must be a folder name of printable characters (not '.' or "
                       "'..', no '/' or '\\', not starting with '-'); received --name='..'."),
    (["--data", "\udcff.csv"], "error: the argument '\\udcff.csv' holds bytes that are "
                               "not UTF-8. help: rename the file or folder."),  # from argv
])
def test_a_seed_or_name_the_run_cannot_use_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert run(tmp_path, *TINY, *args) == cli.EXIT_USAGE
    assert message in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_an_output_dir_that_cannot_hold_the_run_is_one_line_without_errno(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    assert cli.main(["run", *TINY, "--output-dir", str(file)]) == cli.EXIT_USAGE
    assert f"--output-dir must be a folder; received --output-dir='{file}', which is a " \
        "file." in one_line_error(capsys)
    assert cli.main(["run", *TINY, "--output-dir", str(file / "runs")]) == cli.EXIT_USAGE
    err = one_line_error(capsys)
    assert f"--output-dir: cannot create the run folder {file / 'runs'}/" in err
    assert err.endswith(": Not a directory.") and "Errno" not in err


def test_a_binary_config_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    config = tmp_path / "run.toml"
    config.write_bytes(bytes(range(256)))
    assert run(tmp_path, "--config", str(config)) == cli.EXIT_USAGE
    err = one_line_error(capsys)
    assert f"--config: {config} is not a TOML file: it is not UTF-8 text." in err
    assert "codec" not in err


def test_a_run_that_fails_on_its_input_names_no_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "one_row.csv"
    data.write_text("a,b,y\n1,2,x\n")  # readable, but too small to split
    assert cli.main(["run", "--data", str(data), "--target", "y", "--output-dir",
                     str(tmp_path / "runs")]) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert "run folder:" not in captured.out  # it was made, then removed: nothing to see
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert not list((tmp_path / "runs").iterdir())


# --- gradient checks that cannot be judged (issue 13, A) --------------------------------------


def test_a_gradient_check_with_no_verdict_exits_0_and_says_which_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # every block within the noise floor (a network at a minimum): not a failure
    original = gradcheck.check_model

    def uninformative(*args: Any, **kwargs: Any) -> gradcheck.GradcheckReport:
        report = original(*args, **kwargs)
        blocks = {name: dataclasses.replace(block, verdict=gradcheck.UNINFORMATIVE)
                  for name, block in report.blocks.items()}
        return dataclasses.replace(report, verdict=gradcheck.UNINFORMATIVE, blocks=blocks)

    monkeypatch.setattr(workflow.gradcheck, "check_model", uninformative)
    assert run(tmp_path, "--name", "flat", *TINY) == cli.EXIT_OK
    out, err = capsys.readouterr()
    assert "check failed" not in err
    assert "gradient check after training (full): no verdict: every block uninformative" in out
    assert "on 30 dev rows" in out
    assert "gradient check: init uninformative, trained uninformative" in out
