"""Tests for reading through pyarrow (issue 15): Parquet and its bad files, ``.npy``
memory-mapped with a labels file, ``.npz`` without a second copy, the CSV fast path against
the careful reader, and the ``progress`` hook."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import deeprecipe as dr
from deeprecipe import cli
from deeprecipe.cli import base
from deeprecipe.data import (
    DataFileError,
    arrays,
    arrowread,
    csvtext,
    load_csv,
    load_npy,
    load_npz,
    load_parquet,
)
from deeprecipe.data.filebase import Throttle
from deeprecipe.data.io import (
    load_csv_features,
    load_npy_features,
    load_npz_features,
    load_parquet_features,
)
from deeprecipe.runconfig import ConfigError, MissingFile, check_data, resolve
from deeprecipe.workflow import load_data


def iris_table() -> pa.Table:
    X, y = dr.datasets.load("iris")
    names = np.array(["setosa", "versicolor", "virginica"])
    columns = {name: X[:, j] for j, name in enumerate(["sl", "sw", "pl", "pw"])}
    return pa.table({**columns, "species": names[y]})


def write_parquet(tmp_path: Path, table: pa.Table, name: str = "data.parquet") -> Path:
    path = tmp_path / name
    pq.write_table(table, path)
    return path


# --- Parquet -------------------------------------------------------------------------------


def test_parquet_loads_as_float32_with_text_classes(tmp_path: Path) -> None:
    X, y = dr.datasets.load("iris")
    data = load_parquet(write_parquet(tmp_path, iris_table()), "species")
    assert data.X.dtype == np.float32 and data.X.flags.c_contiguous
    np.testing.assert_array_equal(data.X, X.astype(np.float32))
    np.testing.assert_array_equal(data.y, y)
    assert data.classes == ["setosa", "versicolor", "virginica"]
    assert data.feature_names == ["sl", "sw", "pl", "pw"] and data.task == "multiclass"


def test_parquet_numeric_targets_follow_the_csv_rules(tmp_path: Path) -> None:
    table = pa.table({"a": np.arange(40.0), "b": np.arange(40) % 3,  # ints are features too
                      "price": np.arange(40) * 1.5, "kind": np.arange(40) % 2})
    path = write_parquet(tmp_path, table)
    regression = load_parquet(path, "price")
    assert regression.task == "regression" and regression.classes is None
    assert regression.feature_names == ["a", "b", "kind"]
    assert load_parquet(path, "kind").classes == [0, 1]


def test_parquet_reads_only_the_columns_asked_for(tmp_path: Path) -> None:
    table = iris_table().append_column("notes", pa.array(["free text"] * 150))
    path = write_parquet(tmp_path, table)
    X, names = load_parquet_features(path, ["pw", "sl"])
    assert names == ["pw", "sl"] and X.shape == (150, 2)
    np.testing.assert_array_equal(X[:, 0], dr.datasets.load("iris")[0][:, 3].astype(np.float32))
    data = load_parquet(path, "species")  # every other column is a feature: text is text
    assert data.feature_names[-1] == "notes" and data.categories == {4: ["free text"]}
    assert (data.X[:, 4] == 0).all()
    with pytest.raises(DataFileError, match=r"column 'notes': a feature column must hold "
                       r"numbers; this one holds text"):
        load_parquet_features(path, ["notes"])  # to predict without an encoder: numbers


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: raw[: len(raw) // 2], r"is not a readable Parquet file"),  # truncated
        (lambda raw: raw[:-10], r"is not a readable Parquet file"),  # its footer cut
        (lambda raw: b"not parquet at all", r"is not a readable Parquet file"),
        (lambda raw: b"", r"is not a readable Parquet file"),
    ],
)
def test_a_damaged_parquet_file_is_a_data_file_error(tmp_path: Path, damage, message) -> None:
    path = write_parquet(tmp_path, iris_table())
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataFileError, match=message) as caught:
        load_parquet(path, "species")
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("sl", pa.array(np.arange(150), pa.timestamp("s")), r"column 'sl': a feature column "
         r"must hold numbers; this one holds timestamp\[.*\] values"),
        ("species", pa.array([[1]] * 150), r"column 'species': a target column must hold "
         r"numbers or text; this one holds list<.*> values"),
    ],
)
def test_parquet_columns_of_the_wrong_type_are_named(tmp_path: Path, column: str,
                                                     values: pa.Array, message: str) -> None:
    table = iris_table()
    table = table.set_column(table.schema.get_field_index(column), column, values)
    with pytest.raises(DataFileError, match=message) as caught:
        load_parquet(write_parquet(tmp_path, table), "species")
    assert caught.value.column == column


def test_parquet_without_the_target_column_names_its_columns(tmp_path: Path) -> None:
    path = write_parquet(tmp_path, iris_table())
    with pytest.raises(DataFileError, match=r"has no target column 'label'; its columns are "
                       r"\['sl', 'sw', 'pl', 'pw', 'species'\]"):
        load_parquet(path, "label")
    with pytest.raises(DataFileError, match=r"has no column\(s\) \['petal'\]"):
        load_parquet_features(path, ["petal"])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.inf, r"row 8, column 'pw': the value must be finite; received inf"),
        (1e200, r"row 8, column 'pw': the value must be smaller than 1e\+150"),
        (1e100, r"row 8, column 'pw': the value must be at most 3\.403e\+38 in magnitude"),
    ],
)
def test_unusable_parquet_values_are_located(tmp_path: Path, value: float | None,
                                             message: str) -> None:
    table = iris_table()
    pw = table.column("pw").to_pylist()
    pw[7] = value  # row 8, counted from 1
    table = table.set_column(3, "pw", pa.array(pw, pa.float64()))
    with pytest.raises(DataFileError, match=message) as caught:
        load_parquet(write_parquet(tmp_path, table), "species")
    assert caught.value.row == 8 and caught.value.column == "pw"


def test_parquet_missing_targets_are_named_or_dropped(tmp_path: Path) -> None:
    table = iris_table()
    species = table.column("species").to_pylist()
    species[2], species[9] = None, " NA "
    table = table.set_column(4, "species", pa.array(species))
    path = write_parquet(tmp_path, table)
    with pytest.raises(DataFileError, match=r"column 'species': the target is missing .* in "
                       r"2 rows, on rows 3, 10\. .*`drop_missing_target`"):
        load_parquet(path, "species")
    data = load_parquet(path, "species", drop_missing_target=True)
    assert data.dropped_missing_target == 2 and len(data.X) == len(data.y) == 148
    assert data.classes == ["setosa", "versicolor", "virginica"]
    price = np.arange(150) * 0.5
    price[4] = np.nan
    numbers = write_parquet(tmp_path, table.set_column(4, "price", pa.array(price)), "n.parquet")
    with pytest.raises(DataFileError, match=r"in 1 row, on row 5\."):
        load_parquet(numbers, "price")


def test_parquet_text_labels_stay_text_and_a_regression_needs_numbers(tmp_path: Path) -> None:
    table = iris_table().set_column(4, "species", pa.array(["1.5", "2"] * 75))
    path = write_parquet(tmp_path, table)
    assert load_parquet(path, "species").classes == ["1.5", "2"]
    with pytest.raises(DataFileError, match=r"row 1, column 'species': a regression target "
                       r"must be numeric; received '1\.5'"):
        load_parquet(path, "species", task="regression")
    spaced = iris_table().set_column(4, "species", pa.array(["a", " a", "b\t"] * 50))
    data = load_parquet(write_parquet(tmp_path, spaced, "s.parquet"), "species")
    assert data.classes == ["a", "b"] and data.y.tolist()[:3] == [0, 0, 1]  # as CSV cells


def test_a_dictionary_encoded_parquet_target(tmp_path: Path) -> None:
    table = iris_table()
    table = table.set_column(4, "species", table.column("species").dictionary_encode())
    assert load_parquet(write_parquet(tmp_path, table), "species").y.tolist() == \
        dr.datasets.load("iris")[1].tolist()


# --- .npy and .npz -------------------------------------------------------------------------


def test_npy_features_are_memory_mapped_and_labels_come_from_a_second_file(
        tmp_path: Path) -> None:
    X, y = dr.datasets.load("digits")
    np.save(tmp_path / "X.npy", X.astype(np.float32))
    np.save(tmp_path / "y.npy", y)
    data = load_npy(tmp_path / "X.npy", tmp_path / "y.npy")
    assert isinstance(data.X, np.memmap)  # read when used, never copied
    assert data.X.dtype == np.float32 and data.X.flags.c_contiguous and data.X.flags.writeable
    np.testing.assert_array_equal(data.X, X.astype(np.float32))
    assert data.classes == list(range(10)) and data.y.tolist() == y.tolist()
    data.X[0, 0] = 99.0  # standardizing in place writes this process's pages only
    assert np.load(tmp_path / "X.npy")[0, 0] == X[0, 0]
    np.save(tmp_path / "X64.npy", X)  # float64: converted to float32
    assert load_npy(tmp_path / "X64.npy", tmp_path / "y.npy").X.dtype == np.float32
    features = load_npy_features(tmp_path / "X.npy")
    assert features.shape == X.shape


def test_npy_problems_are_data_file_errors(tmp_path: Path) -> None:
    np.save(tmp_path / "X.npy", np.zeros((6, 2), np.float32))
    np.save(tmp_path / "y5.npy", np.arange(5) % 2)
    with pytest.raises(DataFileError, match=r"y5\.npy: the labels must have shape \(6,\), one "
                       r"per row of X\.npy; received \(5,\)"):
        load_npy(tmp_path / "X.npy", tmp_path / "y5.npy")
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataFileError, match=r"bad\.npy: is not a readable \.npy file"):
        load_npy(tmp_path / "bad.npy", tmp_path / "y5.npy")
    X = np.zeros((6, 2))
    X[3, 1] = np.nan
    np.save(tmp_path / "nan.npy", X)
    np.save(tmp_path / "y.npy", np.arange(6) % 2)
    with pytest.raises(DataFileError, match=r"row 3, column '1': X\[3, 1\] must be finite"):
        load_npy(tmp_path / "nan.npy", tmp_path / "y.npy")
    with pytest.raises(FileNotFoundError):
        load_npy(tmp_path / "X.npy", tmp_path / "missing.npy")


def test_a_float32_npz_member_is_used_as_read(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """No second copy: the peak of traced memory is about one X (``np.load`` of the member)
    plus the checks' chunks (small here), where converting would need one and a half."""
    monkeypatch.setattr(arrays, "CHUNK_VALUES", 1 << 14)
    X = np.random.default_rng(0).standard_normal((100_000, 100)).astype(np.float32)
    np.savez(tmp_path / "big.npz", X=X, y=np.arange(100_000) % 2)
    tracemalloc.start()
    try:
        data = load_npz(tmp_path / "big.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert data.X.dtype == np.float32 and data.X.flags.c_contiguous
    labels_and_codes = 100_000 * 8 * 10  # y read, as float64, rows kept, classes, codes
    assert peak < X.nbytes + labels_and_codes + 2**20, peak / X.nbytes
    np.testing.assert_array_equal(data.X, X)
    np.savez(tmp_path / "f64.npz", X=X.astype(np.float64))
    assert load_npz_features(tmp_path / "f64.npz").dtype == np.float32


# --- CSV: the fast path and the careful reader agree ---------------------------------------


ROW_CELLS = st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False, width=32).map(repr),
                               st.sampled_from(["", "NA", " red", "blue", "x1"])),
                     min_size=2, max_size=2)  # numbers, missing values and text


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(ROW_CELLS, st.sampled_from(["cat", "dog", " 3", "1.5", "NA",
                                                            ""])), min_size=5, max_size=30),
       task=st.sampled_from(["auto", "classification", "regression"]),
       drop=st.booleans())
