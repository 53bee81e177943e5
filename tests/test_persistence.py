"""Tests for ``deeprecipe.persistence``: a folder with ``config.json`` and
``weights.safetensors``, no pickle, and a clear error for every damaged or missing piece."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import deeprecipe as dr
from deeprecipe import model as model_io
from deeprecipe import persistence
from deeprecipe.persistence import CONFIG_FILE, FORMAT_VERSION, WEIGHTS_FILE
from test_gradcheck import Scale


def model_with_dropout(dtype: str = "float32", hidden: int = 12) -> dr.Sequential:
    return dr.Sequential(
        [dr.Dense(hidden, "relu"), dr.Dropout(0.8), dr.Dense(8, "tanh", init="glorot"),
         dr.Dropout(0.6), dr.Dense(4, "softmax")],
        input_dim=6, l2=0.3, l1=0.1, seed=5, dtype=dtype,
    )


def trained(model: dr.Sequential) -> dr.Sequential:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 6)), rng.integers(0, 4, size=64)
    model.fit(X, y, epochs=2, batch_size=16)
    return model


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return model_with_dropout().save(tmp_path / "model")


# --- round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_round_trip_is_bit_for_bit(tmp_path: Path, dtype: str) -> None:
    model = trained(model_with_dropout(dtype))
    folder = model.save(tmp_path / "saved")
    loaded = dr.load(folder)
    X = np.random.default_rng(1).normal(size=(50, 6))
    assert loaded.dtype == model.dtype
    assert np.array_equal(loaded.flatten(), model.flatten())
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_config() == model.get_config()
    assert loaded.names == model.names
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.layers[1].keep_prob == 0.8
    assert loaded.layers[3].keep_prob == 0.6


def test_regressor_and_binary_models_round_trip(tmp_path: Path) -> None:
    X = np.random.default_rng(2).normal(size=(20, 3))
    for index, (units, activation) in enumerate([(2, "linear"), (1, "sigmoid")]):
        model = dr.Sequential([dr.Dense(5, "tanh"), dr.Dense(units, activation)], input_dim=3,
                              seed=index)
        loaded = dr.load(model.save(tmp_path / f"m{index}"))
        assert loaded.loss.name == model.loss.name
        assert np.array_equal(loaded.output(X), model.output(X))


def test_the_folder_holds_json_and_safetensors_only(saved: Path) -> None:
    assert sorted(p.name for p in saved.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]
    config = json.loads((saved / CONFIG_FILE).read_text(encoding="utf-8"))
    assert config["format_version"] == FORMAT_VERSION == 2  # 2: with the checksums
    assert config["model"]["input_dim"] == 6
    assert [layer["kind"] for layer in config["model"]["layers"]] == [
        "dense", "dropout", "dense", "dropout", "dense"
    ]
    # safetensors: an 8-byte header length, then a JSON header; never a pickle
    data = (saved / WEIGHTS_FILE).read_bytes()
    assert not data.startswith(b"\x80")  # the pickle protocol marker
    header_length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_length])
    assert "dense_1.W" in header


def test_tensor_names_are_the_parameter_names(saved: Path) -> None:
    model = dr.load(saved)
    with safe_open(str(saved / WEIGHTS_FILE), framework="numpy") as file:
        names = list(file.keys())
        shapes = {name: tuple(file.get_tensor(name).shape) for name in names}
    expected = model.named_parameters()
    assert sorted(names) == sorted(expected)
    assert set(names) == {"dense_1.W", "dense_1.b", "dense_2.W", "dense_2.b", "dense_3.W",
                          "dense_3.b"}
    for name, value in expected.items():
        assert shapes[name] == value.shape


def test_a_new_layer_with_parameters_saves_and_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # its tensors are shaped by the layer's own build, not by a list of the known layers
    monkeypatch.setitem(dr.layers.LAYERS, Scale.kind, Scale)
    for layer in (dr.Dense(3, "relu"), dr.Dropout(0.5), Scale()):  # Dense allocates nothing
        params, dim = layer.build(6, np.random.default_rng(0), np.dtype(np.float32))
        assert layer.shapes(6) == ({key: value.shape for key, value in params.items()}, dim)
    model = trained(dr.Sequential([dr.Dense(5, "relu"), Scale(), dr.Dense(4, "softmax")],
                                  input_dim=6, seed=3))
    folder = model.save(tmp_path / "scaled")
    loaded = dr.load(folder)
    X = np.random.default_rng(1).normal(size=(20, 6))
    assert loaded.names == model.names == ["dense_1", "scale_1", "dense_2"]
    assert np.array_equal(loaded.flatten(), model.flatten())
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    tensors = load_file(str(folder / WEIGHTS_FILE))
    tensors["scale_1.s"] = tensors["scale_1.s"][:4]
    save_file(tensors, str(folder / WEIGHTS_FILE))
    reseal(folder)
    refusal(folder, str(folder / WEIGHTS_FILE), "scale_1.s", "(5,)", "(4,)")


def test_save_overwrites_an_existing_model(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    model_with_dropout().save(folder)
    second = trained(model_with_dropout())
    second.save(folder)
    assert np.array_equal(dr.load(folder).flatten(), second.flatten())
    assert sorted(p.name for p in folder.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]


# --- damaged or missing files ------------------------------------------------------------


@pytest.mark.parametrize("keep", ["half", "header-only", "8-bytes", "last-byte-missing", "empty"])
def test_a_truncated_weights_file_is_a_clear_error(saved: Path, keep: str) -> None:
    weights = saved / WEIGHTS_FILE
    data = weights.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], "little")
    cut = {"half": len(data) // 2, "header-only": header_end, "8-bytes": 8,
           "last-byte-missing": len(data) - 1, "empty": 0}[keep]
    weights.write_bytes(data[:cut])
    with pytest.raises(ValueError, match=WEIGHTS_FILE) as error:
        dr.load(saved)
    assert "truncated" in str(error.value) or "unreadable" in str(error.value)


def edit_config(folder: Path, edit) -> None:
    file = folder / CONFIG_FILE
    config = json.loads(file.read_text(encoding="utf-8"))
    edit(config)
    file.write_text(json.dumps(config), encoding="utf-8")


def test_invalid_json_is_a_clear_error(saved: Path) -> None:
    file = saved / CONFIG_FILE
    file.write_text(file.read_text(encoding="utf-8")[:-10], encoding="utf-8")
    with pytest.raises(ValueError, match=CONFIG_FILE) as error:
        dr.load(saved)
    assert "JSON" in str(error.value)


def test_an_unknown_layer_kind_is_a_clear_error(saved: Path) -> None:
    def to_conv(config: dict) -> None:
        config["model"]["layers"][0]["kind"] = "conv"

    edit_config(saved, to_conv)
    with pytest.raises(ValueError, match="conv") as error:
        dr.load(saved)
    message = str(error.value)
    assert CONFIG_FILE in message
    assert "'dense'" in message  # the valid kinds are listed


def test_an_unknown_format_version_is_a_clear_error(saved: Path) -> None:
    def to_99(config: dict) -> None:
        config["format_version"] = 99

    edit_config(saved, to_99)
    with pytest.raises(ValueError, match="format_version") as error:
        dr.load(saved)
    assert "99" in str(error.value)
    assert CONFIG_FILE in str(error.value)


def test_a_config_without_format_version_is_a_clear_error(saved: Path) -> None:
    edit_config(saved, lambda config: config.pop("format_version"))
    with pytest.raises(ValueError, match="format_version"):
        dr.load(saved)


def test_weights_of_another_shape_are_a_clear_error(saved: Path, tmp_path: Path) -> None:
    other = model_with_dropout(hidden=7).save(tmp_path / "other")
    shutil.copyfile(other / WEIGHTS_FILE, saved / WEIGHTS_FILE)
    with pytest.raises(ValueError, match="shape") as error:
        dr.load(saved)
    message = str(error.value)
    assert WEIGHTS_FILE in message
    assert "dense_1.W" in message
    assert "(6, 12)" in message  # expected
    assert "(6, 7)" in message  # received


def test_weights_with_other_names_are_a_clear_error(saved: Path, tmp_path: Path) -> None:
    smaller = dr.Sequential([dr.Dense(4, "softmax")], input_dim=6)
    other = smaller.save(tmp_path / "other")
    shutil.copyfile(other / WEIGHTS_FILE, saved / WEIGHTS_FILE)
    with pytest.raises(ValueError, match=WEIGHTS_FILE) as error:
        dr.load(saved)
    assert "dense_2.W" in str(error.value)


def test_weights_of_another_dtype_are_a_clear_error(saved: Path, tmp_path: Path) -> None:
    other = model_with_dropout("float64").save(tmp_path / "other")
    shutil.copyfile(other / WEIGHTS_FILE, saved / WEIGHTS_FILE)
    with pytest.raises(ValueError, match="float32"):
        dr.load(saved)


def test_a_missing_folder_or_file_is_a_clear_error(saved: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=CONFIG_FILE):
        dr.load(tmp_path / "does-not-exist")
    (saved / WEIGHTS_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=WEIGHTS_FILE):
        dr.load(saved)


def test_saved_files_get_the_usual_permissions_not_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        model = dr.Sequential([dr.Dense(2, "relu"), dr.Dense(2, "softmax")], input_dim=2)
        folder = model.save(tmp_path / "model")
    finally:
        os.umask(previous)
    for name in ("config.json", "weights.safetensors"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644, name


# --- verified when loaded: checksums, the whole config checked before anything is built ----


def run_like(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A softmax classifier saved as ``deeprecipe run`` saves one: a standardizer with
    feature names and the classes' labels; and raw inputs to predict on."""
    rng = np.random.default_rng(3)
    X = rng.normal(loc=[5.0, -2.0, 100.0], scale=[1.0, 3.0, 10.0], size=(40, 3))
    scaler = dr.data.Standardizer().fit(X, feature_names=["a", "b", "c"])
    model = dr.Sequential([dr.Dense(5, "relu"), dr.Dense(3, "softmax")], input_dim=3, seed=2)
    folder = persistence.save(model, tmp_path / "model", standardizer=scaler,
                              extra={"classes": ["cat", "dog", "emu"]})
    return folder, X


