"""``deeprecipe diagnose`` (the verdict and the recipe from the command line) and
``deeprecipe predict`` (a saved model's predictions as CSV, with its standardizer)."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import cli, persistence, workflow
from deeprecipe.data import Standardizer


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


# --- diagnose ---------------------------------------------------------------------------------


def test_diagnose_prints_the_verdict_and_the_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["diagnose", "--train-error", "0.01", "--dev-error", "0.11"]
    assert cli.main(argv) == cli.EXIT_OK
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "high variance"  # the notes' 1% / 11% example
    assert "avoidable bias 1.00% (train − Bayes), variance 10.00% (dev − train)" in out
    assert "  1. more data: more training data is the surest cure for variance" in lines
    assert any(line.startswith("  2. augment:") for line in lines)


def test_percentages_mean_the_same_as_fractions(capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["diagnose", "--train-error", "0.01", "--dev-error", "0.11"])
    fractions = capsys.readouterr().out
    cli.main(["diagnose", "--train-error", "1%", "--dev-error", "11%"])
    assert capsys.readouterr().out == fractions


def test_bayes_error_n_dev_and_test_error(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["diagnose", "--train-error", "15%", "--dev-error", "16%", "--bayes-error", "15%",
            "--n-dev", "1000", "--test-error", "0.2", "--json"]
    assert cli.main(argv) == cli.EXIT_OK
    diagnosis = json.loads(capsys.readouterr().out)
    assert diagnosis["verdict"] == "low bias and low variance"  # the notes: 15% Bayes error
    assert diagnosis["dev_interval"][0] < 0.16 < diagnosis["dev_interval"][1]
    assert diagnosis["test_error"] == 0.2
    overfitted = [r for r in diagnosis["remarks"] if r["code"] == "dev_overfitted"]
    assert overfitted[0]["values"]["gap"] == pytest.approx(0.04)
    assert "overfitted by model selection" in overfitted[0]["text"]  # JSON carries the words


def test_regression_takes_mean_squared_errors(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["diagnose", "--train-error", "3.5", "--dev-error", "3.6", "--regression"]
    assert cli.main(argv) == cli.EXIT_OK
    assert "high bias" in capsys.readouterr().out


@pytest.mark.parametrize(("value", "message"), [
    ("11", "--dev-error must be a fraction in [0, 1] (0.01) or a percentage ('1%'); received "
           "--dev-error='11'. help: errors are fractions: for 11 percent write 11% (or 0.11)"),
    ("eleven", "--dev-error must be a fraction in [0, 1] (0.01) or a percentage ('1%')"),
])
def test_bad_errors_are_one_line_usage_errors(
    capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    argv = ["diagnose", "--train-error", "0.01", "--dev-error", value]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert message in one_line_error(capsys)
    with pytest.raises(SystemExit) as stop:
        cli.main(["diagnose", "--train-error", "0.01"])
    assert stop.value.code == cli.EXIT_USAGE
    assert "the following arguments are required: --dev-error" in one_line_error(capsys)


# --- predict ----------------------------------------------------------------------------------


@pytest.fixture
def csv_model(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    """A classifier of ``yes``/``no`` trained on columns a, b, c of a CSV, saved as a run
    saves it (standardizer with feature names, class labels)."""
    X = rng.normal(loc=[5.0, -2.0, 100.0], scale=[1.0, 3.0, 10.0], size=(80, 3))
    labels = np.where(X[:, 0] > 5.0, "yes", "no")
    path = tmp_path / "train.csv"
    lines = ["a,b,c,label"] + [f"{a},{b},{c},{label}" for (a, b, c), label in zip(X, labels,
                                                                                  strict=True)]
    path.write_text("\n".join(lines) + "\n")
    loaded = workflow.load_data(str(path), "label")
    scaler = Standardizer().fit(loaded.X, loaded.feature_names)
    model = dr.Sequential([dr.Dense(8, "relu"), dr.Dense(1, "sigmoid")], input_dim=3, seed=0)
    model.fit(scaler.transform(loaded.X), loaded.y, epochs=40, batch_size=16,
              learning_rate=0.01)
    folder = persistence.save(model, tmp_path / "model", standardizer=scaler, extra={
        "task": loaded.task, "classes": loaded.classes, "data": loaded.name})
    return folder, path


def read_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_predict_writes_labels_and_probabilities(
    csv_model: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, train = csv_model
    assert cli.main(["predict", str(folder), "--data", str(train)]) == cli.EXIT_OK
    rows = read_rows(capsys.readouterr().out)
    assert list(rows[0]) == ["label", "p_no", "p_yes"] and len(rows) == 80
    model = dr.load(folder)
    X = np.loadtxt(train, delimiter=",", skiprows=1, usecols=(0, 1, 2))
    proba = model.predict_proba(X)  # raw inputs: the saved standardizer is applied
    np.testing.assert_allclose([float(row["p_yes"]) for row in rows], proba[:, 1], rtol=1e-5)
    assert [row["label"] for row in rows] == ["yes" if p > 0.5 else "no" for p in proba[:, 1]]


def test_predict_picks_columns_by_name_and_scores_a_target(
    csv_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, train = csv_model
    table = np.genfromtxt(train, delimiter=",", skip_header=1, dtype=str)
    shuffled = tmp_path / "new.csv"  # columns in another order, plus an id column
    lines = ["label,id,c,a,b"] + [f"{r[3]},{i},{r[2]},{r[0]},{r[1]}"
                                  for i, r in enumerate(table)]
    shuffled.write_text("\n".join(lines) + "\n")
    out = tmp_path / "preds.csv"
    argv = ["predict", str(folder), "--data", str(shuffled), "--target", "label", "--out",
            str(out)]
    assert cli.main(argv) == cli.EXIT_OK
    captured = capsys.readouterr()
    assert f"wrote 80 predictions to {out}" in captured.out
    assert "error on" in captured.err
    assert cli.main(["predict", str(folder), "--data", str(train)]) == cli.EXIT_OK
    assert out.read_text() == capsys.readouterr().out  # the same predictions


def test_predict_errors_are_one_line(
    csv_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = csv_model
    partial = tmp_path / "partial.csv"
    partial.write_text("a,b\n1,2\n")
    assert cli.main(["predict", str(folder), "--data", str(partial)]) == cli.EXIT_USAGE
    assert "has no column(s) ['c']" in one_line_error(capsys)
    assert cli.main(["predict", str(folder), "--data", "digits"]) == cli.EXIT_USAGE
    assert "--data must have 3 feature columns" in one_line_error(capsys)
    assert cli.main(["predict", str(tmp_path), "--data", "digits"]) == cli.EXIT_USAGE
    assert "no config.json" in one_line_error(capsys)
    data = tmp_path / "full.csv"
    data.write_text("a,b,c\n1,2,3\n")
    assert cli.main(["predict", str(folder), "--data", str(data), "--out", str(tmp_path)]) \
        == cli.EXIT_USAGE
    assert f"--out must be a file path; received --out='{tmp_path}', a folder." in \
        one_line_error(capsys)


def test_predict_matches_a_files_labels_to_the_models_classes_by_name(
    csv_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, train = csv_model
    lines = train.read_text().splitlines()
    only_yes = tmp_path / "yes.csv"  # one class only: its code in this file would be 0
    only_yes.write_text("\n".join([lines[0], *[row for row in lines[1:]
                                              if row.endswith(",yes")]]) + "\n")
    argv = ["predict", str(folder), "--data", str(only_yes), "--target", "label"]
    assert cli.main(argv) == cli.EXIT_OK
    captured = capsys.readouterr()
    rows = read_rows(captured.out)
    wrong = sum(row["label"] != "yes" for row in rows)
    assert f"error on {only_yes}: {wrong / len(rows):.2%}" in captured.err
    unknown = tmp_path / "maybe.csv"
    unknown.write_text(lines[0] + "\n" + lines[1].rsplit(",", 1)[0] + ",maybe\n")
    assert cli.main(["predict", str(folder), "--data", str(unknown), "--target",
                     "label"]) == cli.EXIT_USAGE
    assert "labels the model was not trained on: ['maybe']" in one_line_error(capsys)


def test_predict_reads_npz_and_regression_models(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    X = rng.normal(size=(30, 2))
    model = dr.Sequential([dr.Dense(4, "tanh"), dr.Dense(1, "linear")], input_dim=2)
    model.save(tmp_path / "model")
    np.savez(tmp_path / "new.npz", X=X)
    assert cli.main(["predict", str(tmp_path / "model"), "--data",
                     str(tmp_path / "new.npz")]) == cli.EXIT_OK
    rows = read_rows(capsys.readouterr().out)
    assert list(rows[0]) == ["prediction"] and len(rows) == 30
    np.testing.assert_allclose([float(r["prediction"]) for r in rows], model.predict(X),
                               rtol=1e-6)


def test_a_model_folder_without_weights_is_refused_not_checked_fresh(
    csv_model: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 13: gradcheck checked a freshly initialized network there, and passed
    folder, train = csv_model
    (folder / "weights.safetensors").unlink()
    for argv in (["gradcheck", str(folder), "--data", str(train), "--target", "label"],
                 ["predict", str(folder), "--data", str(train)]):
        assert cli.main(argv) == cli.EXIT_USAGE
        assert f"no weights.safetensors in {folder}" in one_line_error(capsys)


@pytest.mark.parametrize("content", [
    b"[1, 2]",
    b"\x80\x04binary",
    b'{"layers": [], "input_dim": 2}',
    b'{"layers": [{"kind": "dense", "units": 1e400}], "input_dim": 2}',
    b'{"layers": [{"kind": "dense", "units": 1000000000000}], "input_dim": 2}',
])
def test_gradcheck_of_a_bad_config_file_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    # issue 13: a list raised AttributeError; a binary file printed codec text, no file named
    config = tmp_path / "net.json"
    config.write_bytes(content)
    assert cli.main(["gradcheck", str(config), "--data", "iris"]) == cli.EXIT_USAGE
    error = one_line_error(capsys)
    assert str(config) in error and "codec" not in error


def test_predict_refuses_outputs_that_overflow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = dr.Sequential([dr.Dense(3, "relu"), dr.Dense(2, "softmax")], input_dim=1)
    model.params[0]["W"][...] = 1e30
    model.params[1]["W"][...] = [[1e30, -1e30]] * 3
    model.save(tmp_path / "model")
    (tmp_path / "x.csv").write_text("x\n1\n1e20\n")
    assert cli.main(["predict", str(tmp_path / "model"), "--data",
                     str(tmp_path / "x.csv")]) == cli.EXIT_USAGE
    assert "not finite (an overflow) on 2 of 2 rows, the first is row 1" in \
        one_line_error(capsys)


# --- the README's synopsis ----------------------------------------------------------------------


def test_the_readme_synopsis_lists_every_command_and_flag() -> None:
    """The README's command-line synopsis and the parser never drift apart."""
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    synopsis = readme.split("deeprecipe run [--config", 1)[1].split("```", 1)[0]
    synopsis = "deeprecipe run [--config" + synopsis
    documented: dict[str, set[str]] = {}
    for line in synopsis.splitlines():
        command = re.match(r"deeprecipe (\w+)", line)
        if command:
            current = documented.setdefault(command[1], set())
        current.update(re.findall(r"--[\w-]+", line))
    commands = cli.build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(documented) == set(commands)
    for name, parser in commands.items():
        flags = {option for action in parser._actions for option in action.option_strings
                 if option.startswith("--") and option != "--help"}
        assert documented[name] == flags, name


