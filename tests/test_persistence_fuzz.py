"""Fuzzing a saved model's files through ``deeprecipe predict`` (issue 13's proof for
``config.json`` and ``weights.safetensors``).

Every generated edit of a saved model (a value of ``config.json`` replaced by any JSON value,
an entry removed or added, a list where an object was, huge numbers, NaN, non-UTF-8 bytes,
flipped or missing bytes of either file, non-finite weights) must end in one of two ways:
exit 0 with exactly the original predictions, or exit 2 with one line naming the model's
file; never a traceback, never exit 0 with other predictions. Half of the edits are
*resealed* (the checksums recomputed, as a hostile editor or a version-1 file would have
them): those are left to the other checks, and a valid-looking result must still be a
sound one (a finite probability per class, summing to 1).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import hashlib
import io
import json
import math
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import load_file, save_file

import deeprecipe as dr
from deeprecipe import cli, persistence
from deeprecipe.persistence import CONFIG_FILE, WEIGHTS_FILE

FEATURES = ["a", "b", "c"]
CLASSES = ["cat", "dog", "emu"]


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A tiny classifier saved as a run saves it, a CSV to predict on, and the predictions."""
    root = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(5)
    X = rng.normal(loc=[5.0, -2.0, 100.0], scale=[1.0, 3.0, 10.0], size=(6, 3))
    scaler = dr.data.Standardizer().fit(X, feature_names=FEATURES)
    model = dr.Sequential([dr.Dense(4, "tanh"), dr.Dropout(0.9), dr.Dense(3, "softmax")],
                          input_dim=3, seed=1)
    folder = persistence.save(model, root / "model", standardizer=scaler,
                              extra={"task": "multiclass", "classes": CLASSES})
    data = root / "data.csv"
    data.write_text("\n".join([",".join(FEATURES), *(",".join(map(str, row)) for row in X)])
                    + "\n", encoding="utf-8")
    code, out, err = predict(folder, data)
    assert code == 0 and err == "", err
    return folder, data, out


