"""Photos in folders (issue 17, point 2): :func:`deeprecipe.data.images.load_images` (classes
from subfolders, one size, grey or RGB, EXIF orientation, skipped and ignored files, the
cache), :func:`read_images`, the ``image_size`` option, and ``deeprecipe run``, ``tune`` and
``predict`` on a folder of generated PNGs and JPEGs in two classes."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import deeprecipe as dr
from deeprecipe import cli, runconfig, workflow
from deeprecipe.data import imagefile, images
from deeprecipe.data.filebase import DataFileError
from deeprecipe.data.images import list_images, load_images, read_images

SIZE = (6, 8)  # height, width of the generated images


def picture(label: int, index: int, size: tuple[int, int] = SIZE, grey: bool = False
            ) -> np.ndarray:
    """A picture of class ``label``: class 0 dark on the left, class 1 on the right (the
    classes are learnable), with a little per-image noise."""
    rng = np.random.default_rng(100 * label + index)
    height, width = size
    pixels = rng.integers(0, 60, (height, width, 3)).astype(np.uint8)
    half = slice(0, width // 2) if label == 0 else slice(width // 2, width)
    pixels[:, half] += 180
    return pixels[..., 0] if grey else pixels


def photo_folder(root: Path, per_class: int = 12, size: tuple[int, int] = SIZE,
                 grey: bool = False, classes: tuple[str, ...] = ("cat", "dog")) -> Path:
    """``root/<class>/<i>.png`` (even i) and ``.jpg`` (odd i)."""
    for label, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            suffix = ".png" if index % 2 == 0 else ".jpg"
            image = Image.fromarray(picture(label, index, size, grey))
            image.save(root / name / f"{index}{suffix}")
    return root


def test_a_folder_reads_as_images_with_classes_from_its_subfolders(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path / "photos", per_class=5)
    data = load_images(folder)
    assert data.X.shape == (10, 6, 8, 3) and data.X.dtype == np.float32
    assert data.classes == ["cat", "dog"] and data.y.tolist() == [0] * 5 + [1] * 5
    # a PNG is lossless: its pixels, raw (0-255); files in sorted order within a class
    np.testing.assert_array_equal(data.X[0], picture(0, 0))
    np.testing.assert_array_equal(data.X[5 + 4], picture(1, 4))  # 0.png 1.jpg 2.png 3.jpg 4.png
    assert data.notes == [] and data.task == "binary"


def test_grey_images_have_no_channel_axis(tmp_path: Path) -> None:
    data = load_images(photo_folder(tmp_path, per_class=3, grey=True))
    assert data.X.shape == (6, 6, 8)
    np.testing.assert_array_equal(data.X[0], picture(0, 0, grey=True))


def test_the_default_size_is_the_most_common_and_others_are_resized_with_a_note(
        tmp_path: Path) -> None:
    folder = photo_folder(tmp_path, per_class=4)
    Image.fromarray(picture(0, 9, (12, 4))).save(folder / "cat" / "odd.png")
    data = load_images(folder)
    assert data.X.shape == (9, 6, 8, 3)
    (note,) = data.notes
    assert note.code == "images_resized"
    assert note.values == {"count": 1, "total": 9, "size": "6x8", "sizes": 2, "given": False,
                           "stretched": 1}
    assert note.text.endswith("; 1 of another shape is stretched")
    given = load_images(folder, image_size=(3, 4))  # (height, width): half of 6x8
    assert given.X.shape == (9, 3, 4, 3)
    assert given.notes[0].values == {"count": 9, "total": 9, "size": "3x4", "sizes": 2,
                                     "given": True, "stretched": 1}


def test_a_sample_that_misleads_is_decoded_again_at_the_folders_own_size_and_colour(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # each class's first files guess the size and the colour; the folder's own win
    monkeypatch.setattr(images, "SAMPLE", 2)
    folder = photo_folder(tmp_path / "photos", per_class=2, grey=True)
    for name in ("cat", "dog"):
        for index in (7, 8, 9):  # sorted after the sample: most images are 4x4 RGB
            Image.fromarray(picture(0, index, (4, 4))).save(folder / name / f"{index}.png")
    data = load_images(folder)
    assert data.X.shape == (10, 4, 4, 3)
    np.testing.assert_array_equal(data.X[4], picture(0, 9, (4, 4)))  # cat/9.png, as saved
    grey = data.X[0]  # cat/0.png, a grey 6x8 image resized: its channels agree
    np.testing.assert_array_equal(grey[..., 0], grey[..., 2])
    assert data.notes[0].values["count"] == 4 and data.notes[0].values["size"] == "4x4"


def test_corrupt_images_are_skipped_and_counted(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path, per_class=4)
    (folder / "cat" / "garbage.jpg").write_bytes(b"not an image at all")
    whole = (folder / "dog" / "0.png").read_bytes()
    (folder / "dog" / "0b_truncated.png").write_bytes(whole[: len(whole) // 2])
    data = load_images(folder)
    assert data.X.shape == (8, 6, 8, 3) and data.y.tolist() == [0] * 4 + [1] * 4
    (note,) = data.notes
    assert note.code == "images_skipped" and note.values["count"] == 2
    assert note.values["files"] == ["cat/garbage.jpg (not an image)",
                                    "dog/0b_truncated.png (truncated)"]
    assert "skipped 2 image files that could not be decoded: cat/garbage.jpg" in note.text


def test_other_and_hidden_files_are_left_out(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path, per_class=3)
    (folder / "README.txt").write_text("my cats")
    (folder / "cat" / "notes.txt").write_text("x")
    (folder / "cat" / ".hidden.png").write_bytes(b"x")
    (folder / ".thumbnails").mkdir()
    (folder / ".thumbnails" / "a.png").write_bytes(b"x")
    nested = folder / "dog" / "more"
    nested.mkdir()
    Image.fromarray(picture(1, 7)).save(nested / "7.png")  # class folders are searched in depth
    data = load_images(folder)
    assert data.classes == ["cat", "dog"] and data.y.tolist() == [0] * 3 + [1] * 4
    (note,) = data.notes
    assert note.code == "images_ignored" and note.values == {"count": 2}


def test_an_exif_orientation_is_applied(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path, per_class=2, size=(8, 6))  # portrait: 8 high, 6 wide
    exif = Image.Exif()
    exif[imagefile.ORIENTATION] = 6  # stored turned: the camera says rotate 90° clockwise
    stored = Image.fromarray(picture(0, 5, (8, 6))).transpose(Image.Transpose.ROTATE_90)
    stored.save(folder / "cat" / "turned.jpg", exif=exif, quality=100)
    data = load_images(folder)
    assert data.X.shape == (5, 8, 6, 3) and not data.notes  # upright: no resize either


@pytest.mark.parametrize("make, problem", [
    (lambda root: root.mkdir(), "has no class subfolders"),
    (lambda root: (root / "cat").mkdir(parents=True), "is a class folder without images"),
    (lambda root: photo_folder(root, per_class=3, classes=("cat",)),
     "must have at least 2 class subfolders; received 1 (cat)"),
    (lambda root: photo_folder(root, per_class=1), "must have at least 5 data rows"),
])
def test_bad_folders_are_one_line_errors(tmp_path: Path, make: object, problem: str) -> None:
    root = tmp_path / "photos"
    make(root)  # type: ignore[operator]
    if (root / "cat").is_dir() and not any((root / "cat").iterdir()):
        photo_folder(root, per_class=3, classes=("dog",))
    with pytest.raises(DataFileError, match=re.escape(problem)) as caught:
        load_images(root)
    assert len(str(caught.value).splitlines()) == 1


def test_a_class_whose_every_image_is_corrupt_is_an_error(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path, per_class=4, classes=("cat",))
    (folder / "dog").mkdir()
    (folder / "dog" / "a.jpg").write_bytes(b"broken")
    with pytest.raises(DataFileError, match="dog: is a class folder without a readable image"):
        load_images(folder)


def test_the_cache_is_read_back_without_decoding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = photo_folder(tmp_path / "photos")
    (folder / "cat" / "garbage.png").write_bytes(b"broken")
    cache = tmp_path / "runs" / ".cache"
    first = load_images(folder, cache_dir=cache)
    assert [note.code for note in first.notes] == ["images_skipped", "images_cache"]
    assert not first.notes[-1].values["hit"]
    assert sorted(path.suffix for path in cache.iterdir()) == [".json", ".npy"]

    def no_decoding(*args: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(images, "decode_files", no_decoding)
    monkeypatch.setattr(images, "read_header", no_decoding)
    monkeypatch.setattr(images, "start_process", no_decoding)
    second = load_images(folder, cache_dir=cache)
    np.testing.assert_array_equal(second.X, first.X)
    np.testing.assert_array_equal(second.y, first.y)
    assert second.notes[:-1] == first.notes[:-1]  # the skipped file is still said
    assert second.notes[-1].code == "images_cache" and second.notes[-1].values["hit"]
    # another size, or a file changed, is another key: decoded again
    with pytest.raises(AssertionError, match="decoded again"):
        load_images(folder, cache_dir=cache, image_size=(3, 3))
    Image.fromarray(picture(0, 50, (7, 7))).save(folder / "cat" / "0.png")
    with pytest.raises(AssertionError, match="decoded again"):
        load_images(folder, cache_dir=cache)


def test_a_damaged_cache_is_decoded_again(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path / "photos")
    cache = tmp_path / "cache"
    first = load_images(folder, cache_dir=cache)
    (npy,) = cache.glob("*.npy")
    npy.write_bytes(npy.read_bytes()[:100])
    again = load_images(folder, cache_dir=cache)
    np.testing.assert_array_equal(again.X, first.X)
    assert not again.notes[-1].values["hit"]


def test_an_unwritable_cache_is_a_note_not_an_error(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path / "photos")
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would go")
    data = load_images(folder, cache_dir=blocked / ".cache")
    assert data.notes[-1].code == "images_cache_failed" and len(data.X) == 24


def test_progress_counts_images_and_ends_at_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    load_images(photo_folder(tmp_path), workers=1, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (24, 24)


def test_threads_give_the_same_pixels_and_the_same_skips(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path, per_class=40)  # more than one chunk of the pool
    Image.fromarray(picture(1, 50, (12, 4))).save(folder / "dog" / "odd.png")  # resized
    (folder / "cat" / "bad.jpg").write_bytes(b"broken")
    alone = load_images(folder, workers=1)
    calls: list[tuple[int, int]] = []
    pooled = load_images(folder, workers=3, progress=lambda d, t: calls.append((d, t)))
    np.testing.assert_array_equal(pooled.X, alone.X)
    np.testing.assert_array_equal(pooled.y, alone.y)
    assert pooled.notes == alone.notes and [n.code for n in pooled.notes] == [
        "images_resized", "images_skipped"]
    assert calls[-1] == (82, 82)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        load_images(folder, workers=0)


def test_decoder_processes_give_the_same_pixels_and_the_same_skips(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = photo_folder(tmp_path, per_class=40)
    Image.fromarray(picture(1, 50, (12, 4))).save(folder / "dog" / "odd.png")  # resized
    (folder / "cat" / "bad.jpg").write_bytes(b"broken")
    alone = load_images(folder, workers=1)
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        started.append(imagefile.start_process())
        return started[-1]

    monkeypatch.setattr(images, "PROCESS_FILES", 1)
    monkeypatch.setattr(images, "start_process", start)
    pooled = load_images(folder, workers=2)
    assert len(started) == 2 and [process.returncode for process in started] == [0, 0]
    np.testing.assert_array_equal(pooled.X, alone.X)
    assert pooled.notes == alone.notes
    monkeypatch.setattr(images, "CHUNK", 1)  # three chunks: the pool's
    X, read, failed = read_images([folder / "dog" / "odd.png", folder / "cat" / "bad.jpg",
                                   folder / "cat" / "0.png"], (6, 8, 3), workers=2)
    assert read == [0, 2] and failed == {1: "not an image"} and len(started) == 4
    np.testing.assert_array_equal(X[1], alone.X[0])


@pytest.mark.parametrize("process", ["ends", "cannot start"])
def test_a_decoder_process_that_fails_leaves_its_chunks_to_this_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, process: str) -> None:
    folder = photo_folder(tmp_path, per_class=40)
    alone = load_images(folder, workers=1)

    def start() -> subprocess.Popen[bytes]:
        if process == "cannot start":
            raise OSError("no more processes")
        return subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)

    monkeypatch.setattr(images, "PROCESS_FILES", 1)
    monkeypatch.setattr(images, "start_process", start)
    np.testing.assert_array_equal(load_images(folder, workers=2).X, alone.X)


def test_a_decoder_process_is_not_fooled_by_its_folder_and_ends_with_its_input(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A numpy.py in the folder the process starts in is not imported; closing its input
    ends it."""
    (tmp_path / "numpy.py").write_text("raise SystemExit('the wrong numpy')\n")
    image = tmp_path / "a.png"
    Image.fromarray(picture(0, 0)).save(image)
    monkeypatch.chdir(tmp_path)
    process = imagefile.start_process()
    target = imagefile.Target((8, 6), False)
    results, pixels = imagefile.ask(process, [image, tmp_path / "none.png"], target, False,
                                    False)
    assert results[0] == imagefile.Header((8, 6), "RGB", 1) and isinstance(results[1], str)
    np.testing.assert_array_equal(np.frombuffer(pixels, np.uint8).reshape(6, 8, 3),
                                  picture(0, 0))
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    assert process.wait(timeout=10) == 0
    process.stdout.close()


