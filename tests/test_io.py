"""Tests for ``deeprecipe.data.io``: CSV and NPZ loading, and errors that name the file, row
and column. The CSV loader is fuzzed: it either loads or raises DataFileError."""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deeprecipe as dr
from deeprecipe.cli.base import message
from deeprecipe.data import DataFileError, Dataset, load_csv, load_csv_features, load_npz
from deeprecipe.data.cells import MISSING, SPACE, parse_cell

FLOWERS = """petal_length,petal_width,species
1.4,0.2,setosa
4.7,1.4,versicolor
1.3,0.2,setosa
4.5,1.5,versicolor
6.0,2.5,virginica
5.1,1.9,virginica
"""


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_of(rows: list[str], header: str = "a,b,label") -> str:
    return "\n".join([header, *rows]) + "\n"


GOOD_ROWS = ["1,2,0", "3,4,1", "5,6,0", "7,8,1", "9,10,0"]


# --- loading -------------------------------------------------------------------------------


def test_a_categorical_target_is_mapped_to_class_indices(tmp_path: Path) -> None:
    data = load_csv(write(tmp_path, FLOWERS), target="species")
    assert isinstance(data, Dataset)
    assert data.X.shape == (6, 2) and data.X.dtype == np.float32  # one float32 copy (issue 15)
    assert data.X.flags.c_contiguous
    assert data.X[0].tolist() == np.float32([1.4, 0.2]).tolist()
    assert data.feature_names == ["petal_length", "petal_width"]
    assert data.classes == ["setosa", "versicolor", "virginica"]
    assert data.y.tolist() == [0, 1, 0, 1, 2, 2] and data.y.dtype == np.intp
    assert [data.classes[i] for i in data.y][:2] == ["setosa", "versicolor"]
    assert data.task == "multiclass" and data.target == "species"
    X, y = data  # unpacks like dr.datasets.load
    assert X is data.X and y is data.y


def test_the_target_may_be_any_column_and_numbers_are_classes(tmp_path: Path) -> None:
    path = write(tmp_path, csv_of(["3,1,2", "7,3,4", "3,5,6", "7,7,8", "3,9,10"],
                                  header="label,a,b"))
    data = load_csv(path, target="label")
    assert data.classes == [3, 7] and data.y.tolist() == [0, 1, 0, 1, 0]
    assert data.feature_names == ["a", "b"] and data.X[:, 0].tolist() == [1, 3, 5, 7, 9]
    assert data.task == "binary"


def test_fractional_targets_are_regression(tmp_path: Path) -> None:
    path = write(tmp_path, csv_of(["1,2,0.5", "3,4,1.25", "5,6,2", "7,8,3", "9,10,4"]))
    data = load_csv(path, target="label")
    assert data.classes is None and data.task == "regression"
    assert data.y.tolist() == [0.5, 1.25, 2.0, 3.0, 4.0]
    forced = load_csv(path, target="label", task="classification")
    assert forced.classes == [0.5, 1.25, 2, 3, 4]
    whole = load_csv(write(tmp_path, csv_of(GOOD_ROWS), "w.csv"), "label", task="regression")
    assert whole.classes is None and whole.y.dtype == np.float64


def test_whole_numbers_with_many_distinct_values_are_regression(tmp_path: Path) -> None:
    # like scikit-learn's diabetes target (whole numbers 25 … 346): ages, prices, counts
    values = np.arange(100) * 3 + 25
    rows = [f"{i},{i % 7},{v}" for i, v in enumerate(values)]
    data = load_csv(write(tmp_path, csv_of(rows)), target="label")
    assert data.task == "regression" and data.y.tolist() == values.tolist()
    # 21 distinct whole numbers are classes when each has ten rows or more …
    rows = [f"{i},{i % 7},{i % 21}" for i in range(210)]
    assert load_csv(write(tmp_path, csv_of(rows), "c.csv"), "label").task == "multiclass"
    # … and 20 are classes however few the rows
    rows = [f"{i},{i % 7},{i % 20}" for i in range(40)]
    assert load_csv(write(tmp_path, csv_of(rows), "d.csv"), "label").task == "multiclass"
    forced = load_csv(write(tmp_path, csv_of(rows), "e.csv"), "label", task="regression")
    assert forced.task == "regression"


