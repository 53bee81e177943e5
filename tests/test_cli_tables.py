"""``deeprecipe run``, ``tune`` and ``predict`` on tables as they come (issue 17): a CSV or
Parquet file with text columns and blanks trains, says what it imputed, and its saved model
predicts on raw rows with the run's own answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deeprecipe import cli, runconfig

TINY = ["--hidden", "8", "--epochs", "5", "--patience", "3", "--gradcheck", "off",
        "--bayes-error", "0"]


def messy_rows(n: int = 300, seed: int = 0) -> list[dict[str, object]]:
    """age (numbers, 5% blank), color (text), city (text, 25% blank), label: red or old."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        age = int(rng.integers(18, 80))
        color = str(rng.choice(["red", "blue", "green"]))
        city = str(rng.choice(["Paris", "Lyon", "Nice", ""]))
        label = "yes" if (color == "red") != (age > 50) else "no"
        rows.append({"age": "" if rng.random() < 0.05 else age, "color": color,
                     "city": city, "label": label})
    return rows


def write_csv(path: Path, rows: list[dict[str, object]], columns: list[str]) -> Path:
    path.write_text(",".join(columns) + "\n" + "".join(
        ",".join(str(row[column]) for column in columns) + "\n" for row in rows))
    return path


def predictions(capsys: pytest.CaptureFixture[str], *argv: str) -> list[list[str]]:
    capsys.readouterr()
    assert cli.main(["predict", *argv]) == cli.EXIT_OK
    return [line.split(",") for line in capsys.readouterr().out.splitlines()]


def test_run_encodes_a_messy_csv_and_predict_reads_raw_rows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = messy_rows()
    data = write_csv(tmp_path / "people.csv", rows, ["age", "color", "city", "label"])
    assert cli.main(["run", "--data", str(data), "--target", "label", "--output-dir",
                     str(tmp_path), "--name", "r", *TINY]) == cli.EXIT_OK
    out = capsys.readouterr().out
    blanks = sum(row["age"] == "" for row in rows)
    cities = sum(row["city"] == "" for row in rows)
    folder = tmp_path / "r"
    summary = json.loads((folder / "summary.json").read_text())
    imputed = [note for note in summary["notes"] if note["code"] == "imputed"]
    assert [(note["values"]["column"], note["values"]["count"]) for note in imputed] == [
        ("age", blanks), ("city", cities)]
    assert imputed[1]["values"]["value"] == "(missing)"
    assert all(f"note: {note['text']}" in out for note in imputed)  # in the run's output
    encoding = {column["column"]: column for column in summary["data"]["encoding"]}
    assert encoding["age"]["missing"] == blanks and encoding["age"]["kind"] == "number"
    assert encoding["city"] | {"filled_with": None} == {
        "column": "city", "kind": "text", "missing": cities, "filled_with": None,
        "unseen": 0, "inputs": 4}
    assert encoding["color"]["inputs"] == 3
    page = (folder / "report.html").read_text()
    assert "Columns encoded and missing values imputed" in page and "(missing)" in page
    config = json.loads((folder / "model" / "config.json").read_text())
    assert config["model"]["input_dim"] == 1 + 3 + 4

    # the same answers: predict's error on the raw file is the run's errors, part by part
    scored = predictions(capsys, str(folder / "model"), "--data", str(data), "--target",
                         "label")
    labels = [row["label"] for row in rows]
    wrong = sum(line[0] != label for line, label in zip(scored[1:], labels, strict=True))
    sizes, errors = summary["data"]["split_sizes"], summary["errors"]
    assert wrong == round(sum(errors[part] * sizes[part] for part in sizes))

    # raw rows without the label: blanks, an unseen color, columns in another order
    raw = write_csv(tmp_path / "new.csv", [
        {"city": "Paris", "color": "red", "age": 30},
        {"city": "", "color": "purple", "age": ""},
        {"city": "Rome", "color": "blue", "age": 70}], ["city", "color", "age"])
    lines = predictions(capsys, str(folder / "model"), "--data", str(raw))
    assert lines[0] == ["label", "p_no", "p_yes"] and len(lines) == 4


def test_missing_error_refuses_and_names_the_columns(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(tmp_path / "people.csv", messy_rows(), ["age", "color", "city", "label"])
    assert cli.main(["run", "--data", str(data), "--target", "label", "--output-dir",
                     str(tmp_path), "--missing", "error", *TINY]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "feature values are missing (by column: 'age': " in err and "'city': " in err
    assert "--missing impute" in err  # the help spells the flag
    assert not list(tmp_path.glob("people-*"))  # no run folder left behind
    with pytest.raises(runconfig.ConfigError, match="missing must be one of"):
        runconfig.RunConfig.from_dict({"missing": "drop"})
    assert runconfig.RunConfig.from_dict({"missing": "error"}).missing == "error"


def test_a_messy_parquet_file_runs_and_predicts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = messy_rows(200, seed=1)
    table = pa.table({
        "age": pa.array([None if row["age"] == "" else float(row["age"]) for row in rows]),
        "color": pa.array([row["color"] for row in rows]).dictionary_encode(),
        "city": pa.array([row["city"] or None for row in rows]),
        "label": [row["label"] for row in rows]})
    pq.write_table(table, tmp_path / "people.parquet")
    assert cli.main(["run", "--data", str(tmp_path / "people.parquet"), "--target", "label",
                     "--output-dir", str(tmp_path), "--name", "p", *TINY]) == cli.EXIT_OK
    lines = predictions(capsys, str(tmp_path / "p" / "model"), "--data",
                        str(tmp_path / "people.parquet"))
    assert len(lines) == 201 and {line[0] for line in lines[1:]} <= {"yes", "no"}


def test_tune_takes_a_messy_table_and_saves_its_encoder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(tmp_path / "people.csv", messy_rows(), ["age", "color", "city", "label"])
    assert cli.main(["tune", "--data", str(data), "--target", "label", "--budget", "1",
                     "--workers", "1", "--output-dir", str(tmp_path), "--name", "t",
                     "--bayes-error", "0"]) == cli.EXIT_OK
    assert "note: imputed" in capsys.readouterr().out
    config = json.loads((tmp_path / "t" / "model" / "config.json").read_text())
    assert [column["kind"] for column in config["encoder"]["columns"]] == [
        "number", "text", "text"]
    lines = predictions(capsys, str(tmp_path / "t" / "model"), "--data", str(data))
    assert len(lines) == 301