def reseal(folder: Path) -> None:
    """Record the checksums of the files as they are now: an edit a checksum cannot catch
    (a hostile one, or a version-1 file), left to the other checks."""
    file = folder / CONFIG_FILE
    config = json.loads(file.read_text(encoding="utf-8"))
    config["weights_sha256"] = hashlib.sha256((folder / WEIGHTS_FILE).read_bytes()).hexdigest()
    config["config_sha256"] = persistence.config_digest(config)
    file.write_text(json.dumps(config), encoding="utf-8")


def edit_weights(folder: Path, name: str, edit) -> None:
    tensors = load_file(str(folder / WEIGHTS_FILE))
    edit(tensors[name])
    save_file(tensors, str(folder / WEIGHTS_FILE))


def refusal(folder: Path, *names: str) -> str:
    """The message of ``dr.load(folder)``'s ValueError: one line naming ``names``."""
    with pytest.raises(ValueError) as error:
        dr.load(folder)
    message = str(error.value)
    assert "\n" not in message
    for name in names:
        assert name in message, message
    return message


def test_the_config_records_both_checksums(tmp_path: Path) -> None:
    folder, _ = run_like(tmp_path)
    config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    weights = (folder / WEIGHTS_FILE).read_bytes()
    assert config["weights_sha256"] == hashlib.sha256(weights).hexdigest()
    assert config["config_sha256"] == persistence.config_digest(config)
    assert dr.Sequential([dr.Dense(2, "softmax")], input_dim=2).save(
        tmp_path / "bare").joinpath(CONFIG_FILE).read_text().count('"standardizer": null') == 1