def test_importing_the_library_or_the_command_line_loads_neither_sklearn_nor_matplotlib(
) -> None:
    # they take most of a second each: a command that needs neither (diagnose, --help)
    # must not pay for them, and they load when first used
    script = ("import sys, deeprecipe, deeprecipe.cli; "
              "print(sorted({'sklearn', 'matplotlib'} & set(sys.modules))); "
              "deeprecipe.DeepClassifier; deeprecipe.datasets.load('iris'); "
              "print('sklearn' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "True"]


def test_diagnose_flags_and_the_library_read_errors_by_one_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 0 and 1 are fractions; a percentage carries its sign; the same numbers as the library's
    assert cli.main(["diagnose", "--train-error", "0", "--dev-error", "1", "--json"]) == 0
    flags = json.loads(capsys.readouterr().out)
    assert flags == json.loads(json.dumps(dr.diagnose(train_error=0, dev_error=1).to_dict()))
    assert cli.main(["diagnose", "--train-error", "0.5%", "--dev-error", "1%", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == dr.diagnose("0.5%", "1%").verdict


@pytest.mark.parametrize("flag", ["--train-error", "--dev-error", "--bayes-error",
                                  "--test-error"])
def test_every_error_flag_refuses_a_bare_number_above_1_with_the_hint(
    capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    values = {"--train-error": "0.01", "--dev-error": "0.11"}
    argv = ["diagnose", *[item for pair in {**values, flag: "15"}.items() for item in pair]]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert f"received {flag}='15'. help: errors are fractions: for 15 percent write 15% (or " \
           "0.15)" in one_line_error(capsys)


def test_diagnose_refuses_a_yardstick_it_has_no_data_for(
    capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["diagnose", "--train-error", "1%", "--dev-error", "11%", "--bayes-error", "auto"]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert "--bayes-error auto needs the data" in one_line_error(capsys)


# --- messages: no traceback, no errno, no codec text (issue 13, G) -----------------------------


def test_operating_system_errors_read_as_the_path_and_the_reason() -> None:
    assert cli.message(PermissionError(errno.EACCES, "Permission denied", "runs/x")) == \
        "runs/x: Permission denied"
    assert cli.message(OSError(errno.EROFS, "Read-only file system")) == "Read-only file system"
    assert cli.message(FileNotFoundError("--data: no file x.csv.")) == "--data: no file x.csv."
    with pytest.raises(UnicodeDecodeError) as undecodable:
        b"\xff".decode("utf-8")
    assert cli.message(undecodable.value) == "an input file is not UTF-8 text"
    assert cli.message(MemoryError("Unable to allocate 29.1 TiB")) == "not enough memory " \
        "(Unable to allocate 29.1 TiB). help: a smaller network (--hidden) or less data."


def test_predict_names_out_and_not_its_temporary_file(
    csv_model: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    folder, data = csv_model
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    out = blocker / "preds.csv"
    assert cli.main(["predict", str(folder), "--data", str(data), "--out", str(out)]) \
        == cli.EXIT_USAGE
    assert one_line_error(capsys) == f"error: predict: cannot write --out='{out}': a folder " \
        "on its path is a file."

    def read_only(path: Path, write: object) -> None:  # as a read-only folder answers
        tmp = path.parent / f".{path.name}.0123456789abcdef.tmp"
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp))

    monkeypatch.setattr(cli.predict.persistence, "atomic_write", read_only)
    out = tmp_path / "preds.csv"
    assert cli.main(["predict", str(folder), "--data", str(data), "--out", str(out)]) \
        == cli.EXIT_USAGE
    assert one_line_error(capsys) == f"error: predict: cannot write --out='{out}': " \
        "Permission denied."


@pytest.mark.parametrize("case", ["binary", "missing", "under a file", "empty folder"])
@pytest.mark.parametrize("command", ["predict", "gradcheck"])
def test_a_bad_model_path_is_one_line_without_errno_or_codec_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, command: str
) -> None:
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)))
    (tmp_path / "empty").mkdir()
    path = {"binary": binary, "missing": tmp_path / "nope", "under a file": binary / "model",
            "empty folder": tmp_path / "empty"}[case]
    assert cli.main([command, str(path), "--data", "iris"]) == cli.EXIT_USAGE
    err = one_line_error(capsys)
    assert str(path) in err
    assert not any(raw in err for raw in ("Errno", "codec", "Traceback")), err


