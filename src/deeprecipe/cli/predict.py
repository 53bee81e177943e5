"""``deeprecipe predict MODEL``: predictions of a saved model as CSV, for a data file, a
folder of images or image files."""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.text import Text

from .. import datasets, persistence, runconfig
from ..data.course import load_h5, load_mat
from ..data.encode import Encoder
from ..data.images import IMAGE_SUFFIXES, list_images, read_images
from ..data.io import (
    load_csv,
    load_csv_features,
    load_csv_table,
    load_npy,
    load_npy_features,
    load_npz,
    load_npz_features,
    load_parquet,
    load_parquet_features,
    load_parquet_table,
)
from ..diagnostics import show_error
from ..model import Sequential
from ..model import read as read_model
from .base import EXIT_OK, checked, stderr_console, task_of, write_stdout


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "predict", help="predictions of a saved model as CSV",
        description="Predict with a saved model (e.g. runs/<name>/model), applying its "
        "standardizer: a label column and, for classifiers, one probability column per class.",
    )
    parser.add_argument("model", help="a saved model folder (runs/<name>/model)")
    parser.add_argument("--data", required=True, nargs="+", metavar="DATA",
                        help=".csv, .tsv or .parquet (feature columns by name), .npy "
                        "(features), .npz, .mat, .h5, a built-in name, or images for a model "
                        "trained on images: a folder of them (one subfolder per class also "
                        "prints the error), or image files (.jpg, .jpeg, .png)")
    parser.add_argument("--target", default=None, metavar="COLUMN",
                        help="the label column of the CSV, TSV or Parquet file: also print "
                        "the error")
    parser.add_argument("--target-file", default=None, metavar="FILE",
                        help="the .npy file of the labels of .npy data: also print the error")
    parser.add_argument("--arrays", default=None, metavar=runconfig.OPTIONS["arrays"].metavar,
                        help=runconfig.OPTIONS["arrays"].help + "; every set's rows are "
                        "predicted, in the file's order, and their labels scored")
    parser.add_argument("--out", default=None, metavar="preds.csv",
                        help="write the CSV here, not over --data nor into the "
                        "model folder (default: standard output)")
    parser.set_defaults(handler=predict_command)


