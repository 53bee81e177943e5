"""The course's files (issue 17, point 1): ``.mat`` and ``.h5`` in the course's layouts,
arrays named by ``arrays``, the notes' column-per-example arrays and images recognised, and
one-line errors for files without usable arrays. ``data/football.mat`` is the
regularization assignment's own ``data.mat`` (course 2, week 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import scipy.io

import deeprecipe as dr
from deeprecipe import cli
from deeprecipe.data import DataFileError, load_h5, load_mat
from deeprecipe.runconfig import ConfigError, check_data, resolve
from deeprecipe.workflow import load_data, split_data

FOOTBALL = Path(__file__).parent / "data" / "football.mat"
TINY = ["--hidden", "8", "--epochs", "3", "--patience", "2", "--gradcheck", "off"]


def codes(notes: list[Any]) -> list[str]:
    return [note.code for note in notes]


def write_h5(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    with h5py.File(path, "w") as file:
        for name, array in arrays.items():
            file[name] = array
    return path


def cat_arrays(rng: np.random.Generator, m: int, prefix: str = "train") -> dict[str, Any]:
    """The layout of the course's ``train_catvnoncat.h5``: (m, 64, 64, 3) uint8 images (here
    8×8), (m,) labels 0/1 and ``list_classes``."""
    return {f"{prefix}_set_x": rng.integers(0, 256, (m, 8, 8, 3), dtype=np.uint8),
            f"{prefix}_set_y": np.arange(m) % 2,
            "list_classes": np.array([b"non-cat", b"cat"])}


# --- the football data.mat -----------------------------------------------------------------


def test_the_football_file_is_a_training_set_and_its_validation_set() -> None:
    data = load_mat(FOOTBALL)
    raw = scipy.io.loadmat(FOOTBALL)
    assert data.X.shape == (411, 2) and data.X.dtype == np.float32
    assert data.sets == (("train", 211), ("dev", 200))
    np.testing.assert_array_equal(data.X[:211], raw["X"].astype(np.float32))
    np.testing.assert_array_equal(data.X[211:], raw["Xval"].astype(np.float32))
    np.testing.assert_array_equal(data.y, np.concatenate([raw["y"], raw["yval"]]).ravel())
    assert data.classes == [0, 1] and data.target == "y"
    assert codes(data.notes) == ["course_sets"]
    assert data.notes[0].values["sets"] == [["train", "X", "y", 211], ["dev", "Xval", "yval", 200]]
    calls: list[tuple[int, int]] = []
    load_mat(FOOTBALL, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(411, 411)]  # read whole: one call, at the end


def test_load_data_passes_the_sets_and_the_notes_on() -> None:
    loaded = load_data(str(FOOTBALL))
    assert loaded.sets == (("train", 211), ("dev", 200))
    assert loaded.X.shape == (411, 2) and loaded.image_shape is None
    assert codes(loaded.notes) == ["course_sets"]
    assert "training set X/y (211 examples)" in str(loaded.notes[0])


# --- layouts -------------------------------------------------------------------------------


def test_a_mat_with_train_validation_and_test_sets(tmp_path: Path,
                                                   rng: np.random.Generator) -> None:
    arrays = {"X": rng.normal(size=(30, 3)), "y": (np.arange(30) % 2)[:, None],
              "Xval": rng.normal(size=(10, 3)), "yval": (np.arange(10) % 2)[:, None],
              "Xtest": rng.normal(size=(12, 3)), "ytest": (np.arange(12) % 2)[:, None]}
    scipy.io.savemat(tmp_path / "ex5.mat", arrays)
    data = load_mat(tmp_path / "ex5.mat")
    assert data.sets == (("train", 30), ("dev", 10), ("test", 12))
    np.testing.assert_allclose(data.X[40:], arrays["Xtest"], rtol=1e-6)


def test_a_regression_target_of_three_sets(tmp_path: Path, rng: np.random.Generator) -> None:
    # the layout of ex5data1.mat (water flowing out of a dam): X/y, Xval/yval, Xtest/ytest
    sets = {"": 12, "val": 21, "test": 21}
    arrays = {}
    for suffix, m in sets.items():
        arrays[f"X{suffix}"] = rng.uniform(-50, 50, (m, 1))
        arrays[f"y{suffix}"] = 0.5 * arrays[f"X{suffix}"] + rng.normal(0, 3, (m, 1))
    scipy.io.savemat(tmp_path / "ex5data1.mat", arrays)
    data = load_mat(tmp_path / "ex5data1.mat")
    assert data.task == "regression" and data.classes is None
    assert data.sets == (("train", 12), ("dev", 21), ("test", 21))
    np.testing.assert_array_equal(data.y[12:33], arrays["yval"].ravel())
    splits, _ = split_data(load_data(str(tmp_path / "ex5data1.mat")), seed=0)
    assert splits.sizes() == {"train": 12, "dev": 21, "test": 21}


def test_the_notes_column_per_example_layout_is_transposed_and_said(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    X = rng.normal(size=(3, 40))  # the notes' (n_x, m), labels (1, m)
    scipy.io.savemat(tmp_path / "columns.mat", {"X": X, "y": (np.arange(40) % 2)[None, :]})
    data = load_mat(tmp_path / "columns.mat")
    np.testing.assert_allclose(data.X, X.T, rtol=1e-6)
    assert data.sets == () and data.y.shape == (40,)
    assert codes(data.notes) == ["course_sets", "course_columns"]
    assert "one example per column" in str(data.notes[1])


def test_a_square_array_is_read_as_its_labels_say(tmp_path: Path,
                                                  rng: np.random.Generator) -> None:
    X = rng.normal(size=(6, 6))
    labels = np.arange(6) % 2
    write_h5(tmp_path / "rows.h5", {"train_set_x": X, "train_set_y": labels})
    write_h5(tmp_path / "columns.h5", {"train_set_x": X, "train_set_y": labels[None, :]})
    np.testing.assert_allclose(load_h5(tmp_path / "rows.h5", min_rows=1).X, X, rtol=1e-6)
    columns = load_h5(tmp_path / "columns.h5", min_rows=1)
    np.testing.assert_allclose(columns.X, X.T, rtol=1e-6)
    assert "course_columns" in codes(columns.notes)


def test_the_cat_files_images_keep_their_shape_and_list_classes_names_them(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    arrays = cat_arrays(rng, 20)
    data = load_h5(write_h5(tmp_path / "train_catvnoncat.h5", arrays))
    assert data.X.shape == (20, 8, 8, 3) and data.sets == ()
    np.testing.assert_array_equal(data.X, arrays["train_set_x"].astype(np.float32))
    assert data.classes == ["non-cat", "cat"]
    assert codes(data.notes) == ["course_sets", "course_images"]
    assert str(data.notes[1]) == ("train_set_x holds 20 images of 8×8×3; each image is one "
                                  "example, its 192 values the features")
    loaded = load_data(str(tmp_path / "train_catvnoncat.h5"))
    assert loaded.image_shape == (8, 8, 3) and loaded.X.shape == (20, 192)


def test_a_file_with_train_and_test_sets(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = {**cat_arrays(rng, 20), **cat_arrays(rng, 6, "test")}
    data = load_h5(write_h5(tmp_path / "both.hdf5", arrays))
    assert data.sets == (("train", 20), ("test", 6))
    np.testing.assert_array_equal(data.y, np.concatenate([np.arange(20) % 2, np.arange(6) % 2]))
    splits, _ = split_data(load_data(str(tmp_path / "both.hdf5")), seed=0)
    assert sorted(splits.train.indices) == list(range(20))  # the file's training set
    assert sorted([*splits.dev.indices, *splits.test.indices]) == list(range(20, 26))


def test_arrays_names_the_sets(tmp_path: Path, rng: np.random.Generator) -> None:
    arrays = {"features": rng.normal(size=(20, 2)), "labels": np.arange(20) % 2,
              "more/features": rng.normal(size=(8, 2)), "more/labels": np.arange(8) % 2}
    path = write_h5(tmp_path / "mine.h5", arrays)
    data = load_h5(path, arrays=["features", "labels", "more/features", "more/labels"])
    assert data.sets == (("train", 20), ("dev", 8)) and data.target == "labels"
    assert load_h5(path, arrays=("features", "labels")).sets == ()
    with pytest.raises(DataFileError, match=r"has no array 'labelz' \(named by `arrays`\); "
                       r"it holds 'features', 'labels', 'more/features', 'more/labels'"):
        load_h5(path, arrays=["features", "labelz"])
    with pytest.raises(ValueError, match="arrays must be 2, 4 or 6 distinct array names"):
        load_h5(path, arrays=["features"])


def test_matlab_v7_3_files_are_hdf5_with_reversed_axes(tmp_path: Path,
                                                       rng: np.random.Generator) -> None:
    X = rng.normal(size=(25, 3))
    y = (np.arange(25) % 2)[:, None]
    path = tmp_path / "v73.mat"
    with h5py.File(path, "w", userblock_size=512) as file:  # MATLAB's -v7.3 header space
        file["X"], file["y"] = X.T, y.T  # MATLAB writes column-major: h5py sees them reversed
    data = load_mat(path)
    np.testing.assert_allclose(data.X, X, rtol=1e-6)
    assert codes(data.notes) == ["course_sets"]  # rows as MATLAB had them: nothing transposed


def test_missing_labels_are_refused_or_dropped_per_set(tmp_path: Path,
                                                       rng: np.random.Generator) -> None:
    y, yval = np.arange(20.0) % 2, np.arange(10.0) % 2
    y[3], yval[[0, 7]] = np.nan, np.nan
    scipy.io.savemat(tmp_path / "gaps.mat", {"X": rng.normal(size=(20, 2)), "y": y,
                                             "Xval": rng.normal(size=(10, 2)), "yval": yval})
    with pytest.raises(DataFileError, match=r"column 'y'.*y\[i\] is NaN or empty at 0-based "
                       r"index 3\."):
        load_mat(tmp_path / "gaps.mat")
    data = load_mat(tmp_path / "gaps.mat", drop_missing_target=True)
    assert data.sets == (("train", 19), ("dev", 8)) and data.dropped_missing_target == 3
    assert len(data.X) == len(data.y) == 27


def test_nan_features_are_missing_values_counted_by_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: np.random.Generator
) -> None:
    X, Xval = rng.normal(size=(40, 3)), rng.normal(size=(20, 3))
    X[[2, 5], 1], Xval[7, 2] = np.nan, np.nan
    arrays = {"X": X, "y": np.arange(40) % 2, "Xval": Xval, "yval": np.arange(20) % 2}
    scipy.io.savemat(tmp_path / "gaps.mat", arrays)
    data = load_mat(tmp_path / "gaps.mat")
    assert data.missing == {1: 2, 2: 1}
    np.testing.assert_array_equal(np.isnan(data.X), np.isnan(np.vstack([X, Xval])))
    np.testing.assert_allclose(data.X[0], X[0], rtol=1e-6)
    assert cli.main(["run", "--data", str(tmp_path / "gaps.mat"), "--output-dir",
                     str(tmp_path), "--name", "gaps", *TINY]) == cli.EXIT_OK
    assert "imputed" in capsys.readouterr().out
    assert cli.main(["predict", str(tmp_path / "gaps" / "model"), "--data",
                     str(tmp_path / "gaps.mat")]) == cli.EXIT_OK  # imputed as in training
    assert len(capsys.readouterr().out.splitlines()) == 1 + 60
    assert cli.main(["run", "--data", str(tmp_path / "gaps.mat"), "--missing", "error",
                     "--output-dir", str(tmp_path), *TINY]) == cli.EXIT_USAGE
    assert "3 feature values are missing (by column: 'x[1]': 2, 'x[2]': 1)" in \
        capsys.readouterr().err
    X[0, 0] = np.inf  # not a missing value: refused
    scipy.io.savemat(tmp_path / "inf.mat", {**arrays, "X": X})
    with pytest.raises(DataFileError, match=r"X\[0, 0\] must be finite; received inf"):
        load_mat(tmp_path / "inf.mat")


# --- bad files: one-line errors ------------------------------------------------------------


def one_line(error: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


def test_a_mat_without_the_course_arrays_lists_what_it_holds(tmp_path: Path) -> None:
    scipy.io.savemat(tmp_path / "other.mat", {"A": np.ones((4, 2)), "b": np.ones(4)})
    with pytest.raises(DataFileError) as error:
        load_mat(tmp_path / "other.mat")
    assert one_line(error).endswith(
        "other.mat: has no arrays by the course's names (X/y or train_set_x/train_set_y; "
        "Xval/yval or dev_set_x/dev_set_y; Xtest/ytest or test_set_x/test_set_y); it holds "
        "'A', 'b'. help: name the features and labels with `arrays` (e.g. arrays = "
        "[\"features\", \"labels\"]).")


@pytest.mark.parametrize(("arrays", "expected"), [
    ({"train_set_x": np.zeros((20, 4, 4, 3)), "train_set_y": np.zeros(19)},
     r"train_set_x \(20, 4, 4, 3\) and train_set_y \(19 labels\) do not pair"),
    ({"train_set_x": np.zeros((20, 3)), "train_set_y": np.zeros((2, 20))},
     r"train_set_y must hold one label per example: shape \(m,\), \(m, 1\) or \(1, m\)"),
    ({"train_set_x": np.zeros(20), "train_set_y": np.zeros(20)},
     r"train_set_x must be a numeric array of rows"),
    ({"train_set_x": np.zeros((20, 4, 4)), "train_set_y": np.arange(20) % 2,
      "test_set_x": np.zeros((5, 4, 5)), "test_set_y": np.arange(5) % 2},
     r"the sets' examples must have one shape; received train_set_x: \(4, 4\), "
     r"test_set_x: \(4, 5\)"),
    ({"train_set_x": np.zeros((20, 3))},
     r"has 'train_set_x' but no 'train_set_y' to pair it with; it holds 'train_set_x'"),
    ({"X": np.zeros((20, 3)), "y": np.zeros(20), "train_set_x": np.zeros((20, 3)),
      "train_set_y": np.zeros(20)}, r"holds two train sets \(X/y or train_set_x/train_set_y\)"),
    ({"train_set_x": np.zeros((20, 3)), "train_set_y": np.arange(20) % 3,
      "list_classes": np.array([b"non-cat", b"cat"])},
     r"list_classes names 2 classes \('non-cat', 'cat'\), so the labels must be 0 to 1; "
     r"received the labels '0', '1', '2'"),
])
def test_an_h5_with_the_wrong_shapes_is_a_one_line_error(
    tmp_path: Path, arrays: dict[str, np.ndarray], expected: str
) -> None:
    with pytest.raises(DataFileError, match=expected) as error:
        load_h5(write_h5(tmp_path / "bad.h5", arrays))
    assert one_line(error).startswith(str(tmp_path / "bad.h5") + ": ")


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("text.mat", b"not a MATLAB file " * 10, r"is not a readable \.mat file \(Unknown mat"),
    ("empty.mat", b"", r"is not a readable \.mat file"),
    ("text.h5", b"not HDF5 " * 10, r"is not an HDF5 file \(no HDF5 signature\)"),
])
def test_files_that_are_not_what_they_say_are_one_line_errors(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    (tmp_path / name).write_bytes(content)
    loader = load_mat if name.endswith(".mat") else load_h5
    with pytest.raises(DataFileError, match=expected) as error:
        loader(tmp_path / name)
    one_line(error)


def test_a_truncated_h5_is_a_one_line_error(tmp_path: Path, rng: np.random.Generator) -> None:
    whole = write_h5(tmp_path / "whole.h5", cat_arrays(rng, 20)).read_bytes()
    (tmp_path / "cut.h5").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataFileError, match=r"cut\.h5: .*(readable|cannot be read)") as error:
        load_h5(tmp_path / "cut.h5")
    one_line(error)


# --- options -------------------------------------------------------------------------------


def test_arrays_is_an_option_of_mat_and_h5_data_only(tmp_path: Path) -> None:
    (tmp_path / "run.toml").write_text(f'data = "{FOOTBALL}"\narrays = ["X", "y"]\n')
    assert resolve(tmp_path / "run.toml", {}).arrays == ("X", "y")
    assert resolve(None, {"data": str(FOOTBALL), "arrays": "X,y,Xval,yval"}).arrays == \
        ("X", "y", "Xval", "yval")
    with pytest.raises(ConfigError, match=r"arrays must be 2, 4 or 6 distinct array names.*"
                       r"received arrays='X,y,Xval'\. help: name a features array"):
        resolve(None, {"data": str(FOOTBALL), "arrays": "X,y,Xval"})
    with pytest.raises(ConfigError, match=r"arrays applies to \.mat and \.h5 data only"):
        resolve(None, {"data": "iris", "arrays": "X,y"})
    with pytest.raises(ConfigError, match=r"target applies to CSV, TSV and Parquet data only.*"
                       r"a \.mat or \.h5 file's labels are an array"):
        check_data(str(FOOTBALL), target="y")
    check_data(str(FOOTBALL))  # a course file is data


def test_load_data_reads_the_arrays_named(tmp_path: Path, rng: np.random.Generator) -> None:
    scipy.io.savemat(tmp_path / "named.mat", {"A": rng.normal(size=(20, 2)),
                                              "b": np.arange(20) % 2})
    loaded = load_data(str(tmp_path / "named.mat"), arrays=("A", "b"))
    assert loaded.X.shape == (20, 2) and loaded.sets == ()


# --- the command line ----------------------------------------------------------------------


def test_deeprecipe_run_trains_on_the_football_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", "--data", str(FOOTBALL), "--output-dir", str(tmp_path), "--name",
                     "football", *TINY]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "note: football.mat: training set X/y (211 examples), validation (dev) set " \
        "Xval/yval (200 examples)" in out
    summary = json.loads((tmp_path / "football" / "summary.json").read_text())
    assert summary["data"]["n_samples"] == 411 and summary["data"]["n_features"] == 2
    assert "course_sets" in [note["code"] for note in summary["data"]["notes"]]
    # trained on X/y; the dev and test errors are measured on the validation examples
    assert summary["data"]["split_sizes"] == {"train": 211, "dev": 100, "test": 100}
    assert set(summary["errors"]) == {"train", "dev", "test"}
    model = str(tmp_path / "football" / "model")
    raw = scipy.io.loadmat(FOOTBALL)
    on_validation = dr.load(model).evaluate(raw["Xval"], raw["yval"].ravel())["error"]
    dev, test = summary["errors"]["dev"], summary["errors"]["test"]
    assert on_validation == pytest.approx((dev + test) / 2)  # the halves of 200 examples
    assert cli.main(["gradcheck", model, "--data", str(FOOTBALL), "--arrays", "Xval,yval"]) \
        == cli.EXIT_OK
    capsys.readouterr()
    assert cli.main(["predict", model, "--data", str(FOOTBALL)]) == cli.EXIT_OK
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "label,p_0,p_1" and len(lines) == 1 + 411  # every set, in file order
    assert "error on" in captured.err and "(411 examples)" in captured.err


def test_deeprecipe_run_trains_on_images_of_an_h5_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: np.random.Generator
) -> None:
    path = write_h5(tmp_path / "train_catvnoncat.h5", cat_arrays(rng, 40))
    assert cli.main(["run", "--data", str(path), "--output-dir", str(tmp_path), "--name",
                     "cats", *TINY]) == cli.EXIT_OK
    assert "note: train_set_x holds 40 images of 8×8×3" in capsys.readouterr().out
    summary = json.loads((tmp_path / "cats" / "summary.json").read_text())
    assert summary["data"]["image_shape"] == [8, 8, 3]
    assert summary["data"]["classes"] == ["non-cat", "cat"]
    model = dr.load(tmp_path / "cats" / "model")
    assert model.input_dim == 192
    test = write_h5(tmp_path / "test_catvnoncat.h5", cat_arrays(rng, 6, "test"))
    assert cli.main(["predict", str(tmp_path / "cats" / "model"), "--data", str(test)]) == \
        cli.EXIT_OK
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "label,p_non-cat,p_cat" and len(lines) == 1 + 6
    assert {line.split(",")[0] for line in lines[1:]} <= {"non-cat", "cat"}
    assert "(6 examples)" in captured.err


def test_a_bad_course_file_is_one_line_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scipy.io.savemat(tmp_path / "other.mat", {"A": np.ones((20, 2)), "b": np.arange(20) % 2})
    assert cli.main(["run", "--data", str(tmp_path / "other.mat"), "--output-dir",
                     str(tmp_path), *TINY]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "it holds 'A', 'b'. help: name the features and labels with --arrays" in err
    assert cli.main(["run", "--data", str(tmp_path / "other.mat"), "--target", "b",
                     "--output-dir", str(tmp_path), *TINY]) == cli.EXIT_USAGE
    assert "labels are an array: the course's y or train_set_y, or the second name of " \
        "--arrays." in capsys.readouterr().err
    assert cli.main(["run", "--data", str(tmp_path / "other.mat"), "--arrays", "A,b",
                     "--output-dir", str(tmp_path), "--name", "named", *TINY]) == cli.EXIT_OK
    assert json.loads((tmp_path / "named" / "run.json").read_text())["config"]["arrays"] == \
        ["A", "b"]


def test_tune_takes_the_same_course_files_and_arrays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tune", "--data", str(FOOTBALL), "--arrays", "X,y,Xval,yval",
                     "--budget", "1", "--workers", "1", "--output-dir", str(tmp_path),
                     "--name", "t"]) == cli.EXIT_OK
    assert "note: football.mat: training set X/y (211 examples)" in capsys.readouterr().out
    options = json.loads((tmp_path / "t" / "tune.json").read_text())["options"]
    assert options["arrays"] == ["X", "y", "Xval", "yval"]


def test_the_cat_files_natural_call_takes_dev_and_test_from_the_test_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rng: np.random.Generator
) -> None:
    train = write_h5(tmp_path / "train_catvnoncat.h5", cat_arrays(rng, 60))
    test = write_h5(tmp_path / "test_catvnoncat.h5", cat_arrays(rng, 20, "test"))
    assert cli.main(["run", "--data", str(train), "--dev-test-data", str(test),
                     "--output-dir", str(tmp_path), "--name", "cats", *TINY]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "note: test_catvnoncat.h5: test set test_set_x/test_set_y (20 examples)" in out
    summary = json.loads((tmp_path / "cats" / "summary.json").read_text())
    sizes = summary["data"]["split_sizes"]
    # dev and test only from the test file (the notes' 20% each of its 20 rows), the rest of
    # it joins training; train-dev (dev's size) is held out of the training file
    assert (sizes["dev"], sizes["test"], sizes["train_dev"]) == (4, 4, 4)
    assert sizes["train"] == 60 + 20 - 4 - 4 - 4
    assert sorted(summary["data"]["classes"]) == ["cat", "non-cat"]  # merged by label