def test_flipped_bytes_in_the_weights_are_refused(tmp_path: Path) -> None:
    # issue 13: 40 flipped bytes loaded and predicted (0.569/0.306/0.125 became 0.9998/...)
    folder, _ = run_like(tmp_path)
    data = bytearray((folder / WEIGHTS_FILE).read_bytes())
    start = 8 + int.from_bytes(data[:8], "little")  # the tensors, after the JSON header
    for index in range(start, len(data), max(1, (len(data) - start) // 40)):
        data[index] ^= 0xFF
    (folder / WEIGHTS_FILE).write_bytes(bytes(data))
    refusal(folder, str(folder / WEIGHTS_FILE), "weights_sha256", "damaged")


def test_one_flipped_bit_in_the_weights_is_refused(tmp_path: Path) -> None:
    folder, _ = run_like(tmp_path)
    data = bytearray((folder / WEIGHTS_FILE).read_bytes())
    data[-3] ^= 0x01  # a low bit of the last bias: a value that still looks plausible
    (folder / WEIGHTS_FILE).write_bytes(bytes(data))
    refusal(folder, WEIGHTS_FILE, "weights_sha256")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused_even_with_a_matching_checksum(
    tmp_path: Path, value: float
) -> None:
    folder, _ = run_like(tmp_path)
    edit_weights(folder, "dense_2.W", lambda W: W.__setitem__((1, 2), value))
    reseal(folder)
    refusal(folder, str(folder / WEIGHTS_FILE), "dense_2.W", "finite", "(1, 2)")


def test_an_edited_config_is_refused(tmp_path: Path) -> None:
    folder, _ = run_like(tmp_path)
    edit_config(folder, lambda config: config["model"]["layers"][0].update(activation="tanh"))
    refusal(folder, str(folder / CONFIG_FILE), "config_sha256", "edited")


def test_a_reformatted_config_loads_with_the_same_predictions(tmp_path: Path) -> None:
    folder, X = run_like(tmp_path)
    before = dr.load(folder).predict_proba(X)
    config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    reordered = dict(reversed(list(config.items())))
    (folder / CONFIG_FILE).write_text(json.dumps(reordered, indent=7), encoding="utf-8")
    assert np.array_equal(dr.load(folder).predict_proba(X), before)


def test_weights_and_config_of_different_saves_are_refused(tmp_path: Path) -> None:
    # an interrupted save (new weights beside the old config), or files copied from two saves
    folder, _ = run_like(tmp_path)
    other, _ = run_like(tmp_path / "other")
    edit_weights(other, "dense_1.b", lambda b: b.__setitem__(0, 0.5))
    shutil.copyfile(other / WEIGHTS_FILE, folder / WEIGHTS_FILE)
    refusal(folder, "weights_sha256")


def test_a_missing_standardizer_entry_is_refused(tmp_path: Path) -> None:
    # issue 13: a config.json without its standardizer predicted on raw inputs
    folder, _ = run_like(tmp_path)
    edit_config(folder, lambda config: config.pop("standardizer"))
    reseal(folder)
    refusal(folder, str(folder / CONFIG_FILE), "'standardizer'")


def test_duplicate_feature_names_are_refused(tmp_path: Path) -> None:
    # issue 13: duplicate names fed one column twice
    folder, _ = run_like(tmp_path)
    edit_config(folder, lambda config: config["standardizer"].update(feature_names=["a", "a",
                                                                                    "c"]))
    reseal(folder)
    refusal(folder, str(folder / CONFIG_FILE), "feature_names", "distinct")


@pytest.mark.parametrize("classes", [["cat", "dog"], ["cat", "dog", "emu", "fox"],
                                     ["cat", "cat", "dog"], "cat,dog,emu", [["cat"], 1, 2],
                                     {"0": "cat"}])
def test_classes_must_match_the_output_layer(tmp_path: Path, classes: object) -> None:
    # issue 13: classes that did not match the output layer fell back to 0/1/2
    folder, _ = run_like(tmp_path)
    edit_config(folder, lambda config: config.update(classes=classes))
    reseal(folder)
    refusal(folder, str(folder / CONFIG_FILE), "classes must be a list of 3 distinct labels")


def test_a_regression_model_has_no_classes(tmp_path: Path) -> None:
    model = dr.Sequential([dr.Dense(2, "linear")], input_dim=3)
    folder = persistence.save(model, tmp_path / "model")
    edit_config(folder, lambda config: config.update(classes=[0, 1]))
    reseal(folder)
    refusal(folder, "classes must be null for a regression model")


@pytest.mark.parametrize("version", [True, 1.0, "2", None, 0, 3])
def test_format_version_must_be_a_known_integer(tmp_path: Path, version: object) -> None:
    # issue 13: format_version: true read as 1
    folder, _ = run_like(tmp_path)
    edit_config(folder, lambda config: config.update(format_version=version))
    reseal(folder)
    refusal(folder, str(folder / CONFIG_FILE), "format_version")


@pytest.mark.parametrize("units", [10**12, 20_000, 10**40])
def test_a_huge_layer_is_refused_before_anything_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, units: int
) -> None:
    # issue 13: units 10**12 allocated until MemoryError; 20,000 took 16 s and 4.7 GB
    folder, _ = run_like(tmp_path)
    edit_config(folder, lambda config: config["model"]["layers"][0].update(units=units))
    reseal(folder)

    def build(self: dr.Sequential) -> None:
        raise AssertionError("the network was built before the config was checked")

    monkeypatch.setattr(dr.Sequential, "_build", build)
    refusal(folder, str(folder / WEIGHTS_FILE), f"(3, {units})", "(3, 5)")


def test_a_config_that_is_a_list_is_refused(tmp_path: Path) -> None:
    # issue 13: AttributeError
    folder, _ = run_like(tmp_path)
    config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    (folder / CONFIG_FILE).write_text(json.dumps([config]), encoding="utf-8")
    message = refusal(folder, str(folder / CONFIG_FILE), "JSON object")
    assert len(message) < 250


def test_a_shortened_mean_is_blamed_on_the_mean(tmp_path: Path) -> None:
    # issue 13 (G): it was blamed on std
    folder, _ = run_like(tmp_path)
    edit_config(folder, lambda config: config["standardizer"].update(
        mean=config["standardizer"]["mean"][:2]))
    reseal(folder)
    message = refusal(folder, str(folder / CONFIG_FILE), "len(state['mean']) must be 3")
    assert "std" not in message


def test_a_config_that_is_not_utf8_is_named_without_codec_text(tmp_path: Path) -> None:
    folder, _ = run_like(tmp_path)
    (folder / CONFIG_FILE).write_bytes(b'{"format_version": 2, "x": "\xff"}')
    message = refusal(folder, str(folder / CONFIG_FILE), "not UTF-8 text", "0xff")
    assert "codec" not in message


@pytest.mark.parametrize("text", ["[" * 100_000, "1" * 5000, '{"format_version": 2}'])
def test_deep_nesting_huge_numbers_and_missing_entries_are_one_line_errors(
    tmp_path: Path, text: str
) -> None:
    folder, _ = run_like(tmp_path)
    (folder / CONFIG_FILE).write_text(text, encoding="utf-8")
    message = refusal(folder, str(folder / CONFIG_FILE))
    assert len(message) < 300


def test_a_version_1_model_loads_without_checksums(tmp_path: Path) -> None:
    """Models saved before the checksums (format_version 1, no 'standardizer' entry when
    saved without one) load, with every other check."""
    folder, X = run_like(tmp_path)
    expected = dr.load(folder).predict_proba(X)

    def downgrade(config: dict) -> None:
        config.update(format_version=1)
        for key in ("weights_sha256", "config_sha256"):
            config.pop(key)

    edit_config(folder, downgrade)
    assert np.array_equal(dr.load(folder).predict_proba(X), expected)
    edit_weights(folder, "dense_1.W", lambda W: W.__setitem__((0, 0), np.nan))
    refusal(folder, "finite")
    bare = dr.Sequential([dr.Dense(2, "softmax")], input_dim=2).save(tmp_path / "bare")
    edit_config(bare, lambda config: (downgrade(config), config.pop("standardizer")))
    assert dr.load(bare).standardizer is None


def test_read_returns_the_model_and_its_config(tmp_path: Path) -> None:
    folder, _ = run_like(tmp_path)
    model, config = model_io.read(folder)
    assert config["classes"] == ["cat", "dog", "emu"]
    assert model.standardizer is not None and model.standardizer.feature_names_ == ["a", "b",
                                                                                    "c"]


def test_extra_entries_never_replace_the_files_own(tmp_path: Path) -> None:
    model = dr.Sequential([dr.Dense(2, "softmax")], input_dim=2)
    folder = persistence.save(model, tmp_path / "m", extra={"format_version": 7, "note": "x"})
    config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    assert config["format_version"] == FORMAT_VERSION and config["note"] == "x"
    dr.load(folder)


def test_a_config_file_is_built_fresh_only_when_it_fits_in_memory(tmp_path: Path) -> None:
    folder, _ = run_like(tmp_path)
    fresh = model_io.from_config_file(folder / CONFIG_FILE)
    assert fresh.get_config() == dr.load(folder).get_config()
    assert fresh.standardizer is None  # a config is a network, not a trained model
    for units in (10**12, 10**400):
        edit_config(folder, lambda config, units=units: config["model"]["layers"][0].update(
            units=units))
        with pytest.raises(ValueError, match=r"config.json describes a network of more than "):
            model_io.from_config_file(folder / CONFIG_FILE)
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"layers": [{"kind": "dense", "units": True}], "input_dim": 2}))
    with pytest.raises(ValueError, match=r"bare.json: model.layers\[0\]: Dense: units must be"):
        model_io.from_config_file(bare)


