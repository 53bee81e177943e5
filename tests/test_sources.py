"""Two sources (``--dev-test-data``, issue 17 point 4): the join (:mod:`deeprecipe.data.sources`),
the split with a train-dev part (``split_sources``), the three gaps of the diagnosis, and
``deeprecipe run`` / ``tune`` end to end: a shifted second source is named data mismatch, not
variance; a second source of the same distribution is named no mismatch."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import cli, runconfig, workflow
from deeprecipe.data import split_sources
from deeprecipe.data.sources import join
from deeprecipe.diagnostics.bias_variance import MISMATCH_VERDICTS


def write_csv(path: Path, X: np.ndarray, y: np.ndarray) -> Path:
    header = ",".join(f"x{i}" for i in range(X.shape[1])) + ",y"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header, comments="",
               fmt=["%.5f"] * X.shape[1] + ["%d"])
    return path


def source(m: int, seed: int, shifted: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Five features; the label is x0 + x1 > 0, or for the shifted source inputs moved by
    0.8 and the label x0 − x1 > 0 (the same task, other data: the notes' mismatch)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 5))
    if shifted:
        X += 0.8
        return X, (X[:, 0] - X[:, 1] > 0).astype(int)
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """a.csv (3,000 rows, the training source), shifted.csv and same.csv (1,500 rows each)."""
    folder = tmp_path_factory.mktemp("sources")
    return {"a": write_csv(folder / "a.csv", *source(3000, 0)),
            "shifted": write_csv(folder / "shifted.csv", *source(1500, 1, shifted=True)),
            "same": write_csv(folder / "same.csv", *source(1500, 2))}


# --- the join ----------------------------------------------------------------------------------


@dataclass
class Loaded:
    X: np.ndarray
    y: np.ndarray
    classes: list[Any] | None
    feature_names: list[str] | None = None
    categories: dict[int, list[str]] = field(default_factory=dict)


def test_classes_are_merged_by_label() -> None:
    first = Loaded(np.zeros((3, 2)), np.array([0, 1, 0]), ["cat", "dog"])
    second = Loaded(np.ones((3, 2)), np.array([0, 1, 1]), ["bird", "cat"])  # no dog, a bird
    joined = join(first, second)
    assert joined.classes == ["bird", "cat", "dog"]  # sorted, as the loaders sort labels
    labels = [joined.classes[code] for code in joined.y]
    assert labels == ["cat", "dog", "cat", "bird", "cat", "cat"]
    assert joined.X.shape == (6, 2) and (joined.X[3:] == 1).all()


def test_number_labels_of_either_type_are_one_class() -> None:
    first = Loaded(np.zeros((2, 1)), np.array([0, 1]), [0, 1])
    second = Loaded(np.zeros((2, 1)), np.array([0, 1]), [np.float64(1.0), np.int64(2)])
    joined = join(first, second)
    assert joined.classes == [0, 1, 2] and joined.y.tolist() == [0, 1, 1, 2]


def test_categories_are_merged_by_text() -> None:
    nan = np.nan
    first = Loaded(np.array([[0.0, 5.0], [1.0, 6.0]]), np.array([0, 1]), [0, 1],
                   categories={0: ["red", "blue"]})
    second = Loaded(np.array([[0.0, 7.0], [1.0, 8.0], [nan, 9.0]]), np.array([0, 1, 0]),
                    [0, 1], categories={0: ["green", "red"]})
    joined = join(first, second)
    assert joined.categories == {0: ["red", "blue", "green"]}
    texts = [None if np.isnan(v) else joined.categories[0][int(v)] for v in joined.X[:, 0]]
    assert texts == ["red", "blue", "green", "red", None]  # a missing cell stays missing
    assert joined.X[:, 1].tolist() == [5, 6, 7, 8, 9]


def test_a_regression_target_is_joined_as_values() -> None:
    first = Loaded(np.zeros((2, 1)), np.array([0.5, 1.5]), None)
    joined = join(first, Loaded(np.zeros((1, 1)), np.array([2.5]), None))
    assert joined.classes is None and joined.y.tolist() == [0.5, 1.5, 2.5]


@pytest.mark.parametrize(("second", "message"), [
    (Loaded(np.zeros((2, 3)), np.array([0, 1]), [0, 1]), r"received 3 features beside 2"),
    (Loaded(np.zeros((2, 2)), np.array([0, 1]), [0, 1], ["a", "c"]),
     r"in the same order; received column 2 'c' where a.csv has 'b'"),
    (Loaded(np.zeros((2, 2)), np.array([0, 1]), [0, 1], categories={1: ["x"]}),
     r"text in column\(s\) \[2\]"),
    (Loaded(np.zeros((2, 2)), np.array([0.5, 1.5]), None),
     r"the kind of target a.csv has \(class labels\); received a regression target"),
])
def test_features_and_targets_that_do_not_match_are_refused(second: Loaded, message: str
                                                            ) -> None:
    first = Loaded(np.zeros((2, 2)), np.array([0, 1]), [0, 1], ["a", "b"])
    with pytest.raises(ValueError, match=r"^dev_test_data: b.csv must have .*" + message):
        join(first, second, ("a.csv", "b.csv"))


# --- the split ---------------------------------------------------------------------------------


def test_dev_and_test_come_only_from_the_second_source() -> None:
    X = np.arange(3000, dtype=float)[:, None]
    y = np.arange(3000) % 2
    s = split_sources(X, y, first=2500, seed=0)
    assert s.sizes() == {"train": 2700, "train_dev": 100, "dev": 100, "test": 100}
    assert list(s.parts) == ["train", "train_dev", "dev", "test"]
    for part in (s.dev, s.test):  # the notes' sizes of the second source's 500 rows
        assert part is not None and part.indices.min() >= 2500
    assert s.train_dev is not None and s.train_dev.indices.max() < 2500  # the first's rows
    every = np.concatenate([part.indices for part in s.parts.values()])
    assert sorted(every) == list(range(3000))  # disjoint, covering
    assert (s.train.indices >= 2500).sum() == 300  # the rest of the second source trains
    assert abs(s.dev.y.mean() - 0.5) < 0.01 and s.stratified  # stratified
    again = split_sources(X, y, first=2500, seed=0)
    assert all((a.indices == b.indices).all()
               for a, b in zip(s.parts.values(), again.parts.values(), strict=True))


def test_the_second_sources_own_sets_are_kept() -> None:
    X = np.arange(300, dtype=float)[:, None]
    y = np.arange(300) % 2
    s = split_sources(X, y, first=200, sets=(("train", 60), ("test", 40)), seed=0)
    assert s.sizes() == {"train": 240, "train_dev": 20, "dev": 20, "test": 20}
    held = np.concatenate([s.dev.indices, s.test.indices])  # type: ignore[union-attr]
    assert sorted(held) == list(range(260, 300))  # its test set, halved
    both = split_sources(X, y, first=200, sets=(("dev", 30), ("test", 70)), seed=0)
    assert both.sizes() == {"train": 170, "train_dev": 30, "dev": 30, "test": 70}


def test_train_dev_is_at_most_half_the_first_source() -> None:
    X = np.arange(120, dtype=float)[:, None]
    y = np.arange(120) % 2
    s = split_sources(X, y, first=20, seed=0)  # dev would be 20 rows
    assert len(s.train_dev or ()) == 10 and len(s.dev) == 20


@pytest.mark.parametrize(("first", "message"), [
    (1, r"first must be the training source's rows, 2 to 28"),
    (29, r"first must be the training source's rows, 2 to 28 \(the second source needs"),
    (27, r"the second source's rows must be at least 5"),
])
def test_bad_sources_are_refused(first: int, message: str) -> None:
    X, y = np.zeros((30, 1)), np.arange(30) % 2
    with pytest.raises(ValueError, match=r"^split_sources: " + message):
        split_sources(X, y, first=first)


# --- the diagnosis -----------------------------------------------------------------------------


def test_the_three_gaps_name_data_mismatch_not_variance() -> None:
    d = dr.diagnose(0.02, 0.15, 0.01, train_dev_error=0.03)
    assert d.variance == pytest.approx(0.01) and d.data_mismatch == pytest.approx(0.12)
    assert not d.high_variance and d.high_mismatch
    assert d.verdict == "data mismatch" and d.actions == ["match_training_data"]
    assert "data_mismatch" in d.codes
    assert "data mismatch 12.00%" in d.summary()


def test_variance_and_mismatch_together_keep_the_variance_steps_first() -> None:
    d = dr.diagnose(0.02, 0.20, 0.01, train_dev_error=0.10, n_train_dev=1000)
    assert d.verdict == MISMATCH_VERDICTS["high variance"] == "high variance and data mismatch"
    assert d.actions[0] == "more_data" and d.actions[-1] == "match_training_data"
    assert d.dev_interval is not None and d.dev_interval[0] < 0.10 < d.dev_interval[1]


def test_same_distribution_names_no_mismatch() -> None:
    d = dr.diagnose(0.02, 0.035, 0.01, train_dev_error=0.03)
    assert not d.high_mismatch and d.verdict == "low bias and low variance"
    assert d.actions == ["stop"] and "data_mismatch" not in d.codes
    plain = dr.diagnose(0.02, 0.15, 0.01)  # without train-dev, the same gap is variance
    assert plain.high_variance and plain.data_mismatch is None


# --- deeprecipe run and tune ---------------------------------------------------------------------


def test_load_data_joins_the_second_file_and_split_data_says_so(files: dict[str, Path]) -> None:
    loaded = workflow.load_data(str(files["a"]), "y", dev_test_data=str(files["shifted"]))
    assert loaded.X.shape == (4500, 5) and loaded.dev_test_rows == 1500
    assert loaded.dev_test_name == "shifted.csv" and loaded.task == "binary"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        splits, notes = workflow.split_data(loaded, seed=0)
    assert splits.sizes() == {"train": 3600, "train_dev": 300, "dev": 300, "test": 300}
    assert notes[0].code == "two_sources"
    assert notes[0].values["joined"] == 900 and notes[0].values["train_dev"] == 300
    comparisons, compare_notes = workflow.compare_splits(splits, seed=0)
    assert list(comparisons) == ["dev vs test", "train vs dev"]
    assert comparisons["dev vs test"].passed and not comparisons["train vs dev"].passed
    assert [note.code for note in compare_notes] == ["known_mismatch"]


def test_dev_test_data_is_a_run_toml_path_and_is_checked(tmp_path: Path,
                                                         files: dict[str, Path]) -> None:
    toml = tmp_path / "run.toml"
    toml.write_text(f'data = "{files["a"]}"\ntarget = "y"\ndev_test_data = "b.csv"\n')
    config = runconfig.resolve(toml, {})
    assert config.dev_test_data == str(tmp_path / "b.csv")  # beside run.toml
    with pytest.raises(runconfig.MissingFile, match=r"^dev_test_data: no file .*b.csv"):
        runconfig.check_data(config.data, "y", dev_test_data=config.dev_test_data)
    with pytest.raises(runconfig.ConfigError, match=r"dev_test_data must be a data file .* "
                       r"received dev_test_data='x.npy'\. help: .*np.savez"):
        runconfig.RunConfig.from_dict({"dev_test_data": "x.npy"})


def run_summary(tmp_path: Path, files: dict[str, Path], second: str) -> dict[str, Any]:
    code = cli.main(["run", "--output-dir", str(tmp_path), "--name", second, "--data",
                     str(files["a"]), "--target", "y", "--dev-test-data", str(files[second]),
                     "--hidden", "16", "--epochs", "40", "--patience", "10",
                     "--gradcheck", "off"])
    assert code == cli.EXIT_OK
    return json.loads((tmp_path / second / "summary.json").read_text())


@pytest.mark.slow
def test_run_names_the_mismatch_of_a_shifted_source_and_not_variance(
        tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    summary = run_summary(tmp_path, files, "shifted")
    d = summary["diagnosis"]
    assert d["high_mismatch"] and not d["high_variance"] and d["data_mismatch"] > 0.1
    assert "data mismatch" in d["verdict"]
    assert "match_training_data" in [advice["action"] for advice in d["advice"]]
    assert set(summary["errors"]) == {"train", "train_dev", "dev", "test"}
    out = capsys.readouterr().out
    assert "│ train_dev │" in out and ", data mismatch " in out
    assert "  next: match training data: " in out  # said even after three bias steps
    assert "on train-dev, fitted on" in out  # the yardstick reads the training distribution
    page = (tmp_path / "shifted" / "report.html").read_text()
    assert "The splits come from different distributions" not in page  # known, not a fault
    assert "known: two sources" in page and "data mismatch" in page


@pytest.mark.slow
def test_run_names_no_mismatch_when_both_sources_share_a_distribution(
        tmp_path: Path, files: dict[str, Path]) -> None:
    summary = run_summary(tmp_path, files, "same")
    d = summary["diagnosis"]
    assert not d["high_mismatch"] and abs(d["data_mismatch"]) < 0.02
    assert "mismatch" not in d["verdict"]
    assert "match_training_data" not in [advice["action"] for advice in d["advice"]]


@pytest.mark.slow
def test_tune_takes_the_second_source_and_reads_the_three_gaps(
        tmp_path: Path, files: dict[str, Path]) -> None:
    code = cli.main(["tune", "--output-dir", str(tmp_path), "--name", "t", "--data",
                     str(files["a"]), "--target", "y", "--dev-test-data",
                     str(files["shifted"]), "--budget", "2", "--workers", "1"])
    assert code == cli.EXIT_OK
    summary = json.loads((tmp_path / "t" / "summary.json").read_text())
    assert all(trial["train_dev_error"] is not None for trial in summary["trials"])
    assert summary["diagnosis"]["high_mismatch"] and summary["yardstick"]["measured_on"] == \
        "train-dev"
    assert json.loads((tmp_path / "t" / "tune.json").read_text())["options"][
        "dev_test_data"] == str(files["shifted"])
    page = (tmp_path / "t" / "report.html").read_text()
    assert "data mismatch" in page  # the chosen model's three gaps


def test_two_tables_with_text_and_blanks_merge_categories_and_missing_counts(
        tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,colour,y\n1,red,0\n,blue,1\n3,red,0\n4,blue,1\n"
                                    "5,red,0\n6,blue,1\n")
    (tmp_path / "b.csv").write_text("x,colour,y\n1,green,0\n2,,1\n,red,0\n4,green,1\n"
                                    "5,red,0\n6,blue,1\n")
    loaded = workflow.load_data(str(tmp_path / "a.csv"), "y",
                                dev_test_data=str(tmp_path / "b.csv"))
    assert loaded.categories == {1: ["blue", "red", "green"]}  # the first's, then green
    texts = [None if np.isnan(v) else loaded.categories[1][int(v)] for v in loaded.X[:, 1]]
    assert texts[6:] == ["green", None, "red", "green", "red", "blue"]
    assert loaded.missing == {0: 2, 1: 1}  # both files' blanks, per column


def test_the_diagnose_command_reads_a_train_dev_error(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    code = cli.main(["diagnose", "--train-error", "2%", "--dev-error", "15%",
                     "--train-dev-error", "3%", "--n-train-dev", "200", "--bayes-error", "1%"])
    assert code == cli.EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("data mismatch\n")
    assert "variance 1.00% (train-dev − train), data mismatch 12.00% (dev − train-dev)" in out
    assert "1. match training data: " in out
    assert "with 200 train-dev examples the train-dev error" in out  # the interval's set
    cli.main(["diagnose", "--train-error", "2%", "--dev-error", "15%", "--json",
              "--train-dev-error", "0.03"])
    assert json.loads(capsys.readouterr().out)["high_mismatch"] is True


def test_the_reports_points_and_markers_include_train_dev() -> None:
    from deeprecipe.diagnostics.views import plot_points
    from deeprecipe.report.plots import MARKERS

    X, y = dr.datasets.load("moons", n_samples=300, seed=0)
    s = split_sources(X, y, first=200, seed=0)
    model = dr.Sequential([dr.Dense(1, "sigmoid")], input_dim=2, seed=0)
    points = plot_points(model, s)
    assert [p.label for p in points] == ["train", "train_dev", "dev", "test"]
    assert len({MARKERS[p.label] for p in points}) == 4  # each part drawn apart


def test_a_reference_read_on_train_dev_is_said_so() -> None:
    from deeprecipe.diagnostics.yardstick import Reference, Yardstick

    refs = (Reference("linear", "Ridge(alpha=1)", 0.02, 0.03, 0.1),)
    on_train_dev = Yardstick(refs, 100, 100, 50, False, 0.1, measured_on="train-dev")
    d = dr.diagnose(0.02, 0.30, on_train_dev, train_dev_error=0.09)  # reference 3%, net 9%
    assert d.actions[0] == "simpler_model" and d.high_mismatch
    assert "reaches train-dev error 3.00%, the network 9.00%" in str(d.advice[0])
    assert "reaches train-dev error 3.00%" in str(d.finding("reference_better"))