@pytest.mark.parametrize("command", ["predict", "gradcheck"])
def test_a_missing_data_file_is_one_line_without_errno(
    csv_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    command: str
) -> None:
    folder, _ = csv_model
    missing = tmp_path / "gone.npz"
    assert cli.main([command, str(folder), "--data", str(missing)]) == cli.EXIT_USAGE
    err = one_line_error(capsys)
    assert str(missing) in err and "Errno" not in err


# --- the command line used carelessly ---------------------------------------------------------


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line of a refused command (argparse's refusals exit through SystemExit)."""
    try:
        code = cli.main(argv)
    except SystemExit as stop:
        code = stop.code  # type: ignore[assignment]
    assert code == cli.EXIT_USAGE
    return one_line_error(capsys)


@pytest.mark.parametrize("argv", [
    ["run", "--data", "iris", "--learning-rate", "０.１"],  # full-width digits
    ["run", "--data", "iris", "--epochs", "1_000"],
    ["run", "--data", "iris", "--batch-size", "٣٢"],  # Arabic-Indic digits
    ["tune", "--data", "iris", "--budget", "１"],
    ["tune", "--data", "iris", "--workers", "1_0"],
    ["experiment", "regularization", "--epochs", "３"],
    ["diagnose", "--train-error", "0.1", "--dev-error", "0.2", "--n-dev", "1_000"],
    ["gradcheck", "model", "--rows", "３"],
    ["gradcheck", "model", "--epsilon", "１e-7"],
])
def test_number_flags_are_numbers_only_in_ascii_digits(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python's int() and float() read 1_000 and full-width or Arabic-Indic digits; a flag,
    like a CSV cell, is a number only in the plain forms (`tune --budget １` tuned once)."""
    monkeypatch.chdir(tmp_path)  # the runs/ a wrongly accepted run or tune would write
    err = usage_error(argv, capsys)
    assert argv[-1] in err and argv[-2] in err


@pytest.mark.parametrize("command", ["gradcheck", "experiment"])
@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_every_seed_flag_takes_the_seeds_run_takes(
    csv_model: tuple[Path, Path], capsys: pytest.CaptureFixture[str], command: str, seed: str
) -> None:
    """gradcheck --seed -1 was NumPy's 'expected non-negative integer', naming no flag;
    experiment took seeds above 2**32 - 1 that run refuses."""
    folder, data = csv_model
    argv = {"gradcheck": ["gradcheck", str(folder), "--data", str(data), "--target", "label"],
            "experiment": ["experiment", "regularization", "--epochs", "1"]}[command]
    err = usage_error([*argv, "--seed", seed], capsys)
    assert f"--seed must be an integer from 0 to 4294967295 (2**32 - 1); received --seed={seed}" \
        in err


@pytest.mark.parametrize("argv", [
    ["tune", "--data", "iris", "--target", "species", "--budget", "1"],
    ["tune", "--data", "iris", "--task", "regression", "--budget", "1"],
    ["run", "--data", "iris", "--task", "regression"],
    ["gradcheck", "MODEL", "--data", "iris", "--target", "species"],
    ["predict", "MODEL", "--data", "iris", "--target", "species"],
    ["predict", "MODEL", "--data", "DATA.npz", "--target", "y"],
])
def test_an_option_the_data_has_no_use_for_is_refused_not_ignored(
    csv_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    argv: list[str]
) -> None:
    """A built-in dataset has its own task and labels, an .npz its array y: run --task
    regression on iris trained a classifier and its summary said task regression, and tune,
    gradcheck and predict ran with a --target they never read (exit 0)."""
    folder, _ = csv_model
    npz = tmp_path / "data.npz"
    np.savez(npz, X=np.zeros((10, 3)), y=np.arange(10) % 2)
    argv = [str(folder) if arg == "MODEL" else str(npz) if arg == "DATA.npz" else arg
            for arg in argv]
    if argv[0] in ("run", "tune"):
        argv += ["--output-dir", str(tmp_path / "runs")]
    err = usage_error(argv, capsys)
    flag = "--task" if "--task" in argv else "--target"
    assert f"{flag}=" in err and argv[argv.index("--data") + 1] in err
    assert not (tmp_path / "runs").exists()


def test_predict_checks_an_npz_without_labels_as_training_does(
    csv_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An .npz of X alone was read by np.asarray(X, float64): a damaged file was a
    traceback, text digits ('１.５') were numbers, NaN was blamed on the Standardizer."""
    folder, _ = csv_model
    cases = {
        "damaged": b"PK\x03\x04 not a zip file",
        "text": {"X": np.full((4, 3), "１.５")},
        "nan": {"X": np.where(np.eye(4, 3) > 0, np.nan, 1.0)},
        "scalar": {"X": np.float64(3.0)},
        "objects": {"X": np.array([[1, "a", None]] * 4, dtype=object)},
    }
    for name, content in cases.items():
        path = tmp_path / f"{name}.npz"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            np.savez(path, **content)  # type: ignore[arg-type]
        err = usage_error(["predict", str(folder), "--data", str(path)], capsys)
        assert f"{path.name}:" in err or f"{path.name}," in err, (name, err)
    good = tmp_path / "good.npz"
    np.savez(good, X=np.ones((4, 3)))
    assert cli.main(["predict", str(folder), "--data", str(good)]) == cli.EXIT_OK
    assert len(read_rows(capsys.readouterr().out)) == 4


@pytest.mark.parametrize("out", ["the data", "a link to the data", "a model file", "in the model"])
def test_predict_out_replaces_neither_its_data_nor_the_model(
    csv_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str
) -> None:
    """predict --out naming its --data file replaced the data by the predictions, and one
    naming the model's config.json replaced the model (both exit 0)."""
    folder, data = csv_model
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    path = {"the data": data, "a link to the data": link, "a model file": folder / "config.json",
            "in the model": folder / "predictions.csv"}[out]
    before = {file: file.read_bytes() for file in (data, *folder.iterdir())}
    err = usage_error(["predict", str(folder), "--data", str(data), "--out", str(path)], capsys)
    assert "predict: --out must" in err
    assert {file: file.read_bytes() for file in (data, *folder.iterdir())} == before


@pytest.mark.parametrize("command", ["run", "gradcheck", "predict", "run --config"])
def test_a_pipe_as_an_input_is_one_line_not_a_wait(
    csv_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    command: str
) -> None:
    """predict --data pipe.csv waited for a writer forever; run said 'no file pipe.csv'."""
    folder, _ = csv_model
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    argv = {"run": ["run", "--data", str(pipe), "--target", "y"],
            "gradcheck": ["gradcheck", str(folder), "--data", str(pipe), "--target", "y"],
            "predict": ["predict", str(folder), "--data", str(pipe)],
            "run --config": ["run", "--config", str(pipe)]}[command]
    err = usage_error([*argv, *(["--output-dir", str(tmp_path)] if argv[0] == "run" else [])],
                      capsys)
    assert "pipe.csv" in err and "regular file" in err


@pytest.mark.parametrize("command", ["run", "diagnose --json", "gradcheck"])
def test_a_reader_that_goes_away_changes_nothing(
    csv_model: tuple[Path, Path], tmp_path: Path, command: str
) -> None:
    """`deeprecipe run … | head -1` stopped the run after its first line with exit status 1
    (a failed check, here) and no message, its folder holding run.json alone; rich's
    console exits on a closed pipe. The reader's leaving silences stdout, nothing more."""
    folder, data = csv_model
    argv = {"run": ["run", "--data", "iris", "--epochs", "2", "--gradcheck", "off",
                    "--output-dir", str(tmp_path / "runs"), "--name", "piped"],
            "diagnose --json": ["diagnose", "--train-error", "0.1", "--dev-error", "0.2",
                                "--json"],
            "gradcheck": ["gradcheck", str(folder), "--data", str(data), "--target",
                          "label"]}[command]
    process = subprocess.Popen([sys.executable, "-m", "deeprecipe.cli", *argv],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()  # read one line, as `head -1` does, and go away
    process.stdout.close()
    err = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=300) == cli.EXIT_OK, err
    assert "Traceback" not in err and "Broken pipe" not in err
    if command == "run":
        assert (tmp_path / "runs" / "piped" / "model" / "config.json").is_file()
        assert json.loads((tmp_path / "runs" / "piped" / "run.json").read_text())["status"] \
            == "complete"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_full_standard_output_is_named(csv_model: tuple[Path, Path]) -> None:
    """predict > /dev/full said 'error: No space left on device', naming nothing."""
    folder, data = csv_model
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "deeprecipe.cli", "predict", str(folder),
                                 "--data", str(data)], stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=300)
    assert result.returncode == cli.EXIT_USAGE
    assert result.stderr == "error: standard output: No space left on device\n"