def test_what_load_would_refuse_is_never_saved(tmp_path: Path) -> None:
    model = dr.Sequential([dr.Dense(3, "softmax")], input_dim=2)
    scaler = dr.data.Standardizer().fit(np.eye(2), feature_names=["x", "x"])
    with pytest.raises(ValueError, match=r"save: .*config.json has an invalid 'standardizer'.*"
                       "distinct"):
        persistence.save(model, tmp_path / "m", standardizer=scaler)
    with pytest.raises(ValueError, match=r"save: .*classes must be a list of 3 distinct"):
        persistence.save(model, tmp_path / "m", extra={"classes": ["a", "b"]})
    assert not (tmp_path / "m").exists()


def test_a_path_that_is_not_a_folder_name_is_named(tmp_path: Path) -> None:
    model = model_with_dropout()
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")  # it was [Errno 17] File exists
    with pytest.raises(ValueError, match=r"^save: path must be a folder .*it is a file"):
        model.save(taken)
    assert taken.read_text() == "mine"
    for call in (model.save, dr.load):  # it was pathlib's TypeError
        with pytest.raises(TypeError, match=r"path must be a str or a pathlib\.Path; "
                                            r"received path=3\."):
            call(3)
        with pytest.raises(ValueError, match=r"path must be a folder's name; received "
                                             r"path=''\."):  # it read the current folder
            call("")


def test_persistence_reads_and_writes_files_without_the_model(tmp_path: Path) -> None:
    # loading a model lives at the model level (issue 14): persistence.read_folder returns
    # the checked config, tensors and standardizer, and the model is built from them
    model = dr.Sequential([dr.Dense(3, "relu"), dr.Dense(2, "softmax")], input_dim=2, seed=4)
    folder = model.save(tmp_path / "m")
    saved = persistence.read_folder(folder)
    assert saved.config["model"] == model.get_config()
    assert set(saved.tensors) == set(model.named_parameters())
    assert saved.standardizer is None and saved.config_file == folder / CONFIG_FILE
    for name, value in model.named_parameters().items():
        np.testing.assert_array_equal(saved.tensors[name], value)
    spec, where = persistence.read_config_file(folder / CONFIG_FILE)
    assert spec == model.get_config() and where == f"load: {folder / CONFIG_FILE}"
