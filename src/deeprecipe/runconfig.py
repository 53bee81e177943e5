"""``RunConfig``: every option of ``deeprecipe run``, from a TOML file and/or flags.

The options are one table (:data:`OPTIONS`: parser, constraint, help) that checks a
``run.toml``, the command line's flags and a run folder's ``run.json`` alike, so an option
has one meaning and one error message everywhere. Flags override the file (:func:`resolve`).
"""

from __future__ import annotations

import difflib
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import activations, datasets, initializers, optimizers
from ._checks import BadValue, describe
from .data import TASKS
from .data.augment import TRANSFORMS
from .data.cells import NUMBER
from .data.encode import MISSING_POLICIES
from .data.io import FILE_SUFFIXES
from .diagnostics import bias_variance
from .findings import jsonable_fields

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

GRADCHECK_MODES = ("auto", "full", "sampled", "directional", "off")
HIDDEN_ACTIVATIONS = tuple(name for name in activations.ACTIVATIONS if name != "softmax")
COMMAND_LINE = "command line"


class ConfigError(ValueError):
    """An option with a bad value, or an unknown option. The message names the option's key
    (``epochs must be …``); ``keys`` are the keys it names and ``source`` where their values
    came from (``None``: the config; :data:`COMMAND_LINE`: flags), so the CLI can spell
    them as flags."""

    def __init__(self, message: str, *keys: str, source: str | None = None) -> None:
        super().__init__(message)
        self.keys, self.source = keys, source


class MissingFile(FileNotFoundError):
    """A data or TOML file that does not exist; ``keys`` and ``source`` as
    :class:`ConfigError`'s."""

    def __init__(self, message: str, *keys: str) -> None:
        super().__init__(message)
        self.keys, self.source = keys, None


