"""The report's image galleries (``deeprecipe.diagnostics.galleries`` and
``deeprecipe.report.galleries``): training images beside their augmented versions, the dev
images the network gets wrong, in the data's own pixels; on the page and in summary.json."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import cli
from deeprecipe.data import augment as A
from deeprecipe.diagnostics.galleries import MISTAKES, ORIGINALS, VERSIONS, galleries
from deeprecipe.report import figures, summary_dict, write_report
from deeprecipe.report import galleries as report_galleries
from deeprecipe.run.result import RunResult
from report_fixtures import run_result


@pytest.fixture(scope="module")
def digits() -> RunResult:
    return run_result("digits")


def mirror(result: RunResult) -> A.InRawUnits:
    """An augmentation that mirrors every image, in pixels, without clipping: its result is
    known exactly."""
    scaler = result.model.standardizer  # type: ignore[union-attr]
    assert scaler is not None and scaler.mean_ is not None and scaler.std_ is not None
    width = np.full(64, np.inf)
    return A.InRawUnits(A.Compose([A.HorizontalFlip(p=1.0)], image_shape=(8, 8)),
                        scaler.mean_, scaler.std_, -width, width)


def digits_galleries(result: RunResult, **options: Any) -> Any:
    assert result.model is not None and result.splits is not None
    assert result.model.standardizer is not None
    return galleries(result.model, result.splits, result.model.standardizer, (8, 8),
                     "multiclass", [f"digit {k}" for k in range(10)], **options)


def test_the_mistakes_are_the_dev_digits_the_network_gets_wrong_most_confident_first(
        digits: RunResult) -> None:
    X, y = dr.datasets.load("digits")
    assert digits.model is not None and digits.splits is not None
    shown = digits_galleries(digits).mistakes
    assert shown is not None
    dev = digits.splits.dev.indices
    wrong = dev[digits.model.predict(X[dev]) != y[dev]]  # the model takes raw digits
    assert shown.total == len(wrong) > 0 and shown.n_dev == len(dev)
    assert len(shown.images) == min(MISTAKES, len(wrong))
    assert set(shown.rows) <= set(wrong.tolist())
    # the images are the data's own pixels (0…16), not z-scores
    np.testing.assert_allclose(shown.images.reshape(len(shown.rows), 64), X[shown.rows],
                               atol=1e-4)
    assert shown.true == [f"digit {k}" for k in y[shown.rows]]
    predicted = digits.model.predict(X[shown.rows])
    assert shown.predicted == [f"digit {k}" for k in predicted]
    proba = digits.model.predict_proba(X[shown.rows])
    np.testing.assert_allclose(shown.confidence, proba.max(axis=1), rtol=1e-5)
    assert shown.confidence == sorted(shown.confidence, reverse=True)
    # the most confident mistake of all comes first
    sure = digits.model.predict_proba(X[wrong]).max(axis=1)
    assert shown.confidence[0] == pytest.approx(sure.max(), rel=1e-5)


def test_the_augmentation_gallery_shows_a_training_image_of_each_class_and_its_versions(
        digits: RunResult) -> None:
    X, y = dr.datasets.load("digits")
    assert digits.splits is not None
    shown = digits_galleries(digits, augment=mirror(digits), transforms=("flip",)).augmented
    assert shown is not None and shown.transforms == ("flip",)
    assert shown.originals.shape == (ORIGINALS, 8, 8)
    assert shown.versions.shape == (ORIGINALS, VERSIONS, 8, 8)
    assert set(shown.rows) <= set(digits.splits.train.indices.tolist())
    assert len(set(y[shown.rows])) == ORIGINALS  # one of each class, while classes last
    np.testing.assert_allclose(shown.originals.reshape(ORIGINALS, 64), X[shown.rows],
                               atol=1e-4)
    for k in range(VERSIONS):
        np.testing.assert_allclose(shown.versions[:, k], shown.originals[:, :, ::-1],
                                   atol=1e-4)
    again = digits_galleries(digits, augment=mirror(digits), transforms=("flip",)).augmented
    assert again is not None and again.rows == shown.rows  # seeded
    assert digits_galleries(digits).augmented is None  # no augmentation, no gallery


class Constant:
    """A regressor that predicts 0 for every image."""

    standardizer = None

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.zeros(len(X))


class Reader:
    """A classifier that reads the class off the first pixel (standardized): never wrong."""

    standardizer = None

    def __init__(self, scaler: dr.data.Standardizer) -> None:
        self.scaler = scaler

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        label = np.rint(self.scaler.inverse_transform(X)[:, 0]).astype(int)
        return np.eye(2)[label]


def small_images(y: np.ndarray) -> tuple[dr.data.Splits, dr.data.Standardizer]:
    rng = np.random.default_rng(0)
    X = rng.random((len(y), 2, 3, 3))
    X[:, 0, 0, 0] = y
    raw = dr.data.split(X.reshape(len(y), -1), y, stratify=False, seed=0)
    return dr.data.standardize_splits(raw)


def test_a_regressions_gallery_is_its_largest_dev_errors() -> None:
    y = np.linspace(-5, 5, 60)
    splits, scaler = small_images(y)
    shown = galleries(Constant(), splits, scaler, (2, 3, 3), "regression").mistakes  # type: ignore[arg-type]
    assert shown is not None and shown.confidence is None
    truth = np.abs(y[splits.dev.indices])
    assert [abs(v) for v in shown.true] == sorted(truth.tolist(), reverse=True)
    assert shown.predicted == [0.0] * len(truth)


def test_a_dev_set_without_mistakes_has_no_gallery_and_shapes_are_checked() -> None:
    y = np.arange(60) % 2
    splits, scaler = small_images(y.astype(float))
    assert galleries(Reader(scaler), splits, scaler, (2, 3, 3), "binary").mistakes is None  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^galleries: image_shape must be a shape of 18 "
                                         r"pixels \(the splits' features\); received "
                                         r"image_shape=\(3, 3\)\."):
        galleries(Reader(scaler), splits, scaler, (3, 3), "binary")  # type: ignore[arg-type]


# --- the report ------------------------------------------------------------------------------


def test_the_report_draws_both_galleries_and_summary_json_keeps_no_pixels(
        digits: RunResult, tmp_path: Path) -> None:
    shown = digits_galleries(digits, augment=mirror(digits), transforms=("flip",))
    result = dataclasses.replace(digits, galleries=shown)
    assert {"augmentation", "mistakes"} <= set(figures(result))
    assert not {"augmentation", "mistakes"} & set(figures(digits))  # no galleries, none
    paths = write_report(result, tmp_path)
    page = paths["report"].read_text(encoding="utf-8")
    assert 'id="images"' in page and 'id="augmentation"' in page and 'id="mistakes"' in page
    assert (f"of the {shown.mistakes.total:,} dev images the network gets wrong" in page)
    summary = json.loads(paths["summary"].read_text())["galleries"]
    assert summary["augmented"] == {"transforms": ["flip"], "rows": shown.augmented.rows,
                                    "versions": VERSIONS}
    assert summary["mistakes"]["rows"] == shown.mistakes.rows
    assert summary["mistakes"]["true"][0].startswith("digit ")
    assert len(json.dumps(summary)) < 5000  # the pixels stay in the PNGs
    assert summary_dict(digits)["galleries"] is None


@pytest.mark.parametrize("shape", [(5, 4), (5, 4, 1), (5, 4, 2), (5, 4, 3), (5, 4, 4)])
def test_every_image_layout_is_drawn_one_panel_per_image(shape: tuple[int, ...]) -> None:
    from deeprecipe.diagnostics.galleries import Augmented, Mistakes

    rng = np.random.default_rng(0)
    originals = rng.random((3, *shape)) * 255
    augmented = report_galleries.augmented(Augmented(
        originals, np.stack([originals] * 2, axis=1), ("flip",), [0, 1, 2]))
    assert len(augmented.axes) == 3 * 3  # the original and 2 versions per row
    wrong = report_galleries.mistakes(Mistakes(
        originals, ["a", "b", "a"], ["b", "a", "b"], [0.9, 0.8, 0.7], [0, 1, 2], 3, 10))
    drawn = [ax for ax in wrong.axes if ax.images]
    assert len(drawn) == 3
    colour = len(shape) == 3 and shape[2] in (3, 4)  # RGB(A) as colour, the rest grey
    assert drawn[0].images[0].get_array().ndim == (3 if colour else 2)


def test_a_confidence_near_1_is_not_shown_as_a_sure_100_percent() -> None:
    assert [report_galleries._percent(p) for p in (0.5, 0.994, 0.9996, 1.0)] == [
        "50%", "99%", ">99%", ">99%"]


# --- deeprecipe run, end to end ----------------------------------------------------------------


def test_run_on_colour_pictures_with_augment_shows_both_galleries(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (120, 8, 10, 3), dtype=np.uint8)
    np.savez(tmp_path / "pictures.npz", X=X, y=np.where(rng.random(120) < 0.5, "cat", "dog"))
    code = cli.main(["run", "--data", str(tmp_path / "pictures.npz"), "--augment",
                     "flip,rotate", "--hidden", "8", "--epochs", "2", "--gradcheck", "off",
                     "--bayes-error", "0", "--output-dir", str(tmp_path), "--name", "p"])
    assert code == cli.EXIT_OK
    folder = tmp_path / "p"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["galleries"]["augmented"]["transforms"] == ["flip", "rotate"]
    assert summary["galleries"]["mistakes"]["total"] > 0  # random labels: many mistakes
    assert set(summary["galleries"]["mistakes"]["true"]) <= {"cat", "dog"}
    augmented = [note for note in summary["notes"] if note["code"] == "augmented"]
    assert augmented[0]["values"] == {"transforms": ["flip", "rotate"], "defaults": False}
    assert {"augmentation.png", "mistakes.png"} <= {p.name for p in folder.iterdir()}
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert 'id="augmentation"' in page and 'id="mistakes"' in page


@pytest.mark.parametrize("kind", ["course .h5", "folder of photos"])
def test_any_image_data_gets_the_galleries_with_its_class_names(tmp_path: Path,
                                                                kind: str) -> None:
    import h5py
    from PIL import Image

    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, (60, 8, 8, 3), dtype=np.uint8)
    y = np.arange(60) % 2
    rng.shuffle(y)  # labels the pictures do not tell: mistakes on dev
    if kind == "course .h5":
        data = tmp_path / "train_catvnoncat.h5"
        with h5py.File(data, "w") as file:
            file["train_set_x"], file["train_set_y"] = X, y
            file["list_classes"] = np.array([b"non-cat", b"cat"])
    else:
        data = tmp_path / "photos"
        for index, (image, label) in enumerate(zip(X, y, strict=True)):
            (data / ("non-cat", "cat")[label]).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(data / ("non-cat", "cat")[label] / f"{index}.png")
    code = cli.main(["run", "--data", str(data), "--augment", "--hidden", "8", "--epochs", "2",
                     "--gradcheck", "off", "--bayes-error", "0", "--output-dir",
                     str(tmp_path / "runs"), "--name", "r"])
    assert code == cli.EXIT_OK
    shown = json.loads((tmp_path / "runs" / "r" / "summary.json").read_text())["galleries"]
    assert shown["augmented"]["transforms"] == ["flip", "crop", "rotate"]  # colour defaults
    assert shown["mistakes"]["total"] > 0
    assert set(shown["mistakes"]["true"]) | set(shown["mistakes"]["predicted"]) <= {
        "cat", "non-cat"}


def test_data_without_images_has_no_galleries(tmp_path: Path) -> None:
    assert cli.main(["run", "--data", "iris", "--hidden", "8", "--epochs", "2",
                     "--gradcheck", "off", "--bayes-error", "0", "--output-dir",
                     str(tmp_path), "--name", "i"]) == cli.EXIT_OK
    assert json.loads((tmp_path / "i" / "summary.json").read_text())["galleries"] is None
    assert 'id="images"' not in (tmp_path / "i" / "report.html").read_text(encoding="utf-8")
