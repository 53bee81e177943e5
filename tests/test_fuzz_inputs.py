"""Fuzzing ``deeprecipe run`` with careless and hostile inputs: CSV files and ``run.toml``.

Every generated input must end in one of two ways: exit 0 with a correct result (the rows,
classes and option values the input means), or exit 2 with one line on stderr that names
the input. Never a traceback, never exit 0 with a degraded result (a class made of a missing
value, a text cell read as a number, an option silently changed).

Each input is generated with its meaning (a number, text, a missing value; a valid or an
invalid option value), so the test knows which of the two endings is right.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from deeprecipe import cli
from deeprecipe.data import load_csv

# tiny settings: one epoch, no gradient check, a small network
TINY = ["--epochs", "1", "--gradcheck", "off", "--checkpoint-every", "0", "--name", "fuzz",
        "--overwrite"]
# no shrinking: each example runs the command (about 2 s), shrinking one would take minutes
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                phases=[Phase.explicit, Phase.reuse, Phase.generate])


@dataclass(frozen=True)
class Cell:
    """A cell's text and what it means: ``number`` (with ``value``), ``text`` or
    ``missing``."""

    text: str
    kind: str
    value: float = math.nan


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``deeprecipe <argv>`` in this process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_naming(err: str, *names: str) -> None:
    """Exit 2's stderr: one line, no traceback, naming one of ``names``."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:") or ": error:" in lines[0], err
    assert any(name in lines[0] for name in names), (names, err)


# --- CSV files ---------------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(-10**9, 10**9).map(lambda i: Cell(repr(i / 1000), "number", i / 1000)),
    # extremes a float32 network must measure in float64 (test_an_outlier_…_is_measured)
    st.sampled_from([Cell("7e15", "number", 7e15), Cell("-3.5e17", "number", -3.5e17),
                     Cell("2e-20", "number", 2e-20), Cell("1e12", "number", 1e12)]),
    st.integers(-1000, 1000).map(lambda i: Cell(str(i), "number", float(i))),
    st.sampled_from([Cell(" 1.5", "number", 1.5), Cell("+.5", "number", 0.5),
                     Cell("5.", "number", 5.0), Cell("1E+02", "number", 100.0),
                     Cell("-0", "number", 0.0), Cell('"2.5"', "number", 2.5),
                     Cell("-1e-300", "number", -1e-300), Cell("1e9", "number", 1e9)]),
)
ODD_CELLS = st.sampled_from([
    Cell("1_000", "text"), Cell("١٢", "text"), Cell("１", "text"), Cell("0x10", "text"),
    Cell("abc", "text"), Cell('"1,5"', "text"), Cell("1e400", "unusable"),
    Cell("-inf", "unusable"), Cell("1e300", "unusable"), Cell("-2e150", "unusable"),
    Cell("", "missing"), Cell("NA", "missing"), Cell("nan", "missing"), Cell("null", "missing"),
    Cell(" ", "missing"), Cell("N/A", "missing"), Cell("None", "missing"),
])  # inf and numbers whose square overflows are numbers, but never a usable value
MISSING = st.sampled_from(["", "NA", "nan", "NaN", "null", "NULL", "None", "N/A", " ", "#N/A"])
TEXT_LABELS = st.sampled_from(["cat", "dog", "café"])
CLASS_NUMBERS = st.sampled_from(["0", "1", "2"])


@dataclass(frozen=True)
class CsvCase:
    """A generated CSV file and what it means."""

    header: list[str]
    rows: list[list[Cell]]  # the target is the last cell
    ragged: bool
    encoding: str
    newline: str
    drop: bool

    def content(self) -> bytes:
        lines = [",".join(self.header)]
        lines += [",".join(cell.text for cell in row) for row in self.rows]
        if self.ragged:
            lines[-1] += ",9"
        text = self.newline.join(lines) + self.newline
        if self.encoding == "latin-1":  # what Latin-1 cannot hold becomes '?' (still text)
            return text.encode("latin-1", errors="replace")
        return text.encode("utf-8-sig" if self.encoding == "bom" else self.encoding)

    def problem(self) -> str | None:
        """Why the file must be refused (exit 2), or None if it must load."""
        text = "".join([*self.header, *(c.text for row in self.rows for c in row)])
        if self.encoding == "utf-16" or (self.encoding == "latin-1" and "é" in text):
            return "not UTF-8"
        if len(set(self.header)) != len(self.header) or self.ragged:
            return "structure"
        rows = [row for row in self.present() if row[-1].kind != "missing" or not self.drop]
        if any(row[-1].kind == "missing" for row in rows):
            return "missing target"
        if len(rows) < 5:
            return "too few rows"
        for j in range(len(self.header) - 1):  # missing features are read (NaN), text too
            if self.is_text(j):
                continue  # a text column: its cells are categories
            if any(row[j].kind in ("text", "unusable") for row in rows):
                return "a feature that is not a finite number in a column of numbers"
        kinds = {row[-1].kind for row in rows}
        targets = {self.label(row[-1]) for row in rows}
        if "unusable" in kinds or kinds == {"number", "text"} or len(targets) < 2:
            return "mixed, single-class or unusable target"
        return None

    @staticmethod
    def label(cell: Cell) -> float | str:
        return cell.value if cell.kind == "number" else cell.text.strip()

    def present(self) -> list[list[Cell]]:
        """The rows the readers read: a row of empty cells is skipped."""
        return [row for row in self.rows if any(cell.text.strip() for cell in row)]

    def kept(self) -> list[list[Cell]]:
        return [row for row in self.present() if row[-1].kind != "missing"]

    def is_text(self, j: int) -> bool:
        """Whether feature column ``j`` is text: at least half its filled cells (of the rows
        kept) are text."""
        cells = [row[j] for row in self.kept() if row[j].kind != "missing"]
        text = sum(cell.kind == "text" for cell in cells)
        return bool(text) and 2 * text >= len(cells)