@dataclass(frozen=True)
class RunConfig:
    """Every option of the main job (``deeprecipe run``); see :data:`OPTIONS` for each.

    ``augment`` is ``False`` (off), ``True`` (the image data's defaults,
    :func:`~deeprecipe.data.augment.defaults`) or transform names of
    :data:`~deeprecipe.data.augment.TRANSFORMS`. ``bayes_error`` is a fraction, or
    ``"auto"``: the yardstick of reference models
    (:func:`~deeprecipe.diagnostics.yardstick.fit_references`) on the run's split.
    ``keep_prob`` is one probability per hidden layer (``None``: 0.8 on the first hidden
    layer and no dropout after it; :meth:`keep_probs` resolves it). ``init=None`` picks He
    for ReLU-like activations and Xavier otherwise. ``name=None`` names the run folder
    after the data and the time.
    """

    data: str = "digits"
    target: str | None = None
    target_file: str | None = None
    arrays: tuple[str, ...] | None = None
    dev_test_data: str | None = None
    task: str = "auto"
    drop_missing_target: bool = False
    missing: str = "impute"
    image_size: tuple[int, int] | None = None
    name: str | None = None
    output_dir: str = "runs"
    hidden: tuple[int, ...] = (128, 64)
    activation: str = "relu"
    init: str | None = None
    l2: float = 1.0
    l1: float = 0.0
    keep_prob: tuple[float, ...] | None = None
    epochs: int = 300
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    patience: int = 20
    augment: bool | tuple[str, ...] = False
    bayes_error: float | str = "auto"
    gradcheck: str = "auto"
    checkpoint_every: int = 10
    seed: int = 0

    def keep_probs(self) -> tuple[float, ...]:
        """One keep_prob per hidden layer."""
        if self.keep_prob is not None:
            return self.keep_prob
        return (0.8,) + (1.0,) * (len(self.hidden) - 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON types, with ``keep_prob`` resolved (what ``run.json`` stores)."""
        return jsonable_fields(self, keep_prob=self.keep_probs())

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "config") -> RunConfig:
        """A checked config from ``{key: value}`` (unknown keys and bad values raise a
        :class:`ConfigError` that names ``source`` and the key)."""
        return _checked(cls(**parse(values, source)), source)


@dataclass(frozen=True)
class Option:
    """One option: how to read a value (TOML value or flag text) and what it must be."""

    parse: Callable[[Any], Any]
    constraint: str
    help: str
    metavar: str | None = None
    bare: str | None = None  # a flag's value when it is given alone (``--augment``)


# --- parsers: each takes a TOML value or a flag's text and returns the value, or raises -------


INTEGER = re.compile(r"[+-]?[0-9]+")


def integer(value: Any) -> int:
    """An integer, or its text in ASCII digits (Python's ``int()`` also reads ``1_000`` and
    Arabic-Indic or full-width digits); also argparse's ``type`` for an integer flag."""
    if isinstance(value, str):
        if not INTEGER.fullmatch(value.strip()):
            raise BadValue
        try:
            return int(value.strip())
        except ValueError:  # more digits than Python converts (4,300)
            raise BadValue from None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise BadValue
    return int(value)


def number(value: Any) -> float:
    """A finite number, or its text in the forms of a CSV cell (:data:`.data.cells.NUMBER`);
    also argparse's ``type`` for a number flag."""
    if isinstance(value, str):
        if not NUMBER.fullmatch(value.strip()):
            raise BadValue
        value = float(value.strip())
    elif isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise BadValue
    if not math.isfinite(value):
        raise BadValue
    return float(value)


SEED_MAX = 2**32 - 1  # the largest seed NumPy's RandomState and scikit-learn accept


def _within(parse: Callable[[Any], Any], low: float, high: float = math.inf,
            above: bool = False) -> Callable[[Any], Any]:
    """``parse``, then refuse values below ``low`` (``above``: not above it) or above
    ``high``."""
    def check(value: Any) -> Any:
        parsed = parse(value)
        if parsed < low or (above and parsed == low) or parsed > high:
            raise BadValue
        return parsed

    return check


positive_int = _within(integer, 1)
non_negative_int = _within(integer, 0)
seed_int = _within(integer, 0, SEED_MAX)
non_negative = _within(number, 0.0)
positive = _within(number, 0.0, above=True)


def _list_of(parse: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, ...]]:
    """A non-empty list of values that ``parse`` reads: a TOML array, or the comma-separated
    text of a flag (``128,64``; an empty item, ``10,,3``, is left for ``parse`` to refuse)."""
    def check(value: Any) -> tuple[Any, ...]:
        if isinstance(value, str):
            value = value.replace(" ", "").split(",")
        elif not isinstance(value, (list, tuple, np.ndarray)):
            value = [value]
        items = tuple(parse(item) for item in value)
        if not items:
            raise BadValue
        return items

    return check


units = _list_of(positive_int)
probabilities = _list_of(_within(number, 0.0, 1.0, above=True))


def array_names(value: Any) -> tuple[str, ...]:
    """2, 4 or 6 distinct array names (``X,y,Xval,yval``): features and labels of the
    training set, then of the dev and test sets."""
    names = _list_of(text)(value)
    if len(names) not in (2, 4, 6) or len(set(names)) != len(names):
        raise BadValue("name a features array and its labels array per set, e.g. "
                       "X,y or X,y,Xval,yval.")
    return names


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadValue
    return value.strip()


def folder_name(value: Any) -> str:
    name = text(value)
    if name in (".", "..") or any(c in name for c in "/\\") or name.startswith("-") \
            or not name.isprintable():
        raise BadValue
    return name


BOOLEANS = ("true", "false", "yes", "no")
IMAGE_SIDE = 4096  # the largest height or width image_size takes
SIZE = re.compile(r"([0-9]+)\s*[xX×]\s*([0-9]+)")


def image_size(value: Any) -> tuple[int, int]:
    """``(height, width)`` from ``"64x64"`` (a flag, or TOML text) or ``[64, 64]`` (a TOML
    array): positive integers up to :data:`IMAGE_SIDE`."""
    if isinstance(value, str):
        match = SIZE.fullmatch(value.strip())
        if match is None:
            raise BadValue
        value = [match[1], match[2]]
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise BadValue
    height, width = (_within(integer, 1, IMAGE_SIDE)(side) for side in value)
    return height, width


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in BOOLEANS:
        return value.strip().lower() in ("true", "yes")
    raise BadValue