def test_read_images_reads_files_at_a_models_shape(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path, per_class=2)
    (tmp_path / "bad.jpg").write_bytes(b"no")
    files = [folder / "cat" / "0.png", tmp_path / "bad.jpg", folder / "dog" / "0.png"]
    X, read, failed = read_images(files, (6, 8, 3))
    assert X.shape == (2, 6, 8, 3) and read == [0, 2] and failed == {1: "not an image"}
    np.testing.assert_array_equal(X[1], picture(1, 0))
    grey, _, _ = read_images(files[:1], (3, 4))  # a model of grey images takes colour ones
    assert grey.shape == (1, 3, 4) and grey.std() > 0
    with pytest.raises(ValueError, match=r"image_shape must be \(h, w\) or \(h, w, 3\)"):
        read_images(files, (6, 8, 4))


def test_list_images_sorts_classes_and_files(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path, per_class=3, classes=("b", "a"))
    listing = list_images(folder)
    assert listing.classes == ["a", "b"]
    assert [path.relative_to(folder).as_posix() for path in listing.files[:3]] == [
        "a/0.png", "a/1.jpg", "a/2.png"]


# --- the option and the run ----------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("64x64", (64, 64)), ("32X48", (32, 48)), (" 10 x 20 ", (10, 20)), ([28, 14], (28, 14)),
])
def test_image_size_reads_height_by_width(value: object, expected: tuple[int, int]) -> None:
    assert runconfig.check("test", "image_size", value) == expected