def test_quotes_spaces_blank_lines_bom_and_other_delimiters(tmp_path: Path) -> None:
    text = '\ufeff"a" ; b ;label\n\n 1 ; "2";x\n3;4;y\n\n5;6;x\n7;8; y \n9;1e1;x\n\n'
    data = load_csv(write(tmp_path, text), target="label", delimiter=";")
    assert data.feature_names == ["a", "b"]
    assert data.X[:, 1].tolist() == [2, 4, 6, 8, 10]
    assert data.classes == ["x", "y"] and data.y.tolist() == [0, 1, 0, 1, 0]


def test_min_rows_can_be_lowered(tmp_path: Path) -> None:
    path = write(tmp_path, csv_of(GOOD_ROWS[:2]))
    assert len(load_csv(path, target="label", min_rows=2).X) == 2


# --- errors name the file, the row and the column ------------------------------------------


@pytest.mark.parametrize(
    ("rows", "message", "row", "column"),
    [
        (["1,2,0", "3,abc,1", *GOOD_ROWS], r"row 2 \(line 3\), column 'b': the value must be a "
         r"finite number; received 'abc'", 2, "b"),
        (["1,2,0", "3,abc,1", "5,xyz,0", *GOOD_ROWS], r"row 2 \(line 3\), column 'b': the "
         r"value must be a finite number; received 'abc' \(the column holds 6 numbers and 2 "
         r"text cells", 2, "b"),
        (["1,2,0", "-inf,2,0", *GOOD_ROWS], r"row 2 \(line 3\), column 'a': .*'-inf'", 2, "a"),
        (["1,2,0", "3,4", *GOOD_ROWS], r"row 2 \(line 3\): has 2 fields; the header has 3", 2,
         None),
        (["1,2,0", "3,4,1,9", *GOOD_ROWS], r"row 2 \(line 3\): has 4 fields", 2, None),
        ([*GOOD_ROWS, "1,2,inf"], r"row 6 \(line 7\), column 'label': the target must be "
         "finite", 6, "label"),
    ],
)
def test_bad_values_are_located(
    tmp_path: Path, rows: list[str], message: str, row: int, column: str | None
) -> None:
    path = write(tmp_path, csv_of(rows))
    with pytest.raises(DataFileError, match=message) as caught:
        load_csv(path, target="label")
    assert str(path) in str(caught.value)
    assert caught.value.row == row and caught.value.column == column
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "target", "message"),
    [
        ("", "label", "is empty: expected a header row and data rows"),
        ("\n\n  \n", "label", "is empty"),
        ("a,b,label\n", "label", "must have at least 5 data rows .*; received 0"),
        (csv_of(GOOD_ROWS[:4]), "label", "must have at least 5 data rows .*; received 4"),
        (csv_of(GOOD_ROWS), "species", r"has no target column 'species'; its columns are "
         r"\['a', 'b', 'label'\]"),
        (csv_of(["1,2,0"] * 5), "label", r"column 'label': the target has a single class "
         r"\(0\)"),
        (csv_of(["1,2,cat"] * 5), "label", r"single class \('cat'\)"),
        (csv_of(GOOD_ROWS, header="a,a,label"), "label", "distinct, non-empty column names"),
        (csv_of(GOOD_ROWS, header="a,,label"), "label", "distinct, non-empty column names"),
        ("label\n0\n1\n0\n1\n0\n", "label", "has no feature columns"),
        ('a,b,label\n1,2,"0\n3,4,1\n', "label", "a quoted value runs from line 2 to line 3"),
        (csv_of(['1,"2"x,0', *GOOD_ROWS]), "label", "row 1 .*column 'b': .*received '2x'"),
    ],
)
def test_bad_files_are_refused_with_the_file_named(
    tmp_path: Path, text: str, target: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataFileError, match=message) as caught:
        load_csv(path, target=target)
    assert str(caught.value).startswith(str(path))


def test_regression_targets_must_be_numeric(tmp_path: Path) -> None:
    path = write(tmp_path, csv_of([*GOOD_ROWS, "1,2,cat"]))
    with pytest.raises(DataFileError, match=r"row 6 .*column 'label': a regression target "
                       r"must be numeric; received 'cat'\.$"):  # not np.str_('cat')
        load_csv(path, target="label", task="regression")


def test_non_utf8_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,b,label\n1,2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataFileError, match="is not UTF-8 text"):
        load_csv(path, target="label")
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "missing.csv", target="label")


