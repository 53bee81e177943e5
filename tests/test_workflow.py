"""Tests for ``deeprecipe.workflow``: each step of the main job on its own, a whole run in
a folder, and an interrupted run resumed to the same weights."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import pipeline, workflow
from deeprecipe.callbacks import Callback
from deeprecipe.cli.run import failed_checks
from deeprecipe.data import DataFileError, Standardizer
from deeprecipe.findings import Finding
from deeprecipe.gradcheck import UNINFORMATIVE, WORRY
from deeprecipe.report import figures
from deeprecipe.run import folder as runfolder
from deeprecipe.run.checkpoint import read_checkpoint
from deeprecipe.run.files import RUN
from deeprecipe.runconfig import ConfigError, RunConfig

TINY = {"data": "iris", "hidden": (8,), "epochs": 4, "patience": 2, "batch_size": 32}


# --- data ----------------------------------------------------------------------------------


def test_load_data_reads_built_in_sets_with_their_image_shape() -> None:
    digits = workflow.load_data("digits")
    assert digits.X.shape == (1797, 64) and digits.task == "multiclass"
    assert digits.image_shape == (8, 8) and digits.classes == list(range(10))
    assert workflow.load_data("moons").image_shape is None


def test_load_data_reads_csv_and_npz_files(tmp_path: Path) -> None:
    csv = tmp_path / "flowers.csv"
    rows = [f"{i % 3 + 0.5},{i % 5},{'ab'[i % 2]}" for i in range(10)]
    csv.write_text("length,width,species\n" + "\n".join(rows) + "\n")
    loaded = workflow.load_data(str(csv), "species")
    assert loaded.X.shape == (10, 2) and loaded.classes == ["a", "b"]
    assert loaded.feature_names == ["length", "width"] and loaded.name == "flowers.csv"
    images = tmp_path / "images.npz"
    np.savez(images, X=np.zeros((12, 4, 4)), y=np.arange(12) % 2)
    loaded = workflow.load_data(str(images))
    assert loaded.X.shape == (12, 16) and loaded.image_shape == (4, 4)
    assert loaded.task == "binary"


def test_load_data_errors_name_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^data must be a built-in dataset"):
        workflow.load_data("data.xlsx")
    (tmp_path / "data.csv").write_text("a,y\n1,0\n")
    with pytest.raises(ConfigError, match=r"^target must name the label column"):
        workflow.load_data(str(tmp_path / "data.csv"))
    for target in ("y", None):  # a missing file is the first thing to say
        with pytest.raises(FileNotFoundError, match=r"^data: no file"):
            workflow.load_data(str(tmp_path / "missing.csv"), target)


def test_the_standardizer_is_fit_on_the_training_rows_only() -> None:
    loaded = workflow.load_data("digits")
    raw, _ = workflow.split_data(loaded, seed=3)
    prepared = pipeline.prepare(raw)
    splits, scaler, notes = prepared.splits, prepared.standardizer, prepared.notes
    mean = raw.train.X.mean(axis=0)
    std = np.where(raw.train.X.std(axis=0) > 0, raw.train.X.std(axis=0), 1.0)
    np.testing.assert_allclose(scaler.mean_, mean)
    for name, part in splits.parts.items():
        np.testing.assert_allclose(part.X, (raw.parts[name].X - mean) / std, atol=1e-12)
    assert abs(splits.dev.X.mean()) > 1e-6  # dev is not re-centred on its own statistics
    # the constant-feature warning is one note, not a Python warning
    assert [note.code for note in notes] == ["constant_features"]
    assert len(notes[0].values["features"]) == 3


def test_split_warnings_become_notes() -> None:
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.array([0] * 18 + [1] * 2)  # class 1 cannot reach all three parts
    loaded = workflow.LoadedData("tiny", X, y, "binary", [0, 1], None, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        splits, notes = workflow.split_data(loaded, seed=0)
    assert sum(splits.sizes().values()) == 20
    missing = [note for note in notes if note.code == "class_missing"]
    assert len(missing) == 1
    assert any(1 in labels for labels in missing[0].values["missing"].values())


def test_split_data_keeps_a_files_own_sets() -> None:
    X = np.arange(90, dtype=float).reshape(45, 2)
    y = np.arange(45) % 2
    loaded = workflow.LoadedData("data.mat", X, y, "binary", [0, 1], None, None,
                                 sets=(("train", 25), ("dev", 20)))
    splits, notes = workflow.split_data(loaded, seed=0)
    assert sorted(splits.train.indices) == list(range(25))  # not the notes' 60/20/20
    assert splits.sizes() == {"train": 25, "dev": 10, "test": 10}
    assert [note.code for note in notes] == ["file_sets"]
    assert notes[0].values == {"sets": [["train", 25], ["dev", 20]], "halved": "dev",
                               "dev": 10, "test": 10}
    both = dataclasses.replace(loaded, sets=(("train", 25), ("dev", 12), ("test", 8)))
    splits, notes = workflow.split_data(both, seed=0)
    assert splits.sizes() == {"train": 25, "dev": 12, "test": 8}
    assert notes[0].values["halved"] is None
    unsplit = dataclasses.replace(loaded, sets=(("train", 45),))  # one set: the notes' sizes
    splits, notes = workflow.split_data(unsplit, seed=0)
    assert splits.sizes() == {"train": 27, "dev": 9, "test": 9} and notes == []


def test_compare_splits_skips_parts_too_small_for_the_test() -> None:
    X, y = dr.datasets.load("moons", n_samples=20)
    splits = dr.data.split(X, y, seed=0)  # dev = test = 4 rows
    comparisons, notes = workflow.compare_splits(splits, seed=0)
    assert comparisons == {} and [note.code for note in notes] == ["compare_skipped"] * 2
    assert notes[0].values == {"label": "train vs dev", "part": "dev", "rows": 4,
                               "needs": workflow.MIN_COMPARE_ROWS}


def test_compare_splits_gathers_no_whole_part(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = dr.datasets.load("moons", n_samples=300)
    splits = dr.data.split(X, y, seed=0)
    expected, _ = workflow.compare_splits(splits, seed=0)
    monkeypatch.setattr(dr.data.Part, "X", property(lambda part: pytest.fail("part.X read")))
    comparisons, _ = workflow.compare_splits(splits, seed=0)  # each part sampled
    assert comparisons == expected


class StepSummaries(Callback):
    """Records each step's one-line summary, as the command line prints it."""

    def __init__(self) -> None:
        self.summaries: dict[str, str] = {}

    def on_step_end(self, step: str, seconds: float, summary: str) -> None:
        self.summaries[step] = summary