@pytest.mark.parametrize("value", ["64", "0x5", "5x0", "64x64x3", "axb", [64], 64, "5000x5",
                                   [1.5, 2], True])
def test_bad_image_sizes_are_refused_naming_the_key(value: object) -> None:
    with pytest.raises(runconfig.ConfigError, match="test: image_size must be HxW"):
        runconfig.check("test", "image_size", value)


def test_a_folder_is_data_and_options_that_do_not_apply_are_refused(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path / "photos", per_class=3)
    runconfig.check_data(str(folder))
    config = runconfig.RunConfig.from_dict({"data": str(folder), "image_size": "4x4"})
    assert config.image_size == (4, 4)
    with pytest.raises(runconfig.ConfigError, match=r"image_size applies to a folder of images "
                       r"\(one subfolder per class\) only; received image_size=4x4 with "
                       "data='iris'"):
        runconfig.RunConfig.from_dict({"data": "iris", "image_size": "4x4"})
    with pytest.raises(runconfig.ConfigError, match="target applies to CSV, TSV and Parquet"):
        runconfig.RunConfig.from_dict({"data": str(folder), "target": "label"})
    with pytest.raises(runconfig.ConfigError, match="task must be auto or classification for "
                       "a folder of images"):
        runconfig.RunConfig.from_dict({"data": str(folder), "task": "regression"})
    with pytest.raises(runconfig.ConfigError, match="image_size applies"):
        workflow.load_data("iris", image_size=(4, 4))  # tune loads through load_data