def augmentations(value: Any) -> bool | tuple[str, ...]:
    """``true`` (the data's defaults), ``false`` (off), or names of
    :data:`~deeprecipe.data.augment.TRANSFORMS`: a TOML array, or a flag's comma-separated
    text (``flip,rotate``); returned in that table's order, each once."""
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in BOOLEANS):
        return boolean(value)
    names = _list_of(text)(value)
    unknown = [name for name in names if name not in TRANSFORMS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], TRANSFORMS, n=1)
        raise BadValue(f"did you mean {close[0]!r}?" if close else "")
    return tuple(name for name in TRANSFORMS if name in names)


def one_of(choices: Iterable[str], description: str, metavar: str) -> Option:
    """The option whose value is one of ``choices``."""
    names = tuple(choices)

    def parse(value: Any) -> str:
        if not isinstance(value, str) or value.strip() not in names:
            raise BadValue
        return value.strip()

    return Option(parse, "one of " + ", ".join(map(repr, names)), description, metavar)


BAYES_ERROR = f"{bias_variance.AUTO!r} or {bias_variance.FRACTION}"


def bayes_error(value: Any) -> float | str:
    """``"auto"`` (the yardstick; any case), or an error rate read by
    :func:`~deeprecipe.diagnostics.bias_variance.fraction` (``0.01``, ``"1%"``)."""
    if bias_variance.is_auto(value):
        return bias_variance.AUTO
    return bias_variance.fraction(value)


DATA_FILES = ", ".join(FILE_SUFFIXES)
IMAGE_FOLDER = "a folder of images (one subfolder per class)"
TABLES = (".csv", ".tsv", ".parquet")  # files whose target is a column
COURSE_FILES = (".mat", ".h5", ".hdf5")  # files of named arrays (deeprecipe.data.course)