def test_bad_arguments(tmp_path: Path) -> None:
    path = write(tmp_path, csv_of(GOOD_ROWS))
    with pytest.raises(ValueError, match="load_csv: task must be one of 'auto'"):
        load_csv(path, target="label", task="ranking")
    with pytest.raises(TypeError, match="load_csv: target must be a column name"):
        load_csv(path, target=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="load_csv: min_rows must be a positive integer"):
        load_csv(path, target="label", min_rows=0)


def test_loaded_data_splits_and_trains(tmp_path: Path) -> None:
    X, y = dr.datasets.load("iris")
    names = np.array(["setosa", "versicolor", "virginica"])
    lines = [",".join([*(repr(float(v)) for v in row), names[label]])
             for row, label in zip(X, y, strict=True)]
    path = write(tmp_path, csv_of(lines, header="sl,sw,pl,pw,species"))
    data = load_csv(path, target="species")
    np.testing.assert_array_equal(data.X, X.astype(np.float32))
    np.testing.assert_array_equal(data.y, y)
    s = dr.data.split(*data, seed=0)
    assert s.sizes() == {"train": 90, "dev": 30, "test": 30}


# --- fuzzing: load or raise DataFileError, never anything else -----------------------------

CELLS = st.one_of(
    st.sampled_from(["0", "1", "2", "-3.5", "1e3", "nan", "inf", "", " ", "abc", "cat", "dog",
                     '"1"', '"a,b"', '"', "1_0", "0x10", "\t2"]),
    st.text(max_size=6),
)


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """Mostly well-formed CSV with random damage: extra or missing fields, odd cells, odd
    headers, random line endings."""
    width = draw(st.integers(1, 4))
    header = draw(st.lists(st.sampled_from(["a", "b", "label", "", "a "]), min_size=width,
                           max_size=width))
    rows = draw(st.lists(
        st.lists(CELLS, min_size=max(0, width - 1), max_size=width + 1), max_size=9
    ))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return end.join(",".join(row) for row in [header, *rows]) + draw(st.sampled_from(["", end]))


FUZZ_TEXT = st.one_of(csv_texts(), st.text(max_size=80),
                      st.text(alphabet=',\n\r"0123456789.-e abnlinfy', max_size=120))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.one_of(FUZZ_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
                         st.binary(max_size=80)))
def test_fuzzed_csv_either_loads_or_raises_data_file_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(content)
        try:
            data = load_csv(path, target="label", min_rows=1)
        except DataFileError as error:
            assert str(path) in str(error)
            return
    assert data.X.ndim == 2 and len(data.X) == len(data.y) >= 1
    assert np.isfinite(data.X).all()
    assert data.X.shape[1] == len(data.feature_names) >= 1
    if data.classes is not None:
        assert len(data.classes) >= 2 and set(data.y.tolist()) <= set(range(len(data.classes)))


# --- NPZ -----------------------------------------------------------------------------------


def test_npz_round_trip_with_numeric_and_string_labels(tmp_path: Path) -> None:
    X, y = dr.datasets.load("digits")
    path = tmp_path / "digits.npz"
    np.savez(path, X=X.reshape(-1, 8, 8), y=y)
    data = load_npz(path)
    np.testing.assert_array_equal(data.X, X.reshape(-1, 8, 8))  # image rows are kept
    np.testing.assert_array_equal(data.y, y)
    assert data.classes == list(range(10)) and len(data.feature_names) == 64
    np.savez(path, features=X[:6, :3], labels=np.array(["b", "a", "b", " a", "c", "a"]))
    data = load_npz(path, x_key="features", y_key="labels")
    assert data.classes == ["a", "b", "c"] and data.y.tolist() == [1, 0, 1, 0, 2, 0]
    np.savez(path, X=X[:6], y=np.array([b"no", b"yes"] * 3))
    assert load_npz(path).classes == ["no", "yes"]


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.zeros((6, 2))}, r"has no array 'y'; it holds \['X'\]"),
        ({"X": np.zeros((6, 2)), "y": np.zeros(5)}, r"y must have shape \(6,\); received \(5,\)"),
        ({"X": np.zeros(6), "y": np.zeros(6)}, "X must be a numeric array of rows"),
        ({"X": np.array([["a"]] * 6), "y": np.arange(6) % 2}, "X must be a numeric array"),
        # no feature: scikit-learn's 'Found array with 0 feature(s)', naming no file
        ({"X": np.zeros((6, 0)), "y": np.arange(6) % 2}, "with at least one feature"),
        ({"X": np.zeros((6, 0, 3)), "y": np.arange(6) % 2}, "with at least one feature"),
        ({"X": np.zeros((4, 2)), "y": np.arange(4) % 2}, "must have at least 5 data rows"),
        ({"X": np.zeros((6, 2)), "y": np.ones(6)}, "single class"),
    ],
)
def test_bad_npz_contents(tmp_path: Path, arrays: dict, message: str) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataFileError, match=message):
        load_npz(path)


