"""Tests for ``deeprecipe.runconfig``: one table of options read from TOML, flags and
run.json, with errors that name the source and the key."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from deeprecipe.cli.base import message
from deeprecipe.runconfig import (
    COMMAND_LINE,
    OPTIONS,
    ConfigError,
    RunConfig,
    parse,
    read_toml,
    resolve,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_field_has_one_option_and_the_defaults_are_a_digits_run() -> None:
    assert list(OPTIONS) == [f.name for f in fields(RunConfig)]
    config = RunConfig()
    assert config.data == "digits" and config.hidden == (128, 64)
    assert config.keep_probs() == (0.8, 1.0)  # dropout on the first hidden layer only
    assert RunConfig(hidden=(32, 16, 8)).keep_probs() == (0.8, 1.0, 1.0)


def test_to_dict_and_from_dict_round_trip() -> None:
    config = RunConfig(hidden=(16, 8), keep_prob=(0.9, 0.7), l1=0.1, augment=True, seed=3)
    values = config.to_dict()
    assert values["hidden"] == [16, 8] and values["keep_prob"] == [0.9, 0.7]
    assert RunConfig.from_dict(values) == config
    resolved = RunConfig.from_dict(RunConfig().to_dict())  # keep_prob None → explicit
    assert resolved.keep_prob == (0.8, 1.0)


def test_a_toml_file_with_flags_overriding_it(tmp_path: Path) -> None:
    path = write(tmp_path, 'data = "iris"\nhidden = [16, 8]\nkeep_prob = 0.9\nepochs = 5\n'
                           'bayes_error = 0.01\naugment = false\n')
    config = resolve(path, {"epochs": "7", "learning_rate": "0.01", "bayes_error": "2%"})
    assert config.data == "iris" and config.hidden == (16, 8)
    assert config.keep_prob == (0.9, 0.9)  # one value for every hidden layer
    assert config.epochs == 7 and config.learning_rate == 0.01
    assert config.bayes_error == pytest.approx(0.02)


def test_a_toml_files_relative_paths_are_read_from_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "iris.csv").write_text("a,species\n1,x\n")
    path = write(folder, 'data = "iris.csv"\ntarget = "species"\noutput_dir = "runs"\n')
    config = resolve(path, {})
    assert (config.data, config.output_dir) == (str(folder / "iris.csv"), str(folder / "runs"))
    assert resolve(write(folder, 'data = "digits"\n'), {}).data == "digits"  # a name
    flagged = resolve(path, {"data": "other.csv", "target": "y"})  # a flag: from the cwd
    assert flagged.data == "other.csv"


@pytest.mark.parametrize(("text", "message"), [
    ("epochs = 0\n", "epochs must be a positive integer; received epochs=0."),
    ("epochs = 2.5\n", "epochs must be a positive integer; received epochs=2.5."),
    ('hidden = [16, "x"]\n', "hidden must be positive integers"),
    ("keep_prob = [0.5, 1.5]\n", "keep_prob must be probabilities in (0, 1]"),
    ('activation = "softmax"\n', "activation must be one of 'linear', 'relu'"),
    ('optimizer = "rmsprop"\n', "optimizer must be one of 'sgd', 'momentum', 'adam'"),
    ("bayes_error = 1.5\n", "bayes_error must be 'auto' or a fraction in [0, 1]"),
    ('augment = "maybe"\n', "augment must be true (the data's defaults), false, or transforms "
                             "from flip, crop, rotate, distort (e.g. flip,rotate); received "
                             "augment='maybe'."),
    ('augment = ["flip", "rotat"]\n', "received augment=['flip', 'rotat']. help: did you "
                                      "mean 'rotate'?"),
    ("augment = []\n", "augment must be true"),
    ("augment = 1\n", "augment must be true"),
    ('name = "a/b"\n', "name must be a folder name"),
    ('task = "ranking"\n', "task must be one of 'auto', 'classification', 'regression'"),
])
def test_bad_values_in_a_file_name_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        resolve(path, {})
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


@pytest.mark.parametrize(("value", "parsed"), [
    (True, True), ("false", False), ("yes", True),  # on (the data's defaults) or off
    ("rotate,flip", ("flip", "rotate")), (["distort", "crop", "crop"], ("crop", "distort")),
    ("flip, crop", ("flip", "crop")),  # the table's order, each once
])
def test_augment_is_on_off_or_the_transforms_named(value: object, parsed: object) -> None:
    assert parse({"augment": value}, COMMAND_LINE)["augment"] == parsed


def test_the_transforms_named_round_trip_through_run_json() -> None:
    config = RunConfig(data="digits", augment=("crop", "distort"), keep_prob=(0.8, 1.0))
    assert config.to_dict()["augment"] == ["crop", "distort"]
    assert RunConfig.from_dict(config.to_dict()) == config
    assert RunConfig.from_dict({"augment": False}).augment is False  # an older run.json


def test_bad_flags_are_named_by_key_and_the_cli_spells_them_as_flags() -> None:
    with pytest.raises(ConfigError, match=r"^command line: batch_size must be a positive "
                       r"integer; received batch_size='many'\.$") as error:
        parse({"batch_size": "many"}, COMMAND_LINE)
    assert message(error.value) == ("command line: --batch-size must be a positive integer; "
                                    "received --batch-size='many'.")
    with pytest.raises(ConfigError, match="keep_prob must have one value per hidden") as error:
        resolve(None, {"hidden": "16,8,4", "keep_prob": "0.5,0.5"})
    assert "--keep-prob must have one value per hidden layer" in message(error.value)
    for typo in ("10,,3", "128,64,"):  # an empty item is a typo, not one layer fewer
        with pytest.raises(ConfigError, match=f"hidden must be positive integers, one per "
                           f"hidden layer .*; received hidden='{typo}'") as error:
            parse({"hidden": typo}, COMMAND_LINE)
        assert f"; received --hidden='{typo}'" in message(error.value)
    with pytest.raises(ConfigError) as error:  # a file's keys stay keys
        parse({"batch_size": "many"}, "run.toml")
    assert message(error.value).startswith("run.toml: batch_size must be")
    assert parse({"hidden": "128, 64"}, COMMAND_LINE)["hidden"] == (128, 64)


def test_unknown_keys_suggest_the_closest_and_list_the_valid_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "epoch = 3\n")
    with pytest.raises(ConfigError) as error:
        resolve(path, {})
    message = str(error.value)
    assert "unknown key 'epoch'" in message and "did you mean 'epochs'?" in message
    assert "Valid keys: data, target" in message


def test_tables_and_invalid_toml_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[model\] tables are not options"):
        read_toml(write(tmp_path, "[model]\nhidden = [3]\n"))
    with pytest.raises(ConfigError, match="is not valid TOML"):
        read_toml(write(tmp_path, "epochs = = 3\n"))
    with pytest.raises(FileNotFoundError, match=r"^config: no file") as missing:
        read_toml(tmp_path / "missing.toml")
    assert message(missing.value).startswith("--config: no file")


def test_target_goes_with_csv_data_only(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("a,label\n1,0\n")
    with pytest.raises(ConfigError, match=r"target must name the label column of .*x\.csv"):
        resolve(None, {"data": str(data)})
    resolve(None, {"data": "missing.csv"})  # no file: the data check says so, not this
    with pytest.raises(ConfigError,
                       match=r"target applies to CSV, TSV and Parquet data only") as error:
        resolve(None, {"target": "label"})
    assert "--target applies to CSV, TSV and Parquet data only (a column name); received " \
        "--target='label'" in message(error.value)
    assert resolve(None, {"data": "x.csv", "target": "label"}).target == "label"


def test_error_rates_accept_fractions_and_percentages() -> None:
    assert parse({"bayes_error": "1%"}, COMMAND_LINE)["bayes_error"] == pytest.approx(0.01)
    assert parse({"bayes_error": 0.01}, "f")["bayes_error"] == 0.01
    with pytest.raises(ConfigError):
        parse({"bayes_error": "150%"}, COMMAND_LINE)


def test_the_bayes_error_is_the_yardstick_unless_one_is_given(tmp_path: Path) -> None:
    assert RunConfig().bayes_error == "auto" and RunConfig().to_dict()["bayes_error"] == "auto"
    assert parse({"bayes_error": " Auto "}, COMMAND_LINE)["bayes_error"] == "auto"
    assert parse({"bayes_error": "0"}, COMMAND_LINE)["bayes_error"] == 0.0  # 0 given: no
    # yardstick; a run.json written before "auto" existed (a number) reads as before
    assert RunConfig.from_dict({"bayes_error": 0.0}).bayes_error == 0.0
    path = tmp_path / "run.toml"
    path.write_text('bayes_error = "auto"\n')
    assert resolve(path, {}).bayes_error == "auto"
    assert resolve(path, {"bayes_error": "2%"}).bayes_error == pytest.approx(0.02)
    for value in ("automatic", "", True, None):
        with pytest.raises(ConfigError, match=r"bayes_error must be 'auto' or a fraction"):
            parse({"bayes_error": value}, COMMAND_LINE)


def test_drop_missing_target_is_an_option_of_the_file_and_the_flags(tmp_path: Path) -> None:
    assert RunConfig().drop_missing_target is False  # the default: an error naming the rows
    path = write(tmp_path, 'data = "x.csv"\ntarget = "y"\ndrop_missing_target = true\n')
    assert resolve(path, {}).drop_missing_target is True
    assert resolve(path, {"drop_missing_target": False}).drop_missing_target is False
    with pytest.raises(ConfigError, match=r"drop_missing_target must be true or false; "
                       r"received drop_missing_target=3"):
        resolve(write(tmp_path, "drop_missing_target = 3\n"), {})


def test_target_with_a_folder_is_refused_a_folder_has_class_subfolders(tmp_path: Path) -> None:
    """``--data folder/ --target y``: a folder is images, one subfolder per class (issue 17)."""
    with pytest.raises(ConfigError, match=r"target applies to CSV, TSV and Parquet data only.*"
                       r"help: a folder of images has one subfolder per class"):
        resolve(None, {"data": f"{tmp_path}/", "target": "y"})
    with pytest.raises(ConfigError, match=r"target applies to CSV, TSV and Parquet data only"):
        resolve(None, {"data": "data.npz", "target": "y"})


def test_a_byte_order_mark_is_read_past_and_a_folder_is_named_a_folder(tmp_path: Path) -> None:
    """Windows Notepad starts a UTF-8 file with a byte order mark: tomllib called such a
    run.toml 'Invalid statement (at line 1, column 1)'; a folder was 'no file'."""
    path = tmp_path / "run.toml"
    path.write_bytes(b"\xef\xbb\xbfdata = 'iris'\nepochs = 3\n")
    assert read_toml(path) == {"data": "iris", "epochs": 3}
    with pytest.raises(ConfigError, match=r"config must be a TOML file; received "
                                          r"config='.*', a folder\.") as error:
        read_toml(tmp_path)
    assert message(error.value).startswith("--config must be a TOML file; received --config=")


@pytest.mark.parametrize(("key", "text"), [
    ("epochs", "1_000"), ("epochs", "１０"), ("seed", "٣"), ("batch_size", "6_4"),
    ("learning_rate", "０.１"), ("l2", "1_0"), ("keep_prob", "０.５"), ("hidden", "１２８"),
    ("epochs", "9" * 5000),  # more digits than int() converts: refused, not its ValueError
])
def test_numbers_given_as_text_are_in_ascii_digits(key: str, text: str) -> None:
    """Python's int() and float() read 1_000 and full-width or Arabic-Indic digits; a flag
    is a number only in the forms a CSV cell is (deeprecipe.data.cells.NUMBER)."""
    with pytest.raises(ConfigError, match=f": {key} must be") as error:
        parse({key: text}, COMMAND_LINE)
    assert f"--{key.replace('_', '-')} must be" in message(error.value)
    assert parse({key: " 1 "}, COMMAND_LINE)[key] in (1, 1.0, (1,), (1.0,))


def test_task_regression_with_a_built_in_dataset_is_named_by_its_source(tmp_path: Path) -> None:
    """A built-in dataset's labels are classes: run.toml's task = 'regression' was ignored
    (its summary said regression over a classifier)."""
    path = write(tmp_path, 'data = "iris"\ntask = "regression"\n')
    with pytest.raises(ConfigError, match=r"run\.toml \(with the command line\): task must be "
                                          r"auto or classification for the built-in dataset"):
        resolve(path, {})
    assert resolve(path, {"task": "classification"}).task == "classification"
