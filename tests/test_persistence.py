"""Tests for ``deeprecipe.persistence``: a folder with ``config.json`` and
``weights.safetensors``, no pickle, and a clear error for every damaged or missing piece."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

import deeprecipe as dr
from deeprecipe.persistence import CONFIG_FILE, FORMAT_VERSION, WEIGHTS_FILE


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
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
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