OPTIONS: dict[str, Option] = {
    "data": Option(text, f"a built-in dataset name, a data file ({DATA_FILES}) or "
                   f"{IMAGE_FOLDER}",
                   f"built-in dataset name, data file ({DATA_FILES}) or {IMAGE_FOLDER}, "
                   "JPEG or PNG (default: digits)", "NAME|FILE|FOLDER"),
    "target": Option(text, "a column name", "the label column of a CSV, TSV or Parquet file",
                     "COLUMN"),
    "target_file": Option(text, "a file path", "the labels of .npy data: a second .npy file, "
                          "one label per row", "FILE"),
    "arrays": Option(array_names, "2, 4 or 6 distinct array names: the features and labels of "
                     "the training set, then of the validation (dev) and test sets",
                     "the arrays of a .mat or .h5 file: features and labels of the training "
                     "set, then of the dev and test sets, e.g. X,y,Xval,yval (default: the "
                     "course's names: X/y, Xval/yval, Xtest/ytest; train_set_x/train_set_y, "
                     "dev_set_x/dev_set_y, test_set_x/test_set_y)",
                     "X,Y[,XDEV,YDEV[,XTEST,YTEST]]"),
    "dev_test_data": Option(text, "a data file path", "a second data file, the data you care "
                            "about: dev and test come only from it (the rest of it joins "
                            "training), and a train-dev part held out of --data separates "
                            "variance from data mismatch (default: none)", "FILE"),
    "task": one_of(TASKS, "what the target of a data file is: classification, "
                   "regression, or auto (text and few distinct whole numbers are classes; "
                   "default: auto)", "KIND"),
    "drop_missing_target": Option(boolean, "true or false",
                                  "drop the rows whose target is missing (empty, NA, NaN, "
                                  "null, …) and report how many (default: off: they are an "
                                  "error naming them)"),
    "missing": one_of(MISSING_POLICIES, "what to do with missing feature values (empty, NA, "
                      "NaN, null, …): impute (a number column's training median; a text "
                      "column's own category) or error (refuse the data, naming the columns; "
                      "default: impute)", "POLICY"),
    "image_size": Option(image_size, f"HxW, a height and a width in pixels from 1 to "
                         f"{IMAGE_SIDE} (e.g. 64x64, or [64, 64] in a TOML file)",
                         "the size a folder of images is resized to, height x width, e.g. "
                         "64x64 (default: the most common size in the folder)", "HxW"),
    "name": Option(folder_name, "a folder name of printable characters (not '.' or '..', "
                   "no '/' or '\\', not starting with '-')",
                   "the run's folder name under output_dir (default: data + time)", "NAME"),
    "output_dir": Option(text, "a folder path", "where run folders go (default: runs)", "DIR"),
    "hidden": Option(units, "positive integers, one per hidden layer (e.g. [128, 64])",
                     "hidden layer sizes, e.g. 128,64 (default: 128,64)", "N,N,..."),
    "activation": one_of(HIDDEN_ACTIVATIONS, "hidden layers' activation: "
                         f"{', '.join(HIDDEN_ACTIVATIONS)} (default: relu)", "NAME"),
    "init": one_of(initializers.INITIALIZERS, "weight initialization: zeros, random, xavier, "
                   "glorot, he (or <name>_uniform) (default: he for relu, xavier otherwise)",
                   "NAME"),
    "l2": Option(non_negative, "a finite number >= 0", "L2 regularization λ (default: 1.0)",
                 "LAMBDA"),
    "l1": Option(non_negative, "a finite number >= 0", "L1 regularization λ (default: 0)",
                 "LAMBDA"),
    "keep_prob": Option(probabilities, "probabilities in (0, 1], one per hidden layer or one "
                        "for all", "dropout keep_prob per hidden layer, e.g. 0.8,1 (default: "
                        "0.8 on the first hidden layer)", "P,P,..."),
    "epochs": Option(positive_int, "a positive integer", "most epochs (default: 300)", "N"),
    "batch_size": Option(positive_int, "a positive integer", "mini-batch size (default: 64)",
                         "N"),
    "optimizer": one_of(optimizers.OPTIMIZERS, "sgd, momentum or adam (default: adam)", "NAME"),
    "learning_rate": Option(positive, "a number > 0", "learning rate α (default: 0.001)",
                            "ALPHA"),
    "patience": Option(positive_int, "a positive integer",
                       "early stopping: epochs without a better dev cost (default: 20)", "N"),
    "augment": Option(augmentations, "true (the data's defaults), false, or transforms from "
                      f"{', '.join(TRANSFORMS)} (e.g. flip,rotate)",
                      "augment the training images: transforms from "
                      f"{', '.join(TRANSFORMS)}, e.g. flip,rotate; alone: the data's defaults "
                      "(crop,rotate, and flip for colour pictures; never for digits) "
                      "(default: off)", "T,T,...", bare="true"),
    "bayes_error": Option(bayes_error, BAYES_ERROR,
                          "Bayes (human-level) error for the diagnosis: auto (the yardstick: "
                          "the best dev error of reference models, a linear model and "
                          "gradient boosting, fitted on the same split), or a known error, "
                          "0.01 or 1%, for regression a fraction of the target's variance; 0 "
                          "reads bias against a perfect score (default: auto)",
                          "auto|ERROR"),
    "gradcheck": one_of(GRADCHECK_MODES, "gradient check mode: auto (full for small networks, "
                        "else sampled), full, sampled, directional or off (default: auto)",
                        "MODE"),
    "checkpoint_every": Option(non_negative_int, "an integer >= 0",
                               "also write a checkpoint every N epochs; 0: only on an "
                               "interruption (default: 10)", "N"),
    "seed": Option(seed_int, f"an integer from 0 to {SEED_MAX} (2**32 - 1)",
                   "seed of the split, the weights, shuffling and dropout (default: 0)", "N"),
}
assert set(OPTIONS) == {f.name for f in fields(RunConfig)}  # one table entry per field