def test_run_toml_reads_a_folder_relative_to_itself(tmp_path: Path) -> None:
    photo_folder(tmp_path / "project" / "photos", per_class=3)
    toml = tmp_path / "project" / "run.toml"
    toml.write_text('data = "photos"\nimage_size = [4, 6]\n')
    config = runconfig.resolve(toml, {})
    assert Path(config.data) == tmp_path / "project" / "photos" and config.image_size == (4, 6)


def test_load_data_flattens_a_folder_and_keeps_its_image_shape(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path / "photos", per_class=3)
    loaded = workflow.load_data(str(folder), cache=tmp_path / "cache")
    assert loaded.X.shape == (6, 6 * 8 * 3) and loaded.image_shape == (6, 8, 3)
    assert loaded.name == "photos" and loaded.classes == ["cat", "dog"]
    assert loaded.notes[-1].code == "images_cache"
    assert workflow.progress_unit(str(folder)) == "images"


def cli_run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


FAST = ["--hidden", "8", "--epochs", "3", "--patience", "2", "--bayes-error", "0",
        "--gradcheck", "off"]


def test_run_twice_on_a_folder_then_predict_on_a_folder_and_on_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = photo_folder(tmp_path / "photos", per_class=15)
    runs = tmp_path / "runs"
    for name in ("first", "second"):
        code = cli.main(["run", "--data", str(folder), "--output-dir", str(runs), "--name",
                         name, "--image-size", "6x8", *FAST])
        assert code == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "decoded 30 images; cached in" in out
    assert "read 30 decoded images from the cache" in out
    summary = json.loads((runs / "second" / "summary.json").read_text())
    assert summary["data"]["image_shape"] == [6, 8, 3]
    assert [note["code"] for note in summary["notes"] if note["code"].startswith("images")] \
        == ["images_cache"]
    config = json.loads((runs / "second" / "model" / "config.json").read_text())
    assert config["image_shape"] == [6, 8, 3] and config["classes"] == ["cat", "dog"]

    model = runs / "second" / "model"
    # a folder with class subfolders: predictions and the error against its labels
    assert cli.main(["predict", str(model), "--data", str(folder)]) == cli.EXIT_OK
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert list(rows[0]) == ["file", "label", "p_cat", "p_dog"] and len(rows) == 30
    assert rows[0]["file"] == "cat/0.png" and f"error on {folder}: " in captured.err
    expected = dr.load(model).predict(workflow.load_data(str(folder)).X)
    assert [row["label"] for row in rows] == [["cat", "dog"][k] for k in expected]
    # image files, of another size (resized to the model's), one of them broken
    Image.fromarray(picture(1, 3, (12, 16))).save(tmp_path / "big.png")
    (tmp_path / "broken.jpg").write_bytes(b"no")
    files = [str(folder / "dog" / "1.jpg"), str(tmp_path / "big.png"), str(tmp_path / "broken.jpg")]
    assert cli.main(["predict", str(model), "--data", *files]) == cli.EXIT_OK
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [row["file"] for row in rows] == files[:2]
    assert "note: skipped 1 image file that could not be decoded: " in captured.err
    # a folder of images without classes
    flat = tmp_path / "new"
    flat.mkdir()
    Image.fromarray(picture(0, 2)).save(flat / "a.png")
    assert cli.main(["predict", str(model), "--data", str(flat)]) == cli.EXIT_OK
    assert capsys.readouterr().out.splitlines()[1].startswith("a.png,")