def test_the_fast_path_and_the_careful_reader_agree(rows, task: str, drop: bool,
                                                    tmp_path_factory) -> None:
    """Property: on well-formed CSV, pyarrow's reading gives the careful reader's dataset,
    or the careful reader's error."""
    path = tmp_path_factory.mktemp("agree") / "data.csv"
    path.write_text("a,b,label\n" + "".join(f"{c[0]},{c[1]},{label}\n" for c, label in rows))
    try:
        careful = csvtext.read_labelled(path, "label", ",", task, 1, 2, drop)
    except DataFileError as error:
        with pytest.raises(DataFileError) as caught:
            load_csv(path, "label", task=task, min_rows=1, drop_missing_target=drop)
        assert str(caught.value) == str(error)
        return
    data = load_csv(path, "label", task=task, min_rows=1, drop_missing_target=drop)
    np.testing.assert_array_equal(data.X, careful[0])
    np.testing.assert_array_equal(data.y, careful[1])
    assert data.y.dtype == careful[1].dtype
    assert (data.feature_names, data.classes, data.dropped_missing_target, data.categories,
            data.missing) == careful[2:]


@pytest.mark.parametrize(("text", "message"), [
    (",\n", "is empty: expected a header row"),  # a first line of empty cells is skipped
    ("a,b\n\"\n", "has no target column 'label'"),  # the header is checked first
])
def test_a_first_line_the_fast_path_cannot_trust(tmp_path: Path, text: str,
                                                  message: str) -> None:
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(DataFileError, match=message):
        load_csv(path, "label")