def test_a_big_run_compares_its_parts_on_a_sample_and_says_so(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(130_000, 4)).astype(np.float32)
    np.savez(tmp_path / "big.npz", X=X, y=(X[:, 0] > 0).astype(np.int64))
    config = RunConfig(data=str(tmp_path / "big.npz"), hidden=(4,), epochs=1,
                       batch_size=1024, gradcheck="off")
    steps = StepSummaries()
    folder = runfolder.create(tmp_path, "big", config.data)
    result = workflow.run(config, folder, [steps])
    said = "on 100,000 of 110,000 train rows"  # dev and test (10,000 rows each) are whole
    comparisons = result.comparisons
    assert {c.sample_sizes for c in comparisons.values()} == {(100_000, 10_000)}
    assert steps.summaries["compare"] == "; ".join(
        f"{name}: {c.verdict} ({said})" for name, c in comparisons.items())
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["comparisons"]["train vs dev"]["sizes"] == [110_000, 10_000]
    assert summary["comparisons"]["train vs dev"]["sample_sizes"] == [100_000, 10_000]
    page = (folder / "report.html").read_text()
    assert f"train vs test: every statistic is computed {said}, a seeded random sample." in page


class StepProgress(Callback):
    """Records each Progress told, with the step under way."""

    def __init__(self) -> None:
        self.step = ""
        self.heard: list[tuple[str, dr.callbacks.Progress]] = []

    def on_step_begin(self, step: str, description: str, total: int | None = None,
                      done: int = 0) -> None:
        self.step = step

    def on_progress(self, progress: dr.callbacks.Progress) -> None:
        self.heard.append((self.step, progress))


def test_a_run_tells_how_far_reading_its_file_and_each_epoch_have_come(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dr.callbacks, "PROGRESS_EVERY", 0.0)  # pass on every call
    rng = np.random.default_rng(0)
    path = tmp_path / "points.csv"
    path.write_text("a,b,label\n" + "".join(
        f"{rng.normal():.3f},{rng.normal():.3f},{'xy'[i % 2]}\n" for i in range(200)))
    config = RunConfig(data=str(path), target="label", hidden=(4,), epochs=2, batch_size=32,
                       gradcheck="off")
    heard = StepProgress()
    result = workflow.run(config, runfolder.create(tmp_path, "points", config.data), [heard])
    reading = [progress for step, progress in heard.heard if step == "data"]
    assert reading and {progress.unit for progress in reading} == {"bytes"}
    assert reading[-1].done == reading[-1].total == path.stat().st_size
    epochs = [progress for step, progress in heard.heard if step == "train"]
    train = result.data.split_sizes["train"]
    assert {(progress.unit, progress.total) for progress in epochs} == {("samples", train)}
    assert [progress.epoch for progress in epochs if progress.done == train] == [0, 1]
    assert {step for step, _ in heard.heard} == {"data", "train"}