def check(where: str, key: str, value: Any) -> Any:
    """``value`` read by the option ``key`` of :data:`OPTIONS`, for a Python API that takes
    the option (``where`` names it: ``Config``, ``DeepClassifier.fit``); a
    :class:`ConfigError` naming ``where`` and the key otherwise."""
    try:
        return OPTIONS[key].parse(value)
    except BadValue as error:
        raise ConfigError(f"{where}: {key} must be {OPTIONS[key].constraint}; received "
                          f"{key}={describe(value)}.{error.help}", key, source=where) from None


def parse(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Check every ``key = value`` of ``source``; returns the parsed values."""
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        if key not in OPTIONS:
            close = difflib.get_close_matches(key.replace("-", "_"), list(OPTIONS), n=1)
            hint = f" help: did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{source}: unknown key {key!r}.{hint} Valid keys: "
                              f"{', '.join(OPTIONS)}.")
        optional = RunConfig.__dataclass_fields__[key].default is None
        parsed[key] = None if value is None and optional else check(source, key, value)
    return parsed


def _checked(config: RunConfig, source: str) -> RunConfig:
    """Checks between options (keep_prob against hidden, data against target, task and
    augment)."""
    keep = config.keep_prob
    if keep is not None and len(keep) == 1:
        keep = keep * len(config.hidden)
        config = replace(config, keep_prob=keep)
    if keep is not None and len(keep) != len(config.hidden):
        raise ConfigError(
            f"{source}: keep_prob must have one value per hidden layer ({len(config.hidden)}: "
            f"hidden={list(config.hidden)}) or a single value; received keep_prob={list(keep)}.",
            "keep_prob", source=source)
    _combination(config.data, config.target, config.target_file, config.task, config.augment,
                 source, arrays=config.arrays, image_size=config.image_size)
    if config.dev_test_data is not None:
        _dev_test_kind(config.dev_test_data, source)
    return config


def _combination(data: str, target: str | None, target_file: str | None, task: str,
                 augment: bool | tuple[str, ...], source: str | None = None,
                 labelled: bool = True, arrays: tuple[str, ...] | None = None, *,
                 image_size: tuple[int, int] | None = None) -> None:
    """Refuse options the data has no use for (they would be silently ignored), and
    (``labelled``) a CSV, TSV or Parquet file without its ``target`` column or an .npy file
    without its ``target_file``."""
    prefix = "" if source is None else f"{source}: "
    builtin = data in datasets.list()
    suffix = Path(data).suffix.lower()
    _target_applies(data, target, target_file, source)
    if arrays is not None and suffix not in COURSE_FILES:
        raise ConfigError(f"{prefix}arrays applies to .mat and .h5 data only (the names of "
                          f"its arrays); received arrays={list(arrays)!r} with data={data!r}.",
                          "arrays", "data", source=source)
    folder = not builtin and Path(data).is_dir()
    if image_size is not None and not folder:
        raise ConfigError(f"{prefix}image_size applies to {IMAGE_FOLDER} only; received "
                          f"image_size={'x'.join(map(str, image_size))} with data={data!r}. "
                          "help: the images of a data file keep their own size.",
                          "image_size", "data", source=source)
    if folder and task == "regression":
        raise ConfigError(f"{prefix}task must be auto or classification for {IMAGE_FOLDER} "
                          f"(its subfolders are classes); received task='regression' with "
                          f"data={data!r}.", "task", source=source)
    if labelled and suffix in TABLES and not target and Path(data).is_file():
        raise ConfigError(f"{prefix}target must name the label column of {data}; received "
                          "none.", "target", source=source)  # no file: check_data's error
    if labelled and suffix == ".npy" and not target_file and Path(data).is_file():
        raise ConfigError(f"{prefix}target_file must name the .npy file of the labels of "
                          f"{data}; received none. help: save the labels, one per row, with "
                          "np.save and name that file by `target_file` (e.g. y.npy).",
                          "target_file", source=source)
    if builtin and task == "regression" and datasets.info(data).task != "regression":
        raise ConfigError(f"{prefix}task must be auto or classification for the built-in "
                          f"dataset {data!r} (its labels are classes); received "
                          f"task='regression'.", "task", source=source)
    if augment and (suffix in TABLES or (builtin and datasets.info(data).image_shape is None)):
        raise no_images(data, source)


def _target_applies(data: str, target: str | None, target_file: str | None,
                    source: str | None) -> None:
    """Refuse a ``target`` column for data without columns (an .npy's labels are its
    ``target_file``) and a ``target_file`` for data other than .npy."""
    prefix = "" if source is None else f"{source}: "
    suffix = Path(data).suffix.lower()
    folder = data not in datasets.list() and Path(data).is_dir()
    if target is not None and (data in datasets.list() or folder or suffix in (
            ".npz", ".npy", *COURSE_FILES)):
        hint = "a built-in dataset has its own labels, and an .npz's are its array 'y'"
        if suffix == ".npy":
            hint = "an .npy's labels are a second .npy file: give it as `target_file` instead"
        elif suffix in COURSE_FILES:
            hint = ("a .mat or .h5 file's labels are an array: the course's y or train_set_y, "
                    "or the second name of `arrays`")
        elif folder:
            hint = "a folder of images has one subfolder per class"
        raise ConfigError(f"{prefix}target applies to CSV, TSV and Parquet data only (a "
                          f"column name); received target={target!r} with data={data!r}. "
                          f"help: {hint}.", "target", "target_file", "data", "arrays",
                          source=source)
    if target_file is not None and suffix != ".npy":
        raise ConfigError(f"{prefix}target_file applies to .npy data only (the .npy file of "
                          f"its labels); received target_file={target_file!r} with "
                          f"data={data!r}. help: a CSV, TSV or Parquet file's labels are a "
                          "column, named by `target`; a built-in dataset and an .npz have "
                          "their own.", "target_file", "target", "data", source=source)


def no_images(data: str, source: str | None = None) -> ConfigError:
    """The error of augmentation asked for data without an image shape."""
    prefix = "" if source is None else f"{source}: "
    return ConfigError(f"{prefix}augment needs image data; received data={data!r}, which has "
                       "no image shape. help: augmentation (flips, crops, rotations, "
                       "distortions) only makes sense for images (digits, a folder of images, "
                       "or a file whose X is (m, height, width[, channels])).",
                       "augment", "data", source=source)


def _file(key: str, name: str, kind: str, missing: str = "") -> None:
    """Refuse the file ``name`` of option ``key`` unless it is a regular file: a folder (it
    must be ``kind``), a pipe or a device, or nothing (``missing`` ends that message)."""
    path = Path(name)
    if path.is_dir():
        raise ConfigError(f"{key} must be {kind}; received {key}={name!r}, a folder.", key)
    if path.exists() and not path.is_file():
        raise ConfigError(f"{key} must be a regular file; received {key}={name!r}, a pipe or "
                          "a device (reading one never ends).", key)
    if not path.is_file():
        raise MissingFile(f"{key}: no file {name}{missing}.", key)


def check_data(data: str, target: str | None = None, augment: bool | tuple[str, ...] = False,
               task: str = "auto", labelled: bool = True, *,
               target_file: str | None = None, arrays: tuple[str, ...] | None = None,
               image_size: tuple[int, int] | None = None,
               dev_test_data: str | None = None) -> None:
    """Refuse a ``data`` that cannot load before anything is made for it: not a built-in
    dataset, a data file (:data:`~deeprecipe.data.io.FILE_SUFFIXES`) or a folder (of
    images: :func:`~deeprecipe.data.images.load_images` reads it); a missing file; a
    CSV, TSV or Parquet file without ``target`` (its label column; unless not
    ``labelled``: features alone), an ``.npy`` without ``target_file`` (the ``.npy`` file of
    its labels; optional when not ``labelled``) or with none there; and the options it has
    no use for (``target`` for a built-in dataset, an ``.npz`` or an ``.npy``;
    ``target_file`` for anything but an ``.npy``; ``task="regression"`` for a built-in
    dataset or a folder; ``arrays`` for anything but a ``.mat`` or ``.h5`` file;
    ``image_size`` for anything but a folder; ``augment`` for data known to hold no images:
    an ``.npz``, ``.npy``, ``.mat`` or ``.h5`` is known once loaded). A ``dev_test_data``
    must be a data file (not ``.npy``) or a folder of images that exists."""
    builtins = ", ".join(datasets.list())
    where = f"a built-in dataset ({builtins}), a data file ({DATA_FILES}) or {IMAGE_FOLDER}"
    if not data.strip():  # Path("") is the working folder
        raise ConfigError(f"data must be {where}; received data=''.", "data")
    if data not in datasets.list() and not Path(data).is_dir():
        if Path(data).suffix.lower() not in FILE_SUFFIXES:
            raise ConfigError(f"data must be {where}; received data={data!r}.", "data")
        _file("data", data, f"a data file ({DATA_FILES}) or a built-in dataset",
              f" (the built-in datasets are {builtins})")
    _combination(data, target, target_file, task, augment, labelled=labelled, arrays=arrays,
                 image_size=image_size)
    if target_file is not None:  # the data is an .npy: _combination refuses the rest
        _file("target_file", target_file, "an .npy file of labels")
    if dev_test_data is not None:
        _dev_test_kind(dev_test_data)
        if not Path(dev_test_data).is_dir():  # a folder of images is data too
            _file("dev_test_data", dev_test_data, f"a data file ({DEV_TEST_FILES})")


DEV_TEST_FILES = ", ".join(suffix for suffix in FILE_SUFFIXES if suffix != ".npy")


def _dev_test_kind(name: str, source: str | None = None) -> None:
    """Refuse a ``dev_test_data`` that is no data file, or an ``.npy`` (its labels would
    need a second ``target_file``)."""
    prefix = "" if source is None else f"{source}: "
    suffix = Path(name).suffix.lower()
    if (suffix not in FILE_SUFFIXES and not Path(name).is_dir()) or suffix == ".npy":
        hint = " help: save features and labels together as an .npz (np.savez(path, X=X, " \
            "y=y))." if suffix == ".npy" else ""
        raise ConfigError(f"{prefix}dev_test_data must be a data file ({DEV_TEST_FILES}) "
                          "or a folder of images; "
                          f"received dev_test_data={name!r}.{hint}", "dev_test_data",
                          source=source)


def read_toml(path: str | Path) -> dict[str, Any]:
    """The ``key = value`` pairs of a TOML file (a nested table is refused by key)."""
    source = Path(path)
    _file("config", str(path), "a TOML file")
    try:  # a byte order mark (Windows Notepad writes one) is not TOML's, but means no harm
        values = tomllib.loads(source.read_bytes().decode("utf-8-sig"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source} is not valid TOML: {error}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config: {source} is not a TOML file: it is not UTF-8 text.",
                          "config") from None
    for key, value in values.items():
        if isinstance(value, dict):
            raise ConfigError(f"{source}: [{key}] tables are not options; write the options "
                              f"as top-level 'key = value' lines. Valid keys: "
                              f"{', '.join(OPTIONS)}.")
    return values


# run.toml's paths, relative to its folder
PATHS = ("data", "target_file", "dev_test_data", "output_dir")


def resolve(file: str | Path | None, flags: Mapping[str, Any]) -> RunConfig:
    """The config from a TOML ``file`` (optional) with ``flags`` overriding its values; a
    relative ``data``, ``target_file`` or ``output_dir`` of the file is read from the file's
    folder."""
    values: dict[str, Any] = {}
    if file is not None:
        for key, value in parse(read_toml(file), str(file)).items():
            relative = isinstance(value, str) and not Path(value).is_absolute()
            dataset = key == "data" and value in datasets.list()
            if key in PATHS and relative and not dataset:
                value = str(Path(file).parent / value)
            values[key] = value
    values.update(parse(flags, COMMAND_LINE))
    source = COMMAND_LINE if file is None else f"{file} (with the command line)"
    return _checked(RunConfig(**values), source)