def test_an_npz_target_of_number_strings_is_not_a_regression_target(tmp_path: Path) -> None:
    path = tmp_path / "strings.npz"
    np.savez(path, X=np.zeros((6, 2)), y=np.array(["1.5", "2.5"] * 3))  # was a StopIteration
    with pytest.raises(DataFileError, match=r"a regression target must be numeric; received "
                       r"'1\.5'\."):
        load_npz(path, task="regression")
    assert load_npz(path).classes == ["1.5", "2.5"]  # text labels are classes


def test_npz_non_finite_values_are_located(tmp_path: Path) -> None:
    X = np.zeros((6, 3))
    X[4, 2] = np.inf
    path = tmp_path / "inf.npz"
    np.savez(path, X=X, y=np.arange(6) % 2)
    with pytest.raises(DataFileError, match=r"inf.npz, row 4, column '2': X\[4, 2\] must be "
                       r"finite; received inf") as caught:
        load_npz(path)
    assert caught.value.row == 4 and caught.value.column == "2"


def test_npz_that_is_not_an_archive(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"definitely not a zip file")
    with pytest.raises(DataFileError, match=r"is not a readable .npz file"):
        load_npz(garbage)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(DataFileError, match=r"holds a single array \(.npy\)"):
        load_npz(single)
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, X=np.zeros((6, 2)), y=np.array([{"a": 1}] * 6, dtype=object))
    with pytest.raises(DataFileError, match="cannot be read"):
        load_npz(pickled)
    with pytest.raises(FileNotFoundError):
        load_npz(tmp_path / "missing.npz")


# --- missing targets: an error naming the rows, or dropped and counted ---------------------

MISSING_MARKERS = [*sorted(MISSING), "NAN", "+nan", "  NA  "]