def predict_inputs(spec: str, target: str | None, model: Sequential,
                   classes: list[Any] | None = None, target_file: str | None = None,
                   arrays: tuple[str, ...] | None = None, encoder: Encoder | None = None
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """``(X, y or None)``: a built-in dataset; an ``.npz`` (``X``, optional ``y``); an
    ``.npy`` of features (``--target-file``: the ``.npy`` file of their labels); a ``.mat``
    or ``.h5`` (every set's features and labels, by the course's names or ``arrays``); or a
    ``.csv``, ``.tsv`` or ``.parquet`` whose features are picked by the names the model's
    standardizer was fit with (``--target``: a label column). Labels are matched to the
    model's ``classes`` by name. A model trained on a table with text columns or missing
    values has its ``encoder``: the raw columns it was trained on are read as that table's
    were (text and missing values) and encoded as its training part was."""
    runconfig.check_data(spec, target, labelled=False, target_file=target_file, arrays=arrays)
    path = Path(spec)
    suffix = path.suffix.lower()
    if spec in datasets.list():
        return datasets.load(spec)
    if suffix in (".npz", ".npy"):
        return _array_inputs(path, target_file, model, classes)
    if suffix in runconfig.COURSE_FILES:
        load = load_mat if suffix == ".mat" else load_h5
        loaded = load(path, arrays=arrays, task=task_of(model), min_rows=1, min_classes=1)
        X = loaded.X.reshape(len(loaded.X), -1)
        if encoder is not None:  # NaN features: imputed as the training part's were
            X = encoder.transform(X, loaded.categories)
        return X, model_codes(loaded.y, loaded.classes, classes,
                              f"the array {loaded.target!r} of {path}")
    names = model.standardizer.feature_names_ if model.standardizer is not None else None
    if encoder is not None:
        names = encoder.names_
    delimiter = "\t" if suffix == ".tsv" else ","
    y = None
    if target is not None:
        options: dict[str, Any] = {"task": task_of(model), "min_rows": 1, "min_classes": 1}
        table = (load_parquet(path, target, **options) if suffix == ".parquet" else
                 load_csv(path, target=target, delimiter=delimiter, **options))
        y = model_codes(table.y, table.classes, classes, f"the --target column {target!r}")
        if names is None:
            return table.X, y
    if encoder is not None:
        kinds = encoder.kinds()
        raw = (load_parquet_table(path, names, kinds=kinds) if suffix == ".parquet" else
               load_csv_table(path, names, kinds=kinds, delimiter=delimiter))
        return encoder.transform(raw.X, raw.categories), y
    if suffix == ".parquet":
        return load_parquet_features(path, names)[0], y
    return load_csv_features(path, names, delimiter=delimiter)[0], y


def _array_inputs(path: Path, target_file: str | None, model: Sequential,
                  classes: list[Any] | None) -> tuple[np.ndarray, np.ndarray | None]:
    """An ``.npz``'s ``X`` and ``y`` (when it has one), or an ``.npy``'s features and the
    labels of ``target_file`` (when given), rows flattened."""
    options: dict[str, Any] = {"task": task_of(model), "min_rows": 1, "min_classes": 1}
    if path.suffix.lower() == ".npy":
        if target_file is None:
            X = load_npy_features(path)
            return X.reshape(len(X), -1), None
        loaded = load_npy(path, target_file, **options)
        where = f"the labels file {target_file}"
    else:
        X = load_npz_features(path)  # the file and its X checked, as training checks them
        with np.load(path, allow_pickle=False) as archive:
            if "y" not in archive.files:
                return X.reshape(len(X), -1), None
        loaded = load_npz(path, **options)  # checks X and y against each other
        where = f"the array 'y' of {path}"
    return loaded.X.reshape(len(loaded.X), -1), model_codes(
        loaded.y, loaded.classes, classes, where)


def is_images(specs: list[str]) -> bool:
    """Whether ``--data`` names images: several paths, a folder or an image file."""
    return len(specs) > 1 or Path(specs[0]).is_dir() or \
        Path(specs[0]).suffix.lower() in IMAGE_SUFFIXES


def image_inputs(specs: list[str], image_shape: Any, classes: list[Any] | None
                 ) -> tuple[np.ndarray, np.ndarray | None, list[str], dict[str, str]]:
    """``(X, y or None, file names, {file: why it was skipped})`` of a folder of images (its
    class subfolders, when it has no image of its own, give ``y`` by the model's
    ``classes``) or of image files, read at the model's ``image_shape`` as training read
    them (:func:`~deeprecipe.data.images.read_images`)."""
    y = None
    folder = Path(specs[0]) if len(specs) == 1 and Path(specs[0]).is_dir() else None
    if folder is not None:
        files = sorted(path for path in folder.iterdir() if path.is_file()
                       and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."))
        if not files:  # one subfolder per class: the answers are known
            listing = list_images(folder)
            files = listing.files
            y = model_codes(listing.labels, listing.classes, classes,
                            f"the class folders of {folder}")
        names = [path.relative_to(folder).as_posix() for path in files]
    else:
        files = [Path(spec) for spec in specs]
        for path in files:
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                raise ValueError(f"predict: --data must be one data file or folder, or image "
                                 f"files ({', '.join(IMAGE_SUFFIXES)}); received {path}"
                                 f"{'' if path.exists() else ', which does not exist'}.")
        names = list(specs)
    if image_shape is None:
        raise ValueError(f"predict: --data holds images, but the model was not trained on "
                         f"images (its config.json has no image_shape); received --data="
                         f"{' '.join(specs)}.")
    X, read, failed = read_images(files, tuple(int(side) for side in image_shape))
    if not read:
        raise ValueError(f"predict: no image of --data could be decoded ({len(files)} "
                         f"file{'' if len(files) == 1 else 's'}).")
    return (X.reshape(len(X), -1), None if y is None else y[read],
            [names[index] for index in read], {names[i]: why for i, why in failed.items()})


def model_codes(y: np.ndarray, labels: list[Any] | None, classes: list[Any] | None,
                where: str) -> np.ndarray:
    """A file's class codes (``labels[y[i]]`` is row ``i``'s label) as the model's codes
    (``classes[code]``): by label, so a file without some class still scores right.
    ``where`` names the labels' place for the error."""
    if labels is None or classes is None:
        return y
    code = {label: index for index, label in enumerate(classes)}
    unknown = [label for label in labels if label not in code]
    if unknown:
        raise ValueError(f"predict: {where} holds labels the model was not trained on: "
                         f"{unknown[:5]}; it knows {classes}.")
    return np.array([code[label] for label in labels], dtype=np.intp)[y]


def predictions_csv(model: Sequential, X: np.ndarray, classes: list[Any] | None,
                    files: list[str] | None = None) -> str:
    """``label`` (the original class names when known) and ``p_<class>`` per class for
    classifiers; ``prediction`` for regression; first a ``file`` column when ``files``
    name the rows (images)."""
    regression = model.loss.task == "regression"
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
        outputs = model.predict(X) if regression else model.predict_proba(X)
    outputs = outputs.reshape(len(X), -1)
    bad = np.flatnonzero(~np.isfinite(outputs).all(axis=1))
    if bad.size:
        raise ValueError(f"predict: the model's output is not finite (an overflow) on "
                         f"{bad.size} of {len(X)} rows, the first is row {bad[0] + 1}; the "
                         "inputs (or the weights) are far outside the range it was trained "
                         "on.")
    if regression:
        header = ["prediction"] if outputs.shape[1] == 1 else \
            [f"prediction_{j}" for j in range(outputs.shape[1])]
        rows: Iterable[list[Any]] = ([f"{v:.9g}" for v in row] for row in outputs)
    else:  # a saved model's classes match its output layer: dr.load checked them
        names = classes if classes is not None else list(range(outputs.shape[1]))
        header = ["label", *(f"p_{name}" for name in names)]
        rows = ([names[index], *(f"{p:.6g}" for p in row)]
                for index, row in zip(outputs.argmax(axis=1), outputs, strict=True))
    if files is not None:  # the file of each row first
        header = ["file", *header]
        rows = ([file, *row] for file, row in zip(files, rows, strict=True))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def check_out(text: str, data: list[str], model: str) -> Path:
    """``--out`` as a file path that replaces neither its input (the ``--data`` file) nor a
    file of the model: both were lost to a careless ``--out``."""
    out = Path(text)
    if not text.strip():  # Path("") is the working folder
        raise ValueError("predict: --out must be a file path; received --out=''.")
    if out.is_file() and any(Path(spec).is_file() and out.samefile(spec) for spec in data):
        raise ValueError(f"predict: --out must not be the --data file; received --out="
                         f"{str(out)!r}. help: write the predictions to another file.")
    if out.resolve().is_relative_to(Path(model).resolve()):
        raise ValueError(f"predict: --out must be outside the model folder {model}; received "
                         f"--out={str(out)!r}.")
    if out.is_dir():
        raise IsADirectoryError(f"predict: --out must be a file path; received --out={text!r}, "
                                "a folder.")
    return out


def predict_command(args: argparse.Namespace, console: Console) -> int:
    out = None if args.out is None else check_out(args.out, args.data, args.model)
    model, saved = read_model(args.model)
    files: list[str] | None = None
    skipped: dict[str, str] = {}
    if is_images(args.data):
        for key in ("target", "target_file", "arrays"):
            if getattr(args, key) is not None:
                flag = "--" + key.replace("_", "-")
                raise ValueError(f"predict: {flag} applies to data files only; received "
                                 f"{flag} with images (a folder's class subfolders are "
                                 "their labels).")
        X, y, files, skipped = image_inputs(args.data, saved.get("image_shape"),
                                            saved.get("classes"))
    else:
        arrays = None if args.arrays is None else checked("predict: ", "arrays", args.arrays)
        encoder = None if saved.get("encoder") is None else \
            Encoder.from_dict(saved["encoder"])
        X, y = predict_inputs(args.data[0], args.target, model, saved.get("classes"),
                              args.target_file, arrays, encoder)
    if X.shape[1] != model.input_dim:
        raise ValueError(f"predict: --data must have {model.input_dim} feature columns (the "
                         f"model's input); received {X.shape[1]} in {' '.join(args.data)}.")
    text = predictions_csv(model, X, saved.get("classes"), files)
    if out is None:
        write_stdout(text)
    else:
        try:
            persistence.atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        except OSError as error:  # it names the temporary file beside --out
            reason = "a folder on its path is a file" if isinstance(
                error, (FileExistsError, NotADirectoryError)) else error.strerror
            raise ValueError(f"predict: cannot write --out={args.out!r}: {reason}.") from None
        console.print(Text(f"wrote {len(X):,} predictions to {out}"))
    if y is not None:
        regression = model.loss.task == "regression"
        stderr_console().print(f"{'MSE' if regression else 'error'} on {' '.join(args.data)}: "
                               f"{show_error(model.evaluate(X, y)['error'], regression)} "
                               f"({len(X):,} examples)")
    if skipped:
        shown = ", ".join(f"{name} ({why})" for name, why in list(skipped.items())[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        stderr_console().print(Text(f"note: skipped {len(skipped)} image file"
                                    f"{'' if len(skipped) == 1 else 's'} that could not be "
                                    f"decoded: {shown}{more}"))
    return EXIT_OK