@pytest.mark.parametrize(("rows", "message"), [
    (["1,2,0", "3,x,1", "5,6,0", "y,8,1", "9,z,0"], r"row 2 \(line 3\), column 'b'"),
    (["1,2,0", "3,4,1", "w,x,0", "7,8,1", "9,1,0"], r"row 3 \(line 4\), column 'a'"),
])
def test_the_careful_reader_names_the_first_bad_cell_by_row_then_column(
        tmp_path: Path, rows: list[str], message: str) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataFileError, match=message):
        load_csv(path, "label")


def test_a_good_csv_file_is_read_by_pyarrow_only(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the careful reader read a good file")

    monkeypatch.setattr(csvtext, "read_labelled", refuse)
    monkeypatch.setattr(csvtext, "read_features", refuse)
    rows = [f"{i},{i % 7}.5,{['no', 'yes'][i % 2]}" for i in range(200)]
    path = tmp_path / "good.csv"
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    data = load_csv(path, "label", drop_missing_target=True)
    assert data.X.shape == (200, 2) and data.classes == ["no", "yes"]
    assert load_csv_features(path, ["b"])[0][:2, 0].tolist() == [0.5, 1.5]


def test_a_big_csv_file_is_read_a_block_at_a_time_with_the_same_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [f"{i},{(i * 7) % 13}.25,{['no', 'yes'][i % 2]}" for i in range(5_000)]
    path = tmp_path / "big.csv"
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    at_once = load_csv(path, "label")
    monkeypatch.setattr(arrowread, "THREADED_BYTES", 0)  # as a file over 512 MB is read
    monkeypatch.setattr(arrowread, "BLOCK_BYTES", 1 << 12)
    calls: list[int] = []
    monkeypatch.setattr(arrowread, "Throttle",  # every call passed on
                        lambda progress, total: Throttle(progress, total, interval=0.0))
    blocks = load_csv(path, "label", progress=lambda done, total: calls.append(done))
    assert np.array_equal(blocks.X, at_once.X) and np.array_equal(blocks.y, at_once.y)
    assert blocks.X.flags.c_contiguous and blocks.X.dtype == np.float32
    size = path.stat().st_size
    assert len(calls) > 10 and calls == sorted(calls) and calls[-1] == size  # block by block


def test_a_tsv_file_is_read_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "flowers.tsv"
    path.write_text("a\tb\tlabel\n" + "".join(f"{i}\t{i * 2}\t{i % 2}\n" for i in range(10)))
    loaded = load_data(str(path), "label")
    assert loaded.X.shape == (10, 2) and loaded.classes == [0, 1]


# --- progress ------------------------------------------------------------------------------


def test_progress_counts_bytes_for_csv_and_rows_for_the_others(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    path = tmp_path / "data.csv"
    path.write_text("a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(100)))
    load_csv(path, "label", progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (path.stat().st_size, path.stat().st_size)
    assert all(done <= total for done, total in calls)
    calls.clear()
    load_parquet(write_parquet(tmp_path, iris_table()), "species",
                 progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (150, 150)
    calls.clear()
    np.save(tmp_path / "X.npy", np.zeros((30, 2)))
    np.save(tmp_path / "y.npy", np.arange(30) % 2)
    load_npy(tmp_path / "X.npy", tmp_path / "y.npy",
             progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (30, 30)


def test_progress_is_called_a_few_times_a_second_at_most() -> None:
    calls: list[tuple[int, int]] = []
    throttle = Throttle(lambda done, total: calls.append((done, total)), 10_000,
                        interval=3600.0)
    for done in range(10_000):
        throttle(done)
    throttle.finish()
    assert calls == [(0, 10_000), (10_000, 10_000)]  # the first, then the end


# --- the command line: --data with --target or --target-file for each format ---------------


def test_check_data_takes_the_new_formats_and_an_npy_needs_its_labels(tmp_path: Path) -> None:
    np.save(tmp_path / "X.npy", np.zeros((6, 2)))
    with pytest.raises(ConfigError, match=r"target_file must name the \.npy file of the "
                       r"labels of .*X\.npy; received none\. help: .*`target_file`") as none:
        check_data(str(tmp_path / "X.npy"))
    assert "`target_file` (e.g. y.npy)" in str(none.value)  # run.toml's spelling
    assert "--target-file (e.g. y.npy)" in base.message(none.value)  # the command line's
    check_data(str(tmp_path / "X.npy"), labelled=False)  # predict: features alone
    with pytest.raises(MissingFile, match=r"target_file: no file .*missing\.npy"):
        check_data(str(tmp_path / "X.npy"), target_file=str(tmp_path / "missing.npy"))
    with pytest.raises(ConfigError, match=r"data must be .*\.parquet, \.npy, \.npz, \.mat, "
                       r"\.h5, \.hdf5\) or a folder of images \(one subfolder per class\); "
                       r"received data='x\.xlsx'"):
        check_data("x.xlsx")
    toml = tmp_path / "run.toml"
    toml.write_text('data = "X.npy"\ntarget_file = "y.npy"\n')
    np.save(tmp_path / "y.npy", np.arange(6) % 2)
    config = resolve(toml, {})
    assert config.target_file == str(tmp_path / "y.npy")  # beside the TOML file
    assert config.target is None


def test_target_is_a_column_and_target_file_the_labels_of_npy_data(tmp_path: Path) -> None:
    np.save(tmp_path / "X.npy", np.zeros((6, 2)))
    np.save(tmp_path / "y.npy", np.arange(6) % 2)
    npy, labels = str(tmp_path / "X.npy"), str(tmp_path / "y.npy")
    with pytest.raises(ConfigError, match=r"target applies to CSV, TSV and Parquet data only "
                       r"\(a column name\); received target='.*y\.npy' with data='.*X\.npy'\. "
                       r"help: .*`target_file` instead") as column:
        check_data(npy, labels)
    assert "received --target='" in base.message(column.value)
    assert "give it as --target-file instead" in base.message(column.value)
    csv = tmp_path / "x.csv"
    csv.write_text("a,label\n1,0\n")
    for data in (str(csv), "iris", "data.npz", f"{tmp_path}/"):
        with pytest.raises(ConfigError, match=r"target_file applies to \.npy data only \(the "
                           r"\.npy file of its labels\); received target_file='.*y\.npy' "
                           r"with data=") as error:
            resolve(None, {"data": data, "target_file": labels})
        assert ": --target-file applies to .npy data only" in base.message(error.value)
    check_data(npy, target_file=labels)
    with pytest.raises(ConfigError, match=r"run\.toml \(with the command line\): target "
                       r"applies to CSV, TSV and Parquet data only"):
        resolve(write_toml(tmp_path, 'data = "X.npy"\ntarget = "y.npy"\n'), {})


def test_the_commands_refuse_a_target_column_for_npy_data(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "X.npy", np.zeros((6, 2)))
    np.save(tmp_path / "y.npy", np.arange(6) % 2)
    npy, labels = str(tmp_path / "X.npy"), str(tmp_path / "y.npy")
    out = ["--output-dir", str(tmp_path / "runs")]
    model = tmp_path / "net.json"
    model.write_text(json.dumps(dr.Sequential([dr.Dense(2, "softmax")], input_dim=2).get_config()))
    for command in (["run", "--data", npy, "--target", labels, *out],
                    ["tune", "--data", npy, "--target", labels, *out],
                    ["gradcheck", str(model), "--data", npy, "--target", labels]):
        assert cli.main(command) == cli.EXIT_USAGE, command
        assert "give it as --target-file instead" in capsys.readouterr().err
    for command in (["run", "--data", npy, *out], ["tune", "--data", npy, *out]):
        assert cli.main(command) == cli.EXIT_USAGE, command
        assert "--target-file must name the .npy file of the labels" in \
            capsys.readouterr().err
    assert cli.main(["run", "--data", "iris", "--target-file", labels, *out]) == \
        cli.EXIT_USAGE
    assert "--target-file applies to .npy data only" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # refused before any run folder is made


def write_toml(folder: Path, text: str) -> Path:
    path = folder / "run.toml"
    path.write_text(text)
    return path


def test_run_and_predict_on_parquet_and_npy(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    parquet = write_parquet(tmp_path, iris_table())
    X, y = dr.datasets.load("iris")
    np.save(tmp_path / "X.npy", X.astype(np.float32))
    np.save(tmp_path / "y.npy", y)
    tiny = ["--hidden", "4", "--epochs", "1", "--gradcheck", "off", "--output-dir",
            str(tmp_path)]
    assert cli.main(["run", "--data", str(parquet), "--target", "species", "--name", "pq",
                     *tiny]) == cli.EXIT_OK
    assert cli.main(["run", "--data", str(tmp_path / "X.npy"), "--target-file",
                     str(tmp_path / "y.npy"), "--name", "npy", *tiny]) == cli.EXIT_OK
    capsys.readouterr()
    model = str(tmp_path / "pq" / "model")
    assert cli.main(["predict", model, "--data", str(parquet), "--target", "species"]) == \
        cli.EXIT_OK
    captured = capsys.readouterr()
    assert captured.out.startswith("label,p_setosa") and "(150 examples)" in captured.err
    assert cli.main(["predict", str(tmp_path / "npy" / "model"), "--data",
                     str(tmp_path / "X.npy"), "--target-file", str(tmp_path / "y.npy")]) == \
        cli.EXIT_OK
    assert "(150 examples)" in capsys.readouterr().err