def diabetes_lines() -> list[str]:
    """scikit-learn's diabetes (a regression of 442 rows) as CSV lines, header first."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    header = ",".join(f"x{j}" for j in range(X.shape[1])) + ",progression"
    return [header] + [",".join(repr(float(v)) for v in [*row, target])
                       for row, target in zip(X, y, strict=True)]


def with_target(line: str, cell: str) -> str:
    return line.rsplit(",", 1)[0] + "," + cell


@pytest.mark.parametrize("marker", MISSING_MARKERS)
def test_a_missing_regression_target_is_an_error_not_a_class(tmp_path: Path, marker: str) -> None:
    lines = diabetes_lines()
    lines[5] = with_target(lines[5], marker)  # file line 6
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=r"column 'progression': the target is missing .* "
                       r"in 1 row, on file line 6\. .*`drop_missing_target`") as caught:
        load_csv(path, target="progression")
    assert caught.value.column == "progression"
    data = load_csv(path, target="progression", drop_missing_target=True)
    assert data.task == "regression" and data.classes is None
    assert len(data.y) == 441 and data.dropped_missing_target == 1


@pytest.mark.parametrize("marker", ["", "nan", "NA", "null", "None"])
def test_a_missing_species_is_not_a_fourth_class(tmp_path: Path, marker: str) -> None:
    rows = FLOWERS.splitlines()
    rows[2] = with_target(rows[2], marker)  # line 3
    rows[5] = with_target(rows[5], marker)  # line 6
    path = write(tmp_path, "\n".join(rows) + "\n")
    with pytest.raises(DataFileError, match=r"in 2 rows, on file lines 3, 6\."):
        load_csv(path, target="species", min_rows=2)
    data = load_csv(path, target="species", min_rows=2, drop_missing_target=True)
    assert data.classes == ["setosa", "versicolor", "virginica"]
    assert data.dropped_missing_target == 2 and len(data.y) == 4


def test_many_missing_targets_name_ten_lines_and_count_the_rest(tmp_path: Path) -> None:
    rows = [f"{i},{i % 7},{'' if i % 2 else i % 3}" for i in range(40)]
    path = write(tmp_path, csv_of(rows))
    with pytest.raises(DataFileError, match=r"in 20 rows, on file lines 3, 5, 7, 9, 11, 13, "
                       r"15, 17, 19, 21 and 10 more\."):
        load_csv(path, target="label")


def test_dropped_rows_keep_their_numbers_and_do_not_count_for_min_rows(tmp_path: Path) -> None:
    # a dropped row's features are never read; later errors still name the file's rows
    path = write(tmp_path, csv_of(["x,2,", *GOOD_ROWS, "1,abc,0"]))
    with pytest.raises(DataFileError, match=r"row 7 \(line 8\), column 'b'") as caught:
        load_csv(path, target="label", drop_missing_target=True)
    assert caught.value.row == 7
    path = write(tmp_path, csv_of([*GOOD_ROWS[:4], "1,2,NA"]))
    with pytest.raises(DataFileError, match=r"at least 5 data rows .*; received 4"):
        load_csv(path, target="label", drop_missing_target=True)


def test_a_ragged_row_is_refused_before_its_target_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, csv_of([*GOOD_ROWS, "1,2"]))
    with pytest.raises(DataFileError, match=r"row 6 \(line 7\): has 2 fields"):
        load_csv(path, target="label", drop_missing_target=True)


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["12.5", "?", "3.25"], r"file line 3 holds text \('\?'\)"),
        (["cat", "3", "dog"], r"file line 3 holds a number \('3'\)"),
        (["1.5", "n.a.", "-", "2.5"], r"file lines 3, 4 hold text \('n\.a\.', '-'\)"),
    ],
)
def test_a_target_mixing_numbers_and_text_is_refused(
    tmp_path: Path, cells: list[str], message: str
) -> None:
    cells = cells + cells[:1] * 4  # the first kind is the majority
    path = write(tmp_path, csv_of([f"{i},{i},{cell}" for i, cell in enumerate(cells)]))
    with pytest.raises(DataFileError, match=r"the target mixes numbers and text: " + message):
        load_csv(path, target="label")
    data = load_csv(path, target="label", task="classification")
    assert data.classes is not None and all(isinstance(c, str) for c in data.classes)
    with pytest.raises(DataFileError, match="a regression target must be numeric"):
        load_csv(path, target="label", task="regression")


def test_npz_missing_targets(tmp_path: Path) -> None:
    X = np.arange(24, dtype=np.float64).reshape(8, 3)
    X[2, 1] = np.nan  # in a dropped row: never read
    y = np.array([0.5, 1.5, np.nan, 2.5, 3.5, np.nan, 4.5, 5.5])
    path = tmp_path / "nan.npz"
    np.savez(path, X=X, y=y)
    with pytest.raises(DataFileError, match=r"missing .* in 2 rows, y\[i\] is NaN or empty "
                       r"at 0-based indices 2, 5\."):
        load_npz(path)
    data = load_npz(path, drop_missing_target=True, task="regression")
    assert data.dropped_missing_target == 2 and data.y.tolist() == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    X[2, 1] = 1.0
    X[6, 0] = np.inf  # named by its index in the file, not among the kept rows
    np.savez(path, X=X, y=y)
    with pytest.raises(DataFileError, match=r"X\[6, 0\] must be finite"):
        load_npz(path, drop_missing_target=True)
    np.savez(path, X=X[:6], y=np.array(["a", "b", "", "a", "NA", "b"]))
    with pytest.raises(DataFileError, match="at 0-based indices 2, 4"):
        load_npz(path)


# --- numbers: the forms pandas reads, not Python's float() ---------------------------------


@pytest.mark.parametrize("cell", ["1_000", "١٢", "１", "۱", "0x10", "1,5", "1 000", "1d5",
                                  "\xa01", "1e", "--1", "+nan5", "infinit", "True"])
def test_cells_that_python_or_humans_read_as_numbers_are_text(tmp_path: Path,
                                                               cell: str) -> None:
    assert parse_cell(cell) == cell.strip(" \t")
    path = write(tmp_path, csv_of([f'"{cell}",1,0', *GOOD_ROWS]))
    with pytest.raises(DataFileError, match=r"row 1 \(line 2\), column 'a': the value must be "
                       r"a finite number"):
        load_csv(path, target="label")


@pytest.mark.parametrize(
    ("cell", "value"),
    [("1", 1.0), ("-1.5", -1.5), ("+.5", 0.5), ("5.", 5.0), ("1E+05", 1e5), (" 2.5\t", 2.5),
     ("0000.5e0005", 5e4), ("-inf", -math.inf), ("InFiNiTy", math.inf), ("1e400", math.inf)],
)
def test_number_forms(cell: str, value: float) -> None:
    assert parse_cell(cell) == value


NUMBERISH = st.text(alphabet="0123456789+-.eEinfatyINFATY _,/#\t \xa0١１", max_size=12)
CELL_TEXT = st.one_of(
    NUMBERISH,
    st.floats(allow_nan=False).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from([*sorted(MISSING), "NAN", "-NAN", " NA", "inf ", " 1e5 ", "1.#INF"]),
    st.text(st.characters(exclude_characters='\n\r"\x00', exclude_categories=["Cs"]),
            max_size=6),
)


def pandas_reading(cell: str) -> float | str | None:
    """How pandas.read_csv reads ``cell`` in a column of its own: a float, text, or None
    (missing); a boolean (``TRUE``) is not a number, so it counts as text."""
    pd = pytest.importorskip("pandas")
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["x", "y"], [cell, "1"]])
    value = pd.read_csv(io.StringIO(buffer.getvalue()))["x"].iloc[0]
    if isinstance(value, (str, bool, np.bool_)):
        return cell
    value = float(value)
    return None if math.isnan(value) else value


@settings(max_examples=400, deadline=None)
@given(cell=CELL_TEXT)
def test_the_reader_reads_a_cell_as_pandas_does(cell: str) -> None:
    """Property: a cell pandas reads as a float is that float here; one it reads as text is
    text here; one it reads as missing is missing here. Documented differences: spaces
    around a cell never matter here (pandas keeps them around words: ' NA', 'inf '), and NaN
    in any case (``NAN``) is missing here (text to pandas)."""
    bare = cell.strip(SPACE)
    theirs = pandas_reading(bare)
    ours = parse_cell(cell)
    if bare.lstrip("+-").lower() == "nan":
        assert ours is None
    elif theirs is None or isinstance(theirs, str):
        assert ours == theirs
    else:
        assert isinstance(ours, float)
        assert ours == theirs or abs(ours - theirs) <= math.ulp(theirs)  # pandas' own rounding


# --- reading errors locate the bytes in the file -------------------------------------------


def test_a_bad_byte_is_located_from_the_start_of_the_file(tmp_path: Path) -> None:
    """Not from the chunk the decoder was reading (a file larger than one read)."""
    head = "a,b,label\n" + "1,2,cat\n" * 6000
    path = tmp_path / "latin1.csv"
    path.write_bytes(codecs.BOM_UTF8 + (head + "1,2,caf\xe9\n").encode("latin-1"))
    offset = 3 + len(head) + len("1,2,caf")
    with pytest.raises(DataFileError, match=rf"is not UTF-8 text: byte {offset} of the file "
                       r"\(line 6002\) is 0xe9\. help: it may be Latin-1"):
        load_csv(path, target="label")
    path.write_bytes("a,b,label\r1,2,cat\r".encode("utf-16"))
    with pytest.raises(DataFileError, match=r"byte 0 of the file \(line 1\).*UTF-16 text"):
        load_csv(path, target="label")


def test_a_folder_is_not_a_data_file(tmp_path: Path) -> None:
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(DataFileError, match=r"data\.csv: is a folder, not a data file"):
        load_csv(folder, target="label")
    with pytest.raises(DataFileError, match="is a folder"):
        dr.data.load_csv_features(folder)
    (tmp_path / "data.npz").mkdir()
    with pytest.raises(DataFileError, match=r"data\.npz: is a folder"):
        load_npz(tmp_path / "data.npz")
    with pytest.raises(FileNotFoundError, match=r"^no file .*missing\.csv\.$"):
        load_csv(tmp_path / "missing.csv", target="label")


@pytest.mark.parametrize("cell", ["1e300", "-2e150", "1e150"])
def test_numbers_whose_squares_overflow_are_refused(tmp_path: Path, cell: str) -> None:
    """A variance or a squared error of such values is inf: refused with a hint, never a
    run whose standardizer or errors are inf or NaN."""
    path = write(tmp_path, csv_of([f"{cell},1,0", *GOOD_ROWS]))
    with pytest.raises(DataFileError, match=r"row 1 \(line 2\), column 'a': the value must be "
                       r"smaller than 1e\+150 in magnitude .*received -?[12]e\+(300|150)\. "
                       r"help: rescale"):
        load_csv(path, target="label")
    path = write(tmp_path, csv_of([*(f"{i},{i},{i}.5" for i in range(5)), f"1,2,{cell}"]))
    with pytest.raises(DataFileError, match=r"row 6 .*column 'label': the target must be "
                       "smaller than 1e\\+150"):
        load_csv(path, target="label")
    X = np.ones((6, 2))
    X[3, 1] = float(cell)
    np.savez(tmp_path / "huge.npz", X=X, y=np.arange(6) % 2)
    with pytest.raises(DataFileError, match=r"X\[3, 1\] must be smaller than 1e\+150"):
        load_npz(tmp_path / "huge.npz")
    # features are held as float32 (issue 15): beyond its range they are refused too
    with pytest.raises(DataFileError, match=r"row 1 \(line 2\), column 'a': the value must be "
                       r"at most 3\.403e\+38 in magnitude \(features are held as float32\)"):
        load_csv(write(tmp_path, csv_of(["1e149,1,0", *GOOD_ROWS])), "label")
    assert load_csv(write(tmp_path, csv_of(["3e38,1,0", *GOOD_ROWS])), "label").X[0, 0] == \
        np.float32(3e38)


def test_a_value_longer_than_the_csv_limit_names_the_line_it_starts_on(tmp_path: Path) -> None:
    path = write(tmp_path, csv_of(["1,2,0", '3,4,"x', *(["5,6,1"] * 30_000)]))
    with pytest.raises(DataFileError, match=r"a value of the row starting on line 3 is longer "
                       r"than 131,072 characters\. help: is a quote left open\?"):
        load_csv(path, target="label")


def test_a_pipe_is_refused_not_read(tmp_path: Path) -> None:
    """Reading a named pipe waits for a writer forever (predict --data pipe.csv hung); a
    device such as /dev/zero never ends."""
    for name in ("pipe.csv", "pipe.npz"):
        os.mkfifo(tmp_path / name)
    with pytest.raises(DataFileError, match=r"pipe\.csv: is not a regular file"):
        load_csv(tmp_path / "pipe.csv", "y")
    with pytest.raises(DataFileError, match=r"pipe\.csv: is not a regular file"):
        load_csv_features(tmp_path / "pipe.csv")
    with pytest.raises(DataFileError, match=r"pipe\.npz: is not a regular file"):
        load_npz(tmp_path / "pipe.npz")


@pytest.mark.parametrize(("separator", "shown"), [(";", "';'"), ("\t", "a tab")])
def test_a_file_separated_otherwise_is_told_so(tmp_path: Path, separator: str,
                                              shown: str) -> None:
    """A semicolon-separated file (a spreadsheet's, where the decimal mark is a comma) was
    'has no target column', listing one column named 'a;b;label' with no hint."""
    path = write(tmp_path, FLOWERS.replace(",", separator), "flowers.csv")
    hint = f"help: its header reads as one column; it looks separated by {shown}"
    with pytest.raises(DataFileError, match=hint):
        load_csv(path, "species")
    with pytest.raises(DataFileError, match=hint):
        load_csv_features(path, ["petal_length"])
    with pytest.raises(DataFileError) as caught:
        load_csv(write(tmp_path, FLOWERS, "comma.csv"), "nosuch")
    assert "help" not in str(caught.value)


def test_a_data_file_error_names_option_keys_and_the_command_line_spells_flags(
        tmp_path: Path) -> None:
    rows = [f"{i},{i},{label}" for i, label in enumerate(["cat", "3", "dog", "cat", "dog"])]
    path = write(tmp_path, csv_of(rows))
    with pytest.raises(DataFileError) as caught:
        load_csv(path, target="label")
    text = str(caught.value)
    assert "`drop_missing_target`" in text and "`task`" in text and "--" not in text
    spelled = message(caught.value)
    assert "--drop-missing-target" in spelled and "set --task to classification" in spelled
