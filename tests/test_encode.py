"""The table encoder (issue 17): numbers imputed by their training median, text one-hot by
the training part's categories, the unseen rule, saving, and a split encoded once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe.data import DataFileError
from deeprecipe.data.encode import Encoder, encode_splits, refuse_missing

NAN = np.nan
# age (numbers), color (text: the file's categories blue, green, red), size (text: S, M)
X = np.array([
    [30, 2, 0],    # training rows 0-3
    [NAN, 0, 1],
    [50, 2, NAN],
    [40, 0, 1],
    [NAN, 1, NAN],  # row 4: not training: green is unseen, size missing
    [99, NAN, 0],   # row 5: color missing (training had none)
], np.float32)
CATEGORIES = {1: ["blue", "green", "red"], 2: ["S", "M"]}
TRAIN = np.array([0, 1, 2, 3])


def fitted() -> Encoder:
    return Encoder().fit(X, CATEGORIES, rows=TRAIN, feature_names=["age", "color", "size"])


def test_a_hand_worked_encoding() -> None:
    encoder = fitted()
    # age's median over the training rows 30, 50, 40 (row 1 is missing) is 40; rows 4, 5
    # do not count (99 would move it)
    assert encoder.medians_ == {0: 40.0}
    # color: the training rows have blue and red (green only in row 4), no missing cell;
    # size: S and M, sorted, and a missing cell in training row 2: its own input
    assert encoder.categories_ == {1: ["blue", "red"], 2: ["M", "S"]}
    assert encoder.missing_ == [2]
    assert encoder.output_names() == ["age", "color=blue", "color=red", "size=M", "size=S",
                                      "size=(missing)"]
    assert encoder.n_outputs == 6
    np.testing.assert_array_equal(encoder.transform(X, CATEGORIES), [
        [30, 0, 1, 0, 1, 0],
        [40, 1, 0, 1, 0, 0],  # age imputed
        [50, 0, 1, 0, 0, 1],  # size missing: its own input
        [40, 1, 0, 1, 0, 0],
        [40, 0, 0, 0, 0, 1],  # green unseen: no color input set
        [99, 0, 0, 0, 1, 0],  # color missing where training had none: no input set
    ])
    assert encoder.unseen(X, CATEGORIES) == {1: 2}  # rows 4 and 5's color


def test_categories_are_matched_by_text_not_by_index() -> None:
    """A file to predict on has its own categories, in its own order."""
    encoder = fitted()
    other = np.array([[1, 0, 0], [2, 1, 2]], np.float32)  # red, S; blue, XL (unseen)
    encoded = encoder.transform(other, {1: ["red", "blue"], 2: ["S", "M", "XL"]})
    np.testing.assert_array_equal(encoded, [[1, 0, 1, 0, 1, 0], [2, 1, 0, 0, 0, 0]])
    with pytest.raises(ValueError, match=r"categories must be the categories of the text "
                       r"columns \[1, 2\]; received categories='none for column\(s\) \[2\]'"):
        encoder.transform(other, {1: ["red"]})


def test_fit_reads_the_training_rows_only(rng: np.random.Generator) -> None:
    data = rng.normal(size=(200, 3)).astype(np.float32)
    data[rng.random(data.shape) < 0.2] = NAN
    rows = np.arange(100)
    encoder = Encoder().fit(data, rows=rows)
    np.testing.assert_allclose([encoder.medians_[j] for j in range(3)],
                               np.nanmedian(data[:100], axis=0))
    data[100:] = 1e6  # what the other rows hold changes nothing
    assert Encoder().fit(data, rows=rows).medians_ == encoder.medians_


def test_an_encoder_round_trips_and_a_bad_one_is_refused() -> None:
    encoder = fitted()
    state = encoder.to_dict()
    again = Encoder.from_dict(state, n_outputs=6)
    np.testing.assert_array_equal(again.transform(X, CATEGORIES),
                                  encoder.transform(X, CATEGORIES))
    assert again.kinds() == {"age": "number", "color": "text", "size": "text"}
    with pytest.raises(ValueError, match=r"columns must be an encoding into the model's 5 "
                       r"inputs; received columns='6 encoded columns'"):
        Encoder.from_dict(state, n_outputs=5)
    bad = {**state, "columns": [{"kind": "number", "median": float("nan")}, *state["columns"][1:]]}
    with pytest.raises(ValueError, match=r"columns\[0\] must be"):
        Encoder.from_dict(bad)
    with pytest.raises(RuntimeError, match="before fit"):
        Encoder().transform(X)


def test_a_numbers_only_split_is_imputed_in_place() -> None:
    """No second copy: a table without text columns is filled where it is."""
    data = X[:, [0]].copy()
    y = np.array([0, 1, 0, 1, 0, 1])
    splits = dr.data.split(data, y, ratios=(0.5, 0.5), stratify=False, seed=0)
    encoded = encode_splits(splits, {}, ["age"], in_place=True)
    assert encoded.splits.train.source_X is data and not np.isnan(data).any()
    median = float(np.nanmedian(X[splits.train.indices, 0]))
    filled = np.isnan(X[:, 0])
    np.testing.assert_array_equal(data[filled, 0], median)
    assert [note.code for note in encoded.notes] == ["imputed"]
    assert encoded.notes[0].values == {"column": "age", "count": 2, "value": median}


def test_a_split_with_text_is_encoded_into_a_new_matrix() -> None:
    y = np.array([0, 1, 0, 1, 0, 1])
    splits = dr.data.split(X, y, ratios=(4 / 6, 2 / 6), stratify=False, seed=0)
    encoded = encode_splits(splits, CATEGORIES, ["age", "color", "size"])
    source = encoded.splits.train.source_X
    assert source.shape[1] == encoded.encoder.n_outputs and source is not X
    assert all(part.source_X is source for part in encoded.splits.parts.values())
    assert [column["column"] for column in encoded.columns] == ["age", "color", "size"]
    assert encoded.columns[0]["missing"] == 2


def test_missing_error_names_the_columns() -> None:
    with pytest.raises(DataFileError, match=r"data.csv: 3 feature values are missing \(by "
                       r"column: 'age': 2, 'size': 1\), and `missing` is error"):
        refuse_missing(Path("data.csv"), {0: 2, 2: 1}, ["age", "color", "size"])
    refuse_missing("data.csv", {}, None)  # nothing missing: nothing to say


def test_a_saved_encoder_must_encode_into_the_models_inputs(tmp_path: Path) -> None:
    model = dr.Sequential([dr.Dense(1, activation="sigmoid")], input_dim=6)
    state = fitted().to_dict()
    dr.persistence.save(model, tmp_path / "ok", extra={"encoder": state})
    assert dr.persistence.read_folder(tmp_path / "ok").config["encoder"] == state
    state["columns"][1]["categories"].pop()  # color loses an input: 5 encoded columns
    with pytest.raises(ValueError, match=r"invalid 'encoder': .* an encoding into the model's "
                       r"6 inputs; received columns='5 encoded columns'"):
        dr.persistence.save(model, tmp_path / "bad", extra={"encoder": state})
    config = tmp_path / "ok" / "config.json"
    config.write_text(config.read_text().replace('"median"', '"medain"'))  # edited by hand
    with pytest.raises(ValueError, match=r"config.json has an invalid 'encoder': "
                       r"Encoder.from_dict: columns\[0\] must be"):
        dr.load(tmp_path / "ok")