def test_a_files_progress_counts_bytes_of_text_and_rows_of_the_rest() -> None:
    assert workflow.progress_unit("sales.csv") == workflow.progress_unit("a.TSV") == "bytes"
    assert {workflow.progress_unit(name) for name in ("a.parquet", "a.npy", "a.npz")} == {
        "rows"}


def test_a_small_run_says_no_sample(iris_run) -> None:  # type: ignore[no-untyped-def]
    folder, _, result = iris_run
    assert all(not c.sampled for c in result.comparisons.values())
    assert "random sample" not in (folder / "report.html").read_text()


# --- the network --------------------------------------------------------------------------


def test_the_run_builds_the_network_of_its_config(tmp_path: Path) -> None:
    config = RunConfig(data="digits", hidden=(16, 8, 4), keep_prob=(0.5, 1.0, 0.9),
                       activation="tanh", l2=0.3, l1=0.1, init="glorot", seed=5, epochs=1,
                       gradcheck="off")
    model = workflow.run(config, runfolder.create(tmp_path, "network", "digits")).model
    kinds = [(layer.kind, layer.get_config()) for layer in model.layers]
    assert [kind for kind, _ in kinds] == ["dense", "dropout", "dense", "dense", "dropout",
                                           "dense"]
    assert kinds[1][1] == {"keep_prob": 0.5} and kinds[4][1] == {"keep_prob": 0.9}
    assert kinds[0][1]["activation"] == "tanh" and kinds[0][1]["init"] == "glorot"
    assert kinds[-1][1]["units"] == 10 and kinds[-1][1]["activation"] == "softmax"
    assert (model.l2, model.l1, model.seed) == (0.3, 0.1, 5)


@pytest.mark.parametrize(("task", "classes", "activation", "units"), [
    ("binary", [0, 1], "sigmoid", 1), ("regression", None, "linear", 1),
    ("multiclass", ["a", "b", "c"], "softmax", 3),
])
def test_the_output_layer_follows_the_task(
    task: str, classes: list[object] | None, activation: str, units: int
) -> None:
    layer = pipeline.build_model(2, task, units).layers[-1]
    assert (layer.activation, layer.units) == (activation, units)


def test_the_check_mode_is_full_for_small_networks_only() -> None:
    small = dr.Sequential([dr.Dense(4, "relu"), dr.Dense(3, "softmax")], input_dim=4)
    big = dr.Sequential([dr.Dense(128, "relu"), dr.Dense(10, "softmax")], input_dim=64)
    assert workflow.check_mode(RunConfig(), small) == "full"
    assert workflow.check_mode(RunConfig(), big) == "sampled"
    assert workflow.check_mode(RunConfig(gradcheck="directional"), big) == "directional"
    assert workflow.check_mode(RunConfig(gradcheck="off"), big) is None


def test_augmentation_is_for_images_and_moves_pixels_in_raw_units() -> None:
    moons = workflow.load_data("moons")
    with pytest.raises(ConfigError, match=r"^augment needs image data; received "
                       "data='moons', which has no image shape"):
        workflow.augmentation(RunConfig(augment=True), moons, Standardizer().fit(moons.X),
                              moons.X)
    assert workflow.augmentation(RunConfig(), moons, Standardizer().fit(moons.X),
                                 moons.X) is None
    digits = workflow.load_data("digits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dr.data.ConstantFeatureWarning)
        scaler = Standardizer().fit(digits.X)
    augment = workflow.augmentation(RunConfig(augment=True), digits, scaler,
                                    scaler.transform(digits.X))
    assert augment is not None
    rows = scaler.transform(digits.X[:50]).astype(np.float32)
    moved = augment(rows, np.random.default_rng(0))
    assert moved.shape == rows.shape and moved.dtype == np.float32
    raw = scaler.inverse_transform(moved)
    assert raw.min() > -1e-3 and raw.max() < 16 + 1e-3  # still pixels in [0, 16]
    assert not np.allclose(moved, rows)


@pytest.mark.parametrize(("option", "kinds"), [
    (True, ["HorizontalFlip", "Affine"]),  # colour pictures: flip, crop and rotate
    (("flip",), ["HorizontalFlip"]),
    (("rotate", "distort"), ["Affine", "ElasticDistortion"]),
])
def test_the_augment_option_builds_the_transforms_it_names(
        tmp_path: Path, option: bool | tuple[str, ...], kinds: list[str]) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "photos.npz", X=rng.integers(0, 256, (30, 6, 5, 3)),
             y=np.arange(30) % 2)
    loaded = workflow.load_data(str(tmp_path / "photos.npz"))
    assert loaded.image_shape == (6, 5, 3)
    scaler = Standardizer().fit(loaded.X)
    augment = workflow.augmentation(RunConfig(augment=option), loaded, scaler,
                                    scaler.transform(loaded.X))
    assert augment is not None and isinstance(augment.transform, dr.data.augment.Compose)
    assert [type(t).__name__ for t in augment.transform.transforms] == kinds