@st.composite
def csv_cases(draw: st.DrawFn) -> CsvCase:
    """A clean table, then up to two kinds of damage (about 4 files in 10 stay usable)."""
    n_features = draw(st.integers(1, 3))
    header = [f"f{j}" for j in range(n_features)] + ["y"]
    n_rows = draw(st.integers(4, 24))
    labels = draw(st.sampled_from([TEXT_LABELS, CLASS_NUMBERS, NUMBERS]))

    def label() -> Cell:
        cell = draw(labels)
        if isinstance(cell, str):  # a label: text, or a small whole number (a class)
            return Cell(cell, "number", float(cell)) if cell.isdigit() else Cell(cell, "text")
        return cell

    rows = [[draw(NUMBERS) for _ in range(n_features)] + [label()] for _ in range(n_rows)]
    damages = draw(st.lists(st.sampled_from(["feature", "target", "missing", "missing",
                                             "header", "ragged"]), max_size=2))
    for damage in damages:
        row = rows[draw(st.integers(0, n_rows - 1))]
        if damage == "feature":
            row[draw(st.integers(0, n_features - 1))] = draw(ODD_CELLS)
        elif damage == "target":
            row[-1] = draw(ODD_CELLS)
        elif damage == "missing":
            row[-1] = Cell(draw(MISSING), "missing")
        elif damage == "header":
            header[draw(st.integers(1, n_features))] = header[0]
    encoding = draw(st.sampled_from(["utf-8"] * 4 + ["bom", "latin-1", "utf-16"]))
    return CsvCase(header, rows, ragged="ragged" in damages, encoding=encoding,
                   newline=draw(st.sampled_from(["\n", "\r\n"])), drop=draw(st.booleans()))


@pytest.mark.slow
@FUZZ
@given(case=csv_cases())
def test_run_on_a_fuzzed_csv_is_correct_or_a_one_line_error(case: CsvCase) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(case.content())
        argv = ["run", "--data", str(path), "--target", "y", "--hidden", "2",
                "--output-dir", str(Path(folder) / "runs"), *TINY]
        code, _, err = run_cli(argv + (["--drop-missing-target"] if case.drop else []))
        problem = case.problem()
        if problem is not None:
            assert code == cli.EXIT_USAGE, (problem, err)
            assert_one_line_naming(err, str(path))
            return
        assert code == cli.EXIT_OK, err
        summary = json.loads((Path(folder) / "runs" / "fuzz" / "summary.json").read_text())
        data = load_csv(path, target="y", drop_missing_target=case.drop)
    kept = case.kept()
    assert summary["data"]["n_samples"] == len(kept)
    assert summary["data"]["dropped_missing_target"] == len(case.present()) - len(kept)
    # features are held as float32 (issue 15): each number rounded to it once, missing NaN
    expected = np.array([[cell.value for cell in row[:-1]] for row in kept], np.float32)
    numbers = [j for j in range(expected.shape[1]) if not case.is_text(j)]
    np.testing.assert_array_equal(data.X[:, numbers], expected[:, numbers])
    assert sorted(data.categories) == [j for j in range(expected.shape[1]) if case.is_text(j)]
    assert data.missing == {j: count for j in range(expected.shape[1]) if (count := sum(
        row[j].kind == "missing" for row in kept))}
    labels = {case.label(row[-1]) for row in kept}
    if data.classes is None:
        np.testing.assert_array_equal(data.y, [row[-1].value for row in kept])
    else:  # every class is a label of the file, never a missing value
        assert set(data.classes) == labels
        assert summary["data"]["classes"] == data.classes


# --- run.toml ---------------------------------------------------------------------------------

