"""Tests for ``deeprecipe.run.checkpoint``: one file, arrays in safetensors, the rest JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

import deeprecipe as dr
from deeprecipe.run.checkpoint import CheckpointError, read_checkpoint, write_checkpoint


def state() -> dr.TrainingState:
    rng = np.random.default_rng(7)
    rng.random(3)
    return dr.TrainingState(
        epoch=3,
        theta=np.arange(5, dtype=np.float32) / 7,
        optimizer={"dense_1.W/m": np.ones(4, np.float32), "iterations": np.array(12)},
        rng=dict(rng.bit_generator.state),
        augment_rng=dict(np.random.default_rng(1).bit_generator.state),
        history={"dev_cost": [1.0, 0.5, 0.25]},
        callbacks=[{"best": 0.25, "best_theta": np.full(5, 0.1, np.float32),
                    "best_logs": {"dev_cost": 0.25}}, {}],
        stop_reason="patience",
    )


def test_a_state_round_trips_exactly(tmp_path: Path) -> None:
    original = state()
    path = write_checkpoint(tmp_path / "checkpoint.safetensors", original)
    loaded = read_checkpoint(path)
    assert loaded.epoch == 3 and loaded.stop_reason == "patience"
    assert loaded.theta is not None and original.theta is not None
    np.testing.assert_array_equal(loaded.theta, original.theta)
    assert loaded.theta.dtype == np.float32
    assert int(loaded.optimizer["iterations"]) == 12
    assert loaded.rng == original.rng  # 128-bit integers survive JSON
    assert loaded.history == original.history
    np.testing.assert_array_equal(loaded.callbacks[0]["best_theta"], np.full(5, 0.1, np.float32))
    assert loaded.callbacks[0]["best_logs"] == {"dev_cost": 0.25} and loaded.callbacks[1] == {}
    generator = np.random.default_rng()
    generator.bit_generator.state = loaded.rng
    expected = np.random.default_rng(7)
    expected.random(3)
    assert generator.random() == expected.random()  # the stream continues where it was


def test_an_empty_state_is_a_valid_checkpoint(tmp_path: Path) -> None:
    loaded = read_checkpoint(write_checkpoint(tmp_path / "c.safetensors", dr.TrainingState()))
    assert loaded.epoch == 0 and loaded.theta is None


def test_writing_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_checkpoint(tmp_path / "c.safetensors", state())
    write_checkpoint(tmp_path / "c.safetensors", state())  # replaces it
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]


def test_damaged_foreign_and_future_files_are_clear_errors(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "c.safetensors", state())
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(path.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        read_checkpoint(truncated)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"x": np.zeros(2)}, str(foreign))
    with pytest.raises(CheckpointError, match="not a deeprecipe checkpoint"):
        read_checkpoint(foreign)
    future = tmp_path / "future.safetensors"
    header = {"format": "deeprecipe-checkpoint", "format_version": 99,
              "library_version": "9.0", "state": {}}
    save_file({}, str(future), metadata={"deeprecipe": json.dumps(header)})
    with pytest.raises(CheckpointError, match=r"format_version=99.*version that wrote it \(9.0"):
        read_checkpoint(future)
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        read_checkpoint(tmp_path / "missing.safetensors")


def test_a_damaged_or_edited_checkpoint_is_refused(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "c.safetensors", state())
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x01  # one bit of the last tensor: weights that still look plausible
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"damaged.safetensors does not match its "
                       "checksum"):
        read_checkpoint(damaged)
    with safe_open(str(path), "np") as file:
        metadata = file.metadata()
        tensors = {key: file.get_tensor(key) for key in file.keys()}
    header = json.loads(metadata["deeprecipe"])
    header["state"]["epoch"] = 2  # a plausible edit of the JSON part
    edited = tmp_path / "edited.safetensors"
    save_file(tensors, str(edited), metadata={**metadata, "deeprecipe": json.dumps(header)})
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        read_checkpoint(edited)


def test_a_version_1_checkpoint_is_read_without_a_checksum(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "c.safetensors", state())
    with safe_open(str(path), "np") as file:
        metadata = file.metadata()
        tensors = {key: file.get_tensor(key) for key in file.keys()}
    header = json.loads(metadata["deeprecipe"])
    header["format_version"] = 1
    old = tmp_path / "old.safetensors"
    save_file(tensors, str(old), metadata={"deeprecipe": json.dumps(header)})
    assert read_checkpoint(old).epoch == 3
    header["format_version"] = True
    save_file(tensors, str(old), metadata={"deeprecipe": json.dumps(header)})
    with pytest.raises(CheckpointError, match="format_version=True"):
        read_checkpoint(old)


@pytest.mark.parametrize("body", [[1, 2], "state", None])
def test_a_state_that_is_not_an_object_is_a_clear_error(tmp_path: Path, body: object) -> None:
    header = {"format": "deeprecipe-checkpoint", "format_version": 1, "state": body}
    path = tmp_path / "odd.safetensors"
    save_file({}, str(path), metadata={"deeprecipe": json.dumps(header)})
    with pytest.raises(CheckpointError, match="the checkpoint's state is incomplete"):
        read_checkpoint(path)