# --- training, interrupted and resumed ----------------------------------------------------------


class InterruptAfter(dr.Callback):
    """Ctrl-C at the end of epoch ``epoch`` (from 0)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if epoch == self.epoch:
            raise KeyboardInterrupt
        return False


def digits_training(config: RunConfig) -> tuple[dr.Sequential, pipeline.Prepared, object]:
    loaded = workflow.load_data("digits")
    raw, _ = workflow.split_data(loaded, config.seed)
    prepared = pipeline.prepare(raw)
    model = pipeline.build_model(64, "multiclass", 10, config.hidden,
                                 keep_prob=config.keep_probs(), seed=config.seed)
    return model, prepared, workflow.augmentation(config, loaded, prepared.standardizer,
                                                  prepared.splits.train.X)


def test_augmented_digits_train_as_well_as_clean_ones(tmp_path: Path) -> None:
    # augmentation regularizes: the clean training error stays low (two resamplings per
    # batch once blurred the digits so much that it stayed above 10%)
    config = RunConfig(augment=True, epochs=60, gradcheck="off")
    result = workflow.run(config, runfolder.create(tmp_path, "augmented", "digits"))
    assert result.errors["train"] < 0.05 and result.errors["dev"] < 0.06


def test_train_resumes_to_the_same_weights_bit_for_bit(tmp_path: Path) -> None:
    config = RunConfig(hidden=(16,), keep_prob=(0.8,), epochs=6, patience=3, augment=True,
                       checkpoint_every=2, seed=1)
    model, splits, augment = digits_training(config)
    reference = workflow.train(model, splits, config, dr.TrainingState(), augment=augment,
                               folder=tmp_path)
    expected = model.theta.copy()

    model, splits, augment = digits_training(config)
    state = dr.TrainingState()
    with pytest.raises(KeyboardInterrupt):
        workflow.train(model, splits, config, state, augment=augment, callbacks=[InterruptAfter(3)],
                       folder=tmp_path)
    assert state.epoch == 3
    # through the file, as a resumed run reads it
    loaded_state = read_checkpoint(runfolder.save_checkpoint(tmp_path, state))
    model, splits, augment = digits_training(config)
    resumed = workflow.train(model, splits, config, loaded_state, augment=augment,
                             folder=tmp_path)
    assert np.array_equal(model.theta, expected)
    assert resumed.history["dev_cost"] == reference.history["dev_cost"]
    assert resumed.recorder.epochs == reference.recorder.epochs


def test_checkpoints_are_written_every_n_epochs(tmp_path: Path) -> None:
    config = RunConfig(hidden=(8,), epochs=5, patience=10, checkpoint_every=2)
    model, splits, _ = digits_training(config)
    seen: list[int] = []

    class Watch(dr.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
            file = tmp_path / runfolder.CHECKPOINT_FILE
            if file.exists():
                seen.append(read_checkpoint(file).epoch)
            return False

    workflow.train(model, splits, config, dr.TrainingState(), callbacks=[Watch()],
                   folder=tmp_path)
    # written at the ends of epochs 2 and 4 (0-based; the events see a file one epoch
    # later), holding 2 and then 4 whole epochs: the snapshot fit took after the one before
    assert seen == [2, 2]
    assert read_checkpoint(tmp_path / runfolder.CHECKPOINT_FILE).epoch == 4


# --- the whole job ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dr.Sequential, object]:
    folder = runfolder.create(tmp_path_factory.mktemp("runs"), "iris", "iris")
    result = workflow.run(RunConfig(**TINY), folder)  # type: ignore[arg-type]
    return folder, result.model, result


def test_a_run_fills_every_part_of_the_run_result(iris_run) -> None:  # type: ignore[no-untyped-def]
    _, _, result = iris_run
    assert result.name == "iris" and result.data.split_sizes == {"train": 90, "dev": 30,
                                                                 "test": 30}
    assert set(result.comparisons) == {"train vs dev", "train vs test"}
    assert set(result.gradchecks) == {"init", "trained"}
    assert all(report.passed for report in result.gradchecks.values())
    assert len(result.history["dev_cost"]) == 4 and set(result.errors) == {"train", "dev",
                                                                           "test"}
    assert result.diagnosis is not None and result.confusion.shape == (3, 3)
    assert result.confusion.sum() == 30 and result.flow is not None
    assert result.grad_norm_epochs == [0, 1, 2, 3] and set(result.grad_norms) == {
        "dense_1", "dense_2"}
    assert {"data", "train", "report"} <= set(result.seconds)
    assert failed_checks(result) == []


def test_a_run_writes_its_folder(iris_run) -> None:  # type: ignore[no-untyped-def]
    folder, model, _ = iris_run
    names = {path.name for path in folder.iterdir()}
    assert {"report.html", "summary.json", "run.json", "model", "learning_curves.png",
            "gradcheck.png", "gradient_norms.png", "confusion.png"} <= names
    assert runfolder.CHECKPOINT_FILE not in names  # a complete run needs no checkpoint
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "complete" and record["config"]["epochs"] == 4
    loaded = dr.load(folder / "model")
    assert loaded.standardizer is not None  # raw inputs in, as the run's model
    X, _ = dr.datasets.load("iris")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    saved = json.loads((folder / "model" / "config.json").read_text())
    assert saved["classes"] == [0, 1, 2] and saved["task"] == "multiclass"


def test_the_yardstick_is_the_default_bayes_error(iris_run) -> None:  # type: ignore[no-untyped-def]
    folder, _, result = iris_run
    yardstick, diagnosis = result.yardstick, result.diagnosis
    assert yardstick is not None and diagnosis is not None
    assert diagnosis.bias_source == "yardstick" and diagnosis.yardstick == yardstick
    assert result.bayes_error == diagnosis.bayes_error == yardstick.error
    # fitted on the run's training part, measured on its dev part, a step of its own
    assert (yardstick.n_train, yardstick.n_dev) == (90, 30) and not yardstick.regression
    assert list(result.seconds).index("yardstick") == list(result.seconds).index("evaluate") - 1
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["config"]["bayes_error"] == "auto"
    assert summary["diagnosis"]["bias_source"] == "yardstick"
    assert summary["yardstick"]["error"] == summary["bayes_error"] == yardstick.error
    assert [ref["model"] for ref in summary["yardstick"]["references"]] == [
        ref.model for ref in yardstick.references]
    assert json.loads((folder / "run.json").read_text())["config"]["bayes_error"] == "auto"
    html = (folder / "report.html").read_text()
    assert "The yardstick: reference models on the same split" in html
    assert all(ref.model in html for ref in yardstick.references)


def test_a_bayes_error_given_wins_and_fits_no_reference(tmp_path: Path) -> None:
    folder = runfolder.create(tmp_path, "given", "iris")
    result = workflow.run(RunConfig(**TINY, bayes_error=0.0), folder)  # type: ignore[arg-type]
    assert result.diagnosis is not None and result.diagnosis.bias_source == "given"
    assert result.yardstick is None and result.diagnosis.yardstick is None
    assert "yardstick" not in result.seconds and result.bayes_error == 0.0
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["yardstick"] is None and summary["diagnosis"]["bias_source"] == "given"
    assert "The yardstick: reference models" not in (folder / "report.html").read_text()


def test_a_run_folder_written_before_the_yardstick_resumes_with_its_number(
        tmp_path: Path) -> None:
    # before issue 16 run.json stored the default Bayes error as a number: 0.0, given
    folder = runfolder.create(tmp_path, "old", "iris")
    config = {**RunConfig(**TINY).to_dict(), "bayes_error": 0.0}  # type: ignore[arg-type]
    RUN.write(folder / runfolder.RUN_FILE, {"status": runfolder.INTERRUPTED,
                                            "data_fingerprint": "", "config": config})
    point = runfolder.resume_point(folder)
    assert point.config.bayes_error == 0.0
    result = workflow.run(point.config, folder, resume=point)
    assert result.diagnosis is not None and result.diagnosis.bias_source == "given"
    assert result.yardstick is None


def test_a_run_interrupted_before_training_resumes_from_scratch(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    folder = runfolder.create(tmp_path, "early", "iris")
    with monkeypatch.context() as patch:
        patch.setattr(workflow, "check_gradients", interrupted)
        with pytest.raises(workflow.RunInterrupted) as stop:
            workflow.run(RunConfig(**TINY), folder)  # type: ignore[arg-type]
    assert stop.value.epoch == 0 and stop.value.folder == folder
    assert json.loads((folder / "run.json").read_text())["status"] == "interrupted"
    point = runfolder.resume_point(folder)
    assert point.state is not None and point.state.epoch == 0
    result = workflow.run(point.config, folder, resume=point)
    assert len(result.history["dev_cost"]) == 4


def test_a_resumed_run_fits_the_same_yardstick(tmp_path: Path, iris_run) -> None:  # type: ignore[no-untyped-def]
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    folder = runfolder.create(tmp_path, "again", "iris")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(workflow, "evaluate", interrupted)  # after the yardstick's step
        with pytest.raises(workflow.RunInterrupted):
            workflow.run(RunConfig(**TINY), folder)  # type: ignore[arg-type]
    point = runfolder.resume_point(folder)
    resumed = workflow.run(point.config, folder, resume=point).yardstick
    _, _, uninterrupted = iris_run

    def errors(yardstick: Any) -> list[tuple[str, str, float, float]]:
        return [(r.kind, r.model, r.train_error, r.dev_error) for r in yardstick.references]

    assert errors(resumed) == errors(uninterrupted.yardstick)


def test_resuming_on_changed_data_is_refused(tmp_path: Path) -> None:
    folder = runfolder.create(tmp_path, "changed", "iris")
    runfolder.write_run_file(folder, RunConfig(**TINY), "0" * 64,  # type: ignore[arg-type]
                             runfolder.INTERRUPTED)
    point = runfolder.resume_point(folder)
    with pytest.raises(runfolder.RunFolderError, match="the data iris changed") as error:
        workflow.run(point.config, folder, resume=point)
    assert error.value.keys == ("resume", "data")  # the command line's --resume and --data


def test_an_error_after_training_started_keeps_a_resumable_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the report")

    folder = runfolder.create(tmp_path, "bug", "iris")
    with monkeypatch.context() as patch:
        patch.setattr("deeprecipe.report.write_report", broken)
        with pytest.raises(RuntimeError, match="a bug in the report"):
            workflow.run(RunConfig(**TINY), folder)  # type: ignore[arg-type]
    assert json.loads((folder / "run.json").read_text())["status"] == "failed"
    point = runfolder.resume_point(folder)
    assert point.state is not None and point.state.epoch == 4  # training is not lost
    result = workflow.run(point.config, folder, resume=point)
    assert (folder / "report.html").is_file() and len(result.history["dev_cost"]) == 4


def test_task_decides_what_a_whole_number_target_is(tmp_path: Path,
                                                    rng: np.random.Generator) -> None:
    # ages 18 … 90: whole numbers with many distinct values read as a regression target
    ages = rng.integers(18, 91, size=200)
    path = tmp_path / "ages.csv"
    path.write_text("a,age\n" + "\n".join(f"{rng.normal():.4f},{age}" for age in ages))
    assert workflow.load_data(str(path), "age").task == "regression"
    forced = workflow.load_data(str(path), "age", task="classification")
    assert forced.task == "multiclass" and forced.classes == sorted(set(ages.tolist()))
    assert RunConfig.from_dict({"task": "classification"}).task == "classification"


def test_scikit_learns_diabetes_csv_is_a_regression_with_a_healthy_flow(tmp_path: Path) -> None:
    # whole-number targets 25 … 346: a regression; after training the weights have grown to
    # fit that scale, which the gradient-flow verdict (read at initialization) must not
    # call exploding
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    path = tmp_path / "diabetes.csv"
    frame.to_csv(path, index=False)
    config = RunConfig(data=str(path), target="target", epochs=200, gradcheck="off")
    result = workflow.run(config, runfolder.create(tmp_path, "diabetes", str(path)))
    assert result.data.task == "regression"
    assert result.flow is not None and result.flow.verdict == "healthy", result.flow.summary()
    assert result.errors["test"] < float(np.var(frame["target"]))


def test_the_regression_diagnosis_does_not_depend_on_the_targets_units(
        tmp_path: Path, rng: np.random.Generator) -> None:
    X = rng.normal(size=(150, 2))
    y = X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=150)
    verdicts, errors = [], []
    for unit in (1.0, 1000.0):  # dollars or thousands of dollars: the same problem
        path = tmp_path / f"y{unit:g}.csv"
        path.write_text("a,b,y\n" + "\n".join(f"{a:.6f},{b:.6f},{t * unit:.6f}"
                                               for (a, b), t in zip(X, y, strict=True)))
        config = RunConfig(data=str(path), target="y", hidden=(8,), epochs=40, l2=0.0,
                           gradcheck="off", bayes_error=0.05)
        result = workflow.run(config, runfolder.create(tmp_path, f"r{unit:g}", str(path)))
        assert result.diagnosis is not None
        verdicts.append(result.diagnosis.verdict)
        errors.append(result.errors)
        scale = float(np.var(result.splits.train.y)) if result.splits else 0.0
        assert result.diagnosis.bayes_error == pytest.approx(0.05 * scale)
    assert verdicts[0] == verdicts[1]
    # the network learns the standardized target: the same fit, its errors × 1000²
    for name in ("train", "dev", "test"):
        assert errors[1][name] == pytest.approx(errors[0][name] * 1e6, rel=1e-3)


def test_a_regression_csv_runs_end_to_end(tmp_path: Path, rng: np.random.Generator) -> None:
    X = rng.normal(size=(120, 2))
    y = 2 * X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=120)
    path = tmp_path / "prices.csv"
    path.write_text("a,b,price\n" + "\n".join(f"{a:.6f},{b:.6f},{t:.6f}"
                                              for (a, b), t in zip(X, y, strict=True)) + "\n")
    config = RunConfig(data=str(path), target="price", hidden=(8,), epochs=30, l2=0.0,
                       learning_rate=0.01)
    result = workflow.run(config, runfolder.create(tmp_path, "prices", str(path)))
    assert result.data.task == "regression" and result.confusion is None
    assert result.errors["train"] < float(np.var(y))  # an MSE, below predicting the mean
    model = dr.load(tmp_path / "prices" / "model")
    assert model.standardizer is not None and model.standardizer.feature_names_ == ["a", "b"]
    # the report plots the dev predictions against the truth, in the target's units
    assert (tmp_path / "prices" / "predictions.png").is_file()
    page = (tmp_path / "prices" / "report.html").read_text(encoding="utf-8")
    assert 'id="predictions"' in page and 'id="confusion"' not in page
    assert result.diagnosis is not None  # its MSEs, as the tables print them (not 2.22e+03)
    assert f"train MSE {result.diagnosis.train_error:.4g}" in page
    assert f"(dev MSE {result.diagnosis.dev_error:.4g})" in page
    # the yardstick in the target's units, as the network's errors (noise variance 0.01;
    # on the standardized target it would read about 0.002)
    assert result.yardstick is not None and result.yardstick.regression
    assert result.diagnosis.bayes_error == result.yardstick.error
    linear = next(ref for ref in result.yardstick.references if ref.kind == "linear")
    assert 0.004 < linear.dev_error < 0.03, linear
    # its learning curves are on the standardized target: the yardstick's line too
    assert result.target_variance == pytest.approx(float(np.var(result.splits.train.y)))
    labels = figures(result)["learning_curves"].axes[1].get_legend_handles_labels()[1]
    line = result.yardstick.error / result.target_variance
    assert any(label.startswith("yardstick ") and label.endswith(
        f"; {line:.3g} × the target's variance") for label in labels), labels
    figure = figures(result)["predictions"]
    title = figure.axes[0].get_title(loc="left")  # the report's theme titles on the left
    assert f"MSE {result.errors['dev']:.4g}" in title  # the dev error the report states


def test_load_data_refuses_or_drops_missing_targets(tmp_path: Path) -> None:
    csv = tmp_path / "flowers.csv"
    rows = [f"{i % 3 + 0.5},{i % 5},{['a', 'b', 'NA', ''][i % 4]}" for i in range(12)]
    csv.write_text("length,width,species\n" + "\n".join(rows) + "\n")
    with pytest.raises(dr.data.DataFileError, match=r"in 6 rows, on file lines 4, 5, 8, 9"):
        workflow.load_data(str(csv), "species")
    loaded = workflow.load_data(str(csv), "species", drop_missing_target=True)
    assert loaded.classes == ["a", "b"] and len(loaded.y) == 6
    assert loaded.dropped_missing_target == 6
    npz = tmp_path / "values.npz"
    np.savez(npz, X=np.arange(20.0).reshape(10, 2), y=np.r_[np.nan, np.linspace(0, 1, 9)])
    loaded = workflow.load_data(str(npz), drop_missing_target=True)
    assert loaded.task == "regression" and loaded.dropped_missing_target == 1


def test_a_folder_is_read_as_images_and_an_empty_one_refused(tmp_path: Path) -> None:
    for name in ("images", "data.csv"):
        (tmp_path / name).mkdir()
        with pytest.raises(DataFileError, match=r"has no class subfolders"):
            workflow.load_data(str(tmp_path / name))


def test_a_regression_target_too_large_for_float32_is_refused(tmp_path: Path) -> None:
    """Its squared errors would be inf in the float32 network (the diagnosis then refused
    an 'inf' train error, naming no file)."""
    csv = tmp_path / "big.csv"
    rows = [f"{i},{i % 3},{(i + 0.5) * 1e18!r}" for i in range(30)]  # many values: regression
    csv.write_text("a,b,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"big\.csv: a regression target must be smaller "
                       r"than 1e\+18 in magnitude .*received values up to 2\.95e\+19"):
        workflow.load_data(str(csv), "y")
    csv.write_text("a,b,y\n" + "\n".join(r.rsplit(",", 1)[0] + f",{i}.5e15"
                                         for i, r in enumerate(rows)) + "\n")
    assert workflow.load_data(str(csv), "y").task == "regression"


# --- the gradient check's data and its verdicts (issue 13, A) -------------------------------


def test_the_check_after_training_computes_j_on_the_dev_part_and_says_so(iris_run) -> None:  # type: ignore[no-untyped-def]
    # after training the training cost sits near a minimum, where its gradient is near 0
    _, _, result = iris_run
    assert result.gradchecks["init"].notes[0] == Finding("grad_rows", {"count": 32,
                                                                      "part": "training"})
    assert result.gradchecks["trained"].notes[0] == Finding("grad_rows", {"count": 30,
                                                                         "part": "dev"})


def test_a_tiny_dev_part_leaves_the_check_after_training_on_training_rows() -> None:
    X, y = dr.datasets.load("iris")
    model = dr.Sequential([dr.Dense(4, "tanh"), dr.Dense(3, "softmax")], input_dim=4, seed=0)
    splits = dr.data.split(X, y, ratios=(0.95, 0.05), seed=0)
    assert len(splits.dev) < workflow.MIN_DEV_CHECK_ROWS
    report, line = workflow.check_gradients(model, splits, "trained", "full", 0)
    assert line == f"{report.headline()} on 32 training rows"
    assert report.notes[0].code == "grad_rows"
    assert str(report.notes[0]) == "J computed on 32 training rows"


def test_only_a_worry_is_a_failed_check(iris_run) -> None:  # type: ignore[no-untyped-def]
    _, _, result = iris_run
    report = result.gradchecks["trained"]

    def reading(verdict: str) -> dr.gradcheck.GradcheckReport:
        blocks = {name: dataclasses.replace(block, verdict=verdict)
                  for name, block in report.blocks.items()}
        return dataclasses.replace(report, verdict=verdict, blocks=blocks)

    silent = dataclasses.replace(result, gradchecks={"trained": reading(UNINFORMATIVE)})
    assert failed_checks(silent) == []  # no verdict: nothing verified, nothing failed
    assert reading(UNINFORMATIVE).headline().startswith(
        "no verdict: every block uninformative")
    worried = dataclasses.replace(result, gradchecks={"trained": reading(WORRY)})
    assert failed_checks(worried) == [
        "gradient check trained: worry in " + ", ".join(
            f"{name} ({block.difference:.1e})" for name, block in report.blocks.items())]


def test_a_value_the_float32_network_cannot_use_is_named_when_standardizing() -> None:
    # training values 1e-20 apart have σ ≈ 2.3e-20: a dev value of 1e20 lies ~4e39 σ away,
    # inf once the network casts it to float32 (it used to train, then fail on an inf error)
    train = np.column_stack([np.arange(1, 9) * 1e-20, np.arange(8.0)])
    dev = np.array([[1e20, 1.0], [2e-20, 2.0]])
    X, y = np.vstack([train, dev]), np.arange(10.0)
    raw = dr.data.Splits(
        train=dr.data.Part(source_X=X, source_y=y, indices=np.arange(8)),
        dev=dr.data.Part(source_X=X, source_y=y, indices=np.arange(8, 10)),
        test=None, stratified=False, note="")
    with pytest.raises(ValueError, match=r"^far\.csv: a dev row's tiny lies 4\.\d+e\+39 "
                                         r"training standard deviations"):
        pipeline.prepare(raw, "auto", ["tiny", "plain"], "far.csv")


def test_a_regression_error_beyond_float32_is_measured_in_float64() -> None:
    # the squared error of a prediction 1e20 off is 1e40: inf in float32, finite in float64
    model = dr.Sequential([dr.Dense(1, activation="linear")], input_dim=1, seed=0)
    for array in model.named_parameters().values():
        array[...] = 0.0
    error = model.evaluate(np.zeros((2, 1)), np.array([1e20, -1e20]))["error"]
    assert error == pytest.approx(1e40, rel=1e-6)
