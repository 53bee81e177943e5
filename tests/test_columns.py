"""Tables as they come (issue 17): text feature columns and missing feature values are read,
by the fast readers and the careful one alike (deeprecipe.data.columns)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deeprecipe.data import DataFileError, csvtext, load_csv, load_parquet
from deeprecipe.data import columns as columnsmod
from deeprecipe.data.columns import CellProblem, read_feature
from deeprecipe.data.io import (
    load_csv_features,
    load_csv_table,
    load_parquet_features,
    load_parquet_table,
)

MESSY = """age,color,size,label
30,red,S,yes
,blue,M,no
41,red,,yes
29, green ,L,no
NA,blue,3,yes
35,red,M,no
"""


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_csv_with_text_and_blanks_reads_categories_and_nan(tmp_path: Path) -> None:
    data = load_csv(write(tmp_path, MESSY), "label")
    # color: text, its categories sorted; size: mostly text, so '3' is a category too
    assert data.categories == {1: ["blue", "green", "red"], 2: ["3", "L", "M", "S"]}
    assert data.missing == {0: 2, 2: 1}  # age: '' and NA; size: ''
    expected = [[30, 2, 3], [np.nan, 0, 2], [41, 2, np.nan], [29, 1, 1], [np.nan, 0, 0],
                [35, 2, 2]]
    np.testing.assert_array_equal(data.X, np.array(expected, np.float32))
    assert data.X.dtype == np.float32 and data.X.flags.c_contiguous
    assert data.classes == ["no", "yes"]


def test_the_careful_reader_reads_the_same_table(tmp_path: Path) -> None:
    # a row of empty cells sends the file to the careful reader, which skips it
    path = write(tmp_path, MESSY + ",,,\n")
    careful = load_csv(path, "label")
    fast = load_csv(write(tmp_path, MESSY, "fast.csv"), "label")
    np.testing.assert_array_equal(careful.X, fast.X)
    assert (careful.categories, careful.missing) == (fast.categories, fast.missing)
    read = csvtext.read_labelled(path, "label", ",", "auto", 1, 2, False)
    np.testing.assert_array_equal(read[0], fast.X)
    assert read[5:] == (fast.categories, fast.missing)


def test_a_numeric_csv_keeps_the_fast_path(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The numbers-only reader reads a clean table; the table reader is never called."""
    from deeprecipe.data import arrowread

    def refuse(*_: object) -> None:
        raise AssertionError("the table reader read a numeric file")

    monkeypatch.setattr(arrowread, "read_csv_cells", refuse)
    data = load_csv(write(tmp_path, "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,10,0\n"), "label")
    assert data.categories == {} and data.missing == {}


def test_a_column_of_numbers_with_some_text_is_refused_at_its_first_text_cell(
        tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,label\n1,2,0\n3,?,1\n5,6,0\n7,8,1\n9,10,0\n")
    with pytest.raises(DataFileError, match=r"row 2 \(line 3\), column 'b': the value must be "
                       r"a finite number; received '\?' \(the column holds 4 numbers and 1 "
                       r"text cells.*help: write a missing value as an empty cell or NA\.$"):
        load_csv(path, "label")


def test_a_text_column_with_too_many_categories_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnsmod, "MAX_CATEGORIES", 3)
    rows = "".join(f"id{i},{i},{i % 2}\n" for i in range(6))
    with pytest.raises(DataFileError, match=r"column 'name': the column holds 6 distinct texts; "
                       r"a text column is one-hot encoded .* at most 3 categories"):
        load_csv(write(tmp_path, "name,x,label\n" + rows + ",,\n"), "label")  # careful reader
    with pytest.raises(CellProblem, match="holds 6 distinct texts"):
        read_feature(pa.array([f"id{i}" for i in range(6)]), True)


@pytest.mark.parametrize(("cells", "values", "categories"), [
    (["1", " 2.5", "", "NA"], [1, 2.5, np.nan, np.nan], None),
    (["a", "3", "b", "a"], [1, 0, 2, 1], ["3", "a", "b"]),  # half text: text
    (["", "null", "nan"], [np.nan] * 3, None),  # nothing filled: a number column, all missing
])
def test_read_feature_decides_by_the_cells(cells: list[str], values: list[float],
                                           categories: list[str] | None) -> None:
    column = read_feature(pa.array(cells), True)
    np.testing.assert_array_equal(column.values, values)
    assert column.categories == categories
    assert column.missing == int(np.isnan(values).sum())


def test_kinds_keep_a_models_text_column_text(tmp_path: Path) -> None:
    path = write(tmp_path, "size,age\n3,1\n4,\n")
    table = load_csv_table(path, ["age", "size"], kinds={"size": "text"})
    assert table.names == ["age", "size"] and table.categories == {1: ["3", "4"]}
    np.testing.assert_array_equal(table.X, [[1, 0], [np.nan, 1]])
    assert table.missing == {0: 1}
    with pytest.raises(DataFileError, match=r"row 1 \(line 2\), column 'c': the value must be "
                       r"a finite number \(the model was trained on numbers in this column\); "
                       r"received 'x'"):
        load_csv_table(write(tmp_path, "c\nx\n", "t.csv"), kinds={"c": "number"})
    with pytest.raises(ValueError, match=r"kinds\['c'\] must be one of"):
        load_csv_table(path, kinds={"c": "words"})
    # without an encoder, features to predict on must be numbers, none missing
    with pytest.raises(DataFileError, match=r"column 'age': the value is empty"):
        load_csv_features(path, ["age"])


def test_parquet_reads_text_columns_and_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    pq.write_table(pa.table({
        "age": pa.array([30, None, 41.0, 29, float("nan"), 35]),
        "color": pa.array(["red", "blue", None, "green", "NA", "red"]).dictionary_encode(),
        "n": pa.array([1, None, 3, 4, 5, 6], pa.int64()),
        "label": ["y", "n", None, "n", "y", "n"]}), path)
    data = load_parquet(path, "label", drop_missing_target=True)  # row 3 dropped
    assert data.categories == {1: ["blue", "green", "red"]}
    assert data.missing == {0: 2, 1: 1, 2: 1}  # counted on the rows kept
    np.testing.assert_array_equal(data.X, [[30, 2, 1], [np.nan, 0, np.nan], [29, 1, 4],
                                           [np.nan, np.nan, 5], [35, 2, 6]])
    table = load_parquet_table(path, ["color", "age"], kinds={"color": "text"})
    assert table.categories == {0: ["blue", "green", "red"]} and table.missing == {0: 2, 1: 2}
    with pytest.raises(DataFileError, match=r"column 'age': the column must hold texts"):
        load_parquet_table(path, ["age"], kinds={"age": "text"})
    with pytest.raises(DataFileError, match=r"row 2, column 'age': the value is missing"):
        load_parquet_features(path, ["age"])  # without an encoder: none missing


def test_a_quoted_line_break_in_a_messy_table_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, MESSY + '33,"re\nd",S,no\n')
    with pytest.raises(DataFileError, match=r"a quoted value runs from line 8 to line 9"):
        load_csv(path, "label")