def predict(folder: Path, data: Path) -> tuple[int, str, str]:
    """``deeprecipe predict folder --data data`` in this process: (exit code, out, err).
    An exception the command does not turn into exit 2 (a traceback) propagates."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["predict", str(folder), "--data", str(data)])
    return code, out.getvalue(), err.getvalue()


# --- the edits --------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3),
    st.sampled_from([2**31, 2**63, 10**12, 10**300, -(10**40)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, 1.0, 1e308, -0.0, 5e-324]),
    st.text(max_size=6),
    st.sampled_from(["dense", "dropout", "activation", "relu", "tanh", "softmax", "sigmoid",
                     "linear", "float64", "float16", "cross_entropy", "mean_squared_error",
                     "standardizer", "a", "cat", "he", "random", "0" * 64]),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=6), children, max_size=3)),
    max_leaves=6,
)
OPERATIONS = ("replace", "delete", "add", "wrap in a list", "duplicate", "shorten")


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON tree: the keys and indices that lead to it."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def mutate(config: Any, path: tuple[Any, ...], operation: str, value: Any) -> Any:
    """``config`` with one edit at ``path`` (a deep copy)."""
    root = {"root": copy.deepcopy(config)}
    parent: Any = root
    key: Any = "root"
    for step in path:
        parent, key = parent[key], step
    target = parent[key]
    if operation == "replace":
        parent[key] = value
    elif operation == "delete":
        del parent[key]
    elif operation == "add" and isinstance(target, dict):
        target[f"extra_{len(target)}"] = value
    elif operation == "add" and isinstance(target, list):
        target.append(value)
    elif operation == "wrap in a list":
        parent[key] = [target]
    elif operation == "duplicate" and isinstance(target, list) and target:
        target.append(copy.deepcopy(target[0]))
    elif operation == "shorten" and isinstance(target, (list, str)) and target:
        parent[key] = target[:-1]
    else:
        parent[key] = value
    return root.get("root")


@st.composite
def config_edits(draw: st.DrawFn, config: dict[str, Any]) -> bytes:
    places = list(paths(config))
    edited = config
    for _ in range(draw(st.integers(1, 2))):
        place = draw(st.sampled_from(places))
        edited = mutate(edited, place, draw(st.sampled_from(OPERATIONS)), draw(VALUES))
        places = list(paths(edited)) or [()]
    return json.dumps(edited, indent=draw(st.sampled_from([None, 2]))).encode("utf-8")


@st.composite
def byte_edits(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with bytes flipped, removed, inserted (any byte: non-UTF-8 too), or cut."""
    edited = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(0, len(edited) - 1)))
        kind = draw(st.sampled_from(["flip", "remove", "insert", "cut"]))
        if kind == "flip" and edited:
            edited[at] ^= draw(st.integers(1, 255))
        elif kind == "remove":
            del edited[at: at + draw(st.integers(1, 16))]
        elif kind == "insert":
            edited[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del edited[at:]
    return bytes(edited)


WEIGHT_VALUES = st.sampled_from([math.nan, math.inf, -math.inf, 3e38, -3e38, 0.0, 1e-45, 7.0])


def reseal(folder: Path) -> None:
    """Recompute both checksums, when config.json still parses as an object."""
    file = folder / CONFIG_FILE
    try:
        config = json.loads(file.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return
    if not isinstance(config, dict):
        return
    config["weights_sha256"] = hashlib.sha256((folder / WEIGHTS_FILE).read_bytes()).hexdigest()
    config["config_sha256"] = persistence.config_digest(config)
    file.write_text(json.dumps(config), encoding="utf-8")


# --- the property -----------------------------------------------------------------------------


def check_outcome(folder: Path, data: Path, expected: str, resealed: bool) -> None:
    code, out, err = predict(folder, data)
    if code == 0:
        assert err == "", err
        if not resealed:
            assert out == expected, "exit 0 with other predictions"
        else:  # a model the editor made valid: its predictions must still be sound
            rows = list(csv.reader(io.StringIO(out)))
            assert len(rows) == expected.count("\n")
            probabilities = np.array([[float(p) for p in row[1:]] for row in rows[1:]])
            assert np.isfinite(probabilities).all(), out
            np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
        return
    assert code == cli.EXIT_USAGE, (code, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "codec" not in err and "Errno" not in err, err
    if not resealed:  # the refusal comes from the model's files, and names one
        assert str(folder) in err and (CONFIG_FILE in err or WEIGHTS_FILE in err), err


FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(draw=st.data(), resealed=st.booleans())
def test_edited_config_json(original: tuple[Path, Path, str], draw: st.DataObject,
                            resealed: bool) -> None:
    source, data, expected = original
    config = json.loads((source / CONFIG_FILE).read_text(encoding="utf-8"))
    text = (source / CONFIG_FILE).read_bytes()
    edited = draw.draw(st.one_of(config_edits(config), byte_edits(text)), label="config.json")
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "model"
        shutil.copytree(source, folder)
        (folder / CONFIG_FILE).write_bytes(edited)
        if resealed:
            reseal(folder)
        check_outcome(folder, data, expected, resealed)


@FUZZ
@given(draw=st.data(), resealed=st.booleans())
def test_edited_weights(original: tuple[Path, Path, str], draw: st.DataObject,
                        resealed: bool) -> None:
    source, data, expected = original
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "model"
        shutil.copytree(source, folder)
        weights = folder / WEIGHTS_FILE
        if draw.draw(st.booleans(), label="edit a value (else bytes)"):
            tensors = load_file(str(weights))
            name = draw.draw(st.sampled_from(sorted(tensors)), label="tensor")
            flat = tensors[name].reshape(-1)
            flat[draw.draw(st.integers(0, flat.size - 1))] = draw.draw(WEIGHT_VALUES)
            save_file(tensors, str(weights))
        else:
            weights.write_bytes(draw.draw(byte_edits(weights.read_bytes()), label="bytes"))
        if resealed:
            reseal(folder)
        check_outcome(folder, data, expected, resealed)