def test_gradcheck_says_its_data_was_the_default(
    csv_model: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --data, gradcheck checks on digits: its refusal of a 3-feature model said
    'received --data='digits'' to a user who passed no --data."""
    folder, _ = csv_model
    err = usage_error(["gradcheck", str(folder)], capsys)
    assert "received --data='digits' (the default) with 64" in err
    assert "(the default)" not in usage_error(["gradcheck", str(folder), "--data", "digits"],
                                              capsys)


@pytest.mark.parametrize("argv", [
    ["tune", "--data", ""], ["gradcheck", "MODEL", "--data", ""],
    ["predict", "MODEL", "--data", "DATA", "--out", ""],
])
def test_an_empty_path_is_not_the_working_folder(
    csv_model: tuple[Path, Path], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Path('') is '.': tune --data '' was called 'a folder', predict --out '' too."""
    folder, data = csv_model
    argv = [str(folder) if arg == "MODEL" else str(data) if arg == "DATA" else arg
            for arg in argv]
    err = usage_error(argv, capsys)
    assert err.endswith("received --data=''.") or err.endswith("received --out=''.")


def test_an_empty_model_path_is_no_folder(capsys: pytest.CaptureFixture[str]) -> None:
    # '' read as the current folder: "no config.json in ."
    assert cli.main(["gradcheck", ""]) == cli.EXIT_USAGE
    assert "path must be a folder's name; received path=''" in one_line_error(capsys)
    assert cli.main(["predict", "", "--data", "iris"]) == cli.EXIT_USAGE
    assert "path must be a folder's name; received path=''" in one_line_error(capsys)


@pytest.mark.parametrize("module", ["deeprecipe", "deeprecipe.cli"])
def test_python_m_runs_the_command(module: str) -> None:
    result = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == cli.EXIT_OK, result.stderr
    assert result.stdout.startswith("deeprecipe ")