VALID: dict[str, list[Any]] = {
    "hidden": [[2], 3, [3, 2]],
    "epochs": [1, 5, 300],
    "learning_rate": [0.01, 1e-4, "0.001"],
    "keep_prob": [1.0, 0.9],
    "l2": [0, 0.5],
    "optimizer": ["adam", "sgd", "momentum"],
    "activation": ["relu", "tanh"],
    "batch_size": [8, 64],
    "patience": [1, 20],
    "bayes_error": [0.0, "1%", 0.05, "auto"],
    "task": ["auto", "classification"],
    "drop_missing_target": [True, False],
    "seed": [0, 7],
    "gradcheck": ["off", "auto"],
}
INVALID: dict[str, list[Any]] = {
    "hidden": [[0], [], "wide", [1.5], -1, True],
    "epochs": [0, -1, 1.5, "many", True],
    "learning_rate": [0, -1, "fast", math.inf, math.nan],
    "keep_prob": [0, 1.5, [0.5, 0.5, 0.5], "x"],
    "l2": [-1, "big", math.nan],
    "optimizer": ["adamw", 3],
    "batch_size": [0, 2.5, "all"],
    "bayes_error": [2, "150%", -0.1, "automatic", True],
    "task": ["ranking", 1],
    "drop_missing_target": ["maybe", 2],
    "seed": [-1, 1.5],
    "patience": [0],
    "gradcheck": ["always"],
    "epoch": [3],  # unknown keys
    "lr": [0.1],
    "hidden_layers": [[2]],
}
BROKEN_TOML = [b"epochs = = 3\n", b"hidden = [1,\n", b"\x00\x01\x02binary\xff\xfe",
               b"epochs = 1 # caf\xe9\n", b"[model]\nunits = 3\n", b'data = "a\n',
               b"epochs = 1\nepochs = 2\n"]
TINY_CSV = "a,b,y\n" + "".join(f"{i % 5},{i * 0.25},{'pq'[i % 2]}\n" for i in range(30))


def toml_value(value: Any) -> str:
    """``value`` as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return repr(value)


@st.composite
def toml_cases(draw: st.DrawFn) -> tuple[bytes, dict[str, Any] | None]:
    """A run.toml's bytes and its options (None when the file is invalid)."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from(BROKEN_TOML)), None
    keys = draw(st.lists(st.sampled_from(sorted({*VALID, *INVALID})), max_size=4,
                         unique=True))
    options: dict[str, Any] = {}
    valid = True
    for key in keys:
        good = key in VALID and (key not in INVALID or draw(st.integers(0, 2)) > 0)
        options[key] = draw(st.sampled_from(VALID[key] if good else INVALID[key]))
        valid = valid and good
    text = 'data = "tiny.csv"\ntarget = "y"\n' + "".join(
        f"{key} = {toml_value(value)}\n" for key, value in options.items())
    return text.encode(), options if valid else None


@pytest.mark.slow
@FUZZ
@given(case=toml_cases())
def test_run_with_a_fuzzed_run_toml_is_correct_or_a_one_line_error(
    case: tuple[bytes, dict[str, Any] | None]
) -> None:
    content, options = case
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "tiny.csv").write_text(TINY_CSV)
        config = Path(folder) / "run.toml"
        config.write_bytes(content)
        code, _, err = run_cli(["run", "--config", str(config), "--output-dir",
                                str(Path(folder) / "runs"), *TINY])
        if options is None:
            assert code == cli.EXIT_USAGE, err
            assert_one_line_naming(err, str(config))
            return
        assert code == cli.EXIT_OK, err
        summary = json.loads((Path(folder) / "runs" / "fuzz" / "summary.json").read_text())
    for key, value in options.items():  # every option means what the file says
        if key in ("epochs", "gradcheck"):
            continue  # the command line's TINY overrides them
        recorded = summary["config"][key]
        if key == "hidden":
            assert recorded == (value if isinstance(value, list) else [value])
        elif key == "keep_prob":
            assert recorded == [value] * len(summary["config"]["hidden"])
        elif key in ("learning_rate", "bayes_error") and value != "auto":
            expected = float(value.rstrip("%")) / (100 if value.endswith("%") else 1) \
                if isinstance(value, str) else value
            assert recorded == pytest.approx(expected)
        else:
            assert recorded == value


OUTLIERS = [("2.5", "-0", "-1000"), ("5.", "7e15", "5."), ("-0.179", "2.5", "-251"),
            ("6.894", "-59", "7e15"), ("485", "149", "1E+02"), ("-512.655", "-454", "-217"),
            ("-529", "40", "7.475"), ("-243", "-707", "1.332"), ("7e15", "-7.388", "-146")]


def test_an_outlier_beyond_float32_is_measured(tmp_path: Path) -> None:
    """Found by the fuzz: 7e15 in a feature of a test row and in the training targets made
    the float32 prediction's squared error inf, and the diagnosis refused it naming no
    input; errors are measured in float64 now."""
    path = tmp_path / "outliers.csv"
    path.write_text("f0,f1,y\n" + "".join(",".join(row) + "\n" for row in OUTLIERS))
    code, _, err = run_cli(["run", "--data", str(path), "--target", "y", "--hidden", "2",
                            "--seed", "0", "--output-dir", str(tmp_path / "runs"), *TINY])
    assert code == cli.EXIT_OK, err