def test_gradcheck_reads_a_folder_at_the_size_the_model_was_trained_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = photo_folder(tmp_path / "photos", per_class=6)  # 6x8 images
    runs = tmp_path / "runs"
    assert cli.main(["run", "--data", str(folder), "--output-dir", str(runs), "--name", "r",
                     "--image-size", "3x4", *FAST]) == cli.EXIT_OK
    capsys.readouterr()
    code = cli.main(["gradcheck", str(runs / "r" / "model"), "--data", str(folder),
                     "--rows", "4", "--points", "current"])
    assert code in (cli.EXIT_OK, cli.EXIT_FAILED_CHECK), capsys.readouterr().err
    assert "(4 rows)" in capsys.readouterr().out


def test_predict_refuses_images_for_a_model_not_trained_on_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = dr.Sequential([dr.Dense(2, "softmax")], input_dim=144)
    model.save(tmp_path / "model")
    folder = photo_folder(tmp_path / "photos", per_class=2)
    assert cli.main(["predict", str(tmp_path / "model"), "--data", str(folder)]) == \
        cli.EXIT_USAGE
    assert "the model was not trained on images" in capsys.readouterr().err
    assert cli.main(["predict", str(tmp_path / "model"), "--data", str(folder / "cat" / "0.png"),
                     "notes.txt"]) == cli.EXIT_USAGE
    assert "image files (.jpg, .jpeg, .png); received notes.txt, which does not exist" in \
        capsys.readouterr().err


def test_run_refuses_a_bad_folder_in_one_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    folder = photo_folder(tmp_path / "photos", per_class=3)
    (folder / "bird").mkdir()
    code = cli.main(["run", "--data", str(folder), "--output-dir", str(tmp_path / "runs"),
                     *FAST])
    assert code == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bird: is a class folder without images" in err
    assert not any((tmp_path / "runs").glob("photos*"))  # no run folder left behind


@pytest.mark.slow
def test_tune_takes_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = photo_folder(tmp_path / "photos", per_class=15)
    code = cli.main(["tune", "--data", str(folder), "--image-size", "3x4", "--output-dir",
                     str(tmp_path / "runs"), "--name", "t", "--budget", "1", "--workers", "1",
                     "--bayes-error", "0"])
    assert code == cli.EXIT_OK
    assert (tmp_path / "runs" / ".cache").is_dir()
    config = json.loads((tmp_path / "runs" / "t" / "model" / "config.json").read_text())
    assert config["image_shape"] == [3, 4, 3]
